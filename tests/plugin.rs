//! `helm plugin install` of this repository on helm 3 and 4, and the install hook's failure path.

// Needs helm: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::process::Command;

use common::{Tools, repo_root, text};

fn isolated(helm: &std::path::Path, home: &std::path::Path) -> Command {
    let mut cmd = Command::new(helm);
    cmd.env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env_remove("HELM_PLUGINS")
        .env_remove("HELM_X_BIN");
    cmd
}

#[test]
fn installs_from_the_repository_dir_on_helm_3_and_4() {
    let t = Tools::get();
    for (label, helm) in t.helms() {
        let home = tempfile::tempdir().unwrap();
        let out = isolated(helm, home.path())
            .args(["plugin", "install"])
            .arg(repo_root())
            .env("HELM_X_BIN", env!("CARGO_BIN_EXE_helm-x"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{label}: {}", text(&out.stderr));
        let out = isolated(helm, home.path())
            .args(["x", "version"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{label}: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            format!("helm-x {}\n", env!("CARGO_PKG_VERSION"))
        );
        let out = isolated(helm, home.path())
            .args(["x", "--help"])
            .output()
            .unwrap();
        assert!(text(&out.stdout).contains("upgrade"), "{label}");
    }
}

#[test]
fn hook_without_binary_or_cargo_fails_clearly() {
    let t = Tools::get();
    let plugin = tempfile::tempdir().unwrap();
    std::fs::create_dir(plugin.path().join("scripts")).unwrap();
    std::fs::copy(
        repo_root().join("plugin.yaml"),
        plugin.path().join("plugin.yaml"),
    )
    .unwrap();
    for s in ["run.sh", "install-hook.sh"] {
        std::fs::copy(
            repo_root().join("scripts").join(s),
            plugin.path().join("scripts").join(s),
        )
        .unwrap();
    }
    for (label, helm) in t.helms() {
        let home = tempfile::tempdir().unwrap();
        let out = isolated(helm, home.path())
            .args(["plugin", "install"])
            .arg(plugin.path())
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", "/nonexistent")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{label}");
        let err = text(&out.stderr);
        assert!(
            err.contains("set HELM_X_BIN=/path/to/helm-x"),
            "{label}: {err}"
        );
    }
}

#[test]
fn helm_exit_codes_pass_through() {
    let t = Tools::get();
    let env = common::HelmEnv::new("helm4", &t.helm4, &t.kubectl);
    // helm itself rejects the flag: its exit code and message come through unchanged.
    let out = env.x([
        "template",
        "r",
        common::testdata("charts/app").to_str().unwrap(),
        "--no-such-helm-flag",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unknown flag: --no-such-helm-flag"),
        "{}",
        text(&out.stderr)
    );
}
