//! Building `serde_json::Value`s from parser events with go-yaml v2 semantics.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Tag};
use serde_json::{Map, Number, Value};

use super::YamlError;
use super::resolve::{Scalar, go_float32_key, resolve_plain, resolve_plain_yaml12};

/// Deeper nesting is refused: `Value`'s drop, comparison and our emitter recurse.
const MAX_DEPTH: usize = 256;
/// Nodes that anchors and aliases may copy in one run of helm-x (every document of every stream
/// it reads, together); stops "billion laughs".
pub const MAX_COPIED_NODES: usize = 1_000_000;
/// Scalar bytes (keys included) that anchors and aliases may copy in one run: a few aliases of one
/// huge scalar cost memory without costing nodes.
pub const MAX_COPIED_BYTES: usize = 64 * 1024 * 1024;

/// What a node holds, for the alias budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Size {
    nodes: usize,
    bytes: usize,
}

thread_local! {
    /// What anchors and aliases copied so far. helm-x reads all its input on one thread in one
    /// process per run, so this is the run's budget (and each test's, as tests get threads).
    static COPIED: std::cell::Cell<Size> = const { std::cell::Cell::new(Size { nodes: 0, bytes: 0 }) };
}

impl std::ops::AddAssign for Size {
    fn add_assign(&mut self, other: Size) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

/// What to do with a key that appears twice in one mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicateKeys {
    /// Fail with the position of the second key; a duplicate is almost always a mistake.
    #[default]
    Error,
    /// Keep the last value silently, as kubectl and Helm (non-strict go-yaml v2) do.
    LastWins,
}

/// Knobs for [`load_with`]; the default is strict about duplicate keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadOptions {
    /// Handling of repeated mapping keys.
    pub duplicate_keys: DuplicateKeys,
}

/// How untagged plain scalars resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Schema {
    /// go-yaml v2 (YAML 1.1): what kubectl, helm and the API server read; the default.
    #[default]
    Yaml11,
    /// go-yaml v3 (YAML 1.2 booleans), as kustomize's kyaml reads documents.
    Yaml12,
}

impl LoadOptions {
    /// Every document of `text` as [`super::split_load`] numbers them (empty ones as `null`), with
    /// plain scalars resolved the way kustomize's kyaml (go-yaml v3) reads them: YAML 1.2 booleans,
    /// so `y`, `n`, `yes`, `no`, `on`, `off` (any case) stay strings; numbers, nulls and keys as in
    /// [`load`].
    pub fn split_load_yaml12(&self, text: &str) -> Result<Vec<Value>, YamlError> {
        Ok(compose(text, self, Schema::Yaml12, true)?
            .into_iter()
            .map(|d| d.value)
            .collect())
    }

    /// [`load_all`] with the scalar rules of [`LoadOptions::split_load_yaml12`].
    pub fn load_all_yaml12(&self, text: &str) -> Result<Vec<Value>, YamlError> {
        Ok(compose(text, self, Schema::Yaml12, false)?
            .into_iter()
            .map(|d| d.value)
            .collect())
    }
}

/// Parses one document into a JSON value with go-yaml v2 (YAML 1.1) scalar resolution
/// and sigs.k8s.io/yaml key conversion. Empty input is `null`; empty documents
/// around the one with content are ignored, a second document with content is an error.
pub fn load(text: &str) -> Result<Value, YamlError> {
    load_with(text, &LoadOptions::default())
}

/// [`load`] with explicit options.
pub fn load_with(text: &str, opts: &LoadOptions) -> Result<Value, YamlError> {
    let mut docs = compose(text, opts, Schema::Yaml11, false)?;
    if let Some(second) = docs.get(1) {
        return Err(YamlError::at(
            &second.start,
            "expected a single YAML document, found another one",
        ));
    }
    Ok(docs.pop().map_or(Value::Null, |d| d.value))
}

