//! CRDs first: a kustomization or a manifests dir holding CRDs and custom resources of them
//! installs in one `helm x upgrade --install`, upgrades its CRD (diff shows the change first), and
//! `helm uninstall` keeps the CRD. Real helm 3 and 4 against the local control plane.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::path::Path;

use common::{HelmEnv, cluster_envs, s, text};
use serde_json::Value;

/// A CRD of group `group` (unique per helm version: CRDs are cluster-wide), a custom resource of
/// it and a ConfigMap; `extra` adds a property to the CRD's schema.
fn write_input(dir: &Path, group: &str, kustomization: bool, extra: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let property = if extra {
        "\n                colour: {type: string}"
    } else {
        ""
    };
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names:\n    kind: Widget\n    plural: widgets\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n                size: {{type: integer}}{property}\n"
    );
    let cr = format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: alerts\nspec:\n  size: 3\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n"
    );
    std::fs::write(dir.join("crd.yaml"), crd).unwrap();
    std::fs::write(dir.join("objects.yaml"), cr).unwrap();
    if kustomization {
        std::fs::write(
            dir.join("kustomization.yaml"),
            "resources:\n  - crd.yaml\n  - objects.yaml\n",
        )
        .unwrap();
    }
}

fn get(env: &HelmEnv, args: &[&str]) -> Option<Value> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    let out = env.kubectl(&all);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn crds_and_their_custom_resources_install_in_one_go() {
    for env in cluster_envs() {
        for kustomization in [true, false] {
            let kind = if kustomization { "kz" } else { "mf" };
            let group = format!("{kind}-{}.crds.example.com", env.label);
            let release = format!("crd-{kind}");
            let ns = format!("crds-{kind}-{}", env.label);
            let _ = env.helm(["uninstall", &release, "-n", &ns, "--wait"]);
            let _ = env.kubectl(&["delete", "crd", &format!("widgets.{group}")]);
            let tmp = tempfile::tempdir().unwrap();
            let input = tmp.path().join("input");
            write_input(&input, &group, kustomization, false);
            let install = |what: &str| {
                let out = env.x([
                    "upgrade",
                    "--install",
                    &release,
                    s(&input),
                    "-n",
                    &ns,
                    "--create-namespace",
                ]);
                assert!(
                    out.status.success(),
                    "{} {kind} {what}: {}{}",
                    env.label,
                    text(&out.stdout),
                    text(&out.stderr)
                );
            };
            install("install");
            assert!(get(&env, &["deployment", "web", "-n", &ns]).is_some());
            let cr = get(&env, &[&format!("widgets.{group}"), "alerts", "-n", &ns])
                .unwrap_or_else(|| panic!("{} {kind}: the custom resource exists", env.label));
            assert_eq!(cr["spec"]["size"], 3);
            let crd = get(&env, &["crd", &format!("widgets.{group}")]).unwrap();
            assert_eq!(
                crd["metadata"]["annotations"]["meta.helm.sh/release-name"],
                release.as_str()
            );
            assert_eq!(
                crd["metadata"]["annotations"]["helm.sh/resource-policy"],
                "keep"
            );

            // The CRD changes: diff shows it (and writes nothing), then the upgrade applies it.
            write_input(&input, &group, kustomization, true);
            let out = env.x([
                "diff",
                "upgrade",
                &release,
                s(&input),
                "-n",
                &ns,
                "--detailed-exitcode",
            ]);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{} {kind}: {}",
                env.label,
                text(&out.stderr)
            );
            let report = text(&out.stdout);
            assert!(
                report.contains("CustomResourceDefinition") && report.contains("colour"),
                "{report}"
            );
            let crd = get(&env, &["crd", &format!("widgets.{group}")]).unwrap();
            assert!(
                !crd.to_string().contains("colour"),
                "diff wrote to the cluster"
            );
            install("upgrade");
            let crd = get(&env, &["crd", &format!("widgets.{group}")]).unwrap();
            assert!(
                crd.to_string().contains("colour"),
                "{} {kind}: CRD upgraded",
                env.label
            );

            let out = env.helm(["uninstall", &release, "-n", &ns]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            assert!(
                get(&env, &["crd", &format!("widgets.{group}")]).is_some(),
                "uninstall keeps the CRD"
            );
            let _ = env.kubectl(&["delete", "crd", &format!("widgets.{group}")]);
        }
    }
}

#[test]
fn a_crd_of_another_release_is_not_taken() {
    for env in cluster_envs() {
        let group = format!("taken-{}.crds.example.com", env.label);
        let ns = format!("crds-taken-{}", env.label);
        let _ = env.kubectl(&["delete", "crd", &format!("widgets.{group}")]);
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("input");
        write_input(&input, &group, false, false);
        let crd_only = tmp.path().join("crd-only");
        std::fs::create_dir_all(&crd_only).unwrap();
        std::fs::copy(input.join("crd.yaml"), crd_only.join("crd.yaml")).unwrap();
        let _ = env.helm(["uninstall", "first", "-n", &ns, "--wait"]);
        env.x_ok([
            "upgrade",
            "--install",
            "first",
            s(&crd_only),
            "-n",
            &ns,
            "--create-namespace",
        ]);
        let out = env.x(["upgrade", "--install", "second", s(&input), "-n", &ns]);
        assert_eq!(out.status.code(), Some(1), "{}", env.label);
        let err = text(&out.stderr);
        assert!(
            err.contains("cannot be imported into release \"second\"")
                && err.contains("release \"first\""),
            "{}: {err}",
            env.label
        );
        let _ = env.helm(["uninstall", "first", "-n", &ns]);
        let _ = env.kubectl(&["delete", "crd", &format!("widgets.{group}")]);
    }
}

#[test]
fn dropping_a_stored_crd_version_is_refused_with_the_servers_reason() {
    for env in cluster_envs() {
        let group = format!("stored-{}.crds.example.com", env.label);
        let ns = format!("crds-stored-{}", env.label);
        let _ = env.helm(["uninstall", "stored", "-n", &ns, "--wait"]);
        let _ = env.kubectl(&["delete", "crd", &format!("widgets.{group}")]);
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("input");
        write_input(&input, &group, false, false);
        env.x_ok([
            "upgrade",
            "--install",
            "stored",
            s(&input),
            "-n",
            &ns,
            "--create-namespace",
        ]);
        // v1 is stored; a CRD that serves only v2 would orphan it, and the API server says so.
        let crd = std::fs::read_to_string(input.join("crd.yaml")).unwrap();
        std::fs::write(
            input.join("crd.yaml"),
            crd.replace("- name: v1", "- name: v2"),
        )
        .unwrap();
        std::fs::write(
            input.join("objects.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
        )
        .unwrap();
        let out = env.x(["upgrade", "--install", "stored", s(&input), "-n", &ns]);
        assert_eq!(out.status.code(), Some(1), "{}", env.label);
        let err = text(&out.stderr);
        assert!(
            err.contains("storedVersions") && err.contains(&format!("widgets.{group}")),
            "{}: {err}",
            env.label
        );
        let _ = env.helm(["uninstall", "stored", "-n", &ns]);
        let _ = env.kubectl(&["delete", "crd", &format!("widgets.{group}")]);
    }
}
