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

impl Record {
    /// Reads one line.
    pub fn parse(line: &str) -> Result<Record, LineError> {
        // A line that starts with its type, as bundles are written, is read straight
        // into its record. Any other, and any with a problem, is read as a JSON
        // value first, and the type then read from it, which names the problem.
        if let Some(record) = Self::parse_type_first(line) {
            return Ok(record);
        }
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
        Self::of_kind(&kind, value)?
            .ok_or_else(|| problem("type", format!("unknown type `{kind}`")))
    }

    /// A line `{"type":"…",` and the other fields, read in one pass; `None` when
    /// the line is not so or does not read.
    fn parse_type_first(line: &str) -> Option<Record> {
        let after_type = (line.trim_start().strip_prefix('{')?.trim_start())
            .strip_prefix("\"type\"")?
            .trim_start()
            .strip_prefix(':')?
            .trim_start()
            .strip_prefix('"')?;
        let (kind, rest) = after_type.split_once('"')?;
        let fields = rest.trim_start().strip_prefix(',')?;
        let object = format!("{{{fields}");
        Self::of_kind(kind, object.as_str()).ok().flatten()
    }

    /// The record of a type from its fields; `None` for an unknown type.
    fn of_kind<F: Fields>(kind: &str, fields: F) -> Result<Option<Record>, F::Error> {
        Ok(Some(match kind {
            "bundle" => Record::Bundle(fields.read()?),
            "organization" => Record::Organization(fields.read()?),
            "person" => Record::Person(fields.read()?),
            "position" => Record::Position(fields.read()?),
            "event" => Record::Event(fields.read()?),
            "document" => Record::Document(fields.read()?),
            "media" => Record::Media(fields.read()?),
            "tag" => Record::Tag(fields.read()?),
            "article" => Record::Article(fields.read()?),
            "award" => Record::Award(fields.read()?),
            "statement" => Record::Statement(fields.read()?),
            "commemoration" => Record::Commemoration(fields.read()?),
            _ => return Ok(None),
        }))
    }
}

/// A record's fields but its type, to be read as the record of that type.
trait Fields {
    type Error;
    fn read<T: serde::de::DeserializeOwned>(self) -> Result<T, Self::Error>;
}

/// The fields as a JSON value: a problem names its field.
impl Fields for serde_json::Value {
    type Error = LineError;
    fn read<T: serde::de::DeserializeOwned>(self) -> Result<T, LineError> {
        serde_path_to_error::deserialize(self).map_err(|error| {
            let field = error.path().to_string();
            LineError {
                field: if field == "." { String::new() } else { field },
                problem: error.into_inner().to_string(),
            }
        })
    }
}

/// The fields as a JSON object's text.
impl Fields for &str {
    type Error = serde_json::Error;
    fn read<T: serde::de::DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self)
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
    fn a_line_starting_with_its_type_reads_in_one_pass_as_in_two() {
        let fields = r#""id":"p1","person_id":1,"organization_id":"o","title":"Bộ trưởng","start_date":"2020-01-01""#;
        let written = |record: Option<Record>| record.and_then(|r| serde_json::to_string(&r).ok());
        let first = format!(r#"{{"type":"position",{fields}}}"#);
        let one_pass = written(Record::parse_type_first(&first));
        assert!(one_pass.is_some());
        let spaced = format!(r#" {{ "type" : "position" , {fields} }} "#);
        assert_eq!(written(Record::parse_type_first(&spaced)), one_pass);
        let last = format!(r#"{{{fields},"type":"position"}}"#);
        assert!(Record::parse_type_first(&last).is_none());
        assert_eq!(written(Record::parse(&last).ok()), one_pass);
        // A problem is left to the general way, which names it.
        let wrong =
            r#"{"type":"position","id":"p1","person_id":1,"organization_id":"o","title":7}"#;
        assert!(Record::parse_type_first(wrong).is_none());
        assert_eq!(
            Record::parse(wrong).err().map(|e| e.field),
            Some("title".into())
        );
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
