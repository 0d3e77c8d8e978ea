//! `helm x diff`: compares the manifests of a deployed release with a new render and reports the
//! difference exactly the way the helm-diff plugin does, so its users and its callers (helmfile, CI
//! scripts reading `--output json` or the `Plan:` line) see the same bytes.
//!
//! Objects are compared by their text as rendered (helm-diff's `Content`), or by their normalized
//! YAML with `--normalize-manifests`; lines are aligned with helm-diff's own LCS so ambiguous
//! alignments come out the same. On top of helm-diff: `--ignore` rules remove fields from both sides
//! before comparing (so they change the exit code), and `markdown` output for PR comments.
//!
//! Deliberate differences from helm-diff: a kind ending in `List` is expanded only when it has an
//! `items` sequence; `helm.sh/resource-policy` and test hooks are read the way helm reads them
//! (trimmed, any case; a hook list containing `test`); JSON/template entries whose key does not match
//! helm-diff's key pattern are reported on stderr, as helm-diff does, but never silently; rename
//! detection redacts each candidate pair afresh instead of mutating the objects.

mod dyff;
mod gotemplate;
mod ignore;
mod lines;
mod manifest;
mod markdown;
mod redact;
mod report;
mod structured;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::str::FromStr;

use anyhow::Result;
use regex::Regex;
use serde_json::Value;

pub use gotemplate::Template;
pub use ignore::IgnoreRules;
use lines::Line;
pub use manifest::{Object, parse_manifests};

/// `--output`: which of helm-diff's report formats to print (plus `markdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Object-by-object line diff (helm-diff's default).
    #[default]
    Diff,
    /// One line per changed object and a `Plan:` summary.
    Simple,
    /// The Go template in `HELM_DIFF_TPL` over the changes, or the JSON report without one.
    Template,
    /// A JSON array of changed objects, for scripts.
    Json,
    /// JSON with per-field changes and JSON-pointer paths, for PR bots.
    Structured,
    /// dyff's per-field human report.
    Dyff,
    /// Collapsible sections for a pull-request comment, capped in size.
    Markdown,
}

impl FromStr for OutputFormat {
    type Err = anyhow::Error;

    /// Accepts the `--output` / `HELM_DIFF_OUTPUT` values.
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.trim() {
            "diff" => Ok(Self::Diff),
            "simple" => Ok(Self::Simple),
            "template" => Ok(Self::Template),
            "json" => Ok(Self::Json),
            "structured" => Ok(Self::Structured),
            "dyff" => Ok(Self::Dyff),
            "markdown" => Ok(Self::Markdown),
            other => anyhow::bail!(
                "unsupported diff output {other:?}: use diff, simple, template, json, structured, dyff or markdown"
            ),
        }
    }
}

/// GitHub's limit on a comment is 65,536 characters; the default leaves room for a heading.
pub const MARKDOWN_LIMIT: usize = 65_000;

/// How to compare and print; mirrors helm-diff's flags of the same names.
#[derive(Debug, Default)]
pub struct Options {
    /// `--context N`: unchanged lines kept around each change; `None` shows whole objects
    /// (helm-diff's `-1`).
    pub context: Option<usize>,
    /// `--output`.
    pub output: OutputFormat,
    /// `--output template`: the parsed `HELM_DIFF_TPL` (the JSON report when `None`).
    pub template: Option<gotemplate::Template>,
    /// `--show-secrets`: print Secret data as it is instead of redacting it.
    pub show_secrets: bool,
    /// `--show-secrets-decoded`: print Secret data decoded.
    pub show_secrets_decoded: bool,
    /// `--suppress KIND` (and `Secret` for `--suppress-secrets`): report the object, not its lines.
    pub suppressed_kinds: Vec<String>,
    /// `--suppress-output-line-regex`: diff lines to leave out of the report.
    pub suppressed_lines: Vec<Regex>,
    /// `--find-renames F`: the largest fraction of changed lines at which an object removed and an
    /// object of the same kind added count as one renamed object; `0` turns detection off.
    pub find_renames: f32,
    /// `--strip-trailing-cr`.
    pub strip_trailing_cr: bool,
    /// Whether to use ANSI colours; see [`color`].
    pub color: bool,
    /// `--normalize-manifests`: compare and show objects by their normalized YAML.
    pub normalize: bool,
    /// Namespace of objects that name none; the caller hands it to [`parse_manifests`] for both sides.
    pub release_namespace: String,
    /// `--include-tests`: also compare `helm test` hooks.
    pub include_tests: bool,
    /// `--no-hooks`: leave hooks out of both sides.
    pub no_hooks: bool,
    /// `--ignore`, `--ignore-file`, `--ignore-preset`.
    pub ignore: Option<ignore::IgnoreRules>,
    /// `--markdown-limit`: the size cap of the markdown report in bytes.
    pub markdown_limit: usize,
}

