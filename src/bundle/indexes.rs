//! Secondary indexes of empty tables, built once after a bulk import.
//!
//! Growing an index row by row is a random insert per row into a tree much larger
//! than the cache; building it from the finished table is one sort. So when an
//! import starts, the plain (non-unique) indexes of every table it writes that is
//! still empty are dropped, and they are created again before the import commits.
//! Both steps run inside the import's transaction: a failed import rolls them back
//! with everything else. Unique indexes stay, as the import's upserts and
//! uniqueness checks rely on them. On PostgreSQL, dropping an index locks its table
//! until the import commits, which only concerns tables that were empty anyway.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

/// The definitions of the indexes dropped for an import.
#[derive(Debug, Default)]
pub struct Deferred {
    definitions: Vec<String>,
}

/// Drops the plain indexes of those of `tables` that are empty.
pub async fn defer(db: &impl ConnectionTrait, tables: &[&str]) -> Result<Deferred, DbErr> {
    let backend = db.get_database_backend();
    let mut deferred = Deferred::default();
    for table in tables {
        let any_row = format!("SELECT 1 FROM \"{table}\" LIMIT 1");
        if db
            .query_one_raw(Statement::from_string(backend, any_row))
            .await?
            .is_some()
        {
            continue;
        }
        for (name, definition) in plain_indexes(db, table).await? {
            db.execute_raw(Statement::from_string(
                backend,
                format!("DROP INDEX \"{name}\""),
            ))
            .await?;
            deferred.definitions.push(definition);
        }
    }
    Ok(deferred)
}

impl Deferred {
    /// How many indexes were dropped.
    pub fn count(&self) -> usize {
        self.definitions.len()
    }

    /// Creates the dropped indexes again.
    pub async fn rebuild(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        let backend = db.get_database_backend();
        for definition in self.definitions {
            db.execute_raw(Statement::from_string(backend, definition))
                .await?;
        }
        Ok(())
    }
}

/// The names and definitions of a table's indexes that are neither unique nor a
/// primary key.
async fn plain_indexes(
    db: &impl ConnectionTrait,
    table: &str,
) -> Result<Vec<(String, String)>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT index.relname AS name, pg_get_indexdef(i.indexrelid) AS definition \
             FROM pg_index i \
             JOIN pg_class index ON index.oid = i.indexrelid \
             JOIN pg_class tab ON tab.oid = i.indrelid \
             WHERE tab.relname = $1 AND tab.relnamespace = current_schema()::regnamespace \
             AND NOT i.indisunique AND NOT i.indisprimary \
             ORDER BY index.relname"
        }
        // Indexes SQLite makes for constraints have no SQL; unique ones say so.
        _ => {
            "SELECT name, sql AS definition FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL \
             AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [table.into()]))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "name")?, row.try_get("", "definition")?)))
        .collect()
}
