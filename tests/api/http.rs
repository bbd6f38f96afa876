//! The HTTP surface: GraphiQL, health, GET queries, and errors that are clear
//! and never a 500.

use serde_json::json;

use crate::helpers::TestApp;

async fn graphiql_is_served_at_the_root_and_at_graphiql(app: &TestApp) {
    for path in ["/", "/graphiql"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("graphiql") && html.contains("/graphql"),
            "{path}: {html}"
        );
    }
    // The app is spawned once its index has caught up: ready too.
    for path in ["/healthz", "/readyz"] {
        let health = app.get(path).await;
        assert_eq!(health.status(), 200, "{path}");
        assert_eq!(health.text().await.unwrap(), "ok", "{path}");
    }
}

/// GraphiQL asks no other host for anything (it works on a closed network): every
/// script, style and icon of the page is the server's own, served as embedded, the
/// page's policy allows its own origin only, and it opens on a query of the sample.
async fn graphiql_is_served_whole_from_the_binary(app: &TestApp) {
    let page = app.get("/graphiql").await;
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(!policy.contains("http"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(html.contains("query FrontPage"), "{html}");
    assert!(html.contains("Bearer …"), "{html}");
    let referenced: Vec<&str> = html
        .split(['"'])
        .filter(|part| part.starts_with("/graphiql/assets/"))
        .collect();
    assert_eq!(referenced.len(), 7, "{referenced:?}");
    let sums = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/graphiql/SHA256SUMS"
    ))
    .unwrap();
    for path in referenced {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let expected = match path.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            _ => "image/svg+xml",
        };
        assert!(content_type.starts_with(expected), "{path}: {content_type}");
        let bytes = response.bytes().await.unwrap();
        // The files fetched from the registry are served as they were written.
        let name = path.trim_start_matches("/graphiql/assets/");
        if let Some(line) = sums
            .lines()
            .find(|line| line.ends_with(&format!("  {name}")))
        {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(&bytes);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            assert!(line.starts_with(&hex), "{name}: {line}");
        }
    }
    assert_eq!(app.get("/favicon.ico").await.status(), 200);
    assert_eq!(app.get("/graphiql/assets/nothing.js").await.status(), 404);
}

/// CORS: none by default (only the API's own origin); an allow-list lets the
/// pages of its origins call the API with the headers GraphQL clients send, and
/// `*` every origin, only when asked.
async fn cross_origin_requests_follow_the_allow_list(app: &TestApp) {
    let preflight = |base: String, origin: &'static str| async move {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{base}/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization,apollographql-client-name,x-request-id",
            )
            .send()
            .await
            .unwrap()
    };
    let allowed = |response: &reqwest::Response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|value| value.to_str().unwrap().to_owned())
    };
    // The default: no origin but the API's own.
    let closed = preflight(app.address.clone(), "https://www.example.vn").await;
    assert_eq!(allowed(&closed), None);

    let (listed, _) = app
        .twin_serving(
            |state| {
                state.cors = bantin::app::CorsSettings {
                    origins: vec![
                        "https://www.example.vn".into(),
                        "https://m.example.vn/".into(),
                    ],
                    max_age: std::time::Duration::from_secs(120),
                }
            },
            std::future::pending(),
        )
        .await;
    let response = preflight(listed.clone(), "https://m.example.vn").await;
    assert_eq!(allowed(&response).as_deref(), Some("https://m.example.vn"));
    let headers = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in [
        "authorization",
        "apollographql-client-name",
        "x-request-id",
        "content-type",
    ] {
        assert!(headers.contains(header), "{headers}");
    }
    assert_eq!(response.headers()["access-control-max-age"], "120");
    let refused = preflight(listed.clone(), "https://evil.example").await;
    assert_eq!(allowed(&refused), None);
    // The answer itself names the origin and lets its page read the request id.
    let answer = reqwest::Client::new()
        .post(format!("{listed}/graphql"))
        .header("origin", "https://www.example.vn")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://www.example.vn"
    );
    let exposed = answer.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");

    let (open, _) = app
        .twin_serving(
            |state| state.cors.origins = vec!["*".into()],
            std::future::pending(),
        )
        .await;
    let response = preflight(open, "https://anyone.example").await;
    assert_eq!(allowed(&response).as_deref(), Some("*"));
}

