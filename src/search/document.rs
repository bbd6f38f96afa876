//! From rows to index documents: what of each record is searchable, folded once.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tantivy::TantivyDocument;

use entity::{article, document, event, organization, person};

use super::{Fields, SearchKind};
use crate::domain::visibility::PUBLISHED;
use crate::text;

/// The searchable text and ranking values of one record.
struct Searchable<'a> {
    kind: SearchKind,
    id: i64,
    title: Vec<&'a str>,
    summary: Vec<&'a str>,
    body: Option<&'a str>,
    code: Option<String>,
    public_from: i64,
    recency: i64,
}

/// The key a record is stored under: `article:12`.
pub(crate) fn key(kind: &str, id: i64) -> String {
    format!("{kind}:{id}")
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn day(on: Option<NaiveDate>) -> i64 {
    on.and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |at| at.and_utc().timestamp_micros())
}

impl Searchable<'_> {
    fn document(&self, fields: &Fields) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(fields.key, key(self.kind.name(), self.id));
        doc.add_text(fields.kind, self.kind.name());
        doc.add_u64(fields.reference, self.kind.reference(self.id));
        for (folded, exact, parts, repeat) in [
            (fields.title, fields.title_exact, &self.title, 3),
            (fields.summary, fields.summary_exact, &self.summary, 2),
        ] {
            for part in parts.iter().filter(|p| !p.is_empty()) {
                let text = text::fold(part);
                for _ in 0..repeat {
                    doc.add_text(fields.all, &text);
                }
                doc.add_text(folded, text);
                doc.add_text(exact, *part);
            }
        }
        if let Some(body) = self.body {
            let text = text::fold(body);
            doc.add_text(fields.all, &text);
            doc.add_text(fields.body, text);
        }
        if let Some(code) = &self.code {
            doc.add_text(fields.all, code);
            doc.add_text(fields.code, code);
        }
        doc.add_i64(fields.public_from, self.public_from);
        doc.add_i64(fields.recency, self.recency);
        doc
    }
}

fn article_doc(fields: &Fields, row: &article::Model) -> TantivyDocument {
    let public_from = if row.status == PUBLISHED {
        micros(row.published_at)
    } else {
        i64::MAX
    };
    Searchable {
        kind: SearchKind::Article,
        id: row.id,
        title: vec![&row.title],
        summary: row.summary.as_deref().into_iter().collect(),
        body: Some(&row.body),
        code: None,
        public_from,
        recency: micros(row.published_at),
    }
    .document(fields)
}

fn person_doc(fields: &Fields, row: &person::Model) -> TantivyDocument {
    Searchable {
        kind: SearchKind::Person,
        id: row.id,
        title: vec![&row.full_name],
        summary: row.bio.as_deref().into_iter().collect(),
        body: None,
        code: None,
        public_from: i64::MIN,
        recency: day(row.birth_date),
    }
    .document(fields)
}

fn organization_doc(fields: &Fields, row: &organization::Model) -> TantivyDocument {
    Searchable {
        kind: SearchKind::Organization,
        id: row.id,
        title: [Some(row.name.as_str()), row.short_name.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
        summary: row.description.as_deref().into_iter().collect(),
        body: None,
        code: None,
        public_from: i64::MIN,
        recency: day(row.founded_on),
    }
    .document(fields)
}

fn event_doc(fields: &Fields, row: &event::Model) -> TantivyDocument {
    Searchable {
        kind: SearchKind::Event,
        id: row.id,
        title: vec![&row.name],
        summary: [row.location.as_deref(), row.description.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
        body: None,
        code: None,
        public_from: i64::MIN,
        recency: day(Some(row.starts_on)),
    }
    .document(fields)
}

fn document_doc(fields: &Fields, row: &document::Model) -> TantivyDocument {
    Searchable {
        kind: SearchKind::Document,
        id: row.id,
        title: vec![&row.code, &row.title],
        summary: row.summary.as_deref().into_iter().collect(),
        body: None,
        code: Some(row.code_key.replace('-', " ")),
        public_from: i64::MIN,
        recency: day(row.issued_on),
    }
    .document(fields)
}

/// The documents of the live records among `ids` of one type, by key. A key with
/// no document was deleted (or never existed) and only leaves the index.
pub(crate) async fn load(
    db: &impl ConnectionTrait,
    fields: &Fields,
    entity_type: &str,
    ids: Vec<i64>,
) -> Result<HashMap<String, Option<TantivyDocument>>, DbErr> {
    macro_rules! load {
        ($table:ident, $kind:literal, $doc:ident) => {{
            let mut out: HashMap<String, Option<TantivyDocument>> =
                ids.iter().map(|id| (key($kind, *id), None)).collect();
            for row in $table::Entity::find()
                .filter($table::Column::Id.is_in(ids))
                .filter($table::Column::DeletedAt.is_null())
                .all(db)
                .await?
            {
                out.insert(key($kind, row.id), Some($doc(fields, &row)));
            }
            out
        }};
    }
    Ok(match entity_type {
        "Article" => load!(article, "article", article_doc),
        "Person" => load!(person, "person", person_doc),
        "Organization" => load!(organization, "organization", organization_doc),
        "Event" => load!(event, "event", event_doc),
        "Document" => load!(document, "document", document_doc),
        _ => HashMap::new(),
    })
}

/// Calls `add` with the document of every live record, reading in pages of ids so
/// memory stays flat however large the tables.
pub(crate) async fn each(
    db: &impl ConnectionTrait,
    fields: &Fields,
    mut add: impl FnMut(TantivyDocument) -> Result<(), tantivy::TantivyError>,
) -> Result<u64, super::SearchError> {
    const PAGE: u64 = 2_000;
    let mut total = 0u64;
    macro_rules! every {
        ($table:ident, $doc:ident) => {{
            let mut after = 0i64;
            loop {
                let rows = $table::Entity::find()
                    .filter($table::Column::Id.gt(after))
                    .filter($table::Column::DeletedAt.is_null())
                    .order_by_asc($table::Column::Id)
                    .limit(PAGE)
                    .all(db)
                    .await?;
                let Some(last) = rows.last() else { break };
                after = last.id;
                for row in &rows {
                    add($doc(fields, row))?;
                    total += 1;
                }
            }
        }};
    }
    every!(article, article_doc);
    every!(person, person_doc);
    every!(organization, organization_doc);
    every!(event, event_doc);
    every!(document, document_doc);
    Ok(total)
}
