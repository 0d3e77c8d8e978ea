//! `helm x adopt RELEASE KIND/NAME…` and `--adopt` on install/upgrade: let a release take over
//! objects that already exist in the cluster, by giving them the ownership metadata helm checks.

use anyhow::Result;

use crate::cluster::{AdoptOutcome, AdoptRequest};
use crate::invocation::Invocation;

/// Adopts `targets` into `release` in the release namespace; the outcomes say what changed.
pub fn adopt(
    inv: &Invocation,
    release: &str,
    targets: &[String],
    force: bool,
    dry_run: bool,
) -> Result<Vec<AdoptOutcome>> {
    inv.require_cluster("adopting objects")?
        .adopt(&AdoptRequest {
            release: release.to_string(),
            namespace: inv.namespace.clone(),
            targets: targets.to_vec(),
            force,
            dry_run,
        })
}
