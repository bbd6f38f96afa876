//! Decoding rows by position.
//!
//! SeaORM's derived `FromQueryResult` looks every column up by name in every row,
//! and for a NULL in an `Option` field it formats an error message before turning it
//! into `None`. On a front page of a few hundred rows that was a third of the
//! server's time. [`Decode`] reads the columns in the order `Entity::find()` selects
//! them (the order of the model's fields; a test checks each list against the
//! entity's columns), straight from the driver's row, with the same sqlx decoders
//! SeaORM uses, from the rows SeaORM's connection returns.

use sea_orm::sqlx::{self, Postgres, Row, Sqlite};
use sea_orm::{DbErr, QueryResult};

/// A value a column of either database decodes to.
pub trait Cell: Sized {
    /// Reads the next column as this type.
    fn take_from(cells: &mut Cells<'_>) -> Result<Self, DbErr>;
}

/// Values read with the decoders of sqlx.
macro_rules! decoded {
    ($($ty:ty),* $(,)?) => {$(
        impl Cell for $ty {
            fn take_from(cells: &mut Cells<'_>) -> Result<Self, DbErr> {
                cells.decoded()
            }
        }
        impl Cell for Option<$ty> {
            fn take_from(cells: &mut Cells<'_>) -> Result<Self, DbErr> {
                cells.decoded()
            }
        }
    )*};
}

decoded!(bool, chrono::NaiveDate, chrono::DateTime<chrono::Utc>);

/// Integers, read from the row's bytes on PostgreSQL (see [`Cells::integer`]).
macro_rules! integer {
    ($($ty:ty),* $(,)?) => {$(
        impl Cell for $ty {
            fn take_from(cells: &mut Cells<'_>) -> Result<Self, DbErr> {
                let index = cells.next;
                cells
                    .integer()?
                    .ok_or_else(|| column_error(index, "unexpected NULL"))
            }
        }
        impl Cell for Option<$ty> {
            fn take_from(cells: &mut Cells<'_>) -> Result<Self, DbErr> {
                cells.integer()
            }
        }
    )*};
}

integer!(i32, i64);

impl Cell for String {
    fn take_from(cells: &mut Cells<'_>) -> Result<Self, DbErr> {
        let index = cells.next;
        cells
            .text()?
            .ok_or_else(|| column_error(index, "unexpected NULL"))
    }
}

impl Cell for Option<String> {
    fn take_from(cells: &mut Cells<'_>) -> Result<Self, DbErr> {
        cells.text()
    }
}

/// A column that could not be read.
fn column_error(index: usize, error: impl std::fmt::Display) -> DbErr {
    DbErr::Type(format!("column {index}: {error}"))
}

/// A row of a database whose rows are not read here.
fn not_by_position() -> DbErr {
    DbErr::Type("rows of this database are not decoded by position".into())
}

/// The columns of one row, read left to right.
pub struct Cells<'r> {
    row: &'r QueryResult,
    next: usize,
}

impl<'r> Cells<'r> {
    /// Starts at the first column.
    pub fn new(row: &'r QueryResult) -> Self {
        Self { row, next: 0 }
    }

    /// The next column.
    pub fn take<T: Cell>(&mut self) -> Result<T, DbErr> {
        T::take_from(self)
    }

    /// The next column, as text. On PostgreSQL it is checked to be UTF-8 with SIMD
    /// ([`utf8`]): Vietnamese text is about a third non-ASCII, where the standard
    /// library's check (which sqlx's decoder uses) takes its slow path, and that
    /// check was a twentieth of the instructions of a front page.
    fn text(&mut self) -> Result<Option<String>, DbErr> {
        let index = self.next;
        let Some(bytes) = self.binary() else {
            return self.decoded();
        };
        bytes?
            .map(|bytes| utf8(bytes).ok_or_else(|| column_error(index, "invalid UTF-8")))
            .transpose()
    }

