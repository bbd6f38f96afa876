//! `bantin import`: reads a bundle line by line and writes it in batches inside one
//! transaction. A bad line stops the import with its line number, field and
//! problem, and the transaction is rolled back: nothing of the bundle is written.
//!
//! Records are matched by their external key (`id`), so importing the same bundle
//! twice changes nothing the second time (an unchanged row is not even touched),
//! and a changed record updates its row and replaces its relations. Rows made in
//! bantin rather than imported are exported with the key `"bantin:<table>:<id>"`,
//! which import reads as that row, so an export re-imports onto itself.

use std::collections::VecDeque;
use std::io::BufRead;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use futures_util::StreamExt;
use sea_orm::sea_query::ArrayType;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement, Value};

use crate::bundle::BundleError;
use crate::bundle::format::{self, Key, LineError, Names, Record};
use crate::bundle::session::Session;
use crate::text;

/// Rows per statement are capped so no statement binds more than this many values
/// (SQLite allows 32,766, PostgreSQL 65,535).
const MAX_VALUES: usize = 30_000;
/// Most rows a batch holds before it is written.
const BATCH_ROWS: usize = 1_000;
/// Most batches being written at once (see [`Importer::flush`]).
const WRITES_AHEAD: usize = 2;

/// The content tables a bundle writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    Organization,
    Person,
    Position,
    Event,
    Document,
    Media,
    Tag,
    Article,
    Award,
    Statement,
    Commemoration,
}

impl Table {
    pub const ALL: [Table; 11] = [
        Table::Organization,
        Table::Person,
        Table::Position,
        Table::Document,
        Table::Event,
        Table::Media,
        Table::Tag,
        Table::Article,
        Table::Award,
        Table::Statement,
        Table::Commemoration,
    ];

    /// The table (and bundle type) name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Organization => "organization",
            Table::Person => "person",
            Table::Position => "position",
            Table::Event => "event",
            Table::Document => "document",
            Table::Media => "media",
            Table::Tag => "tag",
            Table::Article => "article",
            Table::Award => "award",
            Table::Statement => "statement",
            Table::Commemoration => "commemoration",
        }
    }

    /// The unique column besides the key, and how the bundle calls it.
    fn unique(self) -> Option<(&'static str, &'static str)> {
        match self {
            Table::Organization | Table::Person | Table::Event | Table::Tag | Table::Article => {
                Some(("slug", "slug"))
            }
            Table::Document => Some(("code_key", "code")),
            _ => None,
        }
    }

    /// The columns a record of this table sets, in the order of its values.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Organization => &[
                "slug",
                "name",
                "sort_key",
                "short_name",
                "kind",
                "founded_on",
                "parent_id",
                "website",
                "description",
                "names",
            ],
            Table::Person => &[
                "slug",
                "full_name",
                "family_name",
                "middle_name",
                "given_name",
                "sort_key",
                "names",
                "bio",
                "birth_date",
            ],
            Table::Position => &[
                "person_id",
                "organization_id",
                "title",
                "titles",
                "starts_on",
                "start_precision",
                "ends_on",
                "end_precision",
                "note",
            ],
            Table::Event => &[
                "slug",
                "name",
                "names",
                "starts_on",
                "starts_at",
                "date_precision",
                "year_inferred",
                "date_note",
                "ends_on",
                "location",
                "attendance",
                "attendance_note",
                "description",
            ],
            Table::Document => &[
                "code",
                "code_key",
                "title",
                "titles",
                "kind",
                "issuer_id",
                "term",
                "issued_on",
                "summary",
            ],
            Table::Media => &["url", "caption", "credit", "width", "height"],
            Table::Tag => &["slug", "name", "names"],
            Table::Article => &[
                "slug",
                "title",
                "summary",
                "body",
                "language",
                "status",
                "published_at",
                "source_id",
                "canonical_url",
                "translation_of_id",
            ],
            Table::Award => &[
                "name",
                "names",
                "event_id",
                "awarded_by_id",
                "reason",
                "period",
                "collective_count",
                "individual_count",
            ],
            Table::Statement => &["person_id", "event_id", "article_id", "kind", "text"],
            Table::Commemoration => &[
                "name",
                "names",
                "base_date",
                "date_precision",
                "note",
                "month_day",
                "organization_id",
                "event_id",
            ],
        }
    }
}

/// A join table a record replaces its rows in.
#[derive(Debug)]
pub struct LinkSpec {
    pub table: &'static str,
    pub owner: &'static str,
    /// The target column first, then the extra columns.
    pub columns: &'static [&'static str],
}

impl LinkSpec {
    /// The owner column, then the others.
    fn all_columns(&self) -> Vec<&'static str> {
        let mut all = vec![self.owner];
        all.extend_from_slice(self.columns);
        all
    }
}

pub const ARTICLE_PEOPLE: LinkSpec = LinkSpec {
    table: "article_person",
    owner: "article_id",
    columns: &["person_id", "ord"],
};
pub const ARTICLE_ORGANIZATIONS: LinkSpec = LinkSpec {
    table: "article_organization",
    owner: "article_id",
    columns: &["organization_id", "ord"],
};
pub const ARTICLE_EVENTS: LinkSpec = LinkSpec {
    table: "article_event",
    owner: "article_id",
    columns: &["event_id", "ord"],
};
pub const ARTICLE_DOCUMENTS: LinkSpec = LinkSpec {
    table: "article_document",
    owner: "article_id",
    columns: &["document_id", "ord"],
};
pub const ARTICLE_MEDIA: LinkSpec = LinkSpec {
    table: "article_media",
    owner: "article_id",
    columns: &["media_id", "ord"],
};
pub const ARTICLE_TAGS: LinkSpec = LinkSpec {
    table: "article_tag",
    owner: "article_id",
    columns: &["tag_id", "ord"],
};
pub const EVENT_ORGANIZERS: LinkSpec = LinkSpec {
    table: "event_organizer",
    owner: "event_id",
    columns: &["organization_id", "ord"],
};
pub const EVENT_PARTICIPANTS: LinkSpec = LinkSpec {
    table: "event_participant",
    owner: "event_id",
    columns: &["person_id", "role", "ord"],
};
pub const EVENT_DOCUMENTS: LinkSpec = LinkSpec {
    table: "event_document",
    owner: "event_id",
    columns: &["document_id", "ord"],
};
pub const MEDIA_PEOPLE: LinkSpec = LinkSpec {
    table: "media_person",
    owner: "media_id",
    columns: &["person_id", "ord"],
};
pub const AWARD_PEOPLE: LinkSpec = LinkSpec {
    table: "award_person",
    owner: "award_id",
    columns: &["person_id"],
};
pub const AWARD_ORGANIZATIONS: LinkSpec = LinkSpec {
    table: "award_organization",
    owner: "award_id",
    columns: &["organization_id"],
};

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Records read, by type.
    pub records: std::collections::HashMap<&'static str, u64>,
    /// Rows added.
    pub inserted: u64,
    /// Rows whose content changed.
    pub updated: u64,
    /// Rows already as the bundle says.
    pub unchanged: u64,
}

impl Summary {
    /// All records read.
    pub fn total(&self) -> u64 {
        self.records.values().sum()
    }
}

/// Who holds a unique value: an existing row, or a record of this bundle not yet written.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Holder {
    Row(i64),
    New(String),
}

