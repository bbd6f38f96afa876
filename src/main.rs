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

/// The largest block mimalloc serves from its arenas, in KiB; a larger one is
/// mapped from the system when asked for and unmapped when freed. Requests make
/// few blocks that large; the search index's writer makes some 15 MB of them for
/// every commit (tables of 1 to 4 MB, zeroed), which from an arena were memory
/// used before, zeroed by hand page by page, and kept: under a stream of writes
/// RSS jumped by 16 MB at each commit. Mapped afresh they are zero already, and
/// only the pages written count (a jump of 7 MB; see BENCHMARKS.md). Blocks up to
/// 512 KiB, in the pages requests use, stay in the arenas.
const ARENA_MAX_OBJECT_KIB: std::ffi::c_long = 512;

/// `mi_option_purge_delay` and `mi_option_arena_max_object_size` of mimalloc.h
/// (the sys crate names no constants for them).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const MI_OPTION_ARENA_MAX_OBJECT_SIZE: libmimalloc_sys::mi_option_t = 45;

/// Sets [`PURGE_DELAY_MS`] and [`ARENA_MAX_OBJECT_KIB`], each unless the
/// environment already set it (`MIMALLOC_PURGE_DELAY`,
/// `MIMALLOC_ARENA_MAX_OBJECT_SIZE`), as mimalloc documents.
fn configure_allocator() {
    for (variable, option, value) in [
        (
            "MIMALLOC_PURGE_DELAY",
            MI_OPTION_PURGE_DELAY,
            PURGE_DELAY_MS,
        ),
        (
            "MIMALLOC_ARENA_MAX_OBJECT_SIZE",
            MI_OPTION_ARENA_MAX_OBJECT_SIZE,
            ARENA_MAX_OBJECT_KIB,
        ),
    ] {
        if std::env::var_os(variable).is_none() {
            // SAFETY: `mi_option_set` stores a number that mimalloc reads each time
            // it decides; it takes no pointer and may be called at any time.
            #[allow(unsafe_code)]
            unsafe {
                libmimalloc_sys::mi_option_set(option, value)
            };
        }
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
    configure_allocator();
    let sqlite_through_mimalloc = sqlite_memory::install();
    let cli = bantin::cli::Cli::parse();
    bantin::telemetry::init(cli.log_format);
    if !sqlite_through_mimalloc {
        tracing::warn!("SQLite keeps its own allocator: it was in use before the setting");
    }
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
    fn the_allocator_returns_memory_promptly_and_maps_large_blocks() {
        let get = |option| {
            // SAFETY: reads a number; takes no pointer.
            #[allow(unsafe_code)]
            unsafe {
                libmimalloc_sys::mi_option_get(option)
            }
        };
        // mimalloc's own defaults: a second, and 2 GiB (in KiB).
        assert_eq!(get(super::MI_OPTION_PURGE_DELAY), 1000);
        assert_eq!(get(super::MI_OPTION_ARENA_MAX_OBJECT_SIZE), 2 * 1024 * 1024);
        super::configure_allocator();
        assert_eq!(get(super::MI_OPTION_PURGE_DELAY), super::PURGE_DELAY_MS);
        assert_eq!(
            get(super::MI_OPTION_ARENA_MAX_OBJECT_SIZE),
            super::ARENA_MAX_OBJECT_KIB
        );
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
