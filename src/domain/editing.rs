//! Writes: validation that names the field, optimistic concurrency on `version`,
//! a revision for every earlier state, soft deletion and restoring, slugs, links.
//!
//! Every function here runs inside the caller's transaction ([`Writer::txn`]), so a
//! mutation that fails halfway leaves nothing behind: the transaction is dropped and
//! rolled back. Nothing here knows about GraphQL.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait, Value,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use entity::{
    article, award, commemoration, document, event, media, organization, person, position,
    revision, statement, tag,
};

use crate::auth::{Actor, Role};
use crate::text;

/// Why a field was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// A required value is missing or empty.
    Required,
    /// Longer than allowed.
    TooLong,
    /// Not in the expected form (slug, language tag, URL, ID).
    InvalidFormat,
    /// Unique, and another record has it.
    Taken,
    /// Refers to a record that does not exist (or is deleted).
    NotFound,
    /// A range that ends before it starts, or a number out of range.
    InvalidRange,
    /// Not allowed in the record's current state (publishing an archived draft twice…).
    InvalidState,
    /// The record changed since the version the edit was based on.
    VersionConflict,
}

/// One refused field: what the client shows next to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserError {
    /// The input field, as the client spelled it (`title`, `endsOn`, `id`…).
    pub field: Option<String>,
    /// A sentence for a person.
    pub message: String,
    /// A stable code for a program.
    pub code: ErrorCode,
}

/// Why a write did not happen. Nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The input was refused; the errors name the fields.
    #[error("the input was refused")]
    Rejected(Vec<UserError>),
    /// The record is at another version than the edit was based on.
    #[error("{entity} {id} is at version {current}, not {expected}")]
    Conflict {
        entity: &'static str,
        id: i64,
        expected: i32,
        current: i32,
    },
    /// The actor's role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl WriteError {
    /// One refused field.
    pub fn field(field: &str, code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Rejected(vec![UserError {
            field: Some(field.to_owned()),
            message: message.into(),
            code,
        }])
    }

    /// The record `field` points at does not exist.
    pub fn not_found(field: &str, what: &str) -> Self {
        Self::field(field, ErrorCode::NotFound, format!("no such {what}"))
    }
}

/// The result of a write.
pub type WriteResult<T> = Result<T, WriteError>;

/// A write in progress: the transaction, who writes, and when.
pub struct Writer<'a> {
    /// Every statement of the write runs in it.
    pub txn: &'a DatabaseTransaction,
    /// The holder of the token.
    pub actor: &'a Actor,
    /// The instant of the write (`updated_at`, revisions, publishing "now").
    pub now: DateTime<Utc>,
}

impl Writer<'_> {
    /// Refuses unless the actor is an admin.
    pub fn require_admin(&self, what: &str) -> WriteResult<()> {
        if self.actor.role == Role::Admin {
            Ok(())
        } else {
            Err(WriteError::Forbidden(format!("only an admin may {what}")))
        }
    }
}

