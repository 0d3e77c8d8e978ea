//! Writing the temporary chart that helm installs, and the private work dir that holds it.
//!
//! Manifests are written so helm never evaluates them as Go templates: every `{{` is escaped, so a
//! document containing `{{ $labels.instance }}` reaches the cluster byte-for-byte, while `# Source:`
//! paths (templates, subcharts, `crds/`) stay what the input had.

pub mod freeze;
pub mod output;
pub mod workdir;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Component, Path};

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use crate::stream::{Document, Stream, emit};

/// What the temporary chart is made of.
#[derive(Debug)]
pub struct TempChart<'a> {
    /// Chart.yaml content; `apiVersion: v2` is enforced and `dependencies` dropped (they are rendered in).
    pub metadata: Map<String, Value>,
    /// Objects, each written to its own `file`, and the release notes, already rendered (helm
    /// shows them after install).
    pub stream: &'a Stream,
}

impl TempChart<'_> {
    /// Writes the chart into `dir` (which must exist and be empty).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let mut meta = self.metadata.clone();
        meta.insert("apiVersion".into(), json!("v2"));
        meta.remove("dependencies");
        write_file(dir, "Chart.yaml", &emit(&Value::Object(meta)))?;

        let mut files = file_bodies(&self.stream.documents, escape_template)?;
        // Helm up to 4.2 trims a rendered template, 4.3 prints it as it is: a template without
        // trailing newlines comes out the same on every version.
        for (file, body) in files.iter_mut() {
            if !in_crds_dir(file) {
                body.truncate(body.trim_end_matches('\n').len());
            }
        }
        let mut subcharts = BTreeSet::new();
        for (file, body) in &files {
            crate::signals::check()?;
            subcharts.extend(subchart_dirs(file));
            write_file(dir, file, body)?;
        }
        for sub in subcharts {
            let name = sub.rsplit('/').next().unwrap_or(&sub);
            let meta = json!({
                "apiVersion": "v2",
                "name": name,
                "version": "0.0.0",
                "description": "subchart rendered by helm-x",
            });
            write_file(dir, &format!("{sub}/Chart.yaml"), &emit(&meta))?;
        }
        if let Some(notes) = &self.stream.notes {
            write_file(dir, "templates/NOTES.txt", &escape_template(notes))?;
        }
        Ok(())
    }
}

/// The content of each chart file, in first-appearance order: its documents joined by `---`, with
/// `transform` applied to everything outside `crds/` (helm reads crds/ verbatim). A crds/ file loses
/// the newline `helm template` prints after it, so printing it again gives the chart's bytes.
pub(crate) fn file_bodies<'a>(
    documents: impl IntoIterator<Item = &'a Document>,
    transform: impl Fn(&str) -> String,
) -> Result<IndexMap<&'a str, String>> {
    let mut files: IndexMap<&str, String> = IndexMap::new();
    for doc in documents {
        check_relative(&doc.file)?;
        let crds = in_crds_dir(&doc.file);
        let body = files.entry(doc.file.as_str()).or_default();
        if !body.is_empty() {
            // Helm 4.3 no longer trims each document of a template: end them alike for every version.
            if !crds {
                body.truncate(body.trim_end_matches('\n').len());
            }
            if !body.ends_with('\n') {
                body.push('\n');
            }
            body.push_str("---\n");
        }
        let text = doc.text();
        if crds {
            body.push_str(&text);
        } else {
            body.push_str(&transform(&text));
        }
    }
    for (file, body) in files.iter_mut() {
        if in_crds_dir(file) && body.ends_with("\n\n") {
            body.pop();
        }
    }
    Ok(files)
}

/// Makes text inert for Go's template engine: `{{` becomes an action printing `{{`.
pub fn escape_template(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        out.push_str("{{ \"{{\" }}");
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

/// `charts/a/charts/b/templates/x.yaml` → `charts/a`, `charts/a/charts/b`.
fn subchart_dirs(file: &str) -> Vec<String> {
    let parts: Vec<&str> = file.split('/').collect();
    let depth = subchart_depth(&parts);
    (1..=depth).map(|d| parts[..2 * d].join("/")).collect()
}

/// How many `charts/<name>/` pairs prefix a chart-relative path.
fn subchart_depth(parts: &[&str]) -> usize {
    parts
        .chunks(2)
        .take_while(|pair| pair.len() == 2 && pair[0] == "charts")
        .count()
        .min(parts.len().saturating_sub(1) / 2)
}

/// Whether a chart-relative path is in the `crds/` dir of the chart or of a subchart.
pub fn in_crds_dir(file: &str) -> bool {
    let parts: Vec<&str> = file.split('/').collect();
    parts.get(2 * subchart_depth(&parts)) == Some(&"crds")
}

pub(crate) fn check_relative(file: &str) -> Result<()> {
    let p = Path::new(file);
    if file.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        bail!("refusing to write {file:?} outside the temporary chart");
    }
    Ok(())
}

fn write_file(dir: &Path, rel: &str, body: &str) -> Result<()> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))
}

