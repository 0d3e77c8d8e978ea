//! helm-x as helm's post-renderer: helm renders the user's chart (with its release history, `lookup`,
//! the cluster's capabilities and its own values rules) and pipes the result through `helm-x
//! postrender SPEC`, which applies the patches.
//!
//! Helm 3 runs an executable: `--post-renderer <helm-x> --post-renderer-args postrender …`. Helm 4
//! takes only the name of a `postrenderer/v1` plugin, so helm-x writes an ephemeral one into the
//! private work dir and prepends that dir to `HELM_PLUGINS` for that one helm run (never on Helm 3,
//! whose plugin loader rejects v1 files). Everything the post-renderer needs travels in a JSON spec
//! file in the work dir; Helm 4 swallows a post-renderer's stderr, so errors and warnings travel back
//! through files next to it, and the parent prints them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::Helm;
use crate::filter::inject::Injector;
use crate::filter::namespace::ForceNamespace;
use crate::patch::{PatchSource, SmpMode};

/// The document format helm pipes through a post-renderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamFormat {
    /// Helm 3: `# Source:` comments name each document's template; hooks are not included.
    Sources,
    /// Helm 4: a `postrenderer.helm.sh/postrender-filename` annotation names it; hooks included.
    Annotations,
}

/// A user's own post-renderer, run on helm-x's output (Helm 3 executables only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chained {
    /// The executable, as the user gave it to `--post-renderer`.
    pub command: String,
    /// Its `--post-renderer-args`.
    pub args: Vec<String>,
}

/// What the post-renderer does: the caller fills it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Patch files in command-line order.
    pub patches: Vec<PatchSource>,
    /// Strategic-merge semantics.
    pub smp_mode: SmpMode,
    /// Missing targets warn instead of failing.
    pub allow_missing_targets: bool,
    /// Every patch was already matched against the whole render (Helm 3 with frozen hooks, whose
    /// targets helm never pipes through here), so missing targets are expected and not reported.
    pub targets_checked: bool,
    /// Namespace of objects that name none.
    pub namespace: String,
    /// The user's post-renderer, run after the patches.
    pub chain: Option<Chained>,
    /// The chart's `crds/` CRDs, which helm does not pipe through here.
    pub crds: Vec<serde_json::Value>,
    /// `--force-namespace`, applied after the patches.
    pub force_namespace: Option<ForceNamespace>,
    /// `--inject` command lines, run last.
    pub injectors: Vec<Injector>,
    /// Cluster-scoped `(group, kind)`s from the cluster's discovery, for `--force-namespace`.
    pub cluster_scoped: Vec<(String, String)>,
    /// `--validate-offline`: the objects helm gets (after the user's post-renderer) are checked.
    #[serde(default)]
    pub validate: Option<crate::validate::Options>,
}

/// Everything `helm-x postrender` needs, written once per helm run into the work dir.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// What to do.
    #[serde(flatten)]
    pub job: Job,
    /// The user's working directory: patch files resolve from it as they did on the command line.
    pub cwd: PathBuf,
    /// How helm frames the documents.
    pub format: StreamFormat,
    /// Where the post-renderer writes its error for the parent to print.
    pub error_file: PathBuf,
    /// Where it writes its warnings (helm shows none of a successful post-renderer's stderr).
    pub warnings_file: PathBuf,
}

impl Spec {
    /// Reads a spec written by [`hook_up`].
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the post-render spec {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not a helm-x post-render spec", path.display()))
    }
}

/// The flags and environment that make one helm run call helm-x as its post-renderer, and the files
/// it reports through.
#[derive(Debug)]
pub struct Hookup {
    /// Extra helm flags (`--post-renderer …`).
    pub flags: Vec<OsString>,
    /// Extra environment (`HELM_PLUGINS` on Helm 4).
    pub env: Vec<(OsString, OsString)>,
    /// Helm 4 hides the post-renderer's stderr, so its error has to be printed by the parent.
    pub stderr_hidden: bool,
    error_file: PathBuf,
    warnings_file: PathBuf,
}

impl Hookup {
    /// Prints what the post-renderer reported: its warnings always, its error where helm hid it.
    pub fn report(&self) {
        if let Ok(warnings) = std::fs::read_to_string(&self.warnings_file) {
            for line in warnings.lines().filter(|l| !l.is_empty()) {
                eprintln!("helm-x: warning: {line}");
            }
        }
        let hidden_error = self
            .stderr_hidden
            .then(|| std::fs::read_to_string(&self.error_file).ok())
            .flatten();
        if let Some(error) = hidden_error {
            eprintln!("Error: helm-x post-renderer: {error}");
        }
    }
}

