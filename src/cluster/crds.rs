//! CRDs first: a kustomization or manifest dir that holds CRDs and custom resources of them cannot
//! be installed by helm alone, because helm maps every kind before it creates anything ("ensure
//! CRDs are installed first"). helm-x applies those CRDs itself first — server-side, as helm's field
//! manager, with this release's ownership metadata so helm takes them over — waits until each is
//! Established, and then runs helm with the CRDs still in `templates/`, so helm owns and upgrades
//! them like any other object.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::Value;

use super::adopt::{
    MANAGED_BY_HELM, MANAGED_BY_LABEL, RELEASE_NAME_ANNOTATION, RELEASE_NAMESPACE_ANNOTATION,
};
use super::{Cluster, release};

/// How long helm-x waits for each applied CRD to be Established.
pub const ESTABLISHED_TIMEOUT: Duration = Duration::from_secs(60);

/// The field manager helm applies with, so helm's own later apply owns the same fields.
const FIELD_MANAGER: &str = "helm";

/// Which release the CRDs go into.
#[derive(Debug, Clone)]
pub struct CrdOwner<'a> {
    /// Release name.
    pub release: &'a str,
    /// Release namespace.
    pub namespace: &'a str,
    /// `--take-ownership`: take CRDs that another release (or nobody) owns, as helm would.
    pub take_ownership: bool,
}