/// A chart name helm accepts, derived from a directory or file name.
pub fn sanitize_name(raw: &str) -> String {
    let mut name = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches('-');
    if name.is_empty() {
        "helm-x".to_string()
    } else {
        name.to_string()
    }
}

/// Makes every template file name of loaded objects one helm renders as written: helm skips
/// templates whose name starts with `_` (helpers) and a control character (a newline, say) would
/// break the `# Source:` lines of its output. Such names are changed as little as possible
/// (`_a.yaml` → `x_a.yaml`, control characters → `-`), without colliding with another file.
pub fn safe_file_names(stream: &mut Stream) {
    let documents = &mut stream.documents;
    let mut taken: BTreeSet<String> = documents.iter().map(|d| d.file.clone()).collect();
    let mut renamed: std::collections::HashMap<String, String> = Default::default();
    for doc in documents.iter_mut() {
        if let Some(name) = renamed.get(&doc.file) {
            doc.file = name.clone();
            continue;
        }
        let Some(safe) = safe_file_name(&doc.file) else {
            continue;
        };
        let (stem, ext) = match safe.rsplit_once('.') {
            Some((stem, ext)) if !ext.contains('/') => (stem.to_string(), format!(".{ext}")),
            _ => (safe.clone(), String::new()),
        };
        let mut candidate = safe;
        let mut n = 1;
        while !taken.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{stem}-{n}{ext}");
        }
        renamed.insert(doc.file.clone(), candidate.clone());
        doc.file = candidate;
    }
}

/// The safe form of `file`, or `None` when it is safe already.
fn safe_file_name(file: &str) -> Option<String> {
    let cleaned: String = file
        .chars()
        .map(|c| if c.is_control() { '-' } else { c })
        .collect();
    let (dir, base) = match cleaned.rsplit_once('/') {
        Some((dir, base)) => (format!("{dir}/"), base.to_string()),
        None => (String::new(), cleaned.clone()),
    };
    let base = if base.starts_with('_') {
        format!("x{base}")
    } else {
        base
    };
    let safe = format!("{dir}{base}");
    (safe != file).then_some(safe)
}

/// A file name for an object, unique within `taken`: `deployment-web.yaml`, `deployment-web-2.yaml`.
pub fn object_file_name(doc: &Document, taken: &mut BTreeSet<String>) -> String {
    let mut stem = String::new();
    for part in [doc.namespace(), doc.kind(), doc.name()] {
        if !part.is_empty() {
            if !stem.is_empty() {
                stem.push('-');
            }
            stem.push_str(part);
        }
    }
    let stem = sanitize_name(&stem);
    let mut candidate = format!("{stem}.yaml");
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        n += 1;
        candidate.clear();
        let _ = write!(candidate, "{stem}-{n}.yaml");
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_text_after_rendering() {
        assert_eq!(escape_template("a {{ $x }} b"), "a {{ \"{{\" }} $x }} b");
        assert_eq!(escape_template("{{{"), "{{ \"{{\" }}{");
        assert_eq!(escape_template("none"), "none");
    }

    #[test]
    fn subchart_dirs_nest() {
        assert_eq!(
            subchart_dirs("charts/a/charts/b/templates/x.yaml"),
            vec!["charts/a", "charts/a/charts/b"]
        );
        assert!(subchart_dirs("templates/x.yaml").is_empty());
        assert_eq!(subchart_dirs("charts/a/crds/c.yaml"), vec!["charts/a"]);
        assert!(subchart_dirs("charts/x.yaml").is_empty());
    }

    #[test]
    fn crds_dirs() {
        assert!(in_crds_dir("crds/a.yaml"));
        assert!(in_crds_dir("charts/s/crds/a.yaml"));
        assert!(!in_crds_dir("templates/crds/a.yaml"));
        assert!(!in_crds_dir("charts/crds/templates/a.yaml"));
    }

    #[test]
    fn refuses_escaping_paths() {
        assert!(check_relative("../x.yaml").is_err());
        assert!(check_relative("/etc/x").is_err());
        assert!(check_relative("templates/x.yaml").is_ok());
    }

    #[test]
    fn file_names_helm_would_skip_or_garble_are_made_safe() {
        let doc = |file: &str| {
            let mut d = Document::parse_stream("kind: A\n", "t", |_| String::new())
                .unwrap()
                .remove(0);
            d.file = file.to_string();
            d
        };
        let mut docs = Stream::from(vec![
            doc("templates/_a.yaml"),
            doc("templates/x_a.yaml"),
            doc("templates/odd\nname.yaml"),
            doc("templates/_a.yaml"),
            doc("templates/sub/_b.yml"),
            doc("templates/fine.yaml"),
        ]);
        safe_file_names(&mut docs);
        let files: Vec<&str> = docs.documents.iter().map(|d| d.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "templates/x_a-2.yaml",
                "templates/x_a.yaml",
                "templates/odd-name.yaml",
                "templates/x_a-2.yaml",
                "templates/sub/x_b.yml",
                "templates/fine.yaml",
            ]
        );
    }

    #[test]
    fn names() {
        assert_eq!(sanitize_name("My App.v2"), "my-app-v2");
        assert_eq!(sanitize_name("..."), "helm-x");
    }
}
