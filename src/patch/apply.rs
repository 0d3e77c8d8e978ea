//! The apply loop: every patch, in order, on an identity index of the rendered objects.

use std::collections::HashMap;

use anyhow::{anyhow, bail};
use serde_json::{Map, Value};

use super::json6902::type_name;
use super::redact::Redact;
use super::spec::{Patch, PatchBody, PatchOptions, Target};
use super::target::{ResId, Scope, closest};
use super::{SchemaRegistry, SmpMode, is_delete_patch, strategic_merge};
use crate::stream::Document;

/// Settings that affect matching and merging.
#[derive(Clone, Copy, Debug)]
pub struct PatchContext<'a> {
    /// Namespace that namespaced objects without `metadata.namespace` land in.
    pub release_namespace: &'a str,
    /// SMP flavour passed to the strategic-merge engine.
    pub mode: SmpMode,
    /// Turn "target matches nothing" into a warning instead of an error.
    pub allow_missing_targets: bool,
    /// CRDs known besides the patched objects (a chart's `crds/`, which helm installs apart from
    /// what it post-renders), for their list semantics and scope.
    pub crds: &'a [Value],
}

/// Applies every patch in order to the documents of a stream; removes objects deleted by
/// `$patch: delete`; returns warnings. Only the documents a patch targets (and those a label or
/// annotation selector has to look into) are parsed; the others keep their text untouched.
pub fn apply_patches(
    documents: &mut Vec<Document>,
    patches: &[Patch],
    ctx: &PatchContext,
) -> anyhow::Result<Vec<String>> {
    let (warnings, alive) = patch_stream(documents, patches, ctx)?;
    let mut alive = alive.into_iter();
    documents.retain(|_| alive.next().unwrap_or(true));
    Ok(warnings)
}

/// [`apply_patches`] without removing deleted documents: also says, per document, whether it is
/// still alive.
pub(super) fn patch_stream(
    documents: &mut [Document],
    patches: &[Patch],
    ctx: &PatchContext,
) -> anyhow::Result<(Vec<String>, Vec<bool>)> {
    let mut warnings = Vec::new();
    let registry = register_crds(documents, ctx.crds, &mut warnings)?;
    let scope = Scope::new(ctx.release_namespace, &registry);
    let mut index = Index::new(documents, &scope);
    for patch in patches {
        let hits = index.find(&patch.target, documents, &scope)?;
        if hits.is_empty() {
            let message = format!(
                "{}: {}",
                patch.origin,
                index.no_match(&patch.target, documents, &scope)?
            );
            if ctx.allow_missing_targets {
                warnings.push(message);
                continue;
            }
            bail!(message);
        }
        for pos in hits {
            let outcome = apply_one(&mut documents[pos], patch, &registry, ctx.mode)
                .map_err(|e| anyhow!("{}: {}: {e}", patch.origin, index.current(pos)))?;
            match outcome {
                Outcome::Unchanged => {}
                Outcome::Changed => index.refresh(pos, &documents[pos], &scope),
                Outcome::Deleted => index.delete(pos),
            }
        }
    }
    Ok((warnings, index.alive))
}

/// CRDs in the render teach the SMP engine their list semantics and give their CRs a scope.
fn register_crds(
    documents: &[Document],
    extra: &[Value],
    warnings: &mut Vec<String>,
) -> anyhow::Result<SchemaRegistry> {
    let mut registry = SchemaRegistry::builtin();
    let mut crds: Vec<&Value> = extra.iter().filter(|v| is_crd(v)).collect();
    for doc in documents.iter().filter(|d| d.is_crd()) {
        crds.push(doc.value()?);
    }
    for crd in crds {
        if let Err(e) = registry.add_crd(crd) {
            let id = ResId::of(crd);
            warnings.push(format!("{id}: schema not used for patching: {e}"));
        }
    }
    Ok(registry)
}

fn is_crd(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
        && v.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("apiextensions.k8s.io/"))
}

enum Outcome {
    Unchanged,
    Changed,
    Deleted,
}

/// Whether values of this object (or of an SMP shaped like one) must never appear in an error:
/// a core-group Secret, any version.
fn is_secret(value: &Value) -> bool {
    value.get("kind").and_then(Value::as_str) == Some("Secret")
        && value
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_none_or(|v| !v.contains('/'))
}

