//! `bantin export`: writes every visible-or-not, not deleted, content row as a
//! bundle, in an order where every reference points to an earlier line. The
//! output depends only on what is stored, so export → import into an empty
//! database → export gives the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use entity::*;

use crate::bundle::BundleError;
use crate::bundle::format::{self, Key, Names, Record};

const PAGE: u64 = 1_000;

/// The bundle key of every row of every table: its external key, or its id.
#[derive(Default)]
struct Keys {
    by_table: HashMap<&'static str, HashMap<i64, Key>>,
}

impl Keys {
    fn of(&self, table: &'static str, id: i64) -> Key {
        self.by_table
            .get(table)
            .and_then(|keys| keys.get(&id))
            .cloned()
            .unwrap_or_else(|| Key::native(table, id))
    }

    fn opt(&self, table: &'static str, id: Option<i64>) -> Option<Key> {
        id.map(|id| self.of(table, id))
    }

    fn list(&self, table: &'static str, ids: Option<&Vec<i64>>) -> Option<Vec<Key>> {
        ids.filter(|ids| !ids.is_empty())
            .map(|ids| ids.iter().map(|id| self.of(table, *id)).collect())
    }
}

fn key_of(table: &str, external: &Option<String>, id: i64) -> Key {
    external
        .as_deref()
        .and_then(Key::from_stored)
        .unwrap_or_else(|| Key::native(table, id))
}

fn names(stored: &Option<String>) -> Option<Names> {
    stored
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .filter(|n: &Names| !n.is_empty())
}

fn day(date: Option<chrono::NaiveDate>) -> Option<String> {
    date.map(|d| d.format("%Y-%m-%d").to_string())
}

