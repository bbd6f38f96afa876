//! The root `Query`.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};
use chrono::{Datelike, Days, NaiveDate};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, Iterable, QueryFilter, QuerySelect,
    QueryTrait,
};

use entity::{
    article, award, commemoration, document, event, media, organization, person, position,
    statement, tag,
};

use crate::error::{AppError, AppResult, FieldResult};
use crate::graphql::connection::{
    Conn, Cursor, Keyset, MAX_PAGE_SIZE, PageArgs, SortValue, keyset_connection,
};
use crate::graphql::ids::{self, Kind};
use crate::graphql::inline::Inline;
use crate::graphql::loaders::{self, Content};
use crate::graphql::projection::shows;
use crate::graphql::shapes::Shape;
use crate::graphql::types::article::{self as articles, ArticleFilter, ArticleOrder};
use crate::graphql::types::scalars::Date;
use crate::graphql::types::search::{self, SearchConn, SearchType};
use crate::graphql::types::{
    Anniversary, Article, Award, Commemoration, Document, Event, Media, Node, Organization, Person,
    Position, Revision, Statement, Tag,
};
use crate::text;

/// The most IDs `nodes` takes at once.
const MAX_NODES: usize = 100;
/// The longest window `anniversaries` looks at.
const MAX_ANNIVERSARY_DAYS: i32 = 366;

/// The root of every read.
#[derive(Default)]
pub struct QueryRoot;

/// A lookup by a unique key or by global ID: exactly one must be given.
enum Lookup {
    Key(String),
    Id(i64),
}

fn lookup(key_name: &str, key: Option<String>, id: Option<ID>, kind: Kind) -> AppResult<Lookup> {
    match (key, id) {
        (Some(key), None) => Ok(Lookup::Key(key)),
        (None, Some(id)) => Ok(Lookup::Id(ids::decode_as(&id, kind)?)),
        _ => Err(AppError::bad_input(format!(
            "give exactly one of `{key_name}` and `id`"
        ))),
    }
}

/// Finds one visible row by a unique text column or by id.
async fn find_one<E>(
    ctx: &Context<'_>,
    lookup: Lookup,
    key_column: E::Column,
) -> AppResult<Option<Arc<E::Model>>>
where
    E: Content + Sync,
    E::Model: Sync,
{
    match lookup {
        Lookup::Id(id) => loaders::by_id::<E>(ctx, id).await,
        Lookup::Key(key) => {
            let inner = loaders::loader(ctx)?.loader();
            let backend = inner.db.get_database_backend();
            // One kind of statement for each table and key column.
            let column =
                E::Column::iter().position(|column| column.as_str() == key_column.as_str());
            let shape =
                Shape::of::<(E, Lookup)>(inner.visibility.viewer, column.unwrap_or(0) as u32);
            let statement = inner.shapes.statement(
                backend,
                shape,
                key,
                &inner.visibility,
                |key, visibility| {
                    let select = E::find()
                        .filter(key_column.eq(key))
                        .filter(E::visible(visibility))
                        .limit(1);
                    select.build(backend)
                },
            );
            let row = crate::db::fetch_all::<E::Model>(&inner.db, statement)
                .await?
                .into_iter()
                .next();
            let thens = inner.thens::<E>(|field| shows(ctx, &[field]));
            inner.then(thens, row.as_ref().map(E::id_of)).await?;
            Ok(row.map(Arc::new))
        }
    }
}

/// A root connection over one table, sorted by one key column then id.
async fn list<E, N>(
    ctx: &Context<'_>,
    args: PageArgs,
    order: &'static str,
    keyset: Keyset<E::Column, E::Column>,
    cursor_of: impl Fn(&E::Model) -> Cursor,
    node: impl Fn(Arc<E::Model>) -> N,
) -> AppResult<Conn<N>>
where
    E: Content + Sync,
    E::Model: Sync,
    N: async_graphql::ContainerType,
{
    let page = args.page(order)?;
    let inner = loaders::loader(ctx)?.loader();
    keyset_connection(
        ctx,
        E::find(),
        E::visible(&inner.visibility),
        &page,
        keyset,
        cursor_of,
        node,
    )
    .await
}

