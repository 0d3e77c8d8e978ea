//! A directory (or a single file) of plain Kubernetes manifests.
//!
//! Files are read recursively in a deterministic order; a symlink may not lead outside the input dir,
//! and documents that are not Kubernetes objects are skipped with a warning naming file and document.

use std::path::Path;

use anyhow::{Context, Result};

use super::walk::{self, Filter, Found};
use crate::stream::Document;

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Loads every object under `input`, destined for `templates/<path relative to input>`.
pub fn load(input: &Path) -> Result<Vec<Document>> {
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
            if doc.is_object() {
                docs.push(doc);
            } else if !doc.value().is_null() {
                eprintln!(
                    "helm-x: warning: {shown}: document {} has no apiVersion/kind; skipped",
                    i + 1
                );
            }
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, body: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

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
        let docs = load(d.path()).unwrap();
        let files: Vec<_> = docs.iter().map(|d| d.file.as_str()).collect();
        assert_eq!(files, ["templates/a/z.yml", "templates/b.yaml"]);
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
