//! `--validate-offline`: every object of the final stream checked without a cluster.
//!
//! * Built-in kinds against the Kubernetes API types of k8s-openapi (Kubernetes 1.33): a value of
//!   the wrong type (`spec.replicas: "three"`) and every field the type does not declare
//!   (`spec.replcias`, with the closest declared name as a suggestion), by field path.
//! * Custom resources against the `openAPIV3Schema` of a CRD of the same input (or of the chart's
//!   `crds/`), with the API server's structural-schema semantics ([`schema`]).
//! * Anything else is an object of an unknown kind: an error (a warning with
//!   `--validate-offline-allow-unknown-kinds`).
//!
//! Every problem of every object is listed, each with the file, the document number, the object
//! and the field path; any error fails the run before helm gets the objects.

mod builtin;
mod de;
mod schema;

use std::fmt;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::stream::{Document, Stream};
use de::{Ctx, Path};
use schema::{Crds, Lookup, Validator};

/// The Kubernetes version of the built-in types (k8s-openapi's feature).
pub const KUBERNETES_VERSION: &str = "1.33";

/// Problems listed in one error, at most; the count of the others is given.
const MAX_LISTED: usize = 200;

/// Type errors looked for in one object: each one found is taken out and the object read again.
const MAX_TYPE_ERRORS: usize = 50;

/// How `--validate-offline` treats what it cannot check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// `--validate-offline-allow-unknown-kinds`: objects of unknown kinds are warnings.
    pub allow_unknown_kinds: bool,
}

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File, document number and object: `c/templates/web.yaml: document 3: Deployment apps/web`.
    pub object: String,
    /// The field path, empty for the object as a whole.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.object, self.message)
        } else {
            write!(f, "{}: {}: {}", self.object, self.path, self.message)
        }
    }
}

/// The problems of a stream.
#[derive(Debug, Default)]
pub struct Report {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

/// Checks the stream (with `extra_crds`, the chart's `crds/` that helm installs unrendered):
/// the warnings when it passes, else an error listing every problem.
pub fn check(stream: &Stream, extra_crds: &[Value], options: Options) -> Result<Vec<String>> {
    check_documents(&stream.documents, &stream.documents, extra_crds, options)
}

/// Checks `documents`, knowing the CRDs among `context` and `extra_crds`.
pub fn check_documents<'a>(
    documents: impl IntoIterator<Item = &'a Document>,
    context: &[Document],
    extra_crds: &[Value],
    options: Options,
) -> Result<Vec<String>> {
    let report = report(documents, context, extra_crds, options)?;
    let warnings = report.warnings.iter().map(ToString::to_string).collect();
    if report.errors.is_empty() {
        return Ok(warnings);
    }
    let objects = {
        let mut seen: Vec<&str> = report.errors.iter().map(|p| p.object.as_str()).collect();
        seen.dedup();
        seen.len()
    };
    let count = report.errors.len();
    let mut text = format!(
        "--validate-offline: {count} problem{} in {objects} object{}:",
        plural(count),
        plural(objects)
    );
    for problem in report.errors.iter().take(MAX_LISTED) {
        text.push_str("\n  ");
        text.push_str(&problem.to_string());
    }
    if count > MAX_LISTED {
        text.push_str(&format!("\n  … and {} more", count - MAX_LISTED));
    }
    for warning in &warnings {
        eprintln!("helm-x: warning: {warning}");
    }
    bail!(text)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Every problem of `documents`.
pub fn report<'a>(
    documents: impl IntoIterator<Item = &'a Document>,
    context: &[Document],
    extra_crds: &[Value],
    options: Options,
) -> Result<Report> {
    let mut crd_values: Vec<&Value> = extra_crds.iter().collect();
    for doc in context.iter().filter(|d| d.is_crd()) {
        crd_values.push(doc.value()?);
    }
    let checker = Checker {
        crds: Crds::new(crd_values),
        schemas: Validator::default(),
        options,
    };
    let documents: Vec<&Document> = documents.into_iter().collect();
    Document::parse_all(documents.iter().copied())?;
    let mut report = Report::default();
    for doc in documents {
        if doc.is_null() {
            continue;
        }
        let value = doc.value()?;
        if value.is_null() {
            continue;
        }
        let object = label(doc);
        checker.object(value, &object, &Path::default(), &mut report);
    }
    Ok(report)
}

/// `FILE: document N: Kind namespace/name`.
fn label(doc: &Document) -> String {
    let file = doc
        .source()
        .filter(|s| !s.is_empty())
        .or(Some(doc.file.as_str()).filter(|f| !f.is_empty()))
        .unwrap_or_else(|| doc.origin_name());
    let mut out = String::new();
    if !file.is_empty() {
        out.push_str(file);
        out.push_str(": ");
    }
    if doc.number() > 0 {
        out.push_str(&format!("document {}: ", doc.number()));
    }
    out.push_str(&object_name(doc.kind(), doc.namespace(), doc.name()));
    out
}

fn object_name(kind: &str, namespace: &str, name: &str) -> String {
    let kind = if kind.is_empty() { "object" } else { kind };
    match (namespace, name) {
        (_, "") => format!("{kind} (no name)"),
        ("", name) => format!("{kind} {name}"),
        (ns, name) => format!("{kind} {ns}/{name}"),
    }
}

struct Checker<'a> {
    crds: Crds<'a>,
    schemas: Validator,
    options: Options,
}