async fn node_of(ctx: &Context<'_>, id: &ID) -> AppResult<Option<Node>> {
    let (kind, id) = ids::decode(id)?;
    Ok(match kind {
        Kind::Article => loaders::by_id::<article::Entity>(ctx, id)
            .await?
            .map(|m| Node::Article(Article(m))),
        Kind::Person => loaders::by_id::<person::Entity>(ctx, id)
            .await?
            .map(|m| Node::Person(Person(m))),
        Kind::Organization => loaders::by_id::<organization::Entity>(ctx, id)
            .await?
            .map(|m| Node::Organization(Organization(m))),
        Kind::Position => loaders::by_id::<position::Entity>(ctx, id)
            .await?
            .map(|m| Node::Position(Position(m))),
        Kind::Event => loaders::by_id::<event::Entity>(ctx, id)
            .await?
            .map(|m| Node::Event(Event(m))),
        Kind::Document => loaders::by_id::<document::Entity>(ctx, id)
            .await?
            .map(|m| Node::Document(Document(m))),
        Kind::Media => loaders::by_id::<media::Entity>(ctx, id)
            .await?
            .map(|model| {
                Node::Media(Media {
                    model,
                    after_paragraph: None,
                })
            }),
        Kind::Tag => loaders::by_id::<tag::Entity>(ctx, id)
            .await?
            .map(|m| Node::Tag(Tag(m))),
        Kind::Award => loaders::by_id::<award::Entity>(ctx, id)
            .await?
            .map(|m| Node::Award(Award(m))),
        Kind::Statement => loaders::by_id::<statement::Entity>(ctx, id)
            .await?
            .map(|m| Node::Statement(Statement(m))),
        Kind::Commemoration => loaders::by_id::<commemoration::Entity>(ctx, id)
            .await?
            .map(|m| Node::Commemoration(Commemoration(m))),
        Kind::Revision => None,
    })
}

