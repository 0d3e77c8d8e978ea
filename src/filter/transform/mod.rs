//! `--transformer FILE`: kustomize's builtin transformer configs (`apiVersion: builtin`, as a
//! kustomization's `transformers:` takes them), applied to the stream as `kubectl kustomize`
//! applies them, each document of the file in order, at the file's place among the patch flags.
//!
//! Kinds: `LabelTransformer`, `AnnotationsTransformer`, `NamespaceTransformer`,
//! `PrefixSuffixTransformer` (and `PrefixTransformer`, `SuffixTransformer`; see `names` for the
//! references they update), `ImageTagTransformer`, `ReplicaCountTransformer`, and the patch
//! transformers `PatchTransformer`, `PatchStrategicMergeTransformer`, `PatchJson6902Transformer`,
//! which become ordinary patches for the patch engine (`crate::patch::spec::transformer_patches`).
//! Only the `fieldSpecs` given are used, as kustomize does for a `transformers:` entry (its
//! defaults are for the kustomization fields `commonLabels`, `namespace`, …).
//!
//! Unlike kustomize, unknown fields in a config are errors (kustomize ignores them, so a typo such
//! as `fieldSpec:` would silently do nothing).

mod fieldspec;
mod image;
mod names;
mod namespace;

#[cfg(test)]
mod kustomize_oracle_tests;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use self::fieldspec::{Create, FieldSpec, scalar_text, set_entry};
use self::image::{ImageSpec, ImageTag};
use self::namespace::{Namespace, Subjects};
use crate::patch::json6902::type_name;
use crate::patch::target::ResId;
use crate::patch::{Patch, SmpMode};
use crate::stream::{Document, LoadOptions, Stream};

/// One document of a transformer file, ready to apply.
pub enum Transformation {
    /// A patch transformer's patches, for the patch engine.
    Patches(Vec<Patch>),
    /// A transformer that sets fields.
    Fields(Fields),
}

/// A field-setting transformer and where it was written.
pub struct Fields {
    /// `transformer file F, document N (KIND)`, for errors.
    origin: String,
    kind: FieldKind,
}

enum FieldKind {
    Labels(BTreeMap<String, String>, Vec<FieldSpec>),
    Annotations(BTreeMap<String, String>, Vec<FieldSpec>),
    Namespace(Namespace),
    Names {
        prefix: String,
        suffix: String,
        field_specs: Vec<FieldSpec>,
    },
    ImageTag(ImageTag),
    Replicas(Replica, Vec<FieldSpec>),
}

/// Loads every transformer of `file`, in order; `mode` is how patch transformers' strategic-merge
/// patches are read (as for `--patch`).
pub fn load(file: &Path, mode: SmpMode) -> Result<Vec<Transformation>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("transformer file {}: cannot read", file.display()))?;
    let docs = crate::stream::split_load(&text, &LoadOptions::default())
        .map_err(|e| anyhow!("transformer file {}: {e}", file.display()))?;
    let mut out = Vec::new();
    for (index, (_, doc)) in docs.into_iter().enumerate() {
        if doc.is_null() {
            continue;
        }
        let document = index + 1;
        out.push(load_one(file, document, doc, mode)?);
    }
    if out.is_empty() {
        bail!("transformer file {} holds no transformers", file.display());
    }
    Ok(out)
}

/// The kinds [`load`] knows, for the error about another.
const KINDS: &str = "AnnotationsTransformer, ImageTagTransformer, LabelTransformer, \
    NamespaceTransformer, PatchJson6902Transformer, PatchStrategicMergeTransformer, \
    PatchTransformer, PrefixSuffixTransformer, PrefixTransformer, ReplicaCountTransformer, \
    SuffixTransformer";

