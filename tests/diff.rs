//! End to end tests of `helm x diff` as a drop-in replacement for the helm-diff plugin: its flags,
//! exit codes, values rules, hooks, secrets, suppression, ignore rules, ownership, drift, renames,
//! output formats and the `revision`/`rollback`/`release` subcommands, against the local control
//! plane with every helm version.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{HelmEnv, cluster_envs, s, testdata, text};
use serde_json::Value;

/// The chart most tests diff: a ConfigMap with `x` and `z`, a Deployment, a Secret, a ConfigMap
/// named by `extraName`, a post-install/post-upgrade hook ConfigMap and a test hook Pod.
fn chart() -> PathBuf {
    testdata("diff-e2e/app")
}

/// The banner helm-diff prints on stderr for a release that is not installed.
const BANNER: &str = "Release was not present in Helm.  Include the `--allow-unreleased` to perform diff without exiting in error.";

/// One run: exit code and both streams.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn show(&self) -> String {
        format!(
            "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `helm x ARGS` with `vars` set (helm-diff's variables otherwise cleared) and `stdin` fed in.
fn run_full(env: &HelmEnv, args: &[&str], vars: &[(&str, &str)], stdin: Option<&str>) -> Out {
    let mut all = vec!["x"];
    all.extend_from_slice(args);
    let mut cmd = env.helm_cmd(&all);
    for var in common::DIFF_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code(),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    }
}

/// Runs `helm x ARGS`.
fn x(env: &HelmEnv, args: &[&str]) -> Out {
    run_full(env, args, &[], None)
}

/// Runs `helm x ARGS` with environment variables.
fn x_env(env: &HelmEnv, args: &[&str], vars: &[(&str, &str)]) -> Out {
    run_full(env, args, vars, None)
}

/// `args` then `extra`.
fn cat<'a>(args: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend_from_slice(extra);
    all
}

/// Asserts the exit code, showing the whole run when it differs.
#[track_caller]
fn expect(env: &HelmEnv, out: &Out, code: i32, what: &str) {
    assert_eq!(
        out.code,
        Some(code),
        "{}: {what}: expected exit {code}\n{}",
        env.label,
        out.show()
    );
}

/// Asserts that stdout contains `needle`.
#[track_caller]
fn has(env: &HelmEnv, out: &Out, needle: &str, what: &str) {
    assert!(
        out.stdout.contains(needle),
        "{}: {what}: stdout lacks {needle:?}\n{}",
        env.label,
        out.show()
    );
}

/// Asserts that stdout does not contain `needle`.
#[track_caller]
fn lacks(env: &HelmEnv, out: &Out, needle: &str, what: &str) {
    assert!(
        !out.stdout.contains(needle),
        "{}: {what}: stdout has {needle:?}\n{}",
        env.label,
        out.show()
    );
}

/// The object headers of a `diff` report (`NS, NAME, Kind (group) has …`), in order.
fn headers(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| {
            l.ends_with(" has changed:")
                || l.ends_with(" has been added:")
                || l.ends_with(" has been removed:")
                || l.ends_with(" changed ownership:")
                || l.ends_with(" has changed, but diff is empty after suppression.")
        })
        .map(str::to_string)
        .collect()
}

/// The lines of one object's entry in a `diff` report, header excluded.
fn section<'a>(stdout: &'a str, header: &str) -> Vec<&'a str> {
    let mut lines = stdout.lines().skip_while(|l| *l != header);
    assert!(lines.next().is_some(), "no entry {header:?} in:\n{stdout}");
    lines.take_while(|l| headers(l).is_empty()).collect()
}

/// Runs `body` for every helm version and fails listing each version it failed on, so one version's
/// failure does not hide the others'.
fn each(body: impl Fn(&HelmEnv)) {
    let mut failed = Vec::new();
    for env in cluster_envs() {
        if catch_unwind(AssertUnwindSafe(|| body(&env))).is_err() {
            failed.push(env.label);
        }
    }
    assert!(failed.is_empty(), "failed on {failed:?} (messages above)");
}

/// Independent checks within one run: each is tried even when an earlier one failed, and the run
/// fails at the end naming those that did.
struct Parts<'a> {
    env: &'a HelmEnv,
    failed: std::cell::RefCell<Vec<&'static str>>,
}

impl<'a> Parts<'a> {
    fn new(env: &'a HelmEnv) -> Self {
        Self {
            env,
            failed: Default::default(),
        }
    }

    fn check(&self, what: &'static str, f: impl FnOnce()) {
        if catch_unwind(AssertUnwindSafe(f)).is_err() {
            self.failed.borrow_mut().push(what);
        }
    }

    fn finish(self) {
        let failed = self.failed.into_inner();
        assert!(
            failed.is_empty(),
            "{}: failed parts: {failed:?} (messages above)",
            self.env.label
        );
    }
}

/// A namespace of this test's own for this helm version, with no release `release` in it and no
/// hook left by an earlier one (tests reuse namespaces: they never finish deleting without a
/// controller manager).
fn fresh(env: &HelmEnv, test: &str, release: &str) -> String {
    let ns = format!("dx-{test}-{}", env.label);
    let _ = env.helm(["uninstall", release, "-n", &ns, "--wait"]);
    let _ = env.kubectl(&["create", "namespace", &ns]);
    // helm uninstall leaves hook objects behind; a later run must not find them.
    let hook = format!("{release}-hook");
    let _ = env.kubectl(&[
        "delete",
        "configmap",
        &hook,
        "-n",
        &ns,
        "--ignore-not-found",
    ]);
    ns
}

/// `helm upgrade --install RELEASE CHART -n NS EXTRA…` with plain helm, asserting success.
fn install(env: &HelmEnv, release: &str, chart: &Path, ns: &str, extra: &[&str]) {
    let mut args = vec![
        "upgrade",
        "--install",
        release,
        s(chart),
        "-n",
        ns,
        "--create-namespace",
    ];
    args.extend_from_slice(extra);
    common::succeeded(env.label, env.helm(&args), "helm upgrade --install");
}

/// `helm uninstall`, asserting success, and the hook object it leaves behind.
fn uninstall(env: &HelmEnv, release: &str, ns: &str) {
    let out = env.helm(["uninstall", release, "-n", ns]);
    assert!(
        out.status.success(),
        "{}: uninstall: {}",
        env.label,
        text(&out.stderr)
    );
    let hook = format!("{release}-hook");
    let _ = env.kubectl(&["delete", "configmap", &hook, "-n", ns, "--ignore-not-found"]);
}

