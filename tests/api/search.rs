//! Vietnamese search: one table of queries and their ranked hits on both databases
//! (which must agree), accents and Unicode forms, phrases and prefixes, document
//! codes, snippets, visibility, freshness, and catching up after a crash.

use std::time::{Duration, Instant};

use bantin::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, now};

const SEARCH: &str = r#"query($q: String!, $types: [SearchType!], $first: Int, $after: String) {
  search(query: $q, types: $types, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      score snippet
      node {
        __typename
        ... on Article { slug }
        ... on Person { slug }
        ... on Organization { slug }
        ... on Event { slug }
        ... on Document { code }
      }
    }
  }
}"#;

/// The hits of a search, as `Type:slug` (documents by code), best first.
async fn hits(app: &TestApp, token: Option<&str>, query: &str, types: Value) -> Vec<String> {
    let (status, body) = app
        .graphql_as(
            token,
            SEARCH,
            json!({ "q": query, "types": types, "first": 20 }),
        )
        .await;
    assert_eq!((status, body.get("errors")), (200, None), "{query}: {body}");
    names(&body["data"]["search"])
}

fn names(search: &Value) -> Vec<String> {
    search["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .map(|e| {
                    let node = &e["node"];
                    let key = node["slug"].as_str().or(node["code"].as_str());
                    format!(
                        "{}:{}",
                        node["__typename"].as_str().unwrap_or_default(),
                        key.unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Writes and publishes an article `minutes` after 2025-01-01, through the API.
async fn publish(app: &TestApp, token: &str, minutes: i64, input: Value) -> String {
    let created = app
        .data_as(
            token,
            r#"mutation($input: ArticleInput!) { createArticle(input: $input) {
                 article { id slug } userErrors { field code } } }"#,
            json!({ "input": input }),
        )
        .await;
    let article = &created["createArticle"]["article"];
    let at = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .expect("instant")
        .to_utc()
        + chrono::Duration::minutes(minutes);
    let published = app
        .data_as(
            token,
            r#"mutation($id: ID!, $at: DateTime) { publishArticle(id: $id, version: 1, at: $at) {
                 userErrors { code } } }"#,
            json!({ "id": article["id"], "at": at.to_rfc3339() }),
        )
        .await;
    assert_eq!(published["publishArticle"]["userErrors"], json!([]));
    article["slug"].as_str().unwrap_or_default().to_owned()
}

