//! `helm x upgrade`: upgrade a release to the input, like `helm upgrade` (with `-i` to install).

use std::process::ExitCode;

use anyhow::Result;

use super::ApplyArgs;

/// Adopts the `--adopt` objects, prepares the chart (rendered as an upgrade when the release
/// exists) and runs `helm upgrade` on it.
pub fn run(args: &ApplyArgs) -> Result<ExitCode> {
    super::run_apply("upgrade", args)
}
