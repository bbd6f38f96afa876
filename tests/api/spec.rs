//! GraphQL as the specifications say: field errors `null` in place and propagated
//! (spec 6.4.4), the keys of an object by its runtime type (6.3.2), variables
//! coerced before execution (6.1.2), request errors without `data`, and the
//! GraphQL-over-HTTP spec's media types and status codes. Each on both executors
//! (the fast path and async-graphql's stock one) where execution is involved.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// `application/graphql-response+json`, as a client of the GraphQL-over-HTTP spec
/// asks for it.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json, application/json;q=0.9";

/// One answer: its status, its `Content-Type`, and its body.
struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

/// Posts `body` (raw) to `base`'s `/graphql` with `accept` (none when empty).
async fn post_raw(base: &str, accept: &str, content_type: Option<&str>, body: String) -> Answer {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if !accept.is_empty() {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("not JSON ({error}), {status}: {text}"));
    Answer {
        status,
        content_type,
        body,
    }
}

/// Posts a query with variables to `base`.
async fn post(base: &str, accept: &str, query: &str, variables: Value) -> Answer {
    let body = json!({ "query": query, "variables": variables }).to_string();
    post_raw(base, accept, Some("application/json"), body).await
}

/// The app's URL and a twin's on the stock executor.
async fn both_executors(app: &TestApp) -> [String; 2] {
    [app.address.clone(), app.twin(true).await]
}

/// The sample person's global ID, and the sample article's.
async fn sample_ids(app: &TestApp) -> (String, String) {
    let data = app
        .data(
            r#"{ person(slug: "vo-van-thuong") { id } articles(first: 1) { nodes { id } } }"#,
            json!({}),
        )
        .await;
    let person = data["person"]["id"].as_str().expect("person id").to_owned();
    let article = data["articles"]["nodes"][0]["id"]
        .as_str()
        .expect("article id")
        .to_owned();
    (person, article)
}

/// A nullable field that fails is `null` in place, beside the fields that did not.
async fn a_failed_field_is_null_in_place(app: &TestApp) {
    for base in both_executors(app).await {
        let answer = post(
            &base,
            "",
            r#"{ a: node(id: "zzz") { id } b: __typename }"#,
            json!({}),
        )
        .await;
        assert_eq!(answer.status, 200, "{base}");
        assert_eq!(
            answer.body["data"],
            json!({ "a": null, "b": "Query" }),
            "{base}: {:#}",
            answer.body
        );
        let keys: Vec<&String> = answer.body["data"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a", "b"], "{base}");
        let errors = answer.body["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{base}: {errors:?}");
        assert_eq!(errors[0]["path"], json!(["a"]), "{base}");
        assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT", "{base}");
        // Every root field failed: still an object, with each in place.
        let answer = post(
            &base,
            "",
            r#"{ a: node(id: "zzz") { id } c: node(id: "yyy") { id } }"#,
            json!({}),
        )
        .await;
        assert_eq!(
            answer.body["data"],
            json!({ "a": null, "c": null }),
            "{base}"
        );
        assert_eq!(answer.body["errors"].as_array().map(Vec::len), Some(2));
    }
}

/// An operation whose root fields are all skipped ran, and answers `{}` (not
/// `null`, which would say that a non-null field failed); so does an object none
/// of whose fields is collected, while an object that is not there is `null`.
async fn an_operation_of_skipped_fields_answers_an_empty_object(app: &TestApp) {
    for base in both_executors(app).await {
        let answer = post(
            &base,
            GRAPHQL_RESPONSE,
            "query($no: Boolean!) { a: __typename @skip(if: true) b: articles @include(if: $no) { totalCount } }",
            json!({ "no": false }),
        )
        .await;
        assert_eq!(answer.status, 200, "{base}");
        assert_eq!(answer.body, json!({ "data": {} }), "{base}");
        // And so does an object: all its fields skipped, or all its fragments on
        // other types.
        let (person, _) = sample_ids(app).await;
        let answer = post(
            &base,
            "",
            r#"query($id: ID!, $no: Boolean!) {
                person(slug: "vo-van-thuong") { name @include(if: $no) ... @skip(if: true) { id } }
                node(id: $id) { ... on Article { title } }
                missing: person(slug: "khong-co") { name @include(if: $no) }
            }"#,
            json!({ "id": person, "no": false }),
        )
        .await;
        assert_eq!(
            answer.body,
            json!({ "data": { "person": {}, "node": {}, "missing": null } }),
            "{base}"
        );
    }
}