/// The one redaction rule: an engine error about a Secret never shows the values it quotes
/// (from the object or from the patch); it says so instead.
fn describe(error: &impl Redact, secret: bool) -> String {
    match error.redacted().filter(|_| secret) {
        Some(text) => format!("{text} (values of a Secret are not shown)"),
        None => error.to_string(),
    }
}

fn apply_one(
    doc: &mut Document,
    patch: &Patch,
    registry: &SchemaRegistry,
    mode: SmpMode,
) -> Result<Outcome, String> {
    let value = doc.value().map_err(|e| format!("{e:#}"))?;
    let secret =
        is_secret(value) || matches!(&patch.body, PatchBody::Strategic(smp) if is_secret(smp));
    let new = match &patch.body {
        PatchBody::Strategic(smp) => {
            if is_delete_patch(smp) {
                return Ok(Outcome::Deleted);
            }
            let schema = registry.lookup(doc.api_version(), doc.kind());
            let mut new =
                strategic_merge(value, smp, schema, mode).map_err(|e| describe(&e, secret))?;
            restore_identity(&mut new, value, patch.options);
            new
        }
        PatchBody::Json6902(ops) => ops.patched(value).map_err(|e| describe(&e, secret))?,
    };
    check_identity(value, &new)?;
    if &new == value {
        return Ok(Outcome::Unchanged);
    }
    doc.set_value(new);
    Ok(Outcome::Changed)
}

/// kustomize restores apiVersion and namespace after an SMP, and name/kind unless allowed.
fn restore_identity(new: &mut Value, old: &Value, options: PatchOptions) {
    restore(new, old, &["apiVersion"]);
    restore(new, old, &["metadata", "namespace"]);
    if !options.allow_kind_change {
        restore(new, old, &["kind"]);
    }
    if !options.allow_name_change {
        restore(new, old, &["metadata", "name"]);
    }
}

fn restore(new: &mut Value, old: &Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let want = parents
        .iter()
        .try_fold(old, |v, key| v.get(key))
        .and_then(|v| v.get(last))
        .cloned();
    let mut cur = new;
    for key in parents {
        let Value::Object(map) = cur else { return };
        if want.is_none() && !map.contains_key(*key) {
            return;
        }
        cur = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !cur.is_object() {
            if want.is_none() {
                return;
            }
            *cur = Value::Object(Map::new());
        }
    }
    if let Value::Object(map) = cur {
        match want {
            Some(v) => {
                map.insert(last.to_string(), v);
            }
            None => {
                map.remove(*last);
            }
        }
    }
}

