//! The SeaORM entities of bantin: one module a table, each with its `Relation` enum.
//! Nothing here knows about GraphQL or HTTP.

pub mod api_token;
pub mod article;
pub mod article_document;
pub mod article_event;
pub mod article_media;
pub mod article_organization;
pub mod article_person;
pub mod article_tag;
pub mod award;
pub mod award_organization;
pub mod award_person;
pub mod commemoration;
pub mod decode;
pub mod document;
pub mod event;
pub mod event_document;
pub mod event_organizer;
pub mod event_participant;
pub mod media;
pub mod media_person;
pub mod organization;
pub mod person;
pub mod position;
pub mod revision;
pub mod search_outbox;
pub mod source;
pub mod statement;
pub mod tag;
