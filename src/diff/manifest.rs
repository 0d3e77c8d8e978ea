//! Turning a manifest stream into objects keyed the way helm-diff keys them, and the normalized text
//! they are compared and shown by.

use std::cmp::Ordering;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::stream::{self, Document};

/// One Kubernetes object of a deployed release or of a new render.
#[derive(Debug, Clone)]
pub struct Object {
    /// helm-diff's identity, `"<ns>, <name>, <Kind> (<group>)"`: the namespace defaults to the
    /// release's (even for cluster-scoped kinds, as in helm-diff), the name is the
    /// `helm-diff/base-name` annotation when set, the group is `apiVersion` without its version.
    pub key: String,
    /// `kind`.
    pub kind: String,
    /// The text the object is compared and shown by (helm-diff's `Content`): the document as
    /// rendered, `# Source:` line included and surrounding whitespace trimmed, or its normalized
    /// YAML with `--normalize-manifests`.
    pub content: String,
    /// The object; its value is parsed only when a comparison needs fields (Secrets, `--ignore`,
    /// structured output), so equal texts cost no parse.
    doc: Document,
    /// Whether helm leaves the object in the cluster when it drops out of the chart
    /// (`helm.sh/resource-policy: keep`, read the way helm reads it: trimmed, any case), so its
    /// disappearance from the manifest is no removal.
    pub kept: bool,
}

impl Object {
    /// The identity objects are matched by.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The parsed object.
    pub fn value(&self) -> Result<&Value> {
        self.doc.value()
    }

    /// Parses the values of many objects at once, on both cores.
    pub fn parse_all<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Result<()> {
        Document::parse_all(objects.into_iter().map(|o| &o.doc))
    }

    /// Whether helm runs the object only for `helm test`; such hooks stay out of a diff unless asked.
    pub fn is_test_hook(&self) -> bool {
        self.doc.annotation("helm.sh/hook").is_some_and(|events| {
            events
                .split(',')
                .any(|e| matches!(e.trim(), "test" | "test-success"))
        })
    }

    /// Whether the object is a hook at all (`--no-hooks` leaves hooks out of both sides).
    pub fn is_hook(&self) -> bool {
        self.doc.annotation("helm.sh/hook").is_some()
    }

    /// Whether the object's data must be redacted.
    pub fn is_secret(&self) -> bool {
        self.kind == "Secret"
    }

    /// An object made from a parsed value (a live object, a three-way merge result): shown by its
    /// normalized YAML, as helm-diff shows objects it re-serialized.
    pub fn from_value(value: Value, release_namespace: &str) -> Result<Option<Object>> {
        let content = body(&value);
        let mut out = Vec::new();
        let doc = Document::from_value(String::new(), value);
        collect(doc, &content, true, release_namespace, &mut out)?;
        Ok(out.pop())
    }

    /// The objects of documents helm-x rendered and patched itself, with the text helm-diff would
    /// read from their manifest (`# Source:` line first): nothing is emitted and parsed again.
    pub fn from_documents(
        documents: Vec<Document>,
        release_namespace: &str,
        normalize: bool,
    ) -> Result<Vec<Object>> {
        let mut out = Vec::with_capacity(documents.len());
        for (i, doc) in documents.into_iter().enumerate() {
            let text = doc.text();
            let content = if doc.file.is_empty() {
                text.trim().to_string()
            } else {
                format!("# Source: {}\n{}", doc.file, text.trim_end_matches('\n'))
                    .trim()
                    .to_string()
            };
            drop(text);
            collect(doc, &content, normalize, release_namespace, &mut out)
                .with_context(|| format!("manifest: document {}", i + 1))?;
        }
        Ok(out)
    }

    /// An object of a test fixture: its text, with the key and kind the fixture gives.
    #[cfg(test)]
    pub(super) fn of_fixture(key: &str, kind: &str, content: String, kept: bool) -> Object {
        let doc = Document::parse_stream(&content, "fixture", |_| String::new())
            .ok()
            .and_then(|mut docs| docs.pop())
            .unwrap_or_else(|| Document::from_value(String::new(), Value::Null));
        Object {
            key: key.to_string(),
            kind: kind.to_string(),
            content,
            doc,
            kept,
        }
    }
}

