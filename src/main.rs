use std::process::ExitCode;

use clap::Parser;

/// mimalloc: the response tree of a GraphQL request is thousands of small
/// allocations freed together, which glibc's allocator spends a quarter of a
/// front-page request on (see BENCHMARKS.md). Built without transparent huge
/// pages: with them, memory it reserves is backed 2 MB at a time (a fifth more
/// peak memory in an import).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long mimalloc keeps memory freed before it gives it back to the system, in
/// milliseconds. Its own default, a second, is longer than the gaps between index
/// commits under a stream of writes and than a benchmark's sampling: a server that
/// was indexing held twice the memory it used (see BENCHMARKS.md); at 10 ms the
/// speed of reads and writes was the same.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// `mi_option_purge_delay` of mimalloc.h (the sys crate names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets [`PURGE_DELAY_MS`], unless `MIMALLOC_PURGE_DELAY` in the environment
/// already set the delay, as mimalloc documents.
fn return_freed_memory_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: `mi_option_set` stores a number that mimalloc reads each time it
        // decides what to purge; it takes no pointer and may be called at any time.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS)
        };
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    return_freed_memory_promptly();
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

#[cfg(test)]
mod tests {
    #[test]
    fn freed_memory_goes_back_to_the_system_promptly() {
        let get = || {
            // SAFETY: reads a number; takes no pointer.
            #[allow(unsafe_code)]
            unsafe {
                libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY)
            }
        };
        // Option 15 is the purge delay: mimalloc's own default for it, a second.
        assert_eq!(get(), 1000);
        super::return_freed_memory_promptly();
        assert_eq!(get(), super::PURGE_DELAY_MS);
    }
}