struct PendingRow {
    key: String,
    existing: Option<i64>,
    values: Vec<Value>,
    links: Vec<(&'static LinkSpec, Vec<Vec<Value>>)>,
}

struct Pending {
    table: Table,
    rows: Vec<PendingRow>,
    keys: HashSet<String>,
}

/// The state of one import.
pub struct Importer {
    writer: Arc<Writer>,
    /// External key → row id, for every table.
    ids: HashMap<Table, HashMap<String, i64>>,
    /// Rows without an external key, which a native key (`bantin:<table>:<id>`) names.
    unclaimed: HashMap<Table, HashSet<i64>>,
    /// Keys already read in this bundle.
    seen: HashMap<Table, HashSet<String>>,
    /// Unique values (slugs, document codes) and who holds them.
    holders: HashMap<Table, HashMap<String, Holder>>,
    /// Sources by name and address.
    sources: HashMap<(String, Option<String>), i64>,
    pending: Option<Pending>,
    /// The batches before `pending` still being written, oldest first.
    in_flight: VecDeque<InFlight>,
    summary: Summary,
    line: usize,
}

fn nfc(text: &str) -> String {
    text::nfc(text)
}

fn nfc_opt(text: Option<String>) -> Value {
    text.map(text::into_nfc).into()
}

fn names_value(names: &Option<Names>) -> Value {
    names
        .as_ref()
        .map(|names| {
            let names: Names = names.iter().map(|(k, v)| (k.clone(), nfc(v))).collect();
            serde_json::to_string(&names).unwrap_or_default()
        })
        .into()
}

impl Importer {
    /// Prepares an import into `db` (a transaction): loads the external keys and
    /// unique values already stored.
    pub async fn new(db: Arc<Session>, now: DateTime<Utc>) -> Result<Self, BundleError> {
        let backend = db.get_database_backend();
        let types = if backend == DatabaseBackend::Postgres {
            column_types(&*db).await?
        } else {
            HashMap::new()
        };
        let writer = Arc::new(Writer {
            txn: db,
            backend,
            now,
            types,
        });
        let mut importer = Importer {
            writer,
            ids: HashMap::new(),
            unclaimed: HashMap::new(),
            seen: HashMap::new(),
            holders: HashMap::new(),
            sources: HashMap::new(),
            pending: None,
            in_flight: VecDeque::new(),
            summary: Summary::default(),
            line: 0,
        };
        for table in Table::ALL {
            importer.preload(table).await?;
        }
        let rows = importer
            .writer
            .txn
            .query_all_raw(Statement::from_string(
                importer.writer.backend,
                "SELECT id, name, url FROM source",
            ))
            .await?;
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let name: String = row.try_get("", "name")?;
            let url: Option<String> = row.try_get("", "url")?;
            importer.sources.insert((name, url), id);
        }
        Ok(importer)
    }

    async fn preload(&mut self, table: Table) -> Result<(), BundleError> {
        let unique = table.unique().map(|(column, _)| column).unwrap_or("NULL");
        let mut last = 0i64;
        loop {
            let sql = format!(
                "SELECT id, external_id, {unique} AS unique_value FROM \"{}\" WHERE id > {last} ORDER BY id LIMIT 10000",
                table.name()
            );
            let rows = self
                .writer
                .txn
                .query_all_raw(Statement::from_string(self.writer.backend, sql))
                .await?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in &rows {
                let id: i64 = row.try_get("", "id")?;
                let external: Option<String> = row.try_get("", "external_id")?;
                match external {
                    Some(key) => {
                        self.ids.entry(table).or_default().insert(key, id);
                    }
                    None => {
                        self.unclaimed.entry(table).or_default().insert(id);
                    }
                }
                if table.unique().is_some() {
                    let value: Option<String> = row.try_get("", "unique_value")?;
                    if let Some(value) = value {
                        self.holders
                            .entry(table)
                            .or_default()
                            .insert(value, Holder::Row(id));
                    }
                }
                last = id;
            }
        }
    }

    fn error(&self, field: &str, problem: impl Into<String>) -> BundleError {
        BundleError::line(self.line, field, problem)
    }

    /// The row id a reference names, writing pending rows first if it is one of them.
    async fn resolve(&mut self, table: Table, key: &Key, field: &str) -> Result<i64, BundleError> {
        match self.find(table, key).await? {
            Some(id) => Ok(id),
            None => Err(self.missing(table, key, field)),
        }
    }

