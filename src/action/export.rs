//! `helm x export flux RELEASE INPUT [flags]`: the same release as a Flux `HelmRelease`
//! (helm.toolkit.fluxcd.io/v2) and the source object Flux fetches the chart from, printed as
//! multi-document YAML (source first).
//!
//! - The chart: `repo/chart` becomes a `HelmRepository` with the URL `helm repo list` has for
//!   `repo`, `--repo URL CHART` one with that URL, and `oci://registry/path/chart` an
//!   `OCIRepository` the release names in `spec.chartRef`. The version is `--version` as given, else
//!   the one helm resolves now (so the export pins what `helm x install` would install).
//! - The values: helm's own merge of `-f`/`--set*` ([`user_values`]), exactly what helm stores as
//!   the release's user values.
//! - The patches: every `--strategic-merge-patch`, `--json-patch` and `--patch` entry, in order,
//!   becomes one entry of `spec.postRenderers[0].kustomize.patches` (inline text and a `target`;
//!   Flux has no file access, so `path:` bodies are inlined). An SMP that names its own object gets
//!   the target its `apiVersion`, `kind`, `metadata.name` (and `metadata.namespace`) spell.
//!
//! What a HelmRelease cannot express (local charts, kustomizations, manifest dirs,
//! `--dependency`, `--inject`, `--transformer`, `--force-namespace`, patch `options`, helm flags
//! without a HelmRelease field) is an error that names it: an export that silently dropped part
//! of the release would install something else.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::sync::LazyLock;

use anyhow::{Context, Result, bail};
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::chart::workdir::WorkDir;
use crate::helm::{HelmArgs, Repos, Run, Verb};
use crate::input::{self, Source};
use crate::invocation::{Invocation, Target};
use crate::patch::spec::{self, Patch, PatchBody, PatchOptions, Target as PatchTarget};
use crate::patch::{PatchSource, SmpMode};
use crate::stream::emit;

/// The HelmRelease API.
pub const HELM_RELEASE_API: &str = "helm.toolkit.fluxcd.io/v2";
/// The API of `HelmRepository` and `OCIRepository`.
pub const SOURCE_API: &str = "source.toolkit.fluxcd.io/v1";
/// The layer of an OCI artifact that holds a Helm chart.
const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// `helm x export flux`'s own options.
#[derive(Debug, Clone)]
pub struct FluxOptions {
    /// `spec.interval` of every object.
    pub interval: String,
}

/// Where Flux fetches the chart from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ChartSource {
    /// A classic chart repository: a `HelmRepository` and `spec.chart.spec`.
    Repository {
        name: String,
        url: String,
        chart: String,
    },
    /// An OCI artifact: an `OCIRepository` and `spec.chartRef`.
    Oci { name: String, url: String },
}

/// Prints the HelmRelease and its source for `target`.
pub fn flux(inv: &Invocation, target: &Target, options: &FluxOptions) -> Result<ExitCode> {
    let problems = unportable(target, &inv.helm_args);
    if !problems.is_empty() {
        bail!(
            "helm x export flux: not portable to a Flux HelmRelease:\n  - {}",
            problems.join("\n  - ")
        );
    }
    check_duration("--interval", &options.interval)?;
    if let Some(timeout) = inv.helm_args.value_of("timeout") {
        check_duration("--timeout", &timeout)?;
    }
    let source = input::detect(&target.input, target.input_type, inv.helm_args.repo())?;
    let chart = chart_source(&source, inv.helm_args.repo_url(), || {
        Repos::list(inv.helm()?, &inv.helm_args.globals())
    })?;
    warn_unexported(&inv.helm_args);
    let patches = spec::load_patches_for(&target.patches, target.smp_mode)?;
    if target.smp_mode == SmpMode::Apimachinery
        && patches
            .iter()
            .any(|p| matches!(p.body, PatchBody::Strategic(_)))
    {
        eprintln!(
            "helm-x: note: Flux applies strategic-merge patches with kustomize's semantics \
             (helm-x's --smp-mode kustomize), which can merge some lists differently"
        );
    }
    let patches = patches.iter().map(flux_patch).collect::<Result<Vec<_>>>()?;
    let settings = release_settings(&inv.helm_args)?;
    let resolved = chart_version(inv, target)?;
    let version = inv.helm_args.version().unwrap_or(resolved);
    let values = match user_values(inv, target)? {
        Value::Null => Value::Object(Map::new()),
        values => values,
    };
    let release = Release {
        name: &target.release,
        namespace: &inv.namespace,
        version: &version,
        values,
        patches,
        settings,
        interval: &options.interval,
        plain_http: inv.helm_args.any_of(&["plain-http"]),
    };
    let text = documents(&chart, &release)
        .iter()
        .map(emit)
        .collect::<Vec<_>>()
        .join("---\n");
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write the exported objects")?;
    Ok(ExitCode::SUCCESS)
}

