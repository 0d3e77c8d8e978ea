//! `--output dyff`: the report helm-diff gets from dyff (v1.12), which it runs on two temporary
//! files holding the old and the new side of every object with `HumanReport{OmitHeader: true,
//! MinorChangeThreshold: 0.1}`, whitespace-only string changes ignored, and Kubernetes documents
//! matched by `apiVersion/kind[/namespace]/name`. It is rebuilt here from the objects, down to
//! dyff's layout (blocks side by side when they fit), its key order for added and removed content
//! (ytbx's `RestructureObject`, ties broken as Go's unstable sort breaks them), its text diffs
//! (diff-match-patch) and its colours (bunt, 24-bit).
//!
//! Deliberate differences from helm-diff + dyff:
//! - Values are seen as parsed, not as the manifest spells them: floats show in this crate's
//!   normalized form (`1.0`), nulls as `null`, comments (`# Source:`) not at all; key order is the
//!   values' order.
//! - Ownership-only entries are left out (helm-diff writes release names as documents there, which
//!   switches off dyff's Kubernetes matching for the whole report), and so are `MODIFY_SUPPRESSED`
//!   ones (helm-diff writes them as empty documents). Output-line suppression does not cut
//!   documents apart, renames are not detected (`--find-renames`), and `--suppress` is ignored as
//!   helm-diff ignores it here.
//! - Certificates are compared as text, not summarized, and the terminal is taken to be 80
//!   columns wide (dyff's width when stdout is not a terminal).
//! - Bounds dyff lacks: documents nested deeper than [`MAX_DEPTH`](super::structured::MAX_DEPTH)
//!   are left out, a text diff gives up refining after [`DIFF_BUDGET`] steps (as diff-match-patch
//!   does at its one-second deadline), and single-line strings longer than [`MAX_MINOR_LEN`]
//!   characters are never "minor changes" (which only changes colours).

use std::borrow::Cow;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::structured::{Subject, too_deep};

/// The terminal width dyff assumes when stdout is not a terminal.
const WIDTH: usize = 80;
/// Steps one text diff may take before it settles for "all deleted, all inserted".
const DIFF_BUDGET: u64 = 10_000_000;
/// Longest single-line string (in characters) measured for dyff's minor-change highlighting.
const MAX_MINOR_LEN: usize = 4096;

/// The dyff report comparing the old and new side of `subjects`, in their order.
pub(super) fn render(subjects: &[Subject<'_>], color: bool) -> String {
    let paint = Paint { color };
    let (diffs, show_root) = compare(subjects);
    let mut out = String::new();
    for diff in &diffs {
        out.push('\n');
        out.push_str(&heading(&paint, diff.path.as_ref(), show_root));
        out.push('\n');
        let blocks: Vec<String> = diff.details.iter().map(|d| detail(&paint, d)).collect();
        write_blocks(&mut out, &blocks);
    }
    out.push('\n');
    out
}

// --- The comparison (dyff's `compare`) ---------------------------------------------------------

/// go-yaml v3's node kind and tag of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Tag {
    Map,
    Seq,
    Str,
    Int,
    Float,
    Bool,
    Null,
}

impl Tag {
    fn of(value: &Value) -> Tag {
        match value {
            Value::Object(_) => Tag::Map,
            Value::Array(_) => Tag::Seq,
            Value::String(_) => Tag::Str,
            Value::Number(n) if n.is_f64() => Tag::Float,
            Value::Number(_) => Tag::Int,
            Value::Bool(_) => Tag::Bool,
            Value::Null => Tag::Null,
        }
    }

    /// dyff's `humanReadableType`.
    fn human(self) -> &'static str {
        match self {
            Tag::Map => "map",
            Tag::Seq => "list",
            Tag::Str => "string",
            Tag::Int => "int",
            Tag::Float => "float",
            Tag::Bool => "bool",
            Tag::Null => "<nil>",
        }
    }
}

/// A node's `Value` in go-yaml v3: a scalar's text, empty for collections.
fn text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(s) => Cow::Borrowed(s),
        Value::Number(_) => Cow::Owned(crate::stream::emit(value).trim_end().to_string()),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Null => Cow::Borrowed("null"),
        Value::Array(_) | Value::Object(_) => Cow::Borrowed(""),
    }
}

/// The empty document dyff reads where one side has no object.
static EMPTY: Value = Value::Null;

/// An empty name as dyff shows it: an empty string node.
static EMPTY_STRING: Value = Value::String(String::new());

/// One step of a path: a map key, a named list entry, or a list index.
#[derive(Debug, Clone)]
enum Element<'a> {
    Key(&'a str),
    Entry(Cow<'a, str>),
    Index(usize),
}

#[derive(Debug, Clone)]
struct Path<'a> {
    /// The document's description: its Kubernetes name or `document #n`.
    root: String,
    elements: Vec<Element<'a>>,
}

#[derive(Debug)]
struct Diff<'a> {
    /// `None` for the file level (document order).
    path: Option<Path<'a>>,
    details: Vec<Detail<'a>>,
}

#[derive(Debug)]
enum Detail<'a> {
    Added(Shown<'a>),
    Removed(Shown<'a>),
    Modified(&'a Value, &'a Value),
    Order(Vec<Item<'a>>, Vec<Item<'a>>),
}

/// What an addition or removal shows.
#[derive(Debug)]
enum Shown<'a> {
    Document(&'a Value),
    Entries(Vec<(&'a str, &'a Value)>),
    Items(Vec<&'a Value>),
}

/// An entry of an order change: a name, or a list entry shown by its value.
#[derive(Debug)]
enum Item<'a> {
    Name(Cow<'a, str>),
    Node(&'a Value),
}

/// dyff's `CompareInputFiles` on the two files helm-diff writes (one document per subject on each
/// side, empty where absent); returns the differences and whether headings name their document.
fn compare<'a>(subjects: &[Subject<'a>]) -> (Vec<Diff<'a>>, bool) {
    let document = |v: Option<&'a Value>| v.filter(|v| !v.is_null() && !too_deep(v));
    let pairs: Vec<(Option<&'a Value>, Option<&'a Value>)> = subjects
        .iter()
        .filter(|s| !matches!(s.change, "OWNERSHIP" | "MODIFY_SUPPRESSED"))
        .map(|s| (document(s.old), document(s.new)))
        .collect();
    let from = named(pairs.iter().filter_map(|p| p.0));
    let to = named(pairs.iter().filter_map(|p| p.1));
    match (from, to) {
        (Some(from), Some(to)) => by_name(&from, &to),
        _ => by_index(&pairs),
    }
}

/// The documents with their Kubernetes names, if all have one.
fn named<'a>(docs: impl Iterator<Item = &'a Value>) -> Option<Vec<(&'a Value, String)>> {
    docs.map(|d| Some((d, k8s_name(d)?))).collect()
}

/// Kubernetes mode: documents paired by name, then whole documents removed and added, then a
/// file-level order change when both sides list as many names in a different order.
fn by_name<'a>(from: &[(&'a Value, String)], to: &[(&'a Value, String)]) -> (Vec<Diff<'a>>, bool) {
    // Go map semantics: the last document of a name wins.
    fn index<'d>(docs: &'d [(&Value, String)]) -> HashMap<&'d str, usize> {
        docs.iter()
            .enumerate()
            .map(|(i, d)| (d.1.as_str(), i))
            .collect()
    }
    let (from_at, to_at) = (index(from), index(to));
    let mut walk = Walk::default();
    let mut removed = Vec::new();
    for (_, name) in from {
        let f = from_at[name.as_str()];
        match to_at.get(name.as_str()) {
            Some(&t) => {
                walk.root.clone_from(name);
                walk.objects(from[f].0, to[t].0);
            }
            None => removed.push(f),
        }
    }
    let mut diffs = walk.diffs;
    let whole = |(doc, name): &(&'a Value, String), detail: fn(Shown<'a>) -> Detail<'a>| Diff {
        path: Some(Path {
            root: name.clone(),
            elements: Vec::new(),
        }),
        details: vec![detail(Shown::Document(doc))],
    };
    diffs.extend(
        removed
            .into_iter()
            .map(|f| whole(&from[f], Detail::Removed)),
    );
    diffs.extend(
        to.iter()
            .filter(|(_, name)| !from_at.contains_key(name.as_str()))
            .map(|(_, name)| whole(&to[to_at[name.as_str()]], Detail::Added)),
    );
    if from.len() == to.len() && from.iter().zip(to).any(|(f, t)| f.1 != t.1) {
        let names = |docs: &[(&'a Value, String)]| {
            docs.iter()
                .map(|d| Item::Name(Cow::Owned(d.1.clone())))
                .collect()
        };
        diffs.push(Diff {
            path: None,
            details: vec![Detail::Order(names(from), names(to))],
        });
    }
    (diffs, from.len() > 1)
}

/// Fallback when some document has no Kubernetes name: documents compared by position.
fn by_index<'a>(pairs: &[(Option<&'a Value>, Option<&'a Value>)]) -> (Vec<Diff<'a>>, bool) {
    let mut walk = Walk::default();
    for (i, (from, to)) in pairs.iter().enumerate() {
        walk.root = format!("document #{}", i + 1);
        walk.objects(from.unwrap_or(&EMPTY), to.unwrap_or(&EMPTY));
    }
    (walk.diffs, pairs.len() > 1)
}

/// dyff's Kubernetes identifier: `apiVersion/kind[/namespace]/name`. As ytbx resolves
/// `metadata.name` to `metadata` itself when that is a scalar, such an object is named by it.
fn k8s_name(value: &Value) -> Option<String> {
    let map = value.as_object()?;
    let meta = |key: &str| match map.get("metadata")? {
        Value::Object(meta) => meta.get(key).map(text),
        Value::Array(_) => None,
        scalar => Some(text(scalar)),
    };
    let mut parts = vec![text(map.get("apiVersion")?), text(map.get("kind")?)];
    parts.extend(meta("namespace"));
    parts.push(meta("name")?);
    Some(parts.join("/"))
}

/// How list entries are told apart.
#[derive(Clone, Copy)]
enum Identifier<'a> {
    Field(&'a str),
    Resource,
}

impl Identifier<'_> {
    fn name<'v>(self, entry: &'v Value) -> Option<Cow<'v, str>> {
        match self {
            Identifier::Field(field) => entry.as_object()?.get(field).map(text),
            Identifier::Resource => k8s_name(entry).map(Cow::Owned),
        }
    }
}

/// Fields that identify list entries, in dyff's order of preference.
const IDENTIFIERS: [&str; 4] = ["name", "key", "id", "manager"];

#[derive(Default)]
struct Walk<'a> {
    root: String,
    path: Vec<Element<'a>>,
    diffs: Vec<Diff<'a>>,
}

