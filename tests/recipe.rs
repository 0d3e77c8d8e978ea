//! The GitOps recipe (README, "GitOps with helm-x"): the example pipelines in `contrib/ci` run as
//! written, so they cannot rot.
//!
//! Each file is read as YAML with helm-x's own loader (YAML 1.2 scalars, as GitHub and GitLab read
//! them). Its `helm x` command lines are taken from the jobs' shell scripts (`jobs.*.steps[].run`
//! on GitHub, `before_script`/`script` on GitLab): every script line that starts with `helm x `.
//! A line is split into words as the shell splits it (shell-words: quotes, backslashes), each
//! `$VAR`/`${VAR}` is expanded from the file's top-level `env:`/`variables:` (which the command
//! also gets as its environment, as in CI), and the shell syntax after the command may only be
//! `> FILE` (stdout to FILE) and `|| VAR=$?` (the exit code caught, so that `set -e` does not end
//! the job on exit 2). Anything else, a continuation line, single quotes or an unknown variable
//! fails the test, which then needs to learn it. Only `NAMESPACE` is replaced (one per file and
//! helm version); `INPUT`, `VALUES` and `PATCH` stay the file's relative paths, and the fixture in
//! `testdata/recipe` is copied there in a temp dir the commands run in.
//!
//! On every helm version, against the local control plane: the pull request's diff before the
//! first deploy (exit 2, everything to add), the merge's `upgrade --install` (exit 0, the values
//! and the patch reach the cluster), the diff of an unchanged repository (exit 0), of a values
//! change and of a patch change (exit 2, as changes), and of a broken patch (exit 1, an error).
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::collections::BTreeMap;
use std::path::{Component, Path};
use std::process::Stdio;

use common::{HelmEnv, cluster_envs, copy_dir, repo_root, testdata, text};
use serde_json::Value;

/// A job of a pipeline: its name, the condition it runs on (GitHub's `if`, GitLab's `rules` as
/// JSON text) and its script lines.
struct Job {
    name: String,
    condition: String,
    lines: Vec<String>,
}

/// One `helm x` line of a pipeline's scripts.
struct Step {
    /// `FILE: job: line`, for messages.
    at: String,
    /// The job's condition.
    condition: String,
    /// The command's words as the shell splits them, variables not yet expanded.
    words: Vec<String>,
    /// `> FILE`.
    stdout: Option<String>,
    /// `|| VAR=$?`.
    catches_exit: bool,
}

/// What a run of a step did.
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

/// An example pipeline: its variables and its two `helm x` steps.
struct Pipeline {
    vars: BTreeMap<String, String>,
    diff: Step,
    upgrade: Step,
}

/// A word that starts shell syntax: a redirection, a pipe, `||`, `&&` or `;` (`2>` too).
fn is_operator(word: &str) -> bool {
    word.trim_start_matches(|c: char| c.is_ascii_digit())
        .starts_with(['>', '<', '|', '&', ';'])
}

fn parse_step(at: String, condition: String, line: &str) -> Step {
    assert!(
        !line.trim_end().ends_with('\\'),
        "{at}: keep the helm x command on one line"
    );
    assert!(
        !line.contains('\''),
        "{at}: single quotes: this test expands variables in every word, so use double quotes"
    );
    let all = shell_words::split(line).unwrap_or_else(|e| panic!("{at}: {e}"));
    let end = all.iter().position(|w| is_operator(w)).unwrap_or(all.len());
    let (words, tail) = all.split_at(end);
    let mut step = Step {
        at,
        condition,
        words: words.to_vec(),
        stdout: None,
        catches_exit: false,
    };
    let mut tail = tail.iter();
    while let Some(word) = tail.next() {
        match word.as_str() {
            ">" => {
                let file = tail.next().filter(|f| !is_operator(f));
                step.stdout = Some(
                    file.unwrap_or_else(|| panic!("{}: `>` without a file", step.at))
                        .clone(),
                );
            }
            "||" => {
                let rest: Vec<&String> = tail.by_ref().collect();
                assert!(
                    rest.len() == 1 && rest[0].ends_with("=$?"),
                    "{}: after `||` this test understands only `VAR=$?`, not {rest:?}",
                    step.at
                );
                step.catches_exit = true;
            }
            other => panic!(
                "{}: shell syntax {other:?}: this test understands only `> FILE` and `|| VAR=$?`",
                step.at
            ),
        }
    }
    step
}

