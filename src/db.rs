//! Connecting to the database and bringing its schema up to date.

use std::time::Duration;

use anyhow::Context;
use entity::decode::{Cells, Decode};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
    Statement,
};

use crate::config::DatabaseArgs;

mod reader;
pub use reader::{Metric, Reader};
pub(crate) use reader::{exec_error, query_error};

/// Opens a pool on the configured database. SQLite files run in WAL mode with a
/// busy timeout, so readers never block the writer; an in-memory SQLite database
/// keeps one connection (each connection would otherwise see its own database).
pub async fn connect(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    connect_with(args, STATEMENT_CACHE).await
}

/// Opens a pool on a database that must exist already: a command that reads or
/// changes what a database holds (`token`, `export`, `reindex`) refuses to make a
/// new empty SQLite file where the one meant was not found (run from another
/// directory, say), and says where it looked.
pub async fn connect_existing(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    if let Some(file) = args.sqlite_file()
        && !file.exists()
    {
        anyhow::bail!(
            "there is no database at {} ({}); run the command where the database is, point \
             DATABASE_URL (or --database-url) at it, or create a new one with `bantin migrate`",
            file.display(),
            redact(&args.database_url)
        );
    }
    connect(args).await
}

/// The prepared statements each connection keeps (sqlx's default).
const STATEMENT_CACHE: usize = 100;

/// The page cache of each SQLite connection, in KiB (SQLite's default is about
/// 2,000). Each pooled connection keeps its own cache of the file, which the
/// operating system caches already: with eight connections under a front-page
/// load the server held 110 MB at the default and 88 MB at 512 KiB, at the same
/// speed (see BENCHMARKS.md).
pub const SQLITE_CACHE_KIB: u32 = 512;

/// The page size of new SQLite database files.
pub const PAGE_SIZE: u32 = 16_384;

/// Opens a pool for a bulk import. Its statements bind thousands of values and
/// most run once: a SQLite statement of 30,000 values is megabytes of prepared
/// program, and caching a hundred of them held over a hundred megabytes. On
/// SQLite it is a single connection, which [`RollbackJournal`] relies on.
pub async fn connect_for_bulk(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    let args = DatabaseArgs {
        // A bulk job waits its turn rather than fail.
        acquire_timeout_ms: args.acquire_timeout_ms.max(30_000),
        max_connections: if args.is_sqlite() {
            Some(1)
        } else {
            args.max_connections
        },
        ..args.clone()
    };
    connect_with(&args, 8).await
}

/// A bulk write to SQLite through a rollback journal instead of the WAL: in WAL
/// mode every page is written twice (into the WAL, then into the database when it
/// is checkpointed), while a rollback journal keeps only the old content of changed
/// pages, and pages added at the end of the file need none. Leaving WAL needs the
/// database to itself; when another connection has it open (a running server) the
/// write stays in WAL, at once rather than after the busy timeout. Use it on a
/// single-connection pool ([`connect_for_bulk`]), so every statement runs on the
/// connection that switched.
pub struct RollbackJournal {
    switched: bool,
}

impl RollbackJournal {
    /// Switches to a rollback journal where it can; says so in the log.
    pub async fn enter(db: &DatabaseConnection) -> anyhow::Result<Self> {
        if db.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(RollbackJournal { switched: false });
        }
        db.execute_unprepared("PRAGMA busy_timeout = 0").await?;
        let mode = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA journal_mode = DELETE",
            ))
            .await
            .and_then(|row| match row {
                Some(row) => row.try_get_by_index::<String>(0),
                None => Ok(String::new()),
            });
        db.execute_unprepared(&format!(
            "PRAGMA busy_timeout = {}",
            BUSY_TIMEOUT.as_millis()
        ))
        .await?;
        let switched = matches!(&mode, Ok(mode) if mode.eq_ignore_ascii_case("delete"));
        if switched {
            tracing::info!("writing through a rollback journal");
        } else {
            tracing::info!(?mode, "writing through the WAL: the database is in use");
        }
        Ok(RollbackJournal { switched })
    }

    /// Puts the database back in WAL mode.
    pub async fn leave(self, db: &DatabaseConnection) -> anyhow::Result<()> {
        if self.switched {
            db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
        }
        Ok(())
    }
}

