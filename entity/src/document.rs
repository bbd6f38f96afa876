//! A document such as a party conclusion or directive, found by its code.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "document")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub code: String,
    pub code_key: String,
    pub title: String,
    pub titles: Option<String>,
    pub kind: Option<String>,
    pub issuer_id: Option<i64>,
    pub term: Option<String>,
    pub issued_on: Option<Date>,
    pub summary: Option<String>,
    pub external_id: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::IssuerId",
        to = "super::organization::Column::Id"
    )]
    Issuer,
}

impl ActiveModelBehavior for ActiveModel {}
