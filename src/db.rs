//! Connecting to the database and bringing its schema up to date.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::DatabaseArgs;

/// Opens a pool on the configured database. SQLite files run in WAL mode with a
/// busy timeout, so readers never block the writer; an in-memory SQLite database
/// keeps one connection (each connection would otherwise see its own database).
pub async fn connect(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    connect_with(args, STATEMENT_CACHE).await
}

/// The prepared statements each connection keeps (sqlx's default).
const STATEMENT_CACHE: usize = 100;

/// Opens a pool for a bulk import. Its statements bind thousands of values and
/// most run once: a SQLite statement of 30,000 values is megabytes of prepared
/// program, and caching a hundred of them held over a hundred megabytes.
pub async fn connect_for_bulk(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    connect_with(args, 8).await
}

async fn connect_with(
    args: &DatabaseArgs,
    statement_cache: usize,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(args.database_url.clone());
    let in_memory =
        args.database_url.contains(":memory:") || args.database_url.contains("mode=memory");
    options
        .max_connections(if in_memory { 1 } else { args.max_connections })
        .min_connections(if in_memory { 1 } else { 0 })
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // A connection is checked with a round trip only when it has been idle long
        // enough to have been dropped; a busy pool hands connections straight out
        // (a ping on every checkout was one extra round trip per statement).
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .statement_cache_capacity(statement_cache)
        })
        .map_sqlx_postgres_opts(move |opts| opts.statement_cache_capacity(statement_cache));
    if in_memory {
        // The one connection must live as long as the pool, or the database goes with it.
        options.idle_timeout(None).max_lifetime(None);
    }
    Database::connect(options)
        .await
        .with_context(|| format!("could not connect to {}", redact(&args.database_url)))
}

/// Runs the migrations that have not run yet.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("migration failed")
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            super::redact("sqlite://bantin.db?mode=rwc"),
            "sqlite://bantin.db?mode=rwc"
        );
    }
}
