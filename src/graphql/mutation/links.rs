//! Adding and removing the relations between records: mentions in articles, event
//! organizers, participants and documents, depicted people, award recipients. A
//! link is added once (adding it again changes nothing) and the owner's
//! `updatedAt` moves; its version does not, since links never conflict.

use async_graphql::{Context, ID, Object};
use sea_orm::IntoActiveModel;

use entity::{article, award, document, event, media, organization, person, tag};

use super::{
    Answer, ArticlePayload, AwardPayload, EventPayload, Exposed, MediaPayload, decode, session,
};
use crate::domain::editing::{self, Check, ErrorCode, Link, WriteError};
use crate::error::FieldResult;
use crate::graphql::ids::{self, Kind};
use crate::graphql::types::event::ParticipantRole;

#[derive(Default)]
pub struct LinkMutations;

/// Which way a link changes.
#[derive(Clone, Copy)]
enum Change {
    Add,
    Remove,
}

#[Object]
impl LinkMutations {
    /// Mentions a person, organization, event, document, tag or media item in an
    /// article (media after paragraph `afterParagraph`, counted from 1).
    async fn mention(
        &self,
        ctx: &Context<'_>,
        article: ID,
        subject: ID,
        after_paragraph: Option<i32>,
    ) -> FieldResult<ArticlePayload> {
        Ok(mention(ctx, article, subject, after_paragraph, Change::Add)
            .await?
            .into())
    }

    /// Removes a mention from an article.
    async fn unmention(
        &self,
        ctx: &Context<'_>,
        article: ID,
        subject: ID,
    ) -> FieldResult<ArticlePayload> {
        Ok(mention(ctx, article, subject, None, Change::Remove)
            .await?
            .into())
    }

    /// Adds an organizer to an event.
    async fn add_organizer(
        &self,
        ctx: &Context<'_>,
        event: ID,
        organization: ID,
    ) -> FieldResult<EventPayload> {
        let link = organizers();
        Ok(relate::<event::Entity, organization::Entity>(
            ctx,
            ("event", event),
            ("organization", organization),
            link,
            Change::Add,
        )
        .await?
        .into())
    }

    /// Removes an organizer from an event.
    async fn remove_organizer(
        &self,
        ctx: &Context<'_>,
        event: ID,
        organization: ID,
    ) -> FieldResult<EventPayload> {
        let link = organizers();
        Ok(relate::<event::Entity, organization::Entity>(
            ctx,
            ("event", event),
            ("organization", organization),
            link,
            Change::Remove,
        )
        .await?
        .into())
    }

    /// Adds a participant to an event, in a role.
    async fn add_participant(
        &self,
        ctx: &Context<'_>,
        event: ID,
        person: ID,
        role: ParticipantRole,
    ) -> FieldResult<EventPayload> {
        let link = participant(role);
        Ok(relate::<event::Entity, person::Entity>(
            ctx,
            ("event", event),
            ("person", person),
            link,
            Change::Add,
        )
        .await?
        .into())
    }

    /// Removes a participant's role at an event.
    async fn remove_participant(
        &self,
        ctx: &Context<'_>,
        event: ID,
        person: ID,
        role: ParticipantRole,
    ) -> FieldResult<EventPayload> {
        let link = participant(role);
        Ok(relate::<event::Entity, person::Entity>(
            ctx,
            ("event", event),
            ("person", person),
            link,
            Change::Remove,
        )
        .await?
        .into())
    }

    /// Links a document to an event (adopted, discussed or reviewed there).
    async fn add_event_document(
        &self,
        ctx: &Context<'_>,
        event: ID,
        document: ID,
    ) -> FieldResult<EventPayload> {
        let link = event_documents();
        Ok(relate::<event::Entity, document::Entity>(
            ctx,
            ("event", event),
            ("document", document),
            link,
            Change::Add,
        )
        .await?
        .into())
    }

    /// Unlinks a document from an event.
    async fn remove_event_document(
        &self,
        ctx: &Context<'_>,
        event: ID,
        document: ID,
    ) -> FieldResult<EventPayload> {
        let link = event_documents();
        Ok(relate::<event::Entity, document::Entity>(
            ctx,
            ("event", event),
            ("document", document),
            link,
            Change::Remove,
        )
        .await?
        .into())
    }

    /// Records that a media item depicts a person.
    async fn add_depicted_person(
        &self,
        ctx: &Context<'_>,
        media: ID,
        person: ID,
    ) -> FieldResult<MediaPayload> {
        let link = depicted();
        Ok(relate::<media::Entity, person::Entity>(
            ctx,
            ("media", media),
            ("person", person),
            link,
            Change::Add,
        )
        .await?
        .into())
    }

    /// Removes a depicted person from a media item.
    async fn remove_depicted_person(
        &self,
        ctx: &Context<'_>,
        media: ID,
        person: ID,
    ) -> FieldResult<MediaPayload> {
        let link = depicted();
        Ok(relate::<media::Entity, person::Entity>(
            ctx,
            ("media", media),
            ("person", person),
            link,
            Change::Remove,
        )
        .await?
        .into())
    }

    /// Adds a recipient (a person or an organization) to an award.
    async fn add_award_recipient(
        &self,
        ctx: &Context<'_>,
        award: ID,
        recipient: ID,
    ) -> FieldResult<AwardPayload> {
        Ok(recipient_change(ctx, award, recipient, Change::Add)
            .await?
            .into())
    }

