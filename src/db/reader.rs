//! Where a request's reads go.
//!
//! sqlx tests a connection with a round trip to the database each time it goes
//! back to the pool, and SeaORM takes one from the pool for each statement: a front
//! page's four statements were eight round trips, and as many wake-ups of a
//! database process. A query's statements share one connection instead, taken at
//! its first statement and given back when the request is done with it (its
//! loaders, and so its [`Reader`], are dropped), one test for the whole request.
//!
//! Statements of one request that would run at once (two relations of one level)
//! take turns on the connection. A request never holds more than that one
//! connection, so requests cannot hold the pool between them and each wait for
//! another: every statement of a query goes through its reader. A mutation's
//! reader takes a connection from the pool for each statement as before, as its
//! writes take theirs for a transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sea_orm::metric::Info;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, Executor, PgPool, Postgres, Sqlite, SqlitePool};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseConnectionType,
    DbErr, ExecResult, QueryResult, RuntimeErr, Statement,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Mutex;
use tracing::Instrument;

/// The reads of one request: through a connection of its own for a query, through
/// the pool for a mutation. Clones share the connection.
#[derive(Clone)]
pub struct Reader {
    db: DatabaseConnection,
    held: Option<Arc<Held>>,
    metric: Option<Metric>,
    /// Statements run on the held connection, for the metrics.
    statements: Arc<AtomicU64>,
}

