//! The edge: hostile documents, slow and silent connections. Whatever a client
//! sends, the server answers well-formed JSON (never a 5xx) quickly, and goes on
//! serving everyone else.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bantin::config::Limits;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{Backend, TestApp};

/// Fragments `F0`..`Fn`, each spreading the next twice: 2^n selections expanded.
fn fan_out(n: usize) -> String {
    let mut query = String::from("{ ...F0 }");
    for i in 0..n {
        query.push_str(&format!(
            " fragment F{i} on Query {{ __typename ...F{j} ...F{j} }}",
            j = i + 1
        ));
    }
    query.push_str(&format!(" fragment F{n} on Query {{ __typename }}"));
    query
}

/// Posts `query` and checks the answer is a refusal with `code`, in JSON, under 500,
/// and quick; returns the error.
async fn refused(app: &TestApp, query: &str, code: &str) -> Value {
    let started = Instant::now();
    let response = app
        .client()
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_else(|error| {
        panic!(
            "{status}: not JSON ({error}): {}",
            &query[..query.len().min(80)]
        )
    });
    let elapsed = started.elapsed();
    assert!(status < 500, "{status}: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        code,
        "{}: {body}",
        &query[..query.len().min(80)]
    );
    assert!(
        elapsed < Duration::from_secs(1),
        "refused in {elapsed:?}: {}",
        &query[..query.len().min(80)]
    );
    body["errors"][0].clone()
}

async fn hostile_documents_are_refused_at_once_and_the_server_lives(app: &TestApp) {
    // The eighty bytes that aborted the server: a fragment that spreads itself.
    refused(
        app,
        "{ __typename ...A } fragment A on Query { __typename ...A }",
        "BAD_USER_INPUT",
    )
    .await;
    refused(
        app,
        "{ ...A } fragment A on Query { ...B } fragment B on Query { __typename ...A }",
        "BAD_USER_INPUT",
    )
    .await;
    // 2^24 and 2^40 selections once expanded (the second also spreads 40 deep).
    let error = refused(app, &fan_out(24), "QUERY_TOO_COMPLEX").await;
    assert_eq!(error["extensions"]["limit"], 5_000, "{error}");
    refused(app, &fan_out(40), "QUERY_TOO_COMPLEX").await;
    // Counts weigh what they cost: four of them over the whole table.
    let counts: Vec<String> = (0..4)
        .map(|n| format!("c{n}: articles(first: 0) {{ totalCount }}"))
        .collect();
    let error = refused(
        app,
        &format!("{{ {} }}", counts.join(" ")),
        "QUERY_TOO_COMPLEX",
    )
    .await;
    assert_eq!(error["extensions"]["cost"], 4 * 5_001);
    assert_eq!(error["extensions"]["limit"], 20_000);
    // Thousands of aliased counts (as many as the body limit lets through).
    let counts: Vec<String> = (0..5_000)
        .map(|n| format!("a{n}: articles(first: 0) {{ totalCount }}"))
        .collect();
    let error = refused(
        app,
        &format!("{{ {} }}", counts.join(" ")),
        "TOO_MANY_ALIASES",
    )
    .await;
    assert_eq!(error["extensions"]["count"], 5_000);
    let deep = "{ article(slug: \"x\") { people { positions { organization { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } } } } }";
    let error = refused(app, deep, "QUERY_TOO_COMPLEX").await;
    assert_eq!(
        (&error["extensions"]["depth"], &error["extensions"]["limit"]),
        (&json!(13), &json!(12))
    );
    // Nesting the parser refuses, in the document and in the variables.
    let nested = "{a".repeat(50_000) + &"}".repeat(50_000);
    refused(app, &nested, "BAD_USER_INPUT").await;
    let list =
        "{ nodes(ids: ".to_owned() + &"[".repeat(50_000) + &"]".repeat(50_000) + ") { id } }";
    refused(app, &list, "BAD_USER_INPUT").await;
    let body = format!(
        "{{\"query\":\"query ($v: [ID!]!) {{ nodes(ids: $v) {{ id }} }}\",\"variables\":{{\"v\":{}{}}}}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let response = app
        .client()
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the server answers");
    assert!(response.status().as_u16() < 500);

    // Everyone else is still served.
    let data = app.data("{ articles { totalCount } }", json!({})).await;
    assert_eq!(data, json!({ "articles": { "totalCount": 1 } }));
}

/// The server's socket address.
fn socket(app: &TestApp) -> SocketAddr {
    app.address
        .trim_start_matches("http://")
        .parse()
        .expect("a socket address")
}

/// Whether the server closed `stream` within `within`: reads until the end.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0_u8; 1024];
    let read = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    read.await.is_ok()
}

