//! The stages every action shares: detect the input, decide how the chart reaches helm, and load or
//! render it into documents.
//!
//! A chart goes to helm as itself: untouched when there is nothing to patch, else with helm-x as its
//! post-renderer, so helm keeps everything it would keep for the chart (Revision, `lookup`,
//! capabilities, values and their reuse rules, hooks, notes). Kustomizations, manifest dirs and
//! `--pre-render` become a temporary chart of the patched objects. Actions only decide which helm
//! command runs on the result; no stage knows who called it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use crate::chart::{TempChart, freeze, sanitize_name, workdir::WorkDir};
use crate::helm::postrender::{self, Chained, Hookup};
use crate::helm::{HelmArgs, Reuse, Run, Verb};
use crate::input::{self, Source, archive, chart, dependency, kustomize, manifests, walk};
use crate::invocation::{Invocation, Target};
use crate::stream::{Document, Stream};
use crate::{filter, patch};

/// A chart ready for the final helm run.
#[derive(Debug)]
pub struct Prepared {
    /// What to give helm as CHART.
    pub chart: OsString,
    /// Whether helm-x fetched or built the chart (so chart-location flags must not reach helm).
    pub chart_is_local: bool,
    /// helm-x as helm's post-renderer, when the chart is post-rendered.
    pub post_render: Option<Hookup>,
    /// The user's flags as the final run gets them.
    pub args: HelmArgs,
    /// Holds the temporary chart and the post-render spec until helm is done with them.
    pub workdir: Option<WorkDir>,
    /// The CRDs of a kustomization or manifests release, which must exist before helm maps the
    /// custom resources beside them.
    pub crds: Vec<Value>,
}

impl Prepared {
    /// The final helm argv: `VERB RELEASE CHART <flags>`.
    pub fn argv(&self, verb: Verb, release: &str) -> Vec<OsString> {
        let mut argv = vec![verb.name().into(), release.into(), self.chart.clone()];
        argv.extend(self.args.for_run(
            verb,
            Run::Final {
                chart_is_local: self.chart_is_local,
            },
        ));
        if let Some(hookup) = &self.post_render {
            argv.extend(hookup.flags.iter().cloned());
        }
        argv
    }

    /// Runs `helm VERB RELEASE CHART … EXTRA` with inherited stdio and prints what the
    /// post-renderer reported.
    pub fn run(
        &self,
        inv: &Invocation,
        verb: Verb,
        release: &str,
        extra: &[OsString],
    ) -> Result<std::process::ExitStatus> {
        let env = self.post_render.as_ref().map_or(&[][..], |h| &h.env[..]);
        let mut argv = self.argv(verb, release);
        argv.extend(extra.iter().cloned());
        let status = inv.helm()?.run_env(&argv, env)?;
        if let Some(hookup) = &self.post_render {
            hookup.report();
        }
        Ok(status)
    }
}

/// Decides how the input reaches `helm VERB` and prepares it: the user's chart as it is, the user's
/// chart with helm-x as post-renderer, or a temporary chart of the patched objects.
pub fn prepare(inv: &Invocation, target: &Target, verb: Verb, source: &Source) -> Result<Prepared> {
    check_input_flags(target, source)?;
    if source.is_chart() && !target.transforms() {
        check_flags(&inv.helm_args, verb, &[verb], source)?;
        return Ok(Prepared {
            chart: target.input.as_str().into(),
            chart_is_local: target.local_copy,
            post_render: None,
            args: inv.helm_args.clone(),
            workdir: None,
            crds: Vec::new(),
        });
    }
    if source.is_chart() && !target.pre_render {
        check_flags(&inv.helm_args, verb, &[verb], source)?;
        return post_render(inv, target, verb, source);
    }
    let runs: &[Verb] = if source.is_chart() {
        &[Verb::Template, verb]
    } else {
        &[verb]
    };
    check_flags(&inv.helm_args, verb, runs, source)?;
    let objects = build(inv, target, verb, source)?;
    objects.write_chart()
}

/// Whether helm renders the user's chart itself (untouched or post-rendered), rather than helm-x
/// loading or pre-rendering the objects.
pub fn helm_renders(target: &Target, source: &Source) -> bool {
    source.is_chart() && (!target.transforms() || !target.pre_render)
}