/// Runs `body` in one transaction: committed when it succeeds, rolled back otherwise.
pub async fn in_transaction<T>(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    body: impl AsyncFnOnce(&Writer<'_>) -> WriteResult<T>,
) -> WriteResult<T> {
    // SQLite: take the write lock at BEGIN, so two writers queue on the busy timeout
    // instead of failing when a read transaction tries to become a write one.
    let sqlite = db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite;
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    let writer = Writer {
        txn: &txn,
        actor,
        now,
    };
    let value = body(&writer).await?;
    txn.commit().await?;
    Ok(value)
}

/// A table of editable content: `id`, `version`, `updated_at`, `deleted_at`, and
/// a model that serializes to the JSON of its revisions.
pub trait Editable:
    EntityTrait<ActiveModel: ActiveModelBehavior + Send, Model: Serialize + DeserializeOwned + Sync>
where
    Self::Model: IntoActiveModel<Self::ActiveModel>,
{
    /// The type's name in messages and revisions (`Article`).
    const NAME: &'static str;
    /// The client's name of the unique text column, with the column (`slug`, `code`).
    const UNIQUE: Option<(&'static str, &'static str)>;
    /// Whether deleting and restoring takes an admin (everything shared by many
    /// articles); editors delete and restore articles.
    const ADMIN_DELETES: bool;
    /// `id`.
    fn id(model: &Self::Model) -> i64;
    /// `version`.
    fn version(model: &Self::Model) -> i32;
    /// Whether the row is soft-deleted.
    fn deleted(model: &Self::Model) -> bool;
    /// A bookkeeping column by name.
    fn column(name: Bookkeeping) -> Self::Column;
}

/// The columns every content table has.
#[derive(Clone, Copy, Debug)]
pub enum Bookkeeping {
    Id,
    Version,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    ExternalId,
}

macro_rules! editable {
    ($($table:ident: $name:literal, $unique:expr, $admin:literal;)*) => {$(
        impl Editable for $table::Entity {
            const NAME: &'static str = $name;
            const UNIQUE: Option<(&'static str, &'static str)> = $unique;
            const ADMIN_DELETES: bool = $admin;
            fn id(model: &Self::Model) -> i64 {
                model.id
            }
            fn version(model: &Self::Model) -> i32 {
                model.version
            }
            fn deleted(model: &Self::Model) -> bool {
                model.deleted_at.is_some()
            }
            fn column(name: Bookkeeping) -> Self::Column {
                match name {
                    Bookkeeping::Id => $table::Column::Id,
                    Bookkeeping::Version => $table::Column::Version,
                    Bookkeeping::CreatedAt => $table::Column::CreatedAt,
                    Bookkeeping::UpdatedAt => $table::Column::UpdatedAt,
                    Bookkeeping::DeletedAt => $table::Column::DeletedAt,
                    Bookkeeping::ExternalId => $table::Column::ExternalId,
                }
            }
        }
    )*};
}

editable! {
    article: "Article", Some(("slug", "slug")), false;
    person: "Person", Some(("slug", "slug")), true;
    organization: "Organization", Some(("slug", "slug")), true;
    position: "Position", None, true;
    event: "Event", Some(("slug", "slug")), true;
    document: "Document", Some(("code", "code_key")), true;
    media: "Media", None, true;
    tag: "Tag", Some(("slug", "slug")), true;
    award: "Award", None, true;
    statement: "Statement", None, true;
    commemoration: "Commemoration", None, true;
}

/// The row with this id, deleted or not.
pub async fn find<E: Editable>(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<E::Model>, DbErr>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    E::find()
        .filter(E::column(Bookkeeping::Id).eq(id))
        .one(db)
        .await
}

/// The live (not deleted) row `field` names, or a NOT_FOUND user error on `field`.
pub async fn load<E: Editable>(w: &Writer<'_>, field: &str, id: i64) -> WriteResult<E::Model>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    match find::<E>(w.txn, id).await? {
        Some(model) if !E::deleted(&model) => Ok(model),
        _ => Err(WriteError::not_found(field, E::NAME)),
    }
}

/// Whether a live row has this id.
pub async fn exists<E: Editable>(w: &Writer<'_>, id: i64) -> WriteResult<bool>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    Ok(E::find()
        .select_only()
        .column(E::column(Bookkeeping::Id))
        .filter(E::column(Bookkeeping::Id).eq(id))
        .filter(E::column(Bookkeeping::DeletedAt).is_null())
        .into_tuple::<i64>()
        .one(w.txn)
        .await?
        .is_some())
}

/// Inserts a new record at version 1.
pub async fn insert<E: Editable>(w: &Writer<'_>, mut row: E::ActiveModel) -> WriteResult<E::Model>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    row.set(E::column(Bookkeeping::Version), 1.into());
    row.set(E::column(Bookkeeping::CreatedAt), w.now.into());
    row.set(E::column(Bookkeeping::UpdatedAt), w.now.into());
    row.set(
        E::column(Bookkeeping::DeletedAt),
        Value::ChronoDateTimeUtc(None),
    );
    let row = row.insert(w.txn).await.map_err(unique_violation::<E>)?;
    follow::<E>(w, E::id(&row)).await?;
    Ok(row)
}

