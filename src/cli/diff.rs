//! `helm x diff [upgrade] RELEASE INPUT`: flags named as in helm-diff.

use clap::Args;

use super::ChartArgs;
use crate::action::diff::DiffOptions;
use crate::diff::OutputFormat;

/// Flags of `helm x diff`, named as in helm-diff.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub chart: ChartArgs,
    /// Unchanged lines to show around each change; -1 shows whole objects.
    #[arg(short = 'C', long, default_value_t = -1, allow_negative_numbers = true, env = "HELM_DIFF_OUTPUT_CONTEXT")]
    context: i64,
    /// Report format: diff, simple or json.
    #[arg(long, default_value = "diff", env = "HELM_DIFF_OUTPUT")]
    output: OutputFormat,
    /// Print Secret values instead of redacting them.
    #[arg(long)]
    show_secrets: bool,
    /// Exit with 2 when there are changes, 0 when there are none.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Also compare `helm test` hooks.
    #[arg(long)]
    include_tests: bool,
    /// Accepted for helm-diff compatibility: a release that does not exist yet always shows as added.
    #[arg(long)]
    allow_unreleased: bool,
}

impl DiffArgs {
    /// The report options these flags ask for.
    pub fn options(&self) -> DiffOptions {
        DiffOptions {
            context: usize::try_from(self.context).ok(),
            output: self.output,
            show_secrets: self.show_secrets,
            detailed_exitcode: self.detailed_exitcode,
            include_tests: self.include_tests,
        }
    }
}
