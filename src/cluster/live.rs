//! helm-diff's three-way mode (`manifest.Generate`): the live state of a release's objects and
//! what the API server would make of them after the upgrade (a server-side dry-run patch), so
//! that drift made outside helm shows in the diff; and the live objects behind ownership checks.
//!
//! Requests run at most [`MAX_IN_FLIGHT`] at a time, each bounded by [`OPERATION_TIMEOUT`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use serde_json::Value;
use tokio::task::JoinSet;

use super::{
    Cluster, HELM_FIELD_MANAGER, OPERATION_TIMEOUT, RELEASE_NAME_ANNOTATION,
    RELEASE_NAMESPACE_ANNOTATION, api_error,
};
use crate::patch::SchemaRegistry;
use crate::patch::threeway::{
    is_builtin_kind, json_merge_patch, three_way_merge_patch, value_free,
};

/// Requests in flight at once: enough to hide round trips on a large release, few enough to
/// stay clear of the API server's priority-and-fairness limits.
const MAX_IN_FLIGHT: usize = 16;

/// Metadata the API server maintains, which a diff against a chart would only show as noise.
const SERVER_METADATA: [&str; 5] = [
    "managedFields",
    "generation",
    "creationTimestamp",
    "resourceVersion",
    "uid",
];

/// Annotations helm and the Deployment controller stamp on live objects.
const STAMPED_ANNOTATIONS: [&str; 3] = [
    RELEASE_NAME_ANNOTATION,
    RELEASE_NAMESPACE_ANNOTATION,
    "deployment.kubernetes.io/revision",
];

/// What the two sides of a three-way diff are (helm-diff's `manifest.Generate`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreeWay {
    /// The deployed objects the new render drops (as recorded), then the live state of every
    /// new object that exists, tidied.
    pub old: Vec<Value>,
    /// The new objects that do not exist yet (as rendered), then, for those that do, the
    /// server's dry-run result of patching the live object towards the render, tidied.
    pub new: Vec<Value>,
}

impl Cluster {
    /// `original`: objects of the deployed release; `target`: the new render; objects without a
    /// namespace get `namespace` when their kind is namespaced (discovery decides; cluster-scoped
    /// kinds get none). `schemas` gives merge metadata (it also knows the release's CRDs).
    ///
    /// As helm-diff: built-in kinds get a strategic three-way patch (recorded, render, live),
    /// custom resources a JSON merge patch from recorded to render (so their drift elsewhere
    /// stays); a new object already live is patched as if the release had recorded it as
    /// rendered; an object whose apiVersion changed pairs with its recorded other version. Live
    /// Secrets are in the result as read: redacting them for display is the caller's business.
    pub fn three_way(
        &self,
        original: &[Value],
        target: &[Value],
        namespace: &str,
        schemas: &SchemaRegistry,
    ) -> anyhow::Result<ThreeWay> {
        let served = self.served()?;
        let original = resolve_all(original, namespace, &served)
            .context("resolving the objects of the deployed release")?;
        let target = resolve_all(target, namespace, &served)
            .context("resolving the objects of the new release")?;
        let live = self.fetch_live(&target)?;
        let mut patches = Vec::new();
        for (i, (object, live)) in target.iter().zip(&live).enumerate() {
            if let Some(live) = live {
                let recorded = original_for(object, &original);
                patches.push((i, patch_for(recorded, live, object, schemas)?));
            }
        }
        let patched = self.dry_run(&target, patches)?;
        Ok(assemble(deleted(&original, &target), target, live, patched))
    }

    /// The live object for each of `objects` (`None` when not found), for ownership checks. An
    /// object of a kind the server does not serve (its CRD comes with the release) cannot exist
    /// yet, so it is `None` too.
    ///
    /// Not tidied: [`owning_release`] reads annotations [`tidy`] drops, so take the owner first
    /// and tidy after, as helm-diff's `ParseObject` does.
    pub fn live_objects(
        &self,
        objects: &[Value],
        namespace: &str,
    ) -> anyhow::Result<Vec<Option<Value>>> {
        let served = self.served()?;
        let is_served = |o: &Value| {
            let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
            served.contains_key(&(text(o.get("apiVersion")), text(o.get("kind"))))
        };
        let servable: Vec<Value> = objects.iter().filter(|o| is_served(o)).cloned().collect();
        let resolved = resolve_all(&servable, namespace, &served)?;
        let mut live = self.fetch_live(&resolved)?.into_iter();
        Ok(objects
            .iter()
            .map(|o| {
                if is_served(o) {
                    live.next().flatten()
                } else {
                    None
                }
            })
            .collect())
    }

