//! `helm x template`: render locally, like `helm template` (no cluster access).

use std::process::ExitCode;

use anyhow::Result;

use super::ChartArgs;

/// Prepares the chart and runs `helm template` on it.
pub fn run(args: &ChartArgs) -> Result<ExitCode> {
    super::run_helm("template", args, false, &[])
}