    /// The row id a reference names, if there is one: that of a row stored or
    /// written (an id, once known, never changes), else that of a pending row,
    /// written first.
    async fn find(&mut self, table: Table, key: &Key) -> Result<Option<i64>, BundleError> {
        let stored = key.stored();
        let known = |importer: &Self| {
            (importer.ids.get(&table))
                .and_then(|ids| ids.get(&stored))
                .copied()
        };
        if let Some(id) = known(self) {
            return Ok(Some(id));
        }
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.table == table && p.keys.contains(&stored))
        {
            self.flush().await?;
        }
        if let Some(at) = self
            .in_flight
            .iter()
            .position(|f| f.table == table && f.keys.contains(&stored))
        {
            for _ in 0..=at {
                self.land().await?;
            }
        }
        if let Some(id) = known(self) {
            return Ok(Some(id));
        }
        Ok(key.native_id(table.name()).filter(|id| {
            self.unclaimed
                .get(&table)
                .is_some_and(|rows| rows.contains(id))
        }))
    }

    /// The error for a reference to a row neither the bundle nor the database has.
    fn missing(&self, table: Table, key: &Key, field: &str) -> BundleError {
        self.error(
            field,
            format!(
                "no {} with id {key} in the bundle or the database",
                table.name()
            ),
        )
    }

    async fn resolve_opt(
        &mut self,
        table: Table,
        key: &Option<Key>,
        field: &str,
    ) -> Result<Value, BundleError> {
        Ok(match key {
            Some(key) => Some(self.resolve(table, key, field).await?).into(),
            None => Option::<i64>::None.into(),
        })
    }

    /// Resolves a list of references into link rows (target, then `extra(i)`),
    /// dropping repeats.
    async fn links(
        &mut self,
        table: Table,
        keys: &Option<Vec<Key>>,
        field: &str,
        with_order: bool,
    ) -> Result<Vec<Vec<Value>>, BundleError> {
        let keys = keys.as_deref().unwrap_or_default();
        let mut rows = Vec::with_capacity(keys.len());
        let mut seen = HashSet::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let Some(id) = self.find(table, key).await? else {
                return Err(self.missing(table, key, &format!("{field}[{i}]")));
            };
            if seen.insert(id) {
                let row = if with_order {
                    vec![Value::from(id), Value::from(rows.len() as i32)]
                } else {
                    vec![Value::from(id)]
                };
                rows.push(row);
            }
        }
        Ok(rows)
    }

    fn date(&self, field: &str, text: &Option<String>) -> Result<Option<NaiveDate>, BundleError> {
        text.as_deref()
            .map(|t| {
                NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map_err(|_| self.error(field, format!("`{t}` is not a date (YYYY-MM-DD)")))
            })
            .transpose()
    }

    fn instant(
        &self,
        field: &str,
        text: &str,
    ) -> Result<DateTime<chrono::FixedOffset>, BundleError> {
        DateTime::parse_from_rfc3339(text).map_err(|_| {
            self.error(
                field,
                format!("`{text}` is not an RFC 3339 instant with an offset"),
            )
        })
    }

    fn precision(&self, field: &str, text: &Option<String>) -> Result<Option<String>, BundleError> {
        match text.as_deref() {
            None => Ok(None),
            Some(p @ ("day" | "month" | "year")) => Ok(Some(p.to_owned())),
            Some(other) => {
                Err(self.error(field, format!("`{other}` is not one of day, month, year")))
            }
        }
    }

    fn slug(&self, slug: &str) -> Result<String, BundleError> {
        let valid = !slug.is_empty()
            && slug.len() <= 200
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !slug.starts_with('-')
            && !slug.ends_with('-');
        if valid {
            Ok(slug.to_owned())
        } else {
            Err(self.error(
                "slug",
                format!("`{slug}` is not a slug (lowercase ASCII letters, digits and hyphens)"),
            ))
        }
    }

    /// Starts a record: checks its key is new in the bundle, and finds the row it
    /// updates, if any.
    async fn begin(
        &mut self,
        table: Table,
        key: &Key,
    ) -> Result<(String, Option<i64>), BundleError> {
        let stored = key.stored();
        if !self.seen.entry(table).or_default().insert(stored.clone()) {
            return Err(self.error(
                "id",
                format!("a {} with id {key} is already in the bundle", table.name()),
            ));
        }
        *self.summary.records.entry(table.name()).or_default() += 1;
        if let Some(id) = self.ids.get(&table).and_then(|ids| ids.get(&stored)) {
            return Ok((stored, Some(*id)));
        }
        if let Some(id) = key.native_id(table.name()) {
            let claimed = self
                .unclaimed
                .get_mut(&table)
                .is_some_and(|rows| rows.remove(&id));
            if claimed {
                // bantin's own key for a row that had none: from now on the row carries it.
                let sql = format!(
                    "UPDATE \"{}\" SET external_id = {} WHERE id = {id}",
                    table.name(),
                    param(self.writer.backend, 1)
                );
                self.writer
                    .txn
                    .execute_raw(Statement::from_sql_and_values(
                        self.writer.backend,
                        sql,
                        [Value::from(stored.clone())],
                    ))
                    .await?;
                self.ids
                    .entry(table)
                    .or_default()
                    .insert(stored.clone(), id);
                return Ok((stored, Some(id)));
            }
        }
        Ok((stored, None))
    }

    /// Checks and records who holds a unique value.
    fn claim_unique(
        &mut self,
        table: Table,
        value: &str,
        key: &str,
        existing: Option<i64>,
    ) -> Result<(), BundleError> {
        let me = existing.map_or_else(|| Holder::New(key.to_owned()), Holder::Row);
        let field = table.unique().map_or("", |(_, field)| field);
        let holders = self.holders.entry(table).or_default();
        match holders.get(value) {
            Some(holder) if *holder != me => {
                let line = self.line;
                Err(BundleError::line(
                    line,
                    field,
                    format!("`{value}` is already taken by another {}", table.name()),
                ))
            }
            _ => {
                holders.insert(value.to_owned(), me);
                Ok(())
            }
        }
    }

    async fn push(
        &mut self,
        table: Table,
        key: String,
        existing: Option<i64>,
        values: Vec<Value>,
        links: Vec<(&'static LinkSpec, Vec<Vec<Value>>)>,
    ) -> Result<(), BundleError> {
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.table != table || p.rows.len() >= BATCH_ROWS)
        {
            self.flush().await?;
        }
        let pending = self.pending.get_or_insert_with(|| Pending {
            table,
            rows: Vec::new(),
            keys: HashSet::new(),
        });
        pending.keys.insert(key.clone());
        pending.rows.push(PendingRow {
            key,
            existing,
            values,
            links,
        });
        Ok(())
    }

    /// Starts writing the pending batch. Up to [`WRITES_AHEAD`] batches are written
    /// while the next is read and checked: the database works while the importer
    /// does, and one batch's statements are built while another's run.
    pub async fn flush(&mut self) -> Result<(), BundleError> {
        while self.in_flight.len() >= WRITES_AHEAD {
            self.land().await?;
        }
        let Some(mut pending) = self.pending.take() else {
            return Ok(());
        };
        let table = pending.table;
        let keys = std::mem::take(&mut pending.keys);
        let task = tokio::spawn(self.writer.clone().write(pending, self.line));
        self.in_flight.push_back(InFlight { table, keys, task });
        Ok(())
    }

    /// Waits for the oldest batch being written, and takes in the ids of its new rows.
    async fn land(&mut self) -> Result<(), BundleError> {
        let Some(in_flight) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let written = in_flight.task.await.map_err(|e| {
            BundleError::line(self.line, "", format!("the batch writer stopped: {e}"))
        })??;
        self.ids
            .entry(written.table)
            .or_default()
            .extend(written.ids);
        self.summary.inserted += written.inserted;
        self.summary.updated += written.updated;
        self.summary.unchanged += written.unchanged;
        Ok(())
    }

    /// After a failure: waits for the batches being written, whatever their outcome,
    /// so that nothing uses the transaction once the import returns.
    async fn abandon(&mut self) {
        while let Some(in_flight) = self.in_flight.pop_front() {
            let _ = in_flight.task.await;
        }
    }

    /// Takes one parsed line (1-based `line`).
    pub async fn line(
        &mut self,
        line: usize,
        record: Result<Record, LineError>,
    ) -> Result<(), BundleError> {
        self.line = line;
        let record = record.map_err(|e| BundleError::line(line, e.field, e.problem))?;
        match (line, record) {
            (1, Record::Bundle(header)) => {
                if header.format != "content-bundle" || header.version != 1 {
                    return Err(self.error("format", "not a content bundle of version 1"));
                }
                Ok(())
            }
            (1, _) => Err(self.error("type", "the first line must be the bundle header")),
            (_, Record::Bundle(_)) => Err(self.error("type", "only the first line is a header")),
            (_, record) => self.record(record).await,
        }
    }

    async fn record(&mut self, record: Record) -> Result<(), BundleError> {
        match record {
            Record::Bundle(_) => Ok(()),
            Record::Organization(r) => self.organization(r).await,
            Record::Person(r) => self.person(r).await,
            Record::Position(r) => self.position(r).await,
            Record::Event(r) => self.event(r).await,
            Record::Document(r) => self.document(r).await,
            Record::Media(r) => self.media(r).await,
            Record::Tag(r) => self.tag(r).await,
            Record::Article(r) => self.article(r).await,
            Record::Award(r) => self.award(r).await,
            Record::Statement(r) => self.statement(r).await,
            Record::Commemoration(r) => self.commemoration(r).await,
        }
    }

    async fn organization(&mut self, r: format::Organization) -> Result<(), BundleError> {
        let table = Table::Organization;
        let (key, existing) = self.begin(table, &r.id).await?;
        let slug = self.slug(&r.slug)?;
        self.claim_unique(table, &slug, &key, existing)?;
        let name = text::clean_line(&r.name);
        let founded_on = self.date("founded_on", &r.founded_on)?;
        let parent = self.resolve_opt(table, &r.parent_id, "parent_id").await?;
        let values = vec![
            slug.into(),
            name.clone().into(),
            text::sort_key(&[&name]).into(),
            nfc_opt(r.short_name),
            r.kind.clone().into(),
            founded_on.into(),
            parent,
            r.website.clone().into(),
            nfc_opt(r.description),
            names_value(&r.names),
        ];
        self.push(table, key, existing, values, vec![]).await
    }

    async fn person(&mut self, r: format::Person) -> Result<(), BundleError> {
        let table = Table::Person;
        let (key, existing) = self.begin(table, &r.id).await?;
        let slug = self.slug(&r.slug)?;
        self.claim_unique(table, &slug, &key, existing)?;
        let full_name = text::clean_line(&r.full_name);
        let birth_date = self.date("birth_date", &r.birth_date)?;
        let clean = |part: &Option<String>| part.as_deref().map(text::clean_line);
        let (family, middle, given) = (
            clean(&r.family_name),
            clean(&r.middle_name),
            clean(&r.given_name),
        );
        let sort_key = text::person_sort_key(
            &full_name,
            family.as_deref(),
            middle.as_deref(),
            given.as_deref(),
        );
        let values = vec![
            slug.into(),
            full_name.clone().into(),
            family.into(),
            middle.into(),
            given.into(),
            sort_key.into(),
            names_value(&r.names),
            nfc_opt(r.bio),
            birth_date.into(),
        ];
        self.push(table, key, existing, values, vec![]).await
    }

    async fn position(&mut self, r: format::Position) -> Result<(), BundleError> {
        let table = Table::Position;
        let (key, existing) = self.begin(table, &r.id).await?;
        let person = self
            .resolve(Table::Person, &r.person_id, "person_id")
            .await?;
        let organization = self
            .resolve(Table::Organization, &r.organization_id, "organization_id")
            .await?;
        let starts_on = self.date("start_date", &r.start_date)?;
        let ends_on = self.date("end_date", &r.end_date)?;
        let start_precision = self.precision("start_precision", &r.start_precision)?;
        let end_precision = self.precision("end_precision", &r.end_precision)?;
        let values = vec![
            person.into(),
            organization.into(),
            text::clean_line(&r.title).into(),
            names_value(&r.titles),
            starts_on.into(),
            starts_on.and(start_precision.or(Some("day".into()))).into(),
            ends_on.into(),
            ends_on.and(end_precision.or(Some("day".into()))).into(),
            nfc_opt(r.note),
        ];
        self.push(table, key, existing, values, vec![]).await
    }

    async fn event(&mut self, r: format::Event) -> Result<(), BundleError> {
        let table = Table::Event;
        let (key, existing) = self.begin(table, &r.id).await?;
        let slug = self.slug(&r.slug)?;
        self.claim_unique(table, &slug, &key, existing)?;
        let starts_at = r
            .starts_at
            .as_deref()
            .map(|t| self.instant("starts_at", t))
            .transpose()?;
        let starts_on = match (self.date("starts_on", &r.starts_on)?, starts_at) {
            (Some(day), _) => day,
            // The day of an instant is the day where it happened, in its own offset.
            (None, Some(at)) => at.date_naive(),
            (None, None) => {
                return Err(self.error(
                    "starts_at",
                    "one of `starts_at` and `starts_on` is required",
                ));
            }
        };
        let ends_on = r
            .ends_at
            .as_deref()
            .map(|t| self.instant("ends_at", t))
            .transpose()?
            .map(|at| at.date_naive());
        let precision = self
            .precision("date_precision", &r.date_precision)?
            .unwrap_or_else(|| "day".into());
        let organizers = self
            .links(Table::Organization, &r.organizer_ids, "organizer_ids", true)
            .await?;
        let mut participants = Vec::new();
        let mut seen = HashSet::new();
        for (i, participant) in r.participants.iter().flatten().enumerate() {
            let person = self
                .resolve(
                    Table::Person,
                    &participant.person_id,
                    &format!("participants[{i}].person_id"),
                )
                .await?;
            if seen.insert((person, participant.role.clone())) {
                participants.push(vec![
                    Value::from(person),
                    Value::from(participant.role.clone()),
                    Value::from(participants.len() as i32),
                ]);
            }
        }
        let documents = self
            .links(Table::Document, &r.document_ids, "document_ids", true)
            .await?;
        let values = vec![
            slug.into(),
            text::clean_line(&r.name).into(),
            names_value(&r.names),
            starts_on.into(),
            starts_at.map(|at| at.with_timezone(&Utc)).into(),
            precision.into(),
            r.year_inferred.unwrap_or(false).into(),
            nfc_opt(r.date_note),
            ends_on.into(),
            nfc_opt(r.location),
            r.attendance.into(),
            nfc_opt(r.attendance_note),
            nfc_opt(r.description),
        ];
        let links = vec![
            (&EVENT_ORGANIZERS, organizers),
            (&EVENT_PARTICIPANTS, participants),
            (&EVENT_DOCUMENTS, documents),
        ];
        self.push(table, key, existing, values, links).await
    }

    async fn document(&mut self, r: format::Document) -> Result<(), BundleError> {
        let table = Table::Document;
        let (key, existing) = self.begin(table, &r.id).await?;
        let code = text::clean_line(&r.code);
        let code_key = text::document_code_key(&code);
        if code_key.is_empty() {
            return Err(self.error("code", "must have letters or digits"));
        }
        self.claim_unique(table, &code_key, &key, existing)?;
        let issuer = self
            .resolve_opt(Table::Organization, &r.issuer_id, "issuer_id")
            .await?;
        let issued_on = self.date("issued_on", &r.issued_on)?;
        let values = vec![
            code.into(),
            code_key.into(),
            text::clean_line(&r.title).into(),
            names_value(&r.titles),
            r.kind.clone().into(),
            issuer,
            nfc_opt(r.term),
            issued_on.into(),
            nfc_opt(r.summary),
        ];
        self.push(table, key, existing, values, vec![]).await
    }

    async fn media(&mut self, r: format::Media) -> Result<(), BundleError> {
        let table = Table::Media;
        let (key, existing) = self.begin(table, &r.id).await?;
        let depicts = self
            .links(Table::Person, &r.depicts_ids, "depicts_ids", true)
            .await?;
        let values = vec![
            r.url.clone().into(),
            nfc_opt(r.caption),
            nfc_opt(r.credit),
            r.width.into(),
            r.height.into(),
        ];
        self.push(table, key, existing, values, vec![(&MEDIA_PEOPLE, depicts)])
            .await
    }

    async fn tag(&mut self, r: format::Tag) -> Result<(), BundleError> {
        let table = Table::Tag;
        let (key, existing) = self.begin(table, &r.id).await?;
        let slug = self.slug(&r.slug)?;
        self.claim_unique(table, &slug, &key, existing)?;
        let values = vec![
            slug.into(),
            text::clean_line(&r.name).into(),
            names_value(&r.names),
        ];
        self.push(table, key, existing, values, vec![]).await
    }

    async fn source(&mut self, source: &Option<format::Source>) -> Result<Value, BundleError> {
        let Some(source) = source else {
            return Ok(Option::<i64>::None.into());
        };
        let wanted = (text::clean_line(&source.name), source.url.clone());
        if let Some(id) = self.sources.get(&wanted) {
            return Ok(Some(*id).into());
        }
        let sql = format!(
            "INSERT INTO source (name, url, version, created_at, updated_at) VALUES ({}, {}, 1, {}, {}) RETURNING id",
            param(self.writer.backend, 1),
            param(self.writer.backend, 2),
            param(self.writer.backend, 3),
            param(self.writer.backend, 4)
        );
        let values = [
            wanted.0.clone().into(),
            wanted.1.clone().into(),
            Value::from(self.writer.now),
            Value::from(self.writer.now),
        ];
        let row = self
            .writer
            .txn
            .query_one_raw(Statement::from_sql_and_values(
                self.writer.backend,
                sql,
                values,
            ))
            .await?
            .ok_or_else(|| self.error("source", "the source was not written"))?;
        let id: i64 = row.try_get("", "id")?;
        self.sources.insert(wanted, id);
        Ok(Some(id).into())
    }

    async fn article(&mut self, r: format::Article) -> Result<(), BundleError> {
        let table = Table::Article;
        let (key, existing) = self.begin(table, &r.id).await?;
        let slug = self.slug(&r.slug)?;
        self.claim_unique(table, &slug, &key, existing)?;
        let title = text::clean_line(&r.title);
        if title.is_empty() {
            return Err(self.error("title", "must not be empty"));
        }
        if !matches!(r.status.as_str(), "draft" | "published" | "archived") {
            return Err(self.error(
                "status",
                format!("`{}` is not one of draft, published, archived", r.status),
            ));
        }
        let language_ok = !r.language.is_empty()
            && r.language.split('-').all(|part| {
                !part.is_empty()
                    && part.len() <= 8
                    && part.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        if !language_ok {
            return Err(self.error(
                "language",
                format!("`{}` is not a BCP 47 language tag", r.language),
            ));
        }
        let published_at = self
            .instant("published_at", &r.published_at)?
            .with_timezone(&Utc);
        let source = self.source(&r.source).await?;
        let translation_of = self
            .resolve_opt(Table::Article, &r.translation_of, "translation_of")
            .await?;
        let people = self
            .links(Table::Person, &r.person_ids, "person_ids", true)
            .await?;
        let organizations = self
            .links(
                Table::Organization,
                &r.organization_ids,
                "organization_ids",
                true,
            )
            .await?;
        let events = self
            .links(Table::Event, &r.event_ids, "event_ids", true)
            .await?;
        let documents = self
            .links(Table::Document, &r.document_ids, "document_ids", true)
            .await?;
        let media = self
            .links(Table::Media, &r.media_ids, "media_ids", true)
            .await?;
        let tags = self.links(Table::Tag, &r.tag_ids, "tag_ids", true).await?;
        let values = vec![
            slug.into(),
            title.into(),
            nfc_opt(r.summary),
            text::into_nfc(r.body.unwrap_or_default()).into(),
            r.language.clone().into(),
            r.status.clone().into(),
            published_at.into(),
            source,
            r.canonical_url.clone().into(),
            translation_of,
        ];
        let links = vec![
            (&ARTICLE_PEOPLE, people),
            (&ARTICLE_ORGANIZATIONS, organizations),
            (&ARTICLE_EVENTS, events),
            (&ARTICLE_DOCUMENTS, documents),
            (&ARTICLE_MEDIA, media),
            (&ARTICLE_TAGS, tags),
        ];
        self.push(table, key, existing, values, links).await
    }

    async fn award(&mut self, r: format::Award) -> Result<(), BundleError> {
        let table = Table::Award;
        let (key, existing) = self.begin(table, &r.id).await?;
        let event = self
            .resolve_opt(Table::Event, &r.event_id, "event_id")
            .await?;
        let awarded_by = self
            .resolve_opt(Table::Organization, &r.awarded_by_id, "awarded_by_id")
            .await?;
        let people = self
            .links(
                Table::Person,
                &r.recipient_person_ids,
                "recipient_person_ids",
                false,
            )
            .await?;
        let organizations = self
            .links(
                Table::Organization,
                &r.recipient_organization_ids,
                "recipient_organization_ids",
                false,
            )
            .await?;
        let values = vec![
            text::clean_line(&r.name).into(),
            names_value(&r.names),
            event,
            awarded_by,
            nfc_opt(r.reason),
            nfc_opt(r.period),
            r.collective_count.into(),
            r.individual_count.into(),
        ];
        let links = vec![
            (&AWARD_PEOPLE, people),
            (&AWARD_ORGANIZATIONS, organizations),
        ];
        self.push(table, key, existing, values, links).await
    }

    async fn statement(&mut self, r: format::Statement) -> Result<(), BundleError> {
        let table = Table::Statement;
        let (key, existing) = self.begin(table, &r.id).await?;
        let person = self
            .resolve(Table::Person, &r.person_id, "person_id")
            .await?;
        let event = self
            .resolve_opt(Table::Event, &r.event_id, "event_id")
            .await?;
        let article = self
            .resolve_opt(Table::Article, &r.article_id, "article_id")
            .await?;
        let values = vec![
            person.into(),
            event,
            article,
            r.kind.clone().into(),
            text::into_nfc(r.text).into(),
        ];
        self.push(table, key, existing, values, vec![]).await
    }

    async fn commemoration(&mut self, r: format::Commemoration) -> Result<(), BundleError> {
        let table = Table::Commemoration;
        let (key, existing) = self.begin(table, &r.id).await?;
        let base_date = self
            .date("base_date", &Some(r.base_date.clone()))?
            .ok_or_else(|| self.error("base_date", "is required"))?;
        let precision = self
            .precision("date_precision", &r.date_precision)?
            .unwrap_or_else(|| "day".into());
        let organization = self
            .resolve_opt(Table::Organization, &r.organization_id, "organization_id")
            .await?;
        let event = self
            .resolve_opt(Table::Event, &r.event_id, "event_id")
            .await?;
        let values = vec![
            text::clean_line(&r.name).into(),
            names_value(&r.names),
            base_date.into(),
            precision.into(),
            nfc_opt(r.note),
            base_date.format("%m-%d").to_string().into(),
            organization,
            event,
        ];
        self.push(table, key, existing, values, vec![]).await
    }

    /// Writes what is pending and returns the summary.
    pub async fn finish(&mut self) -> Result<Summary, BundleError> {
        self.flush().await?;
        while !self.in_flight.is_empty() {
            self.land().await?;
        }
        Ok(std::mem::take(&mut self.summary))
    }

    /// The summary so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}

/// Writes batches: the import's transaction and what building its statements
/// needs, shared with the task that writes one batch while the next is read.
struct Writer {
    txn: Arc<Session>,
    backend: DatabaseBackend,
    now: DateTime<Utc>,
    /// On PostgreSQL, the type of each written column, by table and column.
    types: HashMap<(String, String), String>,
}

/// What writing a batch did.
struct Written {
    table: Table,
    /// The rows the upsert inserted or changed, by external key.
    ids: HashMap<String, i64>,
    inserted: u64,
    updated: u64,
    unchanged: u64,
}

/// A batch being written by a task of its own while the importer reads on.
struct InFlight {
    table: Table,
    keys: HashSet<String>,
    task: tokio::task::JoinHandle<Result<Written, BundleError>>,
}

/// The placeholder of the `n`th bound value (from 1).
fn param(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

impl Writer {
    /// `VALUES (?, ?), (?, ?)…` for some rows, and the values to bind, in order.
    fn values_list(&self, rows: impl Iterator<Item = Vec<Value>>) -> (String, Vec<Value>) {
        let mut sql = String::from("VALUES ");
        let mut values = Vec::new();
        for (i, row) in rows.enumerate() {
            if i > 0 {
                sql.push(',');
            }
            let placeholders: Vec<String> = (0..row.len())
                .map(|j| param(self.backend, values.len() + j + 1))
                .collect();
            sql.push('(');
            sql.push_str(&placeholders.join(","));
            sql.push(')');
            values.extend(row);
        }
        (sql, values)
    }

    /// Writes a batch: its new rows inserted and its stored ones upserted (an
    /// unchanged row is left untouched), then the batch's relations, replaced.
    /// `line` is the line being read when it started.
    async fn write(
        self: Arc<Self>,
        mut pending: Pending,
        line: usize,
    ) -> Result<Written, BundleError> {
        let table = pending.table;
        let columns = table.columns();
        let width = columns.len() + 4;
        let mut written = Written {
            table,
            ids: HashMap::new(),
            inserted: 0,
            updated: 0,
            unchanged: 0,
        };
        let mut owners_to_clear = Vec::new();
        let chunk_rows = if self.backend == DatabaseBackend::Postgres {
            BATCH_ROWS
        } else {
            (MAX_VALUES / width).max(1)
        };
        for chunk in pending.rows.chunks_mut(chunk_rows) {
            let statements = if self.backend == DatabaseBackend::Postgres {
                let (stored, new): (Vec<_>, Vec<_>) =
                    chunk.iter_mut().partition(|row| row.existing.is_some());
                let mut statements = Vec::with_capacity(2);
                if !new.is_empty() {
                    statements.push(self.pg_insert_statement(table, new)?);
                }
                if !stored.is_empty() {
                    statements.push(self.pg_update_statement(table, stored)?);
                }
                statements
            } else {
                vec![self.upsert_statement(table, chunk)?]
            };
            let mut changed = HashSet::new();
            for (sql, values) in statements {
                let rows = self
                    .txn
                    .query_all_raw(Statement::from_sql_and_values(self.backend, sql, values))
                    .await?;
                for row in rows {
                    let id: i64 = row.try_get("", "id")?;
                    let key: String = row.try_get("", "external_id")?;
                    written.ids.insert(key, id);
                    changed.insert(id);
                }
            }
            for row in chunk {
                match row.existing {
                    None => written.inserted += 1,
                    Some(id) if changed.contains(&id) => written.updated += 1,
                    Some(_) => written.unchanged += 1,
                }
                if let Some(id) = row.existing {
                    owners_to_clear.push(id);
                }
            }
        }
        // Relations are replaced, but only where they differ: the stored rows of
        // existing owners are read and compared, so re-importing an unchanged bundle
        // reads relations instead of deleting and rewriting them all. (On PostgreSQL
        // new rows' relations went in with them.)
        let mut wanted: HashMap<&'static str, HashMap<i64, Vec<Vec<Value>>>> = HashMap::new();
        for row in &pending.rows {
            let owner = row
                .existing
                .or_else(|| written.ids.get(&row.key).copied())
                .ok_or_else(|| BundleError::line(line, "id", "the row was not written"))?;
            for (spec, links) in &row.links {
                wanted
                    .entry(spec.table)
                    .or_default()
                    .insert(owner, links.clone());
            }
        }
        let mut inserts = Vec::new();
        for spec in link_specs(table) {
            let mut wanted = wanted.remove(spec.table).unwrap_or_default();
            let mut stale = Vec::new();
            for owners in owners_to_clear.chunks(MAX_VALUES) {
                let stored = self.stored_links(spec, owners).await?;
                for owner in owners {
                    let now = wanted.get(owner).map(Vec::as_slice).unwrap_or_default();
                    let before = stored.get(owner).map(Vec::as_slice).unwrap_or_default();
                    if now == before {
                        wanted.remove(owner);
                    } else if !before.is_empty() {
                        stale.push(*owner);
                    }
                }
            }
            for owners in stale.chunks(MAX_VALUES) {
                let list: Vec<String> = owners.iter().map(i64::to_string).collect();
                let sql = format!(
                    "DELETE FROM \"{}\" WHERE \"{}\" IN ({})",
                    spec.table,
                    spec.owner,
                    list.join(",")
                );
                self.txn
                    .execute_raw(Statement::from_string(self.backend, sql))
                    .await?;
            }
            let mut owners: Vec<i64> = wanted.keys().copied().collect();
            owners.sort_unstable();
            let rows: Vec<Vec<Value>> = owners
                .into_iter()
                .flat_map(|owner| {
                    wanted
                        .remove(&owner)
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |link| owned(Value::from(owner), link))
                })
                .collect();
            if !rows.is_empty() {
                inserts.push((*spec, rows));
            }
        }
        self.insert_links(inserts).await?;
        Ok(written)
    }

    /// The stored relation rows of some owners, each as the importer builds them
    /// (target, then the extra columns), in the order they were written.
    async fn stored_links(
        &self,
        spec: &LinkSpec,
        owners: &[i64],
    ) -> Result<HashMap<i64, Vec<Vec<Value>>>, BundleError> {
        let list: Vec<String> = owners.iter().map(i64::to_string).collect();
        let order = if spec.columns.contains(&"ord") {
            "\"ord\""
        } else {
            spec.columns[0]
        };
        // The owners of a batch are mostly neighbours, and the range they span tells
        // the planner so: with the list alone it costs a thousand index lookups above
        // a scan of the whole table, and on the article's events (a row or two each)
        // a re-import then spent most of its time scanning.
        let (low, high) = (
            owners.iter().min().copied().unwrap_or_default(),
            owners.iter().max().copied().unwrap_or_default(),
        );
        let sql = format!(
            "SELECT {} FROM \"{}\" WHERE \"{owner}\" BETWEEN {low} AND {high} \
             AND \"{owner}\" IN ({}) ORDER BY \"{owner}\", {order}",
            quoted(&spec.all_columns()),
            spec.table,
            list.join(","),
            owner = spec.owner,
        );
        let mut stored: HashMap<i64, Vec<Vec<Value>>> = HashMap::new();
        for row in self
            .txn
            .query_all_raw(Statement::from_string(self.backend, sql))
            .await?
        {
            let owner: i64 = row.try_get("", spec.owner)?;
            let mut link = Vec::with_capacity(spec.columns.len());
            for column in spec.columns {
                link.push(match *column {
                    "ord" => Value::from(row.try_get::<i32>("", column)?),
                    "role" => Value::from(row.try_get::<String>("", column)?),
                    _ => Value::from(row.try_get::<i64>("", column)?),
                });
            }
            stored.entry(owner).or_default().push(link);
        }
        Ok(stored)
    }

    /// The insert (or, when some are stored, the upsert) of some rows of `table` on
    /// SQLite, as a multi-row `VALUES` list. The rows' values move into the statement.
    fn upsert_statement(
        &self,
        table: Table,
        chunk: &mut [PendingRow],
    ) -> Result<(String, Vec<Value>), BundleError> {
        let name = table.name();
        let columns = table.columns();
        let mut sql = format!(
            "INSERT INTO \"{name}\" ({}) ",
            quoted(&Self::record_columns(table))
        );
        let rows = chunk.iter_mut().map(|row| {
            let mut record = vec![
                Value::from(row.key.clone()),
                Value::from(1i32),
                Value::from(self.now),
                Value::from(self.now),
            ];
            record.append(&mut row.values);
            record
        });
        let (list, values) = self.values_list(rows);
        sql.push_str(&list);
        // Rows whose key no stored row has are plain inserts: the upsert's check
        // for a conflict before each row is work a first import need not do. (A row
        // stored under the key meanwhile, by another import, fails this one.)
        if chunk.iter().any(|row| row.existing.is_some()) {
            sql.push_str(" ON CONFLICT (external_id) DO UPDATE SET ");
            for column in columns {
                sql.push_str(&format!("\"{column}\" = excluded.\"{column}\", "));
            }
            sql.push_str(&format!(
                "version = \"{name}\".version + 1, updated_at = excluded.updated_at WHERE "
            ));
            let changed: Vec<String> = columns
                .iter()
                .map(|c| format!("\"{name}\".\"{c}\" IS NOT excluded.\"{c}\""))
                .collect();
            sql.push_str(&changed.join(" OR "));
        }
        sql.push_str(" RETURNING id, external_id");
        Ok((sql, values))
    }

    /// The columns a record is inserted with: its key, version and times, then its own.
    fn record_columns(table: Table) -> Vec<&'static str> {
        let mut all = vec!["external_id", "version", "created_at", "updated_at"];
        all.extend_from_slice(table.columns());
        all
    }

    /// The insert of some new rows of `table` on PostgreSQL, as an `unnest` of one
    /// array per column (see [`Writer::unnest`]), and of their relations in the
    /// same statement: a relation's rows name their owner by key, joined to the
    /// ids the insert returns. One round trip a batch, where the relations waited
    /// for the ids before. The rows' values and relations move into it.
    fn pg_insert_statement(
        &self,
        table: Table,
        mut rows: Vec<&mut PendingRow>,
    ) -> Result<(String, Vec<Value>), BundleError> {
        let name = table.name();
        let mut links: Vec<(&LinkSpec, Vec<Vec<Value>>)> = link_specs(table)
            .iter()
            .map(|spec| (*spec, Vec::new()))
            .collect();
        for row in &mut rows {
            for (spec, row_links) in std::mem::take(&mut row.links) {
                let Some((_, all)) = links.iter_mut().find(|(s, _)| s.table == spec.table) else {
                    continue;
                };
                let key = || Value::from(row.key.clone());
                all.extend(row_links.into_iter().map(|link| owned(key(), link)));
            }
        }
        let keys = rows.iter().map(|row| row.key.clone().into()).collect();
        let mut cells = vec![
            Cells::Each(keys),
            Cells::Same(Value::from(1i32)),
            Cells::Same(Value::from(self.now)),
            Cells::Same(Value::from(self.now)),
        ];
        cells.extend(own_cells(table, rows));
        let mut values = Vec::new();
        let record_columns = Self::record_columns(table);
        let select = self.unnest(name, &record_columns, cells, &mut values)?;
        let mut sql = format!(
            "WITH r AS (INSERT INTO \"{name}\" ({}) {select} RETURNING id, external_id)",
            quoted(&record_columns)
        );
        for (i, (spec, rows)) in links
            .into_iter()
            .filter(|(_, rows)| !rows.is_empty())
            .enumerate()
        {
            let mut columns = vec![("key", "text")];
            for column in spec.columns {
                columns.push((*column, self.column_type(spec.table, column)?));
            }
            let cells = by_column(rows.into_iter(), columns.len());
            let cells = cells.into_iter().map(Cells::Each).collect();
            let select = self.unnest_typed(&columns, cells, &mut values);
            let targets: Vec<String> = spec.columns.iter().map(|c| format!("l.\"{c}\"")).collect();
            sql.push_str(&format!(
                ", l{i} AS (INSERT INTO \"{}\" ({}) SELECT r.id, {} FROM ({select}) AS l \
                 JOIN r ON r.external_id = l.key)",
                spec.table,
                quoted(&spec.all_columns()),
                targets.join(", ")
            ));
        }
        sql.push_str(" SELECT id, external_id FROM r");
        Ok((sql, values))
    }

    /// The update of some stored rows of `table` on PostgreSQL, by id, where any
    /// column differs (see [`Writer::unnest`]); the changed rows come back. A row
    /// as the bundle has it is not touched: where an upsert would lock every row
    /// it matches, and so write every page of the table, a re-import only reads.
    fn pg_update_statement(
        &self,
        table: Table,
        rows: Vec<&mut PendingRow>,
    ) -> Result<(String, Vec<Value>), BundleError> {
        let name = table.name();
        let columns = table.columns();
        let mut all = vec!["id", "updated_at"];
        all.extend_from_slice(columns);
        let ids = rows.iter().map(|row| row.existing.into()).collect();
        let mut cells = vec![Cells::Each(ids), Cells::Same(Value::from(self.now))];
        cells.extend(own_cells(table, rows));
        let mut values = Vec::new();
        let select = self.unnest(name, &all, cells, &mut values)?;
        let set: Vec<String> = columns
            .iter()
            .map(|c| format!("\"{c}\" = v.\"{c}\""))
            .collect();
        let changed: Vec<String> = columns
            .iter()
            .map(|c| format!("t.\"{c}\" IS DISTINCT FROM v.\"{c}\""))
            .collect();
        let sql = format!(
            "UPDATE \"{name}\" AS t SET {}, version = t.version + 1, updated_at = v.updated_at \
             FROM ({select}) AS v WHERE t.id = v.id AND ({}) RETURNING t.id, t.external_id",
            set.join(", "),
            changed.join(" OR ")
        );
        Ok((sql, values))
    }

    /// `SELECT … FROM (SELECT unnest(…), …)` of some rows for PostgreSQL, for one
    /// short statement whatever the batch size: a value the same in every row is
    /// bound once, and every other column as one array. (In the select list the
    /// arrays are unnested in step as rows stream out; `FROM unnest(…)` would first
    /// copy every row into a temporary store.) A column without nulls whose values
    /// are all of one type travels as an array of that type, in binary (ids,
    /// positions and dates need no formatting here nor parsing there); any other
    /// as a text array, which the server copies where JSON would be parsed (that
    /// parse was half the time of a large import), with a boolean array marking its
    /// nulls. Each value is cast to its column's type.
    fn unnest(
        &self,
        table: &str,
        columns: &[&str],
        cells: Vec<Cells>,
        values: &mut Vec<Value>,
    ) -> Result<String, BundleError> {
        let columns = columns
            .iter()
            .map(|column| Ok((*column, self.column_type(table, column)?)))
            .collect::<Result<Vec<_>, BundleError>>()?;
        Ok(self.unnest_typed(&columns, cells, values))
    }

    /// [`Writer::unnest`] of columns given with their types.
    fn unnest_typed(
        &self,
        columns: &[(&str, &str)],
        cells: Vec<Cells>,
        values: &mut Vec<Value>,
    ) -> String {
        let mut arrays = Vec::with_capacity(columns.len());
        let mut casts = Vec::with_capacity(columns.len());
        for (i, ((column, ty), cells)) in columns.iter().zip(cells).enumerate() {
            let cells = match cells {
                Cells::Same(value) => {
                    values.push(value);
                    casts.push(format!("${}::{ty} AS \"{column}\"", values.len()));
                    continue;
                }
                Cells::Each(cells) => cells,
            };
            let cells = match typed_array(cells) {
                Ok((array, element)) => {
                    values.push(array);
                    arrays.push(format!("unnest(${}::{element}[]) AS v{i}", values.len()));
                    casts.push(format!("v{i}::{ty} AS \"{column}\""));
                    continue;
                }
                Err(cells) => cells,
            };
            let mut texts = Vec::with_capacity(cells.len());
            let mut nulls = Vec::with_capacity(cells.len());
            for value in &cells {
                let text = text_of(value);
                nulls.push(Value::Bool(Some(text.is_none())));
                texts.push(Value::String(Some(text.unwrap_or_default())));
            }
            values.push(Value::Array(ArrayType::String, Some(Box::new(texts))));
            values.push(Value::Array(ArrayType::Bool, Some(Box::new(nulls))));
            arrays.push(format!(
                "unnest(${}::text[]) AS v{i}, unnest(${}::boolean[]) AS n{i}",
                values.len() - 1,
                values.len()
            ));
            casts.push(format!(
                "CASE WHEN n{i} THEN NULL ELSE v{i}::{ty} END AS \"{column}\""
            ));
        }
        format!(
            "SELECT {} FROM (SELECT {}) AS row",
            casts.join(", "),
            arrays.join(", ")
        )
    }

    /// The type of a column on PostgreSQL, as its catalog names it.
    fn column_type(&self, table: &str, column: &str) -> Result<&str, BundleError> {
        let ty = self
            .types
            .get(&(table.to_owned(), column.to_owned()))
            .ok_or_else(|| DbErr::Custom(format!("no column {table}.{column}")))?;
        Ok(ty)
    }

    /// Inserts a batch's relation rows, by relation. On PostgreSQL in one statement,
    /// an `INSERT` for each relation but the last in a `WITH`: one round trip and
    /// one parse for them all, where an article batch has six.
    async fn insert_links(
        &self,
        inserts: Vec<(&LinkSpec, Vec<Vec<Value>>)>,
    ) -> Result<(), BundleError> {
        if self.backend == DatabaseBackend::Postgres {
            let mut values = Vec::new();
            let mut statements = Vec::with_capacity(inserts.len());
            for (spec, rows) in inserts {
                let columns = spec.all_columns();
                let cells = by_column(rows.into_iter(), columns.len());
                let cells = cells.into_iter().map(Cells::Each).collect();
                let select = self.unnest(spec.table, &columns, cells, &mut values)?;
                statements.push(format!(
                    "INSERT INTO \"{}\" ({}) {select}",
                    spec.table,
                    quoted(&columns)
                ));
            }
            let Some(last) = statements.pop() else {
                return Ok(());
            };
            let before: Vec<String> = (statements.iter().enumerate())
                .map(|(i, insert)| format!("l{i} AS ({insert})"))
                .collect();
            let sql = if before.is_empty() {
                last
            } else {
                format!("WITH {} {last}", before.join(", "))
            };
            self.txn
                .execute_raw(Statement::from_sql_and_values(self.backend, sql, values))
                .await?;
            return Ok(());
        }
        for (spec, rows) in inserts {
            let columns = spec.all_columns();
            for chunk in rows.chunks((MAX_VALUES / columns.len()).max(1)) {
                let (values_sql, values) = self.values_list(chunk.iter().cloned());
                let sql = format!(
                    "INSERT INTO \"{}\" ({}) {values_sql}",
                    spec.table,
                    quoted(&columns)
                );
                self.txn
                    .execute_raw(Statement::from_sql_and_values(self.backend, sql, values))
                    .await?;
            }
        }
        Ok(())
    }
}

/// A relation row as written: its owner, then the row as the importer builds it.
fn owned(owner: Value, link: Vec<Value>) -> Vec<Value> {
    let mut row = Vec::with_capacity(link.len() + 1);
    row.push(owner);
    row.extend(link);
    row
}

/// Column names quoted and listed.
fn quoted(columns: &[&str]) -> String {
    let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    quoted.join(", ")
}

/// The values of one column of an [`Writer::unnest`].
enum Cells {
    /// The same value in every row, bound once.
    Same(Value),
    /// A value for each row.
    Each(Vec<Value>),
}

/// The values of some rows of `table` by column, moved out of the rows.
fn own_cells(table: Table, rows: Vec<&mut PendingRow>) -> impl Iterator<Item = Cells> {
    let values = rows.into_iter().map(|row| std::mem::take(&mut row.values));
    by_column(values, table.columns().len())
        .into_iter()
        .map(Cells::Each)
}

/// Rows of `width` values turned into columns of values, moved.
fn by_column(rows: impl Iterator<Item = Vec<Value>>, width: usize) -> Vec<Vec<Value>> {
    let mut columns: Vec<Vec<Value>> = vec![Vec::new(); width];
    for row in rows {
        for (column, value) in columns.iter_mut().zip(row) {
            column.push(value);
        }
    }
    columns
}

/// The values of a column as one array of their own type, and that type's name,
/// when none is null and all are integers, booleans, texts, dates or instants of
/// the same kind; otherwise the values back.
fn typed_array(cells: Vec<Value>) -> Result<(Value, &'static str), Vec<Value>> {
    let (ty, element) = match cells.first() {
        Some(Value::BigInt(_)) => (ArrayType::BigInt, "bigint"),
        Some(Value::Int(_)) => (ArrayType::Int, "integer"),
        Some(Value::Bool(_)) => (ArrayType::Bool, "boolean"),
        Some(Value::String(_)) => (ArrayType::String, "text"),
        Some(Value::ChronoDate(_)) => (ArrayType::ChronoDate, "date"),
        Some(Value::ChronoDateTimeUtc(_)) => (ArrayType::ChronoDateTimeUtc, "timestamptz"),
        _ => return Err(cells),
    };
    let kind = cells.first().map(std::mem::discriminant);
    if cells
        .iter()
        .all(|value| value.is_some() && Some(std::mem::discriminant(value)) == kind)
    {
        Ok((Value::Array(ty, Some(Box::new(cells))), element))
    } else {
        Err(cells)
    }
}

/// A value as PostgreSQL reads it from text; `None` for NULL. These are the types
/// the importer binds; the export → import → export test would show another one.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Bool(v) => v.map(|v| v.to_string()),
        Value::Int(v) => v.map(|v| v.to_string()),
        Value::BigInt(v) => v.map(|v| v.to_string()),
        Value::String(v) => v.clone(),
        Value::ChronoDate(v) => v.map(|d| d.format("%Y-%m-%d").to_string()),
        Value::ChronoDateTimeUtc(v) => v.map(|at| at.to_rfc3339()),
        _ => None,
    }
}