    /// Every served kind by apiVersion and kind, in discovery's priority order.
    fn served(&self) -> anyhow::Result<Served> {
        let mut served = Served::new();
        for r in &self.discovered()?.resources {
            served
                .entry((r.api_version(), r.kind.clone()))
                .or_insert_with(|| (r.api_resource(), r.namespaced));
        }
        Ok(served)
    }

    fn api(&self, object: &Resolved) -> Api<DynamicObject> {
        match &object.id.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &object.resource),
            None => Api::all_with(self.client.clone(), &object.resource),
        }
    }

    /// The live state of each object, untidied; `None` when not found.
    fn fetch_live(&self, objects: &[Resolved]) -> anyhow::Result<Vec<Option<Value>>> {
        let jobs = objects.iter().map(|object| {
            let api = self.api(object);
            let name = object.id.name.clone();
            let secret = object.id.is_secret();
            let job = async move {
                match api.get_opt(&name).await {
                    Ok(found) => found.map(|o| to_json(&o, secret)).transpose(),
                    Err(e) => Err(request_error(e, secret, false)),
                }
            };
            (format!("reading {}", object.id), job)
        });
        self.run_bounded(jobs.collect())
    }

    /// The server's dry-run result of each patch (by index into `objects`).
    fn dry_run(
        &self,
        objects: &[Resolved],
        patches: Vec<(usize, LivePatch)>,
    ) -> anyhow::Result<Vec<Option<Value>>> {
        let params = PatchParams {
            dry_run: true,
            field_manager: Some(HELM_FIELD_MANAGER.to_owned()),
            ..PatchParams::default()
        };
        let indices: Vec<usize> = patches.iter().map(|(i, _)| *i).collect();
        let jobs = patches.into_iter().map(|(i, patch)| {
            let object = &objects[i];
            let api = self.api(object);
            let name = object.id.name.clone();
            let secret = object.id.is_secret();
            let params = params.clone();
            let job = async move {
                let patched = match &patch {
                    LivePatch::Strategic(p) => {
                        api.patch(&name, &params, &Patch::Strategic(p)).await
                    }
                    LivePatch::Merge(p) => api.patch(&name, &params, &Patch::Merge(p)).await,
                };
                patched
                    .map_err(|e| request_error(e, secret, true))
                    .and_then(|o| to_json(&o, secret))
            };
            (format!("dry-run patching {}", object.id), job)
        });
        let results = self.run_bounded(jobs.collect())?;
        let mut out = vec![None; objects.len()];
        for (i, result) in indices.into_iter().zip(results) {
            out[i] = Some(result);
        }
        Ok(out)
    }

    fn run_bounded<T, F>(&self, jobs: Vec<(String, F)>) -> anyhow::Result<Vec<T>>
    where
        T: Send + 'static,
        F: Future<Output = anyhow::Result<T>> + Send + 'static,
    {
        self.runtime.block_on(run_bounded(
            jobs,
            MAX_IN_FLIGHT,
            OPERATION_TIMEOUT,
            &self.server,
        ))
    }
}

/// helm-diff's `deleteStatusAndTidyMetadata`: drops status, managedFields, generation,
/// creationTimestamp, resourceVersion, uid, the two meta.helm.sh release annotations and
/// deployment.kubernetes.io/revision (and annotations when that empties them), which the server
/// or helm maintain and a chart never renders.
pub fn tidy(object: &mut Value) {
    let Some(object) = object.as_object_mut() else {
        return;
    };
    object.shift_remove("status");
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    for key in SERVER_METADATA {
        metadata.shift_remove(key);
    }
    if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
        for key in STAMPED_ANNOTATIONS {
            annotations.shift_remove(key);
        }
        if annotations.is_empty() {
            metadata.shift_remove("annotations");
        }
    }
}

