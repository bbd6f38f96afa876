//! An article: the unit of published content.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "article")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: Option<String>,
    pub body: String,
    pub language: String,
    pub status: String,
    pub published_at: DateTimeUtc,
    pub source_id: Option<i64>,
    pub canonical_url: Option<String>,
    pub translation_of_id: Option<i64>,
    pub external_id: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::source::Entity",
        from = "Column::SourceId",
        to = "super::source::Column::Id"
    )]
    Source,
    #[sea_orm(
        belongs_to = "super::article::Entity",
        from = "Column::TranslationOfId",
        to = "super::article::Column::Id"
    )]
    TranslationOf,
}

impl ActiveModelBehavior for ActiveModel {}
