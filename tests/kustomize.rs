//! Kustomizations as helm-x builds them: `KUSTOMIZE_BIN`, `--kustomize-build-arg`, `helmCharts`
//! (also with Helm 4, whose `helm version -c` kustomize 5.7 needs answered), kustomize-mode patch
//! scalars; plus `kind: List` manifests and `--dependency-update` in a pre-render.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{HelmEnv, Tools, documents, envs, find, s, testdata, text};
use serde_json::json;

fn fixture(rel: &str) -> PathBuf {
    testdata("kustomize-x").join(rel)
}

/// One helm (3) for what does not depend on helm's version.
fn helm3() -> HelmEnv {
    let t = Tools::get();
    HelmEnv::new("helm3", &t.helm3, &t.kubectl)
}

/// A stand-in `kustomize` for `KUSTOMIZE_BIN` (a test fixture, not product code): it writes its
/// argv to `log`, one word per line, and runs `kubectl kustomize` with the words after `build`.
fn fake_kustomize(dir: &Path, kubectl: &Path, log: &Path) -> PathBuf {
    let script = dir.join("kustomize");
    let body = format!(
        "#!/bin/sh\n: > '{log}'\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{log}'; done\n\
         [ \"$1\" = build ] || exit 64\nshift\nexec '{kubectl}' kustomize \"$@\"\n",
        log = log.display(),
        kubectl = kubectl.display(),
    );
    std::fs::write(&script, body).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

#[test]
fn kustomize_bin_is_honoured_and_build_args_stay_single_words() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("argv.log");
    let env = helm3();
    let fake = fake_kustomize(scratch.path(), &env.kubectl, &log);
    let env = env.with_env("KUSTOMIZE_BIN", s(&fake));
    let overlay = fixture("restricted/overlay");
    let out = env.x_ok([
        "template",
        "r",
        s(&overlay),
        "--kustomize-build-arg",
        "--load-restrictor=LoadRestrictionsNone",
        "--kustomize-build-arg=--helm-api-versions=a b/v1",
    ]);
    let argv = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        argv.lines().collect::<Vec<_>>(),
        [
            "build",
            "--load-restrictor=LoadRestrictionsNone",
            "--helm-api-versions=a b/v1",
            s(&overlay),
        ]
    );
    let docs = documents(&out);
    assert_eq!(
        find(&docs, "ConfigMap", "shared").value["data"]["from"],
        "outside"
    );

    // helmCharts: helm enabled, with the helm that helm-x drives (Helm 3 here: no shim).
    let charts = fixture("helm-charts");
    env.x_ok(["template", "r", s(&charts)]);
    let argv = std::fs::read_to_string(&log).unwrap();
    let helm = env.helm.canonicalize().unwrap();
    assert_eq!(
        argv.lines().collect::<Vec<_>>(),
        [
            "build",
            "--enable-helm",
            "--helm-command",
            s(&helm),
            s(&charts)
        ]
    );

    // A KUSTOMIZE_BIN that names nothing is an error, not a quiet fallback to kubectl.
    let missing = scratch.path().join("no-such-kustomize");
    let env = helm3().with_env("KUSTOMIZE_BIN", s(&missing));
    let out = env.x(["template", "r", s(&fixture("yaml12"))]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("KUSTOMIZE_BIN={}", missing.display())),
        "{stderr}"
    );
}

#[test]
fn kustomize_build_arg_lifts_the_load_restrictor() {
    let overlay = fixture("restricted/overlay");
    for env in envs() {
        let refused = env.x(["template", "r", s(&overlay)]);
        assert!(!refused.status.success(), "{}", env.label);
        let stderr = text(&refused.stderr);
        assert!(
            stderr.contains("is not in or below"),
            "{}: {stderr}",
            env.label
        );

        for args in [
            vec![
                "--kustomize-build-arg",
                "--load-restrictor=LoadRestrictionsNone",
            ],
            vec!["--kustomize-build-arg=--load-restrictor=LoadRestrictionsNone"],
        ] {
            let mut argv = vec!["template", "r", s(&overlay)];
            argv.extend(args);
            let docs = documents(&env.x_ok(argv));
            assert_eq!(docs.len(), 2, "{}", env.label);
            assert_eq!(
                find(&docs, "ConfigMap", "shared").value["data"]["from"],
                "outside"
            );
            assert_eq!(
                find(&docs, "ConfigMap", "own").value["data"]["from"],
                "overlay"
            );
        }
    }
}

