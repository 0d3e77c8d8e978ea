//! The user's helm flags, kept in order and routed to the helm runs that accept them.

use std::ffi::OsString;

use super::flags::{FlagClass, classify};

/// One flag as the user typed it: its tokens (`--set`, `a=b`, or `--set=a=b`) and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Passed {
    long: Option<&'static str>,
    class: FlagClass,
    tokens: Vec<OsString>,
}

/// Every argv token helm-x does not own, grouped by flag, in the user's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelmArgs {
    flags: Vec<Passed>,
}

impl HelmArgs {
    /// Takes the flag starting at `args[0]` (and its value word, when it has one) and returns how many
    /// tokens it consumed. Unknown flags are booleans unless written `--flag=value`; they only reach the
    /// final helm run.
    pub fn take(&mut self, args: &[OsString]) -> usize {
        let Some(first) = args.first() else { return 0 };
        let text = first.to_string_lossy();
        let (long, class, n) = match classify(&text) {
            Some((flag, attached)) => {
                let n = if flag.takes_value && !attached { 2 } else { 1 };
                (Some(flag.long), flag.class, n.min(args.len()))
            }
            None => (None, FlagClass::Final, 1),
        };
        self.flags.push(Passed {
            long,
            class,
            tokens: args[..n].to_vec(),
        });
        n
    }

    /// Appends tokens that go to the final run verbatim (everything after `--`).
    pub fn push_verbatim(&mut self, tokens: &[OsString]) {
        if !tokens.is_empty() {
            self.flags.push(Passed {
                long: None,
                class: FlagClass::Final,
                tokens: tokens.to_vec(),
            });
        }
    }

    fn select(&self, keep: impl Fn(FlagClass) -> bool) -> Vec<OsString> {
        self.flags
            .iter()
            .filter(|f| keep(f.class))
            .flat_map(|f| f.tokens.iter().cloned())
            .collect()
    }

    /// Flags for the pre-render `helm template`: values and capabilities only.
    pub fn render(&self) -> Vec<OsString> {
        self.select(|c| c == FlagClass::Render)
    }

    /// Flags for `helm pull`.
    pub fn fetch(&self) -> Vec<OsString> {
        self.select(|c| c == FlagClass::Fetch)
    }

    /// Flags for the final run. Chart-location flags are dropped when helm-x built or fetched the chart
    /// itself, since they would no longer mean anything.
    pub fn finish(&self, chart_is_local: bool) -> Vec<OsString> {
        self.select(|c| !(chart_is_local && c == FlagClass::Fetch))
    }

    /// The value of the last occurrence of a value-taking flag (`--version 1.2` or `--version=1.2`).
    pub fn value_of(&self, long: &str) -> Option<String> {
        let f = self.flags.iter().rev().find(|f| f.long == Some(long))?;
        let first = f.tokens.first()?.to_string_lossy().into_owned();
        match first.split_once('=') {
            Some((_, v)) if first.starts_with("--") => Some(v.to_string()),
            _ => f.tokens.get(1).map(|v| v.to_string_lossy().into_owned()),
        }
    }

    /// The flags with one of these long names, for runs that accept only a known subset.
    pub fn only(&self, longs: &[&str]) -> Vec<OsString> {
        self.flags
            .iter()
            .filter(|f| f.long.is_some_and(|l| longs.contains(&l)))
            .flat_map(|f| f.tokens.iter().cloned())
            .collect()
    }

    /// Whether every flag meant only for the final run is one of `longs` (unknown flags never are).
    pub fn final_flags_within(&self, longs: &[&str]) -> bool {
        self.flags
            .iter()
            .filter(|f| f.class == FlagClass::Final)
            .all(|f| f.long.is_some_and(|l| longs.contains(&l)))
    }

    /// Whether the user gave the flag with this long name (e.g. `"kube-version"`).
    pub fn has(&self, long: &str) -> bool {
        self.flags.iter().any(|f| f.long == Some(long))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> HelmArgs {
        let args: Vec<OsString> = words.iter().map(OsString::from).collect();
        let mut h = HelmArgs::default();
        let mut i = 0;
        while i < args.len() {
            i += h.take(&args[i..]);
        }
        h
    }

    fn strings(v: Vec<OsString>) -> Vec<String> {
        v.into_iter().map(|s| s.into_string().unwrap()).collect()
    }

    #[test]
    fn routes_by_class_keeping_order() {
        let h = parse(&[
            "-f",
            "a.yaml",
            "--wait",
            "--version",
            "1.2.3",
            "--set=x=1",
            "--unknown",
            "--timeout",
            "5m",
            "--set",
            "y=2",
        ]);
        assert_eq!(
            strings(h.render()),
            ["-f", "a.yaml", "--set=x=1", "--set", "y=2"]
        );
        assert_eq!(strings(h.fetch()), ["--version", "1.2.3"]);
        assert_eq!(
            strings(h.finish(true)),
            [
                "-f",
                "a.yaml",
                "--wait",
                "--set=x=1",
                "--unknown",
                "--timeout",
                "5m",
                "--set",
                "y=2"
            ]
        );
        assert!(strings(h.finish(false)).contains(&"1.2.3".to_string()));
        assert!(h.has("timeout") && !h.has("kube-version"));
        assert_eq!(h.value_of("version").as_deref(), Some("1.2.3"));
        assert_eq!(h.value_of("timeout").as_deref(), Some("5m"));
    }

    #[test]
    fn dangling_value_flag_does_not_panic() {
        let h = parse(&["--set"]);
        assert_eq!(strings(h.render()), ["--set"]);
    }
}