impl<'a> Walk<'a> {
    fn push(&mut self, details: Vec<Detail<'a>>) {
        if !details.is_empty() {
            self.diffs.push(Diff {
                path: Some(Path {
                    root: self.root.clone(),
                    elements: self.path.clone(),
                }),
                details,
            });
        }
    }

    fn within(&mut self, element: Element<'a>, from: &'a Value, to: &'a Value) {
        self.path.push(element);
        self.objects(from, to);
        self.path.pop();
    }

    fn objects(&mut self, from: &'a Value, to: &'a Value) {
        let changed = match (from, to) {
            _ if Tag::of(from) != Tag::of(to) => true,
            (Value::Object(f), Value::Object(t)) => {
                self.mappings(f, t);
                false
            }
            (Value::Array(f), Value::Array(t)) => {
                self.sequences(f, t);
                false
            }
            // Whitespace-only changes are ignored (`IgnoreWhitespaceChanges`).
            (Value::String(f), Value::String(t)) => f != t && !whitespace_only(f, t),
            (Value::Null, Value::Null) => false,
            (Value::Bool(f), Value::Bool(t)) => f != t,
            _ => text(from) != text(to),
        };
        if changed {
            self.push(vec![Detail::Modified(from, to)]);
        }
    }

    fn mappings(&mut self, from: &'a Map<String, Value>, to: &'a Map<String, Value>) {
        let only =
            |a: &'a Map<String, Value>, b: &Map<String, Value>| -> Vec<(&'a str, &'a Value)> {
                a.iter()
                    .filter(|(k, _)| !b.contains_key(*k))
                    .map(|(k, v)| (k.as_str(), v))
                    .collect()
            };
        let (removed, added) = (only(from, to), only(to, from));
        let mut details = Vec::new();
        if !removed.is_empty() {
            details.push(Detail::Removed(Shown::Entries(removed)));
        }
        if !added.is_empty() {
            details.push(Detail::Added(Shown::Entries(added)));
        }
        self.push(details);
        for (key, f) in from {
            if let Some(t) = to.get(key) {
                self.within(Element::Key(key), f, t);
            }
        }
    }

    fn sequences(&mut self, from: &'a [Value], to: &'a [Value]) {
        if from.is_empty() && to.is_empty() {
            return;
        }
        let identifier = standard_identifier(from, to)
            .or_else(|| other_identifier(from, to))
            .or_else(|| {
                let all = |l: &[Value]| l.iter().all(|e| k8s_name(e).is_some());
                (all(from) && all(to)).then_some(Identifier::Resource)
            });
        match identifier {
            Some(identifier) => self.named_lists(identifier, from, to),
            None => self.simple_lists(from, to),
        }
    }

    fn named_lists(&mut self, identifier: Identifier<'a>, from: &'a [Value], to: &'a [Value]) {
        let named = |list: &'a [Value]| -> Vec<(Option<Cow<'a, str>>, &'a Value)> {
            list.iter().map(|e| (identifier.name(e), e)).collect()
        };
        let (from, to) = (named(from), named(to));
        // The first entry of a name is the one found.
        let index = |list: &[(Option<Cow<'a, str>>, &'a Value)]| {
            let mut at: HashMap<Cow<'a, str>, usize> = HashMap::new();
            for (i, (name, _)) in list.iter().enumerate() {
                if let Some(name) = name {
                    at.entry(name.clone()).or_insert(i);
                }
            }
            at
        };
        let (from_at, to_at) = (index(&from), index(&to));
        let mut matched = Vec::new();
        let mut removed = Vec::new();
        for (name, entry) in &from {
            match name.as_ref().and_then(|n| to_at.get(n).map(|&t| (n, t))) {
                Some((name, t)) => matched.push((name.clone(), *entry, to[t].1)),
                None => removed.push(*entry),
            }
        }
        let mut to_names = Vec::new();
        let mut added = Vec::new();
        for (name, entry) in &to {
            match name.as_ref().filter(|n| from_at.contains_key(*n)) {
                Some(name) => to_names.push(name.clone()),
                None => added.push(*entry),
            }
        }
        let from_names: Vec<Cow<'a, str>> = matched.iter().map(|m| m.0.clone()).collect();
        // dyff looks each name up in a map built from `to_names`, so the last position counts.
        let to_pos: HashMap<&str, usize> = to_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_ref(), i))
            .collect();
        let reordered = from_names
            .iter()
            .enumerate()
            .any(|(i, n)| to_pos.get(n.as_ref()).copied().unwrap_or(0) != i);
        let mut details = Vec::new();
        if reordered {
            let items = |names: Vec<Cow<'a, str>>| names.into_iter().map(Item::Name).collect();
            details.push(Detail::Order(items(from_names), items(to_names)));
        }
        push_entries(&mut details, removed, added);
        self.push(details);
        for (name, f, t) in matched {
            self.within(Element::Entry(name), f, t);
        }
    }

    fn simple_lists(&mut self, from: &'a [Value], to: &'a [Value]) {
        if let ([f], [t]) = (from, to) {
            self.within(Element::Index(0), f, t);
            return;
        }
        let hashes = |list: &[Value]| list.iter().map(node_hash).collect::<Vec<u64>>();
        let (from_hashes, to_hashes) = (hashes(from), hashes(to));
        let counts = |hashes: &[u64]| {
            let mut counts: HashMap<u64, usize> = HashMap::new();
            for &h in hashes {
                *counts.entry(h).or_default() += 1;
            }
            counts
        };
        let (from_counts, to_counts) = (counts(&from_hashes), counts(&to_hashes));
        let changed = |list: &'a [Value],
                       hashes: &[u64],
                       mine: &HashMap<u64, usize>,
                       theirs: &HashMap<u64, usize>| {
            let mut common = Vec::new();
            let mut changed: Vec<&'a Value> = Vec::new();
            let mut seen = HashSet::new();
            for (entry, &h) in list.iter().zip(hashes) {
                match theirs.get(&h) {
                    None => changed.push(entry),
                    Some(&other) => {
                        common.push((entry, h));
                        // Surplus duplicates count once per missing copy, listed at the first.
                        if mine[&h] > other && seen.insert(h) {
                            changed.extend(std::iter::repeat_n(entry, mine[&h] - other));
                        }
                    }
                }
            }
            (common, changed)
        };
        let (from_common, removed) = changed(from, &from_hashes, &from_counts, &to_counts);
        let (to_common, added) = changed(to, &to_hashes, &to_counts, &from_counts);
        let mut details = Vec::new();
        if from_common.len() == to_common.len()
            && from_common.iter().zip(&to_common).any(|(f, t)| f.1 != t.1)
        {
            let items = |common: Vec<(&'a Value, u64)>| {
                common.into_iter().map(|c| Item::Node(c.0)).collect()
            };
            details.push(Detail::Order(items(from_common), items(to_common)));
        }
        push_entries(&mut details, removed, added);
        self.push(details);
    }
}

fn push_entries<'a>(details: &mut Vec<Detail<'a>>, removed: Vec<&'a Value>, added: Vec<&'a Value>) {
    if !removed.is_empty() {
        details.push(Detail::Removed(Shown::Items(removed)));
    }
    if !added.is_empty() {
        details.push(Detail::Added(Shown::Items(added)));
    }
}

/// A field from [`IDENTIFIERS`] whose values tell all entries of both lists apart.
fn standard_identifier<'a>(from: &'a [Value], to: &'a [Value]) -> Option<Identifier<'a>> {
    let distinct = |list: &'a [Value], field: &str| -> usize {
        let values: HashSet<Cow<'a, str>> = list
            .iter()
            .filter_map(|e| e.as_object()?.get(field).map(text))
            .collect();
        values.len()
    };
    IDENTIFIERS
        .into_iter()
        .find(|f| {
            let present = |l: &[Value]| {
                l.iter()
                    .any(|e| e.as_object().is_some_and(|m| m.contains_key(*f)))
            };
            present(from)
                && present(to)
                && distinct(from, f) == from.len()
                && distinct(to, f) == to.len()
        })
        .map(Identifier::Field)
}

/// dyff's guess for lists of maps: the first key (sorted) with a string value unique to each of
/// more than three entries in both lists.
fn other_identifier<'a>(from: &'a [Value], to: &'a [Value]) -> Option<Identifier<'a>> {
    let counts = |list: &'a [Value]| -> Option<HashMap<&'a str, HashSet<&'a str>>> {
        let mut counts: HashMap<&'a str, HashSet<&'a str>> = HashMap::new();
        for entry in list {
            for (k, v) in entry.as_object()? {
                if let Value::String(s) = v {
                    counts.entry(k.as_str()).or_default().insert(s.as_str());
                }
            }
        }
        Some(counts)
    };
    let (a, b) = (counts(from)?, counts(to)?);
    let mut keys: Vec<&&str> = a.keys().collect();
    keys.sort_unstable();
    keys.into_iter()
        .find(|k| {
            let count = a[**k].len();
            b.get(**k).is_some_and(|other| other.len() == to.len())
                && count == from.len()
                && count > 3
        })
        .map(|k| Identifier::Field(k))
}

/// dyff's `isWhitespaceOnlyChange`: equal once spaces and newlines are trimmed off both ends.
fn whitespace_only(from: &str, to: &str) -> bool {
    from.trim_matches([' ', '\n']) == to.trim_matches([' ', '\n'])
}

/// dyff's `calcNodeHash`: a scalar by tag and text, a collection by its structure with scalars
/// compared by text alone (and maps regardless of key order).
fn node_hash(value: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    match value {
        Value::Object(_) | Value::Array(_) => {
            0u8.hash(&mut h);
            basic_hash(value).hash(&mut h);
        }
        _ => {
            1u8.hash(&mut h);
            Tag::of(value).hash(&mut h);
            text(value).hash(&mut h);
        }
    }
    h.finish()
}

fn basic_hash(value: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    match value {
        Value::Object(map) => {
            let mut entries: Vec<u64> = map
                .iter()
                .map(|(k, v)| {
                    let mut e = DefaultHasher::new();
                    (k, basic_hash(v)).hash(&mut e);
                    e.finish()
                })
                .collect();
            entries.sort_unstable();
            ('m', entries).hash(&mut h);
        }
        Value::Array(items) => ('l', items.iter().map(basic_hash).collect::<Vec<_>>()).hash(&mut h),
        _ => ('s', text(value)).hash(&mut h),
    }
    h.finish()
}

// --- The report (dyff's `HumanReport`) ---------------------------------------------------------

/// A 24-bit colour.
#[derive(Debug, Clone, Copy)]
struct Rgb(u8, u8, u8);

const ADDITION: Rgb = Rgb(88, 191, 56);
const MODIFICATION: Rgb = Rgb(199, 196, 63);
const REMOVAL: Rgb = Rgb(185, 49, 27);
const LIGHT_GREEN: Rgb = Rgb(144, 238, 144);
const LIGHT_SALMON: Rgb = Rgb(255, 160, 122);
/// SGR parameters of bunt's `LightSteelBlue`.
const LIGHT_STEEL_BLUE: &str = "38;2;176;196;222";

