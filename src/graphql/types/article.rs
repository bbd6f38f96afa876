//! `Article`, its filter and order, and the batched article connections of the
//! things articles mention.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect,
    QueryTrait,
};

use entity::decode::{Cells, Decode};
use entity::{
    article, article_document, article_event, article_organization, article_person, article_tag,
    source,
};

use crate::error::{AppError, AppResult, FieldResult};
use crate::graphql::connection::{
    Conn, Cursor, Keyset, Page, PageArgs, SortValue, TotalCount, connection, keyset_connection,
    nodes_show,
};
use crate::graphql::ids::{self, Kind};
use crate::graphql::inline::InlineList;
use crate::graphql::loaders::{self, ContentLoader};
use crate::graphql::types::scalars::DateTime;
use crate::graphql::types::{Document, Event, Media, Organization, Person, Tag};

/// An article: the unit of published content.
pub struct Article(pub Arc<article::Model>);

/// Where an article was first published.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Source {
    /// The publisher's name.
    pub name: String,
    /// The publisher's address.
    pub url: Option<String>,
    #[graphql(skip)]
    pub organization_id: Option<i64>,
}

#[ComplexObject]
impl Source {
    /// The organization behind the source, when known.
    async fn organization(&self, ctx: &Context<'_>) -> FieldResult<Option<Organization>> {
        Ok(
            loaders::by_opt_id::<entity::organization::Entity>(ctx, self.organization_id)
                .await?
                .map(Organization),
        )
    }
}

/// Where an article stands in its workflow.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArticleStatus {
    /// Being written; visible to editors only.
    Draft,
    /// Published (from `publishedAt` on).
    Published,
    /// Withdrawn: no longer public; editors still see it.
    Archived,
}

impl ArticleStatus {
    /// The stored form.
    pub fn stored(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }

    fn from_stored(text: &str) -> Self {
        match text {
            "draft" => Self::Draft,
            "archived" => Self::Archived,
            _ => Self::Published,
        }
    }
}

#[Object]
impl Article {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Article, self.0.id)
    }
    /// The URL slug, unique.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The headline.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The lead paragraph.
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }
    /// The body: paragraphs separated by a blank line.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// The body's paragraphs.
    async fn paragraphs(&self) -> Vec<&str> {
        self.0
            .body
            .split("\n\n")
            .filter(|p| !p.is_empty())
            .collect()
    }
    /// The language, a BCP 47 tag such as `vi`.
    async fn language(&self) -> &str {
        &self.0.language
    }
    /// The workflow status.
    async fn status(&self) -> ArticleStatus {
        ArticleStatus::from_stored(&self.0.status)
    }
    /// When it was (or will be) published.
    async fn published_at(&self) -> DateTime {
        DateTime(self.0.published_at)
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
    /// The version, raised by every edit (for optimistic concurrency).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The canonical address of the article, when it lives elsewhere too.
    async fn canonical_url(&self) -> Option<&str> {
        self.0.canonical_url.as_deref()
    }
    /// Where it was first published.
    async fn source(&self, ctx: &Context<'_>) -> FieldResult<Option<Source>> {
        Ok(loaders::by_opt_id::<source::Entity>(ctx, self.0.source_id)
            .await?
            .map(|s| Source {
                name: s.name.clone(),
                url: s.url.clone(),
                organization_id: s.organization_id,
            }))
    }
    /// The people it mentions, in order of appearance.
    async fn people(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Person>> {
        let rows = loaders::targets::<loaders::PeopleOfArticle>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Person).collect())
    }
    /// The organizations it mentions.
    async fn organizations(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Organization>> {
        let rows = loaders::targets::<loaders::OrganizationsOfArticle>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Organization).collect())
    }
    /// The events it reports.
    async fn events(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Event>> {
        let rows = loaders::targets::<loaders::EventsOfArticle>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Event).collect())
    }
    /// The documents it cites.
    async fn documents(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Document>> {
        let rows = loaders::targets::<loaders::DocumentsOfArticle>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Document).collect())
    }
    /// Its photos and other media, in order.
    async fn media(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Media>> {
        let rows = loaders::linked::<loaders::MediaOfArticle>(ctx, self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(|(placement, media)| Media {
                model: media,
                after_paragraph: placement.after_paragraph,
            })
            .collect())
    }
    /// Its tags.
    async fn tags(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Tag>> {
        let rows = loaders::targets::<loaders::TagsOfArticle>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Tag).collect())
    }
    /// The same article in other languages (the original included, this one not).
    async fn translations(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Article>> {
        let root = self.0.translation_of_id.unwrap_or(self.0.id);
        let mut group = Vec::new();
        if root != self.0.id {
            group.extend(loaders::by_id::<article::Entity>(ctx, root).await?);
        }
        group.extend(loaders::children::<loaders::TranslationsOfArticle>(ctx, root).await?);
        Ok(group
            .into_iter()
            .filter(|a| a.id != self.0.id)
            .map(Article)
            .collect())
    }
}