    /// Removes a recipient from an award.
    async fn remove_award_recipient(
        &self,
        ctx: &Context<'_>,
        award: ID,
        recipient: ID,
    ) -> FieldResult<AwardPayload> {
        Ok(recipient_change(ctx, award, recipient, Change::Remove)
            .await?
            .into())
    }
}

fn organizers() -> Link {
    Link::new("event_organizer", "event_id", "organization_id")
}

fn event_documents() -> Link {
    Link::new("event_document", "event_id", "document_id")
}

fn depicted() -> Link {
    Link::new("media_person", "media_id", "person_id")
}

fn participant(role: ParticipantRole) -> Link {
    Link {
        key: vec![("role", role.stored().into())],
        ..Link::new("event_participant", "event_id", "person_id")
    }
}

/// The mention table of each kind of subject.
fn mention_relation(kind: Kind, after_paragraph: Option<i32>) -> Option<Link> {
    Some(match kind {
        Kind::Person => Link::new("article_person", "article_id", "person_id"),
        Kind::Organization => Link::new("article_organization", "article_id", "organization_id"),
        Kind::Event => Link::new("article_event", "article_id", "event_id"),
        Kind::Document => Link::new("article_document", "article_id", "document_id"),
        Kind::Tag => Link::new("article_tag", "article_id", "tag_id"),
        Kind::Media => Link {
            values: vec![("after_paragraph", after_paragraph.into())],
            ..Link::new("article_media", "article_id", "media_id")
        },
        _ => return None,
    })
}

async fn mention(
    ctx: &Context<'_>,
    article: ID,
    subject: ID,
    after_paragraph: Option<i32>,
    change: Change,
) -> FieldResult<Answer<crate::graphql::types::Article>> {
    let kind = ids::decode(&subject).ok().map(|(kind, _)| kind);
    let owner = ("article", article);
    let target = ("subject", subject);
    match kind.and_then(|kind| mention_relation(kind, after_paragraph).map(|r| (kind, r))) {
        Some((Kind::Person, r)) => {
            relate::<article::Entity, person::Entity>(ctx, owner, target, r, change).await
        }
        Some((Kind::Organization, r)) => {
            relate::<article::Entity, organization::Entity>(ctx, owner, target, r, change).await
        }
        Some((Kind::Event, r)) => {
            relate::<article::Entity, event::Entity>(ctx, owner, target, r, change).await
        }
        Some((Kind::Document, r)) => {
            relate::<article::Entity, document::Entity>(ctx, owner, target, r, change).await
        }
        Some((Kind::Tag, r)) => {
            relate::<article::Entity, tag::Entity>(ctx, owner, target, r, change).await
        }
        Some((Kind::Media, r)) => {
            relate::<article::Entity, media::Entity>(ctx, owner, target, r, change).await
        }
        _ => {
            session(ctx)?;
            Ok(Answer::refused(
                "subject",
                ErrorCode::InvalidFormat,
                "not the ID of a person, organization, event, document, tag or media item",
            ))
        }
    }
}

async fn recipient_change(
    ctx: &Context<'_>,
    award: ID,
    recipient: ID,
    change: Change,
) -> FieldResult<Answer<crate::graphql::types::Award>> {
    let owner = ("award", award);
    let target = ("recipient", recipient.clone());
    let unordered = |table, column| Link {
        ordered: false,
        ..Link::new(table, "award_id", column)
    };
    match ids::decode(&recipient).ok().map(|(kind, _)| kind) {
        Some(Kind::Person) => {
            let link = unordered("award_person", "person_id");
            relate::<award::Entity, person::Entity>(ctx, owner, target, link, change).await
        }
        Some(Kind::Organization) => {
            let link = unordered("award_organization", "organization_id");
            relate::<award::Entity, organization::Entity>(ctx, owner, target, link, change).await
        }
        _ => {
            session(ctx)?;
            Ok(Answer::refused(
                "recipient",
                ErrorCode::InvalidFormat,
                "not the ID of a person or an organization",
            ))
        }
    }
}

/// Adds or removes the link between the owner `O` and the target `T`, each given by
/// its field name and global ID, and answers with the owner.
async fn relate<O: Exposed, T: Exposed>(
    ctx: &Context<'_>,
    (owner_field, owner): (&str, ID),
    (target_field, target): (&str, ID),
    link: Link,
    change: Change,
) -> FieldResult<Answer<O::Object>>
where
    O::Model: IntoActiveModel<O::ActiveModel>,
    T::Model: IntoActiveModel<T::ActiveModel>,
{
    session(ctx)?
        .write::<O>(async |w| {
            let mut check = Check::default();
            let owner_id = decode(&mut check, owner_field, &owner, O::KIND);
            let target_id = decode(&mut check, target_field, &target, T::KIND);
            check.finish()?;
            let (Some(owner_id), Some(target_id)) = (owner_id, target_id) else {
                return Err(WriteError::not_found(owner_field, O::NAME));
            };
            editing::load::<O>(w, owner_field, owner_id).await?;
            match change {
                Change::Add => {
                    if !editing::exists::<T>(w, target_id).await? {
                        return Err(WriteError::not_found(target_field, T::NAME));
                    }
                    editing::link(w, &link, owner_id, target_id).await?;
                }
                Change::Remove => {
                    editing::unlink(w, &link, owner_id, target_id).await?;
                }
            }
            editing::touch::<O>(w, owner_id).await?;
            editing::load::<O>(w, owner_field, owner_id).await
        })
        .await
}
