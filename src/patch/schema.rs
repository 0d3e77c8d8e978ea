//! Patch metadata (which lists merge, by which keys; which maps are replaced) for built-in
//! kinds, from an embedded table generated from k8s.io/api struct tags, and for custom
//! resources, from their CRD's OpenAPI v3 schema.

use std::collections::HashMap;

use serde_json::Value;

/// The generated built-in table (see `data/PROVENANCE.md` and `scripts/gen-merge-keys.py`).
const BUILTIN_TABLE: &str = include_str!("../../data/k8s-merge-keys.txt");

/// CRD schemas nest; deeper than this is certainly not a real schema.
const MAX_SCHEMA_DEPTH: usize = 128;

/// Patch metadata of one position in an object (a field, or the elements of a list).
#[derive(Debug, Default)]
pub(crate) struct SchemaNode {
    fields: HashMap<Box<str>, SchemaNode>,
    /// Schema of every value of a free-form map (`additionalProperties`).
    any_field: Option<Box<SchemaNode>>,
    items: Option<Box<SchemaNode>>,
    /// Patch strategy contains `merge` (or, for CRDs, `x-kubernetes-list-type: map`).
    merge: bool,
    /// Patch strategy is `replace`: the whole map is replaced (apimachinery only).
    replace: bool,
    /// apimachinery's single merge key.
    merge_key: Option<Box<str>>,
    /// kustomize's key list: list-map-keys, else the merge key.
    list_keys: Vec<Box<str>>,
    /// False when kustomize's embedded v1.21.2 schema lacks this field's strategy.
    in_kyaml: bool,
}

impl SchemaNode {
    fn child_mut(&mut self, segment: &str) -> &mut SchemaNode {
        self.fields.entry(segment.into()).or_default()
    }
}

/// How a list field merges, as seen by one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListStrategy<'a> {
    /// The patch's list replaces the original.
    Replace,
    /// Merge: scalar lists as sets (no key), lists of maps by the given keys.
    Merge(&'a [Box<str>]),
}

/// Schema of one resource type, positioned at some field; cheap to copy.
///
/// Unknown kinds and fields yield an empty schema: maps merge, lists replace.
#[derive(Debug, Clone, Copy, Default)]
pub struct TypeSchema<'a> {
    node: Option<&'a SchemaNode>,
    /// False when kustomize's embedded schema does not know the kind at all.
    kind_in_kyaml: bool,
}

impl<'a> TypeSchema<'a> {
    /// A schema that knows nothing: maps merge, lists replace.
    pub fn unknown() -> Self {
        Self::default()
    }

    pub(crate) fn field(self, name: &str) -> Self {
        let node = self
            .node
            .and_then(|n| n.fields.get(name).or(n.any_field.as_deref()));
        Self { node, ..self }
    }

    pub(crate) fn items(self) -> Self {
        let node = self.node.and_then(|n| n.items.as_deref());
        Self { node, ..self }
    }

    /// apimachinery: the map at this position is replaced wholesale.
    pub(crate) fn replaces_map(self) -> bool {
        self.node.is_some_and(|n| n.replace)
    }

    /// apimachinery's view: `merge` strategy and the single merge key (None = primitive set).
    pub(crate) fn apimachinery_list(self) -> Option<Option<&'a str>> {
        let n = self.node.filter(|n| n.merge)?;
        Some(n.merge_key.as_deref())
    }

    /// kustomize's view, including the gaps of its v1.21.2 schema.
    pub(crate) fn kustomize_list(self) -> ListStrategy<'a> {
        match self.node {
            Some(n) if n.merge && n.in_kyaml && self.kind_in_kyaml => {
                ListStrategy::Merge(&n.list_keys)
            }
            _ => ListStrategy::Replace,
        }
    }

    /// Whether kustomize would have any schema here (it infers nothing otherwise).
    pub(crate) fn known_to_kustomize(self) -> bool {
        self.node.is_some() && self.kind_in_kyaml
    }
}

/// A CRD document that cannot be registered.
#[derive(Debug, thiserror::Error)]
#[error("invalid CustomResourceDefinition: {0}")]
pub struct CrdError(String);

/// Merge metadata for resource types: where lists merge and by which keys.
#[derive(Debug, Default)]
pub struct SchemaRegistry {
    /// apiVersion → kind → (root node, kind known to kustomize's schema). Nested so that
    /// lookups by `&str` need no allocation.
    kinds: HashMap<String, HashMap<String, (SchemaNode, bool)>>,
    /// group → kind → cluster-scoped.
    scopes: HashMap<String, HashMap<String, bool>>,
}

