//! Custom resources against the `openAPIV3Schema` of their CRD, with the API server's semantics
//! rather than plain JSON Schema's: CRD schemas are structural (no `$ref`, a type on every node),
//! `nullable` is OpenAPI's, a `null` field that is not nullable is dropped before validation (so a
//! required one is missing), a missing field with a `default` gets it, `x-kubernetes-int-or-string`
//! takes either, and a field the schema does not specify is pruned, so it is reported as unknown —
//! unless `x-kubernetes-preserve-unknown-fields` keeps it. `apiVersion`, `kind` and `metadata` of
//! the object (and of an `x-kubernetes-embedded-resource`) are the API server's, not the schema's.
//! Not checked: `format`, `x-kubernetes-validations` (CEL), list-map key uniqueness.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value};

use super::de::{Path, suggest};

/// One problem with a custom resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: Path,
    pub message: String,
}

/// The CRDs of the input, by group and kind.
#[derive(Debug, Default)]
pub struct Crds<'a> {
    by_kind: HashMap<(String, String), Crd<'a>>,
}

#[derive(Debug)]
struct Crd<'a> {
    name: &'a str,
    versions: Vec<CrdVersion<'a>>,
}

#[derive(Debug)]
struct CrdVersion<'a> {
    name: &'a str,
    served: bool,
    schema: Option<&'a Value>,
}

/// What the CRDs say about one apiVersion and kind.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// No CRD defines the kind in that group.
    Missing,
    /// The CRD serves the version with this schema.
    Schema(&'a Value),
    /// The CRD serves the version without a schema (apiextensions v1beta1 allowed that).
    NoSchema,
    /// The CRD has the version but does not serve it.
    NotServed { crd: &'a str },
    /// The CRD has no such version.
    NoVersion {
        crd: &'a str,
        versions: Vec<&'a str>,
    },
}

impl<'a> Crds<'a> {
    /// Indexes the CRDs among `values` (anything else is skipped).
    pub fn new(values: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut by_kind = HashMap::new();
        for crd in values {
            let text = |ptr: &str| crd.pointer(ptr).and_then(Value::as_str);
            let (Some(group), Some(kind)) = (text("/spec/group"), text("/spec/names/kind")) else {
                continue;
            };
            let shared = crd.pointer("/spec/validation/openAPIV3Schema");
            let mut versions: Vec<CrdVersion> = crd
                .pointer("/spec/versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| {
                    Some(CrdVersion {
                        name: v.get("name")?.as_str()?,
                        served: v.get("served").and_then(Value::as_bool).unwrap_or(true),
                        schema: v.pointer("/schema/openAPIV3Schema").or(shared),
                    })
                })
                .collect();
            if versions.is_empty()
                && let Some(name) = text("/spec/version")
            {
                versions.push(CrdVersion {
                    name,
                    served: true,
                    schema: shared,
                });
            }
            let name = text("/metadata/name").unwrap_or(kind);
            by_kind.insert(
                (group.to_string(), kind.to_string()),
                Crd { name, versions },
            );
        }
        Crds { by_kind }
    }

    /// What the CRDs say about `apiVersion`/`kind`.
    pub fn lookup(&self, api_version: &str, kind: &str) -> Lookup<'a> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let Some(crd) = self.by_kind.get(&(group.to_string(), kind.to_string())) else {
            return Lookup::Missing;
        };
        match crd.versions.iter().find(|v| v.name == version) {
            None => Lookup::NoVersion {
                crd: crd.name,
                versions: crd.versions.iter().map(|v| v.name).collect(),
            },
            Some(v) if !v.served => Lookup::NotServed { crd: crd.name },
            Some(v) => v.schema.map_or(Lookup::NoSchema, Lookup::Schema),
        }
    }
}

/// Validates values against CRD schemas; compiled patterns are kept for the whole run.
#[derive(Debug, Default)]
pub struct Validator {
    patterns: RefCell<HashMap<String, Option<Regex>>>,
}

impl Validator {
    /// The problems of a custom resource under its version's schema (`metadata` excluded).
    pub fn object(&self, schema: &Value, value: &Value) -> Vec<Finding> {
        let mut out = Vec::new();
        self.node(schema, value, &Path::default(), &mut out, true, true);
        out
    }

