//! `helm x template`: render locally, like `helm template` (no cluster access).
//!
//! Offline, a patched chart gives the same objects whether helm post-renders it or helm-x patches
//! one `helm template` render itself (the tests compare both), so helm-x takes the cheaper way:
//! one helm run, printed in helm's format, bytes of untouched documents kept (Helm 4 re-serialises
//! whatever a post-renderer returns, and its post-render costs more than the render). A
//! kustomization or manifests dir needs no helm run at all: its temporary chart holds only inert
//! text, so helm-x prints what `helm template` of it prints, in helm's order. Flags whose effect
//! only helm knows (`--show-only`, `--output-dir`, `--dry-run`, a post-renderer…) and a kept work
//! dir go through helm: the post-renderer, or `helm template` of the temporary chart.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::exit_code;
use crate::chart::output::{self, Filter, PRINTABLE_FLAGS};
use crate::helm::Verb;
use crate::invocation::{Invocation, Target};
use crate::pipeline;

/// Renders the input and prints it as `helm template` does.
pub fn run(inv: &Invocation, target: &Target) -> Result<ExitCode> {
    let input = pipeline::resolve(inv, target)?;
    let (target, source) = (&input.target, &input.source);
    pipeline::check_input_flags(target, source)?;
    let printable = !inv.keep_workdir(target) && inv.helm_args.all_within(PRINTABLE_FLAGS);
    let prints_itself = source.is_chart() && target.transforms() && printable;
    if pipeline::helm_renders(target, source) && !prints_itself {
        let prepared = pipeline::prepare(inv, target, Verb::Template, source)?;
        return Ok(exit_code(prepared.run(
            inv,
            Verb::Template,
            &target.release,
            &[],
        )?));
    }
    pipeline::check_flags(&inv.helm_args, Verb::Template, &[Verb::Template], source)?;
    let objects = pipeline::build(inv, target, Verb::Template, source)?;
    if printable {
        let documents = if objects.rendered_by_helm {
            objects.stream.documents.iter().collect()
        } else {
            output::helm_order(objects.chart_name(), &objects.stream.documents)
        };
        let filter = Filter::of(&inv.helm_args);
        let text = output::helm_template(objects.chart_name(), &documents, filter)?;
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .context("cannot write the rendered manifests")?;
        return Ok(ExitCode::SUCCESS);
    }
    let prepared = objects.write_chart()?;
    Ok(exit_code(prepared.run(
        inv,
        Verb::Template,
        &target.release,
        &[],
    )?))
}