/// Parses a Go text/template for `--output template` (helm-diff's `HELM_DIFF_TPL`).
pub fn parse_template(name: &str, text: &str) -> anyhow::Result<gotemplate::Template> {
    gotemplate::Template::parse(name, text)
}

/// Parses `--ignore` rules, rule files and presets.
pub fn ignore_rules(
    rules: &[String],
    files: &[std::path::PathBuf],
    presets: &[String],
) -> anyhow::Result<Option<ignore::IgnoreRules>> {
    let rules = ignore::IgnoreRules::new(rules, files, presets)?;
    Ok((!rules.is_empty()).then_some(rules))
}

/// helm-diff's colour decision: `--no-color` wins, then `--color`, then `HELM_DIFF_COLOR` when it is
/// a Go boolean; otherwise `NO_COLOR` (non-empty) or `TERM=dumb` turn colour off and a terminal
/// turns it on.
pub fn color(flag_color: Option<bool>, no_color: bool, is_tty: bool) -> bool {
    let var = |name| std::env::var(name).ok();
    color_from(
        flag_color,
        no_color,
        var("HELM_DIFF_COLOR").as_deref(),
        var("NO_COLOR").as_deref(),
        var("TERM").as_deref(),
        is_tty,
    )
}

fn color_from(
    flag_color: Option<bool>,
    no_color: bool,
    helm_diff_color: Option<&str>,
    no_color_env: Option<&str>,
    term: Option<&str>,
    is_tty: bool,
) -> bool {
    let forced = flag_color.or(match helm_diff_color {
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Some(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Some(false),
        _ => None,
    });
    if no_color {
        return false;
    }
    forced
        .unwrap_or_else(|| is_tty && no_color_env.is_none_or(str::is_empty) && term != Some("dumb"))
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
    /// Owned by another release (or none) and taken over by this one.
    Ownership,
    /// Changed, but every changed line was hidden by `--suppress-output-line-regex`.
    ModifySuppressed,
}

impl ChangeType {
    /// helm-diff's name, as `--output json`/`structured`/templates print it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Add => "ADD",
            Self::Remove => "REMOVE",
            Self::Modify => "MODIFY",
            Self::Ownership => "OWNERSHIP",
            Self::ModifySuppressed => "MODIFY_SUPPRESSED",
        }
    }
}

/// One object's release changing hands: `"<namespace>/<release>"` before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    /// The key of the object.
    pub key: String,
    /// The release that owns it now (`""` when none does).
    pub old_release: String,
    /// The release that will own it.
    pub new_release: String,
}

/// One reported object.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// helm-diff's key, `"<ns>, <name>, <Kind> (<group>)"`.
    pub key: String,
    /// The object's kind.
    pub kind: String,
    /// What happens to the object.
    pub change: ChangeType,
    lines: Vec<Line>,
    old: Option<Value>,
    new: Option<Value>,
}

/// The differences between a release and a new render.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// Reported objects in helm-diff's order: ownership changes, modified, renamed, removed, added.
    pub entries: Vec<Entry>,
    /// Whether anything changes (before `--suppress-output-line-regex` hid lines, as in helm-diff);
    /// `--detailed-exitcode` exits 2 when it does.
    pub seen_changes: bool,
}

