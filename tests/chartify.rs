//! What helmfile's chartify and mumoshu/helm-x could do, through the real helm 3 and 4: ad-hoc
//! dependencies from a local HTTP repository on a chart, a kustomization and a manifests dir;
//! injectors; helm passthrough; the usage line from helm-x's talk against the local API server.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{HelmEnv, cluster_envs, documents, envs, s, testdata, text};

fn fixture(rel: &str) -> PathBuf {
    testdata(&format!("chartify/{rel}"))
}

/// The three input kinds, each holding the ConfigMap `web`.
fn inputs() -> [(&'static str, PathBuf); 3] {
    [
        ("chart", fixture("app")),
        ("kustomization", fixture("kustomization")),
        ("manifests", fixture("manifests")),
    ]
}

/// `helm x` run in `dir`, so relative paths on its command line resolve there.
fn x_in(env: &HelmEnv, dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["x"];
    all.extend_from_slice(args);
    env.helm_cmd(all).current_dir(dir).output().unwrap()
}

fn ok(env: &HelmEnv, out: Output, what: &str) -> String {
    common::succeeded(env.label, out, what)
}

/// `data` of the ConfigMap `name` in a rendered stream, or `None` when it is not there.
fn configmap(out: &str, name: &str) -> Option<serde_json::Value> {
    documents(out)
        .into_iter()
        .find(|d| d.kind() == "ConfigMap" && d.name() == name)
        .map(|d| d.value["data"].clone())
}

/// Packages `log` into a repository served on 127.0.0.1 and adds it to the env's helm as `local`.
fn local_repo(env: &HelmEnv) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let out = env.helm(["package", s(&fixture("log")), "-d", s(repo.path())]);
    ok(env, out, "helm package");
    let url = common::http::serve(repo.path().to_path_buf());
    let out = env.helm(["repo", "index", s(repo.path()), "--url", &url]);
    ok(env, out, "helm repo index");
    let out = env.helm(["repo", "add", "local", &url]);
    ok(env, out, "helm repo add");
    repo
}

#[test]
fn ad_hoc_dependency_from_a_repo_on_every_input_kind() {
    for env in envs() {
        let _repo = local_repo(&env);
        for (kind, input) in inputs() {
            let what = format!("{}: {kind}", env.label);
            let render = |extra: &[&str]| {
                let mut args = vec!["template", "r", s(&input)];
                args.extend_from_slice(extra);
                env.x(args)
            };
            let on = ok(&env, render(&["--dependency", "local/log"]), &what);
            assert_eq!(
                configmap(&on, "r-log"),
                Some(serde_json::json!({"message": "default"})),
                "{what}: on by default\n{on}"
            );
            assert!(configmap(&on, "web").is_some(), "{what}: {on}");
            let set = [
                "--adhoc-dependency",
                "logs=local/log:0.2.0",
                "--set",
                "logs.message=hi",
            ];
            let configured = ok(&env, render(&set), &what);
            assert_eq!(
                configmap(&configured, "r-log"),
                Some(serde_json::json!({"message": "hi"})),
                "{what}: configured through its alias\n{configured}"
            );
            let off = ["--dependency", "local/log", "--set", "log.enabled=false"];
            let off = ok(&env, render(&off), &what);
            assert_eq!(configmap(&off, "r-log"), None, "{what}: disabled\n{off}");
            assert!(configmap(&off, "web").is_some(), "{what}: {off}");

            // Patches and --force-namespace reach the dependency's objects, whatever the input.
            let smp = fixture("log-smp.yaml");
            let reach = [
                "--dependency",
                "local/log",
                "--strategic-merge-patch",
                s(&smp),
                "--force-namespace",
                "zz",
            ];
            let reached = ok(&env, render(&reach), &what);
            let log = documents(&reached)
                .into_iter()
                .find(|d| d.name() == "r-log")
                .unwrap_or_else(|| panic!("{what}: no r-log\n{reached}"));
            assert_eq!(log.value["data"]["patched"], "yes", "{what}: {reached}");
            assert_eq!(
                log.value["metadata"]["namespace"], "zz",
                "{what}: {reached}"
            );

            let missing = render(&["--dependency", "nope/log"]);
            assert!(!missing.status.success(), "{what}");
            let err = text(&missing.stderr);
            assert!(
                err.contains("no chart repository \"nope\" in `helm repo list` (known: local)"),
                "{what}: {err}"
            );
            let wrong = render(&["--dependency", "local/log:9.9.9"]);
            assert!(!wrong.status.success(), "{what}");
            assert!(
                text(&wrong.stderr).contains("--dependency local/log:9.9.9"),
                "{what}"
            );
        }
        // The user's chart is copied first, never changed in place.
        let app = fixture("app");
        assert!(!app.join("charts").exists() && !app.join("Chart.lock").exists());
    }
}

