//! What the API server serves: helm's `.Capabilities` and kubectl-style
//! resolution of a typed resource name (`cm`, `deployment.apps`, …).

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use kube::Client;
use kube::core::ApiResource;
use tokio::task::JoinSet;

/// `.Capabilities` as `helm template` would see them when talking to the
/// cluster, so offline rendering matches an online install.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// The server's `gitVersion`, e.g. `v1.20.2`, for `--kube-version`.
    pub kube_version: String,
    /// Every served `group/version` and `group/version/Kind` (sorted), for `--api-versions`.
    pub api_versions: Vec<String>,
    /// Group versions whose discovery failed (typically an aggregated API whose
    /// backend is down); helm skips them with a warning, and so do we.
    pub unavailable: Vec<String>,
}

impl Capabilities {
    /// The `helm template` flags that pin these capabilities.
    pub fn helm_template_args(&self) -> Vec<String> {
        let mut args = vec!["--kube-version".to_string(), self.kube_version.clone()];
        for v in &self.api_versions {
            args.push("--api-versions".to_string());
            args.push(v.clone());
        }
        args
    }
}

/// One served resource type (subresources excluded) at one group version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServedResource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
    pub verbs: Vec<String>,
}

impl ServedResource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// kubectl matches a typed name against plural, singular (which 1.20 leaves
    /// empty, hence the lower-cased Kind) and short names, ignoring case.
    fn answers_to(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(&self.plural)
            || (!self.singular.is_empty() && name.eq_ignore_ascii_case(&self.singular))
            || name.eq_ignore_ascii_case(&self.kind)
            || self
                .short_names
                .iter()
                .any(|s| name.eq_ignore_ascii_case(s))
    }
}

/// Everything discovery returned, in the server's priority order (core first,
/// each group's preferred version first).
#[derive(Debug, Default)]
pub(crate) struct Discovered {
    /// Every served `group/version`, including those whose resources failed.
    pub group_versions: Vec<String>,
    /// Resource lists per group version, subresources included (helm counts them).
    pub lists: Vec<APIResourceList>,
    pub unavailable: Vec<String>,
    pub resources: Vec<ServedResource>,
}

impl Discovered {
    /// helm's `GetVersionSet`: every group version, plus `gv/Kind` for every
    /// entry of every resource list (subresources included).
    pub fn api_versions(&self) -> Vec<String> {
        let mut set: BTreeSet<String> = self.group_versions.iter().cloned().collect();
        for list in &self.lists {
            for r in &list.resources {
                if !r.kind.is_empty() {
                    set.insert(format!("{}/{}", list.group_version, r.kind));
                }
            }
        }
        set.into_iter().collect()
    }

    /// Resolves a typed resource name the way kubectl does: first as
    /// `resource.version.group`, then as `resource.group`, then plain; among
    /// several matches the first in discovery priority wins (so `events` is the
    /// core one, like kubectl).
    pub fn resolve(&self, typed: &str) -> Option<&ServedResource> {
        parse_type(typed).iter().find_map(|q| {
            self.resources.iter().find(|r| {
                r.answers_to(&q.name)
                    && q.group
                        .as_ref()
                        .is_none_or(|g| g.eq_ignore_ascii_case(&r.group))
                    && q.version
                        .as_ref()
                        .is_none_or(|v| v.eq_ignore_ascii_case(&r.version))
            })
        })
    }
}

/// One interpretation of a typed resource name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TypeQuery {
    pub name: String,
    pub group: Option<String>,
    pub version: Option<String>,
}

/// The interpretations of a typed resource name, most specific first, like
/// `schema.ParseResourceArg`: `a.b.c` is tried as resource `a`, version `b`,
/// group `c`, then as resource `a` in group `b.c`.
pub(crate) fn parse_type(typed: &str) -> Vec<TypeQuery> {
    let typed = typed.trim();
    let Some((name, rest)) = typed.split_once('.') else {
        return vec![TypeQuery {
            name: typed.to_string(),
            group: None,
            version: None,
        }];
    };
    let mut out = Vec::new();
    if let Some((version, group)) = rest.split_once('.') {
        out.push(TypeQuery {
            name: name.to_string(),
            group: Some(group.to_string()),
            version: Some(version.to_string()),
        });
    }
    out.push(TypeQuery {
        name: name.to_string(),
        group: Some(rest.to_string()),
        version: None,
    });
    out
}

