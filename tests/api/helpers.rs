//! The test application: the real router on a real socket, over a real SQLite file
//! or a fresh PostgreSQL database, with a counter of the SQL statements it runs.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bantin::app::{AppState, router};
use bantin::config::{DatabaseArgs, Limits};
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running app.
pub struct TestApp {
    pub address: String,
    /// The database's URL.
    pub url: String,
    pub db: DatabaseConnection,
    pub backend: Backend,
    /// The app's turns to execute an operation.
    pub turns: Arc<tokio::sync::Semaphore>,
    /// The app's search indexer.
    pub indexer: Arc<bantin::search::Indexer>,
    search: bantin::search::Search,
    statements: Arc<AtomicU64>,
    /// The text of each statement run while it is `Some`.
    recorded: Arc<Mutex<Option<Vec<String>>>>,
    clock: Arc<Mutex<DateTime<Utc>>>,
    client: reqwest::Client,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The server a PostgreSQL test uses; `BANTIN_TEST_POSTGRES` overrides it.
fn postgres_admin_url() -> String {
    std::env::var("BANTIN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether PostgreSQL tests must run (CI sets `BANTIN_REQUIRE_POSTGRES=1`).
fn postgres_required() -> bool {
    std::env::var("BANTIN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// The instant the tests treat as "now".
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

impl TestApp {
    /// Spawns the app on a fresh database with the sample content. `None` when the
    /// backend is PostgreSQL, none is reachable, and it is not required.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, true).await
    }

    /// Spawns the app on a fresh database, with or without the sample content.
    pub async fn spawn_with(backend: Backend, sample: bool) -> Option<TestApp> {
        Self::spawn_indexed(backend, sample, true, Limits::default()).await
    }

    /// Spawns the app with the sample content and the given limits.
    pub async fn spawn_limited(backend: Backend, limits: Limits) -> Option<TestApp> {
        Self::spawn_indexed(backend, true, true, limits).await
    }

    /// Spawns the app with the sample content and its search indexer not started:
    /// the index is empty until the test calls `indexer.initialize()`.
    pub async fn spawn_unindexed(backend: Backend) -> Option<TestApp> {
        Self::spawn_indexed(backend, true, false, Limits::default()).await
    }

    async fn spawn_indexed(
        backend: Backend,
        sample: bool,
        indexed: bool,
        limits: Limits,
    ) -> Option<TestApp> {
        let unique = format!(
            "{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            Utc::now().timestamp_subsec_nanos()
        );
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("bantin_test_{unique}.db"));
                (
                    format!("sqlite://{}?mode=rwc", path.display()),
                    Cleanup::File(path),
                )
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = match Database::connect(&admin_url).await {
                    Ok(admin) => admin,
                    Err(error) if !postgres_required() => {
                        eprintln!("skipping a PostgreSQL test: {error}");
                        return None;
                    }
                    Err(error) => {
                        panic!("PostgreSQL is required but unreachable at {admin_url}: {error}")
                    }
                };
                let name = format!("bantin_test_{unique}");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create the test database");
                let url = match admin_url.rfind('/') {
                    Some(slash) => format!("{}/{name}", &admin_url[..slash]),
                    None => panic!("bad PostgreSQL URL {admin_url}"),
                };
                (url, Cleanup::Database { admin_url, name })
            }
        };
        let args = DatabaseArgs {
            database_url: url.clone(),
            max_connections: Some(4),
            // Tests import bundles through the app's pool, on a busy machine.
            acquire_timeout_ms: 10_000,
        };
        let mut db = bantin::db::connect(&args).await.expect("connect");
        // The search indexer polls on a pool of its own, outside the statement count.
        let index_db = bantin::db::connect(&args).await.expect("connect");
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        let recorded: Arc<Mutex<Option<Vec<String>>>> = Arc::default();
        let recorder = recorded.clone();
        // `BANTIN_TEST_SQL=1` prints every statement, to see what a query costs.
        let print = std::env::var("BANTIN_TEST_SQL").is_ok_and(|v| v == "1");
        // Statements SeaORM runs, and those a query runs on the connection it holds.
        let metric: bantin::db::Metric = Arc::new(move |info| {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Some(sql) = recorder.lock().unwrap().as_mut() {
                sql.push(info.statement.sql.clone());
            }
            if print {
                eprintln!("SQL: {}", info.statement.sql);
            }
        });
        let seen = metric.clone();
        db.set_metric_callback(move |info| seen(info));
        bantin::db::migrate(&db).await.expect("migrate");
        if sample {
            bantin::domain::sample::load_if_empty(&db)
                .await
                .expect("load the sample");
        }
        let clock = Arc::new(Mutex::new(now()));
        let time = clock.clone();
        let search = bantin::search::Search::open(None, &index_db).expect("search index");
        if indexed {
            search
                .indexer
                .initialize()
                .await
                .expect("index the content");
            search.indexer.spawn();
        }
        let mut state = AppState::new(
            db.clone(),
            &limits,
            Arc::new(move || *time.lock().unwrap_or_else(PoisonError::into_inner)),
            &search,
        );
        state.metric = Some(metric);
        let turns = state.turns.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let app = router(state, &limits);
        tokio::spawn(bantin::server::serve(
            listener,
            app,
            limits.connections(),
            std::future::pending(),
        ));
        Some(TestApp {
            address,
            url,
            db,
            backend,
            turns,
            indexer: search.indexer.clone(),
            search,
            statements,
            recorded,
            clock,
            client: reqwest::Client::new(),
            cleanup,
        })
    }

    /// Serves the same database, search index and clock on another address, on
    /// the stock executor or the fast one, with no rate limit; returns its URL.
    pub async fn twin(&self, stock: bool) -> String {
        self.twin_until(stock, std::future::pending()).await.0
    }

    /// [`Self::twin`], serving until `shutdown` completes; returns its URL and the
    /// server's task.
    pub async fn twin_until(
        &self,
        stock: bool,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> (String, tokio::task::JoinHandle<()>) {
        self.twin_serving(|state| state.stock = stock, shutdown)
            .await
    }

    /// Serves the same database, search index and clock on another address, with
    /// its state set by `configure`, until `shutdown` completes; returns its URL and
    /// the server's task.
    pub async fn twin_serving(
        &self,
        configure: impl FnOnce(&mut AppState),
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> (String, tokio::task::JoinHandle<()>) {
        let limits = Limits {
            rate_per_address: 0,
            rate_per_token: 0,
            ..Limits::default()
        };
        let time = self.clock.clone();
        let mut state = AppState::new(
            self.db.clone(),
            &limits,
            Arc::new(move || *time.lock().unwrap_or_else(PoisonError::into_inner)),
            &self.search,
        );
        configure(&mut state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(bantin::server::serve(
            listener,
            router(state, &limits),
            limits.connections(),
            shutdown,
        ));
        (address, server)
    }

    /// Posts a query with variables; returns the whole JSON response.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON response")
    }

    /// Posts a query with an `Authorization: Bearer` token (none: a reader); returns
    /// the HTTP status and the JSON response.
    pub async fn graphql_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON response"))
    }

    /// Posts a query with a token that must succeed; returns `data`.
    pub async fn data_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, response) = self.graphql_as(Some(token), query, variables).await;
        assert!(
            status == 200 && response.get("errors").is_none(),
            "unexpected errors ({status}): {response:#}"
        );
        response["data"].clone()
    }

