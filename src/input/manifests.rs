//! A directory (or a single file) of plain Kubernetes manifests.
//!
//! Files are read recursively in a deterministic order; a symlink may not lead outside the input dir,
//! and documents that are not Kubernetes objects are skipped with a warning naming file and document.
//! A list document (`kind: List`, or any kind ending in `List`, with an `items` sequence) is expanded
//! into its items, as kubectl does; each item stays in the file of its list.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

use super::walk::{self, Filter, Found};
use crate::stream::{Document, Stream};

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Loads every object under `input`, destined for `templates/<path relative to input>`.
pub fn load(input: &Path) -> Result<Stream> {
    let files = if input.is_dir() {
        let filter = Filter {
            extensions: Some(EXTENSIONS),
            skip_hidden: true,
        };
        walk::files(input, filter)?
    } else {
        let rel = input.file_name().map_or_else(
            || "manifest.yaml".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        vec![Found {
            path: input.to_path_buf(),
            rel,
        }]
    };
    let mut docs = Vec::new();
    for Found { path, rel } in files {
        let shown = if input.is_dir() {
            input.join(&rel)
        } else {
            path.clone()
        };
        let shown = shown.display().to_string();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {shown} (is it UTF-8 text?)"))?;
        let file = format!("templates/{rel}");
        for (i, doc) in Document::parse_stream(&text, &shown, |_| file.clone())?
            .into_iter()
            .enumerate()
        {
            let n = i + 1;
            if !is_list(&doc)? {
                if doc.is_object() {
                    docs.push(doc);
                } else if !doc.is_null() {
                    eprintln!(
                        "helm-x: warning: {shown}: document {n} has no apiVersion/kind; skipped"
                    );
                }
                continue;
            }
            // Items are documents of this file with no text of their own: they emit their value
            // rather than copying the list's text.
            let list_kind = doc.kind().to_string();
            for (j, value) in take_items(doc)?.into_iter().enumerate() {
                let item = Document::from_value(file.clone(), value);
                if item.is_object() {
                    docs.push(item);
                } else {
                    eprintln!(
                        "helm-x: warning: {shown}: document {n}, item {} of the {list_kind} has no \
                         apiVersion/kind; skipped",
                        j + 1
                    );
                }
            }
        }
    }
    Ok(Stream::from(docs))
}

/// Whether `doc` is a list of objects as kubectl reads one: a kind ending in `List` (`v1 List`,
/// `ConfigMapList`, …) with an `items` sequence.
fn is_list(doc: &Document) -> Result<bool> {
    Ok(doc.kind().ends_with("List") && doc.value()?["items"].is_array())
}

/// The `items` of a list document. An item with neither `apiVersion` nor `kind` gets the list's
/// `apiVersion` and its kind without `List`, as kubectl fills in the items of a typed list
/// (`ConfigMapList`); the items of a `v1 List` must name their own.
fn take_items(mut list: Document) -> Result<Vec<Value>> {
    let Value::Object(mut map) = list.take_value()? else {
        return Ok(Vec::new());
    };
    let Some(Value::Array(mut items)) = map.remove("items") else {
        return Ok(Vec::new());
    };
    let api_version = map.get("apiVersion").cloned().unwrap_or_default();
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|k| k.strip_suffix("List"))
        .unwrap_or_default();
    for item in &mut items {
        if let Value::Object(fields) = item
            && !kind.is_empty()
            && !fields.contains_key("apiVersion")
            && !fields.contains_key("kind")
        {
            let mut typed = serde_json::Map::new();
            typed.insert("apiVersion".into(), api_version.clone());
            typed.insert("kind".into(), Value::from(kind));
            typed.append(fields);
            *fields = typed;
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::write_in as write;

    #[test]
    fn sorted_recursive_and_skips_non_objects() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "b.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
        );
        write(
            d.path(),
            "a/z.yml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\n---\nfoo: bar\n",
        );
        write(d.path(), "notes.txt", "ignored");
        let docs = load(d.path()).unwrap().documents;
        let files: Vec<_> = docs.iter().map(|d| d.file.as_str()).collect();
        assert_eq!(files, ["templates/a/z.yml", "templates/b.yaml"]);
    }

    #[test]
    fn lists_are_expanded_into_their_items() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "a.yaml",
            concat!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before\n---\n",
                "apiVersion: v1\nkind: List\nitems:\n",
                "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: one}\n  data: {x: 'yes'}\n",
                "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: two}\n",
                "- just text\n",
                "- metadata: {name: kindless}\n",
                "---\n",
                "apiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata: {name: typed}\n",
                "- apiVersion: v1\n  kind: Secret\n  metadata: {name: own}\n",
                "---\n",
                "apiVersion: v1\nkind: List\nitems: []\n",
                "---\n",
                "apiVersion: example.com/v1\nkind: Playlist\nmetadata: {name: not-a-list}\n",
            ),
        );
        write(
            d.path(),
            "b/c.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: s}}\n",
        );
        let docs = load(d.path()).unwrap().documents;
        let seen: Vec<_> = docs
            .iter()
            .map(|d| format!("{} {} {}/{}", d.file, d.api_version(), d.kind(), d.name()))
            .collect();
        assert_eq!(
            seen,
            [
                "templates/a.yaml v1 ConfigMap/before",
                "templates/a.yaml v1 ConfigMap/one",
                "templates/a.yaml apps/v1 Deployment/two",
                "templates/a.yaml v1 ConfigMap/typed",
                "templates/a.yaml v1 Secret/own",
                "templates/a.yaml example.com/v1 Playlist/not-a-list",
                "templates/b/c.yaml v1 Service/s",
            ]
        );
        // An item is written from its value: its own text, nothing of the list's.
        let one = docs[1].text();
        assert!(one.contains("name: one") && !one.contains("items"), "{one}");
        assert!(one.contains("x: \"yes\""), "{one}");
        assert!(!docs[0].is_modified());
    }

    #[cfg(unix)]
    #[test]
    fn symlink_outside_is_rejected() {
        let outside = tempfile::tempdir().unwrap();
        write(
            outside.path(),
            "secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n",
        );
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), d.path().join("s.yaml"))
            .unwrap();
        let e = format!("{:#}", load(d.path()).unwrap_err());
        assert!(
            e.contains("s.yaml") && e.contains("outside the input directory"),
            "{e}"
        );
    }

    #[test]
    fn bad_yaml_names_file_and_document() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\na: [1, 2\n",
        );
        let e = format!("{:#}", load(d.path()).unwrap_err());
        assert!(e.contains("bad.yaml"), "{e}");
    }
}
