//! The records of the content bundle (JSON Lines, version 1), one struct a type,
//! used both to read (unknown fields are errors) and to write (absent values are
//! left out, so the same content always gives the same bytes).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A record's external key: an integer or a string, as the bundle wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Key {
    Int(i64),
    Text(String),
}

impl Key {
    /// The stored form: the key's JSON text (`5` or `"abc"`), so an integer key
    /// and the string of its digits stay apart and export writes what came in.
    pub fn stored(&self) -> String {
        match self {
            Key::Int(n) => n.to_string(),
            Key::Text(text) => serde_json::Value::from(text.as_str()).to_string(),
        }
    }

    /// The key of a row that came with none (made in bantin, not imported):
    /// `"bantin:person:3"`. Export writes it; import reads it as that very row.
    pub fn native(table: &str, id: i64) -> Key {
        Key::Text(format!("bantin:{table}:{id}"))
    }

    /// The row id of a native key of `table`.
    pub fn native_id(&self, table: &str) -> Option<i64> {
        match self {
            Key::Text(text) => text
                .strip_prefix("bantin:")?
                .strip_prefix(table)?
                .strip_prefix(':')?
                .parse()
                .ok(),
            Key::Int(_) => None,
        }
    }

    /// Reads the stored form back.
    pub fn from_stored(stored: &str) -> Option<Key> {
        serde_json::from_str(stored).ok()
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.stored())
    }
}

/// Names or titles in other languages: `{"en": "…"}`.
pub type Names = BTreeMap<String, String>;

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: String,
    pub version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<BTreeMap<String, u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub id: Key,
    pub name: String,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub founded_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Names>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: Key,
    pub full_name: String,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Names>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub id: Key,
    pub person_id: Key,
    pub organization_id: Key,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub titles: Option<Names>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// bantin's addition: how precisely the dates are known (`day`, `month`, `year`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_precision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_precision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub person_id: Key,
    pub role: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: Key,
    pub name: String,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_precision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_note: Option<String>,
    /// bantin's addition: the year was not given and has been inferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_inferred: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendance: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendance_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Names>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizer_ids: Option<Vec<Key>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants: Option<Vec<Participant>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_ids: Option<Vec<Key>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub id: Key,
    pub code: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_id: Option<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub titles: Option<Names>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    pub id: Key,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depicts_ids: Option<Vec<Key>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub id: Key,
    pub slug: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Names>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    pub id: Key,
    pub title: String,
    pub slug: String,
    pub language: String,
    pub status: String,
    pub published_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_ids: Option<Vec<Key>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_ids: Option<Vec<Key>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ids: Option<Vec<Key>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_ids: Option<Vec<Key>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_ids: Option<Vec<Key>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_ids: Option<Vec<Key>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translation_of: Option<Key>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Award {
    pub id: Key,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Names>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awarded_by_id: Option<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_person_ids: Option<Vec<Key>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_organization_ids: Option<Vec<Key>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collective_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub individual_count: Option<i32>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub id: Key,
    pub person_id: Key,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_id: Option<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commemoration {
    pub id: Key,
    pub name: String,
    pub base_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Names>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Key>,
    /// bantin's addition: how precisely the base date is known, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_precision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One line of a bundle.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Bundle(Header),
    Organization(Organization),
    Person(Person),
    Position(Position),
    Event(Event),
    Document(Document),
    Media(Media),
    Tag(Tag),
    Article(Article),
    Award(Award),
    Statement(Statement),
    Commemoration(Commemoration),
}

/// Why a line could not be read: the field (a path such as `participants[2].role`,
/// empty for the line as a whole) and the problem.
#[derive(Debug, PartialEq, Eq)]
pub struct LineError {
    pub field: String,
    pub problem: String,
}

fn typed<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, LineError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        LineError {
            field: if field == "." { String::new() } else { field },
            problem: error.into_inner().to_string(),
        }
    })
}

impl Record {
    /// Reads one line.
    pub fn parse(line: &str) -> Result<Record, LineError> {
        let problem = |field: &str, problem: String| LineError {
            field: field.to_owned(),
            problem,
        };
        let mut value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| problem("", format!("invalid JSON: {e}")))?;
        let object = value
            .as_object_mut()
            .ok_or_else(|| problem("", "a line must be a JSON object".into()))?;
        let kind = match object.remove("type") {
            Some(serde_json::Value::String(kind)) => kind,
            Some(_) => return Err(problem("type", "must be a string".into())),
            None => return Err(problem("type", "missing field `type`".into())),
        };
        Ok(match kind.as_str() {
            "bundle" => Record::Bundle(typed(value)?),
            "organization" => Record::Organization(typed(value)?),
            "person" => Record::Person(typed(value)?),
            "position" => Record::Position(typed(value)?),
            "event" => Record::Event(typed(value)?),
            "document" => Record::Document(typed(value)?),
            "media" => Record::Media(typed(value)?),
            "tag" => Record::Tag(typed(value)?),
            "article" => Record::Article(typed(value)?),
            "award" => Record::Award(typed(value)?),
            "statement" => Record::Statement(typed(value)?),
            "commemoration" => Record::Commemoration(typed(value)?),
            other => return Err(problem("type", format!("unknown type `{other}`"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let error = Record::parse(r#"{"type":"person","id":1,"slug":"a"}"#).err();
        assert_eq!(error.map(|e| e.problem.contains("full_name")), Some(true));
        let error = Record::parse(r#"{"type":"person","id":1,"slug":"a","full_name":5}"#).err();
        assert_eq!(error.map(|e| e.field), Some("full_name".to_owned()));
        let error =
            Record::parse(r#"{"type":"person","id":1,"slug":"a","full_name":"A","nme":1}"#).err();
        assert_eq!(error.map(|e| e.problem.contains("nme")), Some(true));
        let error = Record::parse(r#"{"type":"event","id":1,"name":"a","slug":"a","participants":[{"person_id":1,"role":7}]}"#).err();
        assert_eq!(
            error.map(|e| e.field),
            Some("participants[0].role".to_owned())
        );
        assert!(Record::parse("{nope").is_err());
        assert!(Record::parse(r#"{"type":"planet","id":1}"#).is_err());
    }

    #[test]
    fn native_keys_name_their_row() {
        let key = Key::native("person", 3);
        assert_eq!(key.native_id("person"), Some(3));
        assert_eq!(key.native_id("article"), None);
        assert_eq!(Key::Int(3).native_id("person"), None);
        assert_eq!(
            Key::Text("bantin:person:x".into()).native_id("person"),
            None
        );
    }

    #[test]
    fn keys_keep_their_json_type() {
        assert_eq!(Key::Int(5).stored(), "5");
        assert_eq!(Key::Text("5".into()).stored(), "\"5\"");
        assert_eq!(Key::from_stored("\"5\""), Some(Key::Text("5".into())));
    }
}
