//! `bantin generate`: a synthetic Vietnamese news corpus as a bundle, for
//! benchmarks and scale tests. The same seed and size always give the same bytes.
//!
//! The shape follows the benchmark corpus: organizations in a hierarchy, people
//! named family-middle-given, dated positions, events with organizers and
//! participants, and articles (5% drafts) mentioning popular people, organizations
//! and events more often than others.

use std::collections::HashMap;
use std::io::Write;

use chrono::{Duration, FixedOffset, NaiveDate, TimeZone};
use serde_json::json;

use crate::bundle::BundleError;
use crate::bundle::words::*;
use crate::text::slugify;

/// Corpus sizes, as factors of the medium one.
pub const SIZES: [(&str, f64); 4] = [
    ("tiny", 0.01),
    ("small", 0.1),
    ("medium", 1.0),
    ("large", 2.0),
];

/// Counts of the medium corpus.
const MEDIUM: [(&str, usize); 5] = [
    ("organizations", 2_000),
    ("people", 20_000),
    ("positions", 50_000),
    ("events", 20_000),
    ("articles", 200_000),
];

/// SplitMix64: small, fast, and fixed forever, so a seed means the same corpus in
/// every version (a general-purpose RNG crate does not promise that for its
/// default generator).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [low, high].
    fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() - 1)]
    }

    /// An index drawn by cumulative weights.
    fn weighted(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(1.0);
        let x = self.unit() * total;
        cumulative
            .partition_point(|c| *c <= x)
            .min(cumulative.len() - 1)
    }
}

/// Cumulative weights of a mild power law over `n` items (popular first).
fn power_law(n: usize, alpha: f64) -> Vec<f64> {
    let mut acc = 0.0;
    (0..n)
        .map(|rank| {
            acc += 1.0 / (rank as f64 + 10.0).powf(alpha);
            acc
        })
        .collect()
}

/// The slugs of the sample content (`crate::domain::sample`), which a generated
/// corpus leaves free so that it imports beside the sample: a generated name that
/// would take one gets the next number (`bo-ngoai-giao-2`). A test holds the list
/// to what the sample loads.
pub const SAMPLE_SLUGS: [&str; 21] = [
    "ban-bi-thu",
    "ban-chap-hanh-trung-uong-dang",
    "ban-chi-dao-cong-tac-thong-tin-doi-ngoai-trung-uong",
    "ban-tuyen-giao-trung-uong",
    "bo-chinh-tri",
    "bo-ngoai-giao",
    "cong-doan-tinh-khanh-hoa",
    "dang-bo-khoi-cac-co-quan-tinh-khanh-hoa",
    "dang-bo-tinh-khanh-hoa",
    "dang-cong-san-viet-nam",
    "lien-hiep-cac-to-chuc-huu-nghi-viet-nam",
    "nha-nuoc-cong-hoa-xa-hoi-chu-nghia-viet-nam",
    "tinh-khanh-hoa",
    "don-tuan-phong",
    "ha-kim-ngoc",
    "pham-van-linh",
    "vo-van-thuong",
    "dai-hoi-cong-doan-tinh-khanh-hoa-lan-thu-xi-nhiem-ky-2023-2028",
    "hoi-nghi-so-ket-5-nam-thuc-hien-ket-luan-so-16-kl-tu-cua-bo-chinh-tri-khoa-xi-va-chi-thi-so-26-ct-tu-cua-ban-bi-thu-khoa-x-ve-cong-tac-thong-tin-doi-ngoai",
    "hoi-nghi-so-ket-5-nam-thuc-hien-ket-luan-bo-chinh-tri-va-chi-thi-cua-ban-bi-thu-ve-cong-tac-thong-tin-doi-ngoai",
    "thong-tin-doi-ngoai",
];

/// Slugs made unique with a counter, the sample's taken from the start.
struct Slugs(HashMap<String, usize>);

impl Default for Slugs {
    fn default() -> Self {
        Self(
            SAMPLE_SLUGS
                .iter()
                .map(|slug| ((*slug).to_owned(), 1))
                .collect(),
        )
    }
}

impl Slugs {
    fn make(&mut self, text: &str) -> String {
        let base = slugify(text);
        let base = if base.is_empty() {
            "x".to_owned()
        } else {
            base
        };
        let n = self.0.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 { base } else { format!("{base}-{n}") }
    }
}

fn acronym(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == ',' || c == '-')
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .take(12)
        .collect()
}