/// The error of a non-null field makes its nearest nullable parent `null`: here
/// `articles` (`ArticleConnection!`) takes `person` with it, and a failure under a
/// non-null root field makes `data` itself `null`.
async fn a_failed_non_null_field_nulls_its_nearest_nullable_parent(app: &TestApp) {
    for base in both_executors(app).await {
        let answer = post(
            &base,
            GRAPHQL_RESPONSE,
            r#"{ person(slug: "vo-van-thuong") { name articles(first: 1000) { totalCount } } n: __typename }"#,
            json!({}),
        )
        .await;
        // Data is there (if partly null): a 200 whatever the media type.
        assert_eq!(answer.status, 200, "{base}");
        assert_eq!(
            answer.body["data"],
            json!({ "person": null, "n": "Query" }),
            "{base}: {:#}",
            answer.body
        );
        let errors = answer.body["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{base}: {errors:?}");
        assert_eq!(errors[0]["path"], json!(["person", "articles"]), "{base}");

        // `articles` at the root is non-null too: nothing above it can hold the null.
        let answer = post(
            &base,
            GRAPHQL_RESPONSE,
            "{ articles(first: 1000) { totalCount } }",
            json!({}),
        )
        .await;
        assert_eq!(answer.status, 200, "{base}");
        let object = answer.body.as_object().expect("object");
        assert_eq!(object.get("data"), Some(&Value::Null), "{base}: {object:?}");
        assert_eq!(answer.body["errors"][0]["path"], json!(["articles"]));
    }
}

/// The keys of an object follow the fields collected for its own type: the
/// fragments on other types are not collected, and nothing of the hidden type
/// the completion reads is left in the answer.
async fn keys_follow_the_runtime_type(app: &TestApp) {
    let (person, article) = sample_ids(app).await;
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Person { name id } ... on Article { title id } } }";
    for base in both_executors(app).await {
        let answer = post(
            &base,
            "",
            query,
            json!({ "ids": [article.clone(), person.clone()] }),
        )
        .await;
        let nodes = answer.body["data"]["nodes"].as_array().expect("nodes");
        let keys = |node: &Value| -> Vec<String> {
            node.as_object().expect("object").keys().cloned().collect()
        };
        assert_eq!(
            keys(&nodes[0]),
            ["title", "id"],
            "{base}: {:#}",
            answer.body
        );
        assert_eq!(keys(&nodes[1]), ["name", "id"], "{base}: {:#}", answer.body);
        // A named fragment on the interface, spread beside them, and `__typename`.
        let answer = post(
            &base,
            "",
            "query($id: ID!) { node(id: $id) { __typename ... on Person { name } ...Identified ... on Article { title } } } fragment Identified on Node { id }",
            json!({ "id": article.clone() }),
        )
        .await;
        assert_eq!(
            keys(&answer.body["data"]["node"]),
            ["__typename", "id", "title"],
            "{base}: {:#}",
            answer.body
        );
    }
}

/// A required variable not sent, or one of the wrong type, is a request error:
/// nothing runs, no `data`, `BAD_USER_INPUT`; 200 under `application/json`, 400
/// under `application/graphql-response+json`.
async fn variables_are_coerced_before_the_operation_runs(app: &TestApp) {
    let query = "query($slug: String!, $first: Int) { article(slug: $slug) { title } articles(first: $first) { totalCount } }";
    for base in both_executors(app).await {
        for variables in [
            json!({}),
            json!({ "slug": null }),
            json!({ "slug": "x", "first": "three" }),
            json!({ "slug": ["a", "b"] }),
        ] {
            for (accept, status) in [
                ("", 200),
                ("application/json", 200),
                (GRAPHQL_RESPONSE, 400),
            ] {
                let answer = post(&base, accept, query, variables.clone()).await;
                assert_eq!(answer.status, status, "{base} {accept} {variables}");
                assert!(
                    answer.body.get("data").is_none(),
                    "{base} {variables}: {:#}",
                    answer.body
                );
                assert_eq!(
                    answer.body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
                    "{base} {variables}: {:#}",
                    answer.body
                );
            }
        }
        let missing = post(&base, "", query, json!({})).await;
        let message = missing.body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("$slug") && message.contains("String!"),
            "{message}"
        );
    }
}