/// The app on SQLite with `limits`.
async fn spawn_sqlite(limits: Limits) -> TestApp {
    TestApp::spawn_limited(Backend::Sqlite, limits)
        .await
        .expect("SQLite is always available")
}

fn short_timeouts() -> Limits {
    Limits {
        header_timeout_secs: 1,
        body_timeout_secs: 1,
        ..Limits::default()
    }
}

/// A head sent a byte at a time, a body that never ends and a kept-alive
/// connection that says nothing more are all cut.
#[tokio::test]
async fn slow_and_idle_connections_are_cut() {
    let app = spawn_sqlite(short_timeouts()).await;
    let address = socket(&app);

    // The head, a byte every 200 ms: cut after the header timeout of one second.
    let mut slow = TcpStream::connect(address).await.unwrap();
    let started = Instant::now();
    let head = b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    for byte in head {
        if slow.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    assert!(closed_within(&mut slow, Duration::from_secs(2)).await);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // A body that stops arriving.
    let mut stalled = TcpStream::connect(address).await.unwrap();
    stalled
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":")
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut answer)).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // A kept-alive connection, idle after one request.
    let mut idle = TcpStream::connect(address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0_u8; 512];
    let read = idle.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    let started = Instant::now();
    assert!(closed_within(&mut idle, Duration::from_secs(3)).await);
    assert!(started.elapsed() >= Duration::from_millis(900));
    app.finish().await;
}

/// One address opening many silent connections keeps no one else out: a new
/// client elsewhere is served within a second.
#[tokio::test]
async fn a_flood_of_silent_connections_does_not_keep_others_out() {
    let limits = Limits {
        max_open_connections: 300,
        max_connections_per_address: 100,
        ..Limits::default()
    };
    let app = spawn_sqlite(limits).await;
    let address = socket(&app);
    let mut flood = Vec::new();
    for _ in 0..1_000 {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        if let Ok(stream) = socket.connect(address).await {
            flood.push(stream);
        }
    }
    let started = Instant::now();
    let data = app.data("{ articles { totalCount } }", json!({})).await;
    assert_eq!(data, json!({ "articles": { "totalCount": 1 } }));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // Past its share, the flooding address is turned away at once.
    let mut turned_away = 0;
    for stream in flood.iter_mut().rev().take(50) {
        if closed_within(stream, Duration::from_millis(200)).await {
            turned_away += 1;
        }
    }
    assert_eq!(turned_away, 50);
    app.finish().await;
}

/// A TCP relay between the app and PostgreSQL that can be cut: while it is down
/// it drops every connection it has and every new one at once.
struct Relay {
    address: SocketAddr,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> Relay {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (cut, cuts) = tokio::sync::watch::channel(0_u64);
        let is_down = down.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if is_down.load(Ordering::SeqCst) {
                    continue;
                }
                let mut cuts = cuts.clone();
                cuts.mark_unchanged();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Relay { address, down, cut }
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
        if down {
            self.cut.send_modify(|n| *n += 1);
        }
    }
}

