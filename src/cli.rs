//! The command line: `serve` (the default), `migrate`, `import`, `export`,
//! `generate`, `reindex`, `token`, `schema`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::auth::Role;
use crate::config::{DatabaseArgs, ServeArgs};

/// bantin: a GraphQL content service for newsrooms, Vietnamese first.
#[derive(Parser, Debug)]
#[command(name = "bantin", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Settings of `serve`, which runs when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,

    /// How log lines are written: `text` (colour on a terminal, none under
    /// `NO_COLOR`) or `json` (one object a line).
    #[arg(
        long,
        global = true,
        env = "BANTIN_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    pub log_format: crate::telemetry::LogFormat,
}

/// What to do.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Migrate the database, load the sample content if it is empty, and serve GraphQL.
    Serve(Box<ServeArgs>),
    /// Bring the database schema up to date and exit.
    Migrate(DatabaseArgs),
    /// Import a content bundle (JSON Lines) from FILE, or standard input with `-`.
    Import {
        /// The bundle, or `-` for standard input.
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Export all content as a bundle, to standard output or `--out FILE`.
    Export {
        /// Where to write; standard output when omitted.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Generate a synthetic Vietnamese corpus as a bundle (deterministic for a seed).
    Generate {
        /// tiny, small, medium (200,000 articles) or large.
        #[arg(long, default_value = "medium")]
        size: String,
        /// The seed; the same seed and size give the same bytes.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Where to write; standard output when omitted.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Rebuild the search index from the database (and have every other running
    /// instance rebuild theirs).
    Reindex {
        /// The index to rebuild; no server may be using it.
        #[arg(long, env = "BANTIN_INDEX_DIR", default_value = "bantin-index")]
        index_dir: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Create, list and revoke API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print the GraphQL schema (SDL), or check it against a file.
    Schema {
        /// Compare with this file instead of printing; exit 1 when they differ.
        #[arg(long, value_name = "FILE")]
        check: Option<PathBuf>,
    },
}

/// What to do with API tokens.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it once; only its digest is stored.
    Create {
        /// What the token may do.
        #[arg(long, value_enum)]
        role: Role,
        /// Who or what holds it (recorded on the revisions it causes).
        #[arg(long)]
        name: String,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke the live tokens with this id or name.
    Revoke {
        /// A token id, or a name.
        token: String,
    },
}
