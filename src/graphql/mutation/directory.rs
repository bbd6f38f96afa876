//! Writing the directory: people, organizations, and the positions that join them.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};

use entity::{organization, person, position};

use super::{
    MAX_SHORT, MAX_SUMMARY, MAX_TITLE, OrganizationPayload, PersonPayload, PositionPayload, create,
    optional, optional_line, optional_reference, optional_text, optional_url, put, required_line,
    required_reference, update,
};
use crate::domain::editing::{self, Check, ErrorCode, WriteResult, Writer};
use crate::error::FieldResult;
use crate::graphql::ids::Kind;
use crate::graphql::types::scalars::{Date, DatePrecision};
use crate::text;

/// The fields of a person. On create, `name` is required unless both `familyName`
/// and `givenName` are given (the name is then family, middle, given).
#[derive(InputObject, Default)]
pub struct PersonInput {
    /// The full name as written ("Võ Văn Thưởng").
    pub name: Option<String>,
    /// The family name ("Võ").
    pub family_name: MaybeUndefined<String>,
    /// The middle name(s) ("Văn").
    pub middle_name: MaybeUndefined<String>,
    /// The given name ("Thưởng").
    pub given_name: MaybeUndefined<String>,
    /// The URL slug; made from the name when a new person has none.
    pub slug: Option<String>,
    /// A short biography.
    pub bio: MaybeUndefined<String>,
    /// The day of birth.
    pub birth_date: MaybeUndefined<Date>,
}

/// The fields of an organization. On create, `name` is required.
#[derive(InputObject, Default)]
pub struct OrganizationInput {
    /// The full name.
    pub name: Option<String>,
    /// The URL slug; made from the name when a new organization has none.
    pub slug: Option<String>,
    /// The short name or abbreviation.
    pub short_name: MaybeUndefined<String>,
    /// What kind of body it is (party, state, ministry, union…).
    pub kind: MaybeUndefined<String>,
    /// The day it was founded.
    pub founded_on: MaybeUndefined<Date>,
    /// The organization it belongs to.
    pub parent: MaybeUndefined<ID>,
    /// Its website.
    pub website: MaybeUndefined<String>,
    /// A description.
    pub description: MaybeUndefined<String>,
}

/// The fields of a position. On create, `person`, `organization` and `title` are
/// required.
#[derive(InputObject, Default)]
pub struct PositionInput {
    /// Who holds it.
    pub person: Option<ID>,
    /// Where.
    pub organization: Option<ID>,
    /// The title.
    pub title: Option<String>,
    /// The first day (or month or year, by `startPrecision`).
    pub starts_on: MaybeUndefined<Date>,
    /// How precisely `startsOn` is known.
    pub start_precision: MaybeUndefined<DatePrecision>,
    /// The last day; not before `startsOn`.
    pub ends_on: MaybeUndefined<Date>,
    /// How precisely `endsOn` is known.
    pub end_precision: MaybeUndefined<DatePrecision>,
    /// A note on the sources of the dates.
    pub note: MaybeUndefined<String>,
}

#[derive(Default)]
pub struct DirectoryMutations;

#[Object]
impl DirectoryMutations {
    /// Adds a person.
    async fn create_person(
        &self,
        ctx: &Context<'_>,
        input: PersonInput,
    ) -> FieldResult<PersonPayload> {
        Ok(create::<person::Entity, _>(ctx, input, person_changes)
            .await?
            .into())
    }

    /// Changes a person who is at `version`.
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: PersonInput,
    ) -> FieldResult<PersonPayload> {
        Ok(
            update::<person::Entity, _>(ctx, id, version, input, person_changes)
                .await?
                .into(),
        )
    }

    /// Adds an organization.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: OrganizationInput,
    ) -> FieldResult<OrganizationPayload> {
        Ok(
            create::<organization::Entity, _>(ctx, input, organization_changes)
                .await?
                .into(),
        )
    }

    /// Changes an organization that is at `version`.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: OrganizationInput,
    ) -> FieldResult<OrganizationPayload> {
        Ok(
            update::<organization::Entity, _>(ctx, id, version, input, organization_changes)
                .await?
                .into(),
        )
    }

    /// Adds a position: a person's title in an organization for a period.
    async fn create_position(
        &self,
        ctx: &Context<'_>,
        input: PositionInput,
    ) -> FieldResult<PositionPayload> {
        Ok(create::<position::Entity, _>(ctx, input, position_changes)
            .await?
            .into())
    }

    /// Changes a position that is at `version`.
    async fn update_position(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: PositionInput,
    ) -> FieldResult<PositionPayload> {
        Ok(
            update::<position::Entity, _>(ctx, id, version, input, position_changes)
                .await?
                .into(),
        )
    }
}