#[test]
fn local_dependency_and_a_chart_path_ending_in_dot() {
    let dir = fixture("");
    for env in envs() {
        let out = x_in(
            &env,
            &dir,
            &[
                "template",
                "r",
                "app/./",
                "--dependency",
                "./log",
                "-f",
                "values.yaml",
                "--strategic-merge-patch",
                "smp.yaml",
            ],
        );
        let out = ok(&env, out, "local dependency");
        assert_eq!(
            configmap(&out, "r-log"),
            Some(serde_json::json!({"message": "from-values"})),
            "{}\n{out}",
            env.label
        );
        assert_eq!(
            configmap(&out, "web"),
            Some(serde_json::json!({"color": "blue", "smp": "patched"})),
            "{}",
            env.label
        );
    }
}

#[test]
fn injector_output_replaces_the_objects_hooks_included() {
    let inject = format!("{} FILE", fixture("inject.sh").display());
    for env in envs() {
        for (kind, input) in inputs() {
            let out = env.x(["template", "r", s(&input), "--inject", &inject]);
            let out = ok(&env, out, kind);
            let docs = documents(&out);
            assert!(!docs.is_empty(), "{}: {kind}", env.label);
            for doc in &docs {
                assert_eq!(
                    doc.value["metadata"]["annotations"]["injected"],
                    "yes",
                    "{}: {kind}: {}\n{out}",
                    env.label,
                    doc.name()
                );
            }
            if kind == "manifests" {
                let hook = docs.iter().find(|d| d.name() == "web-hook").unwrap();
                assert_eq!(
                    hook.value["metadata"]["annotations"]["helm.sh/hook"],
                    "pre-install,pre-upgrade"
                );
            }
        }
        let failing = env.x([
            "template",
            "r",
            s(&fixture("manifests")),
            "--inject",
            "sh -c 'echo mesh unreachable >&2; exit 4' FILE",
        ]);
        assert!(!failing.status.success(), "{}", env.label);
        let err = text(&failing.stderr);
        assert!(
            err.contains("the injector `sh -c") && err.contains("mesh unreachable"),
            "{}: {err}",
            env.label
        );
    }
}

