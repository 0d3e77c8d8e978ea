//! Shared test harness: the real helm 3 and 4 with helm-x installed as a plugin in isolated homes,
//! golden files (insta snapshots), kubectl's stored answers, and a tiny static HTTP server for chart
//! repositories.
#![allow(dead_code)]

pub mod http;
pub mod oracle;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real tool binaries, fetched by `scripts/fetch-tools` (the README's test command runs it).
pub struct Tools {
    pub helm3: PathBuf,
    pub helm4: PathBuf,
    pub helm43: PathBuf,
    pub kubectl: PathBuf,
}

fn env_file_value(key: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("HELM_X_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/helm-x/tools"))
        })?;
    let text = std::fs::read_to_string(dir.join("env.sh")).ok()?;
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("export ")?;
        let (k, v) = rest.split_once('=')?;
        (k == key).then(|| PathBuf::from(v.trim_matches(|c| c == '"' || c == '\'')))
    })
}

fn tool(key: &str) -> PathBuf {
    let path = std::env::var_os(key)
        .map(PathBuf::from)
        .or_else(|| env_file_value(key))
        .unwrap_or_else(|| panic!("{key} is not set: run the tests through scripts/test (or run scripts/fetch-tools first)"));
    assert!(
        path.is_file(),
        "{key}={} does not exist: run scripts/fetch-tools",
        path.display()
    );
    path
}

impl Tools {
    pub fn get() -> Self {
        Self {
            helm3: tool("HELM3_BIN"),
            helm4: tool("HELM4_BIN"),
            helm43: tool("HELM43_BIN"),
            kubectl: tool("KUBECTL_BIN"),
        }
    }

    /// Every helm version, labelled, for tests that must pass on each.
    pub fn helms(&self) -> [(&'static str, &Path); 3] {
        [
            ("helm3", &self.helm3),
            ("helm4", &self.helm4),
            ("helm43", &self.helm43),
        ]
    }
}

/// helm 3 and helm 4, each with helm-x installed in its own home.
pub fn envs() -> Vec<HelmEnv> {
    let t = Tools::get();
    t.helms()
        .into_iter()
        .map(|(label, helm)| HelmEnv::new(label, helm, &t.kubectl))
        .collect()
}

/// The local control plane's kubeconfig, started by scripts/test.
pub fn kubeconfig() -> PathBuf {
    let path = std::env::var_os("HELM_X_TEST_KUBECONFIG").map(PathBuf::from).expect(
        "HELM_X_TEST_KUBECONFIG is not set: run the tests through scripts/test, which starts the local control plane",
    );
    assert!(path.is_file(), "{} does not exist", path.display());
    path
}

/// Every helm version with helm-x installed, pointed at the local control plane.
pub fn cluster_envs() -> Vec<HelmEnv> {
    let kc = kubeconfig();
    let t = Tools::get();
    t.helms()
        .into_iter()
        .map(|(label, helm)| {
            HelmEnv::new(label, helm, &t.kubectl).with_env("KUBECONFIG", kc.to_str().unwrap())
        })
        .collect()
}

/// A helm with its own HELM_*_HOME and helm-x installed through `helm plugin install`.
pub struct HelmEnv {
    pub helm: PathBuf,
    pub kubectl: PathBuf,
    pub home: tempfile::TempDir,
    pub label: &'static str,
    extra_env: Vec<(String, String)>,
}

impl HelmEnv {
    pub fn new(label: &'static str, helm: &Path, kubectl: &Path) -> Self {
        let home = tempfile::tempdir().unwrap();
        let plugin = plugin_copy(home.path());
        let env = Self {
            helm: helm.to_path_buf(),
            kubectl: kubectl.to_path_buf(),
            home,
            label,
            extra_env: Vec::new(),
        };
        let out = env
            .helm_cmd(["plugin", "install"])
            .arg(&plugin)
            .env("HELM_X_BIN", env!("CARGO_BIN_EXE_helm-x"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{label}: plugin install failed: {}",
            text(&out.stderr)
        );
        env
    }

    /// Adds an environment variable to every helm call (e.g. KUBECONFIG).
    pub fn with_env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.extra_env.push((key.to_string(), value.into()));
        self
    }

    pub fn helm_cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let h = self.home.path();
        let mut cmd = Command::new(&self.helm);
        cmd.args(args)
            .env("HELM_DATA_HOME", h.join("data"))
            .env("HELM_CONFIG_HOME", h.join("config"))
            .env("HELM_CACHE_HOME", h.join("cache"))
            .env_remove("HELM_PLUGINS")
            .env_remove("HELM_BIN")
            .env_remove("HELM_NAMESPACE")
            .env_remove("HELM_DEBUG")
            .env("KUBECTL_BIN", &self.kubectl)
            .env("KUBECONFIG", "/dev/null")
            .env("NO_COLOR", "1");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `kubectl ARGS` against the local control plane.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(&self.kubectl)
            .args(args)
            .env("KUBECONFIG", kubeconfig())
            .output()
            .unwrap()
    }

