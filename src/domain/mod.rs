//! The rules of the content that are not GraphQL's: who sees what, how content is
//! written (validation, versions, revisions, publishing), and the sample content. Nothing here knows about GraphQL.

pub mod editing;
pub mod positions;
pub mod publishing;
pub mod sample;
pub mod visibility;
