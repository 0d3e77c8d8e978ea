//! The user's helm flags, kept in order and routed to the helm runs that accept them.
//!
//! Actions ask typed questions here (`dry_run()`, `reuse()`, `post_renderer()`…); the flag names
//! themselves stay in this module and the flag table.

use std::ffi::OsString;

use super::flags::{HelmFlag, Role, Verb, classify};

/// One flag as the user typed it: its tokens (`--set`, `a=b`, or `--set=a=b`) and its table entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Passed {
    flag: Option<HelmFlag>,
    tokens: Vec<OsString>,
}

impl Passed {
    fn long(&self) -> Option<&'static str> {
        self.flag.map(|f| f.long)
    }

    /// The value (`--version 1.2` or `--version=1.2`), `None` for a bare flag.
    fn value(&self) -> Option<String> {
        let first = self.tokens.first()?.to_string_lossy().into_owned();
        match first.split_once('=') {
            Some((_, v)) if first.starts_with("--") => Some(v.to_string()),
            _ if first.starts_with("--") => {
                self.tokens.get(1).map(|v| v.to_string_lossy().into_owned())
            }
            // `-fvalues.yaml` or `-f values.yaml`.
            _ if first.chars().count() > 2 => Some(first.chars().skip(2).collect()),
            _ => self.tokens.get(1).map(|v| v.to_string_lossy().into_owned()),
        }
    }
}

/// Which helm run the flags are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    /// The command the user asked for. Unknown flags go here (helm judges them). Chart-location flags
    /// are dropped when helm-x hands helm a chart it fetched or built itself.
    Final { chart_is_local: bool },
    /// A render helm-x runs for its own use: every flag that can change what is rendered.
    Render { chart_is_local: bool },
    /// `helm pull`.
    Pull,
}

/// How an upgrade treats the values of the last release, as helm's flags of the same names say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Neither flag: helm reuses the last values only when no values are given at all.
    Default,
    /// `--reuse-values`.
    Reuse,
    /// `--reset-values`.
    Reset,
    /// `--reset-then-reuse-values`.
    ResetThenReuse,
}

/// Every argv token helm-x does not own, grouped by flag, in the user's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelmArgs {
    flags: Vec<Passed>,
}

impl HelmArgs {
    /// Takes the flag starting at `args[0]` (and its value word, when it has one on `verb`'s command
    /// line) and returns how many tokens it consumed. Unknown flags are booleans unless written
    /// `--flag=value`; they only reach the final helm run.
    pub fn take(&mut self, args: &[OsString], verb: Verb) -> usize {
        let Some(first) = args.first() else { return 0 };
        let text = first.to_string_lossy();
        let (flag, n) = match classify(&text) {
            Some((flag, attached)) => {
                let n = if flag.takes_value(verb) && !attached {
                    2
                } else {
                    1
                };
                (Some(flag), n.min(args.len()))
            }
            None => (None, 1),
        };
        self.flags.push(Passed {
            flag,
            tokens: args[..n].to_vec(),
        });
        n
    }

    /// Appends tokens that go to the final run verbatim (everything after `--`).
    pub fn push_verbatim(&mut self, tokens: &[OsString]) {
        if !tokens.is_empty() {
            self.flags.push(Passed {
                flag: None,
                tokens: tokens.to_vec(),
            });
        }
    }

    /// The flags for one helm run of `verb`, in the user's order.
    pub fn for_run(&self, verb: Verb, run: Run) -> Vec<OsString> {
        self.flags
            .iter()
            .filter(|p| match (p.flag, run) {
                (None, Run::Final { .. }) => true,
                (None, _) => false,
                (Some(f), _) if !f.verbs.contains(verb) => false,
                (Some(f), Run::Final { chart_is_local } | Run::Render { chart_is_local })
                    if chart_is_local && f.role == Role::Fetch =>
                {
                    false
                }
                (Some(f), Run::Render { .. }) => f.role != Role::Release,
                (Some(f), Run::Pull) => matches!(f.role, Role::Fetch | Role::Global),
                (Some(_), Run::Final { .. }) => true,
            })
            .flat_map(|p| p.tokens.iter().cloned())
            .collect()
    }

    /// Helm's global flags (cluster, namespace, client settings), which every helm command takes.
    pub fn globals(&self) -> Vec<OsString> {
        self.flags
            .iter()
            .filter(|p| p.flag.is_some_and(|f| f.role == Role::Global))
            .flat_map(|p| p.tokens.iter().cloned())
            .collect()
    }

