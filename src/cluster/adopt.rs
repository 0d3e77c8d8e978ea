//! Taking existing objects into a helm release by stamping the ownership
//! metadata helm's install/upgrade checks (`pkg/action/validate.go`), and by
//! handing the fields other writers own to helm's server-side-apply field
//! manager, so Helm 4 does not hit apply conflicts with them.

use std::collections::BTreeMap;
use std::fmt;

use indexmap::IndexMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Map, Value, json};

/// Label helm requires (with value [`MANAGED_BY_HELM`]) on objects it adopts.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The only value of [`MANAGED_BY_LABEL`] helm accepts.
pub const MANAGED_BY_HELM: &str = "Helm";
/// Annotation naming the owning release.
pub const RELEASE_NAME_ANNOTATION: &str = "meta.helm.sh/release-name";
/// Annotation naming the owning release's namespace.
pub const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";
/// The field manager Helm 4 server-side applies as (`kube.ManagedFieldsManager`);
/// Helm 3's client-side patches are recorded under the same name.
pub const HELM_FIELD_MANAGER: &str = "helm";
/// The field manager adoption's own metadata patch is recorded as. That entry
/// is handed to [`HELM_FIELD_MANAGER`] right after, like every other `Update`
/// entry, so it is not listed in [`FieldOwnership`].
pub const ADOPT_FIELD_MANAGER: &str = "helm-x";

/// What `helm x adopt` asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdoptRequest {
    /// Release that will own the objects.
    pub release: String,
    /// The release's namespace; also where namespaced targets are looked up.
    pub namespace: String,
    /// `KIND/NAME` as typed; KIND as kubectl accepts it (`cm`, `deployment.apps`, `Deployment.v1.apps`, …).
    pub targets: Vec<String>,
    /// Take objects even when another release's annotations claim them.
    pub force: bool,
    /// Report what would change without changing anything.
    pub dry_run: bool,
}

/// Whether a change is to a label or an annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataField {
    /// `metadata.labels`
    Label,
    /// `metadata.annotations`
    Annotation,
}

/// One label/annotation set by adoption, with its old value so the user can
/// see (and undo) exactly what was overwritten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataChange {
    /// Label or annotation.
    pub field: MetadataField,
    /// Its key.
    pub key: String,
    /// Value before adoption; `None` when it was absent.
    pub from: Option<String>,
    /// Value after adoption.
    pub to: String,
}

impl fmt::Display for MetadataChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = match self.field {
            MetadataField::Label => "label",
            MetadataField::Annotation => "annotation",
        };
        match &self.from {
            Some(from) => write!(f, "{field} {}: {from} -> {}", self.key, self.to),
            None => write!(f, "{field} {}: (unset) -> {}", self.key, self.to),
        }
    }
}

/// What adoption did (or would do) to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdoptStatus {
    /// It already carried this release's metadata; nothing was sent.
    AlreadyOwned,
    /// The metadata was patched.
    Adopted,
    /// Dry run: the metadata would be patched.
    WouldAdopt,
}

/// The release an object's annotations point at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseRef {
    /// `meta.helm.sh/release-name`, if set.
    pub name: Option<String>,
    /// `meta.helm.sh/release-namespace`, if set.
    pub namespace: Option<String>,
}

impl fmt::Display for ReleaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "release \"{}\" in namespace \"{}\"",
            self.name.as_deref().unwrap_or("(unset)"),
            self.namespace.as_deref().unwrap_or("(unset)")
        )
    }
}

/// Result for one target, in request order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdoptOutcome {
    /// The target as typed.
    pub target: String,
    /// Resolved `apiVersion`, e.g. `apps/v1`.
    pub api_version: String,
    /// Resolved Kind, e.g. `Deployment`.
    pub kind: String,
    /// Object name.
    pub name: String,
    /// Namespace for namespaced kinds; `None` for cluster-scoped ones.
    pub namespace: Option<String>,
    /// What happened.
    pub status: AdoptStatus,
    /// Set when `force` took the object from another release.
    pub previous_owner: Option<ReleaseRef>,
    /// Labels/annotations set (or that would be set); empty when already owned.
    pub changes: Vec<MetadataChange>,
    /// Field ownership handed (or that would be handed) to helm's field
    /// manager; `None` when no other writer's entry is moved.
    pub field_ownership: Option<FieldOwnership>,
}

impl AdoptOutcome {
    /// Names the object as helm's own messages do.
    pub fn object(&self) -> String {
        describe_object(&self.kind, &self.name, self.namespace.as_deref())
    }
}

