//! Writing events and what hangs off them: documents, awards, statements, and
//! commemorations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use entity::{article, award, commemoration, document, event, organization, person, statement};

use super::{
    AwardPayload, CommemorationPayload, DocumentPayload, EventPayload, MAX_BODY, MAX_SHORT,
    MAX_SUMMARY, MAX_TITLE, StatementPayload, create, optional, optional_count, optional_line,
    optional_reference, optional_text, put, required_line, required_reference, update,
};
use crate::domain::editing::{self, Check, ErrorCode, WriteResult, Writer};
use crate::error::FieldResult;
use crate::graphql::ids::Kind;
use crate::graphql::types::scalars::{Date, DatePrecision, DateTime};
use crate::text;

/// The fields of an event. On create, `name` and `startsOn` are required.
#[derive(InputObject, Default)]
pub struct EventInput {
    /// The name.
    pub name: Option<String>,
    /// The URL slug; made from the name when a new event has none.
    pub slug: Option<String>,
    /// The day it started (the first of the month or year, by `datePrecision`).
    pub starts_on: Option<Date>,
    /// The instant it started, when known.
    pub starts_at: MaybeUndefined<DateTime>,
    /// How precisely `startsOn` is known; DAY when a new event does not say.
    pub date_precision: Option<DatePrecision>,
    /// A note on how the date is known.
    pub date_note: MaybeUndefined<String>,
    /// The last day; not before `startsOn`.
    pub ends_on: MaybeUndefined<Date>,
    /// Where.
    pub location: MaybeUndefined<String>,
    /// How many attended.
    pub attendance: MaybeUndefined<i32>,
    /// A note on the attendance figure.
    pub attendance_note: MaybeUndefined<String>,
    /// A description.
    pub description: MaybeUndefined<String>,
}

/// The fields of a document. On create, `code` and `title` are required.
#[derive(InputObject, Default)]
pub struct DocumentInput {
    /// The code, such as "16-KL/TƯ"; unique however it is written.
    pub code: Option<String>,
    /// The title.
    pub title: Option<String>,
    /// What kind of document (conclusion, resolution, directive…).
    pub kind: MaybeUndefined<String>,
    /// The issuing organization.
    pub issuer: MaybeUndefined<ID>,
    /// The term of office it belongs to.
    pub term: MaybeUndefined<String>,
    /// The day it was issued.
    pub issued_on: MaybeUndefined<Date>,
    /// A summary.
    pub summary: MaybeUndefined<String>,
}

/// The fields of an award. On create, `name` is required.
#[derive(InputObject, Default)]
pub struct AwardInput {
    /// The name of the distinction.
    pub name: Option<String>,
    /// The event it was given at.
    pub event: MaybeUndefined<ID>,
    /// The organization that gave it.
    pub awarded_by: MaybeUndefined<ID>,
    /// What for.
    pub reason: MaybeUndefined<String>,
    /// The period it recognizes.
    pub period: MaybeUndefined<String>,
    /// How many collectives received it.
    pub collective_count: MaybeUndefined<i32>,
    /// How many individuals received it.
    pub individual_count: MaybeUndefined<i32>,
}

/// The fields of a statement. On create, `person` and `text` are required.
#[derive(InputObject, Default)]
pub struct StatementInput {
    /// Who said it.
    pub person: Option<ID>,
    /// At which event.
    pub event: MaybeUndefined<ID>,
    /// The article that reports it.
    pub article: MaybeUndefined<ID>,
    /// What kind of statement (speech, direction…).
    pub kind: MaybeUndefined<String>,
    /// The words.
    pub text: Option<String>,
}

/// The fields of a commemoration. On create, `name` and `baseDate` are required.
#[derive(InputObject, Default)]
pub struct CommemorationInput {
    /// What is remembered.
    pub name: Option<String>,
    /// The day whose anniversaries are kept.
    pub base_date: Option<Date>,
    /// How precisely `baseDate` is known; DAY when a new one does not say.
    pub date_precision: Option<DatePrecision>,
    /// A note.
    pub note: MaybeUndefined<String>,
    /// The organization it belongs to.
    pub organization: MaybeUndefined<ID>,
    /// The event it remembers.
    pub event: MaybeUndefined<ID>,
}

#[derive(Default)]
pub struct EventMutations;

#[Object]
impl EventMutations {
    /// Adds an event.
    async fn create_event(
        &self,
        ctx: &Context<'_>,
        input: EventInput,
    ) -> FieldResult<EventPayload> {
        Ok(create::<event::Entity, _>(ctx, input, event_changes)
            .await?
            .into())
    }

    /// Changes an event that is at `version`.
    async fn update_event(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: EventInput,
    ) -> FieldResult<EventPayload> {
        Ok(
            update::<event::Entity, _>(ctx, id, version, input, event_changes)
                .await?
                .into(),
        )
    }

