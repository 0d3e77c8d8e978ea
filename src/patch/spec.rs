//! Patch files from `--strategic-merge-patch`, `--json-patch` and `--patch`, loaded into one
//! ordered list of [`Patch`]es that remember where they came from.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;
use serde_json::Value;

use super::json6902::{JsonPatch, type_name};
use super::smp_common::SmpMode;
use super::target::{ResId, Selector, SelectorSpec};
use crate::stream::{LoadOptions, YamlError};

/// One patch flag as given on the command line; order matters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PatchSource {
    /// `--strategic-merge-patch FILE`: SMP documents naming their own targets.
    Strategic(PathBuf),
    /// `--json-patch FILE`: helm-x `{target, patch | path}` documents.
    Json(PathBuf),
    /// `--patch FILE`: kustomize `patches:` entries.
    Kustomize(PathBuf),
    /// `--transformer FILE`: kustomize builtin transformer configs (`crate::filter::transform`).
    Transformer(PathBuf),
}

impl PatchSource {
    /// The patch file, whatever its format.
    pub fn path(&self) -> &Path {
        match self {
            Self::Strategic(p) | Self::Json(p) | Self::Kustomize(p) | Self::Transformer(p) => p,
        }
    }
}

/// Where a patch was written, so every error can point at it (numbers are 1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchOrigin {
    /// The patch file as given by the user.
    pub file: PathBuf,
    /// Whether `file` was given to `--transformer` (a patch transformer's document).
    pub transformer: bool,
    /// Document within `file`.
    pub document: usize,
    /// Entry within a document that is a list of entries.
    pub entry: Option<usize>,
    /// File named by the entry's `path:`, resolved against `file`'s directory.
    pub body_file: Option<PathBuf>,
    /// Document within a multi-document patch body.
    pub body_document: Option<usize>,
}

impl PatchOrigin {
    fn new(file: &Path, document: usize, entry: Option<usize>) -> Self {
        Self {
            file: file.to_path_buf(),
            transformer: false,
            document,
            entry,
            body_file: None,
            body_document: None,
        }
    }
}

impl fmt::Display for PatchOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.transformer {
            "transformer"
        } else {
            "patch"
        };
        write!(
            f,
            "{what} file {}, document {}",
            self.file.display(),
            self.document
        )?;
        if let Some(entry) = self.entry {
            write!(f, ", entry {entry}")?;
        }
        if let Some(body) = &self.body_file {
            write!(f, ", patch body {}", body.display())?;
        }
        if let Some(doc) = self.body_document {
            write!(f, ", body document {doc}")?;
        }
        Ok(())
    }
}

/// kustomize `options:` of a patch entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchOptions {
    /// Keep a name changed by an SMP instead of restoring it.
    #[serde(default)]
    pub allow_name_change: bool,
    /// Keep a kind changed by an SMP instead of restoring it.
    #[serde(default)]
    pub allow_kind_change: bool,
}

/// Which objects a patch applies to.
#[derive(Clone, Debug)]
pub enum Target {
    /// The identity an untargeted SMP carries itself (namespace as written).
    Identity(ResId),
    /// A kustomize selector; may match many objects.
    Selector(Selector),
}

/// The patch content.
#[derive(Clone, Debug)]
pub enum PatchBody {
    /// A strategic-merge patch document.
    Strategic(Value),
    /// An RFC 6902 operation list.
    Json6902(JsonPatch),
}

/// One unit of patching, applied atomically to each matched object.
#[derive(Clone, Debug)]
pub struct Patch {
    /// Where it was written.
    pub origin: PatchOrigin,
    /// What it applies to.
    pub target: Target,
    /// What it does.
    pub body: PatchBody,
    /// kustomize entry options (SMP only, as in kustomize).
    pub options: PatchOptions,
}

/// Loads every source in order, read as for `--smp-mode apimachinery`; the first malformed
/// document aborts with its location.
pub fn load_patches(sources: &[PatchSource]) -> anyhow::Result<Vec<Patch>> {
    load_patches_for(sources, SmpMode::Apimachinery)
}

/// [`load_patches`] for patches applied in `mode`. In [`SmpMode::Kustomize`], strategic-merge patch
/// documents are read the way kustomize reads them, with kyaml (go-yaml v3): YAML 1.2 booleans, so
/// `y`, `n`, `yes`, `no`, `on`, `off` stay strings. JSON 6902 operations and the `--patch` entries
/// themselves keep go-yaml v2 rules in both modes, as kustomize reads those with sigs.k8s.io/yaml.
pub fn load_patches_for(sources: &[PatchSource], mode: SmpMode) -> anyhow::Result<Vec<Patch>> {
    let smp = Yaml::for_smps(mode);
    let mut out = Vec::new();
    for source in sources {
        let before = out.len();
        match source {
            PatchSource::Strategic(file) => load_strategic(file, smp, &mut out)?,
            PatchSource::Json(file) => load_helmx_json(file, &mut out)?,
            PatchSource::Kustomize(file) => load_kustomize(file, smp, &mut out)?,
            PatchSource::Transformer(file) => bail!(
                "{} is a transformer file: its documents are loaded by filter::transform",
                file.display()
            ),
        }
        if out.len() == before {
            bail!("patch file {} holds no patches", source.path().display());
        }
    }
    Ok(out)
}