/// Loads every document that has content; empty and comment-only documents are
/// skipped, as kubectl skips them.
pub fn load_all(text: &str) -> Result<Vec<Value>, YamlError> {
    load_all_with(text, &LoadOptions::default())
}

/// [`load_all`] with explicit options.
pub fn load_all_with(text: &str, opts: &LoadOptions) -> Result<Vec<Value>, YamlError> {
    Ok(compose(text, opts, Schema::Yaml11, false)?
        .into_iter()
        .map(|d| d.value)
        .collect())
}

struct Doc {
    value: Value,
    start: Marker,
}

/// The documents of `text` that have a node; empty ones are dropped unless `keep_empty`, which
/// gives them as `null`.
fn compose(
    text: &str,
    opts: &LoadOptions,
    schema: Schema,
    keep_empty: bool,
) -> Result<Vec<Doc>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut composer = Composer::new(opts);
    composer.schema = schema;
    let mut doc_start = Marker::default();
    let mut empty = false;
    let mut first = false;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| YamlError::scan(&e))?;
        if std::mem::take(&mut first) {
            empty = is_empty_root(&event);
        }
        if let Event::DocumentStart(_) = event {
            doc_start = span.start;
            first = true;
        }
        if let Some(value) = composer.event(event, &span.start)?
            && (keep_empty || !empty)
        {
            docs.push(Doc {
                value,
                start: doc_start,
            });
        }
    }
    Ok(docs)
}

/// The root event of a document with no node at all (only comments or nothing).
pub(super) fn is_empty_root(event: &Event<'_>) -> bool {
    matches!(event, Event::Scalar(v, ScalarStyle::Plain, 0, None) if v.is_empty())
}

/// A mapping key waiting for its value.
enum Key {
    Name(String, Marker),
    Merge(Marker),
}

enum Kind {
    Seq(Vec<Value>),
    Map {
        map: Map<String, Value>,
        key: Option<Key>,
        /// Keys set by `<<` merges, which later explicit keys may override.
        merged: HashSet<String>,
    },
}

struct Frame {
    kind: Kind,
    anchor: usize,
    /// What this collection holds (itself included), for the alias budget.
    size: Size,
}

impl Frame {
    fn seq(anchor: usize) -> Self {
        Frame {
            kind: Kind::Seq(Vec::new()),
            anchor,
            size: Size { nodes: 1, bytes: 0 },
        }
    }

    fn map(anchor: usize) -> Self {
        let kind = Kind::Map {
            map: Map::new(),
            key: None,
            merged: HashSet::new(),
        };
        Frame {
            kind,
            anchor,
            size: Size { nodes: 1, bytes: 0 },
        }
    }
}

/// Turns one stream's parser events into a `Value` per document.
pub(super) struct Composer<'o> {
    opts: &'o LoadOptions,
    schema: Schema,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, Size)>,
    root: Option<Value>,
}

