//! The number of SQL statements a query issues depends on its depth, not on how
//! many rows it returns.

use serde_json::json;

use crate::helpers::TestApp;

const FRONT_PAGE: &str = r#"query($n: Int!) { articles(first: $n) {
    nodes { title slug publishedAt
        people { name positions { title organization { name } } }
        organizations { name }
    } } }"#;

async fn a_three_level_query_costs_the_same_for_5_and_50_articles(app: &TestApp) {
    app.add_articles(
        60,
        &[
            "vo-van-thuong",
            "pham-van-linh",
            "ha-kim-ngoc",
            "don-tuan-phong",
        ],
        "published",
    )
    .await;
    let five = app.count_statements(FRONT_PAGE, json!({ "n": 5 })).await;
    let fifty = app.count_statements(FRONT_PAGE, json!({ "n": 50 })).await;
    // articles, people, positions, organizations of positions, organizations of articles.
    assert_eq!(
        five, fifty,
        "statements grew with the rows: {five} for 5, {fifty} for 50"
    );
    assert!(fifty <= 5, "{fifty} statements");
    let data = app.data(FRONT_PAGE, json!({ "n": 50 })).await;
    let nodes = data["articles"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 50);
    assert_eq!(nodes[0]["people"].as_array().unwrap().len(), 4);
}

async fn nested_connections_are_batched_too(app: &TestApp) {
    app.add_articles(
        30,
        &[
            "vo-van-thuong",
            "pham-van-linh",
            "ha-kim-ngoc",
            "don-tuan-phong",
        ],
        "published",
    )
    .await;
    let query = r#"query($n: Int!) { people(first: $n) { nodes { name
        articles(first: 3) { totalCount nodes { title organizations { name } } }
        events { name organizers { name } }
    } } }"#;
    let one = app.count_statements(query, json!({ "n": 1 })).await;
    let four = app.count_statements(query, json!({ "n": 4 })).await;
    assert_eq!(
        one, four,
        "statements grew with the rows: {one} for 1, {four} for 4"
    );
    // people, the count, pages of articles, their organizations, events, organizers.
    assert!(four <= 7, "{four} statements");
    // totalCount of the whole list is counted only when asked for.
    let without = app
        .count_statements("{ articles(first: 3) { nodes { slug } } }", json!({}))
        .await;
    let with = app
        .count_statements(
            "{ articles(first: 3) { totalCount nodes { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!((without, with), (1, 2));
}

/// A page of headlines reads no article bodies; one that shows them does, however
/// it asks for them.
async fn a_page_of_headlines_does_not_read_bodies(app: &TestApp) {
    let reads_body = |statements: &[String]| {
        assert!(
            statements
                .iter()
                .any(|sql| sql.contains(r#"FROM "article""#)),
            "{statements:?}"
        );
        statements
            .iter()
            .any(|sql| sql.contains(r#""article"."body""#))
    };
    let headlines = app.statements_of(FRONT_PAGE, json!({ "n": 5 })).await;
    assert!(!reads_body(&headlines), "{headlines:?}");
    let shown = [
        "{ articles(first: 5) { nodes { title text: body } } }",
        "{ articles(first: 5) { nodes { paragraphs } } }",
        "{ articles(first: 5) { edges { node { ...Full } } } } fragment Full on Article { body }",
    ];
    for query in shown {
        let statements = app.statements_of(query, json!({})).await;
        assert!(reads_body(&statements), "{query}: {statements:?}");
    }
    let data = app
        .data(
            "{ articles(first: 5) { nodes { slug text: body paragraphs } } }",
            json!({}),
        )
        .await;
    let nodes = data["articles"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    for node in nodes {
        assert!(!node["text"].as_str().unwrap().is_empty(), "{node}");
        assert!(!node["paragraphs"].as_array().unwrap().is_empty(), "{node}");
    }
}

crate::on_both!(
    a_three_level_query_costs_the_same_for_5_and_50_articles,
    nested_connections_are_batched_too,
    a_page_of_headlines_does_not_read_bodies,
);