/// Tells the search index about a change to a searchable record.
async fn follow<E: Editable>(w: &Writer<'_>, id: i64) -> WriteResult<()>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    if crate::search::SEARCHED.contains(&E::NAME) {
        crate::search::enqueue(w.txn, E::NAME, id, w.now).await?;
    }
    Ok(())
}

/// A unique-index violation names the unique field (a concurrent writer took the
/// slug between the check and the insert); any other error stays a database error.
fn unique_violation<E: Editable>(error: DbErr) -> WriteError
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    match (error.sql_err(), E::UNIQUE) {
        (Some(SqlErr::UniqueConstraintViolation(_)), Some((field, _))) => WriteError::field(
            field,
            ErrorCode::Taken,
            format!("another {} has this {field}", E::NAME),
        ),
        _ => WriteError::Db(error),
    }
}

/// Refuses an edit based on another version than the current one.
fn check_version<E: Editable>(current: &E::Model, expected: i32) -> WriteResult<()>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let version = E::version(current);
    if version == expected {
        Ok(())
    } else {
        Err(WriteError::Conflict {
            entity: E::NAME,
            id: E::id(current),
            expected,
            current: version,
        })
    }
}

/// Keeps `current` as a revision: the state before the write that is under way.
async fn keep_revision<E: Editable>(w: &Writer<'_>, current: &E::Model) -> WriteResult<()>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let snapshot = serde_json::to_string(current)
        .map_err(|e| DbErr::Custom(format!("could not snapshot a {}: {e}", E::NAME)))?;
    revision::ActiveModel {
        entity_type: sea_orm::Set(E::NAME.to_owned()),
        entity_id: sea_orm::Set(E::id(current)),
        version: sea_orm::Set(E::version(current)),
        snapshot: sea_orm::Set(snapshot),
        actor: sea_orm::Set(Some(w.actor.label())),
        created_at: sea_orm::Set(w.now),
        ..Default::default()
    }
    .insert(w.txn)
    .await?;
    Ok(())
}

/// Writes the `Set` fields of `changes` onto `current`, which the edit was based on
/// at version `expected`: keeps the earlier state as a revision, bumps the version.
/// The `UPDATE` is guarded by the version too, so two editors racing from the same
/// version cannot both win.
pub async fn update<E: Editable>(
    w: &Writer<'_>,
    current: &E::Model,
    expected: i32,
    mut changes: E::ActiveModel,
) -> WriteResult<E::Model>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    check_version::<E>(current, expected)?;
    keep_revision::<E>(w, current).await?;
    let id = E::id(current);
    changes.set(E::column(Bookkeeping::Version), (expected + 1).into());
    changes.set(E::column(Bookkeeping::UpdatedAt), w.now.into());
    let written = E::update_many()
        .set(changes)
        .filter(E::column(Bookkeeping::Id).eq(id))
        .filter(E::column(Bookkeeping::Version).eq(expected))
        .exec(w.txn)
        .await
        .map_err(unique_violation::<E>)?
        .rows_affected;
    let after = find::<E>(w.txn, id)
        .await?
        .ok_or_else(|| WriteError::not_found("id", E::NAME))?;
    if written == 0 {
        return Err(WriteError::Conflict {
            entity: E::NAME,
            id,
            expected,
            current: E::version(&after),
        });
    }
    follow::<E>(w, id).await?;
    Ok(after)
}

/// Soft-deletes the record at version `expected`; it stays restorable.
pub async fn delete<E: Editable>(w: &Writer<'_>, id: i64, expected: i32) -> WriteResult<E::Model>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    if E::ADMIN_DELETES {
        w.require_admin(&format!("delete a {}", E::NAME))?;
    }
    let current = load::<E>(w, "id", id).await?;
    let mut changes = E::ActiveModel::default();
    changes.set(E::column(Bookkeeping::DeletedAt), w.now.into());
    update::<E>(w, &current, expected, changes).await
}

