//! Fuzzing the real server over HTTP with a seeded generator: generated queries
//! mutated at random, variable sets of every shape, hostile documents, and raw
//! bodies. Whatever comes in, no answer is a 5xx, every answer is JSON, and the
//! server goes on answering. `cargo test` runs a slice (`BANTIN_FUZZ_CASES`,
//! default 1,500 a database); `scripts/fuzz.sh` runs the long one.

use std::collections::BTreeMap;
use std::time::Duration;

use bantin::config::Limits;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::querygen::{Known, QueryGen, Rng};

/// Pieces of GraphQL and of trouble, inserted at random.
const PIECES: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "...",
    "@skip(if: true)",
    "@include(if: $x)",
    "$x",
    "\"",
    "\\",
    "\"\"\"",
    "#",
    "\n",
    "fragment A on Query { ...A }",
    "...A",
    "__typename",
    "__schema { types { name } }",
    "null",
    "-1",
    "1e999",
    "99999999999999999999",
    "\u{0}",
    "é",
    "Đ",
    "query",
    "mutation",
    "subscription",
    "on",
    "!",
    "=",
    ",",
    "|",
    "&",
    "first: 0",
    "first: 100000",
    "after: \"zzz\"",
    "id: \"\"",
    "slug: \"\u{301}\"",
    "nodes(ids: [])",
    "a: __typename a: __typename",
    "{ { {",
    "} } }",
    "\t",
    "\u{feff}",
    "\u{2028}",
];

/// A random edit of `text`.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = rng.below(chars.len() + 1);
    let end = (at + 1 + rng.below(6)).min(chars.len());
    let (head, tail) = (
        chars[..at].iter().collect::<String>(),
        chars[at..].iter().collect::<String>(),
    );
    match rng.below(6) {
        0 => format!("{head}{}", chars[end..].iter().collect::<String>()),
        1 | 2 => format!("{head}{}{tail}", rng.pick(PIECES)),
        3 => {
            let span: String = chars[at..end].iter().collect();
            format!("{head}{span}{span}{tail}")
        }
        4 => head,
        _ => {
            let c = char::from_u32(rng.next() as u32 % 0x3000).unwrap_or('x');
            format!("{head}{c}{}", chars[end..].iter().collect::<String>())
        }
    }
}

/// A random JSON value, nested up to `depth`.
fn json_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(rng.next() as i64),
        3 => json!((rng.next() % 1000) as f64 / 7.0),
        4 => json!(rng.pick(&[
            "",
            "zzz",
            "Võ Văn Thưởng",
            "2017-08-02",
            "\u{0}",
            "RG9jdW1lbnQ6MQ"
        ])),
        5 => json!(rng.below(200) as i64 - 100),
        6 => Value::Array(
            (0..rng.below(4))
                .map(|_| json_value(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(4))
                .map(|n| (format!("k{n}"), json_value(rng, depth - 1)))
                .collect(),
        ),
    }
}

/// Documents known to hurt, with a random size.
fn hostile(rng: &mut Rng) -> String {
    let n = 1 + rng.below(60);
    match rng.below(6) {
        0 => "{ __typename ...A } fragment A on Query { __typename ...A }".to_owned(),
        1 => {
            let mut query = String::from("{ ...F0 }");
            for i in 0..n {
                query.push_str(&format!(
                    " fragment F{i} on Query {{ __typename ...F{j} ...F{j} }}",
                    j = i + 1
                ));
            }
            query + &format!(" fragment F{n} on Query {{ __typename }}")
        }
        2 => "{a".repeat(n * 100) + &"}".repeat(n * 100),
        3 => {
            let fields: Vec<String> = (0..n * 50)
                .map(|i| format!("a{i}: articles(first: 0) {{ totalCount }}"))
                .collect();
            format!("{{ {} }}", fields.join(" "))
        }
        4 => format!(
            "{{ search(query: \"{}\") {{ totalCount }} }}",
            "\\\"a ".repeat(n * 20)
        ),
        _ => format!(
            "{{ articles(first: 100) {{ nodes {{ {} }} }} }}",
            "people { positions { organization { parent { name } } } } ".repeat(n)
        ),
    }
}

/// Raw bodies that are not quite GraphQL requests.
fn raw_body(rng: &mut Rng, query: &str) -> Vec<u8> {
    match rng.below(8) {
        0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
        1 => {
            let whole = json!({ "query": query }).to_string();
            whole.as_bytes()[..rng.below(whole.len())].to_vec()
        }
        2 => rng
            .pick(&[
                "[]",
                "[{\"query\":\"{ __typename }\"}]",
                "{\"query\": 5}",
                "{\"query\": null}",
                "{}",
                "null",
                "\"{ __typename }\"",
                "{\"query\":\"{ __typename }\",\"variables\":\"x\"}",
                "{\"query\":\"{ __typename }\",\"variables\":[1]}",
                "{\"query\":\"{ __typename }\",\"operationName\":7}",
                "{\"query\":\"{ __typename }\",\"extensions\":{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"x\"}}}",
                "{\"query\":\"{ __typename }\",\"query\":\"{ a }\"}",
            ])
            .as_bytes()
            .to_vec(),
        3 => {
            let depth = 100 + rng.below(3000);
            format!(
                "{{\"query\":\"{{ __typename }}\",\"variables\":{{\"v\":{}{}}}}}",
                "[".repeat(depth),
                "]".repeat(depth)
            )
            .into_bytes()
        }
        4 => {
            let mut body = json!({ "query": query }).to_string().into_bytes();
            let at = rng.below(body.len());
            body.insert(at, 0xff);
            body
        }
        _ => mutate(rng, &json!({ "query": query }).to_string()).into_bytes(),
    }
}

