//! `helm x diff`: compares the manifests of a deployed release with a new render and reports the
//! difference the way the helm-diff plugin does, so its users and its callers (helmfile, CI scripts
//! reading `--output json` or the `Plan:` line) see familiar output.
//!
//! Objects are compared by their normalized YAML: every object is re-emitted from its parsed value
//! with mapping keys in go-yaml v2's order — what helm-diff prints with `--normalize-manifests`.
//! Sorting (rather than keeping template order) makes key order irrelevant on both sides, gives the
//! same text whatever produced the manifest, and matches how helm-diff already prints Secrets.
//!
//! Deliberate differences from helm-diff: the line diff is `similar`'s Myers rather than Hirschberg
//! LCS (ambiguous alignments may differ); `# Source:` is kept above the normalized text; a kind ending
//! in `List` is expanded only when it has an `items` sequence; `helm.sh/resource-policy` is read the
//! way helm reads it (trimmed, any case); JSON entries are properly escaped instead of being dropped
//! when a name does not match helm-diff's key regex.

mod lines;
mod manifest;
mod redact;
mod report;

use std::collections::BTreeMap;
use std::str::FromStr;

pub use manifest::{Object, parse_manifests};

/// `--output`: which of helm-diff's report formats to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Object-by-object line diff (helm-diff's default).
    #[default]
    Diff,
    /// One line per changed object and a `Plan:` summary.
    Simple,
    /// A JSON array of changed objects, for scripts.
    Json,
}

impl FromStr for OutputFormat {
    type Err = anyhow::Error;

    /// Accepts the `--output` / `HELM_DIFF_OUTPUT` values; `template` is helm-diff's name for the
    /// JSON report when no custom template is given.
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.trim() {
            "diff" => Ok(Self::Diff),
            "simple" => Ok(Self::Simple),
            "json" | "template" => Ok(Self::Json),
            other => anyhow::bail!("unsupported diff output {other:?}: use diff, simple or json"),
        }
    }
}

/// How to compare and print; mirrors helm-diff's flags of the same names.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--context N`: unchanged lines kept around each change; `None` shows whole objects
    /// (helm-diff's `-1`).
    pub context: Option<usize>,
    /// `--output`.
    pub output: OutputFormat,
    /// `--show-secrets`: print Secret data as it is instead of redacting it.
    pub show_secrets: bool,
    /// Whether to use ANSI colours; see [`color_from_env`].
    pub color: bool,
    /// Namespace of objects that name none; the caller hands it to [`parse_manifests`] for both sides.
    pub release_namespace: String,
    /// `--include-tests`: also compare `helm test` hooks.
    pub include_tests: bool,
}

/// Whether to colour the report when no `--color`/`--no-color` flag decided it (on Helm 4 those
/// flags never reach a plugin). `HELM_DIFF_COLOR` wins when it is a Go boolean; otherwise `NO_COLOR`
/// (non-empty) or `TERM=dumb` turn colour off, and a terminal turns it on.
pub fn color_from_env(is_tty: bool) -> bool {
    let var = |name| std::env::var(name).ok();
    color_from(
        var("HELM_DIFF_COLOR").as_deref(),
        var("NO_COLOR").as_deref(),
        var("TERM").as_deref(),
        is_tty,
    )
}

fn color_from(
    helm_diff_color: Option<&str>,
    no_color: Option<&str>,
    term: Option<&str>,
    is_tty: bool,
) -> bool {
    match helm_diff_color {
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => return true,
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => return false,
        _ => {}
    }
    is_tty && no_color.is_none_or(str::is_empty) && term != Some("dumb")
}

/// What happens to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    /// In the new render only.
    Add,
    /// In the release only (and not kept by `helm.sh/resource-policy: keep`).
    Remove,
    /// In both, with different content.
    Modify,
}

/// One changed object and its line diff.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What happens to the object.
    pub change: ChangeType,
    /// The object's namespace (defaulted to the release namespace).
    pub namespace: String,
    /// The object's name.
    pub name: String,
    /// The object's kind.
    pub kind: String,
    /// The object's API group (`v1` for the core group).
    pub group: String,
    lines: Vec<lines::Line>,
}

impl Change {
    /// The helm-diff key, `"<ns>, <name>, <Kind> (<group>)"`, that headers and `simple` lines show.
    pub fn key(&self) -> String {
        manifest::key(&self.namespace, &self.name, &self.kind, &self.group)
    }
}

/// The differences between a release and a new render.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// Changed objects in helm-diff's order: modified, then removed, then added, each by key.
    pub changes: Vec<Change>,
}

impl Report {
    /// Whether anything would change; `--detailed-exitcode` exits 2 when it does.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The report in `opts.output` format, as helm-diff prints it.
    pub fn render(&self, opts: &Options) -> String {
        report::render(self, opts)
    }
}

/// Compares the objects of a release (`old`) with those of a new render (`new`).
///
/// Test hooks are left out unless `opts.include_tests`; when a key occurs twice on one side the first
/// object counts, as in helm-diff. Objects whose normalized text is equal are unchanged, so key
/// order and a moved template (`# Source:`) alone are not changes.
pub fn compare(old: &[Object], new: &[Object], opts: &Options) -> Report {
    let old = index(old, opts);
    let new = index(new, opts);
    let mut modified = Vec::new();
    let mut removed = Vec::new();
    for (key, &o) in &old {
        match new.get(key) {
            Some(&n) => modified.extend(change(Some(o), Some(n), opts)),
            None if !o.is_kept() => removed.extend(change(Some(o), None, opts)),
            None => {}
        }
    }
    let added = new
        .iter()
        .filter(|(key, _)| !old.contains_key(*key))
        .filter_map(|(_, &n)| change(None, Some(n), opts));
    Report {
        changes: modified.into_iter().chain(removed).chain(added).collect(),
    }
}

fn index<'a>(objects: &'a [Object], opts: &Options) -> BTreeMap<String, &'a Object> {
    let mut index = BTreeMap::new();
    for object in objects {
        if opts.include_tests || !object.is_test_hook() {
            index.entry(object.key()).or_insert(object);
        }
    }
    index
}

fn change(old: Option<&Object>, new: Option<&Object>, opts: &Options) -> Option<Change> {
    let subject = old.or(new)?;
    let secret = old.into_iter().chain(new).all(Object::is_secret);
    let (old_body, new_body) = if secret && !opts.show_secrets {
        redact::redacted_bodies(old.map(|o| &o.value), new.map(|n| &n.value))
    } else {
        let body = |o: &Object| manifest::body(&o.value);
        (old.map(body), new.map(body))
    };
    let change = match (&old_body, &new_body) {
        (Some(a), Some(b)) if a == b => return None,
        (Some(_), Some(_)) => ChangeType::Modify,
        (Some(_), None) => ChangeType::Remove,
        (None, _) => ChangeType::Add,
    };
    let text = |o: Option<&Object>, body: Option<String>| match (o, body) {
        (Some(o), Some(body)) => manifest::with_source(o.source.as_deref(), &body),
        _ => String::new(),
    };
    Some(Change {
        change,
        namespace: subject.namespace.clone(),
        name: subject.name.clone(),
        kind: subject.kind.clone(),
        group: subject.group.clone(),
        lines: lines::diff(&text(old, old_body), &text(new, new_body)),
    })
}

#[cfg(test)]
mod tests;
