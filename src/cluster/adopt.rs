//! Taking existing objects into a helm release by stamping the ownership
//! metadata helm's install/upgrade checks (`pkg/action/validate.go`).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value, json};

/// Label helm requires (with value [`MANAGED_BY_HELM`]) on objects it adopts.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The only value of [`MANAGED_BY_LABEL`] helm accepts.
pub const MANAGED_BY_HELM: &str = "Helm";
/// Annotation naming the owning release.
pub const RELEASE_NAME_ANNOTATION: &str = "meta.helm.sh/release-name";
/// Annotation naming the owning release's namespace.
pub const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";

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
        };
        assert_eq!(
            outcome.to_string(),
            "ConfigMap \"x\" in namespace \"default\": would be adopted (dry run)\n  \
             label app.kubernetes.io/managed-by: (unset) -> Helm\n  \
             annotation meta.helm.sh/release-name: (unset) -> rel\n  \
             annotation meta.helm.sh/release-namespace: (unset) -> default"
        );
    }
}
