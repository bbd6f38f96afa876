//! The terminal side of the bundle commands: files, standard streams, progress.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::DatabaseConnection;

use crate::bundle::import::Summary;

/// Imports FILE (or standard input for `-`), with a progress bar on a terminal.
pub async fn import(db: &DatabaseConnection, file: &Path) -> anyhow::Result<Summary> {
    let (input, length): (Box<dyn BufRead + Send>, Option<u64>) = if file == Path::new("-") {
        (
            Box::new(BufReader::with_capacity(1 << 20, std::io::stdin())),
            None,
        )
    } else {
        let handle = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        let length = handle.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(1 << 20, handle)), length)
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = match length {
            Some(length) => ProgressBar::new(length),
            None => ProgressBar::new_spinner(),
        };
        let template = "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let result = crate::bundle::import::import(db, input, chrono::Utc::now(), |bytes, summary| {
        let seconds = started.elapsed().as_secs_f64().max(0.001);
        bar.set_position(bytes);
        bar.set_message(format!(
            "{} records, {:.0}/s",
            summary.total(),
            summary.total() as f64 / seconds
        ));
    })
    .await;
    bar.finish_and_clear();
    let summary = result.context("import failed; nothing was written")?;
    let seconds = started.elapsed().as_secs_f64();
    let mut kinds: Vec<_> = summary.records.iter().collect();
    kinds.sort();
    let kinds: Vec<String> = kinds
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    tracing::info!(
        "{} records in {seconds:.1} s ({:.0} records/s): {}",
        summary.total(),
        summary.total() as f64 / seconds.max(0.001),
        kinds.join(", ")
    );
    Ok(summary)
}

/// Exports to FILE or standard output.
pub async fn export(db: &DatabaseConnection, out: Option<&Path>) -> anyhow::Result<u64> {
    let mut writer: Box<dyn Write> = match out {
        Some(path) => Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock())),
    };
    let written = crate::bundle::export::export(db, &mut writer)
        .await
        .context("export failed")?;
    writer.flush()?;
    Ok(written)
}

/// Generates a corpus to FILE or standard output.
pub fn generate(size: &str, seed: u64, out: Option<&Path>) -> anyhow::Result<()> {
    let mut writer: Box<dyn Write> = match out {
        Some(path) => Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock())),
    };
    let counts =
        crate::bundle::generate::generate(size, seed, &mut writer).context("generation failed")?;
    writer.flush()?;
    tracing::info!("generated size={size} seed={seed}: {counts:?}");
    Ok(())
}
