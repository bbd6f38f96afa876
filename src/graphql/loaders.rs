//! The DataLoaders. One loader, [`ContentLoader`], answers every relation; each
//! relation has its own key type, so keys of one relation from a whole query level
//! are batched into one SQL statement (`WHERE owner_id IN (...)`). Visibility is
//! applied inside the loader, so no path can leak a hidden row. A relation a query
//! shows under rows may be read with them instead, by the same batch function, for
//! all of them at once: a row's lookup by id ([`Along`], in the same statement) and
//! an article's people or a person's positions ([`Then`], right after it).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Request};
use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::task::ArcWake;
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, Iden, NullOrdering, PgFunc, Query, SelectStatement,
    SimpleExpr,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Identity,
    Iterable, JoinType, Order, QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationDef,
    RelationTrait, Statement,
};
use smallvec::SmallVec;

use entity::decode::{Cells, Decode, Light};
use entity::*;

use crate::db::{Reader, fetch_with};
use crate::domain::visibility::Visibility;
use crate::error::{AppError, AppResult};
use crate::graphql::documents::Parsed;
use crate::graphql::projection::Projection;
use crate::graphql::shapes::{Shape, Shapes};

pub use crate::graphql::types::article::{ArticleCountOf, ArticleOwner, ArticlesOf};

/// Loads rows for one request, batching by relation.
pub struct ContentLoader {
    pub(crate) db: Reader,
    pub(crate) visibility: Visibility,
    /// What the request's operation selects, worked out at its first load.
    projection: OnceLock<Arc<Projection>>,
    /// The request's document, parsed, where its projection is kept.
    parsed: Option<Arc<Parsed>>,
    /// Rows read ahead of their lookup by id (see [`Along`]).
    ahead: Mutex<HashMap<(TypeId, i64), AnyRow, foldhash::fast::RandomState>>,
    /// Relations read right after the rows they start from (see [`Then`]): for
    /// each key type, the values of its keys.
    after: Mutex<HashMap<TypeId, Box<dyn Any + Send>, foldhash::fast::RandomState>>,
    /// The statements' shapes, kept by the server.
    pub(crate) shapes: Arc<Shapes>,
}

/// A row of some table, shared.
type AnyRow = Arc<dyn Any + Send + Sync>;

/// Puts the request's loader into the request. Its batches run inside the
/// request's own task (see [`BatchTasks`]).
/// With `stock`, rows are read whole and nothing is read ahead of its lookup
/// ([`Projection::whole`]).
pub fn attach(
    request: Request,
    db: Reader,
    parsed: Option<Arc<Parsed>>,
    shapes: &Arc<Shapes>,
    visibility: &Visibility,
    tasks: &BatchTasks,
    stock: bool,
) -> Request {
    let loader = ContentLoader {
        db,
        visibility: *visibility,
        projection: if stock {
            OnceLock::from(Arc::new(Projection::whole()))
        } else {
            OnceLock::new()
        },
        parsed,
        ahead: Mutex::default(),
        after: Mutex::default(),
        shapes: shapes.clone(),
    };
    let tasks = tasks.clone();
    request.data(DataLoader::new(loader, move |task| tasks.push(task)).delay(Duration::ZERO))
}

/// The DataLoader's batch tasks of one request, run inside the request's task.
///
/// A batch waits a moment after its first key, then loads every key that arrived.
/// Spawned on the runtime, that moment is wall-clock time: on a busy machine the
/// executor may still be walking the rows of a level when it ends, and one batch
/// splits into several statements. Run here, a batch is polled only when the
/// executor is idle (it has resolved everything it can and did not merely yield
/// to be fair), so every key of the level is in it, and no waiting is needed.
#[derive(Clone, Default)]
pub struct BatchTasks {
    new: Arc<Mutex<Vec<BoxFuture<'static, ()>>>>,
    /// Batches started, for the metrics.
    started: Arc<AtomicUsize>,
}

/// Notes whether the executor woke itself while being polled (a cooperative
/// yield: it has more to do right away).
struct WakeFlag {
    woken: AtomicBool,
    task: Waker,
}

impl ArcWake for WakeFlag {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.woken.store(true, Ordering::SeqCst);
        arc_self.task.wake_by_ref();
    }
}

impl BatchTasks {
    fn push(&self, task: BoxFuture<'static, ()>) {
        let batch = self.started.fetch_add(1, Ordering::Relaxed);
        // A span of its own for each batch, under the request's, when traced.
        let task = if tracing::enabled!(tracing::Level::DEBUG) {
            use tracing::Instrument;
            Box::pin(task.instrument(tracing::debug_span!("loader batch", batch)))
        } else {
            task
        };
        self.new
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(task);
    }

    /// How many batches the request started.
    pub fn started(&self) -> usize {
        self.started.load(Ordering::Relaxed)
    }

    /// Runs `work` (the query) and the batches it starts, until `work` is done.
    pub async fn run<T>(&self, work: impl Future<Output = T>) -> T {
        let mut work = std::pin::pin!(work);
        let mut running = FuturesUnordered::new();
        std::future::poll_fn(|cx| {
            let flag = Arc::new(WakeFlag {
                woken: AtomicBool::new(false),
                task: cx.waker().clone(),
            });
            let waker = futures_util::task::waker(flag.clone());
            if let Poll::Ready(output) = work.as_mut().poll(&mut TaskContext::from_waker(&waker)) {
                return Poll::Ready(output);
            }
            if flag.woken.load(Ordering::SeqCst) {
                return Poll::Pending;
            }
            running.extend(std::mem::take(
                &mut *self.new.lock().unwrap_or_else(PoisonError::into_inner),
            ));
            while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
            Poll::Pending
        })
        .await
    }
}