/// The YAML colours of added (greenish) and removed (reddish) content.
struct Schema {
    key: Rgb,
    indent: Rgb,
    scalar: Rgb,
    multiline: Rgb,
    null: Rgb,
    empty: Rgb,
}

const GREENISH: Schema = Schema {
    key: Rgb(0, 128, 0),
    indent: Rgb(0, 51, 0),
    scalar: Rgb(50, 205, 50),
    multiline: Rgb(107, 142, 35),
    null: Rgb(128, 128, 0),
    empty: Rgb(85, 107, 47),
};

const REDDISH: Schema = Schema {
    key: Rgb(178, 34, 34),
    indent: Rgb(51, 0, 0),
    scalar: Rgb(240, 128, 128),
    multiline: Rgb(233, 150, 122),
    null: Rgb(250, 128, 114),
    empty: Rgb(255, 160, 122),
};

fn heading(paint: &Paint, path: Option<&Path<'_>>, show_root: bool) -> String {
    let Some(path) = path else {
        return paint.marked("(file level)", "1");
    };
    let mut out = if path.elements.is_empty() {
        paint.marked("(root level)", "1")
    } else {
        let sections: Vec<String> = path
            .elements
            .iter()
            .filter_map(|e| match e {
                Element::Key(k) if !k.is_empty() => Some(paint.marked(k, "1")),
                Element::Entry(n) if !n.is_empty() => Some(paint.marked(n, "1;3")),
                Element::Index(i) => Some(paint.marked(&i.to_string(), "1")),
                _ => None,
            })
            .collect();
        sections.join(".")
    };
    if show_root {
        out.push_str("  ");
        out.push_str(&paint.marked(&format!("({})", path.root), LIGHT_STEEL_BLUE));
    }
    out
}

fn detail(paint: &Paint, detail: &Detail<'_>) -> String {
    match detail {
        Detail::Added(shown) => whole(paint, '+', "added", shown, &GREENISH),
        Detail::Removed(shown) => whole(paint, '-', "removed", shown, &REDDISH),
        Detail::Modified(from, to) => modified(paint, from, to),
        Detail::Order(from, to) => order(paint, from, to),
    }
}

fn whole(
    paint: &Paint,
    sign: char,
    verb: &str,
    shown: &Shown<'_>,
    schema: &'static Schema,
) -> String {
    let what = match shown {
        Shown::Document(_) => plural(1, "document", "documents"),
        Shown::Entries(e) => plural(e.len(), "map entry", "map entries"),
        Shown::Items(i) => plural(i.len(), "list entry", "list entries"),
    };
    let mut out = paint.fg(&format!("{sign} {what} {verb}:\n"), MODIFICATION);
    let mut yaml = Yaml::new(paint, Some(schema), true);
    match shown {
        Shown::Document(doc) => yaml.node("", false, doc),
        Shown::Entries(entries) => yaml.map("", false, &restructured(entries)),
        Shown::Items(items) => yaml.seq("", false, items.iter().copied()),
    }
    write_blocks(&mut out, &[yaml.out]);
    out
}

fn modified(paint: &Paint, from: &Value, to: &Value) -> String {
    let (from_tag, to_tag) = (Tag::of(from), Tag::of(to));
    if let (Value::String(f), Value::String(t)) = (from, to) {
        return string_change(paint, f, t);
    }
    let mut out = if from_tag == to_tag {
        paint.fg("± value change\n", MODIFICATION)
    } else {
        let from_type = paint.style(from_tag.human(), true, |s| s | ITALIC);
        let to_type = paint.style(to_tag.human(), true, |s| s | ITALIC);
        paint.fg(
            &format!("± type change from {from_type} to {to_type}\n"),
            MODIFICATION,
        )
    };
    let shown = |v: &Value| yaml_string(paint, v).trim_end_matches('\n').to_string();
    out.push_str(&paint.fg(&prefixed("- ", &shown(from)), REMOVAL));
    out.push_str(&paint.fg(&prefixed("+ ", &shown(to)), ADDITION));
    out
}

fn string_change(paint: &Paint, from: &str, to: &str) -> String {
    if from.contains('\n') || to.contains('\n') {
        let (mut inserts, mut deletions, mut body) = (0, 0, String::new());
        for (op, text) in line_diff(from, to) {
            match op {
                Op::Insert => {
                    inserts += 1;
                    body.push_str(&paint.fg(&continued("+ ", &text), ADDITION));
                }
                Op::Delete => {
                    deletions += 1;
                    body.push_str(&paint.fg(&continued("- ", &text), REMOVAL));
                }
                Op::Equal => {}
            }
        }
        let header = format!(
            "± value change in multiline text ({}, {})\n",
            plural(inserts, "insert", "inserts"),
            plural(deletions, "deletion", "deletions")
        );
        return paint.fg(&header, MODIFICATION) + &body + "\n";
    }
    let mut out = paint.fg("± value change\n", MODIFICATION);
    // Minor changes differ from the rest only in colour, unless the text holds escape sequences
    // (bunt reads them per highlighted part).
    let escapes = from.contains('\x1b') || to.contains('\x1b');
    if (paint.color || escapes) && is_minor(from, to) {
        let from: Vec<char> = from.chars().collect();
        let to: Vec<char> = to.chars().collect();
        let diffs = Dmp::default().diff(&from, &to);
        let highlight = |sign: &str, color: Rgb, light: Rgb, own: Op| {
            let mut line = paint.fg(sign, color);
            for chunk in &diffs {
                let text: String = chunk.text.iter().collect();
                if chunk.op == Op::Equal {
                    line.push_str(&paint.fg(&text, light));
                } else if chunk.op == own {
                    line.push_str(&paint.style(&paint.fg(&text, color), true, |s| s | BOLD));
                }
            }
            line + "\n"
        };
        out.push_str(&highlight("- ", REMOVAL, LIGHT_SALMON, Op::Delete));
        out.push_str(&highlight("+ ", ADDITION, LIGHT_GREEN, Op::Insert));
        return out;
    }
    out.push_str(&paint.fg(&prefixed("- ", from), REMOVAL));
    out.push_str(&paint.fg(&prefixed("+ ", to), ADDITION));
    out
}

/// dyff's `isMinorChange` at threshold 0.1: at most four single-character edits, or fewer edits
/// than a tenth of the shorter string's bytes (an edit being one insertion or deletion).
fn is_minor(from: &str, to: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (from.chars().collect(), to.chars().collect());
    if a.len().max(b.len()) > MAX_MINOR_LEN {
        return false;
    }
    let reference = from.len().min(to.len());
    let limit = 4.max(reference / 10 + 1);
    distance_within(&a, &b, limit).is_some_and(|d| d <= 4 || (d as f64) / (reference as f64) < 0.1)
}

/// The insertions plus deletions turning `a` into `b`, if at most `limit`: a dynamic program over
/// the diagonal band `|i - j| <= limit`, so `O(len * limit)`.
fn distance_within(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let inf = limit + 1;
    let width = 2 * limit + 1;
    // Cell k of row i is column j = i + k - limit.
    let mut prev: Vec<usize> = (0..width)
        .map(|k| match k.checked_sub(limit) {
            Some(j) if j <= b.len() => j,
            _ => inf,
        })
        .collect();
    let mut cur = vec![inf; width];
    for i in 1..=a.len() {
        for k in 0..width {
            cur[k] = match (i + k).checked_sub(limit) {
                Some(j) if j <= b.len() => {
                    let delete = prev.get(k + 1).map_or(inf, |d| d + 1);
                    let insert = if k > 0 && j > 0 { cur[k - 1] + 1 } else { inf };
                    let keep = if j > 0 && a[i - 1] == b[j - 1] {
                        prev[k]
                    } else {
                        inf
                    };
                    delete.min(insert).min(keep).min(inf)
                }
                _ => inf,
            };
        }
        if cur.iter().all(|&d| d == inf) {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len() + limit - a.len()];
    (d <= limit).then_some(d)
}

fn order(paint: &Paint, from: &[Item<'_>], to: &[Item<'_>]) -> String {
    let strings = |items: &[Item<'_>]| -> Vec<String> {
        items
            .iter()
            .map(|item| {
                let name = match item {
                    Item::Name(name) => Cow::Borrowed(name.as_ref()),
                    Item::Node(node) => text(node),
                };
                if name.is_empty() {
                    let node = match item {
                        Item::Name(_) => &EMPTY_STRING,
                        Item::Node(node) => *node,
                    };
                    yaml_string(paint, node)
                } else {
                    name.into_owned()
                }
            })
            .collect()
    };
    let (from, to) = (strings(from), strings(to));
    let length = |list: &[String]| {
        list.iter().map(|s| plain_len(s)).sum::<usize>() as isize + (list.len() as isize - 1) * 2
    };
    let mut out = paint.fg("⇆ order changed\n", MODIFICATION);
    if length(&from).max(length(&to)) < (WIDTH / 2) as isize {
        out.push_str(&paint.fg(&format!("- {}\n", from.join(", ")), REMOVAL));
        out.push_str(&paint.fg(&format!("+ {}\n", to.join(", ")), ADDITION));
    } else {
        out.push_str(&table(
            " ",
            2,
            &[
                paint.fg(&from.join("\n"), REMOVAL),
                paint.fg(&to.join("\n"), ADDITION),
            ],
        ));
    }
    out
}

/// dyff's `yamlString`: `<nil>` for null, else neat's YAML with bold keys and no colours.
fn yaml_string(paint: &Paint, value: &Value) -> String {
    if value.is_null() {
        return "<nil>".to_string();
    }
    let mut yaml = Yaml::new(paint, None, false);
    yaml.node("", false, value);
    yaml.out
}

/// dyff's `text.Plural`.
fn plural(n: usize, one: &str, many: &str) -> String {
    const WORDS: [&str; 13] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    let number = WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| (*w).to_string());
    format!("{number} {}", if n == 1 { one } else { many })
}

