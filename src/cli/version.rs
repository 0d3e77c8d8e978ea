//! `helm x version`.

use std::process::ExitCode;

use anyhow::Result;

/// Prints helm-x's version.
pub fn run() -> Result<ExitCode> {
    println!("helm-x {}", env!("CARGO_PKG_VERSION"));
    Ok(ExitCode::SUCCESS)
}
