//! `helm x template`: render locally, like `helm template` (no cluster access).
//!
//! A chart is rendered by helm itself, with helm-x as its post-renderer when there are patches. A
//! pre-rendered chart was already rendered by helm once: printing it in helm's format saves a
//! second helm run. Other inputs, flags whose effect only helm knows, and a kept work dir go through
//! `helm template` of the temporary chart.

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
    let source = pipeline::detect(target)?;
    if pipeline::helm_renders(target, &source) {
        let prepared = pipeline::prepare(inv, target, Verb::Template, &source)?;
        return Ok(exit_code(prepared.run(
            inv,
            Verb::Template,
            &target.release,
            &[],
        )?));
    }
    pipeline::check_flags(&inv.helm_args, Verb::Template, &[Verb::Template], &source)?;
    let objects = pipeline::build(inv, target, Verb::Template, &source)?;
    // A kept work dir should hold the temporary chart the user wants to inspect.
    if objects.rendered_by_helm
        && !inv.keep_workdir(target)
        && inv.helm_args.all_within(PRINTABLE_FLAGS)
    {
        let filter = Filter::of(&inv.helm_args);
        let text = output::helm_template(objects.chart_name(), &objects.documents, filter)?;
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
