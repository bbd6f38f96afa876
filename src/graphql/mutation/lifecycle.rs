//! Deleting (softly), restoring, and going back to a revision: the same for every
//! type, so they take any global ID. Editors delete and restore articles; deleting
//! anything shared by many articles (a person, an organization, …) takes an admin.

use async_graphql::{Context, ID, Object};
use sea_orm::{EntityTrait, IntoActiveModel};

use entity::{
    article, award, commemoration, document, event, media, organization, person, position,
    revision, statement, tag,
};

use super::{Answer, Exposed, NodePayload, Session, session};
use crate::domain::editing::{self, ErrorCode};
use crate::error::FieldResult;
use crate::graphql::ids::{self, Kind};
use crate::graphql::types::Node;

#[derive(Default)]
pub struct LifecycleMutations;

/// Calls a generic function with the entity of a kind.
macro_rules! with_entity {
    ($kind:expr, $function:ident ( $($arg:expr),* )) => {
        match $kind {
            Kind::Article => $function::<article::Entity>($($arg),*).await,
            Kind::Person => $function::<person::Entity>($($arg),*).await,
            Kind::Organization => $function::<organization::Entity>($($arg),*).await,
            Kind::Position => $function::<position::Entity>($($arg),*).await,
            Kind::Event => $function::<event::Entity>($($arg),*).await,
            Kind::Document => $function::<document::Entity>($($arg),*).await,
            Kind::Media => $function::<media::Entity>($($arg),*).await,
            Kind::Tag => $function::<tag::Entity>($($arg),*).await,
            Kind::Award => $function::<award::Entity>($($arg),*).await,
            Kind::Statement => $function::<statement::Entity>($($arg),*).await,
            Kind::Commemoration => $function::<commemoration::Entity>($($arg),*).await,
            Kind::Revision => Ok(Answer::refused("id", ErrorCode::InvalidFormat, "a revision is restored with restoreRevision")),
        }
    };
}

#[Object]
impl LifecycleMutations {
    /// Deletes the object at `version`. It disappears from every read and stays
    /// restorable with `restoreNode`; its last state is kept as a revision.
    async fn delete_node(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> FieldResult<NodePayload> {
        let session = session(ctx)?;
        let Ok((kind, id)) = ids::decode(&id) else {
            return Ok(Answer::refused("id", ErrorCode::InvalidFormat, "not a valid ID").into());
        };
        Ok(with_entity!(kind, delete(&session, id, version))?.into())
    }

    /// Brings a deleted object back.
    async fn restore_node(&self, ctx: &Context<'_>, id: ID) -> FieldResult<NodePayload> {
        let session = session(ctx)?;
        let Ok((kind, id)) = ids::decode(&id) else {
            return Ok(Answer::refused("id", ErrorCode::InvalidFormat, "not a valid ID").into());
        };
        Ok(with_entity!(kind, restore(&session, id))?.into())
    }

    /// Puts an object back in the state a revision kept. `version` is the object's
    /// current version; the state it replaces becomes a revision in turn.
    async fn restore_revision(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> FieldResult<NodePayload> {
        let session = session(ctx)?;
        let Ok(revision_id) = ids::decode_as(&id, Kind::Revision) else {
            return Ok(
                Answer::refused("id", ErrorCode::InvalidFormat, "not the ID of a revision").into(),
            );
        };
        let kept = revision::Entity::find_by_id(revision_id)
            .one(session.db)
            .await
            .map_err(crate::error::AppError::from)?;
        let Some(kept) = kept else {
            return Ok(Answer::refused("id", ErrorCode::NotFound, "no such revision").into());
        };
        let Some(kind) = Kind::from_name(&kept.entity_type) else {
            return Ok(Answer::refused("id", ErrorCode::NotFound, "no such revision").into());
        };
        Ok(with_entity!(kind, back_to(&session, kept.id, version))?.into())
    }
}

async fn delete<E: Exposed>(
    session: &Session<'_>,
    id: i64,
    version: i32,
) -> FieldResult<Answer<Node>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let answer = session
        .write::<E>(async |w| editing::delete::<E>(w, id, version).await)
        .await?;
    Ok(answer.map(Into::into))
}

async fn restore<E: Exposed>(session: &Session<'_>, id: i64) -> FieldResult<Answer<Node>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let answer = session
        .write::<E>(async |w| editing::restore::<E>(w, id).await)
        .await?;
    Ok(answer.map(Into::into))
}

async fn back_to<E: Exposed>(
    session: &Session<'_>,
    revision_id: i64,
    version: i32,
) -> FieldResult<Answer<Node>>
where
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let answer = session
        .write::<E>(async |w| {
            let kept = editing::find_revision::<E>(w, revision_id).await?;
            editing::restore_revision::<E>(w, &kept, version).await
        })
        .await?;
    Ok(answer.map(Into::into))
}