/// The scalar rules a patch document is read with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Yaml {
    /// go-yaml v2 (YAML 1.1), as kubectl, helm and sigs.k8s.io/yaml read YAML.
    V2,
    /// go-yaml v3 (YAML 1.2 booleans), as kustomize's kyaml reads resources and SMPs.
    Kyaml,
}

impl Yaml {
    /// How strategic-merge patches are read for `mode`.
    fn for_smps(mode: SmpMode) -> Self {
        match mode {
            SmpMode::Apimachinery => Self::V2,
            SmpMode::Kustomize => Self::Kyaml,
        }
    }
}

/// Every document of a patch file, empty ones as null, so document numbers match what the user counts.
fn load_documents(text: &str, yaml: Yaml) -> Result<Vec<Value>, YamlError> {
    match yaml {
        Yaml::V2 => crate::stream::split_load(text, &LoadOptions::default())
            .map(|docs| docs.into_iter().map(|(_, value)| value).collect()),
        Yaml::Kyaml => LoadOptions::default().split_load_yaml12(text),
    }
}

fn read_text(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file)
        .with_context(|| format!("patch file {}: cannot read", file.display()))
}

fn read_docs(file: &Path, yaml: Yaml) -> anyhow::Result<Vec<Value>> {
    load_documents(&read_text(file)?, yaml)
        .map_err(|e| anyhow!("patch file {}: {e}", file.display()))
}

/// The documents of a patch file given to a patch flag, which must hold at least one patch: an
/// empty file (or only empty documents) and one of only empty lists are refused by name.
fn read_patch_file(file: &Path, yaml: Yaml) -> anyhow::Result<Vec<Value>> {
    let docs = read_docs(file, yaml)?;
    let mut content = docs.iter().filter(|d| !d.is_null()).peekable();
    if content.peek().is_none() {
        bail!("patch file {} is empty", file.display());
    }
    if content.all(|d| d.as_array().is_some_and(Vec::is_empty)) {
        bail!("patch file {} holds no patches", file.display());
    }
    Ok(docs)
}

/// A patch body (inline `patch:` text or a `path:` file) as kustomize reads it: kyaml for SMPs, but
/// a JSON 6902 operation list with sigs.k8s.io/yaml (go-yaml v2), so in kyaml mode a body that
/// turns out to be a list is read again with v2 rules. `keep_empty` numbers empty documents too.
fn body_docs(text: &str, yaml: Yaml, keep_empty: bool) -> Result<Vec<Value>, YamlError> {
    let load = |yaml| match (yaml, keep_empty) {
        (_, true) => load_documents(text, yaml),
        (Yaml::V2, false) => crate::stream::load_all(text),
        (Yaml::Kyaml, false) => LoadOptions::default().load_all_yaml12(text),
    };
    let docs = load(yaml)?;
    let first = docs.iter().find(|d| !d.is_null());
    if yaml == Yaml::Kyaml && first.is_some_and(Value::is_array) {
        return load(Yaml::V2);
    }
    Ok(docs)
}

/// `path:` values are relative to the patch file's directory, never the cwd.
fn resolve(file: &Path, relative: &str) -> PathBuf {
    file.parent().unwrap_or(Path::new("")).join(relative)
}

/// Non-null documents with their 1-based numbers; empty documents (`---` alone) are skipped.
fn numbered(docs: Vec<Value>) -> impl Iterator<Item = (usize, Value)> {
    docs.into_iter()
        .enumerate()
        .filter(|(_, d)| !d.is_null())
        .map(|(i, d)| (i + 1, d))
}

/// A document that is a list holds several entries; otherwise it is one entry.
fn entries(doc: Value) -> Vec<(Option<usize>, Value)> {
    match doc {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, e)| (Some(i + 1), e))
            .collect(),
        other => vec![(None, other)],
    }
}

fn load_strategic(file: &Path, yaml: Yaml, out: &mut Vec<Patch>) -> anyhow::Result<()> {
    for (document, doc) in numbered(read_patch_file(file, yaml)?) {
        let origin = PatchOrigin::new(file, document, None);
        out.push(untargeted_smp(origin, doc)?);
    }
    Ok(())
}