/// Base64 as `b64enc` prints it (standard alphabet, padded).
fn b64(bytes: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A copy of the chart at another version (`helm.sh/chart` labels change, nothing else).
fn chart_at_version(dir: &Path, version: &str) -> PathBuf {
    let copy = dir.join("dxapp");
    common::copy_dir(&chart(), &copy);
    let meta = std::fs::read_to_string(copy.join("Chart.yaml")).unwrap();
    let bumped = meta.replace("version: 0.1.0", &format!("version: {version}"));
    assert_ne!(meta, bumped);
    std::fs::write(copy.join("Chart.yaml"), bumped).unwrap();
    copy
}

fn kubectl_ok(env: &HelmEnv, args: &[&str]) -> String {
    common::succeeded(env.label, env.kubectl(args), &format!("kubectl {args:?}"))
}

/// Every value flag works as `--flag value` and `--flag=value` (and its short form), every
/// boolean as `--flag` and `--flag=true|false`, with the same report.
#[test]
fn flags_parse_in_both_forms() {
    let chart = chart();
    each(|env| {
        let ns = fresh(env, "flags", "r");
        install(env, "r", &chart, &ns, &[]);
        let base = [
            "diff",
            "upgrade",
            "r",
            s(&chart),
            "-n",
            &ns,
            "--set",
            "x=changed",
            "--set",
            "extraName=extra-b",
            "--set",
            "password=other-password",
        ];
        let run = |extra: &[&str]| x(env, &cat(&base, extra));
        let plain = run(&[]);
        expect(env, &plain, 0, "plain diff");
        has(
            env,
            &plain,
            "-   x: \"default-x\"\n+   x: \"changed\"\n",
            "plain diff",
        );

        let same = |forms: &[&[&str]], what: &str| -> Out {
            let first = run(forms[0]);
            for form in &forms[1..] {
                let other = run(form);
                assert_eq!(
                    (other.code, &other.stdout),
                    (first.code, &first.stdout),
                    "{}: {what}: {form:?} differs from {:?}\n{}\n=== vs ===\n{}",
                    env.label,
                    forms[0],
                    other.show(),
                    first.show()
                );
            }
            first
        };

        let ctx = same(
            &[
                &["--context", "2"],
                &["--context=2"],
                &["-C", "2"],
                &["-C2"],
            ],
            "context",
        );
        expect(env, &ctx, 0, "--context 2");
        has(env, &ctx, "...\n", "--context 2 elides");
        assert_ne!(
            ctx.stdout, plain.stdout,
            "{}: --context 2 changed nothing",
            env.label
        );

        let simple = same(&[&["--output", "simple"], &["--output=simple"]], "output");
        has(
            env,
            &simple,
            "Plan: 1 to add, 2 to change, 1 to destroy, 0 to change ownership.\n",
            "--output simple",
        );

        let suppress = same(
            &[&["--suppress", "ConfigMap"], &["--suppress=ConfigMap"]],
            "suppress",
        );
        has(
            env,
            &suppress,
            &format!(
                "{ns}, r-config, ConfigMap (v1) has changed:\n+ Changes suppressed on sensitive content of type ConfigMap\n"
            ),
            "--suppress ConfigMap",
        );
        lacks(env, &suppress, "+   x: \"changed\"", "--suppress ConfigMap");

        let renames = same(
            &[
                &["--find-renames", "0.5"],
                &["--find-renames=0.5"],
                &["-D", "0.5"],
            ],
            "find-renames",
        );
        has(
            env,
            &renames,
            &format!("{ns}, extra-a, ConfigMap (v1) has changed:\n"),
            "-D 0.5",
        );
        lacks(env, &renames, "has been removed:", "-D 0.5");

        let regex = same(
            &[
                &["--suppress-output-line-regex", "x: "],
                &["--suppress-output-line-regex=x: "],
            ],
            "suppress-output-line-regex",
        );
        lacks(
            env,
            &regex,
            "x: \"changed\"",
            "--suppress-output-line-regex",
        );
        has(
            env,
            &regex,
            &format!(
                "{ns}, r-config, ConfigMap (v1) has changed, but diff is empty after suppression.\n"
            ),
            "--suppress-output-line-regex",
        );

        let three = same(
            &[&[], &["--three-way-merge=false"]],
            "three-way-merge=false",
        );
        assert_eq!(three.stdout, plain.stdout);

        let detailed = same(
            &[&["--detailed-exitcode"], &["--detailed-exitcode=true"]],
            "detailed-exitcode",
        );
        expect(env, &detailed, 2, "--detailed-exitcode");
        assert_eq!(detailed.stdout, plain.stdout, "{}", env.label);
        let off = same(
            &[&[], &["--detailed-exitcode=false"]],
            "detailed-exitcode=false",
        );
        expect(env, &off, 0, "--detailed-exitcode=false");

        let hidden = same(&[&[], &["--show-secrets=false"]], "show-secrets=false");
        lacks(
            env,
            &hidden,
            &b64("other-password"),
            "secrets hidden by default",
        );
        let shown = same(
            &[&["--show-secrets"], &["--show-secrets=true"]],
            "show-secrets",
        );
        has(env, &shown, &b64("other-password"), "--show-secrets");

        // A boolean flag followed by a helm flag: the helm flag is no value of the boolean.
        let mut reordered = base[..6].to_vec();
        reordered.extend([
            "--detailed-exitcode",
            "--set",
            "x=changed",
            "--show-secrets",
        ]);
        reordered.extend([
            "--set",
            "extraName=extra-b",
            "--set",
            "password=other-password",
        ]);
        let out = x(env, &reordered);
        expect(
            env,
            &out,
            2,
            "--detailed-exitcode --set … --show-secrets --set …",
        );
        assert_eq!(out.stdout, shown.stdout, "{}: reordered flags", env.label);

        uninstall(env, "r", &ns);
    });
}

/// Flags helm-diff does not take, bad values and a missing INPUT exit 1 (never 2), naming the
/// problem; HELM_DIFF_IGNORE_UNKNOWN_FLAGS=true drops unknown flags with a warning.
#[test]
fn unknown_and_usage_errors_exit_1() {
    let chart = chart();
    each(|env| {
        let ns = fresh(env, "usage", "r");
        install(env, "r", &chart, &ns, &[]);
        let base = [
            "diff",
            "upgrade",
            "r",
            s(&chart),
            "-n",
            &ns,
            "--set",
            "x=changed",
        ];
        let cases: [(&[&str], &str); 7] = [
            (&["--wait"], "--wait"),
            (&["--timeout", "5m"], "--timeout"),
            (&["--totally-bogus"], "--totally-bogus"),
            (&["--output", "yaml"], "yaml"),
            (&["--context", "x"], "--context"),
            (&["--dry-run=sometimes"], "dry-run"),
            (&["--server-side=maybe"], "server-side"),
        ];
        for (bad, named) in cases {
            for detailed in [false, true] {
                let mut args = base.to_vec();
                args.extend_from_slice(bad);
                if detailed {
                    args.push("--detailed-exitcode");
                }
                let out = x(env, &args);
                expect(env, &out, 1, &format!("{bad:?} (detailed {detailed})"));
                assert!(
                    out.stderr.contains(named),
                    "{}: {bad:?}: stderr does not name {named:?}\n{}",
                    env.label,
                    out.show()
                );
                assert_eq!(out.stdout, "", "{}: {bad:?}", env.label);
            }
        }
        for detailed in [&[][..], &["--detailed-exitcode"]] {
            let out = x(env, &cat(&["diff", "upgrade", "r", "-n", &ns], detailed));
            expect(env, &out, 1, "missing INPUT");
            assert!(
                out.stderr.contains("INPUT"),
                "{}: {}",
                env.label,
                out.show()
            );
            assert_eq!(out.stdout, "");
        }

        // Ignored unknown flags: warned about, and the diff runs as without them.
        let ignore = [("HELM_DIFF_IGNORE_UNKNOWN_FLAGS", "true")];
        let want = x(env, &cat(&base, &["--detailed-exitcode"]));
        expect(env, &want, 2, "the diff itself");
        for unknown in [&["--wait"][..], &["--timeout", "5m"], &["--totally-bogus"]] {
            let args = cat(&cat(&base, unknown), &["--detailed-exitcode"]);
            let out = x_env(env, &args, &ignore);
            expect(env, &out, 2, &format!("{unknown:?} ignored"));
            assert_eq!(
                out.stdout, want.stdout,
                "{}: {unknown:?} ignored",
                env.label
            );
            assert!(
                out.stderr.contains(unknown[0]),
                "{}: no warning naming {}\n{}",
                env.label,
                unknown[0],
                out.show()
            );
        }
        // A known helm-diff flag with a bad value is still an error.
        let out = x_env(env, &cat(&base, &["--output", "yaml"]), &ignore);
        expect(env, &out, 1, "--output yaml with unknown flags ignored");
        // Also after a boolean flag of helm-diff's, and with no change to report.
        let out = x_env(
            env,
            &[
                "diff",
                "upgrade",
                "r",
                s(&chart),
                "-n",
                &ns,
                "--detailed-exitcode",
                "--wait",
            ],
            &ignore,
        );
        expect(
            env,
            &out,
            0,
            "--detailed-exitcode --wait, ignored, nothing changes",
        );
        assert_eq!(out.stdout, "", "{}", env.label);

        uninstall(env, "r", &ns);
    });
}

/// A release that is not installed: exit 1 with helm-diff's banner, unless `--allow-unreleased`
/// or `--install`, which show every object added.
#[test]
fn missing_release() {
    let chart = chart();
    each(|env| {
        let ns = fresh(env, "missing", "r");
        let base = ["diff", "upgrade", "r", s(&chart), "-n", &ns];
        for extra in [&[][..], &["--detailed-exitcode"], &["--output", "simple"]] {
            let out = x(env, &cat(&base, extra));
            expect(env, &out, 1, &format!("missing release {extra:?}"));
            assert!(out.stderr.contains(BANNER), "{}: {}", env.label, out.show());
            assert_eq!(out.stdout, "", "{}", env.label);
        }
        let unreleased = x(
            env,
            &cat(&base, &["--allow-unreleased", "--detailed-exitcode"]),
        );
        expect(env, &unreleased, 2, "--allow-unreleased");
        assert!(!unreleased.stderr.contains(BANNER), "{}", env.label);
        let added: Vec<String> = [
            "extra-a, ConfigMap (v1)",
            "r-config, ConfigMap (v1)",
            "r-hook, ConfigMap (v1)",
            "r-secret, Secret (v1)",
            "r-web, Deployment (apps)",
        ]
        .iter()
        .map(|k| format!("{ns}, {k} has been added:"))
        .collect();
        assert_eq!(
            headers(&unreleased.stdout),
            added,
            "{}\n{}",
            env.label,
            unreleased.show()
        );
        lacks(env, &unreleased, "default-password", "secret redacted");
        lacks(
            env,
            &unreleased,
            &b64("default-password"),
            "secret redacted",
        );
        has(
            env,
            &unreleased,
            "+   password: '++++++++ # (16 bytes)'\n",
            "secret size",
        );
        common::assert_golden(
            "diff-e2e-unreleased.txt",
            &unreleased.stdout.replace(&ns, "NS"),
        );

        let install_flag = x(env, &cat(&base, &["--install", "--detailed-exitcode"]));
        expect(env, &install_flag, 2, "--install");
        assert_eq!(
            install_flag.stdout, unreleased.stdout,
            "{}: --install",
            env.label
        );
        let explicit = x(env, &cat(&base, &["--allow-unreleased=true"]));
        expect(
            env,
            &explicit,
            0,
            "--allow-unreleased=true without --detailed-exitcode",
        );
        assert_eq!(explicit.stdout, unreleased.stdout);
        let off = x(env, &cat(&base, &["--allow-unreleased=false"]));
        expect(env, &off, 1, "--allow-unreleased=false");
        assert!(off.stderr.contains(BANNER), "{}", env.label);

        let simple = x(
            env,
            &cat(&base, &["--allow-unreleased", "--output", "simple"]),
        );
        expect(env, &simple, 0, "simple");
        assert_eq!(
            simple.stdout,
            format!(
                "{ns}, extra-a, ConfigMap (v1) to be added.\n{ns}, r-config, ConfigMap (v1) to be added.\n{ns}, r-hook, ConfigMap (v1) to be added.\n{ns}, r-secret, Secret (v1) to be added.\n{ns}, r-web, Deployment (apps) to be added.\nPlan: 5 to add, 0 to change, 0 to destroy, 0 to change ownership.\n"
            ),
            "{}",
            env.label
        );
        // The test hook Pod shows only with --include-tests.
        let tests = x(
            env,
            &cat(
                &base,
                &[
                    "--allow-unreleased",
                    "--output",
                    "simple",
                    "--include-tests",
                ],
            ),
        );
        has(
            env,
            &tests,
            &format!("{ns}, r-test, Pod (v1) to be added.\n"),
            "--include-tests",
        );
        has(env, &tests, "Plan: 6 to add,", "--include-tests");
    });
}

/// Values follow helm's upgrade rules: no values reuse the release's; `--set` alone starts from
/// the chart's defaults; `--reset-values`, `--reuse-values`, `--reset-then-reuse-values`, `-f -`.
#[test]
fn values_reuse_follows_helm() {
    let chart = chart();
    each(|env| {
        let ns = fresh(env, "values", "r");
        install(env, "r", &chart, &ns, &["--set", "x=a"]);
        let base = ["diff", "upgrade", "r", s(&chart), "-n", &ns];
        let header = format!("{ns}, r-config, ConfigMap (v1) has changed:");
        let config = |out: &Out| -> Vec<String> {
            section(&out.stdout, &header)
                .into_iter()
                .filter(|l| l.starts_with('-') || l.starts_with('+'))
                .map(str::to_string)
                .collect()
        };
        let run_in = |extra: &[&str], stdin: Option<&str>| {
            run_full(
                env,
                &cat(&cat(&base, extra), &["--detailed-exitcode"]),
                &[],
                stdin,
            )
        };
        let run = |extra: &[&str]| run_in(extra, None);

        let out = run(&[]);
        expect(env, &out, 0, "no values: the release's are reused");
        assert_eq!(out.stdout, "", "{}", env.label);

        let out = run(&["--reset-values"]);
        expect(env, &out, 2, "--reset-values");
        assert_eq!(
            headers(&out.stdout),
            std::slice::from_ref(&header),
            "{}",
            env.label
        );
        assert_eq!(
            config(&out),
            ["-   x: \"a\"", "+   x: \"default-x\""],
            "{}",
            env.label
        );

        let out = run(&["--reuse-values", "--set", "z=b"]);
        expect(env, &out, 2, "--reuse-values --set z=b");
        assert_eq!(
            headers(&out.stdout),
            std::slice::from_ref(&header),
            "{}",
            env.label
        );
        assert_eq!(
            config(&out),
            ["-   z: \"default-z\"", "+   z: \"b\""],
            "{}",
            env.label
        );

        let out = run(&["--reset-then-reuse-values", "--set", "z=b"]);
        expect(env, &out, 2, "--reset-then-reuse-values --set z=b");
        assert_eq!(
            config(&out),
            ["-   z: \"default-z\"", "+   z: \"b\""],
            "{}",
            env.label
        );

        // New values without a reuse flag: helm starts from the chart's defaults.
        let out = run(&["--set", "z=b"]);
        expect(env, &out, 2, "--set z=b");
        assert_eq!(
            config(&out),
            [
                "-   x: \"a\"",
                "-   z: \"default-z\"",
                "+   x: \"default-x\"",
                "+   z: \"b\""
            ],
            "{}",
            env.label
        );

        let out = run_in(&["-f", "-"], Some("x: a\nz: from-stdin\n"));
        expect(env, &out, 2, "-f -");
        assert_eq!(
            config(&out),
            ["-   z: \"default-z\"", "+   z: \"from-stdin\""],
            "{}",
            env.label
        );
        let out = run_in(&["--values=-"], Some("x: a\n"));
        expect(env, &out, 0, "--values=- with the installed values");
        let out = run_in(
            &["--reuse-values", "-f", "-", "--set", "x=set"],
            Some("z: from-stdin\n"),
        );
        expect(env, &out, 2, "--reuse-values -f - --set");
        assert_eq!(
            config(&out),
            [
                "-   x: \"a\"",
                "-   z: \"default-z\"",
                "+   x: \"set\"",
                "+   z: \"from-stdin\""
            ],
            "{}",
            env.label
        );

        uninstall(env, "r", &ns);
    });
}

/// Hooks are compared on both sides; `--no-hooks` leaves them out of both.
#[test]
fn no_hooks_on_both_sides() {
    let chart = chart();
    each(|env| {
        let ns = fresh(env, "hooks", "r");
        install(env, "r", &chart, &ns, &[]);
        let base = ["diff", "upgrade", "r", s(&chart), "-n", &ns];
        let hook = format!("{ns}, r-hook, ConfigMap (v1) has changed:");
        let run = |extra: &[&str]| x(env, &cat(&cat(&base, extra), &["--detailed-exitcode"]));

        let out = run(&[]);
        expect(env, &out, 0, "unchanged, hooks included");
        assert_eq!(out.stdout, "", "{}", env.label);

        let out = run(&["--set", "hook=two"]);
        expect(env, &out, 2, "hook changed");
        assert_eq!(
            headers(&out.stdout),
            std::slice::from_ref(&hook),
            "{}",
            env.label
        );
        let lines: Vec<&str> = section(&out.stdout, &hook)
            .into_iter()
            .filter(|l| l.starts_with('-') || l.starts_with('+'))
            .collect();
        assert_eq!(
            lines,
            ["-   hook: \"one\"", "+   hook: \"two\""],
            "{}",
            env.label
        );

        let out = run(&["--set", "hook=two", "--no-hooks"]);
        expect(env, &out, 0, "hook changed, --no-hooks");
        assert_eq!(out.stdout, "", "{}", env.label);

        let out = run(&["--set", "hook=two", "--set", "x=new", "--no-hooks"]);
        expect(env, &out, 2, "hook and x changed, --no-hooks");
        assert_eq!(
            headers(&out.stdout),
            [format!("{ns}, r-config, ConfigMap (v1) has changed:")],
            "{}",
            env.label
        );

        // After an upgrade that changed only the hook.
        install(env, "r", &chart, &ns, &["--set", "hook=two"]);
        let out = run(&["--set", "hook=two"]);
        expect(env, &out, 0, "upgraded hook, same values");
        assert_eq!(out.stdout, "", "{}", env.label);
        let out = run(&["--set", "hook=one", "--no-hooks"]);
        expect(env, &out, 0, "hook back to one, --no-hooks");
        assert_eq!(out.stdout, "", "{}", env.label);
        let out = run(&["--set", "hook=one"]);
        expect(env, &out, 2, "hook back to one");
        assert_eq!(
            headers(&out.stdout),
            std::slice::from_ref(&hook),
            "{}",
            env.label
        );
        has(
            env,
            &out,
            "-   hook: \"two\"\n+   hook: \"one\"\n",
            "hook back to one",
        );

        uninstall(env, "r", &ns);
    });
}

/// Secret values never show unless asked; `--suppress KIND`/`-q` hide an object's lines;
/// `--suppress-output-line-regex` hides lines but not the change from `--detailed-exitcode`.
#[test]
fn suppression_and_secrets() {
    let chart = chart();
    const OLD: &str = "alpha-secret-value-1";
    const NEW: &str = "beta-secret-value-2";
    each(|env| {
        let ns = fresh(env, "secrets", "r");
        let old_set = format!("password={OLD}");
        let new_set = format!("password={NEW}");
        install(env, "r", &chart, &ns, &["--set", &old_set]);
        let base = ["diff", "upgrade", "r", s(&chart), "-n", &ns];
        let secret = format!("{ns}, r-secret, Secret (v1) has changed:");
        let run = |extra: &[&str]| x(env, &cat(&base, extra));
        let never = |out: &Out, values: &[String], what: &str| {
            for v in values {
                assert!(
                    !out.stdout.contains(v.as_str()) && !out.stderr.contains(v.as_str()),
                    "{}: {what}: {v:?} leaked\n{}",
                    env.label,
                    out.show()
                );
            }
        };
        let all = [OLD.to_string(), NEW.to_string(), b64(OLD), b64(NEW)];

        let out = run(&["--set", &new_set, "--detailed-exitcode"]);
        expect(env, &out, 2, "secret changed");
        assert_eq!(
            headers(&out.stdout),
            std::slice::from_ref(&secret),
            "{}",
            env.label
        );
        assert_eq!(
            section(&out.stdout, &secret)
                .into_iter()
                .filter(|l| l.starts_with('-') || l.starts_with('+'))
                .collect::<Vec<_>>(),
            [
                "-   password: '-------- # (20 bytes)'",
                "+   password: '++++++++ # (19 bytes)'"
            ],
            "{}",
            env.label
        );
        never(&out, &all, "redacted");
        for output in ["simple", "json", "markdown", "structured", "dyff"] {
            let out = run(&["--set", &new_set, "--output", output]);
            never(&out, &all, output);
        }
        let out = run(&["--set", &new_set, "--context", "0", "-D", "0.9"]);
        never(&out, &all, "redacted with context 0");

        let out = run(&["--set", &new_set, "--show-secrets"]);
        expect(env, &out, 0, "--show-secrets");
        has(
            env,
            &out,
            &format!("-   password: \"{}\"\n", b64(OLD)),
            "--show-secrets",
        );
        has(
            env,
            &out,
            &format!("+   password: \"{}\"\n", b64(NEW)),
            "--show-secrets",
        );
        never(
            &out,
            &[OLD.to_string(), NEW.to_string()],
            "--show-secrets shows base64 only",
        );

        let out = run(&["--set", &new_set, "--show-secrets-decoded"]);
        expect(env, &out, 0, "--show-secrets-decoded");
        has(
            env,
            &out,
            &format!("-   password: {OLD}\n+   password: {NEW}\n"),
            "--show-secrets-decoded",
        );
        never(
            &out,
            &[b64(OLD), b64(NEW)],
            "--show-secrets-decoded shows plain text only",
        );

        let suppressed =
            format!("{secret}\n+ Changes suppressed on sensitive content of type Secret\n");
        let out = run(&[
            "--set",
            &new_set,
            "--suppress",
            "Secret",
            "--detailed-exitcode",
        ]);
        expect(env, &out, 2, "--suppress Secret");
        assert_eq!(out.stdout, suppressed, "{}", env.label);
        never(&out, &all, "--suppress Secret");
        for flag in [
            &["-q"][..],
            &["--suppress-secrets"],
            &["--suppress-secrets=true"],
        ] {
            let out = run(&cat(&["--set", &new_set, "--detailed-exitcode"], flag));
            expect(env, &out, 2, &format!("{flag:?}"));
            assert_eq!(out.stdout, suppressed, "{}: {flag:?}", env.label);
        }
        let out = run(&[
            "--set",
            &new_set,
            "--suppress",
            "Secret",
            "--show-secrets-decoded",
        ]);
        assert_eq!(
            out.stdout, suppressed,
            "{}: suppression beats --show-secrets-decoded",
            env.label
        );
        let out = run(&[
            "--set",
            &new_set,
            "--suppress",
            "Secret",
            "--output",
            "simple",
        ]);
        has(
            env,
            &out,
            "Plan: 0 to add, 1 to change, 0 to destroy, 0 to change ownership.\n",
            "suppressed Secret counts",
        );

        // Line suppression: the change still counts for --detailed-exitcode.
        let config = format!("{ns}, r-config, ConfigMap (v1)");
        let out = run(&[
            "--set",
            &old_set,
            "--set",
            "x=hidden",
            "--suppress-output-line-regex",
            "x: ",
            "--detailed-exitcode",
        ]);
        expect(env, &out, 2, "only suppressed lines changed");
        assert_eq!(
            out.stdout,
            format!("{config} has changed, but diff is empty after suppression.\n"),
            "{}",
            env.label
        );
        let out = run(&[
            "--set",
            &old_set,
            "--set",
            "x=hidden",
            "--set",
            "z=shown",
            "--suppress-output-line-regex",
            "x: ",
            "--detailed-exitcode",
        ]);
        expect(env, &out, 2, "some lines suppressed");
        assert_eq!(
            headers(&out.stdout),
            [format!("{config} has changed:")],
            "{}",
            env.label
        );
        has(env, &out, "+   z: \"shown\"\n", "unsuppressed line");
        lacks(env, &out, "hidden", "suppressed line");
        lacks(env, &out, "default-x", "suppressed line");
        let out = run(&[
            "--set",
            &old_set,
            "--set",
            "x=hidden",
            "--suppress-output-line-regex",
            "x: ",
            "--output",
            "simple",
        ]);
        assert_eq!(
            out.stdout,
            format!(
                "{config} has changed, but diff is empty after suppression.\nPlan: 0 to add, 0 to change, 0 to destroy, 0 to change ownership.\n"
            ),
            "{}",
            env.label
        );

        uninstall(env, "r", &ns);
    });
}

/// `--ignore`, `--ignore-file` and `--ignore-preset` take fields out of the comparison, so they
/// change the exit code too.
#[test]
fn ignore_rules_change_the_exit_code() {
    let chart = chart();
    each(|env| {
        let ns = fresh(env, "ignore", "r");
        install(env, "r", &chart, &ns, &[]);
        let dir = tempfile::tempdir().unwrap();
        let bumped = chart_at_version(dir.path(), "0.2.0");
        let diff = |input: &Path, extra: &[&str]| {
            let args = cat(&["diff", "upgrade", "r", s(input), "-n", &ns], extra);
            x(env, &cat(&args, &["--detailed-exitcode"]))
        };

        let out = diff(&bumped, &[]);
        expect(env, &out, 2, "chart version bump");
        assert_eq!(
            headers(&out.stdout),
            [
                format!("{ns}, r-config, ConfigMap (v1) has changed:"),
                format!("{ns}, r-web, Deployment (apps) has changed:"),
            ],
            "{}",
            env.label
        );
        has(
            env,
            &out,
            "-     helm.sh/chart: dxapp-0.1.0\n+     helm.sh/chart: dxapp-0.2.0\n",
            "bump",
        );

        let out = diff(&bumped, &["--ignore-preset", "chart-labels"]);
        expect(env, &out, 0, "--ignore-preset chart-labels");
        assert_eq!(out.stdout, "", "{}", env.label);
        let out = diff(&bumped, &["--ignore-preset=chart-labels", "--set", "x=new"]);
        expect(env, &out, 2, "chart-labels with a real change");
        assert_eq!(
            headers(&out.stdout),
            [format!("{ns}, r-config, ConfigMap (v1) has changed:")],
            "{}",
            env.label
        );
        has(
            env,
            &out,
            "-   x: default-x\n+   x: new\n",
            "the real change (normalized)",
        );
        lacks(env, &out, "0.2.0", "the ignored label");
        let out = diff(&bumped, &["--ignore-preset", "no-such-preset"]);
        expect(env, &out, 1, "unknown preset");
        assert!(out.stderr.contains("no-such-preset"), "{}", out.show());

        let out = diff(&chart, &["--set", "x=new"]);
        expect(env, &out, 2, "x changed");
        let out = diff(&chart, &["--set", "x=new", "--ignore", "ConfigMap:/data/x"]);
        expect(env, &out, 0, "--ignore ConfigMap:/data/x");
        assert_eq!(out.stdout, "", "{}", env.label);
        let out = diff(&chart, &["--set", "x=new", "--ignore=v1/ConfigMap:/data/x"]);
        expect(env, &out, 0, "--ignore=v1/ConfigMap:/data/x");
        let out = diff(&chart, &["--set", "x=new", "--ignore", "/data/*"]);
        expect(env, &out, 0, "--ignore /data/*");
        let out = diff(&chart, &["--set", "x=new", "--ignore", "Secret:/data/x"]);
        expect(env, &out, 2, "a rule for another kind");
        has(env, &out, "+   x: \"new\"", "a rule for another kind");
        let out = diff(
            &chart,
            &[
                "--set",
                "x=new",
                "--set",
                "z=new",
                "--ignore",
                "ConfigMap:/data/x",
            ],
        );
        expect(env, &out, 2, "x ignored, z changed");
        has(env, &out, "+   z: new\n", "z shown (normalized)");
        lacks(env, &out, "x: new", "x ignored");

        let file = dir.path().join("ignore.txt");
        std::fs::write(
            &file,
            "# fields the CD system owns\nConfigMap:/data/x\n\n/metadata/labels/helm.sh~1chart\n",
        )
        .unwrap();
        let out = diff(&bumped, &["--set", "x=new", "--ignore-file", s(&file)]);
        expect(env, &out, 0, "--ignore-file");
        assert_eq!(out.stdout, "", "{}", env.label);
        let out = diff(
            &bumped,
            &["--set", "z=new", &format!("--ignore-file={}", s(&file))],
        );
        expect(env, &out, 2, "--ignore-file, z changed");
        assert_eq!(
            headers(&out.stdout),
            [format!("{ns}, r-config, ConfigMap (v1) has changed:")],
            "{}",
            env.label
        );
        let missing = dir.path().join("missing.txt");
        let out = diff(&chart, &["--ignore-file", s(&missing)]);
        expect(env, &out, 1, "missing --ignore-file");

        uninstall(env, "r", &ns);
    });
}

/// An object the release would create that already exists (made with kubectl) changes
/// ownership, with a warning on stderr about --take-ownership.
#[test]
fn ownership_of_objects_made_outside_helm() {
    let input = testdata("diff-e2e/owned");
    each(|env| {
        let ns = fresh(env, "owner", "own");
        let _ = env.kubectl(&["delete", "configmap", "dx-owned", "-n", &ns]);
        kubectl_ok(
            env,
            &[
                "create",
                "configmap",
                "dx-owned",
                // The chart's data, so Helm 4's server-side apply takes it over without a conflict.
                "--from-literal=a=new",
                "-n",
                &ns,
            ],
        );
        let base = ["diff", "upgrade", "own", s(&input), "-n", &ns];
        let key = format!("{ns}, dx-owned, ConfigMap (v1)");
        let parts = Parts::new(env);
        parts.check("diff", || {
            let out = x(
                env,
                &cat(&base, &["--allow-unreleased", "--detailed-exitcode"]),
            );
            expect(env, &out, 2, "ownership change");
            has(
                env,
                &out,
                &format!("{key} changed ownership:\n- \n+ {ns}/own\n"),
                "ownership entry",
            );
            lacks(
                env,
                &out,
                &format!("{key} has been added:"),
                "the object exists",
            );
            assert!(
                out.stderr.contains("dx-owned") && out.stderr.contains("--take-ownership"),
                "{}: no warning about --take-ownership\n{}",
                env.label,
                out.show()
            );
        });
        parts.check("simple", || {
            let out = x(
                env,
                &cat(&base, &["--allow-unreleased", "--output", "simple"]),
            );
            expect(env, &out, 0, "simple");
            has(
                env,
                &out,
                &format!("{key} to change ownership.\n"),
                "simple",
            );
            has(env, &out, "0 to add,", "simple");
            has(env, &out, " 1 to change ownership.\n", "simple");
        });
        parts.check("json", || {
            let out = x(
                env,
                &cat(&base, &["--allow-unreleased", "--output", "json"]),
            );
            let json: Value = serde_json::from_str(&out.stdout)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", env.label, out.show()));
            assert!(
                json.as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["name"] == "dx-owned" && e["change"] == "OWNERSHIP"),
                "{}: {json}",
                env.label
            );
        });
        parts.check("--take-ownership", || {
            let out = x(
                env,
                &cat(
                    &base,
                    &[
                        "--take-ownership",
                        "--allow-unreleased",
                        "--detailed-exitcode",
                    ],
                ),
            );
            expect(env, &out, 2, "--take-ownership");
            has(
                env,
                &out,
                &format!("{key} changed ownership:\n"),
                "--take-ownership",
            );
            assert!(
                !out.stderr.contains("warning"),
                "{}: warned despite --take-ownership\n{}",
                env.label,
                out.show()
            );
        });
        // An object the release already owns changes no ownership.
        let release = env.x([
            "upgrade",
            "--install",
            "own",
            s(&input),
            "-n",
            &ns,
            "--take-ownership",
        ]);
        common::succeeded(env.label, release, "helm x upgrade --take-ownership");
        let out = x(
            env,
            &[
                "diff",
                "upgrade",
                "own",
                s(&input),
                "-n",
                &ns,
                "--detailed-exitcode",
            ],
        );
        expect(env, &out, 0, "owned now");
        assert_eq!(out.stdout, "", "{}", env.label);
        uninstall(env, "own", &ns);
        parts.finish();
    });
}

