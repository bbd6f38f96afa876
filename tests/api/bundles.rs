//! Content bundles: round trip, idempotence, atomicity, normalization, and
//! references to rows that are already stored.

use bantin::bundle::BundleError;
use bantin::bundle::import::Summary;
use serde_json::json;

use crate::helpers::{Backend, TestApp, now};

async fn import(app: &TestApp, bundle: &str) -> Result<Summary, BundleError> {
    let input = std::io::Cursor::new(bundle.to_owned().into_bytes());
    bantin::bundle::import::import(&app.db, input, now(), |_, _| {}).await
}

async fn export(app: &TestApp) -> String {
    let mut out = Vec::new();
    bantin::bundle::export::export(&app.db, &mut out)
        .await
        .expect("export");
    String::from_utf8(out).expect("UTF-8")
}

fn generated(size: &str, seed: u64) -> String {
    let mut out = Vec::new();
    bantin::bundle::generate::generate(size, seed, &mut out).expect("generate");
    String::from_utf8(out).expect("UTF-8")
}

const HEADER: &str = r#"{"type":"bundle","format":"content-bundle","version":1}"#;

async fn export_import_export_gives_the_same_bytes(app: &TestApp) {
    let first = export(app).await;
    assert!(first.lines().count() > 30, "{first}");
    let empty = TestApp::spawn_with(app.backend, false)
        .await
        .expect("a second app");
    let summary = import(&empty, &first).await.expect("import the export");
    assert_eq!(summary.inserted, summary.total());
    let second = export(&empty).await;
    assert_eq!(first, second);
    // The export also re-imports onto the database it came from, changing nothing.
    let again = import(app, &first).await.expect("re-import onto itself");
    assert_eq!((again.inserted, again.updated), (0, 0));
    assert_eq!(export(app).await, first);
    // The sample came through whole: the event, its chairs, and dated titles.
    let data = empty
        .data(
            r#"{ person(slug: "vo-van-thuong") { positions(at: "2017-08-02") { title } }
                 events(first: 1, after: null) { nodes { yearInferred } }
                 anniversaries(on: "2023-06-01") { years } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["person"]["positions"].as_array().unwrap().len(), 4);
    assert_eq!(data["anniversaries"][0]["years"], 370);
    empty.finish().await;
}

async fn importing_twice_changes_nothing(app: &TestApp) {
    let bundle = generated("tiny", 3);
    let sample = app
        .data(
            "{ people { totalCount } organizations { totalCount } }",
            json!({}),
        )
        .await;
    let first = import(app, &bundle).await.expect("first import");
    assert_eq!(first.total(), 2920);
    assert_eq!(
        first.inserted, 2920,
        "the bundle's integer keys must not land on the sample's rows"
    );
    let all = app
        .data(
            "{ people { totalCount } organizations { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        all["people"]["totalCount"].as_u64(),
        sample["people"]["totalCount"].as_u64().map(|n| n + 200)
    );
    assert_eq!(
        all["organizations"]["totalCount"].as_u64(),
        sample["organizations"]["totalCount"]
            .as_u64()
            .map(|n| n + 20)
    );
    let before = export(app).await;
    let versions = "{ articles(first: 100) { totalCount nodes { version updatedAt } } }";
    let state = app.data(versions, json!({})).await;
    let second = import(app, &bundle).await.expect("second import");
    assert_eq!(
        (second.inserted, second.updated, second.unchanged),
        (0, 0, 2920)
    );
    assert_eq!(export(app).await, before);
    assert_eq!(app.data(versions, json!({})).await, state);
}