/// "namespace/name" of the release that owns a live object, from its meta.helm.sh annotations
/// (helm-diff's `oldRelease` string: "namespace/" only with a namespace annotation, the name
/// only with a name annotation, so "" when neither).
pub fn owning_release(object: &Value) -> String {
    let annotation = |key: &str| {
        object
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
    };
    let mut owner = String::new();
    if let Some(namespace) = annotation(RELEASE_NAMESPACE_ANNOTATION) {
        owner.push_str(namespace);
        owner.push('/');
    }
    if let Some(name) = annotation(RELEASE_NAME_ANNOTATION) {
        owner.push_str(name);
    }
    owner
}

/// Served kinds: (apiVersion, kind) → the resource and whether it is namespaced.
type Served = HashMap<(String, String), (ApiResource, bool)>;

/// Which object a manifest names, as helm's resource builder resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Identity {
    api_version: String,
    kind: String,
    /// `None` for cluster-scoped kinds.
    namespace: Option<String>,
    name: String,
}

impl Identity {
    fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// helm's `isMatchingInfo`: the same object, whatever the version it is read at.
    fn same_object(&self, other: &Identity) -> bool {
        self.group() == other.group()
            && self.kind == other.kind
            && self.namespace == other.namespace
            && self.name == other.name
    }

    fn is_secret(&self) -> bool {
        self.api_version == "v1" && self.kind == "Secret"
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// An object with its identity and the resource serving it.
#[derive(Debug, Clone)]
struct Resolved {
    id: Identity,
    resource: ApiResource,
    /// The manifest, its namespace filled in when defaulted (as helm's builder does).
    value: Value,
}

fn resolve_all(
    objects: &[Value],
    namespace: &str,
    served: &Served,
) -> anyhow::Result<Vec<Resolved>> {
    objects
        .iter()
        .map(|o| resolve(o, namespace, served))
        .collect()
}

fn resolve(object: &Value, namespace: &str, served: &Served) -> anyhow::Result<Resolved> {
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).filter(|s| !s.is_empty())
    }
    let metadata = object.get("metadata");
    let api_version = text(object.get("apiVersion"));
    let kind = text(object.get("kind"));
    let name = text(metadata.and_then(|m| m.get("name")));
    let given = text(metadata.and_then(|m| m.get("namespace")));
    let (Some(api_version), Some(kind), Some(name)) = (api_version, kind, name) else {
        anyhow::bail!(
            "an object lacks apiVersion, kind or metadata.name (apiVersion {:?}, kind {:?}, name {:?})",
            api_version.unwrap_or_default(),
            kind.unwrap_or_default(),
            name.unwrap_or_default()
        );
    };
    let Some((resource, namespaced)) = served.get(&(api_version.to_owned(), kind.to_owned()))
    else {
        let whom = given.map_or_else(|| name.to_owned(), |ns| format!("{ns}/{name}"));
        anyhow::bail!(
            "{kind} {whom}: the API server does not serve kind {kind} in {api_version} \
             (is its CustomResourceDefinition installed?)"
        );
    };
    let mut value = object.clone();
    let namespace = if *namespaced {
        let ns = given.unwrap_or(namespace).to_owned();
        if given.is_none()
            && let Some(m) = value.get_mut("metadata").and_then(Value::as_object_mut)
        {
            m.insert("namespace".to_owned(), Value::String(ns.clone()));
        }
        Some(ns)
    } else {
        None
    };
    Ok(Resolved {
        id: Identity {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace,
            name: name.to_owned(),
        },
        resource: resource.clone(),
        value,
    })
}

/// The deployed objects the new render drops (same apiVersion, kind, namespace and name: a
/// changed apiVersion deletes the old one, as helm-diff's `objectKey` has it).
fn deleted(original: &[Resolved], target: &[Resolved]) -> Vec<Value> {
    let kept: HashSet<&Identity> = target.iter().map(|t| &t.id).collect();
    original
        .iter()
        .filter(|o| !kept.contains(&o.id))
        .map(|o| o.value.clone())
        .collect()
}