/// The request's loader. Every load goes through here first, so the projection of
/// the operation is known before any batch runs.
pub fn loader<'a>(ctx: &Context<'a>) -> AppResult<&'a DataLoader<ContentLoader>> {
    let loader = ctx
        .data::<DataLoader<ContentLoader>>()
        .map_err(|e| AppError::Internal(e.message))?;
    let inner = loader.loader();
    inner.projection.get_or_init(|| {
        let registry = &ctx.schema_env.registry;
        inner
            .parsed
            .as_ref()
            .and_then(|parsed| parsed.projection(registry))
            .unwrap_or_else(|| Arc::new(Projection::of(ctx)))
    });
    Ok(loader)
}

impl ContentLoader {
    /// A row of `E` read ahead by an earlier load of this request.
    fn read_ahead<E: Content>(&self, id: i64) -> Option<Arc<E::Model>>
    where
        E::Model: Send + Sync,
    {
        let row = self
            .ahead
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(TypeId::of::<E>(), id))
            .cloned()?;
        row.downcast().ok()
    }

    /// Whether this request's operation is a query that selects `field` on `object`.
    fn reads_ahead(&self, object: &str, field: &str) -> bool {
        self.projection
            .get()
            .is_some_and(|projection| projection.reads_ahead(object, field))
    }

    /// How to read rows of `E` in part, when this request reads no more of them.
    fn light<E: Content>(&self) -> Option<LightRows<E::Model>> {
        E::light().filter(|light| {
            self.projection
                .get()
                .is_some_and(|projection| projection.reads_only(light.object, light.fields))
        })
    }
}

/// How the rows of a table may be read in part: the object type they are served
/// as, the fields of it that read none of their columns but the light ones, and the
/// light columns with their decoder.
pub struct LightRows<M> {
    object: &'static str,
    fields: &'static [&'static str],
    columns: &'static [&'static str],
    decode: fn(&mut Cells<'_>) -> Result<M, DbErr>,
}

impl<M> LightRows<M> {
    /// The light columns of `table`, in the order they decode.
    fn columns<T: Iden + Clone + 'static>(&self, table: T) -> impl Iterator<Item = SimpleExpr> {
        self.columns
            .iter()
            .map(move |column| Expr::col((table.clone(), Alias::new(*column))))
    }
}

/// Reads a row of `M`: its light columns when `light` is given, else all of them.
fn read_row<M: Decode>(light: Option<&LightRows<M>>, cells: &mut Cells<'_>) -> Result<M, DbErr> {
    match light {
        Some(light) => (light.decode)(cells),
        None => M::decode(cells),
    }
}

/// A table of content rows: an `id` primary key and a visibility rule; its rows
/// decode by position.
pub trait Content: EntityTrait<Model: Decode> {
    /// The `id` column.
    fn id_column() -> Self::Column;
    /// The id of a row.
    fn id_of(model: &Self::Model) -> i64;
    /// The rows the viewer may see.
    fn visible(visibility: &Visibility) -> Condition;
    /// How its rows may be read in part; `None` when they are always read whole.
    fn light() -> Option<LightRows<Self::Model>> {
        None
    }
}

/// A table's rows are seen when not deleted; content that hangs off articles
/// (`seen by` a method of [`Visibility`]) only with an article the viewer sees.
macro_rules! content {
    (@visible $table:ident $visibility:ident) => {{
        let _ = $visibility;
        Condition::all().add($table::Column::DeletedAt.is_null())
    }};
    (@visible $table:ident $visibility:ident $seen:ident) => {
        $visibility.$seen()
    };
    ($($table:ident $(seen by $seen:ident)? $(as $object:literal reading only [$($field:literal),+ $(,)?])?),* $(,)?) => {$(
        impl Content for $table::Entity {
            fn id_column() -> Self::Column {
                $table::Column::Id
            }
            fn id_of(model: &Self::Model) -> i64 {
                model.id
            }
            fn visible(visibility: &Visibility) -> Condition {
                content!(@visible $table visibility $($seen)?)
            }
            $(
                fn light() -> Option<LightRows<Self::Model>> {
                    Some(LightRows {
                        object: $object,
                        fields: &[$($field),+],
                        columns: <$table::Model as Light>::COLUMNS,
                        decode: <$table::Model as Light>::decode_light,
                    })
                }
            )?
        }
    )*};
}

// The fields listed read no column of the row but its light ones
// (`entity::decode::Light`); a field left off only makes the rows whole. The test
// `light_rows_serve_what_whole_rows_serve` compares every listed field both ways.
content!(
    person as "Person" reading only ["id", "slug", "name", "positions", "articles", "events",
        "statements"],
    organization as "Organization" reading only ["id", "name", "children", "positions",
        "events", "documents", "articles"],
    position as "Position" reading only ["id", "title", "organization", "person"],
    event as "Event" reading only ["id", "slug", "name", "startsOn", "startsAt", "datePrecision",
        "organizers", "participants", "documents", "awards", "statements", "articles"],
    document,
    media seen by media,
    statement seen by statements,
    tag,
    award,
    commemoration,
    source
);

