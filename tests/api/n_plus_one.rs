//! The number of SQL statements a query issues depends on its depth, not on how
//! many rows it returns.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

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
    // articles, people, positions with their organizations, organizations of articles.
    assert_eq!(
        five, fifty,
        "statements grew with the rows: {five} for 5, {fifty} for 50"
    );
    assert!(fifty <= 4, "{fifty} statements");
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

/// Whether one of the statements names `column` (`"table"."column"`).
fn names_column(statements: &[String], column: &str) -> bool {
    statements.iter().any(|sql| sql.contains(column))
}

/// A list of names reads only the columns it shows of the people, positions and
/// organizations in it; a field anywhere in the query that needs another column of
/// a type makes every row of that type whole, and so does a search (its snippets
/// read the texts of the rows it finds).
async fn a_list_of_names_reads_only_the_columns_it_shows(app: &TestApp) {
    let heavy = [
        r#""person"."bio""#,
        r#""organization"."description""#,
        r#""position"."note""#,
    ];
    let names = app.statements_of(FRONT_PAGE, json!({ "n": 5 })).await;
    for column in heavy {
        assert!(!names_column(&names, column), "{column}: {names:?}");
    }
    let whole = [
        (
            heavy[0],
            "{ articles(first: 5) { nodes { people { name ...Bio } } } } fragment Bio on Person { bio }",
        ),
        (
            heavy[1],
            "{ articles(first: 5) { nodes { people { positions { organization { description } } } } } }",
        ),
        (
            heavy[2],
            "{ articles(first: 5) { nodes { people { positions { ... on Position { note } } } } } }",
        ),
        (
            heavy[0],
            r#"{ search(query: "ha kim ngoc", types: [PERSON]) { edges { snippet node { ... on Person { name } } } } }"#,
        ),
    ];
    for (column, query) in whole {
        let statements = app.statements_of(query, json!({})).await;
        assert!(names_column(&statements, column), "{query}: {statements:?}");
    }
}

