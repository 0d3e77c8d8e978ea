//! One pass over a rendered stream that finds its documents and reads each one's identity
//! (`apiVersion`, `kind`, `metadata.name`, `metadata.namespace`, `metadata.annotations`) without
//! building its value, more than ten times faster than parsing it.
//!
//! Two facts make this sound. A `---` at column 0 followed by a blank, a line break or the end is a
//! document marker wherever it stands (YAML's c-forbidden), so cutting at such lines gives
//! [`split`](super::split)'s boundaries once the few streams where something else also cuts or
//! joins documents are left to it: directives, `...`, a BOM or a lone CR inside the stream, content
//! on a `---` line, and a block scalar as a document's root (saphyr lets one detected at
//! indentation 0 run past `---`). And a document's identity is given only when every line of it
//! fits a strict block-style grammar on which saphyr and the loader cannot fail and read the
//! structure as we do; any other document is declined (its head is `None`) and the caller parses
//! it in full, which also reports its errors.

use std::borrow::Cow;

use super::resolve::{Scalar, resolve_plain};
use super::split::RawDoc;

/// What one pass learns about a document without building its value.
// Not called yet outside tests: the stream reader adopts it separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scanned {
    /// Exactly what `split()` returns for this document (text, index, line, column, source, empty).
    pub raw: RawDoc,
    /// The identity fields, or None when the fast path declined this document (the caller then
    /// parses `raw` with the full parser, which also reports any error). Always None for empty docs.
    pub head: Option<Head>,
}

/// The fields of a document's top-level mapping that later stages look up without parsing.
// Not called yet outside tests: the stream reader adopts it separately.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Head {
    /// Top-level `apiVersion`, when present (always a string).
    pub api_version: Option<String>,
    /// Top-level `kind`, when present.
    pub kind: Option<String>,
    /// `metadata.name`, when present.
    pub name: Option<String>,
    /// `metadata.namespace`, when present.
    pub namespace: Option<String>,
    /// `metadata.annotations`, in document order, every value a string.
    pub annotations: Vec<(String, String)>,
}

/// Splits and indexes a stream in one pass. None when the stream as a whole needs the full
/// splitter (`split`): directives, `...` markers, content on a `---` line, a BOM not at the very
/// start, lone-CR line breaks, NUL characters, or a document whose root may be a block scalar
/// (`|`, `>`, or a tag or anchor that could precede one).
// Not called yet outside tests: the stream reader adopts it separately.
pub(crate) fn scan(text: &str) -> Option<Vec<Scanned>> {
    let bytes = text.as_bytes();
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut docs = Vec::new();
    let mut doc = DocScan::default();
    // Before the first `---`: an implicit document, if anything but comments comes.
    let mut open = Open {
        start: bom,
        line: 1,
        column: 1 + usize::from(bom > 0),
        explicit: false,
    };
    let mut pos = bom;
    let mut line_no = 1;
    while pos < bytes.len() {
        let (end, next) = line_end(bytes, pos)?;
        let line = &text[pos..end];
        if marker(line.as_bytes())? {
            doc.finish(text, open, pos, &mut docs);
            open = if next == bytes.len() && !text.ends_with('\n') {
                // `---` as the last line, without a line break: the body starts after it, on it.
                let line_start = if line_no == 1 { 0 } else { pos };
                Open {
                    start: next,
                    line: line_no,
                    column: text[line_start..].chars().count() + 1,
                    explicit: true,
                }
            } else {
                Open {
                    start: next,
                    line: line_no + 1,
                    column: 1,
                    explicit: true,
                }
            };
        } else {
            doc.line(line)?;
        }
        pos = next;
        line_no += 1;
    }
    doc.finish(text, open, bytes.len(), &mut docs);
    Some(docs)
}

/// Where the body of the document being scanned starts.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// Byte offset.
    start: usize,
    /// 1-based line and column, as [`RawDoc`] gives them.
    line: usize,
    column: usize,
    /// A `---` opened it: it is a document even without content.
    explicit: bool,
}

/// End of the line starting at `pos` (before its `\n` or `\r\n`) and the start of the next line.
/// None for what a line-based split cannot follow: NUL (saphyr stops there), a CR without LF (a
/// line break to saphyr), a BOM (it may end a document).
fn line_end(b: &[u8], pos: usize) -> Option<(usize, usize)> {
    let mut i = pos;
    while i < b.len() {
        // Eight bytes at a time up to the first that may matter: a control character or 0xEF.
        if let Some(&chunk) = b.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
            let hits = special(u64::from_le_bytes(chunk));
            if hits == 0 {
                i += 8;
                continue;
            }
            i += hits.trailing_zeros() as usize / 8;
        }
        match b[i] {
            b'\n' => {
                let end = if i > pos && b[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                return Some((end, i + 1));
            }
            b'\r' if b.get(i + 1) != Some(&b'\n') => return None,
            0 => return None,
            0xEF if b[i + 1..].starts_with(&[0xBB, 0xBF]) => return None,
            _ => {}
        }
        i += 1;
    }
    Some((b.len(), b.len()))
}

/// The high bit of each byte of `word` (little-endian) that is below 0x0E or is 0xEF, exact up to
/// the lowest one (above it, borrows may flag more).
fn special(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let low = word.wrapping_sub(ONES * 0x0E) & !word & HIGHS;
    let ef = word ^ (ONES * 0xEF);
    low | (ef.wrapping_sub(ONES) & !ef & HIGHS)
}

/// Whether a line is a document marker (`---` and blanks); None for lines that make the stream
/// the full splitter's: `---` with content after it, `...`, a directive.
fn marker(b: &[u8]) -> Option<bool> {
    let blank_after = |b: &[u8]| b.len() == 3 || matches!(b[3], b' ' | b'\t');
    match b.first() {
        Some(b'-') if b.starts_with(b"---") && blank_after(b) => b[3..]
            .iter()
            .all(|&c| c == b' ' || c == b'\t')
            .then_some(true),
        Some(b'.') if b.starts_with(b"...") && blank_after(b) => None,
        Some(b'%') => None,
        _ => Some(false),
    }
}

/// The path of the first `# Source:` comment before the document's first node, exactly as
/// `split` finds it.
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

/// Nesting deeper than this is declined (the loader refuses 256 levels).
const MAX_DEPTH: usize = 100;
/// Longer keys are declined: saphyr drops a simple key 1024 characters after its start.
const MAX_KEY: usize = 1000;

/// Which identity a mapping holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Root,
    Metadata,
    Annotations,
    Other,
}

/// An open block collection: its indentation and kind.
#[derive(Debug, Clone, Copy)]
struct Frame {
    indent: usize,
    seq: bool,
    /// A sequence at its parent mapping's indentation (`key:\n- item`).
    indentless: bool,
    role: Role,
}

/// An identity field that takes a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    ApiVersion,
    Kind,
    Name,
    Namespace,
    Annotation,
}

/// What a mapping value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Any,
    Str(Target),
    Map(Role),
}

