//! Relay connections paged by keyset cursors.
//!
//! A cursor holds the sort value and id of a row, so the next page is a range scan
//! on the ordering index: page 1,000 costs what page 1 costs. `totalCount` is
//! counted only when it is selected.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::resolver_utils::ContainerType;
use async_graphql::{Context, Object};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Value,
};

use crate::db::Reader;
use crate::error::{AppError, AppResult};
use crate::graphql::inline::Inline;
use crate::graphql::loaders::{self, Content};
use crate::graphql::projection::shows;

/// The most rows one page may have.
pub const MAX_PAGE_SIZE: i32 = 100;
/// The page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

/// The value a connection is sorted by, as held in a cursor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SortValue {
    /// An instant, in microseconds since the epoch.
    Time(i64),
    /// A day, as days since 0001-01-01.
    Day(i32),
    /// A collation key or other byte-ordered text.
    Text(String),
    /// A position in a ranked list (search results).
    Rank(u32),
}

impl SortValue {
    /// The instant as a sort value.
    pub fn time(at: DateTime<Utc>) -> Self {
        Self::Time(at.timestamp_micros())
    }

    /// The day as a sort value.
    pub fn day(on: NaiveDate) -> Self {
        Self::Day(chrono::Datelike::num_days_from_ce(&on))
    }

    fn to_value(&self) -> AppResult<Value> {
        let bad = || AppError::bad_input("the cursor is out of range");
        Ok(match self {
            Self::Time(micros) => DateTime::<Utc>::from_timestamp_micros(*micros)
                .ok_or_else(bad)?
                .into(),
            Self::Day(days) => NaiveDate::from_num_days_from_ce_opt(*days)
                .ok_or_else(bad)?
                .into(),
            Self::Text(text) => text.clone().into(),
            Self::Rank(_) => return Err(bad()),
        })
    }

    fn encode(&self) -> String {
        match self {
            Self::Time(micros) => format!("t{micros}"),
            Self::Day(days) => format!("d{days}"),
            Self::Text(text) => format!("s{text}"),
            Self::Rank(rank) => format!("r{rank}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let (tag, rest) = text.split_at_checked(1)?;
        match tag {
            "t" => rest.parse().ok().map(Self::Time),
            "d" => rest.parse().ok().map(Self::Day),
            "s" => Some(Self::Text(rest.to_owned())),
            "r" => rest.parse().ok().map(Self::Rank),
            _ => None,
        }
    }
}

/// Where a page starts: the sort value and id of the row before it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub value: SortValue,
    pub id: i64,
}

impl Cursor {
    /// The opaque text of this cursor for a connection sorted by `order`.
    pub fn encode(&self, order: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{order}|{}|{}", self.id, self.value.encode()))
    }

