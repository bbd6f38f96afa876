//! An event, dated to a day, month or year.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub names: Option<String>,
    pub starts_on: Date,
    pub starts_at: Option<DateTimeUtc>,
    pub date_precision: String,
    pub year_inferred: bool,
    pub date_note: Option<String>,
    pub ends_on: Option<Date>,
    pub location: Option<String>,
    pub attendance: Option<i32>,
    pub attendance_note: Option<String>,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
