//! `NamespaceTransformer`, as kustomize's `api/filters/namespace`: `metadata.namespace` of every
//! object kustomize knows to be namespaced (its built-in list: a custom resource is namespaced
//! whatever its CRD says), the `fieldSpecs` besides, and RoleBinding/ClusterRoleBinding subjects.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::fieldspec::{Create, FieldSpec, group_version, scalar_text};
use super::names::{Renamed, update_references};
use crate::patch::SchemaRegistry;
use crate::patch::target::{ResId, Scope};
use crate::stream::Stream;

/// Which binding subjects get the namespace (`setRoleBindingSubjects`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub(super) enum Subjects {
    /// Subjects named `default` (kustomize's default).
    #[default]
    #[serde(rename = "defaultOnly")]
    DefaultOnly,
    /// Every ServiceAccount subject.
    #[serde(rename = "allServiceAccounts")]
    AllServiceAccounts,
    /// None.
    #[serde(rename = "none")]
    None,
}

/// The transformer's settings.
#[derive(Clone, Debug)]
pub(super) struct Namespace {
    pub namespace: String,
    pub field_specs: Vec<FieldSpec>,
    /// Only fill namespaces that are empty.
    pub unset_only: bool,
    pub subjects: Subjects,
}

impl Namespace {
    pub fn apply(&self, stream: &mut Stream) -> Result<(), String> {
        if self.namespace.is_empty() {
            return Ok(());
        }
        let registry = SchemaRegistry::builtin();
        let scope = Scope::new("default", &registry);
        let mut moved = Vec::new();
        for (pos, doc) in stream.documents.iter_mut().enumerate() {
            if !doc.is_object() {
                continue;
            }
            let mut value = doc.value().map_err(|e| format!("{e:#}"))?.clone();
            self.transform(&mut value, &scope)
                .map_err(|e| format!("{}: {e}", ResId::of(&value)))?;
            let before = doc.namespace().to_string();
            doc.set_value(value);
            if doc.namespace() != before {
                moved.push((
                    pos,
                    Renamed::new(doc, doc.name().to_string(), &before, &scope),
                ));
            }
        }
        // kustomize refuses a move onto an object that is there already.
        let mut seen = HashSet::new();
        let ids: Vec<ResId> = stream
            .documents
            .iter()
            .map(|d| scope.normalize(ResId::of_document(d)))
            .collect();
        for (pos, id) in ids.iter().enumerate() {
            if !moved.iter().any(|(p, _)| *p == pos) {
                seen.insert(id);
            }
        }
        for (pos, _) in &moved {
            if !seen.insert(&ids[*pos]) {
                return Err(format!(
                    "namespace transformation produces an ID conflict: {}",
                    ids[*pos]
                ));
            }
        }
        // Binding subjects follow the service accounts that moved.
        let moved: Vec<Renamed> = moved.into_iter().map(|(_, r)| r).collect();
        update_references(stream, &moved, &scope)
    }

    fn transform(&self, value: &mut Value, scope: &Scope<'_>) -> Result<(), String> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default();
        let api_version = text("apiVersion").to_string();
        let kind = text("kind").to_string();
        let (group, _) = group_version(&api_version);
        let mut set = |node: &mut Value| self.set(node);
        if !scope.is_cluster_scoped(group, &kind) {
            let meta = FieldSpec {
                path: "metadata/namespace".into(),
                create: true,
                ..FieldSpec::default()
            };
            meta.apply(value, Create::Scalar, &mut set)?;
        }
        let binding = kind == "RoleBinding" || kind == "ClusterRoleBinding";
        if binding {
            self.set_subjects(value)?;
        }
        for spec in &self.field_specs {
            let skipped = spec.path == "metadata/namespace"
                || (spec.path == "metadata/name" && api_version != "v1")
                || (binding
                    && (spec.kind == "RoleBinding" || spec.kind == "ClusterRoleBinding")
                    && spec.path == "subjects/namespace");
            if !skipped {
                spec.apply(value, Create::Scalar, &mut set)
                    .map_err(|e| format!("{e} (namespace field specs must target scalars)"))?;
            }
        }
        Ok(())
    }

    /// Sets a scalar to the namespace (`unsetOnly`: only an empty one).
    fn set(&self, node: &mut Value) -> Result<(), String> {
        if self.unset_only && !scalar_text(node)?.is_empty() {
            return Ok(());
        }
        scalar_text(node)?;
        *node = Value::String(self.namespace.clone());
        Ok(())
    }

    fn set_subjects(&self, value: &mut Value) -> Result<(), String> {
        let Some(subjects) = value.get_mut("subjects").filter(|s| !s.is_null()) else {
            return Ok(());
        };
        let Value::Array(subjects) = subjects else {
            return Err("subjects: expected a list".into());
        };
        for subject in subjects {
            let Value::Object(fields) = subject else {
                return Err("subjects: expected a mapping in the list".into());
            };
            let wanted = match self.subjects {
                Subjects::None => false,
                Subjects::DefaultOnly => is(fields, "name", "default"),
                Subjects::AllServiceAccounts => is(fields, "kind", "ServiceAccount"),
            };
            if wanted {
                let node = fields.entry("namespace").or_insert(Value::Null);
                self.set(node).map_err(|e| format!("subjects: {e}"))?;
            }
        }
        Ok(())
    }
}

fn is(fields: &Map<String, Value>, key: &str, want: &str) -> bool {
    fields.get(key).and_then(Value::as_str) == Some(want)
}
