//! The fast execution path against async-graphql's stock executor: the same
//! requests to two servers over one database, one on each executor
//! (`AppState::stock`), must get the same status and the same bytes.
//!
//! The requests: every read-only query written in these tests and in the
//! benchmark's queries, and generated ones ([`crate::querygen`]), on the sample
//! content and on a generated corpus. `cargo test` runs a short seeded slice;
//! `scripts/differential.sh` runs the long one (`BANTIN_DIFF_QUERIES`,
//! `BANTIN_DIFF_SEED`, `BANTIN_DIFF_CORPUS`).
//!
//! Where the two may part, the spec decides and both paths follow it: the order of
//! a response's keys is the query's (spec 7.2.2, "Serialized Map Ordering"), which
//! the stock executor does not keep when a field waits on a batch, so both
//! restore it.

use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::querygen::{Known, QueryGen};

/// Values of the database to generate lookups that find something.
async fn known(app: &TestApp) -> Known {
    let data = app
        .data(
            "{ articles(first: 50) { nodes { id slug title } }
               people(first: 50) { nodes { id slug name } }
               organizations(first: 50) { nodes { id slug name } }
               events(first: 50) { nodes { id slug name } }
               documents(first: 50) { nodes { id code } } }",
            json!({}),
        )
        .await;
    let mut known = Known::default();
    for list in ["articles", "people", "organizations", "events", "documents"] {
        for node in data[list]["nodes"].as_array().into_iter().flatten() {
            for (key, into) in [
                ("id", &mut known.ids),
                ("slug", &mut known.slugs),
                ("code", &mut known.codes),
            ] {
                if let Some(value) = node[key].as_str() {
                    into.push(value.to_owned());
                }
            }
            for key in ["title", "name"] {
                if let Some(text) = node[key].as_str() {
                    known
                        .words
                        .extend(text.split_whitespace().take(3).map(str::to_owned));
                }
            }
        }
    }
    known
}

/// The string literals of a Rust source file (plain and raw), as written.
fn string_literals(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"r#\"") {
            if let Some(end) = source[i + 3..].find("\"#") {
                found.push(source[i + 3..i + 3 + end].to_owned());
                i += 3 + end + 2;
                continue;
            }
        } else if bytes[i] == b'"' {
            let mut text = String::new();
            let mut j = i + 1;
            let mut chars = source[j..].char_indices();
            let mut closed = false;
            while let Some((offset, c)) = chars.next() {
                match c {
                    '"' => {
                        j += offset + 1;
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, 'n')) => text.push('\n'),
                        Some((_, '\n')) => {
                            // A line continuation: the next line's indentation goes.
                            let rest = chars.as_str();
                            let skipped = rest.len() - rest.trim_start().len();
                            for _ in 0..skipped {
                                chars.next();
                            }
                        }
                        Some((_, other)) => text.push(other),
                        None => break,
                    },
                    other => text.push(other),
                }
            }
            if closed {
                found.push(text);
                i = j;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// The read-only documents of the tests and the benchmark that need no variable.
fn written_queries() -> Vec<String> {
    use async_graphql::parser::types::OperationType;
    let mut texts = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["tests/api", "bench/queries/bantin"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|entry| entry.path()).collect();
        paths.sort();
        for path in paths {
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue;
            };
            if path.extension().is_some_and(|e| e == "rs") {
                texts.extend(string_literals(&source));
            } else if path.extension().is_some_and(|e| e == "graphql") {
                texts.push(source);
            }
        }
    }
    let mut queries: Vec<String> = texts
        .into_iter()
        .filter(|text| {
            let Ok(document) = async_graphql::parser::parse_query(text) else {
                return false;
            };
            let operations: Vec<_> = document.operations.iter().collect();
            operations.len() == 1
                && operations.iter().all(|(_, operation)| {
                    operation.node.ty == OperationType::Query
                        && operation
                            .node
                            .variable_definitions
                            .iter()
                            .all(|definition| definition.node.default_value.is_some())
                })
        })
        .collect();
    queries.sort();
    queries.dedup();
    queries
}

/// Sends one request to both servers; `Some` describes how the answers differ.
async fn compare(
    client: &reqwest::Client,
    fast: &str,
    stock: &str,
    query: &str,
    variables: &Value,
) -> Option<String> {
    let body = json!({ "query": query, "variables": variables });
    let mut answers = Vec::new();
    for address in [fast, stock] {
        let response = client
            .post(format!("{address}/graphql"))
            .json(&body)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("a body");
        answers.push((status, String::from_utf8_lossy(&bytes).into_owned()));
    }
    if answers[0] != answers[1] {
        return Some(format!(
            "{query}\nvariables: {variables}\nfast  {}: {}\nstock {}: {}",
            answers[0].0, answers[0].1, answers[1].0, answers[1].1
        ));
    }
    spec_violation(&answers[0].1).map(|violation| {
        format!(
            "{query}\nvariables: {variables}\n{violation}: {}",
            answers[0].1
        )
    })
}

