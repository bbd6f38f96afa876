//! API tokens: only the SHA-256 digest of a token is stored, with its role.

use crate::columns::{create, drop, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let token = Table::create()
            .table("api_token")
            .col(big_pk_auto("id"))
            .col(text("name"))
            .col(text("role"))
            .col(text("token_hash").unique_key())
            .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
            .col(timestamp_with_time_zone_null("revoked_at"))
            .take();
        create(manager, vec![token], vec![index("api_token", &["name"])]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["api_token"]).await
    }
}