/// dyff's `createStringWithPrefix`: the prefix on the first line, its width on the others.
fn prefixed(prefix: &str, text: &str) -> String {
    let pad = " ".repeat(plain_len(prefix));
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        out.push_str(if i == 0 { prefix } else { &pad });
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// dyff's `createStringWithContinuousPrefix`: the prefix on every line.
fn continued(prefix: &str, text: &str) -> String {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let mut out = String::new();
    for line in text.split('\n') {
        out.push_str(prefix);
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// dyff's `writeTextBlocks` (indent 0): blocks side by side when they fit the terminal, else one
/// after the other.
fn write_blocks(out: &mut String, blocks: &[String]) {
    let widest = |block: &String| block.split('\n').map(plain_len).max().unwrap_or(0);
    let width = blocks.len().saturating_sub(1) * 3 + blocks.iter().map(widest).sum::<usize>();
    if width > WIDTH {
        for block in blocks {
            for line in block.split('\n') {
                out.push_str(line);
                out.push('\n');
            }
        }
    } else {
        out.push_str(&table("   ", 0, blocks));
    }
}

/// dyff's `CreateTableStyleString`: columns padded to their widest line, trailing blanks trimmed.
fn table(separator: &str, indent: usize, columns: &[String]) -> String {
    let lines: Vec<Vec<&str>> = columns.iter().map(|c| c.split('\n').collect()).collect();
    let widths: Vec<usize> = lines
        .iter()
        .map(|l| l.iter().map(|s| plain_len(s)).max().unwrap_or(0))
        .collect();
    let rows = lines.iter().map(Vec::len).max().unwrap_or(0);
    let pad = " ".repeat(indent);
    let mut out = String::new();
    for row in 0..rows {
        let cells: Vec<String> = lines
            .iter()
            .zip(&widths)
            .map(|(col, &width)| match col.get(row) {
                Some(line) => format!("{pad}{line}{}", " ".repeat(width - plain_len(line))),
                None => " ".repeat(width + indent),
            })
            .collect();
        out.push_str(cells.join(separator).trim_end_matches(' '));
        if row + 1 < rows {
            out.push('\n');
        }
    }
    out
}

// --- YAML as dyff shows it (gonvenience/neat) --------------------------------------------------

struct Yaml<'p> {
    paint: &'p Paint,
    schema: Option<&'static Schema>,
    /// Whether maps show in ytbx's `RestructureObject` order (added and removed content).
    restructure: bool,
    out: String,
}

impl<'p> Yaml<'p> {
    fn new(paint: &'p Paint, schema: Option<&'static Schema>, restructure: bool) -> Self {
        Yaml {
            paint,
            schema,
            restructure,
            out: String::new(),
        }
    }

    fn colorize(&self, pick: fn(&Schema) -> Rgb, text: &str) -> String {
        match self.schema {
            Some(schema) => self.paint.style(text, false, |s| with_fg(s, pick(schema))),
            None => text.to_string(),
        }
    }

    fn node(&mut self, prefix: &str, skip_first: bool, value: &Value) {
        match value {
            Value::Object(map) => {
                let entries: Vec<(&str, &Value)> =
                    map.iter().map(|(k, v)| (k.as_str(), v)).collect();
                let entries = if self.restructure {
                    restructured(&entries)
                } else {
                    entries
                };
                self.map(prefix, skip_first, &entries);
            }
            Value::Array(items) => self.seq(prefix, skip_first, items.iter()),
            _ => self.scalar(prefix, value),
        }
    }

    fn map(&mut self, prefix: &str, skip_first: bool, entries: &[(&str, &Value)]) {
        let inner = format!("{prefix}{}", self.colorize(|s| s.indent, "  "));
        for (i, (key, value)) in entries.iter().enumerate() {
            if !skip_first || i > 0 {
                self.out.push_str(prefix);
            }
            let key = self.colorize(|s| s.key, &format!("{key}:"));
            self.out
                .push_str(&self.paint.style(&key, false, |s| s | BOLD));
            match value {
                Value::Object(m) if m.is_empty() => self.empty("{}"),
                Value::Array(a) if a.is_empty() => self.empty("[]"),
                Value::Object(_) => {
                    self.out.push('\n');
                    self.node(&inner, false, value);
                }
                Value::Array(_) => {
                    self.out.push('\n');
                    self.node(prefix, false, value);
                }
                _ => {
                    self.out.push(' ');
                    self.scalar(&inner, value);
                }
            }
        }
    }

    fn empty(&mut self, text: &str) {
        self.out.push(' ');
        let text = self.colorize(|s| s.empty, text);
        self.out.push_str(&text);
        self.out.push('\n');
    }

    fn seq<'v>(&mut self, prefix: &str, skip_first: bool, items: impl Iterator<Item = &'v Value>) {
        let inner = format!("{prefix}{}", self.colorize(|s| s.indent, "  "));
        for (i, item) in items.enumerate() {
            if i > 0 || !skip_first {
                self.out.push_str(prefix);
            }
            // Both schemas give dashes the key colour.
            let dash = self.colorize(|s| s.key, "-");
            self.out.push_str(&dash);
            self.out.push(' ');
            self.node(&inner, true, item);
        }
    }

    fn scalar(&mut self, prefix: &str, value: &Value) {
        let text = text(value);
        if text.contains('\n') {
            let bar = self.colorize(|s| s.multiline, "|");
            self.out.push_str(&bar);
            for line in text.split('\n') {
                self.out.push('\n');
                self.out.push_str(prefix);
                let line = self.colorize(|s| s.multiline, line);
                self.out.push_str(&line);
            }
        } else {
            let pick: fn(&Schema) -> Rgb = if value.is_null() {
                |s| s.null
            } else {
                |s| s.scalar
            };
            let shown = if needs_quotes(value) {
                go_quote(&text)
            } else {
                text.into_owned()
            };
            let shown = self.colorize(pick, &shown);
            self.out.push_str(&shown);
        }
        self.out.push('\n');
    }
}

/// neat quotes strings that would read back as something else or hold YAML punctuation.
fn needs_quotes(value: &Value) -> bool {
    static NUMBER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(-|\+)?[0-9.e+]+$").expect("valid regex"));
    let Value::String(s) = value else {
        return false;
    };
    matches!(
        s.as_str(),
        "true" | "false" | "null" | ".nan" | ".inf" | "-.inf" | "+.inf"
    ) || s.starts_with('-')
        || NUMBER.is_match(s)
        || s.contains([' ', '*', '&', ':', ','])
}

/// Go's `strconv.Quote`. Printability follows Unicode's general categories as far as Rust exposes
/// them (unassigned code points are kept as they are).
fn go_quote(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if is_print(c) => out.push(c),
            c if u32::from(c) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// Go's `unicode.IsPrint`: no controls, no spaces but U+0020, no format or private-use characters.
fn is_print(c: char) -> bool {
    let u = u32::from(c);
    let format = matches!(
        u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E
            | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
            | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
    );
    let private = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    c == ' ' || !(c.is_control() || c.is_whitespace() || format || private)
}

/// Known key orders of ytbx's `RestructureObject`.
const KEY_ORDERS: [&[&str]; 13] = [
    &[
        "name",
        "director_uuid",
        "releases",
        "instance_groups",
        "networks",
        "resource_pools",
        "compilation",
    ],
    &["name", "url", "version", "sha1"],
    &["jobs", "resources", "resource_types"],
    &["name", "type", "source"],
    &["get"],
    &["put"],
    &["task"],
    &["releases", "instance_groups", "configuration", "variables"],
    &["auth", "templates"],
    &["apiVersion", "kind", "metadata", "spec", "status"],
    &["name"],
    &["key"],
    &["id"],
];

/// ytbx's `RestructureObject` for one map: the keys of the best matching known order first, the
/// others after them, shallow values before deep ones (sorted as Go's unstable `sort.Slice` does).
fn restructured<'v>(entries: &[(&'v str, &'v Value)]) -> Vec<(&'v str, &'v Value)> {
    let keys: HashSet<&str> = entries.iter().map(|e| e.0).collect();
    let mut best: Option<(&[&str], usize)> = None;
    for order in KEY_ORDERS {
        let hits = order.iter().filter(|k| keys.contains(*k)).count();
        if hits > 0 && best.is_none_or(|(_, most)| hits > most) {
            best = Some((order, hits));
        }
    }
    let Some((order, _)) = best else {
        return entries.to_vec();
    };
    let mut out: Vec<(&str, &Value)> = order
        .iter()
        .filter_map(|k| entries.iter().find(|e| e.0 == *k).copied())
        .collect();
    let mut rest: Vec<(&str, &Value, usize)> = entries
        .iter()
        .filter(|e| !order.contains(&e.0))
        .map(|&(k, v)| (k, v, max_depth(v, 0)))
        .collect();
    go_sort(&mut rest, |a, b| a.2 < b.2);
    out.extend(rest.into_iter().map(|(k, v, _)| (k, v)));
    out
}

/// ytbx's `maxDepth`: the longest path to a leaf, a named list entry counting two steps.
fn max_depth(value: &Value, depth: usize) -> usize {
    match value {
        Value::Object(map) => map
            .values()
            .map(|v| max_depth(v, depth + 1))
            .max()
            .unwrap_or(0),
        Value::Array(items) => match list_identifier(items) {
            Some(id) => items
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|m| m.iter().filter(|(k, _)| k.as_str() != id))
                .map(|(_, v)| max_depth(v, depth + 2))
                .max()
                .unwrap_or(0),
            None => items
                .iter()
                .map(|v| max_depth(v, depth + 1))
                .max()
                .unwrap_or(0),
        },
        _ => depth,
    }
}

/// ytbx's `GetIdentifierFromNamedList`: `name`, `key` or `id` when every entry has it.
fn list_identifier(items: &[Value]) -> Option<&'static str> {
    ["name", "key", "id"].into_iter().find(|id| {
        items
            .iter()
            .all(|e| e.as_object().is_some_and(|m| m.contains_key(*id)))
    })
}

// --- Colours (gonvenience/bunt) ----------------------------------------------------------------

const FG: u64 = 1;
const BOLD: u64 = 1 << 2;
const ITALIC: u64 = 1 << 3;
const UNDERLINE: u64 = 1 << 4;
const EMPHASIS: u64 = BOLD | ITALIC | UNDERLINE;

fn with_fg(settings: u64, Rgb(r, g, b): Rgb) -> u64 {
    (settings & 0xFFFF_FFFF_0000_00FF)
        | FG
        | (u64::from(r) << 8)
        | (u64::from(g) << 16)
        | (u64::from(b) << 24)
}

struct Paint {
    color: bool,
}

impl Paint {
    /// bunt's `Style`: reads `text`'s escape sequences, applies `apply` to every character (but
    /// newlines when `each_line`), and writes it back with the fewest escape sequences.
    fn style(&self, text: &str, each_line: bool, apply: impl Fn(u64) -> u64) -> String {
        let mut runes = parse_sgr_text(text);
        for (c, settings) in &mut runes {
            if !(each_line && *c == '\n') {
                *settings = apply(*settings);
            }
        }
        self.render(&runes)
    }

    fn fg(&self, text: &str, rgb: Rgb) -> String {
        self.style(text, true, |s| with_fg(s, rgb))
    }