/// An SMP without `target:` names its object through its own identity fields.
fn untargeted_smp(origin: PatchOrigin, doc: Value) -> anyhow::Result<Patch> {
    if !doc.is_object() {
        bail!(
            "{origin}: a strategic merge patch must be a mapping, found {}",
            type_name(&doc)
        );
    }
    let id = ResId::of(&doc);
    let missing: Vec<&str> = [
        ("apiVersion", &id.version),
        ("kind", &id.kind),
        ("metadata.name", &id.name),
    ]
    .into_iter()
    .filter(|(_, value)| value.is_empty())
    .map(|(field, _)| field)
    .collect();
    if !missing.is_empty() {
        bail!(
            "{origin}: a strategic merge patch without a target must name its object with \
             apiVersion, kind and metadata.name (missing: {})",
            missing.join(", ")
        );
    }
    Ok(Patch {
        origin,
        target: Target::Identity(id),
        body: PatchBody::Strategic(doc),
        options: PatchOptions::default(),
    })
}

/// helm-x's `--json-patch` document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HelmxJsonEntry {
    target: SelectorSpec,
    patch: Option<Value>,
    path: Option<String>,
}

fn load_helmx_json(file: &Path, out: &mut Vec<Patch>) -> anyhow::Result<()> {
    for (document, doc) in numbered(read_patch_file(file, Yaml::V2)?) {
        for (entry, value) in entries(doc) {
            let mut origin = PatchOrigin::new(file, document, entry);
            check_field_types(&value).map_err(|e| anyhow!("{origin}: {e}"))?;
            let looks_like_op = value.get("op").is_some();
            let parsed: HelmxJsonEntry = serde_json::from_value(value).map_err(|e| {
                let hint = if looks_like_op {
                    "; this looks like a bare operation list: --json-patch needs \
                     `target:` plus `patch:` (or use --patch with a kustomize entry)"
                } else {
                    ""
                };
                anyhow!("{origin}: {e}{hint}")
            })?;
            let ops = match (parsed.patch, parsed.path) {
                (Some(ops), None) => ops,
                (None, Some(path)) => {
                    let (body_file, ops) = single_body(file, &path, &origin)?;
                    origin.body_file = Some(body_file);
                    ops
                }
                (Some(_), Some(_)) => bail!("{origin}: set either `patch` or `path`, not both"),
                (None, None) => {
                    bail!("{origin}: needs `patch` (a list of operations) or `path` (a file)")
                }
            };
            let ops = JsonPatch::from_value(&ops).map_err(|e| anyhow!("{origin}: {e}"))?;
            let selector =
                Selector::compile(parsed.target).map_err(|e| anyhow!("{origin}: {e}"))?;
            out.push(Patch {
                origin,
                target: Target::Selector(selector),
                body: PatchBody::Json6902(ops),
                options: PatchOptions::default(),
            });
        }
    }
    Ok(())
}

/// Names the offending field where serde would only say "invalid type" (YAML 1.1 turns an
/// unquoted `yes` or `1.10` into a bool or number).
fn check_field_types(entry: &Value) -> Result<(), String> {
    let Value::Object(map) = entry else {
        return Err(format!("expected a mapping, found {}", type_name(entry)));
    };
    let wrong = |field: String, want: &str, found: &Value| {
        Err(format!(
            "{field}: expected {want}, found {}",
            type_name(found)
        ))
    };
    if let Some(path) = map.get("path").filter(|p| !p.is_string()) {
        return wrong("path".into(), "a string", path);
    }
    for (section, want, ok) in [
        ("target", "a string", Value::is_string as fn(&Value) -> bool),
        ("options", "a boolean", Value::is_boolean),
    ] {
        match map.get(section) {
            None => {}
            Some(Value::Object(fields)) => {
                if let Some((key, v)) = fields.iter().find(|(_, v)| !ok(v)) {
                    return wrong(format!("{section}.{key}"), want, v);
                }
            }
            Some(other) => return wrong(section.into(), "a mapping", other),
        }
    }
    Ok(())
}

/// Reads a `path:` file that must hold exactly one document.
fn single_body(file: &Path, path: &str, origin: &PatchOrigin) -> anyhow::Result<(PathBuf, Value)> {
    let body_file = resolve(file, path);
    let mut docs: Vec<Value> =
        numbered(read_docs(&body_file, Yaml::V2).with_context(|| origin.to_string())?)
            .map(|(_, d)| d)
            .collect();
    match docs.len() {
        1 => Ok((body_file, docs.remove(0))),
        n => bail!(
            "{origin}: {} must hold exactly one document, found {n}",
            body_file.display()
        ),
    }
}