    /// Adds a document.
    async fn create_document(
        &self,
        ctx: &Context<'_>,
        input: DocumentInput,
    ) -> FieldResult<DocumentPayload> {
        Ok(create::<document::Entity, _>(ctx, input, document_changes)
            .await?
            .into())
    }

    /// Changes a document that is at `version`.
    async fn update_document(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: DocumentInput,
    ) -> FieldResult<DocumentPayload> {
        Ok(
            update::<document::Entity, _>(ctx, id, version, input, document_changes)
                .await?
                .into(),
        )
    }

    /// Adds an award.
    async fn create_award(
        &self,
        ctx: &Context<'_>,
        input: AwardInput,
    ) -> FieldResult<AwardPayload> {
        Ok(create::<award::Entity, _>(ctx, input, award_changes)
            .await?
            .into())
    }

    /// Changes an award that is at `version`.
    async fn update_award(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: AwardInput,
    ) -> FieldResult<AwardPayload> {
        Ok(
            update::<award::Entity, _>(ctx, id, version, input, award_changes)
                .await?
                .into(),
        )
    }

    /// Adds a statement.
    async fn create_statement(
        &self,
        ctx: &Context<'_>,
        input: StatementInput,
    ) -> FieldResult<StatementPayload> {
        Ok(
            create::<statement::Entity, _>(ctx, input, statement_changes)
                .await?
                .into(),
        )
    }

    /// Changes a statement that is at `version`.
    async fn update_statement(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: StatementInput,
    ) -> FieldResult<StatementPayload> {
        Ok(
            update::<statement::Entity, _>(ctx, id, version, input, statement_changes)
                .await?
                .into(),
        )
    }

    /// Adds a commemoration.
    async fn create_commemoration(
        &self,
        ctx: &Context<'_>,
        input: CommemorationInput,
    ) -> FieldResult<CommemorationPayload> {
        Ok(
            create::<commemoration::Entity, _>(ctx, input, commemoration_changes)
                .await?
                .into(),
        )
    }

    /// Changes a commemoration that is at `version`.
    async fn update_commemoration(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: CommemorationInput,
    ) -> FieldResult<CommemorationPayload> {
        Ok(
            update::<commemoration::Entity, _>(ctx, id, version, input, commemoration_changes)
                .await?
                .into(),
        )
    }
}

async fn event_changes(
    w: &Writer<'_>,
    input: EventInput,
    current: Option<&event::Model>,
) -> WriteResult<event::ActiveModel> {
    let creating = current.is_none();
    let mut check = Check::default();
    let mut row = event::ActiveModel::default();
    let name = required_line(&mut check, "name", input.name, creating, MAX_TITLE);
    let slug = editing::slug::<event::Entity>(
        w,
        &mut check,
        input.slug,
        name.as_deref().filter(|_| creating),
        current.map(|c| c.id),
    )
    .await?;
    put(&mut row.slug, slug);
    put(&mut row.name, name);
    let starts = match input.starts_on {
        Some(day) => Some(day.0),
        None if creating => check.required("startsOn", None),
        None => None,
    };
    let ends = optional(input.ends_on, |d| d.0);
    check.range(
        "endsOn",
        starts.or(current.map(|c| c.starts_on)),
        ends.unwrap_or_else(|| current.and_then(|c| c.ends_on)),
    );
    put(&mut row.starts_on, starts);
    put(&mut row.ends_on, ends);
    put(&mut row.starts_at, optional(input.starts_at, |at| at.0));
    let precision = input
        .date_precision
        .or(creating.then_some(DatePrecision::Day))
        .map(|p| p.stored().to_owned());
    put(&mut row.date_precision, precision);
    if creating {
        row.year_inferred = Set(false);
    }
    put(
        &mut row.date_note,
        optional_text(&mut check, "dateNote", input.date_note, MAX_SUMMARY),
    );
    put(
        &mut row.location,
        optional_line(&mut check, "location", input.location, MAX_TITLE),
    );
    put(
        &mut row.attendance,
        optional_count(&mut check, "attendance", input.attendance),
    );
    put(
        &mut row.attendance_note,
        optional_text(
            &mut check,
            "attendanceNote",
            input.attendance_note,
            MAX_SUMMARY,
        ),
    );
    put(
        &mut row.description,
        optional_text(&mut check, "description", input.description, MAX_BODY),
    );
    check.finish()?;
    Ok(row)
}

