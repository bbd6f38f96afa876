//! The one error type of the service and its mapping to GraphQL errors.
//!
//! Code below the GraphQL layer returns [`AppError`]; resolvers turn it into an
//! `async_graphql::Error` once, with `.extend()`, which sets `extensions.code`.
//! Database and internal errors are logged in full and answered with a generic
//! message, so no SQL or driver text reaches a client.

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

/// Everything that can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is malformed or out of range (`BAD_USER_INPUT`).
    #[error("{0}")]
    BadInput(String),
    /// The thing asked for does not exist or is not visible (`NOT_FOUND`).
    #[error("{0} not found")]
    NotFound(String),
    /// The operation needs a token (`UNAUTHENTICATED`).
    #[error("{0}")]
    Unauthenticated(String),
    /// The token's role does not allow the operation (`FORBIDDEN`).
    #[error("{0}")]
    Forbidden(String),
    /// The database failed (`INTERNAL`; the detail is logged, not returned).
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// The database cannot be reached (`SERVICE_UNAVAILABLE`; the request may be
    /// tried again).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The search index is still being built from the database, after a start
    /// without one (`SEARCH_NOT_READY`; the request may be tried again).
    #[error("the search index is being built; try again shortly")]
    SearchNotReady,
    /// Any other failure (`INTERNAL`).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Whether a database error says the database cannot be reached now (no
/// connection to be had, a connection lost, the server shutting down), rather
/// than that a statement failed.
pub fn is_unavailable(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let driver = match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Query(RuntimeErr::SqlxError(error)) | DbErr::Exec(RuntimeErr::SqlxError(error)) => {
            error
        }
        _ => return false,
    };
    match &**driver {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        // PostgreSQL's class 08 (connection exception) and 57P01-57P03 (the
        // server is shutting down or starting).
        Sqlx::Database(error) => error
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

impl AppError {
    /// A `BAD_USER_INPUT` error with the given message.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadInput(message.into())
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadInput(_) => "BAD_USER_INPUT",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Db(error) if is_unavailable(error) => "SERVICE_UNAVAILABLE",
            Self::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Self::SearchNotReady => "SEARCH_NOT_READY",
            Self::Db(_) | Self::Internal(_) => "INTERNAL",
        }
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        let message = match self {
            Self::Db(error) if is_unavailable(error) => {
                tracing::warn!(error = %self, "database unavailable");
                "the database is unavailable; try again shortly".to_owned()
            }
            Self::Unavailable(_) => {
                tracing::warn!(error = %self, "database unavailable");
                "the database is unavailable; try again shortly".to_owned()
            }
            Self::Db(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        async_graphql::Error::new(message).extend_with(|_, e| e.set("code", self.code()))
    }
}

/// The error a resolver returns. It is deliberately not `Display`: the only way
/// from an [`AppError`] to a GraphQL error goes through [`ErrorExtensions::extend`],
/// so every error reaches the client with its `extensions.code`.
pub struct FieldError(async_graphql::Error);

impl From<AppError> for FieldError {
    fn from(error: AppError) -> Self {
        Self(error.extend())
    }
}

/// An error of async-graphql's own (a missing context value, say) that reaches a
/// resolver is the server's fault: `INTERNAL`, unless it says otherwise.
impl From<async_graphql::Error> for FieldError {
    fn from(mut error: async_graphql::Error) -> Self {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            tracing::error!(message = %error.message, "request failed");
            extensions.set("code", "INTERNAL");
        }
        Self(error)
    }
}

impl From<FieldError> for async_graphql::Error {
    fn from(error: FieldError) -> Self {
        error.0
    }
}

/// The result type of resolvers.
pub type FieldResult<T> = Result<T, FieldError>;

