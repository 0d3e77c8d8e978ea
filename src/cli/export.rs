//! `helm x export flux RELEASE INPUT [flags]`.

use std::process::ExitCode;

use anyhow::Result;
use clap::{ArgMatches, Args, ValueEnum};

use super::ChartArgs;
use crate::action::export::{self, FluxOptions};
use crate::helm::HelmArgs;
use crate::invocation::Invocation;

/// What `helm x export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A Flux `HelmRelease` (helm.toolkit.fluxcd.io/v2) and its `HelmRepository` or `OCIRepository`.
    Flux,
}

/// Flags of `helm x export`: those of `helm x install`, plus the exported objects' own settings.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The format to export to.
    #[arg(value_enum)]
    pub format: Format,
    #[command(flatten)]
    pub chart: ChartArgs,
    /// How often Flux reconciles the exported objects (their `spec.interval`).
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub interval: String,
}

impl ExportArgs {
    /// Runs the export with the user's helm flags.
    pub fn run(&self, matches: &ArgMatches, helm: HelmArgs) -> Result<ExitCode> {
        let target = self.chart.target(matches);
        match self.format {
            Format::Flux => export::flux(
                &Invocation::new(helm),
                &target,
                &FluxOptions {
                    interval: self.interval.clone(),
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use clap::{CommandFactory, FromArgMatches};

    use super::*;
    use crate::helm::{Run, Verb};
    use crate::patch::PatchSource;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn export_flux_takes_chart_args_and_routes_helm_flags() {
        let mut cmd = super::super::Cli::command();
        cmd.build();
        let (ours, helm, unknown) = super::super::split_argv(
            &cmd,
            os(&[
                "export",
                "flux",
                "r",
                "local/app",
                "--version",
                "1.2.0",
                "-f",
                "v.yaml",
                "--strategic-merge-patch",
                "p.yaml",
                "--set",
                "a=b",
                "--interval",
                "5m",
                "-n",
                "apps",
            ]),
        );
        assert!(unknown.is_empty(), "{unknown:?}");
        let mut full = os(&["helm x"]);
        full.extend(ours);
        let m = super::super::Cli::command()
            .try_get_matches_from(full)
            .unwrap();
        let (name, sub) = m.subcommand().unwrap();
        assert_eq!(name, "export");
        let args = ExportArgs::from_arg_matches(sub).unwrap();
        assert_eq!(args.format, Format::Flux);
        assert_eq!(
            (args.chart.release.as_str(), args.chart.input.as_str()),
            ("r", "local/app")
        );
        assert_eq!(args.interval, "5m");
        assert_eq!(
            args.chart.target(sub).patches,
            [PatchSource::Strategic("p.yaml".into())]
        );
        assert_eq!(
            helm.for_run(
                Verb::Install,
                Run::Render {
                    chart_is_local: false
                }
            ),
            os(&[
                "--version",
                "1.2.0",
                "-f",
                "v.yaml",
                "--set",
                "a=b",
                "-n",
                "apps"
            ])
        );
        assert_eq!(helm.namespace().as_deref(), Some("apps"));
        let bad = super::super::Cli::command().try_get_matches_from(os(&[
            "helm x",
            "export",
            "argo",
            "r",
            "local/app",
        ]));
        assert!(bad.is_err());
    }
}