/// A patch must leave a mapping that still has the identity fields it had.
fn check_identity(old: &Value, new: &Value) -> Result<(), String> {
    if !new.is_object() {
        return Err(format!(
            "the patch turned the object into {}",
            type_name(new)
        ));
    }
    let has = |v: &Value, ptr: &str| {
        v.pointer(ptr)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    for (field, ptr) in [
        ("apiVersion", "/apiVersion"),
        ("kind", "/kind"),
        ("metadata.name", "/metadata/name"),
    ] {
        if has(old, ptr) && !has(new, ptr) {
            return Err(format!("the patch removed {field}"));
        }
    }
    Ok(())
}

/// Identity index over `objects`: positions stay stable (deletes are tombstones), and every
/// id an object has had stays indexed, as kustomize matches previous names too.
struct Index {
    /// Per position: normalized ids it has had, current last; empty for non-objects.
    ids: Vec<Vec<ResId>>,
    alive: Vec<bool>,
    /// kind → name → positions, over every (kind, name) combination of each object's ids.
    by_kind_name: HashMap<String, HashMap<String, Vec<usize>>>,
}

impl Index {
    fn new(documents: &[Document], scope: &Scope<'_>) -> Self {
        let mut index = Self {
            ids: Vec::with_capacity(documents.len()),
            alive: vec![true; documents.len()],
            by_kind_name: HashMap::new(),
        };
        for (pos, doc) in documents.iter().enumerate() {
            let id = ResId::of_document(doc);
            // Documents that are not Kubernetes objects are never targets.
            let targetable = doc.is_object();
            index.ids.push(if targetable {
                vec![scope.normalize(id)]
            } else {
                Vec::new()
            });
            index.insert_keys(pos);
        }
        index
    }

    fn insert_keys(&mut self, pos: usize) {
        let ids = &self.ids[pos];
        for kind_id in ids {
            if !self.by_kind_name.contains_key(&kind_id.kind) {
                self.by_kind_name
                    .insert(kind_id.kind.clone(), HashMap::new());
            }
            let Some(names) = self.by_kind_name.get_mut(&kind_id.kind) else {
                continue;
            };
            for name_id in ids {
                match names.get_mut(&name_id.name) {
                    Some(bucket) if !bucket.contains(&pos) => bucket.push(pos),
                    Some(_) => {}
                    None => {
                        names.insert(name_id.name.clone(), vec![pos]);
                    }
                }
            }
        }
    }

    fn bucket(&self, kind: &str, name: &str) -> &[usize] {
        self.by_kind_name
            .get(kind)
            .and_then(|names| names.get(name))
            .map_or(&[], Vec::as_slice)
    }

    fn current(&self, pos: usize) -> ResId {
        self.ids[pos].last().cloned().unwrap_or_default()
    }

    /// Alive positions matching `target`, ascending. A label or annotation selector parses the
    /// candidates the identity fields leave (on both cores).
    fn find(
        &self,
        target: &Target,
        documents: &[Document],
        scope: &Scope<'_>,
    ) -> anyhow::Result<Vec<usize>> {
        let mut hits: Vec<usize> = match target {
            Target::Identity(raw) => {
                let want = scope.normalize(raw.clone());
                self.bucket(&want.kind, &want.name)
                    .iter()
                    .copied()
                    .filter(|&p| self.alive[p] && self.ids[p].contains(&want))
                    .collect()
            }
            Target::Selector(selector) => {
                let candidates: Vec<usize> = match selector.literal_kind_name() {
                    Some((kind, name)) => self.bucket(kind, name).to_vec(),
                    None => (0..documents.len()).collect(),
                };
                let by_id: Vec<usize> = candidates
                    .into_iter()
                    .filter(|&p| self.alive[p] && selector.matches_id(&self.ids[p]))
                    .collect();
                if selector.reads_metadata() {
                    Document::parse_all(by_id.iter().map(|&p| &documents[p]))?;
                }
                let mut hits = Vec::with_capacity(by_id.len());
                for p in by_id {
                    if selector.matches(&self.ids[p], documents[p].value()?) {
                        hits.push(p);
                    }
                }
                hits
            }
        };
        hits.sort_unstable();
        Ok(hits)
    }

    fn refresh(&mut self, pos: usize, doc: &Document, scope: &Scope<'_>) {
        let id = scope.normalize(ResId::of_document(doc));
        if self.ids[pos].last() != Some(&id) {
            self.ids[pos].push(id);
            self.insert_keys(pos);
        }
    }

    fn delete(&mut self, pos: usize) {
        self.alive[pos] = false;
    }

    /// "No match" with the closest candidates; only runs on the error path, so it may scan.
    fn no_match(
        &self,
        target: &Target,
        documents: &[Document],
        scope: &Scope<'_>,
    ) -> anyhow::Result<String> {
        let live = || (0..self.ids.len()).filter(|&p| self.alive[p]);
        let (wanted, near) = match target {
            Target::Identity(raw) => {
                let want = scope.normalize(raw.clone());
                let near = closest(
                    live().filter_map(|p| {
                        let id = self.ids[p].last()?;
                        Some((id, id.differences(&want)))
                    }),
                    &want.name,
                    5,
                );
                (want.to_string(), near)
            }
            Target::Selector(selector) => {
                let mut candidates = Vec::new();
                for p in live() {
                    if let Some(id) = self.ids[p].last() {
                        let value = documents[p].value()?;
                        candidates.push((id, selector.mismatches(&self.ids[p], value)));
                    }
                }
                let near = closest(candidates.into_iter(), &selector.spec().name, 5);
                (selector.to_string(), near)
            }
        };
        let count = live().count();
        if near.is_empty() {
            return Ok(format!(
                "no object matches {wanted} (none of the {count} rendered objects is close)"
            ));
        }
        let list: Vec<String> = near
            .iter()
            .map(|(id, why)| format!("\n  - {id} ({why})"))
            .collect();
        Ok(format!(
            "no object matches {wanted}; closest candidates:{}",
            list.concat()
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::patch::spec::{PatchSource, load_patches};
    use crate::testutil::TempDir;
    use serde_json::json;

    pub(crate) fn objects(yaml: &str) -> Vec<Document> {
        Document::parse_stream(yaml, "test", |_| String::new())
            .expect("test YAML")
            .into_iter()
            .filter(|d| !d.is_null())
            .collect()
    }

    const CTX: PatchContext<'static> = PatchContext {
        release_namespace: "rel",
        mode: SmpMode::Kustomize,
        allow_missing_targets: false,
        crds: &[],
    };

    /// Writes each `(flag, text)` as `p<N>.yaml` and applies them in order; errors come back
    /// with the temp dir shown as `.`.
    fn run(
        objs: &mut Vec<Document>,
        sources: &[(char, &str)],
        ctx: &PatchContext,
    ) -> Result<Vec<String>, String> {
        let dir = TempDir::new("apply");
        let sources: Vec<PatchSource> = sources
            .iter()
            .enumerate()
            .map(|(i, (flag, text))| {
                let file = dir.write(&format!("p{}.yaml", i + 1), text);
                match flag {
                    's' => PatchSource::Strategic(file),
                    'j' => PatchSource::Json(file),
                    _ => PatchSource::Kustomize(file),
                }
            })
            .collect();
        let shown = dir.path().display().to_string();
        let patches = load_patches(&sources).map_err(|e| format!("{e:#}").replace(&shown, "."))?;
        apply_patches(objs, &patches, ctx)
            .map(|w| w.iter().map(|w| w.replace(&shown, ".")).collect())
            .map_err(|e| format!("{e:#}").replace(&shown, "."))
    }

    const RENDER: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec: {replicas: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: prod, labels: {app: api}, annotations: {owner: team-a}}
spec: {replicas: 1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: prod}
data: {a: "1"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules: []
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: issuers.cert.io}
spec: {group: cert.io, scope: Cluster, names: {kind: ClusterIssuer, plural: issuers}, versions: [{name: v1, served: true, storage: true}]}
---
apiVersion: cert.io/v1
kind: ClusterIssuer
metadata: {name: letsencrypt}
spec: {acme: {email: a@b.c}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, annotations: {helm.sh/hook: pre-install}}
spec: {backoffLimit: 1}
"#;

    fn get<'a>(objs: &'a [Document], kind: &str, name: &str) -> &'a Document {
        objs.iter()
            .find(|o| {
                o.value().unwrap()["kind"] == kind && o.value().unwrap()["metadata"]["name"] == name
            })
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    #[test]
    fn empty_namespace_means_release_namespace() {
        let mut objs = objects(RENDER);
        let smp = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: rel}\nspec: {replicas: 2}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {paused: true}\n";
        run(&mut objs, &[('s', smp)], &CTX).expect("applies");
        assert_eq!(
            get(&objs, "Deployment", "web").value().unwrap()["spec"],
            json!({"replicas": 2, "paused": true})
        );
        let wrong =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\n";
        let err = run(&mut objs, &[('s', wrong)], &CTX).expect_err("default is not the release ns");
        assert_eq!(
            err,
            "patch file ./p1.yaml, document 1: no object matches apps/v1 Deployment \"web\" in \
             namespace \"default\"; closest candidates:\n  - apps/v1 Deployment \"web\" in \
             namespace \"rel\" (differs: namespace)\n  - apps/v1 Deployment \"api\" in namespace \
             \"prod\" (differs: name, namespace)"
        );
    }

    #[test]
    fn cluster_scoped_kinds_and_cluster_crs_ignore_namespace() {
        let mut objs = objects(RENDER);
        let smp = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader, namespace: whatever}\nrules: [{verbs: [get]}]\n---\napiVersion: cert.io/v1\nkind: ClusterIssuer\nmetadata: {name: letsencrypt, namespace: prod}\nspec: {acme: {email: x@y.z}}\n";
        run(&mut objs, &[('s', smp)], &CTX).expect("applies");
        let role = get(&objs, "ClusterRole", "reader");
        assert_eq!(role.value().unwrap()["rules"], json!([{"verbs": ["get"]}]));
        assert_eq!(
            role.value().unwrap()["metadata"].get("namespace"),
            None,
            "namespace restored"
        );
        assert_eq!(
            get(&objs, "ClusterIssuer", "letsencrypt").value().unwrap()["spec"]["acme"]["email"],
            "x@y.z"
        );
    }

    #[test]
    fn hooks_and_crds_are_patched_like_any_object() {
        let mut objs = objects(RENDER);
        let k = "- patch: '[{op: replace, path: /spec/backoffLimit, value: 4}]'\n  target: {kind: Job, name: migrate}\n- patch: '[{op: add, path: /metadata/labels, value: {x: z}}]'\n  target: {kind: CustomResourceDefinition}\n";
        run(&mut objs, &[('k', k)], &CTX).expect("applies");
        assert_eq!(
            get(&objs, "Job", "migrate").value().unwrap()["spec"]["backoffLimit"],
            4
        );
        assert_eq!(
            get(&objs, "CustomResourceDefinition", "issuers.cert.io")
                .value()
                .unwrap()["metadata"]["labels"]["x"],
            "z"
        );
    }

    #[test]
    fn missing_targets_error_or_warn() {
        let mut objs = objects(RENDER);
        let j = "target: {kind: Deployment, name: wbe}\npatch: [{op: remove, path: /spec}]\n";
        let err = run(&mut objs, &[('j', j)], &CTX).expect_err("no match");
        assert_eq!(
            err,
            "patch file ./p1.yaml, document 1: no object matches target {kind=\"Deployment\", \
             name=\"wbe\"}; closest candidates:\n  - apps/v1 Deployment \"web\" in namespace \
             \"rel\" (differs: name)\n  - apps/v1 Deployment \"api\" in namespace \"prod\" \
             (differs: name)"
        );
        let k = "patch: '[{op: remove, path: /spec}]'\ntarget: {kind: Deployment, labelSelector: app=db}\n";
        let err = run(&mut objs, &[('k', k)], &CTX).expect_err("no match");
        assert!(
            err.ends_with(
                "closest candidates:\n  - apps/v1 Deployment \"api\" in namespace \"prod\" \
                 (differs: labels)\n  - apps/v1 Deployment \"web\" in namespace \"rel\" \
                 (differs: labels)"
            ),
            "{err}"
        );
        let far = "apiVersion: v1\nkind: Secret\nmetadata: {name: zzzzzzzz}\n";
        let err = run(&mut objs, &[('s', far)], &CTX).expect_err("no match");
        assert!(
            err.ends_with("(none of the 7 rendered objects is close)"),
            "{err}"
        );
        let lenient = PatchContext {
            allow_missing_targets: true,
            ..CTX
        };
        let before = objs.clone();
        let warnings = run(&mut objs, &[('j', j), ('s', far)], &lenient).expect("warns");
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].starts_with("patch file ./p1.yaml, document 1: no object matches"));
        assert_eq!(objs, before);
    }

    #[test]
    fn delete_removes_objects_and_later_patches_miss_them() {
        let mut objs = objects(RENDER);
        let del = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: prod}\n$patch: delete\n";
        run(&mut objs, &[('s', del)], &CTX).expect("applies");
        assert_eq!(objs.len(), 6);
        assert_eq!(
            objs.iter().map(|o| o.name()).collect::<Vec<_>>(),
            [
                "web",
                "api",
                "reader",
                "issuers.cert.io",
                "letsencrypt",
                "migrate"
            ]
        );
        let mut objs = objects(RENDER);
        let again = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: prod}\ndata: {a: x}\n";
        let err = run(&mut objs, &[('s', del), ('s', again)], &CTX).expect_err("deleted");
        assert!(
            err.starts_with("patch file ./p2.yaml, document 1: no object matches v1 ConfigMap"),
            "{err}"
        );
        let mut objs = objects(RENDER);
        let by_selector =
            "patch: '{kind: Deployment, $patch: delete}'\ntarget: {kind: Deployment}\n";
        run(&mut objs, &[('k', by_selector)], &CTX).expect("applies");
        assert!(
            objs.iter()
                .all(|o| o.value().unwrap()["kind"] != "Deployment")
        );
    }

    #[test]
    fn patches_apply_in_order_across_files_and_formats() {
        let mut objs = objects(RENDER);
        let j = "target: {kind: Deployment, name: web}\npatch: [{op: replace, path: /spec/replicas, value: 5}]\n";
        let s =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 6}\n";
        let k = "patch: '[{op: test, path: /spec/replicas, value: 6}, {op: replace, path: /spec/replicas, value: 7}]'\ntarget: {name: web}\n";
        run(&mut objs, &[('j', j), ('s', s), ('k', k)], &CTX).expect("applies");
        assert_eq!(
            get(&objs, "Deployment", "web").value().unwrap()["spec"]["replicas"],
            7
        );
        let mut objs = objects(RENDER);
        let err = run(&mut objs, &[('s', s), ('k', k), ('j', j)], &CTX);
        assert!(err.is_ok());
        assert_eq!(
            get(&objs, "Deployment", "web").value().unwrap()["spec"]["replicas"],
            5
        );
    }

    #[test]
    fn modified_only_when_the_value_changes() {
        let mut objs = objects(RENDER);
        let same =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1}\n";
        let other = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: prod}\nspec: {replicas: 2}\n";
        run(&mut objs, &[('s', same), ('s', other)], &CTX).expect("applies");
        let flags: Vec<bool> = objs.iter().map(|o| o.is_modified()).collect();
        assert_eq!(flags, [false, true, false, false, false, false, false]);
    }

    #[test]
    fn selectors_patch_every_match_and_respect_namespace() {
        let mut objs = objects(RENDER);
        let k = "- patch: '[{op: add, path: /metadata/labels/sel, value: x}]'\n  target: {kind: Deployment, labelSelector: 'app in (web,api)'}\n- patch: '[{op: add, path: /spec/inRel, value: x}]'\n  target: {namespace: rel}\n- patch: '[{op: add, path: /metadata/labels/owner, value: x}]'\n  target: {annotationSelector: owner=team-a}\n";
        run(&mut objs, &[('k', k)], &CTX).expect("applies");
        let labels = |name: &str| {
            get(&objs, "Deployment", name).value().unwrap()["metadata"]["labels"].clone()
        };
        assert_eq!(labels("web"), json!({"app": "web", "sel": "x"}));
        assert_eq!(
            labels("api"),
            json!({"app": "api", "sel": "x", "owner": "x"})
        );
        let in_rel: Vec<&str> = objs
            .iter()
            .filter(|o| o.value().unwrap()["spec"].get("inRel").is_some())
            .filter_map(|o| o.value().unwrap()["metadata"]["name"].as_str())
            .collect();
        assert_eq!(in_rel, ["web", "migrate"]);
    }

    #[test]
    fn targeted_smp_restores_identity_unless_allowed() {
        let mut objs = objects(RENDER);
        let k = "patch: '{kind: Anything, metadata: {name: other, namespace: elsewhere}, spec: {replicas: 9}}'\ntarget: {kind: Deployment, name: web}\n";
        run(&mut objs, &[('k', k)], &CTX).expect("applies");
        let web = get(&objs, "Deployment", "web");
        assert_eq!(web.value().unwrap()["spec"]["replicas"], 9);
        assert_eq!(web.value().unwrap()["metadata"].get("namespace"), None);
        let mut objs = objects(RENDER);
        let rename = "patch: '{kind: StatefulSet, metadata: {name: web-v2}}'\ntarget: {kind: Deployment, name: web}\noptions: {allowNameChange: true, allowKindChange: true}\n";
        // Old and new names both keep matching (kustomize matches previous ids too).
        let by_new = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web-v2}\nspec: {replicas: 3}\n";
        let by_old = "patch: '[{op: add, path: /spec/paused, value: true}]'\ntarget: {name: web}\n";
        run(
            &mut objs,
            &[('k', rename), ('s', by_new), ('k', by_old)],
            &CTX,
        )
        .expect("applies");
        let renamed = get(&objs, "StatefulSet", "web-v2");
        assert_eq!(
            renamed.value().unwrap()["spec"],
            json!({"replicas": 3, "paused": true})
        );
        assert!(
            objs.iter()
                .all(|o| o.value().unwrap()["metadata"]["name"] != "web")
        );
    }

    #[test]
    fn engine_and_op_errors_carry_origin_and_object() {
        let mut objs = objects(RENDER);
        let bad =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {$patch: bogus}\n";
        let err = run(&mut objs, &[('s', bad)], &CTX).expect_err("engine error");
        assert_eq!(
            err,
            "patch file ./p1.yaml, document 1: apps/v1 Deployment \"web\" in namespace \"rel\": \
             spec: unknown patch strategy 'bogus'"
        );
        let j = "- target: {kind: ConfigMap}\n  patch: [{op: add, path: /data/b, value: '2'}]\n- target: {kind: Deployment, name: api}\n  patch: [{op: add, path: /x, value: 1}, {op: add, path: /y, value: 1}, {op: replace, path: /spec/replicas2, value: 3}]\n";
        let err = run(&mut objs, &[('j', j)], &CTX).expect_err("op error");
        assert!(
            err.starts_with(
                "patch file ./p1.yaml, document 1, entry 2: apps/v1 Deployment \"api\" in \
                 namespace \"prod\": op 3 (replace /spec/replicas2): path not found"
            ),
            "{err}"
        );
        let strip = "patch: '[{op: remove, path: /metadata/name}]'\ntarget: {kind: ConfigMap}\n";
        let err = run(&mut objs, &[('k', strip)], &CTX).expect_err("identity removed");
        assert!(
            err.ends_with("\"settings\" in namespace \"prod\": the patch removed metadata.name"),
            "{err}"
        );
    }

    const SECRET: &str = r#"
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
  ownerReferences: [{apiVersion: v1, kind: Pod, name: owner, uid: u-s3cr3t-uid}]