/// Brings a soft-deleted record back.
pub async fn restore<E: Editable>(w: &Writer<'_>, id: i64) -> WriteResult<E::Model>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    if E::ADMIN_DELETES {
        w.require_admin(&format!("restore a {}", E::NAME))?;
    }
    let current = find::<E>(w.txn, id)
        .await?
        .ok_or_else(|| WriteError::not_found("id", E::NAME))?;
    if !E::deleted(&current) {
        return Err(WriteError::field(
            "id",
            ErrorCode::InvalidState,
            format!("the {} is not deleted", E::NAME),
        ));
    }
    let mut changes = E::ActiveModel::default();
    changes.set(
        E::column(Bookkeeping::DeletedAt),
        Value::ChronoDateTimeUtc(None),
    );
    update::<E>(w, &current, E::version(&current), changes).await
}

/// The latest `limit` earlier states of a record, newest first.
pub async fn revisions(
    db: &impl ConnectionTrait,
    entity: &str,
    id: i64,
    limit: u64,
) -> Result<Vec<revision::Model>, DbErr> {
    use sea_orm::QueryOrder;
    revision::Entity::find()
        .filter(revision::Column::EntityType.eq(entity))
        .filter(revision::Column::EntityId.eq(id))
        .order_by_desc(revision::Column::Version)
        .order_by_desc(revision::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The revision with this id, if it is one of a record of type `E`.
pub async fn find_revision<E: Editable>(
    w: &Writer<'_>,
    revision_id: i64,
) -> WriteResult<revision::Model>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    revision::Entity::find_by_id(revision_id)
        .one(w.txn)
        .await?
        .filter(|r| r.entity_type == E::NAME)
        .ok_or_else(|| WriteError::not_found("id", "revision"))
}

/// Puts a record back in the state a revision kept, as a new version based on
/// `expected` (the current state becomes a revision in turn). The record's
/// identity, bundle key, creation time and deletion are not part of its state.
pub async fn restore_revision<E: Editable>(
    w: &Writer<'_>,
    kept: &revision::Model,
    expected: i32,
) -> WriteResult<E::Model>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let current = load::<E>(w, "id", kept.entity_id).await?;
    let earlier: E::Model = serde_json::from_str(&kept.snapshot)
        .map_err(|e| DbErr::Custom(format!("revision {} does not read back: {e}", kept.id)))?;
    let mut changes = earlier.into_active_model().reset_all();
    for column in [
        Bookkeeping::Id,
        Bookkeeping::ExternalId,
        Bookkeeping::CreatedAt,
        Bookkeeping::DeletedAt,
    ] {
        changes.not_set(E::column(column));
    }
    update::<E>(w, &current, expected, changes).await
}

/// A slug for a record: the one given, checked for form and uniqueness, or one made
/// from `title` when none is given ("Hội nghị sơ kết" → "hoi-nghi-so-ket", then
/// "hoi-nghi-so-ket-2", …). `None`: leave it as it is.
pub async fn slug<E: Editable>(
    w: &Writer<'_>,
    check: &mut Check,
    given: Option<String>,
    title: Option<&str>,
    except: Option<i64>,
) -> WriteResult<Option<String>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    if let Some(given) = given {
        let Some(slug) = check.slug("slug", &given) else {
            return Ok(None);
        };
        let taken = taken::<E>(w, std::slice::from_ref(&slug), except).await?;
        if !taken.is_empty() {
            check.fail(
                "slug",
                ErrorCode::Taken,
                format!("another {} has the slug {slug:?}", E::NAME),
            );
        }
        return Ok(Some(slug));
    }
    let Some(title) = title else {
        return Ok(None);
    };
    let mut base = text::slugify(title);
    base.truncate(MAX_SLUG - 4);
    let base = base.trim_end_matches('-').to_owned();
    let base = if base.is_empty() {
        E::NAME.to_lowercase()
    } else {
        base
    };
    let similar = slugs_like::<E>(w, &base, except).await?;
    let slug = std::iter::once(base.clone())
        .chain((2..).map(|n| format!("{base}-{n}")))
        .find(|candidate| !similar.contains(candidate))
        .unwrap_or(base);
    Ok(Some(slug))
}

/// The slugs among `candidates` that a live or deleted record other than `except` has.
async fn taken<E: Editable>(
    w: &Writer<'_>,
    candidates: &[String],
    except: Option<i64>,
) -> WriteResult<Vec<String>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    slugs::<E>(
        w,
        Expr::col(Alias::new("slug")).is_in(candidates.iter().cloned()),
        except,
    )
    .await
}

