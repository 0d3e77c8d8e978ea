//! Input kinds end to end through the real helm 3 and 4: charts (dir, .tgz, repo), kustomizations,
//! manifest dirs, and the inputs that must be refused.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::process::Command;

use common::{HelmEnv, Tools, assert_golden_as, documents, envs, find, s, testdata, text};

#[test]
fn unpatched_chart_is_handed_to_helm_as_is() {
    let chart = testdata("charts/app");
    for env in envs() {
        let ours = env.x_ok([
            "template",
            "r",
            s(&chart),
            "--include-crds",
            "--set",
            "replicas=3",
        ]);
        let theirs = env.helm([
            "template",
            "r",
            s(&chart),
            "--include-crds",
            "--set",
            "replicas=3",
        ]);
        assert!(theirs.status.success());
        assert_eq!(ours, text(&theirs.stdout), "{}", env.label);
    }
}

/// What a patched render of the fixture chart must keep: every file path (subchart and crds/
/// included), hooks with their annotations, the test hook, and the untouched documents byte-for-byte.
fn check_patched_app(env: &HelmEnv, out: &str) {
    let docs = documents(out);
    let sources: Vec<_> = docs
        .iter()
        .map(|d| d.source.clone().unwrap_or_default())
        .collect();
    for want in [
        "app/crds/widgets.yaml",
        "app/charts/sub/templates/configmap.yaml",
        "app/templates/deployment.yaml",
        "app/templates/configmap.yaml",
        "app/templates/hook-job.yaml",
        "app/templates/tests/test-connection.yaml",
    ] {
        assert!(
            sources.iter().any(|s| s == want),
            "{}: no {want} in {sources:?}",
            env.label
        );
    }
    let deploy = find(&docs, "Deployment", "r-app");
    assert_eq!(deploy.value["spec"]["replicas"], 5, "{}", env.label);
    let env_vars = &deploy.value["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(env_vars[0]["name"], "MODE");
    assert_eq!(env_vars[1]["name"], "GREETING");
    let hook = find(&docs, "Job", "r-app-migrate");
    assert_eq!(
        hook.value["metadata"]["annotations"]["helm.sh/hook"],
        "pre-install,pre-upgrade"
    );
    let cm = find(&docs, "ConfigMap", "r-app-config");
    assert_eq!(cm.value["data"]["country"], "NO");
    assert_eq!(cm.value["data"]["flag"], "on");
    assert_eq!(cm.value["data"]["rule"], "{{ $labels.instance }}");
    assert_eq!(cm.value["metadata"]["labels"]["patched"], "yes");
    find(&docs, "Pod", "r-app-test");

    // Untouched documents are exactly what plain helm renders.
    let plain = env.helm([
        "template",
        "r",
        s(&testdata("charts/app")),
        "--include-crds",
    ]);
    let plain = documents(&text(&plain.stdout));
    for d in &plain {
        if d.name() != "r-app" && d.name() != "r-app-config" {
            let ours = find(&docs, d.kind(), d.name());
            // Helm 4 re-serialises everything a post-renderer returns; Helm 3 keeps the bytes.
            if env.label == "helm3" {
                assert_eq!(
                    ours.body,
                    d.body,
                    "{}: {} {}",
                    env.label,
                    d.kind(),
                    d.name()
                );
            } else {
                assert_eq!(
                    ours.value,
                    d.value,
                    "{}: {} {}",
                    env.label,
                    d.kind(),
                    d.name()
                );
            }
            assert_eq!(ours.source, d.source);
        }
    }
}

#[test]
fn patched_chart_dir_keeps_hooks_crds_subcharts_and_sources() {
    let chart = testdata("charts/app");
    let patch = testdata("patches/app-smp.yaml");
    for env in envs() {
        let out = env.x_ok([
            "template",
            "r",
            s(&chart),
            "--include-crds",
            "--strategic-merge-patch",
            s(&patch),
        ]);
        check_patched_app(&env, &out);
        assert_golden_as("chart-app-patched.yaml", &out, env.label == "helm3");
    }
}

#[test]
fn patched_chart_keeps_its_notes() {
    let t = Tools::get();
    let env = HelmEnv::new("helm4", &t.helm4, &t.kubectl);
    let out = env.x_ok([
        "install",
        "r",
        s(&testdata("charts/app")),
        "--dry-run=client",
        "--strategic-merge-patch",
        s(&testdata("patches/app-smp.yaml")),
        "--set",
        "replicas=4",
    ]);
    assert!(
        out.contains("NOTES:\nThank you for installing app as r.\nReplicas: 4; fullname r-app.\n"),
        "{out}"
    );
}

#[test]
fn packaged_and_repository_charts() {
    let patch = testdata("patches/app-smp.yaml");
    for env in envs() {
        let repo = tempfile::tempdir().unwrap();
        let out = env.helm(["package", s(&testdata("charts/app")), "-d", s(repo.path())]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let tgz = repo.path().join("app-1.2.0.tgz");
        let from_tgz = env.x_ok([
            "template",
            "r",
            s(&tgz),
            "--include-crds",
            "--strategic-merge-patch",
            s(&patch),
        ]);
        check_patched_app(&env, &from_tgz);
        assert_golden_as("chart-app-patched.yaml", &from_tgz, env.label == "helm3");

        let url = common::http::serve(repo.path().to_path_buf());
        let out = env.helm(["repo", "index", s(repo.path()), "--url", &url]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = env.helm(["repo", "add", "local", &url]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let from_repo = env.x_ok([
            "template",
            "r",
            "local/app",
            "--version",
            "1.2.0",
            "--include-crds",
            "--strategic-merge-patch",
            s(&patch),
        ]);
        assert_eq!(from_repo, from_tgz, "{}", env.label);
        let plain = env.x_ok(["template", "r", "local/app", "--version", "1.2.0"]);
        assert!(plain.contains("replicas: 2"), "{plain}");
        let wrong = env.x([
            "template",
            "r",
            "local/app",
            "--version",
            "9.9.9",
            "--strategic-merge-patch",
            s(&patch),
        ]);
        assert!(!wrong.status.success());
    }
}

#[test]
fn kustomization_objects_come_out_exactly() {
    let overlay = testdata("kustomize/overlays/prod");
    for env in envs() {
        let out = env.x_ok(["template", "r", s(&overlay)]);
        let ours = documents(&out);
        let built = Command::new(&env.kubectl)
            .arg("kustomize")
            .arg(&overlay)
            .output()
            .unwrap();
        assert!(built.status.success());
        let theirs = documents(&text(&built.stdout));
        assert_eq!(ours.len(), theirs.len(), "{}", env.label);
        // helm prints objects in its install order; match them by identity.
        for t in &theirs {
            let o = find(&ours, t.kind(), t.name());
            if t.kind() == "CustomResourceDefinition" {
                let mut want = t.value.clone();
                want["metadata"]["annotations"] =
                    serde_json::json!({"helm.sh/resource-policy": "keep"});
                assert_eq!(o.value, want);
            } else {
                assert_eq!(o.body, t.body, "{}: {}", env.label, t.name());
            }
            assert!(o.source.as_deref().unwrap().starts_with("prod/templates/"));
        }
        assert_golden_as("kustomize-prod.yaml", &out, env.label != "helm43");
    }
}

#[test]
fn manifest_dirs_are_never_templated() {
    let dir = testdata("manifests");
    for env in envs() {
        let out = env.x(["template", "r", s(&dir)]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("nested/app-config.yml: document 1 has no apiVersion/kind; skipped"),
            "{stderr}"
        );
        let docs = documents(&text(&out.stdout));
        let rule = find(&docs, "PrometheusRule", "node-rules");
        let file = std::fs::read_to_string(dir.join("prometheus-rule.yaml")).unwrap();
        assert_eq!(rule.body, file, "{}", env.label);
        assert_eq!(
            rule.source.as_deref(),
            Some("manifests/templates/prometheus-rule.yaml")
        );
        let secret = find(&docs, "Secret", "tls");
        let key = secret.value["stringData"]["tls.key"].as_str().unwrap();
        assert!(
            key.contains("\n---\n") && key.ends_with("-----END PRIVATE KEY-----\n"),
            "{key}"
        );
        find(&docs, "ConfigMap", "after-pem");
        find(&docs, "Namespace", "team-a");
        assert_eq!(docs.len(), 4, "{}", env.label);
        assert_golden_as("manifests.yaml", &text(&out.stdout), env.label != "helm43");
    }
}

#[test]
fn malicious_archive_is_refused_and_writes_nothing() {
    let t = Tools::get();
    let env = HelmEnv::new("helm4", &t.helm4, &t.kubectl);
    let dir = tempfile::tempdir().unwrap();
    let tgz = dir.path().join("evil-0.1.0.tgz");
    {
        let f = std::fs::File::create(&tgz).unwrap();
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            f,
            flate2::Compression::fast(),
        ));
        for (name, body) in [
            (
                "evil/Chart.yaml",
                "apiVersion: v2\nname: evil\nversion: 0.1.0\n",
            ),
            ("evil/../../escaped.txt", "x"),
        ] {
            let mut h = tar::Header::new_gnu();
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append(&h, body.as_bytes()).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap();
    }
    let out = env.x([
        "template",
        "r",
        s(&tgz),
        "--strategic-merge-patch",
        s(&testdata("patches/app-smp.yaml")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("evil/../../escaped.txt") && err.contains(".."),
        "{err}"
    );
    assert!(!dir.path().join("escaped.txt").exists());
    assert!(!std::env::temp_dir().join("escaped.txt").exists());
    // Even handed to helm untouched, the archive is checked first.
    let out = env.x(["template", "r", s(&tgz)]);
    assert_eq!(out.status.code(), Some(1));
}

#[cfg(unix)]
#[test]
fn symlink_out_of_manifest_dir_is_refused() {
    let t = Tools::get();
    let env = HelmEnv::new("helm4", &t.helm4, &t.kubectl);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("s.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ok.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path().join("s.yaml"), dir.path().join("link.yaml"))
        .unwrap();
    let out = env.x(["template", "r", s(dir.path())]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("link.yaml") && err.contains("outside the input directory"),
        "{err}"
    );
    assert!(!text(&out.stdout).contains("stolen"));
}

#[test]
fn bad_yaml_names_file_document_and_line() {
    let t = Tools::get();
    let env = HelmEnv::new("helm4", &t.helm4, &t.kubectl);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
    )
    .unwrap();
    let out = env.x(["template", "r", s(dir.path())]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.yaml") && err.contains("document 2") && err.contains("line"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// `helm x template` prints an already rendered chart itself; that output must be exactly what
/// `helm template` of the temporary chart prints (forced here with `--pre-render` and a flag only
/// helm handles).
#[test]
fn template_output_is_what_helm_prints_for_the_temporary_chart() {
    let chart = testdata("charts/app");
    let smp = testdata("patches/app-smp.yaml");
    let cases: [&[&str]; 5] = [
        &[],
        &["--include-crds"],
        &["--skip-tests"],
        &["--no-hooks"],
        &["--include-crds", "--skip-tests"],
    ];
    for env in envs() {
        for flags in cases {
            let mut args = vec![
                "template",
                "r",
                s(&chart),
                "--strategic-merge-patch",
                s(&smp),
            ];
            args.extend_from_slice(flags);
            let fast = env.x_ok(&args);
            args.extend_from_slice(&["--pre-render", "--description", "through helm"]);
            let slow = env.x_ok(&args);
            if env.label == "helm43" {
                // Helm 4.3 prints a blank line after each document of a multi-document template;
                // helm-x prints in the format of every earlier version.
                let objects = |t: &str| -> Vec<_> {
                    documents(t)
                        .into_iter()
                        .map(|d| (d.source, d.value))
                        .collect()
                };
                assert_eq!(objects(&fast), objects(&slow), "{} {flags:?}", env.label);
            } else {
                assert_eq!(fast, slow, "{} {flags:?}", env.label);
            }
        }
    }
}
