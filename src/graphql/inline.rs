//! Resolving an object's fields in place.
//!
//! async-graphql resolves the fields of an object as a set of futures run
//! together: a boxed future and a task of a `FuturesUnordered` for every field,
//! and the set itself for every object. Most fields of a content object are ready
//! the moment they are polled (a title, a slug: a value the row already holds), so
//! [`Inline`] polls each field's future once as it is made and keeps only those
//! that wait (a relation, waiting on its batched load) to run together. The
//! response is the same: each field's value goes into the object under its
//! response key, merged with an earlier one of the same key as async-graphql
//! merges them, and a field's error is reported the same way.
//!
//! The objects that come in numbers use it: the nodes of every connection and
//! the objects of the relations of content (an article's people, a person's
//! positions, a position's organization, ...). The lists of those relations are
//! resolved in place the same way ([`InlineList`]): the fields of all its items
//! are made and polled in one go, and an item that is ready is not made into a
//! future joined with all the others. A future needs a heap place of its own only
//! while it waits: one that was ready leaves its place to the next field, of the
//! same object or of the next item ([`Spare`]), so the fields of a list of ready
//! objects cost one allocation for their futures, not one an object or a field.
//! The few futures that do wait are run together by polling each again when the
//! request's task wakes ([`each_done`]), kept in a vector with room for two in
//! place: no set and no task per future to allocate.
//!
//! A selection that is not a plain list of fields (a fragment, a directive) goes
//! the usual way. So would every selection under a schema extension, which wraps
//! the resolution of each field; the schema valid documents run on installs none,
//! and the one extension of the other only ends checks before execution (see
//! [`crate::graphql::schema`]).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use async_graphql::indexmap::IndexMap;
use async_graphql::indexmap::map::Entry;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};
use smallvec::SmallVec;

/// Found in a schema's or a request's data: resolve every object the stock way.
/// A schema with an extension installed has it (an extension wraps the resolution
/// of each field, which resolution in place would skip), and so does a request run
/// on the stock executor ([`crate::app::AppState::stock`]).
pub struct Stock;

/// An object whose fields are resolved in place; in the schema it is `T`.
pub struct Inline<T>(pub T);

impl<T: ContainerType> OutputType for Inline<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve(ctx, &self.0).await
    }
}

type FieldFuture<'a> = Pin<Box<dyn Future<Output = ServerResult<(Name, Value)>> + Send + 'a>>;

/// A field's value put into `object`, or its error reported.
fn done(
    ctx: &ContextSelectionSet<'_>,
    object: &mut IndexMap<Name, Value>,
    result: ServerResult<(Name, Value)>,
) {
    match result {
        Ok((name, value)) => insert(object, name, value),
        Err(error) => ctx.add_error(error),
    }
}

/// One heap place for futures of one type, used again: a future that was ready
/// when first polled is done with its place, and the next one goes there instead
/// of into a new allocation. Only a future that waits keeps its place.
struct Spare<F>(Option<Pin<Box<F>>>);

impl<F> Default for Spare<F> {
    fn default() -> Self {
        Self(None)
    }
}

impl<F: Future> Spare<F> {
    /// `future`, pinned in the spare place if there is one.
    fn hold(&mut self, future: F) -> Pin<Box<F>> {
        match self.0.take() {
            Some(mut place) => {
                place.set(future);
                place
            }
            None => Box::pin(future),
        }
    }

    /// Keeps the place of a future that is done, for the next one.
    fn keep(&mut self, place: Pin<Box<F>>) {
        self.0 = Some(place);
    }
}

/// Whether the selection of `ctx` is a plain list of fields: no fragment and no
/// directive, which go the usual way, as does everything under [`Stock`].
fn plain(ctx: &ContextSelectionSet<'_>) -> bool {
    ctx.data_opt::<Stock>().is_none()
        && ctx
            .item
            .node
            .items
            .iter()
            .all(|selection| match &selection.node {
                Selection::Field(field) => field.node.directives.is_empty(),
                _ => false,
            })
}

/// The object's value: `null` when no field made it in.
fn object_value(object: IndexMap<Name, Value>) -> Value {
    if object.is_empty() {
        Value::Null
    } else {
        Value::Object(object)
    }
}

/// The future of the field `field` of `root`, resolved as async-graphql resolves it.
async fn field_future<'a, T: ContainerType>(
    ctx: ContextSelectionSet<'a>,
    field: &'a Positioned<Field>,
    root: &'a T,
) -> ServerResult<(Name, Value)> {
    let ctx_field = ctx.with_field(field);
    let name = field.node.response_key().node.clone();
    let value = root.resolve_field(&ctx_field).await?.unwrap_or_default();
    Ok((name, value))
}