/// What the previous line left open.
#[derive(Debug, Clone, Copy, Default)]
enum Pending {
    #[default]
    None,
    /// `key:` with its value on later lines (or none) in the mapping at `indent`.
    Value { indent: usize, slot: Slot },
    /// `-` with its item on later lines (or none) in the sequence at `indent`.
    Item { indent: usize },
    /// A block scalar's content: `base` is the indentation of the collection holding it, `indent`
    /// its content's (0 until detected), `seen` whether a content line came, `leading` the most
    /// spaces of the blank lines before it, `fresh` whether no line came yet.
    Block {
        base: usize,
        indent: usize,
        seen: bool,
        leading: usize,
        fresh: bool,
    },
}

/// The identity keys, one bit each, to refuse duplicates.
const API_VERSION: u8 = 1;
const KIND: u8 = 2;
const METADATA: u8 = 4;
const NAME: u8 = 8;
const NAMESPACE: u8 = 16;
const ANNOTATIONS: u8 = 32;

/// The state of one document's scan.
#[derive(Debug, Default)]
struct DocScan {
    stack: Vec<Frame>,
    pending: Pending,
    /// Some line is not understood: the document is declined.
    dead: bool,
    /// Some line holds a node (not blank, not a comment).
    content: bool,
    seen: u8,
    head: Head,
    /// The key of the annotation whose value comes next on the line.
    annotation: Option<String>,
}

impl DocScan {
    /// Ends the document whose body starts at `open` and ends at byte `end`, and readies for the
    /// next one.
    fn finish(&mut self, text: &str, open: Open, end: usize, docs: &mut Vec<Scanned>) {
        let head = std::mem::take(&mut self.head);
        let ok = self.content && !self.dead && self.close();
        if open.explicit || self.content {
            let body = &text[open.start..end];
            let raw = RawDoc {
                text: body.to_owned(),
                index: docs.len(),
                line: open.line,
                column: open.column,
                source: source_comment(body),
                empty: !self.content,
            };
            let head = ok.then_some(head).filter(|h| distinct(&h.annotations));
            docs.push(Scanned { raw, head });
        }
        self.stack.clear();
        self.pending = Pending::None;
        self.dead = false;
        self.content = false;
        self.seen = 0;
        self.annotation = None;
    }

    /// Whether what the last line left open may end the document.
    fn close(&self) -> bool {
        match self.pending {
            Pending::Value { slot, .. } => slot == Slot::Any,
            Pending::None | Pending::Item { .. } | Pending::Block { .. } => true,
        }
    }

    /// One line of the document, without its line break. None when the stream must go to the
    /// full splitter.
    fn line(&mut self, line: &str) -> Option<()> {
        if self.dead {
            return Some(());
        }
        let b = line.as_bytes();
        let sp = b.iter().take_while(|&&c| c == b' ').count();
        if matches!(self.pending, Pending::Block { .. }) && self.block_line(b, sp) {
            return Some(());
        }
        // Tabs are blanks to saphyr, but ones before content are declined below.
        let first = sp
            + b[sp..]
                .iter()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count();
        match b.get(first) {
            None | Some(b'#') => return Some(()),
            Some(b'|' | b'>' | b'!' | b'&') if !self.content => return None,
            Some(_) => self.content = true,
        }
        if first != sp || !self.structure(line, sp) {
            self.dead = true;
        }
        Some(())
    }

    /// A line while a block scalar is open; true when it belongs to the scalar. Mirrors saphyr's
    /// `scan_block_scalar`, declining where saphyr would fail.
    fn block_line(&mut self, b: &[u8], sp: usize) -> bool {
        let Pending::Block {
            base,
            indent,
            seen,
            leading,
            fresh,
        } = &mut self.pending
        else {
            return false;
        };
        if std::mem::take(fresh) && b.first() == Some(&b'\t') {
            // "a block scalar content cannot start with a tab"
            self.dead = true;
            return true;
        }
        if sp == b.len() {
            if !*seen {
                *leading = (*leading).max(sp);
            }
            return true;
        }
        if *indent == 0 {
            if sp > *base {
                // Blank lines before the first content line that are indented more than it make
                // saphyr fail ("wrongly indented line in block scalar").
                self.dead |= *leading > sp;
                *indent = sp;
                *seen = true;
                return true;
            }
        } else if sp >= *indent {
            *seen = true;
            return true;
        } else if !*seen && sp > *base {
            self.dead = true;
            return true;
        }
        self.pending = Pending::None;
        false
    }