/// Which articles to list.
#[derive(InputObject, Default)]
pub struct ArticleFilter {
    /// Only in this language (BCP 47, such as `vi`).
    pub language: Option<String>,
    /// Only with this status.
    pub status: Option<ArticleStatus>,
    /// Only published at or after this instant.
    pub published_after: Option<DateTime>,
    /// Only published before this instant.
    pub published_before: Option<DateTime>,
    /// Only those mentioning this person.
    pub person: Option<ID>,
    /// Only those mentioning this organization.
    pub organization: Option<ID>,
    /// Only those reporting this event.
    pub event: Option<ID>,
    /// Only those citing this document.
    pub document: Option<ID>,
    /// Only those with this tag.
    pub tag: Option<ID>,
    /// Only those matching this search (as `search(query:)` reads it); the list is
    /// then in order of relevance, and goes at most 1,000 deep.
    pub search: Option<String>,
}

/// The order of an article list.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ArticleOrder {
    /// Newest first.
    #[default]
    PublishedAtDesc,
    /// Oldest first.
    PublishedAtAsc,
    /// Most recently changed first.
    UpdatedAtDesc,
    /// Least recently changed first.
    UpdatedAtAsc,
}

impl ArticleOrder {
    fn name(self) -> &'static str {
        match self {
            Self::PublishedAtDesc => "published_at_desc",
            Self::PublishedAtAsc => "published_at_asc",
            Self::UpdatedAtDesc => "updated_at_desc",
            Self::UpdatedAtAsc => "updated_at_asc",
        }
    }

    fn keyset(self) -> Keyset<article::Column, article::Column> {
        let (key, descending) = match self {
            Self::PublishedAtDesc => (article::Column::PublishedAt, true),
            Self::PublishedAtAsc => (article::Column::PublishedAt, false),
            Self::UpdatedAtDesc => (article::Column::UpdatedAt, true),
            Self::UpdatedAtAsc => (article::Column::UpdatedAt, false),
        };
        Keyset {
            key,
            id: article::Column::Id,
            descending,
        }
    }

    fn cursor(self, row: &article::Model) -> Cursor {
        let at = match self {
            Self::PublishedAtDesc | Self::PublishedAtAsc => row.published_at,
            Self::UpdatedAtDesc | Self::UpdatedAtAsc => row.updated_at,
        };
        Cursor {
            value: SortValue::time(at),
            id: row.id,
        }
    }
}

fn mentioned_in(link: SelectStatement) -> Condition {
    Condition::all().add(article::Column::Id.in_subquery(link))
}

