//! `helm x diff [upgrade] RELEASE INPUT` and `helm x diff revision|rollback|release`: flags named,
//! typed and defaulted as in helm-diff 3.15, with its environment variables.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::ChartArgs;
use crate::action::diff::{DiffOptions, DryRun, ReportOptions};
use crate::diff::OutputFormat;

/// Flags of `helm x diff upgrade`, named as in helm-diff.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub chart: ChartArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Diff a release that is not installed yet as if it were installed.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    allow_unreleased: Option<bool>,
    /// Same as --allow-unreleased, to match `helm upgrade --install`.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    install: Option<bool>,
    /// Compare with the live objects instead of the release's manifest, so changes made outside
    /// helm show (HELM_DIFF_THREE_WAY_MERGE=true).
    #[arg(long, visible_alias = "live", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    three_way_merge: Option<bool>,
    /// `--dry-run`/`=client`/`=true`: no cluster access, diff as an install with the chart's
    /// values; `=server` (the default) renders with cluster access, so `lookup` works.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "client", value_name = "MODE")]
    dry_run: Option<String>,
    /// true, false or auto: how Helm 4 applies the upgrade (auto: as the last release did).
    #[arg(long, default_value = "auto", value_name = "MODE")]
    server_side: String,
    /// Render with `helm template` (no cluster validation, no lookup) instead of a server dry run.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    disable_validation: Option<bool>,
}

/// The report flags every diff subcommand takes (helm-diff's `AddDiffOptions`, plus helm-x's).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Unchanged lines to show around each change; -1 shows whole objects (HELM_DIFF_OUTPUT_CONTEXT).
    #[arg(short = 'C', long, allow_negative_numbers = true, value_name = "NUM")]
    context: Option<i64>,
    /// diff, simple, template, json, structured, dyff or markdown (HELM_DIFF_OUTPUT); template uses
    /// the Go template file named by HELM_DIFF_TPL.
    #[arg(long, value_name = "FORMAT")]
    output: Option<String>,
    /// Print Secret values instead of redacting them.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    show_secrets: Option<bool>,
    /// Print Secret values decoded.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    show_secrets_decoded: Option<bool>,
    /// Same as --suppress Secret.
    #[arg(short = 'q', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    suppress_secrets: Option<bool>,
    /// Report objects of this kind without their lines (repeatable).
    #[arg(long, value_name = "KIND")]
    suppress: Vec<String>,
    /// Leave diff lines matching this regular expression out of the report (repeatable).
    #[arg(long, value_name = "REGEX")]
    suppress_output_line_regex: Vec<String>,
    /// Detect renamed objects: an object removed and one of its kind added count as one change when
    /// at most this fraction of their lines differ.
    #[arg(short = 'D', long, default_value_t = 0.0, value_name = "FRACTION")]
    find_renames: f32,
    /// Ignore a carriage return at the end of lines.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    strip_trailing_cr: Option<bool>,
    /// Exit with 2 when there are changes, 0 when there are none.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    detailed_exitcode: Option<bool>,
    /// Also compare `helm test` hooks.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    include_tests: Option<bool>,
    /// Compare objects by their normalized YAML, so formatting and key order do not show
    /// (HELM_DIFF_NORMALIZE_MANIFESTS=true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    normalize_manifests: Option<bool>,
    /// Colour the output (HELM_DIFF_COLOR=true|false); by default only on a terminal.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    color: Option<bool>,
    /// Never colour the output.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, value_name = "BOOL")]
    no_color: Option<bool>,
    /// Leave a field out of the comparison on both sides: a JSON pointer, optionally after
    /// `Kind:`, `group/Kind:` or `group/version/Kind:`; `*` matches any key or item (repeatable).
    #[arg(long, value_name = "RULE")]
    ignore: Vec<String>,
    /// Read --ignore rules from FILE, one per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    ignore_file: Vec<PathBuf>,
    /// Ignore a well-known kind of noise: chart-labels, checksums or cabundle (repeatable).
    #[arg(long, value_name = "NAME")]
    ignore_preset: Vec<String>,
    /// Largest size in bytes of the markdown report.
    #[arg(long, default_value_t = crate::diff::MARKDOWN_LIMIT, value_name = "BYTES")]
    markdown_limit: usize,
}