/// Called with each statement a reader runs on its own connection, as SeaORM's
/// metric callback (`DatabaseConnection::set_metric_callback`) is with the
/// statements SeaORM runs, which it does not see.
pub type Metric = Arc<dyn Fn(&Info<'_>) + Send + Sync>;

/// A pool and the connection taken from it, once a statement needed one.
enum Held {
    Postgres(PgPool, Mutex<Option<PoolConnection<Postgres>>>),
    Sqlite(SqlitePool, Mutex<Option<PoolConnection<Sqlite>>>),
}

/// Runs `$body` with `$connection` the held connection (taken from the pool if
/// there is none yet), its turn on it kept until `$body` is done. A macro, as the
/// two databases' connections are of different types.
macro_rules! on_held {
    ($held:expr, |$connection:ident| $body:expr) => {
        match &**$held {
            Held::Postgres(pool, slot) => {
                let mut slot = slot.lock().await;
                let $connection = &mut **taken(pool, &mut slot).await?;
                $body
            }
            Held::Sqlite(pool, slot) => {
                let mut slot = slot.lock().await;
                let $connection = &mut **taken(pool, &mut slot).await?;
                $body
            }
        }
    };
}

impl Reader {
    /// Reads that share one connection of `db`'s pool, for a query, each statement
    /// reported to `metric`. (A database SeaORM does not reach through sqlx, as a
    /// mock, is read through `db`.)
    pub fn holding(db: &DatabaseConnection, metric: Option<Metric>) -> Self {
        let held = match &db.inner {
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => Some(Held::Postgres(
                db.get_postgres_connection_pool().clone(),
                Mutex::new(None),
            )),
            DatabaseConnectionType::SqlxSqlitePoolConnection(_) => Some(Held::Sqlite(
                db.get_sqlite_connection_pool().clone(),
                Mutex::new(None),
            )),
            _ => None,
        };
        Self {
            db: db.clone(),
            held: held.map(Arc::new),
            metric,
            statements: Arc::default(),
        }
    }

    /// Reads that take a connection from the pool for each statement.
    pub fn pooled(db: &DatabaseConnection) -> Self {
        Self {
            db: db.clone(),
            held: None,
            metric: None,
            statements: Arc::default(),
        }
    }

    /// The rows `stmt` returns.
    pub async fn rows(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let Some(held) = &self.held else {
            return match &self.db.inner {
                // SeaORM's PostgreSQL pool directly: the connection's own
                // `query_all_raw`, written for every database at once, builds a
                // larger future and copies it about.
                DatabaseConnectionType::SqlxPostgresPoolConnection(pool) => {
                    Box::pin(pool.query_all(stmt)).await
                }
                _ => Box::pin(self.db.query_all_raw(stmt)).await,
            };
        };
        let report = self.report(&stmt);
        // A span of its own for each statement, when traced (`debug`).
        let span = tracing::debug_span!("sql", statement = %stmt.sql);
        let rows = async {
            on_held!(held, |connection| {
                let rows = Box::pin(bound(stmt).fetch_all(connection)).await;
                rows.map(|rows| rows.into_iter().map(Into::into).collect())
                    .map_err(query_error)
            })
        }
        .instrument(span)
        .await;
        report.done(&rows);
        rows
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let Some(held) = &self.held else {
            return self.db.execute_raw(stmt).await;
        };
        let report = self.report(&stmt);
        let span = tracing::debug_span!("sql", statement = %stmt.sql);
        let done = async {
            on_held!(held, |connection| {
                let done = bound(stmt).execute(connection).await;
                done.map(Into::into).map_err(exec_error)
            })
        }
        .instrument(span)
        .await;
        report.done(&done);
        done
    }

    async fn execute_text(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let Some(held) = &self.held else {
            return self.db.execute_unprepared(sql).await;
        };
        let report = self.report(&Statement::from_string(self.db.get_database_backend(), sql));
        let done = on_held!(held, |connection| {
            let done = connection
                .execute(sqlx::AssertSqlSafe(sql.to_owned()))
                .await;
            done.map(Into::into).map_err(exec_error)
        });
        report.done(&done);
        done
    }

    /// How many statements ran on the held connection (of this reader and its
    /// clones).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// What the metric callback will be told of `stmt`, if there is one.
    fn report(&self, stmt: &Statement) -> Report {
        self.statements.fetch_add(1, Ordering::Relaxed);
        Report(
            self.metric
                .as_ref()
                .map(|metric| (metric.clone(), stmt.clone(), Instant::now())),
        )
    }
}

/// A statement on its way to the metric callback, with the time it started.
struct Report(Option<(Metric, Statement, Instant)>);

impl Report {
    fn done<T>(self, result: &Result<T, DbErr>) {
        if let Some((metric, statement, start)) = self.0 {
            metric(&Info {
                elapsed: start.elapsed(),
                statement: &statement,
                failed: result.is_err(),
            });
        }
    }
}

/// `stmt` as a sqlx query, with SeaORM's own binding of its values.
fn bound<DB: sqlx::Database>(stmt: Statement) -> sqlx::query::Query<'static, DB, SqlxValues>
where
    SqlxValues: for<'q> sqlx::IntoArguments<DB>,
{
    let values = stmt.values.unwrap_or(sea_orm::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), SqlxValues(values))
}

/// The connection held in `slot`, taken from `pool` if there is none yet.
async fn taken<'s, DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
    slot: &'s mut Option<PoolConnection<DB>>,
) -> Result<&'s mut PoolConnection<DB>, DbErr> {
    if let Some(connection) = slot {
        return Ok(connection);
    }
    // Boxed: the pool's future (which may open a connection) is many kilobytes,
    // and would otherwise be part of every statement's future, and be copied
    // with it, although only a request's first statement takes a connection.
    let connection = Box::pin(pool.acquire()).await.map_err(acquire_error)?;
    Ok(slot.insert(connection))
}

/// A connection the pool could not give, as SeaORM reports it.
fn acquire_error(error: sqlx::Error) -> DbErr {
    match error {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        error => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(error))),
    }
}

/// A driver error while querying, as SeaORM reports it.
pub(crate) fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}

/// A driver error while running a statement, as SeaORM reports it.
pub(crate) fn exec_error(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
}

#[async_trait::async_trait]
impl ConnectionTrait for Reader {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.execute(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.execute_text(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.rows(stmt).await?.into_iter().next())
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.rows(stmt).await
    }
}