/// Changes made outside helm show only with `--three-way-merge` (or its variable).
#[test]
fn drift_shows_with_three_way_merge() {
    let chart = chart();
    each(|env| {
        let ns = fresh(env, "drift", "r");
        install(env, "r", &chart, &ns, &[]);
        kubectl_ok(
            env,
            &["scale", "deployment", "r-web", "--replicas=5", "-n", &ns],
        );
        let base = [
            "diff",
            "upgrade",
            "r",
            s(&chart),
            "-n",
            &ns,
            "--detailed-exitcode",
        ];

        let out = x(env, &base);
        expect(env, &out, 0, "plain diff ignores drift");
        assert_eq!(out.stdout, "", "{}", env.label);

        let deploy = format!("{ns}, r-web, Deployment (apps) has changed:");
        let check = |out: &Out, what: &str| {
            expect(env, out, 2, what);
            assert_eq!(
                headers(&out.stdout),
                std::slice::from_ref(&deploy),
                "{}: {what}\n{}",
                env.label,
                out.show()
            );
            let changed: Vec<&str> = section(&out.stdout, &deploy)
                .into_iter()
                .filter(|l| l.starts_with('-') || l.starts_with('+'))
                .collect();
            assert_eq!(
                changed,
                ["-   replicas: 5", "+   replicas: 1"],
                "{}: {what}\n{}",
                env.label,
                out.show()
            );
        };
        check(
            &x(env, &cat(&base, &["--three-way-merge"])),
            "--three-way-merge",
        );
        check(
            &x(env, &cat(&base, &["--three-way-merge=true"])),
            "--three-way-merge=true",
        );
        check(&x(env, &cat(&base, &["--live"])), "--live");
        let out = x_env(env, &base, &[("HELM_DIFF_THREE_WAY_MERGE", "true")]);
        check(&out, "HELM_DIFF_THREE_WAY_MERGE=true");
        let out = x_env(
            env,
            &cat(&base, &["--three-way-merge=false"]),
            &[("HELM_DIFF_THREE_WAY_MERGE", "true")],
        );
        expect(env, &out, 0, "the flag beats the variable");

        uninstall(env, "r", &ns);
    });
}

