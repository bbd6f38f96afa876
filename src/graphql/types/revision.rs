//! `Revision`: an earlier state of an object, for editors.

use async_graphql::{ID, Json, Object};

use entity::revision;

use crate::graphql::ids::{self, Kind};
use crate::graphql::types::scalars::DateTime;

/// An earlier state of an object, kept when it was updated or deleted.
pub struct Revision(pub revision::Model);

#[Object]
impl Revision {
    /// The global ID, for `restoreRevision`.
    async fn id(&self) -> ID {
        ids::encode(Kind::Revision, self.0.id)
    }

    /// The version the object had in this state.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the state was replaced.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// Who replaced it (the token's name).
    async fn actor(&self) -> Option<&str> {
        self.0.actor.as_deref()
    }

    /// The stored columns of the object in this state.
    async fn snapshot(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.0.snapshot).unwrap_or_default())
    }
}