    /// Runs `helm ARGS` and returns its output.
    pub fn helm<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.helm_cmd(args).output().unwrap()
    }

    /// Runs `helm x ARGS`.
    pub fn x<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["x".into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self.helm(all)
    }

    /// Runs `helm x ARGS`, asserting success, and returns stdout.
    pub fn x_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        succeeded(self.label, self.x(args), "helm x")
    }
}

/// Asserts that a run (`what`, under helm `label`) succeeded and returns its stdout.
pub fn succeeded(label: &str, out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{label}: {what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A path as an argv word (test paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The files `helm plugin install` needs (plugin.yaml and the scripts it names), copied to
/// `into/helm-x`. Tests install this copy, never the source tree: helm links a local plugin dir,
/// and the install hook writes bin/helm-x into it.
pub fn plugin_copy(into: &Path) -> PathBuf {
    let plugin = into.join("helm-x");
    std::fs::create_dir_all(plugin.join("scripts")).unwrap();
    let root = repo_root();
    std::fs::copy(root.join("plugin.yaml"), plugin.join("plugin.yaml")).unwrap();
    for s in ["run.sh", "install-hook.sh"] {
        std::fs::copy(root.join("scripts").join(s), plugin.join("scripts").join(s)).unwrap();
    }
    plugin
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(rel: &str) -> PathBuf {
    repo_root().join("testdata").join(rel)
}

/// Where the golden files live: insta snapshots `testdata/golden/NAME.snap`, named as given.
fn golden_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(testdata("golden"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

/// Compares `actual` with the golden file `testdata/golden/NAME.snap` (an insta snapshot; trailing
/// whitespace at the end is not compared). A difference fails and, as `INSTA_UPDATE` says (`no` by
/// default, see .cargo/config.toml), is written as `NAME.snap.new` for `cargo insta review`
/// (`new`) or accepted (`always`). Callers normalise what varies between runs (namespaces).
pub fn assert_golden(name: &str, actual: &str) {
    golden_settings().bind(|| insta::assert_snapshot!(name, actual));
}

/// Like [`assert_golden`] where helm prints the bytes the golden file was made from; where this
/// helm formats them its own way (Helm 4 re-serialises post-rendered output, Helm 4.3 no longer trims
/// each document), the same documents with the same sources and values as the golden file (which
/// only the exact helm writes).
pub fn assert_golden_as(name: &str, actual: &str, exact: bool) {
    if exact {
        return assert_golden(name, actual);
    }
    let path = testdata("golden").join(format!("{name}.snap"));
    let golden = insta::Snapshot::from_file(&path)
        .unwrap_or_else(|e| panic!("golden file {}: {e}", path.display()));
    let expected = golden
        .as_text()
        .unwrap_or_else(|| panic!("{} is not a text snapshot", path.display()))
        .to_string();
    let objects = |text: &str| -> Vec<(Option<String>, serde_json::Value)> {
        documents(text)
            .into_iter()
            .map(|d| (d.source, d.value))
            .collect()
    };
    assert_eq!(
        objects(actual),
        objects(&expected),
        "{name}: other objects than the golden file's"
    );
}

/// One document of helm's output: its `# Source:` and its body without that line.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub source: Option<String>,
    pub body: String,
    pub value: serde_json::Value,
}

impl Rendered {
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }
}

/// Splits helm output into documents with the project's own parser.
pub fn documents(output: &str) -> Vec<Rendered> {
    helm_x::stream::split(output)
        .unwrap()
        .into_iter()
        .filter_map(|raw| {
            let value = helm_x::stream::load(&raw.text).unwrap();
            if value.is_null() {
                return None;
            }
            let body = match raw.text.strip_prefix("# Source: ") {
                Some(rest) => rest.split_once('\n').map_or("", |(_, b)| b).to_string(),
                None => raw.text.clone(),
            };
            Some(Rendered {
                source: raw.source,
                body,
                value,
            })
        })
        .collect()
}

/// Finds the one document of a kind and name.
pub fn find<'a>(docs: &'a [Rendered], kind: &str, name: &str) -> &'a Rendered {
    let found: Vec<_> = docs
        .iter()
        .filter(|d| d.kind() == kind && d.name() == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind}/{name}, found {}: {docs:#?}",
        found.len()
    );
    found[0]
}

/// Copies the tree under `from` into `to` (created), for tests that change a fixture's copy.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// helm-diff's environment variables, which change `helm x diff`'s report: tests clear them for
/// every run unless they set one themselves.
pub const DIFF_VARS: [&str; 8] = [
    "HELM_DIFF_OUTPUT",
    "HELM_DIFF_OUTPUT_CONTEXT",
    "HELM_DIFF_THREE_WAY_MERGE",
    "HELM_DIFF_NORMALIZE_MANIFESTS",
    "HELM_DIFF_USE_UPGRADE_DRY_RUN",
    "HELM_DIFF_TPL",
    "HELM_DIFF_IGNORE_UNKNOWN_FLAGS",
    "HELM_DIFF_COLOR",
];
