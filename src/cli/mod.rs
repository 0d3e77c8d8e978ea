//! Command-line interface: clap definitions, one file per subcommand.
//!
//! helm-x owns a handful of flags (patches, input type, work dir); every other flag belongs to helm and
//! is passed on unchanged and in order. [`split_argv`] separates the two before clap sees the argv.

mod adopt;
mod diff;
mod install;
mod template;
mod upgrade;
mod version;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::helm::{Helm, HelmArgs};
use crate::input::InputType;
use crate::patch::{PatchSource, SmpMode};
use crate::pipeline::{self, Request};

/// `helm x`: charts, kustomizations and manifest dirs, patched, as real Helm releases.
#[derive(Debug, Parser)]
#[command(
    name = "helm x",
    bin_name = "helm x",
    version,
    about = "Install, upgrade and template charts, kustomizations and manifest dirs as Helm releases, with patches",
    after_help = "Every helm flag not listed here (-f/--values, --set, --version, --wait, --timeout, --atomic, \
                  --create-namespace, …) is accepted and passed to helm unchanged, in order."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render the input locally, like `helm template`.
    Template(ChartArgs),
    /// Install the input as a release, like `helm install`.
    Install(ApplyArgs),
    /// Upgrade a release to the input, like `helm upgrade` (`-i/--install` to create it when missing).
    Upgrade(ApplyArgs),
    /// Show what an upgrade would change, like the helm-diff plugin (`helm x diff upgrade …` works too).
    Diff(diff::DiffArgs),
    /// Give existing objects the ownership metadata helm checks, so the release takes them over.
    Adopt(adopt::AdoptArgs),
    /// Print helm-x's version.
    Version,
}

/// Install and upgrade: a chart, plus objects to take over first.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub chart: ChartArgs,
    /// Adopt this existing object (KIND/NAME, repeatable) into the release before installing.
    #[arg(long, value_name = "KIND/NAME")]
    pub adopt: Vec<String>,
}

/// What every chart-taking subcommand needs: the release, the input and helm-x's own options.
#[derive(Debug, Args)]
pub struct ChartArgs {
    /// Release name.
    pub release: String,
    /// A chart dir, packaged chart (.tgz), repo/chart, oci:// reference, kustomization dir, or a dir of manifests.
    pub input: String,
    /// Treat the input as this kind instead of detecting it.
    #[arg(long, value_enum)]
    pub input_type: Option<InputType>,
    /// Keep the work dir (and the temporary chart in it) and print its path.
    #[arg(long)]
    pub keep_workdir: bool,
    #[command(flatten)]
    pub patches: PatchArgs,
    /// helm flags, in the user's order (filled by [`split_argv`], not by clap).
    #[arg(skip)]
    pub helm: HelmArgs,
}

/// Patch options. The three file flags are applied in the order they were given, across flags.
#[derive(Debug, Args)]
pub struct PatchArgs {
    /// Strategic-merge patch file: partial objects naming their target by apiVersion, kind and metadata.
    #[arg(long = "strategic-merge-patch", value_name = "FILE")]
    strategic: Vec<PathBuf>,
    /// JSON patch file: `target: {group, version, kind, name, namespace}` with `patch: [RFC 6902 ops]` or `path:`.
    #[arg(long = "json-patch", value_name = "FILE")]
    json: Vec<PathBuf>,
    /// kustomize `patches:` entries (inline `patch:` or `path:`, optional `target` selector).
    #[arg(long = "patch", value_name = "FILE")]
    kustomize: Vec<PathBuf>,
    /// Strategic-merge semantics: `apimachinery` (kubectl and the API server) or `kustomize` (5.x).
    #[arg(long, value_enum, default_value_t = SmpMode::Apimachinery)]
    pub smp_mode: SmpMode,
    /// Warn instead of failing when a patch matches no object.
    #[arg(long)]
    pub allow_missing_patch_targets: bool,
    /// The patch files in command-line order (filled from the matches' indices).
    #[arg(skip)]
    pub ordered: Vec<PatchSource>,
}

