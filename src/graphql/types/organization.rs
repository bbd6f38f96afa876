//! `Organization`.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use entity::organization;

use crate::error::FieldResult;
use crate::graphql::connection::{Conn, PageArgs};
use crate::graphql::ids::{self, Kind};
use crate::graphql::inline::InlineList;
use crate::graphql::loaders;
use crate::graphql::types::article::{self, Article, ArticleOwner};
use crate::graphql::types::person::{Position, held};
use crate::graphql::types::scalars::{Date, LocalizedText, localized};
use crate::graphql::types::{Document, Event};

/// An organization; organizations form a hierarchy.
pub struct Organization(pub Arc<organization::Model>);

#[Object]
impl Organization {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Organization, self.0.id)
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
    /// The full name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The short name in common use.
    async fn short_name(&self) -> Option<&str> {
        self.0.short_name.as_deref()
    }
    /// The name in other languages.
    async fn names(&self) -> Vec<LocalizedText> {
        localized(self.0.names.as_deref())
    }
    /// What kind of body it is (`party_body`, `ministry`, `mass_organization`, …).
    async fn kind(&self) -> Option<&str> {
        self.0.kind.as_deref()
    }
    /// The day it was founded.
    async fn founded_on(&self) -> Option<Date> {
        self.0.founded_on.map(Date)
    }
    /// Its website.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// A description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The organization it belongs to.
    async fn parent(&self, ctx: &Context<'_>) -> FieldResult<Option<Organization>> {
        Ok(
            loaders::by_opt_id::<organization::Entity>(ctx, self.0.parent_id)
                .await?
                .map(Organization),
        )
    }
    /// The organizations that belong to it, in Vietnamese name order.
    async fn children(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Organization>> {
        let rows = loaders::children::<loaders::ChildrenOfOrganization>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Organization).collect())
    }
    /// The positions in it held on the day `at`, or all when it is omitted.
    async fn positions(
        &self,
        ctx: &Context<'_>,
        at: Option<Date>,
    ) -> FieldResult<InlineList<Position>> {
        let rows = loaders::children::<loaders::PositionsInOrganization>(ctx, self.0.id).await?;
        Ok(InlineList(held(rows, at)))
    }
    /// The events it organized.
    async fn events(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Event>> {
        let rows = loaders::targets::<loaders::EventsOfOrganizer>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Event).collect())
    }
    /// The documents it issued.
    async fn documents(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Document>> {
        let rows = loaders::children::<loaders::DocumentsOfIssuer>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(Document).collect())
    }
    /// The articles that mention it, newest first.
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
        Ok(article::of_owner(ctx, ArticleOwner::Organization, self.0.id, args).await?)
    }
}
