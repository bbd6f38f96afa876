//! Keeping the index in step with the database: a task that follows the outbox,
//! and the full rebuild.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tantivy::{IndexWriter, TantivyDocument, Term};
use tokio::sync::Notify;

use entity::search_outbox;

use super::{SearchError, SearchIndex, document};

/// How long an instance waits (after [`PACE`]) for a write of its own before it
/// looks for changes other instances committed.
const POLL: Duration = Duration::from_millis(250);
/// The least time between two rounds of indexing: the changes written meanwhile go
/// into one commit. Each index commit syncs its files, starts the writer's threads
/// afresh and adds a segment for the merges to fold in; a commit per write made a
/// stream of writes mostly indexing work.
const PACE: Duration = Duration::from_millis(200);
/// How long a hole in the outbox ids is waited for (a transaction that took its id
/// and has not committed yet) before it is taken for a rollback.
const GAP_WAIT: Duration = Duration::from_secs(30);
/// Most holes in the outbox ids looked into at once (the lowest).
const MAX_HOLES: usize = 1_000;
/// Outbox rows read at once.
const BATCH: u64 = 5_000;
/// The indexing memory budget, for one indexing thread. Documents reach the writer
/// from the database no faster than one thread indexes them (a full build took 21 s
/// with one, 28 s with two), and each thread has tables of its own, made afresh at
/// every commit: with two, a server under writes held 15 MB more.
const WRITER_BYTES: usize = 64 * 1024 * 1024;

/// Where this instance is in the outbox.
#[derive(Debug, Default)]
struct Position {
    /// Every row up to here is applied (and committed in the index's payload).
    floor: i64,
    /// Rows above the floor already applied, waiting for the holes below them.
    applied: BTreeSet<i64>,
    /// Since when the lowest hole has been open.
    gap_since: Option<Instant>,
}

/// The task that follows the outbox for one index.
pub struct Indexer {
    index: Arc<SearchIndex>,
    writer: Arc<Mutex<IndexWriter<TantivyDocument>>>,
    db: DatabaseConnection,
    position: tokio::sync::Mutex<Position>,
    wake: Notify,
    /// Whether the index has caught up with the database once since the start.
    ready: AtomicBool,
}

impl Indexer {
    /// Takes the index's writer. Fails when another process holds it: every
    /// instance needs its own index directory.
    pub fn new(index: Arc<SearchIndex>, db: DatabaseConnection) -> Result<Arc<Self>, SearchError> {
        let writer = index.index.writer_with_num_threads(1, WRITER_BYTES)?;
        Ok(Arc::new(Self {
            index,
            writer: Arc::new(Mutex::new(writer)),
            db,
            position: tokio::sync::Mutex::new(Position::default()),
            wake: Notify::new(),
            ready: AtomicBool::new(false),
        }))
    }

