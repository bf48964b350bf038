//! The `porteiro` binary: parse the command line and run the command.
#![forbid(unsafe_code)]

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    porteiro::cli::run().await
}