impl fmt::Display for AdoptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.status {
            AdoptStatus::AlreadyOwned => "already owned by this release",
            AdoptStatus::Adopted => "adopted",
            AdoptStatus::WouldAdopt => "would be adopted (dry run)",
        };
        write!(f, "{}: {what}", self.object())?;
        if let Some(prev) = &self.previous_owner {
            write!(f, ", taken from {prev}")?;
        }
        for change in &self.changes {
            write!(f, "\n  {change}")?;
        }
        if let Some(ownership) = &self.field_ownership {
            write!(f, "\n  {ownership}")?;
        }
        Ok(())
    }
}

/// One `metadata.managedFields` entry, named the way the API server names its writer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldManagerEntry {
    /// `manager`, e.g. `kubectl-create`.
    pub manager: String,
    /// `operation`: `Update` or `Apply`.
    pub operation: String,
    /// `apiVersion` the entry's field set is recorded in.
    pub api_version: String,
}

/// The managedFields entries adoption hands to [`HELM_FIELD_MANAGER`], the way
/// client-go's `csaupgrade.UpgradeManagedFields` does: every `Update` entry of
/// the main resource (kubectl create/edit/client-side apply, helm 3, …) is
/// removed and its fields merged into helm's `Apply` entry, so a later helm 4
/// server-side apply owns them instead of conflicting with them. `Apply`
/// entries of other managers and subresource entries are left alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldOwnership {
    /// Entries whose fields helm's `Apply` entry takes over; they are removed.
    pub moved: Vec<FieldManagerEntry>,
    /// Entries removed without merging their fields, because they are recorded
    /// in another apiVersion than helm's entry (field sets of different
    /// versions cannot be merged); their fields are then owned by no one.
    pub released: Vec<FieldManagerEntry>,
    /// The apiVersion of helm's `Apply` entry.
    pub api_version: String,
}

impl fmt::Display for FieldOwnership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if !self.moved.is_empty() {
            let from: Vec<String> = self
                .moved
                .iter()
                .map(|e| format!("{} ({})", e.manager, e.operation))
                .collect();
            write!(
                f,
                "field ownership: {} -> {HELM_FIELD_MANAGER} (Apply)",
                from.join(", ")
            )?;
            first = false;
        }
        for e in &self.released {
            if !first {
                f.write_str("\n  ")?;
            }
            first = false;
            write!(
                f,
                "field ownership: {} ({}, {}) released: recorded for another apiVersion than {}",
                e.manager, e.operation, e.api_version, self.api_version
            )?;
        }
        Ok(())
    }
}

/// Adoption failures a caller may want to tell apart (downcast the
/// `anyhow::Error`).
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    /// The target is not `KIND/NAME`.
    #[error("invalid target \"{0}\": expected KIND/NAME, e.g. configmap/my-config")]
    InvalidTarget(String),
    /// Discovery knows no such resource type.
    #[error(
        "unknown resource type \"{kind}\" in target \"{target}\": the API server's discovery found no resource with that kind, plural, singular or short name (optionally .group or .version.group)"
    )]
    UnknownKind {
        /// The target as typed.
        target: String,
        /// Its KIND part.
        kind: String,
    },
    /// The resource type is served but cannot be read and patched.
    #[error("{kind} ({api_version}) does not support get and patch, so it cannot be adopted")]
    NotPatchable {
        /// Resolved Kind.
        kind: String,
        /// Resolved apiVersion.
        api_version: String,
    },
    /// The object does not exist.
    #[error("{object} not found")]
    NotFound {
        /// The object as helm names it.
        object: String,
    },
    /// Another release's annotations claim the object and `force` was not given.
    #[error(
        "{object} belongs to {owner}; refusing to hand it to release \"{release}\" in namespace \"{namespace}\" without force"
    )]
    OwnedByOtherRelease {
        /// The object as helm names it.
        object: String,
        /// Who owns it now.
        owner: ReleaseRef,
        /// Requested release.
        release: String,
        /// Requested release namespace.
        namespace: String,
    },
}

/// `Kind "name" in namespace "ns"`, helm's wording.
pub(crate) fn describe_object(kind: &str, name: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("{kind} \"{name}\" in namespace \"{ns}\""),
        None => format!("{kind} \"{name}\""),
    }
}

/// Splits `KIND/NAME`.
pub(crate) fn parse_target(target: &str) -> Result<(&str, &str), AdoptError> {
    match target.trim().split_once('/') {
        Some((kind, name)) if !kind.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((kind, name))
        }
        _ => Err(AdoptError::InvalidTarget(target.to_string())),
    }
}

/// What adopting one object involves.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Set when the annotations name a different release (or namespace).
    pub other_owner: Option<ReleaseRef>,
    pub changes: Vec<MetadataChange>,
}

