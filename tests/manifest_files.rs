//! No file of a manifests dir is dropped, whatever its name: `_a.yaml` (a helper to helm) and a
//! name with a newline install, and diff then finds nothing to change.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use common::{cluster_envs, documents, s, text};

#[test]
fn odd_file_names_are_kept() {
    for env in cluster_envs() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("in");
        std::fs::create_dir(&dir).unwrap();
        let cm = |name: &str| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n")
        };
        std::fs::write(dir.join("_a.yaml"), cm("underscore")).unwrap();
        std::fs::write(dir.join("odd\nname.yaml"), cm("newline")).unwrap();
        std::fs::write(dir.join("x_a.yaml"), cm("plain")).unwrap();

        let out = env.x_ok(["template", "r", s(&dir)]);
        let docs = documents(&out);
        let mut names: Vec<&str> = docs.iter().map(|d| d.name()).collect();
        names.sort();
        assert_eq!(
            names,
            ["newline", "plain", "underscore"],
            "{}: {out}",
            env.label
        );
        assert!(
            docs.iter()
                .all(|d| d.source.as_deref().is_some_and(|s| !s.contains('\n')))
        );

        let ns = format!("names-{}", env.label);
        let _ = env.helm(["uninstall", "names", "-n", &ns, "--wait"]);
        env.x_ok([
            "upgrade",
            "--install",
            "names",
            s(&dir),
            "-n",
            &ns,
            "--create-namespace",
        ]);
        for name in ["underscore", "newline", "plain"] {
            let got = env.kubectl(&["get", "configmap", name, "-n", &ns]);
            assert!(
                got.status.success(),
                "{}: {name}: {}",
                env.label,
                text(&got.stderr)
            );
        }
        let out = env.x([
            "diff",
            "upgrade",
            "names",
            s(&dir),
            "-n",
            &ns,
            "--detailed-exitcode",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}{}",
            env.label,
            text(&out.stdout),
            text(&out.stderr)
        );
        let _ = env.helm(["uninstall", "names", "-n", &ns]);
    }
}
