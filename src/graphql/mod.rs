//! The GraphQL layer: the schema, one file a type, the DataLoaders that batch every
//! relation, Relay connections with keyset cursors, and opaque global IDs.
//! Resolvers stay thin: they read arguments, call a loader or a query, and map.

pub mod completion;
pub mod connection;
pub mod contract;
pub mod documents;
pub mod guard;
pub mod ids;
pub mod inline;
pub mod json;
pub mod loaders;
pub mod mutation;
pub mod projection;
pub mod query;
pub mod schema;
pub mod shapes;
pub mod types;
pub mod variables;