/// Compares an object's metadata with what helm requires for `release`/`namespace`.
pub(crate) fn plan(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    release: &str,
    namespace: &str,
) -> Plan {
    let current = ReleaseRef {
        name: annotations.get(RELEASE_NAME_ANNOTATION).cloned(),
        namespace: annotations.get(RELEASE_NAMESPACE_ANNOTATION).cloned(),
    };
    let differs = |v: &Option<String>, want: &str| v.as_deref().is_some_and(|v| v != want);
    let other_owner = (differs(&current.name, release) || differs(&current.namespace, namespace))
        .then_some(current);

    let wanted = [
        (MetadataField::Label, MANAGED_BY_LABEL, MANAGED_BY_HELM),
        (MetadataField::Annotation, RELEASE_NAME_ANNOTATION, release),
        (
            MetadataField::Annotation,
            RELEASE_NAMESPACE_ANNOTATION,
            namespace,
        ),
    ];
    let changes = wanted
        .into_iter()
        .filter_map(|(field, key, to)| {
            let map = match field {
                MetadataField::Label => labels,
                MetadataField::Annotation => annotations,
            };
            let from = map.get(key);
            (from.map(String::as_str) != Some(to)).then(|| MetadataChange {
                field,
                key: key.to_string(),
                from: from.cloned(),
                to: to.to_string(),
            })
        })
        .collect();
    Plan {
        other_owner,
        changes,
    }
}

/// A JSON merge patch touching only the changed labels/annotations. The
/// resourceVersion makes the API server reject the patch if the object changed
/// since the ownership check.
pub(crate) fn merge_patch(changes: &[MetadataChange], resource_version: Option<&str>) -> Value {
    let mut labels = Map::new();
    let mut annotations = Map::new();
    for c in changes {
        let map = match c.field {
            MetadataField::Label => &mut labels,
            MetadataField::Annotation => &mut annotations,
        };
        map.insert(c.key.clone(), Value::String(c.to.clone()));
    }
    let mut metadata = Map::new();
    if let Some(rv) = resource_version {
        metadata.insert("resourceVersion".into(), json!(rv));
    }
    if !labels.is_empty() {
        metadata.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        metadata.insert("annotations".into(), Value::Object(annotations));
    }
    json!({ "metadata": metadata })
}

/// A `fieldsV1` set as a trie: whether the path itself is a member (`"."`, or
/// an empty object below the root), and its children by path element
/// (`f:name`, `k:{…}`, `v:…`, `i:N`), in the order they were read.
#[derive(Clone, Debug, Default, PartialEq)]
struct FieldSet {
    member: bool,
    children: IndexMap<String, FieldSet>,
}

impl FieldSet {
    /// Reads a `fieldsV1` value; `None` when it is not the trie of objects the
    /// API server writes.
    fn decode(value: &Value) -> Option<FieldSet> {
        Self::decode_node(value, true)
    }

    fn decode_node(value: &Value, root: bool) -> Option<FieldSet> {
        let map = value.as_object()?;
        // Below the root an empty object means "this field is a member".
        let mut set = FieldSet {
            member: !root && map.is_empty(),
            children: IndexMap::with_capacity(map.len()),
        };
        for (key, child) in map {
            if key == "." {
                child.as_object()?;
                set.member = true;
            } else {
                set.children
                    .insert(key.clone(), Self::decode_node(child, false)?);
            }
        }
        Some(set)
    }

    fn encode(&self) -> Value {
        self.encode_node(true)
    }

    fn encode_node(&self, root: bool) -> Value {
        let mut map = Map::new();
        if self.member && (root || !self.children.is_empty()) {
            map.insert(".".into(), json!({}));
        }
        for (key, child) in &self.children {
            map.insert(key.clone(), child.encode_node(false));
        }
        Value::Object(map)
    }