/// `/readyz` answers 503 until the search index has caught up with the database,
/// while `/healthz` and queries are served already.
#[tokio::test]
async fn ready_waits_for_the_search_index() {
    let app = TestApp::spawn_unindexed(crate::helpers::Backend::Sqlite)
        .await
        .expect("SQLite is always available");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.text().await.unwrap(), "search index building");
    assert_eq!(app.get("/healthz").await.status(), 200);
    let served = app.data("{ articles { totalCount } }", json!({})).await;
    assert_eq!(served, json!({ "articles": { "totalCount": 1 } }));
    // Search says it is not ready rather than find nothing.
    let search = "{ search(query: \"ngoại giao\") { totalCount } }";
    assert_eq!(app.error_code(search, json!({})).await, "SEARCH_NOT_READY");

    app.indexer.initialize().await.unwrap();
    let found = app.data(search, json!({})).await;
    assert!(found["search"]["totalCount"].as_u64() > Some(0), "{found}");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ok");
    app.finish().await;
}

async fn queries_work_over_get(app: &TestApp) {
    let response = app
        .get("/graphql?query=%7B%20articles%20%7B%20totalCount%20%7D%20%7D")
        .await;
    assert_eq!(response.status(), 200);
    // No `Accept`: application/json, as the GraphQL-over-HTTP spec asks.
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "data": { "articles": { "totalCount": 1 } } }));
}

