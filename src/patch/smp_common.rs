//! Pieces shared by the apimachinery and kustomize strategic-merge engines: directive
//! names, the error type with its field path, and hashable, type-sensitive value keys.

use std::fmt;

use serde_json::{Map, Value};

use super::redact::{Quote, Quoted, Redact};

pub(crate) const DIRECTIVE: &str = "$patch";
pub(crate) const RETAIN_KEYS: &str = "$retainKeys";
pub(crate) const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
pub(crate) const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// Nesting deeper than this is rejected instead of risking the stack.
pub(crate) const MAX_DEPTH: usize = 512;

/// Which engine semantics to follow.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum SmpMode {
    /// `kubectl patch` / the API server (k8s.io/apimachinery strategicpatch).
    #[default]
    Apimachinery,
    /// kustomize 5.x `patches:` (kyaml merge2, prepend ordering, v1.21.2 schema).
    Kustomize,
}

#[derive(Debug, Clone)]
enum PathSeg {
    Field(String),
    /// A list element, described by its key values (which are values, so may be withheld).
    Item(Quoted),
}

/// A failed strategic merge: the upstream error text plus where in the object it happened.
///
/// Messages and item descriptions that quote values are built through a [`Quote`], so that
/// [`Redact::redacted`] can render the error without them.
#[derive(Debug, Clone)]
pub struct SmpError {
    /// Innermost segment first; errors gain segments while they unwind.
    path: Vec<PathSeg>,
    message: Quoted,
}

impl SmpError {
    /// An error whose message quotes no value (use [`SmpError::quoting`] otherwise).
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            path: Vec::new(),
            message: Quoted::plain(message),
        }
    }

    /// An error whose message quotes values, each rendered through the given [`Quote`].
    pub(crate) fn quoting(build: impl Fn(Quote) -> String) -> Self {
        Self {
            path: Vec::new(),
            message: Quoted::new(build),
        }
    }

    /// The upstream (apimachinery or kustomize) error text, without the location.
    pub fn message(&self) -> &str {
        self.message.full()
    }

    /// Location of the failing field, e.g. `spec.template.spec.containers[name=app].ports`.
    pub fn path(&self) -> String {
        self.render_path(false)
    }

    fn render_path(&self, hide: bool) -> String {
        let mut out = String::new();
        for seg in self.path.iter().rev() {
            match seg {
                PathSeg::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                PathSeg::Item(desc) => {
                    out.push('[');
                    out.push_str(desc.render(hide));
                    out.push(']');
                }
            }
        }
        out
    }

    fn render(&self, hide: bool) -> String {
        let message = self.message.render(hide);
        if self.path.is_empty() {
            message.to_owned()
        } else {
            format!("{}: {message}", self.render_path(hide))
        }
    }

    fn quotes_values(&self) -> bool {
        self.message.redacted().is_some()
            || self.path.iter().any(|seg| match seg {
                PathSeg::Item(desc) => desc.redacted().is_some(),
                PathSeg::Field(_) => false,
            })
    }
}

impl fmt::Display for SmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl Redact for SmpError {
    fn redacted(&self) -> Option<String> {
        self.quotes_values().then(|| self.render(true))
    }
}

impl std::error::Error for SmpError {}

/// Adds path segments to errors as they propagate out of nested merges.
pub(crate) trait AtPath {
    fn at_field(self, name: &str) -> Self;
    /// `desc` describes the element, rendering its key values through the [`Quote`].
    fn at_item(self, desc: impl Fn(Quote) -> String) -> Self;
}

impl<T> AtPath for Result<T, SmpError> {
    fn at_field(self, name: &str) -> Self {
        self.map_err(|mut e| {
            e.path.push(PathSeg::Field(name.to_owned()));
            e
        })
    }

    fn at_item(self, desc: impl Fn(Quote) -> String) -> Self {
        self.map_err(|mut e| {
            e.path.push(PathSeg::Item(Quoted::new(desc)));
            e
        })
    }
}

/// Whether a patch document is a top-level `$patch: delete` (the caller drops the resource).
pub fn is_delete_patch(patch: &Value) -> bool {
    patch.get(DIRECTIVE).and_then(Value::as_str) == Some("delete")
}

/// A value usable as a hash key with Go `==` semantics on decoded JSON: type-sensitive
/// (`80` ≠ `"80"`, integer `1` ≠ float `1.0`). Maps and lists (which Go cannot compare)
/// compare structurally through their serialisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(String),
    Compound(String),
}