    /// Catches up with the database: rebuilds the index when it is new (or was
    /// built from another database), else applies the outbox from where the index
    /// left off.
    pub async fn initialize(&self) -> Result<(), SearchError> {
        let floor = self
            .index
            .index
            .load_metas()?
            .payload
            .and_then(|p| p.parse::<i64>().ok());
        let newest = self.newest().await?;
        match floor {
            Some(floor) if floor <= newest => self.position.lock().await.floor = floor,
            _ => {
                let started = Instant::now();
                let count = self.rebuild().await?;
                tracing::info!(records = count, elapsed = ?started.elapsed(), "built the search index");
            }
        }
        self.catch_up().await?;
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Whether the index has caught up with the database since the process started
    /// (until then, searches miss what is not indexed yet). It stays so: later
    /// changes reach the index within [`PACE`] and [`POLL`].
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Follows the outbox until the process ends.
    pub fn spawn(self: &Arc<Self>) {
        let indexer = self.clone();
        tokio::spawn(async move {
            while let Err(error) = indexer.initialize().await {
                tracing::error!(%error, "could not bring the search index up to date; retrying");
                tokio::time::sleep(POLL * 20).await;
            }
            loop {
                tokio::select! {
                    () = indexer.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
                if let Err(error) = indexer.catch_up().await {
                    tracing::error!(%error, "search indexing failed; retrying");
                }
                tokio::time::sleep(PACE).await;
            }
        });
    }

    /// Asks the task to look at the outbox now (after a local commit).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// How many changes of the outbox the index has yet to apply; `None` while it
    /// is busy applying some (or rebuilding), which is not waited for.
    pub async fn lag(&self) -> Result<Option<i64>, SearchError> {
        let newest = self.newest().await?;
        let Ok(position) = self.position.try_lock() else {
            return Ok(None);
        };
        let applied = i64::try_from(position.applied.len()).unwrap_or(i64::MAX);
        Ok(Some((newest - position.floor - applied).max(0)))
    }

    async fn newest(&self) -> Result<i64, SearchError> {
        Ok(search_outbox::Entity::find()
            .select_only()
            .column_as(search_outbox::Column::Id.max(), "max")
            .into_tuple::<Option<i64>>()
            .one(&self.db)
            .await?
            .flatten()
            .unwrap_or(0))
    }

    /// Applies the outbox rows this instance has not applied yet.
    pub async fn catch_up(&self) -> Result<(), SearchError> {
        let mut position = self.position.lock().await;
        loop {
            // Rows past everything applied, and the holes below them: the rows
            // above a hole (ids taken by transactions not committed yet, or rolled
            // back) are applied already and are not read again, so a hole delays
            // nothing written after it.
            let high = position
                .applied
                .last()
                .copied()
                .unwrap_or(position.floor)
                .max(position.floor);
            let mut rows = search_outbox::Entity::find()
                .filter(search_outbox::Column::Id.gt(high))
                .order_by_asc(search_outbox::Column::Id)
                .limit(BATCH)
                .all(&self.db)
                .await?;
            let newest = rows.len();
            let holes: Vec<i64> = (position.floor + 1..high)
                .filter(|id| !position.applied.contains(id))
                .take(MAX_HOLES)
                .collect();
            if !holes.is_empty() {
                rows.extend(
                    search_outbox::Entity::find()
                        .filter(search_outbox::Column::Id.is_in(holes))
                        .order_by_asc(search_outbox::Column::Id)
                        .all(&self.db)
                        .await?,
                );
            }
            let fresh: Vec<_> = rows
                .iter()
                .filter(|row| !position.applied.contains(&row.id))
                .collect();
            if fresh.iter().any(|row| row.entity_type == "*") {
                drop(fresh);
                let count = self
                    .rebuild_locked(&mut position, &mut every_few_seconds())
                    .await?;
                tracing::info!(
                    records = count,
                    "rebuilt the search index after a bulk change"
                );
                continue;
            }
            let mut wanted: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
            for row in &fresh {
                wanted
                    .entry(&row.entity_type)
                    .or_default()
                    .insert(row.entity_id);
            }
            let mut changes = HashMap::new();
            for (entity_type, ids) in wanted {
                let ids = ids.into_iter().collect();
                changes
                    .extend(document::load(&self.db, &self.index.fields, entity_type, ids).await?);
            }
            position.applied.extend(fresh.iter().map(|row| row.id));
            let before = position.floor;
            advance(&mut position);
            if changes.is_empty() && position.floor == before {
                return Ok(());
            }
            self.apply(changes, position.floor).await?;
            if (newest as u64) < BATCH {
                return Ok(());
            }
        }
    }

    /// Replaces the documents of the changed keys and commits with the new floor.
    async fn apply(
        &self,
        changes: HashMap<String, Option<TantivyDocument>>,
        floor: i64,
    ) -> Result<(), SearchError> {
        let writer = self.writer.clone();
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            let mut writer = writer.lock().unwrap_or_else(PoisonError::into_inner);
            for (key, doc) in changes {
                writer.delete_term(Term::from_field_text(index.fields.key, &key));
                if let Some(doc) = doc {
                    writer.add_document(doc)?;
                }
            }
            commit(&mut writer, floor)?;
            index.reader.reload()?;
            Ok(())
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
    }

    /// Indexes every live record afresh; returns how many.
    pub async fn rebuild(&self) -> Result<u64, SearchError> {
        self.rebuild_reporting(&mut every_few_seconds()).await
    }

    /// [`Self::rebuild`], telling `report` how many records are indexed so far
    /// as they are.
    pub async fn rebuild_reporting(
        &self,
        report: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64, SearchError> {
        let mut position = self.position.lock().await;
        self.rebuild_locked(&mut position, report).await
    }

    async fn rebuild_locked(
        &self,
        position: &mut Position,
        report: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64, SearchError> {
        // Changes committed after this point are in the outbox above it.
        let floor = self.newest().await?;
        {
            let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            writer.delete_all_documents()?;
        }
        let mut indexed = 0;
        let count = document::each(&self.db, &self.index.fields, |doc| {
            let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            writer.add_document(doc)?;
            indexed += 1;
            report(indexed);
            Ok(())
        })
        .await?;
        let writer = self.writer.clone();
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            let mut writer = writer.lock().unwrap_or_else(PoisonError::into_inner);
            commit(&mut writer, floor)?;
            index.reader.reload()?;
            Ok(())
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))??;
        *position = Position {
            floor,
            ..Position::default()
        };
        Ok(count)
    }
}

/// Moves the floor over the applied rows just above it, and over a hole that has
/// stayed open too long.
fn advance(position: &mut Position) {
    loop {
        while position.applied.remove(&(position.floor + 1)) {
            position.floor += 1;
        }
        let Some(&lowest) = position.applied.first() else {
            position.gap_since = None;
            return;
        };
        let since = *position.gap_since.get_or_insert_with(Instant::now);
        if since.elapsed() < GAP_WAIT {
            return;
        }
        position.floor = lowest - 1;
        position.gap_since = None;
    }
}

fn commit(writer: &mut IndexWriter<TantivyDocument>, floor: i64) -> Result<(), SearchError> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&floor.to_string());
    prepared.commit()?;
    Ok(())
}

/// Rebuilds the index in `dir` from the database and returns how many records it
/// holds. Fails when a running server holds the index.
pub async fn rebuild(
    db: &DatabaseConnection,
    dir: &std::path::Path,
    report: &mut (dyn FnMut(u64) + Send),
) -> Result<u64, SearchError> {
    let index = Arc::new(SearchIndex::open(Some(dir))?);
    Indexer::new(index, db.clone())?
        .rebuild_reporting(report)
        .await
}

/// How often a rebuild's progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// A report of a rebuild's progress that logs a line every [`PROGRESS_EVERY`].
pub fn every_few_seconds() -> impl FnMut(u64) + Send {
    let started = Instant::now();
    let mut last = started;
    move |indexed| {
        if last.elapsed() >= PROGRESS_EVERY {
            last = Instant::now();
            let seconds = started.elapsed().as_secs_f64();
            tracing::info!(
                records = indexed,
                per_second = (indexed as f64 / seconds.max(0.001)).round(),
                "building the search index"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_waits_for_holes_then_moves_on() {
        let mut position = Position {
            floor: 10,
            ..Position::default()
        };
        position.applied.extend([11, 12, 14]);
        advance(&mut position);
        assert_eq!(position.floor, 12);
        assert!(position.gap_since.is_some());
        position.gap_since = Some(Instant::now() - GAP_WAIT);
        advance(&mut position);
        assert_eq!((position.floor, position.applied.len()), (14, 0));
    }
}
