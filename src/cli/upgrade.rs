//! `helm x upgrade`: upgrade a release to the input, like `helm upgrade` (with `-i` to install).

use std::process::ExitCode;

use anyhow::Result;

use super::ChartArgs;

/// Prepares the chart and runs `helm upgrade` on it.
pub fn run(args: &ChartArgs) -> Result<ExitCode> {
    super::run_helm("upgrade", args)
}