    /// Creates an API token with this role; returns the secret.
    pub async fn token(&self, role: bantin::auth::Role, name: &str) -> String {
        bantin::auth::create(&self.db, name, role, now())
            .await
            .expect("token")
            .1
    }

    /// Moves the app's clock.
    pub fn set_now(&self, at: DateTime<Utc>) {
        *self.clock.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    /// Posts a query that must succeed; returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// The `extensions.code` of the first error of a query that must fail.
    pub async fn error_code(&self, query: &str, variables: Value) -> String {
        let response = self.graphql(query, variables).await;
        response["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code: {response:#}"))
            .to_owned()
    }

    /// A plain GET.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// The HTTP client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Runs a query and returns how many SQL statements it issued.
    pub async fn count_statements(&self, query: &str, variables: Value) -> u64 {
        let before = self.statements.load(Ordering::SeqCst);
        self.data(query, variables).await;
        self.statements.load(Ordering::SeqCst) - before
    }

    /// Runs a query and returns the SQL of the statements it issued.
    pub async fn statements_of(&self, query: &str, variables: Value) -> Vec<String> {
        self.recording(self.data(query, variables)).await
    }

    /// Runs an operation with a token and returns the SQL of the statements it issued.
    pub async fn statements_as(&self, token: &str, query: &str, variables: Value) -> Vec<String> {
        self.recording(self.data_as(token, query, variables)).await
    }

