//! `--output structured`: helm-diff's machine-readable JSON report, byte for byte what its
//! `printStructuredReport` prints, so scripts written against helm-diff keep working.
//!
//! Field changes follow helm-diff's `calculateFieldChanges`: a JSON merge patch from the old to the
//! new object (json-patch v5's `CreateMergePatch`) walked in sorted key order, with arrays compared
//! index by index. Its quirks are kept on purpose: `null` counts as absent, a newly added empty map
//! reports nothing, a scalar replaced by a map reports the map's leaves as added, and unequal array
//! elements the merge patch cannot pair up (an object against a scalar, an array against anything
//! else, arrays of different lengths or of non-objects) make helm-diff give up on the object, which
//! it then reports with only its key and change type.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Number, Value};

/// One reported object as the machine-readable renderers need it.
pub(super) struct Subject<'a> {
    /// helm-diff's key: "<namespace>, <name>, <Kind> (<group>)".
    pub key: &'a str,
    /// helm-diff's change type: "ADD", "REMOVE", "MODIFY", "OWNERSHIP" or "MODIFY_SUPPRESSED".
    pub change: &'a str,
    /// The object's kind.
    pub kind: &'a str,
    /// Whether the kind is in `--suppress` (then no field changes are reported).
    pub suppressed: bool,
    /// The object before and after (already redacted for Secrets), `None` when absent.
    pub old: Option<&'a serde_json::Value>,
    pub new: Option<&'a serde_json::Value>,
}

/// Documents nested deeper than this are not walked (YAML input is at most 256 deep), so recursion
/// stays bounded; helm-diff and dyff have no such limit.
pub(super) const MAX_DEPTH: usize = 512;

/// What happened to one field, in helm-diff's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Add,
    Remove,
    Replace,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::Add => "add",
            Change::Remove => "remove",
            Change::Replace => "replace",
        }
    }
}

/// One changed field, as helm-diff's `FieldChange`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FieldChange<'a> {
    /// The parent's dotted path with `[i]` for array indices (`spec.containers[0]`); empty at the
    /// top level.
    pub path: String,
    /// The changed key, or the array index as a number string.
    pub field: String,
    pub change: Change,
    /// `None` where helm-diff's value is JSON `null` (and so left out of the report).
    pub old_value: Option<&'a Value>,
    pub new_value: Option<&'a Value>,
}

/// Why helm-diff lists no field changes for an object but reports it with only its key and change
/// type, after warning `Warning: failed to build structured entry for <key> (kind: <kind>,
/// changeType: <change>): <this>` on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unsupported {
    /// A document that is not a mapping (or `null`).
    NotAnObject {
        side: &'static str,
        found: &'static str,
    },
    /// json-patch's `ErrBadJSONDoc`: array elements it cannot merge.
    BadDocument,
    /// json-patch's `errBadMergeTypes`: an array against a non-array.
    MismatchedTypes,
    /// Deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsupported::NotAnObject { side, found } => write!(
                f,
                "convert {side} manifest: json: cannot unmarshal {found} into Go value of type \
                 map[string]interface {{}}"
            ),
            Unsupported::BadDocument => f.write_str("Invalid JSON Document"),
            Unsupported::MismatchedTypes => f.write_str("Mismatched JSON Documents"),
            Unsupported::TooDeep => write!(f, "nested deeper than {MAX_DEPTH} levels"),
        }
    }
}

impl std::error::Error for Unsupported {}

/// The field changes helm-diff reports between two versions of an object, in its order. helm-diff
/// leaves out a (not suppressed) `MODIFY` object whose list is `Ok` and empty.
///
/// # Errors
/// When helm-diff would give up on the object; see [`Unsupported`].
pub(super) fn field_changes<'a>(
    old: &'a Value,
    new: &'a Value,
) -> Result<Vec<FieldChange<'a>>, Unsupported> {
    let old_map = document(old, "old")?;
    let new_map = document(new, "new")?;
    if too_deep(old) || too_deep(new) {
        return Err(Unsupported::TooDeep);
    }
    let mut walker = Walker::default();
    walker.maps(old_map, new_map)?;
    Ok(walker.changes)
}

