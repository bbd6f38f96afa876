//! An organization; organizations form a hierarchy through `parent_id`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "organization")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub sort_key: String,
    pub short_name: Option<String>,
    pub kind: Option<String>,
    pub founded_on: Option<Date>,
    pub parent_id: Option<i64>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub names: Option<String>,
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
        from = "Column::ParentId",
        to = "super::organization::Column::Id"
    )]
    Parent,
}

impl ActiveModelBehavior for ActiveModel {}
