//! The search outbox: one row for every committed change the search index must
//! follow, written in the same transaction as the change. Each instance keeps its
//! own position in it, so any number of them catch up from the database.

use crate::columns::{create, drop};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let outbox = Table::create()
            .table("search_outbox")
            .col(big_pk_auto("id"))
            .col(text("entity_type"))
            .col(big_integer("entity_id"))
            .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
            .take();
        create(manager, vec![outbox], vec![]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["search_outbox"]).await
    }
}