/// The report for `subjects`, in their order, as helm-diff's Go `json.Encoder` writes it.
pub(super) fn render(subjects: &[Subject<'_>]) -> String {
    let mut out = String::new();
    write_array(&mut out, 0, subjects, |out, level, subject| {
        write_entry(out, level, &entry(subject));
    });
    out.push('\n');
    out
}

/// A mapping document as a map (`None` for `null`), or helm-diff's conversion error.
fn document<'a>(
    value: &'a Value,
    side: &'static str,
) -> Result<Option<&'a Map<String, Value>>, Unsupported> {
    let found = match value {
        Value::Object(map) => return Ok(Some(map)),
        Value::Null => return Ok(None),
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
    };
    Err(Unsupported::NotAnObject { side, found })
}

/// Whether `value` nests more than [`MAX_DEPTH`] levels, checked without recursion.
pub(super) fn too_deep(value: &Value) -> bool {
    let mut stack = vec![(value, 0)];
    while let Some((value, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return true;
        }
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    false
}

/// One step of a field's path.
#[derive(Clone, Copy)]
enum Token<'a> {
    Key(&'a str),
    Index(usize),
}

/// Walks the merge patch between two documents without building it.
#[derive(Default)]
struct Walker<'a> {
    tokens: Vec<Token<'a>>,
    changes: Vec<FieldChange<'a>>,
}

impl<'a> Walker<'a> {
    /// Two maps (`None` is an absent or `null` one): the patch holds every key whose value differs,
    /// a removed key as `null`.
    fn maps(
        &mut self,
        old: Option<&'a Map<String, Value>>,
        new: Option<&'a Map<String, Value>>,
    ) -> Result<(), Unsupported> {
        let in_new = |key: &str| new.is_some_and(|n| n.contains_key(key));
        let mut keys: Vec<&'a str> = new
            .into_iter()
            .flat_map(Map::keys)
            .map(String::as_str)
            .collect();
        keys.extend(
            old.into_iter()
                .flat_map(Map::keys)
                .map(String::as_str)
                .filter(|k| !in_new(k)),
        );
        keys.sort_unstable();
        for key in keys {
            let old_child = old.and_then(|m| m.get(key));
            self.tokens.push(Token::Key(key));
            match (old_child, new.and_then(|m| m.get(key))) {
                (Some(Value::Object(o)), Some(Value::Object(n))) => self.maps(Some(o), Some(n))?,
                (Some(o), Some(n)) if same(o, n) => {}
                (_, Some(n)) => self.patched(old_child, n)?,
                (_, None) => self.push(Change::Remove, old_child, None),
            }
            self.tokens.pop();
        }
        Ok(())
    }

    /// A part of the patch that is the new value itself (`new` replaced or added `old`).
    fn patched(&mut self, old: Option<&'a Value>, new: &'a Value) -> Result<(), Unsupported> {
        match new {
            Value::Object(map) => {
                let mut keys: Vec<&'a String> = map.keys().collect();
                keys.sort_unstable();
                let old_map = old.and_then(Value::as_object);
                for key in keys {
                    self.tokens.push(Token::Key(key));
                    self.patched(old_map.and_then(|m| m.get(key)), &map[key])?;
                    self.tokens.pop();
                }
                Ok(())
            }
            Value::Array(items) => self.arrays(old.and_then(Value::as_array), items),
            Value::Null => {
                self.push(Change::Remove, old, None);
                Ok(())
            }
            _ => {
                match present(old) {
                    None => self.push(Change::Add, None, Some(new)),
                    Some(o) if same(o, new) => {}
                    Some(o) => self.push(Change::Replace, Some(o), Some(new)),
                }
                Ok(())
            }
        }
    }