impl Content for article::Entity {
    fn id_column() -> Self::Column {
        article::Column::Id
    }
    fn id_of(model: &Self::Model) -> i64 {
        model.id
    }
    fn visible(visibility: &Visibility) -> Condition {
        visibility.articles()
    }
}

/// A key that is an id plus the type it is for (Rust's derives would needlessly
/// require the type itself to be `Clone`, `Eq` and `Hash`).
pub struct Key<T> {
    pub id: i64,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    pub fn new(id: i64) -> Self {
        Self {
            id,
            _marker: PhantomData,
        }
    }
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        Self::new(self.id)
    }
}
impl<T> PartialEq for Key<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl<T> Eq for Key<T> {}
impl<T> Hash for Key<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}
impl<T> fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

/// A row by id. Loaded rows are shared (`Arc`), so handing one to every field
/// that asked for it copies a pointer, not the row.
pub struct ById<E>(PhantomData<E>);

/// The rows of a has-many relation.
pub struct Children<F>(PhantomData<F>);

/// The rows of a join-table relation.
pub struct Linked<L>(PhantomData<L>);

impl<E> Loader<Key<ById<E>>> for ContentLoader
where
    E: Content + Sync,
    E::Model: Sync,
{
    type Value = Arc<E::Model>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[Key<ById<E>>],
    ) -> Result<HashMap<Key<ById<E>>, Arc<E::Model>>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.id).collect();
        let backend = self.db.get_database_backend();
        let light = self.light::<E>();
        let shape = Shape::of::<Key<ById<E>>>(self.visibility.viewer, u32::from(light.is_some()));
        let statement =
            self.shapes
                .statement(backend, shape, ids, &self.visibility, |ids, visibility| {
                    let mut select = E::find()
                        .filter(one_of(backend, E::id_column(), ids))
                        .filter(E::visible(visibility));
                    if let Some(light) = &light {
                        select = select.select_only().exprs(light.columns(E::default()));
                    }
                    select.build(backend)
                });
        // Each row is put in its `Arc` as it is decoded: a model is hundreds of
        // bytes, copied at every move, and a pointer is eight.
        let rows = fetch_with(&self.db, statement, |cells| {
            read_row(light.as_ref(), cells).map(Arc::new)
        })
        .await
        .map_err(|e| Arc::new(AppError::from(e)))?;
        self.then(
            self.thens::<E>(|_| true),
            rows.iter().map(|row| E::id_of(row)),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| (Key::new(E::id_of(&row)), row))
            .collect())
    }
}

/// Rows that point at their owner through a foreign key (an organization's
/// children, a person's positions).
pub trait HasMany: Send + Sync + 'static {
    /// The table of the rows.
    type Entity: Content + Sync;
    /// The foreign key column.
    fn foreign_key() -> <Self::Entity as EntityTrait>::Column;
    /// The owner of a row.
    fn owner_of(model: &<Self::Entity as EntityTrait>::Model) -> Option<i64>;
    /// The order of the rows of one owner (a null last).
    fn order() -> Vec<(<Self::Entity as EntityTrait>::Column, Order)>;
    /// The row each row points at that may be read along with it.
    fn along() -> Option<Along<Self::Entity>> {
        None
    }
}

/// A row that each row of a has-many relation points at (a position's
/// organization), read in the same statement when a query shows it (selects
/// `field` on `object`), and kept for the request: its lookup by id ([`by_id`])
/// then finds it, without a batch and a statement of its own. It is read as that
/// lookup would read it (the same visibility; light or whole by the same rule), and
/// only in a query, where nothing changes it before the lookup. A row the join does
/// not find (hidden, or gone) is left to the lookup.
pub struct Along<E: EntityTrait> {
    object: &'static str,
    field: &'static str,
    /// The column of `E` pointing at the row.
    key: E::Column,
    /// Adds the row's columns, as `visibility` shows the row, to a select of `E`.
    join: fn(&ContentLoader, &Visibility, &mut SelectStatement, SimpleExpr),
    /// The reader of those columns.
    read: fn(&ContentLoader) -> ReadAhead,
    /// Whether they are the row's light columns.
    light: fn(&ContentLoader) -> bool,
}