/// Parse and validation failures (and an operation that cannot be chosen) are
/// request errors: no `data`; 400 under `application/graphql-response+json`, 200
/// under `application/json`; the body labelled with the type asked for.
async fn request_errors_have_no_data_and_a_status_by_media_type(app: &TestApp) {
    for query in [
        "{ articles { ",
        "{ nosuchfield }",
        "query A { __typename } query B { __typename }",
    ] {
        for (accept, status, content_type) in [
            ("", 200, "application/json; charset=utf-8"),
            ("*/*", 200, "application/json; charset=utf-8"),
            (
                GRAPHQL_RESPONSE,
                400,
                "application/graphql-response+json; charset=utf-8",
            ),
        ] {
            let answer = post(&app.address, accept, query, json!({})).await;
            assert_eq!(answer.status, status, "{query} {accept}");
            assert_eq!(answer.content_type, content_type, "{query} {accept}");
            assert!(
                answer.body.get("data").is_none(),
                "{query}: {:#}",
                answer.body
            );
            assert_eq!(
                answer.body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
                "{query}: {:#}",
                answer.body
            );
        }
    }
    // An operation named that the document does not have.
    let body =
        json!({ "query": "query A { __typename } query B { __typename }", "operationName": "C" });
    for (accept, status) in [("", 200), (GRAPHQL_RESPONSE, 400)] {
        let answer = post_raw(
            &app.address,
            accept,
            Some("application/json"),
            body.to_string(),
        )
        .await;
        assert_eq!(answer.status, status, "{accept}");
        assert!(answer.body.get("data").is_none(), "{:#}", answer.body);
        assert_eq!(
            answer.body["errors"][0]["extensions"]["code"],
            "BAD_USER_INPUT"
        );
    }
    // A limit's refusal is a request error too.
    let deep = format!("{{ {}name{} }}", "parent { ".repeat(20), " }".repeat(20));
    let answer = post(&app.address, GRAPHQL_RESPONSE, &deep, json!({})).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["errors"][0]["extensions"]["code"],
        "QUERY_TOO_COMPLEX"
    );
}

/// `Accept` chooses the media type; one bantin cannot write is answered 406.
async fn accept_chooses_the_media_type(app: &TestApp) {
    for (accept, content_type) in [
        ("application/json", "application/json; charset=utf-8"),
        (
            "application/graphql-response+json",
            "application/graphql-response+json; charset=utf-8",
        ),
        (
            "application/json;q=0.5, application/graphql-response+json",
            "application/graphql-response+json; charset=utf-8",
        ),
    ] {
        let answer = post(&app.address, accept, "{ __typename }", json!({})).await;
        assert_eq!(answer.status, 200, "{accept}");
        assert_eq!(answer.content_type, content_type, "{accept}");
        assert_eq!(answer.body, json!({ "data": { "__typename": "Query" } }));
    }
    let answer = post(&app.address, "text/html", "{ __typename }", json!({})).await;
    assert_eq!(answer.status, 406);
    assert_eq!(answer.content_type, "application/json; charset=utf-8");
    assert_eq!(
        answer.body["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
}

/// A body that is not one GraphQL request (a batch, nothing, broken JSON, JSON
/// without `query`) is a 400 with a JSON error and its content type, never
/// debugging text.
async fn malformed_bodies_get_json_errors(app: &TestApp) {
    for (body, content_type) in [
        (
            r#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#.to_owned(),
            Some("application/json"),
        ),
        (String::new(), Some("application/json")),
        ("{not json".to_owned(), Some("application/json")),
        (r#"{"variables":{}}"#.to_owned(), Some("application/json")),
        (r#"{"query":"{ __typename }"}"#.to_owned(), None),
    ] {
        for accept in ["", GRAPHQL_RESPONSE] {
            let answer = post_raw(&app.address, accept, content_type, body.clone()).await;
            assert!(
                (400..500).contains(&answer.status),
                "{body:?} {content_type:?}: {}",
                answer.status
            );
            assert!(
                answer.content_type.starts_with("application/"),
                "{body:?}: {}",
                answer.content_type
            );
            let message = answer.body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default();
            assert!(
                !message.is_empty()
                    && !message.contains("Error(")
                    && !message.contains("InvalidRequest"),
                "{body:?}: {message}"
            );
            assert_eq!(
                answer.body["errors"][0]["extensions"]["code"],
                "BAD_USER_INPUT"
            );
            assert!(answer.body.get("data").is_none());
        }
    }
}

crate::on_both!(
    a_failed_field_is_null_in_place,
    an_operation_of_skipped_fields_answers_an_empty_object,
    a_failed_non_null_field_nulls_its_nearest_nullable_parent,
    keys_follow_the_runtime_type,
    variables_are_coerced_before_the_operation_runs,
    request_errors_have_no_data_and_a_status_by_media_type,
    accept_chooses_the_media_type,
    malformed_bodies_get_json_errors,
);
