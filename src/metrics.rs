//! Prometheus metrics, served at `/metrics` (or on an address of their own,
//! `BANTIN_METRICS_LISTEN`), in the text format, with `prometheus-client`.
//!
//! Requests and their latency by operation name and type, GraphQL errors by code
//! (refusals included: rate limits, limits of a document, bad bodies), the loader
//! batches and SQL statements of each query, the database pool, and the search
//! index's state. Operation names come from clients: the first
//! [`MAX_OPERATION_NAMES`] names seen are kept as labels, later ones count as
//! `other`, so that no client can grow the set of series without bound.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The most operation names kept as labels.
pub const MAX_OPERATION_NAMES: usize = 200;

/// The longest operation name kept as a label.
const MAX_NAME_LENGTH: usize = 64;

/// The labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Request {
    /// The operation's name (`""` for an anonymous one, `other` past the limit).
    operation: String,
    /// `query`, `mutation`, or `none` (a request that never chose an operation).
    kind: String,
    status: u16,
}

/// The labels of a request's latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Operation {
    operation: String,
    kind: String,
}

/// The label of an error.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Code {
    code: String,
}

/// The label of a pool's connections.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct State {
    state: String,
}

/// The metrics of one server.
pub struct Metrics {
    registry: Registry,
    requests: Family<Request, Counter>,
    latency: Family<Operation, Histogram>,
    errors: Family<Code, Counter>,
    batches: Histogram,
    statements: Histogram,
    connections: Family<State, Gauge>,
    search_ready: Gauge,
    search_lag: Gauge,
    names: Mutex<HashSet<String>>,
}

/// What one GraphQL request did, told to [`Metrics::request`].
pub struct Served<'a> {
    pub operation: Option<&'a str>,
    pub kind: &'a str,
    pub status: u16,
    pub elapsed: Duration,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("bantin");
        let requests = Family::<Request, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL requests answered, by operation, its type and the HTTP status",
            requests.clone(),
        );
        let latency = Family::<Operation, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ])
        });
        registry.register(
            "graphql_request_duration_seconds",
            "Time to answer a GraphQL request, by operation and its type",
            latency.clone(),
        );
        let errors = Family::<Code, Counter>::default();
        registry.register(
            "graphql_errors",
            "GraphQL errors answered, by extensions.code (refusals included)",
            errors.clone(),
        );
        let counts = || Histogram::new([0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]);
        let batches = counts();
        registry.register(
            "loader_batches_per_request",
            "DataLoader batches a query ran",
            batches.clone(),
        );
        let statements = counts();
        registry.register(
            "sql_statements_per_request",
            "SQL statements a query ran on its connection",
            statements.clone(),
        );
        let connections = Family::<State, Gauge>::default();
        registry.register(
            "database_connections",
            "Connections of the database pool, in use or idle",
            connections.clone(),
        );
        let search_ready = Gauge::default();
        registry.register(
            "search_index_ready",
            "1 once the search index has caught up with the database since the start",
            search_ready.clone(),
        );
        let search_lag = Gauge::default();
        registry.register(
            "search_index_lag",
            "Changes of the outbox the search index has yet to apply (as last seen)",
            search_lag.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            errors,
            batches,
            statements,
            connections,
            search_ready,
            search_lag,
            names: Mutex::default(),
        }
    }
}

impl Metrics {
    /// Counts a GraphQL request.
    pub fn request(&self, served: &Served<'_>) {
        let operation = self.label(served.operation.unwrap_or(""));
        self.requests
            .get_or_create(&Request {
                operation: operation.clone(),
                kind: served.kind.to_owned(),
                status: served.status,
            })
            .inc();
        self.latency
            .get_or_create(&Operation {
                operation,
                kind: served.kind.to_owned(),
            })
            .observe(served.elapsed.as_secs_f64());
    }

    /// Counts an error answered, by its code.
    pub fn error(&self, code: &str) {
        self.errors
            .get_or_create(&Code {
                code: code.to_owned(),
            })
            .inc();
    }

    /// Notes the loader batches and SQL statements of one query.
    pub fn work(&self, batches: usize, statements: u64) {
        self.batches.observe(batches as f64);
        self.statements.observe(statements as f64);
    }

    /// The text of `/metrics`, with the pool's and the index's state as they are
    /// (the index's lag when it could be read).
    pub fn render(
        &self,
        pool: Option<(u32, u32)>,
        search_ready: bool,
        search_lag: Option<i64>,
    ) -> String {
        if let Some(lag) = search_lag {
            self.search_lag.set(lag);
        }
        if let Some((size, idle)) = pool {
            let state = |state: &str| State {
                state: state.to_owned(),
            };
            self.connections
                .get_or_create(&state("idle"))
                .set(i64::from(idle));
            self.connections
                .get_or_create(&state("in_use"))
                .set(i64::from(size.saturating_sub(idle)));
        }
        self.search_ready.set(i64::from(search_ready));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// The label of an operation name: itself while fewer than
    /// [`MAX_OPERATION_NAMES`] are known, `other` after.
    fn label(&self, name: &str) -> String {
        if name.len() > MAX_NAME_LENGTH {
            return "other".to_owned();
        }
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        if names.contains(name) {
            return name.to_owned();
        }
        if names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_owned());
            return name.to_owned();
        }
        "other".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_past_the_limit_count_as_other() {
        let metrics = Metrics::default();
        for n in 0..MAX_OPERATION_NAMES {
            assert_eq!(metrics.label(&format!("Op{n}")), format!("Op{n}"));
        }
        assert_eq!(metrics.label("Op0"), "Op0");
        assert_eq!(metrics.label("OneTooMany"), "other");
        assert_eq!(metrics.label(&"x".repeat(65)), "other");
    }
}