impl ArticleFilter {
    /// The condition the filter puts on article rows.
    pub fn condition(&self) -> AppResult<Condition> {
        let mut condition = Condition::all();
        if let Some(language) = &self.language {
            condition = condition.add(article::Column::Language.eq(language.as_str()));
        }
        if let Some(status) = self.status {
            condition = condition.add(article::Column::Status.eq(status.stored()));
        }
        if let Some(after) = self.published_after {
            condition = condition.add(article::Column::PublishedAt.gte(after.0));
        }
        if let Some(before) = self.published_before {
            condition = condition.add(article::Column::PublishedAt.lt(before.0));
        }
        if let Some(id) = &self.person {
            let id = ids::decode_as(id, Kind::Person)?;
            condition = condition.add(mentioned_in(
                Query::select()
                    .column(article_person::Column::ArticleId)
                    .from(article_person::Entity)
                    .and_where(article_person::Column::PersonId.eq(id))
                    .take(),
            ));
        }
        if let Some(id) = &self.organization {
            let id = ids::decode_as(id, Kind::Organization)?;
            condition = condition.add(mentioned_in(
                Query::select()
                    .column(article_organization::Column::ArticleId)
                    .from(article_organization::Entity)
                    .and_where(article_organization::Column::OrganizationId.eq(id))
                    .take(),
            ));
        }
        if let Some(id) = &self.event {
            let id = ids::decode_as(id, Kind::Event)?;
            condition = condition.add(mentioned_in(
                Query::select()
                    .column(article_event::Column::ArticleId)
                    .from(article_event::Entity)
                    .and_where(article_event::Column::EventId.eq(id))
                    .take(),
            ));
        }
        if let Some(id) = &self.document {
            let id = ids::decode_as(id, Kind::Document)?;
            condition = condition.add(mentioned_in(
                Query::select()
                    .column(article_document::Column::ArticleId)
                    .from(article_document::Entity)
                    .and_where(article_document::Column::DocumentId.eq(id))
                    .take(),
            ));
        }
        if let Some(id) = &self.tag {
            let id = ids::decode_as(id, Kind::Tag)?;
            condition = condition.add(mentioned_in(
                Query::select()
                    .column(article_tag::Column::ArticleId)
                    .from(article_tag::Entity)
                    .and_where(article_tag::Column::TagId.eq(id))
                    .take(),
            ));
        }
        Ok(condition)
    }
}

/// The order name of searched article lists.
const RELEVANCE: &str = "relevance";

/// `articles(filter: { search })`: the search's ranked article ids, narrowed by the
/// other filters in the database, paged by rank.
async fn searched(
    ctx: &Context<'_>,
    query: &str,
    filter: &ArticleFilter,
    args: PageArgs,
) -> AppResult<Conn<Article>> {
    use crate::graphql::types::search;
    let page = args.page(RELEVANCE)?;
    let index = search::index(ctx)?;
    let wanted = search::prepare(
        ctx,
        query,
        vec![crate::search::SearchKind::Article],
        0,
        search::MAX_HITS,
    )?;
    let hits = index.search(wanted).await.map_err(search::internal)?;
    let rank: HashMap<i64, u32> = hits
        .iter()
        .enumerate()
        .map(|(rank, hit)| (hit.id, rank as u32))
        .collect();
    let inner = loaders::loader(ctx)?.loader();
    let mut rows: Vec<(u32, Arc<article::Model>)> = article::Entity::find()
        .filter(inner.visibility.articles())
        .filter(filter.condition()?)
        .filter(article::Column::Id.is_in(rank.keys().copied()))
        .all(&inner.db)
        .await?
        .into_iter()
        .filter_map(|row| Some((*rank.get(&row.id)?, Arc::new(row))))
        .collect();
    rows.sort_by_key(|(rank, _)| *rank);
    let total = TotalCount::Known(rows.len() as u64);
    let position = match &page.cursor {
        Some(Cursor {
            value: SortValue::Rank(rank),
            ..
        }) => Some(*rank),
        Some(_) => return Err(AppError::bad_input("not a cursor of a searched list")),
        None => None,
    };
    // The rows of the page in the direction of travel, plus one to tell if there is
    // more; `connection` puts a backward page back in order.
    let window: Vec<_> = if page.backward {
        rows.into_iter()
            .rev()
            .filter(|(rank, _)| position.is_none_or(|p| *rank < p))
            .take(page.size as usize + 1)
            .collect()
    } else {
        rows.into_iter()
            .filter(|(rank, _)| position.is_none_or(|p| *rank > p))
            .take(page.size as usize + 1)
            .collect()
    };
    Ok(connection(
        window,
        &page,
        total,
        |(rank, row)| Cursor {
            value: SortValue::Rank(*rank),
            id: row.id,
        },
        |(_, row)| Article(row),
    ))
}

/// The root `articles` connection.
pub async fn list(
    ctx: &Context<'_>,
    filter: Option<ArticleFilter>,
    order: ArticleOrder,
    args: PageArgs,
) -> AppResult<Conn<Article>> {
    let filter = filter.unwrap_or_default();
    if let Some(query) = &filter.search {
        return searched(ctx, query, &filter, args).await;
    }
    let inner = loaders::loader(ctx)?.loader();
    let page = args.page(order.name())?;
    let base = article::Entity::find();
    let base = if nodes_show(ctx, "body") || nodes_show(ctx, "paragraphs") {
        base
    } else {
        without_body(base)
    };
    keyset_connection(
        ctx,
        base,
        Condition::all()
            .add(inner.visibility.articles())
            .add(filter.condition()?),
        &page,
        order.keyset(),
        |row| order.cursor(row),
        Article,
    )
    .await
}

