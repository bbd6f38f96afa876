//! bantin: a GraphQL content service for newsrooms, Vietnamese first.
//!
//! The binary is thin; everything it does is here, so the tests drive the same code.

pub mod app;
pub mod auth;
pub mod bundle;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphiql;
pub mod graphql;
pub mod media;
pub mod metrics;
pub mod rate;
pub mod search;
pub mod server;
pub mod telemetry;
pub mod text;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{Cli, Command, TokenCommand};

mod bundle_cli;

/// Runs one command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command.unwrap_or(Command::Serve(Box::new(cli.serve))) {
        Command::Serve(args) => {
            app::serve(*args).await?;
        }
        Command::Migrate(args) => {
            let db = db::connect(&args).await?;
            db::migrate(&db).await?;
            tracing::info!("the database schema is up to date");
        }
        Command::Import { file, database } => {
            // Before any database is made or migrated for it.
            if file != std::path::Path::new("-") && !file.is_file() {
                anyhow::bail!("there is no bundle at {}", file.display());
            }
            let db = db::connect_for_bulk(&database).await?;
            db::migrate(&db).await?;
            let journal = db::RollbackJournal::enter(&db).await?;
            let summary = bundle_cli::import(&db, &file).await;
            // Back to WAL whatever happened; the import's own error comes first.
            let left = journal.leave(&db).await;
            let summary = summary?;
            left?;
            tracing::info!(
                "imported {} records: {} added, {} changed, {} unchanged",
                summary.total(),
                summary.inserted,
                summary.updated,
                summary.unchanged
            );
        }
        Command::Export { out, database } => {
            let db = db::connect_existing(&database).await?;
            db::migrate(&db).await?;
            let written = bundle_cli::export(&db, out.as_deref()).await?;
            tracing::info!("exported {written} records");
        }
        Command::Generate { size, seed, out } => {
            bundle_cli::generate(&size, seed, out.as_deref())?;
        }
        Command::Reindex {
            index_dir,
            database,
        } => {
            let db = db::connect_existing(&database).await?;
            db::migrate(&db).await?;
            // Other instances follow the outbox and rebuild theirs; this one's
            // rebuild starts above the mark, so it does not run twice.
            search::enqueue_all(&db, chrono::Utc::now()).await?;
            let started = std::time::Instant::now();
            let count = if std::io::stderr().is_terminal() {
                let bar = indicatif::ProgressBar::new_spinner();
                let template = "{spinner} [{elapsed_precise}] {pos} records indexed ({per_sec})";
                if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                    bar.set_style(style);
                }
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                let count = search::rebuild(&db, &index_dir, &mut |n| bar.set_position(n)).await;
                bar.finish_and_clear();
                count
            } else {
                search::rebuild(&db, &index_dir, &mut search::every_few_seconds()).await
            }
            .with_context(|| {
                format!(
                    "could not rebuild the index in {} (is a server using it?)",
                    index_dir.display()
                )
            })?;
            tracing::info!(
                "indexed {count} records in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        Command::Token { action, database } => {
            let db = db::connect_existing(&database).await?;
            db::migrate(&db).await?;
            token(&db, action).await?;
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

async fn token(db: &sea_orm::DatabaseConnection, action: TokenCommand) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let mut out = std::io::stdout().lock();
    match action {
        TokenCommand::Create { role, name } => {
            let (row, secret) = auth::create(db, &name, role, now).await?;
            writeln!(out, "{secret}")?;
            tracing::info!(
                "created {} token {} ({}); it is shown once and cannot be recovered",
                row.role,
                row.id,
                row.name
            );
        }
        TokenCommand::List => {
            writeln!(out, "id\trole\tname\tcreated\trevoked")?;
            for row in auth::list(db).await? {
                let revoked = row.revoked_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{revoked}",
                    row.id,
                    row.role,
                    row.name,
                    row.created_at.to_rfc3339()
                )?;
            }
        }
        TokenCommand::Revoke { token } => {
            let revoked = auth::revoke(db, &token, now).await?;
            anyhow::ensure!(revoked > 0, "no live token has the id or name {token:?}");
            tracing::info!("revoked {revoked} token(s)");
        }
    }
    Ok(())
}