/// Reads the columns a join added: the row, when the join found one.
type ReadAhead = Box<dyn Fn(&mut Cells<'_>) -> Result<Option<Ahead>, DbErr> + Send + Sync>;

/// A row read ahead, with its table and id.
struct Ahead {
    table: TypeId,
    id: i64,
    row: AnyRow,
}

impl<E: EntityTrait> Along<E> {
    /// `key` points at a row of `T`, which `object.field` shows.
    pub fn to<T>(object: &'static str, field: &'static str, key: E::Column) -> Self
    where
        T: Content + Sync,
        T::Model: Send + Sync,
    {
        Self {
            object,
            field,
            key,
            join: join_along::<T>,
            read: read_along::<T>,
            light: |loader| loader.light::<T>().is_some(),
        }
    }
}

/// Left-joins the row of `T` whose id is `key`, if `visibility` shows it; on
/// PostgreSQL as a lateral lookup by key (see the join-table loader for why).
fn join_along<T>(
    loader: &ContentLoader,
    visibility: &Visibility,
    select: &mut SelectStatement,
    key: SimpleExpr,
) where
    T: Content + Sync,
    T::Model: Send + Sync,
{
    let target = T::default();
    let columns = columns_of::<T>(loader.light::<T>().as_ref());
    let found = Expr::col((target, T::id_column())).eq(key);
    let visible = T::visible(visibility);
    if loader.db.get_database_backend() == DatabaseBackend::Postgres {
        let lookup = Query::select()
            .exprs(columns)
            .from(target)
            .and_where(found)
            .cond_where(visible)
            .offset(0)
            .to_owned();
        select.column((Alias::new("along"), Asterisk)).join_lateral(
            JoinType::LeftJoin,
            lookup,
            Alias::new("along"),
            Expr::cust("TRUE"),
        );
    } else {
        select.exprs(columns).join(
            JoinType::LeftJoin,
            target,
            Condition::all().add(found).add(visible),
        );
    }
}

/// Reads the columns [`join_along`] added.
fn read_along<T>(loader: &ContentLoader) -> ReadAhead
where
    T: Content + Sync,
    T::Model: Send + Sync,
{
    let light = loader.light::<T>();
    let width = light.as_ref().map_or_else(
        || <T as EntityTrait>::Column::iter().count(),
        |light| light.columns.len(),
    );
    Box::new(move |cells: &mut Cells<'_>| {
        if cells.next_is_null()? {
            cells.skip(width);
            return Ok(None);
        }
        let row = read_row(light.as_ref(), cells)?;
        Ok(Some(Ahead {
            table: TypeId::of::<T>(),
            id: T::id_of(&row),
            row: Arc::new(row),
        }))
    })
}

/// The columns of `T` to read: the light ones, or all.
fn columns_of<T: Content>(light: Option<&LightRows<T::Model>>) -> Vec<SimpleExpr> {
    let table = T::default();
    match light {
        Some(light) => light.columns(table).collect(),
        None => <T as EntityTrait>::Column::iter()
            .map(|column| Expr::col((table, column)))
            .collect(),
    }
}

/// A relation that a query shows under each row of a table (selects `field` on
/// `object`), read for all the rows of a statement right after it, in the same
/// batch: when a level of the response is resolved, the lookups of its rows'
/// relation find their values ready, where each would otherwise wait for a batch
/// of its own level, through the DataLoader's bookkeeping for every key (a key set
/// and its copy, a channel, a map of results). The statements are the same, one a
/// relation; so are the visibility, the rows' columns (light or whole by the same
/// rule) and the order, for they are read by the relation's own loader. Only in a
/// query, where nothing changes the rows before their lookup. Rows read by a root
/// field go by that field's own selection; rows read by a batch, which answers
/// every field that asked, go like [`Along`] by what the operation selects on the
/// object type, wherever it selects it ([`ContentLoader::thens`]).
struct Then {
    object: &'static str,
    field: &'static str,
    /// Reads the relation of the rows with these ids and keeps it for the request.
    read: ReadAfter,
}

/// Reads a relation of the rows with the ids given and keeps it ([`read_after`]).
type ReadAfter =
    for<'a> fn(&'a ContentLoader, &'a [i64]) -> BoxFuture<'a, Result<(), Arc<AppError>>>;

impl Then {
    /// The relation `L` of the rows, as `object.field` shows it.
    const fn linked<L: Link>(object: &'static str, field: &'static str) -> Self
    where
        <L::Join as EntityTrait>::Model: Sync,
        <L::Target as EntityTrait>::Model: Sync,
    {
        Self {
            object,
            field,
            read: read_after::<Linked<L>>,
        }
    }

    /// The relation `F` of the rows, as `object.field` shows it.
    const fn children<F: HasMany>(object: &'static str, field: &'static str) -> Self
    where
        <F::Entity as EntityTrait>::Model: Sync,
    {
        Self {
            object,
            field,
            read: read_after::<Children<F>>,
        }
    }
}

/// The relations read right after the rows of `table`. They lead from one table to
/// others and never back (article → person → position, article → event →
/// organization), so reading them ends.
fn then_of(table: TypeId) -> &'static [Then] {
    const ARTICLE: &[Then] = &[
        Then::linked::<PeopleOfArticle>("Article", "people"),
        Then::linked::<OrganizationsOfArticle>("Article", "organizations"),
        Then::linked::<EventsOfArticle>("Article", "events"),
    ];
    const PERSON: &[Then] = &[Then::children::<PositionsOfPerson>("Person", "positions")];
    const EVENT: &[Then] = &[Then::linked::<OrganizersOfEvent>("Event", "organizers")];
    if table == TypeId::of::<article::Entity>() {
        ARTICLE
    } else if table == TypeId::of::<person::Entity>() {
        PERSON
    } else if table == TypeId::of::<event::Entity>() {
        EVENT
    } else {
        &[]
    }
}

