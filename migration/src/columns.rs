//! Column and constraint helpers shared by the migrations, so every content table
//! has the same bookkeeping columns and every foreign key gets its index.

use sea_orm_migration::{prelude::*, schema::*};

/// A content table: `id`, the given columns, and the bookkeeping columns every
/// editable record has (bundle key, optimistic-concurrency version, timestamps,
/// soft deletion).
pub fn content_table(name: &'static str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(name).col(big_pk_auto("id"));
    for mut column in columns {
        table.col(&mut column);
    }
    table
        .col(text_null("external_id").unique_key())
        .col(integer("version").default(1))
        .col(timestamp_with_time_zone("created_at").default(Expr::current_timestamp()))
        .col(timestamp_with_time_zone("updated_at").default(Expr::current_timestamp()))
        .col(timestamp_with_time_zone_null("deleted_at"))
        .take()
}

/// A join table: two references, both part of the primary key, plus extra columns.
pub fn link_table(
    name: &'static str,
    left: (&'static str, &'static str),
    right: (&'static str, &'static str),
    extra: Vec<ColumnDef>,
) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(name)
        .col(big_integer(left.0))
        .col(big_integer(right.0));
    for mut column in extra {
        table.col(&mut column);
    }
    table
        .primary_key(Index::create().col(left.0).col(right.0))
        .foreign_key(&mut cascade(name, left.0, left.1))
        .foreign_key(&mut cascade(name, right.0, right.1))
        .take()
}

/// A foreign key whose rows go when the referenced row goes (link rows, owned rows).
pub fn cascade(
    table: &'static str,
    column: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// A foreign key that is cleared when the referenced row goes (optional references).
pub fn set_null(
    table: &'static str,
    column: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::SetNull)
        .take()
}

/// A plain index named after its table and columns.
pub fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(format!("ix_{table}_{}", columns.join("_")))
        .table(table);
    for column in columns {
        index.col(*column);
    }
    index.take()
}

/// Creates the tables, then their indexes.
pub async fn create(
    manager: &SchemaManager<'_>,
    tables: Vec<TableCreateStatement>,
    indexes: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    for table in tables {
        manager.create_table(table).await?;
    }
    for index in indexes {
        manager.create_index(index).await?;
    }
    Ok(())
}

/// Drops the tables, in the order given.
pub async fn drop(manager: &SchemaManager<'_>, tables: &[&'static str]) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(*table).if_exists().take())
            .await?;
    }
    Ok(())
}

/// A text column that is compared byte by byte on every backend: collation keys,
/// slugs and folded codes are ASCII built so that byte order is the wanted order,
/// and PostgreSQL must not re-sort them by the server's locale.
pub fn key_column(manager: &SchemaManager<'_>, name: &'static str) -> ColumnDef {
    let mut column = text(name);
    if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        column.extra("COLLATE \"C\"");
    }
    column
}
