//! "Physical limit" peer for the content benchmark, over bantin's own tables.
//! It applies the same visibility rule as bantin (published, due, not deleted).
//!
//! POST /graphql with a GraphQL-shaped JSON body. The query text is not parsed:
//! the request is routed by `operationName` (or by the text containing
//! `ArticlePage`) to hand-written SQL on one pooled connection per request (prepared
//! statements, no ping on checkout) — one statement for the root rows, then one
//! batched statement per relation level (`= ANY($1)`), assembled into JSON.
//! Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bantin_bench),
//!      BIND (default 127.0.0.1:5100), POOL (default 16).
use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::{get, post}, Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use std::collections::HashMap;

#[derive(Deserialize)]
struct GqlRequest {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Data<T> {
    data: T,
}

// ---------- Q1: front page ----------
#[derive(Serialize)]
struct FrontPage {
    articles: Vec<FpArticle>,
}
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FpArticle {
    title: String,
    slug: String,
    published_at: String,
    people: Vec<FpPerson>,
    organizations: Vec<Named>,
}
#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct FpPerson {
    full_name: String,
    positions: Vec<FpPosition>,
}
#[derive(Serialize, Clone)]
struct FpPosition {
    title: String,
    organization: Named,
}
#[derive(Serialize, Clone)]
struct Named {
    name: String,
}

// ---------- Q2: article page ----------
#[derive(Serialize)]
struct ArticlePage {
    article: Option<ApArticle>,
}
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApArticle {
    title: String,
    slug: String,
    summary: Option<String>,
    body: String,
    published_at: String,
    people: Vec<ApPerson>,
    organizations: Vec<ApOrg>,
    events: Vec<ApEvent>,
}
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApPerson {
    full_name: String,
    slug: String,
}
#[derive(Serialize)]
struct ApOrg {
    name: String,
    slug: String,
}
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApEvent {
    name: String,
    starts_at: String,
    organizers: Vec<Named>,
}

type AppResult = Result<axum::response::Response, (StatusCode, String)>;

fn internal(e: sqlx::Error) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, format!("{{\"errors\":[{{\"message\":{:?}}}]}}", e.to_string()))
}

async fn front_page(conn: &mut PgConnection) -> Result<FrontPage, sqlx::Error> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT id, title, slug, to_json(published_at)#>>'{}' FROM article \
         WHERE status = 'published' AND published_at <= now() AND deleted_at IS NULL ORDER BY published_at DESC, id DESC LIMIT 20",
    )
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();

    let ppl: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT ap.article_id, p.id, p.full_name FROM article_person ap \
         JOIN person p ON p.id = ap.person_id WHERE ap.article_id = ANY($1) \
         ORDER BY ap.article_id, p.id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let orgs: Vec<(i64, String)> = sqlx::query_as(
        "SELECT ao.article_id, o.name FROM article_organization ao \
         JOIN organization o ON o.id = ao.organization_id WHERE ao.article_id = ANY($1) \
         ORDER BY ao.article_id, o.id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut person_ids: Vec<i64> = ppl.iter().map(|r| r.1).collect();
    person_ids.sort_unstable();
    person_ids.dedup();
    let pos: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT po.person_id, po.title, o.name FROM position po \
         JOIN organization o ON o.id = po.organization_id WHERE po.person_id = ANY($1) \
         ORDER BY po.person_id, po.id",
    )
    .bind(&person_ids)
    .fetch_all(&mut *conn)
    .await?;

    let mut pos_by_person: HashMap<i64, Vec<FpPosition>> = HashMap::with_capacity(person_ids.len());
    for (pid, title, org) in pos {
        pos_by_person.entry(pid).or_default().push(FpPosition { title, organization: Named { name: org } });
    }
    let mut ppl_by_article: HashMap<i64, Vec<FpPerson>> = HashMap::with_capacity(ids.len());
    for (aid, pid, full_name) in ppl {
        let positions = pos_by_person.get(&pid).cloned().unwrap_or_default();
        ppl_by_article.entry(aid).or_default().push(FpPerson { full_name, positions });
    }
    let mut orgs_by_article: HashMap<i64, Vec<Named>> = HashMap::with_capacity(ids.len());
    for (aid, name) in orgs {
        orgs_by_article.entry(aid).or_default().push(Named { name });
    }
    let articles = rows
        .into_iter()
        .map(|(id, title, slug, published_at)| FpArticle {
            title,
            slug,
            published_at,
            people: ppl_by_article.remove(&id).unwrap_or_default(),
            organizations: orgs_by_article.remove(&id).unwrap_or_default(),
        })
        .collect();
    Ok(FrontPage { articles })
}