    /// helm-diff's index-by-index array comparison; `null` elements count as absent.
    fn arrays(&mut self, old: Option<&'a Vec<Value>>, new: &'a [Value]) -> Result<(), Unsupported> {
        let old = old.map_or(&[][..], Vec::as_slice);
        for i in 0..old.len().max(new.len()) {
            let (o, n) = (present(old.get(i)), present(new.get(i)));
            self.tokens.push(Token::Index(i));
            match (o, n) {
                (Some(o), Some(n)) if same(o, n) => {}
                (Some(o), Some(n)) if is_scalar(o) && is_scalar(n) => {
                    self.push(Change::Replace, Some(o), Some(n));
                }
                (Some(Value::Object(o)), Some(Value::Object(n))) => self.maps(Some(o), Some(n))?,
                (Some(Value::Array(o)), Some(Value::Array(n))) => {
                    mergeable(o, n)?;
                    self.arrays(Some(o), n)?;
                }
                (Some(Value::Array(_)), Some(_)) | (Some(_), Some(Value::Array(_))) => {
                    return Err(Unsupported::MismatchedTypes);
                }
                (Some(_), Some(_)) => return Err(Unsupported::BadDocument),
                (Some(o), None) => self.push(Change::Remove, Some(o), None),
                (None, Some(n)) => self.push(Change::Add, None, Some(n)),
                (None, None) => {}
            }
            self.tokens.pop();
        }
        Ok(())
    }

    fn push(&mut self, change: Change, old: Option<&'a Value>, new: Option<&'a Value>) {
        let Some((last, parents)) = self.tokens.split_last() else {
            return;
        };
        self.changes.push(FieldChange {
            path: format_path(parents),
            field: match last {
                Token::Key(key) => (*key).to_string(),
                Token::Index(i) => i.to_string(),
            },
            change,
            old_value: present(old),
            new_value: present(new),
        });
    }
}

/// json-patch merges two arrays only element by element, each pair being objects (or `null`).
fn mergeable(old: &[Value], new: &[Value]) -> Result<(), Unsupported> {
    let object = |v: &Value| v.is_object() || v.is_null();
    if old.len() == new.len() && old.iter().chain(new).all(object) {
        Ok(())
    } else {
        Err(Unsupported::BadDocument)
    }
}

/// helm-diff's `formatPath`: keys joined by `.`, all-digit tokens (indices, and keys that look like
/// them) appended as `[n]`, empty keys skipped.
fn format_path(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    for token in tokens {
        match token {
            Token::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
            Token::Key("") => {}
            Token::Key(key) if key.bytes().all(|b| b.is_ascii_digit()) => {
                out.push('[');
                out.push_str(key);
                out.push(']');
            }
            Token::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
        }
    }
    out
}

/// Values as Go sees them after a round trip through `interface{}`: numbers are float64.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

/// helm-diff's `StructuredEntry`.
struct Entry<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
    change_type: &'a str,
    old_exists: bool,
    new_exists: bool,
    changes: Vec<FieldChange<'a>>,
    changes_suppressed: bool,
}

/// The line helm-diff writes to stderr when it cannot describe a subject, which it then reports
/// with only its key and change type.
pub(super) fn warning(s: &Subject<'_>) -> Option<String> {
    let err = build(s).err()?;
    Some(format!(
        "Warning: failed to build structured entry for {} (kind: {}, changeType: {}): {err}",
        s.key,
        s.kind,
        change_type(s)
    ))
}

fn entry<'a>(s: &Subject<'a>) -> Entry<'a> {
    build(s).unwrap_or_else(|_| bare(s))
}

/// `MODIFY_SUPPRESSED` is reported as `MODIFY`: helm-diff builds the entry before it suppresses
/// output lines.
fn change_type<'a>(s: &Subject<'a>) -> &'a str {
    if s.change == "MODIFY_SUPPRESSED" {
        "MODIFY"
    } else {
        s.change
    }
}

/// The entry helm-diff prints for a subject without a structured description.
fn bare<'a>(s: &Subject<'a>) -> Entry<'a> {
    Entry {
        api_version: "",
        kind: "",
        namespace: "",
        name: s.key,
        change_type: s.change,
        old_exists: false,
        new_exists: false,
        changes: Vec::new(),
        changes_suppressed: false,
    }
}