    /// The next column, an integer. On PostgreSQL it is read from the row's bytes
    /// (big-endian, as sqlx's decoder reads it), without the copy of the value and
    /// its type that calling the decoder makes: a front page reads some 1,300
    /// integers.
    fn integer<T>(&mut self) -> Result<Option<T>, DbErr>
    where
        T: TryFrom<i64>,
        T::Error: std::fmt::Display,
        Option<T>: for<'a> sqlx::Decode<'a, Postgres>
            + sqlx::Type<Postgres>
            + for<'a> sqlx::Decode<'a, Sqlite>
            + sqlx::Type<Sqlite>,
    {
        let index = self.next;
        let Some(bytes) = self.binary() else {
            return self.decoded();
        };
        bytes?
            .map(|bytes| {
                let integer = big_endian(bytes).ok_or_else(|| {
                    column_error(index, format!("an integer of {} bytes", bytes.len()))
                })?;
                T::try_from(integer).map_err(|e| column_error(index, e))
            })
            .transpose()
    }

    /// The bytes of the next column (`None` for NULL) when the row is PostgreSQL's
    /// in the binary format its statements' rows come in, taking the column; else
    /// `None`, and the column is left to sqlx's decoder ([`Cells::decoded`]).
    /// Inlined into each caller: called, its result (an error in it is large) went
    /// through memory, 2 % more instructions a front page.
    #[inline(always)]
    fn binary(&mut self) -> Option<Result<Option<&'r [u8]>, DbErr>> {
        use sea_orm::sqlx::ValueRef;
        use sea_orm::sqlx::postgres::PgValueFormat;
        let index = self.next;
        let value = match self.row.try_as_pg_row()?.try_get_raw(index) {
            Ok(value) => value,
            Err(e) => return Some(Err(column_error(index, e))),
        };
        if value.format() != PgValueFormat::Binary {
            return None;
        }
        self.next += 1;
        if value.is_null() {
            return Some(Ok(None));
        }
        Some(
            value
                .as_bytes()
                .map(Some)
                .map_err(|e| column_error(index, e)),
        )
    }

    /// The next column, read with the decoder sqlx has for its type.
    fn decoded<T>(&mut self) -> Result<T, DbErr>
    where
        T: for<'a> sqlx::Decode<'a, Postgres>
            + sqlx::Type<Postgres>
            + for<'a> sqlx::Decode<'a, Sqlite>
            + sqlx::Type<Sqlite>,
    {
        let index = self.next;
        self.next += 1;
        let decoded = if let Some(row) = self.row.try_as_pg_row() {
            // Unchecked: the select names the model's own columns, whose types
            // the migrations set, so sqlx's check of each value's type against the
            // field's (a type to clone and compare per value, a quarter of the cost
            // of decoding a row) would only repeat that; the tests read every table
            // of both databases through these decoders.
            row.try_get_unchecked(index)
        } else if let Some(row) = self.row.try_as_sqlite_row() {
            row.try_get(index)
        } else {
            return Err(not_by_position());
        };
        decoded.map_err(|e| column_error(index, e))
    }

    /// Whether the next column is NULL (as every column of a left join's row that
    /// found nothing is).
    pub fn next_is_null(&self) -> Result<bool, DbErr> {
        use sea_orm::sqlx::ValueRef;
        let index = self.next;
        let null = if let Some(row) = self.row.try_as_pg_row() {
            row.try_get_raw(index).map(|value| value.is_null())
        } else if let Some(row) = self.row.try_as_sqlite_row() {
            row.try_get_raw(index).map(|value| value.is_null())
        } else {
            return Err(not_by_position());
        };
        null.map_err(|e| column_error(index, e))
    }

    /// Passes over the next `columns` columns.
    pub fn skip(&mut self, columns: usize) {
        self.next += columns;
    }
}

/// `bytes` as text, when they are UTF-8, checked with SIMD. A text shorter than
/// SIMD's 64-byte step (for which the crate would take the standard library's
/// check) is checked in a copy padded with zeros: the zeros are text, so the copy
/// is UTF-8 exactly when the text is (a character cut short at its end would be
/// followed by a zero, which continues none), and the text ends on a character
/// boundary of it.
fn utf8(bytes: &[u8]) -> Option<String> {
    const STEP: usize = 64;
    if bytes.len() >= STEP {
        return simdutf8::basic::from_utf8(bytes).ok().map(str::to_owned);
    }
    let mut padded = [0_u8; STEP];
    padded[..bytes.len()].copy_from_slice(bytes);
    let text = simdutf8::basic::from_utf8(&padded).ok()?;
    text.get(..bytes.len()).map(str::to_owned)
}