/// Errors of the shared DataLoader come wrapped in an `Arc`.
impl From<std::sync::Arc<AppError>> for AppError {
    fn from(error: std::sync::Arc<AppError>) -> Self {
        match &*error {
            Self::BadInput(m) => Self::BadInput(m.clone()),
            Self::NotFound(m) => Self::NotFound(m.clone()),
            Self::Unauthenticated(m) => Self::Unauthenticated(m.clone()),
            Self::Forbidden(m) => Self::Forbidden(m.clone()),
            Self::Db(e) if is_unavailable(e) => Self::Unavailable(e.to_string()),
            Self::Db(e) => Self::Internal(e.to_string()),
            Self::Unavailable(m) => Self::Unavailable(m.clone()),
            Self::Internal(m) => Self::Internal(m.clone()),
            Self::SearchNotReady => Self::SearchNotReady,
        }
    }
}

/// Gives every error of a response an `extensions.code`. Every error a resolver
/// returns carries one already (it is an [`AppError`], or coded on its way through
/// [`FieldError`]), and so does every refusal of the handler; the only errors
/// without one are async-graphql's own, made before a resolver runs: a document
/// that does not parse or validate, an unknown operation, a variable or an
/// argument whose value does not fit its type. All are the client's:
/// `BAD_USER_INPUT`.
pub fn code_errors(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
}

/// Puts the errors of a response in the order of the document: by the place of
/// the field that failed, then by the path (the items of a list in order). The
/// executor reports errors as fields finish, in an order that changes with the
/// timing of their loads; the spec leaves the order open, and a stable one lets
/// clients and caches compare responses.
pub fn order_errors(response: &mut async_graphql::Response) {
    use async_graphql::PathSegment;
    use std::cmp::Ordering;
    if response.errors.len() < 2 {
        return;
    }
    let segment = |a: &PathSegment, b: &PathSegment| match (a, b) {
        (PathSegment::Index(a), PathSegment::Index(b)) => a.cmp(b),
        (PathSegment::Field(a), PathSegment::Field(b)) => a.cmp(b),
        (PathSegment::Index(_), PathSegment::Field(_)) => Ordering::Less,
        (PathSegment::Field(_), PathSegment::Index(_)) => Ordering::Greater,
    };
    response.errors.sort_by(|a, b| {
        let place = |error: &async_graphql::ServerError| {
            error.locations.first().map(|pos| (pos.line, pos.column))
        };
        place(a).cmp(&place(b)).then_with(|| {
            a.path
                .iter()
                .zip(&b.path)
                .map(|(a, b)| segment(a, b))
                .find(|ordering| ordering.is_ne())
                .unwrap_or_else(|| a.path.len().cmp(&b.path.len()))
        })
    });
}

/// The result type of everything below the GraphQL layer.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_errors_do_not_leak_their_text() {
        let error = AppError::from(DbErr::Custom("SELECT secret FROM x".into())).extend();
        assert_eq!(error.message, "internal error");
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .cloned();
        assert_eq!(code, Some(async_graphql::Value::from("INTERNAL")));
    }

    #[test]
    fn the_executors_own_errors_are_bad_input_and_a_resolvers_keep_their_code() {
        let mut error = async_graphql::ServerError::new(r#"Failed to parse "Date""#, None);
        error.path = vec![async_graphql::PathSegment::Field("article".to_owned())];
        let resolver: async_graphql::Error =
            FieldError::from(async_graphql::Error::new("Data `X` does not exist.")).into();
        let mut response = async_graphql::Response::from_errors(vec![
            error,
            resolver.into_server_error(async_graphql::Pos::default()),
        ]);
        code_errors(&mut response);
        let codes: Vec<_> = response
            .errors
            .iter()
            .map(|error| {
                error
                    .extensions
                    .as_ref()
                    .and_then(|e| e.get("code"))
                    .cloned()
            })
            .collect();
        assert_eq!(
            codes,
            [
                Some(async_graphql::Value::from("BAD_USER_INPUT")),
                Some(async_graphql::Value::from("INTERNAL"))
            ]
        );
    }

    #[test]
    fn bad_input_keeps_its_message_and_code() {
        let error = AppError::bad_input("first must be at most 100").extend();
        assert_eq!(error.message, "first must be at most 100");
        assert!(format!("{:?}", error.extensions).contains("BAD_USER_INPUT"));
    }
}