/// What kustomize makes of `helm-charts` (or an overlay of it), checked object by object.
fn assert_inflated(out: &str, prefix: &str, label: &str) {
    let docs = documents(out);
    assert_eq!(docs.len(), 2, "{label}: {out}");
    let deploy = find(&docs, "Deployment", &format!("{prefix}inflated-web"));
    assert_eq!(deploy.value["spec"]["replicas"], 3, "{label}");
    assert_eq!(deploy.value["metadata"]["namespace"], "web-ns", "{label}");
    assert_eq!(deploy.value["metadata"]["labels"]["built-by"], "kustomize");
    let cm = find(&docs, "ConfigMap", &format!("{prefix}inflated-greeting"));
    assert_eq!(
        cm.value["data"],
        json!({"greeting": "hello", "chart": "web-0.1.0"}),
        "{label}"
    );
}

#[test]
fn helm_charts_inflate_with_every_helm() {
    for env in envs() {
        let out = env.x_ok(["template", "r", s(&fixture("helm-charts"))]);
        assert_inflated(&out, "", env.label);
        // Found through a base, too.
        let out = env.x_ok(["template", "r", s(&fixture("helm-overlay"))]);
        assert_inflated(&out, "prod-", env.label);
        // With the user's own --enable-helm, helm-x still names its helm (or its shim).
        let out = env.x_ok([
            "template",
            "r",
            s(&fixture("helm-charts")),
            "--kustomize-build-arg=--enable-helm",
        ]);
        assert_inflated(&out, "", env.label);
    }
}

#[test]
fn helm_charts_are_pulled_from_a_repository_with_every_helm() {
    for env in envs() {
        let repo = tempfile::tempdir().unwrap();
        let packaged = env.helm([
            "package",
            s(&fixture("helm-charts/charts/web")),
            "--destination",
            s(repo.path()),
        ]);
        assert!(packaged.status.success(), "{}", text(&packaged.stderr));
        let url = common::http::serve(repo.path().to_path_buf());
        let indexed = env.helm(["repo", "index", s(repo.path()), "--url", &url]);
        assert!(indexed.status.success(), "{}", text(&indexed.stderr));
        // kustomize pulls into the kustomization's chartHome, so the kustomization is a scratch one.
        let work = tempfile::tempdir().unwrap();
        std::fs::write(
            work.path().join("kustomization.yaml"),
            format!(
                "helmCharts:\n  - name: web\n    repo: {url}\n    version: 0.1.0\n    \
                 releaseName: inflated\n    namespace: web-ns\n    \
                 valuesInline: {{replicas: 3, greeting: hello}}\n\
                 commonLabels:\n  built-by: kustomize\n"
            ),
        )
        .unwrap();
        let out = env.x_ok(["template", "r", s(work.path())]);
        assert_inflated(&out, "", env.label);
    }
}

#[test]
fn kubectl_kustomize_alone_cannot_use_helm4_for_helm_charts() {
    // Why helm-x hands kustomize its shim on Helm 4: kustomize 5.7 probes `helm version -c`.
    let t = Tools::get();
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(&t.kubectl)
        .args(["kustomize", "--enable-helm", "--helm-command"])
        .arg(&t.helm4)
        .arg(fixture("helm-charts"))
        .env("HELM_CONFIG_HOME", home.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "kustomize now takes Helm 4 itself");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("-c"), "{stderr}");
}

