//! Vietnamese full-text search over articles, people, organizations, events and
//! documents, in a tantivy index derived from the database.
//!
//! The database is the source of truth. Every write that changes searchable text
//! adds a row to `search_outbox` in its own transaction; each instance follows the
//! outbox from its own position (kept in the index's commit payload), so a crash
//! between a commit and its indexing loses nothing, and several instances catch up
//! independently. Text is folded in Rust ([`crate::text::fold`]) before tantivy
//! sees it, so results do not depend on the database underneath.

use std::path::Path;
use std::sync::Arc;

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, ReloadPolicy};

use entity::search_outbox;

mod document;
mod indexer;
mod query;
pub mod snippet;

pub use indexer::{Indexer, every_few_seconds, rebuild};
pub use query::{Hit, Parsed, Search as Query, SearchKind};

/// Why search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index failed.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The index directory could not be made.
    #[error("index directory: {0}")]
    Io(#[from] std::io::Error),
    /// A blocking task failed.
    #[error("search task: {0}")]
    Task(String),
}

/// The name of the analyzer: words split on anything not a letter or digit,
/// lowercased. Text reaches it already NFC (exact fields) or folded.
const ANALYZER: &str = "vi";

/// The fields of the index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    /// `article:12`: what a change deletes by.
    pub key: Field,
    /// `article`, `person`…: what `types:` filters by.
    pub kind: Field,
    /// The kind and row id in one number: `kind << 56 | id`.
    pub reference: Field,
    /// Title or name, folded.
    pub title: Field,
    /// Title or name, with its diacritics.
    pub title_exact: Field,
    /// Summary, description, bio, folded.
    pub summary: Field,
    /// The same with diacritics.
    pub summary_exact: Field,
    /// Article body, folded.
    pub body: Field,
    /// Everything folded, the title three times and the summary twice: where the
    /// first, pruned pass finds its candidates.
    pub all: Field,
    /// A document's code key ("16-kl-tw").
    pub code: Field,
    /// From when a reader may see it (i64::MAX: never; i64::MIN: always).
    pub public_from: Field,
    /// The tie-break after the score: newer first.
    pub recency: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let positions = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let frequencies = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        key: builder.add_text_field("key", STRING),
        kind: builder.add_text_field("kind", STRING),
        reference: builder.add_u64_field("ref", FAST),
        title: builder.add_text_field("title", positions.clone()),
        title_exact: builder.add_text_field("title_exact", frequencies.clone()),
        summary: builder.add_text_field("summary", positions.clone()),
        summary_exact: builder.add_text_field("summary_exact", frequencies.clone()),
        body: builder.add_text_field("body", positions.clone()),
        all: builder.add_text_field("all", frequencies.clone()),
        code: builder.add_text_field("code", positions),
        public_from: builder.add_i64_field("public_from", INDEXED | FAST),
        recency: builder.add_i64_field("recency", FAST),
    };
    (builder.build(), fields)
}

/// The search index: where it lives and how to read it.
#[derive(Clone)]
pub struct SearchIndex {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when missing; in memory when `None`.
    pub fn open(dir: Option<&Path>) -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let index = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let directory = tantivy::directory::MmapDirectory::open(dir)
                    .map_err(|e| SearchError::Index(e.into()))?;
                let existing = Index::exists(&directory)
                    .map_err(|e| SearchError::Index(e.into()))?
                    .then(|| Index::open(directory))
                    .transpose()?;
                match existing {
                    Some(index) if index.schema() == schema => index,
                    // Missing, or of an older layout: start afresh; the indexer
                    // rebuilds it from the database.
                    stale => {
                        drop(stale);
                        std::fs::remove_dir_all(dir)?;
                        std::fs::create_dir_all(dir)?;
                        Index::create_in_dir(dir, schema)?
                    }
                }
            }
            None => Index::create_in_ram(schema),
        };
        index.tokenizers().register(
            ANALYZER,
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(64))
                .filter(LowerCaser)
                .build(),
        );
        // The indexer reloads the reader after each of its commits, so that a change
        // is searchable as soon as its indexing is done. The writer also merges
        // segments in the background, after those commits: the reader follows the
        // index's metadata to let go of merged segments (their files stay mapped and
        // on disk while a searcher holds them).
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
        })
    }

    /// Runs a search on a blocking thread.
    pub async fn search(self: &Arc<Self>, search: Query) -> Result<Vec<Hit>, SearchError> {
        let index = self.clone();
        tokio::task::spawn_blocking(move || search.run(&index))
            .await
            .map_err(|e| SearchError::Task(e.to_string()))?
    }

    /// Counts every match of a search, on a blocking thread.
    pub async fn count(self: &Arc<Self>, search: Query) -> Result<u64, SearchError> {
        let index = self.clone();
        tokio::task::spawn_blocking(move || search.count(&index))
            .await
            .map_err(|e| SearchError::Task(e.to_string()))?
    }
}

/// Search in a running server: the index to read and the indexer that keeps it
/// up to date.
#[derive(Clone)]
pub struct Search {
    pub index: Arc<SearchIndex>,
    pub indexer: Arc<Indexer>,
}

impl Search {
    /// Opens the index (in memory when `dir` is `None`) and takes its writer.
    /// [`Indexer::spawn`] then brings it up to date and keeps it there.
    pub fn open(dir: Option<&Path>, db: &sea_orm::DatabaseConnection) -> Result<Self, SearchError> {
        let index = Arc::new(SearchIndex::open(dir)?);
        let indexer = Indexer::new(index.clone(), db.clone())?;
        Ok(Self { index, indexer })
    }
}

/// The types of record the index holds, by the names the outbox uses.
pub const SEARCHED: [&str; 5] = ["Article", "Person", "Organization", "Event", "Document"];

/// Marks a record for (re)indexing, in the writer's transaction.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    entity_type: &str,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    search_outbox::ActiveModel {
        entity_type: Set(entity_type.to_owned()),
        entity_id: Set(id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Marks everything for reindexing (after a bulk import), in the writer's
/// transaction.
pub async fn enqueue_all(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    enqueue(db, "*", 0, now).await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::{Duration, Instant};

    use tantivy::index::SegmentId;
    use tantivy::{TantivyDocument, doc};

    use super::{SearchError, SearchIndex};

    fn held(index: &SearchIndex) -> BTreeSet<SegmentId> {
        let searcher = index.reader.searcher();
        searcher
            .segment_readers()
            .iter()
            .map(|segment| segment.segment_id())
            .collect()
    }

    /// After the writer merges segments on its own, the reader lets go of the
    /// merged ones: their files are deleted and no longer mapped.
    #[test]
    fn the_reader_lets_go_of_merged_segments() -> Result<(), SearchError> {
        let dir = std::env::temp_dir().join(format!("bantin_merged_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let index = SearchIndex::open(Some(&dir))?;
        let mut writer = index
            .index
            .writer_with_num_threads::<TantivyDocument>(1, 15_000_000)?;
        // The default merge policy merges eight small segments into one. The reader,
        // reloaded after each commit as the indexer does, has opened all eight.
        for n in 0..8 {
            writer.add_document(doc!(index.fields.key => format!("article:{n}")))?;
            writer.commit()?;
            index.reader.reload()?;
        }
        writer.wait_merging_threads()?;
        let live: BTreeSet<SegmentId> = index.index.searchable_segment_ids()?.into_iter().collect();
        assert_eq!(live.len(), 1, "the eight segments were merged");
        let started = Instant::now();
        while held(&index) != live && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(held(&index), live);
        assert_eq!(index.reader.searcher().num_docs(), 8);
        drop(index);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
