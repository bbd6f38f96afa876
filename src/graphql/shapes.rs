//! The loaders' statements, built once per shape.
//!
//! Building a loader's statement with SeaORM and rendering it to SQL took about a
//! fifth of an article page's instructions, for SQL that is the same at every
//! request: on PostgreSQL the keys of a batch are one array parameter, and what
//! changes from one request to the next are values (the keys, a slug, the time
//! visibility is judged at). So a statement is built once for each shape (the
//! statement's kind and everything else its text depends on, which the caller
//! names), with stand-ins for those values, and kept as its SQL and its values,
//! the stand-ins marking where a request's own go.
//!
//! On SQLite a batch's keys are a list of parameters, one each, so the text
//! changes with their number; its statements are built every time.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{ArrayType, Value, Values};
use sea_orm::{DatabaseBackend, Statement};

use crate::domain::visibility::{Viewer, Visibility};

/// Statements by shape, for the life of the server (a few dozen kinds of
/// statement, each in a few shapes).
#[derive(Default)]
pub struct Shapes {
    kept: Mutex<HashMap<Shape, Arc<Template>, foldhash::fast::RandomState>>,
}

/// What a statement's text depends on: its kind (a type naming it), the viewer
/// (whose visibility rule it applies), and `flags`, the choices its kind makes
/// (light rows or whole, a row read along or not, ...).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    kind: TypeId,
    viewer: Viewer,
    flags: u32,
}

impl Shape {
    /// The shape of a statement of kind `K`, for `viewer`, with `flags`.
    pub fn of<K: 'static>(viewer: Viewer, flags: u32) -> Self {
        Self {
            kind: TypeId::of::<K>(),
            viewer,
            flags,
        }
    }
}

/// The value a statement is built for, apart from fixed ones and the time: the
/// keys of a batch (one array on PostgreSQL), or a text (a slug).
pub trait Arg: Sized {
    /// A stand-in no request has.
    fn stand_in() -> Self;
    /// Whether `value` is the stand-in.
    fn is_stand_in(value: &Value) -> bool;
    /// This, as a value in the place of `stand_in`.
    fn into_value(self, stand_in: &Value) -> Value;
}

/// A key far below any id.
const STAND_IN_KEY: i64 = i64::MIN + 0x5EA;

impl Arg for Vec<i64> {
    fn stand_in() -> Self {
        vec![STAND_IN_KEY]
    }

    fn is_stand_in(value: &Value) -> bool {
        matches!(value, Value::Array(_, Some(items))
            if items.as_slice() == [Value::BigInt(Some(STAND_IN_KEY))])
    }

    fn into_value(self, stand_in: &Value) -> Value {
        let ty = match stand_in {
            Value::Array(ty, _) => ty.clone(),
            _ => ArrayType::BigInt,
        };
        let items = self.into_iter().map(|key| Value::BigInt(Some(key)));
        Value::Array(ty, Some(Box::new(items.collect())))
    }
}

/// A text no slug is.
const STAND_IN_TEXT: &str = "\u{1}bantin stand-in\u{1}";

impl Arg for String {
    fn stand_in() -> Self {
        STAND_IN_TEXT.to_owned()
    }

    fn is_stand_in(value: &Value) -> bool {
        matches!(value, Value::String(Some(text)) if text == STAND_IN_TEXT)
    }

    fn into_value(self, _: &Value) -> Value {
        Value::String(Some(self))
    }
}

/// A time long before any content.
fn stand_in_now() -> DateTime<Utc> {
    DateTime::from_timestamp(-2_208_988_793, 123_457_000).unwrap_or_default()
}

/// A statement's SQL and its values, where a request's own go marked.
struct Template {
    sql: String,
    values: Vec<Slot>,
}

enum Slot {
    Fixed(Value),
    /// The argument's place, with its stand-in.
    Arg(Value),
    Now,
}

