//! `helm x install`: install the input as a new release, like `helm install`.

use std::process::ExitCode;

use anyhow::Result;

use super::ApplyArgs;

/// Adopts the `--adopt` objects, prepares the chart and runs `helm install` on it.
pub fn run(args: &ApplyArgs) -> Result<ExitCode> {
    super::run_apply("install", args)
}
