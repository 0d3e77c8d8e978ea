//! Cutting a YAML stream into documents at the parser's own document boundaries.

use saphyr_parser::{Event, Parser};
use serde_json::Value;

use super::YamlError;
use super::load::{Composer, LoadOptions, is_empty_root, load_with};

/// One document of a YAML stream with its exact source text, so an untouched document
/// can be written back byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDoc {
    /// The document body as in the input: no `---` line, no `...` line. When content
    /// follows `---` on the same line (`--- {a: 1}`), the body starts at that content.
    pub text: String,
    /// 0-based position in the stream, counting empty documents too.
    pub index: usize,
    /// 1-based line of the input where `text` starts.
    pub line: usize,
    /// 1-based column of the input where `text` starts (1 unless content follows `---`).
    pub column: usize,
    /// Path from a leading `# Source: path` comment, as `helm template` writes them.
    pub source: Option<String>,
    /// True when the document has no node, only comments or blank lines (helm prints
    /// such documents for templates that render to nothing). Callers usually skip them.
    pub empty: bool,
}

impl RawDoc {
    /// Loads this document; error positions are lines/columns of the whole stream.
    pub fn load(&self) -> Result<Value, YamlError> {
        self.load_with(&LoadOptions::default())
    }

    /// [`RawDoc::load`] with explicit options.
    pub fn load_with(&self, opts: &LoadOptions) -> Result<Value, YamlError> {
        load_with(&self.text, opts).map_err(|mut e| {
            if e.line == 1 {
                e.column += self.column - 1;
            }
            e.line += self.line - 1;
            e
        })
    }
}

/// Splits a stream into documents at the boundaries the YAML parser reports.
///
/// Every document the parser sees is returned, empty ones flagged with
/// [`RawDoc::empty`]. A stream with no document at all (empty, or only comments without
/// `---`) gives an empty list. Text between a `...` line and the next `---` belongs to no
/// document. A syntax error anywhere fails the whole split, with stream positions.
pub fn split(text: &str) -> Result<Vec<RawDoc>, YamlError> {
    Ok(walk(text, None)?.into_iter().map(|(doc, _)| doc).collect())
}

/// [`split`] and [`RawDoc::load`] in one parse (YAML parsing dominates the cost).
/// Errors carry stream positions.
pub fn split_load(text: &str, opts: &LoadOptions) -> Result<Vec<(RawDoc, Value)>, YamlError> {
    walk(text, Some(Composer::new(opts))).map(|docs| {
        docs.into_iter()
            .map(|(d, v)| (d, v.unwrap_or(Value::Null)))
            .collect()
    })
}

fn walk(
    text: &str,
    mut composer: Option<Composer<'_>>,
) -> Result<Vec<(RawDoc, Option<Value>)>, YamlError> {
    let lines = LineIndex::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut cursor = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut open: Option<(usize, bool)> = None;
    let mut first_event = false;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| YamlError::scan(&e))?;
        if std::mem::take(&mut first_event)
            && let Some((_, empty)) = open.as_mut()
        {
            *empty = is_empty_root(&event);
        }
        let mut finished = None;
        match event {
            Event::DocumentStart(explicit) => {
                let start = if explicit {
                    body_after_marker(text, &lines, span.start.line())
                } else {
                    cursor
                };
                open = Some((start, true));
                first_event = true;
            }
            Event::DocumentEnd => {
                if let Some((start, empty)) = open.take() {
                    let line_start = lines.start(span.start.line());
                    let line_text = &text[line_start..];
                    let rest = line_text.strip_prefix('\u{feff}').unwrap_or(line_text);
                    let at_marker = span.start.col() <= line_text.len() - rest.len();
                    let end = if at_marker && is_marker(rest, "...") {
                        cursor = lines.start(span.start.line() + 1);
                        line_start
                    } else if at_marker && is_marker(rest, "---") {
                        line_start
                    } else {
                        text.len()
                    };
                    let body = text.get(start..end).unwrap_or("");
                    let (line, column) = lines.position(text, start);
                    finished = Some(RawDoc {
                        text: body.to_owned(),
                        index: docs.len(),
                        line,
                        column,
                        source: source_comment(body),
                        empty,
                    });
                }
            }
            _ => {}
        }
        let value = match composer.as_mut() {
            Some(c) => c.event(event, &span.start)?,
            None => None,
        };
        if let Some(doc) = finished {
            docs.push((doc, value));
        }
    }
    Ok(docs)
}

