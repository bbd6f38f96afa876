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

/// SQLite's allocations, made through mimalloc instead of the C library's
/// `malloc`. SQLite allocates on each connection's own thread, where glibc gives
/// every thread an arena of its own and keeps what is freed there; through
/// mimalloc, memory SQLite frees goes back to the system as the rest does. After
/// a front-page and an article-page load a SQLite server held 83 MB against 101
/// (see BENCHMARKS.md).
mod sqlite_memory {
    use std::ffi::{c_int, c_void};

    use libmimalloc_sys as mi;
    use libsqlite3_sys as ffi;

    // SAFETY (of each function below): SQLite calls them as its documented
    // `sqlite3_mem_methods`, with sizes above zero and with pointers they
    // returned; each passes them on to mimalloc's matching function.
    #[allow(unsafe_code)]
    unsafe extern "C" fn malloc(size: c_int) -> *mut c_void {
        unsafe { mi::mi_malloc(usize::try_from(size).unwrap_or(0)) }
    }
    #[allow(unsafe_code)]
    unsafe extern "C" fn free(block: *mut c_void) {
        unsafe { mi::mi_free(block) }
    }
    #[allow(unsafe_code)]
    unsafe extern "C" fn realloc(block: *mut c_void, size: c_int) -> *mut c_void {
        unsafe { mi::mi_realloc(block, usize::try_from(size).unwrap_or(0)) }
    }
    #[allow(unsafe_code)]
    unsafe extern "C" fn size(block: *mut c_void) -> c_int {
        let size = unsafe { mi::mi_usable_size(block) };
        c_int::try_from(size).unwrap_or(c_int::MAX)
    }
    #[allow(unsafe_code)]
    unsafe extern "C" fn roundup(size: c_int) -> c_int {
        let rounded = unsafe { mi::mi_good_size(usize::try_from(size).unwrap_or(0)) };
        c_int::try_from(rounded).unwrap_or(size)
    }
    #[allow(unsafe_code)]
    unsafe extern "C" fn init(_: *mut c_void) -> c_int {
        ffi::SQLITE_OK
    }
    #[allow(unsafe_code)]
    unsafe extern "C" fn shutdown(_: *mut c_void) {}

    /// Hands SQLite the functions above. It must come before SQLite's first use
    /// in the process (SQLite then refuses, and keeps its own); false then.
    pub fn install() -> bool {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(malloc),
            xFree: Some(free),
            xRealloc: Some(realloc),
            xSize: Some(size),
            xRoundup: Some(roundup),
            xInit: Some(init),
            xShutdown: Some(shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: `SQLITE_CONFIG_MALLOC` takes a pointer to the methods, which
        // SQLite copies before it returns; it changes nothing once SQLite runs.
        #[allow(unsafe_code)]
        let code =
            unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, std::ptr::from_ref(&methods)) };
        code == ffi::SQLITE_OK
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    return_freed_memory_promptly();
    let sqlite_through_mimalloc = sqlite_memory::install();
    bantin::telemetry::init();
    if !sqlite_through_mimalloc {
        tracing::warn!("SQLite keeps its own allocator: it was in use before the setting");
    }
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

    /// Memory SQLite asks for comes from mimalloc's heap; a second setting is
    /// refused once SQLite runs.
    #[test]
    fn sqlite_allocates_through_mimalloc() {
        use libsqlite3_sys as ffi;
        assert!(super::sqlite_memory::install());
        // SAFETY: a block from SQLite's allocator, looked at and given back; the
        // configuration call takes a pointer SQLite only reads.
        #[allow(unsafe_code)]
        unsafe {
            let block = ffi::sqlite3_malloc(4096);
            assert!(!block.is_null());
            assert!(libmimalloc_sys::mi_is_in_heap_region(block));
            assert!(ffi::sqlite3_msize(block) >= 4096);
            ffi::sqlite3_free(block);
            assert!(!super::sqlite_memory::install());
        }
    }
}