/// Flux's duration fields take Go durations with units (`10m`, `1h30m`, `90s`), as their CRD
/// pattern says.
fn check_duration(flag: &str, value: &str) -> Result<()> {
    static DURATION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$").expect("valid regex"));
    if !DURATION.is_match(value) {
        bail!("{flag} {value:?}: Flux takes a duration such as 10m, 1h30m or 90s");
    }
    Ok(())
}

/// Helm flags a HelmRelease or its source expresses (or that only shape the values and the
/// chart's location), as `--long`.
const PORTABLE_FLAGS: &[&str] = &[
    "--values",
    "--set",
    "--set-string",
    "--set-file",
    "--set-json",
    "--set-literal",
    "--version",
    "--repo",
    "--devel",
    "--plain-http",
    "--timeout",
    "--skip-crds",
    "--no-hooks",
    "--skip-schema-validation",
    "--disable-openapi-validation",
    "--force",
    "--cleanup-on-fail",
    "--history-max",
    // What Flux does anyway: it installs or upgrades, waits for the objects and jobs, and takes
    // existing objects over; the HelmRelease lives in the release namespace, which so exists.
    "--install",
    "--wait",
    "--wait-for-jobs",
    "--take-ownership",
    "--create-namespace",
];

/// Credentials and TLS settings: needed to fetch the chart now, never written into the export.
const CREDENTIAL_FLAGS: &[&str] = &[
    "--username",
    "--password",
    "--pass-credentials",
    "--ca-file",
    "--cert-file",
    "--key-file",
    "--insecure-skip-tls-verify",
];

