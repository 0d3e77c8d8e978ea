//! The plugin as helm runs it: plugin.yaml's command is the helm-x binary itself, put in place by
//! the install hook; until the hook could, it is a link to scripts/run.sh, which builds (or
//! copies) the binary and runs it. Every test installs a temporary copy of the plugin files
//! (`common::plugin_copy`), never the source tree.
//!
//! The tests without `e2e` run the hook and the command the way helm does (`sh -c HOOK`, the
//! command split on spaces with `$HELM_PLUGIN_DIR` expanded, no shell), so they need only `sh`;
//! the e2e ones install the copy with helm 3.18, 4.1 and 4.3 (and update a git install of it).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{plugin_copy, text};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_helm-x");

fn version_line() -> String {
    format!("helm-x {}\n", env!("CARGO_PKG_VERSION"))
}

fn plugin_yaml(plugin: &Path) -> Value {
    let text = std::fs::read_to_string(plugin.join("plugin.yaml")).unwrap();
    helm_x::stream::load(&text).unwrap()
}

/// What helm runs for `helm x ARGS` (Helm 3's `os.ExpandEnv`, Helm 4's expansion from the
/// plugin env: both give `$HELM_PLUGIN_DIR` the plugin dir; the command is split on spaces).
fn plugin_command(plugin: &Path, args: &[&str]) -> Command {
    let yaml = plugin_yaml(plugin);
    let command = yaml["command"].as_str().expect("plugin.yaml has a command");
    let dir = plugin.to_str().unwrap();
    let mut words = command.split(' ').map(|w| {
        w.replace("${HELM_PLUGIN_DIR}", dir)
            .replace("$HELM_PLUGIN_DIR", dir)
    });
    let mut cmd = Command::new(words.next().unwrap());
    cmd.args(words).args(args);
    isolate(&mut cmd, plugin);
    cmd
}

/// Helm runs a legacy hook string as `sh -c HOOK` with the plugin's env.
fn hook(plugin: &Path, event: &str) -> Command {
    let yaml = plugin_yaml(plugin);
    let hook = yaml["hooks"][event]
        .as_str()
        .unwrap_or_else(|| panic!("plugin.yaml has a {event} hook"));
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(hook);
    isolate(&mut cmd, plugin);
    cmd
}

/// The plugin env, no HELM_X_BIN, and a PATH and HOME where no cargo is found.
fn isolate(cmd: &mut Command, plugin: &Path) {
    cmd.env("HELM_PLUGIN_DIR", plugin)
        .env("HELM_PLUGIN_NAME", "x")
        .env_remove("HELM_X_BIN")
        .env_remove("CARGO_TARGET_DIR")
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/nonexistent");
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn installed(plugin: &Path) -> PathBuf {
    plugin.join("bin/helm-x")
}

/// bin/helm-x is the binary itself: a regular file with the built binary's bytes.
fn assert_binary_in_place(plugin: &Path) {
    let bin = installed(plugin);
    let meta = std::fs::symlink_metadata(&bin).unwrap();
    assert!(
        meta.file_type().is_file(),
        "{} is not a regular file",
        bin.display()
    );
    assert_eq!(meta.permissions().mode() & 0o755, 0o755);
    assert!(
        std::fs::read(&bin).unwrap() == std::fs::read(BINARY).unwrap(),
        "{} is not the built binary",
        bin.display()
    );
}

/// bin/helm-x is the fallback: a link to scripts/run.sh.
fn assert_fallback_in_place(plugin: &Path) {
    let bin = installed(plugin);
    let meta = std::fs::symlink_metadata(&bin).unwrap();
    assert!(
        meta.file_type().is_symlink(),
        "{} is not a link",
        bin.display()
    );
    assert_eq!(
        std::fs::canonicalize(&bin).unwrap(),
        std::fs::canonicalize(plugin.join("scripts/run.sh")).unwrap()
    );
}

/// Replaces scripts/run.sh by one that fails loudly, so a run that succeeds never went through it.
fn break_the_fallback(plugin: &Path) {
    let shim = plugin.join("scripts/run.sh");
    std::fs::write(&shim, "#!/bin/sh\necho 'scripts/run.sh ran' >&2\nexit 99\n").unwrap();
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
}

const NO_BINARY: &str = "set HELM_X_BIN=/path/to/helm-x";

#[test]
fn plugin_yaml_runs_the_installed_binary_without_a_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let yaml = plugin_yaml(&plugin_copy(tmp.path()));
    assert_eq!(yaml["name"], "x");
    assert_eq!(yaml["command"], "$HELM_PLUGIN_DIR/bin/helm-x");
    // Helm 4 and 3.18 refuse a plugin.yaml with both; Helm 3 before 3.18 ignores os-less entries.
    assert!(yaml.get("platformCommand").is_none(), "{yaml}");
    for event in ["install", "update"] {
        assert_eq!(
            yaml["hooks"][event], "$HELM_PLUGIN_DIR/scripts/install-hook.sh",
            "{event}"
        );
    }
}