data: {password: aHVudGVyMg==}
stringData: {token: s3cr3t-token}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: prod}
data: {a: "1"}
"#;

    fn assert_hidden(err: &str, secrets: &[&str], path: &str) {
        for secret in secrets {
            assert!(!err.contains(secret), "{secret:?} leaked: {err}");
        }
        assert!(err.contains(path), "no {path:?} in: {err}");
        assert!(err.ends_with("(values of a Secret are not shown)"), "{err}");
    }

    #[test]
    fn failed_tests_on_a_secret_name_the_path_not_the_values() {
        let mut objs = objects(SECRET);
        let data = "target: {kind: Secret, name: db}\npatch: [{op: test, path: /data/password, value: x-guess}]\n";
        let err = run(&mut objs, &[('j', data)], &CTX).expect_err("test fails");
        assert_hidden(&err, &["aHVudGVyMg==", "x-guess"], "/data/password");
        assert_eq!(
            err,
            "patch file ./p1.yaml, document 1: v1 Secret \"db\" in namespace \"prod\": op 1 \
             (test /data/password): test failed: the values differ (values of a Secret are not \
             shown)"
        );
        let string_data = "patch: '[{op: test, path: /stringData/token, value: {guess: 1}}]'\ntarget: {kind: Secret}\n";
        let err = run(&mut objs, &[('k', string_data)], &CTX).expect_err("test fails");
        assert_hidden(&err, &["s3cr3t-token", "guess"], "/stringData/token");
        // Value-free messages about a Secret stay as they are.
        let missing = "target: {kind: Secret}\npatch: [{op: test, path: /data/nope, value: x}]\n";
        let err = run(&mut objs, &[('j', missing)], &CTX).expect_err("no such path");
        assert!(
            err.ends_with("op 1 (test /data/nope): path not found"),
            "{err}"
        );
    }

    #[test]
    fn smp_errors_on_a_secret_withhold_quoted_values() {
        let apimachinery = PatchContext {
            mode: SmpMode::Apimachinery,
            ..CTX
        };
        let mut objs = objects(SECRET);
        // apimachinery quotes the whole patch map of an unknown directive.
        let bad = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {token: new-s3cr3t, $patch: bogus-s3cr3t}\n";
        let err = run(&mut objs, &[('s', bad)], &apimachinery).expect_err("bad directive");
        assert_hidden(&err, &["new-s3cr3t", "bogus-s3cr3t"], "stringData");
        assert!(
            err.ends_with(
                "stringData: unknown patch type: <hidden> in map: <hidden> (values of a Secret \
                 are not shown)"
            ),
            "{err}"
        );
        // A list element's key value in the error path is a value too.
        let kind = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod, ownerReferences: [{uid: u-s3cr3t-uid, name: {a: 1}}]}\n";
        let err = run(&mut objs, &[('s', kind)], &CTX).expect_err("kind mismatch");
        assert_hidden(
            &err,
            &["u-s3cr3t-uid"],
            "metadata.ownerReferences[uid=<hidden>].name",
        );
        let retain = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod, ownerReferences: [{uid: u-s3cr3t-uid, $retainKeys: 5}]}\n";
        let err = run(&mut objs, &[('s', retain)], &apimachinery).expect_err("bad retainKeys");
        assert_hidden(
            &err,
            &["u-s3cr3t-uid"],
            "metadata.ownerReferences[uid=<hidden>]: invalid patch format of retainKeys",
        );
        // `$setElementOrder` errors quote both lists.
        let order = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod, $setElementOrder/finalizers: [a], finalizers: [s3cr3t-fin, a]}\n";
        let err = run(&mut objs, &[('s', order)], &apimachinery).expect_err("bad order");
        assert_hidden(
            &err,
            &["s3cr3t-fin"],
            "metadata.finalizers: The order in patch list",
        );
        // kustomize quotes an unknown `$patch` value.
        let strategy = "patch: '{data: {$patch: s3cr3t-strategy}}'\ntarget: {kind: Secret}\n";
        let err = run(&mut objs, &[('k', strategy)], &CTX).expect_err("bad strategy");
        assert_hidden(&err, &["s3cr3t-strategy"], "data: unknown patch strategy");
    }

    #[test]
    fn errors_on_other_objects_keep_their_values() {
        let mut objs = objects(SECRET);
        let j = "target: {kind: ConfigMap}\npatch: [{op: test, path: /data/a, value: x}]\n";
        let err = run(&mut objs, &[('j', j)], &CTX).expect_err("test fails");
        assert_eq!(
            err,
            "patch file ./p1.yaml, document 1: v1 ConfigMap \"settings\" in namespace \"prod\": \
             op 1 (test /data/a): test failed: expected \"x\", found \"1\""
        );
        let apimachinery = PatchContext {
            mode: SmpMode::Apimachinery,
            ..CTX
        };
        let s = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: prod}\ndata: {b: x, $patch: bogus}\n";
        let err = run(&mut objs, &[('s', s)], &apimachinery).expect_err("bad directive");
        assert!(
            err.ends_with("data: unknown patch type: bogus in map: map[$patch:bogus b:x]"),
            "{err}"
        );
        // Not the core group: not a Secret.
        let lookalike = is_secret(&json!({"apiVersion": "example.com/v1", "kind": "Secret"}));
        assert!(!lookalike);
        assert!(is_secret(&json!({"apiVersion": "v1", "kind": "Secret"})));
    }

    #[test]
    fn duplicate_identities_are_all_patched() {
        let twice = format!(
            "{RENDER}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: prod}}\ndata: {{a: '2'}}\n"
        );
        let mut objs = objects(&twice);
        let s = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: prod}\ndata: {b: x}\n";
        run(&mut objs, &[('s', s)], &CTX).expect("applies");
        let patched = objs
            .iter()
            .filter(|o| o.value().unwrap()["data"]["b"] == "x")
            .count();
        assert_eq!(patched, 2);
    }

    #[test]
    fn documents_without_kind_are_never_targets() {
        let mut objs = objects(RENDER);
        objs.push(Document::from_value(String::new(), Value::Null));
        objs.extend(objects("metadata: {name: no-kind}\n"));
        let everything = "patch: '[{op: add, path: /metadata/touched, value: true}]'\ntarget: {}\n";
        run(&mut objs, &[('k', everything)], &CTX).expect("applies");
        let touched: Vec<bool> = objs
            .iter()
            .map(|o| o.value().unwrap().pointer("/metadata/touched").is_some())
            .collect();
        assert_eq!(
            touched,
            [true, true, true, true, true, true, true, false, false]
        );
    }

    /// 10,000 objects and 1,000 exact-identity SMPs; prints the time (measure with --release).
    #[test]
    fn ten_thousand_objects_take_a_thousand_exact_patches() {
        let stream: String = (0..10_000)
            .map(|i| {
                crate::stream::emit(&json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": format!("app-{i}"), "namespace": format!("ns-{}", i % 10),
                                 "labels": {"app": format!("app-{i}")}},
                    "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}
                })) + "---\n"
            })
            .collect();
        let mut objs = objects(&stream);
        let dir = TempDir::new("perf");
        let mut text = String::new();
        for i in (0..10_000).step_by(10) {
            text.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i}, namespace: ns-{}}}\nspec: {{replicas: 3}}\n",
                i % 10
            ));
        }
        let file = dir.write("perf.yaml", &text);
        let patches = load_patches(&[PatchSource::Strategic(file)]).expect("loads");
        assert_eq!(patches.len(), 1_000);
        let warnings = apply_patches(&mut objs, &patches, &CTX).expect("applies");
        assert!(warnings.is_empty());
        assert_eq!(objs.iter().filter(|o| o.is_modified()).count(), 1_000);
    }
}