/// Everything in the command line a HelmRelease cannot express, each with the reason.
fn unportable(target: &Target, args: &HelmArgs) -> Vec<String> {
    let mut out = Vec::new();
    for dependency in &target.dependencies {
        out.push(format!(
            "--dependency {dependency}: a HelmRelease cannot add subcharts; declare it in the \
             chart's Chart.yaml and publish the chart"
        ));
    }
    for injector in &target.injectors {
        out.push(format!(
            "--inject {injector}: Flux runs no commands on the rendered objects"
        ));
    }
    if let Some(force) = &target.force_namespace {
        out.push(format!(
            "--force-namespace {}: Flux's post-renderer takes only kustomize patches and images \
             (a HelmRelease's spec.targetNamespace is the release namespace, not a rewrite)",
            force.namespace
        ));
    }
    for source in &target.patches {
        if let PatchSource::Transformer(file) = source {
            out.push(format!(
                "--transformer {}: Flux's kustomize post-renderer takes only `patches` and \
                 `images`",
                file.display()
            ));
        }
    }
    if target.validate_offline.is_some() {
        out.push(
            "--validate-offline: the export renders no objects to check; run it with helm x \
             template and the same flags"
                .to_string(),
        );
    }
    if !target.kustomize_build_args.is_empty() {
        out.push(
            "--kustomize-build-arg: a HelmRelease installs charts, not kustomizations".to_string(),
        );
    }
    for name in args.non_global_names() {
        if PORTABLE_FLAGS.contains(&name.as_str()) || CREDENTIAL_FLAGS.contains(&name.as_str()) {
            continue;
        }
        let why = match name.as_str() {
            "--reuse-values" | "--reset-values" | "--reset-then-reuse-values" => {
                "Flux always installs spec.values"
            }
            "--post-renderer" | "--post-renderer-args" => {
                "Flux runs only its own kustomize post-renderer"
            }
            "--dry-run" => "an export installs nothing; leave it out",
            _ => "no HelmRelease field holds it",
        };
        let entry = format!("{name}: {why}");
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    out
}

/// Tells which credential flags the export leaves out (the source needs a `secretRef` instead).
fn warn_unexported(args: &HelmArgs) {
    let mut given: Vec<String> = args
        .non_global_names()
        .into_iter()
        .filter(|n| CREDENTIAL_FLAGS.contains(&n.as_str()))
        .collect();
    given.dedup();
    if !given.is_empty() {
        eprintln!(
            "helm-x: not exported: {} (give the source object a secretRef or certSecretRef; \
             credentials are never written out)",
            given.join(", ")
        );
    }
}

/// The source object Flux can fetch the chart from; local inputs have none.
fn chart_source(
    source: &Source,
    repo_url: Option<String>,
    repos: impl FnOnce() -> Result<Repos>,
) -> Result<ChartSource> {
    let refuse = |what: &str, path: &std::path::Path, fix: &str| {
        anyhow::anyhow!(
            "helm x export flux: {} is {what}, which a Flux HelmRelease cannot reference; {fix}",
            path.display()
        )
    };
    let reference = match source {
        Source::ChartDir(path) | Source::ChartArchive(path) => {
            return Err(refuse(
                "a local chart",
                path,
                "publish it to a chart repository (then export `repo/chart` or `--repo URL \
                 CHART`) or an OCI registry (`oci://…`)",
            ));
        }
        Source::Kustomization(path) => {
            return Err(refuse(
                "a kustomization",
                path,
                "Flux installs kustomizations with a Kustomization object",
            ));
        }
        Source::Manifests(path) => {
            return Err(refuse(
                "a manifests dir or file",
                path,
                "Flux installs plain manifests with a Kustomization object",
            ));
        }
        Source::ChartRef(reference) => reference,
    };
    if let Some(url) = repo_url {
        return Ok(ChartSource::Repository {
            name: k8s_name(reference),
            url,
            chart: reference.clone(),
        });
    }
    if let Some(path) = reference.strip_prefix("oci://") {
        let last = path.rsplit('/').next().unwrap_or(path);
        if last.contains([':', '@']) || !path.contains('/') {
            bail!(
                "helm x export flux: {reference}: expected oci://registry/path/chart, with the \
                 version in --version"
            );
        }
        return Ok(ChartSource::Oci {
            name: k8s_name(last),
            url: reference.clone(),
        });
    }
    if reference.starts_with("http://") || reference.starts_with("https://") {
        bail!(
            "helm x export flux: {reference} is a chart URL, which a Flux HelmRelease cannot \
             reference; name the repository and the chart instead (--repo URL CHART)"
        );
    }
    let Some((repo, chart)) = reference.split_once('/') else {
        bail!("helm x export flux: {reference} is not repo/chart");
    };
    Ok(ChartSource::Repository {
        name: k8s_name(repo),
        url: repos()?.url(repo)?.to_string(),
        chart: chart.to_string(),
    })
}

/// A Kubernetes object name (DNS-1123 subdomain) made of `raw`.
fn k8s_name(raw: &str) -> String {
    let name: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let name: String = name.chars().take(253).collect();
    if name.is_empty() {
        "chart".to_string()
    } else {
        name
    }
}

/// A regex matching exactly `text`, as a kustomize target's `name` and `namespace` are regexes.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One loaded patch as an entry of Flux's `postRenderers[].kustomize.patches`: inline text (an SMP
/// document or an RFC 6902 operation list, written so YAML 1.1 and 1.2 read the same values) and a
/// kustomize target.
fn flux_patch(patch: &Patch) -> Result<Value> {
    if patch.options != PatchOptions::default() {
        bail!(
            "helm x export flux: {}: `options` (allowNameChange, allowKindChange) are not \
             portable: Flux's patches take only `patch` and `target`",
            patch.origin
        );
    }
    let text = match &patch.body {
        PatchBody::Strategic(doc) => emit(doc),
        PatchBody::Json6902(ops) => emit(&ops.to_value()),
    };
    let mut target = Map::new();
    let mut put = |key: &str, value: String| {
        if !value.is_empty() {
            target.insert(key.into(), Value::String(value));
        }
    };
    match &patch.target {
        PatchTarget::Identity(id) => {
            put("group", id.group.clone());
            put("version", id.version.clone());
            put("kind", id.kind.clone());
            put("name", literal(&id.name));
            put("namespace", literal(&id.namespace));
        }
        PatchTarget::Selector(selector) => {
            let s = selector.spec();
            put("group", s.group.clone());
            put("version", s.version.clone());
            put("kind", s.kind.clone());
            put("name", s.name.clone());
            put("namespace", s.namespace.clone());
            put("labelSelector", s.label_selector.clone());
            put("annotationSelector", s.annotation_selector.clone());
        }
    }
    Ok(json!({"patch": text, "target": target}))
}

/// HelmRelease fields that helm flags set: `timeout`, `maxHistory`, `install`, `upgrade`.
fn release_settings(args: &HelmArgs) -> Result<Map<String, Value>> {
    let mut spec = Map::new();
    let (mut install, mut upgrade) = (Map::new(), Map::new());
    if let Some(timeout) = args.value_of("timeout") {
        spec.insert("timeout".into(), json!(timeout));
    }
    if let Some(max) = args.value_of("history-max") {
        let max: u64 = max
            .parse()
            .with_context(|| format!("--history-max {max:?} is not a number"))?;
        spec.insert("maxHistory".into(), json!(max));
    }
    if args.any_of(&["skip-crds"]) {
        install.insert("crds".into(), json!("Skip"));
        upgrade.insert("crds".into(), json!("Skip"));
    }
    for (flag, field) in [
        ("no-hooks", "disableHooks"),
        ("skip-schema-validation", "disableSchemaValidation"),
        ("disable-openapi-validation", "disableOpenAPIValidation"),
    ] {
        if args.any_of(&[flag]) {
            install.insert(field.into(), json!(true));
            upgrade.insert(field.into(), json!(true));
        }
    }
    if args.any_of(&["force"]) {
        upgrade.insert("force".into(), json!(true));
    }
    if args.any_of(&["cleanup-on-fail"]) {
        upgrade.insert("cleanupOnFail".into(), json!(true));
    }
    for (key, map) in [("install", install), ("upgrade", upgrade)] {
        if !map.is_empty() {
            spec.insert(key.into(), Value::Object(map));
        }
    }
    Ok(spec)
}

/// The user-supplied values, merged by helm itself: `helm template` of a chart helm-x writes into
/// its work dir, with no defaults and one template, `{{ toJson .Values }}`, given the user's values
/// flags. With no defaults to coalesce with, `.Values` is exactly the merged `-f`/`--set*` values
/// helm stores as a release's config (nulls kept). `helm install --dry-run=client` would print the
/// same, but Helm 3 wants a reachable cluster for it.
fn user_values(inv: &Invocation, target: &Target) -> Result<Value> {
    let workdir = WorkDir::create(inv.keep_workdir(target))?;
    let chart = workdir.path().join("values-chart");
    std::fs::create_dir_all(chart.join("templates"))
        .with_context(|| format!("cannot create {}", chart.display()))?;
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: helm-x-values\nversion: 0.0.0\n",
    )
    .context("cannot write the values chart")?;
    std::fs::write(
        chart.join("templates/values.json"),
        "{{ toJson .Values }}\n",
    )
    .context("cannot write the values chart")?;
    let mut argv: Vec<OsString> = vec![
        "template".into(),
        target.release.as_str().into(),
        chart.into_os_string(),
    ];
    argv.extend(inv.helm_args.for_run(
        Verb::Template,
        Run::Render {
            chart_is_local: true,
        },
    ));
    let out = inv.helm()?.capture(&argv)?;
    let json: String = out
        .lines()
        .filter(|l| !l.starts_with("---") && !l.starts_with('#'))
        .collect();
    serde_json::from_str(&json).context("helm printed the values as invalid JSON")
}

