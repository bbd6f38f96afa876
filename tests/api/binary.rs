//! The `bantin` binary: `serve` with settings from the environment, the sample
//! loaded once, `--no-sample`, `schema --check`, `import`, and `token`.

use std::process::Stdio;

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{BIN, free_port, wait_healthy};

async fn start(database: &str, port: u16, extra: &[&str]) -> Child {
    start_with(database, port, extra, &[]).await
}

/// [`start`], with more environment.
async fn start_with(database: &str, port: u16, extra: &[&str], envs: &[(&str, &str)]) -> Child {
    // One index a database, beside it.
    let index: String = database
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    let child = Command::new(BIN)
        .arg("serve")
        .args(extra)
        .env("DATABASE_URL", database)
        .env("BANTIN_INDEX_DIR", std::env::temp_dir().join(index))
        .env("BANTIN_LISTEN", format!("127.0.0.1:{port}"))
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_healthy(port).await;
    child
}

async fn article_count(port: u16) -> Value {
    let response: Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .json(&json!({ "query": "{ articles { totalCount } people { totalCount } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["data"].clone()
}

#[tokio::test]
async fn serve_loads_the_sample_once_and_can_skip_it() {
    let dir = std::env::temp_dir().join(format!("bantin_bin_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}?mode=rwc", dir.join("serve.db").display());
    let port = free_port().await;
    let mut server = start(&database, port, &[]).await;
    assert_eq!(
        article_count(port).await,
        json!({ "articles": { "totalCount": 1 }, "people": { "totalCount": 4 } })
    );
    server.kill().await.unwrap();
    // A second start finds content and loads nothing more.
    let mut server = start(&database, port, &[]).await;
    assert_eq!(article_count(port).await["people"]["totalCount"], 4);
    server.kill().await.unwrap();
    let empty = format!("sqlite://{}?mode=rwc", dir.join("empty.db").display());
    // As people write it in an environment file.
    let mut server = start_with(&empty, port, &[], &[("BANTIN_NO_SAMPLE", "1")]).await;
    assert_eq!(
        article_count(port).await,
        json!({ "articles": { "totalCount": 0 }, "people": { "totalCount": 0 } })
    );
    server.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn schema_check_fails_when_the_file_drifts() {
    let root = env!("CARGO_MANIFEST_DIR");
    let ok = Command::new(BIN)
        .args(["schema", "--check", &format!("{root}/schema.graphql")])
        .status()
        .await
        .unwrap();
    assert!(ok.success());
    let drifted =
        std::env::temp_dir().join(format!("bantin_schema_{}.graphql", std::process::id()));
    std::fs::write(&drifted, "type Query { stale: Int }\n").unwrap();
    let status = Command::new(BIN)
        .args(["schema", "--check", drifted.to_str().unwrap()])
        .stderr(Stdio::null())
        .status()
        .await
        .unwrap();
    assert!(!status.success());
    let _ = std::fs::remove_file(drifted);
    let printed = Command::new(BIN).arg("schema").output().await.unwrap();
    assert_eq!(
        String::from_utf8(printed.stdout).unwrap(),
        bantin::graphql::schema::sdl()
    );
}

#[tokio::test]
async fn import_reads_standard_input_and_fails_loudly() {
    use tokio::io::AsyncWriteExt;
    let dir = std::env::temp_dir().join(format!("bantin_import_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}?mode=rwc", dir.join("import.db").display());
    let run = |bundle: String| {
        let database = database.clone();
        async move {
            let mut child = Command::new(BIN)
                .args(["import", "-"])
                .env("DATABASE_URL", &database)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(bundle.as_bytes()).await.unwrap();
            drop(stdin);
            let output = child.wait_with_output().await.unwrap();
            (
                output.status.success(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        }
    };
    let header = r#"{"type":"bundle","format":"content-bundle","version":1}"#;
    let good = format!(
        "{header}\n{}\n",
        r#"{"type":"tag","id":1,"slug":"kinh-te","name":"Kinh tế"}"#
    );
    let (ok, log) = run(good.clone()).await;
    assert!(ok, "{log}");
    assert!(log.contains("1 records"), "{log}");
    // Alone on the database, the import wrote through a rollback journal, and left
    // the file in WAL mode, with the page size of new files.
    assert!(log.contains("writing through a rollback journal"), "{log}");
    let db = sea_orm::Database::connect(&database).await.unwrap();
    let pragma = |name: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(
                    DatabaseBackend::Sqlite,
                    format!("PRAGMA {name}"),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("page_size").await, bantin::db::PAGE_SIZE.to_string());
    // With another connection open (`db`, as a running server's), it cannot leave
    // WAL, and imports through it.
    let (ok, log) = run(good).await;
    assert!(ok, "{log}");
    assert!(log.contains("writing through the WAL"), "{log}");
    assert_eq!(pragma("journal_mode").await, "wal");
    let tags = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT count(*) FROM tag WHERE slug = 'kinh-te'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tags.try_get_by_index::<i64>(0).unwrap(), 1);
    db.close().await.unwrap();
    let bad = format!(
        "{header}\n{}\n",
        r#"{"type":"tag","id":2,"slug":"Not A Slug","name":"X"}"#
    );
    let (ok, log) = run(bad).await;
    assert!(!ok);
    assert!(log.contains("line 2: slug:"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A SQLite file that another process writes outside WAL mode (as an import that
/// had it to itself does) cannot be opened until it is done; the error says why.
#[tokio::test]
async fn a_sqlite_file_being_written_by_another_process_is_named_as_such() {
    use sea_orm::TransactionTrait;
    let dir = std::env::temp_dir().join(format!("bantin_locked_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}?mode=rwc", dir.join("locked.db").display());
    // A new file is in rollback-journal mode; a write holds its lock until commit.
    let writer = sea_orm::Database::connect(&database).await.unwrap();
    let txn = writer.begin().await.unwrap();
    txn.execute_unprepared("CREATE TABLE busy (x INTEGER)")
        .await
        .unwrap();
    let output = Command::new(BIN)
        .arg("migrate")
        .env("DATABASE_URL", &database)
        .output()
        .await
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{log}");
    assert!(log.contains("another process is writing it"), "{log}");
    txn.rollback().await.unwrap();
    writer.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn tokens_are_shown_once_stored_hashed_listed_and_revoked() {
    let dir = std::env::temp_dir().join(format!("bantin_token_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}?mode=rwc", dir.join("token.db").display());
    // `token` works on a database that exists.
    let migrated = Command::new(BIN)
        .arg("migrate")
        .env("DATABASE_URL", &database)
        .status()
        .await
        .unwrap();
    assert!(migrated.success());
    let token = |args: &[&str]| {
        let database = database.clone();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        async move {
            let output = Command::new(BIN)
                .arg("token")
                .args(&args)
                .env("DATABASE_URL", &database)
                .output()
                .await
                .unwrap();
            (
                output.status.success(),
                String::from_utf8(output.stdout).unwrap(),
            )
        }
    };
    let (ok, secret) = token(&["create", "--role", "editor", "--name", "Tòa soạn"]).await;
    assert!(ok);
    let secret = secret.trim().to_owned();
    assert!(secret.starts_with("bt_"), "{secret}");
    let (ok, _) = token(&["create", "--role", "writer", "--name", "x"]).await;
    assert!(!ok, "an unknown role is refused");

    // Only the digest is stored.
    let stored = std::fs::read(dir.join("token.db")).unwrap();
    let wal = std::fs::read(dir.join("token.db-wal")).unwrap_or_default();
    for bytes in [&stored, &wal] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
    let (ok, list) = token(&["list"]).await;
    assert!(ok);
    assert!(list.contains("editor\tTòa soạn"), "{list}");
    assert!(!list.contains(&secret));

    // The token writes; revoked, it is refused.
    let port = free_port().await;
    let mut server = start(&database, port, &["--no-sample"]).await;
    let create = json!({ "query": r#"mutation { createTag(input: { name: "Kinh tế" }) { tag { slug } } }"# });
    let post = |body: Value| {
        let secret = secret.clone();
        async move {
            let response = reqwest::Client::new()
                .post(format!("http://127.0.0.1:{port}/graphql"))
                .bearer_auth(secret)
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, body) = post(create.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["createTag"]["tag"]["slug"], "kinh-te");
    let (ok, _) = token(&["revoke", "Tòa soạn"]).await;
    assert!(ok);
    let (status, body) = post(create).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let (ok, _) = token(&["revoke", "Tòa soạn"]).await;
    assert!(!ok, "nothing left to revoke");
    server.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