/// Reads the values of the keys `ids` of `Key<T>` with the loader's own batch
/// function and keeps them, an owner without rows included, for [`ContentLoader::after`].
fn read_after<'a, T>(
    loader: &'a ContentLoader,
    ids: &'a [i64],
) -> BoxFuture<'a, Result<(), Arc<AppError>>>
where
    T: Send + Sync + 'static,
    ContentLoader: Loader<Key<T>, Error = Arc<AppError>, Value: Default>,
{
    Box::pin(async move {
        let keys: Vec<Key<T>> = ids.iter().map(|&id| Key::new(id)).collect();
        let mut values = loader.load(&keys).await?;
        for key in keys {
            values.entry(key).or_default();
        }
        type Values<T> = HashMap<Key<T>, <ContentLoader as Loader<Key<T>>>::Value>;
        let mut after = loader.after.lock().unwrap_or_else(PoisonError::into_inner);
        let known = after
            .entry(TypeId::of::<Key<T>>())
            .or_insert_with(|| Box::new(Values::<T>::new()));
        if let Some(known) = known.downcast_mut::<Values<T>>() {
            if known.is_empty() {
                *known = values;
            } else {
                known.extend(values);
            }
        }
        Ok(())
    })
}

/// The relations to read right after some rows ([`ContentLoader::thens`]).
pub(crate) type Thens = SmallVec<[ReadAfter; 3]>;

impl ContentLoader {
    /// The relations of rows of `E` to read right after them ([`Then`]): those a
    /// query selects on the object type, of which `here` says which the selection
    /// at hand shows. A root field knows its selection exactly
    /// ([`Context::look_ahead`]); the rows of a batch may be shown under any of the
    /// fields that asked for them, and say yes to all.
    pub(crate) fn thens<E: 'static>(&self, here: impl Fn(&str) -> bool) -> Thens {
        then_of(TypeId::of::<E>())
            .iter()
            .filter(|then| self.reads_ahead(then.object, then.field) && here(then.field))
            .map(|then| then.read)
            .collect()
    }

    /// Reads `thens` for the rows with these ids.
    pub(crate) async fn then(
        &self,
        thens: Thens,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<(), Arc<AppError>> {
        if thens.is_empty() {
            return Ok(());
        }
        // A row met twice (a person two articles mention) is read for once.
        let mut ids: Vec<i64> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        for read in thens {
            read(self, &ids).await?;
        }
        Ok(())
    }

    /// What `read` makes of the value of `key`, if it was read right after its
    /// owner ([`Then`]). The value stays: another row may have the same owner.
    fn after<T: 'static, R>(
        &self,
        key: &Key<T>,
        read: impl FnOnce(&<Self as Loader<Key<T>>>::Value) -> R,
    ) -> Option<R>
    where
        Self: Loader<Key<T>>,
    {
        let after = self.after.lock().unwrap_or_else(PoisonError::into_inner);
        after
            .get(&TypeId::of::<Key<T>>())?
            .downcast_ref::<HashMap<Key<T>, <Self as Loader<Key<T>>>::Value>>()?
            .get(key)
            .map(read)
    }
}

impl<F> Loader<Key<Children<F>>> for ContentLoader
where
    F: HasMany,
    <F::Entity as EntityTrait>::Model: Sync,
{
    type Value = Vec<Arc<<F::Entity as EntityTrait>::Model>>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[Key<Children<F>>],
    ) -> Result<HashMap<Key<Children<F>>, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.id).collect();
        let backend = self.db.get_database_backend();
        let light = self.light::<F::Entity>();
        let along = F::along().filter(|along| self.reads_ahead(along.object, along.field));
        // The statement's shape: light rows (1), a row read along (2), light (4).
        let flags = u32::from(light.is_some())
            | along
                .as_ref()
                .map_or(0, |along| 2 | u32::from((along.light)(self)) << 2);
        let shape = Shape::of::<Key<Children<F>>>(self.visibility.viewer, flags);
        let statement =
            self.shapes
                .statement(backend, shape, ids, &self.visibility, |ids, visibility| {
                    let mut select = F::Entity::find()
                        .filter(one_of(backend, F::foreign_key(), ids))
                        .filter(F::Entity::visible(visibility));
                    for (column, order) in F::order() {
                        select = select.order_by_with_nulls(column, order, NullOrdering::Last);
                    }
                    if let Some(light) = &light {
                        select = select
                            .select_only()
                            .exprs(light.columns(F::Entity::default()));
                    }
                    let mut select = select.into_query();
                    if let Some(along) = &along {
                        let key = Expr::col(along.key.as_column_ref());
                        (along.join)(self, visibility, &mut select, key);
                    }
                    backend.build(&select)
                });
        let along = along.map(|along| (along.read)(self));
        let rows = fetch_with(&self.db, statement, |cells| {
            let row = Arc::new(read_row(light.as_ref(), cells)?);
            let ahead = match &along {
                Some(read) => read(cells)?,
                None => None,
            };
            Ok((row, ahead))
        })
        .await
        .map_err(|e| Arc::new(AppError::from(e)))?;
        let ids = rows.iter().map(|(row, _)| F::Entity::id_of(row));
        self.then(self.thens::<F::Entity>(|_| true), ids).await?;
        // Sized for every owner at once: grown key by key, the map of the positions
        // of a front page's 83 people was rehashed six times.
        let mut map: HashMap<Key<Children<F>>, Self::Value> = HashMap::with_capacity(keys.len());
        let mut kept = along.is_some().then(|| {
            let mut kept = self.ahead.lock().unwrap_or_else(PoisonError::into_inner);
            kept.reserve(rows.len());
            kept
        });
        for (row, ahead) in rows {
            if let (Some(kept), Some(ahead)) = (kept.as_mut(), ahead) {
                kept.insert((ahead.table, ahead.id), ahead.row);
            }
            if let Some(owner) = F::owner_of(&row) {
                map.entry(Key::new(owner)).or_default().push(row);
            }
        }
        Ok(map)
    }
}

