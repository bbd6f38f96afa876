//! The axum application: routes, layers, state, and the server loop.

use std::sync::Arc;

use anyhow::Context;
use std::time::Duration;

use async_graphql::ParseRequestError;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
};
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, middleware};
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::auth::{Actor, AuthError};
use crate::config::{Limits, ServeArgs};
use crate::db::{Metric, Reader};
use crate::domain::visibility::{Clock, Viewer, Visibility};
use crate::graphql::documents::{Documents, Parsed};
use crate::graphql::loaders::BatchTasks;
use crate::graphql::schema::{Schemas, build_schema};
use crate::graphql::shapes::Shapes;
use crate::media::{Media, NotAcceptable};
use crate::rate::RateLimits;
use crate::search::{Indexer, Search};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// The executable GraphQL schema, validating in full or not.
    pub schemas: Arc<Schemas>,
    /// The time source of visibility rules (fixed in tests).
    pub clock: Clock,
    /// Turns to execute an operation (see [`Limits::max_concurrent_operations`]).
    pub turns: Arc<Semaphore>,
    /// Parsed queries, by text.
    pub documents: Arc<Documents>,
    /// The loaders' statements, by shape.
    pub shapes: Arc<Shapes>,
    /// Told of each statement a query runs on the connection it holds (SeaORM's
    /// own metric callback sees the others).
    pub metric: Option<Metric>,
    /// The search indexer, whose first catch-up `/readyz` waits for.
    pub indexer: Arc<Indexer>,
    /// Requests by client address and by token.
    pub rates: Arc<RateLimits>,
    /// The Prometheus metrics (`/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Which other origins' pages may call the API (CORS).
    pub cors: CorsSettings,
    /// Whether `/metrics` is served on an address of its own
    /// (`BANTIN_METRICS_LISTEN`) rather than beside `/graphql`.
    pub metrics_apart: bool,
    /// Run every operation on async-graphql's stock executor: validated in full each
    /// time, objects resolved the stock way, rows read whole and nothing read ahead,
    /// the response written by serde_json. The fast path is held to answer what it
    /// answers, byte for byte (tests/api/differential.rs); it is also the fallback
    /// should the fast path ever be in doubt (`--executor stock`).
    pub stock: bool,
}

impl AppState {
    /// The state for a migrated database and its search index.
    pub fn new(db: DatabaseConnection, limits: &Limits, clock: Clock, search: &Search) -> Self {
        let schemas = Arc::new(build_schema(db.clone(), limits, search));
        let turns = Arc::new(Semaphore::new(limits.max_concurrent_operations.max(1)));
        Self {
            db,
            schemas,
            clock,
            turns,
            documents: Arc::default(),
            shapes: Arc::default(),
            metric: None,
            indexer: search.indexer.clone(),
            rates: Arc::new(RateLimits::new(&limits.rates())),
            metrics: Arc::default(),
            cors: CorsSettings::default(),
            metrics_apart: false,
            stock: false,
        }
    }
}

/// Which other origins' pages may call the API from a browser, and for how long
/// a browser may keep the answer to its preflight.
#[derive(Clone, Debug)]
pub struct CorsSettings {
    /// Origins allowed (`https://www.example.vn`); `*` for every one. None: only the
    /// API's own origin, which needs no CORS.
    pub origins: Vec<String>,
    pub max_age: Duration,
}

impl Default for CorsSettings {
    fn default() -> Self {
        Self {
            origins: Vec::new(),
            max_age: Duration::from_secs(600),
        }
    }
}

impl CorsSettings {
    /// The layer: GET and POST, the request headers GraphQL clients send (Apollo
    /// Client's and Relay's included), `X-Request-Id` and `Retry-After` readable.
    fn layer(&self) -> CorsLayer {
        let layer = CorsLayer::new()
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::AUTHORIZATION,
                header::HeaderName::from_static(crate::telemetry::REQUEST_ID),
                header::HeaderName::from_static("apollographql-client-name"),
                header::HeaderName::from_static("apollographql-client-version"),
                header::HeaderName::from_static("apollo-require-preflight"),
                header::HeaderName::from_static("x-apollo-operation-name"),
            ])
            .expose_headers([
                header::HeaderName::from_static(crate::telemetry::REQUEST_ID),
                header::RETRY_AFTER,
            ])
            .max_age(self.max_age);
        if self.origins.iter().any(|origin| origin.trim() == "*") {
            return layer.allow_origin(Any);
        }
        let origins: Vec<HeaderValue> = self
            .origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin.trim().trim_end_matches('/')).ok())
            .collect();
        layer.allow_origin(AllowOrigin::list(origins))
    }
}

