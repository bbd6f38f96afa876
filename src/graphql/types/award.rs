//! `Award`, `Statement` and `Commemoration`.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::Datelike;

use entity::{article, award, commemoration, event, organization, person, statement};

use crate::error::FieldResult;
use crate::graphql::ids::{self, Kind};
use crate::graphql::inline::InlineList;
use crate::graphql::loaders;
use crate::graphql::types::scalars::{Date, DatePrecision, LocalizedText, localized};
use crate::graphql::types::{Article, Event, Organization, Person};

/// An award given at an event by an organization.
pub struct Award(pub Arc<award::Model>);

#[Object]
impl Award {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Award, self.0.id)
    }

    /// The version an update or delete must be based on.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it last changed.
    async fn updated_at(&self) -> crate::graphql::types::scalars::DateTime {
        crate::graphql::types::scalars::DateTime(self.0.updated_at)
    }
    /// What was given, such as `Bằng khen`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The name in other languages.
    async fn names(&self) -> Vec<LocalizedText> {
        localized(self.0.names.as_deref())
    }
    /// What it was given for.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// The period the achievement covers, such as `2011–2020`.
    async fn period(&self) -> Option<&str> {
        self.0.period.as_deref()
    }
    /// How many collectives received it.
    async fn collective_count(&self) -> Option<i32> {
        self.0.collective_count
    }
    /// How many individuals received it.
    async fn individual_count(&self) -> Option<i32> {
        self.0.individual_count
    }
    /// The event it was given at.
    async fn event(&self, ctx: &Context<'_>) -> FieldResult<Option<Event>> {
        Ok(loaders::by_opt_id::<event::Entity>(ctx, self.0.event_id)
            .await?
            .map(Event))
    }
    /// The organization that gave it.
    async fn awarded_by(&self, ctx: &Context<'_>) -> FieldResult<Option<Organization>> {
        Ok(
            loaders::by_opt_id::<organization::Entity>(ctx, self.0.awarded_by_id)
                .await?
                .map(Organization),
        )
    }
    /// The people named as recipients.
    async fn recipient_people(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Person>> {
        let rows = loaders::targets::<loaders::PeopleOfAward>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Person).collect())
    }
    /// The organizations named as recipients.
    async fn recipient_organizations(
        &self,
        ctx: &Context<'_>,
    ) -> FieldResult<InlineList<Organization>> {
        let rows = loaders::targets::<loaders::OrganizationsOfAward>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Organization).collect())
    }
}

/// Words a person said, at an event or in an article.
pub struct Statement(pub Arc<statement::Model>);

#[Object]
impl Statement {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Statement, self.0.id)
    }

    /// The version an update or delete must be based on.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it last changed.
    async fn updated_at(&self) -> crate::graphql::types::scalars::DateTime {
        crate::graphql::types::scalars::DateTime(self.0.updated_at)
    }
    /// What kind of statement (`speech`, `conclusion`, `quote`, …).
    async fn kind(&self) -> Option<&str> {
        self.0.kind.as_deref()
    }
    /// The words, or what the article reports of them.
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// Who said it.
    async fn person(&self, ctx: &Context<'_>) -> FieldResult<Option<Person>> {
        Ok(loaders::by_id::<person::Entity>(ctx, self.0.person_id)
            .await?
            .map(Person))
    }
    /// Where it was said.
    async fn event(&self, ctx: &Context<'_>) -> FieldResult<Option<Event>> {
        Ok(loaders::by_opt_id::<event::Entity>(ctx, self.0.event_id)
            .await?
            .map(Event))
    }
    /// The article that reports it.
    async fn article(&self, ctx: &Context<'_>) -> FieldResult<Option<Article>> {
        Ok(
            loaders::by_opt_id::<article::Entity>(ctx, self.0.article_id)
                .await?
                .map(Article),
        )
    }
}

/// A date whose anniversaries are commemorated.
pub struct Commemoration(pub Arc<commemoration::Model>);

/// One anniversary of a commemorated date.
#[derive(SimpleObject)]
pub struct Anniversary {
    /// What is commemorated.
    pub commemoration: Commemoration,
    /// How many years since the base date.
    pub years: i32,
    /// The day of the anniversary; null when the base date is known only to the year.
    pub date: Option<Date>,
}

#[Object]
impl Commemoration {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Commemoration, self.0.id)
    }

    /// The version an update or delete must be based on.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it last changed.
    async fn updated_at(&self) -> crate::graphql::types::scalars::DateTime {
        crate::graphql::types::scalars::DateTime(self.0.updated_at)
    }
    /// What is commemorated.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The name in other languages.
    async fn names(&self) -> Vec<LocalizedText> {
        localized(self.0.names.as_deref())
    }
    /// The day the anniversaries count from.
    async fn base_date(&self) -> Date {
        Date(self.0.base_date)
    }
    /// How precisely the base date is known.
    async fn date_precision(&self) -> DatePrecision {
        DatePrecision::from_stored(Some(&self.0.date_precision))
    }
    /// Where the base date comes from, or what is uncertain about it.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// The organization it belongs to.
    async fn organization(&self, ctx: &Context<'_>) -> FieldResult<Option<Organization>> {
        Ok(
            loaders::by_opt_id::<organization::Entity>(ctx, self.0.organization_id)
                .await?
                .map(Organization),
        )
    }
    /// The anniversary that falls in `year`: 94 for 1930 in 2024.
    async fn anniversary(&self, year: i32) -> i32 {
        year - self.0.base_date.year()
    }
}
