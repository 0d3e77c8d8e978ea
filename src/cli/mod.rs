//! Command-line interface: clap definitions, one file per subcommand.
//!
//! helm-x owns a handful of flags (patches, input type, work dir); every other flag belongs to helm and
//! is passed on unchanged and in order. [`split_argv`] separates the two before clap sees the argv.

mod adopt;
mod argocd;
mod diff;
mod export;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::action;
use crate::filter::inject::Injector;
use crate::filter::namespace::{ForceNamespace, NamespaceMode};
use crate::helm::{HelmArgs, Verb, classify};
use crate::input::InputType;
use crate::input::dependency::Dependency;
use crate::input::helm_shim;
use crate::invocation::{Invocation, Target};
use crate::patch::{PatchSource, SmpMode};

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

// Parsed once per process: boxing the argument structs would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Render the input locally, like `helm template`.
    Template(ChartArgs),
    /// Install the input as a release, like `helm install`.
    Install(ApplyArgs),
    /// Upgrade a release to the input, like `helm upgrade` (`-i/--install` to create it when missing).
    Upgrade(ApplyArgs),
    /// Show what an upgrade would change, like the helm-diff plugin (`helm x diff upgrade …` works
    /// too; `helm x diff revision|rollback|release` compare stored releases).
    Diff(diff::DiffArgs),
    /// `helm x diff revision RELEASE REV [REV2]`: one revision against the deployed one, or two.
    #[command(name = "diff-revision", hide = true)]
    DiffRevision(diff::RevisionArgs),
    /// `helm x diff rollback RELEASE REV`: what rolling back to REV would change.
    #[command(name = "diff-rollback", hide = true)]
    DiffRollback(diff::RollbackArgs),
    /// `helm x diff release [NS/]A [NS/]B`: two releases of one chart.
    #[command(name = "diff-release", hide = true)]
    DiffRelease(diff::ReleaseArgs),
    /// `helm x export flux RELEASE INPUT`: print the release as a Flux HelmRelease and its source.
    Export(export::ExportArgs),
    /// Give existing objects the ownership metadata helm checks, so the release takes them over.
    Adopt(adopt::AdoptArgs),
    /// Print helm-x's version.
    Version,
    /// The Argo CD config management plugin's commands (contrib/argocd).
    Argocd(argocd::ArgocdArgs),
    /// Run by helm as its post-renderer (helm-x sets this up itself).
    #[command(hide = true)]
    Postrender {
        /// The spec helm-x wrote into its work dir.
        spec: PathBuf,
    },
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
    /// Render a patched chart first and install the frozen result, instead of post-rendering the chart.
    #[arg(long)]
    pub pre_render: bool,
    /// Pass ARG, as one word, to `kustomize build` / `kubectl kustomize` (repeatable), e.g.
    /// `--kustomize-build-arg=--load-restrictor=LoadRestrictionsNone`.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    pub kustomize_build_arg: Vec<OsString>,
    /// Put every namespaced object in this namespace (cluster-scoped objects never get one).
    #[arg(long, value_name = "NS")]
    pub force_namespace: Option<String>,
    /// `override`: every namespaced object; `fill`: only those that name no namespace.
    #[arg(long, value_enum, default_value_t = NamespaceMode::Override, requires = "force_namespace")]
    pub force_namespace_mode: NamespaceMode,
    /// Add the chart `[ALIAS=]CHART[:VERSION]` as a subchart (repeatable): CHART is `repo/chart`
    /// (from `helm repo list`), `oci://…` or a local path; on unless `--set ALIAS.enabled=false`,
    /// configured with `--set ALIAS.key=…`.
    #[arg(
        long,
        visible_alias = "adhoc-dependency",
        value_name = "[ALIAS=]CHART[:VERSION]"
    )]
    pub dependency: Vec<Dependency>,
    /// Run this injector on the objects (repeatable, after the patches): one command line, split
    /// into words without a shell, its `FILE` word replaced by a file of the objects; what it
    /// prints replaces them. E.g. `--inject 'istioctl kube-inject -f FILE'`.
    #[arg(long, value_name = "'CMD ARG… FILE …'")]
    pub inject: Vec<Injector>,
    /// Check every final object without a cluster: built-in kinds against the Kubernetes 1.33 API
    /// types, custom resources against the input's CRDs; any problem fails the run.
    #[arg(long)]
    pub validate_offline: bool,
    /// With --validate-offline: objects of kinds neither built in nor defined by a CRD of the
    /// input are warnings, not errors.
    #[arg(long, requires = "validate_offline")]
    pub validate_offline_allow_unknown_kinds: bool,
    #[command(flatten)]
    pub patches: PatchArgs,
}