async fn mutations_are_refused_over_get(app: &TestApp) {
    let token = app.token(bantin::auth::Role::Editor, "editor").await;
    for query in [
        r#"mutation { createTag(input: { name: "Qua GET" }) { tag { id } } }"#,
        r#"query Read { articles { totalCount } } mutation Write { createTag(input: { name: "Qua GET" }) { tag { id } } }"#,
    ] {
        let response = app
            .client()
            .get(format!("{}/graphql", app.address))
            .query(&[("query", query)])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(
            response.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert_eq!(response.headers()["allow"], "POST");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
    let tags = app
        .data("{ tag(slug: \"qua-get\") { id } }", json!({}))
        .await;
    assert_eq!(tags["tag"], serde_json::Value::Null);
    // A named query of a document that also holds a mutation still reads over GET,
    // named by `operationName` as the GraphQL-over-HTTP spec has it (async-graphql
    // alone reads `operation_name`, which is still understood).
    for parameter in ["operationName", "operation_name"] {
        let response = app
            .client()
            .get(format!("{}/graphql", app.address))
            .query(&[
                ("query", "query Read { articles { totalCount } } mutation Write { createTag(input: { name: \"X\" }) { tag { id } } }"),
                (parameter, "Read"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{parameter}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body["data"]["articles"]["totalCount"], 1,
            "{parameter}: {body}"
        );
    }
}

async fn malformed_and_invalid_queries_are_bad_input(app: &TestApp) {
    for query in [
        "{ articles { ",
        "{ nosuchfield }",
        "{ articles(first: \"x\") { totalCount } }",
        "query($d: Date!) { anniversaries(on: $d) { years } }",
    ] {
        let response = app
            .client()
            .post(format!("{}/graphql", app.address))
            .json(&json!({ "query": query, "variables": { "d": "2024-13-45" } }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{query}: {body}"
        );
    }
    let response = app
        .client()
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

async fn deep_or_huge_queries_are_refused(app: &TestApp) {
    let mut inner = String::from("name");
    for _ in 0..15 {
        inner = format!("parent {{ {inner} }}");
    }
    let deep = format!("{{ organizations(first: 1) {{ nodes {{ {inner} }} }} }}");
    assert_eq!(app.error_code(&deep, json!({})).await, "QUERY_TOO_COMPLEX");
    let huge = "{ articles(first: 100) { nodes { people { articles(first: 100) { nodes { people { articles(first: 100) { nodes { title } } } } } } } } }";
    assert_eq!(app.error_code(huge, json!({})).await, "QUERY_TOO_COMPLEX");
    let big_body = "x".repeat(300 * 1024);
    let response = app
        .client()
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": format!("{{ articles {{ totalCount }} }} # {big_body}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

async fn nodes_takes_at_most_100_ids(app: &TestApp) {
    let ids: Vec<String> = (0..101).map(|_| "bm9wZQ".to_owned()).collect();
    let code = app
        .error_code(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

/// While every turn to execute is taken, an operation waits; it runs as soon as
/// one is free.
async fn operations_wait_for_a_turn(app: &TestApp) {
    let limit = bantin::config::Limits::default().max_concurrent_operations;
    let all = app
        .turns
        .clone()
        .acquire_many_owned(limit as u32)
        .await
        .unwrap();
    let url = format!("{}/graphql", app.address);
    let waiting = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&json!({ "query": "{ articles { totalCount } }" }))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "ran without a turn");
    drop(all);
    let body = tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
        .await
        .expect("ran once a turn was free")
        .unwrap();
    assert_eq!(body, json!({ "data": { "articles": { "totalCount": 1 } } }));
}

/// The keys of a JSON object, in order.
fn keys(value: &serde_json::Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// Fields come back in the order the query asks for them, also when one waits for
/// a batched load and those after it do not, through fragments and aliases.
async fn responses_keep_the_order_of_the_query(app: &TestApp) {
    let body = app
        .graphql(
            r#"query {
                 articles { nodes { people { positions { title } slug name } headline: title ...More slug } }
               }
               fragment More on Article {
                 organizations { events { name } name slug }
                 events { name }
                 language
               }"#,
            json!({}),
        )
        .await;
    let node = &body["data"]["articles"]["nodes"][0];
    assert_eq!(
        keys(node),
        [
            "people",
            "headline",
            "organizations",
            "events",
            "language",
            "slug"
        ],
        "{body}"
    );
    // Every item of a list, not only the first, in the order of its selection (a
    // field that waits on a batched load first, so that it would finish last).
    let people = node["people"].as_array().unwrap();
    let organizations = node["organizations"].as_array().unwrap();
    assert!(people.len() > 1 && organizations.len() > 1, "{body}");
    for person in people {
        assert_eq!(keys(person), ["positions", "slug", "name"], "{body}");
    }
    for organization in organizations {
        assert_eq!(keys(organization), ["events", "name", "slug"], "{body}");
    }
}

/// A document is validated once, and later requests with it are checked only for
/// what depends on their variables: the limits still hold for each, and a variable
/// of the wrong type is refused the same way the first time and every time after.
async fn documents_found_valid_still_meet_the_limits(app: &TestApp) {
    let nested = "query($n: Int!) { articles(first: $n) { nodes { people { articles(first: $n) {
        nodes { people { articles(first: $n) { nodes { title } } } } } } } } }";
    for _ in 0..2 {
        let small = app.graphql(nested, json!({ "n": 1 })).await;
        assert!(small["errors"].is_null(), "{small}");
        assert!(small["data"]["articles"]["nodes"].is_array(), "{small}");
        assert_eq!(
            app.error_code(nested, json!({ "n": 100 })).await,
            "QUERY_TOO_COMPLEX"
        );
    }
    let typed = "query($slug: String!) { article(slug: $slug) { title } }";
    let wrong = app.graphql(typed, json!({ "slug": 5 })).await;
    assert_eq!(
        wrong["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{wrong}"
    );
    assert!(wrong["data"]["article"].is_null(), "{wrong}");
    let right = app.graphql(typed, json!({ "slug": "nope" })).await;
    assert!(right["errors"].is_null(), "{right}");
    assert_eq!(app.graphql(typed, json!({ "slug": 5 })).await, wrong);
    // A document that is not valid says why, each time.
    let invalid = "query($slug: String!) { article(slug: $slug) { nosuchfield } }";
    let first = app.graphql(invalid, json!({ "slug": "x" })).await;
    assert_eq!(
        first["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{first}"
    );
    assert!(
        first["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nosuchfield")
    );
    assert_eq!(app.graphql(invalid, json!({ "slug": "x" })).await, first);
}

crate::on_both!(
    responses_keep_the_order_of_the_query,
    operations_wait_for_a_turn,
    graphiql_is_served_at_the_root_and_at_graphiql,
    graphiql_is_served_whole_from_the_binary,
    cross_origin_requests_follow_the_allow_list,
    queries_work_over_get,
    mutations_are_refused_over_get,
    malformed_and_invalid_queries_are_bad_input,
    deep_or_huge_queries_are_refused,
    nodes_takes_at_most_100_ids,
    documents_found_valid_still_meet_the_limits,
);
