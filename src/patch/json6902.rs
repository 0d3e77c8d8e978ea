//! RFC 6902 JSON Patch on top of the `json-patch` crate, with errors that name the op.
//!
//! Deliberate semantics (see NOTES.md in the research corpus):
//! - We follow the RFC, not kubectl/kustomize's evanphx v4, where they disagree: `replace` of a
//!   missing key, negative or zero-padded array indices, `copy` from a missing location and `test`
//!   of a missing path are errors. kubectl's leniency there silently does something else
//!   (`-1` inserting before the last element, `null` copied), so a visible error with a hint is
//!   the safer migration path.
//! - `test` compares numbers numerically (RFC 6902 §4.6), so `1` equals `1.0`; the crate alone
//!   compares `serde_json::Value`s structurally. `kubectl patch` agrees with the RFC here,
//!   `kubectl kustomize` 5.5 does not (both checked by the oracle tests).
//! - A patch document is atomic: it runs on a copy and the input is never modified.

use json_patch::{PatchErrorKind, PatchOperation};
use serde_json::Value;

use super::bounds;
use super::redact::{Quote, Quoted, Redact};

/// One parsed RFC 6902 patch document.
#[derive(Clone, Debug)]
pub struct JsonPatch {
    ops: Vec<PatchOperation>,
}

/// Why parsing or applying a JSON patch failed; `op` is the 0-based index (shown 1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonPatchError {
    /// The patch is not a list of operations.
    #[error("a JSON 6902 patch must be a list of operations, found {0}")]
    NotAList(&'static str),
    /// An operation could not be parsed.
    #[error("op {}: {message}", op + 1)]
    Invalid {
        /// Index of the operation.
        op: usize,
        /// What is wrong with it.
        message: String,
    },
    /// An operation could not be applied.
    #[error("op {} ({summary}): {message}", op + 1)]
    Failed {
        /// Index of the operation.
        op: usize,
        /// The op name and its paths, e.g. `replace /spec/replicas`.
        summary: String,
        /// What went wrong, with or without the values it quotes.
        message: Quoted,
    },
}

impl Redact for JsonPatchError {
    fn redacted(&self) -> Option<String> {
        let Self::Failed {
            op,
            summary,
            message,
        } = self
        else {
            // Parse errors happen before any object is seen and name no value of one.
            return None;
        };
        let plain = Self::Failed {
            op: *op,
            summary: summary.clone(),
            message: Quoted::plain(message.redacted()?),
        };
        Some(plain.to_string())
    }
}

