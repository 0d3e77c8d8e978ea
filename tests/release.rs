//! Charts stay charts: a patched chart is post-rendered, so the release keeps what helm keeps for a
//! chart (Revision, IsUpgrade, lookup, Capabilities, values and their reuse rules, hooks), and plain
//! helm can take it over later. Runs on every helm version against the local control plane.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{HelmEnv, Tools, documents, s, testdata, text};
use serde_json::Value;

fn kubeconfig() -> PathBuf {
    let path = std::env::var_os("HELM_X_TEST_KUBECONFIG").map(PathBuf::from).expect(
        "HELM_X_TEST_KUBECONFIG is not set: run the tests through scripts/test, which starts the local control plane",
    );
    assert!(path.is_file(), "{} does not exist", path.display());
    path
}

fn envs() -> Vec<HelmEnv> {
    let t = Tools::get();
    let kc = kubeconfig();
    t.helms()
        .into_iter()
        .map(|(label, helm)| {
            HelmEnv::new(label, helm, &t.kubectl).with_env("KUBECONFIG", kc.to_str().unwrap())
        })
        .collect()
}

fn kubectl(env: &HelmEnv, args: &[&str]) -> Output {
    Command::new(&env.kubectl)
        .args(args)
        .env("KUBECONFIG", kubeconfig())
        .output()
        .unwrap()
}

fn configmap(env: &HelmEnv, ns: &str, name: &str) -> Value {
    let out = kubectl(env, &["get", "configmap", name, "-n", ns, "-o", "json"]);
    assert!(
        out.status.success(),
        "{}: {name}: {}",
        env.label,
        text(&out.stderr)
    );
    let cm: Value = serde_json::from_slice(&out.stdout).unwrap();
    cm["data"].clone()
}