/// While PostgreSQL cannot be reached, every kind of request fails within a
/// second with 503 and `SERVICE_UNAVAILABLE`; when it comes back, so does the app.
#[tokio::test]
async fn an_unreachable_database_fails_fast_and_the_app_recovers() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let token = app.token(bantin::auth::Role::Editor, "editor").await;
    let (prefix, rest) = app.url.split_once('@').unwrap();
    let (host, database) = rest.split_once('/').unwrap();
    let upstream: SocketAddr = tokio::net::lookup_host(host).await.unwrap().next().unwrap();
    let relay = Relay::start(upstream).await;
    let args = bantin::config::DatabaseArgs {
        database_url: format!("{prefix}@{}/{database}", relay.address),
        max_connections: Some(4),
        acquire_timeout_ms: 750,
    };
    let db = bantin::db::connect(&args).await.unwrap();
    let search = bantin::search::Search::open(None, &db).unwrap();
    let limits = Limits::default();
    let state =
        bantin::app::AppState::new(db, &limits, std::sync::Arc::new(chrono::Utc::now), &search);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(bantin::server::serve(
        listener,
        bantin::app::router(state, &limits),
        limits.connections(),
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    let ask = |token: Option<&str>| {
        let mut request = client
            .post(format!("{base}/graphql"))
            .json(&json!({ "query": "{ articles { totalCount } }" }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let started = Instant::now();
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let retry = response.headers().get("retry-after").cloned();
            let body: Value = response.json().await.unwrap();
            (status, body, retry, started.elapsed())
        }
    };
    let (status, body, _, _) = ask(None).await;
    assert_eq!(
        (status, &body["data"]["articles"]["totalCount"]),
        (200, &json!(1))
    );

    relay.set_down(true);
    for token in [None, Some(token.as_str())] {
        let (status, body, retry, elapsed) = ask(token).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "{body}"
        );
        assert!(retry.is_some());
        assert!(elapsed < Duration::from_millis(1_500), "{elapsed:?}");
    }
    let started = Instant::now();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    assert!(started.elapsed() < Duration::from_millis(1_500));

    relay.set_down(false);
    let started = Instant::now();
    loop {
        let (status, body, _, _) = ask(None).await;
        if status == 200 {
            assert_eq!(body["data"]["articles"]["totalCount"], 1);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not recovered: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.finish().await;
}

/// Requests past an address's rate, a token's rate, or an address's budget of
/// failed token checks are refused with 429, `RATE_LIMITED` and `Retry-After`.
#[tokio::test]
async fn requests_past_their_rate_are_refused() {
    let limits = Limits {
        rate_per_address: 50,
        rate_per_token: 2,
        failed_auth_per_minute: 3,
        ..Limits::default()
    };
    let app = spawn_sqlite(limits).await;
    let query = "{ articles { totalCount } }";
    let limited = |status: u16, body: &Value| {
        status == 429 && body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    };

    // A token: a burst of four, then refused.
    let token = app.token(bantin::auth::Role::Editor, "editor").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (status, body) = app.graphql_as(Some(&token), query, json!({})).await;
        statuses.push(limited(status, &body));
    }
    assert_eq!(statuses, [false, false, false, false, true]);

    // Wrong tokens: three failures allowed a minute, then the address is refused
    // before its tokens are looked up; it may still read without one.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, body) = app.graphql_as(Some("not-a-token"), query, json!({})).await;
        statuses.push(if limited(status, &body) { 429 } else { status });
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    let response = app
        .client()
        .post(format!("{}/graphql", app.address))
        .bearer_auth("not-a-token")
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        app.data(query, json!({})).await["articles"]["totalCount"],
        1
    );

    // The address: a burst of a hundred, then refused.
    let mut refused = 0;
    for _ in 0..150 {
        let (status, body) = app.graphql_as(None, query, json!({})).await;
        refused += usize::from(limited(status, &body));
    }
    assert!((30..=60).contains(&refused), "{refused} refused");
    app.finish().await;
}

/// Bodies that are not one GraphQL request, and methods that are not GET or POST,
/// are answered with a JSON error and a code, never plain text.
async fn bad_bodies_get_json_errors(app: &TestApp) {
    let url = format!("{}/graphql", app.address);
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (
            app.client()
                .post(&url)
                .header("content-type", "application/json")
                .body("[{\"query\":\"{ __typename }\"}]"),
            400,
        ),
        (
            app.client()
                .post(&url)
                .header("content-type", "application/json")
                .body(""),
            400,
        ),
        (
            app.client()
                .post(&url)
                .header("content-type", "application/json")
                .body("{\"query\": "),
            400,
        ),
        (
            app.client()
                .post(&url)
                .header("content-type", "application/json")
                .body(format!("{{\"query\":\"{}\"}}", " ".repeat(300_000))),
            413,
        ),
        (app.client().put(&url).body("{}"), 405),
    ];
    for (request, expected) in cases {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let allow = response.headers().get("allow").cloned();
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(status, expected, "{body}");
        assert!(
            body["errors"][0]["extensions"]["code"].is_string(),
            "{body}"
        );
        if status == 405 {
            assert!(allow.is_some());
        }
    }
}

