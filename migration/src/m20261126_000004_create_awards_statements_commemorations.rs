//! Awards given at events, statements people made, and commemorated dates.

use crate::columns::{cascade, content_table, create, drop, index, link_table, set_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let award = content_table(
            "award",
            vec![
                text("name"),
                text_null("names"),
                big_integer_null("event_id"),
                big_integer_null("awarded_by_id"),
                text_null("reason"),
                text_null("period"),
                integer_null("collective_count"),
                integer_null("individual_count"),
            ],
        )
        .foreign_key(&mut set_null("award", "event_id", "event"))
        .foreign_key(&mut set_null("award", "awarded_by_id", "organization"))
        .take();
        let statement = content_table(
            "statement",
            vec![
                big_integer("person_id"),
                big_integer_null("event_id"),
                big_integer_null("article_id"),
                text_null("kind"),
                text("text"),
            ],
        )
        .foreign_key(&mut cascade("statement", "person_id", "person"))
        .foreign_key(&mut set_null("statement", "event_id", "event"))
        .foreign_key(&mut set_null("statement", "article_id", "article"))
        .take();
        let commemoration = content_table(
            "commemoration",
            vec![
                text("name"),
                text_null("names"),
                date("base_date"),
                text("date_precision").default("day").take(),
                text_null("note"),
                // "MM-DD" of the base date, so the anniversaries of a day are one index lookup.
                text("month_day"),
                big_integer_null("organization_id"),
                big_integer_null("event_id"),
            ],
        )
        .foreign_key(&mut set_null(
            "commemoration",
            "organization_id",
            "organization",
        ))
        .foreign_key(&mut set_null("commemoration", "event_id", "event"))
        .take();
        create(
            manager,
            vec![
                award,
                link_table(
                    "award_person",
                    ("award_id", "award"),
                    ("person_id", "person"),
                    vec![],
                ),
                link_table(
                    "award_organization",
                    ("award_id", "award"),
                    ("organization_id", "organization"),
                    vec![],
                ),
                statement,
                commemoration,
            ],
            vec![
                index("award", &["event_id"]),
                index("award", &["awarded_by_id"]),
                index("award_person", &["person_id"]),
                index("award_organization", &["organization_id"]),
                index("statement", &["person_id"]),
                index("statement", &["event_id"]),
                index("statement", &["article_id"]),
                index("commemoration", &["month_day", "id"]),
                index("commemoration", &["organization_id"]),
                index("commemoration", &["event_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(
            manager,
            &[
                "commemoration",
                "statement",
                "award_organization",
                "award_person",
                "award",
            ],
        )
        .await
    }
}
