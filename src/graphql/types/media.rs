//! `Media` and `Tag`.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use entity::{media, tag};

use crate::error::FieldResult;
use crate::graphql::connection::{Conn, PageArgs};
use crate::graphql::ids::{self, Kind};
use crate::graphql::inline::InlineList;
use crate::graphql::loaders;
use crate::graphql::types::Person;
use crate::graphql::types::article::{self, Article, ArticleOwner};
use crate::graphql::types::scalars::{LocalizedText, localized};

/// A photo or other media item.
pub struct Media {
    pub model: Arc<media::Model>,
    /// Where it sits in the article it was reached from.
    pub after_paragraph: Option<i32>,
}

#[Object]
impl Media {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Media, self.model.id)
    }

    /// The version an update or delete must be based on.
    async fn version(&self) -> i32 {
        self.model.version
    }

    /// When it last changed.
    async fn updated_at(&self) -> crate::graphql::types::scalars::DateTime {
        crate::graphql::types::scalars::DateTime(self.model.updated_at)
    }
    /// Where the file is.
    async fn url(&self) -> &str {
        &self.model.url
    }
    /// The caption.
    async fn caption(&self) -> Option<&str> {
        self.model.caption.as_deref()
    }
    /// Who made it.
    async fn credit(&self) -> Option<&str> {
        self.model.credit.as_deref()
    }
    /// Width in pixels.
    async fn width(&self) -> Option<i32> {
        self.model.width
    }
    /// Height in pixels.
    async fn height(&self) -> Option<i32> {
        self.model.height
    }
    /// In an article: the number of body paragraphs before it (0: before the first).
    async fn after_paragraph(&self) -> Option<i32> {
        self.after_paragraph
    }
    /// The people it depicts.
    async fn depicts(&self, ctx: &Context<'_>) -> FieldResult<InlineList<Person>> {
        let rows = loaders::targets::<loaders::PeopleInMedia>(ctx, self.model.id).await?;
        Ok(rows.into_iter().map(Person).collect())
    }
}

/// A tag grouping articles.
pub struct Tag(pub Arc<tag::Model>);

#[Object]
impl Tag {
    /// The global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Tag, self.0.id)
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
    /// The articles with this tag, newest first.
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
        Ok(article::of_owner(ctx, ArticleOwner::Tag, self.0.id, args).await?)
    }
}