/// The join tables a record of `table` owns rows in.
fn link_specs(table: Table) -> &'static [&'static LinkSpec] {
    match table {
        Table::Event => &[&EVENT_ORGANIZERS, &EVENT_PARTICIPANTS, &EVENT_DOCUMENTS],
        Table::Media => &[&MEDIA_PEOPLE],
        Table::Article => &[
            &ARTICLE_PEOPLE,
            &ARTICLE_ORGANIZATIONS,
            &ARTICLE_EVENTS,
            &ARTICLE_DOCUMENTS,
            &ARTICLE_MEDIA,
            &ARTICLE_TAGS,
        ],
        Table::Award => &[&AWARD_PEOPLE, &AWARD_ORGANIZATIONS],
        _ => &[],
    }
}

/// The type of every column of the tables an import writes, on PostgreSQL.
async fn column_types(
    db: &impl ConnectionTrait,
) -> Result<HashMap<(String, String), String>, BundleError> {
    let sql = "SELECT c.relname AS tab, a.attname AS col, \
               format_type(a.atttypid, a.atttypmod) AS ty \
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
               WHERE c.relnamespace = current_schema()::regnamespace \
               AND c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped";
    let tables: Vec<String> = written_tables().into_iter().map(str::to_owned).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            sql,
            [tables.into()],
        ))
        .await?;
    let mut types = HashMap::new();
    for row in rows {
        types.insert(
            (row.try_get("", "tab")?, row.try_get("", "col")?),
            row.try_get("", "ty")?,
        );
    }
    Ok(types)
}

