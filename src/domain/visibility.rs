//! Who sees what. A reader sees published articles whose time has come and nothing
//! deleted; editors see every article that is not deleted. Visibility is computed from status and time, so a scheduled article
//! appears at its moment with no job runner.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition};

use entity::{article, article_media, media, statement};
use sea_orm::sea_query::Query;

/// The source of "now" (a fixed instant in tests).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Viewer {
    /// Anyone without a token: published content whose time has come.
    Reader,
    /// An editor's token: drafts, scheduled and archived articles too.
    Editor,
    /// An admin's token: what an editor sees.
    Admin,
}

impl Viewer {
    /// Whether this viewer may see unpublished articles.
    pub fn is_editor(self) -> bool {
        matches!(self, Self::Editor | Self::Admin)
    }
}

/// The viewer and the instant a request is answered at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Visibility {
    pub now: DateTime<Utc>,
    pub viewer: Viewer,
}

/// The article statuses.
pub const PUBLISHED: &str = "published";

impl Visibility {
    /// The condition an article row must meet to be seen.
    pub fn articles(&self) -> Condition {
        match self.viewer {
            Viewer::Reader => Condition::all()
                .add(article::Column::DeletedAt.is_null())
                .add(article::Column::Status.eq(PUBLISHED))
                .add(article::Column::PublishedAt.lte(self.now)),
            Viewer::Editor | Viewer::Admin => {
                Condition::all().add(article::Column::DeletedAt.is_null())
            }
        }
    }

    /// The statements the viewer may see: not deleted, and none made for an
    /// article the viewer may not see (a draft's statements wait for it).
    pub fn statements(&self) -> Condition {
        Condition::all()
            .add(statement::Column::DeletedAt.is_null())
            .add(
                Condition::any()
                    .add(statement::Column::ArticleId.is_null())
                    .add(statement::Column::ArticleId.in_subquery(self.article_ids())),
            )
    }

    /// The media the viewer may see: not deleted, and, when placed in articles,
    /// placed in one the viewer may see (a draft's photos wait for it).
    pub fn media(&self) -> Condition {
        Condition::all()
            .add(media::Column::DeletedAt.is_null())
            .add(
                Condition::any()
                    .add(
                        media::Column::Id.not_in_subquery(
                            Query::select()
                                .column(article_media::Column::MediaId)
                                .from(article_media::Entity)
                                .to_owned(),
                        ),
                    )
                    .add(
                        media::Column::Id.in_subquery(
                            Query::select()
                                .column(article_media::Column::MediaId)
                                .from(article_media::Entity)
                                .and_where(
                                    article_media::Column::ArticleId
                                        .in_subquery(self.article_ids()),
                                )
                                .to_owned(),
                        ),
                    ),
            )
    }

    /// The ids of the articles the viewer may see.
    fn article_ids(&self) -> sea_orm::sea_query::SelectStatement {
        Query::select()
            .column(article::Column::Id)
            .from(article::Entity)
            .cond_where(self.articles())
            .to_owned()
    }
}