/// Sends `cases` fuzzed requests; returns the count of each status.
async fn fuzz(app: &TestApp, cases: u64, seed: u64) -> BTreeMap<u16, u64> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap();
    let registry = bantin::graphql::schema::registry();
    let known = Known {
        ids: vec!["QXJ0aWNsZTox".into(), "UGVyc29uOjE".into(), "zzz".into()],
        slugs: vec!["vo-van-thuong".into(), "bo-ngoai-giao".into()],
        codes: vec!["16-KL/TƯ".into()],
        words: vec!["thông tin".into(), "doi ngoai".into()],
    };
    let mut generator = QueryGen::new(&registry, &known, seed);
    let mut rng = Rng::new(seed ^ 0x5EED);
    let url = format!("{}/graphql", app.address);
    let mut statuses = BTreeMap::new();
    for case in 0..cases {
        let generated = generator.query();
        let mut query = generated.query.clone();
        let request = match rng.below(10) {
            0..=3 => {
                for _ in 0..1 + rng.below(4) {
                    query = mutate(&mut rng, &query);
                }
                client
                    .post(&url)
                    .json(&json!({ "query": query, "variables": generated.variables }))
            }
            4 => {
                let mut variables = serde_json::Map::new();
                for name in ["skip", "include", "x", "v"] {
                    if rng.chance(60) {
                        variables.insert(name.to_owned(), json_value(&mut rng, 3));
                    }
                }
                client
                    .post(&url)
                    .json(&json!({ "query": query, "variables": variables }))
            }
            5 | 6 => {
                let content_type = *rng.pick(&[
                    "application/json",
                    "application/json; charset=utf-8",
                    "text/plain",
                    "application/graphql",
                    "multipart/form-data",
                    "application/x-www-form-urlencoded",
                ]);
                client
                    .post(&url)
                    .header("content-type", content_type)
                    .body(raw_body(&mut rng, &query))
            }
            7 => {
                if rng.chance(50) {
                    query = mutate(&mut rng, &query);
                }
                let variables = json_value(&mut rng, 2).to_string();
                let mut params = vec![("query", query.clone()), ("variables", variables)];
                if rng.chance(20) {
                    params.push(("operationName", "Generated".to_owned()));
                }
                client.get(&url).query(&params)
            }
            _ => client
                .post(&url)
                .json(&json!({ "query": hostile(&mut rng) })),
        };
        let response = request.send().await.unwrap_or_else(|error| {
            panic!("case {case}: no answer ({error}) to a request made from {query}")
        });
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("a body");
        *statuses.entry(status).or_insert(0) += 1;
        assert!(
            status < 500,
            "case {case}: {status} {}\nfor {query}",
            String::from_utf8_lossy(&body)
        );
        let parsed: Result<Value, _> = serde_json::from_slice(&body);
        assert!(
            parsed.is_ok(),
            "case {case}: {status}, not JSON: {}\nfor {query}",
            String::from_utf8_lossy(&body)
        );
    }
    statuses
}

/// The resident memory at its peak, in kilobytes (Linux).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches(" kB").parse().ok())
        })
        .unwrap_or(0)
}

async fn no_request_takes_the_server_down(backend: Backend) {
    let limits = Limits {
        rate_per_address: 0,
        rate_per_token: 0,
        ..Limits::default()
    };
    let Some(app) = TestApp::spawn_limited(backend, limits).await else {
        return;
    };
    let cases = std::env::var("BANTIN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500);
    let seed = std::env::var("BANTIN_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let statuses = fuzz(&app, cases, seed).await;
    eprintln!(
        "fuzz ({backend:?}): {cases} requests, statuses {statuses:?}, 5xx 0, peak RSS of the test process {} MB",
        peak_rss_kb() / 1024
    );
    // Every kind of answer was met, and the server still answers.
    assert!(statuses.contains_key(&200) && statuses.keys().any(|s| (400..500).contains(s)));
    let data = app.data("{ articles { totalCount } }", json!({})).await;
    assert_eq!(data, json!({ "articles": { "totalCount": 1 } }));
    app.finish().await;
}

#[tokio::test]
async fn no_request_takes_the_server_down_on_sqlite() {
    no_request_takes_the_server_down(Backend::Sqlite).await;
}

#[tokio::test]
async fn no_request_takes_the_server_down_on_postgres() {
    no_request_takes_the_server_down(Backend::Postgres).await;
}
