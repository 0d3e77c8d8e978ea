//! `helm x adopt RELEASE KIND/NAME…` and `--adopt` on install/upgrade: let a release take over
//! objects that already exist in the cluster, by giving them the ownership metadata helm checks.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::cluster::{AdoptRequest, Cluster, ClusterConfig};
use crate::helm::{HelmArgs, Settings};

/// Flags of `helm x adopt`.
#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The release that will own the objects.
    pub release: String,
    /// Objects as KIND/NAME (`configmap/settings`, `deployment.apps/web`, `cm/x`), in the release namespace.
    #[arg(required = true, value_name = "KIND/NAME")]
    pub targets: Vec<String>,
    /// Take objects even when another release owns them.
    #[arg(long)]
    pub force: bool,
    /// Show what would change without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Flags helm-x does not know (filled by the argv splitter); adopt runs no helm, so any is an error.
    #[arg(skip)]
    pub helm: HelmArgs,
}

/// Stamps the objects and prints one line per object (and per change).
pub fn run(args: &AdoptArgs) -> Result<ExitCode> {
    if let Some(flag) = args.helm.finish(false).first() {
        bail!("unknown flag {:?} for helm x adopt", flag);
    }
    for outcome in adopt(&args.release, &args.targets, args.force, args.dry_run)? {
        println!("{outcome}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Adopts `targets` into `release` in the release namespace; the outcomes say what changed.
pub fn adopt(
    release: &str,
    targets: &[String],
    force: bool,
    dry_run: bool,
) -> Result<Vec<crate::cluster::AdoptOutcome>> {
    let settings = Settings::from_env();
    let cluster = Cluster::connect(&ClusterConfig::from_env())?
        .context("adopting objects needs a cluster: no kubeconfig or API server is configured")?;
    cluster.adopt(&AdoptRequest {
        release: release.to_string(),
        namespace: settings.namespace,
        targets: targets.to_vec(),
        force,
        dry_run,
    })
}