/// The routes: `/graphql` (GET and POST), GraphiQL at `/` and `/graphiql`, `/healthz`
/// (the database answers) and `/readyz` (and the search index has caught up).
pub fn router(state: AppState, limits: &Limits) -> Router {
    let cors = state.cors.layer();
    let graphql_route = get(graphql)
        .post(graphql)
        .route_layer(middleware::from_fn_with_state(state.clone(), by_address));
    let metrics_apart = state.metrics_apart;
    let router = Router::new()
        .route("/graphql", graphql_route)
        .route("/", get(crate::graphiql::page))
        .route("/graphiql", get(crate::graphiql::page))
        .route("/graphiql/assets/{name}", get(crate::graphiql::asset))
        .route("/favicon.ico", get(crate::graphiql::favicon))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    let router = if metrics_apart {
        router
    } else {
        router.route("/metrics", get(metrics))
    };
    router
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(
            limits.body_timeout_secs,
        )))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_secs),
        ))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::map_response(json_errors))
        .layer(middleware::from_fn(negotiated))
        .layer(cors)
        .layer(middleware::from_fn_with_state(state, measured))
        .layer(middleware::from_fn(crate::telemetry::access))
}

/// The router of `/metrics` alone, for an address of its own.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// `/metrics`: the Prometheus text format.
async fn metrics(State(state): State<AppState>) -> Response {
    /// A pool's connections: all, and idle.
    fn connections<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> (u32, u32) {
        (
            pool.size(),
            u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        )
    }
    let pool = match &state.db.inner {
        sea_orm::DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
            Some(connections(state.db.get_postgres_connection_pool()))
        }
        sea_orm::DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
            Some(connections(state.db.get_sqlite_connection_pool()))
        }
        _ => None,
    };
    let lag = match tokio::time::timeout(HEALTH_TIMEOUT, state.indexer.lag()).await {
        Ok(Ok(lag)) => lag,
        Ok(Err(error)) => {
            tracing::warn!(%error, "could not read the search index's lag");
            None
        }
        Err(_) => None,
    };
    let text = state.metrics.render(pool, state.indexer.is_ready(), lag);
    let mut http = Response::new(Body::from(text));
    http.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    http
}

/// Counts every GraphQL request, and every error answered by its code (the
/// layers' refusals included), from what the response tells: its [`ErrorCodes`]
/// and its [`crate::telemetry::Operation`].
async fn measured(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let graphql = request.uri().path() == "/graphql";
    let response = next.run(request).await;
    if let Some(codes) = response.extensions().get::<ErrorCodes>() {
        for code in &codes.0 {
            state.metrics.error(code);
        }
    }
    if graphql {
        let operation = response.extensions().get::<crate::telemetry::Operation>();
        state.metrics.request(&crate::metrics::Served {
            operation: operation.and_then(|operation| operation.name.as_deref()),
            kind: operation.map_or("none", |operation| operation.kind),
            status: response.status().as_u16(),
            elapsed: started.elapsed(),
        });
    }
    response
}

/// The `extensions.code` of the errors of a GraphQL body, for the metrics.
#[derive(Clone, Debug, Default)]
struct ErrorCodes(Vec<String>);

impl ErrorCodes {
    fn of(errors: &[async_graphql::ServerError]) -> Self {
        Self(
            errors
                .iter()
                .map(|error| {
                    match error
                        .extensions
                        .as_ref()
                        .and_then(|extensions| extensions.get("code"))
                    {
                        Some(async_graphql::Value::String(code)) => code.clone(),
                        _ => "UNKNOWN".to_owned(),
                    }
                })
                .collect(),
        )
    }
}

/// Chooses the media type of the answer from `Accept` ([`Media`]): the handler
/// finds it in the request's extensions, and every GraphQL body (the handler's and
/// the layers' refusals alike, marked [`GraphqlBody`]) is labelled with it here. A
/// query that accepts neither type is answered 406.
async fn negotiated(mut request: axum::extract::Request, next: middleware::Next) -> Response {
    let media = match Media::negotiate(request.headers()) {
        Ok(media) => media,
        Err(NotAcceptable) if request.uri().path() == "/graphql" => {
            return refusal(
                StatusCode::NOT_ACCEPTABLE,
                "BAD_USER_INPUT",
                NotAcceptable.to_string(),
            );
        }
        Err(NotAcceptable) => Media::Json,
    };
    request.extensions_mut().insert(media);
    let mut response = next.run(request).await;
    if response.extensions().get::<GraphqlBody>().is_some() {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, media.content_type());
    }
    response
}

