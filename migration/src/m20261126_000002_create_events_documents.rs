//! Events with their organizers and participants, and the documents they discuss.

use crate::columns::{content_table, create, drop, index, key_column, link_table, set_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let event = content_table(
            "event",
            vec![
                key_column(manager, "slug").unique_key().take(),
                text("name"),
                text_null("names"),
                date("starts_on"),
                timestamp_with_time_zone_null("starts_at"),
                text("date_precision").default("day").take(),
                boolean("year_inferred").default(false).take(),
                text_null("date_note"),
                date_null("ends_on"),
                text_null("location"),
                integer_null("attendance"),
                text_null("attendance_note"),
                text_null("description"),
            ],
        );
        let organizer = link_table(
            "event_organizer",
            ("event_id", "event"),
            ("organization_id", "organization"),
            vec![integer("ord").default(0).take()],
        );
        // A person can take several roles at one event (chair and speaker).
        let participant = Table::create()
            .table("event_participant")
            .col(big_integer("event_id"))
            .col(big_integer("person_id"))
            .col(text("role"))
            .col(integer("ord").default(0).take())
            .primary_key(Index::create().col("event_id").col("person_id").col("role"))
            .foreign_key(&mut crate::columns::cascade(
                "event_participant",
                "event_id",
                "event",
            ))
            .foreign_key(&mut crate::columns::cascade(
                "event_participant",
                "person_id",
                "person",
            ))
            .take();
        let document = content_table(
            "document",
            vec![
                text("code"),
                key_column(manager, "code_key").unique_key().take(),
                text("title"),
                text_null("titles"),
                text_null("kind"),
                big_integer_null("issuer_id"),
                text_null("term"),
                date_null("issued_on"),
                text_null("summary"),
            ],
        )
        .foreign_key(&mut set_null("document", "issuer_id", "organization"))
        .take();
        let event_document = link_table(
            "event_document",
            ("event_id", "event"),
            ("document_id", "document"),
            vec![integer("ord").default(0).take()],
        );
        create(
            manager,
            vec![event, organizer, participant, document, event_document],
            vec![
                index("event", &["starts_on", "id"]),
                index("event_organizer", &["organization_id"]),
                index("event_participant", &["person_id"]),
                index("document", &["issuer_id"]),
                index("event_document", &["document_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(
            manager,
            &[
                "event_document",
                "document",
                "event_participant",
                "event_organizer",
                "event",
            ],
        )
        .await
    }
}