impl Key {
    pub(crate) fn of(v: &Value) -> Key {
        match v {
            Value::Null => Key::Null,
            Value::Bool(b) => Key::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Key::Int(i),
                // Go's decoder turns integers beyond int64 into float64, like every non-integer.
                None => {
                    let f = n.as_f64().unwrap_or(f64::NAN);
                    Key::Float(if f == 0.0 { 0 } else { f.to_bits() })
                }
            },
            Value::String(s) => Key::Str(s.clone()),
            Value::Array(_) | Value::Object(_) => Key::Compound(v.to_string()),
        }
    }
}

/// Go's `%v` rendering of a decoded JSON value, for error messages that quote values; only
/// through a [`Quote`], which may withhold it.
pub(crate) fn go_fmt(q: Quote, v: &Value) -> String {
    q.value(|| go_fmt_value(v))
}

/// [`go_fmt`] of a mapping.
pub(crate) fn go_fmt_map(q: Quote, m: &Map<String, Value>) -> String {
    q.value(|| go_fmt_mapping(m))
}

fn go_fmt_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(go_fmt_value).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(m) => go_fmt_mapping(m),
    }
}

fn go_fmt_mapping(m: &Map<String, Value>) -> String {
    let mut parts: Vec<(&String, String)> = m.iter().map(|(k, v)| (k, go_fmt_value(v))).collect();
    parts.sort_by(|a, b| a.0.cmp(b.0));
    let parts: Vec<String> = parts.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
    format!("map[{}]", parts.join(" "))
}

/// Go's `reflect.TypeOf` name of a decoded JSON value, for `expected a …` errors.
pub(crate) fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "%!s(<nil>)",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Describes a list element for error paths: `name=app`, or the value of a scalar.
pub(crate) fn item_desc(q: Quote, key_name: &str, value: &Value) -> String {
    if key_name.is_empty() {
        go_fmt(q, value)
    } else {
        format!("{key_name}={}", go_fmt(q, value))
    }
}

/// Go `reflect.TypeOf` equivalence classes of decoded JSON values (apimachinery decodes integers
/// as int64), for the type checks both patch directions make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GoType {
    Nil,
    Bool,
    Int,
    Float,
    Str,
    Map,
    Slice,
}

pub(super) fn go_type(v: &Value) -> GoType {
    match v {
        Value::Null => GoType::Nil,
        Value::Bool(_) => GoType::Bool,
        Value::Number(n) if n.is_i64() => GoType::Int,
        Value::Number(_) => GoType::Float,
        Value::String(_) => GoType::Str,
        Value::Object(_) => GoType::Map,
        Value::Array(_) => GoType::Slice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_type_sensitive() {
        assert_ne!(Key::of(&json!(80)), Key::of(&json!("80")));
        assert_ne!(Key::of(&json!(1)), Key::of(&json!(1.0)));
        assert_eq!(Key::of(&json!(0.0)), Key::of(&json!(-0.0)));
        assert_eq!(Key::of(&json!({"a": 1})), Key::of(&json!({"a": 1})));
    }

    #[test]
    fn error_path_rendering() {
        let e: Result<(), SmpError> = Err(SmpError::new("boom"));
        let e = e
            .at_field("ports")
            .at_item(|q| format!("name={}", q.value(|| "app".into())))
            .at_field("containers")
            .at_field("spec")
            .unwrap_err();
        assert_eq!(e.path(), "spec.containers[name=app].ports");
        assert_eq!(e.to_string(), "spec.containers[name=app].ports: boom");
        assert_eq!(
            e.redacted().as_deref(),
            Some("spec.containers[name=<hidden>].ports: boom")
        );
        let plain: Result<(), SmpError> = Err(SmpError::new("boom"));
        assert_eq!(plain.at_field("spec").unwrap_err().redacted(), None);
    }

    #[test]
    fn go_formatting() {
        let shown = Quoted::new(|q| go_fmt(q, &json!({"b": [1, "x"], "a": null})));
        assert_eq!(shown.full(), "map[a:<nil> b:[1 x]]");
        assert_eq!(shown.redacted(), Some("<hidden>"));
        assert!(is_delete_patch(&json!({"$patch": "delete"})));
        assert!(!is_delete_patch(&json!({"$patch": "replace"})));
    }
}