/// Marks a response whose body is a GraphQL response, to be labelled with the
/// negotiated media type.
#[derive(Clone, Copy)]
struct GraphqlBody;

/// Refuses a request over its client address's rate, before its body is read.
async fn by_address(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    if let Some(Extension(ConnectInfo(peer))) = peer {
        let has_token = request.headers().contains_key(header::AUTHORIZATION);
        if let Err(wait) = state.rates.check_address(peer.ip(), has_token) {
            return rate_limited(wait);
        }
    }
    next.run(request).await
}

/// A body that is not a GraphQL request: a JSON error, with the status that says
/// why (too large, too slow, or malformed).
fn bad_body(error: &ParseRequestError) -> Response {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = cause {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return refusal(
                StatusCode::REQUEST_TIMEOUT,
                "TIMEOUT",
                "the request body took too long to arrive".to_owned(),
            );
        }
        if error.is::<http_body_util::LengthLimitError>() {
            return too_large();
        }
        cause = error.source();
    }
    match error {
        ParseRequestError::PayloadTooLarge => too_large(),
        ParseRequestError::UnsupportedBatch => refusal(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "batches of requests are not supported: send one request a body".to_owned(),
        ),
        ParseRequestError::InvalidRequest(cause) => refusal(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            format!(
                "the body is not a GraphQL request (a JSON object with a `query` string): {cause}"
            ),
        ),
        other => refusal(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            format!("the body is not a GraphQL request: {other}"),
        ),
    }
}

fn too_large() -> Response {
    refusal(
        StatusCode::PAYLOAD_TOO_LARGE,
        "BAD_USER_INPUT",
        "the request body is too large".to_owned(),
    )
}

/// Answers of the layers around the handler (a body over the limit, a request
/// past its time, a method not allowed, a panic caught) carry no GraphQL body:
/// give them one, so that every answer to a client is JSON with a code.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    // Handlers' own answers say what they are (`/healthz` in plain text); the
    // body limit's 413 says plain text too.
    let described = response.headers().contains_key(header::CONTENT_TYPE)
        && status != StatusCode::PAYLOAD_TOO_LARGE;
    if described || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("BAD_USER_INPUT", "the request body is too large"),
        StatusCode::REQUEST_TIMEOUT => ("TIMEOUT", "the request took too long"),
        StatusCode::METHOD_NOT_ALLOWED => ("BAD_USER_INPUT", "use GET or POST"),
        StatusCode::NOT_FOUND => ("NOT_FOUND", "no such path"),
        status if status.is_client_error() => ("BAD_USER_INPUT", "the request is malformed"),
        _ => ("INTERNAL", "internal error"),
    };
    let mut json = refusal(status, code, message.to_owned());
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            json.headers_mut().insert(name, value.clone());
        }
    }
    json
}

/// A panic caught on a request's way: logged, and answered as any internal error.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(%message, "a request panicked");
    refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error".to_owned(),
    )
}

/// 429 with the seconds to wait.
fn rate_limited(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut http = refusal_with(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        format!("too many requests; try again in {seconds} s"),
        &[("retryAfterSeconds", seconds)],
    );
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        http.headers_mut().insert(header::RETRY_AFTER, value);
    }
    http
}