    /// Reads a cursor, which must come from a connection sorted by `order`.
    pub fn decode(text: &str, order: &str) -> AppResult<Self> {
        let invalid = || AppError::bad_input(format!("`{text}` is not a valid cursor here"));
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.splitn(3, '|');
        let (Some(tag), Some(id), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        if tag != order {
            return Err(invalid());
        }
        Ok(Self {
            value: SortValue::decode(value).ok_or_else(invalid)?,
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}

/// One page request, checked: `first`/`after` forwards or `last`/`before` backwards.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Page {
    /// Rows wanted.
    pub size: u64,
    /// Paging backwards from `before` (or from the end).
    pub backward: bool,
    /// The row the page starts after (forwards) or ends before (backwards).
    pub cursor: Option<Cursor>,
    /// The name of the ordering, which cursors must match.
    pub order: &'static str,
}

/// The paging arguments of a connection field, as the client sent them.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    /// Checks the arguments for a connection sorted by `order`.
    pub fn page(&self, order: &'static str) -> AppResult<Page> {
        let size = |name: &str, n: i32| -> AppResult<u64> {
            if !(0..=MAX_PAGE_SIZE).contains(&n) {
                return Err(AppError::bad_input(format!(
                    "`{name}` must be between 0 and {MAX_PAGE_SIZE}, not {n}"
                )));
            }
            Ok(n as u64)
        };
        match (self.first, self.last) {
            (Some(_), Some(_)) => Err(AppError::bad_input("give `first` or `last`, not both")),
            (_, Some(last)) => {
                if self.after.is_some() {
                    return Err(AppError::bad_input(
                        "`last` pages backwards: use `before`, not `after`",
                    ));
                }
                Ok(Page {
                    size: size("last", last)?,
                    backward: true,
                    cursor: self
                        .before
                        .as_deref()
                        .map(|c| Cursor::decode(c, order))
                        .transpose()?,
                    order,
                })
            }
            (first, None) => {
                if self.before.is_some() && first.is_some() {
                    return Err(AppError::bad_input(
                        "`first` pages forwards: use `after`, not `before`",
                    ));
                }
                if self.before.is_some() {
                    return Self {
                        last: Some(DEFAULT_PAGE_SIZE),
                        ..self.clone()
                    }
                    .page(order);
                }
                Ok(Page {
                    size: size("first", first.unwrap_or(DEFAULT_PAGE_SIZE))?,
                    backward: false,
                    cursor: self
                        .after
                        .as_deref()
                        .map(|c| Cursor::decode(c, order))
                        .transpose()?,
                    order,
                })
            }
        }
    }
}

/// How a connection is sorted: one key column (then the id), in one direction.
pub struct Keyset<K, I> {
    pub key: K,
    pub id: I,
    pub descending: bool,
}

impl<K: ColumnTrait, I: ColumnTrait> Keyset<K, I> {
    /// Restricts `select` to the page of rows where `condition` holds: the cursor's
    /// range, then `condition`, the page's order, one row more than asked (to tell
    /// whether there is another page). The cursor's bounds come first: SQLite's
    /// planner takes the first bound on an index's column as the index's range, and
    /// the visibility's `published_at <= now` ahead of the cursor's bound made the
    /// 1,000th page of articles a walk through 20,000 index entries.
    pub fn apply<E: EntityTrait>(
        &self,
        select: Select<E>,
        condition: Condition,
        page: &Page,
    ) -> AppResult<Select<E>> {
        let descending = self.descending != page.backward;
        let mut select = select;
        if let Some(cursor) = &page.cursor {
            // A row-value comparison, `(key, id) < (v, id)`: both databases turn it
            // into a range on the (key, id) index, so a deep page is a seek, not a
            // scan past every earlier row (the OR-expanded form is not a range).
            let row = Expr::tuple([
                Expr::col(self.key.as_column_ref()),
                Expr::col(self.id.as_column_ref()),
            ]);
            // The bound on the key alone is implied, but it is the one SQLite's
            // planner turns into an index range.
            let value = cursor.value.to_value()?;
            let bound = Expr::tuple([Expr::val(value.clone()), Expr::val(cursor.id)]);
            select = if descending {
                select.filter(self.key.lte(value)).filter(row.lt(bound))
            } else {
                select.filter(self.key.gte(value)).filter(row.gt(bound))
            };
        }
        let order = if descending { Order::Desc } else { Order::Asc };
        Ok(select
            .filter(condition)
            .order_by(self.key, order.clone())
            .order_by(self.id, order)
            .limit(page.size + 1))
    }
}

/// `totalCount` of a connection, counted only when selected.
pub enum TotalCount {
    /// Count the rows of this query.
    Query(Reader, Box<SelectStatement>),
    /// Already known.
    Known(u64),
    /// Count the matches of a search.
    Search(
        std::sync::Arc<crate::search::SearchIndex>,
        Box<crate::search::Query>,
    ),
}

#[Object]
impl TotalCount {
    /// How many items the whole connection has, across all pages.
    async fn total_count(&self, _ctx: &Context<'_>) -> crate::error::FieldResult<u64> {
        Ok(self.count().await?)
    }
}

impl TotalCount {
    async fn count(&self) -> AppResult<u64> {
        match self {
            Self::Known(n) => Ok(*n),
            Self::Search(index, search) => index
                .count((**search).clone())
                .await
                .map_err(|e| AppError::Internal(e.to_string())),
            Self::Query(db, query) => {
                let statement = db.get_database_backend().build(
                    Query::select()
                        .expr(Expr::cust("COUNT(*)"))
                        .from_subquery((**query).clone(), "counted"),
                );
                let row = db.query_one_raw(statement).await?;
                let count: i64 = match row {
                    Some(row) => row.try_get_by_index(0)?,
                    None => 0,
                };
                Ok(u64::try_from(count).unwrap_or(0))
            }
        }
    }
}

/// A root connection over the rows `base` selects where `condition` holds: one page
/// of them in keyset order, with `totalCount` counting their ids if asked.
pub async fn keyset_connection<E, N>(
    ctx: &Context<'_>,
    base: Select<E>,
    condition: Condition,
    page: &Page,
    keyset: Keyset<E::Column, E::Column>,
    cursor_of: impl Fn(&E::Model) -> Cursor,
    node: impl Fn(Arc<E::Model>) -> N,
) -> AppResult<Conn<N>>
where
    E: Content<Model: Sync>,
    N: ContainerType,
{
    let loader = loaders::loader(ctx)?.loader();
    let thens = loader.thens::<E>(|field| nodes_show(ctx, field));
    let db = &loader.db;
    let total = TotalCount::Query(
        db.clone(),
        Box::new(
            base.clone()
                .filter(condition.clone())
                .select_only()
                .column(keyset.id)
                .into_query(),
        ),
    );
    let select = keyset.apply(base, condition, page)?;
    let rows: Vec<Arc<E::Model>> =
        crate::db::fetch_all::<E::Model>(db, select.build(db.get_database_backend()))
            .await?
            .into_iter()
            .map(Arc::new)
            .collect();
    // The rows of the page only: the one read past it tells whether there is a next.
    let shown = rows
        .iter()
        .take(page.size as usize)
        .map(|row| E::id_of(row));
    loader.then(thens, shown).await?;
    Ok(connection(rows, page, total, |row| cursor_of(row), node))
}

/// Whether the nodes of the connection being resolved show `field`, through `nodes`
/// or `edges { node }`, under any alias or fragment.
pub fn nodes_show(ctx: &Context<'_>, field: &str) -> bool {
    shows(ctx, &["nodes", field]) || shows(ctx, &["edges", "node", field])
}

/// A connection of `N` with `totalCount`.
pub type Conn<N> = Connection<String, Inline<N>, TotalCount, EmptyFields>;

/// Builds the connection from the rows a keyset query returned (up to one more
/// than the page size, in query order).
pub fn connection<R, N: ContainerType>(
    mut rows: Vec<R>,
    page: &Page,
    total: TotalCount,
    cursor_of: impl Fn(&R) -> Cursor,
    node: impl Fn(R) -> N,
) -> Conn<N> {
    let more = rows.len() as u64 > page.size;
    rows.truncate(page.size as usize);
    if page.backward {
        rows.reverse();
    }
    let (has_previous, has_next) = if page.backward {
        (more, page.cursor.is_some())
    } else {
        (page.cursor.is_some(), more)
    };
    let mut connection = Connection::with_additional_fields(has_previous, has_next, total);
    connection.edges.extend(rows.into_iter().map(|row| {
        let cursor = cursor_of(&row).encode(page.order);
        Edge::new(cursor, Inline(node(row)))
    }));
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(first: Option<i32>, last: Option<i32>) -> PageArgs {
        PageArgs {
            first,
            last,
            ..PageArgs::default()
        }
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_order() {
        let cursor = Cursor {
            value: SortValue::Text("0c0d".into()),
            id: 7,
        };
        let text = cursor.encode("name");
        assert_eq!(Cursor::decode(&text, "name").ok(), Some(cursor));
        assert!(Cursor::decode(&text, "published_at_desc").is_err());
        assert!(Cursor::decode("not a cursor", "name").is_err());
    }

    #[test]
    fn the_cursor_bounds_the_key_before_other_conditions() -> AppResult<()> {
        use entity::article;
        use sea_orm::DatabaseBackend;
        let keyset = Keyset {
            key: article::Column::PublishedAt,
            id: article::Column::Id,
            descending: true,
        };
        let after = Cursor {
            value: SortValue::Time(1_700_000_000_000_000),
            id: 42,
        };
        let page = PageArgs {
            first: Some(20),
            after: Some(after.encode("published_at_desc")),
            ..PageArgs::default()
        }
        .page("published_at_desc")?;
        let visible = Condition::all().add(article::Column::PublishedAt.lte("2100-01-01"));
        let sql = keyset
            .apply(article::Entity::find(), visible, &page)?
            .build(DatabaseBackend::Sqlite)
            .to_string();
        assert_eq!(
            sql.matches(r#""article"."published_at" <= "#).count(),
            2,
            "{sql}"
        );
        let cursor_bound = sql.find("2023-11-14").unwrap_or(usize::MAX);
        let other_bound = sql.find("2100-01-01").unwrap_or(0);
        assert!(cursor_bound < other_bound, "{sql}");
        Ok(())
    }

    #[test]
    fn page_sizes_are_checked_not_clamped() {
        assert_eq!(
            args(Some(100), None).page("x").map(|p| p.size).ok(),
            Some(100)
        );
        assert!(args(Some(101), None).page("x").is_err());
        assert!(args(Some(-1), None).page("x").is_err());
        assert!(args(Some(1), Some(1)).page("x").is_err());
        assert_eq!(args(None, None).page("x").map(|p| p.size).ok(), Some(20));
        assert_eq!(
            args(None, Some(3)).page("x").map(|p| p.backward).ok(),
            Some(true)
        );
    }
}
