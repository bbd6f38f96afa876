//! The transaction an import writes in.
//!
//! On SQLite it is SeaORM's. On PostgreSQL it is a transaction on a pooled sqlx
//! connection the import holds itself, so that a statement's values are encoded
//! before it waits for the connection: SeaORM's transaction copies a statement's
//! values and encodes them once it holds the connection, and while it does, with
//! a batch of article bodies in the values, the server waits with nothing to do.
//! (With two batches written at once, one batch's statements are encoded while
//! the other's run.)

use std::sync::Arc;

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::PgArguments;
use sea_orm::sqlx::{self, Executor, IntoArguments, PgPool, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement, TransactionTrait,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Mutex;

use crate::db::{exec_error, query_error};

/// An import's transaction.
pub enum Session {
    Sea(DatabaseTransaction),
    Postgres(PgSession),
}

impl Session {
    /// Begins one on `db`.
    pub async fn begin(db: &DatabaseConnection) -> Result<Self, DbErr> {
        match db.get_database_backend() {
            DatabaseBackend::Postgres => Ok(Self::Postgres(
                PgSession::begin(db.get_postgres_connection_pool()).await?,
            )),
            _ => Ok(Self::Sea(db.begin().await?)),
        }
    }

    /// Makes what the import wrote visible to everyone.
    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Sea(txn) => txn.commit().await,
            Self::Postgres(session) => session.end("COMMIT").await,
        }
    }

    /// Undoes everything the import wrote.
    pub async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Self::Sea(txn) => txn.rollback().await,
            Self::Postgres(session) => session.end("ROLLBACK").await,
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Session {
    fn get_database_backend(&self) -> DatabaseBackend {
        match self {
            Self::Sea(txn) => txn.get_database_backend(),
            Self::Postgres(_) => DatabaseBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Self::Sea(txn) => txn.execute_raw(stmt).await,
            Self::Postgres(session) => session.execute(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Self::Sea(txn) => txn.execute_unprepared(sql).await,
            Self::Postgres(session) => session.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Self::Sea(txn) => txn.query_one_raw(stmt).await,
            Self::Postgres(session) => session.query_one(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Self::Sea(txn) => txn.query_all_raw(stmt).await,
            Self::Postgres(session) => session.query_all(stmt).await,
        }
    }
}

/// A transaction on a PostgreSQL connection of the pool, held until it ends. The
/// connection is closed afterwards rather than returned to the pool, which knows
/// nothing of the transaction: a session dropped before it ends (a cancelled
/// import) leaves no open transaction behind for a request to find, since the
/// server rolls back what a closed connection began.
pub struct PgSession {
    connection: Mutex<Option<PoolConnection<Postgres>>>,
}

fn ended() -> DbErr {
    DbErr::Custom("the import's transaction has ended".to_owned())
}

/// A statement with its values moved in and encoded, before it waits for the
/// connection: encoding a batch's values is work the server need not wait for.
fn bound(stmt: Statement) -> sqlx::query::Query<'static, Postgres, PgArguments> {
    let values = stmt.values.unwrap_or(sea_orm::Values(Vec::new()));
    let arguments = IntoArguments::<Postgres>::into_arguments(SqlxValues(values));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), arguments)
}

impl PgSession {
    async fn begin(pool: &PgPool) -> Result<Self, DbErr> {
        let mut connection = pool
            .acquire()
            .await
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?;
        connection.close_on_drop();
        connection.execute("BEGIN").await.map_err(exec_error)?;
        Ok(Self {
            connection: Mutex::new(Some(connection)),
        })
    }

    /// Ends the transaction with `COMMIT` or `ROLLBACK`.
    async fn end(self, sql: &'static str) -> Result<(), DbErr> {
        let mut connection = self.connection.into_inner().ok_or_else(ended)?;
        connection.execute(sql).await.map_err(exec_error)?;
        Ok(())
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let query = bound(stmt);
        let mut guard = self.connection.lock().await;
        let connection = guard.as_mut().ok_or_else(ended)?;
        let done = query.execute(&mut **connection).await;
        done.map(Into::into).map_err(exec_error)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut guard = self.connection.lock().await;
        let connection = guard.as_mut().ok_or_else(ended)?;
        let done = connection
            .execute(sqlx::AssertSqlSafe(sql.to_owned()))
            .await;
        done.map(Into::into).map_err(exec_error)
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let query = bound(stmt);
        let mut guard = self.connection.lock().await;
        let connection = guard.as_mut().ok_or_else(ended)?;
        let row = query.fetch_optional(&mut **connection).await;
        row.map(|row| row.map(Into::into)).map_err(query_error)
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let query = bound(stmt);
        let mut guard = self.connection.lock().await;
        let connection = guard.as_mut().ok_or_else(ended)?;
        let rows = query.fetch_all(&mut **connection).await;
        rows.map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_error)
    }
}
