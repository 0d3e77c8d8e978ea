//! `--force-namespace`: every namespaced object lands in the namespace, cluster-scoped ones
//! (built-in, defined by a CRD of the input, or known only to the cluster) never get one; `fill`
//! keeps namespaces already written. Every input kind, both chart modes, every helm version.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::collections::BTreeMap;

use common::{HelmEnv, cluster_envs, documents, s, testdata, text};

const OBJECTS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n---\n\
apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\n  namespace: other\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n---\n\
apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gizmos.fns.example.com\n\
spec:\n  group: fns.example.com\n  scope: Cluster\n  names: {kind: Gizmo, plural: gizmos}\n  versions:\n  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}\n---\n\
apiVersion: fns.example.com/v1\nkind: Gizmo\nmetadata:\n  name: global-gizmo\n";

/// name -> namespace of every object `helm x ARGS` prints.
fn namespaces(env: &HelmEnv, args: &[&str]) -> BTreeMap<String, String> {
    documents(&env.x_ok(args))
        .iter()
        .map(|d| {
            let ns = d.value["metadata"]["namespace"].as_str().unwrap_or("");
            (d.name().to_string(), ns.to_string())
        })
        .collect()
}

#[test]
fn namespaced_objects_move_and_cluster_scoped_ones_never_get_one() {
    let tmp = tempfile::tempdir().unwrap();
    let manifests = tmp.path().join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    std::fs::write(manifests.join("all.yaml"), OBJECTS).unwrap();
    let kustomization = tmp.path().join("kz");
    std::fs::create_dir(&kustomization).unwrap();
    std::fs::write(kustomization.join("all.yaml"), OBJECTS).unwrap();
    std::fs::write(
        kustomization.join("kustomization.yaml"),
        "resources: [all.yaml]\n",
    )
    .unwrap();
    for env in cluster_envs() {
        for input in [&manifests, &kustomization] {
            let forced = namespaces(
                &env,
                &["template", "r", s(input), "--force-namespace", "team"],
            );
            let want = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
                pairs
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect()
            };
            assert_eq!(
                forced,
                want(&[
                    ("plain", "team"),
                    ("elsewhere", "team"),
                    ("reader", ""),
                    ("gizmos.fns.example.com", ""),
                    ("global-gizmo", ""),
                ]),
                "{} {}",
                env.label,
                input.display()
            );
            let filled = namespaces(
                &env,
                &[
                    "template",
                    "r",
                    s(input),
                    "--force-namespace",
                    "team",
                    "--force-namespace-mode",
                    "fill",
                ],
            );
            assert_eq!(filled["plain"], "team");
            assert_eq!(filled["elsewhere"], "other", "{}: fill keeps it", env.label);
            assert_eq!(filled["reader"], "");
        }
        // A chart: patched in-process and post-rendered (--dry-run=client forces helm's path).
        let chart = testdata("charts/live");
        for extra in [&[][..], &["--dry-run=client"][..]] {
            let mut args = vec!["template", "live", s(&chart), "--force-namespace", "team"];
            args.extend_from_slice(extra);
            let ns = namespaces(&env, &args);
            assert_eq!(ns["live-live"], "team", "{} {extra:?}", env.label);
            assert_eq!(
                ns["live-hook"], "team",
                "{} {extra:?}: hooks too",
                env.label
            );
        }
    }
}

#[test]
fn kinds_only_the_cluster_knows_are_scoped_by_discovery() {
    for env in cluster_envs() {
        let group = format!("disc-{}.fns.example.com", env.label);
        let crd = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: tools.{group}\n\
spec:\n  group: {group}\n  scope: Cluster\n  names: {{kind: Tool, plural: tools}}\n  versions:\n  - {{name: v1, served: true, storage: true, schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}}}\n"
        );
        let tmp = tempfile::tempdir().unwrap();
        let crd_file = tmp.path().join("crd.yaml");
        std::fs::write(&crd_file, crd).unwrap();
        let out = env.kubectl(&["apply", "-f", s(&crd_file)]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let _ = env.kubectl(&[
            "wait",
            "--for=condition=Established",
            &format!("crd/tools.{group}"),
            "--timeout=60s",
        ]);
        let dir = tmp.path().join("in");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            dir.join("objects.yaml"),
            format!("apiVersion: {group}/v1\nkind: Tool\nmetadata:\n  name: hammer\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"),
        )
        .unwrap();
        let ns = format!("fns-{}", env.label);
        let _ = env.helm(["uninstall", "fns", "-n", &ns, "--wait"]);
        let _ = env.kubectl(&["create", "namespace", "team-fns"]);
        let out = env.x([
            "upgrade",
            "--install",
            "fns",
            s(&dir),
            "-n",
            &ns,
            "--create-namespace",
            "--force-namespace",
            "team-fns",
        ]);
        assert!(
            out.status.success(),
            "{}: {}{}",
            env.label,
            text(&out.stdout),
            text(&out.stderr)
        );
        let tool = env.kubectl(&["get", &format!("tools.{group}"), "hammer", "-o", "json"]);
        assert!(
            tool.status.success(),
            "{}: the cluster-scoped Tool exists: {}",
            env.label,
            text(&tool.stderr)
        );
        let cm = env.kubectl(&["get", "configmap", "settings", "-n", "team-fns"]);
        assert!(cm.status.success(), "{}: {}", env.label, text(&cm.stderr));
        let _ = env.helm(["uninstall", "fns", "-n", &ns]);
        let _ = env.kubectl(&["delete", "crd", &format!("tools.{group}")]);
    }
}