/// helm-diff's `buildStructuredEntry`; ownership changes have no structured entry there either.
fn build<'a>(s: &Subject<'a>) -> Result<Entry<'a>, Unsupported> {
    if s.change == "OWNERSHIP" {
        return Ok(bare(s));
    }
    let old = s.old.map(|v| document(v, "old")).transpose()?.flatten();
    let new = s.new.map(|v| document(v, "new")).transpose()?.flatten();
    let mut e = Entry {
        api_version: "",
        kind: "",
        namespace: "",
        name: "",
        change_type: change_type(s),
        old_exists: s.old.is_some(),
        new_exists: s.new.is_some(),
        changes: Vec::new(),
        changes_suppressed: s.suppressed,
    };
    for object in [old, new].into_iter().flatten() {
        fill(&mut e.api_version, object.get("apiVersion"));
        fill(&mut e.kind, object.get("kind"));
        if let Some(meta) = object.get("metadata").and_then(Value::as_object) {
            fill(&mut e.name, meta.get("name"));
            fill(&mut e.namespace, meta.get("namespace"));
        }
    }
    if let Some(key) = parse_key(s.key) {
        for (field, from_key) in [
            (&mut e.kind, key.kind),
            (&mut e.name, key.name),
            (&mut e.namespace, key.namespace),
            (&mut e.api_version, key.group),
        ] {
            if field.is_empty() {
                *field = from_key;
            }
        }
    }
    if let (false, "MODIFY", Some(old), Some(new)) = (s.suppressed, e.change_type, s.old, s.new) {
        e.changes = field_changes(old, new)?;
    }
    Ok(e)
}

/// Sets an unset metadata field from a string value.
fn fill<'a>(field: &mut &'a str, value: Option<&'a Value>) {
    if let (true, Some(text)) = (field.is_empty(), value.and_then(Value::as_str)) {
        *field = text;
    }
}

/// The parts of a key, as helm-diff's `loadFromKey` reads them back.
struct Key<'a> {
    namespace: &'a str,
    name: &'a str,
    kind: &'a str,
    group: &'a str,
}

fn parse_key(key: &str) -> Option<Key<'_>> {
    static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"([a-z0-9-]+), ([a-z0-9.-]+), ([0-9A-Za-z_]+) \(([^)]+)\)")
            .expect("valid regex")
    });
    let caps = PATTERN.captures(key)?;
    let part = |i| caps.get(i).map_or("", |m| m.as_str());
    Some(Key {
        namespace: part(1),
        name: part(2),
        kind: part(3),
        group: part(4),
    })
}

fn write_entry(out: &mut String, level: usize, e: &Entry<'_>) {
    let mut obj = Object::open(out, level);
    for (key, text) in [
        ("apiVersion", e.api_version),
        ("kind", e.kind),
        ("namespace", e.namespace),
        ("name", e.name),
        ("changeType", e.change_type),
    ] {
        if !text.is_empty() {
            write_string(obj.member(key), text);
        }
    }
    obj.member("resourceStatus");
    let mut status = Object::open(obj.out, level + 1);
    status.member("oldExists").push_str(bool_text(e.old_exists));
    status.member("newExists").push_str(bool_text(e.new_exists));
    status.close();
    if !e.changes.is_empty() {
        obj.member("changes");
        write_array(obj.out, level + 1, &e.changes, write_change);
    }
    if e.changes_suppressed {
        obj.member("changesSuppressed").push_str("true");
    }
    obj.close();
}

fn write_change(out: &mut String, level: usize, c: &FieldChange<'_>) {
    let mut obj = Object::open(out, level);
    if !c.path.is_empty() {
        write_string(obj.member("path"), &c.path);
    }
    if !c.field.is_empty() {
        write_string(obj.member("field"), &c.field);
    }
    write_string(obj.member("change"), c.change.as_str());
    for (key, value) in [("oldValue", c.old_value), ("newValue", c.new_value)] {
        if let Some(value) = value {
            obj.member(key);
            write_value(obj.out, level + 1, value);
        }
    }
    obj.close();
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// A JSON object being written with Go's `SetIndent("", "  ")` layout.
struct Object<'o> {
    out: &'o mut String,
    level: usize,
    empty: bool,
}

impl<'o> Object<'o> {
    fn open(out: &'o mut String, level: usize) -> Self {
        out.push('{');
        Object {
            out,
            level,
            empty: true,
        }
    }

