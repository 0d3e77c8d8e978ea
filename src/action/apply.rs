//! `helm x install` and `helm x upgrade`: take over `--adopt` objects, prepare the chart, apply a
//! kustomization's or manifest dir's CRDs first (so helm can map their custom resources), and run
//! `helm install|upgrade RELEASE CHART flags…`, passing its exit code on.

use std::process::ExitCode;

use anyhow::Result;

use super::{adopt, exit_code};
use crate::cluster::CrdOwner;
use crate::helm::Verb;
use crate::invocation::{Invocation, Target};
use crate::pipeline;

/// Helm 4 applies server-side, where objects written by another field manager conflict; after an
/// adoption helm-x forces those conflicts, as taking the objects over is what the user asked for.
pub fn run(inv: &Invocation, target: &Target, verb: Verb, adopt: &[String]) -> Result<ExitCode> {
    let mut extra = Vec::new();
    if !adopt.is_empty() {
        let dry_run = inv.helm_args.dry_run().is_some();
        for outcome in adopt::adopt(inv, &target.release, adopt, false, dry_run)? {
            eprintln!("helm-x: {outcome}");
        }
        if !dry_run && !inv.helm_args.decides_conflicts() && inv.helm()?.major_version()? >= 4 {
            extra.push("--force-conflicts".into());
        }
    }
    let source = pipeline::detect(target)?;
    let prepared = pipeline::prepare(inv, target, verb, &source)?;
    if !prepared.crds.is_empty() && inv.helm_args.dry_run().is_none() {
        let owner = CrdOwner {
            release: &target.release,
            namespace: &inv.namespace,
            take_ownership: inv.helm_args.take_ownership(),
        };
        let waited = inv
            .require_cluster("installing the input's CRDs")?
            .apply_crds(&prepared.crds, &owner)?;
        if inv.debug {
            eprintln!(
                "helm-x: applied {} CRD(s), Established after {} ms",
                prepared.crds.len(),
                waited.as_millis()
            );
        }
    }
    Ok(exit_code(prepared.run(
        inv,
        verb,
        &target.release,
        &extra,
    )?))
}
