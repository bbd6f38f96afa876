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

impl From<async_graphql::Error> for FieldError {
    fn from(error: async_graphql::Error) -> Self {
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
        }
    }
}

/// Gives every error of a response an `extensions.code`. Resolver errors already
/// carry one; the executor's own errors do not: a query that does not parse or
/// validate, or a value that does not fit its type (an argument's, or a variable's
/// as the argument reading it finds), is `BAD_USER_INPUT`; a query
/// over the depth or complexity limit is `QUERY_TOO_COMPLEX`; anything else that
/// escaped without a code is `INTERNAL`.
pub fn code_errors(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let message = error.message.as_str();
        let code = if message.contains("too complex") || message.contains("nested too deep") {
            "QUERY_TOO_COMPLEX"
        } else if error.path.is_empty()
            || message.starts_with("Failed to parse")
            || message.starts_with("Expected input type")
            || message.starts_with("Invalid value")
        {
            "BAD_USER_INPUT"
        } else {
            "INTERNAL"
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
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
    fn values_that_do_not_fit_their_type_are_bad_input() {
        for message in [
            r#"Expected input type "String", found 5."#,
            r#"Failed to parse "Date": premature end of input"#,
            r#"Invalid value for argument "first", expected type "Int""#,
        ] {
            let mut error = async_graphql::ServerError::new(message, None);
            error.path = vec![async_graphql::PathSegment::Field("article".to_owned())];
            let mut response = async_graphql::Response::from_errors(vec![error]);
            code_errors(&mut response);
            let code = response.errors[0]
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .cloned();
            assert_eq!(code, Some(async_graphql::Value::from("BAD_USER_INPUT")));
        }
    }

    #[test]
    fn bad_input_keeps_its_message_and_code() {
        let error = AppError::bad_input("first must be at most 100").extend();
        assert_eq!(error.message, "first must be at most 100");
        assert!(format!("{:?}", error.extensions).contains("BAD_USER_INPUT"));
    }
}