/// Rows reached through a join table (an article's people, an event's organizers),
/// with the join row, which carries the order and any role.
pub trait Link: Send + Sync + 'static {
    /// The join table.
    type Join: EntityTrait<Model: Decode>;
    /// The table reached.
    type Target: Content + Sync;
    /// The join table's column that holds the owner.
    fn owner() -> <Self::Join as EntityTrait>::Column;
    /// The owner of a join row.
    fn owner_of(model: &<Self::Join as EntityTrait>::Model) -> i64;
    /// The relation from the join table to the target.
    fn relation() -> RelationDef;
    /// The join table's order column.
    fn order() -> <Self::Join as EntityTrait>::Column;
}

/// A join row and the row it points at.
type Pair<L> = (
    Arc<<<L as Link>::Join as EntityTrait>::Model>,
    Arc<<<L as Link>::Target as EntityTrait>::Model>,
);

impl<L> Loader<Key<Linked<L>>> for ContentLoader
where
    L: Link,
    <L::Join as EntityTrait>::Model: Sync,
    <L::Target as EntityTrait>::Model: Sync,
{
    type Value = Vec<(
        Arc<<L::Join as EntityTrait>::Model>,
        Arc<<L::Target as EntityTrait>::Model>,
    )>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[Key<Linked<L>>],
    ) -> Result<HashMap<Key<Linked<L>>, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.id).collect();
        let backend = self.db.get_database_backend();
        let light = self.light::<L::Target>();
        let shape = Shape::of::<Key<Linked<L>>>(self.visibility.viewer, u32::from(light.is_some()));
        let statement =
            self.shapes
                .statement(backend, shape, ids, &self.visibility, |ids, visibility| {
                    self.linked_statement::<L>(backend, light.as_ref(), ids, visibility)
                });
        let rows: Vec<Pair<L>> = fetch_with(&self.db, statement, |cells| {
            Ok((
                Arc::new(Decode::decode(cells)?),
                Arc::new(read_row(light.as_ref(), cells)?),
            ))
        })
        .await
        .map_err(|e| Arc::new(AppError::from(e)))?;
        let ids = rows.iter().map(|(_, target)| L::Target::id_of(target));
        self.then(self.thens::<L::Target>(|_| true), ids).await?;
        let mut map: HashMap<Key<Linked<L>>, Self::Value> = HashMap::with_capacity(keys.len());
        for (join, target) in rows {
            map.entry(Key::new(L::owner_of(&join)))
                .or_default()
                .push((join, target));
        }
        Ok(map)
    }
}

impl ContentLoader {
    /// The statement of a join-table relation: the join rows of the owners `ids`
    /// with the rows they reach that `visibility` shows.
    fn linked_statement<L: Link>(
        &self,
        backend: DatabaseBackend,
        light: Option<&LightRows<<L::Target as EntityTrait>::Model>>,
        ids: Vec<i64>,
        visibility: &Visibility,
    ) -> Statement {
        let target = L::Target::default();
        // The join row's columns, then the target's, decoded side by side.
        let links = L::Join::find()
            .select_only()
            .columns(<L::Join as EntityTrait>::Column::iter())
            .filter(one_of(backend, L::owner(), ids))
            .order_by_asc(L::order());
        let relation = L::relation();
        let target_columns = || columns_of::<L::Target>(light);
        let select = match (backend, &relation.from_col, &relation.to_col) {
            (DatabaseBackend::Postgres, Identity::Unary(key), Identity::Unary(target_id)) => {
                // PostgreSQL's planner, costing random reads as if they came from
                // disk, would hash the whole target table to join a few dozen rows;
                // a lateral lookup (kept apart by `OFFSET 0`) reads each by its key.
                let lookup = Query::select()
                    .exprs(target_columns())
                    .from(target)
                    .and_where(
                        Expr::col((target, target_id.clone()))
                            .equals((L::Join::default(), key.clone())),
                    )
                    .cond_where(L::Target::visible(visibility))
                    .offset(0)
                    .to_owned();
                let mut select = links.into_query();
                select
                    .column((Alias::new("target"), Asterisk))
                    .join_lateral(
                        JoinType::InnerJoin,
                        lookup,
                        Alias::new("target"),
                        Expr::cust("TRUE"),
                    );
                select
            }
            _ => links
                .exprs(target_columns())
                .join(JoinType::InnerJoin, relation)
                .filter(L::Target::visible(visibility))
                .into_query(),
        };
        backend.build(&select)
    }
}

