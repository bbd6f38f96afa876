//! The output and input types of the schema, one file a type (small companions
//! share a file), and the `Node` interface.

use async_graphql::Interface;

pub mod article;
pub mod award;
pub mod document;
pub mod event;
pub mod media;
pub mod organization;
pub mod person;
pub mod revision;
pub mod scalars;
pub mod search;

pub use article::Article;
pub use award::{Anniversary, Award, Commemoration, Statement};
pub use document::Document;
pub use event::Event;
pub use media::{Media, Tag};
pub use organization::Organization;
pub use person::{Person, Position};
pub use revision::Revision;

/// An object with a global ID, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "async_graphql::ID", desc = "The global ID."))]
pub enum Node {
    Article(Article),
    Person(Person),
    Organization(Organization),
    Position(Position),
    Event(Event),
    Document(Document),
    Media(Media),
    Tag(Tag),
    Award(Award),
    Statement(Statement),
    Commemoration(Commemoration),
}
