//! Editorial writes over HTTP: tokens and roles, versions and conflicts, revisions,
//! the publishing workflow with a movable clock, validation, visibility on every
//! read path, relations, and transactions that leave nothing behind.

use bantin::auth::Role;
use chrono::Duration;
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, now};

const CREATE_ARTICLE: &str = r#"mutation($input: ArticleInput!) {
  createArticle(input: $input) {
    article { id slug title summary body language status version }
    userErrors { field message code }
  }
}"#;

const UPDATE_ARTICLE: &str = r#"mutation($id: ID!, $version: Int!, $input: ArticleInput!) {
  updateArticle(id: $id, version: $version, input: $input) {
    article { id title version }
    userErrors { field message code }
  }
}"#;

const PUBLISH: &str = r#"mutation($id: ID!, $version: Int!, $at: DateTime) {
  publishArticle(id: $id, version: $version, at: $at) {
    article { status publishedAt version }
    userErrors { field code }
  }
}"#;

const DELETE: &str = r#"mutation($id: ID!, $version: Int!) {
  deleteNode(id: $id, version: $version) { node { id } userErrors { field code } }
}"#;

const RESTORE: &str = r#"mutation($id: ID!) {
  restoreNode(id: $id) { node { id } userErrors { field code } }
}"#;

/// The first user error of a payload as (field, code).
fn first_error(payload: &Value) -> (String, String) {
    let error = &payload["userErrors"][0];
    (
        error["field"].as_str().unwrap_or_default().to_owned(),
        error["code"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn create_article(app: &TestApp, token: &str, input: Value) -> Value {
    let data = app
        .data_as(token, CREATE_ARTICLE, json!({ "input": input }))
        .await;
    data["createArticle"].clone()
}

async fn id_of(app: &TestApp, query: &str) -> String {
    let data = app.data(query, json!({})).await;
    let found = data
        .as_object()
        .and_then(|o| o.values().next())
        .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    assert!(!found.is_empty(), "{query}: {data}");
    found
}

async fn count<E: EntityTrait>(app: &TestApp, _: E) -> u64
where
    E::Model: Sync,
{
    E::find().count(&app.db).await.expect("count")
}

async fn roles_allow_what_they_should(app: &TestApp) {
    let editor = app.token(Role::Editor, "Biên tập viên").await;
    let admin = app.token(Role::Admin, "Quản trị").await;
    let revoked = app.token(Role::Admin, "cũ").await;
    bantin::auth::revoke(&app.db, "cũ", now())
        .await
        .expect("revoke");
    let person = id_of(app, r#"{ person(slug: "ha-kim-ngoc") { id } }"#).await;

    // Reads: everyone with a valid token or none; a bad or revoked token is refused.
    let read = r#"{ articles(first: 1) { nodes { slug } } }"#;
    for token in [None, Some(editor.as_str()), Some(admin.as_str())] {
        let (status, body) = app.graphql_as(token, read, json!({})).await;
        assert_eq!((status, body.get("errors")), (200, None), "{body}");
    }
    for token in ["bt_not-a-token", revoked.as_str(), ""] {
        let (status, body) = app.graphql_as(Some(token), read, json!({})).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    }
    let malformed = app
        .client()
        .post(format!("{}/graphql", app.address))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({ "query": read }))
        .send()
        .await
        .expect("request");
    assert_eq!(malformed.status().as_u16(), 401);

    // Writes: a reader must authenticate; editors and admins create.
    let input = json!({ "input": { "title": "Bài mới", "body": "Nội dung." } });
    let (_, body) = app.graphql_as(None, CREATE_ARTICLE, input.clone()).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let (status, body) = app
        .graphql_as(Some("bt_wrong"), CREATE_ARTICLE, input.clone())
        .await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let mut created = Vec::new();
    for token in [&editor, &admin] {
        let payload = app.data_as(token, CREATE_ARTICLE, input.clone()).await;
        assert_eq!(payload["createArticle"]["userErrors"], json!([]));
        created.push(
            payload["createArticle"]["article"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }

    // Deleting an article is an editor's; deleting a person is an admin's.
    let payload = app
        .data_as(&editor, DELETE, json!({ "id": created[0], "version": 1 }))
        .await;
    assert_eq!(payload["deleteNode"]["node"]["id"], created[0]);
    let (_, body) = app
        .graphql_as(Some(&editor), DELETE, json!({ "id": person, "version": 1 }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let (_, body) = app
        .graphql_as(None, DELETE, json!({ "id": person, "version": 1 }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let payload = app
        .data_as(&admin, DELETE, json!({ "id": person, "version": 1 }))
        .await;
    assert_eq!(payload["deleteNode"]["userErrors"], json!([]));
    // The deleted person is gone for everyone, until an admin restores them.
    let (_, body) = app
        .graphql_as(
            Some(&editor),
            r#"{ person(slug: "ha-kim-ngoc") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["person"], Value::Null);
    let (_, body) = app
        .graphql_as(Some(&editor), RESTORE, json!({ "id": person }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let payload = app.data_as(&admin, RESTORE, json!({ "id": person })).await;
    assert_eq!(payload["restoreNode"]["node"]["id"], person);
    app.data(r#"{ person(slug: "ha-kim-ngoc") { id } }"#, json!({}))
        .await["person"]["id"]
        .as_str()
        .expect("restored");

    // Revisions are for editors.
    let revisions = r#"query($id: ID!) { revisions(of: $id) { version actor } }"#;
    let (_, body) = app
        .graphql_as(None, revisions, json!({ "id": person }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let data = app
        .data_as(&editor, revisions, json!({ "id": person }))
        .await;
    assert_eq!(data["revisions"][0]["version"], 2);
    assert_eq!(data["revisions"][1]["version"], 1);
    assert!(
        data["revisions"][1]["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("Quản trị"))
    );
}

async fn a_stale_version_is_a_conflict_that_writes_nothing(app: &TestApp) {
    let editor = app.token(Role::Editor, "editor").await;
    let created = create_article(
        app,
        &editor,
        json!({ "title": "  Hội nghị   sơ kết ", "body": "Nội dung.", "summary": "Tóm tắt" }),
    )
    .await;
    let article = &created["article"];
    assert_eq!(article["slug"], "hoi-nghi-so-ket");
    assert_eq!(article["title"], "Hội nghị sơ kết");
    assert_eq!(
        (article["status"].as_str(), article["version"].as_i64()),
        (Some("DRAFT"), Some(1))
    );
    assert_eq!(article["language"], "vi");
    let id = article["id"].as_str().unwrap_or_default().to_owned();
    // The same title again gets the next free slug.
    let again = create_article(
        app,
        &editor,
        json!({ "title": "Hội nghị sơ kết", "body": "B." }),
    )
    .await;
    assert_eq!(again["article"]["slug"], "hoi-nghi-so-ket-2");

    let update = |version: i64, title: &str| json!({ "id": id, "version": version, "input": { "title": title } });
    let first = app
        .data_as(&editor, UPDATE_ARTICLE, update(1, "Lần một"))
        .await;
    assert_eq!(first["updateArticle"]["article"]["version"], 2);
    let revisions_before = count(app, entity::revision::Entity).await;
    let stale = app
        .data_as(&editor, UPDATE_ARTICLE, update(1, "Lần hai"))
        .await;
    let payload = &stale["updateArticle"];
    assert_eq!(
        first_error(payload),
        ("version".into(), "VERSION_CONFLICT".into())
    );
    assert_eq!(
        payload["article"]["version"], 2,
        "the payload shows the current version"
    );
    assert_eq!(payload["article"]["title"], "Lần một");
    assert_eq!(count(app, entity::revision::Entity).await, revisions_before);
    // Deleting is guarded by the version too.
    let stale_delete = app
        .data_as(&editor, DELETE, json!({ "id": id, "version": 1 }))
        .await;
    assert_eq!(
        first_error(&stale_delete["deleteNode"]).1,
        "VERSION_CONFLICT"
    );
    // Only the fields given change; null clears an optional one.
    let cleared = app
        .data_as(
            &editor,
            r#"mutation($id: ID!) { updateArticle(id: $id, version: 2, input: { summary: null }) {
                 article { title summary slug version } userErrors { code } } }"#,
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        cleared["updateArticle"]["article"],
        json!({ "title": "Lần một", "summary": null, "slug": "hoi-nghi-so-ket", "version": 3 })
    );
}

async fn racing_editors_from_one_version_cannot_both_win(app: &TestApp) {
    let editor = app.token(Role::Editor, "editor").await;
    let created = create_article(app, &editor, json!({ "title": "Gốc", "body": "B." })).await;
    let id = created["article"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let edits = (0..8).map(|n| {
        let variables = json!({ "id": id, "version": 1, "input": { "title": format!("Sửa {n}") } });
        let editor = editor.clone();
        async move {
            app.graphql_as(Some(&editor), UPDATE_ARTICLE, variables)
                .await
        }
    });
    let answers = futures_util::future::join_all(edits).await;
    let mut codes: Vec<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!((*status, body.get("errors")), (200, None), "{body}");
            first_error(&body["data"]["updateArticle"]).1
        })
        .collect();
    codes.sort();
    let mut expected = vec!["VERSION_CONFLICT".to_owned(); 7];
    expected.insert(0, String::new());
    assert_eq!(codes, expected, "exactly one edit wins");
    let data = app
        .data_as(&editor, r#"query($id: ID!) { node(id: $id) { ... on Article { version } } revisions(of: $id) { version } }"#, json!({ "id": id }))
        .await;
    assert_eq!(data["node"]["version"], 2);
    assert_eq!(data["revisions"], json!([{ "version": 1 }]));
}

async fn revisions_list_and_restore(app: &TestApp) {
    let editor = app.token(Role::Editor, "Tòa soạn").await;
    let created = create_article(app, &editor, json!({ "title": "Bản đầu", "body": "Một." })).await;
    let id = created["article"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for (version, title) in [(1, "Bản hai"), (2, "Bản ba")] {
        let data = app
            .data_as(
                &editor,
                UPDATE_ARTICLE,
                json!({ "id": id, "version": version, "input": { "title": title } }),
            )
            .await;
        assert_eq!(data["updateArticle"]["userErrors"], json!([]));
    }
    let list = r#"query($id: ID!) { revisions(of: $id) { id version actor createdAt snapshot } }"#;
    let data = app.data_as(&editor, list, json!({ "id": id })).await;
    let revisions = data["revisions"].as_array().cloned().unwrap_or_default();
    assert_eq!(revisions.len(), 2);
    assert_eq!(revisions[0]["version"], 2);
    assert_eq!(revisions[0]["snapshot"]["title"], "Bản hai");
    assert_eq!(revisions[1]["snapshot"]["title"], "Bản đầu");
    assert_eq!(
        revisions[1]["actor"]
            .as_str()
            .map(|a| a.starts_with("Tòa soạn")),
        Some(true)
    );
    let first = revisions[1]["id"].as_str().unwrap_or_default().to_owned();

    let restore = r#"mutation($id: ID!, $version: Int!) { restoreRevision(id: $id, version: $version) {
        node { ... on Article { title version slug } } userErrors { field code } } }"#;
    // Based on a stale version, it is refused.
    let stale = app
        .data_as(&editor, restore, json!({ "id": first, "version": 2 }))
        .await;
    assert_eq!(first_error(&stale["restoreRevision"]).1, "VERSION_CONFLICT");
    let data = app
        .data_as(&editor, restore, json!({ "id": first, "version": 3 }))
        .await;
    assert_eq!(
        data["restoreRevision"]["node"],
        json!({ "title": "Bản đầu", "version": 4, "slug": "ban-dau" })
    );
    let data = app.data_as(&editor, list, json!({ "id": id })).await;
    assert_eq!(data["revisions"][0]["snapshot"]["title"], "Bản ba");
    assert_eq!(data["revisions"].as_array().map(Vec::len), Some(3));
}

/// Every read path a reader could find an article through, with the counts.
const READER_PATHS: &str = r#"query($slug: String!, $id: ID!) {
  article(slug: $slug) { slug }
  byId: article(id: $id) { slug }
  node(id: $id) { id }
  nodes(ids: [$id]) { id }
  articles(first: 100) { totalCount nodes { slug } }
  drafts: articles(filter: { status: DRAFT }) { totalCount }
  person(slug: "ha-kim-ngoc") { articles(first: 50) { totalCount nodes { slug } } }
  organization(slug: "ban-tuyen-giao-trung-uong") { articles { totalCount nodes { slug } } }
  events(first: 1) { nodes { articles { totalCount nodes { slug } } } }
}"#;

/// Whether the article `slug` shows through each of the paths above.
fn seen(data: &Value, slug: &str) -> Vec<bool> {
    let listed = |list: &Value| {
        list["nodes"]
            .as_array()
            .is_some_and(|nodes| nodes.iter().any(|n| n["slug"] == slug))
    };
    vec![
        !data["article"].is_null(),
        !data["byId"].is_null(),
        !data["node"].is_null(),
        !data["nodes"][0].is_null(),
        listed(&data["articles"]),
        listed(&data["person"]["articles"]),
        listed(&data["organization"]["articles"]),
        listed(&data["events"]["nodes"][0]["articles"]),
    ]
}

fn totals(data: &Value) -> Vec<i64> {
    [
        &data["articles"]["totalCount"],
        &data["drafts"]["totalCount"],
        &data["person"]["articles"]["totalCount"],
        &data["organization"]["articles"]["totalCount"],
        &data["events"]["nodes"][0]["articles"]["totalCount"],
    ]
    .iter()
    .map(|v| v.as_i64().unwrap_or(-1))
    .collect()
}

async fn readers_never_see_drafts_scheduled_archived_or_deleted(app: &TestApp) {
    let editor = app.token(Role::Editor, "editor").await;
    let created = create_article(
        app,
        &editor,
        json!({ "title": "Tin chưa đăng", "body": "Sắp có." }),
    )
    .await;
    let id = created["article"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let slug = "tin-chua-dang";
    // Mention it from everything that lists articles.
    let person = id_of(app, r#"{ person(slug: "ha-kim-ngoc") { id } }"#).await;
    let organization = id_of(
        app,
        r#"{ organization(slug: "ban-tuyen-giao-trung-uong") { id } }"#,
    )
    .await;
    let event = app
        .data(r#"{ events(first: 1) { nodes { id } } }"#, json!({}))
        .await["events"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mention = r#"mutation($article: ID!, $subject: ID!) { mention(article: $article, subject: $subject) {
        article { people { slug } } userErrors { code } } }"#;
    for subject in [&person, &organization, &event] {
        let data = app
            .data_as(
                &editor,
                mention,
                json!({ "article": id, "subject": subject }),
            )
            .await;
        assert_eq!(data["mention"]["userErrors"], json!([]), "{data}");
    }
    let variables = json!({ "slug": slug, "id": id });
    let reader_before = app.data(READER_PATHS, variables.clone()).await;
    let hidden = vec![false; 8];
    assert_eq!(seen(&reader_before, slug), hidden, "a draft");
    let base_totals = totals(&reader_before);
    let as_editor = app.data_as(&editor, READER_PATHS, variables.clone()).await;
    assert_eq!(seen(&as_editor, slug), vec![true; 8], "editors see drafts");

    // Scheduled an hour ahead: still hidden, on every path and in every count.
    let at = (now() + Duration::hours(1)).to_rfc3339();
    let data = app
        .data_as(
            &editor,
            PUBLISH,
            json!({ "id": id, "version": 1, "at": at }),
        )
        .await;
    assert_eq!(data["publishArticle"]["article"]["status"], "PUBLISHED");
    assert_eq!(
        data["publishArticle"]["article"]["publishedAt"],
        "2026-01-01T01:00:00Z"
    );
    let scheduled = app.data(READER_PATHS, variables.clone()).await;
    assert_eq!(seen(&scheduled, slug), hidden, "scheduled");
    assert_eq!(totals(&scheduled), base_totals);

    // Its moment comes: visible everywhere, with no job run.
    app.set_now(now() + Duration::hours(2));
    let published = app.data(READER_PATHS, variables.clone()).await;
    assert_eq!(seen(&published, slug), vec![true; 8], "published");
    let grown: Vec<i64> = base_totals.iter().map(|n| n + 1).collect();
    assert_eq!(
        totals(&published),
        vec![grown[0], base_totals[1], grown[2], grown[3], grown[4]]
    );

    // Archived: hidden again.
    let archive = r#"mutation($id: ID!) { archiveArticle(id: $id, version: 2) { article { status version } userErrors { code } } }"#;
    let data = app.data_as(&editor, archive, json!({ "id": id })).await;
    assert_eq!(
        data["archiveArticle"]["article"],
        json!({ "status": "ARCHIVED", "version": 3 })
    );
    assert_eq!(
        seen(&app.data(READER_PATHS, variables.clone()).await, slug),
        hidden,
        "archived"
    );
    // Archiving twice is a state error.
    let again = r#"mutation($id: ID!) { archiveArticle(id: $id, version: 3) { userErrors { field code } } }"#;
    let data = app.data_as(&editor, again, json!({ "id": id })).await;
    assert_eq!(
        first_error(&data["archiveArticle"]),
        ("status".into(), "INVALID_STATE".into())
    );

    // Published again, then deleted: hidden from readers and editors alike.
    let data = app
        .data_as(&editor, PUBLISH, json!({ "id": id, "version": 3 }))
        .await;
    assert_eq!(data["publishArticle"]["article"]["version"], 4);
    assert_eq!(
        seen(&app.data(READER_PATHS, variables.clone()).await, slug),
        vec![true; 8]
    );
    app.data_as(&editor, DELETE, json!({ "id": id, "version": 4 }))
        .await;
    assert_eq!(
        seen(&app.data(READER_PATHS, variables.clone()).await, slug),
        hidden,
        "deleted"
    );
    let as_editor = app.data_as(&editor, READER_PATHS, variables.clone()).await;
    assert_eq!(seen(&as_editor, slug), hidden, "deleted, for an editor");
    assert_eq!(
        totals(&app.data(READER_PATHS, variables.clone()).await),
        base_totals
    );
    // Restored, it is back where it was.
    let data = app.data_as(&editor, RESTORE, json!({ "id": id })).await;
    assert_eq!(data["restoreNode"]["userErrors"], json!([]));
    assert_eq!(
        seen(&app.data(READER_PATHS, variables).await, slug),
        vec![true; 8]
    );
}

async fn each_invalid_field_is_named_and_nothing_is_written(app: &TestApp) {
    let editor = app.token(Role::Editor, "editor").await;
    let articles = count(app, entity::article::Entity).await;
    let long = "x".repeat(301);
    let existing = app
        .data("{ articles(first: 1) { nodes { slug } } }", json!({}))
        .await["articles"]["nodes"][0]["slug"]
        .clone();
    let cases = [
        (json!({ "title": "   ", "body": "B" }), "title", "REQUIRED"),
        (json!({ "body": "B" }), "title", "REQUIRED"),
        (json!({ "title": long, "body": "B" }), "title", "TOO_LONG"),
        (json!({ "title": "T", "body": "  " }), "body", "REQUIRED"),
        (
            json!({ "title": "T", "body": "B", "slug": "Hội-nghị" }),
            "slug",
            "INVALID_FORMAT",
        ),
        (
            json!({ "title": "T", "body": "B", "slug": "a--b" }),
            "slug",
            "INVALID_FORMAT",
        ),
        (
            json!({ "title": "T", "body": "B", "slug": existing }),
            "slug",
            "TAKEN",
        ),
        (
            json!({ "title": "T", "body": "B", "language": "tiếng Việt" }),
            "language",
            "INVALID_FORMAT",
        ),
        (
            json!({ "title": "T", "body": "B", "canonicalUrl": "ftp://x" }),
            "canonicalUrl",
            "INVALID_FORMAT",
        ),
        (
            json!({ "title": "T", "body": "B", "canonicalUrl": "không phải URL" }),
            "canonicalUrl",
            "INVALID_FORMAT",
        ),
        (
            json!({ "title": "T", "body": "B", "translationOf": "QXJ0aWNsZTo5OTk5OQ" }),
            "translationOf",
            "NOT_FOUND",
        ),
        (
            json!({ "title": "T", "body": "B", "translationOf": "garbage" }),
            "translationOf",
            "INVALID_FORMAT",
        ),
    ];
    for (input, field, code) in cases {
        let payload = create_article(app, &editor, input.clone()).await;
        assert_eq!(
            first_error(&payload),
            (field.to_owned(), code.to_owned()),
            "{input}"
        );
        assert_eq!(payload["article"], Value::Null);
    }
    assert_eq!(count(app, entity::article::Entity).await, articles);

    // NFD and padded input is stored NFC and trimmed; a language tag is canonical.
    let decomposed: String = unicode_normalization::UnicodeNormalization::nfd("Hội nghị").collect();
    assert_ne!(decomposed, "Hội nghị");
    let payload = create_article(
        app,
        &editor,
        json!({ "title": format!("  {decomposed}  "), "body": format!(" {decomposed} "), "language": "EN-gb" }),
    )
    .await;
    assert_eq!(payload["article"]["title"], "Hội nghị");
    assert_eq!(payload["article"]["body"], "Hội nghị");
    assert_eq!(payload["article"]["language"], "en-GB");

    // Positions and events that end before they start.
    let person = id_of(app, r#"{ person(slug: "ha-kim-ngoc") { id } }"#).await;
    let organization = id_of(
        app,
        r#"{ organization(slug: "ban-tuyen-giao-trung-uong") { id } }"#,
    )
    .await;
    let positions = count(app, entity::position::Entity).await;
    let position = r#"mutation($input: PositionInput!) { createPosition(input: $input) {
        position { title startsOn endsOn } userErrors { field code } } }"#;
    let data = app
        .data_as(
            &editor,
            position,
            json!({ "input": {
            "person": person, "organization": organization, "title": "Phó Trưởng ban",
            "startsOn": "2020-05-01", "endsOn": "2019-01-01" } }),
        )
        .await;
    assert_eq!(
        first_error(&data["createPosition"]),
        ("endsOn".into(), "INVALID_RANGE".into())
    );
    let data = app
        .data_as(
            &editor,
            position,
            json!({ "input": {
            "person": "UGVyc29uOjk5OTk5", "organization": organization, "title": "T" } }),
        )
        .await;
    assert_eq!(
        first_error(&data["createPosition"]),
        ("person".into(), "NOT_FOUND".into())
    );
    let data = app
        .data_as(&editor, position, json!({ "input": { "title": "T" } }))
        .await;
    let fields: Vec<_> = data["createPosition"]["userErrors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["field"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(fields, [json!("person"), json!("organization")]);
    assert_eq!(count(app, entity::position::Entity).await, positions);
    let data = app
        .data_as(
            &editor,
            position,
            json!({ "input": {
            "person": person, "organization": organization, "title": "Phó Trưởng ban",
            "startsOn": "2020-05-01" } }),
        )
        .await;
    assert_eq!(data["createPosition"]["position"]["startsOn"], "2020-05-01");

    let event = r#"mutation($input: EventInput!) { createEvent(input: $input) {
        event { slug name datePrecision } userErrors { field code } } }"#;
    let data = app
        .data_as(&editor, event, json!({ "input": { "name": "Hội nghị", "startsOn": "2024-05-21", "endsOn": "2024-05-20" } }))
        .await;
    assert_eq!(
        first_error(&data["createEvent"]),
        ("endsOn".into(), "INVALID_RANGE".into())
    );
    let data = app
        .data_as(
            &editor,
            event,
            json!({ "input": { "name": "Hội nghị sơ kết 5 năm" } }),
        )
        .await;
    assert_eq!(
        first_error(&data["createEvent"]),
        ("startsOn".into(), "REQUIRED".into())
    );
    let data = app
        .data_as(
            &editor,
            event,
            json!({ "input": { "name": "Hội nghị sơ kết 5 năm", "startsOn": "2024-05-21" } }),
        )
        .await;
    assert_eq!(
        data["createEvent"]["event"],
        json!({ "slug": "hoi-nghi-so-ket-5-nam", "name": "Hội nghị sơ kết 5 năm", "datePrecision": "DAY" })
    );
    // A document code is unique however it is written.
    let document = r#"mutation($code: String!) { createDocument(input: { code: $code, title: "Kết luận" }) {
        document { code } userErrors { field code } } }"#;
    let data = app
        .data_as(&editor, document, json!({ "code": "16 KL TW" }))
        .await;
    assert_eq!(
        first_error(&data["createDocument"]),
        ("code".into(), "TAKEN".into())
    );
    // A malformed input value is a GraphQL error, not a 500.
    let (status, body) = app
        .graphql_as(
            Some(&editor),
            event,
            json!({ "input": { "name": "X", "startsOn": "21/05/2024" } }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

async fn every_type_can_be_created_updated_and_linked(app: &TestApp) {
    let editor = app.token(Role::Editor, "editor").await;
    let admin = app.token(Role::Admin, "admin").await;
    let person = app
        .data_as(&editor, r#"mutation { createPerson(input: { familyName: "Nguyễn", middleName: "Thị", givenName: "Lan" }) {
            person { id slug name version } userErrors { field code } } }"#, json!({}))
        .await["createPerson"]["person"]
        .clone();
    assert_eq!(
        (person["slug"].as_str(), person["name"].as_str()),
        (Some("nguyen-thi-lan"), Some("Nguyễn Thị Lan"))
    );
    let person_id = person["id"].as_str().unwrap_or_default().to_owned();
    let organization = app
        .data_as(&editor, r#"mutation { createOrganization(input: { name: "Sở Thông tin và Truyền thông", shortName: "STTTT", website: "https://stttt.khanhhoa.gov.vn" }) {
            organization { id slug } userErrors { code } } }"#, json!({}))
        .await["createOrganization"]["organization"]
        .clone();
    let organization_id = organization["id"].as_str().unwrap_or_default().to_owned();
    // An organization cannot be its own parent.
    let data = app
        .data_as(&editor, r#"mutation($id: ID!) { updateOrganization(id: $id, version: 1, input: { parent: $id }) {
            userErrors { field code } } }"#, json!({ "id": organization_id }))
        .await;
    assert_eq!(
        first_error(&data["updateOrganization"]),
        ("parent".into(), "INVALID_RANGE".into())
    );
    let created = [
        (
            r#"mutation { createTag(input: { name: "Đối ngoại" }) { tag { id slug version } userErrors { code } } }"#,
            "createTag",
            "tag",
        ),
        (
            r#"mutation { createMedia(input: { url: "https://example.vn/a.jpg", caption: "Ảnh" }) { media { id version } userErrors { code } } }"#,
            "createMedia",
            "media",
        ),
        (
            r#"mutation { createEvent(input: { name: "Hội thảo", startsOn: "2024-06-01", datePrecision: MONTH }) { event { id version } userErrors { code } } }"#,
            "createEvent",
            "event",
        ),
        (
            r#"mutation { createAward(input: { name: "Bằng khen", collectiveCount: 2 }) { award { id version } userErrors { code } } }"#,
            "createAward",
            "award",
        ),
        (
            r#"mutation { createCommemoration(input: { name: "Ngày thành lập", baseDate: "1930-02-03" }) { commemoration { id version } userErrors { code } } }"#,
            "createCommemoration",
            "commemoration",
        ),
    ];
    let mut ids = std::collections::HashMap::new();
    for (query, field, object) in created {
        let data = app.data_as(&editor, query, json!({})).await;
        assert_eq!(data[field]["userErrors"], json!([]), "{field}");
        assert_eq!(data[field][object]["version"], 1, "{field}");
        ids.insert(
            object,
            data[field][object]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let statement = app
        .data_as(&editor, r#"mutation($person: ID!, $event: ID!) { createStatement(input: { person: $person, event: $event, text: "Phát biểu." }) {
            statement { id version } userErrors { code } } }"#, json!({ "person": person_id, "event": ids["event"] }))
        .await;
    assert_eq!(statement["createStatement"]["statement"]["version"], 1);
    let tag = app
        .data_as(&editor, r#"mutation($id: ID!) { updateTag(id: $id, version: 1, input: { name: "Thông tin đối ngoại" }) {
            tag { name slug version } } }"#, json!({ "id": ids["tag"] }))
        .await;
    assert_eq!(
        tag["updateTag"]["tag"],
        json!({ "name": "Thông tin đối ngoại", "slug": "doi-ngoai", "version": 2 }),
        "a rename keeps the slug"
    );

    // Relations, added once and removed.
    let event = &ids["event"];
    let participant = r#"mutation($event: ID!, $person: ID!) { addParticipant(event: $event, person: $person, role: SPEAKER) {
        event { participants { person { slug } role } } userErrors { code } } }"#;
    for _ in 0..2 {
        let data = app
            .data_as(
                &editor,
                participant,
                json!({ "event": event, "person": person_id }),
            )
            .await;
        assert_eq!(
            data["addParticipant"]["event"]["participants"],
            json!([{ "person": { "slug": "nguyen-thi-lan" }, "role": "SPEAKER" }])
        );
    }
    let data = app
        .data_as(
            &editor,
            r#"mutation($event: ID!, $org: ID!) { addOrganizer(event: $event, organization: $org) {
            event { organizers { slug } } } }"#,
            json!({ "event": event, "org": organization_id }),
        )
        .await;
    assert_eq!(
        data["addOrganizer"]["event"]["organizers"][0]["slug"],
        organization["slug"]
    );
    let data = app
        .data_as(&editor, r#"mutation($media: ID!, $person: ID!) { addDepictedPerson(media: $media, person: $person) {
            media { depicts { slug } } } }"#, json!({ "media": ids["media"], "person": person_id }))
        .await;
    assert_eq!(
        data["addDepictedPerson"]["media"]["depicts"][0]["slug"],
        "nguyen-thi-lan"
    );
    let data = app
        .data_as(
            &editor,
            r#"mutation($award: ID!, $to: ID!) { addAwardRecipient(award: $award, recipient: $to) {
            award { id } userErrors { field code } } }"#,
            json!({ "award": ids["award"], "to": organization_id }),
        )
        .await;
    assert_eq!(data["addAwardRecipient"]["userErrors"], json!([]));
    let data = app
        .data_as(&editor, r#"mutation($event: ID!, $person: ID!) { removeParticipant(event: $event, person: $person, role: SPEAKER) {
            event { participants { role } } } }"#, json!({ "event": event, "person": person_id }))
        .await;
    assert_eq!(
        data["removeParticipant"]["event"]["participants"],
        json!([])
    );
    // Linking to something that is not there names the field.
    let data = app
        .data_as(&editor, r#"mutation($event: ID!) { addOrganizer(event: $event, organization: "T3JnYW5pemF0aW9uOjk5OTk5") {
            event { id } userErrors { field code } } }"#, json!({ "event": event }))
        .await;
    assert_eq!(
        first_error(&data["addOrganizer"]),
        ("organization".into(), "NOT_FOUND".into())
    );
    let data = app
        .data_as(
            &editor,
            r#"mutation($event: ID!, $id: ID!) { mention(article: $id, subject: $event) {
            article { id } userErrors { field code } } }"#,
            json!({ "event": event, "id": event }),
        )
        .await;
    assert_eq!(
        first_error(&data["mention"]),
        ("article".into(), "INVALID_FORMAT".into())
    );

    // An admin deletes and restores the shared records; the editor only the articles.
    for id in ids.values().chain([&person_id, &organization_id]) {
        let version = if id == &ids["tag"] { 2 } else { 1 };
        let data = app
            .data_as(&admin, DELETE, json!({ "id": id, "version": version }))
            .await;
        assert_eq!(data["deleteNode"]["userErrors"], json!([]), "{id}");
        let data = app
            .data(
                r#"query($id: ID!) { node(id: $id) { id } }"#,
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["node"], Value::Null, "deleted {id} is hidden");
        let data = app.data_as(&admin, RESTORE, json!({ "id": id })).await;
        assert_eq!(data["restoreNode"]["userErrors"], json!([]), "{id}");
    }
}

