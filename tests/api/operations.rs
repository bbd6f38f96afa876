//! What an operator sees: `/metrics`, request ids, the access log (as JSON
//! lines), the binary's messages when something is wrong, and the configuration
//! reference, held to `bantin --help`.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::helpers::{BIN, TestApp, free_port, wait_healthy};

/// The samples of `/metrics`, parsed as Prometheus parses them: each series (its
/// name and labels) with its value.
async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("the Prometheus text format");
    let mut series = BTreeMap::new();
    for sample in scrape.samples {
        let mut labels: Vec<String> = sample
            .labels
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        labels.sort();
        let value = match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.last().map_or(0.0, |bucket| bucket.count)
            }
            prometheus_parse::Value::Summary(_) => continue,
        };
        series.insert(format!("{}{{{}}}", sample.metric, labels.join(",")), value);
    }
    series
}

async fn metrics_count_requests_errors_and_work(app: &TestApp) {
    for _ in 0..3 {
        app.data(
            "query MetricsProbe { articles(first: 2) { nodes { title people { name } } } }",
            json!({}),
        )
        .await;
    }
    let bad = app.graphql("query Broken { nosuchfield }", json!({})).await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let series = scrape(app).await;
    let get = |key: &str| {
        series
            .get(key)
            .copied()
            .unwrap_or_else(|| panic!("no {key} among {:#?}", series.keys()))
    };
    assert_eq!(
        get("bantin_graphql_requests_total{kind=query,operation=MetricsProbe,status=200}"),
        3.0
    );
    assert_eq!(
        get("bantin_graphql_requests_total{kind=query,operation=Broken,status=200}"),
        1.0
    );
    assert!(get("bantin_graphql_errors_total{code=BAD_USER_INPUT}") >= 1.0);
    // Each histogram's count: one observation a request.
    assert_eq!(
        get("bantin_graphql_request_duration_seconds{kind=query,operation=MetricsProbe}"),
        3.0
    );
    assert!(get("bantin_sql_statements_per_request{}") >= 3.0);
    assert!(get("bantin_loader_batches_per_request{}") >= 3.0);
    assert!(get("bantin_database_connections{state=idle}") >= 0.0);
    assert_eq!(get("bantin_search_index_ready{}"), 1.0);
    assert_eq!(get("bantin_search_index_lag{}"), 0.0);
}

async fn requests_carry_an_id(app: &TestApp) {
    let response = app
        .client()
        .post(format!("{}/graphql", app.address))
        .header("x-request-id", "chosen-by-the-client-1")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "chosen-by-the-client-1");
    // None sent (or one that is not fit to log): one is made.
    for sent in [None, Some("has spaces in it")] {
        let mut request = app.client().get(format!("{}/healthz", app.address));
        if let Some(sent) = sent {
            request = request.header("x-request-id", sent);
        }
        let response = request.send().await.unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(id.len(), 36, "{id}");
        assert!(Some(id.as_str()) != sent);
    }
}

crate::on_both!(metrics_count_requests_errors_and_work, requests_carry_an_id);