    /// A text marked up with SGR `params`, as bunt renders its `*bold*`-style format annotations.
    fn marked(&self, text: &str, params: &str) -> String {
        if self.color {
            format!("\x1b[{params}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// bunt's `String.String`.
    fn render(&self, runes: &[(char, u64)]) -> String {
        let mut out = String::with_capacity(runes.len());
        let mut current = 0;
        for &(c, settings) in runes {
            if self.color && settings != current {
                let reset = current & EMPHASIS & !settings != 0;
                out.push_str(&sgr(settings, reset));
                current = settings;
            }
            out.push(c);
        }
        if self.color && current != 0 {
            out.push_str("\x1b[0m");
        }
        out
    }
}

/// bunt's `renderSGR` in 24-bit colour.
fn sgr(settings: u64, reset: bool) -> String {
    if settings == 0 {
        return "\x1b[0m".to_string();
    }
    let mut params: Vec<String> = Vec::new();
    if reset {
        params.push("0".into());
    }
    for (mask, code) in [(BOLD, "1"), (ITALIC, "3"), (UNDERLINE, "4")] {
        if settings & mask != 0 {
            params.push(code.into());
        }
    }
    let rgb = |shift: u32| {
        let c = |i: u32| ((settings >> (shift + 8 * i)) & 0xFF).to_string();
        format!("{};{};{}", c(0), c(1), c(2))
    };
    if settings & FG != 0 {
        params.push(format!("38;2;{}", rgb(8)));
    }
    if settings & 2 != 0 {
        params.push(format!("48;2;{}", rgb(32)));
    }
    format!("\x1b[{}m", params.join(";"))
}

/// bunt's `ParseString`: characters with the settings their escape sequences give them.
fn parse_sgr_text(text: &str) -> Vec<(char, u64)> {
    if !text.contains('\x1b') {
        return text.chars().map(|c| (c, 0)).collect();
    }
    static IGNORED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\x1b\[\?1h|\x1b=|\x1b>|\x1b\[K|\x1b\[\?.+[lh]|\x1b\]11;\?.")
            .expect("valid regex")
    });
    let text = text.replace("\x1b[m", "\x1b[0m");
    let text = IGNORED.replace_all(&text, "");
    let mut out = Vec::with_capacity(text.len());
    let mut current = 0;
    let mut rest: &str = &text;
    while let Some(at) = rest.find('\x1b') {
        out.extend(rest[..at].chars().map(|c| (c, current)));
        rest = &rest[at..];
        // bunt reads only well-formed parameter lists (`\d+(;\d+)*`).
        let params = |len: usize| rest[2..len - 1].split(';').all(|p| !p.is_empty());
        match sgr_len(rest).filter(|&len| params(len)) {
            Some(len) => {
                current = parse_params(&rest[2..len - 1]);
                rest = &rest[len..];
            }
            None => {
                out.push(('\x1b', current));
                rest = &rest[1..];
            }
        }
    }
    out.extend(rest.chars().map(|c| (c, current)));
    out
}

/// The length of the SGR sequence (`ESC [ digits and semicolons m`) `text` starts with.
fn sgr_len(text: &str) -> Option<usize> {
    let params = text.strip_prefix("\x1b[")?;
    let end = params.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
    (params[end..].starts_with('m')).then_some(end + 3)
}

/// The settings of one SGR sequence (bunt's `parseSelectGraphicRenditionEscapeSequence`, 24-bit
/// and basic colours).
fn parse_params(params: &str) -> u64 {
    let values: Vec<u8> = params
        .split(';')
        .map(|v| v.parse::<u64>().map_or(0, |n| n as u8))
        .collect();
    let rgb =
        |r: u8, g: u8, b: u8| (u64::from(r) << 8) | (u64::from(g) << 16) | (u64::from(b) << 24);
    const BASIC: [(u8, u8, u8); 8] = [
        (1, 1, 1),
        (222, 56, 43),
        (57, 181, 74),
        (255, 199, 6),
        (0, 111, 184),
        (118, 38, 113),
        (44, 181, 233),
        (204, 204, 204),
    ];
    const BRIGHT: [(u8, u8, u8); 8] = [
        (128, 128, 128),
        (255, 0, 0),
        (0, 255, 0),
        (255, 255, 0),
        (0, 0, 255),
        (255, 0, 255),
        (0, 255, 255),
        (255, 255, 255),
    ];
    let mut out = 0;
    let mut i = 0;
    while i < values.len() {
        match values[i] {
            1 => out |= BOLD,
            3 => out |= ITALIC,
            4 => out |= UNDERLINE,
            v @ (30..=37 | 90..=97 | 40..=47 | 100..=107) => {
                let (table, bg) = match v {
                    30..=37 => (BASIC[usize::from(v - 30)], false),
                    90..=97 => (BRIGHT[usize::from(v - 90)], false),
                    40..=47 => (BASIC[usize::from(v - 40)], true),
                    _ => (BRIGHT[usize::from(v - 100)], true),
                };
                let (r, g, b) = table;
                out |= if bg {
                    2 | (rgb(r, g, b) << 24)
                } else {
                    FG | rgb(r, g, b)
                };
            }
            v @ (38 | 48) if values.get(i + 1) == Some(&2) && i + 4 < values.len() => {
                let color = rgb(values[i + 2], values[i + 3], values[i + 4]);
                out |= if v == 38 {
                    FG | color
                } else {
                    2 | (color << 24)
                };
                i += 4;
            }
            v @ (38 | 48) if values.get(i + 1) == Some(&5) && i + 2 < values.len() => {
                let (r, g, b) = palette(values[i + 2]);
                let color = rgb(r, g, b);
                out |= if v == 38 {
                    FG | color
                } else {
                    2 | (color << 24)
                };
                i += 2;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// bunt's 8-bit colour palette.
fn palette(n: u8) -> (u8, u8, u8) {
    const SYSTEM: [(u8, u8, u8); 16] = [
        (0, 0, 0),
        (170, 0, 0),
        (0, 170, 0),
        (229, 229, 16),
        (0, 0, 170),
        (170, 0, 170),
        (0, 170, 170),
        (229, 229, 229),
        (85, 85, 85),
        (255, 85, 85),
        (85, 255, 85),
        (255, 255, 85),
        (85, 85, 255),
        (255, 85, 255),
        (85, 255, 255),
        (255, 255, 255),
    ];
    match n {
        0..=15 => SYSTEM[usize::from(n)],
        16..=231 => {
            let c = n - 16;
            (c / 36 * 51, c / 6 % 6 * 51, c % 6 * 51)
        }
        _ => {
            let gray = (f32::from(n - 232) * (255.0f32 / 23.0)) as u8;
            (gray, gray, gray)
        }
    }
}

/// Characters of `text` outside escape sequences (bunt's `PlainTextLength`).
fn plain_len(text: &str) -> usize {
    let mut count = 0;
    let mut rest = text;
    while let Some(at) = rest.find('\x1b') {
        count += rest[..at].chars().count();
        rest = &rest[at..];
        let skip = sgr_len(rest).unwrap_or_else(|| {
            count += 1;
            1
        });
        rest = &rest[skip..];
    }
    count + rest.chars().count()
}

// --- Text diffs (sergi/go-diff's diff-match-patch) ---------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Delete,
    Insert,
    Equal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk<T> {
    op: Op,
    text: Vec<T>,
}

fn chunk<T: Copy>(op: Op, text: &[T]) -> Chunk<T> {
    Chunk {
        op,
        text: text.to_vec(),
    }
}

/// The line-mode diff dyff shows multi-line strings with: every line is one symbol.
fn line_diff<'t>(from: &'t str, to: &'t str) -> Vec<(Op, String)> {
    let mut ids: HashMap<&'t str, u32> = HashMap::new();
    let mut lines: Vec<&'t str> = Vec::new();
    let mut encode = |text: &'t str| -> Vec<u32> {
        text.split_inclusive('\n')
            .map(|line| {
                *ids.entry(line).or_insert_with(|| {
                    lines.push(line);
                    (lines.len() - 1) as u32
                })
            })
            .collect()
    };
    let (a, b) = (encode(from), encode(to));
    Dmp::default()
        .diff(&a, &b)
        .into_iter()
        .map(|c| (c.op, c.text.iter().map(|&id| lines[id as usize]).collect()))
        .collect()
}

/// diff-match-patch's `DiffMain` without line mode, over any symbols.
struct Dmp {
    budget: u64,
}

impl Default for Dmp {
    fn default() -> Self {
        Dmp {
            budget: DIFF_BUDGET,
        }
    }
}

impl Dmp {
    fn spend(&mut self, steps: usize) -> bool {
        self.budget = self.budget.saturating_sub(steps as u64);
        self.budget > 0
    }

    fn diff<T: Copy + Eq>(&mut self, a: &[T], b: &[T]) -> Vec<Chunk<T>> {
        if a == b {
            return if a.is_empty() {
                Vec::new()
            } else {
                vec![chunk(Op::Equal, a)]
            };
        }
        let prefix = common_prefix(a, b);
        let (a_rest, b_rest) = (&a[prefix..], &b[prefix..]);
        let suffix = common_suffix(a_rest, b_rest);
        let (a_mid, b_mid) = (
            &a_rest[..a_rest.len() - suffix],
            &b_rest[..b_rest.len() - suffix],
        );
        let mut diffs = Vec::new();
        if prefix > 0 {
            diffs.push(chunk(Op::Equal, &a[..prefix]));
        }
        diffs.extend(self.compute(a_mid, b_mid));
        if suffix > 0 {
            diffs.push(chunk(Op::Equal, &a_rest[a_rest.len() - suffix..]));
        }
        cleanup_merge(diffs)
    }

    fn compute<T: Copy + Eq>(&mut self, a: &[T], b: &[T]) -> Vec<Chunk<T>> {
        if a.is_empty() {
            return vec![chunk(Op::Insert, b)];
        }
        if b.is_empty() {
            return vec![chunk(Op::Delete, a)];
        }
        let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
        if let Some(i) = self.find(long, short, 0) {
            let op = if a.len() > b.len() {
                Op::Delete
            } else {
                Op::Insert
            };
            return vec![
                chunk(op, &long[..i]),
                chunk(Op::Equal, short),
                chunk(op, &long[i + short.len()..]),
            ];
        }
        if short.len() == 1 {
            return vec![chunk(Op::Delete, a), chunk(Op::Insert, b)];
        }
        if let Some([a1, a2, b1, b2, common]) = self.half_match(a, b) {
            let mut diffs = self.diff(&a1, &b1);
            diffs.push(Chunk {
                op: Op::Equal,
                text: common,
            });
            diffs.extend(self.diff(&a2, &b2));
            return diffs;
        }
        self.bisect(a, b)
    }

    /// The first index at or after `from` where `needle` occurs in `hay`, searched naively; `None`
    /// also once the budget is spent.
    fn find<T: Eq>(&mut self, hay: &[T], needle: &[T], from: usize) -> Option<usize> {
        let last = hay.len().checked_sub(needle.len())?;
        for i in from..=last {
            let matched = common_prefix(&hay[i..], needle);
            if !self.spend(matched + 1) {
                return None;
            }
            if matched == needle.len() {
                return Some(i);
            }
        }
        None
    }

    /// Splits the problem at a common run at least half as long as the longer side, if any:
    /// `[a prefix, a suffix, b prefix, b suffix, common]`.
    fn half_match<T: Copy + Eq>(&mut self, a: &[T], b: &[T]) -> Option<[Vec<T>; 5]> {
        let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
        if long.len() < 4 || short.len() * 2 < long.len() {
            return None;
        }
        let first = self.half_match_at(long, short, long.len().div_ceil(4));
        let second = self.half_match_at(long, short, long.len().div_ceil(2));
        let [l1, l2, s1, s2, common] = match (first, second) {
            (None, None) => return None,
            (Some(h), None) | (None, Some(h)) => h,
            (Some(h1), Some(h2)) => {
                if h1[4].len() > h2[4].len() {
                    h1
                } else {
                    h2
                }
            }
        };
        Some(if a.len() > b.len() {
            [l1, l2, s1, s2, common]
        } else {
            [s1, s2, l1, l2, common]
        })
    }

    fn half_match_at<T: Copy + Eq>(
        &mut self,
        long: &[T],
        short: &[T],
        i: usize,
    ) -> Option<[Vec<T>; 5]> {
        if !self.spend(0) {
            return None;
        }
        let seed = &long[i..i + long.len() / 4];
        let mut best: Option<(usize, usize, usize, usize)> = None;
        let mut best_len = 0;
        let mut j = self.find(short, seed, 0);
        while let Some(at) = j {
            let prefix = common_prefix(&long[i..], &short[at..]);
            let suffix = common_suffix(&long[..i], &short[..at]);
            self.spend(prefix + suffix);
            if best_len < prefix + suffix {
                best_len = prefix + suffix;
                best = Some((at, prefix, suffix, i));
            }
            j = self.find(short, seed, at + 1);
        }
        let (at, prefix, suffix, i) = best?;
        if best_len * 2 < long.len() {
            return None;
        }
        Some([
            long[..i - suffix].to_vec(),
            long[i + prefix..].to_vec(),
            short[..at - suffix].to_vec(),
            short[at + prefix..].to_vec(),
            short[at - suffix..at + prefix].to_vec(),
        ])
    }

    /// Myers' middle snake, split and recursed; all deleted and inserted once the budget is spent
    /// (where diff-match-patch stops at its deadline).
    fn bisect<T: Copy + Eq>(&mut self, a: &[T], b: &[T]) -> Vec<Chunk<T>> {
        let (n, m) = (a.len() as isize, b.len() as isize);
        let max_d = (n + m + 1) / 2;
        let offset = max_d;
        let len = 2 * max_d;
        let mut v1 = vec![-1isize; len as usize];
        let mut v2 = vec![-1isize; len as usize];
        v1[(offset + 1) as usize] = 0;
        v2[(offset + 1) as usize] = 0;
        let delta = n - m;
        let front = delta % 2 != 0;
        let (mut k1start, mut k1end, mut k2start, mut k2end) = (0, 0, 0, 0);
        for d in 0..max_d {
            if d % 16 == 0 && !self.spend(0) {
                break;
            }
            let mut k1 = -d + k1start;
            while k1 <= d - k1end {
                let k1_off = (offset + k1) as usize;
                let mut x1 = if k1 == -d || (k1 != d && v1[k1_off - 1] < v1[k1_off + 1]) {
                    v1[k1_off + 1]
                } else {
                    v1[k1_off - 1] + 1
                };
                let mut y1 = x1 - k1;
                let start = x1;
                while x1 < n && y1 < m && a[x1 as usize] == b[y1 as usize] {
                    x1 += 1;
                    y1 += 1;
                }
                self.spend((x1 - start) as usize + 1);
                v1[k1_off] = x1;
                if x1 > n {
                    k1end += 2;
                } else if y1 > m {
                    k1start += 2;
                } else if front {
                    let k2_off = offset + delta - k1;
                    if k2_off >= 0 && k2_off < len && v2[k2_off as usize] != -1 {
                        let x2 = n - v2[k2_off as usize];
                        if x1 >= x2 {
                            return self.split(a, b, x1 as usize, y1 as usize);
                        }
                    }
                }
                k1 += 2;
            }
            let mut k2 = -d + k2start;
            while k2 <= d - k2end {
                let k2_off = (offset + k2) as usize;
                let mut x2 = if k2 == -d || (k2 != d && v2[k2_off - 1] < v2[k2_off + 1]) {
                    v2[k2_off + 1]
                } else {
                    v2[k2_off - 1] + 1
                };
                let mut y2 = x2 - k2;
                let start = x2;
                while x2 < n && y2 < m && a[(n - x2 - 1) as usize] == b[(m - y2 - 1) as usize] {
                    x2 += 1;
                    y2 += 1;
                }
                self.spend((x2 - start) as usize + 1);
                v2[k2_off] = x2;
                if x2 > n {
                    k2end += 2;
                } else if y2 > m {
                    k2start += 2;
                } else if !front {
                    let k1_off = offset + delta - k2;
                    if k1_off >= 0 && k1_off < len && v1[k1_off as usize] != -1 {
                        let x1 = v1[k1_off as usize];
                        let y1 = offset + x1 - k1_off;
                        if x1 >= n - x2 {
                            return self.split(a, b, x1 as usize, y1 as usize);
                        }
                    }
                }
                k2 += 2;
            }
        }
        vec![chunk(Op::Delete, a), chunk(Op::Insert, b)]
    }

    fn split<T: Copy + Eq>(&mut self, a: &[T], b: &[T], x: usize, y: usize) -> Vec<Chunk<T>> {
        let mut diffs = self.diff(&a[..x], &b[..y]);
        diffs.extend(self.diff(&a[x..], &b[y..]));
        diffs
    }
}

fn common_prefix<T: Eq>(a: &[T], b: &[T]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn common_suffix<T: Eq>(a: &[T], b: &[T]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// diff-match-patch's `DiffCleanupMerge`: merges neighbours of a kind, factors common affixes
/// out of delete/insert pairs, and shifts single edits sideways to drop equalities, until nothing
/// shifts. Each pass streams instead of splicing in place, so it stays linear.
fn cleanup_merge<T: Copy + Eq>(mut diffs: Vec<Chunk<T>>) -> Vec<Chunk<T>> {
    loop {
        let (merged, shifted) = shift_edits(merge_runs(diffs));
        if !shifted {
            return merged;
        }
        diffs = merged;
    }
}

/// The first pass: each run of edits between equalities becomes one delete and one insert, with
/// their common prefix moved into the equality before and their common suffix into the one after.
fn merge_runs<T: Copy + Eq>(diffs: Vec<Chunk<T>>) -> Vec<Chunk<T>> {
    let mut out: Vec<Chunk<T>> = Vec::with_capacity(diffs.len() + 1);
    let (mut deletes, mut inserts) = (0, 0);
    let (mut deleted, mut inserted): (Vec<T>, Vec<T>) = (Vec::new(), Vec::new());
    for mut c in diffs.into_iter().chain([chunk(Op::Equal, &[])]) {
        match c.op {
            Op::Insert => {
                inserts += 1;
                inserted.append(&mut c.text);
            }
            Op::Delete => {
                deletes += 1;
                deleted.append(&mut c.text);
            }
            Op::Equal => {
                if deletes > 0 && inserts > 0 && deletes + inserts > 1 {
                    let common = common_prefix(&inserted, &deleted);
                    if common > 0 {
                        match out.last_mut() {
                            Some(last) if last.op == Op::Equal => {
                                last.text.extend_from_slice(&inserted[..common]);
                            }
                            _ => out.push(chunk(Op::Equal, &inserted[..common])),
                        }
                        inserted.drain(..common);
                        deleted.drain(..common);
                    }
                    let common = common_suffix(&inserted, &deleted);
                    if common > 0 {
                        let mut text = inserted.split_off(inserted.len() - common);
                        deleted.truncate(deleted.len() - common);
                        text.append(&mut c.text);
                        c.text = text;
                    }
                }
                if deletes > 0 {
                    out.push(Chunk {
                        op: Op::Delete,
                        text: std::mem::take(&mut deleted),
                    });
                }
                if inserts > 0 {
                    out.push(Chunk {
                        op: Op::Insert,
                        text: std::mem::take(&mut inserted),
                    });
                }
                match out.last_mut() {
                    Some(last) if deletes + inserts == 0 && last.op == Op::Equal => {
                        last.text.append(&mut c.text);
                    }
                    _ => out.push(c),
                }
                deletes = 0;
                inserts = 0;
            }
        }
    }
    if out.last().is_some_and(|d| d.text.is_empty()) {
        out.pop();
    }
    out
}

/// The second pass: a single edit between two equalities slides over one of them when it ends
/// with the one before (`A<ins>BA</ins>C` becomes `<ins>AB</ins>AC`) or starts with the one after.
fn shift_edits<T: Copy + Eq>(diffs: Vec<Chunk<T>>) -> (Vec<Chunk<T>>, bool) {
    let mut rest: std::collections::VecDeque<Chunk<T>> = diffs.into();
    let mut out: Vec<Chunk<T>> = rest.pop_front().into_iter().collect();
    let Some(mut cur) = rest.pop_front() else {
        return (out, false);
    };
    let mut shifted = false;
    while let Some(next) = rest.front_mut() {
        let prev = out.last_mut().filter(|p| p.op == Op::Equal);
        match prev {
            Some(prev) if next.op == Op::Equal && cur.text.ends_with(&prev.text) => {
                let prev = out.pop().map(|p| p.text).unwrap_or_default();
                let mut text = prev.clone();
                text.extend_from_slice(&cur.text[..cur.text.len() - prev.len()]);
                cur.text = text;
                let mut text = prev;
                text.extend_from_slice(&next.text);
                next.text = text;
                out.push(cur);
                out.extend(rest.pop_front());
                shifted = true;
            }
            Some(prev) if next.op == Op::Equal && cur.text.starts_with(&next.text) => {
                let next = rest.pop_front().map(|n| n.text).unwrap_or_default();
                prev.text.extend_from_slice(&next);
                let mut text = cur.text.split_off(next.len());
                text.extend_from_slice(&next);
                cur.text = text;
                out.push(cur);
                shifted = true;
            }
            _ => out.push(cur),
        }
        match rest.pop_front() {
            Some(c) => cur = c,
            None => return (out, shifted),
        }
    }
    out.push(cur);
    (out, shifted)
}

// --- Go's sort.Slice (pattern-defeating quicksort) ---------------------------------------------

/// Go's `sort.Slice`, so that equal elements end up where Go's unstable sort puts them.
fn go_sort<T>(items: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = items.len();
    let limit = (usize::BITS - n.leading_zeros()) as usize;
    let mut sorter = Pdq { items, less };
    sorter.pdqsort(0, n, limit);
}

struct Pdq<'s, T, F> {
    items: &'s mut [T],
    less: F,
}

impl<T, F: Fn(&T, &T) -> bool> Pdq<'_, T, F> {
    fn less(&self, i: usize, j: usize) -> bool {
        (self.less)(&self.items[i], &self.items[j])
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.items.swap(i, j);
    }

    fn pdqsort(&mut self, mut a: usize, mut b: usize, mut limit: usize) {
        const MAX_INSERTION: usize = 12;
        let (mut was_balanced, mut was_partitioned) = (true, true);
        loop {
            let length = b - a;
            if length <= MAX_INSERTION {
                self.insertion_sort(a, b);
                return;
            }
            if limit == 0 {
                self.heap_sort(a, b);
                return;
            }
            if !was_balanced {
                self.break_patterns(a, b);
                limit -= 1;
            }
            let (mut pivot, mut hint) = self.choose_pivot(a, b);
            if hint == Hint::Decreasing {
                self.reverse(a, b);
                pivot = (b - 1) - (pivot - a);
                hint = Hint::Increasing;
            }
            if was_balanced
                && was_partitioned
                && hint == Hint::Increasing
                && self.partial_insertion_sort(a, b)
            {
                return;
            }
            if a > 0 && !self.less(a - 1, pivot) {
                a = self.partition_equal(a, b, pivot);
                continue;
            }
            let (mid, already) = self.partition(a, b, pivot);
            was_partitioned = already;
            let (left, right) = (mid - a, b - mid);
            let threshold = length / 8;
            if left < right {
                was_balanced = left >= threshold;
                self.pdqsort(a, mid, limit);
                a = mid + 1;
            } else {
                was_balanced = right >= threshold;
                self.pdqsort(mid + 1, b, limit);
                b = mid;
            }
        }
    }

    fn insertion_sort(&mut self, a: usize, b: usize) {
        for i in a + 1..b {
            let mut j = i;
            while j > a && self.less(j, j - 1) {
                self.swap(j, j - 1);
                j -= 1;
            }
        }
    }

    fn sift_down(&mut self, lo: usize, hi: usize, first: usize) {
        let mut root = lo;
        loop {
            let mut child = 2 * root + 1;
            if child >= hi {
                return;
            }
            if child + 1 < hi && self.less(first + child, first + child + 1) {
                child += 1;
            }
            if !self.less(first + root, first + child) {
                return;
            }
            self.swap(first + root, first + child);
            root = child;
        }
    }

    fn heap_sort(&mut self, a: usize, b: usize) {
        let (first, hi) = (a, b - a);
        for i in (0..=(hi - 1) / 2).rev() {
            self.sift_down(i, hi, first);
        }
        for i in (0..hi).rev() {
            self.swap(first, first + i);
            self.sift_down(0, i, first);
        }
    }

    fn partition(&mut self, a: usize, b: usize, pivot: usize) -> (usize, bool) {
        self.swap(a, pivot);
        let (mut i, mut j) = (a + 1, b - 1);
        while i <= j && self.less(i, a) {
            i += 1;
        }
        while i <= j && !self.less(j, a) {
            j -= 1;
        }
        if i > j {
            self.swap(j, a);
            return (j, true);
        }
        self.swap(i, j);
        i += 1;
        j -= 1;
        loop {
            while i <= j && self.less(i, a) {
                i += 1;
            }
            while i <= j && !self.less(j, a) {
                j -= 1;
            }
            if i > j {
                break;
            }
            self.swap(i, j);
            i += 1;
            j -= 1;
        }
        self.swap(j, a);
        (j, false)
    }

    fn partition_equal(&mut self, a: usize, b: usize, pivot: usize) -> usize {
        self.swap(a, pivot);
        let (mut i, mut j) = (a + 1, b - 1);
        loop {
            while i <= j && !self.less(a, i) {
                i += 1;
            }
            while i <= j && self.less(a, j) {
                j -= 1;
            }
            if i > j {
                return i;
            }
            self.swap(i, j);
            i += 1;
            j -= 1;
        }
    }

    fn partial_insertion_sort(&mut self, a: usize, b: usize) -> bool {
        const MAX_STEPS: usize = 5;
        const SHORTEST_SHIFTING: usize = 50;
        let mut i = a + 1;
        for _ in 0..MAX_STEPS {
            while i < b && !self.less(i, i - 1) {
                i += 1;
            }
            if i == b {
                return true;
            }
            if b - a < SHORTEST_SHIFTING {
                return false;
            }
            self.swap(i, i - 1);
            if i - a >= 2 {
                let mut j = i - 1;
                while j >= 1 && self.less(j, j - 1) {
                    self.swap(j, j - 1);
                    j -= 1;
                }
            }
            if b - i >= 2 {
                let mut j = i + 1;
                while j < b && self.less(j, j - 1) {
                    self.swap(j, j - 1);
                    j += 1;
                }
            }
        }
        false
    }

    fn break_patterns(&mut self, a: usize, b: usize) {
        let length = b - a;
        if length >= 8 {
            let mut random = length as u64;
            let modulus = 1usize << (usize::BITS - length.leading_zeros());
            for idx in a + (length / 4) * 2 - 1..=a + (length / 4) * 2 + 1 {
                random ^= random << 13;
                random ^= random >> 7;
                random ^= random << 17;
                let mut other = (random as usize) & (modulus - 1);
                if other >= length {
                    other -= length;
                }
                self.swap(idx, a + other);
            }
        }
    }

    fn choose_pivot(&mut self, a: usize, b: usize) -> (usize, Hint) {
        const SHORTEST_NINTHER: usize = 50;
        const MAX_SWAPS: usize = 4 * 3;
        let l = b - a;
        let mut swaps = 0;
        let (mut i, mut j, mut k) = (a + l / 4, a + l / 4 * 2, a + l / 4 * 3);
        if l >= 8 {
            if l >= SHORTEST_NINTHER {
                i = self.median(i - 1, i, i + 1, &mut swaps);
                j = self.median(j - 1, j, j + 1, &mut swaps);
                k = self.median(k - 1, k, k + 1, &mut swaps);
            }
            j = self.median(i, j, k, &mut swaps);
        }
        match swaps {
            0 => (j, Hint::Increasing),
            MAX_SWAPS => (j, Hint::Decreasing),
            _ => (j, Hint::Unknown),
        }
    }

    fn order2(&self, a: usize, b: usize, swaps: &mut usize) -> (usize, usize) {
        if self.less(b, a) {
            *swaps += 1;
            (b, a)
        } else {
            (a, b)
        }
    }

    fn median(&self, a: usize, b: usize, c: usize, swaps: &mut usize) -> usize {
        let (a, b) = self.order2(a, b, swaps);
        let (b, _) = self.order2(b, c, swaps);
        let (_, b) = self.order2(a, b, swaps);
        b
    }

    fn reverse(&mut self, a: usize, b: usize) {
        let (mut i, mut j) = (a, b - 1);
        while i < j {
            self.swap(i, j);
            i += 1;
            j -= 1;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    Unknown,
    Increasing,
    Decreasing,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn subject<'a>(change: &'a str, old: Option<&'a Value>, new: Option<&'a Value>) -> Subject<'a> {
        Subject {
            key: "",
            change,
            kind: "",
            suppressed: false,
            old,
            new,
        }
    }

    fn modify<'a>(old: &'a Value, new: &'a Value) -> Subject<'a> {
        subject("MODIFY", Some(old), Some(new))
    }

    fn deployment(replicas: u64, labels: Value, containers: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": labels},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": containers}}}
        })
    }