/// A big-endian integer of PostgreSQL's widths (`"char"`, `smallint`, `integer`,
/// `bigint`), sign-extended. (Each width is read as a fixed-size array: copying a
/// slice of variable length would be a call to `memcpy` for every value.)
fn big_endian(bytes: &[u8]) -> Option<i64> {
    Some(match bytes.len() {
        8 => i64::from_be_bytes(bytes.try_into().ok()?),
        4 => i32::from_be_bytes(bytes.try_into().ok()?).into(),
        2 => i16::from_be_bytes(bytes.try_into().ok()?).into(),
        1 => i8::from_be_bytes(bytes.try_into().ok()?).into(),
        _ => return None,
    })
}

/// A value made of the next columns of a row.
pub trait Decode: Sized {
    /// Reads its columns.
    fn decode(cells: &mut Cells<'_>) -> Result<Self, DbErr>;
}

/// A row made of two models side by side (a join row and the row it points at).
impl<A: Decode, B: Decode> Decode for (A, B) {
    fn decode(cells: &mut Cells<'_>) -> Result<Self, DbErr> {
        Ok((A::decode(cells)?, B::decode(cells)?))
    }
}

macro_rules! decode {
    ($($table:ident { $($field:ident),+ $(,)? })*) => {
        $(
            impl Decode for crate::$table::Model {
                fn decode(cells: &mut Cells<'_>) -> Result<Self, DbErr> {
                    // Struct fields are evaluated in the order written: the select's.
                    Ok(Self { $($field: cells.take()?),+ })
                }
            }
        )*

        /// Each decoded table with the field order its decoder reads.
        #[cfg(test)]
        const ORDERS: &[(&str, &[&str], fn() -> Vec<String>)] = &[$(
            (
                stringify!($table),
                &[$(stringify!($field)),+],
                || {
                    use sea_orm::{IdenStatic, Iterable};
                    crate::$table::Column::iter().map(|c| c.as_str().to_owned()).collect()
                },
            )
        ),*];
    };
}

decode! {
    article { id, slug, title, summary, body, language, status, published_at, source_id,
        canonical_url, translation_of_id, external_id, version, created_at, updated_at, deleted_at }
    article_document { article_id, document_id, ord }
    article_event { article_id, event_id, ord }
    article_media { article_id, media_id, ord, after_paragraph }
    article_organization { article_id, organization_id, ord }
    article_person { article_id, person_id, ord }
    article_tag { article_id, tag_id, ord }
    award { id, name, names, event_id, awarded_by_id, reason, period, collective_count,
        individual_count, external_id, version, created_at, updated_at, deleted_at }
    award_organization { award_id, organization_id }
    award_person { award_id, person_id }
    commemoration { id, name, names, base_date, date_precision, note, month_day,
        organization_id, event_id, external_id, version, created_at, updated_at, deleted_at }
    document { id, code, code_key, title, titles, kind, issuer_id, term, issued_on, summary,
        external_id, version, created_at, updated_at, deleted_at }
    event { id, slug, name, names, starts_on, starts_at, date_precision, year_inferred,
        date_note, ends_on, location, attendance, attendance_note, description, external_id,
        version, created_at, updated_at, deleted_at }
    event_document { event_id, document_id, ord }
    event_organizer { event_id, organization_id, ord }
    event_participant { event_id, person_id, role, ord }
    media { id, url, caption, credit, width, height, external_id, version, created_at,
        updated_at, deleted_at }
    media_person { media_id, person_id, ord }
    organization { id, slug, name, sort_key, short_name, kind, founded_on, parent_id, website,
        description, names, external_id, version, created_at, updated_at, deleted_at }
    person { id, slug, full_name, family_name, middle_name, given_name, sort_key, names, bio,
        birth_date, external_id, version, created_at, updated_at, deleted_at }
    position { id, person_id, organization_id, title, titles, starts_on, start_precision,
        ends_on, end_precision, note, external_id, version, created_at, updated_at, deleted_at }
    source { id, name, url, organization_id, external_id, version, created_at, updated_at,
        deleted_at }
    statement { id, person_id, event_id, article_id, kind, text, external_id, version,
        created_at, updated_at, deleted_at }
    tag { id, slug, name, names, external_id, version, created_at, updated_at, deleted_at }
}

/// A model read from a few of its columns, its other fields left at their
/// defaults: a list of names (a front page's people and organizations) needs
/// neither the long texts of a row nor its bookkeeping, and decoding those was most
/// of the cost of reading it. Only a reader that knows it touches no other field
/// may ask for one (see `bantin::graphql::projection`).
pub trait Light: Decode + Default {
    /// The columns read, in the order read.
    const COLUMNS: &'static [&'static str];
    /// Reads them.
    fn decode_light(cells: &mut Cells<'_>) -> Result<Self, DbErr>;
}

macro_rules! light {
    ($($table:ident { $($field:ident),+ $(,)? })*) => {
        $(
            impl Light for crate::$table::Model {
                const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];
                fn decode_light(cells: &mut Cells<'_>) -> Result<Self, DbErr> {
                    Ok(Self { $($field: cells.take()?,)+ ..Default::default() })
                }
            }
        )*

        /// Each table with light rows and their columns.
        #[cfg(test)]
        const LIGHT: &[(&str, &[&str], fn() -> Vec<String>)] = &[$(
            (
                stringify!($table),
                <crate::$table::Model as Light>::COLUMNS,
                || {
                    use sea_orm::{IdenStatic, Iterable};
                    crate::$table::Column::iter().map(|c| c.as_str().to_owned()).collect()
                },
            )
        ),*];
    };
}