/// Patch options. The three file flags are applied in the order they were given, across flags.
#[derive(Debug, Args)]
pub struct PatchArgs {
    /// Strategic-merge patch file: partial objects naming their target by apiVersion, kind and metadata.
    #[arg(long = "strategic-merge-patch", value_name = "FILE")]
    strategic: Vec<PathBuf>,
    /// JSON patch file: `target: {group, version, kind, name, namespace}` with `patch: [RFC 6902 ops]` or `path:`.
    #[arg(long = "json-patch", visible_alias = "jsonpatch", value_name = "FILE")]
    json: Vec<PathBuf>,
    /// kustomize `patches:` entries (inline `patch:` or `path:`, optional `target` selector).
    #[arg(long = "patch", value_name = "FILE")]
    kustomize: Vec<PathBuf>,
    /// kustomize builtin transformer configs (`apiVersion: builtin`), applied in order with the patches.
    #[arg(long = "transformer", value_name = "FILE")]
    transformer: Vec<PathBuf>,
    /// Strategic-merge semantics: `apimachinery` (kubectl and the API server) or `kustomize` (5.x).
    #[arg(long, value_enum, default_value_t = SmpMode::Apimachinery)]
    pub smp_mode: SmpMode,
    /// Warn instead of failing when a patch matches no object.
    #[arg(long)]
    pub allow_missing_patch_targets: bool,
}

impl PatchArgs {
    /// The patch files ordered by their position on the command line.
    fn ordered(&self, matches: &ArgMatches) -> Vec<PatchSource> {
        let mut all: Vec<(usize, PatchSource)> = Vec::new();
        let mut add = |id: &str, files: &[PathBuf], make: fn(PathBuf) -> PatchSource| {
            let indices = matches.indices_of(id).into_iter().flatten();
            all.extend(indices.zip(files).map(|(i, f)| (i, make(f.clone()))));
        };
        add("strategic", &self.strategic, PatchSource::Strategic);
        add("json", &self.json, PatchSource::Json);
        add("kustomize", &self.kustomize, PatchSource::Kustomize);
        add("transformer", &self.transformer, PatchSource::Transformer);
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, p)| p).collect()
    }
}

impl ChartArgs {
    fn target(&self, matches: &ArgMatches) -> Target {
        Target {
            release: self.release.clone(),
            input: self.input.clone(),
            input_type: self.input_type,
            patches: self.patches.ordered(matches),
            smp_mode: self.patches.smp_mode,
            allow_missing_patch_targets: self.patches.allow_missing_patch_targets,
            pre_render: self.pre_render,
            keep_workdir: self.keep_workdir,
            dependencies: self.dependency.clone(),
            injectors: self.inject.clone(),
            local_copy: false,
            kustomize_build_args: self.kustomize_build_arg.clone(),
            force_namespace: self
                .force_namespace
                .clone()
                .map(|namespace| ForceNamespace {
                    namespace,
                    mode: self.force_namespace_mode,
                }),
            validate_offline: self.validate_offline.then_some(crate::validate::Options {
                allow_unknown_kinds: self.validate_offline_allow_unknown_kinds,
            }),
        }
    }
}