impl Report {
    /// Whether anything would change.
    pub fn has_changes(&self) -> bool {
        self.seen_changes
    }

    /// The report in `opts.output` format, as helm-diff prints it.
    ///
    /// # Errors
    /// When a custom template fails to execute.
    pub fn render(&self, opts: &Options) -> anyhow::Result<String> {
        report::render(self, opts)
    }
}

/// Compares the objects of a release (`old`) with those of a new render (`new`); `owners` lists
/// objects the release takes over from elsewhere (shown first, as helm-diff does).
///
/// Test hooks are left out unless `opts.include_tests`, hooks altogether with `opts.no_hooks`; when a
/// key occurs twice on one side the first object counts, as in helm-diff.
pub fn compare(
    old: &[Object],
    new: &[Object],
    owners: &[Ownership],
    opts: &Options,
) -> Result<Report> {
    compare_indexed(&index(old, opts)?, &index(new, opts)?, owners, opts)
}

/// Compares two releases of one chart (`helm x diff release`): objects are matched by the
/// template they came from (`# Source:`, numbered when a template holds several), not by name,
/// as helm-diff does.
pub fn compare_by_template(old: &[Object], new: &[Object], opts: &Options) -> Result<Report> {
    compare_indexed(
        &by_template(index(old, opts)?),
        &by_template(index(new, opts)?),
        &[],
        opts,
    )
}

/// helm-diff's `reIndexForRelease`: in key order, each object is keyed by its first line without
/// `# Source: `, with ` N` appended to the N+1st object of one template.
fn by_template(index: BTreeMap<String, Compared<'_>>) -> BTreeMap<String, Compared<'_>> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (_, compared) in index {
        let first = compared.content.split('\n').next().unwrap_or_default();
        let mut key = first.replacen("# Source: ", "", 1);
        let count = seen.entry(key.clone()).or_default();
        if *count > 0 {
            key = format!("{key} {count}");
        }
        *count += 1;
        out.insert(key, compared);
    }
    out
}

fn compare_indexed(
    old: &BTreeMap<String, Compared<'_>>,
    new: &BTreeMap<String, Compared<'_>>,
    owners: &[Ownership],
    opts: &Options,
) -> Result<Report> {
    let mut entries = Vec::new();
    let mut owners: Vec<&Ownership> = owners.iter().collect();
    owners.sort_by(|a, b| a.key.cmp(&b.key));
    for owner in owners {
        entries.push(Entry {
            key: owner.key.clone(),
            kind: String::new(),
            change: ChangeType::Ownership,
            lines: lines::diff(&owner.old_release, &owner.new_release, true),
            old: None,
            new: None,
        });
    }
    let mut removed = Vec::new();
    for (key, o) in old {
        match new.get(key) {
            Some(n) => entries.extend(entry(key, Some(o), Some(n), opts)?),
            None => removed.push(key.as_str()),
        }
    }
    let mut added: Vec<&str> = new
        .keys()
        .filter(|key| !old.contains_key(*key))
        .map(String::as_str)
        .collect();
    if opts.find_renames > 0.0 {
        let mut unmatched = Vec::with_capacity(removed.len());
        for key in removed {
            let o = &old[key];
            match rename_target(o, &added, new, opts)? {
                Some(at) => {
                    let n = &new[added.remove(at)];
                    entries.extend(entry(key, Some(o), Some(n), opts)?);
                }
                None => unmatched.push(key),
            }
        }
        removed = unmatched;
    }
    for key in removed {
        let o = &old[key];
        if !o.object.kept {
            entries.extend(entry(key, Some(o), None, opts)?);
        }
    }
    for key in added {
        entries.extend(entry(key, None, Some(&new[key]), opts)?);
    }
    let seen_changes = !entries.is_empty();
    if !opts.suppressed_lines.is_empty() {
        for entry in &mut entries {
            suppress_lines(entry, &opts.suppressed_lines);
        }
    }
    Ok(Report {
        entries,
        seen_changes,
    })
}

