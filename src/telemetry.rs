//! Logging: `RUST_LOG` filters (default `info`), on standard error, as compact
//! lines or as JSON lines (`BANTIN_LOG_FORMAT=json`); colour only on a terminal,
//! and never under `NO_COLOR`.
//!
//! Every request gets an id (`X-Request-Id`, the client's when it sends one), which
//! its answer echoes and every line logged while it runs carries (its span), and
//! one access line when it is answered ([`access`]).

use std::io::IsTerminal;
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Compact lines of text.
    #[default]
    Text,
    /// One JSON object a line, the fields of the event and of its spans flattened.
    Json,
}

/// Installs the global subscriber; a second call is a no-op. With the `otlp`
/// feature and `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also exported there
/// (the exporter's own `OTEL_*` variables apply).
pub fn init(format: LogFormat) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let lines = match format {
        LogFormat::Text => lines.compact().with_ansi(colour()).boxed(),
        LogFormat::Json => lines
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(otlp::layer())
        .try_init();
}

/// The export of spans over OTLP (the `otlp` feature).
#[cfg(feature = "otlp")]
mod otlp {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::Layer;

    /// The exporter's provider, once made.
    static PROVIDER: std::sync::OnceLock<opentelemetry_sdk::trace::SdkTracerProvider> =
        std::sync::OnceLock::new();

    /// The layer that exports spans, when an endpoint is set: bantin's own down to
    /// `debug` (its loader batches and SQL statements), other crates' at `info`.
    pub fn layer<S>() -> Option<impl Layer<S>>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        let endpoint = std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT")
            .or_else(|| std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))?;
        let exporter = match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
        {
            Ok(exporter) => exporter,
            Err(error) => {
                eprintln!("traces are not exported to {endpoint:?}: {error}");
                return None;
            }
        };
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name("bantin")
            .build();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("bantin");
        // Kept for the process's life: the batch exporter runs while it lives.
        let _ = PROVIDER.set(provider);
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(
                    tracing_subscriber::filter::Targets::new()
                        .with_target("bantin", tracing::Level::DEBUG)
                        .with_default(tracing::Level::INFO),
                ),
        )
    }
}

/// Without the `otlp` feature, no export.
#[cfg(not(feature = "otlp"))]
mod otlp {
    /// No layer.
    pub fn layer() -> Option<tracing_subscriber::layer::Identity> {
        None
    }
}

/// Whether to colour text lines: on a terminal, unless `NO_COLOR` is set to
/// anything (<https://no-color.org>).
fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The header of a request's id.
pub const REQUEST_ID: &str = "x-request-id";

/// The operation a GraphQL request ran, put by the handler into its response's
/// extensions for the access line and the metrics.
#[derive(Clone, Debug)]
pub struct Operation {
    /// Its name, when it has one.
    pub name: Option<String>,
    /// `query`, `mutation`, or `none` when no operation was chosen.
    pub kind: &'static str,
}

impl Default for Operation {
    fn default() -> Self {
        Self {
            name: None,
            kind: "none",
        }
    }
}

/// Runs a request inside its span (with its id), echoes the id, and logs one
/// access line when it is answered: method, path, operation name, status,
/// duration, bytes, id. Probes of `/healthz` and `/readyz` are logged at `debug`
/// (a load balancer asks every few seconds, and a 503 of `/readyz` while the
/// search index is built is no error).
pub async fn access(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID)
        .filter(|id| acceptable_id(id))
        .cloned()
        .unwrap_or_else(new_id);
    request.headers_mut().insert(REQUEST_ID, id.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let id_text = id.to_str().unwrap_or_default().to_owned();
    // The operation's name is recorded by the handler once it knows it.
    let span = tracing::info_span!("request", id = %id_text, operation = tracing::field::Empty);
    let mut response = next.run(request).instrument(span.clone()).await;
    response.headers_mut().insert(REQUEST_ID, id);
    let status = response.status();
    let bytes = axum::body::HttpBody::size_hint(response.body()).exact();
    let operation = response
        .extensions()
        .get::<Operation>()
        .and_then(|operation| operation.name.clone());
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _entered = span.enter();
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                target: "bantin::access",
                method = %method,
                path = %path,
                operation = operation.as_deref().unwrap_or(""),
                status = status.as_u16(),
                duration_ms = (duration_ms * 1000.0).round() / 1000.0,
                bytes,
                "answered"
            )
        };
    }
    if path == "/healthz" || path == "/readyz" {
        line!(debug);
    } else if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        line!(warn);
    } else {
        line!(info);
    }
    response
}

/// Whether a client's request id is kept: printable ASCII without spaces, up to
/// 128 characters; another is replaced with one of ours.
fn acceptable_id(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty() && bytes.len() <= 128 && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// A new request id: a random UUID.
fn new_id() -> HeaderValue {
    let id = uuid::Uuid::new_v4().to_string();
    HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_id_is_kept_when_it_is_printable_and_short() {
        assert!(acceptable_id(&HeaderValue::from_static("abc-123_X.y")));
        assert!(!acceptable_id(&HeaderValue::from_static("has space")));
        assert!(!acceptable_id(&HeaderValue::from_static("")));
        let long = "x".repeat(129);
        assert!(!acceptable_id(
            &HeaderValue::from_str(&long).unwrap_or_else(|_| new_id())
        ));
        assert!(acceptable_id(&new_id()));
        assert_ne!(new_id(), new_id());
    }
}