    /// Checks `v` against the schema node `s`. `structural`: report fields the schema does not
    /// specify (off inside `allOf`/`anyOf`/`oneOf`/`not`, which only validate values). `resource`:
    /// `v` is an object whose `apiVersion`, `kind` and `metadata` belong to the API server.
    fn node(
        &self,
        s: &Value,
        v: &Value,
        path: &Path,
        out: &mut Vec<Finding>,
        structural: bool,
        resource: bool,
    ) {
        let Some(s) = s.as_object() else {
            return;
        };
        let mut push = |message: String| {
            out.push(Finding {
                path: path.clone(),
                message,
            })
        };
        if v.is_null() {
            if !flag(s, "nullable")
                && let Some(t) = s.get("type").and_then(Value::as_str)
            {
                push(format!("expected {t}, got null"));
            }
            return;
        }
        if flag(s, "x-kubernetes-int-or-string") {
            if !(is_integer(v) || v.is_string()) {
                push(format!(
                    "expected an integer or a string, got {}",
                    json_type(v)
                ));
                return;
            }
        } else if let Some(t) = s.get("type").and_then(Value::as_str)
            && !type_matches(t, v)
        {
            push(format!("expected {t}, got {}", json_type(v)));
            return;
        }
        if let Some(allowed) = s.get("enum").and_then(Value::as_array)
            && !allowed.iter().any(|a| same(a, v))
        {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            push(format!("must be one of {}", list.join(", ")));
        }
        match v {
            Value::String(text) => self.string(s, text, &mut push),
            Value::Number(n) => number(s, n.as_f64().unwrap_or(f64::NAN), &mut push),
            Value::Array(items) => {
                let len = items.len() as f64;
                if let Some(min) = num(s, "minItems").filter(|m| len < *m) {
                    push(format!("must have at least {min} items"));
                }
                if let Some(max) = num(s, "maxItems").filter(|m| len > *m) {
                    push(format!("must have at most {max} items"));
                }
                match s.get("items") {
                    Some(Value::Array(schemas)) => {
                        for (i, (item, schema)) in items.iter().zip(schemas).enumerate() {
                            let embedded = is_embedded(schema);
                            self.node(schema, item, &path.index(i), out, structural, embedded);
                        }
                    }
                    Some(schema) => {
                        let embedded = is_embedded(schema);
                        for (i, item) in items.iter().enumerate() {
                            self.node(schema, item, &path.index(i), out, structural, embedded);
                        }
                    }
                    None => {}
                }
            }
            Value::Object(map) => self.fields(s, map, path, out, structural, resource),
            _ => {}
        }
        self.junctors(s, v, path, out);
    }

    fn string(&self, s: &Map<String, Value>, text: &str, push: &mut impl FnMut(String)) {
        let len = text.chars().count() as f64;
        if let Some(min) = num(s, "minLength").filter(|m| len < *m) {
            push(format!("must be at least {min} characters long"));
        }
        if let Some(max) = num(s, "maxLength").filter(|m| len > *m) {
            push(format!("must be at most {max} characters long"));
        }
        if let Some(pattern) = s.get("pattern").and_then(Value::as_str) {
            let mut cache = self.patterns.borrow_mut();
            let re = cache
                .entry(pattern.to_string())
                .or_insert_with(|| Regex::new(pattern).ok());
            if re.as_ref().is_some_and(|re| !re.is_match(text)) {
                push(format!("does not match the pattern {pattern:?}"));
            }
        }
    }

