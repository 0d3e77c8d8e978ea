//! Charts stay charts: a patched chart is post-rendered, so the release keeps what helm keeps for a
//! chart (Revision, IsUpgrade, lookup, Capabilities, values and their reuse rules, hooks), and plain
//! helm can take it over later. Runs on every helm version against the local control plane.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::process::{Command, Output};

use common::{HelmEnv, cluster_envs, documents, s, testdata, text};
use serde_json::Value;

fn configmap(env: &HelmEnv, ns: &str, name: &str) -> Value {
    let out = env.kubectl(&["get", "configmap", name, "-n", ns, "-o", "json"]);
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
    common::succeeded(env.label, out, what)
}

/// A namespace of its own with the object the chart's `lookup` looks for.
fn namespace(env: &HelmEnv, base: &str) -> String {
    let ns = format!("{base}-{}", env.label);
    let _ = env.helm(["uninstall", "live", "-n", &ns, "--wait"]);
    let _ = env.kubectl(&["create", "namespace", &ns]);
    let _ = env.kubectl(&["delete", "configmap", "pre-existing", "-n", &ns]);
    let out = env.kubectl(&[
        "create",
        "configmap",
        "pre-existing",
        "-n",
        &ns,
        "--from-literal=marker=found",
    ]);
    ok(env, out, "kubectl create configmap");
    ns
}

