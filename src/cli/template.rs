//! `helm x template`: render locally, like `helm template` (no cluster access).
//!
//! A patched chart was already rendered by helm once; printing it in helm's format saves a second
//! helm run. Other inputs, flags whose effect only helm knows, and a kept work dir go through
//! `helm template` of the temporary chart.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::ChartArgs;
use crate::chart::output::{self, FILTER_FLAGS, Filter};
use crate::helm::{Helm, Settings};
use crate::pipeline::{self, Built};

/// Renders the input and prints it as `helm template` does.
pub fn run(args: &ChartArgs) -> Result<ExitCode> {
    let helm = Helm::locate()?;
    // A kept work dir should hold the temporary chart the user wants to inspect.
    let keeps_chart = args.keep_workdir || Settings::from_env().debug;
    let prepared = match pipeline::build(&helm, &args.request(false))? {
        Built::Objects(objects)
            if objects.rendered_by_helm
                && !keeps_chart
                && args.helm.final_flags_within(FILTER_FLAGS) =>
        {
            let filter = Filter {
                include_crds: args.helm.has("include-crds"),
                skip_tests: args.helm.has("skip-tests"),
                no_hooks: args.helm.has("no-hooks"),
            };
            let text = output::helm_template(objects.chart_name(), &objects.documents, filter)?;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .context("cannot write the rendered manifests")?;
            return Ok(ExitCode::SUCCESS);
        }
        built => built.into_prepared()?,
    };
    let status = helm.run(&prepared.helm_argv("template", &args.release, &args.helm))?;
    Ok(super::exit_code(status))
}