/// The input as every later stage sees it, and the work dir that holds it while they run.
#[derive(Debug)]
pub struct Input {
    /// The target, pointing at helm-x's chart when the input has `--dependency` charts.
    pub target: Target,
    /// What the input is.
    pub source: Source,
    /// The CRDs of a kustomization or manifests dir made into a chart here, which must exist
    /// before helm maps the custom resources beside them.
    pub crds: Vec<Value>,
    _workdir: Option<WorkDir>,
}

/// Detects the input. An input with `--dependency` charts becomes a chart helm-x owns first: a
/// chart is copied into a work dir (never changed in place), a kustomization or manifests dir
/// becomes its temporary chart of the unpatched objects, and the dependencies are added to it.
/// Every later stage then works on a chart that has them, so patches, transformers,
/// `--force-namespace` and injectors reach the dependencies' objects too, in every mode.
pub fn resolve(inv: &Invocation, target: &Target) -> Result<Input> {
    let source = detect(target, &inv.helm_args)?;
    if target.dependencies.is_empty() {
        return Ok(Input {
            target: target.clone(),
            source,
            crds: Vec::new(),
            _workdir: None,
        });
    }
    check_input_flags(target, &source)?;
    let workdir = WorkDir::create(inv.keep_workdir(target))?;
    let (dir, crds) = if source.is_chart() {
        let fetch = inv.helm_args.for_run(Verb::Pull, Run::Pull);
        let dir = chart::materialize(&source, inv.helm()?, &fetch, workdir.path())?;
        (dir, Vec::new())
    } else {
        let (metadata, mut stream) = load_objects(inv, target, &source)?;
        prepare_objects(&mut stream)?;
        let crds = crd_values(&stream)?;
        (write_temp_chart(workdir.path(), metadata, &stream)?, crds)
    };
    dependency::add(inv, &dir, workdir.path(), &target.dependencies)?;
    let mut target = target.clone();
    target.input = dir.to_string_lossy().into_owned();
    target.input_type = Some(input::InputType::Chart);
    target.local_copy = true;
    target.kustomize_build_args.clear();
    Ok(Input {
        target,
        source: Source::ChartDir(dir),
        crds,
        _workdir: Some(workdir),
    })
}

/// Detects the input and checks a packaged chart before anything reads it.
fn detect(target: &Target, args: &HelmArgs) -> Result<Source> {
    let source = input::detect(&target.input, target.input_type, args.repo())?;
    if let Source::ChartArchive(tgz) = &source {
        archive::validate(tgz)?;
    }
    Ok(source)
}

/// Refuses helm-x flags that mean nothing for this kind of input, instead of ignoring them.
pub fn check_input_flags(target: &Target, source: &Source) -> Result<()> {
    if !target.kustomize_build_args.is_empty() && !matches!(source, Source::Kustomization(_)) {
        bail!(
            "--kustomize-build-arg applies to kustomizations only; {} is not one",
            target.input
        );
    }
    Ok(())
}

/// Refuses helm flags that no helm run of this command accepts, instead of dropping them.
pub fn check_flags(args: &HelmArgs, verb: Verb, runs: &[Verb], source: &Source) -> Result<()> {
    let refused = args.unaccepted(runs);
    if refused.is_empty() {
        return Ok(());
    }
    let template_takes = args.unaccepted(&[Verb::Template]).is_empty();
    let hint = if source.is_chart() && template_takes && verb != Verb::Template {
        format!(
            "; helm {} renders for the cluster it deploys to. With --pre-render helm-x renders the \
             chart with `helm template` first, which takes them",
            verb.name()
        )
    } else {
        String::new()
    };
    bail!(
        "{} cannot be used with helm x {}: helm {} does not accept {}{hint}",
        refused.join(", "),
        verb.name(),
        verb.name(),
        if refused.len() == 1 { "it" } else { "them" },
    )
}