impl Shapes {
    /// The statement of `shape` for `arg` at `visibility`. `build` makes it from
    /// the argument and visibility it is given: the first time, from stand-ins.
    pub fn statement<A: Arg>(
        &self,
        backend: DatabaseBackend,
        shape: Shape,
        arg: A,
        visibility: &Visibility,
        build: impl Fn(A, &Visibility) -> Statement,
    ) -> Statement {
        if backend != DatabaseBackend::Postgres {
            return build(arg, visibility);
        }
        let kept = self.lock().get(&shape).cloned();
        let template = match kept {
            Some(template) => template,
            None => {
                let stand_ins = Visibility {
                    now: stand_in_now(),
                    viewer: visibility.viewer,
                };
                let Some(template) = Template::of::<A>(build(A::stand_in(), &stand_ins)) else {
                    // The argument has no one place in the statement: built every time.
                    return build(arg, visibility);
                };
                let template = Arc::new(template);
                self.lock().insert(shape, template.clone());
                template
            }
        };
        template.fill(arg, visibility.now)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Shape, Arc<Template>, foldhash::fast::RandomState>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Template {
    /// The template of a statement built from stand-ins: `None` unless the
    /// argument's stand-in is in it exactly once.
    fn of<A: Arg>(statement: Statement) -> Option<Self> {
        let now = stand_in_now();
        let values: Vec<Slot> = statement
            .values
            .map(|values| values.0)
            .unwrap_or_default()
            .into_iter()
            .map(|value| match value {
                value if A::is_stand_in(&value) => Slot::Arg(value),
                Value::ChronoDateTimeUtc(Some(time)) if time == now => Slot::Now,
                value => Slot::Fixed(value),
            })
            .collect();
        let places = values
            .iter()
            .filter(|slot| matches!(slot, Slot::Arg(_)))
            .count();
        (places == 1).then_some(Self {
            sql: statement.sql,
            values,
        })
    }

    /// The statement for `arg` at `now`.
    fn fill<A: Arg>(&self, arg: A, now: DateTime<Utc>) -> Statement {
        let mut arg = Some(arg);
        let values = self
            .values
            .iter()
            .map(|slot| match slot {
                Slot::Fixed(value) => value.clone(),
                Slot::Arg(stand_in) => match arg.take() {
                    Some(arg) => arg.into_value(stand_in),
                    None => stand_in.clone(),
                },
                Slot::Now => Value::ChronoDateTimeUtc(Some(now)),
            })
            .collect();
        Statement {
            sql: self.sql.clone(),
            values: Some(Values(values)),
            db_backend: DatabaseBackend::Postgres,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn visibility(viewer: Viewer, seconds: i64) -> Visibility {
        Visibility {
            now: DateTime::from_timestamp(seconds, 0).unwrap_or_default(),
            viewer,
        }
    }

    /// A statement with the keys, the time and a fixed value, as a loader's is.
    fn build(keys: Vec<i64>, visibility: &Visibility) -> Statement {
        Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT id FROM article WHERE id = ANY($1) AND published_at <= $2 AND status = $3",
            [
                Value::from(keys),
                Value::from(visibility.now),
                Value::from("published"),
            ],
        )
    }

    #[test]
    fn a_shape_is_built_once_and_filled_with_each_requests_values() {
        let shapes = Shapes::default();
        let built = Cell::new(0);
        let counted = |keys: Vec<i64>, visibility: &Visibility| {
            built.set(built.get() + 1);
            build(keys, visibility)
        };
        let shape = Shape::of::<()>(Viewer::Reader, 0);
        let backend = DatabaseBackend::Postgres;
        for (keys, seconds) in [(vec![1, 2, 3], 1_000), (vec![7], 2_000), (vec![], 3_000)] {
            let at = visibility(Viewer::Reader, seconds);
            let statement = shapes.statement(backend, shape, keys.clone(), &at, counted);
            assert_eq!(statement, build(keys, &at));
        }
        assert_eq!(built.get(), 1);
        // Another viewer, other flags: other shapes.
        let at = visibility(Viewer::Editor, 1_000);
        shapes.statement(
            backend,
            Shape::of::<()>(Viewer::Editor, 0),
            vec![1],
            &at,
            counted,
        );
        shapes.statement(
            backend,
            Shape::of::<()>(Viewer::Reader, 1),
            vec![1],
            &at,
            counted,
        );
        assert_eq!(built.get(), 3);
    }

    #[test]
    fn texts_take_their_place_too() {
        let shapes = Shapes::default();
        let build = |slug: String, visibility: &Visibility| {
            Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT id FROM article WHERE slug = $1 AND published_at <= $2 LIMIT $3",
                [
                    Value::from(slug),
                    Value::from(visibility.now),
                    Value::from(1_u64),
                ],
            )
        };
        let shape = Shape::of::<String>(Viewer::Reader, 0);
        for (slug, seconds) in [("mot", 10), ("hai", 20)] {
            let at = visibility(Viewer::Reader, seconds);
            let statement = shapes.statement(
                DatabaseBackend::Postgres,
                shape,
                slug.to_owned(),
                &at,
                build,
            );
            assert_eq!(statement, build(slug.to_owned(), &at));
        }
    }

    #[test]
    fn statements_whose_text_depends_on_the_values_are_built_every_time() {
        let shapes = Shapes::default();
        let built = Cell::new(0);
        let at = visibility(Viewer::Reader, 1_000);
        // SQLite: one parameter per key.
        let counted = |keys: Vec<i64>, visibility: &Visibility| {
            built.set(built.get() + 1);
            build(keys, visibility)
        };
        let shape = Shape::of::<()>(Viewer::Reader, 0);
        for _ in 0..2 {
            shapes.statement(DatabaseBackend::Sqlite, shape, vec![1, 2], &at, counted);
        }
        assert_eq!(built.get(), 2);
        // Keys with no one place in the statement: not kept.
        let twice = |keys: Vec<i64>, _: &Visibility| {
            built.set(built.get() + 1);
            Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT $1, $2",
                [Value::from(keys.clone()), Value::from(keys)],
            )
        };
        for keys in [vec![1], vec![2]] {
            let statement =
                shapes.statement(DatabaseBackend::Postgres, shape, keys.clone(), &at, twice);
            assert_eq!(statement.values, twice(keys, &at).values);
        }
        assert_eq!(built.get(), 2 + 2 * 2 + 2);
    }
}