    /// A content line (not blank, not a comment, not a block scalar's) indented by `sp` spaces.
    fn structure(&mut self, line: &str, sp: usize) -> bool {
        let b = line.as_bytes();
        let entry = is_entry(b, sp);
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::Value { indent, slot } => {
                if sp > indent {
                    let role = match slot {
                        Slot::Any => Role::Other,
                        Slot::Map(role) => role,
                        Slot::Str(_) => return false,
                    };
                    if entry {
                        return role == Role::Other
                            && self.push(sp, true, false, role)
                            && self.entry(line, sp);
                    }
                    return self.push(sp, false, false, role) && self.map_entry(line, sp);
                }
                if sp == indent && entry {
                    return slot == Slot::Any
                        && self.push(sp, true, true, Role::Other)
                        && self.entry(line, sp);
                }
                if slot != Slot::Any {
                    return false;
                }
            }
            Pending::Item { indent } if sp > indent => {
                return if entry {
                    self.push(sp, true, false, Role::Other) && self.entry(line, sp)
                } else {
                    self.push(sp, false, false, Role::Other) && self.map_entry(line, sp)
                };
            }
            Pending::Item { .. } | Pending::None | Pending::Block { .. } => {}
        }
        while self.stack.last().is_some_and(|f| f.indent > sp) {
            self.stack.pop();
        }
        let Some(top) = self.stack.last().copied() else {
            return sp == 0
                && !entry
                && self.push(0, false, false, Role::Root)
                && self.map_entry(line, 0);
        };
        if top.indent != sp {
            return false;
        }
        if top.seq {
            if entry {
                return self.entry(line, sp);
            }
            if !top.indentless {
                return false;
            }
            self.stack.pop();
        } else if entry {
            return false;
        }
        self.map_entry(line, sp)
    }

    fn push(&mut self, indent: usize, seq: bool, indentless: bool, role: Role) -> bool {
        self.stack.push(Frame {
            indent,
            seq,
            indentless,
            role,
        });
        self.stack.len() <= MAX_DEPTH
    }

    /// A sequence entry whose `-` is at column `c`.
    fn entry(&mut self, line: &str, c: usize) -> bool {
        let b = line.as_bytes();
        let k = skip_spaces(b, c + 1);
        if k == b.len() || b[k] == b'#' {
            self.pending = Pending::Item { indent: c };
            return true;
        }
        if is_entry(b, k) {
            return self.push(k, true, false, Role::Other) && self.entry(line, k);
        }
        if matches!(b[k], b'|' | b'>' | b'[' | b'{') {
            return self.value(line, k, Slot::Any, c);
        }
        match scalar(line, k) {
            Some(tok) if tok.key => {
                self.push(k, false, false, Role::Other) && self.after_key(line, k, tok)
            }
            Some(tok) => value_loads(&tok),
            None => false,
        }
    }

    /// A mapping entry whose key starts at column `c`, the mapping's indentation.
    fn map_entry(&mut self, line: &str, c: usize) -> bool {
        match scalar(line, c) {
            Some(tok) if tok.key => self.after_key(line, c, tok),
            _ => false,
        }
    }

    /// The rest of a mapping entry after its key, `key`, at column `c`.
    fn after_key(&mut self, line: &str, c: usize, key: Tok<'_>) -> bool {
        let role = self.stack.last().map_or(Role::Other, |f| f.role);
        let Some(slot) = self.slot(&key, role) else {
            return false;
        };
        let b = line.as_bytes();
        let k = skip_spaces(b, key.end);
        if k == b.len() || b[k] == b'#' {
            self.pending = Pending::Value { indent: c, slot };
            return true;
        }
        self.value(line, k, slot, c)
    }

    /// What the value of `key` in a mapping of `role` must be; None to decline (a key the loader
    /// refuses, a merge key, a repeated identity key, an annotation key that is not a string).
    fn slot(&mut self, key: &Tok<'_>, role: Role) -> Option<Slot> {
        if key.style == Style::Plain {
            match resolve_plain(key.text) {
                Scalar::Null | Scalar::Uint(_) => return None,
                _ if key.text == "<<" => return None,
                Scalar::Str => {}
                _ if role == Role::Annotations => return None,
                _ => return Some(Slot::Any),
            }
        }
        if role == Role::Other {
            return Some(Slot::Any);
        }
        let name = key.string()?;
        let (bit, slot) = match (role, name.as_ref()) {
            (Role::Root, "apiVersion") => (API_VERSION, Slot::Str(Target::ApiVersion)),
            (Role::Root, "kind") => (KIND, Slot::Str(Target::Kind)),
            (Role::Root, "metadata") => (METADATA, Slot::Map(Role::Metadata)),
            (Role::Metadata, "name") => (NAME, Slot::Str(Target::Name)),
            (Role::Metadata, "namespace") => (NAMESPACE, Slot::Str(Target::Namespace)),
            (Role::Metadata, "annotations") => (ANNOTATIONS, Slot::Map(Role::Annotations)),
            (Role::Annotations, _) => {
                self.annotation = Some(name.into_owned());
                return Some(Slot::Str(Target::Annotation));
            }
            _ => return Some(Slot::Any),
        };
        if self.seen & bit != 0 {
            return None;
        }
        self.seen |= bit;
        Some(slot)
    }

    /// A value starting at column `k` on its key's (or `-`'s) line; `base` is the indentation of
    /// the collection holding it.
    fn value(&mut self, line: &str, k: usize, slot: Slot, base: usize) -> bool {
        let b = line.as_bytes();
        match b[k] {
            b'|' | b'>' => slot == Slot::Any && self.block_header(b, k, base),
            b'[' | b'{' => match flow(b, k) {
                Some((map, empty)) => match slot {
                    Slot::Any => true,
                    Slot::Map(_) => map && empty,
                    Slot::Str(_) => false,
                },
                None => false,
            },
            _ => match scalar(line, k) {
                Some(tok) if !tok.key => match slot {
                    Slot::Any => value_loads(&tok),
                    Slot::Map(_) => false,
                    Slot::Str(target) => match tok.string_value() {
                        Some(s) => self.store(target, s),
                        None => false,
                    },
                },
                _ => false,
            },
        }
    }

    fn store(&mut self, target: Target, value: String) -> bool {
        let h = &mut self.head;
        match target {
            Target::ApiVersion => h.api_version = Some(value),
            Target::Kind => h.kind = Some(value),
            Target::Name => h.name = Some(value),
            Target::Namespace => h.namespace = Some(value),
            Target::Annotation => match self.annotation.take() {
                Some(key) => h.annotations.push((key, value)),
                None => return false,
            },
        }
        true
    }

    /// A block scalar header (`|`, `>-`, `|2+`, ...) at column `k`, then spaces and a comment.
    fn block_header(&mut self, b: &[u8], k: usize, base: usize) -> bool {
        let mut i = k + 1;
        let mut step = 0;
        let digit = |c: Option<&u8>| c.filter(|c| (b'1'..=b'9').contains(c)).map(|c| c - b'0');
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
            if let Some(d) = digit(b.get(i)) {
                step = usize::from(d);
                i += 1;
            }
        } else if let Some(d) = digit(b.get(i)) {
            step = usize::from(d);
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
        }
        if !trailing(b, i) {
            return false;
        }
        self.pending = Pending::Block {
            base,
            indent: if step > 0 { base + step } else { 0 },
            seen: false,
            leading: 0,
            fresh: true,
        };
        true
    }
}

/// True when no two annotations share a key (the loader would keep only the last).
fn distinct(annotations: &[(String, String)]) -> bool {
    if annotations.len() <= 16 {
        return annotations
            .iter()
            .enumerate()
            .all(|(i, (k, _))| annotations[..i].iter().all(|(j, _)| j != k));
    }
    let mut keys: Vec<&str> = annotations.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    keys.windows(2).all(|w| w[0] != w[1])
}

/// `-` at column `i` followed by a space or the end of the line: a block sequence entry.
fn is_entry(b: &[u8], i: usize) -> bool {
    b.get(i) == Some(&b'-') && matches!(b.get(i + 1), None | Some(b' '))
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// True at the end of the line, or before spaces and then the end or a comment.
fn trailing(b: &[u8], i: usize) -> bool {
    if i == b.len() {
        return true;
    }
    if b[i] != b' ' {
        return false;
    }
    let j = skip_spaces(b, i);
    j == b.len() || b[j] == b'#'
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

/// A one-line scalar in block context.
#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    style: Style,
    /// Plain: the text; quoted: what is between the quotes, escapes undecoded.
    text: &'a str,
    /// Followed by `:` and a space or the end of the line: a mapping key.
    key: bool,
    /// For a key, the column after its `:`.
    end: usize,
}

impl Tok<'_> {
    /// The scalar's string as the loader reads it (a key's, or a quoted value's).
    fn string(&self) -> Option<Cow<'_, str>> {
        match self.style {
            Style::Plain => Some(Cow::Borrowed(self.text)),
            Style::Single if self.text.contains('\'') => {
                Some(Cow::Owned(self.text.replace("''", "'")))
            }
            Style::Single => Some(Cow::Borrowed(self.text)),
            Style::Double => decode_double(self.text),
        }
    }

    /// The value as a string, when the loader reads it as one.
    fn string_value(&self) -> Option<String> {
        if self.style == Style::Plain && resolve_plain(self.text) != Scalar::Str {
            return None;
        }
        self.string().map(Cow::into_owned)
    }
}

