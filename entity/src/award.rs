//! An award given at an event by an organization.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "award")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub names: Option<String>,
    pub event_id: Option<i64>,
    pub awarded_by_id: Option<i64>,
    pub reason: Option<String>,
    pub period: Option<String>,
    pub collective_count: Option<i32>,
    pub individual_count: Option<i32>,
    pub external_id: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::event::Entity",
        from = "Column::EventId",
        to = "super::event::Column::Id"
    )]
    Event,
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::AwardedById",
        to = "super::organization::Column::Id"
    )]
    AwardedBy,
}

impl ActiveModelBehavior for ActiveModel {}