/// A renamed object is one removed and one added, or one change with `--find-renames`.
#[test]
fn renames_with_find_renames() {
    let chart = chart();
    each(|env| {
        let ns = fresh(env, "renames", "r");
        install(env, "r", &chart, &ns, &[]);
        let base = [
            "diff",
            "upgrade",
            "r",
            s(&chart),
            "-n",
            &ns,
            "--set",
            "extraName=extra-b",
            "--detailed-exitcode",
        ];
        let run = |extra: &[&str]| x(env, &cat(&base, extra));
        let split = [
            format!("{ns}, extra-a, ConfigMap (v1) has been removed:"),
            format!("{ns}, extra-b, ConfigMap (v1) has been added:"),
        ];

        let out = run(&[]);
        expect(env, &out, 2, "rename without -D");
        assert_eq!(headers(&out.stdout), split, "{}", env.label);
        let out = run(&["-D", "0.01"]);
        assert_eq!(
            headers(&out.stdout),
            split,
            "{}: -D 0.01 is too strict",
            env.label
        );

        let out = run(&["-D", "0.5"]);
        expect(env, &out, 2, "rename with -D 0.5");
        assert_eq!(
            out.stdout,
            format!(
                "{ns}, extra-a, ConfigMap (v1) has changed:\n  # Source: dxapp/templates/extra.yaml\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n-   name: extra-a\n+   name: extra-b\n  data:\n    alpha: \"1\"\n    beta: \"2\"\n    gamma: \"3\"\n    delta: \"4\"\n    epsilon: \"5\"\n    zeta: \"6\"\n"
            ),
            "{}",
            env.label
        );
        let out = run(&["--find-renames=0.5", "--output", "simple"]);
        assert_eq!(
            out.stdout,
            format!(
                "{ns}, extra-a, ConfigMap (v1) to be changed.\nPlan: 0 to add, 1 to change, 0 to destroy, 0 to change ownership.\n"
            ),
            "{}",
            env.label
        );
        let out = run(&["--output", "simple"]);
        has(
            env,
            &out,
            "Plan: 1 to add, 0 to change, 1 to destroy, 0 to change ownership.\n",
            "no -D",
        );

        uninstall(env, "r", &ns);
    });
}

