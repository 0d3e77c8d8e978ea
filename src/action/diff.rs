//! `helm x diff [upgrade] RELEASE INPUT`: what an upgrade would change, printed like helm-diff; and
//! `helm x diff revision|rollback|release`, which compare stored releases.
//!
//! A chart is rendered the way `helm x upgrade` would install it: by helm itself, as
//! `helm upgrade --install --dry-run=server`, so release history, `lookup`, the cluster's
//! capabilities and helm's values rules (`--reuse-values` and friends) are all helm's; helm-x's
//! patches are then applied to manifests and hooks alike, which is what the post-renderer (and on
//! Helm 3 the frozen hooks) gives the real upgrade. helm-diff renders with `helm template` on Helm 3
//! unless asked; helm-x always renders what the upgrade would, and uses `helm template` only where
//! the user asks for what a dry run cannot do (`--kube-version`, `--api-versions`,
//! `--disable-validation`, `--dry-run=client`). Other inputs go through the same pipeline as
//! `upgrade`. The result is compared with the deployed release (`helm get manifest` plus
//! `helm get hooks`), or with the live objects under `--three-way-merge`. Needs no helm-diff plugin.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use regex::Regex;
use serde_json::Value;

use crate::chart::output::{self, Filter};
use crate::chart::workdir::WorkDir;
use crate::cluster;
use crate::diff::{self, Object, OutputFormat, Ownership};
use crate::helm::{Run, Verb};
use crate::invocation::{Invocation, Target};
use crate::patch::SchemaRegistry;
use crate::pipeline;
use crate::stream::{Document, Stream};

/// helm-diff's `--dry-run` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRun {
    /// Not given (or `none`/`false`): render what the upgrade would, with cluster access.
    None,
    /// `--dry-run`, `=client`, `=true`: no cluster access at all; diff as an install.
    Client,
    /// `--dry-run=server`: cluster access and `lookup` (what helm-x does by default anyway).
    Server,
}

/// The report options every diff subcommand takes.
#[derive(Debug)]
pub struct ReportOptions {
    pub context: Option<usize>,
    pub output: OutputFormat,
    pub template: Option<diff::Template>,
    pub show_secrets: bool,
    pub show_secrets_decoded: bool,
    pub suppressed_kinds: Vec<String>,
    pub suppressed_lines: Vec<Regex>,
    pub find_renames: f32,
    pub strip_trailing_cr: bool,
    /// `--color[=BOOL]` when given.
    pub color: Option<bool>,
    pub no_color: bool,
    pub normalize: bool,
    pub include_tests: bool,
    pub ignore: Option<diff::IgnoreRules>,
    pub markdown_limit: usize,
    /// Exit 2 when anything changes.
    pub detailed_exitcode: bool,
}

impl ReportOptions {
    fn into_diff(self, namespace: &str, no_hooks: bool) -> (diff::Options, bool) {
        let color = diff::color(self.color, self.no_color, std::io::stdout().is_terminal());
        let options = diff::Options {
            context: self.context,
            output: self.output,
            template: self.template,
            show_secrets: self.show_secrets,
            show_secrets_decoded: self.show_secrets_decoded,
            suppressed_kinds: self.suppressed_kinds,
            suppressed_lines: self.suppressed_lines,
            find_renames: self.find_renames,
            strip_trailing_cr: self.strip_trailing_cr,
            color,
            normalize: self.normalize,
            release_namespace: namespace.to_string(),
            include_tests: self.include_tests,
            no_hooks,
            ignore: self.ignore,
            markdown_limit: self.markdown_limit,
        };
        (options, self.detailed_exitcode)
    }
}

/// Options of `helm x diff upgrade` beyond the report's.
#[derive(Debug)]
pub struct DiffOptions {
    pub report: ReportOptions,
    /// `--allow-unreleased`/`--install`: a missing release is diffed as a new install.
    pub allow_unreleased: bool,
    /// `--three-way-merge` (`HELM_DIFF_THREE_WAY_MERGE`): compare with the live objects.
    pub three_way: bool,
    pub dry_run: DryRun,
    /// `--server-side`: true, false or auto.
    pub server_side: String,
    /// `--disable-validation`: render with `helm template`.
    pub disable_validation: bool,
    /// `HELM_DIFF_USE_UPGRADE_DRY_RUN=true`: never fall back to `helm template`.
    pub use_upgrade_dry_run: bool,
}