#[test]
fn patched_chart_release_keeps_revision_lookup_values_and_hooks() {
    let chart = testdata("charts/live");
    let smp = testdata("patches/live-smp.yaml");
    for env in cluster_envs() {
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
    for env in cluster_envs() {
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
    for env in cluster_envs() {
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

/// Non-hook objects by name, with their values: what every way of patching must agree on.
fn objects(out: &str) -> Vec<(String, Value)> {
    let mut docs: Vec<(String, Value)> = documents(out)
        .into_iter()
        .filter(|d| d.value["metadata"]["annotations"]["helm.sh/hook"].is_null())
        .map(|d| (d.name().to_string(), d.value))
        .collect();
    docs.sort_by(|a, b| a.0.cmp(&b.0));
    docs
}

#[test]
fn template_is_the_same_in_every_mode_and_as_helms_own_post_renderer() {
    let chart = testdata("charts/live");
    let smp = testdata("patches/live-smp.yaml");
    let one = testdata("patches/live-smp-one.yaml");
    let script = testdata("postrender/kustomize-smp.sh");
    for env in cluster_envs() {
        let render = |patch: &std::path::Path, extra: &[&str]| {
            let mut args = vec![
                "template",
                "live",
                s(&chart),
                "--strategic-merge-patch",
                s(patch),
            ];
            args.extend_from_slice(extra);
            env.x_ok(args)
        };
        // helm-x patching one render itself, post-render (`--dry-run=client` is a flag only helm
        // applies, so helm renders and helm-x post-renders) and pre-render: the same objects,
        // hooks included.
        let all = |text: &str| {
            let mut docs: Vec<(Option<String>, Value)> = documents(text)
                .into_iter()
                .map(|d| (d.source, d.value))
                .collect();
            docs.sort_by(|a, b| {
                a.1["metadata"]["name"]
                    .to_string()
                    .cmp(&b.1["metadata"]["name"].to_string())
            });
            docs
        };
        let itself = all(&render(&smp, &[]));
        let post = all(&render(&smp, &["--dry-run=client"]));
        let pre = all(&render(&smp, &["--pre-render"]));
        assert_eq!(post, itself, "{}", env.label);
        assert_eq!(post, pre, "{}", env.label);
        assert_eq!(post.len(), 2, "{}: {post:?}", env.label);
        assert!(
            post.iter().all(|(_, v)| v["data"]["patched"] == "yes"),
            "{}",
            env.label
        );

        // helm template with kustomize as its post-renderer (helm's own recipe), same patch.
        let plugins = tempfile::tempdir().unwrap();
        let mut cmd = if env.label == "helm3" {
            let mut cmd = env.helm_cmd(["template", "live", s(&chart)]);
            cmd.args([
                "--post-renderer",
                s(&script),
                "--post-renderer-args",
                s(&one),
            ]);
            cmd
        } else {
            let dir = plugins.path().join("kpr");
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(
                dir.join("plugin.yaml"),
                format!(
                    "apiVersion: v1\nname: kpr\ntype: postrenderer/v1\nruntime: subprocess\nversion: 0.1.0\n\
                     runtimeConfig:\n  platformCommand:\n    - command: {:?}\n      args: [{:?}]\n",
                    s(&script),
                    s(&one)
                ),
            )
            .unwrap();
            let mut cmd = env.helm_cmd(["template", "live", s(&chart), "--post-renderer", "kpr"]);
            cmd.env("HELM_PLUGINS", plugins.path());
            cmd
        };
        let theirs = ok(
            &env,
            cmd.output().unwrap(),
            "helm template --post-renderer kustomize",
        );
        for extra in [&[][..], &["--dry-run=client"][..]] {
            let ours = render(&one, extra);
            assert_eq!(objects(&ours), objects(&theirs), "{}: {extra:?}", env.label);
        }
        let ours = render(&one, &[]);
        assert_eq!(
            objects(&ours)[0].1["metadata"]["labels"]["patched-by"],
            "helm-x"
        );
    }
}

#[test]
fn a_users_post_renderer_runs_after_the_patches_or_is_refused() {
    let chart = testdata("charts/live");
    let smp = testdata("patches/live-smp.yaml");
    let script = testdata("postrender/after-helm-x.sh");
    for env in cluster_envs() {
        let out = env.x([
            "template",
            "live",
            s(&chart),
            "--strategic-merge-patch",
            s(&smp),
            "--post-renderer",
            s(&script),
            "--post-renderer-args",
            "one arg",
        ]);
        if env.label == "helm3" {
            let out = ok(&env, out, "template with a chained post-renderer");
            let docs = documents(&out);
            let cm = docs.iter().find(|d| d.name() == "live-live").unwrap();
            assert_eq!(cm.value["data"]["patched"], "yes");
            let added = docs
                .iter()
                .find(|d| d.name() == "from-user-post-renderer")
                .unwrap();
            assert_eq!(added.value["data"]["arg"], "one arg");
        } else {
            assert_eq!(out.status.code(), Some(1), "{}", env.label);
            let err = text(&out.stderr);
            assert!(
                err.contains("cannot run after helm-x's patches on Helm 4")
                    && err.contains("--pre-render"),
                "{}: {err}",
                env.label
            );
        }
    }
}

#[test]
fn post_render_errors_and_warnings_reach_the_user() {
    let chart = testdata("charts/live");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    std::fs::write(
        &missing,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: live-lve\ndata: {a: b}\n",
    )
    .unwrap();
    for env in cluster_envs() {
        let ns = format!("errors-{}", env.label);
        // In-process (template), post-rendered (template --dry-run=client), and a real helm
        // install run (dry run on the server) with helm-x as post-renderer.
        let modes: [&[&str]; 3] = [
            &["template", "live"],
            &["template", "live", "--dry-run=client"],
            &["install", "live", "--dry-run=server", "-n", &ns],
        ];
        for mode in modes {
            let run = |extra: &[&str]| {
                let mut args = mode.to_vec();
                args.extend_from_slice(&[s(&chart), "--strategic-merge-patch", s(&missing)]);
                args.extend_from_slice(extra);
                env.x(args)
            };
            let out = run(&[]);
            assert_eq!(out.status.code(), Some(1), "{} {mode:?}", env.label);
            let err = text(&out.stderr);
            assert!(
                err.contains("missing.yaml") && err.contains("live-live"),
                "{} {mode:?}: the patch file and the closest candidate are named: {err}",
                env.label
            );
            let out = run(&["--allow-missing-patch-targets"]);
            let err = text(&out.stderr);
            ok(&env, out, "--allow-missing-patch-targets");
            let warnings = err
                .lines()
                .filter(|l| l.starts_with("helm-x: warning:") && l.contains("missing.yaml"))
                .count();
            assert_eq!(warnings, 1, "{} {mode:?}: one warning: {err}", env.label);
        }
    }
}

#[test]
fn custom_resources_merge_by_the_keys_of_the_charts_crds() {
    let chart = testdata("charts/gizmos");
    let smp = testdata("patches/gizmo-smp.yaml");
    for env in cluster_envs() {
        let out = env.x_ok([
            "template",
            "g",
            s(&chart),
            "--strategic-merge-patch",
            s(&smp),
        ]);
        let docs = documents(&out);
        let gizmo = docs.iter().find(|d| d.name() == "g-gizmo").unwrap();
        assert_eq!(
            gizmo.value["spec"]["ports"],
            serde_json::json!([{"name": "a", "port": 1}, {"name": "b", "port": 20}]),
            "{}: merged by the list-map key from crds/",
            env.label
        );
    }
}

#[test]
fn output_dir_files_get_the_patches_or_a_clear_error() {
    let chart = testdata("charts/live");
    let one = testdata("patches/live-smp-one.yaml");
    for env in cluster_envs() {
        let out_dir = tempfile::tempdir().unwrap();
        let dir = out_dir.path().join("out");
        let out = env.x([
            "template",
            "live",
            s(&chart),
            "--strategic-merge-patch",
            s(&one),
            "--output-dir",
            s(&dir),
        ]);
        if env.label == "helm3" {
            assert_eq!(out.status.code(), Some(1), "{}", env.label);
            let err = text(&out.stderr);
            assert!(
                err.contains("--output-dir with patches needs --pre-render on Helm 3"),
                "{err}"
            );
            assert!(!dir.exists(), "nothing is written unpatched");
        } else {
            ok(&env, out, "template --output-dir");
            let written =
                std::fs::read_to_string(dir.join("live/templates/configmap.yaml")).unwrap();
            assert!(
                written.contains("patched-by: helm-x"),
                "{}: {written}",
                env.label
            );
        }
    }
}

#[test]
fn a_patched_object_stays_in_its_template_file() {
    let chart = testdata("charts/live");
    let patch = testdata("patches/live-replace-metadata.yaml");
    for env in cluster_envs() {
        for extra in [&[][..], &["--dry-run=client"][..]] {
            let mut args = vec!["template", "live", s(&chart), "--json-patch", s(&patch)];
            args.extend_from_slice(extra);
            let out = env.x_ok(args);
            let docs = documents(&out);
            let cm = docs.iter().find(|d| d.name() == "live-live").unwrap();
            assert_eq!(cm.value["metadata"]["labels"]["replaced"], "yes");
            assert_eq!(
                cm.source.as_deref(),
                Some("live/templates/configmap.yaml"),
                "{} {extra:?}",
                env.label
            );
        }
    }
}

#[test]
fn a_packaged_chart_with_a_patched_hook_post_renders() {
    let smp = testdata("patches/live-smp.yaml");
    for env in common::envs() {
        let dir = tempfile::tempdir().unwrap();
        let out = env.helm([
            "package",
            s(&testdata("charts/live")),
            "--destination",
            s(dir.path()),
        ]);
        ok(&env, out, "helm package");
        let tgz = dir.path().join("live-0.1.0.tgz");
        // --dry-run=client makes helm render and helm-x post-render (Helm 3: hooks frozen).
        let out = env.x_ok([
            "template",
            "live",
            s(&tgz),
            "--strategic-merge-patch",
            s(&smp),
            "--dry-run=client",
        ]);
        let docs = documents(&out);
        for name in ["live-live", "live-hook"] {
            let doc = docs.iter().find(|d| d.name() == name).unwrap();
            assert_eq!(doc.value["data"]["patched"], "yes", "{}: {name}", env.label);
        }
    }
}