/// One document: a patch transformer's patches (whose errors carry their origin) or a field
/// transformer.
fn load_one(file: &Path, document: usize, doc: Value, mode: SmpMode) -> Result<Transformation> {
    let at = || format!("transformer file {}, document {document}", file.display());
    let Value::Object(mut config) = doc else {
        bail!(
            "{}: expected a transformer config (a mapping), found {}",
            at(),
            type_name(&doc)
        );
    };
    let kind = check_header(&mut config).map_err(|e| anyhow!("{}: {e}", at()))?;
    let metadata = config.remove("metadata");
    if let Some(patches) = crate::patch::spec::transformer_patches(
        file,
        document,
        &kind,
        Value::Object(config.clone()),
        mode,
    )? {
        return Ok(Transformation::Patches(patches));
    }
    let fields = field_kind(&kind, Value::Object(config), metadata)
        .map_err(|e| anyhow!("{}: {e:#}", at()))?;
    Ok(Transformation::Fields(Fields {
        origin: format!("{} ({kind})", at()),
        kind: fields,
    }))
}

/// Takes `apiVersion` and `kind` out of a config, which must be a builtin: the kind.
fn check_header(config: &mut serde_json::Map<String, Value>) -> Result<String> {
    let text = |v: Option<Value>, field: &str| match v {
        Some(Value::String(s)) => Ok(s),
        Some(other) => bail!("`{field}` must be a string, found {}", type_name(&other)),
        None => bail!("missing `{field}`"),
    };
    let api_version = text(config.remove("apiVersion"), "apiVersion")?;
    let kind = text(config.remove("kind"), "kind")?;
    if api_version != "builtin" {
        bail!(
            "{kind} with apiVersion `{api_version}` is not supported: only kustomize's builtin \
             transformers run in-process (apiVersion: builtin)"
        );
    }
    Ok(kind)
}

/// A field transformer's settings.
fn field_kind(kind: &str, config: Value, metadata: Option<Value>) -> Result<FieldKind> {
    Ok(match kind {
        "LabelTransformer" => {
            let c: Labels = parse(config)?;
            FieldKind::Labels(c.labels, c.field_specs)
        }
        "AnnotationsTransformer" => {
            let c: Annotations = parse(config)?;
            FieldKind::Annotations(c.annotations, c.field_specs)
        }
        "NamespaceTransformer" => {
            let c: NamespaceConfig = parse(config)?;
            let namespace = match metadata.as_ref().and_then(|m| m.get("namespace")) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(ns)) => ns.clone(),
                Some(other) => bail!(
                    "metadata.namespace must be a string, found {}",
                    type_name(other)
                ),
            };
            FieldKind::Namespace(Namespace {
                namespace,
                field_specs: c.field_specs,
                unset_only: c.unset_only,
                subjects: c.set_role_binding_subjects,
            })
        }
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let c: Names = parse(config)?;
            for (field, value, refused_by) in [
                ("prefix", &c.prefix, "SuffixTransformer"),
                ("suffix", &c.suffix, "PrefixTransformer"),
            ] {
                if value.is_some() && kind == refused_by {
                    bail!("{kind} takes no `{field}` (PrefixSuffixTransformer takes both)");
                }
            }
            let Some(field_specs) = c.field_specs else {
                bail!(
                    "{kind} needs `fieldSpecs` (kustomize: fieldSpecs is not expected to be nil)"
                );
            };
            FieldKind::Names {
                prefix: c.prefix.unwrap_or_default(),
                suffix: c.suffix.unwrap_or_default(),
                field_specs,
            }
        }
        "ImageTagTransformer" => {
            let c: Images = parse(config)?;
            FieldKind::ImageTag(ImageTag::new(c.image_tag, c.field_specs).map_err(|e| anyhow!(e))?)
        }
        "ReplicaCountTransformer" => {
            let c: Replicas = parse(config)?;
            FieldKind::Replicas(c.replica, c.field_specs)
        }
        other => bail!("kind `{other}` is not supported (supported: {KINDS})"),
    })
}