/// The recorded state a live object's patch starts from: the first deployed object that is the
/// same object (any version), else the render itself (helm-diff appends new objects that
/// already exist to the original list).
fn original_for<'a>(target: &'a Resolved, original: &'a [Resolved]) -> &'a Value {
    original
        .iter()
        .find(|o| o.id.same_object(&target.id))
        .map_or(&target.value, |o| &o.value)
}

/// A dry-run patch of one live object.
#[derive(Debug, Clone, PartialEq)]
enum LivePatch {
    Strategic(Value),
    Merge(Value),
}

/// helm-diff's `createPatch`: helm converts built-in types (and v1beta1 CRDs) to Go structs, so
/// they get a strategic three-way patch (recorded, render, live); custom resources and v1 CRDs
/// stay unstructured and get a JSON merge patch from the recorded state to the render.
fn patch_for(
    original: &Value,
    live: &Value,
    target: &Resolved,
    schemas: &SchemaRegistry,
) -> anyhow::Result<LivePatch> {
    let id = &target.id;
    if !is_builtin_kind(&id.api_version, &id.kind)
        && id.api_version != "apiextensions.k8s.io/v1beta1"
    {
        return Ok(LivePatch::Merge(json_merge_patch(original, &target.value)));
    }
    let schema = schemas.lookup(&id.api_version, &id.kind);
    three_way_merge_patch(original, &target.value, live, schema)
        .map(LivePatch::Strategic)
        .map_err(|e| {
            let why = if id.is_secret() {
                value_free(&e)
            } else {
                e.to_string()
            };
            anyhow!("creating the three-way patch of {id}: {why}")
        })
}

/// Both sides, in helm-diff's order: dropped objects then live states; renders or dry-run results.
fn assemble(
    deleted: Vec<Value>,
    target: Vec<Resolved>,
    live: Vec<Option<Value>>,
    patched: Vec<Option<Value>>,
) -> ThreeWay {
    let mut old = deleted;
    let mut new = Vec::with_capacity(target.len());
    for ((object, live), patched) in target.into_iter().zip(live).zip(patched) {
        match (live, patched) {
            (Some(mut live), Some(mut patched)) => {
                tidy(&mut live);
                tidy(&mut patched);
                old.push(live);
                new.push(patched);
            }
            _ => new.push(object.value),
        }
    }
    ThreeWay { old, new }
}

fn to_json(object: &DynamicObject, secret: bool) -> anyhow::Result<Value> {
    serde_json::to_value(object).map_err(|e| {
        if secret {
            anyhow!("the object could not be encoded")
        } else {
            anyhow!("the object could not be encoded: {e}")
        }
    })
}

/// An API error as the module renders them, with nothing quoted from a Secret: its response is
/// not quoted when it cannot be decoded, nor the server's message when `patching` (it rejects an
/// invalid patch by quoting the patch, values included).
fn request_error(err: kube::Error, secret: bool, patching: bool) -> anyhow::Error {
    match err {
        kube::Error::Api(status) if secret && patching => anyhow!(
            "the API server answered {} {} (its message is withheld: it may quote the Secret)",
            status.code,
            status.reason
        ),
        kube::Error::SerdeError(_) if secret => {
            anyhow!("the response could not be decoded (details withheld for a Secret)")
        }
        other => api_error(other),
    }
}