/// `/metrics` on an address of its own is not served beside `/graphql`.
#[tokio::test]
async fn metrics_can_listen_apart() {
    let dir = scratch("metrics");
    let (port, metrics_port) = (free_port().await, free_port().await);
    let mut server = serve(
        &dir,
        port,
        &[("BANTIN_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))],
        Stdio::null(),
    )
    .await;
    let client = reqwest::Client::new();
    let apart = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(apart.status(), 200);
    assert!(
        apart
            .text()
            .await
            .unwrap()
            .contains("bantin_search_index_ready")
    );
    let beside = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(beside.status(), 404);
    server.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// With `BANTIN_LOG_FORMAT=json`, every line is a JSON object; a request's access
/// line has its method, path, operation, status, duration, size and id, and no
/// colour codes are written to a pipe.
#[tokio::test]
async fn the_access_log_has_one_json_line_a_request_with_its_id() {
    let dir = scratch("log");
    let port = free_port().await;
    let mut server = serve(
        &dir,
        port,
        &[("BANTIN_LOG_FORMAT", "json".to_owned())],
        Stdio::piped(),
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .header("x-request-id", "log-me-42")
        .json(&json!({ "query": "query Logged { articles { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let length = response.bytes().await.unwrap().len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.start_kill().unwrap();
    let output = server.wait_with_output().await.unwrap();
    let log = String::from_utf8(output.stderr).unwrap();
    assert!(!log.contains('\u{1b}'), "colour codes in a pipe: {log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let access: Vec<&Value> = lines
        .iter()
        .filter(|line| line["target"] == "bantin::access" && line["path"] == "/graphql")
        .collect();
    assert_eq!(access.len(), 1, "{log}");
    let line = access[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["method"], "POST");
    assert_eq!(line["operation"], "Logged");
    assert_eq!(line["status"], 200);
    assert_eq!(line["bytes"], length);
    assert!(line["duration_ms"].as_f64().is_some(), "{line}");
    assert_eq!(line["span"]["id"], "log-me-42", "{line}");
    // The health probes of the start are not logged at `info`.
    assert!(
        !lines.iter().any(|line| line["path"] == "/healthz"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// With the `otlp` feature and an endpoint set, the spans of a request (its id
/// and operation among their attributes) are exported over OTLP/HTTP, here to a
/// collector of the test's own that keeps what it is sent.
#[cfg(feature = "otlp")]
#[tokio::test]
async fn traces_are_exported_over_otlp() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let kept = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(body.to_vec());
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, collector).await;
    });
    let dir = scratch("otlp");
    let port = free_port().await;
    let mut server = serve(
        &dir,
        port,
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{collector_address}"),
            ),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ],
        Stdio::null(),
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .header("x-request-id", "otlp-trace-7")
        .json(&json!({ "query": "query Traced { articles { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let contains = |haystack: &[u8], needle: &[u8]| {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    };
    let mut exported = false;
    for _ in 0..100 {
        // The spans may come in more than one export.
        let all: Vec<u8> = received.lock().unwrap().concat();
        exported = contains(&all, b"otlp-trace-7")
            && contains(&all, b"Traced")
            && contains(&all, b"bantin")
            // The statement's own span, with its SQL.
            && contains(&all, b"SELECT");
        if exported {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill().await.unwrap();
    assert!(exported, "no span of the request reached the collector");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A port in use is told with its address and setting, before anything is
/// migrated: no database file is made.
#[tokio::test]
async fn a_busy_port_is_named_before_any_migration() {
    let dir = scratch("port");
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = taken.local_addr().unwrap();
    let output = Command::new(BIN)
        .args(["serve"])
        .env("DATABASE_URL", sqlite_url(&dir, "never.db"))
        .env("BANTIN_INDEX_DIR", dir.join("index"))
        .env("BANTIN_LISTEN", address.to_string())
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains(&address.to_string()) && message.contains("BANTIN_LISTEN"),
        "{message}"
    );
    assert!(!dir.join("never.db").exists(), "a database was made");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Commands that read or change an existing database do not make a new one
/// where none is (run from the wrong directory), and an import of a bundle that
/// is not there stops before any database is made.
#[tokio::test]
async fn commands_do_not_make_a_database_where_none_was_meant() {
    let dir = scratch("missing");
    let url = sqlite_url(&dir, "absent.db");
    for args in [
        vec!["token", "create", "--role", "editor", "--name", "x"],
        vec!["token", "list"],
        vec!["export"],
        vec!["reindex", "--index-dir"],
    ] {
        let mut command = Command::new(BIN);
        command.args(&args);
        if args[0] == "reindex" {
            command.arg(dir.join("index"));
        }
        let output = command
            .env("DATABASE_URL", &url)
            .env("NO_COLOR", "1")
            .output()
            .await
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(
            message.contains("there is no database at") && message.contains("absent.db"),
            "{args:?}: {message}"
        );
        assert!(output.stdout.is_empty(), "{args:?} printed something");
        assert!(!dir.join("absent.db").exists(), "{args:?} made a database");
    }
    let output = Command::new(BIN)
        .args(["import", dir.join("no-such-bundle.jsonl").to_str().unwrap()])
        .env("DATABASE_URL", &url)
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("there is no bundle at"), "{message}");
    assert!(!dir.join("absent.db").exists(), "import made a database");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `bantin migrate` makes the database the other commands then find, and
/// `reindex` says what it did.
#[tokio::test]
async fn migrate_makes_a_database_that_reindex_then_finds() {
    let dir = scratch("reindex");
    let url = sqlite_url(&dir, "made.db");
    let migrate = Command::new(BIN)
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    assert!(migrate.status.success());
    let reindex = Command::new(BIN)
        .args(["reindex", "--index-dir"])
        .arg(dir.join("index"))
        .env("DATABASE_URL", &url)
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    let message = String::from_utf8_lossy(&reindex.stderr);
    assert!(reindex.status.success(), "{message}");
    assert!(message.contains("indexed 0 records"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every setting of `bantin --help` (flag, variable, default) has its row in
/// `docs/configuration.md`, and every row there is a setting.
#[test]
fn the_configuration_reference_matches_the_help() {
    use clap::CommandFactory;
    let reference = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    let rows: BTreeMap<String, Vec<String>> = reference
        .lines()
        .filter(|line| line.starts_with("| `--"))
        .map(|line| {
            let cells: Vec<String> = line
                .trim_matches('|')
                .split(" | ")
                .map(|cell| cell.trim().to_owned())
                .collect();
            (cells[0].clone(), cells)
        })
        .collect();
    let mut expected = BTreeMap::new();
    let command = bantin::cli::Cli::command();
    let mut commands = vec![&command];
    let mut next = 0;
    while let Some(command) = commands.get(next).copied() {
        commands.extend(command.get_subcommands());
        next += 1;
    }
    for command in commands {
        for argument in command.get_arguments() {
            let Some(long) = argument.get_long() else {
                continue;
            };
            if matches!(long, "help" | "version") {
                continue;
            }
            let env = argument.get_env().map_or_else(
                || "—".to_owned(),
                |env| format!("`{}`", env.to_string_lossy()),
            );
            let default: Vec<String> = argument
                .get_default_values()
                .iter()
                .map(|value| value.to_string_lossy().into_owned())
                .collect();
            let default = if default.is_empty() {
                "—".to_owned()
            } else {
                format!("`{}`", default.join(","))
            };
            expected.insert(format!("`--{long}`"), (env, default));
        }
    }
    let mut wrong = Vec::new();
    for (flag, (env, default)) in &expected {
        match rows.get(flag) {
            Some(cells) if cells.get(1) == Some(env) && cells.get(2) == Some(default) => {}
            _ => wrong.push(format!("| {flag} | {env} | {default} | … |")),
        }
    }
    for flag in rows.keys() {
        if !expected.contains_key(flag) {
            wrong.push(format!("{flag}: no such setting"));
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/configuration.md differs from `bantin --help`:\n{}",
        wrong.join("\n")
    );
}

/// `bantin serve` on a SQLite file in `dir` and `port`, with the sample, more
/// environment, `RUST_LOG` unset, and its standard error to `stderr`; once healthy.
async fn serve(
    dir: &std::path::Path,
    port: u16,
    envs: &[(&str, String)],
    stderr: Stdio,
) -> tokio::process::Child {
    let server = Command::new(BIN)
        .arg("serve")
        .env("DATABASE_URL", sqlite_url(dir, "served.db"))
        .env("BANTIN_INDEX_DIR", dir.join("index"))
        .env("BANTIN_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("RUST_LOG")
        .envs(envs.iter().map(|(name, value)| (*name, value.as_str())))
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_healthy(port).await;
    server
}

fn scratch(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bantin_ops_{what}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sqlite_url(dir: &std::path::Path, file: &str) -> String {
    format!("sqlite://{}?mode=rwc", dir.join(file).display())
}
