//! The Argo CD plugin end to end: `contrib/argocd/plugin.yaml`'s generate command, run the way
//! Argo CD's plugin server runs it (an argv, in a copy of the app's source dir, with the build
//! environment and the Application's parameters), on every helm.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Tools, documents, find, repo_root, testdata, text};

/// plugin.yaml's `spec.generate`, as one argv.
fn generate_argv() -> Vec<String> {
    let path = repo_root().join("contrib/argocd/plugin.yaml");
    let plugin = helm_x::stream::load(&std::fs::read_to_string(path).unwrap()).unwrap();
    let generate = &plugin["spec"]["generate"];
    let words = |key: &str| -> Vec<String> {
        generate[key]
            .as_array()
            .map(|a| a.iter().map(|w| w.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let mut argv = words("command");
    argv.extend(words("args"));
    argv
}

/// Runs the generate command in a copy of `testdata/argocd/APP` with only Argo CD's variables
/// (`env`) and helm's homes set; checks that it leaves nothing in its temp dir.
fn generate(helm: &Path, app: &str, env: &[(&str, &str)]) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("src");
    common::copy_dir(&testdata(&format!("argocd/{app}")), &source);
    let scratch = tmp.path().join("tmp");
    std::fs::create_dir(&scratch).unwrap();
    let argv = generate_argv();
    assert_eq!(
        argv[0], "helm-x",
        "the sidecar runs the helm-x binary itself"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_helm-x"))
        .args(&argv[1..])
        .current_dir(&source)
        .env_clear()
        .env("HELM_BIN", helm)
        .env("HOME", tmp.path())
        .env("HELM_CACHE_HOME", tmp.path().join("cache"))
        .env("HELM_CONFIG_HOME", tmp.path().join("config"))
        .env("HELM_DATA_HOME", tmp.path().join("data"))
        .env("TMPDIR", &scratch)
        .env("KUBECONFIG", "/dev/null")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    out
}

fn ok(label: &str, out: Output) -> String {
    common::succeeded(label, out, "helm-x argocd generate")
}

#[test]
fn chart_app_gets_argo_cds_release_namespace_capabilities_values_and_patch() {
    let params = r#"[
        {"name": "values-files", "array": ["values.yaml", "values-prod.yaml"]},
        {"name": "values", "string": "note: from-argo\n"},
        {"name": "set-string", "map": {"tag": "1.10"}},
        {"name": "strategic-merge-patches", "array": ["patches/smp.yaml"]}
    ]"#;
    // Argo CD before 3.0 sends MAJOR.MINOR, later ones the full version.
    for kube_version in ["1.31", "1.31.2"] {
        for (label, helm) in Tools::get().helms() {
            let out = ok(
                label,
                generate(
                    helm,
                    "chart-app",
                    &[
                        ("ARGOCD_APP_NAME", "web"),
                        ("ARGOCD_APP_NAMESPACE", "shop"),
                        ("KUBE_VERSION", kube_version),
                        ("KUBE_API_VERSIONS", "v1,apps/v1,x/v1"),
                        ("ARGOCD_APP_PARAMETERS", params),
                    ],
                ),
            );
            let docs = documents(&out);
            assert_eq!(docs.len(), 1, "{label}: {out}");
            let seen = &find(&docs, "ConfigMap", "web-seen").value;
            assert_eq!(seen["metadata"]["namespace"], "shop", "{label}");
            let data = &seen["data"];
            assert_eq!(data["greeting"], "hello", "{label}");
            assert_eq!(
                data["size"], "large",
                "{label}: values-prod.yaml after values.yaml"
            );
            assert_eq!(
                data["tag"], r#""1.10""#,
                "{label}: --set-string keeps a string"
            );
            assert_eq!(data["note"], "from-argo", "{label}");
            assert_eq!(data["hasXv1"], "true", "{label}");
            assert_eq!(data["hasYv1"], "false", "{label}");
            let seen_version = data["kubeVersion"].as_str().unwrap();
            assert!(
                seen_version.starts_with(&format!("v{kube_version}")),
                "{label}: {seen_version} for {kube_version}"
            );
            assert_eq!(data["patched"], "yes", "{label}");
        }
    }
}

#[test]
fn manifests_app_in_a_sub_dir_with_env_given_options() {
    for (label, helm) in Tools::get().helms() {
        let out = ok(
            label,
            generate(
                helm,
                "manifests-app",
                &[
                    ("ARGOCD_APP_NAME", "cfg"),
                    ("ARGOCD_APP_NAMESPACE", "team"),
                    ("KUBE_VERSION", "1.31.2"),
                    ("KUBE_API_VERSIONS", "v1"),
                    (
                        "ARGOCD_APP_PARAMETERS",
                        r#"[{"name": "input", "string": "manifests"}]"#,
                    ),
                    ("ARGOCD_ENV_HELM_X_JSON_PATCHES", "patches/json.yaml"),
                    ("ARGOCD_ENV_HELM_X_FORCE_NAMESPACE", "team"),
                ],
            ),
        );
        let docs = documents(&out);
        assert_eq!(docs.len(), 1, "{label}: {out}");
        let settings = &find(&docs, "ConfigMap", "settings").value;
        assert_eq!(settings["data"]["mode"], "patched", "{label}");
        assert_eq!(settings["metadata"]["namespace"], "team", "{label}");
    }
}

#[test]
fn bad_parameters_fail_before_helm_runs() {
    let tools = Tools::get();
    let cases = [
        (
            r#"[{"name": "valueFiles", "array": ["values.yaml"]}]"#,
            r#"unknown plugin parameter "valueFiles""#,
        ),
        (
            r#"[{"name": "values-files", "array": ["../../etc/passwd"]}]"#,
            "without `..`",
        ),
    ];
    for (params, want) in cases {
        let out = generate(
            &tools.helm3,
            "chart-app",
            &[
                ("ARGOCD_APP_NAME", "web"),
                ("ARGOCD_APP_PARAMETERS", params),
            ],
        );
        assert!(!out.status.success(), "{params}");
        assert!(
            out.stdout.is_empty(),
            "{params}: nothing for Argo CD to apply"
        );
        let stderr = text(&out.stderr);
        assert!(stderr.contains(want), "{params}: {stderr}");
    }
}