    /// Adds every path of `other` (fieldpath.Set's `Union`).
    fn union(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (key, theirs) in &other.children {
            match self.children.get_mut(key) {
                Some(ours) => ours.union(theirs),
                None => {
                    self.children.insert(key.clone(), theirs.clone());
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }
}

fn entry_str<'a>(entry: &'a Value, key: &str) -> &'a str {
    entry.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn manager_entry(entry: &Value, default_version: &str) -> FieldManagerEntry {
    let version = entry_str(entry, "apiVersion");
    FieldManagerEntry {
        manager: entry_str(entry, "manager").to_string(),
        operation: entry_str(entry, "operation").to_string(),
        api_version: if version.is_empty() {
            default_version
        } else {
            version
        }
        .to_string(),
    }
}

/// The fields of an entry of the main resource (no subresource) in the
/// `FieldsV1` format; `None` for anything else, which is left alone.
fn main_resource_fields(entry: &Value) -> Option<FieldSet> {
    if !entry_str(entry, "subresource").is_empty() {
        return None;
    }
    match entry_str(entry, "fieldsType") {
        "" | "FieldsV1" => {}
        _ => return None,
    }
    match entry.get("fieldsV1") {
        None | Some(Value::Null) => Some(FieldSet::default()),
        Some(fields) => FieldSet::decode(fields),
    }
}

/// Whether an `Update` manager's fields go to helm: the tools a user adopts objects from
/// (`kubectl create/edit/set/apply`, helm 3 and helm-x itself), never a controller's (an HPA's
/// replicas, an operator's annotations), which helm would then drop when a chart leaves them out.
fn hands_over(manager: &str) -> bool {
    manager.starts_with("kubectl")
        || manager == HELM_FIELD_MANAGER
        || manager == ADOPT_FIELD_MANAGER
}

/// Hands the fields of every kubectl, helm or helm-x `Update` entry of the main resource to
/// [`HELM_FIELD_MANAGER`]'s `Apply` entry, as client-go's
/// `csaupgrade.UpgradeManagedFields` does for the managers it is given:
///
/// - helm's existing `Apply` entry is the target, kept where it is; without
///   one, a new entry takes the place (and time) of the first moved entry;
/// - the target's apiVersion is its own, or else `api_version` (the version
///   the object was read in); moved entries recorded in that version are
///   merged into it, those recorded in another one are removed unmerged
///   ([`FieldOwnership::released`]);
/// - `Apply` entries of other managers, subresource entries and entries that
///   cannot be read are kept unchanged.
///
/// `entries` is `metadata.managedFields` as JSON. Returns the new list and what
/// moved, or `None` when there is nothing to move.
pub(crate) fn hand_fields_to_helm(
    entries: &[Value],
    api_version: &str,
) -> Option<(Vec<Value>, FieldOwnership)> {
    let helm_index = entries.iter().position(|e| {
        entry_str(e, "manager") == HELM_FIELD_MANAGER
            && entry_str(e, "operation") == "Apply"
            && entry_str(e, "subresource").is_empty()
    });
    let mut target = match helm_index {
        Some(i) => main_resource_fields(&entries[i])?,
        None => FieldSet::default(),
    };
    let target_version = match helm_index.map(|i| entry_str(&entries[i], "apiVersion")) {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => api_version.to_string(),
    };

    let mut ownership = FieldOwnership {
        moved: Vec::new(),
        released: Vec::new(),
        api_version: target_version.clone(),
    };
    let mut moved_index = Vec::new();
    let mut first_time = None;
    for (i, entry) in entries.iter().enumerate() {
        if entry_str(entry, "operation") != "Update" || !hands_over(entry_str(entry, "manager")) {
            continue;
        }
        let Some(fields) = main_resource_fields(entry) else {
            continue;
        };
        moved_index.push(i);
        let named = manager_entry(entry, api_version);
        if named.api_version == target_version {
            target.union(&fields);
            if first_time.is_none() {
                first_time = entry.get("time").cloned();
            }
            ownership.moved.push(named);
        } else {
            ownership.released.push(named);
        }
    }
    if moved_index.is_empty() {
        return None;
    }

    let helm_entry = match helm_index {
        Some(i) => {
            let mut entry = entries[i].clone();
            entry["fieldsV1"] = target.encode();
            Some(entry)
        }
        None if target.is_empty() => None,
        None => {
            let mut entry = Map::new();
            entry.insert("apiVersion".into(), json!(target_version));
            entry.insert("fieldsType".into(), json!("FieldsV1"));
            entry.insert("fieldsV1".into(), target.encode());
            entry.insert("manager".into(), json!(HELM_FIELD_MANAGER));
            entry.insert("operation".into(), json!("Apply"));
            if let Some(time) = first_time {
                entry.insert("time".into(), time);
            }
            Some(Value::Object(entry))
        }
    };
    let helm_at = helm_index.unwrap_or(moved_index[0]);
    let mut helm_entry = helm_entry;
    let mut result = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        if i == helm_at
            && let Some(helm) = helm_entry.take()
        {
            result.push(helm);
        } else if !moved_index.contains(&i) {
            result.push(entry.clone());
        }
    }
    Some((result, ownership))
}

impl FieldOwnership {
    /// What the user needs to see: adoption's own metadata patch entry
    /// ([`ADOPT_FIELD_MANAGER`]) is an implementation detail. `None` when
    /// nothing else is moved.
    pub(crate) fn shown(mut self) -> Option<FieldOwnership> {
        let own = |e: &FieldManagerEntry| e.manager == ADOPT_FIELD_MANAGER;
        self.moved.retain(|e| !own(e));
        self.released.retain(|e| !own(e));
        (!self.moved.is_empty() || !self.released.is_empty()).then_some(self)
    }
}

/// `metadata.managedFields` of a fetched object as JSON, for [`hand_fields_to_helm`].
pub(crate) fn managed_fields_json(meta: &ObjectMeta) -> anyhow::Result<Vec<Value>> {
    let Some(entries) = &meta.managed_fields else {
        return Ok(Vec::new());
    };
    entries
        .iter()
        .map(|e| serde_json::to_value(e).map_err(anyhow::Error::from))
        .collect()
}

/// A JSON merge patch replacing `metadata.managedFields` (the API server takes
/// a client's managedFields as written when they differ from the live ones),
/// guarded by the resourceVersion they were computed from. Nothing else of the
/// object is touched.
pub(crate) fn managed_fields_patch(entries: &[Value], resource_version: Option<&str>) -> Value {
    let mut metadata = Map::new();
    if let Some(rv) = resource_version {
        metadata.insert("resourceVersion".into(), json!(rv));
    }
    metadata.insert("managedFields".into(), Value::Array(entries.to_vec()));
    json!({ "metadata": metadata })
}

/// Times a conflicting write between reading the object and replacing its
/// managedFields is retried (typically a controller's status update).
const OWNERSHIP_ATTEMPTS: usize = 5;

impl super::Cluster {
    /// Hands the field ownership of `object` (just patched with the ownership
    /// metadata, so its managedFields include [`ADOPT_FIELD_MANAGER`]'s entry) to
    /// helm's field manager; re-reads and retries when the object changed in
    /// between. Returns what moved, as [`FieldOwnership::shown`].
    pub(super) fn hand_object_to_helm(
        &self,
        api: &Api<DynamicObject>,
        object: DynamicObject,
        api_version: &str,
        what: &str,
    ) -> anyhow::Result<Option<FieldOwnership>> {
        let api = api.clone();
        let name = object.metadata.name.clone().unwrap_or_default();
        let params = PatchParams {
            field_manager: Some(ADOPT_FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        self.run_any(what, async move {
            let mut object = object;
            let mut attempt = 1;
            loop {
                let entries = managed_fields_json(&object.metadata)?;
                let Some((entries, ownership)) = hand_fields_to_helm(&entries, api_version) else {
                    return Ok(None);
                };
                let patch =
                    managed_fields_patch(&entries, object.metadata.resource_version.as_deref());
                match api.patch(&name, &params, &Patch::Merge(&patch)).await {
                    Ok(_) => return Ok(ownership.shown()),
                    Err(kube::Error::Api(status))
                        if status.is_conflict() && attempt < OWNERSHIP_ATTEMPTS =>
                    {
                        attempt += 1;
                        object = api.get(&name).await.map_err(super::api_error)?;
                    }
                    Err(err) => return Err(super::api_error(err)),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn targets_must_be_kind_slash_name() {
        assert_eq!(parse_target("cm/x").expect("valid"), ("cm", "x"));
        assert_eq!(
            parse_target("Deployment.v1.apps/web").expect("valid"),
            ("Deployment.v1.apps", "web")
        );
        for bad in ["x", "/x", "cm/", "cm/a/b", ""] {
            assert!(
                matches!(parse_target(bad), Err(AdoptError::InvalidTarget(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn unowned_object_gets_all_three() {
        let p = plan(&map(&[("app", "x")]), &map(&[]), "rel", "ns");
        assert_eq!(p.other_owner, None);
        let shown: Vec<String> = p.changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            vec![
                "label app.kubernetes.io/managed-by: (unset) -> Helm",
                "annotation meta.helm.sh/release-name: (unset) -> rel",
                "annotation meta.helm.sh/release-namespace: (unset) -> ns",
            ]
        );
    }

    #[test]
    fn owned_object_needs_nothing() {
        let p = plan(
            &map(&[(MANAGED_BY_LABEL, "Helm")]),
            &map(&[
                (RELEASE_NAME_ANNOTATION, "rel"),
                (RELEASE_NAMESPACE_ANNOTATION, "ns"),
            ]),
            "rel",
            "ns",
        );
        assert_eq!(
            p,
            Plan {
                other_owner: None,
                changes: vec![]
            }
        );
    }

    #[test]
    fn partial_metadata_of_this_release_is_completed() {
        let p = plan(
            &map(&[(MANAGED_BY_LABEL, "kubectl")]),
            &map(&[(RELEASE_NAME_ANNOTATION, "rel")]),
            "rel",
            "ns",
        );
        assert_eq!(p.other_owner, None);
        assert_eq!(p.changes.len(), 2);
        assert_eq!(p.changes[0].from.as_deref(), Some("kubectl"));
        assert_eq!(p.changes[1].key, RELEASE_NAMESPACE_ANNOTATION);
    }

    #[test]
    fn another_release_or_namespace_is_a_conflict() {
        let owned_by = |name: &str, ns: &str| {
            plan(
                &map(&[(MANAGED_BY_LABEL, "Helm")]),
                &map(&[
                    (RELEASE_NAME_ANNOTATION, name),
                    (RELEASE_NAMESPACE_ANNOTATION, ns),
                ]),
                "rel",
                "ns",
            )
        };
        let p = owned_by("other", "ns");
        assert_eq!(
            p.other_owner,
            Some(ReleaseRef {
                name: Some("other".into()),
                namespace: Some("ns".into())
            })
        );
        assert_eq!(p.changes.len(), 1);
        assert!(owned_by("rel", "elsewhere").other_owner.is_some());
        let only_ns = plan(
            &map(&[]),
            &map(&[(RELEASE_NAMESPACE_ANNOTATION, "x")]),
            "rel",
            "ns",
        );
        assert_eq!(
            only_ns.other_owner.map(|o| o.to_string()).as_deref(),
            Some("release \"(unset)\" in namespace \"x\"")
        );
    }

    #[test]
    fn merge_patch_touches_only_metadata_changes() {
        let p = plan(&map(&[(MANAGED_BY_LABEL, "Helm")]), &map(&[]), "rel", "ns");
        assert_eq!(
            merge_patch(&p.changes, Some("42")),
            json!({"metadata": {
                "resourceVersion": "42",
                "annotations": {
                    RELEASE_NAME_ANNOTATION: "rel",
                    RELEASE_NAMESPACE_ANNOTATION: "ns",
                }
            }})
        );
    }

    #[test]
    fn outcome_display_lists_changes() {
        let outcome = AdoptOutcome {
            target: "cm/x".into(),
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "x".into(),
            namespace: Some("default".into()),
            status: AdoptStatus::WouldAdopt,
            previous_owner: None,
            changes: plan(&map(&[]), &map(&[]), "rel", "default").changes,
            field_ownership: None,
        };
        assert_eq!(
            outcome.to_string(),
            "ConfigMap \"x\" in namespace \"default\": would be adopted (dry run)\n  \
             label app.kubernetes.io/managed-by: (unset) -> Helm\n  \
             annotation meta.helm.sh/release-name: (unset) -> rel\n  \
             annotation meta.helm.sh/release-namespace: (unset) -> default"
        );
    }

    fn entry(manager: &str, operation: &str, api_version: &str, fields: Value) -> Value {
        json!({
            "apiVersion": api_version,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
            "manager": manager,
            "operation": operation,
            "time": format!("2026-01-01T00:00:0{}Z", manager.len() % 10),
        })
    }

    fn named(manager: &str, operation: &str, api_version: &str) -> FieldManagerEntry {
        FieldManagerEntry {
            manager: manager.into(),
            operation: operation.into(),
            api_version: api_version.into(),
        }
    }

    #[test]
    fn kubectl_create_becomes_helm_apply() {
        let created = entry(
            "kubectl-create",
            "Update",
            "v1",
            json!({"f:data": {".": {}, "f:k": {}}}),
        );
        let (entries, moved) =
            hand_fields_to_helm(std::slice::from_ref(&created), "v1").expect("something to move");
        assert_eq!(
            entries,
            vec![json!({
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {".": {}, "f:k": {}}},
                "manager": "helm",
                "operation": "Apply",
                "time": created["time"],
            })]
        );
        assert_eq!(moved.moved, vec![named("kubectl-create", "Update", "v1")]);
        assert!(moved.released.is_empty());
        assert_eq!(
            moved.to_string(),
            "field ownership: kubectl-create (Update) -> helm (Apply)"
        );
    }

    #[test]
    fn update_managers_are_merged_into_one_helm_entry() {
        let entries = vec![
            entry(
                "kubectl-client-side-apply",
                "Update",
                "apps/v1",
                json!({
                    "f:metadata": {"f:annotations": {
                        ".": {},
                        "f:kubectl.kubernetes.io/last-applied-configuration": {}
                    }},
                    "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                        "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}
                    }}}}
                }),
            ),
            entry(
                "kubectl-edit",
                "Update",
                "apps/v1",
                json!({
                    "f:metadata": {"f:labels": {"f:tier": {}}},
                    // `f:spec` is a member here but not above: the union keeps both.
                    "f:spec": {},
                    "f:x": {"f:y": {}}
                }),
            ),
            entry(
                "kubectl-create",
                "Update",
                "apps/v1",
                json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"web\"}": {"f:ports": {}}
                }}}}, "f:x": {}}),
            ),
        ];
        let (out, moved) = hand_fields_to_helm(&entries, "apps/v1").expect("moved");
        assert_eq!(out.len(), 1);
        let helm = &out[0];
        assert_eq!(
            (
                entry_str(helm, "manager"),
                entry_str(helm, "operation"),
                entry_str(helm, "apiVersion")
            ),
            ("helm", "Apply", "apps/v1")
        );
        assert_eq!(
            helm["time"], entries[0]["time"],
            "the first moved entry's time"
        );
        assert_eq!(
            helm["fieldsV1"],
            json!({
                "f:metadata": {
                    "f:annotations": {
                        ".": {},
                        "f:kubectl.kubernetes.io/last-applied-configuration": {}
                    },
                    "f:labels": {"f:tier": {}}
                },
                "f:spec": {
                    ".": {},
                    "f:replicas": {},
                    "f:template": {"f:spec": {"f:containers": {
                        "k:{\"name\":\"web\"}": {
                            ".": {}, "f:image": {}, "f:name": {}, "f:ports": {}
                        }
                    }}}
                },
                "f:x": {".": {}, "f:y": {}}
            })
        );
        assert_eq!(
            moved.to_string(),
            "field ownership: kubectl-client-side-apply (Update), kubectl-edit (Update), \
             kubectl-create (Update) -> helm (Apply)"
        );
    }