/// A plain value the loader takes: anything but the infinity and NaN words (JSON has no such
/// numbers). `resolve_plain` yields non-finite floats only from its fixed words (`.inf`, `-.Inf`,
/// `+.INF`, `.nan`, ...; overflowing numbers stay strings), all starting with `.`, `+.` or `-.`,
/// so other values need no resolving (which allocates for numbers).
fn value_loads(tok: &Tok<'_>) -> bool {
    if tok.style != Style::Plain {
        return true;
    }
    let b = tok.text.as_bytes();
    let dotted = match b.first() {
        Some(b'.') => true,
        Some(b'+' | b'-') => b.get(1) == Some(&b'.'),
        _ => false,
    };
    !dotted || !matches!(resolve_plain(tok.text), Scalar::Float(f) if !f.is_finite())
}

/// Bytes that cannot start a plain scalar (YAML indicators, and blanks).
fn plain_start(b: &[u8], k: usize) -> bool {
    match b[k] {
        b'-' => matches!(b.get(k + 1), Some(&c) if c != b' ' && c != b'\t'),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | b'\t' => false,
        _ => true,
    }
}

/// The one-line scalar at column `k` of a block-context line: a key (followed by `: ` or `:` at
/// the end) or a value (followed by nothing but spaces and a comment). None for anything else.
fn scalar(line: &str, k: usize) -> Option<Tok<'_>> {
    let b = line.as_bytes();
    let quote = b[k];
    if quote == b'"' || quote == b'\'' {
        let close = if quote == b'"' {
            double_end(b, k)?
        } else {
            single_end(b, k)?
        };
        let style = if quote == b'"' {
            Style::Double
        } else {
            Style::Single
        };
        let text = &line[k + 1..close];
        let after = close + 1;
        if b.get(after) == Some(&b':') {
            let key = matches!(b.get(after + 1), None | Some(b' ')) && after - k <= MAX_KEY;
            return key.then_some(Tok {
                style,
                text,
                key: true,
                end: after + 1,
            });
        }
        return trailing(b, after).then_some(Tok {
            style,
            text,
            key: false,
            end: b.len(),
        });
    }
    if !plain_start(b, k) {
        return None;
    }
    let mut i = k + 1;
    while i < b.len() {
        if !PLAIN_STOPS[usize::from(b[i])] {
            i += 1;
            continue;
        }
        match b[i] {
            b':' => match b.get(i + 1) {
                None | Some(b' ') => {
                    let key = b[i - 1] != b' ' && i - k <= MAX_KEY;
                    return key.then_some(Tok {
                        style: Style::Plain,
                        text: &line[k..i],
                        key: true,
                        end: i + 1,
                    });
                }
                Some(b'\t') => return None,
                _ => {}
            },
            b'#' if b[i - 1] == b' ' => break,
            b'\t' => return None,
            _ => {}
        }
        i += 1;
    }
    Some(Tok {
        style: Style::Plain,
        text: line[k..i].trim_end_matches(' '),
        key: false,
        end: b.len(),
    })
}

/// The bytes that may end a plain scalar or make it one the grammar declines.
static PLAIN_STOPS: [bool; 256] = {
    let mut t = [false; 256];
    t[b':' as usize] = true;
    t[b'#' as usize] = true;
    t[b'\t' as usize] = true;
    t
};

/// The closing quote of the single-quoted scalar opening at `k`, on the same line.
fn single_end(b: &[u8], k: usize) -> Option<usize> {
    let mut i = k + 1;
    loop {
        match b.get(i)? {
            b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return Some(i),
            _ => i += 1,
        }
    }
}

/// The closing quote of the double-quoted scalar opening at `k`, on the same line, with every
/// escape one saphyr decodes.
fn double_end(b: &[u8], k: usize) -> Option<usize> {
    let mut i = k + 1;
    loop {
        match b.get(i)? {
            b'"' => return Some(i),
            b'\\' => i += 1 + escape(&b[i + 1..])?.1,
            _ => i += 1,
        }
    }
}

/// The character a backslash escape stands for and the bytes it takes after the backslash, as
/// saphyr's `resolve_flow_scalar_escape_sequence` decodes it. None where saphyr fails, and for a
/// backslash at the end of the line (an escaped line break: a multi-line scalar).
fn escape(b: &[u8]) -> Option<(char, usize)> {
    let simple = match b.first()? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' | b'\t' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' => return hex(b, 2),
        b'u' => return hex(b, 4),
        b'U' => return hex(b, 8),
        _ => return None,
    };
    Some((simple, 1))
}

fn hex(b: &[u8], digits: usize) -> Option<(char, usize)> {
    let code = b.get(1..=digits)?;
    let mut value = 0u32;
    for &c in code {
        value = (value << 4) | char::from(c).to_digit(16)?;
    }
    Some((char::from_u32(value)?, 1 + digits))
}

/// A one-line double-quoted scalar's content, escapes decoded.
fn decode_double(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('\\') {
        return Some(Cow::Borrowed(text));
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(at) = text[i..].find('\\') {
        out.push_str(&text[i..i + at]);
        let (c, len) = escape(&b[i + at + 1..])?;
        out.push(c);
        i += at + 1 + len;
    }
    out.push_str(&text[i..]);
    Some(Cow::Owned(out))
}

/// A one-line flow collection of scalars at column `k` (`[]`, `{}`, `["--a", b]`, `{a: 1}`),
/// then spaces and a comment: whether it is a mapping and whether it is empty. None for anything
/// else (nesting, empty entries, a trailing comma, implicit pairs, plain scalars beyond a safe set).
fn flow(b: &[u8], k: usize) -> Option<(bool, bool)> {
    let map = b[k] == b'{';
    let close = if map { b'}' } else { b']' };
    let mut i = skip_spaces(b, k + 1);
    let empty = b.get(i) == Some(&close);
    if !empty {
        loop {
            i = flow_scalar(b, i, map)?;
            if map {
                if b.get(i) != Some(&b':') || b.get(i + 1) != Some(&b' ') {
                    return None;
                }
                i = flow_scalar(b, skip_spaces(b, i + 1), false)?;
            }
            match b.get(i) {
                Some(&b',') => i = skip_spaces(b, i + 1),
                Some(&c) if c == close => break,
                _ => return None,
            }
        }
    }
    trailing(b, i + 1).then_some((map, empty))
}

/// Plain scalars inside flow collections are limited to these bytes (and inner spaces).
fn flow_safe(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'+' | b'=' | b'@' | b'~' | b'-')
}

