//! Keyset pagination: walking connections forwards and backwards visits every row
//! once, in order; page arguments and cursors are checked.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Walks a connection page by page; returns the nodes' `field` in visiting order.
async fn walk(
    app: &TestApp,
    connection: &str,
    extra: &str,
    field: &str,
    size: i32,
    backward: bool,
) -> Vec<String> {
    let (size_arg, cursor_arg, more, next) = if backward {
        ("last", "before", "hasPreviousPage", "startCursor")
    } else {
        ("first", "after", "hasNextPage", "endCursor")
    };
    let query = format!(
        "query($size: Int!, $cursor: String) {{ {connection}({extra} {size_arg}: $size, {cursor_arg}: $cursor) {{
            totalCount edges {{ cursor node {{ {field} }} }}
            pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
        }} }}"
    );
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    for _ in 0..100 {
        let data = app
            .data(&query, json!({ "size": size, "cursor": cursor }))
            .await;
        let page = &data[connection];
        let mut values: Vec<String> = page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"][field].as_str().unwrap().to_owned())
            .collect();
        assert!(values.len() <= size as usize);
        if backward {
            values.reverse();
        }
        seen.extend(values);
        if page["pageInfo"][more] != true {
            return seen;
        }
        cursor = page["pageInfo"][next].clone();
    }
    panic!("the walk did not end");
}

async fn walking_articles_visits_every_row_once(app: &TestApp) {
    app.add_articles(25, &["vo-van-thuong"], "published").await;
    let total =
        app.data("{ articles { totalCount } }", json!({})).await["articles"]["totalCount"].as_u64();
    assert_eq!(total, Some(26));
    let forward = walk(app, "articles", "", "slug", 7, false).await;
    assert_eq!(forward.len(), 26);
    let mut unique = forward.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 26, "a row was visited twice");
    // Newest first, ties broken by id (later insert first).
    assert_eq!(
        &forward[..3],
        ["published-0024", "published-0023", "published-0022"]
    );
    assert_eq!(
        forward[25],
        "hoi-nghi-so-ket-5-nam-thuc-hien-ket-luan-bo-chinh-tri-va-chi-thi-cua-ban-bi-thu-ve-cong-tac-thong-tin-doi-ngoai"
    );
    let mut backward = walk(app, "articles", "", "slug", 7, true).await;
    backward.reverse();
    assert_eq!(backward, forward);
    let ascending = walk(
        app,
        "articles",
        "orderBy: PUBLISHED_AT_ASC,",
        "slug",
        10,
        false,
    )
    .await;
    let mut reversed = forward.clone();
    reversed.reverse();
    assert_eq!(ascending, reversed);
}

async fn walking_people_follows_vietnamese_order(app: &TestApp) {
    let expected = [
        "Phạm Văn Linh",
        "Hà Kim Ngọc",
        "Đôn Tuấn Phong",
        "Võ Văn Thưởng",
    ];
    assert_eq!(walk(app, "people", "", "name", 1, false).await, expected);
    let mut backward = walk(app, "people", "", "name", 1, true).await;
    backward.reverse();
    assert_eq!(backward, expected);
    let page = app
        .data(
            "{ people(first: 2) { totalCount pageInfo { hasNextPage hasPreviousPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        page["people"],
        json!({ "totalCount": 4, "pageInfo": { "hasNextPage": true, "hasPreviousPage": false } })
    );
    let organizations = walk(app, "organizations", "", "name", 5, false).await;
    assert_eq!(organizations.len(), 13);
    assert_eq!(organizations[0], "Ban Bí thư");
}