/// The user's chart, with helm-x hooked up as its post-renderer. On Helm 3, which never
/// post-renders hooks, the template files of hooks a patch targets are frozen first.
fn post_render(inv: &Invocation, target: &Target, verb: Verb, source: &Source) -> Result<Prepared> {
    let helm = inv.helm()?;
    let major = helm.major_version()?;
    let chain = match inv.helm_args.post_renderer() {
        None => None,
        Some((name, _)) if major >= 4 => bail!(
            "--post-renderer {name} cannot run after helm-x's patches on Helm 4: helm runs one \
             post-renderer plugin, and helm-x's patches are that one. Use --pre-render, so helm \
             runs yours on the patched chart"
        ),
        Some((command, args)) => Some(Chained { command, args }),
    };
    if major < 4 && inv.helm_args.output_dir() {
        bail!(
            "--output-dir with patches needs --pre-render on Helm 3: helm 3 writes those files \
             before it post-renders, so the patches would never reach them"
        );
    }
    let workdir = WorkDir::create(inv.keep_workdir(target))?;
    let mut chart: OsString = target.input.as_str().into();
    let mut chart_is_local = target.local_copy;
    let mut targets_checked = false;
    // Read once: a packaged chart is extracted for them.
    let crds = chart_crds(source, workdir.path())?;
    let frozen = if major < 4 {
        freeze::hooks(inv, target, verb, source, workdir.path(), &crds)?
    } else {
        None
    };
    if let Some(dir) = frozen {
        chart = dir.into_os_string();
        chart_is_local = true;
        targets_checked = true;
    }
    let hookup = postrender::hook_up(
        helm,
        workdir.path(),
        postrender::Job {
            patches: target.patches.clone(),
            smp_mode: target.smp_mode,
            allow_missing_targets: target.allow_missing_patch_targets,
            targets_checked,
            namespace: inv.namespace.clone(),
            chain,
            crds,
            force_namespace: target.force_namespace.clone(),
            injectors: target.injectors.clone(),
            validate: target.validate_offline,
            cluster_scoped: match target.force_namespace {
                Some(_) => cluster_scoped(inv, verb)?,
                None => Vec::new(),
            },
        },
    )?;
    Ok(Prepared {
        chart,
        chart_is_local,
        post_render: Some(hookup),
        args: inv.helm_args.without_post_renderer(),
        workdir: Some(workdir),
        crds: Vec::new(),
    })
}

/// Loaded (or pre-rendered) and patched objects, with the work dir that holds their sources.
#[derive(Debug)]
pub struct Objects {
    workdir: WorkDir,
    /// Chart.yaml of the temporary chart.
    pub metadata: Map<String, Value>,
    /// The objects, each with its chart file, and the rendered release notes.
    pub stream: Stream,
    /// The user's flags as the final run gets them (pre-rendered values may replace reuse flags).
    pub args: HelmArgs,
    /// Whether the source is a chart that helm rendered.
    pub rendered_by_helm: bool,
}

impl Objects {
    /// The chart name helm prints in `# Source:` lines.
    pub fn chart_name(&self) -> &str {
        self.metadata
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("chart")
    }

    /// Writes the temporary chart into the work dir.
    pub fn write_chart(self) -> Result<Prepared> {
        let chart_dir = write_temp_chart(self.workdir.path(), self.metadata, &self.stream)?;
        let crds = if self.rendered_by_helm {
            Vec::new()
        } else {
            crd_values(&self.stream)?
        };
        Ok(Prepared {
            chart: chart_dir.into(),
            chart_is_local: true,
            post_render: None,
            args: self.args,
            workdir: Some(self.workdir),
            crds,
        })
    }
}

/// Writes the temporary chart of `stream` as `workdir/chart` and returns its path.
fn write_temp_chart(
    workdir: &Path,
    metadata: Map<String, Value>,
    stream: &Stream,
) -> Result<PathBuf> {
    let chart_dir = workdir.join("chart");
    std::fs::create_dir(&chart_dir)
        .with_context(|| format!("cannot create {}", chart_dir.display()))?;
    TempChart { metadata, stream }.write(&chart_dir)?;
    Ok(chart_dir)
}

fn crd_values(stream: &Stream) -> Result<Vec<Value>> {
    stream.crds().map(|d| d.value().cloned()).collect()
}