/// (group, version) pairs in priority order.
type GroupVersions = Vec<(String, String)>;

async fn served_group_versions(client: &Client) -> anyhow::Result<GroupVersions> {
    let core = client
        .list_core_api_versions()
        .await
        .map_err(super::api_error)
        .map_err(|e| e.context("listing the core API versions (/api)"))?;
    let mut out: GroupVersions = core
        .versions
        .into_iter()
        .map(|v| (String::new(), v))
        .collect();
    let groups = client
        .list_api_groups()
        .await
        .map_err(super::api_error)
        .map_err(|e| e.context("listing the API groups (/apis)"))?;
    for group in groups.groups {
        let preferred = group.preferred_version.map(|p| p.version);
        let mut versions: Vec<String> = group.versions.into_iter().map(|v| v.version).collect();
        if let Some(p) = preferred
            && let Some(idx) = versions.iter().position(|v| *v == p)
        {
            let p = versions.remove(idx);
            versions.insert(0, p);
        }
        out.extend(versions.into_iter().map(|v| (group.name.clone(), v)));
    }
    Ok(out)
}

/// Fetches every group version's resource list concurrently; a failing group
/// version is recorded as unavailable rather than failing the whole discovery,
/// as client-go's `ServerGroupsAndResources` does.
pub(crate) async fn discover(client: &Client) -> anyhow::Result<Discovered> {
    let gvs = served_group_versions(client).await?;
    let mut tasks = JoinSet::new();
    for (idx, (group, version)) in gvs.iter().enumerate() {
        let client = client.clone();
        let (group, version) = (group.clone(), version.clone());
        tasks.spawn(async move {
            let res = if group.is_empty() {
                client.list_core_api_resources(&version).await
            } else {
                client
                    .list_api_group_resources(&format!("{group}/{version}"))
                    .await
            };
            (idx, res)
        });
    }
    let mut fetched: Vec<Option<APIResourceList>> = vec![None; gvs.len()];
    let mut unavailable = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (idx, res) = joined.map_err(|e| anyhow::anyhow!("discovery task failed: {e}"))?;
        match res {
            Ok(list) => fetched[idx] = Some(list),
            Err(_) => unavailable.push(gv_string(&gvs[idx].0, &gvs[idx].1)),
        }
    }
    unavailable.sort();

    let mut discovered = Discovered {
        group_versions: gvs.iter().map(|(g, v)| gv_string(g, v)).collect(),
        unavailable,
        ..Discovered::default()
    };
    for ((group, version), list) in gvs.iter().zip(fetched) {
        let Some(list) = list else { continue };
        discovered
            .resources
            .extend(
                list.resources
                    .iter()
                    .filter(|r| !r.name.contains('/'))
                    .map(|r| ServedResource {
                        group: group.clone(),
                        version: version.clone(),
                        kind: r.kind.clone(),
                        plural: r.name.clone(),
                        singular: r.singular_name.clone(),
                        short_names: r.short_names.clone().unwrap_or_default(),
                        namespaced: r.namespaced,
                        verbs: r.verbs.clone(),
                    }),
            );
        discovered.lists.push(list);
    }
    Ok(discovered)
}