/// Makes the database refuse an article row titled "Hỏng", as a failure in the
/// middle of a mutation that has already written other rows.
async fn fail_on_broken_titles(app: &TestApp) {
    let statements: &[&str] = match app.backend {
        Backend::Sqlite => &[
            "CREATE TRIGGER fail_insert BEFORE INSERT ON article WHEN NEW.title = 'Hỏng' \
             BEGIN SELECT RAISE(ABORT, 'forced failure'); END",
            "CREATE TRIGGER fail_update BEFORE UPDATE ON article WHEN NEW.title = 'Hỏng' \
             BEGIN SELECT RAISE(ABORT, 'forced failure'); END",
        ],
        Backend::Postgres => &[
            "CREATE FUNCTION fail_broken() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.title = 'Hỏng' THEN RAISE EXCEPTION 'forced failure'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER fail_broken BEFORE INSERT OR UPDATE ON article \
             FOR EACH ROW EXECUTE FUNCTION fail_broken()",
        ],
    };
    let backend = match app.backend {
        Backend::Sqlite => DatabaseBackend::Sqlite,
        Backend::Postgres => DatabaseBackend::Postgres,
    };
    for statement in statements {
        app.db
            .execute_raw(sea_orm::Statement::from_string(backend, *statement))
            .await
            .expect("trigger");
    }
}