/// Renders the input as an upgrade would and prints the difference with the deployed release.
pub fn run(inv: Invocation, target: &Target, opts: DiffOptions) -> Result<ExitCode> {
    let scratch = WorkDir::create(inv.keep_workdir(target))?;
    let inv = with_stdin_values(inv, scratch.path())?;
    let online = opts.dry_run != DryRun::Client;
    let take_ownership = inv.helm_args.take_ownership();
    let three_way = opts.three_way || take_ownership;
    if three_way && !online {
        bail!(
            "--three-way-merge and --take-ownership read the cluster, which --dry-run=client rules out"
        );
    }
    // Asked only when it matters: `helm version` is one more process on every diff.
    if opts.server_side == "true" && inv.helm()?.major_version()? < 4 {
        bail!("--server-side=true needs Helm 4: Helm 3 has no server-side apply");
    }
    let no_hooks = inv.helm_args.no_hooks();
    let deployed = if online {
        deployed(&inv, &target.release, !no_hooks && !three_way)?
    } else {
        None
    };
    if online && deployed.is_none() && !opts.allow_unreleased {
        eprintln!(
            "********************\n\n\tRelease was not present in Helm.  Include the `--allow-unreleased` to perform diff without exiting in error.\n\n********************"
        );
        bail!(
            "release {:?} not found in namespace {:?}",
            target.release,
            inv.namespace
        );
    }
    let rendered = render(&inv, target, &opts, scratch.path())?;
    let (options, detailed) = opts.report.into_diff(&inv.namespace, no_hooks);
    let parse = |text: &str, what: &str| {
        diff::parse_manifests(text, &inv.namespace, options.normalize).context(what.to_string())
    };
    let mut old = parse(
        deployed.as_deref().unwrap_or(""),
        "the deployed release's manifest",
    )?;
    // The texts live on in the objects; a big release should not be held twice.
    drop(deployed);
    let Rendered { new, crds } = rendered;
    let mut new = match new {
        NewSide::Text(text) => parse(&text, "the new render")?,
        NewSide::Stream(stream) => {
            Object::from_documents(stream.documents, &inv.namespace, options.normalize)
                .context("the new render")?
        }
    };
    let mut owners = Vec::new();
    if online {
        let cluster = inv.require_cluster("helm x diff")?;
        let release = format!("{}/{}", inv.namespace, target.release);
        let added: Vec<&Object> = {
            let old_keys: std::collections::HashSet<&str> = old.iter().map(Object::key).collect();
            // helm never takes hooks over: it recreates them by their own policies.
            new.iter()
                .filter(|n| !n.is_hook() && !old_keys.contains(n.key()))
                .collect()
        };
        let values: Vec<Value> = added
            .iter()
            .map(|o| o.value().cloned())
            .collect::<Result<_>>()?;
        let live = cluster.live_objects(&values, &inv.namespace)?;
        let mut taken = Vec::new();
        for (object, live) in added.iter().zip(live) {
            let Some(live) = live else { continue };
            // The owner first: tidying drops the annotations that name it.
            let owner = cluster::owning_release(&live);
            if owner == release {
                continue;
            }
            if !take_ownership {
                eprintln!(
                    "helm x diff: warning: {} already exists in the cluster{}; helm upgrade will refuse to \
                     take it over without --take-ownership (or helm x adopt)",
                    object.key,
                    if owner.is_empty() {
                        String::new()
                    } else {
                        format!(", owned by release {owner}")
                    }
                );
            }
            owners.push(Ownership {
                key: object.key.clone(),
                old_release: owner,
                new_release: release.clone(),
            });
            taken.push(live);
        }
        if three_way {
            let mut schemas = SchemaRegistry::builtin();
            for crd in &crds {
                schemas
                    .add_crd(crd)
                    .map_err(|e| anyhow::anyhow!("a CRD of the chart: {e}"))?;
            }
            let original: Vec<Value> = old
                .iter()
                .map(|o| o.value().cloned())
                .collect::<Result<_>>()?;
            let target_values: Vec<Value> = new
                .iter()
                .map(|o| o.value().cloned())
                .collect::<Result<_>>()?;
            let sides = cluster.three_way(&original, &target_values, &inv.namespace, &schemas)?;
            old = from_values(sides.old, &inv.namespace)?;
            new = from_values(sides.new, &inv.namespace)?;
        } else {
            // The release takes these over, so the object it changes is the live one.
            old.extend(from_values(taken, &inv.namespace)?);
        }
    }
    let report = diff::compare(&old, &new, &owners, &options)?;
    print(&report, &options, detailed)
}

/// Objects re-serialized from parsed values (live objects, three-way results).
fn from_values(values: Vec<Value>, namespace: &str) -> Result<Vec<Object>> {
    let mut objects = Vec::new();
    for mut value in values {
        cluster::tidy(&mut value);
        objects.extend(Object::from_value(value, namespace)?);
    }
    Ok(objects)
}

/// The most `-f -` reads from stdin.
pub const MAX_STDIN_VALUES_BYTES: usize = 64 * 1024 * 1024;