/// The fields of `root` selected in the plain selection of `ctx`, each made and
/// polled once in the place `spare` holds, all in one go: the object with the
/// fields that were ready, and the futures of those that wait. `make` is
/// [`field_future`], which names the type of the futures `spare` holds: a concrete
/// type, which must not be part of any future's own state (an object's fields
/// resolve objects in turn, and the type would contain itself), so `spare` lives
/// only within one poll; a waiting future is kept as a `dyn` one.
fn ready_fields<'a, T, F>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
    cx: &mut std::task::Context<'_>,
    spare: &mut Spare<F>,
    make: fn(ContextSelectionSet<'a>, &'a Positioned<Field>, &'a T) -> F,
) -> (IndexMap<Name, Value>, SmallVec<[FieldFuture<'a>; 2]>)
where
    T: ContainerType,
    F: Future<Output = ServerResult<(Name, Value)>> + Send + 'a,
{
    let items = &ctx.item.node.items;
    let mut object = IndexMap::with_capacity(items.len());
    let mut waiting: SmallVec<[FieldFuture<'a>; 2]> = SmallVec::new();
    for selection in items {
        let Selection::Field(field) = &selection.node else {
            continue;
        };
        if field.node.name.node == "__typename" {
            let name = field.node.response_key().node.clone();
            let value = Value::String(root.introspection_type_name().into_owned());
            done(ctx, &mut object, Ok((name, value)));
            continue;
        }
        let mut future = spare.hold(make(ctx.clone(), field, root));
        match future.as_mut().poll(cx) {
            Poll::Ready(result) => {
                done(ctx, &mut object, result);
                spare.keep(future);
            }
            Poll::Pending => waiting.push(future),
        }
    }
    (object, waiting)
}

/// The fields of `root` selected in `ctx`, as an object.
async fn resolve<'a, T: ContainerType>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
) -> ServerResult<Value> {
    if !plain(ctx) {
        return resolve_container(ctx, root).await;
    }
    let (mut object, waiting) = std::future::poll_fn(|cx| {
        let mut spare = Spare::default();
        Poll::Ready(ready_fields(ctx, root, cx, &mut spare, field_future::<T>))
    })
    .await;
    let Ok(()) = each_done(waiting, |result| {
        done(ctx, &mut object, result);
        Ok::<_, std::convert::Infallible>(())
    })
    .await;
    Ok(object_value(object))
}

/// A list of objects resolved in place: the fields of every item are made and
/// polled in one go, in one heap place used again from item to item, and only the
/// items with a field that waits run together, where async-graphql would make a
/// future of every item and join them all. In the schema it is `[T!]!`.
pub struct InlineList<T>(pub Vec<T>);

impl<T> FromIterator<T> for InlineList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Self(items.into_iter().collect())
    }
}

type ItemFuture<'a> = Pin<Box<dyn Future<Output = (usize, Value)> + Send + 'a>>;

impl<T: ContainerType> OutputType for InlineList<T> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("[{}]", T::qualified_type_name()))
    }

    fn qualified_type_name() -> String {
        format!("{}!", Self::type_name())
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry);
        Self::qualified_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if !plain(ctx) {
            let items = self.0.iter().enumerate().map(|(index, item)| async move {
                let ctx = ctx.with_index(index);
                resolve_container(&ctx, item)
                    .await
                    .map_err(|error| ctx.set_error_path(error))
            });
            return Ok(Value::List(
                futures_util::future::try_join_all(items).await?,
            ));
        }
        let mut values = Vec::with_capacity(self.0.len());
        let mut waiting: SmallVec<[ItemFuture<'_>; 2]> = SmallVec::new();
        std::future::poll_fn(|cx| {
            let mut spare = Spare::default();
            for (index, item) in self.0.iter().enumerate() {
                let ctx = ctx.with_index(index);
                let (object, fields) = ready_fields(&ctx, item, cx, &mut spare, field_future::<T>);
                if fields.is_empty() {
                    values.push(object_value(object));
                    continue;
                }
                values.push(Value::Null);
                waiting.push(Box::pin(async move {
                    let mut object = object;
                    let Ok(()) = each_done(fields, |result| {
                        done(&ctx, &mut object, result);
                        Ok::<_, std::convert::Infallible>(())
                    })
                    .await;
                    (index, object_value(object))
                }));
            }
            Poll::Ready(())
        })
        .await;
        let Ok(()) = each_done(waiting, |(index, value)| {
            if let Some(slot) = values.get_mut(index) {
                *slot = value;
            }
            Ok::<_, std::convert::Infallible>(())
        })
        .await;
        Ok(Value::List(values))
    }
}

