//! Writing articles: create, update, and the workflow DRAFT → PUBLISHED → ARCHIVED.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use sea_orm::{ActiveValue, ColumnTrait, EntityTrait, QueryFilter};

use entity::{article, source};

use super::{
    ArticlePayload, MAX_BODY, MAX_SHORT, MAX_SUMMARY, MAX_TITLE, optional_reference, optional_text,
    optional_url, put, required_line, session, target, update,
};
use crate::domain::editing::{self, Check, WriteResult, Writer};
use crate::domain::publishing::{self, Transition};
use crate::error::FieldResult;
use crate::graphql::ids::Kind;
use crate::graphql::types::scalars::DateTime;
use crate::text;

/// The fields of an article. On create, `title` and `body` are required and the
/// slug is made from the title when none is given; on update, only the fields given
/// change, and `null` clears an optional one.
#[derive(InputObject, Default)]
pub struct ArticleInput {
    /// The headline (trimmed, NFC; at most 300 characters).
    pub title: Option<String>,
    /// The URL slug: lowercase ASCII words joined by hyphens; unique.
    pub slug: Option<String>,
    /// The lead paragraph.
    pub summary: MaybeUndefined<String>,
    /// The text, paragraphs separated by blank lines.
    pub body: Option<String>,
    /// A BCP 47 language tag; `vi` when a new article does not say.
    pub language: Option<String>,
    /// Where it was first published (found by name, or added).
    pub source: MaybeUndefined<SourceInput>,
    /// The address of the original.
    pub canonical_url: MaybeUndefined<String>,
    /// The article this one translates.
    pub translation_of: MaybeUndefined<ID>,
}

/// A publisher.
#[derive(InputObject)]
pub struct SourceInput {
    /// The publisher's name.
    pub name: String,
    /// The publisher's address.
    pub url: Option<String>,
}

#[derive(Default)]
pub struct ArticleMutations;

#[Object]
impl ArticleMutations {
    /// Writes a new article, as a draft.
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        input: ArticleInput,
    ) -> FieldResult<ArticlePayload> {
        let session = session(ctx)?;
        let answer = session
            .write::<article::Entity>(async |w| {
                let mut row = changes(w, input, None).await?;
                row.status = ActiveValue::Set(publishing::DRAFT.to_owned());
                row.published_at = ActiveValue::Set(w.now);
                editing::insert::<article::Entity>(w, row).await
            })
            .await?;
        Ok(answer.into())
    }

    /// Changes an article that is at `version`.
    async fn update_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: ArticleInput,
    ) -> FieldResult<ArticlePayload> {
        Ok(
            update::<article::Entity, _>(ctx, id, version, input, changes)
                .await?
                .into(),
        )
    }

    /// Publishes an article: now, or at `at`. A time in the future schedules it:
    /// readers see it from that moment, and not before.
    async fn publish_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        at: Option<DateTime>,
    ) -> FieldResult<ArticlePayload> {
        let at = at.map(|at| at.0);
        workflow(ctx, id, version, Transition::Publish { at }).await
    }

    /// Takes a published (or scheduled) article back to a draft.
    async fn unpublish_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> FieldResult<ArticlePayload> {
        workflow(ctx, id, version, Transition::Unpublish).await
    }

    /// Withdraws a published article: editors still see it, readers no longer do.
    async fn archive_article(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> FieldResult<ArticlePayload> {
        workflow(ctx, id, version, Transition::Archive).await
    }
}

async fn workflow(
    ctx: &Context<'_>,
    id: ID,
    version: i32,
    transition: Transition,
) -> FieldResult<ArticlePayload> {
    let session = session(ctx)?;
    let answer = session
        .write::<article::Entity>(async |w| {
            publishing::transition(w, target(&id, Kind::Article)?, version, transition).await
        })
        .await?;
    Ok(answer.into())
}

/// The checked columns an input sets.
async fn changes(
    w: &Writer<'_>,
    input: ArticleInput,
    current: Option<&article::Model>,
) -> WriteResult<article::ActiveModel> {
    let creating = current.is_none();
    let mut check = Check::default();
    let mut row = article::ActiveModel::default();
    let title = required_line(&mut check, "title", input.title, creating, MAX_TITLE);
    let slug = editing::slug::<article::Entity>(
        w,
        &mut check,
        input.slug,
        title.as_deref().filter(|_| creating),
        current.map(|c| c.id),
    )
    .await?;
    put(&mut row.slug, slug);
    put(&mut row.title, title);
    put(
        &mut row.summary,
        optional_text(&mut check, "summary", input.summary, MAX_SUMMARY),
    );
    let body = match input.body {
        Some(body) => check.block("body", &body, MAX_BODY),
        None if creating => check.required("body", None),
        None => None,
    };
    put(&mut row.body, body);
    let language = match input.language {
        Some(language) => check.language("language", &language),
        None if creating => Some("vi".to_owned()),
        None => None,
    };
    put(&mut row.language, language);
    put(
        &mut row.canonical_url,
        optional_url(&mut check, "canonicalUrl", input.canonical_url),
    );
    let translation_of = optional_reference::<article::Entity>(
        w,
        &mut check,
        "translationOf",
        input.translation_of,
        Kind::Article,
    )
    .await?;
    if let (Some(Some(original)), Some(current)) = (translation_of, current)
        && original == current.id
    {
        check.fail(
            "translationOf",
            editing::ErrorCode::InvalidRange,
            "an article cannot translate itself",
        );
    }
    put(&mut row.translation_of_id, translation_of);
    let source = match input.source {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(source) => {
            let name = check.line("source.name", &source.name, MAX_SHORT);
            let url = match source.url {
                Some(url) => check.url("source.url", &url).flatten(),
                None => None,
            };
            match name {
                Some(name) => Some(Some(source_id(w, name, url).await?)),
                None => None,
            }
        }
    };
    put(&mut row.source_id, source);
    check.finish()?;
    Ok(row)
}

/// The source with this name, added when there is none.
async fn source_id(w: &Writer<'_>, name: String, url: Option<String>) -> WriteResult<i64> {
    use sea_orm::ActiveModelTrait;
    if let Some(existing) = source::Entity::find()
        .filter(source::Column::Name.eq(name.as_str()))
        .filter(source::Column::DeletedAt.is_null())
        .one(w.txn)
        .await?
    {
        return Ok(existing.id);
    }
    let row = source::ActiveModel {
        name: ActiveValue::Set(text::clean_line(&name)),
        url: ActiveValue::Set(url),
        version: ActiveValue::Set(1),
        created_at: ActiveValue::Set(w.now),
        updated_at: ActiveValue::Set(w.now),
        ..Default::default()
    }
    .insert(w.txn)
    .await?;
    Ok(row.id)
}
