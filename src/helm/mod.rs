//! The `helm` process: finding the binary and the flag knowledge needed to drive it.
//!
//! Helm's streams and exit status pass through untouched; every call is an argv vector.

mod args;
mod flags;
mod settings;

pub use args::HelmArgs;
pub use flags::{FlagClass, HelmFlag, classify};
pub use settings::Settings;

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::ExitStatus;

use anyhow::{Context, Result};

use crate::process;

/// The helm executable helm-x drives, resolved once.
#[derive(Debug, Clone)]
pub struct Helm {
    bin: PathBuf,
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
        Ok(Self { bin })
    }

    /// Runs helm with inherited stdio and returns its exit status for the caller to pass on.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<ExitStatus> {
        process::run(&self.bin, args)
    }

    /// The major version (3 or 4), from `helm version`; asked only where the versions differ.
    pub fn major_version(&self) -> Result<u32> {
        let version = self.capture(&["version", "--template", "{{.Version}}"])?;
        version
            .trim()
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .with_context(|| format!("cannot read helm's version from {version:?}"))
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
