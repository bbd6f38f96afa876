//! Sources, articles and what they mention, media and the people they depict, tags.

use crate::columns::{content_table, create, drop, index, key_column, link_table, set_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let source = content_table(
            "source",
            vec![
                text("name"),
                text_null("url"),
                big_integer_null("organization_id"),
            ],
        )
        .foreign_key(&mut set_null("source", "organization_id", "organization"))
        .take();
        let article = content_table(
            "article",
            vec![
                key_column(manager, "slug").unique_key().take(),
                text("title"),
                text_null("summary"),
                text("body").default("").take(),
                text("language"),
                text("status"),
                timestamp_with_time_zone("published_at"),
                big_integer_null("source_id"),
                text_null("canonical_url"),
                big_integer_null("translation_of_id"),
            ],
        )
        .foreign_key(&mut set_null("article", "source_id", "source"))
        .foreign_key(&mut set_null("article", "translation_of_id", "article"))
        .take();
        let order = || vec![integer("ord").default(0).take()];
        let media = content_table(
            "media",
            vec![
                text("url"),
                text_null("caption"),
                text_null("credit"),
                integer_null("width"),
                integer_null("height"),
            ],
        );
        let tag = content_table(
            "tag",
            vec![
                key_column(manager, "slug").unique_key().take(),
                text("name"),
                text_null("names"),
            ],
        );
        create(
            manager,
            vec![
                source,
                article,
                link_table(
                    "article_person",
                    ("article_id", "article"),
                    ("person_id", "person"),
                    order(),
                ),
                link_table(
                    "article_organization",
                    ("article_id", "article"),
                    ("organization_id", "organization"),
                    order(),
                ),
                link_table(
                    "article_event",
                    ("article_id", "article"),
                    ("event_id", "event"),
                    order(),
                ),
                link_table(
                    "article_document",
                    ("article_id", "article"),
                    ("document_id", "document"),
                    order(),
                ),
                media,
                link_table(
                    "article_media",
                    ("article_id", "article"),
                    ("media_id", "media"),
                    vec![
                        integer("ord").default(0).take(),
                        integer_null("after_paragraph"),
                    ],
                ),
                link_table(
                    "media_person",
                    ("media_id", "media"),
                    ("person_id", "person"),
                    order(),
                ),
                tag,
                link_table(
                    "article_tag",
                    ("article_id", "article"),
                    ("tag_id", "tag"),
                    order(),
                ),
            ],
            vec![
                index("source", &["organization_id"]),
                index("article", &["published_at", "id"]),
                index("article", &["updated_at", "id"]),
                index("article", &["source_id"]),
                index("article", &["translation_of_id"]),
                index("article_person", &["person_id", "article_id"]),
                index("article_organization", &["organization_id", "article_id"]),
                index("article_event", &["event_id", "article_id"]),
                index("article_document", &["document_id", "article_id"]),
                index("article_media", &["media_id"]),
                index("media_person", &["person_id"]),
                index("article_tag", &["tag_id", "article_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(
            manager,
            &[
                "article_tag",
                "tag",
                "media_person",
                "article_media",
                "media",
                "article_document",
                "article_event",
                "article_organization",
                "article_person",
                "article",
                "source",
            ],
        )
        .await
    }
}