/// helm-diff's object key, `"<ns>, <name>, <Kind> (<group>)"`.
fn key(namespace: &str, name: &str, kind: &str, group: &str) -> String {
    format!("{namespace}, {name}, {kind} ({group})")
}

/// Parses `helm get manifest` (+ `helm get hooks`) output or a new render into objects, in stream
/// order, the way helm-diff does: documents are the text between `\n---\n` lines, trimmed.
/// Documents without `apiVersion` and `kind` (templates that rendered to comments) are skipped and
/// `*List` documents are replaced by their items; duplicates and test hooks are kept here and
/// resolved by [`super::compare`]. With `normalize`, objects are shown by their normalized YAML
/// (`--normalize-manifests`), else as rendered. Only identities are read; values are parsed when
/// a comparison needs them.
///
/// # Errors
/// When a document is not valid YAML, is neither a mapping nor empty, holds several YAML documents,
/// or has a non-string `apiVersion`/`kind`; the message names the document.
pub fn parse_manifests(
    text: &str,
    release_namespace: &str,
    normalize: bool,
) -> Result<Vec<Object>> {
    let mut objects = Vec::new();
    // helm-diff splits "\n" + text, so a leading `---` line separates too.
    let body = text.strip_prefix("---\n").unwrap_or(text);
    let docs = body
        .split("\n---\n")
        .map(str::trim)
        .filter(|d| !d.is_empty());
    for (i, piece) in docs.enumerate() {
        let mut parse = || -> Result<()> {
            let mut docs =
                Document::parse_stream(piece, "manifest", |_| String::new())?.into_iter();
            let Some(doc) = docs.next() else {
                return Ok(());
            };
            if docs.next().is_some() {
                bail!("holds several YAML documents; separate them with a line `---`");
            }
            collect(doc, piece, normalize, release_namespace, &mut objects)
        };
        parse().with_context(|| format!("manifest: document {}", i + 1))?;
    }
    Ok(objects)
}

fn collect(
    mut doc: Document,
    content: &str,
    normalize: bool,
    release_namespace: &str,
    out: &mut Vec<Object>,
) -> Result<()> {
    // A document the scanner did not index was parsed: check what it is. An indexed one is a
    // mapping whose identity fields are strings.
    if let Some(value) = doc.parsed() {
        let Value::Object(map) = value else {
            if value.is_null() {
                return Ok(());
            }
            bail!("expected a mapping, found {}", type_name(value));
        };
        string_field(map, "apiVersion")?;
        string_field(map, "kind")?;
    }
    let api_version = doc.api_version().to_string();
    let kind = doc.kind().to_string();
    if api_version.is_empty() && kind.is_empty() {
        return Ok(());
    }
    // A kind merely ending in "List" without an `items` array (a custom resource, say) is an
    // object in its own right, not a list to expand.
    if kind.ends_with("List") && doc.value()?["items"].is_array() {
        let Value::Object(mut map) = doc.take_value()? else {
            return Ok(());
        };
        let Some(Value::Array(items)) = map.remove("items") else {
            return Ok(());
        };
        for (i, item) in items.into_iter().enumerate() {
            // helm-diff re-marshals each item in its own key order.
            let content = emit_body(&item);
            let item = Document::from_value(String::new(), item);
            collect(item, &content, normalize, release_namespace, out)
                .with_context(|| format!("{kind} item {}", i + 1))?;
        }
        return Ok(());
    }
    let namespace = match doc.namespace() {
        "" => release_namespace,
        ns => ns,
    };
    let name = doc
        .annotation("helm-diff/base-name")
        .unwrap_or_else(|| doc.name());
    let group = api_version
        .rsplit_once('/')
        .map_or(api_version.as_str(), |(g, _)| g);
    let kept = doc
        .annotation("helm.sh/resource-policy")
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("keep"));
    let key = key(namespace, name, &kind, group);
    let content = if normalize {
        body(doc.value()?)
    } else {
        content.to_string()
    };
    out.push(Object {
        key,
        kind,
        content,
        doc,
        kept,
    });
    Ok(())
}