/// Every table an import may write.
fn written_tables() -> Vec<&'static str> {
    let mut tables: Vec<&'static str> = Table::ALL.iter().map(|t| t.name()).collect();
    tables.push("source");
    for table in Table::ALL {
        tables.extend(link_specs(table).iter().map(|spec| spec.table));
    }
    tables.sort_unstable();
    tables.dedup();
    tables
}

/// Imports a whole bundle in one transaction; `progress` is called after every
/// line with the bytes read so far and the importer's summary.
pub async fn import(
    db: &DatabaseConnection,
    input: impl BufRead + Send + 'static,
    now: DateTime<Utc>,
    mut progress: impl FnMut(u64, &Summary),
) -> Result<Summary, BundleError> {
    let txn = Arc::new(Session::begin(db).await?);
    let written = write(&txn, input, now, &mut progress).await;
    // Every batch writer has finished (`write` waits for them, whatever happens),
    // so this is the only reference left.
    let txn = Arc::into_inner(txn)
        .ok_or_else(|| std::io::Error::other("the import's transaction is still in use"))?;
    let (summary, bytes, analyzed) = match written {
        Ok(written) => written,
        Err(error) => {
            // Rolled back here and now: a dropped transaction is rolled back only
            // when its connection is next used, and until then it would keep
            // SQLite's write lock (the import's first writes drop indexes).
            if let Err(rollback) = txn.rollback().await {
                tracing::error!(%rollback, "could not roll the import back");
            }
            return Err(error);
        }
    };
    txn.commit().await?;
    // Fresh statistics, so the planner knows the new rows (a bulk load can turn a
    // table of ten rows into one of a million).
    analyze(db, &analyzed).await?;
    progress(bytes, &summary);
    Ok(summary)
}

