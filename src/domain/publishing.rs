//! The article workflow: DRAFT → PUBLISHED → ARCHIVED. Publishing at a future time
//! schedules an article; nothing runs at that moment, because visibility compares
//! `published_at` with the time of each request.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;

use entity::article;

use crate::domain::editing::{self, ErrorCode, WriteError, WriteResult, Writer};

/// Being written.
pub const DRAFT: &str = "draft";
/// Public from `published_at` on.
pub const PUBLISHED: &str = crate::domain::visibility::PUBLISHED;
/// Withdrawn.
pub const ARCHIVED: &str = "archived";

/// A move in the workflow.
#[derive(Clone, Copy, Debug)]
pub enum Transition {
    /// To published, now or at a given instant (a schedule when in the future).
    /// A published article can be given a new instant (rescheduled).
    Publish { at: Option<DateTime<Utc>> },
    /// From published back to draft.
    Unpublish,
    /// From published to archived.
    Archive,
}

/// Moves an article that is at `version`.
pub async fn transition(
    w: &Writer<'_>,
    id: i64,
    version: i32,
    transition: Transition,
) -> WriteResult<article::Model> {
    let current = editing::load::<article::Entity>(w, "id", id).await?;
    let status = current.status.as_str();
    let mut changes = article::ActiveModel::default();
    match transition {
        Transition::Publish { at } => {
            if status == PUBLISHED && at.is_none() && current.published_at <= w.now {
                return Err(refused("the article is already published"));
            }
            changes.status = Set(PUBLISHED.to_owned());
            changes.published_at = Set(at.unwrap_or(w.now));
        }
        Transition::Unpublish => {
            if status != PUBLISHED {
                return Err(refused(
                    "only a published or scheduled article can be unpublished",
                ));
            }
            changes.status = Set(DRAFT.to_owned());
        }
        Transition::Archive => {
            if status != PUBLISHED {
                return Err(refused("only a published article can be archived"));
            }
            changes.status = Set(ARCHIVED.to_owned());
        }
    }
    editing::update::<article::Entity>(w, &current, version, changes).await
}

fn refused(message: &str) -> WriteError {
    WriteError::field("status", ErrorCode::InvalidState, message)
}