async fn a_failure_midway_leaves_nothing_behind(app: &TestApp) {
    let editor = app.token(Role::Editor, "editor").await;
    let created = create_article(app, &editor, json!({ "title": "Bài ổn", "body": "B." })).await;
    let id = created["article"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    fail_on_broken_titles(app).await;
    let sources = count(app, entity::source::Entity).await;
    let articles = count(app, entity::article::Entity).await;
    let revisions = count(app, entity::revision::Entity).await;

    // The source row is written before the article row fails.
    let (status, body) = app
        .graphql_as(Some(&editor), CREATE_ARTICLE, json!({ "input": {
            "title": "Hỏng", "body": "B.", "source": { "name": "Nguồn mới", "url": "https://nguon.vn" } } }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INTERNAL",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"], "internal error",
        "no SQL leaks"
    );
    // The revision is written before the update fails.
    let (_, body) = app
        .graphql_as(
            Some(&editor),
            UPDATE_ARTICLE,
            json!({ "id": id, "version": 1, "input": { "title": "Hỏng" } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INTERNAL",
        "{body}"
    );
    assert_eq!(count(app, entity::source::Entity).await, sources);
    assert_eq!(count(app, entity::article::Entity).await, articles);
    assert_eq!(count(app, entity::revision::Entity).await, revisions);
    let data = app
        .data_as(
            &editor,
            r#"query($id: ID!) { node(id: $id) { ... on Article { title version } } }"#,
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["node"], json!({ "title": "Bài ổn", "version": 1 }));
}

crate::on_both!(
    roles_allow_what_they_should,
    a_stale_version_is_a_conflict_that_writes_nothing,
    racing_editors_from_one_version_cannot_both_win,
    revisions_list_and_restore,
    readers_never_see_drafts_scheduled_archived_or_deleted,
    each_invalid_field_is_named_and_nothing_is_written,
    every_type_can_be_created_updated_and_linked,
    a_failure_midway_leaves_nothing_behind,
);