    /// Starts a member and returns the output to write its value to.
    fn member(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        newline(self.out, self.level + 1);
        write_string(self.out, key);
        self.out.push_str(": ");
        self.out
    }

    fn close(self) {
        if !self.empty {
            newline(self.out, self.level);
        }
        self.out.push('}');
    }
}

fn newline(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_array<T>(
    out: &mut String,
    level: usize,
    items: &[T],
    mut write: impl FnMut(&mut String, usize, &T),
) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(out, level + 1);
        write(out, level + 1, item);
    }
    if !items.is_empty() {
        newline(out, level);
    }
    out.push(']');
}

/// A value as Go encodes an `interface{}`: map keys sorted, numbers as float64.
fn write_value(out: &mut String, level: usize, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(bool_text(*b)),
        Value::Number(n) => out.push_str(&go_float(n)),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => write_array(out, level, items, write_value),
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            let mut obj = Object::open(out, level);
            for (key, value) in entries {
                obj.member(key);
                write_value(obj.out, level + 1, value);
            }
            obj.close();
        }
    }
}

/// Go's `encoding/json` float64 text: shortest round-trip digits, exponent form (`1e+21`, `1e-7`)
/// only below 1e-6 and from 1e21.
fn go_float(n: &Number) -> String {
    let f = n.as_f64().unwrap_or(0.0);
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let sci = format!("{f:e}");
        if let Some((mantissa, exp)) = sci.split_once('e') {
            let sign = if exp.starts_with('-') { "" } else { "+" };
            return format!("{mantissa}e{sign}{exp}");
        }
        return sci;
    }
    format!("{f}")
}

