//! Organizations (a hierarchy), people, and the dated positions that join them.

use crate::columns::{cascade, content_table, create, drop, index, key_column, set_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let organization = content_table(
            "organization",
            vec![
                key_column(manager, "slug").unique_key().take(),
                text("name"),
                key_column(manager, "sort_key"),
                text_null("short_name"),
                text_null("kind"),
                date_null("founded_on"),
                big_integer_null("parent_id"),
                text_null("website"),
                text_null("description"),
                text_null("names"),
            ],
        )
        .foreign_key(&mut set_null("organization", "parent_id", "organization"))
        .take();
        let person = content_table(
            "person",
            vec![
                key_column(manager, "slug").unique_key().take(),
                text("full_name"),
                text_null("family_name"),
                text_null("middle_name"),
                text_null("given_name"),
                key_column(manager, "sort_key"),
                text_null("names"),
                text_null("bio"),
                date_null("birth_date"),
            ],
        );
        let position = content_table(
            "position",
            vec![
                big_integer("person_id"),
                big_integer("organization_id"),
                text("title"),
                text_null("titles"),
                date_null("starts_on"),
                text_null("start_precision"),
                date_null("ends_on"),
                text_null("end_precision"),
                text_null("note"),
            ],
        )
        .foreign_key(&mut cascade("position", "person_id", "person"))
        .foreign_key(&mut cascade("position", "organization_id", "organization"))
        .take();
        create(
            manager,
            vec![organization, person, position],
            vec![
                index("organization", &["parent_id"]),
                index("organization", &["sort_key", "id"]),
                index("person", &["sort_key", "id"]),
                index("position", &["person_id"]),
                index("position", &["organization_id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, &["position", "person", "organization"]).await
    }
}