macro_rules! has_many {
    ($(#[$doc:meta])* $name:ident: $table:ident by $fk_column:ident ($fk:ident) order $($col:ident $ord:ident),+
        $(; with $object:literal . $field:literal -> $target:ident by $key:ident)?) => {
        $(#[$doc])*
        pub struct $name;
        impl HasMany for $name {
            type Entity = $table::Entity;
            fn foreign_key() -> $table::Column {
                $table::Column::$fk_column
            }
            fn owner_of(model: &$table::Model) -> Option<i64> {
                Option::<i64>::from(model.$fk)
            }
            fn order() -> Vec<($table::Column, Order)> {
                vec![$(($table::Column::$col, Order::$ord)),+]
            }
            $(
                fn along() -> Option<Along<$table::Entity>> {
                    Some(Along::to::<$target::Entity>($object, $field, $table::Column::$key))
                }
            )?
        }
    };
}

macro_rules! link {
    ($(#[$doc:meta])* $name:ident: $join:ident . $owner_column:ident ($owner:ident) -> $target:ident via $rel:ident) => {
        $(#[$doc])*
        pub struct $name;
        impl Link for $name {
            type Join = $join::Entity;
            type Target = $target::Entity;
            fn owner() -> $join::Column {
                $join::Column::$owner_column
            }
            fn owner_of(model: &$join::Model) -> i64 {
                model.$owner
            }
            fn relation() -> RelationDef {
                $join::Relation::$rel.def()
            }
            fn order() -> $join::Column {
                $join::Column::Ord
            }
        }
    };
}

has_many!(
    /// The positions a person holds, with their organizations; earliest start
    /// first, those with an unknown start last.
    PositionsOfPerson: position by PersonId(person_id) order StartsOn Asc, Id Asc;
        with "Position"."organization" -> organization by OrganizationId
);
has_many!(
    /// The positions in an organization, with the people holding them; earliest
    /// start first, those with an unknown start last.
    PositionsInOrganization: position by OrganizationId(organization_id) order StartsOn Asc, Id Asc;
        with "Position"."person" -> person by PersonId
);
has_many!(
    /// The children of an organization.
    ChildrenOfOrganization: organization by ParentId(parent_id) order SortKey Asc, Id Asc
);
has_many!(
    /// The awards given at an event.
    AwardsAtEvent: award by EventId(event_id) order Id Asc
);
has_many!(
    /// The statements made at an event.
    StatementsAtEvent: statement by EventId(event_id) order Id Asc
);
has_many!(
    /// The statements a person made.
    StatementsOfPerson: statement by PersonId(person_id) order Id Asc
);
has_many!(
    /// The documents an organization issued.
    DocumentsOfIssuer: document by IssuerId(issuer_id) order CodeKey Asc, Id Asc
);
has_many!(
    /// The translations of an article (rows whose `translation_of_id` is it).
    TranslationsOfArticle: article by TranslationOfId(translation_of_id) order Language Asc, Id Asc
);

link!(
    /// The people an article mentions.
    PeopleOfArticle: article_person.ArticleId(article_id) -> person via Person
);
link!(
    /// The organizations an article mentions.
    OrganizationsOfArticle: article_organization.ArticleId(article_id) -> organization via Organization
);
link!(
    /// The events an article reports.
    EventsOfArticle: article_event.ArticleId(article_id) -> event via Event
);
link!(
    /// The documents an article cites.
    DocumentsOfArticle: article_document.ArticleId(article_id) -> document via Document
);
link!(
    /// The media of an article, in order.
    MediaOfArticle: article_media.ArticleId(article_id) -> media via Media
);
link!(
    /// The tags of an article.
    TagsOfArticle: article_tag.ArticleId(article_id) -> tag via Tag
);
link!(
    /// The organizers of an event.
    OrganizersOfEvent: event_organizer.EventId(event_id) -> organization via Organization
);
link!(
    /// The participants of an event, with their roles.
    ParticipantsOfEvent: event_participant.EventId(event_id) -> person via Person
);
link!(
    /// The events a person took part in.
    EventsOfPerson: event_participant.PersonId(person_id) -> event via Event
);
link!(
    /// The documents an event discussed.
    DocumentsOfEvent: event_document.EventId(event_id) -> document via Document
);
link!(
    /// The events that discussed a document.
    EventsOfDocument: event_document.DocumentId(document_id) -> event via Event
);
link!(
    /// The events an organization organized.
    EventsOfOrganizer: event_organizer.OrganizationId(organization_id) -> event via Event
);
link!(
    /// The people a media item depicts.
    PeopleInMedia: media_person.MediaId(media_id) -> person via Person
);

/// The people who received an award.
pub struct PeopleOfAward;
impl Link for PeopleOfAward {
    type Join = award_person::Entity;
    type Target = person::Entity;
    fn owner() -> award_person::Column {
        award_person::Column::AwardId
    }
    fn owner_of(model: &award_person::Model) -> i64 {
        model.award_id
    }
    fn relation() -> RelationDef {
        award_person::Relation::Person.def()
    }
    fn order() -> award_person::Column {
        award_person::Column::PersonId
    }
}

/// The organizations that received an award.
pub struct OrganizationsOfAward;
impl Link for OrganizationsOfAward {
    type Join = award_organization::Entity;
    type Target = organization::Entity;
    fn owner() -> award_organization::Column {
        award_organization::Column::AwardId
    }
    fn owner_of(model: &award_organization::Model) -> i64 {
        model.award_id
    }
    fn relation() -> RelationDef {
        award_organization::Relation::Organization.def()
    }
    fn order() -> award_organization::Column {
        award_organization::Column::OrganizationId
    }
}

/// `column` is one of `ids`.
fn one_of<C: ColumnTrait>(backend: DatabaseBackend, column: C, ids: Vec<i64>) -> SimpleExpr {
    any_of(backend, Expr::col(column.as_column_ref()), ids)
}

/// `expr` is one of `ids`, as one bound value: `= ANY($1)` with an array on
/// PostgreSQL, `IN (SELECT value FROM json_each(?))` with a JSON array on SQLite
/// (both look each id up in the column's index). One statement text however many
/// ids, so it stays prepared: with a placeholder per id, each count of ids was a
/// statement of its own, and every connection kept up to a hundred of them.
pub(crate) fn any_of(backend: DatabaseBackend, expr: Expr, ids: Vec<i64>) -> SimpleExpr {
    match backend {
        DatabaseBackend::Postgres => expr.eq(PgFunc::any(ids)),
        DatabaseBackend::Sqlite => expr.in_subquery(
            Query::select()
                .column(Alias::new("value"))
                .from_function(
                    Func::cust(Alias::new("json_each"))
                        .arg(serde_json::Value::from(ids).to_string()),
                    Alias::new("ids"),
                )
                .take(),
        ),
        _ => expr.is_in(ids),
    }
}

/// Loads one row by id through the request's loader; `None` when it is missing
/// or not visible.
pub async fn by_id<E>(ctx: &Context<'_>, id: i64) -> AppResult<Option<Arc<E::Model>>>
where
    E: Content + Sync,
    E::Model: Sync,
{
    let loader = loader(ctx)?;
    if let Some(row) = loader.loader().read_ahead::<E>(id) {
        return Ok(Some(row));
    }
    Ok(loader.load_one(Key::<ById<E>>::new(id)).await?)
}

/// Loads an optional reference.
pub async fn by_opt_id<E>(ctx: &Context<'_>, id: Option<i64>) -> AppResult<Option<Arc<E::Model>>>
where
    E: Content + Sync,
    E::Model: Sync,
{
    match id {
        Some(id) => by_id::<E>(ctx, id).await,
        None => Ok(None),
    }
}

/// Loads the rows of a has-many relation.
pub async fn children<F>(
    ctx: &Context<'_>,
    owner: i64,
) -> AppResult<Vec<Arc<<F::Entity as EntityTrait>::Model>>>
where
    F: HasMany,
    <F::Entity as EntityTrait>::Model: Sync,
{
    let loader = loader(ctx)?;
    let key = Key::<Children<F>>::new(owner);
    if let Some(rows) = loader.loader().after(&key, Vec::clone) {
        return Ok(rows);
    }
    Ok(loader.load_one(key).await?.unwrap_or_default())
}

/// Loads the rows of a join-table relation, with their join rows.
#[allow(clippy::type_complexity)]
pub async fn linked<L>(
    ctx: &Context<'_>,
    owner: i64,
) -> AppResult<
    Vec<(
        Arc<<L::Join as EntityTrait>::Model>,
        Arc<<L::Target as EntityTrait>::Model>,
    )>,
>
where
    L: Link,
    <L::Join as EntityTrait>::Model: Sync,
    <L::Target as EntityTrait>::Model: Sync,
{
    let loader = loader(ctx)?;
    let key = Key::<Linked<L>>::new(owner);
    if let Some(rows) = loader.loader().after(&key, Vec::clone) {
        return Ok(rows);
    }
    Ok(loader.load_one(key).await?.unwrap_or_default())
}

/// Loads only the targets of a join-table relation.
pub async fn targets<L>(
    ctx: &Context<'_>,
    owner: i64,
) -> AppResult<Vec<Arc<<L::Target as EntityTrait>::Model>>>
where
    L: Link,
    <L::Join as EntityTrait>::Model: Sync,
    <L::Target as EntityTrait>::Model: Sync,
{
    let loader = loader(ctx)?;
    let key = Key::<Linked<L>>::new(owner);
    let read = |rows: &Vec<Pair<L>>| rows.iter().map(|(_, target)| target.clone()).collect();
    if let Some(targets) = loader.loader().after(&key, read) {
        return Ok(targets);
    }
    Ok(loader
        .load_one(key)
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(|(_, target)| target)
        .collect())
}

#[cfg(test)]
mod tests {
    use sea_orm::DatabaseBackend;
    use sea_orm::sea_query::{Expr, Query, SqliteQueryBuilder};

    use super::any_of;

    #[test]
    fn a_list_of_ids_is_one_statement_and_one_value_on_sqlite() {
        let select = |ids: Vec<i64>| {
            Query::select()
                .column(entity::person::Column::Slug)
                .from(entity::person::Entity)
                .and_where(any_of(
                    DatabaseBackend::Sqlite,
                    Expr::col(entity::person::Column::Id),
                    ids,
                ))
                .build(SqliteQueryBuilder)
        };
        let (one, one_values) = select(vec![7]);
        let (three, three_values) = select(vec![7, 8, 9]);
        assert_eq!(one, three);
        assert!(one.contains("json_each(?)"), "{one}");
        assert_eq!(three_values.0.len(), 1);
        assert_eq!(
            three_values.0[0],
            sea_orm::Value::String(Some("[7,8,9]".to_owned()))
        );
        assert_eq!(one_values.0.len(), 1);
    }
}
