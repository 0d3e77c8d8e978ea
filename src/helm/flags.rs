//! The helm flag table: the one place that knows helm's flags.
//!
//! helm-x passes every flag it does not own to helm unchanged, in order. To split an argv it must know
//! whether `--flag` swallows the next word; since one `helm x` command may run several helm commands
//! (`helm pull`, a render, the final `install`/`upgrade`), it must know which of those accept each flag
//! and whether the flag changes what a render produces. Verbs come from `helm VERB --help` of helm
//! 3.18 and 4.1 (globals included); a flag only one major version has is still listed, and helm itself
//! rejects it on the other.

/// A helm command helm-x may run with the user's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Template,
    Install,
    Upgrade,
    Pull,
}

impl Verb {
    const fn bit(self) -> u8 {
        match self {
            Verb::Template => 1,
            Verb::Install => 2,
            Verb::Upgrade => 4,
            Verb::Pull => 8,
        }
    }

    /// The helm command's name.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Template => "template",
            Verb::Install => "install",
            Verb::Upgrade => "upgrade",
            Verb::Pull => "pull",
        }
    }
}

/// The set of verbs that accept a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbs(u8);

const T: Verbs = Verbs(1);
const U: Verbs = Verbs(4);
const TI: Verbs = Verbs(1 | 2);
const IU: Verbs = Verbs(2 | 4);
const TIU: Verbs = Verbs(1 | 2 | 4);
const TIUP: Verbs = Verbs(1 | 2 | 4 | 8);

impl Verbs {
    /// Whether `verb` accepts the flag.
    pub fn contains(self, verb: Verb) -> bool {
        self.0 & verb.bit() != 0
    }
}

/// What a flag is about, which decides the helm runs besides the final one that need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Shapes `.Values` (`-f`, `--set*`, the reuse/reset family).
    Values,
    /// Changes what a render produces besides the values (capabilities, filters, schema checks).
    Render,
    /// Locates a chart (version, repository, credentials).
    Fetch,
    /// Helm's globals: which cluster and namespace, client settings.
    Global,
    /// Only the final `install`/`upgrade` acts on it (waiting, history, ownership…).
    Release,
}

/// Whether a flag consumes the next word when written without `=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// A boolean, or an optional value (`--dry-run[=client]`, Helm 4's `--wait[=watcher]`) that pflag
    /// never takes from the next word.
    Bool,
    /// Always takes a value.
    Value,
    /// Helm 4's `--server-side`: a bool on install and template, a string on upgrade.
    ValueOnUpgrade,
}

/// A known helm flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelmFlag {
    /// Long name without dashes.
    pub long: &'static str,
    /// Single-letter alias, if any.
    pub short: Option<char>,
    /// How it takes a value.
    pub arity: Arity,
    /// What it is about.
    pub role: Role,
    /// Which helm commands accept it.
    pub verbs: Verbs,
}

impl HelmFlag {
    /// Whether the flag consumes the next word on `verb`'s command line.
    pub fn takes_value(&self, verb: Verb) -> bool {
        match self.arity {
            Arity::Bool => false,
            Arity::Value => true,
            Arity::ValueOnUpgrade => verb == Verb::Upgrade,
        }
    }

    /// Whether every helm command takes it (cluster, namespace, client settings), so it may stand
    /// before the subcommand.
    pub fn is_global(&self) -> bool {
        self.role == Role::Global
    }
}

/// The long names `verb` accepts, for suggesting the flag a user probably meant.
pub fn longs(verb: Verb) -> impl Iterator<Item = &'static str> {
    HELM_FLAGS
        .iter()
        .filter(move |f| f.verbs.contains(verb))
        .map(|f| f.long)
}

const fn flag(
    long: &'static str,
    short: Option<char>,
    arity: Arity,
    role: Role,
    verbs: Verbs,
) -> HelmFlag {
    HelmFlag {
        long,
        short,
        arity,
        role,
        verbs,
    }
}

use Arity::{Bool, Value, ValueOnUpgrade};
use Role::{Fetch, Global, Release, Render, Values};

