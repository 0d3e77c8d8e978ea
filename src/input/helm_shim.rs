//! helm-x standing in for helm when kustomize inflates `helmCharts` with Helm 4.
//!
//! kustomize before 5.8.1 (kubectl 1.34 embeds 5.7.1) first runs `helm version -c --short` and
//! accepts only a major version of 3: Helm 4 has no `-c/--client` flag, so the build fails before
//! any chart is inflated, although everything else kustomize runs (`helm template`, `helm pull`)
//! works with Helm 4 as it is. `--helm-command` takes one executable path and no arguments, so
//! helm-x cannot be named there with a subcommand: instead it links itself into a private work dir as
//! [`NAME`], next to a link named [`REAL_HELM`] to the helm it drives, and hands kustomize that path.
//! Started under that name, helm-x answers that probe itself (see [`PROBE_ANSWER`]) and execs the
//! real helm, argv unchanged and no shell anywhere, for everything else (kustomize 5.8.1+ asks
//! `helm version --short`, which reaches the real helm too).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::chart::workdir::WorkDir;

/// The file name helm-x answers to as the shim.
pub const NAME: &str = "helm-x-helm-shim";
/// The link to the real helm, next to the shim.
pub const REAL_HELM: &str = "helm";

/// The shim's path when this process was started as the shim (its argv\[0\] is [`NAME`]).
pub fn invoked() -> Option<PathBuf> {
    let argv0 = PathBuf::from(std::env::args_os().next()?);
    (argv0.file_name() == Some(OsStr::new(NAME))).then_some(argv0)
}

/// What the shim prints for `helm version -c|--client …`: a version kustomize before 5.8.1 accepts
/// (it reads the first `v?N.N…` and wants N = 3), saying that it is helm-x's answer. Nothing else
/// reads it: kustomize only checks it.
pub const PROBE_ANSWER: &str =
    "v3.0.0+helm-x.shim (helm-x answers for Helm 4, which has no `version --client`)";

/// Runs the real helm next to `shim` with `args` (argv\[1..\]), or answers kustomize's probe.
pub fn run(shim: &Path, args: Vec<OsString>) -> Result<ExitCode> {
    let dir = shim
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .with_context(|| format!("{NAME} must be started by its path, not found on PATH"))?;
    if is_client_probe(&args) {
        println!("{PROBE_ANSWER}");
        return Ok(ExitCode::SUCCESS);
    }
    exec(&dir.join(REAL_HELM), &args)
}

/// `helm version` with Helm 2's `-c`/`--client`, which Helm 3 still takes and Helm 4 refuses.
fn is_client_probe(args: &[OsString]) -> bool {
    args.first().is_some_and(|a| a == "version")
        && args[1..].iter().any(|a| {
            let a = a.to_string_lossy();
            a == "-c" || a == "--client" || a.starts_with("--client=")
        })
}

#[cfg(unix)]
fn exec(helm: &Path, args: &[OsString]) -> Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let err = std::process::Command::new(helm).args(args).exec();
    Err(err).with_context(|| format!("cannot start {}", helm.display()))
}

#[cfg(not(unix))]
fn exec(helm: &Path, args: &[OsString]) -> Result<ExitCode> {
    let status = crate::process::run(helm, args)?;
    let code = crate::process::exit_code(status).unwrap_or(1);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// The shim set up in its own private work dir, removed when dropped.
#[derive(Debug)]
pub struct Shim {
    workdir: WorkDir,
}

impl Shim {
    /// Links helm-x (as [`NAME`]) and `helm` (as [`REAL_HELM`]) into a new private work dir.
    #[cfg(unix)]
    pub fn create(helm: &Path) -> Result<Self> {
        let exe = std::env::current_exe().context("cannot find helm-x's own executable")?;
        let helm = std::fs::canonicalize(helm)
            .with_context(|| format!("cannot resolve {}", helm.display()))?;
        let workdir = WorkDir::create(false)?;
        for (name, target) in [(NAME, &exe), (REAL_HELM, &helm)] {
            let link = workdir.path().join(name);
            std::os::unix::fs::symlink(target, &link).with_context(|| {
                format!("cannot link {} to {}", link.display(), target.display())
            })?;
        }
        Ok(Self { workdir })
    }

    #[cfg(not(unix))]
    pub fn create(_helm: &Path) -> Result<Self> {
        anyhow::bail!("kustomize's helmCharts with Helm 4 need a Unix system")
    }

    /// What to give kustomize as `--helm-command`.
    pub fn path(&self) -> PathBuf {
        self.workdir.path().join(NAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn only_the_client_version_probe_is_answered() {
        assert!(is_client_probe(&os(&["version", "-c", "--short"])));
        assert!(is_client_probe(&os(&[
            "version",
            "--short",
            "--client=true"
        ])));
        assert!(!is_client_probe(&os(&["version", "--short"])));
        assert!(!is_client_probe(&os(&["template", "r", "chart", "-c"])));
        assert!(!is_client_probe(&[]));
        // kustomize 5.7 takes the first `v?N(.N)+` for the version and wants major 3.
        let version = PROBE_ANSWER.split(['+', ' ']).next().unwrap();
        assert_eq!(version, "v3.0.0");
    }

    #[test]
    fn the_shim_needs_its_path() {
        let e = run(Path::new(NAME), os(&["version"])).unwrap_err();
        assert!(e.to_string().contains("by its path"), "{e}");
    }
}