/// A string as Go's `json.Encoder` (with HTML escaping) writes it.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn subject<'a>(change: &'a str, old: Option<&'a Value>, new: Option<&'a Value>) -> Subject<'a> {
        Subject {
            key: "prod, web, Deployment (apps)",
            change,
            kind: "Deployment",
            suppressed: false,
            old,
            new,
        }
    }

    fn deployment(replicas: u64, image: &str, values: &[&str], scalars: Value) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod"},
            "spec": {"replicas": replicas, "template": {"spec": {
                "containers": [{"name": "app", "image": image}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "node-type", "operator": "In", "values": values}
                    ]}]
                }}},
                "priorities": scalars["priorities"],
                "booleanArrayField": scalars["booleans"],
                "multiTypeField": scalars["mixed"],
            }}}
        })
    }

    /// helm-diff's TestStructuredOutputModify, compared byte for byte with its output.
    #[test]
    fn modify_lists_changed_fields_in_sorted_order() {
        let old = deployment(
            2,
            "demo:v1",
            &["standard"],
            json!({"priorities": [1], "booleans": [true], "mixed": [3, true, "string"]}),
        );
        let new = deployment(
            3,
            "demo:v2",
            &["dedicated"],
            json!({"priorities": [2], "booleans": [false], "mixed": [false, "new-string", 2]}),
        );
        let out = render(&[subject("MODIFY", Some(&old), Some(&new))]);
        let change = |path: &str, field: &str, old: &str, new: &str| {
            format!(
                "      {{\n        \"path\": \"{path}\",\n        \"field\": \"{field}\",\n        \
                 \"change\": \"replace\",\n        \"oldValue\": {old},\n        \"newValue\": {new}\n      }}"
            )
        };
        let values = "spec.template.spec.affinity.nodeAffinity.\
                      requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].\
                      matchExpressions[0].values";
        let mixed = "spec.template.spec.multiTypeField";
        let changes = [
            change("spec", "replicas", "2", "3"),
            change(values, "0", "\"standard\"", "\"dedicated\""),
            change("spec.template.spec.booleanArrayField", "0", "true", "false"),
            change(
                "spec.template.spec.containers[0]",
                "image",
                "\"demo:v1\"",
                "\"demo:v2\"",
            ),
            change(mixed, "0", "3", "false"),
            change(mixed, "1", "true", "\"new-string\""),
            change(mixed, "2", "\"string\"", "2"),
            change("spec.template.spec.priorities", "0", "1", "2"),
        ];
        let expected = format!(
            "[\n  {{\n    \"apiVersion\": \"apps/v1\",\n    \"kind\": \"Deployment\",\n    \
             \"namespace\": \"prod\",\n    \"name\": \"web\",\n    \"changeType\": \"MODIFY\",\n    \
             \"resourceStatus\": {{\n      \"oldExists\": true,\n      \"newExists\": true\n    }},\n    \
             \"changes\": [\n{}\n    ]\n  }}\n]\n",
            changes.join(",\n")
        );
        assert_eq!(out, expected);
        assert_eq!(field_changes(&old, &new).map(|c| c.len()), Ok(8));
    }

    /// helm-diff's TestStructuredOutputAddAndRemove.
    #[test]
    fn added_and_removed_objects_carry_no_changes() {
        let job = json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "ops"},
            "spec": {"restartPolicy": "Never"}
        });
        let entry = |change: &str, old: bool| {
            format!(
                "  {{\n    \"apiVersion\": \"batch/v1\",\n    \"kind\": \"Job\",\n    \"namespace\": \
                 \"ops\",\n    \"name\": \"migrate\",\n    \"changeType\": \"{change}\",\n    \
                 \"resourceStatus\": {{\n      \"oldExists\": {old},\n      \"newExists\": {}\n    }}\n  }}",
                !old
            )
        };
        let out = render(&[
            subject("ADD", None, Some(&job)),
            subject("REMOVE", Some(&job), None),
        ]);
        assert_eq!(
            out,
            format!(
                "[\n{},\n{}\n]\n",
                entry("ADD", false),
                entry("REMOVE", true)
            )
        );
    }

    /// helm-diff's TestStructuredOutputSuppressedKind.
    #[test]
    fn suppressed_kinds_report_no_changes() {
        let secret = |password: &str| {
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
                   "data": {"password": password}})
        };
        let (old, new) = (secret("c29tZQ=="), secret("Zm9v"));
        let s = Subject {
            key: "default, creds, Secret (v1)",
            kind: "Secret",
            suppressed: true,
            ..subject("MODIFY", Some(&old), Some(&new))
        };
        assert_eq!(
            render(&[s]),
            "[\n  {\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Secret\",\n    \"namespace\": \
             \"default\",\n    \"name\": \"creds\",\n    \"changeType\": \"MODIFY\",\n    \
             \"resourceStatus\": {\n      \"oldExists\": true,\n      \"newExists\": true\n    },\n    \
             \"changesSuppressed\": true\n  }\n]\n"
        );
    }

    /// helm-diff's ArrayDocumentProducesJSONUnmarshalError, and ownership entries.
    #[test]
    fn undescribable_subjects_show_only_key_and_change() {
        let list = json!([{"apiVersion": "v1"}]);
        let object = json!({"kind": "ConfigMap"});
        let add = Subject {
            key: "default, failing, ConfigMap (v1)",
            kind: "ConfigMap",
            ..subject("ADD", None, Some(&list))
        };
        let ownership = subject("OWNERSHIP", Some(&object), Some(&object));
        assert_eq!(
            render(&[add, ownership]),
            "[\n  {\n    \"name\": \"default, failing, ConfigMap (v1)\",\n    \"changeType\": \
             \"ADD\",\n    \"resourceStatus\": {\n      \"oldExists\": false,\n      \"newExists\": \
             false\n    }\n  },\n  {\n    \"name\": \"prod, web, Deployment (apps)\",\n    \
             \"changeType\": \"OWNERSHIP\",\n    \"resourceStatus\": {\n      \"oldExists\": \
             false,\n      \"newExists\": false\n    }\n  }\n]\n"
        );
        let add = Subject {
            key: "default, failing, ConfigMap (v1)",
            kind: "ConfigMap",
            ..subject("ADD", None, Some(&list))
        };
        assert_eq!(
            warning(&add).as_deref(),
            Some(
                "Warning: failed to build structured entry for default, failing, ConfigMap (v1) \
                 (kind: ConfigMap, changeType: ADD): convert new manifest: json: cannot unmarshal \
                 array into Go value of type map[string]interface {}"
            )
        );
        assert_eq!(warning(&subject("OWNERSHIP", None, None)), None);
    }

    /// helm-diff's BothManifestsEmpty.
    #[test]
    fn no_subjects_give_an_empty_array() {
        assert_eq!(render(&[]), "[]\n");
    }

    /// helm-diff's ComplexNestedStructuresForJSONPatch and ArrayChangesInStructuredOutput.
    #[test]
    fn nested_maps_and_arrays_report_leaf_changes() {
        let old = json!({"metadata": {"labels": {"app": "test", "version": "v1"}},
                         "data": {"config.yaml": "nested:\n  value: old\n"}});
        let new = json!({"metadata": {"labels": {"app": "test", "version": "v2"}},
                         "data": {"config.yaml": "nested:\n  value: new\n"}});
        let changes = field_changes(&old, &new).unwrap();
        assert_eq!(
            changes
                .iter()
                .map(|c| (c.path.as_str(), c.field.as_str()))
                .collect::<Vec<_>>(),
            [("data", "config.yaml"), ("metadata.labels", "version")]
        );
        assert_eq!(changes[1].old_value, Some(&json!("v1")));

        let env = |extra: bool| {
            let mut env = vec![json!({"name": "KEY1", "value": "val1"})];
            if extra {
                env.push(json!({"name": "KEY2", "value": "val2"}));
            }
            json!({"spec": {"containers": [{"name": "app", "image": if extra { "v2" } else { "v1" }, "env": env}]}})
        };
        let (old, new) = (env(false), env(true));
        let changes = field_changes(&old, &new).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(
            (changes[0].path.as_str(), changes[0].field.as_str()),
            ("spec.containers[0].env", "1")
        );
        assert_eq!(changes[0].change, Change::Add);
        assert_eq!(
            changes[0].new_value,
            Some(&json!({"name": "KEY2", "value": "val2"}))
        );
        assert_eq!(
            (changes[1].path.as_str(), changes[1].field.as_str()),
            ("spec.containers[0]", "image")
        );
    }

    /// The merge patch's quirks that helm-diff reports as they are.
    #[test]
    fn merge_patch_quirks_are_kept() {
        let old = json!({"gone": {"a": 1}, "nulled": 1, "was_null": null, "scalar": 1,
                         "map": {"x": 1}, "arr": [1, null, 3], "short": [1]});
        let new = json!({"nulled": null, "was_null": 2, "scalar": {"x": {"y": true}},
                         "map": 5, "empty": {}, "arr": [null, 2, 3], "short": [1, 2],
                         "added_null": null});
        let summary: Vec<String> = field_changes(&old, &new)
            .unwrap()
            .iter()
            .map(|c| {
                let v = |v: Option<&Value>| v.map_or("-".to_string(), Value::to_string);
                format!(
                    "{}|{}|{}|{}|{}",
                    c.path,
                    c.field,
                    c.change.as_str(),
                    v(c.old_value),
                    v(c.new_value)
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "|added_null|remove|-|-",
                "arr|0|remove|1|-",
                "arr|1|add|-|2",
                "|gone|remove|{\"a\":1}|-",
                "|map|replace|{\"x\":1}|5",
                "|nulled|remove|1|-",
                "scalar.x|y|add|-|true",
                "short|1|add|-|2",
                "|was_null|add|-|2",
            ]
        );
    }

    #[test]
    fn unmergeable_array_elements_make_helm_diff_give_up() {
        let cases = [
            (
                json!({"a": [[1]]}),
                json!({"a": [[2]]}),
                Unsupported::BadDocument,
            ),
            (
                json!({"a": [{"x": 1}]}),
                json!({"a": ["x"]}),
                Unsupported::BadDocument,
            ),
            (
                json!({"a": [[1]]}),
                json!({"a": [{"x": 1}]}),
                Unsupported::MismatchedTypes,
            ),
            (
                json!({"a": [[{"x": 1}]]}),
                json!({"a": [[{"x": 1}, {}]]}),
                Unsupported::BadDocument,
            ),
            (
                json!("text"),
                json!({}),
                Unsupported::NotAnObject {
                    side: "old",
                    found: "string",
                },
            ),
        ];
        for (old, new, err) in cases {
            assert_eq!(field_changes(&old, &new), Err(err), "{old} -> {new}");
        }
        // Arrays of objects of one length are walked element by element.
        let old = json!({"a": [[{"x": 1}, null]]});
        let new = json!({"a": [[{"x": 2}, {"y": 1}]]});
        let fields: Vec<String> = field_changes(&old, &new)
            .unwrap()
            .iter()
            .map(|c| format!("{}|{}", c.path, c.field))
            .collect();
        assert_eq!(fields, ["a[0][0]|x", "a[0]|1"]);
    }

    #[test]
    fn metadata_falls_back_to_the_key() {
        let old = json!({"data": {"a": "1"}});
        let new = json!({"kind": "", "data": {"a": "2"}});
        let s = Subject {
            change: "MODIFY_SUPPRESSED",
            ..subject("MODIFY", Some(&old), Some(&new))
        };
        let out = render(&[s]);
        assert!(
            out.starts_with(
                "[\n  {\n    \"apiVersion\": \"apps\",\n    \"kind\": \"Deployment\",\n    \
                 \"namespace\": \"prod\",\n    \"name\": \"web\",\n    \"changeType\": \"MODIFY\","
            ),
            "{out}"
        );
    }

    #[test]
    fn strings_and_numbers_are_written_as_go_writes_them() {
        let old = json!({"html": "<b>&amp;</b>", "ls": "a\u{2028}b\u{2029}", "ctl": "\u{1}\u{8}\u{c}\n\t\"\\"});
        let new = json!({"html": "<i>", "ls": "x", "ctl": "y",
                         "f": [1e21, 1e20, 1.5e-7, 0.000_001, 123_456_789_012_345_678_u64, -0.0, 2.0, 0.1, 1e-7]});
        let out = render(&[subject("MODIFY", Some(&old), Some(&new))]);
        for expected in [
            r#""oldValue": "\u0001\b\f\n\t\"\\","#,
            r#""oldValue": "\u003cb\u003e\u0026amp;\u003c/b\u003e","#,
            r#""newValue": "\u003ci\u003e""#,
            r#""oldValue": "a\u2028b\u2029","#,
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
        let numbers: Vec<&str> = out
            .lines()
            .filter_map(|l| l.trim().strip_prefix("\"newValue\": "))
            .filter(|v| !v.starts_with('"'))
            .collect();
        assert_eq!(
            numbers,
            [
                "1e+21",
                "100000000000000000000",
                "1.5e-7",
                "0.000001",
                "123456789012345680",
                "-0",
                "2",
                "0.1",
                "1e-7"
            ]
        );
    }

    #[test]
    fn deep_documents_are_refused_not_overflowed() {
        let mut deep = json!(1);
        for _ in 0..=MAX_DEPTH {
            deep = json!({"a": deep});
        }
        let shallow = json!({"a": 1});
        assert_eq!(field_changes(&deep, &shallow), Err(Unsupported::TooDeep));
        assert!(
            render(&[subject("MODIFY", Some(&deep), Some(&shallow))])
                .contains("\"name\": \"prod, web, Deployment (apps)\"")
        );
    }

    #[test]
    fn large_arrays_are_compared_in_linear_passes() {
        let old = json!({"items": (0..50_000).collect::<Vec<_>>()});
        let new = json!({"items": (1..50_001).collect::<Vec<_>>()});
        assert_eq!(field_changes(&old, &new).map(|c| c.len()), Ok(50_000));
    }

    fn arbitrary_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a<&\u{2028}\\\"]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                prop::collection::btree_map("[a-c0-9]{0,2}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn never_panics(old in arbitrary_value(), new in arbitrary_value(), suppressed: bool) {
            for change in ["ADD", "REMOVE", "MODIFY", "OWNERSHIP", "MODIFY_SUPPRESSED"] {
                let s = Subject { suppressed, ..subject(change, Some(&old), Some(&new)) };
                prop_assert!(render(&[s]).ends_with("]\n"));
                let _ = warning(&subject(change, Some(&old), None));
            }
            let _ = field_changes(&old, &new);
        }
    }
}
