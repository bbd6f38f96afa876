//! bantin: a GraphQL content service for newsrooms, Vietnamese first.
//!
//! The binary is thin; everything it does is here, so the tests drive the same code.

pub mod app;
pub mod bundle;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod telemetry;
pub mod text;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{Cli, Command};

mod bundle_cli;

/// Runs one command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(args) => {
            app::serve(args).await?;
        }
        Command::Migrate(args) => {
            let db = db::connect(&args).await?;
            db::migrate(&db).await?;
            tracing::info!("the database schema is up to date");
        }
        Command::Import { file, database } => {
            let db = db::connect(&database).await?;
            db::migrate(&db).await?;
            let summary = bundle_cli::import(&db, &file).await?;
            tracing::info!(
                "imported {} records: {} added, {} changed, {} unchanged",
                summary.total(),
                summary.inserted,
                summary.updated,
                summary.unchanged
            );
        }
        Command::Export { out, database } => {
            let db = db::connect(&database).await?;
            db::migrate(&db).await?;
            let written = bundle_cli::export(&db, out.as_deref()).await?;
            tracing::info!("exported {written} records");
        }
        Command::Generate { size, seed, out } => {
            bundle_cli::generate(&size, seed, out.as_deref())?;
        }
        Command::Schema { check: None } => {
            std::io::stdout()
                .write_all(graphql::schema::sdl().as_bytes())
                .context("could not write the schema")?;
        }
        Command::Schema { check: Some(path) } => {
            let committed = std::fs::read_to_string(&path)
                .with_context(|| format!("could not read {}", path.display()))?;
            if committed != graphql::schema::sdl() {
                tracing::error!(
                    "{} differs from the schema the code produces; run `bantin schema > {}`",
                    path.display(),
                    path.display()
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