crate::on_both!(
    hostile_documents_are_refused_at_once_and_the_server_lives,
    bad_bodies_get_json_errors,
    what_hangs_off_a_draft_waits_for_it
);

/// A statement made for a draft article, and a photo placed only in one, are seen
/// by readers through no path until the article is; editors see them.
async fn what_hangs_off_a_draft_waits_for_it(app: &TestApp) {
    use entity::{article, article_media, media, person, statement};
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    app.add_articles(1, &[], "draft").await;
    let draft = article::Entity::find()
        .filter(article::Column::Slug.eq("draft-0000"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let speaker = person::Entity::find()
        .filter(person::Column::Slug.eq("vo-van-thuong"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let at = crate::helpers::now();
    let said = statement::ActiveModel {
        person_id: Set(speaker.id),
        article_id: Set(Some(draft.id)),
        text: Set("Chưa công bố.".to_owned()),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let photo = media::ActiveModel {
        url: Set("https://example.org/nhap.jpg".to_owned()),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    article_media::ActiveModel {
        article_id: Set(draft.id),
        media_id: Set(photo.id),
        ord: Set(0),
        after_paragraph: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let statement_id = bantin::graphql::ids::encode(bantin::graphql::ids::Kind::Statement, said.id);
    let media_id = bantin::graphql::ids::encode(bantin::graphql::ids::Kind::Media, photo.id);
    let query = "query ($s: ID!, $m: ID!) {
        s: node(id: $s) { id } m: node(id: $m) { id } ms: nodes(ids: [$s, $m]) { id }
        person(slug: \"vo-van-thuong\") { statements { text } } }";
    let variables = json!({ "s": statement_id.as_str(), "m": media_id.as_str() });
    let reader = app.data(query, variables.clone()).await;
    assert_eq!(reader["s"], Value::Null, "{reader}");
    assert_eq!(reader["m"], Value::Null, "{reader}");
    assert_eq!(reader["ms"], json!([null, null]), "{reader}");
    let said_texts = reader["person"]["statements"].to_string();
    assert!(!said_texts.contains("Chưa công bố"), "{reader}");

    let token = app.token(bantin::auth::Role::Editor, "editor").await;
    let editor = app.data_as(&token, query, variables).await;
    assert_eq!(editor["s"]["id"], statement_id.as_str());
    assert_eq!(editor["m"]["id"], media_id.as_str());
    assert!(
        editor["person"]["statements"]
            .to_string()
            .contains("Chưa công bố")
    );
}

/// Shutdown stops taking connections and ends as soon as the requests in flight
/// are answered, not after the grace period.
#[tokio::test]
async fn shutdown_ends_once_requests_in_flight_are_answered() {
    let app = spawn_sqlite(Limits::default()).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (address, server) = app
        .twin_until(false, async move {
            let _ = stopped.await;
        })
        .await;
    let client = reqwest::Client::new();
    let answered = client
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": "{ articles { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    let started = Instant::now();
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops well within its grace period")
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        TcpStream::connect(address.trim_start_matches("http://"))
            .await
            .is_err()
    );
    app.finish().await;
}
