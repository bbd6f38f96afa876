use std::process::ExitCode;

use clap::Parser;

/// mimalloc: the response tree of a GraphQL request is thousands of small
/// allocations freed together, which glibc's allocator spends a quarter of a
/// front-page request on (see BENCHMARKS.md). Built without transparent huge
/// pages: with them, memory it reserves is backed 2 MB at a time (a fifth more
/// peak memory in an import).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    bantin::telemetry::init();
    let cli = bantin::cli::Cli::parse();
    match bantin::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}