/// The chart's version as helm resolves it now (`helm show chart` with the chart-location flags),
/// which also checks that the chart and version exist.
fn chart_version(inv: &Invocation, target: &Target) -> Result<String> {
    let mut argv: Vec<OsString> = vec!["show".into(), "chart".into(), target.input.as_str().into()];
    argv.extend(inv.helm_args.for_run(Verb::Pull, Run::Pull));
    let out = inv.helm()?.capture(&argv)?;
    let metadata = crate::stream::load(&out).context("helm show chart printed invalid YAML")?;
    match &metadata["version"] {
        Value::String(v) if !v.is_empty() => Ok(v.clone()),
        _ => bail!("helm show chart {}: the chart has no version", target.input),
    }
}

/// What the HelmRelease says about the release itself.
struct Release<'a> {
    name: &'a str,
    namespace: &'a str,
    /// `--version`, or the version helm resolved.
    version: &'a str,
    /// The user-supplied values, merged by helm.
    values: Value,
    /// Entries of `postRenderers[0].kustomize.patches`.
    patches: Vec<Value>,
    /// Fields set by helm flags ([`release_settings`]).
    settings: Map<String, Value>,
    interval: &'a str,
    /// `--plain-http`: the OCI registry speaks plain HTTP.
    plain_http: bool,
}

/// An exact version becomes an OCI tag (`+` is `_` in tags, as helm pushes it); anything else is
/// a semver range.
fn oci_ref(version: &str) -> Value {
    static EXACT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^v?[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
            .expect("valid regex")
    });
    if EXACT.is_match(version) {
        json!({"tag": version.replace('+', "_")})
    } else {
        json!({"semver": version})
    }
}