/// `helm x diff revision RELEASE REV1 [REV2]`.
#[derive(Debug, Args)]
pub struct RevisionArgs {
    /// Release name.
    pub release: String,
    /// One revision (compared with the deployed one) or two (compared with each other).
    #[arg(num_args = 1..=2, required = true)]
    pub revisions: Vec<u32>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// `helm x diff rollback RELEASE REVISION`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Release name.
    pub release: String,
    /// The revision a rollback would go back to.
    pub revision: u32,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// `helm x diff release [NS/]RELEASE1 [NS/]RELEASE2`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Two releases of the same chart, each optionally as NAMESPACE/RELEASE.
    #[arg(num_args = 2, required = true, value_name = "RELEASE")]
    pub releases: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// A boolean flag's value as Go's `strconv.ParseBool` reads it (`--flag`, `--flag=false`).
fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        other => Err(format!("invalid boolean {other:?}")),
    }
}

/// A helm-diff environment variable that is on only when it is exactly `true`.
fn env_true(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "true")
}

impl ReportArgs {
    /// The report options, with helm-diff's environment variables filling in flags not given.
    pub fn options(&self) -> Result<ReportOptions> {
        let output_name = match &self.output {
            Some(o) => o.clone(),
            None => std::env::var("HELM_DIFF_OUTPUT")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| "diff".into()),
        };
        let output: OutputFormat = output_name.parse()?;
        let context = match self.context {
            Some(c) => c,
            None => std::env::var("HELM_DIFF_OUTPUT_CONTEXT")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1),
        };
        let normalize = self.normalize_manifests.unwrap_or_else(|| {
            let on = env_true("HELM_DIFF_NORMALIZE_MANIFESTS");
            if on {
                eprintln!("Enabled normalize manifests via the envvar");
            }
            on
        });
        let template = match (output, std::env::var_os("HELM_DIFF_TPL")) {
            (OutputFormat::Template, Some(path)) => {
                let path = PathBuf::from(path);
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("HELM_DIFF_TPL: cannot read {}", path.display()))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Some(
                    crate::diff::parse_template(&name, &text)
                        .with_context(|| format!("HELM_DIFF_TPL: {}", path.display()))?,
                )
            }
            _ => None,
        };
        let mut suppressed_kinds = self.suppress.clone();
        if self.suppress_secrets == Some(true) {
            suppressed_kinds.push("Secret".into());
        }
        let suppressed_lines = self
            .suppress_output_line_regex
            .iter()
            .map(|re| {
                regex::Regex::new(re)
                    .with_context(|| format!("--suppress-output-line-regex {re:?}"))
            })
            .collect::<Result<_>>()?;
        if !self.find_renames.is_finite() {
            bail!("--find-renames must be a number");
        }
        Ok(ReportOptions {
            context: usize::try_from(context).ok(),
            output,
            template,
            show_secrets: self.show_secrets.unwrap_or(false),
            show_secrets_decoded: self.show_secrets_decoded.unwrap_or(false),
            suppressed_kinds,
            suppressed_lines,
            find_renames: self.find_renames,
            strip_trailing_cr: self.strip_trailing_cr.unwrap_or(false),
            color: self.color,
            no_color: self.no_color.unwrap_or(false),
            normalize,
            include_tests: self.include_tests.unwrap_or(false),
            ignore: crate::diff::ignore_rules(
                &self.ignore,
                &self.ignore_file,
                &self.ignore_preset,
            )?,
            markdown_limit: self.markdown_limit,
            detailed_exitcode: self.detailed_exitcode.unwrap_or(false),
        })
    }
}

impl DiffArgs {
    /// The options these flags (and helm-diff's environment variables) ask for.
    pub fn options(&self) -> Result<DiffOptions> {
        let dry_run = match self.dry_run.as_deref() {
            None | Some("none" | "false") => DryRun::None,
            Some("client" | "true") => DryRun::Client,
            Some("server") => DryRun::Server,
            Some(other) => bail!(
                "flag \"dry-run\" must take a bool value or either \"client\" or \"server\", but got {other:?}"
            ),
        };
        if !matches!(self.server_side.as_str(), "true" | "false" | "auto") {
            bail!(
                "flag \"server-side\" must be \"true\", \"false\" or \"auto\", but got {:?}",
                self.server_side
            );
        }
        let three_way = self.three_way_merge.unwrap_or_else(|| {
            let on = env_true("HELM_DIFF_THREE_WAY_MERGE");
            if on {
                eprintln!("Enabled three way merge via the envvar");
            }
            on
        });
        Ok(DiffOptions {
            report: self.report.options()?,
            allow_unreleased: self.allow_unreleased == Some(true) || self.install == Some(true),
            three_way,
            dry_run,
            server_side: self.server_side.clone(),
            disable_validation: self.disable_validation.unwrap_or(false),
            use_upgrade_dry_run: env_true("HELM_DIFF_USE_UPGRADE_DRY_RUN"),
        })
    }
}