/// A kustomize `patches:` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KustomizeEntry {
    patch: Option<Value>,
    path: Option<String>,
    target: Option<SelectorSpec>,
    #[serde(default)]
    options: PatchOptions,
}

fn load_kustomize(file: &Path, yaml: Yaml, out: &mut Vec<Patch>) -> anyhow::Result<()> {
    let docs = read_patch_file(file, Yaml::V2)?;
    let mut kyaml_docs: Option<Vec<Value>> = None;
    for (document, doc) in numbered(docs) {
        for (entry, value) in entries(doc) {
            let origin = PatchOrigin::new(file, document, entry);
            kustomize_entry(origin, value, yaml, &mut kyaml_docs, out)?;
        }
    }
    Ok(())
}

/// One kustomize `patches:` entry (or `PatchTransformer`). The entries are read like a
/// kustomization (sigs.k8s.io/yaml); an inline mapping patch (a helm-x extension) is taken from a
/// kyaml reading of the same file (`kyaml_docs`, read on first need), whose structure is the same.
fn kustomize_entry(
    mut origin: PatchOrigin,
    value: Value,
    yaml: Yaml,
    kyaml_docs: &mut Option<Vec<Value>>,
    out: &mut Vec<Patch>,
) -> anyhow::Result<()> {
    let file = origin.file.clone();
    let (document, entry) = (origin.document, origin.entry);
    check_field_types(&value).map_err(|e| anyhow!("{origin}: {e}"))?;
    let parsed: KustomizeEntry =
        serde_json::from_value(value).map_err(|e| anyhow!("{origin}: {e}"))?;
    let body = match (parsed.patch, parsed.path) {
        (Some(Value::String(body)), None) => {
            body_docs(&body, yaml, false).map_err(|e| anyhow!("{origin}: inline patch: {e}"))?
        }
        // Extension over kustomize: an inline mapping or op list instead of a string.
        (Some(inline @ Value::Object(_)), None) if yaml == Yaml::Kyaml => {
            let kyaml = match kyaml_docs {
                Some(docs) => docs,
                none => none.insert(read_docs(&file, yaml)?),
            };
            let same = kyaml.get(document - 1).and_then(|doc| match (doc, entry) {
                (Value::Array(items), Some(n)) => items.get(n - 1),
                (doc, _) => Some(doc),
            });
            match same.and_then(|e| e.get("patch")) {
                Some(patch @ Value::Object(_)) => vec![patch.clone()],
                _ => vec![inline],
            }
        }
        (Some(inline @ (Value::Object(_) | Value::Array(_))), None) => vec![inline],
        (Some(other), None) => bail!(
            "{origin}: `patch` must be a string (or an inline mapping or list), found {}",
            type_name(&other)
        ),
        (None, Some(path)) => body_file(&mut origin, &path, yaml)?,
        (Some(_), Some(_)) => bail!("{origin}: set either `patch` or `path`, not both"),
        (None, None) => bail!("{origin}: needs `patch` (inline) or `path` (a file)"),
    };
    let target = parsed
        .target
        .map(Selector::compile)
        .transpose()
        .map_err(|e| anyhow!("{origin}: {e}"))?;
    classify(origin, body, target, parsed.options, out)
}

/// The documents of a `path:` body, relative to the patch file, empty ones numbered too; the
/// origin learns the file.
fn body_file(origin: &mut PatchOrigin, path: &str, yaml: Yaml) -> anyhow::Result<Vec<Value>> {
    let body_file = resolve(&origin.file, path);
    let docs = read_text(&body_file)
        .and_then(|body| {
            body_docs(&body, yaml, true)
                .map_err(|e| anyhow!("patch file {}: {e}", body_file.display()))
        })
        .with_context(|| origin.to_string())?;
    origin.body_file = Some(body_file);
    Ok(docs)
}

/// `PatchStrategicMergeTransformer`'s settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrategicTransformer {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    patches: String,
}

/// `PatchJson6902Transformer`'s settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Json6902Transformer {
    target: SelectorSpec,
    #[serde(default)]
    path: String,
    #[serde(default)]
    json_op: String,
}