/// Tables analyzed at once on PostgreSQL, each on a connection of its own.
const ANALYZED_AT_ONCE: usize = 2;

/// Brings the planner's statistics up to date: on PostgreSQL those of the written
/// tables but those `analyzed` already, some at once.
async fn analyze(db: &DatabaseConnection, analyzed: &[String]) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return db.execute_unprepared("ANALYZE").await.map(drop);
    }
    let tables = written_tables().into_iter();
    let statements = tables
        .filter(|t| !analyzed.iter().any(|a| a == t))
        .map(|table| {
            let sql = format!("ANALYZE \"{table}\"");
            db.execute_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        });
    let mut running = futures_util::stream::iter(statements).buffer_unordered(ANALYZED_AT_ONCE);
    while let Some(done) = running.next().await {
        done?;
    }
    Ok(())
}

/// A line of the bundle, read and parsed.
struct ParsedLine {
    /// Its number, from 1.
    number: usize,
    /// The bytes read up to its end.
    bytes: u64,
    /// `None` for a blank line.
    record: Option<Result<Record, LineError>>,
}

/// Lines sent at once by [`read_lines`].
const READ_BATCH: usize = 256;

/// What the reading thread sends.
enum Read {
    Lines(Vec<ParsedLine>),
    /// The end of the input: without it, a closed channel means the thread died.
    End,
    Failed(BundleError),
}

