//! Content bundles: JSON Lines import and export of every content type, and a
//! deterministic corpus generator for benchmarks and scale tests.

pub mod export;
pub mod format;
pub mod generate;
pub mod import;
pub mod indexes;
pub mod session;
mod words;

/// Why a bundle could not be imported or exported.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A line is wrong; nothing of the bundle was written.
    #[error("line {line}: {}{problem}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
    Line {
        line: usize,
        field: String,
        problem: String,
    },
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl BundleError {
    pub(crate) fn line(line: usize, field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Line {
            line,
            field: field.into(),
            problem: problem.into(),
        }
    }
}
