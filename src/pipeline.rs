//! The pipeline every subcommand shares: detect → load or render → patch → write the temporary chart.
//!
//! Subcommands only decide which helm command runs on the result; no stage knows who called it.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use crate::chart::{TempChart, sanitize_name, workdir::WorkDir};
use crate::cluster::{Cluster, ClusterConfig};
use crate::helm::{Helm, HelmArgs, Settings};
use crate::input::{self, InputType, Source, archive, chart, kustomize, manifests};
use crate::patch::{self, PatchSource, SmpMode};
use crate::stream::Document;

/// Annotation that keeps CRDs (and every custom resource with them) alive through `helm uninstall`.
const KEEP: (&str, &str) = ("helm.sh/resource-policy", "keep");

/// What the user asked for, independent of the subcommand.
#[derive(Debug)]
pub struct Request<'a> {
    /// Release name.
    pub release: &'a str,
    /// The input as typed.
    pub input: &'a str,
    /// `--input-type`.
    pub input_type: Option<InputType>,
    /// `--keep-workdir` (or `--debug`).
    pub keep_workdir: bool,
    /// Patch files in command-line order.
    pub patches: &'a [PatchSource],
    /// Strategic-merge semantics.
    pub smp_mode: SmpMode,
    /// Missing patch targets warn instead of failing.
    pub allow_missing_patch_targets: bool,
    /// The user's helm flags.
    pub helm_args: &'a HelmArgs,
    /// The final command upgrades the release when it exists, so a render sets `.Release.IsUpgrade`
    /// then.
    pub upgrade: bool,
    /// Ask the cluster (when one is configured) for `.Capabilities` when a chart is rendered, and
    /// whether the release exists, so the render matches what `helm upgrade` would do there.
    pub discover: bool,
}

/// A chart ready for the final helm run.
#[derive(Debug)]
pub struct Prepared {
    /// What to give helm as CHART.
    pub chart: OsString,
    /// Whether helm-x built the chart (so chart-location flags must not reach helm).
    pub built: bool,
    /// Holds the temporary chart until helm is done with it.
    pub workdir: Option<WorkDir>,
}

impl Prepared {
    /// The final helm argv: `VERB RELEASE CHART <flags>`.
    pub fn helm_argv(&self, verb: &str, release: &str, helm_args: &HelmArgs) -> Vec<OsString> {
        let mut argv = vec![verb.into(), release.into(), self.chart.clone()];
        argv.extend(helm_args.finish(self.built));
        argv
    }
}

/// What the pipeline made of the input.
#[derive(Debug)]
pub enum Built {
    /// A chart with nothing to change: helm gets the user's reference as it is.
    Untouched(OsString),
    /// Objects for a temporary chart.
    Objects(Objects),
}

/// Loaded (or rendered) and patched objects, with the work dir that holds their sources.
#[derive(Debug)]
pub struct Objects {
    workdir: WorkDir,
    /// Chart.yaml of the temporary chart.
    pub metadata: Map<String, Value>,
    /// The objects, each with its chart file.
    pub documents: Vec<Document>,
    /// Rendered release notes.
    pub notes: Option<String>,
    /// Whether helm rendered them, so they are already in `helm template`'s order and format.
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
        let chart_dir = self.workdir.path().join("chart");
        std::fs::create_dir(&chart_dir)
            .with_context(|| format!("cannot create {}", chart_dir.display()))?;
        TempChart {
            metadata: self.metadata,
            documents: &self.documents,
            notes: self.notes.as_deref(),
        }
        .write(&chart_dir)?;
        Ok(Prepared {
            chart: chart_dir.into(),
            built: true,
            workdir: Some(self.workdir),
        })
    }
}

impl Built {
    /// The chart to give helm: the user's untouched, or the temporary chart written now.
    pub fn into_prepared(self) -> Result<Prepared> {
        match self {
            Built::Untouched(chart) => Ok(Prepared {
                chart,
                built: false,
                workdir: None,
            }),
            Built::Objects(objects) => objects.write_chart(),
        }
    }
}