/// Reads and parses the bundle's lines on a thread of their own, so that the JSON
/// work overlaps the database's, and sends them in batches of [`READ_BATCH`]. Stops
/// after a line that cannot be read, or when the receiver is gone (the import
/// failed); a few batches wait at most, so memory stays flat.
fn read_lines(mut input: impl BufRead + Send + 'static) -> tokio::sync::mpsc::Receiver<Read> {
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(READ_BATCH);
        let mut bytes = 0u64;
        let mut buffer = Vec::new();
        for number in 1.. {
            buffer.clear();
            let line = match input.read_until(b'\n', &mut buffer) {
                Ok(0) => break,
                Ok(read) => {
                    bytes += read as u64;
                    let end = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
                    let end = end.strip_suffix(b"\r").unwrap_or(end);
                    simdutf8::basic::from_utf8(end).map_err(|_| "is not UTF-8".to_owned())
                }
                Err(e) => Err(e.to_string()),
            };
            let line = match line {
                Ok(line) => line,
                Err(problem) => {
                    let error = BundleError::line(number, "", format!("cannot be read: {problem}"));
                    let _ = sender.blocking_send(Read::Lines(batch));
                    let _ = sender.blocking_send(Read::Failed(error));
                    return;
                }
            };
            let record = (!line.trim().is_empty()).then(|| Record::parse(line));
            batch.push(ParsedLine {
                number,
                bytes,
                record,
            });
            if batch.len() == READ_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(READ_BATCH));
                if sender.blocking_send(Read::Lines(full)).is_err() {
                    return;
                }
            }
        }
        let _ = sender.blocking_send(Read::Lines(batch));
        let _ = sender.blocking_send(Read::End);
    });
    receiver
}