/// Every `--output` format, `--normalize-manifests`, and the variables for output and context.
#[test]
fn output_formats() {
    let chart = chart();
    each(|env| {
        let ns = fresh(env, "formats", "r");
        install(env, "r", &chart, &ns, &[]);
        let base = [
            "diff",
            "upgrade",
            "r",
            s(&chart),
            "-n",
            &ns,
            "--set",
            "x=new-x",
            "--set",
            "replicas=3",
        ];
        let run = |extra: &[&str]| x(env, &cat(&base, extra));
        let config = format!("{ns}, r-config, ConfigMap (v1)");
        let web = format!("{ns}, r-web, Deployment (apps)");

        let parts = Parts::new(env);
        let diff = run(&["--detailed-exitcode"]);
        expect(env, &diff, 2, "diff");
        assert_eq!(
            headers(&diff.stdout),
            [
                format!("{config} has changed:"),
                format!("{web} has changed:")
            ],
            "{}",
            env.label
        );

        parts.check("json", || {
        let out = run(&["--output", "json", "--detailed-exitcode"]);
        expect(env, &out, 2, "json");
        let json: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: json: {e}\n{}", env.label, out.show()));
        assert_eq!(
            json,
            serde_json::json!([
                {"api": "v1", "kind": "ConfigMap", "namespace": ns, "name": "r-config", "change": "MODIFY"},
                {"api": "apps", "kind": "Deployment", "namespace": ns, "name": "r-web", "change": "MODIFY"},
            ]),
            "{}",
            env.label
        );
        // Without HELM_DIFF_TPL the template output is the JSON report.
        let out = run(&["--output", "template"]);
        assert_eq!(
            out.stdout,
            run(&["--output", "json"]).stdout,
            "{}: template without HELM_DIFF_TPL",
            env.label
        );

        });
        parts.check("simple", || {
        let out = run(&["--output", "simple"]);
        assert_eq!(
            out.stdout,
            format!(
                "{config} to be changed.\n{web} to be changed.\nPlan: 0 to add, 2 to change, 0 to destroy, 0 to change ownership.\n"
            ),
            "{}",
            env.label
        );

        });
        parts.check("template", || {
            let dir = tempfile::tempdir().unwrap();
            let tpl = dir.path().join("report.tpl");
            std::fs::write(
                &tpl,
                "{{ range . }}{{ .Kind }}/{{ .Name }}={{ .Change }}\n{{ end }}",
            )
            .unwrap();
            let out = x_env(
                env,
                &cat(&base, &["--output", "template", "--detailed-exitcode"]),
                &[("HELM_DIFF_TPL", s(&tpl))],
            );
            expect(env, &out, 2, "template");
            assert_eq!(
                out.stdout,
                "ConfigMap/r-config=MODIFY\nDeployment/r-web=MODIFY\n\n",
                "{}: HELM_DIFF_TPL\n{}",
                env.label,
                out.show()
            );
            let out = x_env(
                env,
                &cat(&base, &["--output", "template"]),
                &[("HELM_DIFF_TPL", s(&dir.path().join("missing.tpl")))],
            );
            expect(env, &out, 1, "a missing HELM_DIFF_TPL");
        });
        parts.check("structured", || {
            let out = run(&["--output", "structured", "--detailed-exitcode"]);
            expect(env, &out, 2, "structured");
            let json: Value = serde_json::from_str(&out.stdout)
                .unwrap_or_else(|e| panic!("{}: structured: {e}\n{}", env.label, out.show()));
            let entries = json
                .as_array()
                .unwrap_or_else(|| panic!("{}: structured is no array: {json}", env.label));
            assert_eq!(entries.len(), 2, "{}: {json}", env.label);
            let entry = |kind: &str| {
                entries
                    .iter()
                    .find(|e| e["kind"] == kind)
                    .unwrap_or_else(|| panic!("{}: no {kind} in {json}", env.label))
            };
            let cm = entry("ConfigMap");
            assert_eq!(
                (
                    &cm["name"],
                    &cm["namespace"],
                    &cm["changeType"],
                    &cm["apiVersion"]
                ),
                (
                    &Value::from("r-config"),
                    &Value::from(ns.as_str()),
                    &Value::from("MODIFY"),
                    &Value::from("v1")
                ),
                "{}: {cm}",
                env.label
            );
            let changes = cm["changes"]
                .as_array()
                .unwrap_or_else(|| panic!("{}: no changes in {cm}", env.label));
            assert!(
                changes.iter().any(|c| c["path"] == "data"
                    && c["field"] == "x"
                    && c["oldValue"] == "default-x"
                    && c["newValue"] == "new-x"),
                "{}: {cm}",
                env.label
            );
            let deploy = entry("Deployment");
            assert!(
                deploy["changes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["path"] == "spec"
                        && c["field"] == "replicas"
                        && c["oldValue"] == 1
                        && c["newValue"] == 3),
                "{}: {deploy}",
                env.label
            );
        });
        parts.check("dyff", || {
            let out = run(&["--output", "dyff", "--detailed-exitcode"]);
            expect(env, &out, 2, "dyff");
            assert!(
                !out.stdout.trim().is_empty(),
                "{}: dyff is empty\n{}",
                env.label,
                out.show()
            );
            for needle in ["data.x", "default-x", "new-x", "spec.replicas"] {
                has(env, &out, needle, "dyff");
            }
        });
        parts.check("markdown", || {
            let out = run(&["--output", "markdown", "--detailed-exitcode"]);
            expect(env, &out, 2, "markdown");
            assert!(
                out.stdout.starts_with(
                    "**Plan:** 0 to add, 2 to change, 0 to destroy, 0 to change ownership.\n"
                ),
                "{}: markdown\n{}",
                env.label,
                out.show()
            );
            assert_eq!(
                out.stdout.matches("<details>").count(),
                2,
                "{}: {}",
                env.label,
                out.stdout
            );
            assert_eq!(out.stdout.matches("</details>").count(), 2, "{}", env.label);
            has(env, &out, "```diff\n", "markdown");
            has(
                env,
                &out,
                "-  x: \"default-x\"\n+  x: \"new-x\"\n",
                "markdown",
            );
            let small = run(&["--output", "markdown", "--markdown-limit", "300"]);
            assert!(
                small.stdout.len() <= 300,
                "{}: {} bytes over the limit",
                env.label,
                small.stdout.len()
            );
            assert!(
                small.stdout.contains("not shown"),
                "{}: {}",
                env.label,
                small.stdout
            );
            let none = x(
                env,
                &[
                    "diff",
                    "upgrade",
                    "r",
                    s(&chart),
                    "-n",
                    &ns,
                    "--output",
                    "markdown",
                ],
            );
            assert_eq!(none.stdout, "No changes.\n", "{}", env.label);
        });
        parts.check("normalize-manifests", || {
            let out = run(&["--normalize-manifests", "--detailed-exitcode"]);
            expect(env, &out, 2, "--normalize-manifests");
            lacks(env, &out, "# Source:", "--normalize-manifests");
            let lines = section(&out.stdout, &format!("{config} has changed:"));
            assert_eq!(
                lines,
                [
                    "  apiVersion: v1",
                    "  data:",
                    "-   x: default-x",
                    "+   x: new-x",
                    "    z: default-z",
                    "  kind: ConfigMap",
                    "  metadata:",
                    "    labels:",
                    "      app.kubernetes.io/managed-by: Helm",
                    "      helm.sh/chart: dxapp-0.1.0",
                    "    name: r-config",
                    "",
                ],
                "{}: normalized keys are sorted\n{}",
                env.label,
                out.show()
            );
            let by_var = x_env(env, &base, &[("HELM_DIFF_NORMALIZE_MANIFESTS", "true")]);
            assert_eq!(
                by_var.stdout, out.stdout,
                "{}: HELM_DIFF_NORMALIZE_MANIFESTS",
                env.label
            );
        });
        parts.check("HELM_DIFF_OUTPUT and HELM_DIFF_OUTPUT_CONTEXT", || {
            let flag = run(&["--output", "simple"]);
            let var = x_env(env, &base, &[("HELM_DIFF_OUTPUT", "simple")]);
            assert_eq!(
                var.stdout, flag.stdout,
                "{}: HELM_DIFF_OUTPUT=simple",
                env.label
            );
            let over = x_env(
                env,
                &cat(&base, &["--output", "diff"]),
                &[("HELM_DIFF_OUTPUT", "simple")],
            );
            assert_eq!(
                over.stdout, diff.stdout,
                "{}: --output beats HELM_DIFF_OUTPUT",
                env.label
            );
            let flag = run(&["--context", "1"]);
            assert_ne!(
                flag.stdout, diff.stdout,
                "{}: --context 1 changed nothing",
                env.label
            );
            let var = x_env(env, &base, &[("HELM_DIFF_OUTPUT_CONTEXT", "1")]);
            assert_eq!(
                var.stdout, flag.stdout,
                "{}: HELM_DIFF_OUTPUT_CONTEXT=1",
                env.label
            );
            let over = x_env(
                env,
                &cat(&base, &["--context", "-1"]),
                &[("HELM_DIFF_OUTPUT_CONTEXT", "1")],
            );
            assert_eq!(
                over.stdout, diff.stdout,
                "{}: --context beats HELM_DIFF_OUTPUT_CONTEXT",
                env.label
            );
        });
        parts.check("colour", || {
            let colored = run(&["--color"]);
            assert!(
                colored.stdout.contains("\x1b[33m"),
                "{}: --color",
                env.label
            );
            let plain = x_env(
                env,
                &cat(&base, &["--no-color"]),
                &[("HELM_DIFF_COLOR", "true")],
            );
            assert_eq!(
                plain.stdout, diff.stdout,
                "{}: --no-color beats HELM_DIFF_COLOR",
                env.label
            );
            let var = x_env(env, &base, &[("HELM_DIFF_COLOR", "true")]);
            assert_eq!(
                var.stdout, colored.stdout,
                "{}: HELM_DIFF_COLOR=true",
                env.label
            );
        });

        uninstall(env, "r", &ns);
        parts.finish();
    });
}