// A has-many relation groups its rows by the column that points at their owner,
// so that column is light too (`organization.parent_id`, for `children`).
light! {
    event { id, slug, name, starts_on, starts_at, date_precision }
    organization { id, name, parent_id }
    person { id, slug, full_name }
    position { id, person_id, organization_id, title }
}

#[cfg(test)]
mod tests {
    use super::{big_endian, utf8};

    /// Short and long texts are checked alike: valid ones come back whole, a
    /// character cut short or a stray byte is refused, wherever it falls.
    #[test]
    fn texts_are_checked_as_utf8_at_every_length() {
        let name = "Nguyễn Thị Minh Khai – Ủy ban nhân dân Thành phố Hồ Chí Minh";
        for end in (0..=name.len()).filter(|end| name.is_char_boundary(*end)) {
            assert_eq!(utf8(&name.as_bytes()[..end]).as_deref(), Some(&name[..end]));
        }
        for end in (1..name.len()).filter(|end| !name.is_char_boundary(*end)) {
            assert_eq!(utf8(&name.as_bytes()[..end]), None, "cut at {end}");
        }
        for length in [1, 40, 63, 64, 65, 200] {
            let mut bytes = "ê".repeat(length).into_bytes();
            assert_eq!(utf8(&bytes).map(|t| t.len()), Some(bytes.len()));
            bytes[length / 2] = 0xff;
            assert_eq!(utf8(&bytes), None, "stray byte in {length}");
        }
        assert_eq!(utf8(b"\0a\0").as_deref(), Some("\0a\0"));
    }

    /// PostgreSQL's integers of 1, 2, 4 and 8 bytes, negative ones sign-extended;
    /// other lengths are not an integer.
    #[test]
    fn integers_are_read_big_endian_at_every_width() {
        assert_eq!(big_endian(&(-3_i8).to_be_bytes()), Some(-3));
        assert_eq!(big_endian(&7_i16.to_be_bytes()), Some(7));
        assert_eq!(big_endian(&[0, 1, 0]), None);
        assert_eq!(big_endian(&(-2_i32).to_be_bytes()), Some(-2));
        assert_eq!(big_endian(&i64::MIN.to_be_bytes()), Some(i64::MIN));
        assert_eq!(big_endian(&173_748_i64.to_be_bytes()), Some(173_748));
        assert_eq!(big_endian(&[]), None);
        assert_eq!(big_endian(&[0; 9]), None);
    }

    /// A light row's columns are columns of its table, the id first.
    #[test]
    fn light_rows_read_columns_of_their_table() {
        for (table, light, columns) in super::LIGHT {
            let columns = columns();
            assert_eq!(light.first(), Some(&"id"), "{table}");
            for column in *light {
                assert!(columns.iter().any(|c| c == column), "{table}.{column}");
            }
        }
    }

    /// `Entity::find()` selects the columns in the entity's column order; each
    /// decoder must read them in that order.
    #[test]
    fn decoders_read_the_columns_in_select_order() {
        for (table, fields, columns) in super::ORDERS {
            assert_eq!(&columns(), fields, "decode order of {table}");
        }
    }
}