impl Cluster {
    /// Applies `crds` (CustomResourceDefinition objects) for `owner` and waits until each is
    /// Established; returns how long the wait took. A CRD that exists and belongs to something
    /// else is refused with helm's own ownership rule, unless `--take-ownership`.
    pub fn apply_crds(&self, crds: &[Value], owner: &CrdOwner) -> anyhow::Result<Duration> {
        release::check_release_name(owner.release)?;
        let gvk = GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
        let ar = ApiResource::from_gvk_with_plural(&gvk, "customresourcedefinitions");
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &ar);
        let mut names = Vec::new();
        for crd in crds {
            let name = crd
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .context("a CustomResourceDefinition without metadata.name")?
                .to_string();
            let existing = {
                let api = api.clone();
                let name = name.clone();
                self.run(&format!("reading CRD {name}"), async move {
                    api.get_opt(&name).await
                })?
            };
            if let Some(existing) = existing.filter(|_| !owner.take_ownership) {
                check_owner(&existing, &name, owner)?;
            }
            let body = owned(crd, owner);
            let params = PatchParams::apply(FIELD_MANAGER).force();
            let api2 = api.clone();
            let name2 = name.clone();
            self.run(&format!("applying CRD {name}"), async move {
                api2.patch(&name2, &params, &Patch::Apply(&body)).await
            })?;
            names.push(name);
        }
        let start = Instant::now();
        for name in &names {
            self.wait_established(&api, name, start)?;
        }
        Ok(start.elapsed())
    }

    fn wait_established(
        &self,
        api: &Api<DynamicObject>,
        name: &str,
        start: Instant,
    ) -> anyhow::Result<()> {
        loop {
            let crd = {
                let api = api.clone();
                let name = name.to_string();
                self.run(&format!("reading CRD {name}"), async move {
                    api.get(&name).await
                })?
            };
            let conditions = crd
                .data
                .pointer("/status/conditions")
                .and_then(Value::as_array);
            let condition =
                |kind: &str| conditions.into_iter().flatten().find(|c| c["type"] == kind);
            if condition("Established").is_some_and(|c| c["status"] == "True") {
                return Ok(());
            }
            if let Some(c) = condition("NamesAccepted").filter(|c| c["status"] == "False") {
                bail!(
                    "CRD {name} was not accepted: {}",
                    c["message"].as_str().unwrap_or("no reason given")
                );
            }
            if start.elapsed() > ESTABLISHED_TIMEOUT {
                bail!(
                    "CRD {name} is not Established after {} s; its custom resources cannot be installed",
                    ESTABLISHED_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The CRD as applied: helm's ownership metadata for this release on top of the input's.
fn owned(crd: &Value, owner: &CrdOwner) -> Value {
    let mut body = crd.clone();
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        for (field, key, value) in [
            ("labels", MANAGED_BY_LABEL, MANAGED_BY_HELM),
            ("annotations", RELEASE_NAME_ANNOTATION, owner.release),
            ("annotations", RELEASE_NAMESPACE_ANNOTATION, owner.namespace),
        ] {
            let map = meta
                .entry(field)
                .or_insert_with(|| Value::Object(Default::default()));
            if !map.is_object() {
                *map = Value::Object(Default::default());
            }
            if let Some(map) = map.as_object_mut() {
                map.insert(key.to_string(), Value::String(value.to_string()));
            }
        }
    }
    body
}

/// helm's rule (`pkg/action/validate.go`): an existing object may join a release only when it
/// already carries that release's ownership metadata.
fn check_owner(existing: &DynamicObject, name: &str, owner: &CrdOwner) -> anyhow::Result<()> {
    let meta = &existing.metadata;
    let label = meta
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .map(String::as_str);
    let annotation = |key: &str| {
        meta.annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .map(String::as_str)
    };
    let ours = label == Some(MANAGED_BY_HELM)
        && annotation(RELEASE_NAME_ANNOTATION) == Some(owner.release)
        && annotation(RELEASE_NAMESPACE_ANNOTATION) == Some(owner.namespace);
    if !ours {
        bail!(
            "CustomResourceDefinition \"{name}\" exists and cannot be imported into release \"{}\": \
             it is not owned by it (managed-by {:?}, release {:?} in {:?}); adopt it with \
             `helm x adopt {} customresourcedefinition/{name}` or pass --take-ownership",
            owner.release,
            label.unwrap_or("none"),
            annotation(RELEASE_NAME_ANNOTATION).unwrap_or("none"),
            annotation(RELEASE_NAMESPACE_ANNOTATION).unwrap_or("none"),
            owner.release,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applied_crds_carry_the_releases_ownership() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                         "metadata": {"name": "a.b", "annotations": {"helm.sh/resource-policy": "keep"}}});
        let owner = CrdOwner {
            release: "web",
            namespace: "prod",
            take_ownership: false,
        };
        let body = owned(&crd, &owner);
        assert_eq!(body["metadata"]["labels"][MANAGED_BY_LABEL], "Helm");
        assert_eq!(
            body["metadata"]["annotations"][RELEASE_NAME_ANNOTATION],
            "web"
        );
        assert_eq!(
            body["metadata"]["annotations"][RELEASE_NAMESPACE_ANNOTATION],
            "prod"
        );
        assert_eq!(
            body["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep"
        );
    }

    #[test]
    fn only_this_releases_crds_are_taken() {
        let owner = CrdOwner {
            release: "web",
            namespace: "prod",
            take_ownership: false,
        };
        let object = |labels: Value, annotations: Value| -> DynamicObject {
            serde_json::from_value(json!({"apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "a.b", "labels": labels, "annotations": annotations}}))
            .unwrap()
        };
        let mine = object(
            json!({MANAGED_BY_LABEL: "Helm"}),
            json!({RELEASE_NAME_ANNOTATION: "web", RELEASE_NAMESPACE_ANNOTATION: "prod"}),
        );
        assert!(check_owner(&mine, "a.b", &owner).is_ok());
        let other = object(
            json!({MANAGED_BY_LABEL: "Helm"}),
            json!({RELEASE_NAME_ANNOTATION: "api", RELEASE_NAMESPACE_ANNOTATION: "prod"}),
        );
        let e = check_owner(&other, "a.b", &owner).unwrap_err().to_string();
        assert!(
            e.contains("release \"api\"") && e.contains("--take-ownership"),
            "{e}"
        );
        let unowned = object(json!({}), json!({}));
        assert!(check_owner(&unowned, "a.b", &owner).is_err());
    }
}
