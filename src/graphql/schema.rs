//! Building the executable schema, and its SDL.

use async_graphql::{EmptySubscription, SDLExportOptions, Schema};
use sea_orm::DatabaseConnection;

use crate::config::Limits;
use crate::graphql::mutation::MutationRoot;
use crate::graphql::query::QueryRoot;
use crate::search::Search;

/// The schema type of bantin.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The schema with its limits, ready to execute. It installs no extension: an
/// extension wraps the resolution of every field, which objects resolved in place
/// (`crate::graphql::inline`) do not go through, and it cost a third more CPU on
/// a front page (`crate::graphql::order` keeps the field order without one).
pub fn build_schema(db: DatabaseConnection, limits: &Limits, search: &Search) -> AppSchema {
    Schema::build(QueryRoot, MutationRoot::default(), EmptySubscription)
        .data(db)
        .data(search.index.clone())
        .data(search.indexer.clone())
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(64)
        .limit_directives(32)
        .finish()
}

/// The SDL of the schema, sorted so that diffs are stable: what `schema.graphql` holds.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot::default(), EmptySubscription)
        .finish()
        .sdl_with_options(
            SDLExportOptions::new()
                .sorted_fields()
                .sorted_arguments()
                .sorted_enum_items(),
        )
}
