//! `search`: one ranked connection over articles, people, organizations, events
//! and documents, each hit with its score and a highlighted snippet.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, SimpleObject, Union};

use entity::{article, document, event, organization, person};

use crate::error::{AppError, AppResult};
use crate::graphql::connection::{Cursor, PageArgs, SortValue, TotalCount};
use crate::graphql::loaders::{self, Content};
use crate::graphql::types::{Article, Document, Event, Organization, Person};
use crate::search::{Hit, Parsed, Query as Search, SearchIndex, SearchKind, snippet};

/// The longest query.
const MAX_QUERY: usize = 256;
/// How deep search results can be paged.
pub const MAX_HITS: usize = 1_000;

/// What `search` looks through.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::search::SearchKind")]
pub enum SearchType {
    Article,
    Person,
    Organization,
    Event,
    Document,
}

/// A record `search` found.
#[derive(Union)]
pub enum SearchResult {
    Article(Article),
    Person(Person),
    Organization(Organization),
    Event(Event),
    Document(Document),
}

/// How well a hit matched, and where.
#[derive(SimpleObject)]
pub struct SearchHitFields {
    /// The relevance score: higher is better; comparable within one search only.
    pub score: f64,
    /// Where it matched: the original text (HTML-escaped) with the matching
    /// words in `<mark>`.
    pub snippet: String,
}

/// A page of search results, best first.
pub type SearchConn = Connection<String, SearchResult, TotalCount, SearchHitFields>;

/// The order name search cursors carry.
const ORDER: &str = "relevance";

/// The index of the schema.
/// The search index, once it has caught up with the database since the start (an
/// index built afresh in the background would answer too few hits, or none).
pub fn index<'a>(ctx: &Context<'a>) -> AppResult<&'a Arc<SearchIndex>> {
    let indexer = ctx
        .data::<Arc<crate::search::Indexer>>()
        .map_err(|e| AppError::Internal(e.message))?;
    if !indexer.is_ready() {
        return Err(AppError::SearchNotReady);
    }
    ctx.data::<Arc<SearchIndex>>()
        .map_err(|e| AppError::Internal(e.message))
}

/// Reads a query and the viewer into a search of up to `limit` hits from `offset`.
pub fn prepare(
    ctx: &Context<'_>,
    query: &str,
    kinds: Vec<SearchKind>,
    offset: usize,
    limit: usize,
) -> AppResult<Search> {
    if query.chars().count() > MAX_QUERY {
        return Err(AppError::bad_input(format!(
            "`query` has more than {MAX_QUERY} characters"
        )));
    }
    let visibility = loaders::loader(ctx)?.loader().visibility;
    Ok(Search {
        parsed: Parsed::new(query),
        kinds,
        public_at: (!visibility.viewer.is_editor()).then(|| visibility.now.timestamp_micros()),
        offset,
        limit,
    })
}

/// The page `args` asks for: forwards only, from a rank.
fn window(args: &PageArgs) -> AppResult<(usize, usize)> {
    let page = args.page(ORDER)?;
    if page.backward {
        return Err(AppError::bad_input(
            "search results page forwards only: use `first` and `after`",
        ));
    }
    let offset = match page.cursor {
        Some(Cursor {
            value: SortValue::Rank(rank),
            ..
        }) => rank as usize + 1,
        Some(_) => return Err(AppError::bad_input("not a search cursor")),
        None => 0,
    };
    if offset + page.size as usize > MAX_HITS {
        return Err(AppError::bad_input(format!(
            "search results go {MAX_HITS} deep; refine the query"
        )));
    }
    Ok((offset, page.size as usize))
}

/// The `search` connection.
pub async fn search(
    ctx: &Context<'_>,
    query: &str,
    kinds: Vec<SearchKind>,
    args: PageArgs,
) -> AppResult<SearchConn> {
    let (offset, size) = window(&args)?;
    let index = index(ctx)?;
    // One more than the page, to know whether there is a next one.
    let search = prepare(ctx, query, kinds, offset, size + 1)?;
    let mut hits = index.search(search.clone()).await.map_err(internal)?;
    let more = hits.len() > size;
    hits.truncate(size);
    let (terms, prefix) = search.parsed.highlights();
    let resolved = futures_util::future::join_all(hits.iter().map(|hit| resolve(ctx, hit))).await;
    let total = TotalCount::Search(index.clone(), Box::new(search));
    let mut connection = Connection::with_additional_fields(offset > 0, more, total);
    for (rank, (hit, node)) in hits.iter().zip(resolved).enumerate() {
        // A record deleted or unpublished since it was indexed is left out.
        let Some((node, sources)) = node? else {
            continue;
        };
        let cursor = Cursor {
            value: SortValue::Rank((offset + rank) as u32),
            id: hit.id,
        };
        let snippet = sources
            .iter()
            .find_map(|text| snippet::snippet(text, &terms, prefix.as_deref()))
            .unwrap_or_else(|| snippet::plain(sources.first().map_or("", String::as_str)));
        connection.edges.push(Edge::with_additional_fields(
            cursor.encode(ORDER),
            node,
            SearchHitFields {
                score: f64::from(hit.score),
                snippet,
            },
        ));
    }
    Ok(connection)
}

/// The visible record of a hit and its texts, in the order snippets prefer them.
async fn resolve(ctx: &Context<'_>, hit: &Hit) -> AppResult<Option<(SearchResult, Vec<String>)>> {
    async fn row<E>(ctx: &Context<'_>, id: i64) -> AppResult<Option<Arc<E::Model>>>
    where
        E: Content + Sync,
        E::Model: Sync,
    {
        loaders::by_id::<E>(ctx, id).await
    }
    let text = |parts: &[Option<&String>]| parts.iter().flatten().map(|s| (*s).clone()).collect();
    Ok(match hit.kind {
        SearchKind::Article => row::<article::Entity>(ctx, hit.id).await?.map(|m| {
            let texts = text(&[Some(&m.body), m.summary.as_ref(), Some(&m.title)]);
            (SearchResult::Article(Article(m)), texts)
        }),
        SearchKind::Person => row::<person::Entity>(ctx, hit.id).await?.map(|m| {
            let texts = text(&[m.bio.as_ref(), Some(&m.full_name)]);
            (SearchResult::Person(Person(m)), texts)
        }),
        SearchKind::Organization => row::<organization::Entity>(ctx, hit.id).await?.map(|m| {
            let texts = text(&[m.description.as_ref(), Some(&m.name), m.short_name.as_ref()]);
            (SearchResult::Organization(Organization(m)), texts)
        }),
        SearchKind::Event => row::<event::Entity>(ctx, hit.id).await?.map(|m| {
            let texts = text(&[m.description.as_ref(), m.location.as_ref(), Some(&m.name)]);
            (SearchResult::Event(Event(m)), texts)
        }),
        SearchKind::Document => row::<document::Entity>(ctx, hit.id).await?.map(|m| {
            let texts = text(&[m.summary.as_ref(), Some(&m.title), Some(&m.code)]);
            (SearchResult::Document(Document(m)), texts)
        }),
    })
}

/// A search failure is the server's.
pub fn internal(error: crate::search::SearchError) -> AppError {
    AppError::Internal(error.to_string())
}
