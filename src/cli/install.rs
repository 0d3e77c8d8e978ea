//! `helm x install`: install the input as a new release, like `helm install`.

use std::process::ExitCode;

use anyhow::Result;

use super::ChartArgs;

/// Prepares the chart and runs `helm install` on it.
pub fn run(args: &ChartArgs) -> Result<ExitCode> {
    super::run_helm("install", args)
}
