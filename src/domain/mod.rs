//! The rules of the content that are not GraphQL's: who sees what, and the sample
//! content. Nothing here knows about GraphQL.

pub mod positions;
pub mod sample;
pub mod visibility;