    async fn recording(&self, run: impl std::future::Future<Output = Value>) -> Vec<String> {
        *self.recorded.lock().unwrap() = Some(Vec::new());
        run.await;
        self.recorded.lock().unwrap().take().unwrap_or_default()
    }

    /// Drops the database.
    pub async fn finish(self) {
        self.db.close_by_ref().await.ok();
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                }
            }
        }
    }
}

/// Defines one test per backend from an `async fn(&TestApp)`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$name(&app).await;
                    app.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await {
                        super::$name(&app).await;
                        app.finish().await;
                    }
                }
            )*
        }
    };
}

impl TestApp {
    /// Adds `n` published articles mentioning the given people (by slug), an hour
    /// apart, with every pair sharing a publication instant (to exercise the id
    /// tie-break). Returns nothing; articles are numbered in their slugs.
    pub async fn add_articles(&self, n: usize, people: &[&str], status: &str) {
        use entity::{article, article_person, person};
        use sea_orm::{
            ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
        };
        let txn = self.db.begin().await.expect("begin");
        let people = person::Entity::find()
            .filter(person::Column::Slug.is_in(people.iter().copied()))
            .all(&txn)
            .await
            .expect("people");
        let base = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        for i in 0..n {
            let at = base + chrono::Duration::hours((i / 2) as i64);
            let row = article::ActiveModel {
                slug: Set(format!("{status}-{i:04}")),
                title: Set(format!("Bài {status} số {i}")),
                body: Set("Nội dung.".to_owned()),
                language: Set(if i % 3 == 0 { "en" } else { "vi" }.to_owned()),
                status: Set(status.to_owned()),
                published_at: Set(at),
                version: Set(1),
                created_at: Set(at),
                updated_at: Set(at),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .expect("article");
            for (ord, person) in people.iter().enumerate() {
                article_person::ActiveModel {
                    article_id: Set(row.id),
                    person_id: Set(person.id),
                    ord: Set(ord as i32),
                }
                .insert(&txn)
                .await
                .expect("mention");
            }
        }
        txn.commit().await.expect("commit");
    }
}

impl TestApp {
    /// Makes an article published at `at` (RFC 3339).
    pub async fn schedule(&self, slug: &str, at: &str) {
        use entity::article;
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let at = DateTime::parse_from_rfc3339(at)
            .expect("instant")
            .with_timezone(&Utc);
        article::Entity::update_many()
            .col_expr(article::Column::Status, Expr::value("published"))
            .col_expr(article::Column::PublishedAt, Expr::value(at))
            .filter(article::Column::Slug.eq(slug))
            .exec(&self.db)
            .await
            .expect("schedule");
    }
}

/// The `bantin` binary the tests run.
pub const BIN: &str = env!("CARGO_BIN_EXE_bantin");

/// A port free on this machine now.
pub async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    listener.local_addr().expect("address").port()
}

/// Waits until `bantin serve` on `port` answers `/healthz` (ten seconds at most).
pub async fn wait_healthy(port: u16) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        let health = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await;
        if health.is_ok_and(|response| response.status() == 200) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("bantin serve did not come up");
}

/// The npm tools of `tests/clients` (Node.js and `npm ci` there), when `marker`
/// (a path below `node_modules`) is installed; `None`, and a word why, when not.
/// With `BANTIN_REQUIRE_NODE=1` (set by `.ci/run`) a missing tool fails the test.
pub fn client_tools(marker: &str, what: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if node && dir.join("node_modules").join(marker).exists() {
        return Some(dir);
    }
    assert!(
        std::env::var("BANTIN_REQUIRE_NODE").is_err(),
        "BANTIN_REQUIRE_NODE is set, but Node.js or tests/clients/node_modules is missing \
         (run `npm ci` in tests/clients)"
    );
    eprintln!("skipped: {what} needs Node.js and `npm ci` in tests/clients");
    None
}