/// A kustomization's or manifests dir's objects and the Chart.yaml of their temporary chart.
fn load_objects(
    inv: &Invocation,
    target: &Target,
    source: &Source,
) -> Result<(Map<String, Value>, Stream)> {
    Ok(match source {
        Source::Kustomization(dir) => (
            generated_metadata(dir, "kustomization", target, &inv.helm_args),
            kustomize::build(dir, &target.kustomize_build_args, inv.helm()?)?,
        ),
        Source::Manifests(path) => (
            generated_metadata(path, "manifests", target, &inv.helm_args),
            manifests::load(path)?,
        ),
        _ => bail!("internal error: {source:?} is rendered by helm"),
    })
}

/// What only a kustomization's or manifests dir's objects need before they become a chart.
fn prepare_objects(stream: &mut Stream) -> Result<()> {
    filter::crds::keep(stream)?;
    crate::chart::safe_file_names(stream);
    Ok(())
}

/// Loads a kustomization or manifests, or pre-renders a chart with `helm template`, and patches the
/// objects.
pub fn build(inv: &Invocation, target: &Target, verb: Verb, source: &Source) -> Result<Objects> {
    let helm = inv.helm()?;
    let workdir = WorkDir::create(inv.keep_workdir(target))?;
    let mut args = inv.helm_args.clone();
    let (metadata, mut stream) = match source {
        Source::ChartDir(_) | Source::ChartArchive(_) | Source::ChartRef(_) => {
            let dir = chart::materialize(
                source,
                helm,
                &inv.helm_args.for_run(Verb::Pull, Run::Pull),
                workdir.path(),
            )?;
            let mut render_args = Vec::new();
            if let Some(values) = last_values(inv, target, verb, workdir.path())? {
                args = args.with_last_values(&values);
            }
            render_args.extend(args.for_run(
                Verb::Template,
                Run::Render {
                    chart_is_local: true,
                },
            ));
            if verb != Verb::Template && !inv.helm_args.offline() {
                render_args.extend(cluster_render_args(inv, target, verb)?);
            }
            let rendered = chart::render(helm, &dir, &target.release, &render_args)?;
            (rendered.metadata, rendered.stream)
        }
        Source::Kustomization(_) | Source::Manifests(_) => load_objects(inv, target, source)?,
    };
    patch_objects(inv, target, &mut stream, &[])?;
    force_namespace(inv, target, verb, &mut stream, &[])?;
    filter::inject::apply(&mut stream, &target.injectors)?;
    validate(target, &stream, &[])?;
    if !source.is_chart() {
        prepare_objects(&mut stream)?;
    }
    Ok(Objects {
        workdir,
        metadata,
        stream,
        args,
        rendered_by_helm: source.is_chart(),
    })
}

/// `--validate-offline`, if given: checks the final objects (with `crds`, those helm installs from
/// a chart's `crds/` without rendering them), printing the warnings.
pub fn validate(target: &Target, stream: &Stream, crds: &[Value]) -> Result<()> {
    if let Some(options) = target.validate_offline {
        for warning in crate::validate::check(stream, crds, options)? {
            eprintln!("helm-x: warning: {warning}");
        }
    }
    Ok(())
}

/// Applies the target's patches in-process, printing the warnings.
pub fn patch_objects(
    inv: &Invocation,
    target: &Target,
    stream: &mut Stream,
    crds: &[Value],
) -> Result<()> {
    if target.patches.is_empty() {
        return Ok(());
    }
    let ctx = target.patch_context(&inv.namespace, crds);
    let applied = patch::apply(stream, &target.patches, &ctx)?;
    for warning in &applied.warnings {
        eprintln!("helm-x: warning: {warning}");
    }
    Ok(())
}

/// Applies `--force-namespace`, if given, with the cluster's scopes where one is reachable (not
/// for `template`, which stays offline).
pub fn force_namespace(
    inv: &Invocation,
    target: &Target,
    verb: Verb,
    stream: &mut Stream,
    crds: &[Value],
) -> Result<()> {
    if let Some(force) = &target.force_namespace {
        let scopes = cluster_scoped(inv, verb)?;
        filter::namespace::apply(stream, force, crds, &scopes)?;
    }
    Ok(())
}

/// The cluster-scoped kinds the cluster serves, when `verb` talks to a cluster.
fn cluster_scoped(inv: &Invocation, verb: Verb) -> Result<Vec<(String, String)>> {
    if verb == Verb::Template || inv.helm_args.offline() {
        return Ok(Vec::new());
    }
    match inv.cluster()? {
        Some(cluster) => cluster.cluster_scoped_kinds(),
        None => Ok(Vec::new()),
    }
}