fn write_line(out: &mut impl Write, record: &Record) -> Result<(), BundleError> {
    serde_json::to_writer(&mut *out, record).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Pages through a table by id; `$body` runs for each page of models.
macro_rules! pages {
    ($db:expr, $table:ident, |$rows:ident| $body:block) => {{
        let mut last = 0i64;
        loop {
            let $rows = $table::Entity::find()
                .filter($table::Column::DeletedAt.is_null())
                .filter($table::Column::Id.gt(last))
                .order_by_asc($table::Column::Id)
                .limit(PAGE)
                .all($db)
                .await?;
            let Some(row) = $rows.last() else { break };
            last = row.id;
            $body
        }
    }};
}

/// Loads `(owner, target, ord)` rows of a join table for some owners, grouped.
macro_rules! links {
    ($db:expr, $link:ident, $owner:ident, $target:ident, $owners:expr) => {{
        let rows = $link::Entity::find()
            .filter($link::Column::$owner.is_in($owners.iter().copied()))
            .all($db)
            .await?;
        let mut grouped: HashMap<i64, Vec<(i32, i64)>> = HashMap::new();
        for row in rows {
            grouped
                .entry(row.owner())
                .or_default()
                .push((row.ord, row.target()));
        }
        grouped
            .into_iter()
            .map(|(owner, mut targets)| {
                targets.sort();
                (
                    owner,
                    targets
                        .into_iter()
                        .map(|(_, target)| target)
                        .collect::<Vec<i64>>(),
                )
            })
            .collect::<HashMap<i64, Vec<i64>>>()
    }};
}

/// Owner and target of a join row.
trait LinkRow {
    fn owner(&self) -> i64;
    fn target(&self) -> i64;
}

macro_rules! link_row {
    ($($link:ident: $owner:ident -> $target:ident),* $(,)?) => {$(
        impl LinkRow for $link::Model {
            fn owner(&self) -> i64 { self.$owner }
            fn target(&self) -> i64 { self.$target }
        }
    )*};
}

link_row!(
    article_person: article_id -> person_id,
    article_organization: article_id -> organization_id,
    article_event: article_id -> event_id,
    article_document: article_id -> document_id,
    article_media: article_id -> media_id,
    article_tag: article_id -> tag_id,
    event_organizer: event_id -> organization_id,
    event_document: event_id -> document_id,
    media_person: media_id -> person_id,
);

/// Writes the whole database as a bundle.
pub async fn export(db: &DatabaseConnection, out: &mut impl Write) -> Result<u64, BundleError> {
    let mut keys = Keys::default();
    let mut counts = BTreeMap::new();
    macro_rules! load_keys {
        ($($table:ident),*) => {$(
            let mut map = HashMap::new();
            let mut count = 0u64;
            let mut last = 0i64;
            loop {
                let rows: Vec<(i64, Option<String>)> = $table::Entity::find()
                    .select_only()
                    .column($table::Column::Id)
                    .column($table::Column::ExternalId)
                    .filter($table::Column::DeletedAt.is_null())
                    .filter($table::Column::Id.gt(last))
                    .order_by_asc($table::Column::Id)
                    .limit(10 * PAGE)
                    .into_tuple()
                    .all(db)
                    .await?;
                let Some((id, _)) = rows.last() else { break };
                last = *id;
                count += rows.len() as u64;
                for (id, external) in rows {
                    if let Some(key) = external.as_deref().and_then(Key::from_stored) {
                        map.insert(id, key);
                    }
                }
            }
            keys.by_table.insert(stringify!($table), map);
            if count > 0 {
                counts.insert(stringify!($table).to_owned(), count);
            }
        )*};
    }
    load_keys!(
        organization,
        person,
        position,
        document,
        event,
        media,
        tag,
        article,
        award,
        statement,
        commemoration
    );

    let header = format::Header {
        format: "content-bundle".into(),
        version: 1,
        seed: None,
        size: None,
        counts: Some(counts),
        generator: Some(serde_json::Value::from("bantin export")),
    };
    write_line(out, &Record::Bundle(header))?;
    let mut written = 0u64;

    // Organizations, parents before children.
    let mut organizations = Vec::new();
    pages!(db, organization, |rows| {
        organizations.extend(rows);
    });
    let ids: std::collections::HashSet<i64> = organizations.iter().map(|o| o.id).collect();
    let mut done = std::collections::HashSet::new();
    let mut remaining = organizations;
    while !remaining.is_empty() {
        let (ready, rest): (Vec<_>, Vec<_>) =
            remaining.into_iter().partition(|o: &organization::Model| {
                o.parent_id
                    .is_none_or(|p| done.contains(&p) || !ids.contains(&p))
            });
        if ready.is_empty() {
            // A cycle cannot be written parent-first; write the rest without parents' order.
            for o in &rest {
                done.insert(o.id);
            }
            for o in rest {
                write_line(out, &organization_record(&keys, o))?;
                written += 1;
            }
            break;
        }
        for o in ready {
            done.insert(o.id);
            write_line(out, &organization_record(&keys, o))?;
            written += 1;
        }
        remaining = rest;
    }

    pages!(db, person, |rows| {
        for p in rows {
            let record = format::Person {
                id: key_of("person", &p.external_id, p.id),
                full_name: p.full_name,
                slug: p.slug,
                family_name: p.family_name,
                middle_name: p.middle_name,
                given_name: p.given_name,
                names: names(&p.names),
                bio: p.bio,
                birth_date: day(p.birth_date),
            };
            write_line(out, &Record::Person(record))?;
            written += 1;
        }
    });

    pages!(db, position, |rows| {
        for p in rows {
            let record = format::Position {
                id: key_of("position", &p.external_id, p.id),
                person_id: keys.of("person", p.person_id),
                organization_id: keys.of("organization", p.organization_id),
                title: p.title,
                titles: names(&p.titles),
                start_date: day(p.starts_on),
                end_date: day(p.ends_on),
                start_precision: p.start_precision.filter(|p| p != "day"),
                end_precision: p.end_precision.filter(|p| p != "day"),
                note: p.note,
            };
            write_line(out, &Record::Position(record))?;
            written += 1;
        }
    });

    pages!(db, document, |rows| {
        for d in rows {
            let record = format::Document {
                id: key_of("document", &d.external_id, d.id),
                code: d.code,
                title: d.title,
                kind: d.kind,
                issuer_id: keys.opt("organization", d.issuer_id),
                term: d.term,
                issued_on: day(d.issued_on),
                summary: d.summary,
                titles: names(&d.titles),
            };
            write_line(out, &Record::Document(record))?;
            written += 1;
        }
    });

    pages!(db, event, |rows| {
        let owners: Vec<i64> = rows.iter().map(|e| e.id).collect();
        let organizers = links!(db, event_organizer, EventId, organization_id, owners);
        let documents = links!(db, event_document, EventId, document_id, owners);
        let mut participants: HashMap<i64, Vec<event_participant::Model>> = HashMap::new();
        for p in event_participant::Entity::find()
            .filter(event_participant::Column::EventId.is_in(owners.iter().copied()))
            .all(db)
            .await?
        {
            participants.entry(p.event_id).or_default().push(p);
        }
        for e in rows {
            let mut people = participants.remove(&e.id).unwrap_or_default();
            people
                .sort_by(|a, b| (a.ord, a.person_id, &a.role).cmp(&(b.ord, b.person_id, &b.role)));
            let record = format::Event {
                id: key_of("event", &e.external_id, e.id),
                name: e.name,
                slug: e.slug,
                starts_at: e
                    .starts_at
                    .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                starts_on: day(Some(e.starts_on)),
                date_precision: Some(e.date_precision).filter(|p| p != "day"),
                date_note: e.date_note,
                year_inferred: e.year_inferred.then_some(true),
                ends_at: None,
                location: e.location,
                attendance: e.attendance,
                attendance_note: e.attendance_note,
                description: e.description,
                names: names(&e.names),
                organizer_ids: keys.list("organization", organizers.get(&e.id)),
                participants: (!people.is_empty()).then(|| {
                    people
                        .into_iter()
                        .map(|p| format::Participant {
                            person_id: keys.of("person", p.person_id),
                            role: p.role,
                        })
                        .collect()
                }),
                document_ids: keys.list("document", documents.get(&e.id)),
            };
            write_line(out, &Record::Event(record))?;
            written += 1;
        }
    });

    pages!(db, media, |rows| {
        let owners: Vec<i64> = rows.iter().map(|m| m.id).collect();
        let depicts = links!(db, media_person, MediaId, person_id, owners);
        for m in rows {
            let record = format::Media {
                id: key_of("media", &m.external_id, m.id),
                url: m.url,
                caption: m.caption,
                credit: m.credit,
                width: m.width,
                height: m.height,
                depicts_ids: keys.list("person", depicts.get(&m.id)),
            };
            write_line(out, &Record::Media(record))?;
            written += 1;
        }
    });

    pages!(db, tag, |rows| {
        for t in rows {
            let record = format::Tag {
                id: key_of("tag", &t.external_id, t.id),
                slug: t.slug,
                name: t.name,
                names: names(&t.names),
            };
            write_line(out, &Record::Tag(record))?;
            written += 1;
        }
    });

    let mut sources = HashMap::new();
    for s in source::Entity::find().all(db).await? {
        sources.insert(
            s.id,
            format::Source {
                name: s.name,
                url: s.url,
            },
        );
    }
    // Originals first, then translations, which point at them.
    for translations in [false, true] {
        let mut last = 0i64;
        loop {
            let mut select = article::Entity::find()
                .filter(article::Column::DeletedAt.is_null())
                .filter(article::Column::Id.gt(last));
            select = if translations {
                select.filter(article::Column::TranslationOfId.is_not_null())
            } else {
                select.filter(article::Column::TranslationOfId.is_null())
            };
            let rows = select
                .order_by_asc(article::Column::Id)
                .limit(PAGE)
                .all(db)
                .await?;
            let Some(row) = rows.last() else { break };
            last = row.id;
            let owners: Vec<i64> = rows.iter().map(|a| a.id).collect();
            let people = links!(db, article_person, ArticleId, person_id, owners);
            let organizations =
                links!(db, article_organization, ArticleId, organization_id, owners);
            let events = links!(db, article_event, ArticleId, event_id, owners);
            let documents = links!(db, article_document, ArticleId, document_id, owners);
            let media = links!(db, article_media, ArticleId, media_id, owners);
            let tags = links!(db, article_tag, ArticleId, tag_id, owners);
            for a in rows {
                let record = format::Article {
                    id: key_of("article", &a.external_id, a.id),
                    title: a.title,
                    slug: a.slug,
                    language: a.language,
                    status: a.status,
                    published_at: a
                        .published_at
                        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                    summary: a.summary,
                    body: Some(a.body).filter(|b| !b.is_empty()),
                    source: a
                        .source_id
                        .and_then(|id| sources.get(&id))
                        .map(|s| format::Source {
                            name: s.name.clone(),
                            url: s.url.clone(),
                        }),
                    canonical_url: a.canonical_url,
                    person_ids: keys.list("person", people.get(&a.id)),
                    organization_ids: keys.list("organization", organizations.get(&a.id)),
                    event_ids: keys.list("event", events.get(&a.id)),
                    document_ids: keys.list("document", documents.get(&a.id)),
                    media_ids: keys.list("media", media.get(&a.id)),
                    tag_ids: keys.list("tag", tags.get(&a.id)),
                    translation_of: keys.opt("article", a.translation_of_id),
                };
                write_line(out, &Record::Article(record))?;
                written += 1;
            }
        }
    }

    pages!(db, award, |rows| {
        let owners: Vec<i64> = rows.iter().map(|a| a.id).collect();
        let mut people: HashMap<i64, Vec<i64>> = HashMap::new();
        for r in award_person::Entity::find()
            .filter(award_person::Column::AwardId.is_in(owners.iter().copied()))
            .all(db)
            .await?
        {
            people.entry(r.award_id).or_default().push(r.person_id);
        }
        let mut organizations: HashMap<i64, Vec<i64>> = HashMap::new();
        for r in award_organization::Entity::find()
            .filter(award_organization::Column::AwardId.is_in(owners.iter().copied()))
            .all(db)
            .await?
        {
            organizations
                .entry(r.award_id)
                .or_default()
                .push(r.organization_id);
        }
        for a in rows {
            let mut recipients = people.remove(&a.id).unwrap_or_default();
            recipients.sort_unstable();
            let mut bodies = organizations.remove(&a.id).unwrap_or_default();
            bodies.sort_unstable();
            let record = format::Award {
                id: key_of("award", &a.external_id, a.id),
                name: a.name,
                names: names(&a.names),
                event_id: keys.opt("event", a.event_id),
                awarded_by_id: keys.opt("organization", a.awarded_by_id),
                reason: a.reason,
                period: a.period,
                recipient_person_ids: keys.list("person", Some(&recipients)),
                recipient_organization_ids: keys.list("organization", Some(&bodies)),
                collective_count: a.collective_count,
                individual_count: a.individual_count,
            };
            write_line(out, &Record::Award(record))?;
            written += 1;
        }
    });

    pages!(db, statement, |rows| {
        for s in rows {
            let record = format::Statement {
                id: key_of("statement", &s.external_id, s.id),
                person_id: keys.of("person", s.person_id),
                text: s.text,
                event_id: keys.opt("event", s.event_id),
                article_id: keys.opt("article", s.article_id),
                kind: s.kind,
            };
            write_line(out, &Record::Statement(record))?;
            written += 1;
        }
    });

    pages!(db, commemoration, |rows| {
        for c in rows {
            let record = format::Commemoration {
                id: key_of("commemoration", &c.external_id, c.id),
                name: c.name,
                base_date: c.base_date.format("%Y-%m-%d").to_string(),
                names: names(&c.names),
                organization_id: keys.opt("organization", c.organization_id),
                event_id: keys.opt("event", c.event_id),
                date_precision: Some(c.date_precision).filter(|p| p != "day"),
                note: c.note,
            };
            write_line(out, &Record::Commemoration(record))?;
            written += 1;
        }
    });
    out.flush()?;
    Ok(written)
}

fn organization_record(keys: &Keys, o: organization::Model) -> Record {
    Record::Organization(format::Organization {
        id: key_of("organization", &o.external_id, o.id),
        name: o.name,
        slug: o.slug,
        parent_id: keys.opt("organization", o.parent_id),
        short_name: o.short_name,
        kind: o.kind,
        founded_on: day(o.founded_on),
        website: o.website,
        description: o.description,
        names: names(&o.names),
    })
}