/// Runs the pipeline up to a chart helm can install. A chart with no patches is handed to helm
/// untouched (after an archive check).
pub fn prepare(helm: &Helm, req: &Request) -> Result<Prepared> {
    build(helm, req)?.into_prepared()
}

/// Detects, loads or renders, and patches the input.
pub fn build(helm: &Helm, req: &Request) -> Result<Built> {
    let source = input::detect(req.input, req.input_type)?;
    if let Source::ChartArchive(tgz) = &source {
        archive::validate(tgz)?;
    }
    if source.is_chart() && req.patches.is_empty() {
        return Ok(Built::Untouched(req.input.into()));
    }
    let settings = Settings::from_env();
    let workdir = WorkDir::create(req.keep_workdir || settings.debug)?;
    let (metadata, documents, notes) = match &source {
        Source::ChartDir(_) | Source::ChartArchive(_) | Source::ChartRef(_) => {
            let dir = chart::materialize(&source, helm, &req.helm_args.fetch(), workdir.path())?;
            let mut render_args = req.helm_args.render();
            if req.helm_args.has("is-upgrade") {
                render_args.push("--is-upgrade".into());
            }
            if req.discover && !offline(req.helm_args) {
                render_args.extend(cluster_render_args(req, &settings)?);
            }
            let rendered = chart::render(helm, &dir, req.release, &render_args)?;
            (rendered.metadata, rendered.documents, rendered.notes)
        }
        Source::Kustomization(dir) => (
            generated_metadata(dir, "kustomization", req),
            kustomize::build(dir)?,
            None,
        ),
        Source::Manifests(path) => (
            generated_metadata(path, "manifests", req),
            manifests::load(path)?,
            None,
        ),
    };
    let mut documents = if req.patches.is_empty() {
        documents
    } else {
        let options = patch::PatchContext {
            release_namespace: &settings.namespace,
            mode: req.smp_mode,
            allow_missing_targets: req.allow_missing_patch_targets,
        };
        patch::apply_documents(documents, req.patches, &options)?
    };
    if !source.is_chart() {
        for doc in documents.iter_mut().filter(|d| d.is_crd()) {
            doc.set_annotation(KEEP.0, KEEP.1);
        }
    }
    Ok(Built::Objects(Objects {
        workdir,
        metadata,
        documents,
        notes,
        rendered_by_helm: source.is_chart(),
    }))
}

/// `--dry-run` (client) asks for no cluster access at all.
fn offline(helm_args: &HelmArgs) -> bool {
    helm_args.has("dry-run")
        && !matches!(
            helm_args.value_of("dry-run").as_deref(),
            Some("server" | "none" | "false")
        )
}

/// `--kube-version`/`--api-versions` from the cluster (unless the user gave them), and `--is-upgrade`
/// when an upgrade will find the release there. No configured cluster means helm's offline defaults.
fn cluster_render_args(req: &Request, settings: &Settings) -> Result<Vec<OsString>> {
    let Some(cluster) = Cluster::connect(&ClusterConfig::from_env())? else {
        return Ok(Vec::new());
    };
    let mut args = Vec::new();
    if !req.helm_args.has("kube-version") && !req.helm_args.has("api-versions") {
        let caps = cluster.capabilities()?;
        for gv in &caps.unavailable {
            eprintln!(
                "helm-x: warning: the cluster's discovery of {gv} failed; it is left out of .Capabilities.APIVersions"
            );
        }
        args.extend(caps.helm_template_args().into_iter().map(OsString::from));
    }
    if req.upgrade && cluster.release_exists(req.release, &settings.namespace)? {
        args.push("--is-upgrade".into());
    }
    Ok(args)
}

/// Chart.yaml for inputs that are not charts: named after the input, versioned by `--version` if given.
fn generated_metadata(input: &Path, kind: &str, req: &Request) -> Map<String, Value> {
    let base = input
        .canonicalize()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| req.release.to_string());
    let version = req
        .helm_args
        .value_of("version")
        .unwrap_or_else(|| "0.1.0".into());
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