/// The patches of one document of a `--transformer` file whose kind is one of kustomize's patch
/// transformers (`config` without `apiVersion`, `kind` and `metadata`), read as kustomize reads
/// them and as `--patch` entries are read: `Ok(None)` for any other kind.
pub(crate) fn transformer_patches(
    file: &Path,
    document: usize,
    kind: &str,
    config: Value,
    mode: SmpMode,
) -> anyhow::Result<Option<Vec<Patch>>> {
    let yaml = Yaml::for_smps(mode);
    let mut origin = PatchOrigin::new(file, document, None);
    origin.transformer = true;
    let mut out = Vec::new();
    match kind {
        "PatchTransformer" => kustomize_entry(origin, config, yaml, &mut None, &mut out)?,
        "PatchStrategicMergeTransformer" => {
            let parsed: StrategicTransformer =
                serde_json::from_value(config).map_err(|e| anyhow!("{origin}: {e}"))?;
            if parsed.paths.is_empty() && parsed.patches.is_empty() {
                bail!("{origin}: needs `paths` (files) or `patches` (inline documents)");
            }
            for path in &parsed.paths {
                let mut origin = origin.clone();
                let body = body_file(&mut origin, path, yaml)?;
                classify(origin, body, None, PatchOptions::default(), &mut out)?;
            }
            if !parsed.patches.is_empty() {
                let body = body_docs(&parsed.patches, yaml, true)
                    .map_err(|e| anyhow!("{origin}: inline patches: {e}"))?;
                classify(origin, body, None, PatchOptions::default(), &mut out)?;
            }
        }
        "PatchJson6902Transformer" => {
            let parsed: Json6902Transformer =
                serde_json::from_value(config).map_err(|e| anyhow!("{origin}: {e}"))?;
            if parsed.target.name.is_empty() {
                bail!("{origin}: target.name is required (as in kustomize)");
            }
            let body = match (parsed.json_op.is_empty(), parsed.path.is_empty()) {
                (false, true) => body_docs(&parsed.json_op, Yaml::V2, false)
                    .map_err(|e| anyhow!("{origin}: jsonOp: {e}"))?,
                (true, false) => body_file(&mut origin, &parsed.path, Yaml::V2)?,
                (false, false) => bail!("{origin}: set either `jsonOp` or `path`, not both"),
                (true, true) => bail!("{origin}: needs `jsonOp` (inline) or `path` (a file)"),
            };
            if let Some(bad) = body.iter().find(|d| !d.is_null() && !d.is_array()) {
                bail!(
                    "{origin}: a JSON 6902 patch must be a list of operations, found {}",
                    type_name(bad)
                );
            }
            let target = Selector::compile(parsed.target).map_err(|e| anyhow!("{origin}: {e}"))?;
            classify(
                origin,
                body,
                Some(target),
                PatchOptions::default(),
                &mut out,
            )?;
        }
        _ => return Ok(None),
    }
    Ok(Some(out))
}