/// The slugs that are `base` or `base-…`.
async fn slugs_like<E: Editable>(
    w: &Writer<'_>,
    base: &str,
    except: Option<i64>,
) -> WriteResult<HashSet<String>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let condition = Expr::col(Alias::new("slug"))
        .eq(base)
        .or(Expr::col(Alias::new("slug")).like(format!("{base}-%")));
    Ok(slugs::<E>(w, condition, except)
        .await?
        .into_iter()
        .collect())
}

async fn slugs<E: Editable>(
    w: &Writer<'_>,
    condition: sea_orm::sea_query::SimpleExpr,
    except: Option<i64>,
) -> WriteResult<Vec<String>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let mut query = Query::select();
    query
        .column(Alias::new("slug"))
        .from(E::default().table_ref())
        .and_where(condition);
    if let Some(id) = except {
        query.and_where(Expr::col(Alias::new("id")).ne(id));
    }
    Ok(w.txn
        .query_all(&query)
        .await?
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .collect())
}

/// The longest slug.
pub const MAX_SLUG: usize = 120;

/// Collects the refused fields of one input, checking and normalizing as it goes.
#[derive(Debug, Default)]
pub struct Check {
    errors: Vec<UserError>,
}

impl Check {
    /// Refuses `field`.
    pub fn fail(&mut self, field: &str, code: ErrorCode, message: impl Into<String>) {
        self.errors.push(UserError {
            field: Some(field.to_owned()),
            message: message.into(),
            code,
        });
    }