/// An object as compared: its text, and its value after `--ignore` rules when a rule removed
/// something. Otherwise the object's own value serves, parsed only if the comparison needs it.
struct Compared<'a> {
    object: &'a Object,
    content: &'a str,
    stripped: Option<Value>,
}

impl Compared<'_> {
    fn value(&self) -> Result<&Value> {
        match &self.stripped {
            Some(value) => Ok(value),
            None => self.object.value(),
        }
    }

    fn ignored(&self) -> bool {
        self.stripped.is_some()
    }
}

fn index<'a>(objects: &'a [Object], opts: &Options) -> Result<BTreeMap<String, Compared<'a>>> {
    let shown = |o: &&Object| {
        !((opts.no_hooks && o.is_hook()) || (!opts.include_tests && o.is_test_hook()))
    };
    if opts.ignore.is_some() {
        Object::parse_all(objects.iter().filter(shown))?;
    }
    let mut index = BTreeMap::new();
    for object in objects.iter().filter(shown) {
        if index.contains_key(&object.key) {
            continue;
        }
        let mut stripped = None;
        if let Some(rules) = &opts.ignore {
            let mut value = object.value()?.clone();
            if rules.apply(&mut value) {
                stripped = Some(value);
            }
        }
        index.insert(
            object.key.clone(),
            Compared {
                object,
                content: &object.content,
                stripped,
            },
        );
    }
    Ok(index)
}

/// The texts of the old and the new side; `None` for a side without the object.
type Sides<'a> = (Option<Cow<'a, str>>, Option<Cow<'a, str>>);

/// The `# Source:` line a rendered object's text starts with, kept when it is re-serialized.
fn comment(content: &str) -> &str {
    match content.find('\n') {
        Some(i) if content.starts_with('#') => &content[..=i],
        _ => "",
    }
}

/// The texts two sides are compared by. When an `--ignore` rule removed a field from either side,
/// both are shown by their normalized YAML, so the removal itself cannot show as a change.
fn texts<'a>(old: Option<&Compared<'a>>, new: Option<&Compared<'a>>) -> Result<Sides<'a>> {
    let ignored = old.into_iter().chain(new).any(Compared::ignored);
    let text = |c: &Compared<'a>| -> Result<Cow<'a, str>> {
        Ok(if ignored {
            Cow::Owned(format!(
                "{}{}",
                comment(c.content),
                manifest::body(c.value()?)
            ))
        } else {
            Cow::Borrowed(c.content)
        })
    };
    Ok((old.map(text).transpose()?, new.map(text).transpose()?))
}

/// The texts as shown, with Secret data redacted or decoded as asked.
fn shown<'a>(
    old: Option<&Compared<'a>>,
    new: Option<&Compared<'a>>,
    opts: &Options,
) -> Result<Sides<'a>> {
    let (old_text, new_text) = texts(old, new)?;
    let secret = old.into_iter().chain(new).all(|c| c.object.is_secret());
    if !secret || (opts.show_secrets && !opts.show_secrets_decoded) {
        return Ok((old_text, new_text));
    }
    let view = if opts.show_secrets_decoded {
        redact::View::Decoded
    } else {
        redact::View::Redacted
    };
    let (old_body, new_body) = redact::secret_bodies(
        old.map(Compared::value).transpose()?,
        new.map(Compared::value).transpose()?,
        view,
    );
    let with_comment = |c: Option<&Compared>, body: Option<String>| {
        c.zip(body).map(|(c, body)| {
            Cow::Owned(if body.starts_with("Error parsing") {
                body.trim_end().to_string()
            } else {
                format!("{}{body}", comment(c.content))
            })
        })
    };
    Ok((with_comment(old, old_body), with_comment(new, new_body)))
}

