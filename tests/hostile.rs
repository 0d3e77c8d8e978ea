//! Deliberately hostile inputs, run through the real binary under an address-space limit: each
//! gives a clear error naming what is wrong (no panic, no abort, no signal), within the memory
//! bound and a few seconds, and leaves no work dir behind. Each is refused before helm would run:
//! the "helm" here is a stand-in that fails loudly if it is reached, so these need no real helm.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{s, text};

/// The address space one run may use (512 MiB; peak RSS stays far below it).
const MEMORY_LIMIT: u64 = 512 * 1024 * 1024;

/// A run that must finish quickly, even on a loaded two-core machine.
const TIME_LIMIT: Duration = Duration::from_secs(30);

struct Run {
    out: Output,
    took: Duration,
}

/// `helm-x ARGS` with TMPDIR in `tmp`, under [`MEMORY_LIMIT`].
fn helm_x(tmp: &Path, args: &[&str]) -> Run {
    let work = tmp.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let helm = tmp.join("helm");
    std::fs::write(
        &helm,
        "#!/bin/sh\necho \"helm ran for a hostile input: helm $*\" >&2\nexit 97\n",
    )
    .unwrap();
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_helm-x"));
    cmd.args(args)
        .env("HELM_BIN", &helm)
        .env("TMPDIR", &work)
        .env("KUBECONFIG", "/dev/null");
    // SAFETY: setrlimit is async-signal-safe and touches only the child being started.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let took = start.elapsed();
    let left: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "work dirs left behind: {left:?}");
    Run { out, took }
}

/// Asserts a clean failure whose message contains every one of `wanted`.
fn refused(run: &Run, wanted: &[&str]) -> String {
    let err = text(&run.out.stderr);
    assert_eq!(
        run.out.status.code(),
        Some(1),
        "a clean error exit, not a crash: {:?}\n{err}",
        run.out.status
    );
    assert!(
        !err.contains("panicked") && !err.contains("overflow"),
        "{err}"
    );
    for w in wanted {
        assert!(err.contains(w), "{w:?} missing from: {err}");
    }
    assert!(run.took < TIME_LIMIT, "took {:?}", run.took);
    err
}

fn write(path: &Path, body: &str) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(body.as_bytes()).unwrap();
}

fn manifests(dir: &Path, body: &str) -> String {
    let m = dir.join("manifests");
    std::fs::create_dir_all(&m).unwrap();
    write(&m.join("objects.yaml"), body);
    s(&m).to_string()
}

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: x\n";

#[test]
fn json_patch_copies_into_their_own_leaf() {
    let tmp = tempfile::tempdir().unwrap();
    let input = manifests(tmp.path(), CONFIGMAP);
    // Nest /data/a 100 levels deep, then copy it into its deepest leaf 9 times.
    let mut ops = String::from("- {op: add, path: /data/a, value: {}}\n");
    let mut leaf = String::from("/data/a");
    for _ in 0..100 {
        ops.push_str(&format!("- {{op: add, path: {leaf}/n, value: {{}}}}\n"));
        leaf.push_str("/n");
    }
    for _ in 0..9 {
        ops.push_str(&format!("- {{op: copy, from: /data/a, path: {leaf}/c}}\n"));
        leaf = format!("{leaf}/c{}", &leaf["/data/a".len()..]);
    }
    let patch = tmp.path().join("deep.yaml");
    write(
        &patch,
        &format!("target: {{version: v1, kind: ConfigMap, name: c}}\npatch:\n{ops}"),
    );
    let run = helm_x(
        tmp.path(),
        &["template", "r", &input, "--json-patch", s(&patch)],
    );
    refused(&run, &["deep.yaml", "would nest deeper than 512 levels"]);
}

#[test]
fn json_patch_copies_that_double_the_object() {
    let tmp = tempfile::tempdir().unwrap();
    let input = manifests(tmp.path(), CONFIGMAP);
    let mut ops = String::new();
    for i in 0..26 {
        ops.push_str(&format!("- {{op: copy, from: /data, path: /data/c{i}}}\n"));
    }
    let patch = tmp.path().join("double.yaml");
    write(
        &patch,
        &format!("target: {{version: v1, kind: ConfigMap, name: c}}\npatch:\n{ops}"),
    );
    let run = helm_x(
        tmp.path(),
        &["template", "r", &input, "--json-patch", s(&patch)],
    );
    refused(&run, &["double.yaml", "would exceed 64 MiB"]);
}

#[test]
fn aliases_of_one_huge_scalar() {
    let tmp = tempfile::tempdir().unwrap();
    let big = "x".repeat(1024 * 1024);
    let refs = ["*big"; 2000].join(", ");
    let body = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    big: &big {big}\ndata:\n  list: [{refs}]\n"
    );
    let input = manifests(tmp.path(), &body);
    let run = helm_x(tmp.path(), &["template", "r", &input]);
    refused(&run, &["objects.yaml", "MiB of scalars"]);
}

#[test]
fn many_documents_each_just_under_the_alias_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let mut doc = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{N}\ndata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..5 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        doc.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
    }
    let body: Vec<String> = (0..100)
        .map(|n| doc.replace("{N}", &n.to_string()))
        .collect();
    let input = manifests(tmp.path(), &body.join("---\n"));
    let run = helm_x(tmp.path(), &["template", "r", &input]);
    refused(&run, &["objects.yaml", "expand to more than"]);
}

#[test]
fn a_failed_test_on_a_secret_names_no_value() {
    let tmp = tempfile::tempdir().unwrap();
    let input = manifests(
        tmp.path(),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: aHVudGVyMg==\n",
    );
    let patch = tmp.path().join("probe.yaml");
    write(
        &patch,
        "target: {version: v1, kind: Secret, name: db}\npatch:\n- {op: test, path: /data/password, value: guess}\n",
    );
    let run = helm_x(
        tmp.path(),
        &["template", "r", &input, "--json-patch", s(&patch)],
    );
    let err = refused(&run, &["probe.yaml", "/data/password", "values differ"]);
    assert!(
        !err.contains("aHVudGVyMg==") && !err.contains("guess"),
        "{err}"
    );
}

#[test]
fn a_chart_archive_with_a_huge_pax_header() {
    let tmp = tempfile::tempdir().unwrap();
    let tgz = tmp.path().join("chart.tgz");
    let file = std::fs::File::create(&tgz).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    // A PAX header of 64 MiB of records (compresses to almost nothing).
    let record = {
        let body = format!("comment={}\n", "y".repeat(64 * 1024 * 1024));
        let len = body.len() + 1;
        let digits = (len + len.to_string().len()).to_string().len();
        format!("{} {body}", len + digits)
    };
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::XHeader);
    header.set_size(record.len() as u64);
    header.set_cksum();
    tar.append_data(&mut header, "PaxHeaders/Chart.yaml", record.as_bytes())
        .unwrap();
    let chart = b"apiVersion: v2\nname: c\nversion: 0.1.0\n";
    let mut header = tar::Header::new_ustar();
    header.set_size(chart.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "c/Chart.yaml", &chart[..])
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    let run = helm_x(tmp.path(), &["template", "r", s(&tgz)]);
    let err = refused(&run, &["chart.tgz", "header #1"]);
    assert!(err.len() < 2000, "a short error: {} bytes", err.len());
}