impl<'o> Composer<'o> {
    pub(super) fn new(opts: &'o LoadOptions) -> Self {
        Composer {
            opts,
            schema: Schema::default(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
        }
    }

    /// Feeds one event; returns the document's value at its end.
    pub(super) fn event(
        &mut self,
        event: Event<'_>,
        mark: &Marker,
    ) -> Result<Option<Value>, YamlError> {
        match event {
            Event::DocumentStart(_) => {
                let schema = self.schema;
                *self = Composer::new(self.opts);
                self.schema = schema;
            }
            Event::DocumentEnd => return Ok(Some(self.root.take().unwrap_or(Value::Null))),
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::Alias(id) => self.alias(id, mark)?,
            Event::Scalar(v, style, anchor, tag) => {
                self.scalar(v, style, anchor, tag.as_deref(), mark)?;
            }
            Event::SequenceStart(anchor, _) => self.open(Frame::seq(anchor), mark)?,
            Event::MappingStart(anchor, _) => self.open(Frame::map(anchor), mark)?,
            Event::SequenceEnd | Event::MappingEnd => self.close(mark)?,
        }
        Ok(None)
    }

    /// True when the next node is a mapping key.
    fn wants_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: Kind::Map { key: None, .. },
                ..
            })
        )
    }

    fn open(&mut self, frame: Frame, mark: &Marker) -> Result<(), YamlError> {
        if self.wants_key() {
            return Err(YamlError::at(
                mark,
                "invalid map key: a mapping or sequence cannot be a key",
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError::at(
                mark,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, mark: &Marker) -> Result<(), YamlError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let value = match frame.kind {
            Kind::Seq(items) => Value::Array(items),
            Kind::Map { map, .. } => Value::Object(map),
        };
        self.finish(value, frame.size, frame.anchor, mark)
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        mark: &Marker,
    ) -> Result<(), YamlError> {
        let plain = style == ScalarStyle::Plain;
        let binary = tag.is_some_and(|t| core_tag(t) == Some("binary"));
        let at = |m: String| YamlError::at(mark, m);
        let bytes = text.len();
        if self.wants_key() && anchor == 0 {
            let merge = plain && tag.is_none() && text == "<<" || tag.is_some_and(is_merge_tag);
            let key = if merge {
                Key::Merge(*mark)
            } else {
                let scalar = resolve_tagged(&text, plain, tag, self.schema).map_err(at)?;
                Key::Name(scalar_key(scalar, text, binary).map_err(at)?, *mark)
            };
            self.set_key(key, bytes);
            return Ok(());
        }
        let scalar = resolve_tagged(&text, plain, tag, self.schema).map_err(at)?;
        let value = scalar_value(scalar, text, binary).map_err(at)?;
        self.finish(value, Size { nodes: 1, bytes }, anchor, mark)
    }

    fn alias(&mut self, id: usize, mark: &Marker) -> Result<(), YamlError> {
        let Some(&(_, size)) = self.anchors.get(&id) else {
            return Err(YamlError::at(mark, "unknown anchor"));
        };
        self.charge(size, mark)?;
        let value = self
            .anchors
            .get(&id)
            .map_or(Value::Null, |(v, _)| v.clone());
        if self.wants_key() {
            let key = value_key(&value).map_err(|m| YamlError::at(mark, m))?;
            self.set_key(Key::Name(key, *mark), size.bytes);
            return Ok(());
        }
        self.finish(value, size, 0, mark)
    }

    /// Counts what anchors and aliases copy against [`MAX_COPIED_NODES`] and [`MAX_COPIED_BYTES`].
    fn charge(&mut self, size: Size, mark: &Marker) -> Result<(), YamlError> {
        let copied = COPIED.with(|c| {
            let mut now = c.get();
            now += size;
            c.set(now);
            now
        });
        if copied.nodes > MAX_COPIED_NODES {
            return Err(YamlError::at(
                mark,
                format!(
                    "anchors and aliases of this run (all documents read) expand to more than {MAX_COPIED_NODES} nodes"
                ),
            ));
        }
        if copied.bytes > MAX_COPIED_BYTES {
            return Err(YamlError::at(
                mark,
                format!(
                    "anchors and aliases of this run (all documents read) expand to more than {} MiB of scalars",
                    MAX_COPIED_BYTES / 1024 / 1024
                ),
            ));
        }
        Ok(())
    }

    fn set_key(&mut self, new: Key, bytes: usize) {
        if let Some(Frame {
            kind: Kind::Map { key, .. },
            size,
            ..
        }) = self.stack.last_mut()
        {
            *key = Some(new);
            *size += Size { nodes: 1, bytes };
        }
    }

    /// Hands a finished node to its parent (or makes it the document root).
    fn finish(
        &mut self,
        value: Value,
        size: Size,
        anchor: usize,
        mark: &Marker,
    ) -> Result<(), YamlError> {
        if anchor != 0 {
            self.charge(size, mark)?;
            self.anchors.insert(anchor, (value.clone(), size));
        }
        let duplicates = self.opts.duplicate_keys;
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(value);
            return Ok(());
        };
        parent.size += size;
        match &mut parent.kind {
            Kind::Seq(items) => items.push(value),
            Kind::Map { map, key, merged } => match key.take() {
                None => {
                    let name = value_key(&value).map_err(|m| YamlError::at(mark, m))?;
                    *key = Some(Key::Name(name, *mark));
                }
                Some(Key::Merge(at)) => {
                    merge(map, merged, value).map_err(|m| YamlError::at(&at, m))?
                }
                Some(Key::Name(name, at)) => {
                    let repeated = map.contains_key(&name) && !merged.remove(&name);
                    if repeated && duplicates == DuplicateKeys::Error {
                        return Err(YamlError::at(
                            &at,
                            format!("mapping key {name:?} already defined"),
                        ));
                    }
                    map.insert(name, value);
                }
            },
        }
        Ok(())
    }
}

/// go-yaml v2's merge: `<<: *m` sets every key of `m`, overwriting keys set earlier in
/// the same mapping (later explicit keys still win); in `<<: [*a, *b]` earlier maps win.
fn merge(
    map: &mut Map<String, Value>,
    merged: &mut HashSet<String>,
    value: Value,
) -> Result<(), String> {
    let sources = match value {
        Value::Object(m) => vec![m],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(m) => Ok(m),
                _ => Err(MERGE_ERROR.to_owned()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(MERGE_ERROR.to_owned()),
    };
    let mut this_merge = HashSet::new();
    for (k, v) in sources.into_iter().flatten() {
        if this_merge.insert(k.clone()) {
            merged.insert(k.clone());
            map.insert(k, v);
        }
    }
    Ok(())
}

const MERGE_ERROR: &str = "map merge requires map or sequence of maps as the value";

fn is_merge_tag(tag: &Tag) -> bool {
    core_tag(tag) == Some("merge")
}

/// The suffix of a `tag:yaml.org,2002:` tag (`!!int` gives `int`).
fn core_tag(tag: &Tag) -> Option<&str> {
    const CORE: &str = "tag:yaml.org,2002:";
    if tag.handle == CORE {
        return Some(&tag.suffix);
    }
    if tag.handle.is_empty() {
        return tag.suffix.strip_prefix(CORE);
    }
    None
}

/// go-yaml v2's scalar decoding: quoted and block scalars are strings unless tagged,
/// core tags force (and check) a type, other tags leave the text as a string. With
/// [`Schema::Yaml12`], plain words resolve as go-yaml v3 does (so `!!bool yes` fails there, as in v3).
fn resolve_tagged(
    text: &str,
    plain: bool,
    tag: Option<&Tag>,
    schema: Schema,
) -> Result<Scalar, String> {
    let resolve = match schema {
        Schema::Yaml11 => resolve_plain,
        Schema::Yaml12 => resolve_plain_yaml12,
    };
    let Some(tag) = tag else {
        return Ok(if plain { resolve(text) } else { Scalar::Str });
    };
    let want = match core_tag(tag) {
        Some(want @ ("null" | "bool" | "int" | "float")) => want,
        Some("timestamp") if looks_like_date(text) => return Ok(Scalar::Str),
        Some("timestamp") => return Err(format!("cannot decode `{text}` as a !!timestamp")),
        _ => return Ok(Scalar::Str),
    };
    let got = resolve(text);
    let ok = match (&got, want) {
        (Scalar::Null, "null") | (Scalar::Bool(_), "bool") | (Scalar::Float(_), "float") => true,
        (Scalar::Int(_) | Scalar::Uint(_), "int") => true,
        (Scalar::Int(i), "float") => return Ok(Scalar::Float(*i as f64)),
        _ => false,
    };
    if ok {
        Ok(got)
    } else {
        let got = match got {
            Scalar::Null => "null",
            Scalar::Bool(_) => "bool",
            Scalar::Int(_) | Scalar::Uint(_) => "int",
            Scalar::Float(_) => "float",
            Scalar::Str => "str",
        };
        Err(format!("cannot decode !!{got} `{text}` as a !!{want}"))
    }
}

fn looks_like_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

fn scalar_value(scalar: Scalar, text: Cow<'_, str>, binary: bool) -> Result<Value, String> {
    Ok(match scalar {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Int(i) => Value::from(i),
        Scalar::Uint(u) => Value::from(u),
        Scalar::Float(f) => {
            Value::Number(Number::from_f64(f).ok_or_else(|| {
                format!("`{text}` is not representable in JSON (infinity or NaN)")
            })?)
        }
        Scalar::Str if binary => Value::String(base64(&text)?),
        Scalar::Str => Value::String(text.into_owned()),
    })
}

/// sigs.k8s.io/yaml's key conversion: bools and numbers become their text, floats in
/// Go's float32 `%g` form; null and uint64 keys are rejected as there.
fn scalar_key(scalar: Scalar, text: Cow<'_, str>, binary: bool) -> Result<String, String> {
    Ok(match scalar {
        Scalar::Null => return Err("unsupported map key: null".into()),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Uint(_) => return Err(format!("unsupported map key of type uint64: {text}")),
        Scalar::Float(f) => go_float32_key(f),
        Scalar::Str if binary => base64(&text)?,
        Scalar::Str => text.into_owned(),
    })
}

/// [`scalar_key`] for a key that is an alias.
fn value_key(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(i.to_string()),
            (None, Some(f)) if !n.is_u64() => Ok(go_float32_key(f)),
            _ => Err(format!("unsupported map key of type uint64: {n}")),
        },
        Value::Null => Err("unsupported map key: null".into()),
        Value::Array(_) | Value::Object(_) => {
            Err("invalid map key: a mapping or sequence cannot be a key".into())
        }
    }
}

