//! The root `Mutation`: one file a group of types. Every mutation needs an editor's
//! or an admin's token, runs in one transaction through the domain layer
//! ([`crate::domain::editing`]), and answers with a payload: the object and the
//! `userErrors` that name the refused fields. Only authentication, authorization and
//! failures of the server itself are GraphQL errors.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, MaybeUndefined, MergedObject, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue, DatabaseConnection, IntoActiveModel, Value};

use entity::{
    article, award, commemoration, document, event, media, organization, person, position,
    statement, tag,
};

use crate::auth::Actor;
use crate::domain::editing::{
    self, Check, Editable, ErrorCode, UserError, WriteError, WriteResult, Writer,
};
use crate::domain::visibility::Clock;
use crate::error::{AppError, FieldResult};
use crate::graphql::ids::{self, Kind};
use crate::graphql::types::{
    Article, Award, Commemoration, Document, Event, Media, Node, Organization, Person, Position,
    Statement, Tag,
};
use crate::search::Indexer;

mod article_mutations;
mod directory;
mod events;
mod lifecycle;
mod links;
mod media_tags;

/// Every write.
#[derive(MergedObject, Default)]
// Named `Mutation`, as GraphQL tools and client caches expect.
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    article_mutations::ArticleMutations,
    directory::DirectoryMutations,
    events::EventMutations,
    media_tags::MediaMutations,
    links::LinkMutations,
    lifecycle::LifecycleMutations,
);

/// Why a field was refused.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "UserErrorCode", remote = "crate::domain::editing::ErrorCode")]
pub enum UserErrorCode {
    /// A required value is missing or empty.
    Required,
    /// Longer than allowed.
    TooLong,
    /// Not in the expected form (slug, language tag, URL, ID).
    InvalidFormat,
    /// Unique, and another record has it.
    Taken,
    /// Refers to a record that does not exist or is deleted.
    NotFound,
    /// Ends before it starts, or a number out of range.
    InvalidRange,
    /// Not allowed in the record's current state.
    InvalidState,
    /// The record changed since the version the edit was based on; the payload holds
    /// it as it is now.
    VersionConflict,
}

/// A refused field of a mutation's input.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "UserError")]
pub struct UserErrorObject {
    /// The input field (`title`, `endsOn`, `version`…); null when it is about the
    /// whole input.
    pub field: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
    /// What is wrong, for a program.
    pub code: UserErrorCode,
}

impl From<UserError> for UserErrorObject {
    fn from(error: UserError) -> Self {
        Self {
            field: error.field,
            message: error.message,
            code: error.code.into(),
        }
    }
}

macro_rules! payloads {
    ($($payload:ident { $field:ident: $object:ty } $doc:literal)*) => {$(
        #[doc = $doc]
        #[derive(SimpleObject)]
        pub struct $payload {
            /// The object as written; on a version conflict, as it is now; null when
            /// the input was refused.
            pub $field: Option<$object>,
            /// What was refused, by field; empty when the write happened.
            pub user_errors: Vec<UserErrorObject>,
        }

        impl From<Answer<$object>> for $payload {
            fn from(answer: Answer<$object>) -> Self {
                Self {
                    $field: answer.object,
                    user_errors: answer.errors,
                }
            }
        }
    )*};
}

payloads! {
    ArticlePayload { article: Article } "The result of an article mutation."
    PersonPayload { person: Person } "The result of a person mutation."
    OrganizationPayload { organization: Organization } "The result of an organization mutation."
    PositionPayload { position: Position } "The result of a position mutation."
    EventPayload { event: Event } "The result of an event mutation."
    DocumentPayload { document: Document } "The result of a document mutation."
    MediaPayload { media: Media } "The result of a media mutation."
    TagPayload { tag: Tag } "The result of a tag mutation."
    AwardPayload { award: Award } "The result of an award mutation."
    StatementPayload { statement: Statement } "The result of a statement mutation."
    CommemorationPayload { commemoration: Commemoration } "The result of a commemoration mutation."
    NodePayload { node: Node } "The result of a mutation that works on any type (delete, restore)."
}

/// What a mutation answers before it is put in its payload.
pub struct Answer<T> {
    object: Option<T>,
    errors: Vec<UserErrorObject>,
}

impl<T> Answer<T> {
    /// A refusal of the input before anything was tried.
    pub(crate) fn refused(field: &str, code: ErrorCode, message: &str) -> Self {
        Self {
            object: None,
            errors: vec![UserErrorObject {
                field: Some(field.to_owned()),
                message: message.to_owned(),
                code: code.into(),
            }],
        }
    }

    fn map<U>(self, f: impl FnOnce(T) -> U) -> Answer<U> {
        Answer {
            object: self.object.map(f),
            errors: self.errors,
        }
    }
}

