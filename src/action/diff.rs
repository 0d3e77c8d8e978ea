//! `helm x diff [upgrade] RELEASE INPUT`: what an upgrade would change, printed like helm-diff.
//!
//! A chart is rendered the way `helm x upgrade` would install it: by helm itself, as
//! `helm upgrade --install --dry-run=server`, so release history, `lookup`, the cluster's
//! capabilities and helm's values rules (`--reuse-values` and friends) are all helm's; helm-x's
//! patches are then applied to manifests and hooks alike, which is what the post-renderer (and on
//! Helm 3 the frozen hooks) gives the real upgrade. Other inputs go through the same pipeline as
//! `upgrade`. The result is compared with the deployed release (`helm get manifest` plus
//! `helm get hooks`). Needs no helm-diff plugin.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::chart::output::{self, Filter};
use crate::chart::workdir::WorkDir;
use crate::diff::{self, OutputFormat};
use crate::helm::{Run, Verb};
use crate::invocation::{Invocation, Target};
use crate::pipeline;
use crate::stream::Document;

/// helm-diff's report options.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Unchanged lines around each change; `None` shows whole objects.
    pub context: Option<usize>,
    /// Report format.
    pub output: OutputFormat,
    /// Print Secret values instead of redacting them.
    pub show_secrets: bool,
    /// Exit 2 when anything changes.
    pub detailed_exitcode: bool,
    /// Also compare `helm test` hooks.
    pub include_tests: bool,
}

/// Renders the input as an upgrade would and prints the difference with the deployed release.
pub fn run(inv: &Invocation, target: &Target, opts: &DiffOptions) -> Result<ExitCode> {
    let old = deployed(inv, &target.release)?;
    let source = pipeline::detect(target)?;
    pipeline::check_input_flags(target, &source)?;
    let new = if pipeline::helm_renders(target, &source) {
        pipeline::check_flags(&inv.helm_args, Verb::Upgrade, &[Verb::Upgrade], &source)?;
        if inv.helm_args.post_renderer().is_some() && target.transforms() {
            bail!(
                "helm x diff cannot yet run a --post-renderer after helm-x's patches; diff with \
                 --pre-render, which hands the patched chart to your post-renderer"
            );
        }
        let documents = pipeline::render_release(inv, target, Verb::Upgrade, &inv.helm_args)?;
        let scratch = WorkDir::create(inv.keep_workdir(target))?;
        let crds = pipeline::chart_crds(&source, scratch.path())?;
        let mut documents = pipeline::patch_objects(inv, target, documents, &crds)?;
        pipeline::force_namespace(inv, target, Verb::Upgrade, &mut documents, &crds)?;
        join(&documents)
    } else {
        built(inv, target, &source, old.is_some())?
    };

    let options = diff::Options {
        context: opts.context,
        output: opts.output,
        show_secrets: opts.show_secrets,
        color: diff::color_from_env(std::io::stdout().is_terminal()),
        release_namespace: inv.namespace.clone(),
        include_tests: opts.include_tests,
    };
    let old = diff::parse_manifests(old.as_deref().unwrap_or(""), &inv.namespace)
        .context("the deployed release's manifest")?;
    let new = diff::parse_manifests(&new, &inv.namespace).context("the new render")?;
    let report = diff::compare(&old, &new, &options);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(report.render(&options).as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write the diff")?;
    if opts.detailed_exitcode && report.has_changes() {
        eprintln!(
            "identified at least one change, exiting with non-zero exit code (detailed-exitcode parameter enabled)"
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// Documents as helm prints a manifest: `---`, `# Source:`, the object.
fn join(documents: &[Document]) -> String {
    let mut out = String::new();
    for doc in documents {
        out.push_str("---\n");
        if !doc.file.is_empty() {
            out.push_str("# Source: ");
            out.push_str(&doc.file);
            out.push('\n');
        }
        out.push_str(doc.text().trim_end_matches('\n'));
        out.push('\n');
    }
    out
}

/// The new render of a kustomization, manifests or a pre-rendered chart. Order does not matter to
/// a diff, so the objects need no second helm run unless a flag only helm can apply was given.
fn built(
    inv: &Invocation,
    target: &Target,
    source: &crate::input::Source,
    upgrade: bool,
) -> Result<String> {
    let runs: &[Verb] = if source.is_chart() {
        &[Verb::Template, Verb::Upgrade]
    } else {
        &[Verb::Upgrade]
    };
    pipeline::check_flags(&inv.helm_args, Verb::Upgrade, runs, source)?;
    let objects = pipeline::build(inv, target, Verb::Upgrade, source)?;
    if !inv.helm_args.any_of(HELM_ONLY) {
        let filter = Filter::of(&inv.helm_args);
        return output::helm_template(objects.chart_name(), &objects.documents, filter);
    }
    let prepared = objects.write_chart()?;
    let mut argv: Vec<OsString> = vec![
        "template".into(),
        target.release.as_str().into(),
        prepared.chart.clone(),
    ];
    if upgrade {
        argv.push("--is-upgrade".into());
    }
    argv.extend(prepared.args.for_run(
        Verb::Template,
        Run::Render {
            chart_is_local: true,
        },
    ));
    inv.helm()?.capture(&argv)
}

/// Render flags whose effect only helm can apply to the temporary chart.
const HELM_ONLY: &[&str] = &[
    "post-renderer",
    "post-renderer-args",
    "skip-crds",
    "disable-openapi-validation",
];

/// The deployed release's manifest and hooks, or `None` when the release does not exist yet.
fn deployed(inv: &Invocation, release: &str) -> Result<Option<String>> {
    if !inv.release_exists(release)? {
        return Ok(None);
    }
    let helm = inv.helm()?;
    let get = |what: &str| {
        let mut argv: Vec<OsString> = vec![
            "get".into(),
            what.into(),
            release.into(),
            "--namespace".into(),
            inv.namespace.as_str().into(),
        ];
        argv.extend(inv.helm_args.globals());
        helm.capture(&argv)
    };
    let mut text = get("manifest")?;
    text.push_str("\n---\n");
    text.push_str(&get("hooks")?);
    Ok(Some(text))
}