async fn a_persons_articles_page_by_cursor(app: &TestApp) {
    app.add_articles(12, &["ha-kim-ngoc", "vo-van-thuong"], "published")
        .await;
    let query = r#"query($size: Int!, $cursor: String) { person(slug: "ha-kim-ngoc") {
        articles(first: $size, after: $cursor) { totalCount nodes { slug } pageInfo { hasNextPage endCursor } } } }"#;
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let data = app
            .data(query, json!({ "size": 5, "cursor": cursor }))
            .await;
        let articles = &data["person"]["articles"];
        assert_eq!(articles["totalCount"], 13);
        seen.extend(
            articles["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["slug"].as_str().unwrap().to_owned()),
        );
        if articles["pageInfo"]["hasNextPage"] != true {
            break;
        }
        cursor = articles["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 13);
    assert_eq!(seen[0], "published-0011");
    // Backwards from the end gives the oldest.
    let last = app
        .data(r#"{ person(slug: "ha-kim-ngoc") { articles(last: 2) { nodes { slug } pageInfo { hasPreviousPage } } } }"#, json!({}))
        .await;
    assert_eq!(last["person"]["articles"]["nodes"][1]["slug"], seen[12]);
    assert_eq!(
        last["person"]["articles"]["pageInfo"]["hasPreviousPage"],
        true
    );
}

async fn filters_narrow_the_articles(app: &TestApp) {
    app.add_articles(9, &["don-tuan-phong"], "published").await;
    let person = app
        .data(r#"{ person(slug: "don-tuan-phong") { id } }"#, json!({}))
        .await["person"]["id"]
        .clone();
    let person = &person;
    let count = |filter: &'static str| async move {
        let (declaration, variables) = if filter.contains("$person") {
            ("($person: ID)", json!({ "person": person }))
        } else {
            ("", json!({}))
        };
        let query = format!(
            "query{declaration} {{ articles(filter: {filter}) {{ totalCount nodes {{ slug }} }} }}"
        );
        app.data(&query, variables).await["articles"]["totalCount"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("{ language: \"en\" }").await, 3);
    assert_eq!(count("{ language: \"vi\" }").await, 7);
    assert_eq!(count("{ person: $person }").await, 10);
    assert_eq!(count("{ person: $person, language: \"en\" }").await, 3);
    assert_eq!(
        count("{ publishedAfter: \"2025-01-01T02:00:00Z\" }").await,
        5
    );
    assert_eq!(
        count("{ publishedBefore: \"2025-01-01T00:00:00Z\" }").await,
        1
    );
    assert_eq!(count("{ status: DRAFT }").await, 0);
}

async fn drafts_and_scheduled_articles_are_invisible_to_readers(app: &TestApp) {
    app.add_articles(2, &["vo-van-thuong"], "draft").await;
    // Published, but scheduled after the app's "now" (2026-01-01).
    app.schedule("draft-0001", "2030-01-01T00:00:00Z").await;
    let data = app
        .data(
            r#"{ articles { totalCount nodes { slug } }
                 draft: article(slug: "draft-0000") { id } scheduled: article(slug: "draft-0001") { id }
                 person(slug: "vo-van-thuong") { articles { totalCount } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["articles"]["totalCount"], 1);
    assert_eq!(data["draft"], Value::Null);
    assert_eq!(data["scheduled"], Value::Null);
    assert_eq!(data["person"]["articles"]["totalCount"], 1);
}

async fn page_arguments_and_cursors_are_checked(app: &TestApp) {
    for query in [
        "{ articles(first: 101) { totalCount } }",
        "{ people(last: 101) { totalCount } }",
        "{ people(first: -1) { totalCount } }",
        "{ people(first: 1, last: 1) { totalCount } }",
        r#"{ people(after: "garbage") { totalCount } }"#,
        r#"{ person(slug: "vo-van-thuong") { articles(first: 101) { totalCount } } }"#,
    ] {
        assert_eq!(
            app.error_code(query, json!({})).await,
            "BAD_USER_INPUT",
            "{query}"
        );
    }
    // A cursor of one connection is not valid in another.
    let people = app
        .data("{ people(first: 1) { pageInfo { endCursor } } }", json!({}))
        .await;
    let cursor = people["people"]["pageInfo"]["endCursor"].clone();
    let code = app
        .error_code(
            "query($c: String) { articles(after: $c) { totalCount } }",
            json!({ "c": cursor }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(
        app.data("{ articles(first: 100) { totalCount } }", json!({}))
            .await["articles"]["totalCount"],
        1
    );
}

crate::on_both!(
    walking_articles_visits_every_row_once,
    walking_people_follows_vietnamese_order,
    a_persons_articles_page_by_cursor,
    filters_narrow_the_articles,
    drafts_and_scheduled_articles_are_invisible_to_readers,
    page_arguments_and_cursors_are_checked,
);