/// `diff revision`, `diff rollback` and `diff release` compare stored releases.
#[test]
fn revision_rollback_release() {
    let chart = chart();
    each(|env| {
        let ns = fresh(env, "history", "r");
        install(env, "r", &chart, &ns, &["--set", "x=one"]);
        install(env, "r", &chart, &ns, &["--set", "x=two"]);
        install(env, "r", &chart, &ns, &["--set", "x=three"]);
        let header = format!("{ns}, r-config, ConfigMap (v1) has changed:");
        let changed = |out: &Out| -> Vec<String> {
            section(&out.stdout, &header)
                .into_iter()
                .filter(|l| l.starts_with('-') || l.starts_with('+'))
                .map(str::to_string)
                .collect()
        };
        let run = |args: &[&str]| x(env, &cat(args, &["-n", &ns, "--detailed-exitcode"]));

        let out = run(&["diff", "revision", "r", "1", "2"]);
        expect(env, &out, 2, "revision 1 2");
        assert_eq!(
            headers(&out.stdout),
            std::slice::from_ref(&header),
            "{}",
            env.label
        );
        assert_eq!(
            changed(&out),
            ["-   x: \"one\"", "+   x: \"two\""],
            "{}",
            env.label
        );
        let out = run(&["diff", "revision", "r", "2", "1"]);
        assert_eq!(
            changed(&out),
            ["-   x: \"one\"", "+   x: \"two\""],
            "{}: revision 2 1",
            env.label
        );
        let out = run(&["diff", "revision", "r", "1"]);
        expect(env, &out, 2, "revision 1 against the deployed one");
        assert_eq!(
            changed(&out),
            ["-   x: \"one\"", "+   x: \"three\""],
            "{}",
            env.label
        );
        let out = run(&["diff", "revision", "r", "3"]);
        expect(env, &out, 0, "revision 3 is deployed");
        assert_eq!(out.stdout, "", "{}", env.label);
        let out = run(&["diff", "revision", "r", "2", "--output", "simple"]);
        assert_eq!(
            out.stdout,
            format!(
                "{ns}, r-config, ConfigMap (v1) to be changed.\nPlan: 0 to add, 1 to change, 0 to destroy, 0 to change ownership.\n"
            ),
            "{}",
            env.label
        );

        let out = run(&["diff", "rollback", "r", "1"]);
        expect(env, &out, 2, "rollback 1");
        assert_eq!(
            changed(&out),
            ["-   x: \"three\"", "+   x: \"one\""],
            "{}",
            env.label
        );
        let out = run(&["diff", "rollback", "r", "3"]);
        expect(env, &out, 0, "rollback to the deployed revision");
        assert_eq!(out.stdout, "", "{}", env.label);
        let out = run(&["diff", "rollback", "r", "9"]);
        expect(env, &out, 1, "rollback to a revision that does not exist");
        let out = run(&["diff", "revision", "missing-release", "1"]);
        expect(env, &out, 1, "revision of a release that does not exist");

        // Two releases of one chart, named alike, in two namespaces.
        let ns2 = fresh(env, "history2", "r");
        install(env, "r", &chart, &ns2, &["--set", "x=three"]);
        let pair = [format!("{ns}/r"), format!("{ns2}/r")];
        let out = x(
            env,
            &["diff", "release", &pair[0], &pair[1], "--detailed-exitcode"],
        );
        expect(env, &out, 0, "same values");
        assert_eq!(out.stdout, "", "{}", env.label);
        install(env, "r", &chart, &ns2, &["--set", "x=other"]);
        let out = x(
            env,
            &["diff", "release", &pair[0], &pair[1], "--detailed-exitcode"],
        );
        expect(env, &out, 2, "release");
        assert_eq!(
            headers(&out.stdout).len(),
            1,
            "{}\n{}",
            env.label,
            out.show()
        );
        has(env, &out, "-   x: \"three\"\n+   x: \"other\"\n", "release");
        let out = x(
            env,
            &["diff", "release", &pair[0], &pair[1], "--output", "simple"],
        );
        expect(env, &out, 0, "release, simple");
        has(
            env,
            &out,
            "Plan: 0 to add, 1 to change, 0 to destroy, 0 to change ownership.\n",
            "release",
        );

        uninstall(env, "r", &ns);
        uninstall(env, "r", &ns2);
    });
}

