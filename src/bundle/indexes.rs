//! Secondary indexes (and, on PostgreSQL, foreign keys) of empty tables, built
//! once after a bulk import.
//!
//! Growing an index row by row is a random insert per row into a tree much larger
//! than the cache; building it from the finished table is one sort. So when an
//! import starts, the plain (non-unique) indexes of every table it writes that is
//! still empty are dropped, and they are created again before the import commits.
//! Likewise on PostgreSQL a foreign key between two empty tables is dropped and
//! added again at the end, which checks every row in one join instead of one
//! trigger call per row (a third of a large import's time). The importer checks
//! every reference itself; the constraint, added again, still proves it.
//! On PostgreSQL the unique constraints of empty tables (external keys, slugs) go
//! the same way: the importer checks keys and slugs itself, and its updates only
//! ever target rows stored before the import, which an empty table has none of; added
//! again, the constraints prove it; and so do their primary keys, where no foreign
//! key left relies on them (once the foreign keys between empty tables are dropped,
//! those of every empty table but one that a stored table references). (SQLite
//! cannot drop a constraint's index.)
//! All of it runs inside the import's transaction: a failed import rolls it back
//! with everything else. On PostgreSQL, dropping an index or a constraint locks its
//! tables until the import commits, which only concerns tables that were empty anyway.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

/// The statements that restore what was dropped for an import.
#[derive(Debug, Default)]
pub struct Deferred {
    /// Indexes, unique constraints and primary keys.
    definitions: Vec<String>,
    /// Foreign keys, added once what they reference is unique again.
    foreign_keys: Vec<String>,
    /// Tables to analyze before their foreign keys are checked: those with a
    /// foreign key on a column that may be null (see [`Deferred::rebuild`]).
    analyzed_first: Vec<String>,
}

/// Drops the plain indexes of those of `tables` that are empty, and on PostgreSQL
/// their unique constraints, the foreign keys between two of them, and then the
/// primary keys no foreign key relies on any more.
pub async fn defer(db: &impl ConnectionTrait, tables: &[&str]) -> Result<Deferred, DbErr> {
    let backend = db.get_database_backend();
    let mut deferred = Deferred::default();
    let mut empty = Vec::new();
    for table in tables {
        let any_row = format!("SELECT 1 FROM \"{table}\" LIMIT 1");
        if db
            .query_one_raw(Statement::from_string(backend, any_row))
            .await?
            .is_some()
        {
            continue;
        }
        empty.push(*table);
        for (name, definition) in plain_indexes(db, table).await? {
            db.execute_raw(Statement::from_string(
                backend,
                format!("DROP INDEX \"{name}\""),
            ))
            .await?;
            deferred.definitions.push(definition);
        }
        if backend == DatabaseBackend::Postgres {
            for (name, definition) in keys_no_foreign_key_uses(db, table, Key::Unique).await? {
                let add = drop_constraint(db, table, &name, &definition).await?;
                deferred.definitions.push(add);
            }
        }
    }
    if backend == DatabaseBackend::Postgres {
        for (table, name, definition, nullable) in foreign_keys_between(db, &empty).await? {
            let add = drop_constraint(db, &table, &name, &definition).await?;
            deferred.foreign_keys.push(add);
            if nullable && !deferred.analyzed_first.contains(&table) {
                deferred.analyzed_first.push(table);
            }
        }
        // A primary key, too, is one sort at the end instead of a tree grown row by
        // row, once the foreign keys just dropped no longer rely on it (with every
        // table empty, that is every table's). Ids come from the tables' sequences;
        // the key, added again, proves them unique and the link tables free of
        // pairs held twice.
        for table in &empty {
            for (name, definition) in keys_no_foreign_key_uses(db, table, Key::Primary).await? {
                let add = drop_constraint(db, table, &name, &definition).await?;
                deferred.definitions.push(add);
            }
        }
    }
    Ok(deferred)
}

