//! `helm x diff [upgrade] RELEASE INPUT`: what an upgrade would change, printed like helm-diff.
//!
//! Runs the same pipeline as `upgrade`, renders the result with `helm template`, and compares it with
//! the deployed release (`helm get manifest` plus `helm get hooks`). Needs no helm-diff plugin.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::ChartArgs;
use crate::chart::output::{self, FILTER_FLAGS, Filter};
use crate::diff::{self, OutputFormat};
use crate::helm::{Helm, Settings};
use crate::pipeline::{self, Built};

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

/// Flags of install/upgrade that `helm template` also accepts and that change what is rendered.
const TEMPLATE_FLAGS: &[&str] = &[
    "include-crds",
    "skip-crds",
    "skip-tests",
    "no-hooks",
    "post-renderer",
    "post-renderer-args",
    "disable-openapi-validation",
];

/// Renders the input as an upgrade would and prints the difference with the deployed release.
pub fn run(args: &DiffArgs) -> Result<ExitCode> {
    let helm = Helm::locate()?;
    let settings = Settings::from_env();
    let chart = &args.chart;
    let old = deployed(&helm, &chart.release)?;
    let new = match pipeline::build(&helm, &chart.request(true))? {
        // Order does not matter to a diff, so built objects need no second helm run unless a
        // flag only helm can apply (a post-renderer, say) was given.
        Built::Objects(objects)
            if !TEMPLATE_FLAGS
                .iter()
                .any(|f| !FILTER_FLAGS.contains(f) && chart.helm.has(f)) =>
        {
            let filter = Filter {
                include_crds: chart.helm.has("include-crds"),
                skip_tests: chart.helm.has("skip-tests"),
                no_hooks: chart.helm.has("no-hooks"),
            };
            output::helm_template(objects.chart_name(), &objects.documents, filter)?
        }
        built => {
            let prepared = built.into_prepared()?;
            let mut argv: Vec<OsString> = vec![
                "template".into(),
                chart.release.as_str().into(),
                prepared.chart.clone(),
            ];
            if old.is_some() {
                argv.push("--is-upgrade".into());
            }
            argv.extend(chart.helm.render());
            argv.extend(chart.helm.only(TEMPLATE_FLAGS));
            if !prepared.built {
                argv.extend(chart.helm.fetch());
            }
            helm.capture(&argv)?
        }
    };

    let options = diff::Options {
        context: usize::try_from(args.context).ok(),
        output: args.output,
        show_secrets: args.show_secrets,
        color: diff::color_from_env(std::io::stdout().is_terminal()),
        release_namespace: settings.namespace.clone(),
        include_tests: args.include_tests,
    };
    let old = diff::parse_manifests(old.as_deref().unwrap_or(""), &settings.namespace)
        .context("the deployed release's manifest")?;
    let new = diff::parse_manifests(&new, &settings.namespace).context("the new render")?;
    let report = diff::compare(&old, &new, &options);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(report.render(&options).as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write the diff")?;
    if args.detailed_exitcode && report.has_changes() {
        eprintln!(
            "identified at least one change, exiting with non-zero exit code (detailed-exitcode parameter enabled)"
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// The deployed release's manifest and hooks, or `None` when the release does not exist yet.
fn deployed(helm: &Helm, release: &str) -> Result<Option<String>> {
    let manifest = helm.output_quiet(&["get", "manifest", release])?;
    if !manifest.status.success() {
        let err = String::from_utf8_lossy(&manifest.stderr);
        if err.contains("release: not found") {
            return Ok(None);
        }
        bail!("cannot read release {release}: {}", err.trim());
    }
    let hooks = helm.capture(&["get", "hooks", release])?;
    let mut text =
        String::from_utf8(manifest.stdout).context("helm get manifest printed non-UTF-8")?;
    text.push_str("\n---\n");
    text.push_str(&hooks);
    Ok(Some(text))
}