fn string_field(map: &Map<String, Value>, field: &str) -> Result<String> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => bail!("{field} must be a string, found {}", type_name(other)),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// The normalized YAML of a value: keys in go-yaml v2's order (what helm-diff's
/// `--normalize-manifests` prints), so key order never shows up as a change.
pub(super) fn body(value: &Value) -> String {
    emit_body(&sort_keys(value))
}

/// Emits a value as it is ordered, ending in a newline so every object's text ends with the empty
/// line helm-diff prints after a normalized object.
pub(super) fn emit_body(value: &Value) -> String {
    let mut text = stream::emit(value);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Recursively orders mapping keys the way go-yaml v2 marshals a Go map.
pub(super) fn sort_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let entries: Vec<(&String, &Value)> = map.iter().collect();
            let sorted = merge_sort(entries, &|a, b| go_yaml_less(a.0, b.0));
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// A stable merge sort that needs no total order: go-yaml's key comparison is not guaranteed to be
/// one, and the standard library's sorts may panic on such comparators.
fn merge_sort<T>(mut items: Vec<T>, less: &impl Fn(&T, &T) -> bool) -> Vec<T> {
    if items.len() < 2 {
        return items;
    }
    let right = items.split_off(items.len() / 2);
    let mut left = merge_sort(items, less).into_iter().peekable();
    let mut right = merge_sort(right, less).into_iter().peekable();
    let mut out = Vec::with_capacity(left.len() + right.len());
    while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
        let next = if less(r, l) {
            right.next()
        } else {
            left.next()
        };
        out.extend(next);
    }
    out.extend(left);
    out.extend(right);
    out
}

