//! `--validate-offline` on real renders: no false positives on the test charts, the `helm create`
//! scaffold, kustomizations and manifest dirs; problems fail the run with every one listed, both
//! where helm-x prints the render itself and where helm post-renders the chart.
// Needs helm and kubectl: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::path::PathBuf;

use common::{envs, s, succeeded, testdata, text};

/// `[]`: helm-x renders and prints; `--keep-workdir`: helm renders, helm-x post-renders.
const MODES: [&[&str]; 2] = [&[], &["--keep-workdir"]];

#[test]
fn real_renders_have_no_problems() {
    let tmp = tempfile::tempdir().unwrap();
    for env in envs() {
        let scaffold = tmp.path().join(format!("scaffold-{}", env.label));
        succeeded(env.label, env.helm(["create", s(&scaffold)]), "helm create");
        let mut inputs: Vec<PathBuf> = [
            "charts/app",
            "charts/caps",
            "charts/gizmos",
            "charts/live",
            "kustomize/web",
            "kustomize/overlays/prod",
        ]
        .map(testdata)
        .to_vec();
        inputs.push(scaffold);
        for input in &inputs {
            for mode in MODES {
                let mut args = vec!["template", "r", s(input), "--validate-offline"];
                args.extend(mode);
                let out = env.x(&args);
                assert!(
                    out.status.success(),
                    "{} {} {mode:?}: {}",
                    env.label,
                    input.display(),
                    text(&out.stderr)
                );
            }
        }
    }
}

#[test]
fn unknown_kinds_fail_unless_allowed() {
    let manifests = testdata("manifests");
    for env in envs() {
        let out = env.x(["template", "r", s(&manifests), "--validate-offline"]);
        assert!(!out.status.success(), "{}", env.label);
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(": unknown kind PrometheusRule (apiVersion monitoring.coreos.com/v1): no built-in type and no CRD in the input; not validated"),
            "{}: {stderr}",
            env.label
        );
        let out = env.x([
            "template",
            "r",
            s(&manifests),
            "--validate-offline",
            "--validate-offline-allow-unknown-kinds",
        ]);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{}: {stderr}", env.label);
        assert!(
            stderr.contains("helm-x: warning: ") && stderr.contains("unknown kind PrometheusRule"),
            "{}: {stderr}",
            env.label
        );
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replcias: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
          imagePullPolicyy: Always
";

#[test]
fn problems_fail_the_run_with_every_one_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("bad");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: bad\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(chart.join("templates/deploy.yaml"), DEPLOYMENT).unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  count: 1\n",
    )
    .unwrap();
    let diff: &[&str] = &[
        "diff",
        "upgrade",
        "r",
        s(&chart),
        "--validate-offline",
        "--dry-run=client",
    ];
    for env in envs() {
        env.x_ok(["template", "r", s(&chart)]);
        let template = MODES.map(|mode| {
            let mut args = vec!["template", "r", s(&chart), "--validate-offline"];
            args.extend(mode);
            args
        });
        for args in template.iter().map(Vec::as_slice).chain([diff]) {
            let out = env.x(args);
            let stderr = text(&out.stderr);
            assert!(!out.status.success(), "{} {args:?}: {stderr}", env.label);
            for want in [
                "--validate-offline: 3 problems in 2 objects:",
                "templates/deploy.yaml: document ",
                ": Deployment web: spec.replcias: unknown field (did you mean replicas?)",
                ": Deployment web: spec.template.spec.containers[0].imagePullPolicyy: unknown field (did you mean imagePullPolicy?)",
                ": ConfigMap cm: data.count: invalid type: integer `1`, expected a string",
            ] {
                assert!(
                    stderr.contains(want),
                    "{} {args:?}: no {want:?} in {stderr}",
                    env.label
                );
            }
        }
    }
}