async fn a_changed_record_updates_its_row_and_replaces_relations(app: &TestApp) {
    let bundle = [
        HEADER,
        r#"{"type":"person","id":"p1","full_name":"Nguyễn Văn An","slug":"nguyen-van-an"}"#,
        r#"{"type":"person","id":"p2","full_name":"Trần Thị Bình","slug":"tran-thi-binh"}"#,
        r#"{"type":"article","id":"a1","title":"Bài một","slug":"bai-mot","language":"vi","status":"published","published_at":"2024-01-01T08:00:00+07:00","person_ids":["p1","p2"]}"#,
    ]
    .join("\n");
    import(app, &bundle).await.expect("import");
    let changed = bundle
        .replace(r#""title":"Bài một""#, r#""title":"Bài một (sửa)""#)
        .replace(r#"["p1","p2"]"#, r#"["p2"]"#);
    let summary = import(app, &changed).await.expect("import the change");
    assert_eq!((summary.updated, summary.unchanged), (1, 2));
    let data = app
        .data(
            r#"{ article(slug: "bai-mot") { title version people { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["article"],
        json!({ "title": "Bài một (sửa)", "version": 2, "people": [{ "name": "Trần Thị Bình" }] })
    );
}

async fn a_bad_line_names_itself_and_writes_nothing(app: &TestApp) {
    let good_person =
        r#"{"type":"person","id":"x1","full_name":"Lê Văn Cường","slug":"le-van-cuong"}"#;
    let cases: Vec<(String, usize, &str)> = vec![
        ("{not json".into(), 3, ""),
        (r#"{"type":"person","id":"x2","slug":"a"}"#.into(), 3, ""),
        (r#"{"type":"person","id":"x2","full_name":7,"slug":"a"}"#.into(), 3, "full_name"),
        (r#"{"type":"person","id":"x2","full_name":"A","slug":"a","nickname":"b"}"#.into(), 3, ""),
        (r#"{"type":"planet","id":1}"#.into(), 3, "type"),
        (r#"{"type":"position","id":"q","person_id":"nobody","organization_id":1,"title":"T"}"#.into(), 3, "person_id"),
        (r#"{"type":"person","id":"x2","full_name":"A","slug":"a","birth_date":"2024-02-30"}"#.into(), 3, "birth_date"),
        (r#"{"type":"person","id":"x2","full_name":"A","slug":"le-van-cuong"}"#.into(), 3, "slug"),
        (r#"{"type":"person","id":"x2","full_name":"A","slug":"vo-van-thuong"}"#.into(), 3, "slug"),
        (r#"{"type":"person","id":"x1","full_name":"A","slug":"b"}"#.into(), 3, "id"),
        (r#"{"type":"article","id":"a","title":"T","slug":"t","language":"vi","status":"published","published_at":"yesterday"}"#.into(), 3, "published_at"),
        (r#"{"type":"event","id":"e","name":"E","slug":"e","participants":[{"person_id":"x1","role":5}]}"#.into(), 3, "participants[0].role"),
    ];
    let before = export(app).await;
    for (bad, line, field) in cases {
        // The bad line comes after a good one, which must not be written either.
        let bundle = [HEADER, good_person, &bad].join("\n");
        let error = import(app, &bundle).await.expect_err(&bad);
        match &error {
            BundleError::Line {
                line: at,
                field: got,
                problem,
            } => {
                assert_eq!(*at, line, "{bad}: {error}");
                if !field.is_empty() {
                    assert_eq!(got, field, "{bad}: {error}");
                }
                assert!(!problem.is_empty());
            }
            other => panic!("{bad}: not a line error: {other}"),
        }
        assert!(
            error.to_string().starts_with(&format!("line {line}: ")),
            "{error}"
        );
        assert_eq!(export(app).await, before, "{bad} left something behind");
    }
    let not_first = import(app, good_person).await.expect_err("no header");
    assert!(not_first.to_string().starts_with("line 1: "), "{not_first}");
    // Bytes that are not UTF-8, far enough down that the good lines before them
    // were read and written in batches first.
    let people: Vec<String> = (0..600)
        .map(|i| {
            format!(r#"{{"type":"person","id":"p{i}","full_name":"Người {i}","slug":"nguoi-{i}"}}"#)
        })
        .collect();
    let mut bundle = [HEADER.to_owned(), people.join("\n")]
        .join("\n")
        .into_bytes();
    bundle.extend_from_slice(b"\n{\"type\":\"person\",\"full_name\":\"\xff\"}\n");
    let input = std::io::Cursor::new(bundle);
    let error = bantin::bundle::import::import(&app.db, input, now(), |_, _| {})
        .await
        .expect_err("not UTF-8");
    assert!(
        error.to_string().starts_with("line 602: cannot be read"),
        "{error}"
    );
    assert_eq!(
        export(app).await,
        before,
        "the lines before the bad one were kept"
    );
}

async fn decomposed_text_is_stored_composed(app: &TestApp) {
    use unicode_normalization::UnicodeNormalization;
    let name: String = "Đặng Thị Thuỳ Dương".nfd().collect();
    assert_ne!(name, "Đặng Thị Thuỳ Dương");
    let line =
        json!({ "type": "person", "id": 900, "full_name": name, "slug": "dang-thi-thuy-duong" })
            .to_string();
    import(app, &[HEADER, &line].join("\n"))
        .await
        .expect("import");
    let data = app
        .data(
            r#"{ person(slug: "dang-thi-thuy-duong") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["person"]["name"].as_str().unwrap().as_bytes(),
        "Đặng Thị Thuỳ Dương".as_bytes()
    );
}

async fn a_bundle_may_reference_rows_already_stored_by_id(app: &TestApp) {
    let data = app
        .data(r#"{ person(slug: "ha-kim-ngoc") { id } }"#, json!({}))
        .await;
    let global = data["person"]["id"].as_str().unwrap();
    let (_, id) = bantin::graphql::ids::decode(global).expect("an ID");
    let org = app
        .data(
            r#"{ organization(slug: "bo-ngoai-giao") { id } }"#,
            json!({}),
        )
        .await;
    let (_, org) =
        bantin::graphql::ids::decode(org["organization"]["id"].as_str().unwrap()).expect("an ID");
    // Rows made in bantin (here, the sample) are keyed `bantin:<table>:<id>` in bundles.
    let line =
        json!({ "type": "position", "id": "new-1", "person_id": format!("bantin:person:{id}"),
                       "organization_id": format!("bantin:organization:{org}"),
                       "title": "Đại sứ", "start_date": "2020-01-01" })
        .to_string();
    import(app, &[HEADER, &line].join("\n"))
        .await
        .expect("import");
    let data = app
        .data(
            r#"{ person(slug: "ha-kim-ngoc") { positions { title } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["person"]["positions"],
        json!([{ "title": "Đại sứ" }, { "title": "Thứ trưởng Bộ Ngoại giao" }])
    );
    // A plain integer is an external key, not a row id: nothing was imported under 1.
    let line = json!({ "type": "position", "id": "new-2", "person_id": 1, "organization_id": 1, "title": "X" }).to_string();
    let error = import(app, &[HEADER, &line].join("\n"))
        .await
        .expect_err("no person 1 was imported");
    assert!(error.to_string().contains("person_id"), "{error}");
}

/// Every foreign key and unique constraint of a PostgreSQL database (none on
/// SQLite, whose constraints are part of their table's definition), with its table
/// and definition.
async fn constraints(app: &TestApp) -> Vec<(String, String)> {
    if app.backend != Backend::Postgres {
        return Vec::new();
    }
    names_and_definitions(
        app,
        "SELECT conrelid::regclass::text || '.' || conname AS name, \
         pg_get_constraintdef(oid) AS definition FROM pg_constraint \
         WHERE contype IN ('f', 'p', 'u') AND connamespace = current_schema()::regnamespace \
         ORDER BY 1",
    )
    .await
}

/// Every index of the database, with its definition.
async fn indexes(app: &TestApp) -> Vec<(String, String)> {
    let sql = match app.backend {
        Backend::Postgres => {
            "SELECT indexname AS name, indexdef AS definition FROM pg_indexes \
             WHERE schemaname = current_schema() ORDER BY indexname"
        }
        _ => {
            "SELECT name, coalesce(sql, '') AS definition FROM sqlite_master \
             WHERE type = 'index' ORDER BY name"
        }
    };
    names_and_definitions(app, sql).await
}

/// The `name` and `definition` columns of a catalog query's rows.
async fn names_and_definitions(app: &TestApp, sql: &str) -> Vec<(String, String)> {
    use sea_orm::{ConnectionTrait, Statement};
    app.db
        .query_all_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get("", "name").unwrap(),
                row.try_get("", "definition").unwrap(),
            )
        })
        .collect()
}

/// An import into empty tables builds their plain indexes (and, on PostgreSQL,
/// their unique constraints, foreign keys and unreferenced primary keys) once at
/// the end; they are all there afterwards, and after a failed import too.
async fn indexes_of_empty_tables_are_built_after_the_import(app: &TestApp) {
    use bantin::bundle::indexes;
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let empty = TestApp::spawn_with(app.backend, false)
        .await
        .expect("a second app");
    let before = indexes(&empty).await;
    assert!(before.len() > 20, "{before:?}");
    let keys_before = constraints(&empty).await;
    if app.backend == Backend::Postgres {
        assert!(keys_before.len() > 20, "{keys_before:?}");
    }
    // Only empty tables lose their indexes for the import.
    for (db, dropped) in [(&empty.db, true), (&app.db, false)] {
        let txn = db.begin().await.unwrap();
        let deferred = indexes::defer(&txn, &["person", "article_person"])
            .await
            .unwrap();
        assert_eq!(deferred.count() > 0, dropped);
        if app.backend == Backend::Postgres {
            // Unique constraints go too: the importer checks keys and slugs itself.
            let unique = txn
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DatabaseBackend::Postgres,
                    "SELECT count(*) AS n FROM pg_constraint \
                     WHERE contype = 'u' AND conrelid = 'person'::regclass",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get::<i64>("", "n")
                .unwrap();
            assert_eq!(unique == 0, dropped, "{unique} unique constraints");
            // So do the primary keys no foreign key references (the link tables'),
            // and only those.
            let keys = txn
                .query_all_raw(sea_orm::Statement::from_string(
                    sea_orm::DatabaseBackend::Postgres,
                    "SELECT conrelid::regclass::text AS tab FROM pg_constraint \
                     WHERE contype = 'p' AND conrelid IN ('person'::regclass, \
                     'article_person'::regclass) ORDER BY 1",
                ))
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get::<String>("", "tab").unwrap())
                .collect::<Vec<_>>();
            let expected = if dropped {
                vec!["person"]
            } else {
                vec!["article_person", "person"]
            };
            assert_eq!(keys, expected);
        }
        txn.rollback().await.unwrap();
    }
    let bundle = generated("tiny", 5);
    let broken = format!("{bundle}\n{{\"type\":\"planet\",\"id\":1}}");
    import(&empty, &broken).await.expect_err("a bad last line");
    assert_eq!(indexes(&empty).await, before);
    assert_eq!(constraints(&empty).await, keys_before);
    import(&empty, &bundle).await.expect("import");
    assert_eq!(indexes(&empty).await, before);
    assert_eq!(constraints(&empty).await, keys_before);
    empty.finish().await;
}

/// Batches are written while the next ones are read: a reference to a row of a
/// batch still being written waits for it, and a bad line after several batches
/// leaves nothing of them.
async fn batches_written_while_reading_stay_consistent(app: &TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    let article = |i: usize, translation_of: Option<usize>| {
        let mut line = json!({
            "type": "article", "id": format!("t{i}"), "title": format!("Bài {i}"),
            "slug": format!("bai-viet-{i}"), "language": "vi", "status": "published",
            "published_at": "2024-05-01T08:00:00+07:00",
        });
        if let Some(of) = translation_of {
            line["translation_of"] = json!(format!("t{of}"));
        }
        line.to_string()
    };
    // Article 1,100 and on translate one 1,100 before: a batch of 1,000 earlier.
    let lines: Vec<String> = (0..2_200)
        .map(|i| article(i, (i >= 1_100).then(|| i - 1_100)))
        .collect();
    let bundle = [HEADER.to_owned(), lines.join("\n")].join("\n");
    let summary = import(app, &bundle).await.expect("import");
    assert_eq!(summary.inserted, 2_200);
    let mut pairs = Vec::new();
    for row in app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT a.external_id AS a, o.external_id AS o FROM article a \
             JOIN article o ON o.id = a.translation_of_id",
        ))
        .await
        .expect("query")
    {
        let a: String = row.try_get("", "a").expect("a");
        let o: String = row.try_get("", "o").expect("o");
        pairs.push((a, o));
    }
    pairs.sort();
    let mut expected: Vec<(String, String)> = (1_100..2_200)
        .map(|i| (format!("\"t{i}\""), format!("\"t{}\"", i - 1_100)))
        .collect();
    expected.sort();
    assert_eq!(pairs, expected);

    let before = export(app).await;
    let people: Vec<String> = (0..2_500)
        .map(|i| {
            format!(
                r#"{{"type":"person","id":"w{i}","full_name":"Người {i}","slug":"nguoi-w{i}"}}"#
            )
        })
        .collect();
    let bad =
        r#"{"type":"position","id":"q","person_id":"nobody","organization_id":1,"title":"T"}"#;
    let bundle = [HEADER.to_owned(), people.join("\n"), bad.to_owned()].join("\n");
    let error = import(app, &bundle).await.expect_err("a bad last line");
    assert!(
        error.to_string().starts_with("line 2502: person_id: "),
        "{error}"
    );
    assert_eq!(export(app).await, before, "written batches were kept");
}

/// The tables an import wrote, among some, that have fresh planner statistics.
async fn analyzed(app: &TestApp) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = match app.backend {
        Backend::Postgres => {
            "SELECT relname AS tab FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL \
             AND relname IN ('article', 'article_person', 'person') ORDER BY 1"
        }
        _ => {
            "SELECT DISTINCT tbl AS tab FROM sqlite_stat1 \
             WHERE tbl IN ('article', 'article_person', 'person') ORDER BY 1"
        }
    };
    let backend = app.db.get_database_backend();
    match app
        .db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
    {
        Ok(rows) => rows
            .iter()
            .map(|row| row.try_get("", "tab").expect("tab"))
            .collect(),
        // SQLite has no statistics table before its first ANALYZE.
        Err(_) if app.backend == Backend::Sqlite => Vec::new(),
        Err(e) => panic!("{e}"),
    }
}

/// An import leaves the planner statistics of what it wrote up to date: a bulk
/// load can turn a table of ten rows into one of a million.
async fn an_import_leaves_fresh_statistics(app: &TestApp) {
    let empty = TestApp::spawn_with(app.backend, false)
        .await
        .expect("a second app");
    assert_eq!(analyzed(&empty).await, Vec::<String>::new());
    import(&empty, &generated("tiny", 7)).await.expect("import");
    assert_eq!(
        analyzed(&empty).await,
        ["article", "article_person", "person"]
    );
    empty.finish().await;
}

/// An import dropped before it ends (its caller gave up) leaves no transaction
/// open behind it: nothing of it is seen, and the next import goes through.
async fn a_cancelled_import_leaves_nothing_open(app: &TestApp) {
    use std::io::Write;
    let before = export(app).await;
    let (reader, mut writer) = std::io::pipe().expect("a pipe");
    let (hang_up, hung_up) = std::sync::mpsc::channel::<()>();
    // More people than a batch holds, so that one is written before the import
    // waits for lines that do not come.
    let feeder = std::thread::spawn(move || {
        let mut bundle = format!("{HEADER}\n");
        for i in 0..1_500 {
            bundle.push_str(&format!(
                r#"{{"type":"person","id":"waiting-{i}","full_name":"Người chờ {i}","slug":"nguoi-cho-{i}"}}"#
            ));
            bundle.push('\n');
        }
        writer
            .write_all(bundle.as_bytes())
            .expect("feed the import");
        let _ = hung_up.recv();
    });
    let input = std::io::BufReader::new(reader);
    let cancelled = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        bantin::bundle::import::import(&app.db, input, now(), |_, _| {}),
    )
    .await;
    assert!(cancelled.is_err(), "the import was still waiting for lines");
    hang_up.send(()).expect("hang up");
    feeder.join().expect("the feeder");
    // A transaction left open would hold the locks of the indexes it dropped, and
    // what follows would wait for it for ever.
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        after_the_cancel(app, before),
    )
    .await
    .expect("the cancelled import left its locks behind");
}

async fn after_the_cancel(app: &TestApp, before: String) {
    if app.backend == Backend::Postgres {
        use sea_orm::{ConnectionTrait, Statement};
        let open = "SELECT count(*) AS open FROM pg_stat_activity \
                    WHERE datname = current_database() AND state LIKE 'idle in transaction%'";
        let mut waited = 0;
        loop {
            let row = app
                .db
                .query_one_raw(Statement::from_string(app.db.get_database_backend(), open))
                .await
                .expect("pg_stat_activity")
                .expect("a row");
            let open: i64 = row.try_get("", "open").expect("open");
            if open == 0 {
                break;
            }
            waited += 1;
            assert!(waited < 50, "{open} transaction(s) left open");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    assert_eq!(export(app).await, before, "nothing of it is seen");
    let person = r#"{"type":"person","id":"after","full_name":"Người sau","slug":"nguoi-sau"}"#;
    let summary = import(app, &format!("{HEADER}\n{person}"))
        .await
        .expect("the next import");
    assert_eq!(summary.inserted, 1);
}

/// A generated corpus imports beside the sample: the generator leaves the
/// sample's slugs free (`SAMPLE_SLUGS`, held here to what the sample loads).
async fn a_generated_corpus_imports_beside_the_sample(app: &TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    let mut slugs: Vec<String> = Vec::new();
    for table in ["organization", "person", "event", "article", "tag"] {
        let rows = app
            .db
            .query_all_raw(Statement::from_string(
                app.db.get_database_backend(),
                format!("SELECT slug FROM {table} ORDER BY slug"),
            ))
            .await
            .expect("slugs");
        for row in rows {
            slugs.push(row.try_get::<String>("", "slug").expect("a slug"));
        }
    }
    let mut reserved = bantin::bundle::generate::SAMPLE_SLUGS
        .map(str::to_owned)
        .to_vec();
    reserved.sort();
    slugs.sort();
    assert_eq!(slugs, reserved, "SAMPLE_SLUGS is not the sample's slugs");
    let summary = import(app, &generated("tiny", 7))
        .await
        .expect("imports beside the sample");
    assert_eq!(summary.inserted, summary.total());
}

crate::on_both!(
    a_generated_corpus_imports_beside_the_sample,
    an_import_leaves_fresh_statistics,
    indexes_of_empty_tables_are_built_after_the_import,
    export_import_export_gives_the_same_bytes,
    importing_twice_changes_nothing,
    a_changed_record_updates_its_row_and_replaces_relations,
    a_bad_line_names_itself_and_writes_nothing,
    decomposed_text_is_stored_composed,
    a_bundle_may_reference_rows_already_stored_by_id,
    batches_written_while_reading_stay_consistent,
    a_cancelled_import_leaves_nothing_open,
);