#[test]
fn subcommands_helm_x_does_not_own_are_run_by_helm() {
    for env in envs() {
        let _repo = local_repo(&env);
        let ours = env.x(["repo", "list", "-o", "json"]);
        let theirs = env.helm(["repo", "list", "-o", "json"]);
        assert_eq!(ours.status.code(), Some(0), "{}", env.label);
        assert_eq!(ours.stdout, theirs.stdout, "{}", env.label);
        // Exit code and stderr are helm's own.
        let ours = env.x(["search", "repo", "local/log", "--version", ">=9"]);
        let theirs = env.helm(["search", "repo", "local/log", "--version", ">=9"]);
        assert_eq!(ours.status.code(), theirs.status.code(), "{}", env.label);
        assert_eq!(text(&ours.stdout), text(&theirs.stdout), "{}", env.label);
        let ours = env.x(["show", "chart", "no/such-chart"]);
        let theirs = env.helm(["show", "chart", "no/such-chart"]);
        assert_eq!(ours.status.code(), theirs.status.code(), "{}", env.label);
        // helm adds its own line about the plugin's exit status after helm-x's (helm's) stderr.
        let err = text(&ours.stderr);
        assert!(
            err.starts_with(&text(&theirs.stderr)),
            "{}: {err}",
            env.label
        );
        // Unknown flags before a word are explained, never clap's "unexpected argument".
        let out = env.x(["template", "r", s(&fixture("app")), "--set-strng", "a=b"]);
        assert_eq!(out.status.code(), Some(1), "{}", env.label);
        let err = text(&out.stderr);
        assert!(
            err.contains("unknown flag --set-strng (did you mean --set-string?); if it takes a value, write --set-strng=value")
                && !err.contains("unexpected argument"),
            "{}: {err}",
            env.label
        );
    }
}

/// `helm x upgrade --install myapp WHAT --version 1.2.4 -f values.yaml --strategic-merge-patch …
/// --jsonpatch …`, as helm-x's talk wrote it (plus an ad-hoc dependency its values configure), then
/// the same with `helm x diff` and `helm x apply`.
#[test]
fn the_talks_usage_line_on_every_input_kind() {
    let dir = fixture("");
    for env in cluster_envs() {
        for (kind, input) in inputs() {
            let ns = format!("talk-{kind}-{}", env.label);
            // A rerun on the same control plane starts from no release.
            let _ = env.helm(["uninstall", "myapp", "-n", &ns, "--wait"]);
            let _ = env.kubectl(&["create", "namespace", &ns]);
            let line = |verb: &[&str], extra: &[&str]| {
                let mut args: Vec<&str> = verb.to_vec();
                args.extend([
                    "myapp",
                    s(&input),
                    "--version",
                    "1.2.4",
                    "-f",
                    "values.yaml",
                    "--strategic-merge-patch",
                    "smp.yaml",
                    "--jsonpatch",
                    "json.yaml",
                    "--adhoc-dependency",
                    "./log",
                    "-n",
                    &ns,
                ]);
                args.extend_from_slice(extra);
                x_in(&env, &dir, &args)
            };
            let what = format!("{}: {kind}", env.label);
            ok(&env, line(&["upgrade", "--install"], &[]), &what);
            let out = env.kubectl(&["get", "configmap", "web", "-n", &ns, "-o", "json"]);
            let cm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(cm["data"]["smp"], "patched", "{what}: {cm}");
            assert_eq!(cm["data"]["json"], "patched", "{what}: {cm}");
            let out = env.kubectl(&["get", "configmap", "myapp-log", "-n", &ns, "-o", "json"]);
            let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            assert_eq!(log["data"]["message"], "from-values", "{what}: {log}");
            let list = env.helm(["list", "-n", &ns, "-o", "json"]);
            let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
            let chart = list[0]["chart"].as_str().unwrap_or_default().to_string();
            assert!(chart.ends_with("-1.2.4"), "{what}: {list}");

            let diff = line(&["diff", "upgrade"], &["--detailed-exitcode"]);
            assert_eq!(
                diff.status.code(),
                Some(0),
                "{what}: {}",
                text(&diff.stderr)
            );
            assert_eq!(text(&diff.stdout), "", "{what}");

            ok(&env, line(&["apply"], &[]), &what);
            let history = env.helm(["history", "myapp", "-n", &ns, "-o", "json"]);
            let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
            assert_eq!(
                history.as_array().map(Vec::len),
                Some(2),
                "{what}: {history}"
            );
            let list = env.x(["list", "-n", &ns, "-q"]);
            assert_eq!(ok(&env, list, "helm x list"), "myapp\n", "{what}");
        }
    }
}
