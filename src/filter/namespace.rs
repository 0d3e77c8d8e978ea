//! `--force-namespace NS`: every namespaced object lands in NS, cluster-scoped ones never get a
//! namespace (helmfile's forceNamespace, which also stamped CRDs and ClusterRoles).
//!
//! Scope comes from the built-in list of cluster-scoped kinds, the CRDs of the input (their
//! `spec.scope`) and, when a cluster is reachable, its discovery of every other kind.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::patch::SchemaRegistry;
use crate::patch::target::Scope;
use crate::stream::Stream;

/// Which objects `--force-namespace` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
pub enum NamespaceMode {
    /// Every namespaced object, whatever namespace it names.
    #[default]
    Override,
    /// Only namespaced objects that name no namespace.
    Fill,
}

/// `--force-namespace` and its mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForceNamespace {
    /// The namespace.
    pub namespace: String,
    /// Which objects it applies to.
    pub mode: NamespaceMode,
}

/// Sets (or fills in) `metadata.namespace` of every namespaced object. `crds` are CRDs known
/// besides the stream's own; `cluster_scoped` are `(group, kind)` pairs the cluster reports.
pub fn apply(
    stream: &mut Stream,
    force: &ForceNamespace,
    crds: &[Value],
    cluster_scoped: &[(String, String)],
) -> Result<()> {
    let mut registry = SchemaRegistry::builtin();
    let mut stream_crds = Vec::new();
    for doc in stream.crds() {
        stream_crds.push(doc.value()?);
    }
    for crd in crds.iter().chain(stream_crds) {
        // A CRD the registry cannot read leaves its kinds namespaced, as helm assumes.
        let _ = registry.add_crd(crd);
    }
    let scope = Scope::new(&force.namespace, &registry);
    for doc in stream.documents.iter_mut().filter(|d| d.is_object()) {
        let group = doc
            .api_version()
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_string();
        let kind = doc.kind().to_string();
        let cluster = scope.is_cluster_scoped(&group, &kind)
            || cluster_scoped
                .iter()
                .any(|(g, k)| *g == group && *k == kind);
        let written = doc.namespace().to_string();
        let wanted = if cluster {
            None
        } else if force.mode == NamespaceMode::Fill && !written.is_empty() {
            continue;
        } else {
            Some(force.namespace.as_str())
        };
        if wanted.unwrap_or("") == written {
            continue;
        }
        doc.edit(|value| {
            if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
                match wanted {
                    Some(ns) => {
                        meta.insert("namespace".into(), Value::String(ns.to_string()));
                    }
                    None => {
                        meta.remove("namespace");
                    }
                }
            }
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Stream {
        Stream::parse(text, "t", |_| "templates/x.yaml".into()).unwrap()
    }

    const INPUT: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\
        apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: other}\n---\n\
        apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: wrong}\n---\n\
        apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gizmos.x.io}\n\
        spec: {group: x.io, scope: Cluster, names: {kind: Gizmo, plural: gizmos}, versions: [{name: v1, served: true, storage: true}]}\n---\n\
        apiVersion: x.io/v1\nkind: Gizmo\nmetadata: {name: g}\n---\n\
        apiVersion: y.io/v1\nkind: Widget\nmetadata: {name: w}\n---\n\
        apiVersion: z.io/v1\nkind: Global\nmetadata: {name: z, namespace: nope}\n";

    fn namespaces(mode: NamespaceMode) -> Vec<String> {
        let mut d = docs(INPUT);
        let force = ForceNamespace {
            namespace: "team".into(),
            mode,
        };
        let discovered = [("z.io".to_string(), "Global".to_string())];
        apply(&mut d, &force, &[], &discovered).unwrap();
        d.documents
            .iter()
            .map(|d| d.namespace().to_string())
            .collect()
    }

    #[test]
    fn namespaced_objects_move_and_cluster_scoped_ones_never_get_one() {
        assert_eq!(
            namespaces(NamespaceMode::Override),
            ["team", "team", "", "", "", "team", ""]
        );
    }

    #[test]
    fn fill_keeps_written_namespaces() {
        assert_eq!(
            namespaces(NamespaceMode::Fill),
            ["team", "other", "", "", "", "team", ""]
        );
    }
}
