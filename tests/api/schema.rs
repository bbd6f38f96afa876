//! `schema.graphql` is what the code produces.

#[test]
fn the_committed_schema_matches_the_code() {
    let committed = include_str!("../../schema.graphql");
    let produced = bantin::graphql::schema::sdl();
    assert!(
        committed == produced,
        "schema.graphql is out of date; run `cargo run -- schema > schema.graphql`"
    );
}

/// `schema.graphql` breaks nothing that apps built on the last release
/// (`tests/contract/`) rely on: what goes must have been deprecated first.
#[test]
fn the_schema_keeps_the_contract_of_the_last_release() {
    let released = include_str!("../contract/schema-0.1.0.graphql");
    let current = include_str!("../../schema.graphql");
    let broken =
        bantin::graphql::contract::breaking_changes(released, current).expect("both schemas parse");
    assert!(
        broken.is_empty(),
        "breaking changes since 0.1.0 (deprecate first, or make a major release):\n{}",
        broken.join("\n")
    );
}

/// The standard introspection queries of GraphQL tools, as they send them: graphql-js
/// 15, 16 and 17 (`getIntrospectionQuery()` with every option on, and with none; 16
/// is what GraphiQL, graphql-codegen and graphql-inspector send, nine levels of
/// `ofType`) and the Python `gql` client's schema fetch. Written by
/// `tests/clients/introspection.mjs` from the packages themselves.
const STANDARD_INTROSPECTION: [(&str, &str); 7] = [
    (
        "graphql-js 15, all options",
        include_str!("queries/introspection-graphql-js-15-all.graphql"),
    ),
    (
        "graphql-js 15",
        include_str!("queries/introspection-graphql-js-15-default.graphql"),
    ),
    (
        "graphql-js 16, all options",
        include_str!("queries/introspection-graphql-js-16-all.graphql"),
    ),
    (
        "graphql-js 16",
        include_str!("queries/introspection-graphql-js-16-default.graphql"),
    ),
    (
        "graphql-js 17, all options",
        include_str!("queries/introspection-graphql-js-17-all.graphql"),
    ),
    (
        "graphql-js 17",
        include_str!("queries/introspection-graphql-js-17-default.graphql"),
    ),
    (
        "Python gql",
        include_str!("queries/introspection-python-gql-default.graphql"),
    ),
];

/// Every standard introspection query is answered at the default limits, with the
/// roots named as tools expect, while a data query nested deeper than the limit is
/// still refused.
async fn standard_introspection_is_answered_at_default_limits(app: &crate::helpers::TestApp) {
    for (client, query) in STANDARD_INTROSPECTION {
        let response = app.graphql(query, serde_json::json!({})).await;
        assert!(response.get("errors").is_none(), "{client}: {response:#}");
        let schema = &response["data"]["__schema"];
        assert_eq!(schema["queryType"]["name"], "Query", "{client}");
        assert_eq!(schema["mutationType"]["name"], "Mutation", "{client}");
        let types = schema["types"].as_array().expect("types");
        // In the order of the query's fragment, as every object is.
        let keys: Vec<&String> = types[0].as_object().expect("a type").keys().collect();
        let (kind, name) = (keys.first(), keys.get(1));
        assert_eq!(
            (kind.map(|k| k.as_str()), name.map(|k| k.as_str())),
            (Some("kind"), Some("name")),
            "{client}"
        );
        assert_eq!(
            keys.last().map(|k| k.as_str()),
            Some("possibleTypes"),
            "{client}"
        );
        assert!(
            types.iter().any(|ty| ty["name"] == "Article"),
            "{client}: no Article among {} types",
            types.len()
        );
    }
    // Twenty levels of data: the article, its people, their positions, and
    // sixteen organizations each the parent of the one before, and a name.
    let deep = format!(
        "{{ article(slug: \"x\") {{ people {{ positions {{ {}name{} }} }} }} }}",
        "organization { ".to_owned() + &"parent { ".repeat(15),
        " }".repeat(16)
    );
    let refused = app.graphql(&deep, serde_json::json!({})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{refused:#}"
    );
    assert_eq!(refused["errors"][0]["extensions"]["depth"], 20);
    assert!(refused.get("data").is_none(), "{refused:#}");
}

/// With introspection turned off, `__schema` and `__type` are refused before they
/// run, field suggestions are gone from validation errors, and `__typename` (which
/// clients' caches need) is still answered.
async fn introspection_can_be_turned_off(backend: crate::helpers::Backend) {
    let limits = bantin::config::Limits {
        introspection: false,
        ..bantin::config::Limits::default()
    };
    let Some(app) = crate::helpers::TestApp::spawn_limited(backend, limits).await else {
        return;
    };
    for query in [
        STANDARD_INTROSPECTION[3].1,
        "{ __type(name: \"Article\") { name } }",
        "{ articles { totalCount } ... on Query { __schema { queryType { name } } } }",
    ] {
        let response = app.graphql(query, serde_json::json!({})).await;
        assert_eq!(
            response["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{response:#}"
        );
        assert!(response.get("data").is_none(), "{response:#}");
    }
    assert_eq!(
        app.data("{ __typename }", serde_json::json!({})).await,
        serde_json::json!({ "__typename": "Query" })
    );
    let misspelt = app
        .graphql("{ articles { totalCont } }", serde_json::json!({}))
        .await;
    let message = misspelt["errors"][0]["message"].as_str().expect("message");
    assert!(!message.contains("Did you mean"), "{message}");
    app.finish().await;
    // Turned on (the default), the suggestion is made.
    let Some(app) = crate::helpers::TestApp::spawn(backend).await else {
        return;
    };
    let misspelt = app
        .graphql("{ articles { totalCont } }", serde_json::json!({}))
        .await;
    let message = misspelt["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains("Did you mean"), "{message}");
    app.finish().await;
}

#[tokio::test]
async fn introspection_can_be_turned_off_on_sqlite() {
    introspection_can_be_turned_off(crate::helpers::Backend::Sqlite).await;
}

#[tokio::test]
async fn introspection_can_be_turned_off_on_postgres() {
    introspection_can_be_turned_off(crate::helpers::Backend::Postgres).await;
}

crate::on_both!(standard_introspection_is_answered_at_default_limits);