/// An editable table and the GraphQL object of its rows.
pub trait Exposed: Editable<Model: Send>
where
    Self::Model: IntoActiveModel<Self::ActiveModel>,
{
    /// The object type.
    type Object: Into<Node>;
    /// The kind of its global IDs.
    const KIND: Kind;
    /// Wraps a row.
    fn wrap(model: Self::Model) -> Self::Object;
}

macro_rules! exposed {
    ($($table:ident => $object:ident $(, $kind:ident)?;)*) => {$(
        impl Exposed for $table::Entity {
            type Object = $object;
            const KIND: Kind = Kind::$object;
            fn wrap(model: Self::Model) -> $object {
                $object(Arc::new(model))
            }
        }
    )*};
}

exposed! {
    article => Article;
    person => Person;
    organization => Organization;
    position => Position;
    event => Event;
    document => Document;
    tag => Tag;
    award => Award;
    statement => Statement;
    commemoration => Commemoration;
}

impl Exposed for media::Entity {
    type Object = Media;
    const KIND: Kind = Kind::Media;
    fn wrap(model: media::Model) -> Media {
        Media {
            model: Arc::new(model),
            after_paragraph: None,
        }
    }
}

/// Who writes, on what connection, at what instant: only for editors and admins.
pub(crate) struct Session<'a> {
    db: &'a DatabaseConnection,
    actor: &'a Actor,
    now: DateTime<Utc>,
    indexer: Option<&'a Arc<Indexer>>,
}

/// The session of a mutation: `UNAUTHENTICATED` without a token.
pub(crate) fn session<'a>(ctx: &Context<'a>) -> FieldResult<Session<'a>> {
    let actor = ctx
        .data_opt::<Option<Actor>>()
        .and_then(Option::as_ref)
        .ok_or_else(|| {
            AppError::Unauthenticated(
                "writing needs an editor's or an admin's token (Authorization: Bearer …)".into(),
            )
        })?;
    let db = ctx
        .data::<DatabaseConnection>()
        .map_err(|e| AppError::Internal(e.message))?;
    let now = ctx
        .data_opt::<Clock>()
        .map_or_else(Utc::now, |clock| clock());
    let indexer = ctx.data_opt::<Arc<Indexer>>();
    Ok(Session {
        db,
        actor,
        now,
        indexer,
    })
}

impl Session<'_> {
    /// Runs `body` in one transaction and answers with the written row of `E`.
    pub(crate) async fn write<E: Exposed>(
        &self,
        body: impl AsyncFnOnce(&Writer<'_>) -> WriteResult<E::Model>,
    ) -> FieldResult<Answer<E::Object>>
    where
        E::Model: IntoActiveModel<E::ActiveModel>,
    {
        let result = editing::in_transaction(self.db, self.actor, self.now, body).await;
        if result.is_ok()
            && let Some(indexer) = self.indexer
        {
            // Committed: searchable now rather than at the next poll.
            indexer.wake();
        }
        self.answer::<E>(result).await
    }

    /// Maps the outcome of a write: refusals and conflicts go in the payload;
    /// authorization and database failures are GraphQL errors.
    async fn answer<E: Exposed>(
        &self,
        result: WriteResult<E::Model>,
    ) -> FieldResult<Answer<E::Object>>
    where
        E::Model: IntoActiveModel<E::ActiveModel>,
    {
        match result {
            Ok(model) => Ok(Answer {
                object: Some(E::wrap(model)),
                errors: Vec::new(),
            }),
            Err(WriteError::Rejected(errors)) => Ok(Answer {
                object: None,
                errors: errors.into_iter().map(Into::into).collect(),
            }),
            Err(conflict @ WriteError::Conflict { id, .. }) => {
                // The row as it is now: what a conflicting edit is shown.
                let now = editing::find::<E>(self.db, id)
                    .await
                    .map_err(AppError::from)?;
                Ok(Answer {
                    object: now.map(E::wrap),
                    errors: vec![UserErrorObject {
                        field: Some("version".into()),
                        message: conflict.to_string(),
                        code: UserErrorCode::VersionConflict,
                    }],
                })
            }
            Err(WriteError::Forbidden(message)) => Err(AppError::Forbidden(message).into()),
            Err(WriteError::Db(error)) => Err(AppError::Db(error).into()),
        }
    }
}

/// Adds a record of `E` from an input, through `changes` (which checks it).
pub(crate) async fn create<E: Exposed, I>(
    ctx: &Context<'_>,
    input: I,
    changes: impl AsyncFnOnce(&Writer<'_>, I, Option<&E::Model>) -> WriteResult<E::ActiveModel>,
) -> FieldResult<Answer<E::Object>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    session(ctx)?
        .write::<E>(async |w| {
            let row = changes(w, input, None).await?;
            editing::insert::<E>(w, row).await
        })
        .await
}