/// How long a SQLite statement waits for a lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

async fn connect_with(
    args: &DatabaseArgs,
    statement_cache: usize,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(args.database_url.clone());
    let in_memory =
        args.database_url.contains(":memory:") || args.database_url.contains("mode=memory");
    options
        .max_connections(if in_memory { 1 } else { args.pool_size() })
        .min_connections(if in_memory { 1 } else { 0 })
        .connect_timeout(Duration::from_secs(10))
        // A request fails fast, as SERVICE_UNAVAILABLE, while the database cannot
        // be reached: sqlx goes on trying to connect until this runs out. Under
        // load a query never waits for a connection, since no more operations run
        // at once than the pool holds (`Limits::max_concurrent_operations`).
        .acquire_timeout(Duration::from_millis(args.acquire_timeout_ms))
        // A connection is checked with a round trip only when it has been idle long
        // enough to have been dropped; a busy pool hands connections straight out
        // (a ping on every checkout was one extra round trip per statement).
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(BUSY_TIMEOUT)
                .foreign_keys(true)
                .statement_cache_capacity(statement_cache)
                // Set when a database file is created (later it is a no-op): an
                // article of a few kilobytes fits one page instead of spilling into
                // overflow pages, so the file is a third smaller and a bulk import
                // makes a quarter fewer writes than with 4 KiB pages.
                .page_size(PAGE_SIZE)
                .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
        })
        // Prepared statements keep one generic plan. Left to choose, PostgreSQL plans
        // a statement of `= ANY($1)` afresh at every execution (a plan made for the
        // array at hand looks cheaper than one for any array), and planning the
        // loaders' lateral joins took three times as long as running them: an
        // article page spent more of the server's time planning than executing.
        // Every statement here is an index lookup or a keyset range, the same plan
        // for any values.
        .map_sqlx_postgres_opts(move |opts| {
            opts.statement_cache_capacity(statement_cache)
                .options([("plan_cache_mode", "force_generic_plan")])
        });
    if in_memory {
        // The one connection must live as long as the pool, or the database goes with it.
        options.idle_timeout(None).max_lifetime(None);
    }
    Database::connect(options).await.map_err(|error| {
        // Opening a SQLite file sets WAL mode, which waits for a writer that has the
        // file in rollback-journal mode: an import that had it to itself.
        let hint = if args.is_sqlite() && error.to_string().contains("locked") {
            " (another process is writing it, such as a `bantin import`: try again when it ends)"
        } else {
            ""
        };
        anyhow::Error::new(error).context(format!(
            "could not connect to {}{hint}",
            redact(&args.database_url)
        ))
    })
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

/// The rows a select returns, decoded by position. The statement's future is
/// boxed, so the futures that wait on it (a loader's batch, the DataLoader's, a
/// resolver's) stay small.
pub async fn fetch_all<M: Decode>(db: &Reader, stmt: Statement) -> Result<Vec<M>, DbErr> {
    fetch_with(db, stmt, M::decode).await
}

/// The rows a select returns, each decoded by `decode`.
pub async fn fetch_with<M>(
    db: &Reader,
    stmt: Statement,
    decode: impl Fn(&mut Cells<'_>) -> Result<M, DbErr>,
) -> Result<Vec<M>, DbErr> {
    let rows = db.rows(stmt).await?;
    let mut decoded = Vec::with_capacity(rows.len());
    for row in &rows {
        decoded.push(decode(&mut Cells::new(row))?);
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use crate::config::DatabaseArgs;

    /// Every pooled SQLite connection gets the smaller page cache.
    #[tokio::test]
    async fn sqlite_connections_keep_a_small_page_cache() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("bantin-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let args = DatabaseArgs {
            database_url: format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display()),
            max_connections: Some(2),
            acquire_timeout_ms: 750,
        };
        let db = super::connect(&args).await?;
        let backend = db.get_database_backend();
        let row = db
            .query_one_raw(Statement::from_string(backend, "PRAGMA cache_size"))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no row"))?;
        let size: i64 = row.try_get_by_index(0)?;
        db.close().await?;
        std::fs::remove_dir_all(&dir)?;
        assert_eq!(size, -i64::from(super::SQLITE_CACHE_KIB));
        Ok(())
    }

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