/// Name of the ephemeral Helm 4 plugin; unique per process so two runs never clash.
fn plugin_name() -> String {
    format!("helm-x-postrender-{}", std::process::id())
}

/// Writes the spec (and on Helm 4 the ephemeral plugin) into `workdir` and returns how to run helm
/// with helm-x as its post-renderer.
pub fn hook_up(helm: &Helm, workdir: &Path, job: Job) -> Result<Hookup> {
    let major = helm.major_version()?;
    let exe = std::env::current_exe().context("cannot find helm-x's own executable")?;
    let dir = workdir.join("postrender");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let spec = Spec {
        job,
        cwd: std::env::current_dir().context("cannot read the current directory")?,
        format: if major >= 4 {
            StreamFormat::Annotations
        } else {
            StreamFormat::Sources
        },
        error_file: dir.join("error.txt"),
        warnings_file: dir.join("warnings.txt"),
    };
    let spec_path = dir.join("spec.json");
    write(&spec_path, &serde_json::to_string_pretty(&spec)?)?;
    let spec_arg = spec_path.to_string_lossy().into_owned();
    let (flags, env) = if major >= 4 {
        let plugins = dir.join("plugins");
        let name = plugin_name();
        let plugin_dir = plugins.join(&name);
        std::fs::create_dir_all(&plugin_dir)
            .with_context(|| format!("cannot create {}", plugin_dir.display()))?;
        let quote = |s: &str| serde_json::to_string(s).expect("strings always serialize");
        let manifest = format!(
            "apiVersion: v1\nname: {name}\ntype: postrenderer/v1\nruntime: subprocess\nversion: 0.1.0\n\
             runtimeConfig:\n  platformCommand:\n    - command: {}\n      args: [\"postrender\", {}]\n",
            quote(&exe.to_string_lossy()),
            quote(&spec_arg),
        );
        write(&plugin_dir.join("plugin.yaml"), &manifest)?;
        let mut search = OsString::from(plugins.as_os_str());
        if let Some(existing) = helm.plugins_path()? {
            search.push(":");
            search.push(existing);
        }
        (
            vec!["--post-renderer".into(), name.into()],
            vec![("HELM_PLUGINS".into(), search)],
        )
    } else {
        (
            vec![
                "--post-renderer".into(),
                exe.into_os_string(),
                "--post-renderer-args".into(),
                "postrender".into(),
                "--post-renderer-args".into(),
                spec_arg.into(),
            ],
            Vec::new(),
        )
    };
    Ok(Hookup {
        flags,
        env,
        stderr_hidden: major >= 4,
        error_file: spec.error_file,
        warnings_file: spec.warnings_file,
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let spec = Spec {
            job: Job {
                patches: vec![
                    PatchSource::Json("p.yaml".into()),
                    PatchSource::Transformer("t.yaml".into()),
                ],
                smp_mode: SmpMode::Kustomize,
                allow_missing_targets: true,
                targets_checked: false,
                namespace: "ns".into(),
                chain: Some(Chained {
                    command: "./pr".into(),
                    args: vec!["a b".into()],
                }),
                crds: vec![serde_json::json!({"kind": "CustomResourceDefinition"})],
                force_namespace: Some(ForceNamespace {
                    namespace: "team".into(),
                    mode: crate::filter::namespace::NamespaceMode::Fill,
                }),
                injectors: vec!["inject -f FILE".parse().unwrap()],
                cluster_scoped: vec![("x.io".into(), "Global".into())],
                validate: Some(crate::validate::Options {
                    allow_unknown_kinds: true,
                }),
            },
            cwd: "/w".into(),
            format: StreamFormat::Annotations,
            error_file: "/e".into(),
            warnings_file: "/w".into(),
        };
        let path = dir.path().join("spec.json");
        std::fs::write(&path, serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(Spec::read(&path).unwrap(), spec);
        std::fs::write(&path, "{}").unwrap();
        let err = format!("{:#}", Spec::read(&path).unwrap_err());
        assert!(err.contains("not a helm-x post-render spec"), "{err}");
    }
}