impl JsonPatch {
    /// Parses a list of operations, validating each one so errors can point at it. An empty
    /// list is a valid no-op (RFC); kustomize-style detection rejects it separately.
    pub fn from_value(value: &Value) -> Result<Self, JsonPatchError> {
        let Value::Array(items) = value else {
            return Err(JsonPatchError::NotAList(type_name(value)));
        };
        let ops = items
            .iter()
            .enumerate()
            .map(|(op, item)| {
                if !item.is_object() {
                    return Err(JsonPatchError::Invalid {
                        op,
                        message: format!(
                            "an operation must be a mapping with `op` and `path`, found {}",
                            type_name(item)
                        ),
                    });
                }
                serde_json::from_value(item.clone()).map_err(|e| JsonPatchError::Invalid {
                    op,
                    message: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { ops })
    }

    /// The operations as a JSON list again (`op`, `path`, `from`, `value`), for writing them out.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(&self.ops).unwrap_or(Value::Null)
    }

    /// True for `[]`, which kustomize refuses as ambiguous (both an SMP and a JSON patch).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Returns `doc` with every operation applied; `doc` itself is never touched, which makes
    /// a patch document atomic.
    pub fn patched(&self, doc: &Value) -> Result<Value, JsonPatchError> {
        let mut work = doc.clone();
        // An upper bound of the result's size: what it started with plus all that ops inserted.
        let mut total = bounds::measure(&work).bytes;
        for (index, op) in self.ops.iter().enumerate() {
            // Only `test` quotes values; every other message names paths and types.
            let fail = |message: Quoted| JsonPatchError::Failed {
                op: index,
                summary: summary(op),
                message,
            };
            if let PatchOperation::Test(t) = op {
                match work.pointer(t.path.as_str()) {
                    Some(found) if json_eq(found, &t.value) => {}
                    Some(found) => return Err(fail(test_failed(&t.value, found))),
                    None => {
                        let why = diagnose(&work, t.path.as_str(), Need::Existing);
                        return Err(fail(Quoted::plain(why)));
                    }
                }
                continue;
            }
            if let Some((inserted, path)) = insertion(&work, op) {
                bounds::check_insert(total, inserted, path).map_err(|e| fail(Quoted::plain(e)))?;
                total = total.saturating_add(inserted.bytes);
            }
            // Diagnose before applying: a failed `move` may already have removed its source.
            let before = matches!(op, PatchOperation::Move(_)).then(|| work.clone());
            if let Err(e) = json_patch::patch_unsafe(&mut work, std::slice::from_ref(op)) {
                let state = before.as_ref().unwrap_or(&work);
                return Err(fail(Quoted::plain(explain(state, op, &e.kind))));
            }
        }
        Ok(work)
    }
}

/// What `op` would insert into `doc` and where, measured before it runs (a `move` adds depth,
/// not size).
fn insertion<'a>(doc: &Value, op: &'a PatchOperation) -> Option<(bounds::Measure, &'a str)> {
    match op {
        PatchOperation::Add(a) => Some((bounds::measure(&a.value), a.path.as_str())),
        PatchOperation::Replace(r) => Some((bounds::measure(&r.value), r.path.as_str())),
        PatchOperation::Copy(c) => doc
            .pointer(c.from.as_str())
            .map(|v| (bounds::measure(v), c.path.as_str())),
        PatchOperation::Move(m) => doc.pointer(m.from.as_str()).map(|v| {
            let depth = bounds::measure(v).depth;
            (bounds::Measure { bytes: 0, depth }, m.path.as_str())
        }),
        PatchOperation::Remove(_) | PatchOperation::Test(_) => None,
    }
}

/// A failed `test`: both values, or (withheld) just that they differ; the path is in the summary.
fn test_failed(expected: &Value, found: &Value) -> Quoted {
    Quoted::new(|q: Quote| {
        if q.hides() {
            "test failed: the values differ".to_owned()
        } else {
            format!(
                "test failed: expected {}, found {}",
                short(expected),
                short(found)
            )
        }
    })
}

/// What a pointer must resolve to for the op to succeed.
#[derive(Clone, Copy, PartialEq)]
enum Need {
    /// The value must exist (remove, replace, test, from).
    Existing,
    /// The parent must exist; the last token may be new (add, copy/move destination).
    Insertable,
}

fn explain(doc: &Value, op: &PatchOperation, kind: &PatchErrorKind) -> String {
    match (op, kind) {
        (_, PatchErrorKind::CannotMoveInsideItself) => {
            "cannot move a value into one of its own children".to_string()
        }
        (PatchOperation::Move(m), PatchErrorKind::InvalidFromPointer) => {
            format!("from: {}", diagnose(doc, m.from.as_str(), Need::Existing))
        }
        (PatchOperation::Copy(c), PatchErrorKind::InvalidFromPointer) => {
            format!("from: {}", diagnose(doc, c.from.as_str(), Need::Existing))
        }
        (PatchOperation::Replace(r), _) => {
            let msg = diagnose(doc, r.path.as_str(), Need::Existing);
            if msg == PATH_NOT_FOUND {
                format!(
                    "{msg} (replace needs an existing value; use `add` to create it; \
                     kubectl/kustomize would add it silently)"
                )
            } else {
                msg
            }
        }
        (PatchOperation::Remove(r), _) => diagnose(doc, r.path.as_str(), Need::Existing),
        (PatchOperation::Add(a), _) => diagnose(doc, a.path.as_str(), Need::Insertable),
        (PatchOperation::Move(m), _) => diagnose(doc, m.path.as_str(), Need::Insertable),
        (PatchOperation::Copy(c), _) => diagnose(doc, c.path.as_str(), Need::Insertable),
        (_, other) => other.to_string(),
    }
}

const PATH_NOT_FOUND: &str = "path not found";

/// Walks `pointer` through `doc` and describes the first step that fails.
fn diagnose(doc: &Value, pointer: &str, need: Need) -> String {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut cur = doc;
    let mut walked = String::new();
    for (i, token) in tokens.iter().enumerate() {
        let last = i + 1 == tokens.len();
        let here = if walked.is_empty() { "/" } else { &walked };
        match cur {
            Value::Object(map) => match map.get(token) {
                Some(next) => cur = next,
                None if last && need == Need::Insertable => break,
                None if last => return PATH_NOT_FOUND.to_string(),
                None => {
                    return format!("path not found: {walked}/{} does not exist", encode(token));
                }
            },
            Value::Array(items) => {
                if token == "-" {
                    if last && need == Need::Insertable {
                        break;
                    }
                    return format!(
                        "\"-\" (past the end of the array at {here}) is only valid as the target of add"
                    );
                }
                let Some(index) = parse_index(token) else {
                    let hint = if token.starts_with('-') {
                        " (RFC 6902 has no negative indices; kubectl accepts them)"
                    } else {
                        ""
                    };
                    return format!("invalid array index {token:?} at {here}{hint}");
                };
                if last && need == Need::Insertable && index == items.len() {
                    break;
                }
                match items.get(index) {
                    Some(next) => cur = next,
                    None => {
                        return format!(
                            "index {index} out of bounds at {here} (array length {})",
                            items.len()
                        );
                    }
                }
            }
            scalar => {
                return format!("cannot descend into {} at {here}", type_name(scalar));
            }
        }
        walked.push('/');
        walked.push_str(&encode(token));
    }
    "path is invalid".to_string()
}

fn parse_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    let padded = token.len() > 1 && token.starts_with('0');
    if digits && !padded {
        token.parse().ok()
    } else {
        None
    }
}