    /// `Ok` when nothing was refused.
    pub fn finish(self) -> WriteResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(WriteError::Rejected(self.errors))
        }
    }

    /// A value the input must have.
    pub fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.fail(field, ErrorCode::Required, format!("{field} is required"));
        }
        value
    }

    /// A title or name: NFC, trimmed, inner whitespace collapsed; not empty, at most
    /// `max` characters.
    pub fn line(&mut self, field: &str, value: &str, max: usize) -> Option<String> {
        let line = text::clean_line(value);
        if line.is_empty() {
            self.fail(
                field,
                ErrorCode::Required,
                format!("{field} must not be empty"),
            );
            None
        } else {
            self.at_most(field, line, max)
        }
    }

    /// A block of text (a body, a summary): NFC, trimmed; at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> Option<String> {
        self.at_most(field, text::nfc(value.trim()), max)
    }

    /// A block of text that must not be empty (a body, a statement): NFC, trimmed.
    pub fn block(&mut self, field: &str, value: &str, max: usize) -> Option<String> {
        let text = self.text(field, value, max)?;
        if text.is_empty() {
            self.fail(
                field,
                ErrorCode::Required,
                format!("{field} must not be empty"),
            );
            return None;
        }
        Some(text)
    }

    /// An optional line: empty clears it.
    pub fn optional_line(
        &mut self,
        field: &str,
        value: &str,
        max: usize,
    ) -> Option<Option<String>> {
        let line = text::clean_line(value);
        if line.is_empty() {
            Some(None)
        } else {
            self.at_most(field, line, max).map(Some)
        }
    }

    /// An optional block of text: empty clears it.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: &str,
        max: usize,
    ) -> Option<Option<String>> {
        let text = text::nfc(value.trim());
        if text.is_empty() {
            Some(None)
        } else {
            self.at_most(field, text, max).map(Some)
        }
    }

    fn at_most(&mut self, field: &str, value: String, max: usize) -> Option<String> {
        let length = value.chars().count();
        if length > max {
            self.fail(
                field,
                ErrorCode::TooLong,
                format!("{field} has {length} characters; at most {max} are allowed"),
            );
            None
        } else {
            Some(value)
        }
    }

    /// A slug: lowercase ASCII letters and digits in words joined by single hyphens.
    pub fn slug(&mut self, field: &str, value: &str) -> Option<String> {
        let well_formed = !value.is_empty()
            && value.len() <= MAX_SLUG
            && value.split('-').all(|word| {
                !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if well_formed {
            Some(value.to_owned())
        } else {
            self.fail(
                field,
                ErrorCode::InvalidFormat,
                format!(
                    "{value:?} is not a slug: use lowercase letters a-z, digits and single hyphens, at most {MAX_SLUG} characters"
                ),
            );
            None
        }
    }

    /// A BCP 47 language tag (`vi`, `en`, `zh-Hant-TW`), in its canonical case.
    pub fn language(&mut self, field: &str, value: &str) -> Option<String> {
        match language_tags::LanguageTag::parse(value.trim()) {
            Ok(tag) if tag.primary_language().len() <= 3 && tag.primary_language().len() >= 2 => {
                Some(
                    tag.canonicalize()
                        .map_or_else(|_| tag.to_string(), |t| t.to_string()),
                )
            }
            _ => {
                self.fail(
                    field,
                    ErrorCode::InvalidFormat,
                    format!("{value:?} is not a BCP 47 language tag such as \"vi\" or \"en\""),
                );
                None
            }
        }
    }

    /// An absolute http(s) URL; empty clears it.
    pub fn url(&mut self, field: &str, value: &str) -> Option<Option<String>> {
        let value = value.trim();
        if value.is_empty() {
            return Some(None);
        }
        match url::Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                Some(Some(url.to_string()))
            }
            _ => {
                self.fail(
                    field,
                    ErrorCode::InvalidFormat,
                    format!("{value:?} is not an absolute http or https URL"),
                );
                None
            }
        }
    }

    /// A period that must not end before it starts.
    pub fn range(&mut self, end_field: &str, starts: Option<NaiveDate>, ends: Option<NaiveDate>) {
        if let (Some(starts), Some(ends)) = (starts, ends)
            && ends < starts
        {
            self.fail(
                end_field,
                ErrorCode::InvalidRange,
                format!("ends on {ends}, before it starts on {starts}"),
            );
        }
    }

    /// A count that cannot be negative.
    pub fn count(&mut self, field: &str, value: i32) -> Option<i32> {
        if value < 0 {
            self.fail(
                field,
                ErrorCode::InvalidRange,
                format!("{field} cannot be negative"),
            );
            None
        } else {
            Some(value)
        }
    }

    /// A reference to a live record of type `E`.
    pub async fn reference<E: Editable>(
        &mut self,
        w: &Writer<'_>,
        field: &str,
        id: Option<i64>,
    ) -> WriteResult<Option<i64>>
    where
        E::Model: IntoActiveModel<E::ActiveModel>,
    {
        match id {
            Some(id) if !exists::<E>(w, id).await? => {
                self.fail(field, ErrorCode::NotFound, format!("no such {}", E::NAME));
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// Adds the errors of another check (an ID that did not decode, say).
    pub fn push(&mut self, error: UserError) {
        self.errors.push(error);
    }
}

/// A join table between two kinds of record: its owner and target columns, any
/// further key or value columns (a participant's role), and whether it orders links.
pub struct Link {
    /// The join table.
    pub table: &'static str,
    /// The owner's column.
    pub owner: &'static str,
    /// The target's column.
    pub target: &'static str,
    /// Further columns of the primary key, with their values.
    pub key: Vec<(&'static str, Value)>,
    /// Further value columns.
    pub values: Vec<(&'static str, Value)>,
    /// Whether the table orders links with an `ord` column.
    pub ordered: bool,
}

impl Link {
    /// A plain ordered join table.
    pub fn new(table: &'static str, owner: &'static str, target: &'static str) -> Self {
        Self {
            table,
            owner,
            target,
            key: Vec::new(),
            values: Vec::new(),
            ordered: true,
        }
    }
}

/// Adds the link between `owner` and `target` (after the owner's other links), or
/// updates its values when it exists. Returns whether it was new.
pub async fn link(w: &Writer<'_>, link: &Link, owner: i64, target: i64) -> WriteResult<bool> {
    let table = Alias::new(link.table);
    let mut select = Query::select();
    select.expr(Expr::val(1)).from(table.clone());
    where_link(&mut select, link, owner, target);
    if w.txn.query_one(&select).await?.is_some() {
        if !link.values.is_empty() {
            let mut update = Query::update();
            update.table(table.clone());
            for (column, value) in &link.values {
                update.value(Alias::new(*column), value.clone());
            }
            where_link(&mut update, link, owner, target);
            w.txn.execute(&update).await?;
        }
        return Ok(false);
    }
    let mut columns = vec![Alias::new(link.owner), Alias::new(link.target)];
    let mut values: Vec<sea_orm::sea_query::SimpleExpr> = vec![owner.into(), target.into()];
    for (column, value) in link.key.iter().chain(&link.values) {
        columns.push(Alias::new(*column));
        values.push(value.clone().into());
    }
    if link.ordered {
        let next = Query::select()
            .expr(Expr::col(Alias::new("ord")).max())
            .from(table.clone())
            .and_where(Expr::col(Alias::new(link.owner)).eq(owner))
            .to_owned();
        let last = w
            .txn
            .query_one(&next)
            .await?
            .and_then(|row| row.try_get_by_index::<Option<i32>>(0).ok().flatten())
            .unwrap_or(0);
        columns.push(Alias::new("ord"));
        values.push((last + 1).into());
    }
    let mut insert = Query::insert();
    insert.into_table(table).columns(columns);
    insert
        .values(values)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    let mut conflict = OnConflict::columns(
        [link.owner, link.target]
            .into_iter()
            .chain(link.key.iter().map(|(column, _)| *column))
            .map(Alias::new),
    );
    insert.on_conflict(conflict.do_nothing().to_owned());
    w.txn.execute(&insert).await?;
    Ok(true)
}

/// Removes the link between `owner` and `target`; returns whether there was one.
pub async fn unlink(w: &Writer<'_>, link: &Link, owner: i64, target: i64) -> WriteResult<bool> {
    let mut delete = Query::delete();
    delete.from_table(Alias::new(link.table));
    where_link(&mut delete, link, owner, target);
    Ok(w.txn.execute(&delete).await?.rows_affected() > 0)
}

fn where_link<Q: sea_orm::sea_query::ConditionalStatement>(
    query: &mut Q,
    link: &Link,
    owner: i64,
    target: i64,
) {
    query.and_where(Expr::col(Alias::new(link.owner)).eq(owner));
    query.and_where(Expr::col(Alias::new(link.target)).eq(target));
    for (column, value) in &link.key {
        query.and_where(Expr::col(Alias::new(*column)).eq(value.clone()));
    }
}

/// Marks the owner of a changed link as updated (its version is not bumped: links
/// are added and removed one by one, and never conflict).
pub async fn touch<E: Editable>(w: &Writer<'_>, id: i64) -> WriteResult<()>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    E::update_many()
        .col_expr(E::column(Bookkeeping::UpdatedAt), Expr::value(w.now))
        .filter(E::column(Bookkeeping::Id).eq(id))
        .exec(w.txn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_the_field_and_normalize() {
        let mut check = Check::default();
        assert_eq!(
            check.line("title", "  Hội  nghị\u{0300} ", 10).as_deref(),
            Some(text::nfc("Hội nghị\u{0300}").as_str())
        );
        assert_eq!(check.line("title", "   ", 10), None);
        assert_eq!(
            check.slug("slug", "hoi-nghi-2").as_deref(),
            Some("hoi-nghi-2")
        );
        assert_eq!(check.slug("slug", "Hội-nghị"), None);
        assert_eq!(check.slug("slug", "a--b"), None);
        assert_eq!(check.language("language", "vi").as_deref(), Some("vi"));
        assert_eq!(
            check.language("language", "zh-hant-tw").as_deref(),
            Some("zh-Hant-TW")
        );
        assert_eq!(check.language("language", "vietnamese"), None);
        assert_eq!(check.url("url", "ftp://x.vn"), None);
        assert_eq!(
            check.url("url", "https://bqllang.gov.vn/a"),
            Some(Some("https://bqllang.gov.vn/a".into()))
        );
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        check.range("endsOn", d(2024, 5, 2), d(2024, 5, 1));
        let Err(WriteError::Rejected(errors)) = check.finish() else {
            panic!("the check should refuse");
        };
        let fields: Vec<_> = errors.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(
            fields,
            ["title", "slug", "slug", "language", "url", "endsOn"]
        );
    }
}
