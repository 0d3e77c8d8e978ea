//! `PrefixTransformer`, `SuffixTransformer` (and `PrefixSuffixTransformer`, which is both) and
//! the name references kustomize updates after a rename.
//!
//! References updated, as in kustomize's `nameReference` defaults (the referring kinds must match):
//! - ConfigMap: `volumes[].configMap.name`, `volumes[].projected.sources[].configMap.name`,
//!   `env[].valueFrom.configMapKeyRef.name` and `envFrom[].configMapRef.name` of `containers` and
//!   `initContainers`, in the pod spec of Pod, Deployment, ReplicaSet, DaemonSet, StatefulSet,
//!   Job, CronJob and PodTemplate;
//! - Secret: the same with `secret.secretName`, `projected…secret.name`, `secretKeyRef`,
//!   `secretRef`, plus `imagePullSecrets[].name`; Ingress `spec.tls[].secretName`; ServiceAccount
//!   `imagePullSecrets[].name`;
//! - ServiceAccount: `serviceAccountName` of the pod spec of Pod, Deployment, DaemonSet,
//!   StatefulSet, ReplicationController, Job and CronJob; RoleBinding and ClusterRoleBinding
//!   `subjects` (name, and namespace when the account has one);
//! - PersistentVolumeClaim: `volumes[].persistentVolumeClaim.claimName` in the same pod specs;
//! - Role and ClusterRole: RoleBinding `roleRef.name` (ClusterRole also ClusterRoleBinding's),
//!   when `roleRef.apiGroup` and `roleRef.kind` name the renamed object's;
//! - Service: StatefulSet `spec.serviceName`, Ingress `spec.rules[].http.paths[].backend` (`service.name`
//!   and `serviceName`), `spec.defaultBackend.service.name` and `spec.backend.serviceName`;
//! - Deployment, ReplicaSet, StatefulSet: HorizontalPodAutoscaler `spec.scaleTargetRef.name`.
//!
//! A reference matches a renamed object of the referred kind by its old name, in the referrer's
//! namespace (any, when either is cluster-scoped; a RoleBinding also reaches the ServiceAccounts
//! in its subjects' namespaces), as kustomize's `nameref` filter picks referrals. The same update
//! runs after `NamespaceTransformer` moves objects, which gives binding subjects the namespace
//! their account moved to.

use std::sync::LazyLock;

use serde_json::Value;

use super::fieldspec::{Create, FieldSpec, group_version, scalar_text};
use crate::patch::SchemaRegistry;
use crate::patch::target::{ResId, Scope};
use crate::stream::{Document, Stream};

