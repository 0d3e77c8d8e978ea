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

/// Adoption hands the objects' kubectl-written fields to helm's field manager, so Helm 4's
/// server-side apply takes them over without forcing conflicts of other managers.
pub fn run(inv: &Invocation, target: &Target, verb: Verb, adopt: &[String]) -> Result<ExitCode> {
    if !adopt.is_empty() {
        let dry_run = inv.helm_args.dry_run().is_some();
        for outcome in adopt::adopt(inv, &target.release, adopt, false, dry_run)? {
            eprintln!("helm-x: {outcome}");
        }
    }
    let input = pipeline::resolve(inv, target)?;
    let (target, source) = (&input.target, &input.source);
    let prepared = pipeline::prepare(inv, target, verb, source)?;
    let crds = [&input.crds[..], &prepared.crds[..]].concat();
    if !crds.is_empty() && inv.helm_args.dry_run().is_none() {
        let owner = CrdOwner {
            release: &target.release,
            namespace: &inv.namespace,
            take_ownership: inv.helm_args.take_ownership(),
        };
        let waited = inv
            .require_cluster("installing the input's CRDs")?
            .apply_crds(&crds, &owner)?;
        if inv.debug {
            eprintln!(
                "helm-x: applied {} CRD(s), Established after {} ms",
                crds.len(),
                waited.as_millis()
            );
        }
    }
    Ok(exit_code(prepared.run(inv, verb, &target.release, &[])?))
}
