//! A Kubernetes object on its way through the pipeline: its original text, its parsed value, and the
//! file of the temporary chart it belongs to.

use std::borrow::Cow;

use anyhow::Result;
use serde_json::Value;

use super::{DuplicateKeys, LoadOptions, RawDoc, emit, split_load};

/// One object of a rendered or loaded stream.
///
/// The original text is kept so an object no stage changed is written out byte-for-byte; the value is
/// parsed once and shared by every later stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Destination inside the temporary chart, relative to its root (`templates/app.yaml`, `crds/x.yaml`).
    pub file: String,
    raw: String,
    value: Value,
    modified: bool,
}

impl Document {
    /// Parses a whole stream once, keeping each non-empty document with the chart file `file_for` gives
    /// it. Errors name `origin`, the document number and the line. Duplicate keys keep the last value,
    /// as helm and kubectl do.
    pub fn parse_stream(
        text: &str,
        origin: &str,
        mut file_for: impl FnMut(&RawDoc) -> String,
    ) -> Result<Vec<Self>> {
        let opts = LoadOptions {
            duplicate_keys: DuplicateKeys::LastWins,
        };
        let docs = split_load(text, &opts).map_err(|e| {
            anyhow::anyhow!(
                "{origin}: document {}: invalid YAML at {e}",
                document_at_line(text, e.line)
            )
        })?;
        Ok(docs
            .into_iter()
            .filter(|(raw, _)| !raw.empty)
            .map(|(raw, value)| Self {
                file: file_for(&raw),
                raw: strip_source_comment(&raw.text).to_string(),
                value,
                modified: false,
            })
            .collect())
    }

    /// The parsed object.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Replaces the object; its text will be re-emitted.
    pub fn set_value(&mut self, value: Value) {
        if value != self.value {
            self.value = value;
            self.modified = true;
        }
    }

    /// Gives the value away for a stage that transforms many objects at once; pair with `set_value`.
    pub fn take_value(&mut self) -> Value {
        std::mem::take(&mut self.value)
    }

    /// Restores a value taken with `take_value`, marking the document modified when `changed`.
    pub fn put_value(&mut self, value: Value, changed: bool) {
        self.value = value;
        self.modified |= changed;
    }

    /// Whether some stage changed the object.
    pub fn is_modified(&self) -> bool {
        self.modified
    }

    /// The text to write: the original bytes when untouched, a YAML-1.1-safe emit otherwise.
    pub fn text(&self) -> Cow<'_, str> {
        if self.modified {
            Cow::Owned(emit(&self.value))
        } else {
            Cow::Borrowed(&self.raw)
        }
    }

    /// `apiVersion`, or "" when absent.
    pub fn api_version(&self) -> &str {
        str_at(&self.value, &["apiVersion"])
    }

    /// `kind`, or "" when absent.
    pub fn kind(&self) -> &str {
        str_at(&self.value, &["kind"])
    }

    /// `metadata.name`, or "" when absent.
    pub fn name(&self) -> &str {
        str_at(&self.value, &["metadata", "name"])
    }

    /// `metadata.namespace`, or "" when absent.
    pub fn namespace(&self) -> &str {
        str_at(&self.value, &["metadata", "namespace"])
    }

    /// Whether the document is a Kubernetes object at all (has `apiVersion` and `kind`).
    pub fn is_object(&self) -> bool {
        !self.api_version().is_empty() && !self.kind().is_empty()
    }

    /// Whether the object is a CustomResourceDefinition.
    pub fn is_crd(&self) -> bool {
        self.kind() == "CustomResourceDefinition"
            && self.api_version().starts_with("apiextensions.k8s.io/")
    }

    /// The events of the `helm.sh/hook` annotation (`pre-install`, `test`, …); empty when not a hook.
    pub fn hook_events(&self) -> Vec<&str> {
        self.value
            .pointer("/metadata/annotations/helm.sh~1hook")
            .and_then(Value::as_str)
            .map(|h| {
                h.split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets an annotation, creating `metadata.annotations` when needed.
    pub fn set_annotation(&mut self, key: &str, val: &str) {
        let mut value = self.value.clone();
        if let Some(meta) = value
            .as_object_mut()
            .map(|o| {
                o.entry("metadata")
                    .or_insert_with(|| Value::Object(Default::default()))
            })
            .and_then(Value::as_object_mut)
        {
            let ann = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(Default::default()));
            if !ann.is_object() {
                *ann = Value::Object(Default::default());
            }
            if let Some(ann) = ann.as_object_mut() {
                ann.insert(key.to_string(), Value::String(val.to_string()));
            }
        }
        self.set_value(value);
    }
}

/// The 1-based number of the document holding `line`: separators are `---` lines at column 0, which a
/// block scalar's content (always indented) can never be.
fn document_at_line(text: &str, line: usize) -> usize {
    let separators = text
        .lines()
        .take(line.saturating_sub(1))
        .filter(|l| l.starts_with("---") && l[3..].chars().next().is_none_or(char::is_whitespace))
        .count();
    let leading = text.trim_start().starts_with("---");
    (separators + usize::from(!leading)).max(1)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Drops the `# Source:` line helm puts first in each rendered document; helm writes it again.
fn strip_source_comment(text: &str) -> &str {
    match text.strip_prefix("# Source: ") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        let mut docs =
            Document::parse_stream(text, "a.yaml", |_| "templates/a.yaml".into()).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn untouched_text_is_byte_for_byte() {
        let text = "# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: \"{{ $labels.instance }}\"\n";
        let d = doc(text);
        assert_eq!(d.text(), &text["# Source: c/templates/a.yaml\n".len()..]);
        assert_eq!((d.kind(), d.name()), ("ConfigMap", "x"));
    }

    #[test]
    fn annotation_marks_modified() {
        let mut d = doc(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.b\n",
        );
        assert!(d.is_crd());
        d.set_annotation("helm.sh/resource-policy", "keep");
        assert!(d.is_modified());
        assert_eq!(
            d.value()["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep"
        );
        assert!(d.text().contains("helm.sh/resource-policy: keep"));
    }

    #[test]
    fn errors_name_document_and_line() {
        let text = "a: 1\n---\nb: 2\n---\nc: [1, 2\n";
        let e = Document::parse_stream(text, "f.yaml", |_| String::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("f.yaml: document 3: invalid YAML at line "),
            "{e}"
        );
        assert_eq!(document_at_line("---\na: 1\n---\nb: [\n", 4), 2);
    }

    #[test]
    fn empty_documents_are_dropped() {
        let docs =
            Document::parse_stream("---\n# only a comment\n---\na: 1\n", "f", |_| String::new())
                .unwrap();
        assert_eq!(docs.len(), 1);
    }
}
