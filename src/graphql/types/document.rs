//! `Document`: conclusions, directives and other texts articles cite.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use entity::{document, organization};

use crate::error::FieldResult;
use crate::graphql::connection::{Conn, PageArgs};
use crate::graphql::ids::{self, Kind};
use crate::graphql::inline::InlineList;
use crate::graphql::loaders;
use crate::graphql::types::article::{self, Article, ArticleOwner};
use crate::graphql::types::scalars::{Date, LocalizedText, localized};
use crate::graphql::types::{Event, Organization};

/// A document such as a party conclusion or directive.
pub struct Document(pub Arc<document::Model>);

#[Object]
impl Document {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Document, self.0.id)
    }

    /// The version an update or delete must be based on.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it last changed.
    async fn updated_at(&self) -> crate::graphql::types::scalars::DateTime {
        crate::graphql::types::scalars::DateTime(self.0.updated_at)
    }
    /// The code as written, such as `16-KL/TƯ`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The title in other languages.
    async fn titles(&self) -> Vec<LocalizedText> {
        localized(self.0.titles.as_deref())
    }
    /// What kind of document (`conclusion`, `directive`, `resolution`, …).
    async fn kind(&self) -> Option<&str> {
        self.0.kind.as_deref()
    }
    /// The body that issued it.
    async fn issuer(&self, ctx: &Context<'_>) -> FieldResult<Option<Organization>> {
        Ok(
            loaders::by_opt_id::<organization::Entity>(ctx, self.0.issuer_id)
                .await?
                .map(Organization),
        )
    }
    /// The issuer's term, such as `khóa XI`.
    async fn term(&self) -> Option<&str> {
        self.0.term.as_deref()
    }
    /// The day it was issued.
    async fn issued_on(&self) -> Option<Date> {
        self.0.issued_on.map(Date)
    }
    /// What it is about.
    async fn summary(&self) -> Option<&str> {
        self.0.summary.as_deref()
    }
    /// The events that discussed it.
    async fn events(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Event>> {
        let rows = loaders::targets::<loaders::EventsOfDocument>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Event).collect())
    }
    /// The articles that cite it, newest first.
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
        Ok(article::of_owner(ctx, ArticleOwner::Document, self.0.id, args).await?)
    }
}