/// Parses `argv` (without the program name) and runs the subcommand; returns the process exit code.
pub fn run(argv: Vec<OsString>) -> Result<ExitCode> {
    // kustomize's `--helm-command` takes a path and no arguments, so the shim is known by its name.
    if let Some(shim) = helm_shim::invoked() {
        return helm_shim::run(&shim, argv);
    }
    // Built once: routing, splitting and parsing all read the same command tree.
    let mut cmd = Cli::command();
    cmd.build();
    let argv = match route(&cmd, argv) {
        Route::Ours(argv) => argv,
        Route::Helm(argv) => return action::passthrough::run(&argv),
    };
    let (ours, helm, unknown) = split_argv(&cmd, argv);
    if let Some(error) = unknown.into_iter().next() {
        bail!(error);
    }
    let mut full = vec![OsString::from("helm x")];
    full.extend(ours);
    // Usage errors exit 1, as helm's and helm-diff's do (clap's own code, 2, means "changes" to
    // `helm x diff --detailed-exitcode`).
    let usage = |e: clap::Error| {
        if !e.use_stderr() {
            e.exit();
        }
        let _ = e.print();
        Ok(ExitCode::FAILURE)
    };
    let matches = match cmd.try_get_matches_from(full) {
        Ok(matches) => matches,
        Err(e) => return usage(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage(e),
    };
    let sub = matches
        .subcommand()
        .map_or_else(ArgMatches::default, |(_, m)| m.clone());
    match &cli.command {
        Command::Version => {
            println!("helm-x {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Postrender { spec } => action::postrender::run(spec),
        Command::Argocd(args) => args.run(),
        Command::Export(args) => args.run(&sub, helm),
        Command::Adopt(args) => {
            let inv = Invocation::new(globals_only(helm, "adopt")?);
            let outcomes =
                action::adopt::adopt(&inv, &args.release, &args.targets, args.force, args.dry_run)?;
            for outcome in outcomes {
                println!("{outcome}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Template(args) => {
            action::template::run(&Invocation::new(helm), &args.target(&sub))
        }
        Command::Install(args) | Command::Upgrade(args) => {
            let verb = match cli.command {
                Command::Install(_) => Verb::Install,
                _ => Verb::Upgrade,
            };
            let target = args.chart.target(&sub);
            action::apply::run(&Invocation::new(helm), &target, verb, &args.adopt)
        }
        Command::Diff(args) => {
            let target = args.chart.target(&sub);
            let options = args.options()?;
            action::diff::run(Invocation::new(diff_flags(helm)?), &target, options)
        }
        Command::DiffRevision(args) => {
            let inv = Invocation::new(globals_only(helm, "diff revision")?);
            action::diff::revision(&inv, &args.release, &args.revisions, args.report.options()?)
        }
        Command::DiffRollback(args) => {
            let inv = Invocation::new(globals_only(helm, "diff rollback")?);
            action::diff::rollback(&inv, &args.release, args.revision, args.report.options()?)
        }
        Command::DiffRelease(args) => {
            let inv = Invocation::new(globals_only(helm, "diff release")?);
            action::diff::releases(&inv, &args.releases, args.report.options()?)
        }
    }
}

/// Helm flags for a subcommand that runs helm only to read releases: its globals and nothing else.
fn globals_only(helm: HelmArgs, command: &str) -> Result<HelmArgs> {
    if let Some(flag) = helm.beyond_globals().first() {
        bail!("unknown flag {flag:?} for helm x {command}");
    }
    Ok(helm)
}

/// `helm x diff upgrade` takes the helm flags helm-diff takes; any other flag is an error, as in
/// helm-diff, unless `HELM_DIFF_IGNORE_UNKNOWN_FLAGS=true` (a `helm upgrade` wrapper passing its
/// whole command line), when it is dropped with a warning.
fn diff_flags(helm: HelmArgs) -> Result<HelmArgs> {
    let refused = helm.refused_by_diff();
    if refused.is_empty() {
        return Ok(helm);
    }
    if std::env::var("HELM_DIFF_IGNORE_UNKNOWN_FLAGS").is_ok_and(|v| v == "true") {
        eprintln!(
            "helm x diff: ignoring {} (HELM_DIFF_IGNORE_UNKNOWN_FLAGS=true)",
            refused.join(", ")
        );
        return Ok(helm.accepted_by_diff());
    }
    bail!(
        "unknown flag: {} (helm x diff takes the flags of helm diff upgrade; set \
         HELM_DIFF_IGNORE_UNKNOWN_FLAGS=true to ignore the others)",
        refused.join(", ")
    )
}

/// The helm verb whose flags a subcommand takes (diff mirrors upgrade).
fn verb_of(sub: &str) -> Verb {
    match sub {
        "template" => Verb::Template,
        "install" | "export" => Verb::Install,
        _ => Verb::Upgrade,
    }
}

/// Whether a flag of ours consumes the next word: not when its value must be attached
/// (`--detailed-exitcode[=BOOL]`, `--dry-run[=MODE]`), as pflag's booleans and optional values.
fn takes_next(arg: &clap::Arg) -> bool {
    arg.get_action().takes_values() && !arg.is_require_equals_set()
}

/// Where a command line goes: to helm-x's own subcommands, or on to helm.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Ours(Vec<OsString>),
    Helm(Vec<OsString>),
}

/// Decides who owns the command line. helm-x owns its subcommands (and `help`, `--help`,
/// `--version`), `apply` (`upgrade --install`) and a bare `version`; everything else, `version
/// --short` included, is helm's. Helm's global flags may stand before the subcommand, as on helm's
/// own command line; for one of ours they move after it. A leading flag the table does not know as
/// a global leaves the subcommand unknown, so the line goes to helm, which parses it as it always has.
fn route(cmd: &clap::Command, mut argv: Vec<OsString>) -> Route {
    let mut i = 0;
    while let Some(token) = argv.get(i).map(|t| t.to_string_lossy()) {
        if token == "--" || token.len() < 2 || !token.starts_with('-') {
            break;
        }
        if matches!(token.as_ref(), "-h" | "--help" | "-V" | "--version") {
            return Route::Ours(argv);
        }
        match classify(&token) {
            Some((flag, attached)) if flag.is_global() => {
                i += if flag.takes_value(Verb::Upgrade) && !attached {
                    2
                } else {
                    1
                };
            }
            _ => return Route::Helm(argv),
        }
    }
    let Some(word) = argv.get(i).map(|w| w.to_string_lossy().into_owned()) else {
        return Route::Ours(argv);
    };
    let ours = match word.as_str() {
        "help" | "apply" => true,
        "version" => argv.len() == i + 1,
        "--" => false,
        name => cmd.find_subcommand(name).is_some(),
    };
    if !ours {
        return Route::Helm(argv);
    }
    let globals: Vec<OsString> = argv.drain(..i).collect();
    if word == "apply" {
        argv.splice(0..1, ["upgrade".into(), "--install".into()]);
    }
    let end = argv.iter().position(|t| t == "--").unwrap_or(argv.len());
    argv.splice(end..end, globals);
    Route::Ours(argv)
}

/// The error for a flag neither helm-x nor the helm flag table knows, written `--flag word`: helm
/// may take the word as its value or as an argument, and guessing either could run the wrong
/// command.
fn ambiguous(flag: &str, sub: &clap::Command, verb: Verb) -> String {
    let name = flag.trim_start_matches('-');
    let mut known: Vec<String> = sub
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    known.extend(crate::helm::longs(verb).map(str::to_string));
    let best = known
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = best.map_or_else(String::new, |(_, c)| format!(" (did you mean --{c}?)"));
    format!(
        "unknown flag {flag}{hint}; if it takes a value, write {flag}=value (helm-x passes flags \
         it does not know to helm, but cannot tell whether {flag} takes the word after it)"
    )
}

/// Splits the argv into what clap parses (subcommand, positionals, helm-x's own flags) and the helm
/// flags to pass on, and the errors for unknown flags written `--flag word`. Anything after `--`
/// goes to helm verbatim.
fn split_argv(
    cmd: &clap::Command,
    mut argv: Vec<OsString>,
) -> (Vec<OsString>, HelmArgs, Vec<String>) {
    // `helm x diff upgrade REL INPUT` is how helm-diff users type it; `helm x diff revision|
    // rollback|release` are helm-diff's other subcommands.
    if argv.len() > 2 && argv[0] == "diff" {
        match argv[1].to_str() {
            Some("upgrade") => {
                argv.remove(1);
            }
            Some(sub @ ("revision" | "rollback" | "release")) => {
                argv[0] = format!("diff-{sub}").into();
                argv.remove(1);
            }
            _ => {}
        }
    }
    let mut helm = HelmArgs::default();
    let sub = argv
        .first()
        .and_then(|a| a.to_str())
        .and_then(|name| cmd.find_subcommand(name));
    let takes_release = |s: &&clap::Command| {
        s.get_arguments()
            .any(|a| matches!(a.get_id().as_str(), "release" | "releases"))
    };
    let Some(sub) = sub.filter(takes_release) else {
        return (argv, helm, Vec::new());
    };
    let mut unknown = Vec::new();
    let verb = verb_of(sub.get_name());
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
                .find(|a| {
                    a.get_long() == Some(name)
                        || a.get_all_aliases().is_some_and(|all| all.contains(&name))
                })
                .map(|a| takes_next(a) && !long.contains('='))
        } else {
            let c = token.chars().nth(1);
            sub.get_arguments()
                .find(|a| a.get_short() == c)
                .map(|a| takes_next(a) && token.len() == 2)
        };
        match own {
            Some(takes_value) => {
                let n = if takes_value { 2 } else { 1 };
                let end = (i + n).min(argv.len());
                ours.extend_from_slice(&argv[i..end]);
                i = end;
            }
            None => {
                let bare = !token.contains('=') && (token.starts_with("--") || token.len() == 2);
                let word_follows = argv
                    .get(i + 1)
                    .is_some_and(|w| !w.to_string_lossy().starts_with('-'));
                if bare && word_follows && classify(&token).is_none() {
                    unknown.push(ambiguous(&token, sub, verb));
                }
                i += helm.take(&argv[i..], verb);
            }
        }
    }
    (ours, helm, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built() -> clap::Command {
        let mut cmd = Cli::command();
        cmd.build();
        cmd
    }

    fn split(argv: Vec<OsString>) -> (Vec<OsString>, HelmArgs, Vec<String>) {
        split_argv(&built(), argv)
    }

    fn routed(argv: Vec<OsString>) -> Route {
        route(&built(), argv)
    }

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn own_flags_and_positionals_go_to_clap() {
        let (ours, helm, _) = split(os(&[
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
            helm.for_run(
                Verb::Upgrade,
                crate::helm::Run::Final {
                    chart_is_local: true
                }
            ),
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
        let (ours, _, _) = split(argv);
        let mut full = os(&["helm x"]);
        full.extend(ours);
        let m = Cli::command().get_matches_from(full);
        let (_, sub) = m.subcommand().unwrap();
        let args = ChartArgs::from_arg_matches(sub).unwrap();
        let names: Vec<_> = args
            .target(sub)
            .patches
            .iter()
            .map(|p| p.path().display().to_string())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
    }

    #[test]
    fn kustomize_build_args_are_ours_word_for_word() {
        let argv = os(&[
            "template",
            "r",
            "in",
            "--kustomize-build-arg",
            "--enable-helm",
            "--set",
            "a=b",
            "--kustomize-build-arg=--load-restrictor=LoadRestrictionsNone",
            "--kustomize-build-arg",
            "--helm-api-versions=a b/v1",
        ]);
        let (ours, helm, _) = split(argv);
        let mut full = os(&["helm x"]);
        full.extend(ours);
        let m = Cli::command().get_matches_from(full);
        let (_, sub) = m.subcommand().unwrap();
        let args = ChartArgs::from_arg_matches(sub).unwrap();
        assert_eq!(
            args.target(sub).kustomize_build_args,
            os(&[
                "--enable-helm",
                "--load-restrictor=LoadRestrictionsNone",
                "--helm-api-versions=a b/v1"
            ])
        );
        assert_eq!(
            helm.for_run(
                Verb::Template,
                crate::helm::Run::Final {
                    chart_is_local: true
                }
            ),
            os(&["--set", "a=b"])
        );
    }

    fn diff_args(words: &[&str]) -> (diff::DiffArgs, HelmArgs) {
        let mut argv = os(&["diff", "upgrade", "r", "in"]);
        argv.extend(os(words));
        let (ours, helm, _) = split(argv);
        let mut full = os(&["helm x"]);
        full.extend(ours);
        let m = Cli::command().try_get_matches_from(full).unwrap();
        let (_, sub) = m.subcommand().unwrap();
        (diff::DiffArgs::from_arg_matches(sub).unwrap(), helm)
    }

    /// Every helm-diff flag reads the same written `--flag value` and `--flag=value`.
    #[test]
    fn diff_flags_in_both_forms() {
        let pairs: &[(&[&str], &[&str])] = &[
            (&["--suppress", "ConfigMap"], &["--suppress=ConfigMap"]),
            (&["--context", "3"], &["--context=3"]),
            (&["-C", "3"], &["--context=3"]),
            (&["--output", "simple"], &["--output=simple"]),
            (&["--find-renames", "0.5"], &["--find-renames=0.5"]),
            (&["-D", "0.5"], &["--find-renames=0.5"]),
            (
                &["--suppress-output-line-regex", "a.b"],
                &["--suppress-output-line-regex=a.b"],
            ),
            (&["--detailed-exitcode"], &["--detailed-exitcode=true"]),
            (&["--server-side", "false"], &["--server-side=false"]),
            (&["--markdown-limit", "100"], &["--markdown-limit=100"]),
            (&["--ignore", "/a"], &["--ignore=/a"]),
        ];
        for (spaced, joined) in pairs {
            let (a, _) = diff_args(spaced);
            let (b, _) = diff_args(joined);
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{spaced:?}");
        }
        let (off, _) = diff_args(&["--three-way-merge=false", "--color=false"]);
        let debug = format!("{off:?}");
        assert!(debug.contains("three_way_merge: Some(false)"), "{debug}");
        assert!(debug.contains("color: Some(false)"), "{debug}");
    }

    #[test]
    fn diff_refuses_flags_helm_diff_does_not_take() {
        let (_, helm) = diff_args(&["--wait", "--timeout", "5m", "--set", "a=b", "--bogus"]);
        assert_eq!(helm.refused_by_diff(), ["--wait", "--timeout", "--bogus"]);
        let kept = helm.accepted_by_diff();
        assert!(kept.refused_by_diff().is_empty());
        assert_eq!(
            kept.for_run(
                Verb::Upgrade,
                crate::helm::Run::Final {
                    chart_is_local: true
                }
            ),
            os(&["--set", "a=b"])
        );
        let (_, helm) = diff_args(&["-f", "v.yaml", "--reuse-values", "--no-hooks", "-n", "x"]);
        assert!(helm.refused_by_diff().is_empty());
    }

    #[test]
    fn diff_subcommands_are_helm_diffs() {
        for (words, name) in [
            (&["diff", "revision", "r", "1", "2"][..], "diff-revision"),
            (&["diff", "rollback", "r", "1"][..], "diff-rollback"),
            (
                &["diff", "release", "a/r", "b/r", "--kube-context", "c"][..],
                "diff-release",
            ),
        ] {
            let (ours, helm, _) = split(os(words));
            let mut full = os(&["helm x"]);
            full.extend(ours);
            let m = Cli::command().try_get_matches_from(full).unwrap();
            assert_eq!(m.subcommand_name(), Some(name));
            assert!(helm.beyond_globals().is_empty());
        }
    }

    #[test]
    fn subcommands_helm_x_does_not_own_go_to_helm() {
        let helm = |w: &[&str]| Route::Helm(os(w));
        let ours = |w: &[&str]| Route::Ours(os(w));
        assert_eq!(routed(os(&["list", "-A"])), helm(&["list", "-A"]));
        assert_eq!(
            routed(os(&["version", "--short"])),
            helm(&["version", "--short"])
        );
        assert_eq!(routed(os(&["version"])), ours(&["version"]));
        assert_eq!(routed(os(&["--help"])), ours(&["--help"]));
        assert_eq!(
            routed(os(&["apply", "r", "./k", "--", "--x"])),
            ours(&["upgrade", "--install", "r", "./k", "--", "--x"])
        );
        // Helm's globals may come first; for a subcommand of ours they move behind it.
        assert_eq!(
            routed(os(&[
                "-n",
                "ns",
                "--kube-context=c",
                "template",
                "r",
                "./k"
            ])),
            ours(&["template", "r", "./k", "-n", "ns", "--kube-context=c"])
        );
        assert_eq!(
            routed(os(&["-n", "ns", "status", "r"])),
            helm(&["-n", "ns", "status", "r"])
        );
        assert_eq!(
            routed(os(&["--newer-global", "template", "r"])),
            helm(&["--newer-global", "template", "r"])
        );
    }

    #[test]
    fn unknown_flags_before_a_word_are_errors_in_words() {
        let (_, _, unknown) = split(os(&["template", "r", "in", "--set-strng", "a=b"]));
        assert_eq!(
            unknown,
            [
                "unknown flag --set-strng (did you mean --set-string?); if it takes a value, write \
              --set-strng=value (helm-x passes flags it does not know to helm, but cannot tell \
              whether --set-strng takes the word after it)"
            ]
        );
        // Unknown but unambiguous: at the end, before another flag, or with `=`.
        for tail in [
            &["--newer"][..],
            &["--newer", "--set", "a=b"],
            &["--newer=v", "x"],
        ] {
            let mut argv = os(&["template", "r", "in"]);
            argv.extend(os(tail));
            let (_, helm, unknown) = split(argv);
            assert!(unknown.is_empty(), "{tail:?}: {unknown:?}");
            let passed = helm.for_run(
                Verb::Template,
                crate::helm::Run::Final {
                    chart_is_local: true,
                },
            );
            assert!(
                passed
                    .iter()
                    .any(|t| t.to_string_lossy().starts_with("--newer"))
            );
        }
    }

    #[test]
    fn the_talks_spelling_is_accepted() {
        let argv = os(&[
            "upgrade",
            "myapp",
            "./what",
            "--install",
            "--jsonpatch",
            "j.yaml",
            "--adhoc-dependency",
            "log=./log",
        ]);
        let (ours, _, unknown) = split(argv);
        assert!(unknown.is_empty(), "{unknown:?}");
        let mut full = os(&["helm x"]);
        full.extend(ours);
        let m = Cli::command().get_matches_from(full);
        let (_, sub) = m.subcommand().unwrap();
        let args = ApplyArgs::from_arg_matches(sub).unwrap();
        let target = args.chart.target(sub);
        assert_eq!(target.patches, [PatchSource::Json("j.yaml".into())]);
        assert_eq!(target.dependencies, ["log=./log".parse().unwrap()]);
    }

    #[test]
    fn version_and_help_untouched() {
        let (ours, helm, _) = split(os(&["version"]));
        assert_eq!(ours, os(&["version"]));
        assert_eq!(helm, HelmArgs::default());
    }
}
