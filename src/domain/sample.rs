//! placeholder
use sea_orm::DatabaseConnection;
pub async fn load_if_empty(_db: &DatabaseConnection) -> anyhow::Result<bool> { Ok(false) }