/// Flags of `helm install`, `upgrade`, `template` and `pull` in Helm 3.18 and 4.1, plus the globals
/// helm may leave in a plugin's argv (all of them when helm-x runs directly).
const HELM_FLAGS: &[HelmFlag] = &[
    flag("values", Some('f'), Value, Values, TIU),
    flag("set", None, Value, Values, TIU),
    flag("set-string", None, Value, Values, TIU),
    flag("set-file", None, Value, Values, TIU),
    flag("set-json", None, Value, Values, TIU),
    flag("set-literal", None, Value, Values, TIU),
    flag("reuse-values", None, Bool, Values, U),
    flag("reset-values", None, Bool, Values, U),
    flag("reset-then-reuse-values", None, Bool, Values, U),
    flag("kube-version", None, Value, Render, T),
    flag("api-versions", Some('a'), Value, Render, T),
    flag("is-upgrade", None, Bool, Render, T),
    flag("include-crds", None, Bool, Render, T),
    flag("skip-tests", None, Bool, Render, T),
    flag("show-only", Some('s'), Value, Render, T),
    flag("output-dir", None, Value, Render, T),
    flag("release-name", None, Bool, Render, T),
    flag("validate", None, Bool, Render, T),
    flag("skip-crds", None, Bool, Render, TIU),
    flag("no-hooks", None, Bool, Render, TIU),
    flag("enable-dns", None, Bool, Render, TIU),
    flag("skip-schema-validation", None, Bool, Render, TIU),
    flag("dependency-update", None, Bool, Render, TIU),
    flag("disable-openapi-validation", None, Bool, Render, TIU),
    flag("post-renderer", None, Value, Render, TIU),
    flag("post-renderer-args", None, Value, Render, TIU),
    flag("hide-notes", None, Bool, Render, TIU),
    flag("render-subchart-notes", None, Bool, Render, TIU),
    flag("dry-run", None, Bool, Release, TIU),
    flag("version", None, Value, Fetch, TIUP),
    flag("repo", None, Value, Fetch, TIUP),
    flag("devel", None, Bool, Fetch, TIUP),
    flag("username", None, Value, Fetch, TIUP),
    flag("password", None, Value, Fetch, TIUP),
    flag("ca-file", None, Value, Fetch, TIUP),
    flag("cert-file", None, Value, Fetch, TIUP),
    flag("key-file", None, Value, Fetch, TIUP),
    flag("keyring", None, Value, Fetch, TIUP),
    flag("verify", None, Bool, Fetch, TIUP),
    flag("insecure-skip-tls-verify", None, Bool, Fetch, TIUP),
    flag("plain-http", None, Bool, Fetch, TIUP),
    flag("pass-credentials", None, Bool, Fetch, TIUP),
    flag("namespace", Some('n'), Value, Global, TIUP),
    flag("kube-context", None, Value, Global, TIUP),
    flag("kubeconfig", None, Value, Global, TIUP),
    flag("kube-apiserver", None, Value, Global, TIUP),
    flag("kube-as-group", None, Value, Global, TIUP),
    flag("kube-as-user", None, Value, Global, TIUP),
    flag("kube-ca-file", None, Value, Global, TIUP),
    flag("kube-insecure-skip-tls-verify", None, Bool, Global, TIUP),
    flag("kube-tls-server-name", None, Value, Global, TIUP),
    flag("kube-token", None, Value, Global, TIUP),
    flag("burst-limit", None, Value, Global, TIUP),
    flag("qps", None, Value, Global, TIUP),
    flag("registry-config", None, Value, Global, TIUP),
    flag("repository-cache", None, Value, Global, TIUP),
    flag("repository-config", None, Value, Global, TIUP),
    flag("content-cache", None, Value, Global, TIUP),
    flag("color", None, Value, Global, TIUP),
    flag("colour", None, Value, Global, TIUP),
    flag("debug", None, Bool, Global, TIUP),
    flag("wait", None, Bool, Release, TIU),
    flag("wait-for-jobs", None, Bool, Release, TIU),
    flag("timeout", None, Value, Release, TIU),
    flag("atomic", None, Bool, Release, TIU),
    flag("rollback-on-failure", None, Bool, Release, TIU),
    flag("create-namespace", None, Bool, Release, TIU),
    flag("force", None, Bool, Release, TIU),
    flag("force-replace", None, Bool, Release, TIU),
    flag("force-conflicts", None, Bool, Release, TIU),
    flag("server-side", None, ValueOnUpgrade, Release, TIU),
    flag("take-ownership", None, Bool, Release, TIU),
    flag("description", None, Value, Release, TIU),
    flag("labels", Some('l'), Value, Release, TIU),
    flag("install", Some('i'), Bool, Release, U),
    flag("cleanup-on-fail", None, Bool, Release, U),
    flag("history-max", None, Value, Release, U),
    flag("generate-name", Some('g'), Bool, Release, TI),
    flag("name-template", None, Value, Release, TI),
    flag("replace", None, Bool, Release, TI),
    flag("output", Some('o'), Value, Release, IU),
    flag("hide-secret", None, Bool, Release, IU),
];