/// `$NAME` and `${NAME}` in `word`, from `vars`.
fn expand(at: &str, word: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, used) = match after.strip_prefix('{') {
            Some(braced) => {
                let end = braced
                    .find('}')
                    .unwrap_or_else(|| panic!("{at}: unclosed ${{ in {word:?}"));
                (&braced[..end], end + 2)
            }
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        assert!(
            !name.is_empty(),
            "{at}: a `$` that names no variable in {word:?}"
        );
        let value = vars.get(name).unwrap_or_else(|| {
            panic!("{at}: ${name} is not set in the file's top-level env/variables")
        });
        assert!(
            !value.contains("${{"),
            "{at}: ${name} is a GitHub expression ({value:?}), which this test cannot evaluate"
        );
        out.push_str(value);
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

impl Step {
    /// Runs the step as the CI shell would, in `dir`: `helm` is the env's helm, the file's
    /// variables are the environment, stdout goes to the `> FILE`.
    fn run(&self, env: &HelmEnv, vars: &BTreeMap<String, String>, dir: &Path) -> Out {
        let argv: Vec<String> = self
            .words
            .iter()
            .map(|w| expand(&self.at, w, vars))
            .collect();
        assert_eq!(argv[0], "helm", "{}", self.at);
        let mut cmd = env.helm_cmd(&argv[1..]);
        // Cleared unless the pipeline file sets them: they would change the report.
        for var in common::DIFF_VARS {
            cmd.env_remove(var);
        }
        cmd.envs(vars)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = cmd.output().unwrap();
        if let Some(file) = &self.stdout {
            std::fs::write(dir.join(file), &out.stdout).unwrap();
        }
        Out {
            code: out.status.code(),
            stdout: text(&out.stdout),
            stderr: text(&out.stderr),
        }
    }

    fn has(&self, flag: &str) -> bool {
        self.words.iter().any(|w| w == flag)
    }
}

/// A mapping's string values (numbers and booleans as written), for `env:`/`variables:`.
fn strings(file: &str, map: &Value) -> BTreeMap<String, String> {
    map.as_object()
        .unwrap_or_else(|| panic!("{file}: env/variables is not a mapping"))
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                other => panic!("{file}: {k} is not a plain value: {other}"),
            };
            (k.clone(), v)
        })
        .collect()
}

/// A script: a string or a list of strings (GitLab's `script:` items).
fn script_lines(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s.lines().map(str::to_string).collect(),
        Value::Array(items) => items.iter().flat_map(script_lines).collect(),
        _ => Vec::new(),
    }
}

impl Pipeline {
    /// Reads `contrib/ci/FILE`: `vars_key` is `env` or `variables`, `jobs` finds the jobs.
    fn read(file: &str, vars_key: &str, jobs: fn(&Value) -> Vec<Job>) -> Self {
        let path = repo_root().join("contrib/ci").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut docs = helm_x::stream::LoadOptions::default()
            .load_all_yaml12(&text)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(docs.len(), 1, "{file}: one YAML document");
        let doc = docs.pop().unwrap();
        let vars = strings(file, &doc[vars_key]);
        let mut diff = Vec::new();
        let mut upgrade = Vec::new();
        for job in jobs(&doc) {
            for line in &job.lines {
                let trimmed = line.trim_start();
                if !trimmed.starts_with("helm x ") {
                    continue;
                }
                let at = format!("{file}: {}: {trimmed}", job.name);
                let step = parse_step(at, job.condition.clone(), trimmed);
                match step.words.get(2).map(String::as_str) {
                    Some("diff") => diff.push(step),
                    Some("upgrade") => upgrade.push(step),
                    _ => panic!("{}: a helm x command this test does not run", step.at),
                }
            }
        }
        assert_eq!(diff.len(), 1, "{file}: one `helm x diff` line");
        assert_eq!(upgrade.len(), 1, "{file}: one `helm x upgrade` line");
        Pipeline {
            vars,
            diff: diff.pop().unwrap(),
            upgrade: upgrade.pop().unwrap(),
        }
    }

