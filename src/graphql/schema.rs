//! Building the executable schema, and its SDL.

use async_graphql::{EmptyMutation, EmptySubscription, SDLExportOptions, Schema};
use sea_orm::DatabaseConnection;

use crate::config::Limits;
use crate::graphql::query::QueryRoot;

/// The schema type of bantin.
pub type AppSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

/// The schema with its limits, ready to execute.
pub fn build_schema(db: DatabaseConnection, limits: &Limits) -> AppSchema {
    Schema::build(QueryRoot, EmptyMutation, EmptySubscription)
        .data(db)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(64)
        .limit_directives(32)
        .finish()
}

/// The SDL of the schema, sorted so that diffs are stable: what `schema.graphql` holds.
pub fn sdl() -> String {
    Schema::build(QueryRoot, EmptyMutation, EmptySubscription)
        .finish()
        .sdl_with_options(
            SDLExportOptions::new()
                .sorted_fields()
                .sorted_arguments()
                .sorted_enum_items(),
        )
}