async fn article_page(conn: &mut PgConnection, slug: &str) -> Result<ArticlePage, sqlx::Error> {
    let row: Option<(i64, String, String, Option<String>, String, String)> = sqlx::query_as(
        "SELECT id, title, slug, summary, body, to_json(published_at)#>>'{}' FROM article WHERE slug = $1 AND status = 'published' AND published_at <= now() AND deleted_at IS NULL",
    )
    .bind(slug)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, title, slug, summary, body, published_at)) = row else {
        return Ok(ArticlePage { article: None });
    };
    let people: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.full_name, p.slug FROM article_person ap JOIN person p ON p.id = ap.person_id \
         WHERE ap.article_id = $1 ORDER BY p.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let orgs: Vec<(String, String)> = sqlx::query_as(
        "SELECT o.name, o.slug FROM article_organization ao JOIN organization o ON o.id = ao.organization_id \
         WHERE ao.article_id = $1 ORDER BY o.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let evs: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT e.id, e.name, to_json(e.starts_at)#>>'{}' FROM article_event ae JOIN event e ON e.id = ae.event_id \
         WHERE ae.article_id = $1 ORDER BY e.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut organizers: HashMap<i64, Vec<Named>> = HashMap::new();
    if !evs.is_empty() {
        let ev_ids: Vec<i64> = evs.iter().map(|e| e.0).collect();
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT eo.event_id, o.name FROM event_organizer eo JOIN organization o ON o.id = eo.organization_id \
             WHERE eo.event_id = ANY($1) ORDER BY eo.event_id, o.id",
        )
        .bind(&ev_ids)
        .fetch_all(&mut *conn)
        .await?;
        for (eid, name) in rows {
            organizers.entry(eid).or_default().push(Named { name });
        }
    }
    Ok(ArticlePage {
        article: Some(ApArticle {
            title,
            slug,
            summary,
            body,
            published_at,
            people: people.into_iter().map(|(full_name, slug)| ApPerson { full_name, slug }).collect(),
            organizations: orgs.into_iter().map(|(name, slug)| ApOrg { name, slug }).collect(),
            events: evs
                .into_iter()
                .map(|(eid, name, starts_at)| ApEvent {
                    name,
                    starts_at,
                    organizers: organizers.remove(&eid).unwrap_or_default(),
                })
                .collect(),
        }),
    })
}

async fn graphql(State(pool): State<PgPool>, Json(req): Json<GqlRequest>) -> AppResult {
    let op = req.operation_name.as_deref().unwrap_or("");
    if op == "ArticlePage" || (op.is_empty() && req.query.contains("ArticlePage")) {
        let slug = req
            .variables
            .as_ref()
            .and_then(|v| v.get("slug"))
            .and_then(|s| s.as_str())
            .ok_or((StatusCode::BAD_REQUEST, "{\"errors\":[{\"message\":\"missing $slug\"}]}".to_string()))?;
        let mut conn = pool.acquire().await.map_err(internal)?;
        let page = article_page(&mut conn, slug).await.map_err(internal)?;
        Ok(Json(Data { data: page }).into_response())
    } else {
        let mut conn = pool.acquire().await.map_err(internal)?;
        let page = front_page(&mut conn).await.map_err(internal)?;
        Ok(Json(Data { data: page }).into_response())
    }
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/bantin_bench".to_string());
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:5100".to_string());
    let pool_size: u32 = std::env::var("POOL").ok().and_then(|s| s.parse().ok()).unwrap_or(16);
    let pool = PgPoolOptions::new()
        .max_connections(pool_size)
        .min_connections(pool_size)
        .test_before_acquire(false)
        .connect(&url)
        .await
        .expect("connect to postgres");
    let app = Router::new()
        .route("/graphql", post(graphql))
        .route("/health", get(|| async { "ok" }))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(&bind).await.expect("bind");
    eprintln!("baseline listening on http://{bind}/graphql (pool {pool_size})");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("serve");
}