    /// The known flags none of `verbs` accepts: the user asked for something no helm run of this
    /// command would do, so the caller refuses instead of dropping them.
    pub fn unaccepted(&self, verbs: &[Verb]) -> Vec<String> {
        self.flags
            .iter()
            .filter_map(|p| p.flag)
            .filter(|f| !verbs.iter().any(|v| f.verbs.contains(*v)))
            .map(|f| format!("--{}", f.long))
            .collect()
    }

    /// A copy without the flags `drop` names (helm-x passes some of them another way).
    pub fn without(&self, drop: &[&str]) -> HelmArgs {
        HelmArgs {
            flags: self
                .flags
                .iter()
                .filter(|p| !p.long().is_some_and(|l| drop.contains(&l)))
                .cloned()
                .collect(),
        }
    }

    /// A copy that reads `file` as values first (so the user's own values still win) and no longer
    /// asks helm to reuse the last release's values, because `file` holds them.
    pub fn with_last_values(&self, file: &std::path::Path) -> HelmArgs {
        let mut flags = vec![Passed {
            flag: classify("--values").map(|(f, _)| f),
            tokens: vec!["--values".into(), file.as_os_str().to_owned()],
        }];
        flags.extend(
            self.without(&["reuse-values", "reset-then-reuse-values"])
                .flags,
        );
        HelmArgs { flags }
    }

    fn last(&self, long: &str) -> Option<&Passed> {
        self.flags.iter().rev().find(|p| p.long() == Some(long))
    }

    fn has(&self, long: &str) -> bool {
        self.last(long).is_some()
    }

    fn values_of(&self, long: &str) -> Vec<String> {
        self.flags
            .iter()
            .filter(|p| p.long() == Some(long))
            .filter_map(Passed::value)
            .collect()
    }

    /// Whether any of these flags was given, for actions that treat a named group alike.
    pub fn any_of(&self, longs: &[&str]) -> bool {
        longs.iter().any(|l| self.has(l))
    }

    /// `--version`: the chart version asked for.
    pub fn version(&self) -> Option<String> {
        self.last("version").and_then(Passed::value)
    }

    /// `--repo`: the chart is looked up in this repository.
    pub fn repo(&self) -> bool {
        self.has("repo")
    }

    /// `--repo URL`: the repository the chart is looked up in.
    pub fn repo_url(&self) -> Option<String> {
        self.last("repo").and_then(Passed::value)
    }

    /// The value of the last `--LONG` given, for flags an action translates itself.
    pub fn value_of(&self, long: &str) -> Option<String> {
        self.last(long).and_then(Passed::value)
    }

    /// Each flag other than helm's globals, in order: `--long` for a flag of the table, else as
    /// typed (without an attached value).
    pub fn non_global_names(&self) -> Vec<String> {
        self.flags
            .iter()
            .filter(|p| !p.flag.is_some_and(|f| f.role == Role::Global))
            .map(|p| match p.long() {
                Some(long) => format!("--{long}"),
                None => {
                    let first = p.tokens.first().map(|t| t.to_string_lossy().into_owned());
                    let first = first.unwrap_or_default();
                    first
                        .split_once('=')
                        .map_or(first.clone(), |(n, _)| n.to_string())
                }
            })
            .collect()
    }

    /// `-n/--namespace` on the command line (helm-x run directly; as a plugin helm exports it).
    pub fn namespace(&self) -> Option<String> {
        self.last("namespace").and_then(Passed::value)
    }

    /// `--kube-context` on the command line.
    pub fn kube_context(&self) -> Option<String> {
        self.last("kube-context").and_then(Passed::value)
    }

    /// `--kubeconfig` on the command line.
    pub fn kubeconfig(&self) -> Option<String> {
        self.last("kubeconfig").and_then(Passed::value)
    }

    /// `--dry-run`: `Some("")` when bare, `Some(mode)` with a value.
    pub fn dry_run(&self) -> Option<String> {
        self.last("dry-run").map(|p| p.value().unwrap_or_default())
    }

    /// Whether the command asks for no cluster access at all (`--dry-run` or `--dry-run=client`).
    pub fn offline(&self) -> bool {
        self.dry_run()
            .is_some_and(|m| !matches!(m.as_str(), "server" | "none" | "false"))
    }

    /// `--include-crds`.
    pub fn include_crds(&self) -> bool {
        self.has("include-crds")
    }