fn sentence(rng: &mut Rng, words: usize) -> String {
    let text: Vec<&str> = (0..words).map(|_| *rng.pick(WORDS)).collect();
    let text = text.join(" ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// Writes a corpus of `size` (see [`SIZES`]) for `seed`; returns the record counts.
pub fn generate(
    size: &str,
    seed: u64,
    out: &mut impl Write,
) -> Result<HashMap<&'static str, usize>, BundleError> {
    let factor = SIZES
        .iter()
        .find(|(name, _)| *name == size)
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            BundleError::line(
                0,
                "size",
                format!("`{size}` is not one of tiny, small, medium, large"),
            )
        })?;
    let counts: HashMap<&'static str, usize> = MEDIUM
        .iter()
        .map(|(k, v)| (*k, ((*v as f64 * factor).round() as usize).max(1)))
        .collect();
    let count = |k: &str| counts.get(k).copied().unwrap_or(1);
    let mut rng = Rng(seed);
    let mut emit = |value: serde_json::Value| -> Result<(), BundleError> {
        serde_json::to_writer(&mut *out, &value).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    let ordered: std::collections::BTreeMap<_, _> = counts.iter().collect();
    emit(
        json!({"type": "bundle", "format": "content-bundle", "version": 1, "seed": seed, "size": size,
                "counts": ordered, "generator": "bantin generate"}),
    )?;

    let vietnam =
        FixedOffset::east_opt(7 * 3600).ok_or_else(|| BundleError::line(0, "", "bad offset"))?;
    let n_org = count("organizations");
    let roots = (n_org / 8).max(1);
    let mut org_names: Vec<String> = Vec::with_capacity(n_org);
    let mut slugs = Slugs::default();
    for id in 1..=n_org {
        let (name, parent) = if id <= roots {
            let r = rng.unit();
            let name = if id <= MINISTRIES.len() {
                MINISTRIES[id - 1].to_owned()
            } else if r < 0.35 {
                format!("Ủy ban nhân dân tỉnh {}", rng.pick(PROVINCES))
            } else if r < 0.75 {
                format!(
                    "{} {} {}",
                    rng.pick(COMPANY_KINDS),
                    rng.pick(COMPANY_FIELDS),
                    rng.pick(BRANDS)
                )
            } else {
                {
                    let template = *rng.pick(OTHER_ORGS);
                    template.replace("{p}", rng.pick::<&str>(PROVINCES))
                }
            };
            (name, None)
        } else if rng.unit() < 0.9 {
            let parent = rng.range(1, id - 1);
            let parent_name = &org_names[parent - 1];
            let r = rng.unit();
            let name = if r < 0.5 {
                format!("{} - {parent_name}", rng.pick(SUB_UNITS))
            } else if r < 0.8 {
                format!("Sở {} {}", rng.pick(SECTORS), rng.pick(PROVINCES))
            } else {
                format!("{} {}", rng.pick(SUB_UNITS), rng.pick(PROVINCES))
            };
            (name, Some(parent))
        } else {
            (
                format!(
                    "{} {} {}",
                    rng.pick(COMPANY_KINDS),
                    rng.pick(COMPANY_FIELDS),
                    rng.pick(BRANDS)
                ),
                None,
            )
        };
        emit(
            json!({"type": "organization", "id": id, "parent_id": parent, "name": name,
                    "short_name": acronym(&name), "slug": slugs.make(&name)}),
        )?;
        org_names.push(name);
    }

    let family_weights: Vec<f64> = FAMILY
        .iter()
        .scan(0.0, |acc, (_, w)| {
            *acc += w;
            Some(*acc)
        })
        .collect();
    let n_people = count("people");
    let mut slugs = Slugs::default();
    for id in 1..=n_people {
        let family = FAMILY[rng.weighted(&family_weights)].0;
        let (mut middle, given) = if rng.unit() < 0.55 {
            (rng.pick(MIDDLE_M).to_string(), *rng.pick(GIVEN_M))
        } else {
            (rng.pick(MIDDLE_F).to_string(), *rng.pick(GIVEN_F))
        };
        if rng.unit() < 0.12 {
            let second = if rng.unit() < 0.5 {
                rng.pick(MIDDLE_M)
            } else {
                rng.pick(MIDDLE_F)
            };
            middle = format!("{middle} {second}");
        }
        let full = format!("{family} {middle} {given}");
        emit(
            json!({"type": "person", "id": id, "full_name": full, "slug": slugs.make(&full),
                    "family_name": family, "middle_name": middle, "given_name": given}),
        )?;
    }

    let titles: Vec<&str> = TITLES_GOV
        .iter()
        .chain(TITLES_BIZ)
        .chain(TITLES_OTHER)
        .copied()
        .collect();
    let base_day = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default();
    let last_day = NaiveDate::from_ymd_opt(2025, 10, 31).unwrap_or_default();
    for id in 1..=count("positions") {
        let person = if id <= n_people {
            id
        } else {
            rng.range(1, n_people)
        };
        let organization = rng.range(1, n_org);
        let start = base_day + Duration::days(rng.range(0, 34 * 365) as i64);
        let end = (rng.unit() < 0.6)
            .then(|| start + Duration::days(rng.range(180, 10 * 365) as i64))
            .filter(|end| *end <= last_day);
        emit(
            json!({"type": "position", "id": id, "person_id": person, "organization_id": organization,
                    "title": rng.pick(&titles), "start_date": start.to_string(),
                    "end_date": end.map(|d| d.to_string())}),
        )?;
    }

    let org_weights = power_law(n_org, 0.8);
    let people_weights = power_law(n_people, 0.8);
    let n_events = count("events");
    let event_base = vietnam
        .with_ymd_and_hms(2015, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| BundleError::line(0, "", "bad date"))?;
    let mut slugs = Slugs::default();
    for id in 1..=n_events {
        let starts = event_base
            + Duration::days(rng.range(0, 3955) as i64)
            + Duration::hours(*rng.pick(&[8, 9, 13, 14, 19]))
            + Duration::minutes(*rng.pick(&[0, 30]));
        let province = rng.pick(PROVINCES);
        let name = format!(
            "{} {} {province} {}",
            rng.pick(EVENT_KINDS),
            rng.pick(EVENT_TOPICS),
            chrono::Datelike::year(&starts)
        );
        let mut organizers: Vec<usize> = (0..rng.range(1, 3))
            .map(|_| rng.weighted(&org_weights) + 1)
            .collect();
        organizers.sort_unstable();
        organizers.dedup();
        let mut people: Vec<usize> = (0..rng.range(2, 10))
            .map(|_| rng.weighted(&people_weights) + 1)
            .collect();
        people.sort_unstable();
        people.dedup();
        let participants: Vec<_> = people
            .iter()
            .map(|p| json!({"person_id": p, "role": rng.pick(ROLES)}))
            .collect();
        emit(
            json!({"type": "event", "id": id, "name": name, "slug": slugs.make(&name),
                    "starts_at": starts.to_rfc3339(), "location": format!("{}, {province}", rng.pick(VENUES)),
                    "organizer_ids": organizers, "participants": participants}),
        )?;
    }

    let pool: Vec<String> = (0..6000)
        .map(|_| {
            let n = rng.range(9, 20);
            sentence(&mut rng, n)
        })
        .collect();
    let event_weights = power_law(n_events, 0.6);
    let published_base = vietnam
        .with_ymd_and_hms(2019, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| BundleError::line(0, "", "bad date"))?;
    let span = (vietnam
        .with_ymd_and_hms(2025, 10, 31, 0, 0, 0)
        .single()
        .unwrap_or(published_base)
        - published_base)
        .num_seconds();
    let mut slugs = Slugs::default();
    for id in 1..=count("articles") {
        let words: Vec<&str> = (0..rng.range(5, 9)).map(|_| *rng.pick(WORDS)).collect();
        let title = format!("{} {}", rng.pick(TITLE_OPENERS), words.join(" "));
        let summary = format!("{} {}", rng.pick(&pool), rng.pick(&pool));
        let target = rng.range(1250, 1600);
        let mut body = String::new();
        while body.len() < target {
            if !body.is_empty() {
                body.push_str("\n\n");
            }
            body.push_str(&format!("{} {}", rng.pick(&pool), rng.pick(&pool)));
        }
        let status = if rng.unit() < 0.95 {
            "published"
        } else {
            "draft"
        };
        let published_at = published_base + Duration::seconds(rng.range(0, span as usize) as i64);
        let mut pick = |weights: &[f64], most: usize| {
            let mut ids: Vec<usize> = (0..rng.range(0, most))
                .map(|_| rng.weighted(weights) + 1)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let person_ids = pick(&people_weights, 8);
        let organization_ids = pick(&org_weights, 6);
        let event_ids = pick(&event_weights, 2);
        emit(
            json!({"type": "article", "id": id, "title": title, "slug": slugs.make(&title),
                    "summary": summary, "body": body, "published_at": published_at.to_rfc3339(),
                    "language": "vi", "status": status, "person_ids": person_ids,
                    "organization_ids": organization_ids, "event_ids": event_ids}),
        )?;
    }
    out.flush()?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_slugs_are_left_free() {
        let mut slugs = Slugs::default();
        assert_eq!(slugs.make("Bộ Ngoại giao"), "bo-ngoai-giao-2");
        assert_eq!(slugs.make("Bộ Ngoại giao"), "bo-ngoai-giao-3");
        assert_eq!(slugs.make("Bộ Tài chính"), "bo-tai-chinh");
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut c = Vec::new();
        assert!(generate("tiny", 7, &mut a).is_ok());
        assert!(generate("tiny", 7, &mut b).is_ok());
        assert!(generate("tiny", 8, &mut c).is_ok());
        assert_eq!(a, b);
        assert_ne!(a, c);
        let text = String::from_utf8(a).unwrap_or_default();
        // tiny: 20 organizations, 200 people, 500 positions, 200 events, 2,000 articles + header.
        assert_eq!(text.lines().count(), 1 + 20 + 200 + 500 + 200 + 2000);
        assert!(text.contains("\"type\":\"article\""));
    }
}
