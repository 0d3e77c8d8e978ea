//! The `helm` process: finding the binary and the flag knowledge needed to drive it.
//!
//! Helm's streams and exit status pass through untouched; every call is an argv vector.

mod args;
mod flags;
pub mod postrender;
mod repos;
mod settings;

pub use args::{HelmArgs, Reuse, Run};
pub use flags::{HelmFlag, Verb, classify, longs};
pub use repos::Repos;
pub use settings::Settings;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::OnceLock;

use anyhow::{Context, Result};

use crate::process;

/// The helm executable helm-x drives, resolved once.
#[derive(Debug, Clone)]
pub struct Helm {
    bin: PathBuf,
    major: OnceLock<u32>,
}

impl Helm {
    /// Finds helm the way a plugin should: `HELM_BIN` (set by helm for its plugins), else `helm` on PATH.
    pub fn locate() -> Result<Self> {
        let wanted = std::env::var_os("HELM_BIN")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| OsString::from("helm"));
        let bin = which::which(&wanted).with_context(|| {
            format!("cannot find the helm binary {wanted:?} (set HELM_BIN or put helm on PATH)")
        })?;
        Ok(Self {
            bin,
            major: OnceLock::new(),
        })
    }

    /// The helm executable's path.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// Runs helm with inherited stdio and returns its exit status for the caller to pass on.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<ExitStatus> {
        process::run(&self.bin, args)
    }

    /// [`Helm::run`] with extra environment (the Helm 4 post-renderer's `HELM_PLUGINS`).
    pub fn run_env<S: AsRef<OsStr>>(&self, args: &[S], env: &process::Env) -> Result<ExitStatus> {
        process::run_env(&self.bin, args, env)
    }

    /// The major version (3 or 4), from `helm version`, asked once.
    pub fn major_version(&self) -> Result<u32> {
        if let Some(m) = self.major.get() {
            return Ok(*m);
        }
        let version = self.capture(&["version", "--template", "{{.Version}}"])?;
        let major = version
            .trim()
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .with_context(|| format!("cannot read helm's version from {version:?}"))?;
        Ok(*self.major.get_or_init(|| major))
    }

    /// Where helm looks for plugins: `HELM_PLUGINS` as helm exported it to its plugin, else what
    /// `helm env` says (helm-x run directly).
    pub fn plugins_path(&self) -> Result<Option<OsString>> {
        if let Some(p) = std::env::var_os("HELM_PLUGINS").filter(|p| !p.is_empty()) {
            return Ok(Some(p));
        }
        let out = self.capture(&["env", "HELM_PLUGINS"])?;
        let path = out.trim();
        Ok((!path.is_empty()).then(|| OsString::from(path)))
    }

    /// Runs helm capturing both streams, for calls whose failure helm-x interprets itself.
    pub fn output_quiet<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<std::process::Output> {
        process::output_quiet(&self.bin, args)
    }

    /// Runs helm and returns its stdout, or an error naming the command.
    pub fn capture<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<String> {
        process::capture(&self.bin, args)
    }
}