/// Where the body of an explicit document starts: on the next line, unless content
/// (or a comment) follows `---` on the marker line itself.
fn body_after_marker(text: &str, lines: &LineIndex, line: usize) -> usize {
    let line_start = lines.start(line);
    let bom = if text[line_start..].starts_with('\u{feff}') {
        3
    } else {
        0
    };
    let next = lines.start(line + 1);
    if !text[line_start + bom..].starts_with("---") {
        return line_start;
    }
    let after = line_start + bom + 3;
    let rest = text.get(after..next).unwrap_or("");
    let blank = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    if rest[blank..].trim_end_matches(['\r', '\n']).is_empty() {
        next
    } else {
        after + blank
    }
}

/// `---` or `...` followed by a blank, a line break or the end of input.
fn is_marker(rest: &str, marker: &str) -> bool {
    rest.strip_prefix(marker)
        .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '\r', '\n']))
}

/// The path of the first `# Source:` comment before the document's first node.
fn source_comment(body: &str) -> Option<String> {
    for line in body.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let comment = line.strip_prefix('#')?;
        if let Some(path) = comment.trim_start().strip_prefix("Source:") {
            return Some(path.trim().to_owned());
        }
    }
    None
}

/// Byte offsets of line starts, with the parser's idea of a line break (LF, CRLF, lone CR).
struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let lf = b == b'\n';
            let lone_cr = b == b'\r' && bytes.get(i + 1) != Some(&b'\n');
            if lf || lone_cr {
                starts.push(i + 1);
            }
        }
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// Byte offset of 1-based `line`; the end of input past the last line.
    fn start(&self, line: usize) -> usize {
        line.checked_sub(1)
            .and_then(|i| self.starts.get(i))
            .copied()
            .unwrap_or(self.len)
    }

    /// 1-based (line, column in characters) of a byte offset.
    fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let idx = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let line_start = self.starts.get(idx).copied().unwrap_or(0);
        let column = text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count());
        (idx + 1, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Vec<RawDoc> {
        split(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn texts(text: &str) -> Vec<String> {
        docs(text).into_iter().map(|d| d.text).collect()
    }

    /// Every body must be the exact slice of the input at its reported position.
    fn assert_positions(text: &str) {
        let lines: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        for d in docs(text) {
            let start = lines[d.line - 1] + d.column - 1;
            assert_eq!(&text[start..start + d.text.len()], d.text, "{d:?}");
        }
    }

    const PEM: &str = "---\n# Source: chart/templates/secret.yaml\napiVersion: v1\nkind: Secret\nstringData:\n  tls.key: |\n    -----BEGIN PRIVATE KEY-----\n    ---\n    MIIEvQ==\n    -----END PRIVATE KEY-----\n---\n# Source: chart/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n";

    #[test]
    fn pem_in_literal_does_not_split() {
        let d = docs(PEM);
        assert_eq!(d.len(), 2);
        assert!(d[0].text.contains("    ---\n    MIIEvQ==\n    -----END"));
        assert_eq!(d[0].source.as_deref(), Some("chart/templates/secret.yaml"));
        assert_eq!(d[1].source.as_deref(), Some("chart/templates/cm.yaml"));
        assert_eq!(
            (d[0].index, d[0].line, d[1].index, d[1].line),
            (0, 2, 1, 12)
        );
        assert_eq!(
            d[1].text,
            "# Source: chart/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n"
        );
        let key = d[0].load().map(|v| v["stringData"]["tls.key"].clone());
        assert_eq!(
            key.ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .as_deref(),
            Some("-----BEGIN PRIVATE KEY-----\n---\nMIIEvQ==\n-----END PRIVATE KEY-----\n")
        );
        assert_positions(PEM);
    }

    #[test]
    fn leading_marker_or_none() {
        assert_eq!(texts("a: 1\n---\nb: 2\n"), ["a: 1\n", "b: 2\n"]);
        assert_eq!(texts("---\na: 1\n---\nb: 2"), ["a: 1\n", "b: 2"]);
        assert_eq!(texts("# head\na: 1\n"), ["# head\na: 1\n"]);
        assert_eq!(
            texts("--- {a: 1}\n---   |\n  x\n"),
            ["{a: 1}\n", "|\n  x\n"]
        );
        let d = docs("--- {a: 1}\n");
        assert_eq!((d[0].line, d[0].column), (1, 5));
        assert_eq!(texts("a: ---x\n---x: 1\n"), ["a: ---x\n---x: 1\n"]);
        let d = docs("a: 1\n--- # Source: c.yaml\nb: 1\n");
        assert_eq!(d[1].source.as_deref(), Some("c.yaml"));
        assert_eq!((d[1].line, d[1].column), (2, 5));
        assert!(docs("").is_empty());
        assert!(docs("# nothing\n").is_empty());
    }

    #[test]
    fn document_end_markers() {
        let text = "a: 1\n...\n# between\n---\nb: 2\n...\nc: 3\n... # end\n";
        assert_eq!(texts(text), ["a: 1\n", "b: 2\n", "c: 3\n"]);
        assert_positions(text);
    }

    #[test]
    fn empty_and_comment_only_documents() {
        let text = "---\n# Source: a.yaml\n---\n---\n# Source: b.yaml\nx: 1\n---\n~\n";
        let d = docs(text);
        let flags: Vec<bool> = d.iter().map(|d| d.empty).collect();
        assert_eq!(flags, [true, true, false, false]);
        assert_eq!(d[0].source.as_deref(), Some("a.yaml"));
        assert_eq!(d[0].text, "# Source: a.yaml\n");
        assert_eq!(d[1].text, "");
        assert_eq!(d[2].source.as_deref(), Some("b.yaml"));
        assert_positions(text);
    }

    #[test]
    fn crlf_kept_byte_for_byte() {
        let text = "---\r\n# Source: x.yaml\r\na: |\r\n  ---\r\n---\r\nb: 2\r\n";
        let d = docs(text);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].text, "# Source: x.yaml\r\na: |\r\n  ---\r\n");
        assert_eq!(d[0].source.as_deref(), Some("x.yaml"));
        assert_eq!(d[1].text, "b: 2\r\n");
        assert_eq!(d[1].line, 6);
        assert_eq!(d[0].load(), Ok(serde_json::json!({"a": "---\n"})));
    }

    #[test]
    fn template_braces_untouched() {
        let text = "---\nkind: PrometheusRule\nspec:\n  groups:\n  - rules:\n    - annotations:\n        summary: \"{{ $labels.instance }} down\"\n        description: |\n          {{ $labels.instance }} of {{ $labels.job }}\n          ---\n---\nkind: X\n";
        let d = docs(text);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].text, &text[4..text.len() - 12]);
        assert_positions(text);
    }

    #[test]
    fn errors_are_stream_positions() {
        let e = split("a: 1\n---\nb: 2\nc: d: e\n").expect_err("bad yaml");
        assert_eq!(e.line, 4);
        let d = docs("a: 1\n---\nb: 2\nc: .inf\n");
        let e = d[1].load().expect_err("infinity");
        assert_eq!((e.line, e.column), (4, 4));
        let d = docs("--- {a: 1, a: 2}\n");
        let e = d[0].load().expect_err("dup");
        assert_eq!((e.line, e.column), (1, 12));
    }

    #[test]
    fn bom_and_utf8_positions() {
        assert_eq!(texts("a: 1\n\u{feff}---\nb: 2\n"), ["a: 1\n", "b: 2\n"]);
        assert_eq!(texts("%YAML 1.1\n---\na: 1\n"), ["a: 1\n"]);
        let text = "\u{feff}é: 1\n---\n# Source: ü.yaml\nb: ä\n";
        let d = docs(text);
        assert_eq!(d[0].text, "é: 1\n");
        assert_eq!(d[1].source.as_deref(), Some("ü.yaml"));
        assert_eq!(d[1].load(), Ok(serde_json::json!({"b": "ä"})));
    }

    #[test]
    fn split_load_matches_split_then_load() {
        let opts = LoadOptions::default();
        let both = split_load(PEM, &opts).expect("split_load");
        let separate = docs(PEM);
        assert_eq!(both.len(), separate.len());
        for ((raw, value), doc) in both.iter().zip(&separate) {
            assert_eq!(raw, doc);
            assert_eq!(Ok(value), doc.load().as_ref());
        }
        let e = split_load("a: 1\n---\nb: 2\nb: 3\n", &opts).expect_err("dup");
        assert_eq!((e.line, e.column), (4, 1));
    }
}