/// `-f -`: helm-x may run helm more than once, so values read from stdin go to a file first.
fn with_stdin_values(inv: Invocation, scratch: &std::path::Path) -> Result<Invocation> {
    if !inv.helm_args.values_from_stdin() {
        return Ok(inv);
    }
    let mut values = Vec::new();
    std::io::stdin()
        .take(MAX_STDIN_VALUES_BYTES as u64 + 1)
        .read_to_end(&mut values)
        .context("cannot read values from stdin")?;
    if values.len() > MAX_STDIN_VALUES_BYTES {
        bail!(
            "values on stdin (-f -) exceed {} MiB",
            MAX_STDIN_VALUES_BYTES >> 20
        );
    }
    let path = scratch.join("stdin-values.yaml");
    std::fs::write(&path, values).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Invocation::new(inv.helm_args.with_stdin_values(&path)))
}

/// The new side: its manifest text, and the chart's CRDs (merge metadata for three-way).
struct Rendered {
    new: NewSide,
    crds: Vec<Value>,
}

/// The new render: helm's output to read, or the stream helm-x patched itself.
enum NewSide {
    Text(String),
    Stream(Stream),
}

fn render(
    inv: &Invocation,
    target: &Target,
    opts: &DiffOptions,
    scratch: &std::path::Path,
) -> Result<Rendered> {
    let input = pipeline::resolve(inv, target)?;
    let (target, source) = (&input.target, &input.source);
    pipeline::check_input_flags(target, source)?;
    if !pipeline::helm_renders(target, source) {
        return Ok(Rendered {
            new: NewSide::Text(built(inv, target, source)?),
            crds: Vec::new(),
        });
    }
    let args = &inv.helm_args;
    if args.post_renderer().is_some() && target.transforms() {
        bail!(
            "helm x diff cannot yet run a --post-renderer after helm-x's patches; diff with \
             --pre-render, which hands the patched chart to your post-renderer"
        );
    }
    let pins = args.pins_capabilities();
    if opts.use_upgrade_dry_run && pins {
        bail!(
            "--kube-version and --api-versions need helm template, which HELM_DIFF_USE_UPGRADE_DRY_RUN=true rules out"
        );
    }
    let template = opts.dry_run == DryRun::Client
        || (!opts.use_upgrade_dry_run && (pins || opts.disable_validation));
    let mut stream = if template {
        let verb = if opts.dry_run == DryRun::Client {
            Verb::Template
        } else {
            Verb::Upgrade
        };
        // An install from the chart's defaults, as helm-diff's --dry-run=client: nothing to reuse.
        let args = match verb {
            Verb::Template => {
                args.without(&["reuse-values", "reset-values", "reset-then-reuse-values"])
            }
            _ => args.clone(),
        };
        pipeline::check_flags(&args, verb, &[Verb::Template], source)?;
        pipeline::template_release(inv, target, verb, &args)?
    } else {
        pipeline::check_flags(args, Verb::Upgrade, &[Verb::Upgrade], source)?;
        pipeline::render_release(inv, target, Verb::Upgrade, args)?
    };
    let crds = pipeline::chart_crds(source, scratch)?;
    pipeline::patch_objects(inv, target, &mut stream, &crds)?;
    pipeline::force_namespace(inv, target, Verb::Upgrade, &mut stream, &crds)?;
    crate::filter::inject::apply(&mut stream, &target.injectors)?;
    pipeline::validate(target, &stream, &crds)?;
    if args.include_crds() {
        let crds = crds.iter().cloned();
        (stream.documents).extend(crds.map(|crd| Document::from_value(String::new(), crd)));
    }
    Ok(Rendered {
        new: NewSide::Stream(stream),
        crds,
    })
}

