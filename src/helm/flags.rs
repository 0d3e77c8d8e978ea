//! Which helm flags take a value and which helm invocation each belongs to.
//!
//! helm-x passes every flag it does not own to helm unchanged, in order. To split an argv correctly it
//! must know whether `--flag` swallows the next word; and since helm-x may run helm twice (a render
//! with `helm template`, then the real `install`/`upgrade`), it must know which flags each run accepts.

/// Where a helm flag goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagClass {
    /// Shapes the render (values, capabilities): given to the pre-render `helm template` and to the
    /// final command, so the release records the same values.
    Render,
    /// Locates a chart (version, repository, credentials): given to `helm pull`, and to the final
    /// command only when helm itself fetches the chart.
    Fetch,
    /// Only meaningful for the final `template`/`install`/`upgrade` run.
    Final,
}

/// A known helm flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelmFlag {
    /// Long name without dashes.
    pub long: &'static str,
    /// Single-letter alias, if any.
    pub short: Option<char>,
    /// Whether the flag consumes the next word when given without `=`.
    pub takes_value: bool,
    /// Which helm runs receive it.
    pub class: FlagClass,
}

const fn flag(
    long: &'static str,
    short: Option<char>,
    takes_value: bool,
    class: FlagClass,
) -> HelmFlag {
    HelmFlag {
        long,
        short,
        takes_value,
        class,
    }
}

use FlagClass::{Fetch, Final, Render};

/// Flags of `helm install`, `upgrade` and `template` in Helm 3.18 and 4.1 (plus the globals helm may leave
/// in a plugin's argv). Optional-value flags such as `--dry-run[=client]` or Helm 4's `--wait[=watcher]`
/// never consume the next word, exactly like pflag.
const HELM_FLAGS: &[HelmFlag] = &[
    flag("values", Some('f'), true, Render),
    flag("set", None, true, Render),
    flag("set-string", None, true, Render),
    flag("set-file", None, true, Render),
    flag("set-json", None, true, Render),
    flag("set-literal", None, true, Render),
    flag("kube-version", None, true, Render),
    flag("api-versions", Some('a'), true, Render),
    flag("enable-dns", None, false, Render),
    flag("skip-schema-validation", None, false, Render),
    flag("dependency-update", None, false, Render),
    flag("namespace", Some('n'), true, Render),
    flag("kube-context", None, true, Render),
    flag("kubeconfig", None, true, Render),
    flag("burst-limit", None, true, Render),
    flag("qps", None, true, Render),
    flag("version", None, true, Fetch),
    flag("repo", None, true, Fetch),
    flag("devel", None, false, Fetch),
    flag("username", None, true, Fetch),
    flag("password", None, true, Fetch),
    flag("ca-file", None, true, Fetch),
    flag("cert-file", None, true, Fetch),
    flag("key-file", None, true, Fetch),
    flag("keyring", None, true, Fetch),
    flag("verify", None, false, Fetch),
    flag("insecure-skip-tls-verify", None, false, Fetch),
    flag("plain-http", None, false, Fetch),
    flag("pass-credentials", None, false, Fetch),
    flag("include-crds", None, false, Final),
    flag("skip-crds", None, false, Final),
    flag("skip-tests", None, false, Final),
    flag("no-hooks", None, false, Final),
    flag("is-upgrade", None, false, Final),
    flag("show-only", Some('s'), true, Final),
    flag("output-dir", None, true, Final),
    flag("release-name", None, false, Final),
    flag("validate", None, false, Final),
    flag("dry-run", None, false, Final),
    flag("wait", None, false, Final),
    flag("wait-for-jobs", None, false, Final),
    flag("timeout", None, true, Final),
    flag("atomic", None, false, Final),
    flag("rollback-on-failure", None, false, Final),
    flag("create-namespace", None, false, Final),
    flag("install", Some('i'), false, Final),
    flag("force", None, false, Final),
    flag("force-replace", None, false, Final),
    flag("force-conflicts", None, false, Final),
    flag("server-side", None, true, Final),
    flag("take-ownership", None, false, Final),
    flag("reuse-values", None, false, Final),
    flag("reset-values", None, false, Final),
    flag("reset-then-reuse-values", None, false, Final),
    flag("cleanup-on-fail", None, false, Final),
    flag("history-max", None, true, Final),
    flag("description", None, true, Final),
    flag("labels", Some('l'), true, Final),
    flag("output", Some('o'), true, Final),
    flag("post-renderer", None, true, Final),
    flag("post-renderer-args", None, true, Final),
    flag("disable-openapi-validation", None, false, Final),
    flag("hide-notes", None, false, Final),
    flag("hide-secret", None, false, Final),
    flag("render-subchart-notes", None, false, Final),
    flag("generate-name", Some('g'), false, Final),
    flag("name-template", None, true, Final),
    flag("replace", None, false, Final),
    flag("color", None, true, Final),
    flag("colour", None, true, Final),
];

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
        assert_eq!((f.long, f.takes_value, attached), ("set", true, false));
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
            assert!(!classify(name).unwrap().0.takes_value, "{name}");
        }
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