fn entry(
    key: &str,
    old: Option<&Compared>,
    new: Option<&Compared>,
    opts: &Options,
) -> Result<Option<Entry>> {
    let Some(subject) = old.or(new) else {
        return Ok(None);
    };
    let (old_text, new_text) = texts(old, new)?;
    if old_text.is_some() && old_text == new_text {
        return Ok(None);
    }
    let (old_shown, new_shown) = shown(old, new, opts)?;
    let change = match (old, new) {
        (Some(_), Some(_)) => ChangeType::Modify,
        (Some(_), None) => ChangeType::Remove,
        (None, _) => ChangeType::Add,
    };
    let lines = lines::diff(
        old_shown.as_deref().unwrap_or(""),
        new_shown.as_deref().unwrap_or(""),
        opts.strip_trailing_cr,
    );
    let suppressed = opts.suppressed_kinds.contains(&subject.object.kind);
    // Only the per-field renderers need the objects themselves; the others print lines.
    let keep = matches!(opts.output, OutputFormat::Structured | OutputFormat::Dyff);
    let value = |c: Option<&Compared>, text: &Option<Cow<str>>| -> Result<Option<Value>> {
        let Some(c) = c.filter(|_| keep) else {
            return Ok(None);
        };
        if c.object.is_secret() && text.as_deref() != Some(c.content) {
            return Ok(crate::stream::load(text.as_deref().unwrap_or("")).ok());
        }
        Ok(Some(c.value()?.clone()))
    };
    let (old_value, new_value) = (value(old, &old_shown)?, value(new, &new_shown)?);
    if change == ChangeType::Modify {
        let unchanged = if opts.output == OutputFormat::Structured {
            !suppressed
                && old_value
                    .as_ref()
                    .zip(new_value.as_ref())
                    .is_some_and(|(o, n)| {
                        structured::field_changes(o, n).is_ok_and(|changes| changes.is_empty())
                    })
        } else {
            !lines.iter().any(Line::changed)
        };
        if unchanged {
            return Ok(None);
        }
    }
    Ok(Some(Entry {
        key: key.to_string(),
        kind: subject.object.kind.clone(),
        change,
        lines,
        old: old_value,
        new: new_value,
    }))
}

/// helm-diff's rename rule: among added objects of the same kind (and, except for Secrets, of a
/// length within a factor of ten), the one whose line diff has the smallest fraction of changed
/// lines, when that fraction is below `--find-renames`.
fn rename_target(
    old: &Compared,
    added: &[&str],
    new: &BTreeMap<String, Compared>,
    opts: &Options,
) -> Result<Option<usize>> {
    let mut best: Option<(usize, f32)> = None;
    for (at, key) in added.iter().enumerate() {
        let candidate = &new[*key];
        if candidate.object.kind != old.object.kind {
            continue;
        }
        let (old_len, new_len) = (old.content.len(), candidate.content.len());
        if old_len == 0 || new_len == 0 {
            continue;
        }
        if !old.object.is_secret() {
            let ratio = old_len as f32 / new_len as f32;
            if !(0.1..=10.0).contains(&ratio) {
                continue;
            }
        }
        let (o, n) = shown(Some(old), Some(candidate), opts)?;
        let lines = lines::diff(
            o.as_deref().unwrap_or(""),
            n.as_deref().unwrap_or(""),
            opts.strip_trailing_cr,
        );
        let changed = lines.iter().filter(|l| l.changed()).count();
        if changed == 0 || lines.is_empty() {
            continue;
        }
        let fraction = changed as f32 / lines.len() as f32;
        if best.is_none_or(|(_, f)| fraction < f) {
            best = Some((at, fraction));
        }
    }
    Ok(best
        .filter(|&(_, f)| f < opts.find_renames)
        .map(|(at, _)| at))
}

/// `--suppress-output-line-regex`: drops matching lines; a modified object left with no changed
/// line is reported as changed-but-suppressed, without lines.
fn suppress_lines(entry: &mut Entry, patterns: &[Regex]) {
    entry
        .lines
        .retain(|l| !patterns.iter().any(|p| p.is_match(&l.text)));
    if !entry.lines.iter().any(Line::changed) {
        entry.lines.clear();
        if entry.change == ChangeType::Modify {
            entry.change = ChangeType::ModifySuppressed;
        }
    }
}

#[cfg(test)]
mod tests;
