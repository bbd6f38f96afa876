//! Revisions: every earlier state of an edited record, as a JSON snapshot.

use crate::columns::{create, drop, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let revision = Table::create()
            .table("revision")
            .col(big_pk_auto("id"))
            .col(text("entity_type"))
            .col(big_integer("entity_id"))
            .col(integer("version"))
            .col(text("snapshot"))
            .col(text_null("actor"))
            .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
            .take();
        create(
            manager,
            vec![revision],
            vec![index("revision", &["entity_type", "entity_id", "version"])],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["revision"]).await
    }
}