/// go-yaml v2's map key order for string keys: letters compare by code point, any other character
/// sorts before a letter, and runs of ASCII digits compare by numeric value.
fn go_yaml_less(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let Some(i) = a.iter().zip(&b).position(|(x, y)| x != y) else {
        return a.len() < b.len();
    };
    let (x, y) = (a[i], b[i]);
    match (x.is_alphabetic(), y.is_alphabetic()) {
        (true, true) => return x < y,
        (true, false) => return false,
        (false, true) => return true,
        (false, false) => {}
    }
    // A zero continuing a number that started before `i` is an ordinary digit of it, not padding.
    let seed = i64::from(
        (x == '0' || y == '0')
            && a[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .any(|&c| c != '0'),
    );
    let number = |s: &[char]| {
        let digits = s[i..].iter().take_while(|c| c.is_ascii_digit());
        digits.fold((seed, 0usize), |(n, len), &c| {
            (
                n.wrapping_mul(10).wrapping_add(i64::from(c as u8 - b'0')),
                len + 1,
            )
        })
    };
    let ((an, alen), (bn, blen)) = (number(&a), number(&b));
    match an.cmp(&bn).then(alen.cmp(&blen)) {
        Ordering::Equal => x < y,
        ord => ord == Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Object> {
        parse_manifests(text, "rel-ns", false).unwrap()
    }

    #[test]
    fn keys_default_namespace_and_strip_version() {
        let objs = parse(
            "---\n# Source: c/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: other\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n",
        );
        let keys: Vec<&str> = objs.iter().map(Object::key).collect();
        assert_eq!(
            keys,
            [
                "rel-ns, web, Deployment (apps)",
                "other, web, Service (v1)",
                "rel-ns, r, ClusterRole (rbac.authorization.k8s.io)",
            ]
        );
        assert!(
            objs[0]
                .content
                .starts_with("# Source: c/templates/d.yaml\napiVersion")
        );
    }

    #[test]
    fn comment_only_documents_are_skipped() {
        let objs = parse(
            "# Source: c/templates/empty.yaml\n# nothing\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        );
        assert_eq!(objs.len(), 1);
    }

    #[test]
    fn lists_are_expanded_and_nested_lists_too() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/diff/list/new.yaml"
        ))
        .unwrap();
        let objs = parse(&text);
        let keys: Vec<&str> = objs.iter().map(Object::key).collect();
        assert_eq!(
            keys,
            [
                "rel-ns, a, ConfigMap (v1)",
                "team, b, ConfigMap (v1)",
                "rel-ns, s, Secret (v1)",
                "rel-ns, c, ConfigMap (v1)",
            ]
        );
    }

    #[test]
    fn a_kind_ending_in_list_without_items_is_an_object() {
        let objs = parse("apiVersion: x.io/v1\nkind: AllowList\nmetadata: {name: a}\nspec: {}\n");
        assert_eq!(objs[0].key(), "rel-ns, a, AllowList (x.io)");
    }

    /// The new side of a diff is made from the patched documents; it must be what helm-diff would
    /// read from their manifest, `# Source:` line, keys and list expansion included.
    #[test]
    fn documents_give_what_their_manifest_gives() {
        let text = "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    helm.sh/resource-policy: keep\ndata:\n  x: \"1\"\n\n---\n# Source: c/templates/l.yaml\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n";
        let docs =
            crate::stream::Stream::parse(text, "t", |raw| raw.source.clone().unwrap_or_default())
                .unwrap();
        let mut changed = docs.clone();
        changed.documents[0].set_value(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "2"}
        }));
        for (stream, normalize) in [(docs, false), (docs_normalized(), true), (changed, false)] {
            let mut joined = String::new();
            for doc in &stream.documents {
                joined.push_str(&format!(
                    "---\n# Source: {}\n{}\n",
                    doc.file,
                    doc.text().trim_end_matches('\n')
                ));
            }
            let want = parse_manifests(&joined, "ns", normalize).unwrap();
            let got = Object::from_documents(stream.documents, "ns", normalize).unwrap();
            let view = |o: &[Object]| -> Vec<(String, String, bool)> {
                o.iter()
                    .map(|o| (o.key.clone(), o.content.clone(), o.kept))
                    .collect()
            };
            assert_eq!(view(&got), view(&want));
            assert!(!got.is_empty());
        }
    }

    fn docs_normalized() -> crate::stream::Stream {
        crate::stream::Stream::parse(
            "# Source: c/templates/b.yaml\nkind: Service\napiVersion: v1\nmetadata: {name: b}\n",
            "t",
            |raw| raw.source.clone().unwrap_or_default(),
        )
        .unwrap()
    }

    #[test]
    fn base_name_annotation_overrides_the_name() {
        let objs = parse(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate-8f3a\n  annotations:\n    helm-diff/base-name: migrate\n",
        );
        assert_eq!(objs[0].key(), "rel-ns, migrate, Job (batch)");
    }

    #[test]
    fn hooks_and_policies_are_recognised() {
        let objs = parse(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: pre-install, test\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: u\n  annotations:\n    helm.sh/hook: post-install\n    helm.sh/resource-policy: ' Keep'\n",
        );
        assert!(objs[0].is_test_hook() && !objs[0].kept);
        assert!(!objs[1].is_test_hook() && objs[1].kept);
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for text in [
            "- a\n- b\n",
            "apiVersion: 1\nkind: X\n",
            "kind: [\n",
            "just a string\n",
        ] {
            let err = parse_manifests(text, "ns", false).unwrap_err();
            assert!(
                format!("{err:#}").contains("manifest: document 1"),
                "{err:#}"
            );
        }
        assert!(parse_manifests("", "ns", false).unwrap().is_empty());
    }

    #[test]
    fn go_yaml_key_order() {
        let map: Map<String, Value> = [
            "b", "a10", "a9", "a_b", "aB", "Z", "a", "x-1", "x01", "x1", "x00",
        ]
        .iter()
        .map(|k| (k.to_string(), Value::Null))
        .collect();
        let sorted = sort_keys(&Value::Object(map));
        let keys: Vec<&String> = sorted.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "Z", "a", "a_b", "a9", "a10", "aB", "b", "x-1", "x00", "x1", "x01"
            ]
        );
    }

    #[test]
    fn body_sorts_nested_keys_and_ends_with_newline() {
        let v =
            stream::load("kind: A\napiVersion: v1\nspec:\n  z: 1\n  a: [{c: 1, b: 2}]\n").unwrap();
        let text = body(&v);
        assert!(text.ends_with('\n'));
        assert!(text.find("apiVersion").unwrap() < text.find("kind").unwrap());
        assert!(text.find("b: 2").unwrap() < text.find("c: 1").unwrap());
    }
}