/// The source object and the HelmRelease, in that order.
fn documents(chart: &ChartSource, release: &Release) -> Vec<Value> {
    let metadata = |name: &str| json!({"name": name, "namespace": release.namespace});
    let (source, chart_field) = match chart {
        ChartSource::Repository { name, url, chart } => (
            json!({
                "apiVersion": SOURCE_API,
                "kind": "HelmRepository",
                "metadata": metadata(name),
                "spec": {"interval": release.interval, "url": url},
            }),
            (
                "chart",
                json!({"spec": {
                    "chart": chart,
                    "version": release.version,
                    "sourceRef": {"kind": "HelmRepository", "name": name},
                }}),
            ),
        ),
        ChartSource::Oci { name, url } => (
            {
                let mut source = json!({
                    "apiVersion": SOURCE_API,
                    "kind": "OCIRepository",
                    "metadata": metadata(name),
                    "spec": {
                        "interval": release.interval,
                        "url": url,
                        "ref": oci_ref(release.version),
                        "layerSelector": {"mediaType": HELM_CHART_LAYER, "operation": "copy"},
                    },
                });
                if release.plain_http {
                    source["spec"]["insecure"] = json!(true);
                }
                source
            },
            ("chartRef", json!({"kind": "OCIRepository", "name": name})),
        ),
    };
    let mut spec = Map::new();
    spec.insert("interval".into(), json!(release.interval));
    spec.insert("releaseName".into(), json!(release.name));
    spec.insert(chart_field.0.into(), chart_field.1);
    spec.extend(release.settings.clone());
    if release.values.as_object().is_none_or(|m| !m.is_empty()) {
        spec.insert("values".into(), release.values.clone());
    }
    if !release.patches.is_empty() {
        spec.insert(
            "postRenderers".into(),
            json!([{"kustomize": {"patches": release.patches}}]),
        );
    }
    let helm_release = json!({
        "apiVersion": HELM_RELEASE_API,
        "kind": "HelmRelease",
        "metadata": metadata(release.name),
        "spec": spec,
    });
    vec![source, helm_release]
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::filter::namespace::{ForceNamespace, NamespaceMode};
    use crate::helm::classify;
    use crate::testutil::TempDir;

    fn scratch(name: &str) -> TempDir {
        TempDir::new(&format!("export-{name}"))
    }

    fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
        dir.write(name, text)
    }

    fn converted(sources: &[PatchSource], mode: SmpMode) -> Vec<Value> {
        spec::load_patches_for(sources, mode)
            .expect("loads")
            .iter()
            .map(|p| flux_patch(p).expect("portable"))
            .collect()
    }

    #[test]
    fn smp_gets_the_target_its_identity_spells() {
        let dir = scratch("smp");
        let file = write(
            &dir,
            "smp.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: r-app.v1, namespace: apps}\n\
             spec: {replicas: 5, template: {spec: {containers: [{name: app, env: [{name: X, value: 'yes'}]}]}}}\n\
             ---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {flag: on}\n",
        );
        let out = converted(&[PatchSource::Strategic(file)], SmpMode::Apimachinery);
        assert_eq!(
            out[0]["target"],
            json!({"group": "apps", "version": "v1", "kind": "Deployment", "name": "r-app\\.v1",
                   "namespace": "apps"})
        );
        assert_eq!(
            out[1]["target"],
            json!({"version": "v1", "kind": "ConfigMap", "name": "cm"})
        );
        // The text reads back as the document helm-x applies, in YAML 1.1 and 1.2 alike: go-yaml
        // v2's `on` (true) is written as `true`, the string `yes` stays quoted.
        let text = out[1]["patch"].as_str().unwrap();
        assert!(text.contains("flag: true"), "{text}");
        let first = out[0]["patch"].as_str().unwrap();
        assert!(
            first.contains("value: \"yes\"") || first.contains("value: 'yes'"),
            "{first}"
        );
        let back = crate::stream::load(first).unwrap();
        assert_eq!(back["spec"]["replicas"], json!(5));
        assert_eq!(back["metadata"]["name"], json!("r-app.v1"));
    }

    #[test]
    fn kustomize_mode_keeps_yaml12_strings() {
        let dir = scratch("kyaml");
        let file = write(
            &dir,
            "smp.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {flag: on}\n",
        );
        let out = converted(&[PatchSource::Strategic(file)], SmpMode::Kustomize);
        let text = out[0]["patch"].as_str().unwrap();
        let back = crate::stream::load(text).unwrap();
        assert_eq!(back["data"]["flag"], json!("on"), "{text}");
    }

    #[test]
    fn json_patch_ops_become_an_operation_list_with_the_target() {
        let dir = scratch("json");
        write(&dir, "ops.yaml", "- {op: remove, path: /data/b}\n");
        let file = write(
            &dir,
            "json.yaml",
            "target: {group: apps, version: v1, kind: Deployment, name: r-app, namespace: apps}\n\
             patch:\n- {op: replace, path: /spec/replicas, value: 3}\n\
             - {op: add, path: /metadata/labels/x, value: '1.10'}\n\
             ---\ntarget: {kind: ConfigMap, name: 'r-.*'}\npath: ops.yaml\n",
        );
        let out = converted(&[PatchSource::Json(file)], SmpMode::Apimachinery);
        assert_eq!(
            out[0]["target"],
            json!({"group": "apps", "version": "v1", "kind": "Deployment", "name": "r-app",
                   "namespace": "apps"})
        );
        let ops = crate::stream::load(out[0]["patch"].as_str().unwrap()).unwrap();
        assert_eq!(
            ops,
            json!([
                {"op": "replace", "path": "/spec/replicas", "value": 3},
                {"op": "add", "path": "/metadata/labels/x", "value": "1.10"},
            ])
        );
        // A `path:` body is inlined: Flux reads no files.
        assert_eq!(
            out[1]["target"],
            json!({"kind": "ConfigMap", "name": "r-.*"})
        );
        let ops = crate::stream::load(out[1]["patch"].as_str().unwrap()).unwrap();
        assert_eq!(ops, json!([{"op": "remove", "path": "/data/b"}]));
        // kustomize reads a JSON 6902 text that starts with `[` as JSON only: write a block list.
        assert!(out[0]["patch"].as_str().unwrap().starts_with("- op:"));
    }

    #[test]
    fn kustomize_entries_map_one_to_one_with_path_bodies_inlined() {
        let dir = scratch("kustomize");
        write(
            &dir,
            "body.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {x: y}\n",
        );
        write(
            &dir,
            "ops.yaml",
            "- op: add\n  path: /data/z\n  value: \"1\"\n",
        );
        let file = write(
            &dir,
            "entries.yaml",
            "- path: body.yaml\n\
             - path: ops.yaml\n  target: {kind: ConfigMap, labelSelector: 'app=web'}\n\
             - patch: |\n    spec: {replicas: 1}\n  target: {kind: Deployment, annotationSelector: 'a=b'}\n",
        );
        let out = converted(&[PatchSource::Kustomize(file)], SmpMode::Kustomize);
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[0]["target"],
            json!({"version": "v1", "kind": "ConfigMap", "name": "c"})
        );
        assert_eq!(
            crate::stream::load(out[0]["patch"].as_str().unwrap()).unwrap()["data"],
            json!({"x": "y"})
        );
        assert_eq!(
            out[1]["target"],
            json!({"kind": "ConfigMap", "labelSelector": "app=web"})
        );
        assert_eq!(
            crate::stream::load(out[1]["patch"].as_str().unwrap()).unwrap(),
            json!([{"op": "add", "path": "/data/z", "value": "1"}])
        );
        assert_eq!(
            out[2]["target"],
            json!({"kind": "Deployment", "annotationSelector": "a=b"})
        );
        assert_eq!(
            crate::stream::load(out[2]["patch"].as_str().unwrap()).unwrap(),
            json!({"spec": {"replicas": 1}})
        );

        let options = write(
            &dir,
            "options.yaml",
            "- path: body.yaml\n  options: {allowNameChange: true}\n",
        );
        let loaded = spec::load_patches_for(&[PatchSource::Kustomize(options)], SmpMode::Kustomize)
            .expect("loads");
        let err = flux_patch(&loaded[0]).unwrap_err().to_string();
        assert!(err.contains("`options` (allowNameChange, allowKindChange) are not portable"));
    }

    fn target(input: &str) -> Target {
        Target {
            release: "r".into(),
            input: input.into(),
            input_type: None,
            patches: Vec::new(),
            smp_mode: SmpMode::Apimachinery,
            allow_missing_patch_targets: false,
            pre_render: false,
            keep_workdir: false,
            injectors: Vec::new(),
            dependencies: Vec::new(),
            local_copy: false,
            kustomize_build_args: Vec::new(),
            force_namespace: None,
            validate_offline: None,
        }
    }

    fn helm_args(words: &[&str]) -> HelmArgs {
        let argv: Vec<std::ffi::OsString> = words.iter().map(Into::into).collect();
        let mut args = HelmArgs::default();
        let mut i = 0;
        while i < argv.len() {
            i += args.take(&argv[i..], Verb::Install);
        }
        args
    }

    #[test]
    fn unportable_inputs_are_named() {
        let mut t = target("local/app");
        t.dependencies = vec!["log=./charts/log".parse().unwrap()];
        t.injectors = vec!["istioctl kube-inject -f FILE".parse().unwrap()];
        t.force_namespace = Some(ForceNamespace {
            namespace: "other".into(),
            mode: NamespaceMode::Override,
        });
        t.patches = vec![
            PatchSource::Strategic("s.yaml".into()),
            PatchSource::Transformer("t.yaml".into()),
        ];
        t.validate_offline = Some(crate::validate::Options {
            allow_unknown_kinds: false,
        });
        let args = helm_args(&[
            "-f",
            "v.yaml",
            "--set",
            "a=b",
            "--version",
            "1.2.0",
            "-n",
            "apps",
            "--timeout",
            "5m",
            "--reuse-values",
            "--post-renderer",
            "x",
            "--atomic",
            "--username",
            "u",
        ]);
        let problems = unportable(&t, &args);
        let starts: Vec<&str> = problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(
            starts,
            [
                "--dependency log=./charts/log",
                "--inject istioctl kube-inject -f FILE",
                "--force-namespace other",
                "--transformer t.yaml",
                "--validate-offline",
                "--reuse-values",
                "--post-renderer",
                "--atomic",
            ],
            "{problems:#?}"
        );
        assert!(unportable(&target("local/app"), &helm_args(&["-f", "v.yaml"])).is_empty());

        let none = || -> Result<Repos> { panic!("no repository lookup for this input") };
        for (source, want) in [
            (Source::ChartDir("charts/app".into()), "is a local chart"),
            (
                Source::ChartArchive("app-1.2.0.tgz".into()),
                "is a local chart",
            ),
            (Source::Kustomization("k".into()), "is a kustomization"),
            (Source::Manifests("m".into()), "is a manifests dir or file"),
            (
                Source::ChartRef("https://x.test/app-1.0.0.tgz".into()),
                "is a chart URL",
            ),
            (
                Source::ChartRef("oci://r.test/app:1.0.0".into()),
                "with the version in --version",
            ),
        ] {
            let err = chart_source(&source, None, none).unwrap_err().to_string();
            assert!(err.contains(want), "{source:?}: {err}");
        }
    }

    #[test]
    fn chart_sources() {
        let none = || -> Result<Repos> { panic!("no repository lookup for this input") };
        assert_eq!(
            chart_source(
                &Source::ChartRef("oci://r.test:5000/charts/My_App".into()),
                None,
                none
            )
            .unwrap(),
            ChartSource::Oci {
                name: "my-app".into(),
                url: "oci://r.test:5000/charts/My_App".into()
            }
        );
        assert_eq!(
            chart_source(
                &Source::ChartRef("app".into()),
                Some("https://charts.test".into()),
                none
            )
            .unwrap(),
            ChartSource::Repository {
                name: "app".into(),
                url: "https://charts.test".into(),
                chart: "app".into()
            }
        );
        assert_eq!(oci_ref("1.2.0+build.1"), json!({"tag": "1.2.0_build.1"}));
        assert_eq!(oci_ref(">=1.0.0 <2"), json!({"semver": ">=1.0.0 <2"}));
        assert_eq!(oci_ref("1.x"), json!({"semver": "1.x"}));
    }

    #[test]
    fn helm_flags_become_release_fields() {
        let args = helm_args(&[
            "--timeout",
            "5m0s",
            "--history-max",
            "4",
            "--skip-crds",
            "--no-hooks",
            "--force",
        ]);
        let settings = release_settings(&args).unwrap();
        assert_eq!(
            Value::Object(settings),
            json!({
                "timeout": "5m0s",
                "maxHistory": 4,
                "install": {"crds": "Skip", "disableHooks": true},
                "upgrade": {"crds": "Skip", "disableHooks": true, "force": true},
            })
        );
        assert!(classify("--history-max").is_some());
        assert!(check_duration("--timeout", "5m0s").is_ok());
        assert!(check_duration("--interval", "1h30m").is_ok());
        let err = check_duration("--interval", "10").unwrap_err().to_string();
        assert!(err.contains("Flux takes a duration"), "{err}");
    }

    #[test]
    fn documents_source_first() {
        let chart = ChartSource::Repository {
            name: "local".into(),
            url: "http://127.0.0.1:1/".into(),
            chart: "app".into(),
        };
        let release = Release {
            name: "r",
            namespace: "apps",
            version: "1.2.0",
            values: json!({"replicas": 3}),
            patches: vec![json!({"patch": "a: b\n", "target": {"kind": "ConfigMap"}})],
            settings: Map::new(),
            interval: "10m",
            plain_http: true,
        };
        let docs = documents(&chart, &release);
        assert_eq!(docs[0]["kind"], "HelmRepository");
        assert_eq!(docs[0]["spec"]["url"], "http://127.0.0.1:1/");
        assert_eq!(
            docs[1]["spec"]["chart"]["spec"],
            json!({"chart": "app", "version": "1.2.0",
                   "sourceRef": {"kind": "HelmRepository", "name": "local"}})
        );
        assert_eq!(
            docs[1]["metadata"],
            json!({"name": "r", "namespace": "apps"})
        );
        assert_eq!(docs[1]["spec"]["releaseName"], "r");
        assert_eq!(docs[1]["spec"]["values"], json!({"replicas": 3}));
        assert_eq!(
            docs[1]["spec"]["postRenderers"][0]["kustomize"]["patches"][0]["target"],
            json!({"kind": "ConfigMap"})
        );
        let oci = documents(
            &ChartSource::Oci {
                name: "app".into(),
                url: "oci://r.test/charts/app".into(),
            },
            &Release {
                values: json!({}),
                patches: Vec::new(),
                ..release
            },
        );
        assert_eq!(oci[0]["kind"], "OCIRepository");
        assert_eq!(oci[0]["spec"]["ref"], json!({"tag": "1.2.0"}));
        assert_eq!(oci[0]["spec"]["insecure"], json!(true));
        assert!(docs[0]["spec"].get("insecure").is_none());
        assert_eq!(
            oci[1]["spec"]["chartRef"],
            json!({"kind": "OCIRepository", "name": "app"})
        );
        assert!(oci[1]["spec"].get("values").is_none());
        assert!(oci[1]["spec"].get("postRenderers").is_none());
    }

    /// `version`'s `openAPIV3Schema` in a CRD of testdata/flux, made strict: an object schema that
    /// lists its properties (and keeps no unknown fields) refuses others, since the API server
    /// would prune them and Flux would never see them.
    fn crd_schema(file: &str, version: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/flux")
            .join(file);
        let text = std::fs::read_to_string(&path).expect("CRD fixture");
        let crd = crate::stream::load(&text).expect("CRD YAML");
        let found = crd["spec"]["versions"]
            .as_array()
            .and_then(|all| all.iter().find(|v| v["name"] == version))
            .unwrap_or_else(|| panic!("{file} has no version {version}"));
        let mut schema = found["schema"]["openAPIV3Schema"].clone();
        fn strict(schema: &mut Value) {
            match schema {
                Value::Object(map) => {
                    let keeps =
                        map.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
                    if map.contains_key("properties")
                        && !keeps
                        && !map.contains_key("additionalProperties")
                    {
                        map.insert("additionalProperties".into(), json!(false));
                    }
                    map.values_mut().for_each(strict);
                }
                Value::Array(items) => items.iter_mut().for_each(strict),
                _ => {}
            }
        }
        strict(&mut schema);
        schema
    }

    fn assert_valid(file: &str, version: &str, object: &Value) {
        let schema = crd_schema(file, version);
        let validator = jsonschema::validator_for(&schema).expect("the CRD schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(object)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:#?}\n{object:#}");
    }

    #[test]
    fn exported_objects_match_flux_crds() {
        let dir = scratch("crds");
        let smp = write(
            &dir,
            "smp.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n",
        );
        let json = write(
            &dir,
            "json.yaml",
            "target: {kind: ConfigMap, labelSelector: 'a=b'}\npatch: [{op: remove, path: /data}]\n",
        );
        let patches = converted(
            &[PatchSource::Strategic(smp), PatchSource::Json(json)],
            SmpMode::Kustomize,
        );
        let args = helm_args(&[
            "--timeout",
            "5m",
            "--history-max",
            "3",
            "--skip-crds",
            "--no-hooks",
            "--skip-schema-validation",
            "--disable-openapi-validation",
            "--force",
            "--cleanup-on-fail",
        ]);
        let release = Release {
            name: "web",
            namespace: "apps",
            version: "1.2.0",
            values: json!({"replicas": 3, "nested": {"list": [1, "two"]}}),
            patches,
            settings: release_settings(&args).unwrap(),
            interval: "10m",
            plain_http: true,
        };
        let repository = ChartSource::Repository {
            name: "local".into(),
            url: "https://charts.test/".into(),
            chart: "app".into(),
        };
        let docs = documents(&repository, &release);
        assert_valid(
            "source.toolkit.fluxcd.io_helmrepositories.yaml",
            "v1",
            &docs[0],
        );
        assert_valid("helm.toolkit.fluxcd.io_helmreleases.yaml", "v2", &docs[1]);
        let oci = ChartSource::Oci {
            name: "app".into(),
            url: "oci://r.test/charts/app".into(),
        };
        let docs = documents(&oci, &release);
        assert_valid(
            "source.toolkit.fluxcd.io_ocirepositories.yaml",
            "v1",
            &docs[0],
        );
        assert_valid("helm.toolkit.fluxcd.io_helmreleases.yaml", "v2", &docs[1]);
        // The strict schema does catch a misspelt field.
        let mut wrong = docs[1].clone();
        wrong["spec"]["chartRefs"] = json!({});
        let schema = crd_schema("helm.toolkit.fluxcd.io_helmreleases.yaml", "v2");
        assert!(!jsonschema::validator_for(&schema).unwrap().is_valid(&wrong));
    }
}
