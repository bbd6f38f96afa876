//! Writing media (photos and their captions) and tags.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};

use entity::{media, tag};

use super::{
    MAX_SHORT, MAX_SUMMARY, MAX_TITLE, MediaPayload, TagPayload, create, optional_count,
    optional_line, optional_text, put, required_line, update,
};
use crate::domain::editing::{self, Check, WriteResult, Writer};
use crate::error::FieldResult;

/// The fields of a media item. On create, `url` is required.
#[derive(InputObject, Default)]
pub struct MediaInput {
    /// Where the file is (http or https).
    pub url: Option<String>,
    /// The caption.
    pub caption: MaybeUndefined<String>,
    /// Who made it.
    pub credit: MaybeUndefined<String>,
    /// The width in pixels.
    pub width: MaybeUndefined<i32>,
    /// The height in pixels.
    pub height: MaybeUndefined<i32>,
}

/// The fields of a tag. On create, `name` is required.
#[derive(InputObject, Default)]
pub struct TagInput {
    /// The name.
    pub name: Option<String>,
    /// The URL slug; made from the name when a new tag has none.
    pub slug: Option<String>,
}

#[derive(Default)]
pub struct MediaMutations;

#[Object]
impl MediaMutations {
    /// Adds a media item.
    async fn create_media(
        &self,
        ctx: &Context<'_>,
        input: MediaInput,
    ) -> FieldResult<MediaPayload> {
        Ok(create::<media::Entity, _>(ctx, input, media_changes)
            .await?
            .into())
    }

    /// Changes a media item that is at `version`.
    async fn update_media(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: MediaInput,
    ) -> FieldResult<MediaPayload> {
        Ok(
            update::<media::Entity, _>(ctx, id, version, input, media_changes)
                .await?
                .into(),
        )
    }

    /// Adds a tag.
    async fn create_tag(&self, ctx: &Context<'_>, input: TagInput) -> FieldResult<TagPayload> {
        Ok(create::<tag::Entity, _>(ctx, input, tag_changes)
            .await?
            .into())
    }

    /// Changes a tag that is at `version`.
    async fn update_tag(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: TagInput,
    ) -> FieldResult<TagPayload> {
        Ok(
            update::<tag::Entity, _>(ctx, id, version, input, tag_changes)
                .await?
                .into(),
        )
    }
}

async fn media_changes(
    _: &Writer<'_>,
    input: MediaInput,
    current: Option<&media::Model>,
) -> WriteResult<media::ActiveModel> {
    let creating = current.is_none();
    let mut check = Check::default();
    let mut row = media::ActiveModel::default();
    let url = match input.url {
        Some(url) => match check.url("url", &url) {
            Some(None) => check.required("url", None),
            other => other.flatten(),
        },
        None if creating => check.required("url", None),
        None => None,
    };
    put(&mut row.url, url);
    put(
        &mut row.caption,
        optional_text(&mut check, "caption", input.caption, MAX_SUMMARY),
    );
    put(
        &mut row.credit,
        optional_line(&mut check, "credit", input.credit, MAX_SHORT),
    );
    for (field, value, slot) in [
        ("width", input.width, &mut row.width),
        ("height", input.height, &mut row.height),
    ] {
        put(slot, optional_count(&mut check, field, value));
    }
    check.finish()?;
    Ok(row)
}

async fn tag_changes(
    w: &Writer<'_>,
    input: TagInput,
    current: Option<&tag::Model>,
) -> WriteResult<tag::ActiveModel> {
    let creating = current.is_none();
    let mut check = Check::default();
    let mut row = tag::ActiveModel::default();
    let name = required_line(&mut check, "name", input.name, creating, MAX_TITLE);
    let slug = editing::slug::<tag::Entity>(
        w,
        &mut check,
        input.slug,
        name.as_deref().filter(|_| creating),
        current.map(|c| c.id),
    )
    .await?;
    put(&mut row.slug, slug);
    put(&mut row.name, name);
    check.finish()?;
    Ok(row)
}