fn ok(env: &HelmEnv, out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{}: {what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        env.label,
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A namespace of its own with the object the chart's `lookup` looks for.
fn namespace(env: &HelmEnv, base: &str) -> String {
    let ns = format!("{base}-{}", env.label);
    let _ = env.helm(["uninstall", "live", "-n", &ns, "--wait"]);
    let _ = kubectl(env, &["create", "namespace", &ns]);
    let _ = kubectl(env, &["delete", "configmap", "pre-existing", "-n", &ns]);
    let out = kubectl(
        env,
        &[
            "create",
            "configmap",
            "pre-existing",
            "-n",
            &ns,
            "--from-literal=marker=found",
        ],
    );
    ok(env, out, "kubectl create configmap");
    ns
}

#[test]
fn patched_chart_release_keeps_revision_lookup_values_and_hooks() {
    let chart = testdata("charts/live");
    let smp = testdata("patches/live-smp.yaml");
    for env in envs() {
        let ns = namespace(&env, "live");
        let x = |extra: &[&str]| {
            let mut args = vec!["upgrade", "--install", "live", s(&chart), "-n", &ns];
            args.extend_from_slice(extra);
            env.x(args)
        };
        let smp_args = ["--strategic-merge-patch", s(&smp)];

        ok(
            &env,
            x(&["--set", "image.tag=v1", smp_args[0], smp_args[1]]),
            "install",
        );
        let data = configmap(&env, &ns, "live-live");
        assert_eq!(data["revision"], "1", "{}: {data}", env.label);
        assert_eq!(data["upgrade"], "false");
        assert_eq!(
            data["lookup"], "found",
            "{}: lookup sees the cluster",
            env.label
        );
        assert_eq!(data["patched"], "yes");
        assert_eq!(data["tag"], "v1");
        let hook = configmap(&env, &ns, "live-hook");
        assert_eq!(hook["patched"], "yes", "{}: the hook is patched", env.label);

        let out = ok(
            &env,
            x(&["--set", "image.tag=v2", smp_args[0], smp_args[1]]),
            "upgrade",
        );
        assert!(
            out.contains("live live at revision 2"),
            "{}: notes: {out}",
            env.label
        );
        let data = configmap(&env, &ns, "live-live");
        assert_eq!(data["revision"], "2", "{}: {data}", env.label);
        assert_eq!(data["upgrade"], "true");
        assert_eq!(data["tag"], "v2");
        assert_eq!(data["patched"], "yes");
        let hook = configmap(&env, &ns, "live-hook");
        assert_eq!(hook["revision"], "2", "{}: {hook}", env.label);
        assert_eq!(hook["patched"], "yes");

        // --reuse-values keeps the user's values, as helm does.
        ok(
            &env,
            x(&["--reuse-values", smp_args[0], smp_args[1]]),
            "reuse",
        );
        let data = configmap(&env, &ns, "live-live");
        assert_eq!(data["revision"], "3", "{}: {data}", env.label);
        assert_eq!(data["tag"], "v2", "{}: --reuse-values", env.label);

        // Plain helm takes the release over: the release holds the user's chart and values.
        let out = env.helm(["upgrade", "live", s(&chart), "-n", &ns, "--reuse-values"]);
        ok(&env, out, "plain helm upgrade --reuse-values");
        let data = configmap(&env, &ns, "live-live");
        assert_eq!(data["revision"], "4");
        assert_eq!(data["tag"], "v2");
        assert!(
            data.get("patched").is_none(),
            "{}: plain helm has no patch",
            env.label
        );
        let values = env.helm(["get", "values", "live", "-n", &ns, "-o", "json"]);
        let values: Value = serde_json::from_slice(&values.stdout).unwrap();
        assert_eq!(values["image"]["tag"], "v2", "{}: {values}", env.label);

        // The patch coming back is a change; the unpatched chart as deployed is none.
        let diff = |extra: &[&str]| {
            let mut args = vec![
                "diff",
                "upgrade",
                "live",
                s(&chart),
                "-n",
                &ns,
                "--reuse-values",
                "--detailed-exitcode",
            ];
            args.extend_from_slice(extra);
            env.x(args)
        };
        let out = diff(&smp_args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}{}",
            env.label,
            text(&out.stdout),
            text(&out.stderr)
        );
        let report = text(&out.stdout);
        assert!(
            report.contains("+   patched: \"yes\"") || report.contains("+   patched: yes"),
            "{}: {report}",
            env.label
        );
        assert!(
            report.contains("live-hook"),
            "{}: hooks are compared: {report}",
            env.label
        );
        // A chart using Capabilities and lookup, unchanged, diffs empty.
        let caps = testdata("charts/caps");
        let _ = env.helm(["uninstall", "caps", "-n", &ns]);
        env.x_ok(["upgrade", "--install", "caps", s(&caps), "-n", &ns]);
        let data = configmap(&env, &ns, "caps-caps");
        assert_eq!(data["lookup"], "found", "{}", env.label);
        configmap(&env, &ns, "caps-apps");
        let out = env.x([
            "diff",
            "upgrade",
            "caps",
            s(&caps),
            "-n",
            &ns,
            "--detailed-exitcode",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: an unchanged chart using Capabilities and lookup diffs empty: {}{}",
            env.label,
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), "", "{}", env.label);
        let _ = env.helm(["uninstall", "caps", "-n", &ns]);
        let _ = env.helm(["uninstall", "live", "-n", &ns]);
    }
}

#[test]
fn flags_no_helm_run_accepts_are_refused() {
    let chart = testdata("charts/live");
    let smp = testdata("patches/live-smp.yaml");
    for env in envs() {
        let ns = format!("refuse-{}", env.label);
        let out = env.x([
            "install",
            "live",
            s(&chart),
            "-n",
            &ns,
            "--kube-version",
            "1.30.0",
            "--strategic-merge-patch",
            s(&smp),
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", env.label);
        let err = text(&out.stderr);
        assert!(
            err.contains(
                "--kube-version cannot be used with helm x install: helm install does not accept it"
            ) && err.contains("--pre-render"),
            "{}: {err}",
            env.label
        );
        // With --pre-render the flag shapes the render, and install never sees it.
        let out = env.x([
            "install",
            "live",
            s(&chart),
            "-n",
            &ns,
            "--create-namespace",
            "--dry-run=server",
            "--kube-version",
            "1.30.0",
            "--pre-render",
            "--strategic-merge-patch",
            s(&smp),
        ]);
        let out = ok(&env, out, "install --pre-render --kube-version");
        assert!(out.contains("kube: v1.30.0"), "{}: {out}", env.label);
    }
}

/// Runs the helm-x binary directly (not as a plugin), as CI scripts sometimes do.
fn direct(env: &HelmEnv, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_helm-x"))
        .args(args)
        .env("HELM_BIN", &env.helm)
        .env_remove("HELM_NAMESPACE")
        .env("KUBECONFIG", "/dev/null")
        .output()
        .unwrap()
}

#[test]
fn namespace_on_the_argv_targets_patches_when_run_directly() {
    let chart = testdata("charts/live");
    let patch = testdata("patches/live-namespaced.yaml");
    for env in envs() {
        let out = direct(
            &env,
            &[
                "template",
                "live",
                s(&chart),
                "-n",
                "foo",
                "--json-patch",
                s(&patch),
            ],
        );
        let out = ok(&env, out, "helm-x template -n foo");
        let docs = documents(&out);
        let cm = docs.iter().find(|d| d.name() == "live-live").unwrap();
        assert_eq!(cm.value["data"]["ns"], "foo", "{}", env.label);
    }
}

#[test]
fn template_is_the_same_in_both_modes() {
    let chart = testdata("charts/live");
    let smp = testdata("patches/live-smp.yaml");
    for env in envs() {
        let render = |extra: &[&str]| {
            let mut args = vec![
                "template",
                "live",
                s(&chart),
                "--strategic-merge-patch",
                s(&smp),
            ];
            args.extend_from_slice(extra);
            let mut docs: Vec<(String, Value)> = documents(&env.x_ok(args))
                .into_iter()
                .map(|d| (d.source.unwrap_or_default(), d.value))
                .collect();
            docs.sort_by(|a, b| {
                a.1["metadata"]["name"]
                    .to_string()
                    .cmp(&b.1["metadata"]["name"].to_string())
            });
            docs
        };
        let post = render(&[]);
        let pre = render(&["--pre-render"]);
        assert_eq!(post, pre, "{}", env.label);
        assert_eq!(post.len(), 2, "{}: {post:?}", env.label);
        assert!(
            post.iter().all(|(_, v)| v["data"]["patched"] == "yes"),
            "{}",
            env.label
        );
    }
}