/// A chart from a repository given with `--repo URL` (and `--version`).
#[test]
fn repo_flag() {
    each(|env| {
        let repo = tempfile::tempdir().unwrap();
        let out = env.helm(["package", s(&chart()), "-d", s(repo.path())]);
        common::succeeded(env.label, out, "helm package");
        let url = common::http::serve(repo.path().to_path_buf());
        let out = env.helm(["repo", "index", s(repo.path()), "--url", &url]);
        common::succeeded(env.label, out, "helm repo index");
        let ns = fresh(env, "repo", "rr");
        let base = ["diff", "upgrade", "rr", "dxapp", "--repo", &url, "-n", &ns];

        let out = x(
            env,
            &cat(&base, &["--allow-unreleased", "--detailed-exitcode"]),
        );
        expect(env, &out, 2, "--repo");
        assert_eq!(
            headers(&out.stdout).len(),
            5,
            "{}\n{}",
            env.label,
            out.show()
        );
        has(
            env,
            &out,
            &format!("{ns}, rr-config, ConfigMap (v1) has been added:\n"),
            "--repo",
        );
        has(
            env,
            &out,
            "+ # Source: dxapp/templates/configmap.yaml\n",
            "--repo",
        );
        let out = x(
            env,
            &cat(
                &base,
                &[
                    "--version",
                    "0.1.0",
                    "--allow-unreleased",
                    "--output",
                    "simple",
                ],
            ),
        );
        expect(env, &out, 0, "--repo --version");
        has(
            env,
            &out,
            "Plan: 5 to add, 0 to change, 0 to destroy, 0 to change ownership.\n",
            "--version",
        );
        let out = x(
            env,
            &cat(
                &base,
                &[
                    "--version",
                    "9.9.9",
                    "--allow-unreleased",
                    "--detailed-exitcode",
                ],
            ),
        );
        expect(env, &out, 1, "a version the repository does not have");
        assert_eq!(out.stdout, "", "{}", env.label);

        let out = env.helm([
            "upgrade",
            "--install",
            "rr",
            "dxapp",
            "--repo",
            &url,
            "-n",
            &ns,
        ]);
        common::succeeded(env.label, out, "helm upgrade --install --repo");
        let out = x(env, &cat(&base, &["--detailed-exitcode"]));
        expect(env, &out, 0, "installed from the repository");
        assert_eq!(out.stdout, "", "{}", env.label);
        let out = x(
            env,
            &cat(&base, &["--set", "x=repo", "--detailed-exitcode"]),
        );
        expect(env, &out, 2, "a change");
        has(env, &out, "+   x: \"repo\"\n", "a change");
        uninstall(env, "rr", &ns);
    });
}