fn encode(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn summary(op: &PatchOperation) -> String {
    let show = |p: &str| {
        if p.is_empty() {
            "\"\"".to_string()
        } else {
            p.to_string()
        }
    };
    match op {
        PatchOperation::Add(o) => format!("add {}", show(o.path.as_str())),
        PatchOperation::Remove(o) => format!("remove {}", show(o.path.as_str())),
        PatchOperation::Replace(o) => format!("replace {}", show(o.path.as_str())),
        PatchOperation::Test(o) => format!("test {}", show(o.path.as_str())),
        PatchOperation::Move(o) => format!(
            "move {} from {}",
            show(o.path.as_str()),
            show(o.from.as_str())
        ),
        PatchOperation::Copy(o) => format!(
            "copy {} from {}",
            show(o.path.as_str()),
            show(o.from.as_str())
        ),
    }
}

/// JSON equality with numbers compared by value (RFC 6902 §4.6).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let int = |n: &serde_json::Number| {
                n.as_i64()
                    .map(i128::from)
                    .or_else(|| n.as_u64().map(i128::from))
            };
            match (int(x), int(y)) {
                (Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn run(doc: Value, ops: Value) -> Result<Value, JsonPatchError> {
        JsonPatch::from_value(&ops)?.patched(&doc)
    }

    fn err(doc: Value, ops: Value) -> String {
        match run(doc, ops) {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn copies_into_themselves_are_bounded_in_depth() {
        // Each copy of /data/a into its own deepest leaf doubles the depth: 9 would reach 51,200.
        let mut doc = json!({"data": {"a": {}}});
        let mut leaf = String::from("/data/a");
        let mut node = &mut doc["data"]["a"];
        for _ in 0..100 {
            node["n"] = json!({});
            node = &mut node["n"];
            leaf.push_str("/n");
        }
        let mut ops = Vec::new();
        for _ in 0..9 {
            ops.push(json!({"op": "copy", "from": "/data/a", "path": format!("{leaf}/c")}));
            leaf = format!("{leaf}/c{}", &leaf["/data/a".len()..]);
        }
        let e = err(doc, Value::Array(ops));
        assert!(e.contains("would nest deeper than 512 levels"), "{e}");
    }

    #[test]
    fn doubling_copies_are_bounded_in_size() {
        let mut doc = json!({"data": {}});
        doc["data"]["seed"] = json!("x".repeat(1200));
        let ops: Vec<Value> = (0..26)
            .map(|i| json!({"op": "copy", "from": "/data", "path": format!("/data/c{i}")}))
            .collect();
        let e = err(doc, Value::Array(ops));
        assert!(e.contains("the result would exceed 64 MiB"), "{e}");
        assert!(e.starts_with("op "), "names the op: {e}");
    }

    #[test]
    fn errors_name_op_and_path() {
        let doc = json!({"spec": {"template": {}}, "list": [1, 2]});
        let ops = json!([
            {"op": "test", "path": "/spec/template", "value": {}},
            {"op": "add", "path": "/x", "value": 1},
            {"op": "replace", "path": "/spec/replicas", "value": 3}
        ]);
        assert_eq!(
            err(doc.clone(), ops),
            "op 3 (replace /spec/replicas): path not found (replace needs an existing value; \
             use `add` to create it; kubectl/kustomize would add it silently)"
        );
        assert_eq!(
            err(
                doc.clone(),
                json!([{"op": "add", "path": "/spec/a/b", "value": 1}])
            ),
            "op 1 (add /spec/a/b): path not found: /spec/a does not exist"
        );
        assert_eq!(
            err(doc.clone(), json!([{"op": "remove", "path": "/list/5"}])),
            "op 1 (remove /list/5): index 5 out of bounds at /list (array length 2)"
        );
        assert_eq!(
            err(
                doc.clone(),
                json!([{"op": "add", "path": "/list/-1", "value": 0}])
            ),
            "op 1 (add /list/-1): invalid array index \"-1\" at /list (RFC 6902 has no negative \
             indices; kubectl accepts them)"
        );
        assert_eq!(
            err(
                doc.clone(),
                json!([{"op": "move", "from": "/nope", "path": "/x"}])
            ),
            "op 1 (move /x from /nope): from: path not found"
        );
        assert_eq!(
            err(
                doc.clone(),
                json!([{"op": "test", "path": "/list/0", "value": 7}])
            ),
            "op 1 (test /list/0): test failed: expected 7, found 1"
        );
        assert_eq!(
            err(
                doc.clone(),
                json!([{"op": "add", "path": "/list/0/x", "value": 7}])
            ),
            "op 1 (add /list/0/x): cannot descend into a number at /list/0"
        );
        assert_eq!(
            err(doc.clone(), json!([{"op": "remove", "path": "/list/-"}])),
            "op 1 (remove /list/-): \"-\" (past the end of the array at /list) is only valid as \
             the target of add"
        );
        assert_eq!(
            err(
                doc.clone(),
                json!([{"op": "move", "from": "/spec", "path": "/spec/x"}])
            ),
            "op 1 (move /spec/x from /spec): cannot move a value into one of its own children"
        );
    }

    #[test]
    fn only_failed_tests_quote_values_and_they_can_be_withheld() {
        use crate::patch::redact::Redact;
        let doc = json!({"data": {"password": "aHVudGVyMg=="}});
        let failed = run(
            doc.clone(),
            json!([{"op": "test", "path": "/data/password", "value": "x"}]),
        )
        .expect_err("test fails");
        assert_eq!(
            failed.to_string(),
            "op 1 (test /data/password): test failed: expected \"x\", found \"aHVudGVyMg==\""
        );
        assert_eq!(
            failed.redacted().as_deref(),
            Some("op 1 (test /data/password): test failed: the values differ")
        );
        for ops in [
            json!([{"op": "test", "path": "/data/nope", "value": "x"}]),
            json!([{"op": "replace", "path": "/data/password/x", "value": "y"}]),
            json!([{"op": "copy", "from": "/data/nope", "path": "/data/x"}]),
        ] {
            let e = run(doc.clone(), ops).expect_err("fails");
            assert_eq!(e.redacted(), None, "{e}");
        }
    }

    #[test]
    fn parse_errors_name_the_op() {
        assert!(
            err(
                json!({}),
                json!([{"op": "add", "path": "/a", "value": 1}, {"op": "replce", "path": "/a"}])
            )
            .starts_with("op 2: unknown variant `replce`")
        );
        assert_eq!(
            err(json!({}), json!([{"op": "remove", "path": "/a"}, "x"])),
            "op 2: an operation must be a mapping with `op` and `path`, found a string"
        );
        assert_eq!(
            err(json!({}), json!({"op": "remove"})),
            "a JSON 6902 patch must be a list of operations, found a mapping"
        );
        assert_eq!(run(json!({"a": 1}), json!([])), Ok(json!({"a": 1})));
    }

    #[test]
    fn numeric_equality_and_failed_tests() {
        let doc = json!({"a": 1, "b": [1, 2.5]});
        let out = run(
            doc.clone(),
            json!([
                {"op": "test", "path": "/a", "value": 1.0},
                {"op": "test", "path": "/b", "value": [1.0, 2.5]}
            ]),
        );
        assert_eq!(out, Ok(doc.clone()));
        let p = JsonPatch::from_value(&json!([
            {"op": "add", "path": "/c", "value": 1},
            {"op": "test", "path": "/a", "value": 2}
        ]))
        .expect("valid patch");
        assert!(p.patched(&doc).is_err());
    }

    /// Outcome counts of one corpus file: (passed, runnable, disabled).
    fn run_corpus(file: &str) -> (usize, usize, usize, Vec<String>) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/jsonpatch-corpus")
            .join(file);
        let text = std::fs::read_to_string(&path).expect("corpus file");
        let cases: Value = serde_json::from_str(&text).expect("corpus JSON");
        let cases = match cases {
            Value::Array(c) => c,
            Value::Object(mut m) => match m.remove("cases") {
                Some(Value::Array(c)) => c,
                _ => panic!("{file}: no cases"),
            },
            _ => panic!("{file}: unexpected shape"),
        };
        let (mut pass, mut runnable, mut disabled, mut failures) = (0, 0, 0, Vec::new());
        for case in &cases {
            if case.get("disabled") == Some(&Value::Bool(true)) {
                disabled += 1;
                continue;
            }
            runnable += 1;
            // `patched` cannot modify its input, so "unchanged after an error" holds by type.
            let result =
                JsonPatch::from_value(&case["patch"]).and_then(|p| p.patched(&case["doc"]));
            let ok = match (case.get("expected"), case.get("error"), result) {
                (Some(want), _, Ok(got)) => json_eq(&got, want),
                (None, Some(_), Err(_)) => true,
                // A record with neither just has to apply.
                (None, None, Ok(_)) => true,
                _ => false,
            };
            if ok {
                pass += 1;
            } else {
                failures.push(case["comment"].as_str().unwrap_or("?").to_string());
            }
        }
        (pass, runnable, disabled, failures)
    }

    #[test]
    fn upstream_corpus() {
        for (file, want_runnable) in [("tests.json", 92), ("spec_tests.json", 16)] {
            let (pass, runnable, disabled, failures) = run_corpus(file);
            println!("{file}: {pass}/{runnable} passed ({disabled} disabled)");
            assert_eq!(runnable, want_runnable, "{file}");
            assert!(failures.is_empty(), "{file}: {failures:?}");
        }
    }

    #[test]
    fn extra_corpora() {
        for file in [
            "extra/json-patch-tests-numeric_tests-branch-extra.json",
            "extra/idubrov-json-patch-extra-tests.json",
            "extra/idubrov-revert_tests.json",
            "rfc-edge-cases-rust-vs-kubectl.json",
        ] {
            let (pass, runnable, _, failures) = run_corpus(file);
            println!("{file}: {pass}/{runnable} passed; failing: {failures:?}");
            assert!(failures.is_empty(), "{file}: {failures:?}");
        }
    }
}