    fn simple(replicas: u64, image: &str) -> Value {
        deployment(
            replicas,
            json!({"app": "web"}),
            json!([{"name": "app", "image": image}]),
        )
    }

    fn config_map(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "prod"}, "data": data})
    }

    // Expected outputs below are dyff v1.12's, run the way helm-diff runs it.

    #[test]
    fn scalar_value_change() {
        let (old, new) = (simple(2, "nginx"), simple(3, "nginx"));
        assert_eq!(
            render(&[modify(&old, &new)], false),
            "\nspec.replicas\n± value change\n- 2\n+ 3\n\n"
        );
        assert_eq!(
            render(&[modify(&old, &new)], true),
            "\n\x1b[1mspec\x1b[0m.\x1b[1mreplicas\x1b[0m\n\x1b[38;2;199;196;63m± value change\
             \x1b[0m\n\x1b[38;2;185;49;27m- 2\x1b[0m\n\x1b[38;2;88;191;56m+ 3\x1b[0m\n\n"
        );
    }

    #[test]
    fn map_entries_added_and_removed_side_by_side() {
        let old = deployment(2, json!({"app": "web", "tier": "front"}), json!([]));
        let new = deployment(2, json!({"app": "web", "team": "core"}), json!([]));
        let (old_cm, new_cm) = (
            config_map("cfg", json!({"a": "1"})),
            config_map("cfg", json!({"a": "2"})),
        );
        assert_eq!(
            render(&[modify(&old, &new), modify(&old_cm, &new_cm)], false),
            "\nmetadata.labels  (apps/v1/Deployment/web)\n\
             - one map entry removed:   + one map entry added:\n\
             tier: front                team: core\n\n\
             data.a  (v1/ConfigMap/prod/cfg)\n± value change\n- 1\n+ 2\n\n"
        );
    }

    #[test]
    fn entries_of_a_named_list() {
        let old = deployment(
            1,
            json!({"app": "web"}),
            json!([{"name": "app", "image": "a:1"}, {"name": "sidecar", "image": "s:1"}]),
        );
        let new = deployment(
            1,
            json!({"app": "web"}),
            json!([{"name": "app", "image": "a:2"},
                   {"name": "proxy", "image": "p:1", "ports": [{"containerPort": 8080}]}]),
        );
        assert_eq!(
            render(&[modify(&old, &new)], false),
            "\nspec.template.spec.containers\n\
             - one list entry removed:   + one list entry added:\n\
             - name: sidecar             - name: proxy\n\
             \x20 image: \"s:1\"                image: \"p:1\"\n\
             \x20                             ports:\n\
             \x20                             - containerPort: 8080\n\n\
             spec.template.spec.containers.app.image\n± value change\n- a:1\n+ a:2\n\n"
        );
        // Colours: padding counts visible characters only; minor changes are highlighted.
        assert_eq!(
            render(&[modify(&old, &new)], true),
            "\n\x1b[1mspec\x1b[0m.\x1b[1mtemplate\x1b[0m.\x1b[1mspec\x1b[0m.\x1b[1mcontainers\x1b[0m\n\
             \x1b[38;2;199;196;63m- one list entry removed:\x1b[0m   \
             \x1b[38;2;199;196;63m+ one list entry added:\x1b[0m\n\
             \x1b[38;2;178;34;34m-\x1b[0m \x1b[1;38;2;178;34;34mname:\x1b[0m \
             \x1b[38;2;240;128;128msidecar\x1b[0m             \x1b[38;2;0;128;0m-\x1b[0m \
             \x1b[1;38;2;0;128;0mname:\x1b[0m \x1b[38;2;50;205;50mproxy\x1b[0m\n\
             \x1b[38;2;51;0;0m  \x1b[0m\x1b[1;38;2;178;34;34mimage:\x1b[0m \
             \x1b[38;2;240;128;128m\"s:1\"\x1b[0m              \x1b[38;2;0;51;0m  \x1b[0m\
             \x1b[1;38;2;0;128;0mimage:\x1b[0m \x1b[38;2;50;205;50m\"p:1\"\x1b[0m\n\
             \x20                           \x1b[38;2;0;51;0m  \x1b[0m\x1b[1;38;2;0;128;0mports:\x1b[0m\n\
             \x20                           \x1b[38;2;0;51;0m  \x1b[0m\x1b[38;2;0;128;0m-\x1b[0m \
             \x1b[1;38;2;0;128;0mcontainerPort:\x1b[0m \x1b[38;2;50;205;50m8080\x1b[0m\n\n\
             \x1b[1mspec\x1b[0m.\x1b[1mtemplate\x1b[0m.\x1b[1mspec\x1b[0m.\x1b[1mcontainers\x1b[0m.\
             \x1b[1;3mapp\x1b[0m.\x1b[1mimage\x1b[0m\n\x1b[38;2;199;196;63m± value change\x1b[0m\n\
             \x1b[38;2;185;49;27m- \x1b[0m\x1b[38;2;255;160;122ma:\x1b[0m\x1b[1;38;2;185;49;27m1\x1b[0m\n\
             \x1b[38;2;88;191;56m+ \x1b[0m\x1b[38;2;144;238;144ma:\x1b[0m\x1b[1;38;2;88;191;56m2\x1b[0m\n\n"
        );
    }

    #[test]
    fn whole_documents_added_and_removed() {
        let (kept_old, kept_new) = (
            config_map("kept", json!({"a": "1"})),
            config_map("kept", json!({"a": "1", "b": "2"})),
        );
        let old = config_map("old", json!({"x": "y"}));
        // Keys out of order: dyff shows Kubernetes keys first, deep values last.
        let new = json!({"spec": {"ports": [{"port": 80}]}, "kind": "Service",
                         "metadata": {"name": "new", "labels": {"app": "new"}},
                         "apiVersion": "v1", "status": {}});
        let subjects = [
            modify(&kept_old, &kept_new),
            subject("REMOVE", Some(&old), None),
            subject("ADD", None, Some(&new)),
        ];
        assert_eq!(
            render(&subjects, false),
            "\ndata  (v1/ConfigMap/prod/kept)\n+ one map entry added:\nb: \"2\"\n\n\
             (root level)  (v1/ConfigMap/prod/old)\n- one document removed:\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n  namespace: prod\n\
             data:\n  x: y\n\n\
             (root level)  (v1/Service/new)\n+ one document added:\n\
             apiVersion: v1\nkind: Service\nmetadata:\n  name: new\n  labels:\n    app: new\n\
             spec:\n  ports:\n  - port: 80\nstatus: {}\n\n\
             (file level)\n⇆ order changed\n\
             \x20 v1/ConfigMap/prod/kept   v1/ConfigMap/prod/kept\n\
             \x20 v1/ConfigMap/prod/old    v1/Service/new\n"
        );
    }

    #[test]
    fn type_changes_and_simple_lists() {
        let old = config_map("c", json!({"a": "text", "b": [1, 2]}));
        let new = config_map("c", json!({"a": {"nested": true}, "b": [1, 2, 3]}));
        assert_eq!(
            render(&[modify(&old, &new)], false),
            "\ndata.a\n± type change from string to map\n- text\n+ nested: true\n\n\
             data.b\n+ one list entry added:\n- 3\n\n"
        );
        assert!(render(&[modify(&old, &new)], true).starts_with(
            "\n\x1b[1mdata\x1b[0m.\x1b[1ma\x1b[0m\n\x1b[38;2;199;196;63m± type change from \
             \x1b[3;38;2;199;196;63mstring\x1b[0;38;2;199;196;63m to \x1b[3;38;2;199;196;63mmap\
             \x1b[0m\n\x1b[38;2;185;49;27m- text\x1b[0m\n\x1b[38;2;88;191;56m+ \
             \x1b[1;38;2;88;191;56mnested:\x1b[0;38;2;88;191;56m true\x1b[0m\n"
        ));
    }

    #[test]
    fn multiline_strings_are_diffed_by_line() {
        let old = config_map(
            "c",
            json!({"app.conf": "listen 80\nroot /srv\nindex index.html\n"}),
        );
        let new = config_map(
            "c",
            json!({"app.conf": "listen 8080\nroot /srv\nindex index.html\ngzip on\n"}),
        );
        assert_eq!(
            render(&[modify(&old, &new)], false),
            "\ndata.app.conf\n± value change in multiline text (two inserts, one deletion)\n\
             - listen 80\n+ listen 8080\n+ gzip on\n\n\n"
        );
    }

    #[test]
    fn whitespace_only_changes_are_ignored() {
        let old = config_map("c", json!({"a": "x\n"}));
        let new = config_map("c", json!({"a": "  x"}));
        assert_eq!(render(&[modify(&old, &new)], false), "\n");
    }

    #[test]
    fn objects_without_a_name_are_compared_by_position() {
        let job = |limit: u64| {
            json!({"apiVersion": "batch/v1", "kind": "Job",
                   "metadata": {"generateName": "migrate-"}, "spec": {"backoffLimit": limit}})
        };
        let (old, new) = (job(1), job(2));
        let added = config_map("x", json!({"k": "v"}));
        assert_eq!(
            render(
                &[modify(&old, &new), subject("ADD", None, Some(&added))],
                false
            ),
            "\nspec.backoffLimit  (document #1)\n± value change\n- 1\n+ 2\n\n\
             (root level)  (document #2)\n± type change from <nil> to map\n- <nil>\n\
             + apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n    namespace: prod\n\
             \x20 data:\n    k: v\n\n"
        );
    }

    #[test]
    fn wide_blocks_are_stacked() {
        let old = config_map("w", json!({"first": "a".repeat(50)}));
        let new = config_map("w", json!({"second": "b".repeat(50)}));
        assert_eq!(
            render(&[modify(&old, &new)], false),
            format!(
                "\ndata\n- one map entry removed:\nfirst: {}\n\n+ one map entry added:\nsecond: {}\n\n\n",
                "a".repeat(50),
                "b".repeat(50)
            )
        );
    }

    #[test]
    fn nothing_to_report() {
        let (same, changed) = (simple(1, "nginx"), simple(2, "nginx"));
        let ownership = subject("OWNERSHIP", Some(&same), None);
        let suppressed = subject("MODIFY_SUPPRESSED", Some(&same), Some(&changed));
        assert_eq!(render(&[], false), "\n");
        assert_eq!(
            render(&[ownership, suppressed, modify(&same, &same)], true),
            "\n"
        );
    }

    #[test]
    fn strings_are_quoted_as_go_quotes_them() {
        assert_eq!(
            go_quote("a\u{1}\t\"\\\u{a0}\u{200b}é\u{e000}\u{7f}"),
            "\"a\\x01\\t\\\"\\\\\\u00a0\\u200bé\\ue000\\x7f\""
        );
        for (s, quoted) in [
            ("demo:v1", true),
            ("-x", true),
            ("1.5e3", true),
            ("true", true),
            ("yes", false),
            ("a", false),
        ] {
            assert_eq!(needs_quotes(&json!(s)), quoted, "{s}");
        }
    }

    #[test]
    fn ties_sort_as_in_go() {
        let order = |n: usize| {
            let mut items: Vec<(usize, usize)> = (0..n).map(|i| ((i * 7 + i / 3) % 3, i)).collect();
            go_sort(&mut items, |a, b| a.0 < b.0);
            items.into_iter().map(|e| e.1).collect::<Vec<_>>()
        };
        assert_eq!(order(13), [5, 9, 7, 0, 3, 8, 1, 10, 12, 4, 6, 2, 11]);
        assert_eq!(
            order(64),
            [
                43, 59, 63, 45, 36, 5, 61, 7, 34, 32, 41, 23, 9, 0, 14, 50, 16, 27, 18, 25, 54, 52,
                10, 53, 21, 19, 26, 17, 28, 55, 30, 57, 12, 48, 8, 35, 62, 37, 46, 39, 3, 1, 44,
                31, 42, 40, 38, 47, 33, 49, 29, 51, 24, 22, 20, 15, 56, 13, 58, 11, 60, 6, 4, 2
            ]
        );
        let big = order(200);
        assert_eq!(big[..8], [68, 198, 196, 194, 189, 5, 187, 7]);
        assert_eq!(big[192..], [78, 193, 76, 195, 2, 74, 65, 69]);
    }

    #[test]
    fn large_inputs_stay_bounded() {
        let lines = |seed: usize| {
            (0..20_000)
                .map(|i| format!("line {}\n", i * seed))
                .collect::<String>()
        };
        let old = config_map(
            "big",
            json!({"text": lines(1), "list": (0..20_000).collect::<Vec<_>>()}),
        );
        let new = config_map(
            "big",
            json!({"text": lines(3), "list": (1..20_001).collect::<Vec<_>>()}),
        );
        let out = render(&[modify(&old, &new)], true);
        assert!(out.contains("value change in multiline text"));
        assert!(out.contains("one list entry added"));
        let long = |c: char| config_map("s", json!({"s": c.to_string().repeat(200_000)}));
        assert!(render(&[modify(&long('a'), &long('b'))], true).contains("± value change"));
    }

    fn arbitrary_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e30..1e30f64).prop_map(Value::from),
            "[a-c \n:\\-\u{1b}\\[0-9;m]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map(
                    "(name|key|id|[a-c]{1,2}|apiVersion|kind|metadata)",
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn never_panics(docs in prop::collection::vec((arbitrary_value(), arbitrary_value()), 0..4), color: bool) {
            let subjects: Vec<Subject<'_>> = docs
                .iter()
                .enumerate()
                .map(|(i, (old, new))| match i % 3 {
                    0 => modify(old, new),
                    1 => subject("ADD", None, Some(new)),
                    _ => subject("REMOVE", Some(old), None),
                })
                .collect();
            prop_assert!(render(&subjects, color).ends_with('\n'));
        }
    }
}