impl SchemaRegistry {
    /// Built-in kinds from the embedded table; parses ~1,200 short lines.
    pub fn builtin() -> Self {
        let mut registry = Self::default();
        let mut current: Option<((String, String), SchemaNode, bool)> = None;
        for line in BUILTIN_TABLE.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            match cols.as_slice() {
                ["K", api_version, kind, kyaml] => {
                    registry.flush(current.take());
                    let id = ((*api_version).to_owned(), (*kind).to_owned());
                    current = Some((id, SchemaNode::default(), *kyaml == "y"));
                }
                ["F", path, strategy, merge_key, list_keys, kyaml] => {
                    let Some((_, root, _)) = current.as_mut() else {
                        continue;
                    };
                    let node = node_at_path(root, path);
                    set_strategy(node, strategy);
                    node.merge_key = (*merge_key != "-").then(|| (*merge_key).into());
                    node.list_keys = if *list_keys != "-" {
                        list_keys.split(',').map(Into::into).collect()
                    } else {
                        node.merge_key.iter().cloned().collect()
                    };
                    node.in_kyaml = *kyaml == "y";
                }
                _ => {}
            }
        }
        registry.flush(current);
        registry
    }

    fn flush(&mut self, kind: Option<((String, String), SchemaNode, bool)>) {
        if let Some(((api_version, kind), root, in_kyaml)) = kind {
            self.insert(api_version, kind, root, in_kyaml);
        }
    }

    fn insert(&mut self, api_version: String, kind: String, root: SchemaNode, in_kyaml: bool) {
        self.kinds
            .entry(api_version)
            .or_default()
            .insert(kind, (root, in_kyaml));
    }

    /// Learns a CRD's list semantics from the openAPIV3Schema of every served version.
    ///
    /// `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key` are honoured as for
    /// built-in types; `x-kubernetes-list-type: map` also makes a list merge, by its
    /// `x-kubernetes-list-map-keys` (kustomize mode: all of them; apimachinery mode: the
    /// patch merge key if declared, else the first list-map key). Sets and atomic lists
    /// are replaced, as for built-in types without a strategy.
    pub fn add_crd(&mut self, crd: &Value) -> Result<(), CrdError> {
        let spec = crd
            .get("spec")
            .ok_or_else(|| CrdError("missing spec".into()))?;
        let group = str_at(spec, "group").ok_or_else(|| CrdError("missing spec.group".into()))?;
        let kind = spec
            .get("names")
            .and_then(|n| str_at(n, "kind"))
            .ok_or_else(|| CrdError("missing spec.names.kind".into()))?;
        let cluster = str_at(spec, "scope") == Some("Cluster");
        self.scopes
            .entry(group.to_owned())
            .or_default()
            .insert(kind.to_owned(), cluster);

        let legacy = spec
            .get("validation")
            .and_then(|v| v.get("openAPIV3Schema"));
        let mut versions: Vec<(&str, Option<&Value>)> = Vec::new();
        if let Some(list) = spec.get("versions").and_then(Value::as_array) {
            for v in list {
                if v.get("served").and_then(Value::as_bool) == Some(false) {
                    continue;
                }
                let name =
                    str_at(v, "name").ok_or_else(|| CrdError("version without name".into()))?;
                let schema = v.get("schema").and_then(|s| s.get("openAPIV3Schema"));
                versions.push((name, schema.or(legacy)));
            }
        }
        if let Some(version) = str_at(spec, "version").filter(|_| versions.is_empty()) {
            versions.push((version, legacy));
        }
        if versions.is_empty() {
            return Err(CrdError(format!("{group}/{kind} serves no version")));
        }
        for (version, schema) in versions {
            let mut root = SchemaNode::default();
            if let Some(schema) = schema {
                convert_openapi(schema, &mut root, 0)?;
            }
            self.insert(format!("{group}/{version}"), kind.to_owned(), root, true);
        }
        Ok(())
    }

    /// Scope of a kind registered through [`SchemaRegistry::add_crd`]; None when unknown.
    pub fn is_cluster_scoped(&self, group: &str, kind: &str) -> Option<bool> {
        self.scopes.get(group)?.get(kind).copied()
    }

    /// Schema of a resource type; unknown kinds get [`TypeSchema::unknown`], never an error.
    pub fn lookup(&self, api_version: &str, kind: &str) -> TypeSchema<'_> {
        match self
            .kinds
            .get(api_version)
            .and_then(|kinds| kinds.get(kind))
        {
            Some((node, kind_in_kyaml)) => TypeSchema {
                node: Some(node),
                kind_in_kyaml: *kind_in_kyaml,
            },
            None => TypeSchema::unknown(),
        }
    }
}

fn str_at<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// Walks `spec.template.spec.containers[].ports[]`-style paths, creating nodes.
fn node_at_path<'n>(root: &'n mut SchemaNode, path: &str) -> &'n mut SchemaNode {
    let mut node = root;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        let (name, is_list) = match segment.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (segment, false),
        };
        node = node.child_mut(name);
        if is_list && segments.peek().is_some() {
            node = node.items.get_or_insert_with(Default::default);
        }
    }
    node
}

fn set_strategy(node: &mut SchemaNode, strategy: &str) {
    node.merge = strategy.split(',').any(|s| s == "merge");
    node.replace = strategy == "replace";
}

