//! `Event` and its participants.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, SimpleObject};

use entity::event;

use crate::error::FieldResult;
use crate::graphql::connection::{Conn, PageArgs};
use crate::graphql::ids::{self, Kind};
use crate::graphql::inline::InlineList;
use crate::graphql::loaders;
use crate::graphql::types::article::{self, Article, ArticleOwner};
use crate::graphql::types::scalars::{Date, DatePrecision, DateTime, LocalizedText, localized};
use crate::graphql::types::{Award, Document, Organization, Person, Statement};

/// An event, dated to the day, month or year.
pub struct Event(pub Arc<event::Model>);

/// The part a person took in an event.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParticipantRole {
    /// Chaired or co-chaired it.
    Chair,
    /// Spoke at it.
    Speaker,
    /// A guest.
    Guest,
    /// A delegate.
    Delegate,
    /// Attended it.
    Attendee,
    /// Organized it.
    Organizer,
}

impl ParticipantRole {
    /// The stored form.
    pub fn stored(self) -> &'static str {
        match self {
            Self::Chair => "chair",
            Self::Speaker => "speaker",
            Self::Guest => "guest",
            Self::Delegate => "delegate",
            Self::Attendee => "attendee",
            Self::Organizer => "organizer",
        }
    }

    /// Reads the stored form; unknown roles read as attendance.
    pub fn from_stored(text: &str) -> Self {
        match text {
            "chair" => Self::Chair,
            "speaker" => Self::Speaker,
            "guest" => Self::Guest,
            "delegate" => Self::Delegate,
            "organizer" => Self::Organizer,
            _ => Self::Attendee,
        }
    }
}

/// A person at an event, in a role.
#[derive(SimpleObject)]
pub struct Participant {
    /// Who.
    pub person: Person,
    /// In what role.
    pub role: ParticipantRole,
}

#[Object]
impl Event {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Event, self.0.id)
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
    /// The name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The name in other languages.
    async fn names(&self) -> Vec<LocalizedText> {
        localized(self.0.names.as_deref())
    }
    /// The day it started (the first of the month or year when only those are known).
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }
    /// The instant it started, when known.
    async fn starts_at(&self) -> Option<DateTime> {
        self.0.starts_at.map(DateTime)
    }
    /// How precisely the date is known.
    async fn date_precision(&self) -> DatePrecision {
        DatePrecision::from_stored(Some(&self.0.date_precision))
    }
    /// True when the year was not printed and has been inferred.
    async fn year_inferred(&self) -> bool {
        self.0.year_inferred
    }
    /// What is known or uncertain about the date.
    async fn date_note(&self) -> Option<&str> {
        self.0.date_note.as_deref()
    }
    /// The day it ended, for events longer than a day.
    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Date)
    }
    /// Where it took place.
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    /// How many attended.
    async fn attendance(&self) -> Option<i32> {
        self.0.attendance
    }
    /// Who the attendance was made of.
    async fn attendance_note(&self) -> Option<&str> {
        self.0.attendance_note.as_deref()
    }
    /// A description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The organizations that organized it.
    async fn organizers(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Organization>> {
        let rows = loaders::targets::<loaders::OrganizersOfEvent>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Organization).collect())
    }
    /// The people who took part, with their roles.
    async fn participants(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Participant>> {
        let rows = loaders::linked::<loaders::ParticipantsOfEvent>(ctx, self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(|(link, person)| Participant {
                person: Person(person),
                role: ParticipantRole::from_stored(&link.role),
            })
            .collect())
    }
    /// The documents it discussed.
    async fn documents(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Document>> {
        let rows = loaders::targets::<loaders::DocumentsOfEvent>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Document).collect())
    }
    /// The awards given at it.
    async fn awards(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Award>> {
        let rows = loaders::children::<loaders::AwardsAtEvent>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Award).collect())
    }
    /// What was said at it.
    async fn statements(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Statement>> {
        let rows = loaders::children::<loaders::StatementsAtEvent>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Statement).collect())
    }
    /// The articles that report it, newest first.
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
        Ok(article::of_owner(ctx, ArticleOwner::Event, self.0.id, args).await?)
    }
}
