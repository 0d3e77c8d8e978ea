//! End to end against a real kube-apiserver + etcd on 127.0.0.1 (started by scripts/test), with the
//! real helm 3 and 4: install, upgrade, rollback and uninstall of patched inputs.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::path::Path;

use common::{HelmEnv, cluster_envs, s, testdata, text};
use serde_json::Value;

/// `kubectl get KIND NAME -n NS -o json`, or None when it does not exist.
fn get(env: &HelmEnv, ns: &str, kind: &str, name: &str) -> Option<Value> {
    let out = env.kubectl(&["get", kind, name, "-n", ns, "-o", "json"]);
    if !out.status.success() {
        let err = text(&out.stderr);
        assert!(
            err.contains("NotFound") || err.contains("not found"),
            "{err}"
        );
        return None;
    }
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Removes a release left by an earlier run against the same cluster (tests reuse namespaces, which
/// never finish deleting without a controller manager).
fn fresh(env: &HelmEnv, release: &str, ns: &str) {
    let _ = env.helm(["uninstall", release, "-n", ns, "--wait"]);
}

fn revision(env: &HelmEnv, release: &str, ns: &str) -> u64 {
    let out = env.helm(["list", "-n", ns, "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rel = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == release)
        .unwrap_or_else(|| panic!("{}: no release {release} in {list}", env.label));
    rel["revision"]
        .as_str()
        .map_or_else(|| rel["revision"].as_u64().unwrap(), |r| r.parse().unwrap())
}

#[test]
fn patched_kustomization_release_lifecycle() {
    let web = testdata("kustomize/web");
    let smp = testdata("patches/web-smp.yaml");
    let json = testdata("patches/web-json.yaml");
    for env in cluster_envs() {
        let ns = format!("kz-{}", env.label);
        fresh(&env, "web", &ns);
        env.x_ok([
            "upgrade",
            "--install",
            "web",
            s(&web),
            "-n",
            &ns,
            "--create-namespace",
            "--strategic-merge-patch",
            s(&smp),
            "--json-patch",
            s(&json),
        ]);
        let deploy = get(&env, &ns, "deployment", "web").expect("deployment installed");
        assert_eq!(deploy["spec"]["replicas"], 3, "{}", env.label);
        let containers = &deploy["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["image"], "nginx:1.27.3");
        assert_eq!(containers[1]["name"], "log");
        assert_eq!(
            deploy["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "Helm"
        );
        let cm = get(&env, &ns, "configmap", "web-settings").unwrap();
        assert_eq!(cm["data"]["patched"], "yes");
        assert_eq!(
            cm["data"]["enabled"], "on",
            "YAML 1.1 strings must stay strings"
        );
        assert_eq!(revision(&env, "web", &ns), 1);

        // Second run without the JSON patch: revision 2, the key is gone.
        env.x_ok([
            "upgrade",
            "--install",
            "web",
            s(&web),
            "-n",
            &ns,
            "--strategic-merge-patch",
            s(&smp),
        ]);
        assert_eq!(revision(&env, "web", &ns), 2);
        let cm = get(&env, &ns, "configmap", "web-settings").unwrap();
        assert!(cm["data"].get("patched").is_none(), "{}", env.label);

        let out = env.helm(["rollback", "web", "1", "-n", &ns]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(revision(&env, "web", &ns), 3);
        let cm = get(&env, &ns, "configmap", "web-settings").unwrap();
        assert_eq!(cm["data"]["patched"], "yes");

        let out = env.helm(["uninstall", "web", "-n", &ns]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(get(&env, &ns, "deployment", "web").is_none());
        assert!(get(&env, &ns, "configmap", "web-settings").is_none());
    }
}

#[test]
fn patched_chart_release_keeps_values_notes_and_crds() {
    let chart = testdata("charts/app");
    let smp = testdata("patches/app-smp.yaml");
    for env in cluster_envs() {
        let ns = format!("chart-{}", env.label);
        fresh(&env, "r", &ns);
        let out = env.x_ok([
            "install",
            "r",
            s(&chart),
            "-n",
            &ns,
            "--create-namespace",
            "--no-hooks",
            "--set",
            "replicas=4",
            "--strategic-merge-patch",
            s(&smp),
        ]);
        assert!(
            out.contains("Thank you for installing app as r."),
            "{}: {out}",
            env.label
        );
        let deploy = get(&env, &ns, "deployment", "r-app").unwrap();
        assert_eq!(deploy["spec"]["replicas"], 5);
        let cm = get(&env, &ns, "configmap", "r-app-config").unwrap();
        assert_eq!(cm["data"]["country"], "NO");
        assert_eq!(cm["data"]["flag"], "on");
        assert_eq!(cm["data"]["rule"], "{{ $labels.instance }}");
        assert!(get(&env, &ns, "configmap", "r-sub").is_some());
        assert!(get(&env, "", "crd", "widgets.example.com").is_some());
        assert!(get(&env, &ns, "widget", "r-app-widget").is_some());

        let values = env.helm(["get", "values", "r", "-n", &ns, "-o", "json"]);
        let values: Value = serde_json::from_slice(&values.stdout).unwrap();
        assert_eq!(values["replicas"], 4, "{}", env.label);
        let notes = env.helm(["get", "notes", "r", "-n", &ns]);
        assert!(
            text(&notes.stdout).contains("Replicas: 4; fullname r-app."),
            "{}",
            text(&notes.stdout)
        );

        // Revision 2 with another value, then back to revision 1.
        env.x_ok([
            "upgrade",
            "r",
            s(&chart),
            "-n",
            &ns,
            "--no-hooks",
            "--set",
            "replicas=4",
            "--set",
            "greeting=hi",
            "--strategic-merge-patch",
            s(&smp),
        ]);
        assert_eq!(revision(&env, "r", &ns), 2);
        let greeting = |env: &HelmEnv| {
            let deploy = get(env, &ns, "deployment", "r-app").unwrap();
            deploy["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"].clone()
        };
        assert_eq!(greeting(&env), "hi", "{}", env.label);
        let out = env.helm(["rollback", "r", "1", "-n", &ns]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(revision(&env, "r", &ns), 3);
        assert_eq!(greeting(&env), "hello", "{}", env.label);

        let out = env.helm(["uninstall", "r", "-n", &ns]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(get(&env, &ns, "deployment", "r-app").is_none());
        assert!(
            get(&env, "", "crd", "widgets.example.com").is_some(),
            "CRDs outlive the release"
        );
    }
}

#[test]
fn uninstall_keeps_crds_from_manifest_dirs() {
    for env in cluster_envs() {
        let dir = tempfile::tempdir().unwrap();
        let group = format!("{}.helm-x.test", env.label);
        std::fs::write(
            dir.path().join("crd.yaml"),
            format!(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gizmos.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names:\n    kind: Gizmo\n    plural: gizmos\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          x-kubernetes-preserve-unknown-fields: true\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: b\n",
        )
        .unwrap();
        let ns = format!("crd-{}", env.label);
        fresh(&env, "m", &ns);
        env.x_ok([
            "install",
            "m",
            s(dir.path()),
            "-n",
            &ns,
            "--create-namespace",
        ]);
        let crd = get(&env, "", "crd", &format!("gizmos.{group}")).unwrap();
        assert_eq!(
            crd["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep"
        );
        assert!(get(&env, &ns, "configmap", "plain").is_some());
        let out = env.helm(["uninstall", "m", "-n", &ns]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(get(&env, &ns, "configmap", "plain").is_none());
        assert!(
            get(&env, "", "crd", &format!("gizmos.{group}")).is_some(),
            "{}",
            env.label
        );
    }
}

#[test]
fn diff_before_and_after_a_patch_change() {
    let web = testdata("kustomize/web");
    let v1 = testdata("patches/web-smp.yaml");
    let v2 = testdata("patches/web-smp-v2.yaml");
    let ns = "diff-test";
    for env in cluster_envs() {
        fresh(&env, "web", ns);
        let diff = |patch: &Path, extra: &[&str]| {
            let mut args = vec![
                "diff",
                "upgrade",
                "web",
                s(&web),
                "-n",
                ns,
                "--strategic-merge-patch",
                s(patch),
            ];
            args.extend_from_slice(extra);
            env.x(args)
        };
        // Like helm-diff: a release that is not there is an error unless asked for, never "changes".
        let out = diff(&v1, &["--detailed-exitcode"]);
        assert_eq!(out.status.code(), Some(1), "{}", env.label);
        assert!(
            text(&out.stderr).contains("--allow-unreleased"),
            "{}",
            env.label
        );
        assert_eq!(text(&out.stdout), "", "{}", env.label);
        let out = diff(&v1, &["--detailed-exitcode", "--allow-unreleased"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            env.label,
            text(&out.stderr)
        );
        common::assert_golden("diff-unreleased.txt", &text(&out.stdout));

        env.x_ok([
            "upgrade",
            "--install",
            "web",
            s(&web),
            "-n",
            ns,
            "--create-namespace",
            "--strategic-merge-patch",
            s(&v1),
        ]);
        let out = diff(&v1, &["--detailed-exitcode"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            env.label,
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), "", "{}", env.label);

        let out = diff(&v2, &["--detailed-exitcode", "--context", "2"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            env.label,
            text(&out.stderr)
        );
        common::assert_golden("diff-patch-change.txt", &text(&out.stdout));
        let out = diff(&v2, &["--output", "simple"]);
        assert_eq!(out.status.code(), Some(0));
        common::assert_golden("diff-patch-change-simple.txt", &text(&out.stdout));

        let out = env.helm(["uninstall", "web", "-n", ns]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}

#[test]
fn adopt_takes_over_an_existing_configmap() {
    for env in cluster_envs() {
        let ns = format!("adopt-{}", env.label);
        fresh(&env, "a", &ns);
        let _ = env.kubectl(&["create", "namespace", &ns]);
        let _ = env.kubectl(&["delete", "configmap", "pre-existing", "-n", &ns]);
        let out = env.kubectl(&[
            "create",
            "configmap",
            "pre-existing",
            "--from-literal=a=old",
            "-n",
            &ns,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pre-existing\ndata:\n  a: new\n",
        )
        .unwrap();

        let out = env.x(["upgrade", "--install", "a", s(dir.path()), "-n", &ns]);
        assert_eq!(out.status.code(), Some(1), "{}", env.label);
        assert!(
            text(&out.stderr).contains("invalid ownership metadata"),
            "{}",
            text(&out.stderr)
        );

        let out = env.x([
            "adopt",
            "a",
            "configmap/pre-existing",
            "-n",
            &ns,
            "--dry-run",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("would be adopted"),
            "{}",
            text(&out.stdout)
        );
        let cm = get(&env, &ns, "configmap", "pre-existing").unwrap();
        assert!(
            cm["metadata"].get("labels").is_none(),
            "dry run changed nothing"
        );

        env.x_ok([
            "upgrade",
            "--install",
            "a",
            s(dir.path()),
            "-n",
            &ns,
            "--adopt",
            "configmap/pre-existing",
        ]);
        let cm = get(&env, &ns, "configmap", "pre-existing").unwrap();
        assert_eq!(cm["data"]["a"], "new", "{}", env.label);
        assert_eq!(
            cm["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "Helm"
        );
        assert_eq!(
            cm["metadata"]["annotations"]["meta.helm.sh/release-name"],
            "a"
        );

        let out = env.x(["adopt", "other", "cm/pre-existing", "-n", &ns]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains(&format!(
                "ConfigMap \"pre-existing\" in namespace \"{ns}\" belongs to release \"a\" in namespace \"{ns}\"; refusing to hand it to release \"other\""
            )),
            "{}",
            text(&out.stderr)
        );

        let out = env.helm(["uninstall", "a", "-n", &ns]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(get(&env, &ns, "configmap", "pre-existing").is_none());
    }
}

/// A patched chart is rendered with the cluster's capabilities and as an upgrade once the release
/// exists, like `helm upgrade` renders it.
#[test]
fn render_sees_the_cluster_capabilities_and_upgrades() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("caps");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n  upgrade: {{ .Release.IsUpgrade | quote }}\n  apps: {{ .Capabilities.APIVersions.Has \"apps/v1/Deployment\" | quote }}\n",
    )
    .unwrap();
    let patch = dir.path().join("p.yaml");
    std::fs::write(
        &patch,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\n  labels: {patched: \"true\"}\n",
    )
    .unwrap();
    for env in cluster_envs() {
        let ns = format!("caps-{}", env.label);
        fresh(&env, "caps", &ns);
        let install = [
            "upgrade",
            "--install",
            "caps",
            s(&chart),
            "-n",
            &ns,
            "--create-namespace",
            "--strategic-merge-patch",
            s(&patch),
        ];
        env.x_ok(install);
        let cm = get(&env, &ns, "configmap", "caps").unwrap();
        assert!(
            cm["data"]["kube"].as_str().unwrap().starts_with("v1.20."),
            "{}: {cm}",
            env.label
        );
        assert_eq!(cm["data"]["upgrade"], "false");
        assert_eq!(cm["data"]["apps"], "true");
        env.x_ok(install);
        let cm = get(&env, &ns, "configmap", "caps").unwrap();
        assert_eq!(cm["data"]["upgrade"], "true", "{}", env.label);
        let out = env.helm(["uninstall", "caps", "-n", &ns]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}