/// Selects every column but the body, which comes back empty: a list of headlines
/// (a front page) then neither reads the long texts from storage nor sends them.
/// The columns keep their order, which decoding relies on.
fn without_body(select: sea_orm::Select<article::Entity>) -> sea_orm::Select<article::Entity> {
    use sea_orm::Iterable;
    let mut select = select.select_only();
    for column in article::Column::iter() {
        select = if matches!(column, article::Column::Body) {
            select.expr_as(Expr::val(""), "body")
        } else {
            select.column(column)
        };
    }
    select
}

/// What an article connection hangs off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArticleOwner {
    Person,
    Organization,
    Event,
    Document,
    Tag,
}

impl ArticleOwner {
    /// The join table and its owner column.
    fn link(self) -> (&'static str, &'static str) {
        match self {
            Self::Person => ("article_person", "person_id"),
            Self::Organization => ("article_organization", "organization_id"),
            Self::Event => ("article_event", "event_id"),
            Self::Document => ("article_document", "document_id"),
            Self::Tag => ("article_tag", "tag_id"),
        }
    }
}

/// A page of the articles of one owner (newest first). Keys with the same page
/// arguments are answered by one windowed statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArticlesOf {
    pub owner: ArticleOwner,
    pub id: i64,
    pub page: Page,
}

/// How many visible articles one owner has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArticleCountOf {
    pub owner: ArticleOwner,
    pub id: i64,
}

const OWNER_ORDER: &str = "published_at_desc";

impl Loader<ArticlesOf> for ContentLoader {
    type Value = Vec<article::Model>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[ArticlesOf],
    ) -> Result<HashMap<ArticlesOf, Self::Value>, Self::Error> {
        let mut groups: HashMap<(ArticleOwner, Page), Vec<i64>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.owner, key.page.clone()))
                .or_default()
                .push(key.id);
        }
        let mut out = HashMap::new();
        for ((owner, page), owners) in groups {
            let rows = self
                .page_of_owners(owner, &page, owners)
                .await
                .map_err(Arc::new)?;
            for (owner_id, row) in rows {
                out.entry(ArticlesOf {
                    owner,
                    id: owner_id,
                    page: page.clone(),
                })
                .or_insert_with(Vec::new)
                .push(row);
            }
        }
        // The articles of the pages; a page's row past its end only tells whether
        // there is a next one.
        let shown: Vec<i64> = out
            .iter()
            .flat_map(|(key, rows)| {
                let size = usize::try_from(key.page.size).unwrap_or(usize::MAX);
                rows.iter().take(size).map(|row| row.id)
            })
            .collect();
        self.then(self.thens::<article::Entity>(|_| true), shown)
            .await?;
        Ok(out)
    }
}

