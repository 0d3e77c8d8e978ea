//! Every subcommand helm-x does not own runs as helm's (`helm-x list` is `helm list`), with helm's
//! streams and exit code untouched, so `helm-x` can stand in wherever a helm binary is expected
//! (helmfile's `--helm-binary`, scripts).

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::exit_code;
use crate::helm::Helm;

/// Marks a helm run that helm-x passed a command line on to, so a helm that is helm-x again (a
/// wrapper, a link) cannot pass it back and forth for ever.
const DEPTH_VAR: &str = "HELM_X_PASSTHROUGH_DEPTH";
/// How many helm-x → helm hops one command line may take (`helm-x x list` is two).
const MAX_DEPTH: u32 = 3;

/// Runs `helm ARGV…` with inherited stdio and returns its exit code.
pub fn run(argv: &[OsString]) -> Result<ExitCode> {
    let helm = Helm::locate()?;
    let me = std::env::current_exe().and_then(|p| p.canonicalize()).ok();
    if me.is_some() && helm.bin().canonicalize().ok() == me {
        bail!(
            "the helm binary {} is helm-x itself, so helm-x cannot pass {} on to helm: set \
             HELM_BIN to the real helm",
            helm.bin().display(),
            argv.first()
                .map_or_else(|| "the command".into(), |a| a.to_string_lossy())
        );
    }
    let depth: u32 = std::env::var(DEPTH_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if depth >= MAX_DEPTH {
        bail!(
            "helm-x passed this command line to helm {depth} times ({DEPTH_VAR}); the helm binary \
             seems to run helm-x again: set HELM_BIN to the real helm"
        );
    }
    let env = [(
        OsString::from(DEPTH_VAR),
        OsString::from((depth + 1).to_string()),
    )];
    Ok(exit_code(helm.run_env(argv, &env)?))
}