#[test]
fn hook_puts_the_binary_where_the_command_runs_it_directly() {
    let tmp = tempfile::tempdir().unwrap();
    let plugin = plugin_copy(tmp.path());
    let out = run(hook(&plugin, "install").env("HELM_X_BIN", BINARY));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_binary_in_place(&plugin);
    break_the_fallback(&plugin);
    let out = run(&mut plugin_command(&plugin, &["version"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), version_line());
}

#[test]
fn hook_keeps_a_bundled_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let plugin = plugin_copy(tmp.path());
    std::fs::create_dir(plugin.join("bin")).unwrap();
    std::fs::copy(BINARY, installed(&plugin)).unwrap();
    let out = run(&mut hook(&plugin, "install"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("using bundled"),
        "{}",
        text(&out.stderr)
    );
    assert_binary_in_place(&plugin);
}

#[test]
fn without_a_binary_the_command_is_the_fallback_that_installs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let plugin = plugin_copy(tmp.path());
    // No HELM_X_BIN, no bundled binary, no cargo: the hook fails and leaves the fallback.
    let out = run(&mut hook(&plugin, "install"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(NO_BINARY),
        "{}",
        text(&out.stderr)
    );
    assert_fallback_in_place(&plugin);
    // Run as helm would, the fallback says the same and fails...
    let out = run(&mut plugin_command(&plugin, &["version"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(NO_BINARY),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "");
    // ... until it can install the binary: then it runs it, and from then on helm does directly.
    let out = run(plugin_command(&plugin, &["version"]).env("HELM_X_BIN", BINARY));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), version_line());
    assert_binary_in_place(&plugin);
    break_the_fallback(&plugin);
    let out = run(&mut plugin_command(&plugin, &["version"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), version_line());
}

#[test]
fn a_bad_helm_x_bin_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let plugin = plugin_copy(tmp.path());
    for bad in ["/nonexistent/helm-x", "/"] {
        let out = run(hook(&plugin, "install").env("HELM_X_BIN", bad));
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(
            text(&out.stderr).contains("is not an executable file"),
            "{bad}: {}",
            text(&out.stderr)
        );
        assert_fallback_in_place(&plugin);
    }
}

/// With the real helm 3.18, 4.1 and 4.3: `helm plugin install` of a copy, in an isolated home.
#[cfg(feature = "e2e")]
mod helm {
    use super::*;
    use common::Tools;

    fn helm(helm: &Path, home: &Path) -> Command {
        let mut cmd = Command::new(helm);
        cmd.env("HELM_DATA_HOME", home.join("data"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env_remove("HELM_PLUGINS")
            .env_remove("HELM_X_BIN")
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", "/nonexistent");
        cmd
    }

    #[test]
    fn installs_a_copy_and_runs_the_binary_directly_on_every_helm() {
        let t = Tools::get();
        for (label, bin) in t.helms() {
            let home = tempfile::tempdir().unwrap();
            let plugin = plugin_copy(home.path());
            let out = run(helm(bin, home.path())
                .args(["plugin", "install"])
                .arg(&plugin)
                .env("HELM_X_BIN", BINARY));
            assert!(out.status.success(), "{label}: {}", text(&out.stderr));
            assert_binary_in_place(&plugin);
            // helm runs bin/helm-x itself: the fallback script is not on the way.
            break_the_fallback(&plugin);
            let out = run(helm(bin, home.path()).args(["x", "version"]));
            assert!(out.status.success(), "{label}: {}", text(&out.stderr));
            assert_eq!(text(&out.stdout), version_line(), "{label}");
            let out = run(helm(bin, home.path()).args(["x", "--help"]));
            assert!(text(&out.stdout).contains("upgrade"), "{label}");
        }
    }

    #[test]
    fn without_the_binary_helm_x_runs_the_fallback_on_every_helm() {
        let t = Tools::get();
        for (label, bin) in t.helms() {
            let home = tempfile::tempdir().unwrap();
            let plugin = plugin_copy(home.path());
            let out = run(helm(bin, home.path())
                .args(["plugin", "install"])
                .arg(&plugin));
            assert_eq!(out.status.code(), Some(1), "{label}");
            let err = text(&out.stderr);
            assert!(err.contains(NO_BINARY), "{label}: {err}");
            // The plugin stays installed (helm keeps it after a failed hook), with the fallback.
            assert_fallback_in_place(&plugin);
            let out = run(helm(bin, home.path()).args(["x", "version"]));
            assert_eq!(out.status.code(), Some(1), "{label}");
            assert!(text(&out.stderr).contains(NO_BINARY), "{label}");
            let out = run(helm(bin, home.path())
                .args(["x", "version"])
                .env("HELM_X_BIN", BINARY));
            assert!(out.status.success(), "{label}: {}", text(&out.stderr));
            assert_eq!(text(&out.stdout), version_line(), "{label}");
            assert_binary_in_place(&plugin);
            break_the_fallback(&plugin);
            let out = run(helm(bin, home.path()).args(["x", "version"]));
            assert!(out.status.success(), "{label}: {}", text(&out.stderr));
        }
    }

    fn git(repo: &Path, args: &[&str]) {
        let out = run(Command::new("git")
            .arg("-C")
            .arg(repo)
            .args([
                "-c",
                "user.name=helm-x tests",
                "-c",
                "user.email=tests@helm-x.invalid",
            ])
            .args(args));
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    }

    /// A git install, then `helm plugin update` after a new commit: helm makes the plugin dir anew
    /// from the updated checkout (bin/ is gone), and the update hook puts the binary back in place.
    #[test]
    fn update_of_a_git_install_puts_the_binary_back_on_every_helm() {
        let t = Tools::get();
        for (label, bin) in t.helms() {
            let home = tempfile::tempdir().unwrap();
            let repo = plugin_copy(&home.path().join("src"));
            std::fs::write(repo.join(".gitignore"), "/bin\n/target\n").unwrap();
            git(&repo, &["init", "-q"]);
            git(&repo, &["add", "-A"]);
            git(&repo, &["commit", "-qm", "plugin"]);
            let url = format!("file://{}", repo.display());
            let mut install = helm(bin, home.path());
            install
                .args(["plugin", "install", &url])
                .env("HELM_X_BIN", BINARY);
            if label != "helm3" {
                install.arg("--verify=false");
            }
            let out = run(&mut install);
            assert!(out.status.success(), "{label}: {}", text(&out.stderr));
            let plugin = home.path().join("data/plugins/helm-x");
            assert_binary_in_place(&plugin);

            std::fs::write(repo.join("NEWS"), "a new commit\n").unwrap();
            git(&repo, &["add", "NEWS"]);
            git(&repo, &["commit", "-qm", "news"]);
            let out = run(helm(bin, home.path())
                .args(["plugin", "update", "x"])
                .env("HELM_X_BIN", BINARY));
            assert!(out.status.success(), "{label}: {}", text(&out.stderr));
            assert!(plugin.join("NEWS").is_file(), "{label}: not updated");
            assert_binary_in_place(&plugin);
            break_the_fallback(&plugin);
            let out = run(helm(bin, home.path()).args(["x", "version"]));
            assert!(out.status.success(), "{label}: {}", text(&out.stderr));
            assert_eq!(text(&out.stdout), version_line(), "{label}");
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
}