/// Runs `jobs` (each with what it does, for errors) at most `limit` at a time, each within
/// `timeout`, returning their results in order. After a failure no further job starts, and the
/// failure of the earliest job among those that ran is returned.
async fn run_bounded<T, F>(
    jobs: Vec<(String, F)>,
    limit: usize,
    timeout: Duration,
    server: &str,
) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let mut whats = Vec::with_capacity(jobs.len());
    let mut done: Vec<Option<T>> = Vec::with_capacity(jobs.len());
    let mut pending = jobs.into_iter().enumerate();
    let mut tasks = JoinSet::new();
    let mut failure: Option<(usize, anyhow::Error)> = None;
    loop {
        while failure.is_none() && tasks.len() < limit.max(1) {
            let Some((i, (what, job))) = pending.next() else {
                break;
            };
            whats.push(what);
            done.push(None);
            tasks.spawn(async move { (i, tokio::time::timeout(timeout, job).await) });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (i, outcome) = joined.map_err(|e| anyhow!("a request task failed: {e}"))?;
        let error = match outcome {
            Ok(Ok(value)) => {
                done[i] = Some(value);
                continue;
            }
            Ok(Err(e)) => e.context(format!("{} ({server})", whats[i])),
            Err(_) => anyhow!("{} ({server}): no answer within {timeout:?}", whats[i]),
        };
        if failure.as_ref().is_none_or(|(first, _)| i < *first) {
            failure = Some((i, error));
        }
    }
    if let Some((_, error)) = failure {
        return Err(error);
    }
    done.into_iter()
        .collect::<Option<Vec<T>>>()
        .context("a request did not complete")
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn resource(api_version: &str, kind: &str) -> ApiResource {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        ApiResource {
            group: group.to_owned(),
            version: version.to_owned(),
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            plural: format!("{}s", kind.to_lowercase()),
        }
    }

    fn served() -> Served {
        [
            ("apps/v1", "Deployment", true),
            ("apps/v1beta2", "Deployment", true),
            ("v1", "ConfigMap", true),
            ("v1", "Secret", true),
            ("rbac.authorization.k8s.io/v1", "ClusterRole", false),
            ("example.com/v1", "Widget", true),
        ]
        .into_iter()
        .map(|(av, kind, namespaced)| {
            (
                (av.to_owned(), kind.to_owned()),
                (resource(av, kind), namespaced),
            )
        })
        .collect()
    }

    fn object(api_version: &str, kind: &str, name: &str, rest: Value) -> Value {
        let mut o = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}});
        if let (Some(o), Value::Object(rest)) = (o.as_object_mut(), rest) {
            o.extend(rest);
        }
        o
    }

    fn resolved(objects: &[Value]) -> Vec<Resolved> {
        resolve_all(objects, "rel-ns", &served()).expect("resolvable")
    }

    #[test]
    fn tidy_drops_what_the_server_and_helm_maintain() {
        let mut live = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ns", "uid": "u", "resourceVersion": "7",
                "generation": 2, "creationTimestamp": "2024-01-01T00:00:00Z",
                "managedFields": [{"manager": "helm"}], "labels": {"app": "web"},
                "annotations": {"meta.helm.sh/release-name": "r",
                    "meta.helm.sh/release-namespace": "ns",
                    "deployment.kubernetes.io/revision": "3", "team": "a"}},
            "spec": {"replicas": 3}, "status": {"replicas": 3}});
        tidy(&mut live);
        assert_eq!(
            live,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "ns", "labels": {"app": "web"},
                    "annotations": {"team": "a"}},
                "spec": {"replicas": 3}})
        );
        let mut stamped = json!({"metadata": {"name": "x",
            "annotations": {"meta.helm.sh/release-name": "r"}}});
        tidy(&mut stamped);
        assert_eq!(stamped, json!({"metadata": {"name": "x"}}));
        let mut empty = json!({"metadata": {"annotations": {}}});
        tidy(&mut empty);
        assert_eq!(empty, json!({"metadata": {}}));
        let mut odd = json!(["not", "an", "object"]);
        tidy(&mut odd);
        assert_eq!(odd, json!(["not", "an", "object"]));
    }

    #[test]
    fn owning_release_like_helm_diff() {
        let with = |annotations: Value| json!({"metadata": {"annotations": annotations}});
        let both = with(json!({"meta.helm.sh/release-name": "web",
                               "meta.helm.sh/release-namespace": "prod"}));
        assert_eq!(owning_release(&both), "prod/web");
        let name = with(json!({"meta.helm.sh/release-name": "web"}));
        assert_eq!(owning_release(&name), "web");
        let ns = with(json!({"meta.helm.sh/release-namespace": "prod"}));
        assert_eq!(owning_release(&ns), "prod/");
        assert_eq!(
            owning_release(&with(json!({"meta.helm.sh/release-name": 7}))),
            ""
        );
        assert_eq!(owning_release(&json!({"metadata": {}})), "");
    }

    #[test]
    fn namespaces_follow_discovery() {
        let objects = [
            object("v1", "ConfigMap", "a", json!({})),
            object(
                "v1",
                "ConfigMap",
                "b",
                json!({"metadata": {"name": "b", "namespace": "other"}}),
            ),
            object(
                "rbac.authorization.k8s.io/v1",
                "ClusterRole",
                "admin",
                json!({}),
            ),
        ];
        let r = resolved(&objects);
        assert_eq!(r[0].id.namespace.as_deref(), Some("rel-ns"));
        assert_eq!(r[0].value["metadata"]["namespace"], "rel-ns");
        assert_eq!(r[1].id.namespace.as_deref(), Some("other"));
        assert_eq!(r[2].id.namespace, None);
        assert_eq!(r[2].value, objects[2]);
        assert_eq!(r[0].id.to_string(), "ConfigMap rel-ns/a");
        assert_eq!(r[2].id.to_string(), "ClusterRole admin");
        assert_eq!(r[2].resource.plural, "clusterroles");
    }

    #[test]
    fn unserved_kinds_and_nameless_objects_are_errors() {
        let gadget = object("example.com/v9", "Gadget", "g", json!({}));
        let err = resolve(&gadget, "ns", &served()).expect_err("not served");
        assert_eq!(
            err.to_string(),
            "Gadget g: the API server does not serve kind Gadget in example.com/v9 \
             (is its CustomResourceDefinition installed?)"
        );
        let nameless = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}});
        let err = resolve(&nameless, "ns", &served()).expect_err("no name");
        assert!(err.to_string().contains("metadata.name"), "{err}");
    }

    #[test]
    fn pairing_follows_helm_diff() {
        let original = resolved(&[
            object(
                "apps/v1beta2",
                "Deployment",
                "web",
                json!({"spec": {"replicas": 1}}),
            ),
            object("v1", "ConfigMap", "gone", json!({})),
            object("v1", "ConfigMap", "kept", json!({"data": {"a": "1"}})),
        ]);
        let target = resolved(&[
            object(
                "apps/v1",
                "Deployment",
                "web",
                json!({"spec": {"replicas": 2}}),
            ),
            object("v1", "ConfigMap", "kept", json!({"data": {"a": "2"}})),
            object("v1", "ConfigMap", "adopted", json!({})),
        ]);
        let gone = deleted(&original, &target);
        let gone: Vec<&str> = gone
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap_or_default())
            .collect();
        // A changed apiVersion deletes the recorded object, yet still pairs with the new one.
        assert_eq!(gone, ["web", "gone"]);
        assert_eq!(original_for(&target[0], &original), &original[0].value);
        assert_eq!(original_for(&target[1], &original), &original[2].value);
        assert_eq!(original_for(&target[2], &original), &target[2].value);
    }

    #[test]
    fn builtin_kinds_get_strategic_patches_custom_ones_merge_patches() {
        let schemas = SchemaRegistry::builtin();
        let chart = |replicas: i64| {
            object(
                "apps/v1",
                "Deployment",
                "web",
                json!({"spec": {"replicas": replicas}}),
            )
        };
        let target = &resolved(&[chart(1)])[0];
        let live = object(
            "apps/v1",
            "Deployment",
            "web",
            json!({"metadata": {"name": "web", "namespace": "rel-ns", "uid": "u"},
                   "spec": {"replicas": 3}}),
        );
        let patch = patch_for(&target.value, &live, target, &schemas).expect("patch");
        assert_eq!(
            patch,
            LivePatch::Strategic(json!({"spec": {"replicas": 1}}))
        );

        let widget = |size: i64| {
            object(
                "example.com/v1",
                "Widget",
                "w",
                json!({"spec": {"size": size}}),
            )
        };
        let target = &resolved(&[widget(2)])[0];
        let recorded = &resolved(&[widget(1)])[0].value;
        let live = widget(5);
        let patch = patch_for(recorded, &live, target, &schemas).expect("patch");
        // As helm-diff: recorded → render only, so drift elsewhere in a custom resource stays.
        assert_eq!(patch, LivePatch::Merge(json!({"spec": {"size": 2}})));
    }

    #[test]
    fn secret_patch_errors_withhold_values() {
        let schemas = SchemaRegistry::builtin();
        let secret = |owners: Value| {
            object(
                "v1",
                "Secret",
                "s",
                json!({"metadata": {"name": "s",
                "ownerReferences": owners}, "data": {"password": "aHVudGVyMg=="}}),
            )
        };
        let target = &resolved(&[secret(json!([{"name": "hunter2"}]))])[0];
        let live = secret(json!([{"uid": "1", "name": "x"}]));
        let err = patch_for(&target.value, &live, target, &schemas).expect_err("no uid");
        let text = format!("{err:#}");
        assert!(
            text.starts_with("creating the three-way patch of Secret rel-ns/s: "),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn sides_are_assembled_in_helm_diff_order() {
        let target = resolved(&[
            object("v1", "ConfigMap", "new", json!({})),
            object("apps/v1", "Deployment", "web", json!({})),
        ]);
        let live = object(
            "apps/v1",
            "Deployment",
            "web",
            json!({"metadata": {"name": "web", "uid": "u"}, "spec": {"replicas": 3},
                   "status": {}}),
        );
        let patched = object(
            "apps/v1",
            "Deployment",
            "web",
            json!({"metadata": {"name": "web", "uid": "u"}, "spec": {"replicas": 1}}),
        );
        let gone = object("v1", "ConfigMap", "gone", json!({}));
        let sides = assemble(
            vec![gone.clone()],
            target.clone(),
            vec![None, Some(live)],
            vec![None, Some(patched)],
        );
        let web = |replicas: i64| {
            object(
                "apps/v1",
                "Deployment",
                "web",
                json!({"spec": {"replicas": replicas}}),
            )
        };
        assert_eq!(sides.old, [gone, web(3)]);
        assert_eq!(sides.new, [target[0].value.clone(), web(1)]);
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    }

    #[test]
    fn bounded_runs_keep_order_and_limit_concurrency() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..50u64)
            .map(|i| {
                let (running, peak) = (running.clone(), peak.clone());
                let job = async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis((50 - i) % 7)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    anyhow::Ok(i)
                };
                (format!("job {i}"), job)
            })
            .collect();
        let out = runtime()
            .block_on(run_bounded(jobs, 4, Duration::from_secs(5), "srv"))
            .expect("all succeed");
        assert_eq!(out, (0..50).collect::<Vec<u64>>());
        assert!(peak.load(Ordering::SeqCst) <= 4);
        assert!(peak.load(Ordering::SeqCst) > 1, "ran in parallel");
    }

    #[test]
    fn bounded_runs_report_the_earliest_failure_and_time_out() {
        let started = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..100u64)
            .map(|i| {
                let started = started.clone();
                let job = async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(if i == 3 { 1 } else { 20 })).await;
                    if i == 2 || i == 3 {
                        anyhow::bail!("boom {i}");
                    }
                    Ok(i)
                };
                (format!("job {i}"), job)
            })
            .collect();
        let err = runtime()
            .block_on(run_bounded(jobs, 4, Duration::from_secs(5), "srv"))
            .expect_err("fails");
        assert_eq!(format!("{err:#}"), "job 2 (srv): boom 2");
        assert!(
            started.load(Ordering::SeqCst) < 100,
            "stopped starting jobs"
        );

        let slow = vec![("reading ConfigMap ns/a".to_owned(), async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            anyhow::Ok(())
        })];
        let err = runtime()
            .block_on(run_bounded(slow, 4, Duration::from_millis(10), "srv"))
            .expect_err("times out");
        assert_eq!(
            err.to_string(),
            "reading ConfigMap ns/a (srv): no answer within 10ms"
        );
    }
}
