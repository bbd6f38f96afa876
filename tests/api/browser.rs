//! In a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver with fantoccini, every host but this
//! machine unreachable. GraphiQL loads, runs its default query and shows the
//! Vietnamese text as stored, and its docs list `Article`; the example client
//! (`examples/web`, served from another origin) renders the sample article with
//! its two captioned photos and finds it by an accentless search. Each test saves
//! screenshots under `target/browser/`.
//!
//! Without Chromium the tests say so and skip; with `BANTIN_REQUIRE_BROWSER=1`
//! (set by `.ci/run`, which installs both packages) they fail instead.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{Backend, TestApp};

const TITLE: &str = "Hội nghị sơ kết 5 năm thực hiện Kết luận Bộ Chính trị và Chỉ thị của Ban Bí thư về công tác thông tin đối ngoại";
const CHROMIUM: &str = "/usr/bin/chromium";
const DRIVER: &str = "/usr/bin/chromedriver";

/// A browser session and the driver behind it.
struct Browser {
    client: Client,
    _driver: tokio::process::Child,
}

impl Browser {
    /// A headless Chromium, or `None` (and a word why) when there is none here.
    async fn start() -> Option<Self> {
        if !(Path::new(CHROMIUM).exists() && Path::new(DRIVER).exists()) {
            assert!(
                std::env::var("BANTIN_REQUIRE_BROWSER").is_err(),
                "BANTIN_REQUIRE_BROWSER is set, but {CHROMIUM} or {DRIVER} is missing \
                 (apt install chromium chromium-driver)"
            );
            eprintln!("skipped: the browser tests need Debian's chromium and chromium-driver");
            return None;
        }
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
            listener.local_addr().expect("address").port()
        };
        let driver = tokio::process::Command::new(DRIVER)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,1000",
                    // No host but this machine: the pages must need no other.
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let connected = ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
            if let Ok(client) = connected {
                return Some(Self {
                    client,
                    _driver: driver,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer on {url}");
    }

    /// Saves a screenshot of the page as `target/browser/NAME.png`.
    async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser");
        std::fs::create_dir_all(&dir).expect("target/browser");
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("saved");
    }

    /// The text of the first element `css` finds, once it holds `wanted`.
    async fn text_with(&self, css: &str, wanted: &str) -> String {
        let mut last = String::new();
        for _ in 0..150 {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                last = element.text().await.unwrap_or_default();
                if last.contains(wanted) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never held {wanted:?}; it held {last:?}");
    }

    /// Every resource the page loaded, by URL.
    async fn resources(&self) -> Vec<String> {
        let loaded = self
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)",
                vec![],
            )
            .await
            .expect("the page's resources");
        serde_json::from_value(loaded).expect("a list of URLs")
    }

    async fn end(self) {
        let _ = self.client.close().await;
    }
}

#[tokio::test]
async fn graphiql_runs_on_a_closed_network() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let client = &browser.client;
    client
        .goto(&format!("{}/graphiql", app.address))
        .await
        .expect("the page");
    let run = client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(".graphiql-execute-button"))
        .await
        .expect("GraphiQL rendered");
    run.click().await.expect("run the default query");
    // The title as stored: composed Vietnamese, through GraphiQL's result editor.
    let result = browser.text_with(".result-window", TITLE).await;
    assert!(result.contains("\"totalCount\": 1"), "{result}");
    browser.screenshot("graphiql-result").await;
    for url in browser.resources().await {
        assert!(
            url.starts_with(&app.address),
            "loaded from elsewhere: {url}"
        );
    }
    client
        .find(Locator::Css("[aria-label='Show Documentation Explorer']"))
        .await
        .expect("the docs button")
        .click()
        .await
        .expect("open the docs");
    browser.text_with(".graphiql-doc-explorer", "Article").await;
    browser.screenshot("graphiql-docs").await;
    browser.end().await;
    app.finish().await;
}

/// `examples/web`, served on an origin of its own.
async fn serve_example() -> String {
    use axum::extract::Path as UrlPath;
    use axum::http::header;
    use axum::response::IntoResponse;
    async fn file(path: Option<UrlPath<String>>) -> axum::response::Response {
        let name = path.map_or_else(|| "index.html".to_owned(), |UrlPath(name)| name);
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/web");
        let kind = match name.rsplit('.').next() {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            _ => "application/octet-stream",
        };
        match std::fs::read(root.join(name.replace("..", ""))) {
            Ok(bytes) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
            Err(_) => axum::http::StatusCode::NOT_FOUND.into_response(),
        }
    }
    let router = axum::Router::new()
        .route("/", axum::routing::get(|| file(None)))
        .route(
            "/{name}",
            axum::routing::get(|name: UrlPath<String>| file(Some(name))),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    address
}

#[tokio::test]
async fn the_example_client_shows_the_sample_and_finds_it_without_accents() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let example = serve_example().await;
    let allowed = example.clone();
    let (api, _) = app
        .twin_serving(
            move |state| state.cors.origins = vec![allowed],
            std::future::pending(),
        )
        .await;
    let client = &browser.client;
    client
        .goto(&format!("{example}/?api={api}/graphql"))
        .await
        .expect("the page");
    browser.text_with("#front article.teaser h2", TITLE).await;
    browser.screenshot("example-front").await;
    client
        .find(Locator::Css("#front article.teaser h2 a"))
        .await
        .expect("the article's link")
        .click()
        .await
        .expect("open the article");
    browser.text_with("#article h1", TITLE).await;
    browser.text_with("#people", "Võ Văn Thưởng").await;
    let mut captions = Vec::new();
    for figure in client
        .find_all(Locator::Css("#article figure figcaption"))
        .await
        .expect("the figures")
    {
        captions.push(figure.text().await.expect("a caption"));
    }
    assert_eq!(
        captions,
        [
            "Ông Võ Văn Thưởng",
            "Phó Chủ tịch Đôn Tuấn Phong phát biểu tại Hội nghị"
        ]
    );
    browser.screenshot("example-article").await;
    let search = client
        .find(Locator::Css("#search input[name=q]"))
        .await
        .expect("the search box");
    search.send_keys("hoi nghi so ket").await.expect("typed");
    client
        .find(Locator::Css("#search button"))
        .await
        .expect("the search button")
        .click()
        .await
        .expect("search");
    browser.text_with("#results article.teaser h2", TITLE).await;
    let marked = client
        .find_all(Locator::Css("#results mark"))
        .await
        .expect("highlights");
    assert!(!marked.is_empty(), "no highlighted word");
    browser.screenshot("example-search").await;
    for url in browser.resources().await {
        assert!(
            url.starts_with(&example) || url.starts_with(&api),
            "loaded from elsewhere: {url}"
        );
    }
    browser.end().await;
    app.finish().await;
}