    /// What the README promises of both files: the pull request's diff catches its exit code and
    /// writes markdown to a file that a later step posts, the merge installs or upgrades, and both
    /// get the same input, values, patch and namespace.
    fn check_shape(&self, file: &str, text: &str) {
        let d = &self.diff;
        assert_eq!(&d.words[..4], ["helm", "x", "diff", "upgrade"], "{}", d.at);
        for flag in ["--detailed-exitcode", "--allow-unreleased"] {
            assert!(d.has(flag), "{}: no {flag}", d.at);
        }
        assert!(
            d.words.windows(2).any(|w| w == ["--output", "markdown"]),
            "{}: no --output markdown",
            d.at
        );
        assert!(
            d.catches_exit,
            "{}: exit 2 (changes) would fail the job",
            d.at
        );
        let report = d
            .stdout
            .as_deref()
            .unwrap_or_else(|| panic!("{}: no > FILE", d.at));
        assert!(
            text.matches(report).count() >= 2,
            "{file}: nothing reads {report} after the diff"
        );
        let u = &self.upgrade;
        assert_eq!(
            &u.words[..4],
            ["helm", "x", "upgrade", "--install"],
            "{}",
            u.at
        );
        assert!(!u.catches_exit && u.stdout.is_none(), "{}", u.at);
        // The release, the input and every flag but the diff's own and the upgrade's apply-only
        // ones (switches, then flags with a value).
        let args = |s: &Step| -> Vec<String> {
            let switches = [
                "--allow-unreleased",
                "--detailed-exitcode",
                "--create-namespace",
                "--wait",
            ];
            let valued = ["--output", "--timeout"];
            let mut kept = Vec::new();
            let mut words = s.words[4..].iter();
            while let Some(w) = words.next() {
                if valued.contains(&w.as_str()) {
                    words.next();
                } else if !switches.contains(&w.as_str()) {
                    kept.push(w.clone());
                }
            }
            kept
        };
        assert_eq!(
            args(d),
            args(u),
            "{file}: the diff must preview the upgrade: same release, input, values, patch, namespace"
        );
    }
}

fn github_jobs(doc: &Value) -> Vec<Job> {
    let on = doc["on"].as_object().expect("github-actions.yml: `on:`");
    assert!(on.contains_key("pull_request") && on.contains_key("push"));
    doc["jobs"]
        .as_object()
        .expect("github-actions.yml: `jobs:`")
        .iter()
        .map(|(name, job)| Job {
            name: name.clone(),
            condition: job["if"].as_str().unwrap_or("").to_string(),
            lines: job["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|step| script_lines(&step["run"]))
                .collect(),
        })
        .collect()
}

fn gitlab_jobs(doc: &Value) -> Vec<Job> {
    doc.as_object()
        .unwrap()
        .iter()
        .filter(|(_, job)| job.get("script").is_some() || job.get("before_script").is_some())
        .map(|(name, job)| {
            let mut lines = script_lines(&job["before_script"]);
            lines.extend(script_lines(&job["script"]));
            Job {
                name: name.clone(),
                condition: job.get("rules").map(Value::to_string).unwrap_or_default(),
                lines,
            }
        })
        .collect()
}

/// The job running `step` runs on `event` (its condition names it).
fn runs_on(step: &Step, event: &str) {
    assert!(
        step.condition.contains(event),
        "{}: the job should run on {event}, its condition is {:?}",
        step.at,
        step.condition
    );
}

#[track_caller]
fn expect(env: &HelmEnv, step: &Step, out: &Out, code: i32, what: &str) {
    assert_eq!(
        out.code,
        Some(code),
        "{}: {what}: {}: expected exit {code}\n{}",
        env.label,
        step.at,
        out.show()
    );
}

/// A relative path inside the work dir, as the pipelines must name their files.
fn inside(dir: &Path, rel: &str) -> std::path::PathBuf {
    assert!(
        Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_))),
        "{rel}: the pipelines name files relative to the checkout"
    );
    dir.join(rel)
}