/// `!!binary` content as go-yaml decodes it; bytes that are not UTF-8 become U+FFFD, as Go's JSON
/// encoder would write them.
fn base64(text: &str) -> Result<String, String> {
    crate::encoding::decode_base64(text)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .ok_or_else(|| "!!binary value contains invalid base64 data".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Value {
        load(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn err(text: &str) -> YamlError {
        load(text).expect_err(text)
    }

    #[test]
    fn plain_scalars_resolve_like_go_yaml_v2() {
        let v = one(concat!(
            "a: ~\nb: null\nc: NULL\nd:\ne: y\nf: NO\ng: on\nh: Off\ni: True\n",
            "j: 0x1F\nk: 0o17\nl: 017\nm: 1_000\nn1: +12\no: 0b101\np: 1e3\nq: .5\n",
            "r: 9223372036854775807\ns: 18446744073709551615\nt: 1e400\nu: 08\n",
            "v: 2001-12-14\nw: yEs\nx: 1.0\ny1: -0x1F\n",
        ));
        let want = json!({
            "a": null, "b": null, "c": null, "d": null, "e": true, "f": false, "g": true,
            "h": false, "i": true, "j": 31, "k": 15, "l": 15, "m": 1000, "n1": 12, "o": 5,
            "p": 1000.0, "q": 0.5, "r": 9223372036854775807i64, "s": 18446744073709551615u64,
            "t": "1e400", "u": 8.0, "v": "2001-12-14", "w": "yEs", "x": 1.0, "y1": -31,
        });
        assert_eq!(v, want);
        assert!(v["p"].is_f64() && v["r"].is_i64() && v["j"].is_i64());
        assert_eq!(
            one("9223372036854775808").as_u64(),
            Some(9223372036854775808)
        );
        assert_eq!(one("-9223372036854775809"), json!(-9223372036854775809.0));
    }

    #[test]
    fn yaml12_option_keeps_yaml11_booleans_as_strings() {
        let text = concat!(
            "---\n# empty\n---\n",
            "data: {x: y, n: n, yes: yes, no: NO, on: On, off: OFF, t: true, f: False, i: 1_000,\n",
            "  o: 0755, h: 0x1F, z: ~, q: 'yes', e: 1e3}\n",
            "---\n",
            "on: 1\nyes: 2\n",
        );
        let opts = LoadOptions::default();
        let docs = opts.split_load_yaml12(text).expect("loads");
        assert_eq!(
            docs.len(),
            3,
            "empty documents count, as split_load numbers them"
        );
        assert_eq!(docs[0], Value::Null);
        assert_eq!(
            docs[1],
            json!({"data": {
                "x": "y", "n": "n", "yes": "yes", "no": "NO", "on": "On", "off": "OFF",
                "t": true, "f": false, "i": 1000, "o": 493, "h": 31, "z": null, "q": "yes",
                "e": 1000.0,
            }})
        );
        // Keys too: no longer both `true`, so no duplicate.
        assert_eq!(docs[2], json!({"on": 1, "yes": 2}));
        // The same numbering as split_load (lenient here: under go-yaml v2 `n`, `no` and `off` are
        // all the key `false`).
        let lenient = LoadOptions {
            duplicate_keys: DuplicateKeys::LastWins,
        };
        assert_eq!(
            super::super::split_load(text, &lenient).map(|d| d.len()),
            Ok(docs.len())
        );
        assert_eq!(opts.load_all_yaml12(text).map(|d| d.len()), Ok(2));
        // go-yaml v3 refuses `!!bool yes`; the default (v2) takes it.
        assert!(opts.load_all_yaml12("a: !!bool yes\n").is_err());
        assert_eq!(one("a: !!bool yes\n"), json!({"a": true}));
        // The default is untouched.
        assert_eq!(one("x: y\nn: NO\n"), json!({"x": true, "false": false}));
    }

    #[test]
    fn quoted_block_and_tagged_scalars() {
        let v = one(concat!(
            "a: 'yes'\nb: \"1\"\nc: |\n  on\nd: >-\n  12\ne: !!str 12\nf: !!int \"12\"\n",
            "g: !!float 1\nh: !!bool yes\ni: !!null ''\nj: !!binary aGVsbG8=\nk: !custom 12\n",
            "l: ! 12\nm: !<tag:yaml.org,2002:int> '7'\n",
        ));
        let want = json!({
            "a": "yes", "b": "1", "c": "on\n", "d": "12", "e": "12", "f": 12, "g": 1.0,
            "h": true, "i": null, "j": "hello", "k": "12", "l": "12", "m": 7,
        });
        assert_eq!(v, want);
        assert!(v["g"].is_f64());
        assert!(err("a: !!int 1.5").message.contains("as a !!int"));
        assert!(err("a: !!binary '%%%'").message.contains("base64"));
        assert!(err("a: !!null x").message.contains("!!null"));
    }

    #[test]
    fn keys_are_stringified_like_sigs_k8s_yaml() {
        let v = one("1: a\ntrue: b\n1.5: c\n1e6: d\n0x1F: e\nno: f\n.inf: g\n");
        let keys: Vec<&String> = v
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["1", "true", "1.5", "1e+06", "31", "false", ".inf"]);
        assert!(err("~: a").message.contains("null"));
        assert!(err("18446744073709551615: a").message.contains("uint64"));
        assert!(err("? [a]\n: b").message.contains("invalid map key"));
        assert!(err("a: .inf").message.contains("JSON"));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let v = one(concat!(
            "base: &b {a: 1, b: 2}\nother: &o {b: 3, c: 4}\nlist: &l [x, z]\n",
            "copy: *l\nm1:\n  a: 10\n  <<: *b\nm2:\n  <<: [*b, *o]\n  c: 9\nm3:\n  <<: *b\n  a: 11\n",
            "k: &key name\n*key : aliased\n",
        ));
        assert_eq!(v["copy"], json!(["x", "z"]));
        // go-yaml v2 (checked with kubectl): a merge overwrites keys set before it.
        assert_eq!(v["m1"], json!({"a": 1, "b": 2}));
        assert_eq!(v["m2"], json!({"a": 1, "b": 2, "c": 9}));
        assert_eq!(v["m3"], json!({"a": 11, "b": 2}));
        assert_eq!(v["name"], json!("aliased"));
        assert!(err("a: *nope").message.contains("anchor"));
        assert!(err("a: &x 1\n<<: *x").message.contains("merge"));
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert!(err(&text).message.contains("expand to more than"));
    }

    #[test]
    fn aliases_of_a_huge_scalar_are_bounded_by_bytes() {
        let big = "x".repeat(1024 * 1024);
        let refs = ["*big"; 100].join(", ");
        // A real amount of aliasing passes.
        let few = format!("big: &big {big}\nrefs: [*big, *big]\n");
        assert_eq!(one(&few)["refs"].as_array().unwrap().len(), 2);
        let text = format!("big: &big {big}\nrefs: [{refs}]\n");
        let e = err(&text);
        assert!(e.message.contains("MiB of scalars"), "{e}");
    }

    #[test]
    fn the_alias_budget_spans_every_document_read() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..5 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            doc.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        // One document copies about 222,000 nodes: fine alone, not 10 times over.
        assert!(load(&doc).is_ok());
        let stream = [doc.as_str(); 10].join("---\n");
        let e = super::super::split_load(&stream, &LoadOptions::default()).unwrap_err();
        assert!(e.message.contains("expand to more than"), "{e}");
    }

    #[test]
    fn duplicate_keys() {
        let e = err("a: 1\nb: 2\na: 3\n");
        assert_eq!((e.line, e.column), (3, 1));
        assert!(e.message.contains("\"a\" already defined"), "{e}");
        assert_eq!(err("on: 1\nyes: 2\n").line, 2);
        let lenient = LoadOptions {
            duplicate_keys: DuplicateKeys::LastWins,
        };
        assert_eq!(load_with("a: 1\na: 3\n", &lenient), Ok(json!({"a": 3})));
    }

    #[test]
    fn errors_carry_positions() {
        let e = err("a: 1\nb: c: d\n");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.to_string().starts_with("line 2, column "), "{e}");
        assert_eq!(err("a: 1\n---\nb: 2\n").line, 2);
        assert_eq!(load("---\n# c\n---\na: 1\n---\n"), Ok(json!({"a": 1})));
        assert_eq!(err("x:\n  y: \"unterminated\n").line, 2);
    }

    #[test]
    fn documents() {
        assert_eq!(one(""), Value::Null);
        assert_eq!(one("# only a comment\n"), Value::Null);
        let all = load_all("---\n# empty\n---\na: 1\n--- null\n...\n---\n[1]\n");
        assert_eq!(all, Ok(vec![json!({"a": 1}), Value::Null, json!([1])]));
    }

    #[test]
    fn garbage_never_panics() {
        let mut inputs: Vec<String> = [
            "\"unterminated",
            "'x",
            "a: [1, 2",
            "{a: 1",
            "\t- a",
            "a:\n\t- b",
            "- - - -",
            "&a *a",
            "a: &a [*a]",
            "!!binary",
            "? ? ?",
            ": : :",
            "%YAML 1.1\n%YAML 1.1\n---",
            "\u{feff}a: 1",
            "a: b\u{0}c",
            "\u{85}\u{2028}",
            "---\n...\n...\n---",
            "|\n  x\n ---",
            "a: !<x> 1",
            "a: 99999999999999999999999999999999999",
            "a: -.5e-99999",
            "[[[[[[[[[[]]]]]]]]]]",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        inputs.push("[".repeat(100_000));
        inputs.push("{a: ".repeat(10_000));
        let deep: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        inputs.push(deep);
        inputs.push("- ".repeat(5000) + "x");
        let alphabet = b"ab:- \n\t'\"[]{}&*!|>#?,.~01";
        let mut seed = 0x9e3779b97f4a7c15u64;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..seed % 40)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            inputs.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        for input in &inputs {
            let _ = load_all(input);
            let _ = super::super::split(input);
        }
        assert!(load(&"[".repeat(1000)).is_err());
    }
}