/// The GraphQL endpoint. The operation it ran (its name and type) goes with the
/// answer, for the access log and the metrics.
async fn graphql(
    State(state): State<AppState>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    media: Option<Extension<Media>>,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let mut ran = crate::telemetry::Operation::default();
    let told = &mut ran;
    let mut response: Response = async move {
        let media = media.map_or(Media::Json, |Extension(media)| media);
        if method == Method::POST && !json_body(&headers) {
            return refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BAD_USER_INPUT",
                "send the request as JSON, with `Content-Type: application/json`".to_owned(),
            );
        }
        let mut request = match request {
            Ok(request) => request.into_inner(),
            Err(GraphQLRejection(error)) => return bad_body(&error),
        };
        // Without a document there is no GraphQL request (async-graphql takes a
        // missing `query` for an empty one).
        if request.query.trim().is_empty() {
            return refusal(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                "the request has no `query`".to_owned(),
            );
        }
        // async-graphql reads a GET's operation name as `operation_name`; the
        // GraphQL-over-HTTP spec (and every client) names it `operationName`.
        if method == Method::GET
            && request.operation_name.is_none()
            && let Some(query) = uri.query()
        {
            request.operation_name = url::form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "operationName")
                .map(|(_, name)| name.into_owned());
        }
        // Parsed (or found parsed) here, for what the handler needs to know of the
        // operation (whether it is a mutation, the order of its fields), and handed to
        // async-graphql, which would otherwise parse it again.
        let parsed = state.documents.get(&request.query, &state.schemas.registry);
        let document = parsed.as_ref().map(|parsed| &parsed.document);
        if let Some(document) = document {
            request.set_parsed_query(document.clone());
        }
        let operation_name = request.operation_name.clone();
        // Before anything else walks the document: its walks are bounded there.
        if let Some(document) = document
            && let Err(refusal) = crate::graphql::guard::check(
                &state.schemas.registry,
                document,
                operation_name.as_deref(),
                &request.variables,
                &state.schemas.limits,
            )
        {
            return refused(&refusal, media);
        }
        if method == Method::GET
            && document.is_some_and(|document| is_mutation(document, operation_name.as_deref()))
        {
            // GET is for reads that caches may keep and replay.
            let mut http = refusal(
                StatusCode::METHOD_NOT_ALLOWED,
                "BAD_USER_INPUT",
                "mutations must be sent with POST".to_owned(),
            );
            http.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return http;
        }
        // Variables are coerced before the operation runs (a request error, as the
        // spec asks), for both executors.
        let chosen = document.and_then(|document| operation(document, operation_name.as_deref()));
        told.name = operation_name
            .clone()
            .or_else(|| match &document?.operations {
                DocumentOperations::Multiple(operations) if operations.len() == 1 => {
                    operations.keys().next().map(ToString::to_string)
                }
                _ => None,
            });
        if let Some(name) = &told.name {
            tracing::Span::current().record("operation", name.as_str());
        }
        if let Some(operation) = chosen {
            told.kind = match operation.ty {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            };
        }
        if let Some(operation) = chosen
            && let Err(error) = crate::graphql::variables::check(
                &state.schemas.registry,
                operation,
                &request.variables,
            )
        {
            return refusal(
                media.request_error_status(),
                "BAD_USER_INPUT",
                error.to_string(),
            );
        }
        let authorization = headers
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap_or_default());
        let actor = match crate::auth::authenticate(&state.db, authorization).await {
            Ok(actor) => actor,
            Err(error) => {
                if let (
                    AuthError::Malformed | AuthError::Invalid,
                    Some(Extension(ConnectInfo(peer))),
                ) = (&error, &peer)
                {
                    state.rates.failed_auth(peer.ip());
                }
                return unauthenticated(&error);
            }
        };
        if let Some(actor) = &actor
            && let Err(wait) = state.rates.check_token(actor.token_id)
        {
            return rate_limited(wait);
        }
        let visibility = Visibility {
            now: (state.clock)(),
            viewer: actor.as_ref().map_or(Viewer::Reader, Actor::viewer),
        };
        // The semaphore is never closed, so waiting for a turn cannot fail.
        let Ok(_turn) = state.turns.acquire().await else {
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "INTERNAL",
                "the server is shutting down".to_owned(),
            );
        };
        let valid = match &parsed {
            Some(_) if state.stock => false,
            Some(parsed) => {
                let query = &request.query;
                parsed
                    .valid(|| state.schemas.check(query, &parsed.document))
                    .await
            }
            None => false,
        };
        let schema = if valid {
            &state.schemas.fast
        } else {
            &state.schemas.strict
        };
        let tasks = BatchTasks::default();
        // A query's statements share one connection; a mutation's writes take theirs
        // for their transactions, and so its reads take theirs from the pool.
        let reader = match document {
            Some(document) if !is_mutation(document, operation_name.as_deref()) => {
                Reader::holding(&state.db, state.metric.clone())
            }
            _ => Reader::pooled(&state.db),
        };
        let counted = reader.clone();
        let request = crate::graphql::loaders::attach(
            request,
            reader,
            parsed.clone(),
            &state.shapes,
            &visibility,
            &tasks,
            state.stock,
        )
        .data(visibility)
        .data(state.clock.clone())
        .data(actor);
        let mut response = tasks.run(schema.execute(request)).await;
        if told.kind == "query" {
            state.metrics.work(tasks.started(), counted.statements());
        }
        // A request error (a document that does not parse or validate, an operation
        // that cannot be chosen) ran nothing: no data, and errors without a path.
        let request_error = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|error| error.path.is_empty());
        if let (Some(document), Some(operation), false) = (document, chosen, request_error) {
            crate::graphql::completion::complete(
                &mut response,
                document,
                operation,
                &state.schemas.registry,
            );
        }
        crate::error::code_errors(&mut response);
        crate::error::order_errors(&mut response);
        // A database that cannot be reached fails the request as a whole: 503, so
        // that clients and load balancers try again, rather than a 200 with holes.
        let unavailable = response.errors.iter().any(|error| {
            error
                .extensions
                .as_ref()
                .and_then(|extensions| extensions.get("code"))
                .is_some_and(|code| *code == async_graphql::Value::from("SERVICE_UNAVAILABLE"))
        });
        if request_error {
            return errors_only(media.request_error_status(), &response.errors);
        }
        let mut http = if state.stock {
            respond_stock(response)
        } else {
            respond(response, parsed.as_deref())
        };
        if unavailable {
            retry_soon(&mut http);
        }
        http
    }
    .await;
    response.extensions_mut().insert(ran);
    response
}