impl ContentLoader {
    /// One statement: for each owner, its page of articles, numbered by a window
    /// function so each owner gets at most `size + 1` rows.
    async fn page_of_owners(
        &self,
        owner: ArticleOwner,
        page: &Page,
        owners: Vec<i64>,
    ) -> AppResult<Vec<(i64, article::Model)>> {
        let (link, owner_column) = owner.link();
        let owner_of_link = Expr::col((Alias::new(link), Alias::new(owner_column)));
        // The page's articles (visible, in the keyset range and order), joined to
        // the owners' link table.
        let mut select = ArticleOrder::PublishedAtDesc
            .keyset()
            .apply(article::Entity::find(), self.visibility.articles(), page)?
            .into_query();
        select.join(
            JoinType::InnerJoin,
            Alias::new(link),
            Expr::col((Alias::new(link), Alias::new("article_id")))
                .equals((article::Entity, article::Column::Id)),
        );
        if let [only] = owners[..] {
            // One owner (a person's page): a plain ordered LIMIT lets the database
            // stop after the page instead of numbering every article of the owner.
            select.and_where(owner_of_link.eq(only));
            let statement = self.db.get_database_backend().build(&select);
            let rows = self.db.query_all_raw(statement).await?;
            return rows
                .iter()
                .map(|row| Ok((only, article::Model::decode(&mut Cells::new(row))?)))
                .collect();
        }
        let direction = if page.backward { "ASC" } else { "DESC" };
        select
            .clear_order_by()
            .reset_limit()
            .expr_as(owner_of_link.clone(), Alias::new("owner_id"))
            .expr_as(
                Expr::cust(format!(
                    r#"ROW_NUMBER() OVER (PARTITION BY "{link}"."{owner_column}" ORDER BY "article"."published_at" {direction}, "article"."id" {direction})"#
                )),
                Alias::new("row_number"),
            )
            .and_where(loaders::any_of(self.db.get_database_backend(), owner_of_link, owners));
        let outer = Query::select()
            .column(Asterisk)
            .from_subquery(select, Alias::new("numbered"))
            .and_where(Expr::col(Alias::new("row_number")).lte(page.size as i64 + 1))
            .order_by(Alias::new("owner_id"), sea_orm::Order::Asc)
            .order_by(Alias::new("row_number"), sea_orm::Order::Asc)
            .take();
        let statement = self.db.get_database_backend().build(&outer);
        let rows = self.db.query_all_raw(statement).await?;
        rows.iter()
            .map(|row| {
                // The article's columns, then its owner.
                let mut cells = Cells::new(row);
                let article = article::Model::decode(&mut cells)?;
                Ok((cells.take()?, article))
            })
            .collect()
    }
}

impl Loader<ArticleCountOf> for ContentLoader {
    type Value = u64;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[ArticleCountOf],
    ) -> Result<HashMap<ArticleCountOf, u64>, Self::Error> {
        let mut groups: HashMap<ArticleOwner, Vec<i64>> = HashMap::new();
        for key in keys {
            groups.entry(key.owner).or_default().push(key.id);
        }
        let backend = self.db.get_database_backend();
        let mut out = HashMap::new();
        for (owner, owners) in groups {
            let (link, owner_column) = owner.link();
            let owner_expr = Expr::col((Alias::new(link), Alias::new(owner_column)));
            let mut select = article::Entity::find()
                .filter(self.visibility.articles())
                .select_only()
                .into_query();
            select
                .join(
                    JoinType::InnerJoin,
                    Alias::new(link),
                    Expr::col((Alias::new(link), Alias::new("article_id")))
                        .equals((article::Entity, article::Column::Id)),
                )
                .expr_as(owner_expr.clone(), Alias::new("owner_id"))
                .expr_as(Expr::cust("COUNT(*)"), Alias::new("count"))
                .and_where(loaders::any_of(backend, owner_expr, owners))
                .group_by_col((Alias::new(link), Alias::new(owner_column)));
            let statement = backend.build(&select);
            let rows = self
                .db
                .query_all_raw(statement)
                .await
                .map_err(|e| Arc::new(AppError::from(e)))?;
            for row in rows {
                let owner_id: i64 = row
                    .try_get("", "owner_id")
                    .map_err(|e| Arc::new(AppError::from(e)))?;
                let count: i64 = row
                    .try_get("", "count")
                    .map_err(|e| Arc::new(AppError::from(e)))?;
                out.insert(
                    ArticleCountOf {
                        owner,
                        id: owner_id,
                    },
                    u64::try_from(count).unwrap_or(0),
                );
            }
        }
        Ok(out)
    }
}

/// The article connection of one owner: one batched statement per query level for
/// the pages, and one for `totalCount` if it is selected.
pub async fn of_owner(
    ctx: &Context<'_>,
    owner: ArticleOwner,
    id: i64,
    args: PageArgs,
) -> AppResult<Conn<Article>> {
    let page = args.page(OWNER_ORDER)?;
    let loader = loaders::loader(ctx)?;
    let rows = loader
        .load_one(ArticlesOf {
            owner,
            id,
            page: page.clone(),
        })
        .await?
        .unwrap_or_default();
    let total = if ctx.look_ahead().field("totalCount").exists() {
        TotalCount::Known(
            loader
                .load_one(ArticleCountOf { owner, id })
                .await?
                .unwrap_or(0),
        )
    } else {
        TotalCount::Known(0)
    };
    let order = ArticleOrder::PublishedAtDesc;
    Ok(connection(
        rows,
        &page,
        total,
        |row| order.cursor(row),
        |row| Article(Arc::new(row)),
    ))
}