/// The CRDs in a local chart's `crds/` dirs (its own and its subcharts'), which helm installs
/// without rendering or post-rendering them: the patches still need their schemas. A packaged
/// chart is extracted into `scratch` to read them; a chart helm fetches itself gives none.
pub fn chart_crds(source: &Source, scratch: &Path) -> Result<Vec<Value>> {
    let dir = match source {
        Source::ChartDir(dir) => dir.clone(),
        Source::ChartArchive(tgz) => {
            let dest = scratch.join("crds-source");
            std::fs::create_dir_all(&dest)
                .with_context(|| format!("cannot create {}", dest.display()))?;
            archive::extract_chart(tgz, &dest)?
        }
        _ => return Ok(Vec::new()),
    };
    let filter = walk::Filter {
        extensions: Some(&["yaml", "yml", "json"]),
        skip_hidden: true,
    };
    let files = match walk::files(&dir, filter) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("helm-x: warning: patches get no schemas from the chart's crds/: {e:#}");
            return Ok(Vec::new());
        }
    };
    let mut crds = Vec::new();
    for found in files.iter().filter(|f| crate::chart::in_crds_dir(&f.rel)) {
        let text = std::fs::read_to_string(&found.path)
            .with_context(|| format!("cannot read {}", found.path.display()))?;
        let docs =
            Document::parse_stream(&text, &found.path.display().to_string(), |_| String::new())?;
        for mut doc in docs.into_iter().filter(Document::is_crd) {
            crds.push(doc.take_value()?);
        }
    }
    Ok(crds)
}

/// For a pre-rendered upgrade: the last release's values as a file, when helm's rules reuse them
/// (`--reuse-values`, `--reset-then-reuse-values`, or no values given at all), so the frozen chart
/// is rendered with what `helm upgrade` would use.
fn last_values(
    inv: &Invocation,
    target: &Target,
    verb: Verb,
    workdir: &Path,
) -> Result<Option<std::path::PathBuf>> {
    if verb != Verb::Upgrade {
        return Ok(None);
    }
    let reuse = match inv.helm_args.reuse() {
        Reuse::Reuse | Reuse::ResetThenReuse => true,
        Reuse::Default => !inv.helm_args.gives_values(),
        Reuse::Reset => false,
    };
    if !reuse || !inv.release_exists(&target.release)? {
        return Ok(None);
    }
    let mut argv: Vec<OsString> = vec![
        "get".into(),
        "values".into(),
        target.release.as_str().into(),
        "--output".into(),
        "yaml".into(),
        "--namespace".into(),
        inv.namespace.as_str().into(),
    ];
    argv.extend(inv.helm_args.globals());
    let values = inv.helm()?.capture(&argv)?;
    let path = workdir.join("last-values.yaml");
    std::fs::write(&path, values).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Some(path))
}

/// `--kube-version`/`--api-versions` from the cluster (unless the user gave them), and `--is-upgrade`
/// when an upgrade will find the release there. No configured cluster means helm's offline defaults.
fn cluster_render_args(inv: &Invocation, target: &Target, verb: Verb) -> Result<Vec<OsString>> {
    let Some(cluster) = inv.cluster()? else {
        return Ok(Vec::new());
    };
    let mut args = Vec::new();
    if !inv.helm_args.pins_capabilities() {
        let caps = cluster.capabilities()?;
        for gv in &caps.unavailable {
            eprintln!(
                "helm-x: warning: the cluster's discovery of {gv} failed; it is left out of .Capabilities.APIVersions"
            );
        }
        args.extend(caps.helm_template_args().into_iter().map(OsString::from));
    }
    if verb == Verb::Upgrade
        && !inv.helm_args.is_upgrade()
        && inv.release_exists(&target.release)?
    {
        args.push("--is-upgrade".into());
    }
    Ok(args)
}

