//! `helm-x argocd generate`: the generate command of the Argo CD config management plugin
//! (`contrib/argocd/plugin.yaml`).

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::action::argocd::Generate;

/// Commands Argo CD's plugin server runs.
#[derive(Debug, Args)]
pub struct ArgocdArgs {
    #[command(subcommand)]
    command: ArgocdCommand,
}

#[derive(Debug, Subcommand)]
enum ArgocdCommand {
    /// Render the Application's source dir (the current dir) with `helm x template`, from the
    /// environment Argo CD sets: ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE, KUBE_VERSION,
    /// KUBE_API_VERSIONS, ARGOCD_APP_PARAMETERS and ARGOCD_ENV_HELM_X_* (see contrib/argocd).
    Generate,
}

impl ArgocdArgs {
    /// Runs the subcommand; `helm x template`'s argv goes through the ordinary parser.
    pub fn run(&self) -> Result<ExitCode> {
        match self.command {
            ArgocdCommand::Generate => {
                let env: BTreeMap<String, String> = std::env::vars_os()
                    .map(|(k, v)| {
                        let k = k.to_string_lossy().into_owned();
                        (k, v.to_string_lossy().into_owned())
                    })
                    .collect();
                let source = std::env::current_dir().context("cannot read the current dir")?;
                let generate = Generate::new(&env, &source)?;
                // `generate` (and the files it holds) outlives the run.
                super::run(generate.argv.clone())
            }
        }
    }
}
