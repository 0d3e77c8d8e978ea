//! `helm template`'s output for a chart helm already rendered, or for the temporary chart of a
//! kustomization or manifests, without running helm (again).
//!
//! A chart rendered by `helm template` comes back in helm's own order (CRDs, manifests in install
//! order, hooks last), each document as helm prints it. Printing the patched documents in that order
//! and format is exactly what `helm template` of the temporary chart prints. Objects helm never saw
//! are put in that order first, as helm's `SortManifests` would ([`helm_order`]). The tests check
//! both against helm. Only the flags whose effect is a filter over that output are supported here.

use std::fmt::Write as _;

use anyhow::Result;

use super::{file_bodies, in_crds_dir};
use crate::helm::HelmArgs;
use crate::stream::Document;

/// Which parts of the render to print, as `helm template`'s flags of the same names.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    /// `--include-crds`: print the chart's (and subcharts') `crds/` files first.
    pub include_crds: bool,
    /// `--skip-tests`: leave out `helm test` hooks.
    pub skip_tests: bool,
    /// `--no-hooks`: leave out every hook.
    pub no_hooks: bool,
}

impl Filter {
    /// The filter the user's flags ask for.
    pub fn of(args: &HelmArgs) -> Self {
        Self {
            include_crds: args.include_crds(),
            skip_tests: args.skip_tests(),
            no_hooks: args.no_hooks(),
        }
    }
}

/// Render flags whose whole effect is already in a pre-rendered chart's objects or reproduced by
/// [`Filter`]; with any other render or release flag the temporary chart goes through helm instead.
pub const PRINTABLE_FLAGS: &[&str] = &[
    "include-crds",
    "skip-tests",
    "no-hooks",
    "kube-version",
    "api-versions",
    "is-upgrade",
    "enable-dns",
    "skip-schema-validation",
    "dependency-update",
];

/// The text `helm template` prints for `documents` of chart `chart_name`.
pub fn helm_template(chart_name: &str, documents: &[&Document], filter: Filter) -> Result<String> {
    let mut out = String::with_capacity(documents.iter().map(|d| d.original().len() + 64).sum());
    if filter.include_crds {
        let crds = documents.iter().copied().filter(|d| in_crds_dir(&d.file));
        for (file, body) in file_bodies(crds, str::to_string)? {
            let _ = write!(out, "---\n# Source: {chart_name}/{file}\n{body}\n");
        }
    }
    for doc in documents.iter().filter(|d| !in_crds_dir(&d.file)) {
        let events = doc.hook_events();
        if !events.is_empty()
            && (filter.no_hooks || (filter.skip_tests && events.iter().any(|e| is_test_event(e))))
        {
            continue;
        }
        let text = doc.text();
        let _ = write!(
            out,
            "---\n# Source: {chart_name}/{}\n{}\n",
            doc.file,
            text.trim()
        );
    }
    Ok(out)
}

fn is_test_event(event: &str) -> bool {
    matches!(event, "test" | "test-success")
}

/// helm's `InstallOrder`: the kinds helm installs first, in order; other kinds come after them,
/// sorted by name.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The hook events helm knows; a hook naming any other is left out of the release.
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// The documents of a chart's templates in the order `helm template` prints them, as helm's
/// `SortManifests` orders them: files by path, documents in file order, then manifests stably by
/// kind in install order and hooks after them, likewise. A hook with an event helm does not know
/// is dropped, as helm drops it. `crds/` files are left to [`helm_template`]'s `--include-crds`.
pub fn helm_order<'a>(chart_name: &str, documents: &'a [Document]) -> Vec<&'a Document> {
    let mut files: Vec<(String, Vec<&Document>)> = Vec::new();
    let mut by_file = std::collections::HashMap::new();
    for doc in documents {
        let at = *by_file.entry(doc.file.as_str()).or_insert_with(|| {
            files.push((format!("{chart_name}/{}", doc.file), Vec::new()));
            files.len() - 1
        });
        files[at].1.push(doc);
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut manifests = Vec::new();
    let mut hooks = Vec::new();
    let mut crds = Vec::new();
    for doc in files.into_iter().flat_map(|(_, docs)| docs) {
        if in_crds_dir(&doc.file) {
            crds.push(doc);
            continue;
        }
        match doc.annotation("helm.sh/hook") {
            None => manifests.push(doc),
            Some(events) => {
                let known = events
                    .split(',')
                    .all(|e| HOOK_EVENTS.contains(&e.trim().to_lowercase().as_str()));
                if known {
                    hooks.push(doc);
                }
            }
        }
    }
    manifests.sort_by_cached_key(install_rank);
    hooks.sort_by_cached_key(install_rank);
    crds.into_iter().chain(manifests).chain(hooks).collect()
}

/// Where helm installs a kind: by its place in [`INSTALL_ORDER`], other kinds after those by name.
fn install_rank<'d>(doc: &&'d Document) -> (usize, &'d str) {
    match INSTALL_ORDER.iter().position(|k| *k == doc.kind()) {
        Some(i) => (i, ""),
        None => (INSTALL_ORDER.len(), doc.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(files: &[(&str, &str)]) -> Vec<Document> {
        files
            .iter()
            .flat_map(|(file, text)| {
                Document::parse_stream(text, file, |_| file.to_string()).unwrap()
            })
            .collect()
    }

    #[test]
    fn files_by_path_then_kinds_in_install_order_then_hooks() {
        let input = docs(&[
            (
                "templates/z.yaml",
                "kind: Deployment\nmetadata: {name: d}\n---\nkind: Zeta\nmetadata: {name: z}\n---\nkind: Alpha\nmetadata: {name: a}\n",
            ),
            (
                "templates/a.yaml",
                "kind: Job\nmetadata: {name: j, annotations: {helm.sh/hook: Pre-Install}}\n---\nkind: Service\nmetadata: {name: s}\n---\nkind: Pod\nmetadata: {name: t, annotations: {helm.sh/hook: crd-install}}\n",
            ),
            (
                "crds/c.yaml",
                "kind: CustomResourceDefinition\nmetadata: {name: c}\n",
            ),
            (
                "templates/m.yaml",
                "kind: ConfigMap\nmetadata: {name: m, annotations: {x: y}}\n---\nkind: Pod\nmetadata: {name: p, annotations: {helm.sh/hook: test}}\n---\nkind: Service\nmetadata: {name: s2}\n",
            ),
        ]);
        let names: Vec<String> = helm_order("c", &input)
            .iter()
            .map(|d| format!("{} {}", d.kind(), d.name()))
            .collect();
        assert_eq!(
            names,
            [
                "CustomResourceDefinition c",
                "ConfigMap m",
                "Service s",
                "Service s2",
                "Deployment d",
                "Alpha a",
                "Zeta z",
                "Pod p",
                "Job j",
            ]
        );
    }

    #[test]
    fn subcharts_sort_by_their_full_path() {
        let input = docs(&[
            ("templates/b.yaml", "kind: A\nmetadata: {name: top}\n"),
            (
                "charts/sub/templates/a.yaml",
                "kind: A\nmetadata: {name: sub}\n",
            ),
        ]);
        let order: Vec<&str> = helm_order("c", &input).iter().map(|d| d.name()).collect();
        assert_eq!(order, ["sub", "top"]);
    }
}