    fn fields(
        &self,
        s: &Map<String, Value>,
        map: &Map<String, Value>,
        path: &Path,
        out: &mut Vec<Finding>,
        structural: bool,
        resource: bool,
    ) {
        let props = s.get("properties").and_then(Value::as_object);
        let additional = s.get("additionalProperties");
        let len = map.len() as f64;
        if let Some(min) = num(s, "minProperties").filter(|m| len < *m) {
            out.push(Finding {
                path: path.clone(),
                message: format!("must have at least {min} fields"),
            });
        }
        if let Some(max) = num(s, "maxProperties").filter(|m| len > *m) {
            out.push(Finding {
                path: path.clone(),
                message: format!("must have at most {max} fields"),
            });
        }
        let prop = |key: &str| props.and_then(|p| p.get(key));
        for key in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if resource && is_server_field(key) {
                continue;
            }
            let schema = prop(key).and_then(Value::as_object);
            let present = match map.get(key) {
                None => false,
                Some(Value::Null) => schema.is_some_and(|p| flag(p, "nullable")),
                Some(_) => true,
            };
            if !present && !schema.is_some_and(|p| p.contains_key("default")) {
                out.push(Finding {
                    path: path.key(key),
                    message: "required field missing".into(),
                });
            }
        }
        let prunes = !flag(s, "x-kubernetes-preserve-unknown-fields")
            && !matches!(additional, Some(Value::Bool(true)) | Some(Value::Object(_)))
            && (props.is_some()
                || s.get("type").and_then(Value::as_str) == Some("object")
                || additional == Some(&Value::Bool(false)));
        for (key, value) in map {
            if resource && is_server_field(key) {
                continue;
            }
            let schema = prop(key).or(additional.filter(|a| a.is_object()));
            match schema {
                // A null that is not nullable is dropped before validation.
                Some(schema) if value.is_null() && !nullable(schema) => {}
                Some(schema) => {
                    let embedded = is_embedded(schema);
                    self.node(schema, value, &path.key(key), out, structural, embedded);
                }
                None if structural && prunes && !value.is_null() => {
                    let known = props.into_iter().flat_map(|p| p.keys().map(String::as_str));
                    let hint = suggest(key, known)
                        .map_or_else(String::new, |s| format!(" (did you mean {s}?)"));
                    out.push(Finding {
                        path: path.key(key),
                        message: format!("unknown field{hint}"),
                    });
                }
                None => {}
            }
        }
    }

    /// `allOf`, `anyOf`, `oneOf` and `not`: value validations only, as in a structural schema.
    fn junctors(&self, s: &Map<String, Value>, v: &Value, path: &Path, out: &mut Vec<Finding>) {
        let subs = |key: &str| s.get(key).and_then(Value::as_array).into_iter().flatten();
        for sub in subs("allOf") {
            self.node(sub, v, path, out, false, false);
        }
        let results = |key: &str| -> Vec<Vec<Finding>> {
            subs(key)
                .map(|sub| {
                    let mut found = Vec::new();
                    self.node(sub, v, path, &mut found, false, false);
                    found
                })
                .collect()
        };
        let any = results("anyOf");
        if !any.is_empty() && any.iter().all(|r| !r.is_empty()) {
            let first = &any[0][0];
            out.push(Finding {
                path: path.clone(),
                message: format!(
                    "matches none of the anyOf schemas (the first: {})",
                    describe(first, path)
                ),
            });
        }
        let one = results("oneOf");
        let matching = one.iter().filter(|r| r.is_empty()).count();
        if !one.is_empty() && matching != 1 {
            out.push(Finding {
                path: path.clone(),
                message: format!("matches {matching} of the oneOf schemas, not exactly one"),
            });
        }
        if let Some(not) = s.get("not") {
            let mut found = Vec::new();
            self.node(not, v, path, &mut found, false, false);
            if found.is_empty() {
                out.push(Finding {
                    path: path.clone(),
                    message: "matches the schema under not".into(),
                });
            }
        }
    }
}

/// A finding inside a junctor, relative to where the junctor is.
fn describe(finding: &Finding, at: &Path) -> String {
    let rest = Path(finding.path.0[at.0.len().min(finding.path.0.len())..].to_vec());
    if rest.0.is_empty() {
        finding.message.clone()
    } else {
        format!("{rest}: {}", finding.message)
    }
}

fn number(s: &Map<String, Value>, x: f64, push: &mut impl FnMut(String)) {
    let exclusive = |bound: &str, key: &str| match s.get(key) {
        Some(Value::Bool(b)) => (*b).then(|| num(s, bound)).flatten(),
        Some(Value::Number(n)) => n.as_f64(),
        _ => None,
    };
    let exclusive_min = exclusive("minimum", "exclusiveMinimum");
    let exclusive_max = exclusive("maximum", "exclusiveMaximum");
    match (num(s, "minimum"), exclusive_min) {
        (_, Some(min)) if x <= min => push(format!("must be greater than {min}")),
        (Some(min), _) if x < min => push(format!("must be at least {min}")),
        _ => {}
    }
    match (num(s, "maximum"), exclusive_max) {
        (_, Some(max)) if x >= max => push(format!("must be less than {max}")),
        (Some(max), _) if x > max => push(format!("must be at most {max}")),
        _ => {}
    }
    if let Some(m) = num(s, "multipleOf").filter(|m| *m > 0.0) {
        let q = x / m;
        if (q - q.round()).abs() > 1e-9 {
            push(format!("must be a multiple of {m}"));
        }
    }
}

/// `apiVersion`, `kind` and `metadata`: checked by the API server, never by a CRD's schema.
fn is_server_field(key: &str) -> bool {
    matches!(key, "apiVersion" | "kind" | "metadata")
}

fn flag(s: &Map<String, Value>, key: &str) -> bool {
    s.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn nullable(s: &Value) -> bool {
    s.as_object().is_some_and(|s| flag(s, "nullable"))
}

fn is_embedded(s: &Value) -> bool {
    s.as_object()
        .is_some_and(|s| flag(s, "x-kubernetes-embedded-resource"))
}

fn num(s: &Map<String, Value>, key: &str) -> Option<f64> {
    s.get(key).and_then(Value::as_f64)
}

fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => is_integer(v),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

/// The JSON type of a value, as the messages name it (never the value: it may be a secret).
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) if is_integer(v) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// JSON equality, with numbers compared by value (`1` and `1.0` are one number).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
