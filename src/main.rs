//! The `porteiro` binary: parse the command line and run the command.
#![forbid(unsafe_code)]

use std::process::ExitCode;

/// jemalloc: the C library's allocator spent a tenth of the CPU of minting a token, much of it
/// consolidating its free lists after the HTTP server's 8 KiB buffers (bench/README.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    porteiro::cli::run(return_freed_memory).await
}

/// Called once the server is up. From then on jemalloc's background thread hands memory freed
/// after a load back to the system within seconds; without it an idle process keeps what it
/// last used (bench/README.md, "Idle memory after a load"). Not turned on before: it defers the
/// return of large blocks too, and the first start's hash of the owner's password would then stay
/// with the process for ten seconds.
fn return_freed_memory() {
    #[cfg(not(target_env = "msvc"))]
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(error = %e, "jemalloc's background thread could not be started");
    }
}
