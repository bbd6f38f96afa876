//! The database schema of bantin, as migrations that run unchanged on SQLite and
//! PostgreSQL. Every foreign key has an index, and so has every order a connection
//! pages by.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261126_000001_create_organizations_people_positions;
mod m20261126_000002_create_events_documents;
mod m20261126_000003_create_articles_media_tags;
mod m20261126_000004_create_awards_statements_commemorations;
mod m20261126_000005_create_revisions;
mod m20261126_000006_create_api_tokens;
mod m20261126_000007_create_search_outbox;

/// Every migration, in the order they run.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_organizations_people_positions::Migration),
            Box::new(m20261126_000002_create_events_documents::Migration),
            Box::new(m20261126_000003_create_articles_media_tags::Migration),
            Box::new(m20261126_000004_create_awards_statements_commemorations::Migration),
            Box::new(m20261126_000005_create_revisions::Migration),
            Box::new(m20261126_000006_create_api_tokens::Migration),
            Box::new(m20261126_000007_create_search_outbox::Migration),
        ]
    }
}