/// Whether `helm x diff` takes `flag` on to the helm runs that render the upgrade, as helm-diff's
/// `helm diff upgrade` accepts it. Flags that only act on a real upgrade (waiting, history, atomic…)
/// mean nothing to a diff and are refused like helm-diff refuses them; `--install`, `--dry-run`,
/// `--server-side` and `--color` are diff flags of their own.
pub fn diff_accepts(flag: &HelmFlag) -> bool {
    match flag.role {
        Role::Values | Role::Fetch => true,
        Role::Global => !matches!(flag.long, "color" | "colour"),
        Role::Render => matches!(
            flag.long,
            "include-crds"
                | "no-hooks"
                | "enable-dns"
                | "skip-schema-validation"
                | "disable-openapi-validation"
                | "post-renderer"
                | "post-renderer-args"
                | "kube-version"
                | "api-versions"
        ),
        Role::Release => flag.long == "take-ownership",
    }
}

/// Looks up a flag token's name (`--set`, `--set=a=b`, `-f`, `-fvalues.yaml`) in the table.
///
/// Returns the flag and whether its value is attached to the token. Unknown flags return `None`; the
/// caller treats them as booleans unless written `--flag=value`.
pub fn classify(token: &str) -> Option<(HelmFlag, bool)> {
    if let Some(long) = token.strip_prefix("--") {
        let (name, attached) = match long.split_once('=') {
            Some((n, _)) => (n, true),
            None => (long, false),
        };
        HELM_FLAGS
            .iter()
            .find(|f| f.long == name)
            .map(|f| (*f, attached))
    } else {
        let mut chars = token.strip_prefix('-')?.chars();
        let c = chars.next()?;
        let attached = chars.next().is_some();
        HELM_FLAGS
            .iter()
            .find(|f| f.short == Some(c))
            .map(|f| (*f, attached))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_short_forms() {
        let (f, attached) = classify("--set").unwrap();
        assert_eq!(
            (f.long, f.takes_value(Verb::Install), attached),
            ("set", true, false)
        );
        let (f, attached) = classify("--set=a=b").unwrap();
        assert_eq!((f.long, attached), ("set", true));
        let (f, attached) = classify("-fvals.yaml").unwrap();
        assert_eq!((f.long, attached), ("values", true));
        assert_eq!(classify("-i").unwrap().0.long, "install");
        assert!(classify("--no-such-flag").is_none());
        assert!(classify("-").is_none());
    }

    #[test]
    fn optional_value_flags_never_swallow_the_next_word() {
        for name in ["--dry-run", "--wait"] {
            assert!(
                !classify(name).unwrap().0.takes_value(Verb::Upgrade),
                "{name}"
            );
        }
        let server_side = classify("--server-side").unwrap().0;
        assert!(!server_side.takes_value(Verb::Install));
        assert!(server_side.takes_value(Verb::Upgrade));
    }

    #[test]
    fn verbs_follow_helms_help() {
        let verbs = |name: &str| classify(name).unwrap().0.verbs;
        assert!(!verbs("--kube-version").contains(Verb::Install));
        assert!(verbs("--kube-version").contains(Verb::Template));
        assert!(!verbs("--reuse-values").contains(Verb::Template));
        assert!(verbs("--reuse-values").contains(Verb::Upgrade));
        assert!(!verbs("--set").contains(Verb::Pull));
        assert!(verbs("--version").contains(Verb::Pull));
        assert!(!verbs("--output").contains(Verb::Template));
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in HELM_FLAGS.iter().enumerate() {
            for b in &HELM_FLAGS[i + 1..] {
                assert_ne!(a.long, b.long);
                assert!(a.short.is_none() || a.short != b.short, "{}", a.long);
            }
        }
    }
}