async fn person_changes(
    w: &Writer<'_>,
    input: PersonInput,
    current: Option<&person::Model>,
) -> WriteResult<person::ActiveModel> {
    let mut check = Check::default();
    let mut row = person::ActiveModel::default();
    let family = optional_line(&mut check, "familyName", input.family_name, MAX_SHORT);
    let middle = optional_line(&mut check, "middleName", input.middle_name, MAX_SHORT);
    let given = optional_line(&mut check, "givenName", input.given_name, MAX_SHORT);
    // The parts as they will be: the input's, else the stored ones.
    let merged = |new: &Option<Option<String>>, old: Option<&Option<String>>| match new {
        Some(value) => value.clone(),
        None => old.cloned().flatten(),
    };
    let family_now = merged(&family, current.map(|c| &c.family_name));
    let middle_now = merged(&middle, current.map(|c| &c.middle_name));
    let given_now = merged(&given, current.map(|c| &c.given_name));
    let composed = match (&family_now, &given_now) {
        (Some(family), Some(given)) => Some(
            [
                Some(family.as_str()),
                middle_now.as_deref(),
                Some(given.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        ),
        _ => None,
    };
    let creating = current.is_none();
    let name = match input.name {
        Some(name) => check.line("name", &name, MAX_TITLE),
        None if creating && composed.is_some() => composed,
        None => required_line(&mut check, "name", None, creating, MAX_TITLE),
    };
    let names_changed = name.is_some() || family.is_some() || middle.is_some() || given.is_some();
    if names_changed {
        let full_name = name
            .clone()
            .or_else(|| current.map(|c| c.full_name.clone()))
            .unwrap_or_default();
        row.sort_key = sea_orm::Set(text::person_sort_key(
            &full_name,
            family_now.as_deref(),
            middle_now.as_deref(),
            given_now.as_deref(),
        ));
    }
    let slug = editing::slug::<person::Entity>(
        w,
        &mut check,
        input.slug,
        name.as_deref().filter(|_| creating),
        current.map(|c| c.id),
    )
    .await?;
    put(&mut row.slug, slug);
    put(&mut row.full_name, name);
    put(&mut row.family_name, family);
    put(&mut row.middle_name, middle);
    put(&mut row.given_name, given);
    put(
        &mut row.bio,
        optional_text(&mut check, "bio", input.bio, MAX_SUMMARY),
    );
    put(&mut row.birth_date, optional(input.birth_date, |d| d.0));
    check.finish()?;
    Ok(row)
}

async fn organization_changes(
    w: &Writer<'_>,
    input: OrganizationInput,
    current: Option<&organization::Model>,
) -> WriteResult<organization::ActiveModel> {
    let creating = current.is_none();
    let mut check = Check::default();
    let mut row = organization::ActiveModel::default();
    let name = required_line(&mut check, "name", input.name, creating, MAX_TITLE);
    if let Some(name) = &name {
        row.sort_key = sea_orm::Set(text::sort_key(&[name]));
    }
    let slug = editing::slug::<organization::Entity>(
        w,
        &mut check,
        input.slug,
        name.as_deref().filter(|_| creating),
        current.map(|c| c.id),
    )
    .await?;
    put(&mut row.slug, slug);
    put(&mut row.name, name);
    put(
        &mut row.short_name,
        optional_line(&mut check, "shortName", input.short_name, MAX_SHORT),
    );
    put(
        &mut row.kind,
        optional_line(&mut check, "kind", input.kind, MAX_SHORT),
    );
    put(&mut row.founded_on, optional(input.founded_on, |d| d.0));
    let parent = optional_reference::<organization::Entity>(
        w,
        &mut check,
        "parent",
        input.parent,
        Kind::Organization,
    )
    .await?;
    if let (Some(Some(parent)), Some(current)) = (parent, current)
        && within(w, parent, current.id).await?
    {
        check.fail(
            "parent",
            ErrorCode::InvalidRange,
            "an organization cannot belong to itself or to one of its own units",
        );
    }
    put(&mut row.parent_id, parent);
    put(
        &mut row.website,
        optional_url(&mut check, "website", input.website),
    );
    put(
        &mut row.description,
        optional_text(&mut check, "description", input.description, MAX_SUMMARY),
    );
    check.finish()?;
    Ok(row)
}

/// Whether `unit` is `ancestor` or lies under it.
async fn within(w: &Writer<'_>, unit: i64, ancestor: i64) -> WriteResult<bool> {
    use sea_orm::EntityTrait;
    let mut next = Some(unit);
    // The hierarchy is shallow; the bound stops a cycle that is already stored.
    for _ in 0..64 {
        let Some(id) = next else {
            return Ok(false);
        };
        if id == ancestor {
            return Ok(true);
        }
        next = organization::Entity::find_by_id(id)
            .one(w.txn)
            .await?
            .and_then(|o| o.parent_id);
    }
    Ok(true)
}

async fn position_changes(
    w: &Writer<'_>,
    input: PositionInput,
    current: Option<&position::Model>,
) -> WriteResult<position::ActiveModel> {
    let creating = current.is_none();
    let mut check = Check::default();
    let mut row = position::ActiveModel::default();
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
    let organization = required_reference::<organization::Entity>(
        w,
        &mut check,
        "organization",
        input.organization,
        creating,
        Kind::Organization,
    )
    .await?;
    put(&mut row.organization_id, organization);
    put(
        &mut row.title,
        required_line(&mut check, "title", input.title, creating, MAX_TITLE),
    );
    let starts = optional(input.starts_on, |d| d.0);
    let ends = optional(input.ends_on, |d| d.0);
    let starts_now = starts.unwrap_or_else(|| current.and_then(|c| c.starts_on));
    let ends_now = ends.unwrap_or_else(|| current.and_then(|c| c.ends_on));
    check.range("endsOn", starts_now, ends_now);
    put(&mut row.starts_on, starts);
    put(&mut row.ends_on, ends);
    put(
        &mut row.start_precision,
        optional(input.start_precision, |p| p.stored().to_owned()),
    );
    put(
        &mut row.end_precision,
        optional(input.end_precision, |p| p.stored().to_owned()),
    );
    put(
        &mut row.note,
        optional_text(&mut check, "note", input.note, MAX_SUMMARY),
    );
    check.finish()?;
    Ok(row)
}
