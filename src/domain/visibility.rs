//! Who sees what. A reader sees published articles whose time has come and nothing
//! deleted; editors see every article that is not deleted. Visibility is computed from status and time, so a scheduled article
//! appears at its moment with no job runner.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition};

use entity::article;

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
}