impl Checker<'_> {
    /// Checks one object found at `at` (the root, or a `List`'s item).
    fn object(&self, value: &Value, object: &str, at: &Path, report: &mut Report) {
        let mut error = |path: &Path, message: String| {
            report.errors.push(Problem {
                object: object.to_string(),
                path: path.to_string(),
                message,
            })
        };
        let Some(map) = value.as_object() else {
            error(
                at,
                format!("not a Kubernetes object: a YAML {}", kind_of(value)),
            );
            return;
        };
        let text = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or_default();
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        if api_version.is_empty() || kind.is_empty() {
            let missing = if api_version.is_empty() {
                "apiVersion"
            } else {
                "kind"
            };
            error(at, format!("not a Kubernetes object: no {missing}"));
            return;
        }
        if kind.ends_with("List")
            && api_version == "v1"
            && let Some(items) = map.get("items").and_then(Value::as_array)
        {
            for (i, item) in items.iter().enumerate() {
                let name = |key: &str| {
                    item.pointer(&format!("/metadata/{key}"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                };
                let kind = item.get("kind").and_then(Value::as_str).unwrap_or_default();
                let label = format!(
                    "{object}: item {i}: {}",
                    object_name(kind, name("namespace"), name("name"))
                );
                self.object(item, &label, &at.key("items").index(i), report);
            }
            return;
        }
        let secret = kind == "Secret" && api_version == "v1";
        if let Some(check) = builtin::lookup(api_version, kind) {
            for (path, message) in typed(check, value, at, secret) {
                error(&path, message);
            }
            return;
        }
        let schema = match self.crds.lookup(api_version, kind) {
            Lookup::Schema(schema) => Some(schema),
            Lookup::NoSchema => None,
            Lookup::NotServed { crd } => {
                error(at, format!("the CRD {crd} does not serve {api_version}"));
                return;
            }
            Lookup::NoVersion { crd, versions } => {
                error(
                    at,
                    format!(
                        "the CRD {crd} has no version {api_version} (it has {})",
                        versions.join(", ")
                    ),
                );
                return;
            }
            Lookup::Missing => {
                let message = self.unknown_kind(api_version, kind);
                let problem = Problem {
                    object: object.to_string(),
                    path: at.to_string(),
                    message,
                };
                if self.options.allow_unknown_kinds {
                    report.warnings.push(problem);
                } else {
                    report.errors.push(problem);
                }
                return;
            }
        };
        if let Some(meta) = map.get("metadata").filter(|m| !m.is_null()) {
            let check: builtin::Check = builtin::check_metadata;
            for (path, message) in typed(check, meta, &at.key("metadata"), false) {
                error(&path, message);
            }
        }
        if let Some(schema) = schema {
            for finding in self.schemas.object(schema, value) {
                let path = Path([at.0.clone(), finding.path.0].concat());
                error(&path, finding.message);
            }
        }
    }

    fn unknown_kind(&self, api_version: &str, kind: &str) -> String {
        let served = builtin::versions_of(kind);
        let hint = if served.is_empty() {
            String::new()
        } else {
            format!(
                "; Kubernetes {KUBERNETES_VERSION} has {kind} as {}",
                served.join(", ")
            )
        };
        let skip = if self.options.allow_unknown_kinds {
            ""
        } else {
            " (--validate-offline-allow-unknown-kinds makes this a warning)"
        };
        format!(
            "unknown kind {kind} (apiVersion {api_version}): no built-in type and no CRD in the \
             input; not validated{hint}{skip}"
        )
    }
}

/// The problems of an object of a built-in kind (or of a `metadata`), found at `at`: type errors
/// first (each one is taken out and the object read again, so all are found), then unknown fields.
fn typed(check: builtin::Check, value: &Value, at: &Path, secret: bool) -> Vec<(Path, String)> {
    let mut out = Vec::new();
    let mut unknown: Vec<de::Unknown> = Vec::new();
    let mut work: Option<Value> = None;
    for _ in 0..MAX_TYPE_ERRORS {
        let ctx = Ctx::at(at);
        let result = check(work.as_ref().unwrap_or(value), &ctx);
        for found in ctx.take_unknown() {
            if !unknown.contains(&found) {
                unknown.push(found);
            }
        }
        let Err(e) = result else {
            break;
        };
        let path = e.path.unwrap_or_else(|| at.clone());
        let message =
            if secret && matches!(relative(&path, at).first_key(), Some("data" | "stringData")) {
                "invalid value (values of a Secret are not shown)".to_string()
            } else {
                e.message
            };
        let again = out.iter().any(|(p, _)| *p == path);
        if !again {
            out.push((path.clone(), message));
        }
        let work = work.get_or_insert_with(|| value.clone());
        if again || !remove(work, &relative(&path, at)) {
            break;
        }
    }
    for u in unknown {
        let hint = u
            .suggestion
            .map_or_else(String::new, |s| format!(" (did you mean {s}?)"));
        out.push((u.path, format!("unknown field{hint}")));
    }
    out
}

/// `path` without its first `at.len()` segments.
fn relative(path: &Path, at: &Path) -> Path {
    Path(path.0[at.0.len().min(path.0.len())..].to_vec())
}

/// Takes the value at `path` out of `value`: the key of the innermost mapping on the path (an
/// array item goes with its whole array). False when there is nothing to take out.
fn remove(value: &mut Value, path: &Path) -> bool {
    let Some(last_key) = path
        .0
        .iter()
        .rposition(|s| matches!(s, de::Segment::Key(_)))
    else {
        return false;
    };
    let mut node = value;
    for segment in &path.0[..last_key] {
        let next = match segment {
            de::Segment::Key(k) => node.get_mut(k.as_str()),
            de::Segment::Index(i) => node.get_mut(*i),
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    let de::Segment::Key(key) = &path.0[last_key] else {
        return false;
    };
    node.as_object_mut()
        .is_some_and(|map| map.shift_remove(key).is_some())
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "sequence",
        Value::Object(_) => "mapping",
    }
}

#[cfg(test)]
mod tests;