    /// `--skip-tests`.
    pub fn skip_tests(&self) -> bool {
        self.has("skip-tests")
    }

    /// `--no-hooks`.
    pub fn no_hooks(&self) -> bool {
        self.has("no-hooks")
    }

    /// `--take-ownership`: take existing objects whatever owns them.
    pub fn take_ownership(&self) -> bool {
        self.has("take-ownership")
    }

    /// `--output-dir`: `helm template` writes files instead of printing.
    pub fn output_dir(&self) -> bool {
        self.has("output-dir")
    }

    /// The flags other than helm's globals, for commands that run no helm (`helm x adopt`).
    pub fn beyond_globals(&self) -> Vec<OsString> {
        self.flags
            .iter()
            .filter(|p| !p.flag.is_some_and(|f| f.role == Role::Global))
            .flat_map(|p| p.tokens.iter().cloned())
            .collect()
    }

    /// `--is-upgrade`.
    pub fn is_upgrade(&self) -> bool {
        self.has("is-upgrade")
    }

    /// `--kube-version` or `--api-versions`: the user pinned the render's capabilities.
    pub fn pins_capabilities(&self) -> bool {
        self.has("kube-version") || self.has("api-versions")
    }

    /// `-f`/`--set*`: values given on the command line.
    pub fn gives_values(&self) -> bool {
        self.flags.iter().any(|p| {
            p.flag.is_some_and(|f| f.role == Role::Values)
                && !matches!(
                    p.long(),
                    Some("reuse-values" | "reset-values" | "reset-then-reuse-values")
                )
        })
    }

    /// The reuse/reset flags; the last one given wins, as helm checks them in this order.
    pub fn reuse(&self) -> Reuse {
        if self.has("reset-then-reuse-values") {
            Reuse::ResetThenReuse
        } else if self.has("reuse-values") {
            Reuse::Reuse
        } else if self.has("reset-values") {
            Reuse::Reset
        } else {
            Reuse::Default
        }
    }

    /// The user's own `--post-renderer` and its `--post-renderer-args`, in order.
    pub fn post_renderer(&self) -> Option<(String, Vec<String>)> {
        let name = self.last("post-renderer").and_then(Passed::value)?;
        Some((name, self.values_of("post-renderer-args")))
    }

    /// A copy without `--post-renderer`/`--post-renderer-args`, for runs where helm-x is the
    /// post-renderer and runs the user's after itself.
    pub fn without_post_renderer(&self) -> HelmArgs {
        self.without(&["post-renderer", "post-renderer-args"])
    }

    /// The flags `helm x diff` refuses: unknown ones and those no diff render can honour (see
    /// [`diff_accepts`](super::flags::diff_accepts)), as the user wrote them.
    pub fn refused_by_diff(&self) -> Vec<String> {
        self.flags
            .iter()
            .filter(|p| !p.flag.is_some_and(|f| super::flags::diff_accepts(&f)))
            .map(|p| p.tokens[0].to_string_lossy().into_owned())
            .collect()
    }

    /// A copy without the flags [`refused_by_diff`](Self::refused_by_diff) lists
    /// (`HELM_DIFF_IGNORE_UNKNOWN_FLAGS=true`).
    pub fn accepted_by_diff(&self) -> HelmArgs {
        HelmArgs {
            flags: self
                .flags
                .iter()
                .filter(|p| p.flag.is_some_and(|f| super::flags::diff_accepts(&f)))
                .cloned()
                .collect(),
        }
    }

    /// Whether `-f -`/`--values=-` asks helm to read values from stdin.
    pub fn values_from_stdin(&self) -> bool {
        self.values_of("values")
            .iter()
            .any(|v| v.split(',').any(|f| f.trim() == "-"))
    }

