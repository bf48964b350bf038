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
    porteiro::cli::run().await
}
