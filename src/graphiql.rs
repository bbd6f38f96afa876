//! GraphiQL, served from the binary: the page asks no other host for anything, so
//! the explorer works on a closed network.
//!
//! The assets are the production builds of the npm packages `graphiql` and
//! `react`/`react-dom` at pinned versions, with their licences, committed under
//! `assets/graphiql/` by `scripts/graphiql-assets.sh` and embedded here; the page's
//! own script (`bantin.js`), style and icon sit beside them. The page opens on a
//! query of the sample content, with a header template for a token, and carries a
//! Content-Security-Policy that allows its own origin only.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The files under `/graphiql/assets/`: name, content type, bytes.
const ASSETS: [(&str, &str, &[u8]); 7] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "bantin.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/bantin.js"),
    ),
    (
        "bantin.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/bantin.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../assets/graphiql/favicon.svg"),
    ),
];

/// The page's policy: everything from its own origin, nothing inline but styles
/// (GraphiQL's editor sets some), no frames around it.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The query the page opens on: the front page of the sample content.
const DEFAULT_QUERY: &str = r#"# bantin: the latest articles, with the people and organizations in them.
# Ctrl-Enter runs it; the docs explorer (top left) lists every type and field.
query FrontPage($first: Int = 5, $after: String) {
  articles(first: $first, after: $after) {
    totalCount
    nodes {
      title
      slug
      publishedAt
      people { name }
      organizations { name }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"#;

/// The header box's template: sent only once a token replaces the ellipsis.
const HEADERS: &str = "{\n  \"Authorization\": \"Bearer …\"\n}";

/// The page.
pub async fn page() -> Response {
    let settings = serde_json::json!({ "query": DEFAULT_QUERY, "headers": HEADERS });
    // `</` cannot end the data block early: JSON may write `/` as `\/`.
    let settings = settings.to_string().replace("</", "<\\/");
    let html = format!(
        r#"<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>bantin · GraphiQL</title>
<link rel="icon" href="/graphiql/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/graphiql/assets/graphiql.min.css">
<link rel="stylesheet" href="/graphiql/assets/bantin.css">
</head>
<body>
<div id="graphiql" data-endpoint="/graphql">Loading…</div>
<script type="application/json" id="graphiql-settings">{settings}</script>
<script src="/graphiql/assets/react.production.min.js"></script>
<script src="/graphiql/assets/react-dom.production.min.js"></script>
<script src="/graphiql/assets/graphiql.min.js"></script>
<script src="/graphiql/assets/bantin.js"></script>
</body>
</html>
"#
    );
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// One of the page's files.
pub async fn asset(Path(name): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(file, _, _)| *file == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        *bytes,
    )
        .into_response()
}

/// The icon browsers ask for at the root.
pub async fn favicon() -> Response {
    asset(Path("favicon.svg".to_owned())).await
}