/// Drops a constraint of a PostgreSQL table; the statement that adds it again.
async fn drop_constraint(
    db: &impl ConnectionTrait,
    table: &str,
    name: &str,
    definition: &str,
) -> Result<String, DbErr> {
    db.execute_raw(Statement::from_string(
        DatabaseBackend::Postgres,
        format!("ALTER TABLE \"{table}\" DROP CONSTRAINT \"{name}\""),
    ))
    .await?;
    Ok(format!(
        "ALTER TABLE \"{table}\" ADD CONSTRAINT \"{name}\" {definition}"
    ))
}

impl Deferred {
    /// How many indexes and constraints were dropped.
    pub fn count(&self) -> usize {
        self.definitions.len() + self.foreign_keys.len()
    }

    /// Creates the dropped indexes and constraints again: indexes and keys first,
    /// since the foreign keys' checks use them. Returns the tables it analyzed.
    ///
    /// A table with a foreign key on a column that may be null is analyzed before
    /// its foreign keys are checked: such a column is often null throughout (an
    /// article's source, the article it translates), and knowing so, the planner
    /// checks it by its index instead of reading the whole table (on the medium
    /// corpus, two reads of the articles' 380 MB). Its statistics are then those
    /// the import commits.
    pub async fn rebuild(self, db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
        let backend = db.get_database_backend();
        let statements = (self.definitions.into_iter())
            .chain(
                self.analyzed_first
                    .iter()
                    .map(|t| format!("ANALYZE \"{t}\"")),
            )
            .chain(self.foreign_keys);
        for statement in statements {
            db.execute_raw(Statement::from_string(backend, statement))
                .await?;
        }
        Ok(self.analyzed_first)
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
    names_and_definitions(db, sql, table).await
}

/// A kind of key constraint of a PostgreSQL table.
#[derive(Clone, Copy)]
enum Key {
    Unique,
    Primary,
}

/// The key constraints of one kind (name, definition) of a PostgreSQL table whose
/// index no foreign key relies on.
async fn keys_no_foreign_key_uses(
    db: &impl ConnectionTrait,
    table: &str,
    key: Key,
) -> Result<Vec<(String, String)>, DbErr> {
    let contype = match key {
        Key::Unique => 'u',
        Key::Primary => 'p',
    };
    let sql = format!(
        "SELECT con.conname AS name, pg_get_constraintdef(con.oid) AS definition \
         FROM pg_constraint con \
         JOIN pg_class tab ON tab.oid = con.conrelid \
         WHERE con.contype = '{contype}' AND tab.relname = $1 \
         AND tab.relnamespace = current_schema()::regnamespace \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint f \
                         WHERE f.contype = 'f' AND f.conindid = con.conindid) \
         ORDER BY con.conname"
    );
    names_and_definitions(db, &sql, table).await
}

/// The `name` and `definition` columns of a catalog query about one table (its
/// only parameter).
async fn names_and_definitions(
    db: &impl ConnectionTrait,
    sql: &str,
    table: &str,
) -> Result<Vec<(String, String)>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [table.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "name")?, row.try_get("", "definition")?)))
        .collect()
}

/// The foreign keys (table, name, definition, whether a column of it may be null)
/// of PostgreSQL tables among `tables` that reference one of `tables`.
async fn foreign_keys_between(
    db: &impl ConnectionTrait,
    tables: &[&str],
) -> Result<Vec<(String, String, String, bool)>, DbErr> {
    let sql = "SELECT tab.relname AS tab, con.conname AS name, \
               pg_get_constraintdef(con.oid) AS definition, \
               EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = con.conrelid \
                       AND a.attnum = ANY(con.conkey) AND NOT a.attnotnull) AS nullable \
               FROM pg_constraint con \
               JOIN pg_class tab ON tab.oid = con.conrelid \
               JOIN pg_class ref ON ref.oid = con.confrelid \
               WHERE con.contype = 'f' \
               AND tab.relnamespace = current_schema()::regnamespace \
               AND ref.relnamespace = tab.relnamespace \
               AND tab.relname = ANY($1) AND ref.relname = ANY($1) \
               ORDER BY tab.relname, con.conname";
    let names: Vec<String> = tables.iter().map(|t| (*t).to_owned()).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            sql,
            [names.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("", "tab")?,
                row.try_get("", "name")?,
                row.try_get("", "definition")?,
                row.try_get("", "nullable")?,
            ))
        })
        .collect()
}