fn gv_string(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResource;

    fn q(name: &str, group: Option<&str>, version: Option<&str>) -> TypeQuery {
        TypeQuery {
            name: name.into(),
            group: group.map(String::from),
            version: version.map(String::from),
        }
    }

    #[test]
    fn parses_plain_group_and_version_forms() {
        assert_eq!(parse_type("cm"), vec![q("cm", None, None)]);
        assert_eq!(parse_type("ConfigMap"), vec![q("ConfigMap", None, None)]);
        assert_eq!(
            parse_type("deployment.apps"),
            vec![q("deployment", Some("apps"), None)]
        );
        assert_eq!(
            parse_type("Deployment.v1.apps"),
            vec![
                q("Deployment", Some("apps"), Some("v1")),
                q("Deployment", Some("v1.apps"), None),
            ]
        );
        assert_eq!(
            parse_type("ingresses.networking.k8s.io"),
            vec![
                q("ingresses", Some("k8s.io"), Some("networking")),
                q("ingresses", Some("networking.k8s.io"), None),
            ]
        );
    }

    fn served(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        short: &[&str],
    ) -> ServedResource {
        ServedResource {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: String::new(),
            short_names: short.iter().map(|s| s.to_string()).collect(),
            namespaced: true,
            verbs: vec!["get".into(), "patch".into()],
        }
    }

    fn fixture() -> Discovered {
        Discovered {
            resources: vec![
                served("", "v1", "ConfigMap", "configmaps", &["cm"]),
                served("", "v1", "Event", "events", &["ev"]),
                served("apps", "v1", "Deployment", "deployments", &["deploy"]),
                served("events.k8s.io", "v1", "Event", "events", &["ev"]),
                served("networking.k8s.io", "v1", "Ingress", "ingresses", &["ing"]),
                served(
                    "networking.k8s.io",
                    "v1beta1",
                    "Ingress",
                    "ingresses",
                    &["ing"],
                ),
                served("extensions", "v1beta1", "Ingress", "ingresses", &["ing"]),
            ],
            ..Discovered::default()
        }
    }

    fn resolved(d: &Discovered, typed: &str) -> Option<String> {
        d.resolve(typed)
            .map(|r| format!("{}/{}", r.api_version(), r.kind))
    }

    #[test]
    fn resolves_like_kubectl() {
        let d = fixture();
        for typed in [
            "cm",
            "CM",
            "configmap",
            "configmaps",
            "ConfigMap",
            "configmap.",
        ] {
            assert_eq!(
                resolved(&d, typed).as_deref(),
                Some("v1/ConfigMap"),
                "{typed}"
            );
        }
        assert_eq!(resolved(&d, ""), None);
        for typed in [
            "deploy",
            "deployment",
            "deployments",
            "Deployment",
            "deployment.apps",
            "deployments.apps",
            "Deployment.v1.apps",
        ] {
            assert_eq!(
                resolved(&d, typed).as_deref(),
                Some("apps/v1/Deployment"),
                "{typed}"
            );
        }
        assert_eq!(resolved(&d, "deployment.v2.apps"), None);
        assert_eq!(resolved(&d, "deployment.extensions"), None);
        // Core wins over events.k8s.io, and an explicit group selects the other.
        assert_eq!(resolved(&d, "events").as_deref(), Some("v1/Event"));
        assert_eq!(
            resolved(&d, "ev.events.k8s.io").as_deref(),
            Some("events.k8s.io/v1/Event")
        );
        // A multi-dot group is tried whole after the version.group reading fails.
        assert_eq!(
            resolved(&d, "ingress.networking.k8s.io").as_deref(),
            Some("networking.k8s.io/v1/Ingress")
        );
        assert_eq!(
            resolved(&d, "ing.v1beta1.networking.k8s.io").as_deref(),
            Some("networking.k8s.io/v1beta1/Ingress")
        );
        assert_eq!(resolved(&d, "nosuchthing"), None);
    }

    #[test]
    fn api_versions_follow_helm_get_version_set() {
        let resource = |name: &str, kind: &str| APIResource {
            name: name.into(),
            kind: kind.into(),
            ..APIResource::default()
        };
        let d = Discovered {
            group_versions: vec![
                "v1".into(),
                "apps/v1".into(),
                "metrics.k8s.io/v1beta1".into(),
            ],
            lists: vec![
                APIResourceList {
                    group_version: "v1".into(),
                    resources: vec![
                        resource("pods", "Pod"),
                        resource("pods/eviction", "Eviction"),
                    ],
                },
                APIResourceList {
                    group_version: "apps/v1".into(),
                    resources: vec![
                        resource("deployments", "Deployment"),
                        resource("deployments/scale", "Scale"),
                        resource("deployments/status", "Deployment"),
                    ],
                },
            ],
            ..Discovered::default()
        };
        assert_eq!(
            d.api_versions(),
            vec![
                "apps/v1",
                "apps/v1/Deployment",
                "apps/v1/Scale",
                "metrics.k8s.io/v1beta1",
                "v1",
                "v1/Eviction",
                "v1/Pod",
            ]
        );
    }

    #[test]
    fn helm_template_args_repeat_the_flag() {
        let caps = Capabilities {
            kube_version: "v1.20.2".into(),
            api_versions: vec!["v1".into(), "apps/v1/Deployment".into()],
            unavailable: vec![],
        };
        assert_eq!(
            caps.helm_template_args(),
            vec![
                "--kube-version",
                "v1.20.2",
                "--api-versions",
                "v1",
                "--api-versions",
                "apps/v1/Deployment"
            ]
        );
    }
}