/// Whether a POST says its body is JSON (`application/json`, with any parameters),
/// as the GraphQL-over-HTTP spec has a request's body be.
fn json_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// The HTTP response for a GraphQL response, with the headers async-graphql-axum
/// would give it; its body written by [`crate::graphql::json`], in a buffer the size
/// of the last response to the same document.
fn respond(mut response: async_graphql::Response, parsed: Option<&Parsed>) -> Response {
    let codes = ErrorCodes::of(&response.errors);
    let expected = parsed.map_or(0, Parsed::body_bytes);
    let body = match crate::graphql::json::body(&response, expected) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "could not write a response");
            return refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "the response could not be written".to_owned(),
            );
        }
    };
    if let Some(parsed) = parsed {
        parsed.wrote_body(body.len());
    }
    let mut http = Response::new(Body::from(body));
    http.extensions_mut().insert(GraphqlBody);
    http.extensions_mut().insert(codes);
    let headers = http.headers_mut();
    headers.insert(header::CONTENT_TYPE, Media::Json.content_type());
    if response.is_ok()
        && let Some(cache_control) = response.cache_control.value()
        && let Ok(value) = HeaderValue::from_str(&cache_control)
    {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.extend(std::mem::take(&mut response.http_headers));
    http
}

/// The HTTP response for a GraphQL response as async-graphql-axum writes it.
fn respond_stock(response: async_graphql::Response) -> Response {
    let codes = ErrorCodes::of(&response.errors);
    let mut http = GraphQLResponse::from(response).into_response();
    http.extensions_mut().insert(GraphqlBody);
    http.extensions_mut().insert(codes);
    http
}

/// The operation of `document` a request runs: the only one, or the one it names.
fn operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|operation| &operation.node)
        }
        // One named operation runs without being named (as async-graphql runs it).
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Whether the operation a request would run is a mutation (with several and
/// none named: whether any is).
fn is_mutation(document: &ExecutableDocument, name: Option<&str>) -> bool {
    let mutation = |operation: &OperationDefinition| operation.ty == OperationType::Mutation;
    match (operation(document, name), &document.operations) {
        (Some(operation), _) => mutation(operation),
        (None, DocumentOperations::Multiple(operations)) if name.is_none() => operations
            .values()
            .any(|operation| mutation(&operation.node)),
        (None, _) => false,
    }
}

/// A refused token: 401 with a GraphQL error body, so clients read it as any other.
fn unauthenticated(error: &AuthError) -> Response {
    if let AuthError::Db(cause) = error {
        if crate::error::is_unavailable(cause) {
            tracing::warn!(%cause, "token lookup failed: the database is unavailable");
            return unavailable();
        }
        tracing::error!(%cause, "token lookup failed");
        return refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "could not check the token".to_owned(),
        );
    }
    refusal(
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        error.to_string(),
    )
}

/// A document refused by [`crate::graphql::guard`]: its code, and the figures that
/// broke the limit in `extensions`.
fn refused(refusal: &crate::graphql::guard::Refusal, media: Media) -> Response {
    refusal_with(
        media.request_error_status(),
        refusal.code(),
        refusal.to_string(),
        &refusal.figures(),
    )
}

