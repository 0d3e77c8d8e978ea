//! The work dir is private, and removed on success, on error and on Ctrl-C unless kept.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::testdata;

fn leftovers(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("helm-x-"))
        .collect()
}

/// Needs helm (4): runs with `--features e2e`.
#[cfg(feature = "e2e")]
#[test]
fn removed_on_success_and_error_kept_on_request() {
    use common::text;
    let t = common::Tools::get();
    let tmp = tempfile::tempdir().unwrap();
    let env = common::HelmEnv::new("helm4", &t.helm4, &t.kubectl)
        .with_env("TMPDIR", tmp.path().to_str().unwrap());
    let manifests = testdata("manifests");
    let manifests = manifests.to_str().unwrap();

    env.x_ok(["template", "r", manifests]);
    assert!(leftovers(tmp.path()).is_empty());

    let bad = env.x([
        "template",
        "r",
        manifests,
        "--strategic-merge-patch",
        "/nonexistent/patch.yaml",
    ]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad.stderr));
    assert!(leftovers(tmp.path()).is_empty());

    let kept = env.x(["template", "r", manifests, "--keep-workdir"]);
    assert!(kept.status.success());
    let left = leftovers(tmp.path());
    assert_eq!(left.len(), 1);
    let dir = tmp.path().join(&left[0]);
    assert!(
        text(&kept.stderr).contains(dir.to_str().unwrap()),
        "{}",
        text(&kept.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    assert!(dir.join("chart/Chart.yaml").is_file());
    assert!(dir.join("chart/templates/prometheus-rule.yaml").is_file());
}

/// SIGINT while helm runs: helm-x stops, removes its work dir, and exits 130. The "helm" here is a
/// stand-in that only sleeps, so the signal arrives at a known moment; nothing else is faked.
#[cfg(unix)]
#[test]
fn removed_on_ctrl_c() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let sleeper = tmp.path().join("sleepy-helm");
    std::fs::write(&sleeper, "#!/bin/sh\nexec sleep 30\n").unwrap();
    std::fs::set_permissions(&sleeper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let work = tmp.path().join("tmp");
    std::fs::create_dir(&work).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_helm-x"))
        // --show-only is applied by helm, so helm runs on the temporary chart (without it helm-x
        // prints a manifests dir itself).
        .args([
            "template",
            "r",
            testdata("manifests").to_str().unwrap(),
            "--show-only",
            "templates/prometheus-rule.yaml",
        ])
        .env("HELM_BIN", &sleeper)
        .env("TMPDIR", &work)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while leftovers(&work).is_empty() || !has_chart(&work) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "work dir never appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(leftovers(&work).is_empty(), "{:?}", leftovers(&work));
}

fn has_chart(work: &Path) -> bool {
    leftovers(work)
        .iter()
        .any(|d| work.join(d).join("chart/Chart.yaml").is_file())
}

/// A stand-in helm that handles SIGINT itself, like helm does: it records the signal, takes a moment
/// to clean up, and exits with its own code. Returns the script and the marker it writes.
#[cfg(unix)]
fn graceful_helm(dir: &Path, grace: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let marker = dir.join("helm-finished");
    let script = dir.join("graceful-helm");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntrap 'sleep {grace}; echo done > {}; exit 7' INT\nsleep 30 &\nwait $!\nsleep 30 &\nwait $!\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, marker)
}

#[cfg(unix)]
fn start_and_wait_for_chart(helm: &Path, work: &Path) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_helm-x"))
        // --show-only is applied by helm, so helm runs on the temporary chart (without it helm-x
        // prints a manifests dir itself).
        .args([
            "template",
            "r",
            testdata("manifests").to_str().unwrap(),
            "--show-only",
            "templates/prometheus-rule.yaml",
        ])
        .env("HELM_BIN", helm)
        .env("TMPDIR", work)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while leftovers(work).is_empty() || !has_chart(work) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "work dir never appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child
}

/// A signal sent to helm-x alone (kill) reaches helm; helm-x waits for helm's own interrupt handling, then
/// removes its work dir and exits with helm's code.
#[cfg(unix)]
#[test]
fn waits_for_helm_and_keeps_its_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let (helm, marker) = graceful_helm(tmp.path(), "1");
    let work = tmp.path().join("tmp");
    std::fs::create_dir(&work).unwrap();
    let mut child = start_and_wait_for_chart(&helm, &work);
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(marker.is_file(), "helm-x exited before helm finished");
    assert_eq!(status.code(), Some(7), "helm's exit code");
    assert!(leftovers(&work).is_empty(), "{:?}", leftovers(&work));
}

/// A second Ctrl-C does not wait: helm-x kills helm and exits at once, leaving no work dir.
#[cfg(unix)]
#[test]
fn a_second_signal_exits_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (helm, marker) = graceful_helm(tmp.path(), "20");
    let work = tmp.path().join("tmp");
    std::fs::create_dir(&work).unwrap();
    let mut child = start_and_wait_for_chart(&helm, &work);
    let start = Instant::now();
    // SAFETY: sending signals to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    std::thread::sleep(Duration::from_millis(300));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(status.code(), Some(130));
    assert!(!marker.is_file(), "helm was not left to finish");
    assert!(leftovers(&work).is_empty(), "{:?}", leftovers(&work));
}