/// Writes the bundle inside `txn`; the summary, the bytes read and the tables
/// analyzed already.
async fn write(
    txn: &Arc<Session>,
    input: impl BufRead + Send + 'static,
    now: DateTime<Utc>,
    progress: &mut impl FnMut(u64, &Summary),
) -> Result<(Summary, u64, Vec<String>), BundleError> {
    if txn.get_database_backend() == DatabaseBackend::Sqlite {
        // A bulk write touches more pages than the default 2 MB cache holds. 16 MB
        // (a thousand 16 KiB pages) keeps the unique indexes' working set: with a
        // rollback journal a larger cache made the medium corpus no faster, and
        // only raised the peak memory (48 MB: 203-241 MB, 16 MB: 180-187 MB).
        txn.execute_unprepared("PRAGMA cache_size = -16384").await?;
    } else {
        // Long texts (article bodies) are compressed as they are stored; LZ4, where
        // the server has it, takes a fraction of the time of the default (pglz).
        txn.execute_unprepared(
            "SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings \
             WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)",
        )
        .await?;
    }
    let deferred = crate::bundle::indexes::defer(&**txn, &written_tables()).await?;
    let mut importer = Importer::new(txn.clone(), now).await?;
    let written = match read_all(&mut importer, input, progress).await {
        Ok(bytes) => importer.finish().await.map(|summary| (summary, bytes)),
        Err(error) => Err(error),
    };
    let (summary, bytes) = match written {
        Ok(written) => written,
        Err(error) => {
            // A batch may still be being written (the one after a failed one).
            importer.abandon().await;
            return Err(error);
        }
    };
    let analyzed = deferred.rebuild(&**txn).await?;
    if summary.inserted + summary.updated > 0 {
        // Every instance's search index rebuilds from the committed content.
        crate::search::enqueue_all(&**txn, now).await?;
    }
    Ok((summary, bytes, analyzed))
}

/// Hands every line of the bundle to the importer; the bytes read.
async fn read_all(
    importer: &mut Importer,
    input: impl BufRead + Send + 'static,
    progress: &mut impl FnMut(u64, &Summary),
) -> Result<u64, BundleError> {
    let mut bytes = 0u64;
    let mut number = 0usize;
    let mut lines = read_lines(input);
    loop {
        let batch = match lines.recv().await {
            Some(Read::Lines(batch)) => batch,
            Some(Read::End) => break,
            Some(Read::Failed(error)) => return Err(error),
            None => return Err(std::io::Error::other("the bundle's reader stopped").into()),
        };
        for parsed in batch {
            (number, bytes) = (parsed.number, parsed.bytes);
            if let Some(record) = parsed.record {
                importer.line(number, record).await?;
            }
            if number.is_multiple_of(1024) {
                progress(bytes, importer.summary());
            }
        }
    }
    if number == 0 {
        return Err(BundleError::line(1, "", "the bundle is empty"));
    }
    Ok(bytes)
}