// Named `Query`, as GraphQL tools and client caches expect the root of reads to be.
/// The root of every read.
#[Object(name = "Query")]
impl QueryRoot {
    /// Any object by its global ID; null when it does not exist or is not visible.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> FieldResult<Option<Node>> {
        Ok(node_of(ctx, &id).await?)
    }

    /// Objects by global ID, in the order given (null where one is missing).
    #[graphql(complexity = "ids.len() * child_complexity")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> FieldResult<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::bad_input(format!("`ids` takes at most {MAX_NODES} IDs")).into());
        }
        let lookups = ids.iter().map(|id| node_of(ctx, id));
        // Started together, the loads share the loader's batches.
        let nodes = futures_util::future::join_all(lookups).await;
        Ok(nodes.into_iter().collect::<AppResult<Vec<_>>>()?)
    }

    /// The earlier states of an object, newest first: editors and admins only.
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        of: ID,
        #[graphql(default = 20)] first: i32,
    ) -> FieldResult<Vec<Revision>> {
        let inner = loaders::loader(ctx)?.loader();
        if !inner.visibility.viewer.is_editor() {
            return Err(AppError::Unauthenticated(
                "revisions are for editors: send an editor's or an admin's token".into(),
            )
            .into());
        }
        if !(0..=MAX_PAGE_SIZE).contains(&first) {
            return Err(AppError::bad_input(format!(
                "`first` must be between 0 and {MAX_PAGE_SIZE}, not {first}"
            ))
            .into());
        }
        let (kind, id) = ids::decode(&of)?;
        let kept = crate::domain::editing::revisions(&inner.db, kind.name(), id, first as u64)
            .await
            .map_err(AppError::from)?;
        Ok(kept.into_iter().map(Revision).collect())
    }

    /// One article, by slug or by ID.
    async fn article(
        &self,
        ctx: &Context<'_>,
        slug: Option<String>,
        id: Option<ID>,
    ) -> FieldResult<Option<Inline<Article>>> {
        let lookup = lookup("slug", slug, id, Kind::Article)?;
        Ok(
            find_one::<article::Entity>(ctx, lookup, article::Column::Slug)
                .await?
                .map(|row| Inline(Article(row))),
        )
    }

    /// Articles, newest first unless `orderBy` says otherwise.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        filter: Option<ArticleFilter>,
        #[graphql(default)] order_by: ArticleOrder,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> FieldResult<Conn<Article>> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(articles::list(ctx, filter, order_by, args).await?)
    }

    /// Searches articles, people, organizations, events and documents at once,
    /// best match first: accents, case and Unicode form are ignored (though a match
    /// with the diacritics as typed ranks higher), `"quoted words"` match as a
    /// phrase, and the last word matches as a prefix while it is being typed.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        types: Option<Vec<SearchType>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> FieldResult<SearchConn> {
        let kinds = types
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let args = PageArgs {
            first,
            after,
            ..PageArgs::default()
        };
        Ok(search::search(ctx, &query, kinds, args).await?)
    }

    /// One person, by slug or by ID.
    async fn person(
        &self,
        ctx: &Context<'_>,
        slug: Option<String>,
        id: Option<ID>,
    ) -> FieldResult<Option<Inline<Person>>> {
        let lookup = lookup("slug", slug, id, Kind::Person)?;
        Ok(
            find_one::<person::Entity>(ctx, lookup, person::Column::Slug)
                .await?
                .map(|row| Inline(Person(row))),
        )
    }

    /// People, in Vietnamese order: given name, family name, middle name.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> FieldResult<Conn<Person>> {
        let keyset = Keyset {
            key: person::Column::SortKey,
            id: person::Column::Id,
            descending: false,
        };
        let cursor = |p: &person::Model| Cursor {
            value: SortValue::Text(p.sort_key.clone()),
            id: p.id,
        };
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(list::<person::Entity, _>(ctx, args, "name", keyset, cursor, Person).await?)
    }

    /// One organization, by slug or by ID.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        slug: Option<String>,
        id: Option<ID>,
    ) -> FieldResult<Option<Inline<Organization>>> {
        let lookup = lookup("slug", slug, id, Kind::Organization)?;
        Ok(
            find_one::<organization::Entity>(ctx, lookup, organization::Column::Slug)
                .await?
                .map(|row| Inline(Organization(row))),
        )
    }

    /// Organizations, in Vietnamese name order.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> FieldResult<Conn<Organization>> {
        let keyset = Keyset {
            key: organization::Column::SortKey,
            id: organization::Column::Id,
            descending: false,
        };
        let cursor = |o: &organization::Model| Cursor {
            value: SortValue::Text(o.sort_key.clone()),
            id: o.id,
        };
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(
            list::<organization::Entity, _>(ctx, args, "name", keyset, cursor, Organization)
                .await?,
        )
    }

    /// One event, by slug or by ID.
    async fn event(
        &self,
        ctx: &Context<'_>,
        slug: Option<String>,
        id: Option<ID>,
    ) -> FieldResult<Option<Inline<Event>>> {
        let lookup = lookup("slug", slug, id, Kind::Event)?;
        Ok(find_one::<event::Entity>(ctx, lookup, event::Column::Slug)
            .await?
            .map(|row| Inline(Event(row))))
    }

    /// Events, most recent first.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> FieldResult<Conn<Event>> {
        let keyset = Keyset {
            key: event::Column::StartsOn,
            id: event::Column::Id,
            descending: true,
        };
        let cursor = |e: &event::Model| Cursor {
            value: SortValue::day(e.starts_on),
            id: e.id,
        };
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(list::<event::Entity, _>(ctx, args, "starts_on_desc", keyset, cursor, Event).await?)
    }

    /// One document, by code (however written: `16-KL/TƯ`, `16-KL/TW`, `16 KL TW`)
    /// or by ID.
    async fn document(
        &self,
        ctx: &Context<'_>,
        code: Option<String>,
        id: Option<ID>,
    ) -> FieldResult<Option<Inline<Document>>> {
        let lookup = match lookup("code", code, id, Kind::Document)? {
            Lookup::Key(code) => Lookup::Key(text::document_code_key(&code)),
            by_id => by_id,
        };
        Ok(
            find_one::<document::Entity>(ctx, lookup, document::Column::CodeKey)
                .await?
                .map(|row| Inline(Document(row))),
        )
    }

    /// Documents, by code.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn documents(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> FieldResult<Conn<Document>> {
        let keyset = Keyset {
            key: document::Column::CodeKey,
            id: document::Column::Id,
            descending: false,
        };
        let cursor = |d: &document::Model| Cursor {
            value: SortValue::Text(d.code_key.clone()),
            id: d.id,
        };
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(list::<document::Entity, _>(ctx, args, "code", keyset, cursor, Document).await?)
    }

    /// One tag, by slug or by ID.
    async fn tag(
        &self,
        ctx: &Context<'_>,
        slug: Option<String>,
        id: Option<ID>,
    ) -> FieldResult<Option<Inline<Tag>>> {
        let lookup = lookup("slug", slug, id, Kind::Tag)?;
        Ok(find_one::<tag::Entity>(ctx, lookup, tag::Column::Slug)
            .await?
            .map(|row| Inline(Tag(row))))
    }

    /// The anniversaries falling in the `days` days from `on`: those of dates known
    /// to the day on their day, and those of dates known only to the year in every
    /// window of that year. The 94th anniversary of 1930-02-03 falls on 2024-02-03.
    async fn anniversaries(
        &self,
        ctx: &Context<'_>,
        on: Date,
        #[graphql(default = 1)] days: i32,
    ) -> FieldResult<Vec<Anniversary>> {
        if !(1..=MAX_ANNIVERSARY_DAYS).contains(&days) {
            return Err(AppError::bad_input(format!(
                "`days` must be between 1 and {MAX_ANNIVERSARY_DAYS}"
            ))
            .into());
        }
        let window: Vec<NaiveDate> = (0..days as u64)
            .filter_map(|d| on.0.checked_add_days(Days::new(d)))
            .collect();
        let month_days: Vec<String> = window
            .iter()
            .map(|d| d.format("%m-%d").to_string())
            .collect();
        let loader = loaders::loader(ctx)?;
        let inner = loader.loader();
        let rows = commemoration::Entity::find()
            .filter(commemoration::Entity::visible(&inner.visibility))
            .filter(
                sea_orm::Condition::any()
                    .add(
                        sea_orm::Condition::all()
                            .add(commemoration::Column::DatePrecision.eq("day"))
                            .add(commemoration::Column::MonthDay.is_in(month_days)),
                    )
                    .add(commemoration::Column::DatePrecision.ne("day")),
            )
            .all(&inner.db)
            .await
            .map_err(AppError::from)?;
        let mut out = Vec::new();
        for row in rows {
            let base = row.base_date;
            let hit = if row.date_precision == "day" {
                window
                    .iter()
                    .find(|d| {
                        d.month() == base.month() && d.day() == base.day() && d.year() > base.year()
                    })
                    .map(|d| (d.year() - base.year(), Some(Date(*d))))
            } else {
                window
                    .iter()
                    .find(|d| d.year() > base.year())
                    .map(|d| (d.year() - base.year(), None))
            };
            if let Some((years, date)) = hit {
                out.push(Anniversary {
                    commemoration: Commemoration(Arc::new(row)),
                    years,
                    date,
                });
            }
        }
        out.sort_by_key(|a| (a.date.map(|d| d.0), a.commemoration.0.id));
        Ok(out)
    }
}