fn convert_openapi(schema: &Value, node: &mut SchemaNode, depth: usize) -> Result<(), CrdError> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err(CrdError("openAPIV3Schema nests too deeply".into()));
    }
    let Some(obj) = schema.as_object() else {
        return Ok(());
    };
    node.in_kyaml = true;
    if let Some(strategy) = obj
        .get("x-kubernetes-patch-strategy")
        .and_then(Value::as_str)
    {
        set_strategy(node, strategy);
    }
    let list_map_keys: Vec<Box<str>> = obj
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(Value::as_str)
                .map(Into::into)
                .collect()
        })
        .unwrap_or_default();
    if obj.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map") {
        node.merge = true;
    }
    let merge_key = obj
        .get("x-kubernetes-patch-merge-key")
        .and_then(Value::as_str)
        .map(Into::into);
    node.merge_key = merge_key.clone().or_else(|| list_map_keys.first().cloned());
    node.list_keys = if list_map_keys.is_empty() {
        merge_key.into_iter().collect()
    } else {
        list_map_keys
    };
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            convert_openapi(sub, node.child_mut(name), depth + 1)?;
        }
    }
    if let Some(items) = obj.get("items") {
        convert_openapi(
            items,
            node.items.get_or_insert_with(Default::default),
            depth + 1,
        )?;
    }
    if let Some(extra) = obj.get("additionalProperties").filter(|v| v.is_object()) {
        convert_openapi(
            extra,
            node.any_field.get_or_insert_with(Default::default),
            depth + 1,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_deployment_keys() {
        let reg = SchemaRegistry::builtin();
        let s = reg.lookup("apps/v1", "Deployment");
        let containers = s
            .field("spec")
            .field("template")
            .field("spec")
            .field("containers");
        assert_eq!(containers.apimachinery_list(), Some(Some("name")));
        let ports = containers.items().field("ports");
        assert_eq!(ports.apimachinery_list(), Some(Some("containerPort")));
        match ports.kustomize_list() {
            ListStrategy::Merge(keys) => assert_eq!(keys.len(), 2),
            ListStrategy::Replace => panic!("ports must merge in kustomize mode"),
        }
        let mounts = containers.items().field("volumeMounts");
        assert_eq!(mounts.apimachinery_list(), Some(Some("mountPath")));
        let tolerations = s
            .field("spec")
            .field("template")
            .field("spec")
            .field("tolerations");
        assert_eq!(tolerations.apimachinery_list(), None);
        let finalizers = s.field("metadata").field("finalizers");
        assert_eq!(finalizers.apimachinery_list(), Some(None));
    }

    #[test]
    fn kyaml_gaps() {
        let reg = SchemaRegistry::builtin();
        let pod_spec = reg.lookup("v1", "Pod").field("spec");
        assert!(
            pod_spec
                .field("schedulingGates")
                .apimachinery_list()
                .is_some()
        );
        assert_eq!(
            pod_spec.field("schedulingGates").kustomize_list(),
            ListStrategy::Replace
        );
        let old = reg.lookup("apps/v1beta2", "Deployment");
        assert!(!old.known_to_kustomize());
        let cron = reg.lookup("batch/v1", "CronJob");
        assert!(cron.known_to_kustomize());
    }

    #[test]
    fn pdb_selector_replaces() {
        let reg = SchemaRegistry::builtin();
        let s = reg.lookup("policy/v1", "PodDisruptionBudget");
        assert!(s.field("spec").field("selector").replaces_map());
    }

    #[test]
    fn unknown_kind_is_empty() {
        let reg = SchemaRegistry::builtin();
        let s = reg.lookup("example.com/v1", "Widget");
        assert_eq!(s.field("spec").field("items").apimachinery_list(), None);
    }

    #[test]
    fn crd_list_map_keys() {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {
                "group": "example.com", "scope": "Cluster",
                "names": {"kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": {"type": "object", "properties": {
                        "ports": {"type": "array", "x-kubernetes-list-type": "map",
                                  "x-kubernetes-list-map-keys": ["port", "protocol"],
                                  "items": {"type": "object"}},
                        "labels": {"type": "object", "additionalProperties": {
                            "type": "array", "x-kubernetes-patch-strategy": "merge"}}
                    }}}
                }}}]
            }
        });
        let mut reg = SchemaRegistry::builtin();
        reg.add_crd(&crd).expect("valid CRD");
        assert_eq!(reg.is_cluster_scoped("example.com", "Widget"), Some(true));
        let spec = reg.lookup("example.com/v1", "Widget").field("spec");
        assert_eq!(spec.field("ports").apimachinery_list(), Some(Some("port")));
        assert!(
            matches!(spec.field("ports").kustomize_list(), ListStrategy::Merge(k) if k.len() == 2)
        );
        assert_eq!(
            spec.field("labels").field("any").apimachinery_list(),
            Some(None)
        );
    }

    #[test]
    fn crd_errors() {
        let mut reg = SchemaRegistry::default();
        assert!(reg.add_crd(&json!({"spec": {}})).is_err());
    }
}