    #[test]
    fn existing_helm_apply_entry_is_the_target_and_others_are_kept() {
        let other_apply = entry("kubectl", "Apply", "v1", json!({"f:data": {"f:a": {}}}));
        let helm_apply = entry(
            "helm",
            "Apply",
            "v1",
            json!({"f:metadata": {"f:labels": {"f:app.kubernetes.io/managed-by": {}}}}),
        );
        let mut status = entry(
            "kube-controller-manager",
            "Update",
            "v1",
            json!({"f:status": {"f:phase": {}}}),
        );
        status["subresource"] = json!("status");
        let edit = entry(
            "kubectl-edit",
            "Update",
            "v1",
            json!({"f:data": {"f:b": {}}}),
        );
        let helm3 = entry(
            "helm",
            "Update",
            "v1",
            json!({"f:metadata": {"f:labels": {".": {}}}}),
        );
        let entries = vec![
            edit.clone(),
            other_apply.clone(),
            helm_apply.clone(),
            status.clone(),
            helm3,
        ];
        let (out, moved) = hand_fields_to_helm(&entries, "v1").expect("moved");
        let mut merged = helm_apply.clone();
        merged["fieldsV1"] = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app.kubernetes.io/managed-by": {}}},
            "f:data": {"f:b": {}}
        });
        assert_eq!(out, vec![other_apply, merged, status]);
        assert_eq!(
            moved.moved,
            vec![
                named("kubectl-edit", "Update", "v1"),
                named("helm", "Update", "v1")
            ]
        );
    }

    #[test]
    fn entries_of_another_api_version_are_released_not_merged() {
        let entries = vec![
            entry(
                "kubectl-create",
                "Update",
                "extensions/v1beta1",
                json!({"f:spec": {"f:replicas": {}}}),
            ),
            entry(
                "kubectl-edit",
                "Update",
                "apps/v1",
                json!({"f:spec": {"f:paused": {}}}),
            ),
        ];
        let (out, moved) = hand_fields_to_helm(&entries, "apps/v1").expect("moved");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0]["fieldsV1"], json!({"f:spec": {"f:paused": {}}}));
        assert_eq!(out[0]["time"], entries[1]["time"]);
        assert_eq!(
            moved.released,
            vec![named("kubectl-create", "Update", "extensions/v1beta1")]
        );
        assert_eq!(
            moved.to_string(),
            "field ownership: kubectl-edit (Update) -> helm (Apply)\n  \
             field ownership: kubectl-create (Update, extensions/v1beta1) released: \
             recorded for another apiVersion than apps/v1"
        );

        // An existing helm entry decides the version.
        let entries = vec![
            entry("helm", "Apply", "apps/v1beta2", json!({"f:spec": {}})),
            entry(
                "kubectl-edit",
                "Update",
                "apps/v1",
                json!({"f:spec": {"f:paused": {}}}),
            ),
        ];
        let (out, moved) = hand_fields_to_helm(&entries, "apps/v1").expect("moved");
        assert_eq!(out, vec![entries[0].clone()]);
        assert_eq!(moved.api_version, "apps/v1beta2");
        assert_eq!(
            moved.released,
            vec![named("kubectl-edit", "Update", "apps/v1")]
        );
    }

    #[test]
    fn nothing_to_move() {
        assert_eq!(hand_fields_to_helm(&[], "v1"), None);
        let applied = vec![
            entry("helm", "Apply", "v1", json!({"f:data": {"f:k": {}}})),
            entry("kubectl", "Apply", "v1", json!({"f:data": {"f:j": {}}})),
        ];
        assert_eq!(hand_fields_to_helm(&applied, "v1"), None);
        // Entries it cannot read are left alone rather than guessed at.
        let mut odd = entry("kubectl-a", "Update", "v1", json!({}));
        odd["fieldsV1"] = json!("not a trie");
        let mut other_type = entry("kubectl-b", "Update", "v1", json!({}));
        other_type["fieldsType"] = json!("FieldsV2");
        assert_eq!(hand_fields_to_helm(&[odd, other_type], "v1"), None);
    }

    #[test]
    fn update_entries_with_no_fields_are_just_removed() {
        let mut bare = entry("kubectl-edit", "Update", "v1", json!({}));
        bare.as_object_mut().expect("object").remove("fieldsV1");
        let kept = entry("kubectl", "Apply", "v1", json!({"f:data": {}}));
        let (out, moved) = hand_fields_to_helm(&[bare, kept.clone()], "v1").expect("moved");
        assert_eq!(out, vec![kept], "no empty helm entry is created");
        assert_eq!(moved.moved, vec![named("kubectl-edit", "Update", "v1")]);
    }

    #[test]
    fn controllers_keep_their_fields() {
        let hpa = entry(
            "kube-controller-manager",
            "Update",
            "apps/v1",
            json!({"f:spec": {"f:replicas": {}}}),
        );
        assert_eq!(hand_fields_to_helm(&[hpa], "apps/v1"), None);
    }

    #[test]
    fn field_sets_round_trip_and_reject_non_tries() {
        let server = json!({
            "f:metadata": {"f:annotations": {".": {}, "f:a": {}}, "f:labels": {"f:b": {}}},
            "f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {
                ".": {}, "f:port": {}
            }}, "f:list": {"v:\"x\"": {}, "i:0": {}}}
        });
        let set = FieldSet::decode(&server).expect("valid");
        assert_eq!(set.encode(), server);
        assert_eq!(
            FieldSet::decode(&json!({})).expect("empty").encode(),
            json!({})
        );
        assert!(FieldSet::decode(&json!({})).expect("empty").is_empty());
        assert_eq!(FieldSet::decode(&json!({"f:a": 1})), None);
        assert_eq!(FieldSet::decode(&json!({"f:a": {".": []}})), None);
        assert_eq!(FieldSet::decode(&json!([])), None);

        let mut leaf = FieldSet::decode(&json!({"f:a": {}})).expect("valid");
        leaf.union(&FieldSet::decode(&json!({"f:a": {"f:b": {}}, "f:c": {}})).expect("valid"));
        assert_eq!(
            leaf.encode(),
            json!({"f:a": {".": {}, "f:b": {}}, "f:c": {}})
        );
    }

    #[test]
    fn own_metadata_entry_is_not_shown() {
        let entries = vec![
            entry(
                ADOPT_FIELD_MANAGER,
                "Update",
                "v1",
                json!({"f:metadata": {"f:labels": {"f:app.kubernetes.io/managed-by": {}}}}),
            ),
            entry(
                "kubectl-create",
                "Update",
                "v1",
                json!({"f:data": {"f:k": {}}}),
            ),
        ];
        let (out, moved) = hand_fields_to_helm(&entries, "v1").expect("moved");
        assert_eq!(
            out[0]["fieldsV1"],
            json!({
                "f:metadata": {"f:labels": {"f:app.kubernetes.io/managed-by": {}}},
                "f:data": {"f:k": {}}
            })
        );
        assert_eq!(moved.moved.len(), 2);
        let shown = moved.shown().expect("kubectl-create is shown");
        assert_eq!(shown.moved, vec![named("kubectl-create", "Update", "v1")]);
        let only_own = hand_fields_to_helm(&entries[..1], "v1").expect("moved").1;
        assert_eq!(only_own.shown(), None);
    }

    #[test]
    fn managed_fields_patch_replaces_only_the_list() {
        let entries = vec![entry("helm", "Apply", "v1", json!({"f:data": {}}))];
        assert_eq!(
            managed_fields_patch(&entries, Some("7")),
            json!({"metadata": {"resourceVersion": "7", "managedFields": entries}})
        );
    }

    #[test]
    fn outcome_display_lists_the_field_ownership_move() {
        let outcome = AdoptOutcome {
            target: "cm/x".into(),
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "x".into(),
            namespace: Some("default".into()),
            status: AdoptStatus::WouldAdopt,
            previous_owner: None,
            changes: plan(
                &map(&[(MANAGED_BY_LABEL, "Helm")]),
                &map(&[(RELEASE_NAME_ANNOTATION, "rel")]),
                "rel",
                "default",
            )
            .changes,
            field_ownership: Some(FieldOwnership {
                moved: vec![named("kubectl-create", "Update", "v1")],
                released: vec![],
                api_version: "v1".into(),
            }),
        };
        assert_eq!(
            outcome.to_string(),
            "ConfigMap \"x\" in namespace \"default\": would be adopted (dry run)\n  \
             annotation meta.helm.sh/release-namespace: (unset) -> default\n  \
             field ownership: kubectl-create (Update) -> helm (Apply)"
        );
    }
}