/// Runs `futures` together, handing each output to `done` as it comes, until
/// all are done or `done` fails. Every future not yet done is polled again each
/// time the task is woken. The futures here wait on the DataLoader's batches,
/// which answer all the keys of a level at once, so a poll finds most of them
/// ready; a `FuturesUnordered`, which polls only the woken, allocates the set and
/// a task for every future (two of the three allocations a waiting field cost).
async fn each_done<F: Future + Unpin, E>(
    mut futures: SmallVec<[F; 2]>,
    mut done: impl FnMut(F::Output) -> Result<(), E>,
) -> Result<(), E> {
    std::future::poll_fn(|cx| {
        let mut index = 0;
        while let Some(future) = futures.get_mut(index) {
            match Pin::new(future).poll(cx) {
                Poll::Ready(output) => {
                    futures.swap_remove(index);
                    done(output)?;
                }
                Poll::Pending => index += 1,
            }
        }
        if futures.is_empty() {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Puts `value` under `name`, merging it into an object or list already there (a
/// field selected twice under one key), as async-graphql does.
fn insert(target: &mut IndexMap<Name, Value>, name: Name, value: Value) {
    let into = match target.entry(name) {
        Entry::Vacant(vacant) => {
            vacant.insert(value);
            return;
        }
        Entry::Occupied(occupied) => occupied.into_mut(),
    };
    merge(into, value);
}

/// Merges `value` into `into`: the fields of objects, item by item in lists. An
/// object whose fields were all skipped is `null`, and gives way to the same
/// object with fields from the other selection, whichever finished first.
fn merge(into: &mut Value, value: Value) {
    match (into, value) {
        (into @ Value::Null, value) => *into = value,
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                insert(into, key, value);
            }
        }
        (Value::List(into), Value::List(from)) => {
            for (item, value) in into.iter_mut().zip(from) {
                if let Value::Object(_) | Value::Null = item {
                    merge(item, value);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::future::{Future, ready};
    use std::task::{Context, Poll, Waker};

    use smallvec::SmallVec;

    use super::{Spare, each_done};

    /// The place of a future that was ready is the next one's; a waiting one
    /// keeps its own, and the one after it gets a new place.
    #[test]
    fn a_ready_future_leaves_its_place_to_the_next() {
        let mut cx = Context::from_waker(Waker::noop());
        let make = |value: u32| async move {
            if value == 2 {
                std::future::pending::<()>().await;
            }
            ready(value).await
        };
        let mut spare = Spare::default();

        let mut first = spare.hold(make(1));
        assert_eq!(first.as_mut().poll(&mut cx), Poll::Ready(1));
        let place = std::ptr::from_ref(&*first);
        spare.keep(first);

        let mut second = spare.hold(make(2));
        assert_eq!(std::ptr::from_ref(&*second), place);
        assert_eq!(second.as_mut().poll(&mut cx), Poll::Pending);

        let mut third = spare.hold(make(3));
        assert_ne!(std::ptr::from_ref(&*third), place);
        assert_eq!(third.as_mut().poll(&mut cx), Poll::Ready(3));
        assert_eq!(second.as_mut().poll(&mut cx), Poll::Pending);
    }

    /// Futures run together are each handed on as they finish, whatever their
    /// order; the first that `done` refuses ends the run.
    #[tokio::test]
    async fn futures_run_together_are_each_done_in_turn() {
        let make = |turns: u32| {
            Box::pin(async move {
                for _ in 0..turns {
                    tokio::task::yield_now().await;
                }
                turns
            })
        };
        let futures: SmallVec<[_; 2]> = [3, 0, 2, 1].map(make).into_iter().collect();
        let mut seen = Vec::new();
        let Ok(()) = each_done(futures, |turns| {
            seen.push(turns);
            Ok::<_, std::convert::Infallible>(())
        })
        .await;
        assert_eq!(seen, [0, 1, 2, 3]);

        let futures: SmallVec<[_; 2]> = [3, 0, 2, 1].map(make).into_iter().collect();
        let mut seen = Vec::new();
        let result = each_done(futures, |turns| {
            if turns == 2 {
                return Err("two");
            }
            seen.push(turns);
            Ok(())
        })
        .await;
        assert_eq!((result, seen), (Err("two"), vec![0, 1]));
    }
}