impl PatchArgs {
    /// Orders the patch files by their position on the command line.
    fn order(&mut self, matches: &ArgMatches) {
        let mut all: Vec<(usize, PatchSource)> = Vec::new();
        let mut add = |id: &str, files: &[PathBuf], make: fn(PathBuf) -> PatchSource| {
            let indices = matches.indices_of(id).into_iter().flatten();
            all.extend(indices.zip(files).map(|(i, f)| (i, make(f.clone()))));
        };
        add("strategic", &self.strategic, PatchSource::Strategic);
        add("json", &self.json, PatchSource::Json);
        add("kustomize", &self.kustomize, PatchSource::Kustomize);
        all.sort_by_key(|(i, _)| *i);
        self.ordered = all.into_iter().map(|(_, p)| p).collect();
    }
}

/// Parses `argv` (without the program name) and runs the subcommand; returns the process exit code.
pub fn run(argv: Vec<OsString>) -> Result<ExitCode> {
    let (ours, mut helm) = split_argv(argv);
    let mut full = vec![OsString::from("helm x")];
    full.extend(ours);
    let matches = Cli::command().get_matches_from(full);
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let chart_args = match &mut cli.command {
        Command::Template(a) => Some(a),
        Command::Install(a) | Command::Upgrade(a) => Some(&mut a.chart),
        Command::Diff(d) => Some(&mut d.chart),
        Command::Adopt(a) => {
            a.helm = std::mem::take(&mut helm);
            None
        }
        Command::Version => None,
    };
    if let (Some(args), Some((_, sub))) = (chart_args, matches.subcommand()) {
        args.helm = helm;
        args.patches.order(sub);
    }
    match cli.command {
        Command::Template(args) => template::run(&args),
        Command::Install(args) => install::run(&args),
        Command::Upgrade(args) => upgrade::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Adopt(args) => adopt::run(&args),
        Command::Version => version::run(),
    }
}

impl ChartArgs {
    /// The pipeline request these arguments describe; `cluster` renders for the configured cluster
    /// (capabilities, and an upgrade when the release exists) as install, upgrade and diff do.
    pub(crate) fn request(&self, cluster: bool) -> Request<'_> {
        Request {
            release: &self.release,
            input: &self.input,
            input_type: self.input_type,
            keep_workdir: self.keep_workdir,
            patches: &self.patches.ordered,
            smp_mode: self.patches.smp_mode,
            allow_missing_patch_targets: self.patches.allow_missing_patch_targets,
            helm_args: &self.helm,
            upgrade: cluster,
            discover: cluster,
        }
    }
}

/// Install or upgrade: adopt `--adopt` objects first (through the cluster), prepare the chart,
/// then run `helm VERB RELEASE CHART flags…` and pass its exit code on. Helm 4 applies
/// server-side, where objects written by another field manager conflict; after an adoption helm-x
/// forces those conflicts, as taking the objects over is what the user asked for.
fn run_apply(verb: &str, args: &ApplyArgs) -> Result<ExitCode> {
    let helm = Helm::locate()?;
    let chart = &args.chart;
    let mut force_conflicts = false;
    if !args.adopt.is_empty() {
        let dry_run = chart.helm.has("dry-run");
        for outcome in adopt::adopt(&chart.release, &args.adopt, false, dry_run)? {
            eprintln!("helm-x: {outcome}");
        }
        let user_decides = ["server-side", "force-conflicts", "force-replace", "force"]
            .iter()
            .any(|f| chart.helm.has(f));
        force_conflicts = !dry_run && !user_decides && helm.major_version()? >= 4;
    }
    let prepared = pipeline::prepare(&helm, &chart.request(true))?;
    let mut argv = prepared.helm_argv(verb, &chart.release, &chart.helm);
    if force_conflicts {
        argv.push("--force-conflicts".into());
    }
    Ok(exit_code(helm.run(&argv)?))
}

