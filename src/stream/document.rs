//! A Kubernetes object on its way through the pipeline: its original text, where it came from, its
//! identity, and its value, parsed the first time a stage needs it.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use anyhow::{Result, anyhow};
use serde_json::{Map, Value};

use super::scan::{Head, Scanned, scan};
use super::{DuplicateKeys, LoadOptions, RawDoc, emit, split_load};

/// Duplicate keys keep the last value, as helm and kubectl read them.
const LAST_WINS: LoadOptions = LoadOptions {
    duplicate_keys: DuplicateKeys::LastWins,
};

/// Streams with fewer documents to parse are parsed on one thread: starting one costs more.
const PARALLEL_MIN_DOCS: usize = 64;

/// Streams at least this large are scanned in two halves, one per core.
const PARALLEL_SCAN_BYTES: usize = 256 * 1024;

/// The documents of one input or render, in order, with the release notes helm rendered beside
/// them: what every loader returns, what every filter changes in place and what every sink (the
/// temporary chart, the printer, the post-renderer's output, the diff) reads.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// The documents, in input order.
    pub documents: Vec<Document>,
    /// Rendered release notes, when the input is a chart that has them.
    pub notes: Option<String>,
}

impl Stream {
    /// Splits `text` into documents ([`Document::parse_stream`]).
    pub fn parse(
        text: &str,
        origin: &str,
        file_for: impl FnMut(&RawDoc) -> String,
    ) -> Result<Self> {
        Ok(Self::from(Document::parse_stream(text, origin, file_for)?))
    }

    /// The CustomResourceDefinitions among the documents.
    pub fn crds(&self) -> impl Iterator<Item = &Document> {
        self.documents.iter().filter(|d| d.is_crd())
    }
}

impl From<Vec<Document>> for Stream {
    fn from(documents: Vec<Document>) -> Self {
        Self {
            documents,
            notes: None,
        }
    }
}

/// One object of a rendered or loaded stream.
///
/// The original text is kept so an object no stage changed is written out byte for byte. Its
/// identity is read once, by the scanner where it can, and cached; the value is parsed only when a
/// stage needs it (a patch target, a selector, a CRD), then shared by every later stage.
#[derive(Debug, Clone)]
pub struct Document {
    /// Destination inside the temporary chart, relative to its root (`templates/app.yaml`, `crds/x.yaml`).
    pub file: String,
    origin: Origin,
    /// The document as in the input, `# Source:` line included.
    raw: String,
    /// Where the body starts in `raw`: after the `# Source:` line helm prints (and prints again).
    body: usize,
    head: Head,
    value: OnceLock<Value>,
    modified: bool,
}

/// Where a document came from, for error messages about it.
#[derive(Debug, Clone, Default)]
struct Origin {
    /// The file or stream, as shown to the user.
    name: Arc<str>,
    /// 1-based number of the document in that stream.
    document: usize,
    /// 1-based line and column of the document's first character in that stream.
    line: usize,
    column: usize,
}

impl PartialEq for Document {
    fn eq(&self, other: &Self) -> bool {
        self.file == other.file && self.text() == other.text()
    }
}

impl Document {
    /// Splits a whole stream once, keeping each non-empty document with the chart file `file_for`
    /// gives it. Documents the scanner indexes are parsed later, if at all; the others are parsed
    /// now, so a syntax error names `origin`, the document number and the line. Duplicate keys
    /// keep the last value, as helm and kubectl do.
    pub fn parse_stream(
        text: &str,
        origin: &str,
        mut file_for: impl FnMut(&RawDoc) -> String,
    ) -> Result<Vec<Self>> {
        let name: Arc<str> = Arc::from(origin);
        let Some(scanned) = scan_halves(text, PARALLEL_SCAN_BYTES) else {
            return Self::parse_fully(text, name, file_for);
        };
        let mut docs = Vec::with_capacity(scanned.len());
        for doc in scanned.into_iter().filter(|d| !d.raw.empty) {
            let file = file_for(&doc.raw);
            let mut made = Self::new(file, &name, doc.raw, Head::default());
            match doc.head {
                Some(head) => made.head = head,
                None => {
                    let value = made.parse()?;
                    made.head = Head::of(&value);
                    made.value = OnceLock::from(value);
                }
            }
            docs.push(made);
        }
        Ok(docs)
    }