#[test]
fn kustomize_mode_reads_patch_scalars_as_kustomize_does() {
    let env = helm3();
    let dir = fixture("yaml12");
    let patch = fixture("yaml12/patch.yaml");
    let data = |mode: &str| {
        let out = env.x_ok([
            "template",
            "r",
            s(&dir),
            "--smp-mode",
            mode,
            "--strategic-merge-patch",
            s(&patch),
        ]);
        find(&documents(&out), "ConfigMap", "flags").value["data"].clone()
    };
    let kyaml = json!({"kept": "1", "answer": "y", "on": "off", "refuse": "NO"});
    assert_eq!(data("kustomize"), kyaml);
    // apimachinery mode keeps go-yaml v2 (kubectl's) reading.
    assert_eq!(
        data("apimachinery"),
        json!({"kept": "1", "answer": true, "true": false, "refuse": false})
    );
    // And kustomize itself agrees.
    let work = tempfile::tempdir().unwrap();
    for f in ["config.yaml", "patch.yaml"] {
        std::fs::copy(dir.join(f), work.path().join(f)).unwrap();
    }
    std::fs::write(
        work.path().join("kustomization.yaml"),
        "resources: [config.yaml]\npatches:\n  - path: patch.yaml\n",
    )
    .unwrap();
    let built = Command::new(&env.kubectl)
        .arg("kustomize")
        .arg(work.path())
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", text(&built.stderr));
    let theirs = documents(&text(&built.stdout));
    assert_eq!(find(&theirs, "ConfigMap", "flags").value["data"], kyaml);
}

#[test]
fn manifest_lists_become_their_items() {
    for env in envs() {
        let out = env.x_ok(["template", "r", s(&fixture("lists"))]);
        let docs = documents(&out);
        let seen: Vec<_> = docs
            .iter()
            .map(|d| {
                format!(
                    "{} {}/{}",
                    d.source.as_deref().unwrap_or(""),
                    d.kind(),
                    d.name()
                )
            })
            .collect();
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "lists/templates/list.yaml ConfigMap/first",
                "lists/templates/list.yaml Service/second",
                "lists/templates/nested/typed.yaml ConfigMap/plain",
                "lists/templates/nested/typed.yaml ConfigMap/typed",
            ],
            "{}: {out}",
            env.label
        );
        assert!(!out.contains("kind: List"), "{}: {out}", env.label);
        assert_eq!(find(&docs, "ConfigMap", "typed").value["apiVersion"], "v1");
        assert_eq!(find(&docs, "ConfigMap", "first").value["data"]["num"], "1");
    }
}

#[test]
fn dependency_update_progress_never_reaches_the_render() {
    let chart = fixture("dep/app");
    let patch = fixture("dep/patch.yaml");
    for env in envs() {
        // A configured repository makes helm print "Hang tight while we grab the latest…".
        let repo = tempfile::tempdir().unwrap();
        std::fs::write(
            repo.path().join("index.yaml"),
            "apiVersion: v1\nentries: {}\n",
        )
        .unwrap();
        let url = common::http::serve(repo.path().to_path_buf());
        let added = env.helm(["repo", "add", "local", &url]);
        assert!(added.status.success(), "{}", text(&added.stderr));

        let out = env.x([
            "template",
            "r",
            s(&chart),
            "--dependency-update",
            "--strategic-merge-patch",
            s(&patch),
            "--pre-render",
        ]);
        let stdout = text(&out.stdout);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{}: {stderr}", env.label);
        assert!(stderr.contains("Hang tight"), "{}: {stderr}", env.label);
        for word in [
            "Hang tight",
            "Saving 1 charts",
            "Deleting outdated",
            "helm-x-unsourced",
        ] {
            assert!(
                !stdout.contains(word),
                "{}: {word:?} in\n{stdout}",
                env.label
            );
        }
        let docs = documents(&stdout);
        assert_eq!(docs.len(), 2, "{}: {stdout}", env.label);
        let app = find(&docs, "ConfigMap", "app");
        assert_eq!(
            app.value["data"],
            json!({"release": "r", "patched": "true"})
        );
        assert_eq!(app.source.as_deref(), Some("app/templates/configmap.yaml"));
        let sub = find(&docs, "ConfigMap", "sub");
        assert_eq!(
            sub.source.as_deref(),
            Some("app/charts/sub/templates/configmap.yaml")
        );
        // The user's chart is left as it was: the update ran on helm-x's copy.
        assert!(!chart.join("charts").exists() && !chart.join("Chart.lock").exists());
    }
}