async fn document_changes(
    w: &Writer<'_>,
    input: DocumentInput,
    current: Option<&document::Model>,
) -> WriteResult<document::ActiveModel> {
    let creating = current.is_none();
    let mut check = Check::default();
    let mut row = document::ActiveModel::default();
    let code = required_line(&mut check, "code", input.code, creating, MAX_SHORT);
    if let Some(code) = &code {
        let key = text::document_code_key(code);
        let mut taken = document::Entity::find().filter(document::Column::CodeKey.eq(key.as_str()));
        if let Some(current) = current {
            taken = taken.filter(document::Column::Id.ne(current.id));
        }
        if taken.one(w.txn).await?.is_some() {
            check.fail(
                "code",
                ErrorCode::Taken,
                format!("another document has the code {code:?}"),
            );
        }
        row.code_key = Set(key);
    }
    put(&mut row.code, code);
    put(
        &mut row.title,
        required_line(&mut check, "title", input.title, creating, MAX_TITLE),
    );
    put(
        &mut row.kind,
        optional_line(&mut check, "kind", input.kind, MAX_SHORT),
    );
    let issuer = optional_reference::<organization::Entity>(
        w,
        &mut check,
        "issuer",
        input.issuer,
        Kind::Organization,
    )
    .await?;
    put(&mut row.issuer_id, issuer);
    put(
        &mut row.term,
        optional_line(&mut check, "term", input.term, MAX_SHORT),
    );
    put(&mut row.issued_on, optional(input.issued_on, |d| d.0));
    put(
        &mut row.summary,
        optional_text(&mut check, "summary", input.summary, MAX_SUMMARY),
    );
    check.finish()?;
    Ok(row)
}

async fn award_changes(
    w: &Writer<'_>,
    input: AwardInput,
    current: Option<&award::Model>,
) -> WriteResult<award::ActiveModel> {
    let creating = current.is_none();
    let mut check = Check::default();
    let mut row = award::ActiveModel::default();
    put(
        &mut row.name,
        required_line(&mut check, "name", input.name, creating, MAX_TITLE),
    );
    let event =
        optional_reference::<event::Entity>(w, &mut check, "event", input.event, Kind::Event)
            .await?;
    put(&mut row.event_id, event);
    let by = optional_reference::<organization::Entity>(
        w,
        &mut check,
        "awardedBy",
        input.awarded_by,
        Kind::Organization,
    )
    .await?;
    put(&mut row.awarded_by_id, by);
    put(
        &mut row.reason,
        optional_text(&mut check, "reason", input.reason, MAX_SUMMARY),
    );
    put(
        &mut row.period,
        optional_line(&mut check, "period", input.period, MAX_SHORT),
    );
    for (field, value, slot) in [
        (
            "collectiveCount",
            input.collective_count,
            &mut row.collective_count,
        ),
        (
            "individualCount",
            input.individual_count,
            &mut row.individual_count,
        ),
    ] {
        put(slot, optional_count(&mut check, field, value));
    }
    check.finish()?;
    Ok(row)
}

async fn statement_changes(
    w: &Writer<'_>,
    input: StatementInput,
    current: Option<&statement::Model>,
) -> WriteResult<statement::ActiveModel> {
    let creating = current.is_none();
    let mut check = Check::default();
    let mut row = statement::ActiveModel::default();
    let person = required_reference::<person::Entity>(
        w,
        &mut check,
        "person",
        input.person,
        creating,
        Kind::Person,
    )
    .await?;
    put(&mut row.person_id, person);
    let event =
        optional_reference::<event::Entity>(w, &mut check, "event", input.event, Kind::Event)
            .await?;
    put(&mut row.event_id, event);
    let article = optional_reference::<article::Entity>(
        w,
        &mut check,
        "article",
        input.article,
        Kind::Article,
    )
    .await?;
    put(&mut row.article_id, article);
    put(
        &mut row.kind,
        optional_line(&mut check, "kind", input.kind, MAX_SHORT),
    );
    let text = match input.text {
        Some(text) => check.block("text", &text, MAX_BODY),
        None if creating => check.required("text", None),
        None => None,
    };
    put(&mut row.text, text);
    check.finish()?;
    Ok(row)
}

async fn commemoration_changes(
    w: &Writer<'_>,
    input: CommemorationInput,
    current: Option<&commemoration::Model>,
) -> WriteResult<commemoration::ActiveModel> {
    let creating = current.is_none();
    let mut check = Check::default();
    let mut row = commemoration::ActiveModel::default();
    put(
        &mut row.name,
        required_line(&mut check, "name", input.name, creating, MAX_TITLE),
    );
    let base = match input.base_date {
        Some(day) => Some(day.0),
        None if creating => check.required("baseDate", None),
        None => None,
    };
    if let Some(base) = base {
        row.month_day = Set(base.format("%m-%d").to_string());
    }
    put(&mut row.base_date, base);
    let precision = input
        .date_precision
        .or(creating.then_some(DatePrecision::Day))
        .map(|p| p.stored().to_owned());
    put(&mut row.date_precision, precision);
    put(
        &mut row.note,
        optional_text(&mut check, "note", input.note, MAX_SUMMARY),
    );
    let organization = optional_reference::<organization::Entity>(
        w,
        &mut check,
        "organization",
        input.organization,
        Kind::Organization,
    )
    .await?;
    put(&mut row.organization_id, organization);
    let event =
        optional_reference::<event::Entity>(w, &mut check, "event", input.event, Kind::Event)
            .await?;
    put(&mut row.event_id, event);
    check.finish()?;
    Ok(row)
}