/// Changes the record of `E` with global ID `id`, based on `version`.
pub(crate) async fn update<E: Exposed, I>(
    ctx: &Context<'_>,
    id: ID,
    version: i32,
    input: I,
    changes: impl AsyncFnOnce(&Writer<'_>, I, Option<&E::Model>) -> WriteResult<E::ActiveModel>,
) -> FieldResult<Answer<E::Object>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    session(ctx)?
        .write::<E>(async |w| {
            let current = editing::load::<E>(w, "id", target(&id, E::KIND)?).await?;
            let row = changes(w, input, Some(&current)).await?;
            editing::update::<E>(w, &current, version, row).await
        })
        .await
}

/// Decodes an ID given in an input: a malformed one, or one of another type, is
/// refused on its field.
pub(crate) fn decode(check: &mut Check, field: &str, id: &ID, kind: Kind) -> Option<i64> {
    match ids::decode_as(id, kind) {
        Ok(id) => Some(id),
        Err(_) => {
            check.fail(
                field,
                ErrorCode::InvalidFormat,
                format!("not the ID of a {}", kind.name()),
            );
            None
        }
    }
}

/// Decodes the ID of the record a mutation works on.
pub(crate) fn target(id: &ID, kind: Kind) -> WriteResult<i64> {
    let mut check = Check::default();
    let id = decode(&mut check, "id", id, kind);
    check.finish()?;
    id.ok_or_else(|| WriteError::not_found("id", kind.name()))
}

/// Sets a column when the input gave a value for it.
pub(crate) fn put<T: Into<Value>>(slot: &mut ActiveValue<T>, value: Option<T>) {
    if let Some(value) = value {
        *slot = ActiveValue::Set(value);
    }
}

/// A required line (a title, a name): checked when given; refused when a new
/// record lacks it. `None`: leave the column as it is.
pub(crate) fn required_line(
    check: &mut Check,
    field: &str,
    value: Option<String>,
    creating: bool,
    max: usize,
) -> Option<String> {
    match value {
        Some(value) => check.line(field, &value, max),
        None if creating => check.required(field, None),
        None => None,
    }
}

/// The change an optional input field asks for: absent leaves the column (`None`),
/// `null` clears it, a value is read by `read` (`None` when it refused it).
fn nullable<T, U>(
    value: MaybeUndefined<T>,
    read: impl FnOnce(T) -> Option<Option<U>>,
) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => read(value),
    }
}

/// An optional line: `null` or `""` clears it; absent leaves it.
pub(crate) fn optional_line(
    check: &mut Check,
    field: &str,
    value: MaybeUndefined<String>,
    max: usize,
) -> Option<Option<String>> {
    nullable(value, |value| check.optional_line(field, &value, max))
}

/// An optional block of text: `null` or `""` clears it; absent leaves it.
pub(crate) fn optional_text(
    check: &mut Check,
    field: &str,
    value: MaybeUndefined<String>,
    max: usize,
) -> Option<Option<String>> {
    nullable(value, |value| check.optional_text(field, &value, max))
}

/// An optional http(s) URL: `null` or `""` clears it; absent leaves it.
pub(crate) fn optional_url(
    check: &mut Check,
    field: &str,
    value: MaybeUndefined<String>,
) -> Option<Option<String>> {
    nullable(value, |url| check.url(field, &url))
}

/// An optional count, not negative: `null` clears it; absent leaves it.
pub(crate) fn optional_count(
    check: &mut Check,
    field: &str,
    value: MaybeUndefined<i32>,
) -> Option<Option<i32>> {
    nullable(value, |n| check.count(field, n).map(Some))
}

/// An optional reference by global ID, to a live record: `null` clears it.
pub(crate) async fn optional_reference<E: Editable>(
    w: &Writer<'_>,
    check: &mut Check,
    field: &str,
    value: MaybeUndefined<ID>,
    kind: Kind,
) -> WriteResult<Option<Option<i64>>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    Ok(match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(id) => {
            let id = decode(check, field, &id, kind);
            check.reference::<E>(w, field, id).await?.map(Some)
        }
    })
}

/// A required reference by global ID, to a live record.
pub(crate) async fn required_reference<E: Editable>(
    w: &Writer<'_>,
    check: &mut Check,
    field: &str,
    value: Option<ID>,
    creating: bool,
    kind: Kind,
) -> WriteResult<Option<i64>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    match value {
        Some(id) => {
            let id = decode(check, field, &id, kind);
            check.reference::<E>(w, field, id).await
        }
        None if creating => Ok(check.required(field, None)),
        None => Ok(None),
    }
}

/// An optional value with no check of its own: `null` clears it.
pub(crate) fn optional<T, U>(
    value: MaybeUndefined<T>,
    f: impl FnOnce(T) -> U,
) -> Option<Option<U>> {
    nullable(value, |value| Some(Some(f(value))))
}

/// The longest title or name.
pub(crate) const MAX_TITLE: usize = 300;
/// The longest short text (a kind, a location, a credit).
pub(crate) const MAX_SHORT: usize = 200;
/// The longest summary, caption or note.
pub(crate) const MAX_SUMMARY: usize = 5_000;
/// The longest body or statement.
pub(crate) const MAX_BODY: usize = 500_000;
