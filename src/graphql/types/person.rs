//! `Person` and `Position`.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use entity::{organization, person, position};

use crate::domain::positions::held_on;
use crate::error::FieldResult;
use crate::graphql::connection::{Conn, PageArgs};
use crate::graphql::ids::{self, Kind};
use crate::graphql::inline::{Inline, InlineList};
use crate::graphql::loaders;
use crate::graphql::types::article::{self, Article, ArticleOwner};
use crate::graphql::types::scalars::{Date, DatePrecision, LocalizedText, localized};
use crate::graphql::types::{Event, Organization, Statement};

/// A person, named family-middle-given.
pub struct Person(pub Arc<person::Model>);

/// Keeps the positions held on `at`, or all of them, in the order they were read
/// (earliest start first, those with an unknown start last: see
/// `loaders::PositionsOfPerson`). Without `at`, the rows may be light ones,
/// without their dates.
pub fn held(rows: Vec<Arc<position::Model>>, at: Option<Date>) -> Vec<Position> {
    rows.into_iter()
        .filter(|p| {
            at.is_none_or(|Date(day)| {
                held_on(p.starts_on, p.ends_on, p.end_precision.as_deref(), day)
            })
        })
        .map(Position)
        .collect()
}

#[Object]
impl Person {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Person, self.0.id)
    }

    /// The version an update or delete must be based on.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it last changed.
    async fn updated_at(&self) -> crate::graphql::types::scalars::DateTime {
        crate::graphql::types::scalars::DateTime(self.0.updated_at)
    }
    /// The URL slug, unique.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// The full name as written (family, middle, given).
    async fn name(&self) -> &str {
        &self.0.full_name
    }
    /// The family name (họ).
    async fn family_name(&self) -> Option<&str> {
        self.0.family_name.as_deref()
    }
    /// The middle name (tên đệm).
    async fn middle_name(&self) -> Option<&str> {
        self.0.middle_name.as_deref()
    }
    /// The given name (tên), by which Vietnamese lists sort.
    async fn given_name(&self) -> Option<&str> {
        self.0.given_name.as_deref()
    }
    /// The name in other languages or scripts.
    async fn names(&self) -> Vec<LocalizedText> {
        localized(self.0.names.as_deref())
    }
    /// A short biography.
    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }
    /// The day of birth.
    async fn birth_date(&self) -> Option<Date> {
        self.0.birth_date.map(Date)
    }
    /// The titles held on the day `at`, or every title when it is omitted.
    async fn positions(
        &self,
        ctx: &Context<'_>,
        at: Option<Date>,
    ) -> FieldResult<InlineList<Position>> {
        let rows = loaders::children::<loaders::PositionsOfPerson>(ctx, self.0.id).await?;
        Ok(InlineList(held(rows, at)))
    }
    /// The articles that mention this person, newest first.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> FieldResult<Conn<Article>> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(article::of_owner(ctx, ArticleOwner::Person, self.0.id, args).await?)
    }
    /// The events this person took part in.
    async fn events(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Event>> {
        let mut rows = loaders::targets::<loaders::EventsOfPerson>(ctx, self.0.id).await?;
        rows.dedup_by_key(|e| e.id);
        Ok(rows.into_iter().map(Event).collect())
    }
    /// What this person said, as reported.
    async fn statements(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Statement>> {
        let rows = loaders::children::<loaders::StatementsOfPerson>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Statement).collect())
    }
}

/// A title a person holds in an organization for a period.
pub struct Position(pub Arc<position::Model>);

#[Object]
impl Position {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Position, self.0.id)
    }

    /// The version an update or delete must be based on.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it last changed.
    async fn updated_at(&self) -> crate::graphql::types::scalars::DateTime {
        crate::graphql::types::scalars::DateTime(self.0.updated_at)
    }
    /// The title, as written.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The title in other languages.
    async fn titles(&self) -> Vec<LocalizedText> {
        localized(self.0.titles.as_deref())
    }
    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> FieldResult<Option<Inline<Organization>>> {
        Ok(
            loaders::by_id::<organization::Entity>(ctx, self.0.organization_id)
                .await?
                .map(|row| Inline(Organization(row))),
        )
    }
    /// The person holding it.
    async fn person(&self, ctx: &Context<'_>) -> FieldResult<Option<Person>> {
        Ok(loaders::by_id::<person::Entity>(ctx, self.0.person_id)
            .await?
            .map(Person))
    }
    /// The first day (of the period `startPrecision` names); null when unknown.
    async fn starts_on(&self) -> Option<Date> {
        self.0.starts_on.map(Date)
    }
    /// How precisely the start is known.
    async fn start_precision(&self) -> Option<DatePrecision> {
        self.0
            .starts_on
            .map(|_| DatePrecision::from_stored(self.0.start_precision.as_deref()))
    }
    /// The last day (of the period `endPrecision` names); null when unknown,
    /// which is not the same as "still held".
    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Date)
    }
    /// How precisely the end is known.
    async fn end_precision(&self) -> Option<DatePrecision> {
        self.0
            .ends_on
            .map(|_| DatePrecision::from_stored(self.0.end_precision.as_deref()))
    }
    /// Where the dates come from, or what is uncertain about them.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// Whether the title was held on `day` (bounds not known do not limit).
    async fn held_on(&self, day: Date) -> bool {
        held_on(
            self.0.starts_on,
            self.0.ends_on,
            self.0.end_precision.as_deref(),
            day.0,
        )
    }
}