/// What an answer does against the spec's rules for responses, if anything: every
/// field error is `null` at its path or above it (6.4.4), nothing of the hidden
/// types the completion reads is left, and an answer without `data` has errors.
fn spec_violation(body: &str) -> Option<String> {
    if body.contains("\"#type\"") {
        return Some("a hidden type was left in the answer".to_owned());
    }
    let answer: Value = serde_json::from_str(body).ok()?;
    let Some(data) = answer.get("data") else {
        return answer["errors"]
            .as_array()
            .is_none_or(Vec::is_empty)
            .then(|| "no data and no error".to_owned());
    };
    for error in answer["errors"].as_array().into_iter().flatten() {
        let Some(path) = error["path"].as_array() else {
            continue;
        };
        let mut place = data;
        let mut nulled = place.is_null();
        for segment in path {
            if nulled {
                break;
            }
            let next = match segment {
                Value::String(key) => place.get(key.as_str()),
                Value::Number(index) => index
                    .as_u64()
                    .and_then(|index| place.get(usize::try_from(index).ok()?)),
                _ => None,
            };
            let Some(next) = next else {
                return Some(format!("the place of the error at {path:?} is missing"));
            };
            place = next;
            nulled = place.is_null();
        }
        if !nulled {
            return Some(format!("the error at {path:?} left a value in its place"));
        }
    }
    None
}

/// The number from an environment variable, or `default`.
fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Compares the written queries and `generated` generated ones on `app`'s
/// database; returns (compared, differences).
async fn run(app: &TestApp, generated: u64, seed: u64) -> (usize, Vec<String>) {
    let fast = app.twin(false).await;
    let stock = app.twin(true).await;
    let client = reqwest::Client::new();
    let registry = bantin::graphql::schema::registry();
    let known = known(app).await;
    let mut differences = Vec::new();
    let mut compared = 0;
    for query in written_queries() {
        compared += 1;
        if let Some(difference) = compare(&client, &fast, &stock, &query, &json!({})).await {
            differences.push(difference);
        }
    }
    let mut generator = QueryGen::new(&registry, &known, seed);
    for _ in 0..generated {
        let request = generator.query();
        compared += 1;
        if let Some(difference) =
            compare(&client, &fast, &stock, &request.query, &request.variables).await
        {
            differences.push(difference);
        }
    }
    (compared, differences)
}

fn report(what: &str, compared: usize, differences: &[String]) {
    eprintln!(
        "differential ({what}): {compared} requests compared, {} differences",
        differences.len()
    );
    assert!(
        differences.is_empty(),
        "{} of {compared} requests differ; the first:\n{}",
        differences.len(),
        differences
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

async fn the_fast_path_answers_what_the_stock_executor_answers(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let generated = setting("BANTIN_DIFF_QUERIES", 300);
    let seed = setting("BANTIN_DIFF_SEED", 1);
    let (compared, differences) = run(&app, generated, seed).await;
    report(&format!("{backend:?}, sample"), compared, &differences);
    app.finish().await;

    // A generated corpus: more rows than a page, pages that continue.
    let size = std::env::var("BANTIN_DIFF_CORPUS").unwrap_or_else(|_| "tiny".to_owned());
    let Some(app) = TestApp::spawn_with(backend, false).await else {
        return;
    };
    let mut bundle = Vec::new();
    bantin::bundle::generate::generate(&size, seed, &mut bundle).expect("generate");
    bantin::bundle::import::import(
        &app.db,
        std::io::Cursor::new(bundle),
        crate::helpers::now(),
        |_, _| {},
    )
    .await
    .expect("import the corpus");
    app.indexer.initialize().await.expect("index the corpus");
    let (compared, differences) = run(&app, generated, seed.wrapping_add(1)).await;
    report(
        &format!("{backend:?}, {size} corpus"),
        compared,
        &differences,
    );
    app.finish().await;
}

#[tokio::test]
async fn the_fast_path_answers_what_the_stock_executor_answers_on_sqlite() {
    the_fast_path_answers_what_the_stock_executor_answers(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_fast_path_answers_what_the_stock_executor_answers_on_postgres() {
    the_fast_path_answers_what_the_stock_executor_answers(Backend::Postgres).await;
}

/// The literals of a source file are found as written.
#[test]
fn string_literals_are_read_from_source() {
    let source = r####"let a = "{ a }"; let b = r#"{ b(x: "y") }"#; let c = "q\"uote\
        d";"####;
    assert_eq!(
        string_literals(source),
        ["{ a }", "{ b(x: \"y\") }", "q\"uoted"]
    );
}

/// Found by the differential test: rows read in part (only what the selection
/// reads) kept no `parent_id`, so an organization's children, grouped by it, were
/// lost when only their ids were asked for.
async fn an_organizations_children_are_found_whatever_is_asked_of_them(app: &TestApp) {
    let children = |query: &'static str| async move {
        let data = app.data(query, json!({})).await;
        data["organizations"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|node| node["children"].as_array().map_or(0, Vec::len))
            .sum::<usize>()
    };
    let light = children("{ organizations(first: 10) { nodes { slug children { id } } } }").await;
    let whole = children(
        "{ organizations(first: 10) { nodes { slug foundedOn children { id foundedOn } } } }",
    )
    .await;
    assert!(light > 0);
    assert_eq!(light, whole);
}

crate::on_both!(an_organizations_children_are_found_whatever_is_asked_of_them);