    /// The whole-stream parser, for streams the scanner leaves to it (directives, `...`, …).
    fn parse_fully(
        text: &str,
        name: Arc<str>,
        mut file_for: impl FnMut(&RawDoc) -> String,
    ) -> Result<Vec<Self>> {
        let docs = split_load(text, &LAST_WINS).map_err(|e| {
            anyhow!(
                "{name}: document {}: invalid YAML at {e}",
                document_at_line(text, e.line)
            )
        })?;
        Ok(docs
            .into_iter()
            .filter(|(raw, _)| !raw.empty)
            .map(|(raw, value)| {
                let file = file_for(&raw);
                let head = Head::of(&value);
                let mut doc = Self::new(file, &name, raw, head);
                doc.value = OnceLock::from(value);
                doc
            })
            .collect())
    }

    fn new(file: String, name: &Arc<str>, raw: RawDoc, head: Head) -> Self {
        let body = source_comment_len(&raw.text);
        Self {
            file,
            origin: Origin {
                name: Arc::clone(name),
                document: raw.index + 1,
                line: raw.line,
                column: raw.column,
            },
            raw: raw.text,
            body,
            head,
            value: OnceLock::new(),
            modified: false,
        }
    }

    /// A document made from a value (a list item, a live object): it has no text of its own and is
    /// written by emitting the value.
    pub fn from_value(file: String, value: Value) -> Self {
        Self {
            file,
            origin: Origin::default(),
            raw: String::new(),
            body: 0,
            head: Head::of(&value),
            value: OnceLock::from(value),
            modified: true,
        }
    }

    /// Parses the original text; errors name the stream, the document and the line.
    fn parse(&self) -> Result<Value> {
        let raw = RawDoc {
            text: self.raw.clone(),
            index: self.origin.document.saturating_sub(1),
            line: self.origin.line,
            column: self.origin.column,
            source: None,
            empty: false,
        };
        raw.load_with(&LAST_WINS).map_err(|e| {
            anyhow!(
                "{}: document {}: invalid YAML at {e}",
                self.origin.name,
                self.origin.document
            )
        })
    }

    /// The parsed object, parsed now if no stage needed it before.
    pub fn value(&self) -> Result<&Value> {
        if let Some(value) = self.value.get() {
            return Ok(value);
        }
        let value = self.parse()?;
        Ok(self.value.get_or_init(|| value))
    }

    /// The value, if some stage (or the scanner's fallback) has parsed it already.
    pub fn parsed(&self) -> Option<&Value> {
        self.value.get()
    }