/// Every field served from light rows gives what it gives from whole ones.
async fn light_rows_serve_what_whole_rows_serve(app: &TestApp) {
    const FIELDS: &str = r#"
        fragment P on Person { id slug name articles(first: 2) { nodes { slug } }
            events { ...E } statements { id } HEAVY_P }
        fragment Pos on Position { id title startsOn startPrecision endsOn endPrecision
            heldOn(day: "2023-01-01") person { id slug name } HEAVY_POS }
        fragment O on Organization { id name children { id name } positions { id title }
            events { ...E } documents { code } articles(first: 2) { nodes { slug } } HEAVY_O }
        fragment E on Event { id slug name startsOn startsAt datePrecision organizers { id }
            participants { role person { slug } } documents { code } awards { id }
            statements { id } articles(first: 2) { nodes { slug } } HEAVY_E }"#;
    let query = |heavy: bool| {
        let [p, pos, o, e] = if heavy {
            ["bio", "note", "description", "location"]
        } else {
            ["", "", "", ""]
        };
        let fields = FIELDS
            .replace("HEAVY_POS", pos)
            .replace("HEAVY_P", p)
            .replace("HEAVY_O", o)
            .replace("HEAVY_E", e);
        format!(
            "{{ articles(first: 20) {{ nodes {{ slug
                people {{ ...P positions {{ ...Pos organization {{ ...O }} }} }}
                organizations {{ ...O }} }} }} }} {fields}"
        )
    };
    let light = query(false);
    let statements = app.statements_of(&light, json!({})).await;
    assert!(
        !names_column(&statements, r#""person"."bio""#),
        "{statements:?}"
    );
    assert!(
        !names_column(&statements, r#""event"."description""#)
            && names_column(&statements, r#""event"."slug""#),
        "{statements:?}"
    );
    let mut whole = app.data(&query(true), json!({})).await;
    strip(&mut whole, &["bio", "note", "description", "location"]);
    assert_eq!(app.data(&light, json!({})).await, whole);
    let positions: Vec<&Value> = whole["articles"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["people"].as_array().unwrap())
        .flat_map(|p| p["positions"].as_array().unwrap())
        .collect();
    assert!(
        positions.iter().any(|p| p["startsOn"].is_string()),
        "{whole}"
    );
    assert!(
        positions
            .iter()
            .any(|p| p["organization"]["name"].is_string()),
        "{whole}"
    );
    let events = whole.to_string().matches(r#""datePrecision":"#).count();
    assert!(events > 0, "{whole}");
}

/// Positions listed without their dates are read without them, and come in the
/// order whole ones do: earliest start first, those with an unknown start last
/// (the database orders them, as light rows have no dates to sort by). A day to
/// hold them on (`positions(at:)`) reads the dates.
async fn positions_read_without_dates_keep_their_order(app: &TestApp) {
    let editor = app.token(bantin::auth::Role::Editor, "positions").await;
    let ids = app
        .data(
            r#"{ person(slug: "vo-van-thuong") { id positions { organization { id } } } }"#,
            json!({}),
        )
        .await;
    let person = &ids["person"]["id"];
    let organization = &ids["person"]["positions"][0]["organization"]["id"];
    let create = r#"mutation($input: PositionInput!) { createPosition(input: $input) {
        position { id } userErrors { code } } }"#;
    // Added last, so with the highest ids: one that started before all the others,
    // and one whose start is not known.
    for starts_on in [json!("2011-01-01"), Value::Null] {
        let input = json!({ "input": { "person": person, "organization": organization,
            "title": "Bí thư Tỉnh ủy", "startsOn": starts_on } });
        let created = app.data_as(&editor, create, input).await;
        assert_eq!(
            created["createPosition"]["userErrors"],
            json!([]),
            "{created}"
        );
    }
    let light =
        r#"{ person(slug: "vo-van-thuong") { positions { id title organization { name } } } }"#;
    let whole = r#"{ person(slug: "vo-van-thuong") { positions { id title organization { name } startsOn } } }"#;
    // Read: named before the statement's order (which names it in any case).
    let reads_starts = |statements: &[String]| {
        statements.iter().any(|sql| {
            sql.split(" ORDER BY ")
                .next()
                .is_some_and(|read| read.contains(r#""position"."starts_on""#))
        })
    };
    let statements = app.statements_of(light, json!({})).await;
    assert!(
        !reads_starts(&statements)
            && statements
                .iter()
                .any(|sql| sql.contains(r#""position"."title""#)),
        "{statements:?}"
    );
    let mut expected = app.data(whole, json!({})).await;
    let starts: Vec<Value> = expected["person"]["positions"]
        .as_array()
        .map(|positions| positions.iter().map(|p| p["startsOn"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(starts.len(), 8, "{expected}");
    assert_eq!(starts.first(), Some(&json!("2011-01-01")), "{expected}");
    assert_eq!(starts.last(), Some(&Value::Null), "{expected}");
    strip(&mut expected, &["startsOn"]);
    assert_eq!(app.data(light, json!({})).await, expected);

    let on_a_day = r#"{ person(slug: "vo-van-thuong") { positions(at: "2023-06-01") { title } } }"#;
    let statements = app.statements_of(on_a_day, json!({})).await;
    assert!(reads_starts(&statements), "{statements:?}");
    let held = app.data(on_a_day, json!({})).await;
    let mut expected = app
        .data(
            r#"{ person(slug: "vo-van-thuong") { positions(at: "2023-06-01") { title startsOn } } }"#,
            json!({}),
        )
        .await;
    strip(&mut expected, &["startsOn"]);
    assert_eq!(held, expected);
    let titles = held["person"]["positions"].as_array().map_or(0, Vec::len);
    assert!((1..8).contains(&titles), "{held}");
    assert_eq!(
        held["person"]["positions"][0]["title"], "Bí thư Tỉnh ủy",
        "{held}"
    );
}

/// Removes the keys from every object in `value`.
fn strip(value: &mut Value, keys: &[&str]) {
    match value {
        Value::Object(object) => {
            object.retain(|key, _| !keys.contains(&key.as_str()));
            object.values_mut().for_each(|v| strip(v, keys));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip(v, keys)),
        _ => {}
    }
}

/// A field selected twice under one key is one field, its selections merged; an
/// error in one field of an object leaves the others.
async fn fields_selected_twice_are_merged(app: &TestApp) {
    let twice = app
        .data(
            "{ articles(first: 3) { nodes { people { name } people { slug positions { title } }
                people { __typename positions { organization { name } } } } } }",
            json!({}),
        )
        .await;
    let once = app
        .data(
            "{ articles(first: 3) { nodes { people { name slug __typename
                positions { title organization { name } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(twice, once);
    assert!(
        once.to_string().contains(r#""__typename":"Person""#),
        "{once}"
    );
    let body = app
        .graphql(
            "{ articles(first: 1) { nodes { people { name articles(first: -1) { totalCount } } } } }",
            json!({}),
        )
        .await;
    let errors = body["errors"].as_array().expect("an error");
    assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(
        errors[0]["path"],
        json!(["articles", "nodes", 0, "people", 0, "articles"]),
        "{body}"
    );
}

/// A person's positions come with their organizations in one statement: the
/// organizations are read along, and their lookups find them. An organization the
/// join does not find (deleted) is null, as it was. A mutation reads nothing ahead
/// (a later step of it could change what was read).
async fn positions_bring_their_organizations_along(app: &TestApp) {
    let query = r#"{ person(slug: "vo-van-thuong") { id version positions { title organization { slug name } } } }"#;
    let statements = app.statements_of(query, json!({})).await;
    // The person; the positions with their organizations.
    assert_eq!(statements.len(), 2, "{statements:#?}");
    assert!(statements[1].contains("LEFT JOIN"), "{statements:#?}");
    let before = app.data(query, json!({})).await;
    let positions = before["person"]["positions"].as_array().unwrap();
    assert!(positions.len() >= 2, "{before}");
    assert!(
        positions
            .iter()
            .all(|p| p["organization"]["name"].is_string()),
        "{before}"
    );

    let gone = positions[0]["organization"]["slug"].as_str().unwrap();
    app.db
        .execute_unprepared(&format!(
            "UPDATE organization SET deleted_at = CURRENT_TIMESTAMP WHERE slug = '{gone}'"
        ))
        .await
        .unwrap();
    let after = app.data(query, json!({})).await;
    let after_positions = after["person"]["positions"].as_array().unwrap();
    assert_eq!(after_positions.len(), positions.len(), "{after}");
    for (was, is) in positions.iter().zip(after_positions) {
        if was["organization"]["slug"] == gone {
            assert_eq!(is["organization"], Value::Null, "{after}");
            assert_eq!(is["title"], was["title"]);
        } else {
            assert_eq!(is, was);
        }
    }

    let editor = app.token(bantin::auth::Role::Editor, "Biên tập viên").await;
    let update = r#"mutation($id: ID!, $v: Int!) {
        updatePerson(id: $id, version: $v, input: { bio: "Nhà khoa học" }) {
            person { positions { organization { name } } } userErrors { code } } }"#;
    let variables = json!({ "id": before["person"]["id"], "v": before["person"]["version"] });
    let statements = app.statements_as(&editor, update, variables).await;
    assert!(
        statements
            .iter()
            .any(|sql| sql.contains(r#"FROM "organization""#))
            && !statements.iter().any(|sql| sql.contains("LEFT JOIN")),
        "{statements:#?}"
    );
    let person = app.data(query, json!({})).await;
    assert_eq!(
        person["person"]["version"],
        before["person"]["version"].as_i64().unwrap() + 1
    );
}

/// A query's statements run on one connection of the pool, held until the request is
/// done with it: a temporary table (which only its own connection sees) made
/// through a query's reader is there for its later statements, although every
/// connection the pool had idle was taken by someone else in between.
async fn a_query_reads_through_one_connection(app: &TestApp) {
    use bantin::db::Reader;
    use sea_orm::{DatabaseBackend, Statement};
    let backend = app.db.get_database_backend();
    let reader = Reader::holding(&app.db, None);
    reader
        .execute_unprepared("CREATE TEMPORARY TABLE mark (x INTEGER)")
        .await
        .unwrap();
    // Time for a connection given back to reach the pool's idle ones.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut taken = Vec::new();
    match backend {
        DatabaseBackend::Postgres => {
            let pool = app.db.get_postgres_connection_pool();
            while let Some(connection) = pool.try_acquire() {
                taken.push(Taken::Postgres(connection));
            }
        }
        _ => {
            let pool = app.db.get_sqlite_connection_pool();
            while let Some(connection) = pool.try_acquire() {
                taken.push(Taken::Sqlite(connection));
            }
        }
    }
    let count = Statement::from_string(backend, "SELECT COUNT(*) FROM mark");
    let rows = reader.query_all_raw(count).await.unwrap();
    assert_eq!(rows.len(), 1);
    drop(taken);
}

/// A connection taken from the pool, to keep it from anyone else.
#[allow(dead_code)]
enum Taken {
    Postgres(sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Postgres>),
    Sqlite(sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Sqlite>),
}

/// Queries hold a connection each while they run; many more at once than the pool
/// has connections (the tests' pools have 4), each with statements at several
/// levels and a count, all finish, and every statement is counted.
async fn many_queries_share_a_small_pool(app: &TestApp) {
    app.add_articles(10, &["vo-van-thuong", "pham-van-linh"], "published")
        .await;
    let query = r#"{ articles(first: 5) { totalCount nodes { title
        people { name positions { title organization { name } } } } } }"#;
    let alone = app.count_statements(query, json!({})).await;
    assert!(alone >= 4, "{alone} statements");
    let runs = (0..24).map(|_| app.data(query, json!({})));
    let answers = futures_util::future::join_all(runs).await;
    for data in &answers {
        assert_eq!(data["articles"]["nodes"].as_array().unwrap().len(), 5);
        assert!(data["articles"]["totalCount"].as_u64().unwrap() >= 10);
    }
}

/// What a document selects is worked out once and kept with it, from the document
/// as written: a field a request skips still counts, so a later request with the
/// same document that does show it reads whole rows.
async fn a_skipped_field_still_counts_for_the_rows_read(app: &TestApp) {
    app.add_articles(3, &["vo-van-thuong", "pham-van-linh"], "published")
        .await;
    let skipping = r#"query($lean: Boolean!) { articles(first: 3) { nodes {
        people { name givenName @skip(if: $lean) } } } }"#;
    let plain = r#"{ articles(first: 3) { nodes { people { name givenName } } } }"#;
    let expected = app.data(plain, json!({})).await;
    let given = expected["articles"]["nodes"][0]["people"][0]["givenName"].clone();
    assert!(given.is_string(), "{expected}");
    let lean = app.data(skipping, json!({ "lean": true })).await;
    assert!(lean["articles"]["nodes"][0]["people"][0]["givenName"].is_null());
    let full = app.data(skipping, json!({ "lean": false })).await;
    assert_eq!(full, expected);
}

/// The statements are as many as `marks`, each holding its mark, in that order.
fn read_in_order(statements: &[String], marks: &[&str]) {
    assert_eq!(statements.len(), marks.len(), "{statements:#?}");
    for (statement, mark) in statements.iter().zip(marks) {
        assert!(statement.contains(mark), "{mark} in {statements:#?}");
    }
}

/// A relation a query shows under rows is read right after the rows, for all of
/// them at once: the people's positions come right after the people, before the
/// articles' organizations, in the statements of one level. Each row still gets its
/// own, as SQL reads them: a person every article mentions, a position that is
/// gone.
async fn relations_shown_under_rows_are_read_right_after_them(app: &TestApp) {
    app.add_articles(
        6,
        &["vo-van-thuong", "pham-van-linh", "ha-kim-ngoc"],
        "published",
    )
    .await;
    let backend = app.db.get_database_backend();
    app.db
        .execute_unprepared(
            "UPDATE position SET deleted_at = CURRENT_TIMESTAMP WHERE id = (SELECT MIN(p.id) \
             FROM position p JOIN person pe ON pe.id = p.person_id WHERE pe.slug = 'pham-van-linh')",
        )
        .await
        .unwrap();
    let query = r#"query($n: Int!) { articles(first: $n) { nodes { slug
        people { slug positions { title organization { name } } }
        organizations { name } } } }"#;
    let statements = app.statements_of(query, json!({ "n": 10 })).await;
    read_in_order(
        &statements,
        &[
            r#"FROM "article""#,
            "article_person",
            r#"FROM "position""#,
            "article_organization",
        ],
    );

    let data = app.data(query, json!({ "n": 10 })).await;
    let nodes = data["articles"]["nodes"].as_array().unwrap();
    assert!(nodes.len() >= 7, "{data}");
    let mut seen = std::collections::HashMap::new();
    for node in nodes {
        for person in node["people"].as_array().unwrap() {
            let slug = person["slug"].as_str().unwrap().to_owned();
            let titles: Vec<&str> = person["positions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|position| position["title"].as_str().unwrap())
                .collect();
            let sql = format!(
                "SELECT p.title FROM position p JOIN person pe ON pe.id = p.person_id \
                 WHERE pe.slug = '{slug}' AND p.deleted_at IS NULL \
                 ORDER BY p.starts_on IS NULL, p.starts_on, p.id"
            );
            let rows = app
                .db
                .query_all_raw(Statement::from_string(backend, sql))
                .await
                .unwrap();
            let expected: Vec<String> = rows
                .iter()
                .map(|row| row.try_get("", "title").unwrap())
                .collect();
            assert_eq!(titles, expected, "{slug}");
            *seen.entry(slug).or_insert(0) += 1;
        }
    }
    for slug in ["vo-van-thuong", "pham-van-linh", "ha-kim-ngoc"] {
        assert!(seen[slug] >= 6, "{seen:?}");
    }
}

/// The articles of a person's page read their relations right after them too; the
/// person, looked up at the root, does not read positions its own selection does
/// not show, although the query shows positions of other people.
async fn a_root_field_reads_after_its_rows_only_what_it_shows(app: &TestApp) {
    app.add_articles(4, &["vo-van-thuong", "pham-van-linh"], "published")
        .await;
    let query = r#"{ person(slug: "vo-van-thuong") { name articles(first: 3) { nodes { slug
        people { slug positions { title } } organizations { name } } } } }"#;
    let statements = app.statements_of(query, json!({})).await;
    // The person; the page of articles; their people, with the people's positions
    // right after them; the articles' organizations.
    read_in_order(
        &statements,
        &[
            r#"FROM "person""#,
            r#"FROM "article""#,
            "article_person",
            r#"FROM "position""#,
            "article_organization",
        ],
    );
    let data = app.data(query, json!({})).await;
    let nodes = data["person"]["articles"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{data}");
    assert!(
        nodes
            .iter()
            .all(|node| node["people"].as_array().unwrap().len() == 2),
        "{data}"
    );
}

crate::on_both!(
    a_three_level_query_costs_the_same_for_5_and_50_articles,
    positions_bring_their_organizations_along,
    nested_connections_are_batched_too,
    a_page_of_headlines_does_not_read_bodies,
    a_list_of_names_reads_only_the_columns_it_shows,
    light_rows_serve_what_whole_rows_serve,
    positions_read_without_dates_keep_their_order,
    fields_selected_twice_are_merged,
    a_query_reads_through_one_connection,
    many_queries_share_a_small_pool,
    a_skipped_field_still_counts_for_the_rows_read,
    relations_shown_under_rows_are_read_right_after_them,
    a_root_field_reads_after_its_rows_only_what_it_shows,
);

/// PostgreSQL keeps one generic plan for each prepared statement instead of
/// planning it again at every execution (see `bantin::db`).
#[tokio::test]
async fn postgres_statements_keep_a_generic_plan() {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
    let Some(app) = TestApp::spawn(crate::helpers::Backend::Postgres).await else {
        return;
    };
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SHOW plan_cache_mode",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get_by_index::<String>(0).unwrap(),
        "force_generic_plan"
    );
    app.finish().await;
}