/// Waits until a search finds `expected` (a write is searchable within a second).
async fn until_found(app: &TestApp, token: Option<&str>, query: &str, expected: &str) -> Duration {
    let started = Instant::now();
    loop {
        if hits(app, token, query, Value::Null)
            .await
            .iter()
            .any(|h| h == expected)
        {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{expected} not searchable within a second of its commit"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Articles whose ranking the table checks, each published at its own minute.
async fn write_the_corpus(app: &TestApp) -> String {
    let editor = app.token(Role::Editor, "editor").await;
    let articles = [
        (
            1,
            json!({ "title": "Đà Nẵng đón khách", "slug": "da-nang", "body": "Tin ngắn số một." }),
        ),
        (
            2,
            json!({ "title": "Đá nặng trên đường", "slug": "da-nang-tren-duong", "body": "Tin ngắn số hai." }),
        ),
        // One word in a title, a summary, a body; the newest has it in its body.
        (
            3,
            json!({ "title": "Mùa lúa chín", "slug": "lua-title", "summary": "Tóm tắt A.", "body": "Nội dung bài A." }),
        ),
        (
            4,
            json!({ "title": "Tin nông nghiệp B", "slug": "lua-summary", "summary": "Bàn về lúa gạo.", "body": "Nội dung bài B." }),
        ),
        (
            5,
            json!({ "title": "Tin nông nghiệp C", "slug": "lua-body", "summary": "Tóm tắt C.", "body": "Nói về lúa nước." }),
        ),
        // A phrase, and the same words scattered (newer).
        (
            6,
            json!({ "title": "Bài D", "slug": "phrase", "body": "kinh tế số phát triển mạnh ở đây." }),
        ),
        (
            7,
            json!({ "title": "Bài E", "slug": "scattered", "body": "tế bào, số liệu và kinh nghiệm." }),
        ),
    ];
    for (minute, input) in articles {
        publish(app, &editor, minute, input).await;
    }
    until_found(app, None, "kinh nghiệm", "Article:scattered").await;
    editor
}

/// The table: a query, the types it looks through, and the hits in order.
fn table() -> Vec<(String, Value, Vec<&'static str>)> {
    let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Võ Văn Thưởng").collect();
    let people = json!(["PERSON"]);
    let documents = json!(["DOCUMENT"]);
    let articles = json!(["ARTICLE"]);
    vec![
        // Diacritics as typed rank first; without them, the newer first.
        (
            "Đà Nẵng".into(),
            Value::Null,
            vec!["Article:da-nang", "Article:da-nang-tren-duong"],
        ),
        (
            "đá nặng".into(),
            Value::Null,
            vec!["Article:da-nang-tren-duong", "Article:da-nang"],
        ),
        (
            "da nang ".into(),
            Value::Null,
            vec!["Article:da-nang-tren-duong", "Article:da-nang"],
        ),
        // Title, then summary, then body, though the body one is the newest.
        (
            "lúa".into(),
            Value::Null,
            vec![
                "Article:lua-title",
                "Article:lua-summary",
                "Article:lua-body",
            ],
        ),
        (
            "LUA ".into(),
            Value::Null,
            vec![
                "Article:lua-title",
                "Article:lua-summary",
                "Article:lua-body",
            ],
        ),
        // The whole phrase above scattered words; quoted, only the phrase.
        (
            "kinh te so ".into(),
            Value::Null,
            vec!["Article:phrase", "Article:scattered"],
        ),
        ("\"kinh tế số\"".into(), Value::Null, vec!["Article:phrase"]),
        // Names however they are written.
        (
            "vo van thuong".into(),
            people.clone(),
            vec!["Person:vo-van-thuong"],
        ),
        (
            "VÕ VĂN THƯỞNG".into(),
            people.clone(),
            vec!["Person:vo-van-thuong"],
        ),
        (nfd, people.clone(), vec!["Person:vo-van-thuong"]),
        ("ha kim ng".into(), people, vec!["Person:ha-kim-ngoc"]),
        // Document codes however they are written.
        (
            "16-KL/TƯ".into(),
            documents.clone(),
            vec!["Document:16-KL/TƯ"],
        ),
        (
            "16-KL/TW".into(),
            documents.clone(),
            vec!["Document:16-KL/TƯ"],
        ),
        ("16 KL TW".into(), documents, vec!["Document:16-KL/TƯ"]),
        ("16-KL/TW ".into(), Value::Null, vec!["Document:16-KL/TƯ"]),
        (
            "\"16 KL TW\"".into(),
            Value::Null,
            vec!["Document:16-KL/TƯ"],
        ),
        // The seed article, folded and as typed so far.
        ("thong tin doi ngoai".into(), articles.clone(), vec!["SEED"]),
        ("thông tin đối ng".into(), articles, vec!["SEED"]),
        ("zzzz".into(), Value::Null, vec![]),
    ]
}

async fn seed_slug(app: &TestApp) -> String {
    let data = app
        .data(r#"{ articles(filter: { language: "vi" }, orderBy: PUBLISHED_AT_ASC, first: 1) { nodes { slug } } }"#, json!({}))
        .await;
    format!(
        "Article:{}",
        data["articles"]["nodes"][0]["slug"]
            .as_str()
            .unwrap_or_default()
    )
}

/// Runs the table; returns every query's full hit list, for comparing backends.
async fn run_table(app: &TestApp) -> Vec<Vec<String>> {
    let seed = seed_slug(app).await;
    let mut all = Vec::new();
    for (query, types, expected) in table() {
        let found = hits(app, None, &query, types).await;
        let expected: Vec<String> = expected
            .iter()
            .map(|e| {
                if *e == "SEED" {
                    seed.clone()
                } else {
                    (*e).to_owned()
                }
            })
            .collect();
        let head = &found[..expected.len().min(found.len())];
        assert_eq!(head, expected.as_slice(), "{query:?} found {found:?}");
        if expected.is_empty() {
            assert!(found.is_empty(), "{query:?} found {found:?}");
        }
        all.push(found);
    }
    all
}

async fn the_table_ranks_as_it_should(app: &TestApp) {
    write_the_corpus(app).await;
    run_table(app).await;
}

#[tokio::test]
async fn sqlite_and_postgres_give_the_same_hits() {
    let Some(postgres) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let sqlite = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    write_the_corpus(&sqlite).await;
    write_the_corpus(&postgres).await;
    let (left, right) = (run_table(&sqlite).await, run_table(&postgres).await);
    assert_eq!(left, right);
    // Snippets too. Scores agree to within a few per cent: BM25 statistics count an
    // updated record's replaced document until segments merge, and when that
    // happens depends on timing, not on the database.
    let query = json!({ "q": "thông tin đối ngoại" });
    let (_, a) = sqlite.graphql_as(None, SEARCH, query.clone()).await;
    let (_, b) = postgres.graphql_as(None, SEARCH, query).await;
    let edges = |v: &Value| {
        v["data"]["search"]["edges"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let (a, b) = (edges(&a), edges(&b));
    assert_eq!(a.len(), b.len());
    for (a, b) in a.iter().zip(&b) {
        assert_eq!((&a["node"], &a["snippet"]), (&b["node"], &b["snippet"]));
        let (x, y) = (
            a["score"].as_f64().unwrap_or(0.0),
            b["score"].as_f64().unwrap_or(1.0),
        );
        assert!((x - y).abs() <= 0.05 * x.max(y), "{x} vs {y}");
    }
    sqlite.finish().await;
    postgres.finish().await;
}

async fn hits_carry_scores_snippets_and_pages(app: &TestApp) {
    write_the_corpus(app).await;
    // A trailing space: "lúa" is a whole word, not the start of "luận".
    let data = app.data(SEARCH, json!({ "q": "lúa ", "first": 2 })).await;
    let search = &data["search"];
    assert_eq!(search["totalCount"], 3);
    assert_eq!(search["pageInfo"]["hasNextPage"], true);
    let scores: Vec<f64> = search["edges"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["score"].as_f64()).collect())
        .unwrap_or_default();
    assert!(
        scores.len() == 2 && scores[0] > scores[1] && scores[1] > 0.0,
        "{scores:?}"
    );
    assert_eq!(
        search["edges"][1]["snippet"],
        "Bàn về <mark>lúa</mark> gạo."
    );
    let next = app
        .data(
            SEARCH,
            json!({ "q": "lúa ", "first": 2, "after": search["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(names(&next["search"]), ["Article:lua-body"]);
    assert_eq!(
        next["search"]["edges"][0]["snippet"],
        "Nói về <mark>lúa</mark> nước."
    );
    assert_eq!(next["search"]["pageInfo"]["hasNextPage"], false);
    // Typed without the space, it is also the start of "luận" (conclusion).
    let data = app.data(SEARCH, json!({ "q": "lúa", "first": 20 })).await;
    assert!(names(&data["search"]).contains(&"Document:16-KL/TƯ".to_owned()));
    assert_eq!(
        data["search"]["totalCount"].as_u64(),
        Some(names(&data["search"]).len() as u64)
    );
    // The seed article's snippet keeps its diacritics.
    let data = app
        .data(
            SEARCH,
            json!({ "q": "thong tin doi ngoai", "types": ["ARTICLE"] }),
        )
        .await;
    let snippet = data["search"]["edges"][0]["snippet"]
        .as_str()
        .unwrap_or_default();
    assert!(
        snippet.contains("<mark>thông</mark> <mark>tin</mark> <mark>đối</mark> <mark>ngoại</mark>"),
        "{snippet}"
    );
    // Bad input is refused with a code.
    for (variables, code) in [
        (json!({ "q": "x".repeat(300) }), "BAD_USER_INPUT"),
        (json!({ "q": "lúa", "first": 101 }), "BAD_USER_INPUT"),
        (json!({ "q": "lúa", "after": "garbage" }), "BAD_USER_INPUT"),
    ] {
        assert_eq!(app.error_code(SEARCH, variables).await, code);
    }
    // Search combines with the other filters of `articles`, in relevance order.
    let filtered = r#"query($q: String!, $language: String) {
        articles(filter: { search: $q, language: $language }) { totalCount nodes { slug } } }"#;
    let data = app
        .data(filtered, json!({ "q": "lúa ", "language": "vi" }))
        .await;
    assert_eq!(data["articles"]["totalCount"], 3);
    assert_eq!(
        data["articles"]["nodes"],
        json!([{ "slug": "lua-title" }, { "slug": "lua-summary" }, { "slug": "lua-body" }])
    );
    let data = app
        .data(filtered, json!({ "q": "lúa ", "language": "en" }))
        .await;
    assert_eq!(data["articles"]["totalCount"], 0);
}

async fn readers_never_find_what_they_may_not_see(app: &TestApp) {
    let editor = app.token(Role::Editor, "editor").await;
    let draft =
        r#"mutation($input: ArticleInput!) { createArticle(input: $input) { article { id } } }"#;
    let data = app
        .data_as(
            &editor,
            draft,
            json!({ "input": { "title": "Tin mật về hồ tiêu", "slug": "draft", "body": "B." } }),
        )
        .await;
    let draft_id = data["createArticle"]["article"]["id"].clone();
    until_found(app, Some(&editor), "ho tieu", "Article:draft").await;
    assert_eq!(
        hits(app, None, "ho tieu", Value::Null).await,
        Vec::<String>::new()
    );
    let count = r#"{ search(query: "ho tieu") { totalCount } articles(filter: { search: "ho tieu" }) { totalCount } }"#;
    assert_eq!(
        app.data(count, json!({})).await,
        json!({ "search": { "totalCount": 0 }, "articles": { "totalCount": 0 } })
    );

    // Scheduled an hour ahead: hidden until then, found after, with no reindexing.
    let at = (now() + chrono::Duration::hours(1)).to_rfc3339();
    app.data_as(
        &editor,
        r#"mutation($id: ID!, $at: DateTime) { publishArticle(id: $id, version: 1, at: $at) { userErrors { code } } }"#,
        json!({ "id": draft_id, "at": at }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        hits(app, None, "ho tieu", Value::Null).await,
        Vec::<String>::new()
    );
    app.set_now(now() + chrono::Duration::hours(2));
    assert_eq!(
        hits(app, None, "ho tieu", Value::Null).await,
        ["Article:draft"]
    );
    assert_eq!(app.data(count, json!({})).await["search"]["totalCount"], 1);

    // Deleted: gone for everyone, and a deleted person too.
    app.data_as(
        &editor,
        r#"mutation($id: ID!) { deleteNode(id: $id, version: 2) { userErrors { code } } }"#,
        json!({ "id": draft_id }),
    )
    .await;
    let admin = app.token(Role::Admin, "admin").await;
    let person = app
        .data(
            r#"{ person(slug: "ha-kim-ngoc") { id version } }"#,
            json!({}),
        )
        .await;
    app.data_as(
        &admin,
        r#"mutation($id: ID!, $v: Int!) { deleteNode(id: $id, version: $v) { userErrors { code } } }"#,
        json!({ "id": person["person"]["id"], "v": person["person"]["version"] }),
    )
    .await;
    let started = Instant::now();
    while !hits(app, Some(&editor), "ho tieu ha kim ngoc", Value::Null)
        .await
        .is_empty()
        || !hits(app, Some(&editor), "ho tieu", Value::Null)
            .await
            .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "deletions reach the index"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        hits(app, None, "ha kim ngoc", json!(["PERSON"]))
            .await
            .is_empty()
    );
}

/// The pruned first pass hands the ranking a few hundred candidates; when drafts
/// fill them, a reader's search looks further rather than coming back short.
async fn many_hidden_matches_do_not_crowd_out_visible_ones(app: &TestApp) {
    app.add_articles(300, &[], "draft").await;
    app.add_articles(3, &[], "published").await;
    // Written behind the API's back: tell the index, as an import does.
    bantin::search::enqueue_all(&app.db, now())
        .await
        .expect("enqueue");
    let editor = app.token(Role::Editor, "editor").await;
    let started = Instant::now();
    while hits(app, Some(&editor), "bai so ", Value::Null).await.len() < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the rebuild is searchable"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let found = hits(app, None, "bai so ", json!(null)).await;
    let published: Vec<_> = found
        .iter()
        .filter(|h| h.starts_with("Article:published-"))
        .collect();
    assert_eq!(published.len(), 3, "{found:?}");
    assert!(
        !found.iter().any(|h| h.starts_with("Article:draft-")),
        "{found:?}"
    );
}

async fn edits_are_searchable_within_a_second(app: &TestApp) {
    let editor = app.token(Role::Editor, "editor").await;
    let mut waits = Vec::new();
    for n in 0..5 {
        let slug = publish(
            app,
            &editor,
            n,
            json!({ "title": format!("Cà phê Buôn Ma Thuột {n}"), "body": "B." }),
        )
        .await;
        waits.push(
            until_found(
                app,
                None,
                "ca phe buon ma thuot",
                &format!("Article:{slug}"),
            )
            .await,
        );
    }
    // A rename is found under the new words and no longer under the old.
    let person = app
        .data(
            r#"{ person(slug: "don-tuan-phong") { id version } }"#,
            json!({}),
        )
        .await;
    app.data_as(
        &editor,
        r#"mutation($id: ID!, $v: Int!) { updatePerson(id: $id, version: $v, input: { bio: "Chuyên gia về hồ tiêu" }) { userErrors { code } } }"#,
        json!({ "id": person["person"]["id"], "v": person["person"]["version"] }),
    )
    .await;
    waits.push(until_found(app, None, "chuyen gia ho tieu", "Person:don-tuan-phong").await);
    assert!(
        waits.iter().all(|w| *w < Duration::from_secs(1)),
        "{waits:?}"
    );
}

/// An index that was down while content changed catches up from the outbox when
/// it starts again, from where it had got to.
async fn an_index_catches_up_after_a_crash(app: &TestApp) {
    let dir = std::env::temp_dir().join(format!(
        "bantin_index_test_{}_{}",
        std::process::id(),
        app.address.rsplit(':').next().unwrap_or_default()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let search = |query: &str| bantin::search::Query {
        parsed: bantin::search::Parsed::new(query),
        kinds: vec![],
        public_at: Some(now().timestamp_micros()),
        offset: 0,
        limit: 10,
    };
    {
        let other = bantin::search::Search::open(Some(&dir), &app.db).expect("open");
        other.indexer.initialize().await.expect("build");
        assert_eq!(
            other
                .index
                .search(search("mang tom"))
                .await
                .expect("search")
                .len(),
            0
        );
    } // The instance stops.
    let editor = app.token(Role::Editor, "editor").await;
    publish(
        app,
        &editor,
        1,
        json!({ "title": "Măng tôm Cà Mau", "body": "B." }),
    )
    .await;
    let other = bantin::search::Search::open(Some(&dir), &app.db).expect("reopen");
    other.indexer.initialize().await.expect("catch up");
    let found = other
        .index
        .search(search("mang tom"))
        .await
        .expect("search");
    assert_eq!(found.len(), 1);
    drop(other);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A rolled-back transaction leaves a hole in the outbox ids; what is written after
/// it, past more rows than the indexer reads at once, is still searchable within a
/// second.
#[tokio::test]
async fn a_hole_in_the_outbox_delays_nothing_after_it() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let hole = app.db.begin().await.expect("begin");
    hole.execute_unprepared(
        "INSERT INTO search_outbox (entity_type, entity_id, created_at) VALUES ('article', 1, now())",
    )
    .await
    .expect("take an id");
    hole.rollback().await.expect("roll back");
    app.db
        .execute_unprepared(
            "INSERT INTO search_outbox (entity_type, entity_id, created_at)
             SELECT 'article', 1, now() FROM generate_series(1, 6000)",
        )
        .await
        .expect("rows above the hole");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let editor = app.token(Role::Editor, "editor").await;
    publish(
        &app,
        &editor,
        1,
        json!({ "title": "Hồ tiêu Chư Sê", "slug": "ho-tieu", "body": "B." }),
    )
    .await;
    until_found(&app, None, "ho tieu chu se", "Article:ho-tieu").await;
    app.finish().await;
}

/// An index left by an older layout is rebuilt, not an error at start.
#[tokio::test]
async fn an_index_of_another_layout_is_rebuilt() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let dir = std::env::temp_dir().join(format!("bantin_old_index_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut old = tantivy::schema::Schema::builder();
    old.add_text_field("title", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(&dir, old.build()).expect("old index");
    let search = bantin::search::Search::open(Some(&dir), &app.db).expect("reopen");
    search.indexer.initialize().await.expect("rebuild");
    let query = bantin::search::Query {
        parsed: bantin::search::Parsed::new("vo van thuong"),
        kinds: vec![],
        public_at: Some(now().timestamp_micros()),
        offset: 0,
        limit: 5,
    };
    assert!(!search.index.search(query).await.expect("search").is_empty());
    drop(search);
    let _ = std::fs::remove_dir_all(&dir);
    app.finish().await;
}

crate::on_both!(
    the_table_ranks_as_it_should,
    hits_carry_scores_snippets_and_pages,
    readers_never_find_what_they_may_not_see,
    edits_are_searchable_within_a_second,
    many_hidden_matches_do_not_crowd_out_visible_ones,
    an_index_catches_up_after_a_crash,
);