/// kustomize's detection: a single list of operations is JSON 6902, mappings are SMPs.
fn classify(
    origin: PatchOrigin,
    body: Vec<Value>,
    target: Option<Selector>,
    options: PatchOptions,
    out: &mut Vec<Patch>,
) -> anyhow::Result<()> {
    let mut docs: Vec<(usize, Value)> = numbered(body).collect();
    let multi = docs.len() > 1;
    match docs.first() {
        None => bail!("{origin}: the patch is empty"),
        Some((_, ops @ Value::Array(_))) => {
            if multi {
                bail!("{origin}: a JSON 6902 patch must be a single list of operations");
            }
            let Some(target) = target else {
                bail!("{origin}: a JSON 6902 patch needs a `target`");
            };
            let ops = JsonPatch::from_value(ops).map_err(|e| anyhow!("{origin}: {e}"))?;
            if ops.is_empty() {
                bail!(
                    "{origin}: an empty list is ambiguous (kustomize: both an SMP and a JSON patch)"
                );
            }
            out.push(Patch {
                origin,
                target: Target::Selector(target),
                body: PatchBody::Json6902(ops),
                options,
            });
        }
        Some(_) => {
            if let Some((n, bad)) = docs.iter().find(|(_, d)| !d.is_object()) {
                bail!(
                    "{origin}: patch document {n} is {}; expected a strategic merge patch \
                     (mapping) or a JSON 6902 operation list",
                    type_name(bad)
                );
            }
            match target {
                Some(_) if multi => bail!(
                    "{origin}: with `target`, only one strategic merge patch document is allowed \
                     (as in kustomize); use one entry per document"
                ),
                Some(target) => {
                    let Some((_, doc)) = docs.pop() else {
                        bail!("{origin}: the patch is empty");
                    };
                    out.push(Patch {
                        origin,
                        target: Target::Selector(target),
                        body: PatchBody::Strategic(doc),
                        options,
                    });
                }
                None => {
                    for (n, doc) in docs {
                        let mut origin = origin.clone();
                        origin.body_document = multi.then_some(n);
                        let mut patch = untargeted_smp(origin, doc)?;
                        patch.options = options;
                        out.push(patch);
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/patches")
            .join(name)
    }

    fn load(source: PatchSource) -> anyhow::Result<Vec<Patch>> {
        load_patches(&[source])
    }

    fn load_err(source: PatchSource) -> String {
        match load(source) {
            Ok(p) => panic!("expected an error, loaded {} patches", p.len()),
            Err(e) => format!("{e:#}"),
        }
    }

    fn describe(p: &Patch) -> String {
        let target = match &p.target {
            Target::Identity(id) => format!("id {id}"),
            Target::Selector(s) => s.to_string(),
        };
        let body = match &p.body {
            PatchBody::Strategic(_) => "smp",
            PatchBody::Json6902(_) => "json6902",
        };
        let o = &p.origin;
        let body_file = o
            .body_file
            .as_ref()
            .and_then(|f| f.strip_prefix(fixture("")).ok())
            .map(|f| format!(" via {}", f.display()))
            .unwrap_or_default();
        format!(
            "{}{}{}{}: {body} {target}",
            o.document,
            o.entry.map(|e| format!(".{e}")).unwrap_or_default(),
            o.body_document.map(|d| format!("#{d}")).unwrap_or_default(),
            body_file
        )
    }

    fn describe_all(source: PatchSource) -> Vec<String> {
        load(source).expect("loads").iter().map(describe).collect()
    }

    #[test]
    fn strategic_files_number_documents_from_one_and_skip_empty_ones() {
        assert_eq!(
            describe_all(PatchSource::Strategic(fixture("smp-multi.yaml"))),
            [
                "1: smp id apps/v1 Deployment \"web\"",
                "3: smp id v1 ConfigMap \"settings\" in namespace \"prod\"",
            ]
        );
    }

    #[test]
    fn helmx_json_documents_lists_and_relative_paths() {
        assert_eq!(
            describe_all(PatchSource::Json(fixture("helmx-json.yaml"))),
            [
                "1: json6902 target {group=\"apps\", version=\"v1\", kind=\"Deployment\", name=\"web\"}",
                "2 via ops/replicas.yaml: json6902 target {kind=\"Deployment\", name=\"web\"}",
                "3.1: json6902 target {version=\"v1\", kind=\"ConfigMap\", name=\"settings\", namespace=\"prod\"}",
                "3.2: json6902 target {kind=\"Service\", name=\"web\"}",
            ]
        );
        // `path:` is relative to the patch file, wherever the process runs.
        assert_eq!(
            describe_all(PatchSource::Json(fixture("sub/nested-json.yaml"))),
            ["1 via sub/../ops/replicas.yaml: json6902 target {kind=\"Deployment\", name=\"web\"}"]
        );
    }

    #[test]
    fn kustomize_entries_single_list_and_stream() {
        assert_eq!(
            describe_all(PatchSource::Kustomize(fixture("kustomize-single.yaml"))),
            [
                "1: json6902 target {kind=\"Deployment\", labelSelector=\"app in (web,api),tier!=db\"}"
            ]
        );
        let list = load(PatchSource::Kustomize(fixture("kustomize-list.yaml"))).expect("loads");
        assert_eq!(
            list.iter().map(describe).collect::<Vec<_>>(),
            [
                "1.1#1 via smp-body.yaml: smp id apps/v1 Deployment \"web\"",
                "1.1#2 via smp-body.yaml: smp id v1 Service \"web\"",
                "1.2: smp target {kind=\"Deployment\", name=\"web|api\"}",
                "1.3: json6902 target {group=\"apps\", kind=\"Deployment\", name=\"web.*\", namespace=\"rel\"}",
            ]
        );
        assert!(list[2].options.allow_name_change && !list[2].options.allow_kind_change);
        assert_eq!(
            describe_all(PatchSource::Kustomize(fixture("kustomize-stream.yaml"))),
            [
                "1: smp id v1 ConfigMap \"settings\" in namespace \"prod\"",
                "2 via ops/replicas.yaml: json6902 target {kind=\"Deployment\", annotationSelector=\"owner=team-a\"}",
            ]
        );
    }

    #[test]
    fn sources_keep_command_line_order() {
        let all = load_patches(&[
            PatchSource::Kustomize(fixture("kustomize-single.yaml")),
            PatchSource::Strategic(fixture("smp-multi.yaml")),
            PatchSource::Json(fixture("sub/nested-json.yaml")),
        ])
        .expect("loads");
        let files: Vec<_> = all
            .iter()
            .map(|p| {
                p.origin
                    .file
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
            })
            .collect();
        assert_eq!(
            files,
            [
                Some("kustomize-single.yaml".into()),
                Some("smp-multi.yaml".into()),
                Some("smp-multi.yaml".into()),
                Some("nested-json.yaml".into()),
            ]
        );
    }

    #[test]
    fn errors_name_file_document_and_op() {
        let file = fixture("bad-json-op.yaml");
        assert_eq!(
            load_err(PatchSource::Json(file.clone())),
            format!(
                "patch file {}, document 2: op 2: unknown variant `replce`, expected one of `add`, \
                 `remove`, `replace`, `move`, `copy`, `test`",
                file.display()
            )
        );
        let file = fixture("bad-smp-identity.yaml");
        assert_eq!(
            load_err(PatchSource::Strategic(file.clone())),
            format!(
                "patch file {}, document 2: a strategic merge patch without a target must name \
                 its object with apiVersion, kind and metadata.name (missing: apiVersion, \
                 metadata.name)",
                file.display()
            )
        );
        let file = fixture("bad-kustomize-field.yaml");
        let err = load_err(PatchSource::Kustomize(file.clone()));
        assert!(
            err.starts_with(&format!(
                "patch file {}, document 1, entry 1: unknown field `option`",
                file.display()
            )),
            "{err}"
        );
        let err = load_err(PatchSource::Kustomize(fixture(
            "bad-kustomize-multi-target.yaml",
        )));
        assert!(err.ends_with("with `target`, only one strategic merge patch document is allowed (as in kustomize); use one entry per document"), "{err}");
        let err = load_err(PatchSource::Kustomize(fixture("bad-selector.yaml")));
        assert!(
            err.ends_with("document 1: target.labelSelector: invalid selector \"app in web\": expected '(' after in"),
            "{err}"
        );
        let err = load_err(PatchSource::Json(fixture("smp-body.yaml")));
        assert!(
            err.contains("document 1: unknown field `apiVersion`"),
            "{err}"
        );
        let err = load_err(PatchSource::Json(fixture("ops/replicas.yaml")));
        assert!(
            err.contains("entry 1: unknown field `op`") && err.contains("bare operation list"),
            "{err}"
        );
        let err = load_err(PatchSource::Kustomize(fixture("bad-kustomize-types.yaml")));
        assert!(
            err.ends_with("document 1: target.version: expected a string, found a number"),
            "{err}"
        );
        let err = load_err(PatchSource::Kustomize(fixture("bad-body-ref.yaml")));
        assert_eq!(
            err,
            format!(
                "patch file {}, document 1, patch body {}, body document 2: a strategic merge \
                 patch without a target must name its object with apiVersion, kind and \
                 metadata.name (missing: apiVersion, metadata.name)",
                fixture("bad-body-ref.yaml").display(),
                fixture("bad-smp-identity.yaml").display()
            )
        );
        let missing = fixture("nope.yaml");
        assert_eq!(
            load_err(PatchSource::Strategic(missing.clone()))
                .split(": No such file")
                .next(),
            Some(format!("patch file {}: cannot read", missing.display()).as_str())
        );
    }

    #[test]
    fn kustomize_detection_rules() {
        let dir = std::env::temp_dir().join(format!("helmx-spec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let case = |name: &str, text: &str| {
            let file = dir.join(name);
            std::fs::write(&file, text).expect("write");
            load(PatchSource::Kustomize(file)).map_err(|e| format!("{e:#}"))
        };
        let ambiguous = case("empty-list.yaml", "patch: '[]'\ntarget: {kind: A}\n");
        assert!(ambiguous.is_err_and(|e| e.contains("ambiguous")));
        let untargeted_json = case("nt.yaml", "patch: '[{op: remove, path: /a}]'\n");
        assert!(untargeted_json.is_err_and(|e| e.ends_with("a JSON 6902 patch needs a `target`")));
        let inline_map = case(
            "inline.yaml",
            "patch: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n",
        )
        .expect("inline mapping accepted");
        assert!(matches!(inline_map[0].body, PatchBody::Strategic(_)));
        let scalar = case("scalar.yaml", "patch: 'just text'\n");
        assert!(scalar.is_err_and(|e| e.contains("patch document 1 is a string")));
        let both = case("both.yaml", "patch: 'a: b'\npath: x.yaml\n");
        assert!(both.is_err_and(|e| e.ends_with("set either `patch` or `path`, not both")));
        let targeted_without_kind = case(
            "tk.yaml",
            "patch: 'spec: {replicas: 1}'\ntarget: {kind: Deployment}\n",
        )
        .expect("a targeted SMP needs no identity");
        assert!(matches!(
            targeted_without_kind[0].target,
            Target::Selector(_)
        ));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    /// A scratch dir for patch files written by a test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("helmx-spec-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn empty_patch_files_are_refused_by_name() {
        let dir = scratch("empty");
        let flags: [fn(PathBuf) -> PatchSource; 3] = [
            PatchSource::Strategic,
            PatchSource::Json,
            PatchSource::Kustomize,
        ];
        for (i, text) in ["", "# only a comment\n", "---\n---\n", "--- null\n"]
            .into_iter()
            .enumerate()
        {
            for make in flags {
                let file = dir.join(format!("empty-{i}.yaml"));
                std::fs::write(&file, text).expect("write");
                let err = load_err(make(file.clone()));
                assert_eq!(
                    err,
                    format!("patch file {} is empty", file.display()),
                    "{text:?}"
                );
            }
        }
        for (i, text) in ["[]\n", "---\n[]\n---\n# c\n---\n[]\n"]
            .into_iter()
            .enumerate()
        {
            for make in flags {
                let file = dir.join(format!("no-patches-{i}.yaml"));
                std::fs::write(&file, text).expect("write");
                let err = load_err(make(file.clone()));
                assert_eq!(
                    err,
                    format!("patch file {} holds no patches", file.display()),
                    "{text:?}"
                );
            }
        }
        // An empty list beside real patches is fine.
        let file = dir.join("mixed.yaml");
        std::fs::write(
            &file,
            "[]\n---\n- target: {kind: ConfigMap}\n  patch: [{op: remove, path: /data}]\n",
        )
        .expect("write");
        assert_eq!(load(PatchSource::Json(file)).expect("loads").len(), 1);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    fn smp_data(p: &Patch) -> &Value {
        match &p.body {
            PatchBody::Strategic(doc) => &doc["data"],
            PatchBody::Json6902(_) => panic!("expected an SMP"),
        }
    }

    #[test]
    fn kustomize_mode_reads_smps_with_yaml12_booleans() {
        let dir = scratch("yaml12");
        let write = |name: &str, text: &str| {
            let file = dir.join(name);
            std::fs::write(&file, text).expect("write");
            file
        };
        const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
        let smp = write(
            "smp.yaml",
            &format!("{CM}data: {{x: y, yes: yes, off: OFF, t: true, i: 1_000}}\n"),
        );
        let v2 = json!({"x": true, "true": true, "false": false, "t": true, "i": 1000});
        let kyaml = json!({"x": "y", "yes": "yes", "off": "OFF", "t": true, "i": 1000});
        let source = || PatchSource::Strategic(smp.clone());
        let apimachinery = load_patches_for(&[source()], SmpMode::Apimachinery).expect("loads");
        let kustomize = load_patches_for(&[source()], SmpMode::Kustomize).expect("loads");
        // apimachinery mode keeps go-yaml v2: the keys `yes` and `off` are `true` and `false`.
        assert_eq!(smp_data(&apimachinery[0]), &v2);
        assert_eq!(smp_data(&kustomize[0]), &kyaml);
        assert_eq!(
            smp_data(&load(source()).expect("loads")[0]),
            &v2,
            "load_patches keeps the default"
        );

        write("body.yaml", &format!("{CM}data: {{x: y}}\n"));
        write("ops.yaml", "- {op: add, path: /data/x, value: yes}\n");
        let entries = write(
            "entries.yaml",
            concat!(
                "- path: body.yaml\n",
                "- patch: |\n",
                "    apiVersion: v1\n",
                "    kind: ConfigMap\n",
                "    metadata: {name: c}\n",
                "    data: {x: on}\n",
                "- patch: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {x: off}}\n",
                "- path: ops.yaml\n",
                "  target: {kind: ConfigMap}\n",
                "- patch: '[{op: add, path: /data/x, value: no}]'\n",
                "  target: {kind: ConfigMap}\n",
            ),
        );
        let ops = |p: &Patch| match &p.body {
            PatchBody::Json6902(ops) => format!("{ops:?}"),
            PatchBody::Strategic(_) => panic!("expected JSON 6902"),
        };
        for (mode, want) in [
            (
                SmpMode::Apimachinery,
                [json!(true), json!(true), json!(false)],
            ),
            (SmpMode::Kustomize, [json!("y"), json!("on"), json!("off")]),
        ] {
            let all =
                load_patches_for(&[PatchSource::Kustomize(entries.clone())], mode).expect("loads");
            assert_eq!(all.len(), 5, "{mode:?}");
            for (p, want) in all.iter().zip(&want) {
                assert_eq!(smp_data(p)["x"], *want, "{mode:?} {}", p.origin);
            }
            // kustomize reads JSON 6902 operations with go-yaml v2 rules, in either mode.
            assert!(ops(&all[3]).contains("Bool(true)"), "{}", ops(&all[3]));
            assert!(ops(&all[4]).contains("Bool(false)"), "{}", ops(&all[4]));
        }
        // --json-patch is helm-x's JSON 6902 format: go-yaml v2 rules in either mode.
        let json = write(
            "json.yaml",
            "target: {kind: ConfigMap}\npatch: [{op: add, path: /data/x, value: y}]\n",
        );
        let loaded =
            load_patches_for(&[PatchSource::Json(json)], SmpMode::Kustomize).expect("loads");
        assert!(
            ops(&loaded[0]).contains("Bool(true)"),
            "{}",
            ops(&loaded[0])
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