/// The database cannot be reached: 503, to be tried again in a moment.
fn unavailable() -> Response {
    let mut http = refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        "the database is unavailable; try again shortly".to_owned(),
    );
    retry_soon(&mut http);
    http
}

/// Marks an answer 503, to be tried again in a second: the database cannot be
/// reached (found so before the operation ran, or by it).
fn retry_soon(http: &mut Response) {
    *http.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    http.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
}

/// A request refused before it runs: a GraphQL error body with its code.
fn refusal(status: StatusCode, code: &str, message: String) -> Response {
    refusal_with(status, code, message, &[])
}

/// A request refused before it runs, with figures for `extensions`.
fn refusal_with(
    status: StatusCode,
    code: &str,
    message: String,
    figures: &[(&str, u64)],
) -> Response {
    let mut error = async_graphql::ServerError::new(message, None);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code);
    for (name, figure) in figures {
        extensions.set(*name, *figure);
    }
    let mut http = errors_only(status, &[error]);
    if status == StatusCode::UNAUTHORIZED {
        http.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    http
}

/// A response of errors alone, without `data`: for a request that did not run.
fn errors_only(status: StatusCode, errors: &[async_graphql::ServerError]) -> Response {
    #[derive(serde::Serialize)]
    struct Errors<'e> {
        errors: &'e [async_graphql::ServerError],
    }
    let body = serde_json::to_vec(&Errors { errors }).unwrap_or_else(|error| {
        tracing::error!(%error, "could not write errors");
        br#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#.to_vec()
    });
    let mut http = Response::new(Body::from(body));
    *http.status_mut() = status;
    http.headers_mut()
        .insert(header::CONTENT_TYPE, Media::Json.content_type());
    http.extensions_mut().insert(GraphqlBody);
    http.extensions_mut().insert(ErrorCodes::of(errors));
    http
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(HEALTH_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ok"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("health check timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// How long `/healthz` waits for the database.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);

/// Ready to take all traffic: the database answers and the search index has caught
/// up with it since the start (a new index is built from the database in the
/// background, while everything but search is already served).
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if !state.indexer.is_ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, "search index building");
    }
    healthz(State(state)).await
}

/// Connects, migrates, loads the sample content into an empty database, and serves
/// until Ctrl-C or SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // The address first: a port in use is told before anything is migrated.
    let listener = TcpListener::bind(args.listen).await.with_context(|| {
        format!(
            "could not listen on {} (set by BANTIN_LISTEN or --listen); is another server \
             using it?",
            args.listen
        )
    })?;
    let metrics_listener = match args.metrics_listen {
        Some(address) => Some(TcpListener::bind(address).await.with_context(|| {
            format!(
                "could not listen on {address} (set by BANTIN_METRICS_LISTEN or \
                 --metrics-listen); is another server using it?"
            )
        })?),
        None => None,
    };
    let db = crate::db::connect(&args.database).await?;
    crate::db::migrate(&db).await?;
    if !args.no_sample
        && crate::domain::sample::load_if_empty(&db)
            .await
            .context("could not load the sample content")?
    {
        tracing::info!("loaded the sample content");
    }
    let search = Search::open(Some(&args.index_dir), &db).with_context(|| {
        format!(
            "could not open the search index in {} (each running instance needs its own \
             BANTIN_INDEX_DIR)",
            args.index_dir.display()
        )
    })?;
    // The index catches up in the background; the API serves meanwhile.
    search.indexer.spawn();
    let mut state = AppState::new(db, &args.limits, Arc::new(chrono::Utc::now), &search);
    state.stock = args.executor == crate::config::Executor::Stock;
    state.metrics_apart = metrics_listener.is_some();
    state.cors = CorsSettings {
        origins: args.cors_origins.clone(),
        max_age: Duration::from_secs(args.cors_max_age_secs),
    };
    if let Some(listener) = metrics_listener {
        tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
        tokio::spawn(crate::server::serve(
            listener,
            metrics_router(state.clone()),
            args.limits.connections(),
            shutdown_signal(),
        ));
    }
    tracing::info!("GraphiQL on http://{}/", listener.local_addr()?);
    crate::server::serve(
        listener,
        router(state, &args.limits),
        args.limits.connections(),
        shutdown_signal(),
    )
    .await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