/// Chart.yaml for inputs that are not charts: named after the input, versioned by `--version` if given.
fn generated_metadata(
    input: &Path,
    kind: &str,
    target: &Target,
    args: &HelmArgs,
) -> Map<String, Value> {
    let base = input
        .canonicalize()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| target.release.clone());
    let version = args.version().unwrap_or_else(|| "0.1.0".into());
    let mut meta = Map::new();
    meta.insert("apiVersion".into(), json!("v2"));
    meta.insert("name".into(), json!(sanitize_name(&base)));
    meta.insert("version".into(), json!(version));
    meta.insert(
        "description".into(),
        json!(format!("{kind} {} packaged by helm-x", input.display())),
    );
    meta.insert("type".into(), json!("application"));
    meta
}

/// The release helm would make of the user's chart for `helm VERB`, rendered by helm itself:
/// `helm template` offline, else `helm install|upgrade --dry-run=server -o json`, which sees the
/// release history, `lookup`, the cluster's capabilities and applies helm's values rules. Returns
/// the manifests and hooks, each with its `# Source:` path.
///
/// A dry run cannot build custom resources whose CRDs the chart itself brings (they are not in
/// the cluster yet); then the release is rendered with `helm template` for the cluster (its
/// capabilities, `--is-upgrade`, the last values by helm's reuse rules), and `lookup` sees nothing.
pub fn render_release(
    inv: &Invocation,
    target: &Target,
    verb: Verb,
    args: &HelmArgs,
) -> Result<Stream> {
    if verb != Verb::Template && !args.offline() {
        let helm = inv.helm()?;
        let mut argv: Vec<OsString> = vec![
            verb.name().into(),
            target.release.as_str().into(),
            target.input.as_str().into(),
        ];
        if verb == Verb::Upgrade {
            argv.push("--install".into());
        }
        argv.extend(["--dry-run=server".into(), "--output".into(), "json".into()]);
        argv.extend(args.for_run(verb, target.user_chart()));
        let out = helm.output_quiet(&argv)?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            return release_documents(&out.stdout, verb);
        }
        if !stderr.contains("ensure CRDs are installed first") {
            bail!(
                "helm {} --dry-run=server failed ({}): {}",
                verb.name(),
                out.status,
                stderr.trim()
            );
        }
        eprintln!(
            "helm-x: the chart brings CRDs the cluster does not have yet, so helm cannot dry-run \
             it; rendering with helm template for the cluster instead (lookup sees nothing there)"
        );
    }
    template_release(inv, target, verb, args)
}

/// The release rendered by `helm template`: for `Verb::Template` offline with the given values; for
/// install and upgrade for the cluster (its capabilities, `--is-upgrade`, the last values by helm's
/// reuse rules), where `lookup` sees nothing.
pub fn template_release(
    inv: &Invocation,
    target: &Target,
    verb: Verb,
    args: &HelmArgs,
) -> Result<Stream> {
    let workdir;
    let mut args = args.clone();
    let mut argv: Vec<OsString> = vec![
        "template".into(),
        target.release.as_str().into(),
        target.input.as_str().into(),
    ];
    if verb != Verb::Template {
        workdir = WorkDir::create(inv.keep_workdir(target))?;
        if let Some(values) = last_values(inv, target, verb, workdir.path())? {
            args = args.with_last_values(&values);
        }
        argv.extend(cluster_render_args(inv, target, verb)?);
    }
    argv.extend(args.for_run(Verb::Template, target.user_chart()));
    let out = inv.helm()?.capture(&argv)?;
    Stream::parse(&out, "output of helm template", source_of)
}

fn source_of(raw: &crate::stream::RawDoc) -> String {
    raw.source.clone().unwrap_or_default()
}

/// The manifests and hooks of a release printed by `helm … -o json`.
fn release_documents(json: &[u8], verb: Verb) -> Result<Stream> {
    let release: Value = serde_json::from_slice(json)
        .with_context(|| format!("helm {} --dry-run printed no release JSON", verb.name()))?;
    let manifest = release["manifest"].as_str().unwrap_or_default();
    let mut documents =
        Document::parse_stream(manifest, "the rendered release manifest", source_of)?;
    for hook in release["hooks"].as_array().into_iter().flatten() {
        let path = hook["path"].as_str().unwrap_or_default().to_string();
        let text = hook["manifest"].as_str().unwrap_or_default();
        documents.extend(Document::parse_stream(
            text,
            &format!("hook {path}"),
            |_| path.clone(),
        )?);
    }
    Ok(Stream::from(documents))
}