    /// A copy in which values read from stdin come from `file` instead, so several helm runs can
    /// read them.
    pub fn with_stdin_values(&self, file: &std::path::Path) -> HelmArgs {
        let replace = |v: &str| -> String {
            v.split(',')
                .map(|f| {
                    if f.trim() == "-" {
                        file.to_string_lossy().into_owned()
                    } else {
                        f.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let flags = self
            .flags
            .iter()
            .map(|p| match p.value() {
                Some(v) if p.long() == Some("values") => Passed {
                    flag: p.flag,
                    tokens: vec!["--values".into(), replace(&v).into()],
                },
                _ => p.clone(),
            })
            .collect();
        HelmArgs { flags }
    }

    /// Whether every flag is one of `longs` or a flag that only shapes values, the cluster or the
    /// chart's location (unknown flags never are).
    pub fn all_within(&self, longs: &[&str]) -> bool {
        self.flags.iter().all(|p| match p.flag {
            None => false,
            Some(f) => {
                matches!(f.role, Role::Values | Role::Fetch | Role::Global)
                    || longs.contains(&f.long)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(verb: Verb, words: &[&str]) -> HelmArgs {
        let args: Vec<OsString> = words.iter().map(OsString::from).collect();
        let mut h = HelmArgs::default();
        let mut i = 0;
        while i < args.len() {
            i += h.take(&args[i..], verb);
        }
        h
    }

    fn strings(v: Vec<OsString>) -> Vec<String> {
        v.into_iter().map(|s| s.into_string().unwrap()).collect()
    }

    #[test]
    fn routes_by_verb_and_role_keeping_order() {
        let h = parse(
            Verb::Upgrade,
            &[
                "-f",
                "a.yaml",
                "--wait",
                "--version",
                "1.2.3",
                "--set=x=1",
                "--unknown",
                "--timeout",
                "5m",
                "--reuse-values",
                "--set",
                "y=2",
            ],
        );
        let render = Run::Render {
            chart_is_local: true,
        };
        assert_eq!(
            strings(h.for_run(Verb::Template, render)),
            ["-f", "a.yaml", "--set=x=1", "--set", "y=2"]
        );
        assert_eq!(
            strings(h.for_run(Verb::Upgrade, render)),
            [
                "-f",
                "a.yaml",
                "--set=x=1",
                "--reuse-values",
                "--set",
                "y=2"
            ]
        );
        assert_eq!(
            strings(h.for_run(Verb::Pull, Run::Pull)),
            ["--version", "1.2.3"]
        );
        assert_eq!(
            strings(h.for_run(
                Verb::Upgrade,
                Run::Final {
                    chart_is_local: true
                }
            )),
            [
                "-f",
                "a.yaml",
                "--wait",
                "--set=x=1",
                "--unknown",
                "--timeout",
                "5m",
                "--reuse-values",
                "--set",
                "y=2"
            ]
        );
        let remote = Run::Final {
            chart_is_local: false,
        };
        assert!(strings(h.for_run(Verb::Upgrade, remote)).contains(&"1.2.3".to_string()));
        assert_eq!(h.version().as_deref(), Some("1.2.3"));
        assert_eq!(h.reuse(), Reuse::Reuse);
        assert!(h.gives_values());
    }

    #[test]
    fn unaccepted_flags_are_named() {
        let h = parse(Verb::Install, &["--kube-version", "1.30.0", "--wait"]);
        assert_eq!(h.unaccepted(&[Verb::Install]), ["--kube-version"]);
        assert!(h.unaccepted(&[Verb::Install, Verb::Template]).is_empty());
    }

    #[test]
    fn values_of_every_form() {
        let h = parse(
            Verb::Upgrade,
            &[
                "-nfoo",
                "--post-renderer",
                "./pr",
                "--post-renderer-args=a",
                "--post-renderer-args",
                "b c",
                "--dry-run",
            ],
        );
        assert_eq!(h.namespace().as_deref(), Some("foo"));
        assert_eq!(
            h.post_renderer(),
            Some(("./pr".to_string(), vec!["a".to_string(), "b c".to_string()]))
        );
        assert_eq!(h.dry_run().as_deref(), Some(""));
        assert!(h.offline());
        let stripped = h.without_post_renderer();
        assert!(stripped.post_renderer().is_none());
        assert_eq!(
            strings(stripped.for_run(
                Verb::Upgrade,
                Run::Final {
                    chart_is_local: false
                }
            )),
            ["-nfoo", "--dry-run"]
        );
    }

    #[test]
    fn server_side_takes_a_value_only_on_upgrade() {
        let up = parse(Verb::Upgrade, &["--server-side", "false", "--wait"]);
        assert_eq!(up.flags.len(), 2);
        let install = parse(Verb::Install, &["--server-side", "extra"]);
        assert_eq!(install.flags.len(), 2);
    }

    #[test]
    fn dangling_value_flag_does_not_panic() {
        let h = parse(Verb::Template, &["--set"]);
        assert_eq!(
            strings(h.for_run(
                Verb::Template,
                Run::Render {
                    chart_is_local: true
                }
            )),
            ["--set"]
        );
    }
}