/// A scalar inside a one-line flow collection at `i`; the position after it and its spaces.
fn flow_scalar(b: &[u8], i: usize, key: bool) -> Option<usize> {
    let end = match *b.get(i)? {
        b'"' => double_end(b, i)? + 1,
        b'\'' => single_end(b, i)? + 1,
        _ => {
            // saphyr refuses a word starting with `-` before a flow indicator (`[a -]`); every
            // word here starts with a letter, digit, `.`, or `-`/`+` before one of those.
            let word = |j: usize| {
                let c = b[j];
                c.is_ascii_alphanumeric()
                    || matches!(c, b'_' | b'.' | b'/' | b'~')
                    || (matches!(c, b'-' | b'+')
                        && b.get(j + 1)
                            .is_some_and(|&n| n.is_ascii_alphanumeric() || n == b'.'))
            };
            if !word(i) {
                return None;
            }
            let mut j = i + 1;
            while j < b.len() && (flow_safe(b[j]) || b[j] == b' ') {
                if b[j - 1] == b' ' && b[j] != b' ' && !word(j) {
                    return None;
                }
                j += 1;
            }
            while b[j - 1] == b' ' {
                j -= 1;
            }
            // Only ASCII was taken, so this is a whole string.
            let text = std::str::from_utf8(&b[i..j]).ok()?;
            let loads = match resolve_plain(text) {
                Scalar::Null | Scalar::Uint(_) => !key,
                Scalar::Float(f) => f.is_finite(),
                _ => true,
            };
            if !loads {
                return None;
            }
            j
        }
    };
    Some(skip_spaces(b, end))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;
    use crate::stream::{DuplicateKeys, LoadOptions, split};

    const LENIENT: LoadOptions = LoadOptions {
        duplicate_keys: DuplicateKeys::LastWins,
    };

    /// How many documents of a stream the fast path read, declined, or found empty.
    #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
    struct Counts {
        accepted: usize,
        declined: usize,
        empty: usize,
    }

    /// Asserts the contract on `text`; None when `scan` left the whole stream to `split`.
    fn check(text: &str) -> Option<Counts> {
        let docs = scan(text)?;
        assert_layout(text, &docs);
        match split(text) {
            Ok(raw) => {
                let got: Vec<&RawDoc> = docs.iter().map(|d| &d.raw).collect();
                let want: Vec<&RawDoc> = raw.iter().collect();
                assert_eq!(got, want, "{text:?}");
            }
            Err(_) => {
                // No document holds another boundary: alone, each is at most one document.
                for d in &docs {
                    if let Ok(alone) = split(&d.raw.text) {
                        assert!(alone.len() <= 1, "{:?} in {text:?}", d.raw.text);
                    }
                }
            }
        }
        let mut counts = Counts::default();
        for d in &docs {
            match &d.head {
                Some(h) => {
                    assert_head(&d.raw, h, text);
                    counts.accepted += 1;
                }
                None if d.raw.empty => counts.empty += 1,
                None => counts.declined += 1,
            }
        }
        Some(counts)
    }

    /// Each document's text is the input at its position, in order, and only one marker line lies
    /// between two documents.
    fn assert_layout(text: &str, docs: &[Scanned]) {
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut previous_end = None;
        for (i, d) in docs.iter().enumerate() {
            let r = &d.raw;
            assert_eq!(r.index, i);
            let line_start = starts[r.line - 1];
            let offset = line_start
                + text[line_start..]
                    .chars()
                    .take(r.column - 1)
                    .map(char::len_utf8)
                    .sum::<usize>();
            assert_eq!(
                &text[offset..offset + r.text.len()],
                r.text,
                "{r:?} in {text:?}"
            );
            if let Some(end) = previous_end {
                let gap: &str = &text[end..offset];
                assert!(gap.starts_with("---"), "{gap:?} in {text:?}");
                assert!(!gap.trim_end_matches('\n').contains('\n'), "{gap:?}");
            }
            previous_end = Some(offset + r.text.len());
        }
        if let Some(end) = previous_end {
            assert_eq!(end, text.len(), "{text:?}");
        }
    }

    /// The loaded document agrees with `h` on every identity field.
    fn assert_head(raw: &RawDoc, h: &Head, text: &str) {
        assert!(!raw.empty);
        let value = raw.load_with(&LENIENT).unwrap_or_else(|e| {
            panic!("accepted, but {e}: {:?} in {text:?}", raw.text);
        });
        let Value::Object(root) = &value else {
            panic!("accepted a non-mapping {value:?}: {:?}", raw.text);
        };
        let string = |s: &Option<String>| s.clone().map(Value::String);
        let what = || format!("{h:?} for {:?}", raw.text);
        assert_eq!(
            root.get("apiVersion").cloned(),
            string(&h.api_version),
            "{}",
            what()
        );
        assert_eq!(root.get("kind").cloned(), string(&h.kind), "{}", what());
        let meta = root.get("metadata");
        assert!(meta.is_none_or(Value::is_object), "{}", what());
        let field = |k: &str| meta.and_then(|m| m.get(k)).cloned();
        assert_eq!(field("name"), string(&h.name), "{}", what());
        assert_eq!(field("namespace"), string(&h.namespace), "{}", what());
        let annotations: Vec<(String, String)> = match field("annotations") {
            None => Vec::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_owned()))
                .collect(),
            Some(other) => panic!("annotations {other:?}: {}", what()),
        };
        assert_eq!(annotations, h.annotations, "{}", what());
    }

    fn heads(text: &str) -> Vec<Option<Head>> {
        scan(text)
            .unwrap_or_else(|| panic!("stream declined: {text:?}"))
            .into_iter()
            .map(|d| d.head)
            .collect()
    }

    /// The head of a one-document stream, checked against the loader.
    fn head(text: &str) -> Option<Head> {
        check(text).unwrap_or_else(|| panic!("stream declined: {text:?}"));
        let mut all = heads(text);
        assert_eq!(all.len(), 1, "{text:?}");
        all.pop().flatten()
    }

    fn accepted(text: &str) -> Head {
        head(text).unwrap_or_else(|| panic!("declined: {text:?}"))
    }

    fn declined(text: &str) {
        assert_eq!(head(text), None, "{text:?}");
    }

    fn named(kind: &str, name: &str) -> Head {
        Head {
            api_version: Some("v1".into()),
            kind: Some(kind.into()),
            name: Some(name.into()),
            ..Head::default()
        }
    }

    /// A Deployment, Service or ConfigMap shaped like `helm create` output, as benches/engine.rs
    /// writes them, with the variations helm charts commonly add.
    fn helm_doc(s: &mut String, i: usize) {
        let n = i / 3;
        let t = n % 40;
        let r = match i % 3 {
            0 => write!(
                s,
                "---\n# Source: big/templates/app-{t}.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{n}\n  labels:\n    app.kubernetes.io/name: app-{n}\n    app.kubernetes.io/instance: big\n  annotations:\n    checksum/config: 3f2a{n}\n    \"helm.sh/hook-weight\": \"-5\"\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: app-{n}\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: app-{n}\n    spec:\n      containers:\n        - name: app\n          image: \"nginx:1.27\"\n          args: [\"--port\", '8080', -v, 2]\n          command: []\n          ports:\n            - name: http\n              containerPort: 80\n              protocol: TCP\n          env:\n            - name: MODE\n              value: \"on\"\n          resources:\n            limits:\n              cpu: 100m\n              memory: 128Mi\n      nodeSelector: {{}}\n      tolerations:\n      - key: dedicated\n        operator: Equal\n"
            ),
            1 => write!(
                s,
                "---\n# Source: big/templates/app-{t}.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-{n}\n  namespace: 'ns-{t}'\nspec:\n  type: ClusterIP\n  ports:\n    - port: 80\n      targetPort: http\n      protocol: TCP\n      name: http\n  selector:\n    app.kubernetes.io/name: app-{n}\n"
            ),
            _ => write!(
                s,
                "---\n# Source: big/templates/app-{t}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{n}\ndata:\n  country: \"NO\"\n  greeting: hello # a comment\n  index: \"{n}\"\n  script.sh: |\n    #!/bin/sh\n    echo \"{{{{ .Values.x }}}}\"\n\n    ---\n  tls.key: |-\n    -----BEGIN PRIVATE KEY-----\n    MIIEvQ==\n    -----END PRIVATE KEY-----\n"
            ),
        };
        r.expect("write to String");
    }

    fn helm_stream(resources: usize) -> String {
        let mut s = String::new();
        for i in 0..resources {
            helm_doc(&mut s, i);
            if i % 7 == 6 {
                s.push_str("---\n# Source: big/templates/empty.yaml\n");
            }
        }
        s
    }

    #[test]
    fn helm_output_is_read_in_full() {
        let text = helm_stream(60);
        let counts = check(&text).expect("not declined");
        assert_eq!(
            counts,
            Counts {
                accepted: 60,
                declined: 0,
                empty: 8
            }
        );
        let docs = scan(&text).expect("not declined");
        assert_eq!(
            docs[0].raw.source.as_deref(),
            Some("big/templates/app-0.yaml")
        );
        let h = docs[0].head.clone().expect("accepted");
        assert_eq!(h.api_version.as_deref(), Some("apps/v1"));
        assert_eq!(h.kind.as_deref(), Some("Deployment"));
        assert_eq!(h.name.as_deref(), Some("app-0"));
        let annotations = [("checksum/config", "3f2a0"), ("helm.sh/hook-weight", "-5")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(h.annotations, annotations);
        let service = docs[1].head.clone().expect("accepted");
        assert_eq!(service.namespace.as_deref(), Some("ns-0"));
        // CRLF line breaks throughout.
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(check(&crlf), Some(counts));
        // A BOM at the very start.
        assert_eq!(check(&format!("\u{feff}{text}")), Some(counts));
        assert_eq!(check(&format!("\u{feff}{}", &text[4..])), Some(counts));
    }

    #[test]
    fn accepted_constructs() {
        let h = accepted("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
        assert_eq!(h, named("ConfigMap", "x"));
        // Quoted keys and values, comments, odd spacing, keys in any order.
        let h = accepted(
            "# c\nmetadata:   # c\n    'name': \"a b\"  # c\n    namespace:  'it''s'\n\n  # c\n\"kind\": 'Pod'\napiVersion: \"v1\"\n",
        );
        assert_eq!(h.name.as_deref(), Some("a b"));
        assert_eq!(h.namespace.as_deref(), Some("it's"));
        assert_eq!(h.kind.as_deref(), Some("Pod"));
        // Escapes in double quotes are decoded as saphyr does.
        let h = accepted("metadata:\n  name: \"a\\tb\\\"c\\\\\\x41\\u00e9\\U0001F600\\/\\_\"\n");
        assert_eq!(h.name.as_deref(), Some("a\tb\"c\\A\u{e9}\u{1F600}/\u{a0}"));
        // A name that only looks like a number when quoted.
        assert_eq!(
            accepted("metadata:\n  name: \"0755\"\n").name.as_deref(),
            Some("0755")
        );
        assert_eq!(
            accepted("metadata:\n  name: '1e3'\n").name.as_deref(),
            Some("1e3")
        );
        assert_eq!(
            accepted("metadata:\n  name: 0755x\n").name.as_deref(),
            Some("0755x")
        );
        // Every other value may be any scalar the loader reads.
        accepted("a: 0755\nb: true\nc: ~\nd:\ne: 1e400\nf: .5\ng: -1\nh: 0x1F\ni: yes\nj: ---\n");
        // Block scalars: chomping and indentation indicators, `---` and less-indented blank
        // lines inside, the end at the first less-indented line.
        let h = accepted(
            "data:\n  a: |\n    x\n   \n\n    ---\n  b: >-\n      folded\n  c: |2\n     lead\n  d: |+2\n      x\n  e: |-1\n   x\n  f: |\nkind: K\n",
        );
        assert_eq!(h.kind.as_deref(), Some("K"));
        accepted("a:\n- |\n  x\n- >\n - no, not an item\n- |2\n   x\nb: 1\n");
        accepted("a:\n  - b: |\n      x\n    c: d\n");
        accepted("a: |\n  x\n  \ty\n \t\n");
        accepted("a: |  # c\n  x\n");
        accepted("a: |\n  x\n \t\nb: 1\n");
        // Sequences: indented, indentless, nested, compact, empty items.
        accepted(
            "a:\n- x\n- - y\n  - z\n-\n- k: v\n  l: w\n-   m: |\n     x\n- # c\n  n: o\nb: 1\n",
        );
        accepted("a:\n  -\n    - x\n  - y\n");
        // Flow collections of scalars on one line.
        accepted(
            "a: []\nb: {}\nc: [ ]\nd: ['x', \"y\", z w, -1, .5, ~]\ne: {a: 1, 'b': \"c\", d: e f}\nf:\n- [a]\n- {}\n",
        );
        accepted("a: [a -b, a-, +1, \"\\u00e9\", 'it''s', x@y=z]\nb: { \"k\": v , l: 'w' }\n");
        let h = accepted("metadata:\n  annotations: {}\n");
        assert!(h.annotations.is_empty());
        // Keys that are not strings are fine where no identity is read.
        accepted("1: a\ntrue: b\n1.5: c\n.inf: d\nspec:\n  0x1F: e\n");
        // Plain scalars with indicators inside, `---` not at column 0, keys starting with `-`.
        accepted("a: b,c]{d}\nb: x:y\nc: a#b\nd: 'a' # c\n-e: f\n---x: y\n...x: y\n");
        // Control and other odd characters are content to saphyr.
        accepted("a: x\u{1}y\u{7f}\u{85}\u{2028}é\n");
        // Empty mappings and documents of comments only.
        assert_eq!(accepted("metadata: {}\n"), Head::default());
        assert_eq!(heads("---\n# Source: a.yaml\n---\n"), [None, None]);
        // A key of 1000 bytes.
        accepted(&format!("{}: x\n", "k".repeat(1000)));
    }

    #[test]
    fn declined_documents() {
        for text in [
            // Not a block mapping at the root.
            "- a\n",
            "a\n",
            "'a'\n",
            "[a]\n",
            "{a: 1}\n",
            "  a: 1\n",
            // Anchors, aliases, tags, complex keys, merge keys.
            "a: &x 1\n",
            "a: *x\n",
            "a: !!str 1\n",
            "? a\n: b\n",
            "<<: {a: 1}\n",
            "a:\n  <<: {}\n",
            // Multi-line scalars.
            "a: b\n  c\n",
            "a: 'b\n  c'\n",
            "a: \"b\\\n  c\"\n",
            "a:\n  b\n",
            "-\n  b\n",
            // Tabs in indentation or around tokens.
            "a:\n\tb: 1\n",
            "a:\tb\n",
            "a: b\t# c\n",
            "a: b\t\n",
            "- \ta\n",
            "a: |\n  x\n\tb: 1\n",
            // Keys that are not simple or that the loader refuses.
            "[a]: b\n",
            "~: a\n",
            "null: a\n",
            "18446744073709551615: a\n",
            "a : b\n",
            "\"a\" : b\n",
            // Values the loader refuses or the grammar does not cover.
            "a: .inf\n",
            "a: -.Inf\n",
            "a: [.nan]\n",
            "a: - b\n",
            "a: b: c\n",
            "a: b:\n",
            "a: 'b' c\n",
            "a: 'b'#c\n",
            "a: ,b\n",
            "a: %b\n",
            "a: @b\n",
            "a: ?b\n",
            "a: :b\n",
            "a: \"\\q\"\n",
            "a: \"\\ud800\"\n",
            "a: [a, [b]]\n",
            "a: [a,]\n",
            "a: [a: b]\n",
            "a: {a}\n",
            "a: [a #b]\n",
            "a: [b] c\n",
            "a: [a -]\n",
            "a: [a -, b]\n",
            "a: {a: b -}\n",
            // Block scalar headers and content saphyr refuses.
            "a: |0\n  x\n",
            "a: |#c\n  x\n",
            "a: |x\n",
            "a: |\n    \n  x\n",
            "a: |2\n x\n",
            "a: |\n\tx\n",
            // Indentation the grammar does not follow.
            "a:\n    b: 1\n  c: 2\n",
            "a:\n  b: 1\n c: 2\n",
            "a: 1\n- b\n",
            "a:\n- b\n  c: 1\n",
            // A simple key longer than saphyr allows.
            "kkkk_long_key_placeholder",
        ] {
            let text = if text == "kkkk_long_key_placeholder" {
                format!("{}: x\n", "k".repeat(1025))
            } else {
                text.to_owned()
            };
            declined(&text);
        }
        // Nesting deeper than the loader allows.
        let deep: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        declined(&deep);
    }

    #[test]
    fn identity_fields_must_be_simple_strings() {
        for value in [
            "0755", "true", "~", "null", "", "1e3", "12", "yes", "[a]", "{}", "|\n    x",
            ">\n    x",
        ] {
            declined(&format!("metadata:\n  name: {value}\n"));
            declined(&format!("kind: {value}\n"));
            declined(&format!("metadata:\n  annotations:\n    a: {value}\n"));
        }
        declined("metadata:\n  name:\n    x\n");
        declined("metadata:\n  name:\n    a: b\n");
        declined("metadata: x\n");
        declined("metadata:\n");
        declined("metadata: []\n");
        declined("metadata:\n- name: x\n");
        declined("metadata:\n  annotations:\n  - a\n");
        declined("metadata:\n  annotations:\n");
        declined("metadata:\n  annotations: {a: b}\n");
        // Repeated identity keys, however they are spelled.
        declined("kind: A\nkind: B\n");
        declined("kind: A\n'kind': A\n");
        declined(
            "metadata:\n  name: a\n\"name\": b\n"
                .replace("\"name\"", "  \"name\"")
                .as_str(),
        );
        declined("metadata: {}\nmetadata: {}\n");
        declined("metadata:\n  annotations:\n    a: b\n    'a': c\n");
        let many: String = (0..20).map(|i| format!("    a{i}: x\n")).collect();
        accepted(&format!("metadata:\n  annotations:\n{many}"));
        declined(&format!("metadata:\n  annotations:\n{many}    a3: y\n"));
        // Annotation keys that are not strings.
        declined("metadata:\n  annotations:\n    1: x\n");
        // Repeats elsewhere are fine: the loader keeps the last.
        accepted("spec: 1\nspec: 2\nmetadata:\n  labels: {}\n  labels: {}\n");
    }

    #[test]
    fn streams_left_to_split() {
        for text in [
            "%YAML 1.1\n---\na: 1\n",
            "a: 1\n...\n",
            "a: 1\n... # end\n",
            "--- a: 1\n",
            "--- # Source: x\na: 1\n",
            "a: 1\n--- |\n  x\n",
            "a: 1\n\u{feff}---\nb: 2\n",
            "a: b\u{feff}\n",
            "a: 1\rb: 2\n",
            "a: 1\r",
            "a: b\0\n",
            "# c\0\n",
            // A block scalar as a document's root may run past `---`.
            "|\nfoo\n---\nbar\n",
            "---\n# c\n>\n x\n",
            "!!str |\nfoo\n",
            "---\n&a |\nfoo\n",
            "\t|\nfoo\n",
        ] {
            assert_eq!(scan(text), None, "{text:?}");
        }
    }

    #[test]
    fn boundaries_and_positions_match_split() {
        for text in [
            "",
            "# only a comment\n",
            "\u{feff}",
            "\u{feff}# c\n",
            "a: 1",
            "a: 1\n---",
            "a: 1\n---   ",
            "---",
            "\u{feff}---",
            "\u{feff}a: 1\n---\nb: 2",
            "# head\na: 1\n---\nb: 2\n",
            "# head\n\n---\nb: 2\n---\n",
            "---\n---\n---\n",
            "--- \t\na: 1\n---\t\n",
            "\t\n---\n \t \n",
            "a: x\n ---\n",
            "a: |\n  ---\n---\nb: 2\n",
            "a: ---x\n---x: 1\n",
            "é: 1\n---\n# Source: ü.yaml\nb: ä\n",
            "---\n# Source:   x/y.yaml  \nkind: A\n",
            "\n\n  # Source: a\n---\n",
            "---\r\n# Source: x.yaml\r\na: |\r\n  ---\r\n---\r\nb: 2\r\n",
            "a: 1\n---\n\t\n",
            "a: 1\n---\n\tb\n",
            "a: 1\n---\nb\n",
        ] {
            check(text).unwrap_or_else(|| panic!("declined: {text:?}"));
        }
        let d = scan("a: 1\n---").expect("scanned");
        assert_eq!((d[1].raw.line, d[1].raw.column), (2, 4));
        let d = scan("\u{feff}a: 1\n").expect("scanned");
        assert_eq!((d[0].raw.line, d[0].raw.column), (1, 2));
    }

    #[test]
    fn pem_keys_and_documents_with_errors() {
        let pem = "---\n# Source: chart/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\nstringData:\n  tls.key: |\n    -----BEGIN PRIVATE KEY-----\n    ---\n    MIIEvQ==\n    -----END PRIVATE KEY-----\n---\n# Source: chart/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n";
        let counts = check(pem).expect("scanned");
        assert_eq!(counts.accepted, 2);
        // A broken document does not hide the ones around it, nor move their boundaries.
        let text = "a: 1\n---\nb: \"unterminated\n---\nc: [1\n---\nkind: K\n";
        assert!(split(text).is_err());
        let docs = scan(text).expect("scanned");
        let texts: Vec<&str> = docs.iter().map(|d| d.raw.text.as_str()).collect();
        assert_eq!(
            texts,
            ["a: 1\n", "b: \"unterminated\n", "c: [1\n", "kind: K\n"]
        );
        let accepted: Vec<bool> = docs.iter().map(|d| d.head.is_some()).collect();
        assert_eq!(accepted, [true, false, false, true]);
        assert!(docs[1].raw.load().is_err() && docs[2].raw.load().is_err());
        assert_eq!(check(text).map(|c| c.accepted), Some(2));
    }

    #[test]
    fn only_dotted_plain_values_can_fail_to_load() {
        // `value_loads` resolves only values starting with `.`, `+.` or `-.`: nothing else
        // resolves to a number JSON cannot hold.
        for text in [
            "1e400",
            "-1e400",
            "+1e400",
            "1e99999",
            "9e308",
            "99999999999999999999999999999999",
            "0x",
            "-0b",
            "+0o",
            "1_000e400",
            "-.5e400",
            "+.5",
            "inf",
            "NaN",
            "-inf",
            "+inf",
            "1.e400",
        ] {
            let dotted = text.starts_with('.') || text[1..].starts_with('.');
            if !dotted {
                assert!(
                    !matches!(resolve_plain(text), Scalar::Float(f) if !f.is_finite()),
                    "{text}"
                );
            }
        }
    }

    /// Every `.yaml`/`.yml` file under `dir`.
    fn yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }

    #[test]
    fn testdata_files_keep_the_contract() {
        let mut files = Vec::new();
        yaml_files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata"),
            &mut files,
        );
        assert!(files.len() > 50, "{}", files.len());
        let mut total = Counts::default();
        let mut streams = (0, 0);
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            if split(&text).is_err() {
                continue;
            }
            match check(&text) {
                Some(c) => {
                    streams.0 += 1;
                    total.accepted += c.accepted;
                    total.declined += c.declined;
                    total.empty += c.empty;
                }
                None => streams.1 += 1,
            }
        }
        eprintln!(
            "testdata: {} files, streams scanned/declined {streams:?}, {total:?}",
            files.len()
        );
        assert!(total.accepted > total.declined, "{total:?}");
    }

    /// Documents the mutations start from: helm's shapes and every construct the grammar takes.
    const SEEDS: &[&str] = &[
        "# c\nmetadata:   # c\n    'name': \"a b\"  # c\n    namespace:  'it''s'\n\n  # c\n\"kind\": 'Pod'\napiVersion: \"v1\"\n",
        "metadata:\n  name: \"a\\tb\\\"c\\\\\\x41\\u00e9\\U0001F600\\/\\_\"\n  annotations:\n    a: b\n    'c': \"d\"\n",
        "a: 0755\nb: true\nc: ~\nd:\ne: 1e400\nf: .5\ng: -1\nh: 0x1F\ni: yes\nj: ---\n",
        "data:\n  a: |\n    x\n   \n\n    ---\n  b: >-\n      folded\n  c: |2\n     lead\n  d: |+2\n      x\n  e: |-1\n   x\n  f: |\nkind: K\n",
        "a:\n- |\n  x\n- >\n - no, not an item\n- |2\n   x\nb: 1\n",
        "a:\n- x\n- - y\n  - z\n-\n- k: v\n  l: w\n-   m: |\n     x\n- # c\n  n: o\nb: 1\n",
        "a: [a -b, a-, +1, \"\\u00e9\", 'it''s', x@y=z, .5, ~, -1]\nb: { \"k\": v , l: 'w', 1: 2, x y: z }\nc: []\nd: {}\n",
        "1: a\ntrue: b\n1.5: c\n.inf: d\nspec:\n  0x1F: e\n  x:\n  - [a, b]\n  - {a: b}\n  - 'x' # c\n",
        "a: b,c]{d}\nb: x:y\nc: a#b\nd: 'a' # c\n-e: f\n---x: y\n...x: y\n",
    ];

    /// Characters and snippets that mean something to YAML.
    const SIGNIFICANT: &[&str] = &[
        ":",
        "#",
        "&",
        "*",
        "!",
        "|",
        ">",
        "'",
        "\"",
        "-",
        "[",
        "]",
        "{",
        "}",
        ",",
        "?",
        "%",
        "@",
        "\t",
        "\r",
        "\n",
        " ",
        "\\",
        ".",
        "~",
        "0",
        "\u{feff}",
        ": ",
        "- ",
        " #",
        "|-",
        "|2",
        "---\n",
        "...\n",
        "\r\n",
        "\\x4",
        "\"\\u00e9\"",
        "''",
        "<<: ",
        "- - ",
        " -",
        "-]",
        "{}",
        "kind: X\n",
        "  name: y\n",
        "metadata:\n",
        "  annotations:\n",
        "\u{0}",
    ];

    fn mutate(text: &mut String, kind: u8, at: prop::sample::Index, pick: prop::sample::Index) {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        if lines.is_empty() {
            return;
        }
        let line = at.index(lines.len());
        let line_start: usize = lines[..line].iter().map(|l| l.len()).sum();
        let boundaries: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let i = boundaries[pick.index(boundaries.len())];
        match kind {
            // Insert something significant anywhere.
            0 | 1 => text.insert_str(i, SIGNIFICANT[at.index(SIGNIFICANT.len())]),
            // Duplicate a line.
            2 => {
                let copy = lines[line].to_owned();
                text.insert_str(line_start, &copy);
            }
            // Swap two lines.
            3 if line + 1 < lines.len() => {
                let swapped = format!("{}{}", lines[line + 1], lines[line]);
                let len = lines[line].len() + lines[line + 1].len();
                text.replace_range(line_start..line_start + len, &swapped);
            }
            // Indent a line more or less.
            3 | 4 => match pick.index(4) {
                0 => text.insert_str(line_start, "  "),
                1 => text.insert(line_start, ' '),
                _ => {
                    if text[line_start..].starts_with(' ') {
                        text.remove(line_start);
                    }
                }
            },
            // Delete a character.
            _ => {
                if i < text.len() {
                    text.remove(i);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn mutated_helm_streams_keep_the_contract(
            docs in prop::collection::vec((any::<bool>(), 0usize..6 + SEEDS.len()), 1..4),
            edits in prop::collection::vec(
                (0u8..6, any::<prop::sample::Index>(), any::<prop::sample::Index>()),
                1..5,
            ),
        ) {
            let mut text = String::new();
            for (marker, doc) in docs {
                match doc.checked_sub(6) {
                    None => helm_doc(&mut text, doc),
                    Some(seed) => {
                        if marker {
                            text.push_str("---\n");
                        }
                        text.push_str(SEEDS[seed]);
                    }
                }
            }
            for (kind, at, pick) in edits {
                mutate(&mut text, kind, at, pick);
            }
            check(&text);
        }
    }
}
