//! Every patch flag on every input kind, end to end through the real helm 3 and 4.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use common::{HelmEnv, Tools, documents, envs, find, testdata, text};

fn p(rel: &str) -> String {
    testdata(rel).to_str().unwrap().to_string()
}

#[test]
fn chart_with_all_three_flags_in_order() {
    for env in envs() {
        let out = env.x_ok([
            "template",
            "r",
            &p("charts/app"),
            "--json-patch",
            &p("patches/e2e/chart-json.yaml"),
            "--patch",
            &p("patches/e2e/chart-kustomize.yaml"),
            "--strategic-merge-patch",
            &p("patches/app-smp.yaml"),
        ]);
        let docs = documents(&out);
        let deploy = find(&docs, "Deployment", "r-app");
        let containers = &deploy.value["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[1]["image"], "busybox:1.37", "{}", env.label);
        assert_eq!(deploy.value["spec"]["replicas"], 5);
        let hook = find(&docs, "Job", "r-app-migrate");
        assert_eq!(hook.value["spec"]["backoffLimit"], 2);
        assert_eq!(
            hook.value["metadata"]["annotations"]["helm.sh/hook"],
            "pre-install,pre-upgrade"
        );
        assert_eq!(hook.source.as_deref(), Some("app/templates/hook-job.yaml"));
    }
}

#[test]
fn kustomization_with_all_three_flags() {
    for env in envs() {
        let out = env.x_ok([
            "template",
            "r",
            &p("kustomize/overlays/prod"),
            "--strategic-merge-patch",
            &p("patches/e2e/kustomize-smp.yaml"),
            "--json-patch",
            &p("patches/e2e/kustomize-json.yaml"),
            "--patch",
            &p("patches/e2e/kustomize-kustomize.yaml"),
        ]);
        let docs = documents(&out);
        let svc = find(&docs, "Service", "prod-web");
        assert_eq!(
            svc.value["spec"]["ports"][0]["targetPort"], 8080,
            "{}",
            env.label
        );
        let deploy = find(&docs, "Deployment", "prod-web");
        let containers = deploy.value["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1);
        let crd = find(&docs, "CustomResourceDefinition", "gadgets.example.com");
        assert_eq!(crd.value["metadata"]["labels"]["patched"], "yes");
        assert_eq!(crd.value["metadata"]["labels"]["env"], "prod");
        assert_eq!(
            crd.value["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep"
        );
    }
}

#[test]
fn manifests_with_all_three_flags_keep_untouched_bytes() {
    let dir = testdata("manifests");
    for env in envs() {
        let out = env.x_ok([
            "template",
            "r",
            dir.to_str().unwrap(),
            "--strategic-merge-patch",
            &p("patches/e2e/manifests-smp.yaml"),
            "--json-patch",
            &p("patches/e2e/manifests-json.yaml"),
            "--patch",
            &p("patches/e2e/manifests-kustomize.yaml"),
        ]);
        let docs = documents(&out);
        let cm = find(&docs, "ConfigMap", "after-pem");
        assert_eq!(cm.value["metadata"]["labels"]["team"], "a", "{}", env.label);
        assert_eq!(cm.value["metadata"]["annotations"]["reviewed"], "true");
        assert_eq!(cm.value["data"]["flag"], "on");
        assert_eq!(cm.value["data"]["country"], "NO");
        assert!(
            cm.body.contains("flag: \"on\"") && cm.body.contains("country: \"NO\""),
            "{}",
            cm.body
        );
        let rule = find(&docs, "PrometheusRule", "node-rules");
        assert_eq!(
            rule.value["spec"]["groups"][0]["rules"][0]["expr"],
            "up{job=\"node\"} == 0"
        );
        let summary = &rule.value["spec"]["groups"][0]["rules"][0]["annotations"]["summary"];
        assert_eq!(summary, "{{ $labels.instance }} is down");
        let ns = find(&docs, "Namespace", "team-a");
        assert_eq!(ns.value["metadata"]["labels"]["tier"], "platform");
        // The Secret no patch touched is byte-for-byte the file's document.
        let secret = find(&docs, "Secret", "tls");
        let file = std::fs::read_to_string(dir.join("nested/tls-secret.yaml")).unwrap();
        // (Helm 4.3 prints a blank line after each document of a multi-document template.)
        let body = secret.body.trim_end_matches('\n');
        assert!(file.starts_with(body) && body.len() > 100, "{}", env.label);
    }
}

#[test]
fn bad_patches_name_file_document_and_path() {
    let t = Tools::get();
    let env = HelmEnv::new("helm4", &t.helm4, &t.kubectl);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "target: {kind: ConfigMap, name: after-pem}\npatch: [{op: add, path: /data/x, value: 1}]\n---\ntarget: {kind: ConfigMap, name: after-pem}\npatch: [{op: replace, path: /data/missing/deeper, value: 1}]\n",
    )
    .unwrap();
    let out = env.x([
        "template",
        "r",
        &p("manifests"),
        "--json-patch",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.yaml")
            && err.contains("document 2")
            && err.contains("/data/missing/deeper"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let missing = dir.path().join("missing.yaml");
    std::fs::write(
        &missing,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-pen\ndata: {a: b}\n",
    )
    .unwrap();
    let out = env.x([
        "template",
        "r",
        &p("manifests"),
        "--strategic-merge-patch",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("missing.yaml") && err.contains("after-pem"),
        "closest candidate named: {err}"
    );
    let out = env.x([
        "template",
        "r",
        &p("manifests"),
        "--strategic-merge-patch",
        missing.to_str().unwrap(),
        "--allow-missing-patch-targets",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
}

/// Container ports merge by `containerPort` alone in apimachinery (kubectl) and by
/// `[containerPort, protocol]` in kustomize: the same patch gives different, documented results.
#[test]
fn smp_mode_switches_merge_keys() {
    let dir = tempfile::tempdir().unwrap();
    let patch = dir.path().join("udp.yaml");
    std::fs::write(
        &patch,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: r-app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          ports:\n            - containerPort: 8080\n              protocol: UDP\n",
    )
    .unwrap();
    for env in envs() {
        let ports = |mode: &str| {
            let out = env.x_ok([
                "template",
                "r",
                &p("charts/app"),
                "--strategic-merge-patch",
                patch.to_str().unwrap(),
                "--smp-mode",
                mode,
            ]);
            let docs = documents(&out);
            find(&docs, "Deployment", "r-app").value["spec"]["template"]["spec"]["containers"][0]["ports"].clone()
        };
        assert_eq!(
            ports("apimachinery"),
            serde_json::json!([{"containerPort": 8080, "protocol": "UDP"}]),
            "{}",
            env.label
        );
        assert_eq!(
            ports("kustomize"),
            serde_json::json!([{"containerPort": 8080, "protocol": "UDP"}, {"containerPort": 8080, "protocol": "TCP"}]),
            "{}",
            env.label
        );
    }
}