    /// Parses the given documents, on both cores when there are many: stages that touch many
    /// documents (a selector over all Deployments, say) call this first.
    pub fn parse_all<'a>(documents: impl IntoIterator<Item = &'a Document>) -> Result<()> {
        let todo: Vec<&Document> = documents
            .into_iter()
            .filter(|d| d.value.get().is_none())
            .collect();
        if todo.len() < PARALLEL_MIN_DOCS {
            return todo.iter().try_for_each(|d| d.value().map(drop));
        }
        let (first, second) = todo.split_at(todo.len() / 2);
        std::thread::scope(|s| {
            let other = s.spawn(|| first.iter().try_for_each(|d| d.value().map(drop)));
            let here = second.iter().try_for_each(|d| d.value().map(drop));
            other
                .join()
                .map_err(|_| anyhow!("internal error: a parser thread panicked"))?
                .and(here)
        })
    }

    /// Replaces the object; its text will be re-emitted and its identity read again.
    pub fn set_value(&mut self, value: Value) {
        if self.value.get() != Some(&value) {
            self.head = Head::of(&value);
            self.value = OnceLock::from(value);
            self.modified = true;
        }
    }

    /// Changes the object in place (parsing it first if needed); its text will be re-emitted and
    /// its identity read again.
    pub fn edit<R>(&mut self, change: impl FnOnce(&mut Value) -> R) -> Result<R> {
        self.value()?;
        let value = self
            .value
            .get_mut()
            .ok_or_else(|| anyhow!("internal error: {} was not parsed", self.origin.name))?;
        let out = change(value);
        self.head = Head::of(value);
        self.modified = true;
        Ok(out)
    }

    /// Gives the value away for a stage that rebuilds it; pair with [`Document::set_value`].
    pub fn take_value(&mut self) -> Result<Value> {
        self.value()?;
        Ok(self.value.take().unwrap_or_default())
    }

    /// Whether some stage changed the object.
    pub fn is_modified(&self) -> bool {
        self.modified
    }

    /// The text to write: the original bytes (without helm's `# Source:` line) when untouched, a
    /// YAML-1.1-safe emit otherwise.
    pub fn text(&self) -> Cow<'_, str> {
        match self.value.get().filter(|_| self.modified) {
            Some(value) => Cow::Owned(emit(value)),
            None => Cow::Borrowed(&self.raw[self.body..]),
        }
    }

    /// The document as it was read, `# Source:` line included.
    pub fn original(&self) -> &str {
        &self.raw
    }

    /// The file or stream the document was read from, as shown to the user ("" when made from a
    /// value).
    pub fn origin_name(&self) -> &str {
        &self.origin.name
    }

    /// The 1-based number of the document in that stream (0 when made from a value).
    pub fn number(&self) -> usize {
        self.origin.document
    }

    /// The path of the `# Source:` line the document was read with, if any.
    pub fn source(&self) -> Option<&str> {
        let line = self.raw[..self.body].trim_end();
        line.strip_prefix("# Source: ")
    }

    /// `apiVersion`, or "" when absent or not a string.
    pub fn api_version(&self) -> &str {
        self.head.api_version.as_deref().unwrap_or_default()
    }

    /// `kind`, or "" when absent or not a string.
    pub fn kind(&self) -> &str {
        self.head.kind.as_deref().unwrap_or_default()
    }

    /// `metadata.name`, or "" when absent or not a string.
    pub fn name(&self) -> &str {
        self.head.name.as_deref().unwrap_or_default()
    }

    /// `metadata.namespace`, or "" when absent or not a string.
    pub fn namespace(&self) -> &str {
        self.head.namespace.as_deref().unwrap_or_default()
    }

    /// A string annotation, read without parsing the object.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.head
            .annotations
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the document is `null` (`~`, `null`): only mappings are left unparsed by the scanner,
    /// so this needs no parse.
    pub fn is_null(&self) -> bool {
        self.value.get().is_some_and(Value::is_null)
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
        self.annotation("helm.sh/hook")
            .map(|h| {
                h.split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets an annotation, creating `metadata.annotations` when needed.
    pub fn set_annotation(&mut self, key: &str, val: &str) -> Result<()> {
        let mut value = self.value()?.clone();
        if let Some(meta) = value
            .as_object_mut()
            .map(|o| {
                o.entry("metadata")
                    .or_insert_with(|| Value::Object(Map::new()))
            })
            .and_then(Value::as_object_mut)
        {
            let ann = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if !ann.is_object() {
                *ann = Value::Object(Map::new());
            }
            if let Some(ann) = ann.as_object_mut() {
                ann.insert(key.to_string(), Value::String(val.to_string()));
            }
        }
        self.set_value(value);
        Ok(())
    }
}

impl Head {
    /// The identity fields of a parsed value, as the scanner reads them from text.
    pub(crate) fn of(value: &Value) -> Self {
        let text = |ptr: &str| {
            value
                .pointer(ptr)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let annotations = value
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Head {
            api_version: text("/apiVersion"),
            kind: text("/kind"),
            name: text("/metadata/name"),
            namespace: text("/metadata/namespace"),
            annotations,
        }
    }
}

/// [`scan`] of a large stream on both cores: cut at a `---` line near the middle (always a document
/// boundary), scanned as two streams, the second half's documents renumbered. Whatever either half
/// leaves to the full splitter, the whole stream is scanned again as one.
fn scan_halves(text: &str, min_bytes: usize) -> Option<Vec<Scanned>> {
    let Some(mid) = (text.len() >= min_bytes).then(|| boundary(text)).flatten() else {
        return scan(text);
    };
    let (first, second) = text.split_at(mid);
    let (a, b) = std::thread::scope(|s| {
        let other = s.spawn(|| scan(second));
        (scan(first), other.join().ok().flatten())
    });
    let (Some(mut docs), Some(rest)) = (a, b) else {
        return scan(text);
    };
    let lines = first.bytes().filter(|&b| b == b'\n').count();
    let offset = docs.len();
    docs.extend(rest.into_iter().map(|mut d| {
        d.raw.index += offset;
        d.raw.line += lines;
        d
    }));
    Some(docs)
}

/// The start of the first `---` marker line in the second half of `text`.
fn boundary(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = text.len() / 2;
    loop {
        let at = from + bytes[from..].windows(4).position(|w| w == b"\n---")? + 1;
        let after = bytes.get(at + 3);
        if after.is_none_or(|b| matches!(b, b'\n' | b'\r' | b' ' | b'\t')) {
            return Some(at);
        }
        from = at;
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

/// The length of the `# Source:` line helm puts first in each rendered document.
fn source_comment_len(text: &str) -> usize {
    if !text.starts_with("# Source: ") {
        return 0;
    }
    text.find('\n').map_or(text.len(), |i| i + 1)
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
        assert_eq!(d.original(), text);
        assert_eq!(d.source(), Some("c/templates/a.yaml"));
        assert_eq!((d.kind(), d.name()), ("ConfigMap", "x"));
    }

    #[test]
    fn annotation_marks_modified() {
        let mut d = doc(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.b\n",
        );
        assert!(d.is_crd());
        d.set_annotation("helm.sh/resource-policy", "keep").unwrap();
        assert!(d.is_modified());
        assert_eq!(d.annotation("helm.sh/resource-policy"), Some("keep"));
        assert_eq!(
            d.value().unwrap()["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep"
        );
        assert!(d.text().contains("helm.sh/resource-policy: keep"));
    }

    #[test]
    fn an_unchanged_value_keeps_the_text() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x # comment\n";
        let mut d = doc(text);
        let same = d.value().unwrap().clone();
        d.set_value(same);
        assert!(!d.is_modified());
        assert_eq!(d.text(), text);
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

    /// Scanning in halves must give exactly what one scan gives, wherever the cut falls.
    #[test]
    fn halves_scan_like_the_whole() {
        let mut streams: Vec<String> = Vec::new();
        let mut big = String::new();
        for i in 0..300 {
            big.push_str(&format!(
                "---\n# Source: c/templates/t{i}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  pem: |\n    ---\n    x\n"
            ));
            if i % 7 == 0 {
                big.push_str("---\n# only a comment\n");
            }
            if i % 11 == 0 {
                big.push_str("---\r\nkind: X\r\nmetadata: {name: crlf}\r\n");
            }
            if i % 13 == 0 {
                big.push_str("--- \n---\t\n");
            }
        }
        streams.push(big.clone());
        streams.push(big.replace("\r\n", "\n"));
        streams.push(format!("leading: text\n{big}"));
        streams.push(format!("{big}---"));
        streams.push(format!("{big}...\n"));
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(path) = stack.pop() {
            for entry in std::fs::read_dir(&path).unwrap().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml")
                    && let Ok(text) = std::fs::read_to_string(&p)
                {
                    streams.push(text);
                }
            }
        }
        for text in &streams {
            assert_eq!(scan_halves(text, 0), scan(text), "{text}");
        }
    }

    #[test]
    fn parse_all_parses_the_selected_documents() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  i: \"{i}\"\n"
            ));
        }
        let docs = Document::parse_stream(&text, "f", |_| String::new()).unwrap();
        Document::parse_all(docs.iter().filter(|d| d.name() != "c7")).unwrap();
        assert_eq!(docs[150].value().unwrap()["data"]["i"], "150");
        assert_eq!(docs[7].value().unwrap()["metadata"]["name"], "c7");
    }
}