/// Kinds kustomize never renames: `(group, kind)`, an empty group matching any.
const NEVER_RENAMED: [(&str, &str); 3] = [
    ("", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("", "Namespace"),
];

/// An object a transformer renamed or moved to another namespace.
pub(super) struct Renamed {
    /// Its identity now, with the effective namespace.
    id: ResId,
    /// `metadata.namespace` as written, which a binding subject is given.
    namespace: String,
    /// Its name before.
    old: String,
    /// Its effective namespace before.
    old_namespace: String,
}

impl Renamed {
    /// `doc` as it is now, named `old` in `old_namespace` (as written) before.
    pub fn new(doc: &Document, old: String, old_namespace: &str, scope: &Scope<'_>) -> Self {
        let id = scope.normalize(ResId::of_document(doc));
        let mut before = id.clone();
        before.namespace = old_namespace.to_string();
        Self {
            namespace: doc.namespace().to_string(),
            old,
            old_namespace: scope.normalize(before).namespace,
            id,
        }
    }
}

/// Adds `prefix` and `suffix` to the fields of `field_specs` (in kustomize, `metadata/name`) of
/// every object but CRDs, APIServices and Namespaces, then points references at the new names.
pub(super) fn apply(
    stream: &mut Stream,
    prefix: &str,
    suffix: &str,
    field_specs: &[FieldSpec],
) -> Result<(), String> {
    let registry = SchemaRegistry::builtin();
    let scope = Scope::new("default", &registry);
    let mut renamed = Vec::new();
    for doc in stream.documents.iter_mut().filter(|d| d.is_object()) {
        let (group, _) = group_version(doc.api_version());
        if NEVER_RENAMED
            .iter()
            .any(|(g, k)| (g.is_empty() || *g == group) && *k == doc.kind())
        {
            continue;
        }
        let old = doc.name().to_string();
        let old_namespace = doc.namespace().to_string();
        let mut value = doc.value().map_err(|e| format!("{e:#}"))?.clone();
        for spec in field_specs {
            spec.apply(&mut value, Create::Scalar, &mut |node| {
                *node = Value::String(format!("{prefix}{}{suffix}", scalar_text(node)?));
                Ok(())
            })
            .map_err(|e| format!("{}: {e}", ResId::of(&value)))?;
        }
        doc.set_value(value);
        if doc.name() != old {
            renamed.push(Renamed::new(doc, old, &old_namespace, &scope));
        }
    }
    update_references(stream, &renamed, &scope)
}

/// Points the references to `renamed` objects at their new names (and, in binding subjects,
/// namespaces), as kustomize's `nameReference` fix-up does.
pub(super) fn update_references(
    stream: &mut Stream,
    renamed: &[Renamed],
    scope: &Scope<'_>,
) -> Result<(), String> {
    if renamed.is_empty() {
        return Ok(());
    }
    for doc in stream.documents.iter_mut().filter(|d| d.is_object()) {
        let referrer = scope.normalize(ResId::of_document(doc));
        let mut value = doc.value().map_err(|e| format!("{e:#}"))?.clone();
        let bound = bound_namespaces(&referrer, &value);
        // kustomize's `SubsetThatCouldBeReferencedByResource`.
        let reachable = |r: &Renamed| {
            referrer.namespace.is_empty()
                || r.id.namespace.is_empty()
                || r.id.namespace == referrer.namespace
                || bound.contains(&r.namespace)
        };
        for reference in REFERENCES.iter() {
            let candidates: Vec<&Renamed> = renamed
                .iter()
                .filter(|r| reference.refers_to(&r.id) && reachable(r))
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let role_ref = reference.spec.path.ends_with("roleRef/name").then(|| {
                let text = |key: &str| {
                    value
                        .pointer(&format!("/roleRef/{key}"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                (text("apiGroup"), text("kind"))
            });
            let candidates: Vec<&Renamed> = candidates
                .into_iter()
                .filter(|r| {
                    role_ref
                        .as_ref()
                        .is_none_or(|(g, k)| r.id.group == *g && r.id.kind == *k)
                })
                .collect();
            reference
                .spec
                .apply(&mut value, Create::Never, &mut |node| {
                    update(node, &candidates)
                })
                .map_err(|e| format!("{referrer}: updating a name reference: {e}"))?;
        }
        doc.set_value(value);
    }
    Ok(())
}

/// The namespaces of a RoleBinding's ServiceAccount subjects, whose accounts it may name.
fn bound_namespaces(referrer: &ResId, value: &Value) -> Vec<String> {
    if referrer.kind != "RoleBinding" {
        return Vec::new();
    }
    let subjects = value.get("subjects").and_then(Value::as_array);
    subjects
        .into_iter()
        .flatten()
        .filter(|s| s.get("kind").and_then(Value::as_str) == Some("ServiceAccount"))
        .filter_map(|s| s.get("namespace").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// kustomize's `nameref` setter: a name, a `{name, namespace}` mapping, or a list of either.
fn update(node: &mut Value, candidates: &[&Renamed]) -> Result<(), String> {
    match node {
        Value::Null => Ok(()),
        Value::String(name) => {
            if let Some(r) = select(name, None, candidates)? {
                *name = r.id.name.clone();
            }
            Ok(())
        }
        Value::Object(map) => {
            let Some(name) = map.get("name").and_then(Value::as_str) else {
                return Err("no `name` field in the reference".into());
            };
            let namespace = map.get("namespace").and_then(Value::as_str);
            if let Some(r) = select(name, namespace, candidates)? {
                map.insert("name".into(), Value::String(r.id.name.clone()));
                if !r.namespace.is_empty() {
                    map.insert("namespace".into(), Value::String(r.namespace.clone()));
                }
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|item| match item {
            Value::Array(_) => Err("expected a name or a mapping in the list".to_string()),
            item => update(item, candidates),
        }),
        other => Err(format!(
            "expected a name, a mapping or a list, found {}",
            crate::patch::json6902::type_name(other)
        )),
    }
}

/// The renamed object a reference to `name` (in `namespace`, when the reference says) means.
fn select<'a>(
    name: &str,
    namespace: Option<&str>,
    candidates: &[&'a Renamed],
) -> Result<Option<&'a Renamed>, String> {
    let namespace = namespace.map(|ns| if ns.is_empty() { "default" } else { ns });
    let hits: Vec<&Renamed> = candidates
        .iter()
        .copied()
        .filter(|r| r.old == name)
        .filter(|r| namespace.is_none_or(|ns| r.old_namespace == ns || r.id.namespace == ns))
        .collect();
    match hits.as_slice() {
        [] => Ok(None),
        [first, rest @ ..] => {
            if rest
                .iter()
                .all(|r| r.id.name == first.id.name && r.id.namespace == first.id.namespace)
            {
                Ok(Some(first))
            } else {
                let ids: Vec<String> = hits.iter().map(|r| r.id.to_string()).collect();
                Err(format!(
                    "`{name}` could refer to several renamed objects: {}",
                    ids.join(", ")
                ))
            }
        }
    }
}

/// A field of some referrer kinds that names an object of the referred kind.
struct Reference {
    referred: (&'static str, &'static str, &'static str),
    spec: FieldSpec,
}

impl Reference {
    fn refers_to(&self, id: &ResId) -> bool {
        let (group, version, kind) = self.referred;
        (group.is_empty() || group == id.group)
            && (version.is_empty() || version == id.version)
            && kind == id.kind
    }
}

/// The pod spec of each workload kind: `(version, kind, path)`.
const POD_SPECS: [(&str, &str, &str); 8] = [
    ("v1", "Pod", "spec"),
    ("", "PodTemplate", "template/spec"),
    ("", "Deployment", "spec/template/spec"),
    ("", "ReplicaSet", "spec/template/spec"),
    ("", "DaemonSet", "spec/template/spec"),
    ("", "StatefulSet", "spec/template/spec"),
    ("", "Job", "spec/template/spec"),
    ("", "CronJob", "spec/jobTemplate/spec/template/spec"),
];

/// The workloads whose `serviceAccountName` and claims kustomize follows (no ReplicaSet or
/// PodTemplate, but ReplicationController).
const ACCOUNT_KINDS: [&str; 7] = [
    "Pod",
    "Deployment",
    "DaemonSet",
    "StatefulSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

static REFERENCES: LazyLock<Vec<Reference>> = LazyLock::new(|| {
    let mut out = Vec::new();
    let mut add = |referred, group: &str, version: &str, kind: &str, path: String| {
        out.push(Reference {
            referred,
            spec: FieldSpec {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                path,
                create: false,
            },
        });
    };
    const CONFIG_MAP: (&str, &str, &str) = ("", "v1", "ConfigMap");
    const SECRET: (&str, &str, &str) = ("", "v1", "Secret");
    for (version, kind, pod) in POD_SPECS {
        for field in [
            "volumes/configMap/name",
            "containers/env/valueFrom/configMapKeyRef/name",
            "initContainers/env/valueFrom/configMapKeyRef/name",
            "containers/envFrom/configMapRef/name",
            "initContainers/envFrom/configMapRef/name",
            "volumes/projected/sources/configMap/name",
        ] {
            add(CONFIG_MAP, "", version, kind, format!("{pod}/{field}"));
        }
        for field in [
            "volumes/secret/secretName",
            "containers/env/valueFrom/secretKeyRef/name",
            "initContainers/env/valueFrom/secretKeyRef/name",
            "containers/envFrom/secretRef/name",
            "initContainers/envFrom/secretRef/name",
            "imagePullSecrets/name",
            "volumes/projected/sources/secret/name",
        ] {
            add(SECRET, "", version, kind, format!("{pod}/{field}"));
        }
    }
    add(SECRET, "", "", "Ingress", "spec/tls/secretName".into());
    add(
        SECRET,
        "",
        "",
        "ServiceAccount",
        "imagePullSecrets/name".into(),
    );
    const ACCOUNT: (&str, &str, &str) = ("", "v1", "ServiceAccount");
    const CLAIM: (&str, &str, &str) = ("", "v1", "PersistentVolumeClaim");
    for kind in ACCOUNT_KINDS {
        let pod = match kind {
            "Pod" => "spec",
            "CronJob" => "spec/jobTemplate/spec/template/spec",
            _ => "spec/template/spec",
        };
        add(ACCOUNT, "", "", kind, format!("{pod}/serviceAccountName"));
        add(
            CLAIM,
            "",
            "",
            kind,
            format!("{pod}/volumes/persistentVolumeClaim/claimName"),
        );
    }
    const RBAC: &str = "rbac.authorization.k8s.io";
    for kind in ["RoleBinding", "ClusterRoleBinding"] {
        add(ACCOUNT, RBAC, "", kind, "subjects".into());
    }
    add(
        (RBAC, "", "Role"),
        RBAC,
        "",
        "RoleBinding",
        "roleRef/name".into(),
    );
    for kind in ["RoleBinding", "ClusterRoleBinding"] {
        add(
            (RBAC, "", "ClusterRole"),
            RBAC,
            "",
            kind,
            "roleRef/name".into(),
        );
    }
    const SERVICE: (&str, &str, &str) = ("", "v1", "Service");
    add(
        SERVICE,
        "apps",
        "",
        "StatefulSet",
        "spec/serviceName".into(),
    );
    for path in [
        "spec/rules/http/paths/backend/serviceName",
        "spec/backend/serviceName",
        "spec/rules/http/paths/backend/service/name",
        "spec/defaultBackend/service/name",
    ] {
        add(SERVICE, "", "", "Ingress", path.into());
    }
    for kind in ["Deployment", "ReplicaSet", "StatefulSet"] {
        add(
            ("", "", kind),
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name".into(),
        );
    }
    out
});

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_reference_table_covers_pod_specs_bindings_and_ingresses() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment"});
        let configmap_refs = REFERENCES
            .iter()
            .filter(|r| r.referred.2 == "ConfigMap" && r.spec.selects(&deployment))
            .count();
        assert_eq!(configmap_refs, 6);
        let binding =
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding"});
        let referred: Vec<&str> = REFERENCES
            .iter()
            .filter(|r| r.spec.selects(&binding))
            .map(|r| r.referred.2)
            .collect();
        assert_eq!(referred, ["ServiceAccount", "ClusterRole"]);
    }
}