/// Helm's exit status as ours; a signal death becomes 128+N like a shell reports it.
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    #[cfg(unix)]
    use std::os::unix::process::ExitStatusExt;
    let code = status.code();
    #[cfg(unix)]
    let code = code.or_else(|| status.signal().map(|s| 128 + s));
    ExitCode::from(code.and_then(|c| u8::try_from(c).ok()).unwrap_or(1))
}

/// Splits the argv into what clap parses (subcommand, positionals, helm-x's own flags) and the helm
/// flags to pass on. Anything after `--` goes to helm verbatim.
fn split_argv(mut argv: Vec<OsString>) -> (Vec<OsString>, HelmArgs) {
    // `helm x diff upgrade REL INPUT` is how helm-diff users type it.
    if argv.len() > 2 && argv[0] == "diff" && argv[1] == "upgrade" {
        argv.remove(1);
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut helm = HelmArgs::default();
    let sub = argv
        .first()
        .and_then(|a| a.to_str())
        .and_then(|name| cmd.find_subcommand(name));
    let Some(sub) = sub.filter(|s| s.get_arguments().any(|a| a.get_id() == "release")) else {
        return (argv, helm);
    };
    let mut ours = vec![argv[0].clone()];
    let mut i = 1;
    while i < argv.len() {
        let token = argv[i].to_string_lossy();
        if token == "--" {
            helm.push_verbatim(&argv[i + 1..]);
            break;
        }
        if token.len() < 2 || !token.starts_with('-') {
            ours.push(argv[i].clone());
            i += 1;
            continue;
        }
        let own = if let Some(long) = token.strip_prefix("--") {
            let name = long.split_once('=').map_or(long, |(n, _)| n);
            sub.get_arguments()
                .find(|a| a.get_long() == Some(name))
                .map(|a| a.get_action().takes_values() && !long.contains('='))
        } else {
            let c = token.chars().nth(1);
            sub.get_arguments()
                .find(|a| a.get_short() == c)
                .map(|a| a.get_action().takes_values() && token.len() == 2)
        };
        match own {
            Some(takes_value) => {
                let n = if takes_value { 2 } else { 1 };
                let end = (i + n).min(argv.len());
                ours.extend_from_slice(&argv[i..end]);
                i = end;
            }
            None => i += helm.take(&argv[i..]),
        }
    }
    (ours, helm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn own_flags_and_positionals_go_to_clap() {
        let (ours, helm) = split_argv(os(&[
            "upgrade",
            "--install",
            "web",
            "-f",
            "v.yaml",
            "--json-patch",
            "p.yaml",
            "./k",
            "--keep-workdir",
            "--timeout",
            "5m",
            "--",
            "--weird",
        ]));
        assert_eq!(
            ours,
            os(&[
                "upgrade",
                "web",
                "--json-patch",
                "p.yaml",
                "./k",
                "--keep-workdir"
            ])
        );
        assert_eq!(
            helm.finish(true),
            os(&["--install", "-f", "v.yaml", "--timeout", "5m", "--weird"])
        );
    }

    #[test]
    fn patch_order_spans_flags() {
        let argv = os(&[
            "template",
            "r",
            "in",
            "--patch",
            "a",
            "--strategic-merge-patch",
            "b",
            "--json-patch",
            "c",
            "--patch",
            "d",
        ]);
        let (ours, _) = split_argv(argv);
        let mut full = os(&["helm x"]);
        full.extend(ours);
        let m = Cli::command().get_matches_from(full);
        let (_, sub) = m.subcommand().unwrap();
        let mut args = ChartArgs::from_arg_matches(sub).unwrap();
        args.patches.order(sub);
        let names: Vec<_> = args
            .patches
            .ordered
            .iter()
            .map(|p| p.path().display().to_string())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
    }

    #[test]
    fn version_and_help_untouched() {
        let (ours, helm) = split_argv(os(&["version"]));
        assert_eq!(ours, os(&["version"]));
        assert_eq!(helm, HelmArgs::default());
    }
}