fn parse<T: DeserializeOwned>(config: Value) -> Result<T> {
    serde_json::from_value(config).map_err(|e| anyhow!("{e}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Labels {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Annotations {
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NamespaceConfig {
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
    #[serde(default)]
    unset_only: bool,
    #[serde(default)]
    set_role_binding_subjects: Subjects,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Names {
    prefix: Option<String>,
    suffix: Option<String>,
    field_specs: Option<Vec<FieldSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Images {
    #[serde(default)]
    image_tag: ImageSpec,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Replicas {
    #[serde(default)]
    replica: Replica,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

/// kustomize's `types.Replica`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Replica {
    #[serde(default)]
    name: String,
    #[serde(default)]
    count: i64,
}

impl Fields {
    /// Applies the transformer to every object of the stream (hooks included); documents it
    /// does not change keep their text.
    pub fn apply(&self, stream: &mut Stream) -> Result<()> {
        Document::parse_all(stream.documents.iter())?;
        self.apply_parsed(stream)
            .map_err(|e| anyhow!("{}: {e}", self.origin))
    }

    fn apply_parsed(&self, stream: &mut Stream) -> Result<(), String> {
        match &self.kind {
            FieldKind::Labels(map, specs) | FieldKind::Annotations(map, specs) => {
                if map.is_empty() {
                    return Ok(());
                }
                each_object(stream, |value| {
                    for spec in specs {
                        spec.apply(value, Create::Map, &mut |node| {
                            map.iter().try_for_each(|(k, v)| set_entry(node, k, v))
                        })?;
                    }
                    Ok(())
                })
            }
            FieldKind::Namespace(namespace) => namespace.apply(stream),
            FieldKind::Names {
                prefix,
                suffix,
                field_specs,
            } => names::apply(stream, prefix, suffix, field_specs),
            FieldKind::ImageTag(image) => each_object(stream, |value| image.apply(value)),
            FieldKind::Replicas(replica, specs) => replicas(stream, replica, specs),
        }
    }
}

/// Runs `change` on a copy of every object's value, keeping the copy where it differs.
fn each_object(
    stream: &mut Stream,
    mut change: impl FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    for doc in stream.documents.iter_mut().filter(|d| d.is_object()) {
        let mut value = doc.value().map_err(|e| format!("{e:#}"))?.clone();
        change(&mut value).map_err(|e| format!("{}: {e}", ResId::of(&value)))?;
        doc.set_value(value);
    }
    Ok(())
}

/// `ReplicaCountTransformer`: the count at each field spec of the objects named `replica.name`;
/// an error when no field spec selects any, as in kustomize.
fn replicas(stream: &mut Stream, replica: &Replica, specs: &[FieldSpec]) -> Result<(), String> {
    let mut found = false;
    each_object(stream, |value| {
        if value.pointer("/metadata/name").and_then(Value::as_str) != Some(&replica.name) {
            return Ok(());
        }
        let selected: Vec<&FieldSpec> = specs.iter().filter(|s| s.selects(value)).collect();
        for spec in selected {
            found = true;
            spec.apply(value, Create::Scalar, &mut |node| {
                scalar_text(node)?;
                *node = Value::from(replica.count);
                Ok(())
            })?;
        }
        Ok(())
    })?;
    if found {
        return Ok(());
    }
    let kinds: Vec<String> = specs
        .iter()
        .map(|s| format!("{}/{}/{}", s.group, s.version, s.kind))
        .collect();
    Err(format!(
        "no object named `{}` matches a field spec (group/version/kind: [{}])",
        replica.name,
        kinds.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::{PatchContext, PatchSource};
    use crate::testutil::TempDir;

    const OBJECTS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n---\n\
        apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hook\n  annotations: {helm.sh/hook: pre-install}\n\
        spec: {template: {spec: {containers: [{name: c, image: busybox}]}}}\n";

    fn run(sources: &[PatchSource]) -> Result<(Stream, Vec<usize>), String> {
        let mut stream = Stream::parse(OBJECTS, "t", |_| "templates/x.yaml".into()).unwrap();
        let ctx = PatchContext {
            release_namespace: "default",
            mode: SmpMode::Apimachinery,
            allow_missing_targets: false,
            crds: &[],
        };
        let applied =
            crate::patch::apply(&mut stream, sources, &ctx).map_err(|e| format!("{e:#}"))?;
        Ok((stream, applied.origins))
    }

    fn load_err(dir: &TempDir, text: &str) -> (String, String) {
        let file = dir.write("t.yaml", text);
        let err = match load(&file, SmpMode::Apimachinery) {
            Ok(_) => panic!("{text} loads"),
            Err(e) => format!("{e:#}"),
        };
        (err, format!("transformer file {}", file.display()))
    }

    #[test]
    fn config_errors_name_the_file_and_document() {
        let dir = TempDir::new("transform");
        let label = "apiVersion: builtin\nkind: LabelTransformer\nlabels: {a: b}\n";
        let (err, file) = load_err(
            &dir,
            &format!("{label}---\n---\napiVersion: builtin\nkind: HashTransformer\n"),
        );
        assert!(
            err.starts_with(&format!(
                "{file}, document 3: kind `HashTransformer` is not supported \
                 (supported: AnnotationsTransformer,"
            )),
            "{err}"
        );
        let (err, file) = load_err(
            &dir,
            "apiVersion: someteam.example.com/v1\nkind: DatePrefixer\n",
        );
        assert_eq!(
            err,
            format!(
                "{file}, document 1: DatePrefixer with apiVersion `someteam.example.com/v1` is \
                 not supported: only kustomize's builtin transformers run in-process \
                 (apiVersion: builtin)"
            )
        );
        let (err, file) = load_err(&dir, "kind: LabelTransformer\n");
        assert_eq!(err, format!("{file}, document 1: missing `apiVersion`"));
        let (err, file) = load_err(
            &dir,
            "apiVersion: builtin\nkind: PatchJson6902Transformer\njsonOp: '[]'\n",
        );
        assert_eq!(err, format!("{file}, document 1: missing field `target`"));
        let (err, file) = load_err(
            &dir,
            "apiVersion: builtin\nkind: PrefixSuffixTransformer\nprefix: p-\n",
        );
        assert!(
            err.starts_with(&format!(
                "{file}, document 1: PrefixSuffixTransformer needs `fieldSpecs`"
            )),
            "{err}"
        );
        let (err, file) = load_err(
            &dir,
            &format!("{label}fieldSpec: [{{path: metadata/labels}}]\n"),
        );
        assert!(
            err.starts_with(&format!("{file}, document 1: unknown field `fieldSpec`")),
            "{err}"
        );
        let (err, file) = load_err(&dir, "# nothing\n---\n");
        assert_eq!(err, format!("{file} holds no transformers"));
    }

    #[test]
    fn bad_field_spec_paths_name_the_transformer_and_object() {
        let dir = TempDir::new("transform");
        let file = dir.write(
            "t.yaml",
            "apiVersion: builtin\nkind: LabelTransformer\nlabels: {a: b}\n\
             fieldSpecs: [{path: data/a/deeper, create: true}]\n",
        );
        let err = run(&[PatchSource::Transformer(file.clone())]).unwrap_err();
        assert_eq!(
            err,
            format!(
                "transformer file {}, document 1 (LabelTransformer): v1 ConfigMap \"cfg\": \
                 fieldSpec path `data/a/deeper`: expected a mapping or a list at `deeper`, \
                 found a string",
                file.display()
            )
        );
    }

    #[test]
    fn transformers_run_between_patches_in_order_and_reach_hooks() {
        let dir = TempDir::new("transform");
        let delete = dir.write(
            "delete.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n$patch: delete\n",
        );
        let prefix = dir.write(
            "prefix.yaml",
            "apiVersion: builtin\nkind: PrefixSuffixTransformer\nprefix: p-\nfieldSpecs: [{path: metadata/name}]\n\
             ---\napiVersion: builtin\nkind: ImageTagTransformer\nimageTag: {name: busybox, newTag: \"2\"}\n",
        );
        // The patch after the transformer names the object by its new name.
        let after = dir.write(
            "after.yaml",
            "- target: {kind: Job, name: p-hook}\n  patch: '[{\"op\": \"add\", \"path\": \"/spec/backoffLimit\", \"value\": 1}]'\n",
        );
        let (stream, origins) = run(&[
            PatchSource::Strategic(delete),
            PatchSource::Transformer(prefix),
            PatchSource::Kustomize(after),
        ])
        .unwrap();
        assert_eq!(origins, [1]);
        let job = stream.documents[0].value().unwrap();
        assert_eq!(job["metadata"]["name"], "p-hook");
        assert_eq!(job["spec"]["backoffLimit"], 1);
        assert_eq!(
            job["spec"]["template"]["spec"]["containers"][0]["image"],
            "busybox:2"
        );
        assert_eq!(
            stream.documents[0].name(),
            "p-hook",
            "the cached identity follows"
        );
    }
}