/// `kubectl get KIND NAME -n NS -o json`.
fn get(env: &HelmEnv, ns: &str, kind: &str, name: &str) -> Value {
    let out = env.kubectl(&["get", kind, name, "-n", ns, "-o", "json"]);
    assert!(out.status.success(), "{}: {}", env.label, text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs the recipe of `contrib/ci/FILE`, whose diff runs on `pr` and upgrade on `merge` (words
/// of the jobs' conditions).
fn recipe(file: &str, vars_key: &str, jobs: fn(&Value) -> Vec<Job>, pr: &str, merge: &str) {
    let pipeline = Pipeline::read(file, vars_key, jobs);
    let source = std::fs::read_to_string(repo_root().join("contrib/ci").join(file)).unwrap();
    pipeline.check_shape(file, &source);
    runs_on(&pipeline.diff, pr);
    runs_on(&pipeline.upgrade, merge);
    let report = pipeline.diff.stdout.clone().unwrap();
    let tag = file.split(['-', '.']).next().unwrap();

    for env in cluster_envs() {
        let mut vars = pipeline.vars.clone();
        let ns = format!("recipe-{tag}-{}", env.label);
        vars.insert("NAMESPACE".into(), ns.clone());
        let release = vars["RELEASE"].clone();
        // Namespaces never finish deleting without a controller manager, so runs reuse them.
        let _ = env.helm(["uninstall", &release, "-n", &ns, "--wait"]);

        // The checkout: the fixture where the pipeline's variables point.
        let work = tempfile::tempdir().unwrap();
        let input = inside(work.path(), &vars["INPUT"]);
        let values = inside(work.path(), &vars["VALUES"]);
        let patch = inside(work.path(), &vars["PATCH"]);
        copy_dir(&testdata("recipe/web"), &input);
        for (from, to) in [
            ("values-production.yaml", &values),
            ("patch-production.yaml", &patch),
        ] {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(testdata("recipe").join(from), to).unwrap();
        }
        let diff = || {
            let out = pipeline.diff.run(&env, &vars, work.path());
            let md = std::fs::read_to_string(work.path().join(&report)).unwrap();
            (out, md)
        };

        // The first pull request, before any deploy: an install, everything to add.
        let (out, md) = diff();
        expect(
            &env,
            &pipeline.diff,
            &out,
            2,
            "diff before the first deploy",
        );
        assert!(
            md.starts_with("**Plan:** 2 to add, 0 to change, 0 to destroy"),
            "{}: {md}",
            env.label
        );
        for needle in [
            "hello from production",
            "example.com/team: storefront",
            "<details>",
        ] {
            assert!(
                md.contains(needle),
                "{}: report lacks {needle:?}:\n{md}",
                env.label
            );
        }

        // The merge.
        let out = pipeline.upgrade.run(&env, &vars, work.path());
        expect(&env, &pipeline.upgrade, &out, 0, "upgrade --install");
        let svc = get(&env, &ns, "service", "web");
        assert_eq!(
            svc["metadata"]["annotations"]["example.com/team"], "storefront",
            "{}: the patch reached the cluster",
            env.label
        );
        let cm = get(&env, &ns, "configmap", "web-config");
        assert_eq!(
            cm["data"]["greeting"], "hello from production",
            "{}",
            env.label
        );

        // A pull request that changes nothing this release sees.
        let (out, md) = diff();
        expect(&env, &pipeline.diff, &out, 0, "diff after the deploy");
        assert_eq!(md, "No changes.\n", "{}", env.label);

        // One that changes the values, then the patch as well.
        std::fs::write(&values, "greeting: hello again\n").unwrap();
        let (out, md) = diff();
        expect(&env, &pipeline.diff, &out, 2, "diff of a values change");
        assert!(
            md.starts_with("**Plan:** 0 to add, 1 to change, 0 to destroy")
                && md.contains("web-config")
                && md.contains("hello again"),
            "{}: {md}",
            env.label
        );
        let changed = std::fs::read_to_string(&patch)
            .unwrap()
            .replace("storefront", "checkout");
        std::fs::write(&patch, changed).unwrap();
        let (out, md) = diff();
        expect(
            &env,
            &pipeline.diff,
            &out,
            2,
            "diff of a values and patch change",
        );
        assert!(
            md.starts_with("**Plan:** 0 to add, 2 to change, 0 to destroy")
                && md.contains("example.com/team: checkout"),
            "{}: {md}",
            env.label
        );

        // A broken pull request (its patch names a Service the input lacks) is an error, never
        // "changes": the job fails.
        let broken = std::fs::read_to_string(&patch)
            .unwrap()
            .replace("name: web", "name: no-such-service");
        std::fs::write(&patch, broken).unwrap();
        let (out, _) = diff();
        expect(&env, &pipeline.diff, &out, 1, "diff of a broken patch");
        assert!(out.stderr.contains("no-such-service"), "{}", out.show());

        let out = env.helm(["uninstall", &release, "-n", &ns]);
        assert!(out.status.success(), "{}: {}", env.label, text(&out.stderr));
    }
}

#[test]
fn github_actions_recipe_runs_as_written() {
    recipe(
        "github-actions.yml",
        "env",
        github_jobs,
        "pull_request",
        "push",
    );
}

#[test]
fn gitlab_ci_recipe_runs_as_written() {
    recipe(
        "gitlab-ci.yml",
        "variables",
        gitlab_jobs,
        "merge_request_event",
        "CI_DEFAULT_BRANCH",
    );
}