/// The new render of a kustomization, manifests or a pre-rendered chart. Order does not matter to
/// a diff, so the objects need no second helm run unless a flag only helm can apply was given.
fn built(inv: &Invocation, target: &Target, source: &crate::input::Source) -> Result<String> {
    let runs: &[Verb] = if source.is_chart() {
        &[Verb::Template, Verb::Upgrade]
    } else {
        &[Verb::Upgrade]
    };
    pipeline::check_flags(&inv.helm_args, Verb::Upgrade, runs, source)?;
    let objects = pipeline::build(inv, target, Verb::Upgrade, source)?;
    if !inv.helm_args.any_of(HELM_ONLY) {
        let filter = Filter::of(&inv.helm_args);
        let documents: Vec<&Document> = objects.stream.documents.iter().collect();
        return output::helm_template(objects.chart_name(), &documents, filter);
    }
    let prepared = objects.write_chart()?;
    let mut argv: Vec<OsString> = vec![
        "template".into(),
        target.release.as_str().into(),
        prepared.chart.clone(),
    ];
    if inv.release_exists(&target.release)? {
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

/// The deployed release's manifest (and hooks), or `None` when the release does not exist yet.
fn deployed(inv: &Invocation, release: &str, hooks: bool) -> Result<Option<String>> {
    if !inv.release_exists(release)? {
        return Ok(None);
    }
    let mut text = get(inv, "manifest", release, &inv.namespace, None)?;
    if hooks {
        // `helm get hooks` starts every hook with its own `---` line, as helm-diff appends it.
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&get(inv, "hooks", release, &inv.namespace, None)?);
    }
    Ok(Some(text))
}

/// `helm get WHAT RELEASE [--revision N]` in `namespace`, with the user's globals.
fn get(
    inv: &Invocation,
    what: &str,
    release: &str,
    namespace: &str,
    revision: Option<u32>,
) -> Result<String> {
    let mut argv: Vec<OsString> = vec![
        "get".into(),
        what.into(),
        release.into(),
        "--namespace".into(),
        namespace.into(),
    ];
    if let Some(revision) = revision {
        argv.extend(["--revision".into(), revision.to_string().into()]);
    }
    argv.extend(inv.helm_args.globals());
    inv.helm()?.capture(&argv)
}

fn print(report: &diff::Report, options: &diff::Options, detailed: bool) -> Result<ExitCode> {
    let text = report.render(options)?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write the diff")?;
    if detailed && report.has_changes() {
        eprintln!(
            "identified at least one change, exiting with non-zero exit code (detailed-exitcode parameter enabled)"
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// `helm x diff revision RELEASE REV [REV2]`: one revision against the deployed one, or two
/// revisions against each other (older first, whatever the order given).
pub fn revision(
    inv: &Invocation,
    release: &str,
    revisions: &[u32],
    opts: ReportOptions,
) -> Result<ExitCode> {
    let (old, new) = match *revisions {
        [one] => (Some(one), None),
        [a, b] => (Some(a.min(b)), Some(a.max(b))),
        _ => bail!("helm x diff revision takes one or two revisions"),
    };
    let old = get(inv, "manifest", release, &inv.namespace, old)?;
    let new = get(inv, "manifest", release, &inv.namespace, new)?;
    stored((&old, &inv.namespace), (&new, &inv.namespace), opts, false)
}

/// `helm x diff rollback RELEASE REV`: what `helm rollback RELEASE REV` would change.
pub fn rollback(
    inv: &Invocation,
    release: &str,
    revision: u32,
    opts: ReportOptions,
) -> Result<ExitCode> {
    let old = get(inv, "manifest", release, &inv.namespace, None)?;
    let new = get(inv, "manifest", release, &inv.namespace, Some(revision))?;
    stored((&old, &inv.namespace), (&new, &inv.namespace), opts, false)
}

/// `helm x diff release [NS/]A [NS/]B`: two releases of one chart, objects matched by template.
pub fn releases(inv: &Invocation, releases: &[String], opts: ReportOptions) -> Result<ExitCode> {
    let [a, b] = releases else {
        bail!("helm x diff release takes two releases");
    };
    let locate = |spec: &str| match spec.split_once('/') {
        Some((ns, name)) => (ns.to_string(), name.to_string()),
        None => (inv.namespace.clone(), spec.to_string()),
    };
    let ((ns_a, a), (ns_b, b)) = (locate(a), locate(b));
    let chart = |ns: &str, name: &str| -> Result<String> {
        let mut argv: Vec<OsString> = vec![
            "get".into(),
            "all".into(),
            name.into(),
            "--namespace".into(),
            ns.into(),
            "--template".into(),
            "{{.Release.Chart.Name}}".into(),
        ];
        argv.extend(inv.helm_args.globals());
        inv.helm()?.capture(&argv)
    };
    let (chart_a, chart_b) = (chart(&ns_a, &a)?, chart(&ns_b, &b)?);
    if chart_a != chart_b {
        bail!("cannot compare releases of two different charts, {chart_a:?} and {chart_b:?}");
    }
    let old = get(inv, "manifest", &a, &ns_a, None)?;
    let new = get(inv, "manifest", &b, &ns_b, None)?;
    stored((&old, &ns_a), (&new, &ns_b), opts, true)
}

/// Compares two stored manifests.
fn stored(
    (old, old_ns): (&str, &str),
    (new, new_ns): (&str, &str),
    opts: ReportOptions,
    by_template: bool,
) -> Result<ExitCode> {
    let (options, detailed) = opts.into_diff(old_ns, false);
    let old =
        diff::parse_manifests(old, old_ns, options.normalize).context("the older manifest")?;
    let new =
        diff::parse_manifests(new, new_ns, options.normalize).context("the newer manifest")?;
    let report = if by_template {
        diff::compare_by_template(&old, &new, &options)?
    } else {
        diff::compare(&old, &new, &[], &options)?
    };
    print(&report, &options, detailed)
}
