//! Go `text/template`, interpreted: helm-diff's `--output template` runs the user's template
//! (`HELM_DIFF_TPL`) with Go's engine, and a template must print the same bytes here.
//!
//! The lexer, parser and executor follow Go's own (error texts and recent additions such as
//! `else with` and ranging over an int included) for what a helm-diff template can reach. Its data
//! is a list of flat structs, so a JSON object stands for a Go struct: fields keep their order, a
//! missing field is an error, `%v` prints `{a b}`, `index` and `range` reject it. An empty array
//! stands for helm-diff's nil slice. Functions are Go's builtins plus helm-diff's `last`.
//!
//! Differences: types are named structurally (`struct { Namespace string; … }` where Go says
//! `diff.ReportTemplateSpec`); an error returns no partial output; complex numbers, maps, methods
//! and function values (`call` always fails), `%b`/`%x`/`%p` of floats and the `#` flag of float
//! verbs are not supported; `is_print` approximates Unicode categories; invalid UTF-8 (from `\x`
//! escapes or byte slicing) becomes U+FFFD. Every execution is bounded: see the `MAX_*` constants.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use anyhow::anyhow;
use serde_json::{Map, Value as Json};

/// Bound on the text one execution may produce, so a looping template cannot exhaust memory.
const MAX_OUTPUT: usize = 16 << 20;
/// Bound on the bytes of strings built by functions (`printf`, `html`, …) during one execution:
/// values kept in variables never reach the output and its limit.
const MAX_BUILT: usize = 64 << 20;
/// Bound on evaluation steps (nodes, commands, iterations; one more per 64 bytes of string
/// arguments), so nested ranges or recursive templates cannot run for long even on small data.
const MAX_STEPS: u64 = 10_000_000;
/// Go allows 100000 nested `template` calls; report templates need few, and the stack is finite.
const MAX_TEMPLATE_DEPTH: usize = 100;
/// Nesting of control structures and parentheses in the source, bounding parser recursion.
const MAX_NESTING: usize = 100;
/// Nesting summed over `template` calls at run time, bounding executor recursion.
const MAX_EXEC_NESTING: usize = 300;

/// A parsed Go text/template.
pub struct Template {
    name: String,
    lines: Lines,
    trees: HashMap<String, Vec<Node>>,
}

impl std::fmt::Debug for Template {
    /// Names the template; its parse tree is no use in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Template {
    /// Parses `text`; `name` is used in error messages like Go does ("template: NAME:LINE: ...").
    pub(super) fn parse(name: &str, text: &str) -> anyhow::Result<Template> {
        let lines = Lines::new(text);
        let trees = {
            let mut parser = Parser {
                name,
                lines: &lines,
                items: lex(text),
                next: 0,
                seen: 0,
                vars: vec!["$".to_string()],
                range_depth: 0,
                nesting: 0,
                action_line: 0,
                trees: HashMap::new(),
            };
            parser.parse()?;
            parser.trees
        };
        Ok(Template {
            name: name.to_string(),
            lines,
            trees,
        })
    }

    /// Executes the template with `data` as dot.
    pub(super) fn execute(&self, data: &Json) -> anyhow::Result<String> {
        let Some(root) = self.trees.get(&self.name) else {
            return Err(anyhow!(
                "template: {}: {} is an incomplete or empty template",
                self.name,
                quote(&self.name)
            ));
        };
        let dot = Value::from_json(data);
        let mut exec = Exec {
            tpl: self,
            name: &self.name,
            out: String::new(),
            vars: vec![("$", dot.clone())],
            at: At::Nowhere,
            steps: 0,
            built: 0,
            calls: 0,
            nesting: 0,
        };
        exec.walk(&dot, root)?;
        Ok(exec.out)
    }
}

/// Byte offsets where lines start, to turn positions into Go's `line:col`.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Lines(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    /// 1-based line and Go's 0-based byte column of `pos`.
    fn locate(&self, pos: usize) -> (usize, usize) {
        let line = self.0.partition_point(|&start| start <= pos);
        (
            line,
            pos - self.0.get(line.wrapping_sub(1)).copied().unwrap_or(0),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer: Go's state machine, run to completion; an error item ends the list, so the parser meets
// it exactly where Go's lazily running lexer would.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl Kind {
    fn keyword(word: &str) -> Option<Kind> {
        Some(match word {
            "block" => Kind::Block,
            "break" => Kind::Break,
            "continue" => Kind::Continue,
            "define" => Kind::Define,
            "else" => Kind::Else,
            "end" => Kind::End,
            "if" => Kind::If,
            "nil" => Kind::Nil,
            "range" => Kind::Range,
            "template" => Kind::Template,
            "with" => Kind::With,
            _ => return None,
        })
    }

    fn is_keyword(self) -> bool {
        matches!(
            self,
            Kind::Block
                | Kind::Break
                | Kind::Continue
                | Kind::Dot
                | Kind::Define
                | Kind::Else
                | Kind::End
                | Kind::If
                | Kind::Nil
                | Kind::Range
                | Kind::Template
                | Kind::With
        )
    }
}

#[derive(Clone, Debug)]
struct Item {
    kind: Kind,
    pos: usize,
    val: String,
}

/// Go's `item.String()`, as quoted in "unexpected X in Y".
impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Eof => f.write_str("EOF"),
            Kind::Error => f.write_str(&self.val),
            kind if kind.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.len() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", quote(&head))
            }
            _ => f.write_str(&quote(&self.val)),
        }
    }
}

enum State {
    Text,
    Action,
    Done,
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    paren_depth: i64,
    items: Vec<Item>,
}

fn lex(input: &str) -> Vec<Item> {
    let mut lexer = Lexer {
        input,
        pos: 0,
        start: 0,
        paren_depth: 0,
        items: Vec::new(),
    };
    let mut state = State::Text;
    loop {
        state = match state {
            State::Text => lexer.lex_text(),
            State::Action => lexer.lex_inside_action(),
            State::Done => return lexer.items,
        };
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(char::from(b[1]))
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(char::from(b[0])) && b[1] == b'-'
}

fn left_trim_len(s: &str) -> usize {
    s.len() - s.trim_start_matches(is_space).len()
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn push(&mut self, kind: Kind, pos: usize, val: &str) {
        self.items.push(Item {
            kind,
            pos,
            val: val.to_string(),
        });
    }

    fn emit(&mut self, kind: Kind) {
        let input = self.input;
        self.push(kind, self.start, &input[self.start..self.pos]);
        self.start = self.pos;
    }

    fn error(&mut self, msg: String) -> State {
        self.items.push(Item {
            kind: Kind::Error,
            pos: self.start,
            val: msg,
        });
        State::Done
    }

    fn bad_character(&mut self) -> State {
        let c = self.peek().unwrap_or(char::REPLACEMENT_CHARACTER);
        self.error(format!("bad character {}", go_unicode(c)))
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim_marker(rest) && rest[2..].starts_with("}}") {
            (true, true)
        } else {
            (rest.starts_with("}}"), false)
        }
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with("}}"),
        }
    }

    fn lex_text(&mut self) -> State {
        let input = self.input;
        let Some(found) = input[self.pos..].find("{{") else {
            self.pos = input.len();
            if self.pos > self.start {
                self.emit(Kind::Text);
            }
            self.emit(Kind::Eof);
            return State::Done;
        };
        let delim = self.pos + found;
        let mut end = delim;
        if has_left_trim_marker(&input[delim + 2..]) {
            end = self.start + input[self.start..delim].trim_end_matches(is_space).len();
        }
        if end > self.start {
            self.push(Kind::Text, self.start, &input[self.start..end]);
        }
        self.pos = delim + 2;
        let after_marker = if has_left_trim_marker(&input[self.pos..]) {
            2
        } else {
            0
        };
        if input[self.pos + after_marker..].starts_with("/*") {
            self.pos += after_marker;
            self.start = self.pos;
            return self.lex_comment();
        }
        self.push(Kind::LeftDelim, delim, "{{");
        self.pos += after_marker;
        self.start = self.pos;
        self.paren_depth = 0;
        State::Action
    }

    fn lex_comment(&mut self) -> State {
        let input = self.input;
        self.pos += 2;
        let Some(end) = input[self.pos..].find("*/") else {
            return self.error("unclosed comment".to_string());
        };
        self.pos += end + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".to_string());
        }
        self.pos += if trim { 4 } else { 2 };
        if trim {
            self.pos += left_trim_len(&input[self.pos..]);
        }
        self.start = self.pos;
        State::Text
    }

    fn lex_right_delim(&mut self) -> State {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += 2;
            self.start = self.pos;
        }
        self.pos += 2;
        self.emit(Kind::RightDelim);
        if trim {
            self.pos += left_trim_len(self.rest());
            self.start = self.pos;
        }
        State::Text
    }

    fn lex_inside_action(&mut self) -> State {
        if self.at_right_delim().0 {
            if self.paren_depth == 0 {
                return self.lex_right_delim();
            }
            return self.error("unclosed left paren".to_string());
        }
        let Some(c) = self.bump() else {
            return self.error("unclosed action".to_string());
        };
        match c {
            _ if is_space(c) => {
                self.pos -= 1;
                return self.lex_space();
            }
            '=' => self.emit(Kind::Assign),
            ':' => {
                if self.bump() != Some('=') {
                    return self.error("expected :=".to_string());
                }
                self.emit(Kind::Declare);
            }
            '|' => self.emit(Kind::Pipe),
            '"' => return self.lex_quote('"', Kind::String, "unterminated quoted string"),
            '`' => return self.lex_raw_quote(),
            '$' => return self.lex_variable(),
            '\'' => {
                return self.lex_quote('\'', Kind::CharConstant, "unterminated character constant");
            }
            '.' if self.peek().is_some_and(|n| !n.is_ascii_digit()) => {
                return self.lex_field_or_variable(Kind::Field);
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.pos -= 1;
                return self.lex_number();
            }
            _ if is_alphanumeric(c) => {
                self.pos -= c.len_utf8();
                return self.lex_identifier();
            }
            '(' => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.emit(Kind::RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error("unexpected right paren".to_string());
                }
            }
            _ if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
            _ => {
                return self.error(format!(
                    "unrecognized character in action: {}",
                    go_unicode(c)
                ));
            }
        }
        State::Action
    }

    /// Emits a run of spaces, unless its last space starts a ` -}}` trim marker.
    fn lex_space(&mut self) -> State {
        let mut count = 0;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
            count += 1;
        }
        let input = self.input;
        if has_right_trim_marker(&input[self.pos - 1..]) && input[self.pos + 1..].starts_with("}}")
        {
            self.pos -= 1;
            if count == 1 {
                return self.lex_right_delim();
            }
        }
        self.emit(Kind::Space);
        State::Action
    }

    fn lex_quote(&mut self, quote: char, kind: Kind, unterminated: &str) -> State {
        loop {
            match self.bump() {
                Some('\\') => match self.bump() {
                    Some(c) if c != '\n' => {}
                    _ => return self.error(unterminated.to_string()),
                },
                None | Some('\n') => return self.error(unterminated.to_string()),
                Some(c) if c == quote => break,
                Some(_) => {}
            }
        }
        self.emit(kind);
        State::Action
    }

    fn lex_raw_quote(&mut self) -> State {
        loop {
            match self.bump() {
                None => return self.error("unterminated raw quoted string".to_string()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::RawString);
        State::Action
    }

    fn lex_variable(&mut self) -> State {
        if self.at_terminator() {
            self.emit(Kind::Variable);
            return State::Action;
        }
        self.lex_field_or_variable(Kind::Variable)
    }

    fn lex_field_or_variable(&mut self, kind: Kind) -> State {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
            return State::Action;
        }
        while self.peek().is_some_and(is_alphanumeric) {
            self.bump();
        }
        if !self.at_terminator() {
            return self.bad_character();
        }
        self.emit(kind);
        State::Action
    }

    fn lex_identifier(&mut self) -> State {
        while self.peek().is_some_and(is_alphanumeric) {
            self.bump();
        }
        if !self.at_terminator() {
            return self.bad_character();
        }
        let word = &self.input[self.start..self.pos];
        let kind = Kind::keyword(word).unwrap_or(if word == "true" || word == "false" {
            Kind::Bool
        } else {
            Kind::Identifier
        });
        self.emit(kind);
        State::Action
    }

    fn lex_number(&mut self) -> State {
        if !self.scan_number() {
            return self.error(format!(
                "bad number syntax: {}",
                quote(&self.input[self.start..self.pos])
            ));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                return self.error(format!(
                    "bad number syntax: {}",
                    quote(&self.input[self.start..self.pos])
                ));
            }
            self.emit(Kind::Complex);
        } else {
            self.emit(Kind::Number);
        }
        State::Action
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if let Some(c) = self.peek()
            && is_alphanumeric(c)
        {
            self.bump();
            return false;
        }
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Syntax tree. `String` renderings are Go's `Node.String()`, quoted in execution errors.

enum Node {
    Text { pos: usize, text: String },
    Action(Pipe),
    Cond(Box<Cond>),
    Range(Box<RangeNode>),
    Template(Call),
    Break(usize),
    Continue(usize),
}

/// `if` or `with`, with its `else if` / `else with` chain flattened (Go nests them).
struct Cond {
    with: bool,
    branches: Vec<(Pipe, Vec<Node>)>,
    else_list: Option<Vec<Node>>,
}

struct RangeNode {
    pipe: Pipe,
    list: Vec<Node>,
    else_list: Option<Vec<Node>>,
}

struct Call {
    pos: usize,
    name: String,
    pipe: Option<Pipe>,
}

struct Pipe {
    pos: usize,
    decl: Vec<String>,
    is_assign: bool,
    cmds: Vec<Command>,
}

struct Command {
    pos: usize,
    args: Vec<Operand>,
}

enum Operand {
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    Number(usize, Number),
    Str {
        pos: usize,
        quoted: String,
        text: String,
    },
    Field {
        pos: usize,
        ident: Vec<String>,
    },
    Variable {
        pos: usize,
        ident: Vec<String>,
    },
    Func(usize, Func),
    Pipe(Box<Pipe>),
    Chain {
        pos: usize,
        node: Box<Operand>,
        fields: Vec<String>,
    },
}

/// A numeric literal with every Go type it fits, as Go's `NumberNode`.
struct Number {
    text: String,
    int: Option<i64>,
    uint: Option<u64>,
    float: Option<f64>,
}

impl Node {
    fn pos(&self) -> usize {
        match self {
            Node::Text { pos, .. } | Node::Break(pos) | Node::Continue(pos) => *pos,
            Node::Action(pipe) => pipe.pos,
            Node::Cond(cond) => cond.branches.first().map_or(0, |(pipe, _)| pipe.pos),
            Node::Range(range) => range.pipe.pos,
            Node::Template(call) => call.pos,
        }
    }
}

impl Operand {
    fn pos(&self) -> usize {
        match self {
            Operand::Dot(pos)
            | Operand::Nil(pos)
            | Operand::Bool(pos, _)
            | Operand::Number(pos, _)
            | Operand::Func(pos, _)
            | Operand::Str { pos, .. }
            | Operand::Field { pos, .. }
            | Operand::Variable { pos, .. }
            | Operand::Chain { pos, .. } => *pos,
            Operand::Pipe(pipe) => pipe.pos,
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Node]) -> fmt::Result {
    list.iter().try_for_each(|node| write!(f, "{node}"))
}

fn write_cond(
    f: &mut fmt::Formatter<'_>,
    with: bool,
    branches: &[(Pipe, Vec<Node>)],
    else_list: Option<&Vec<Node>>,
) -> fmt::Result {
    let Some(((pipe, list), rest)) = branches.split_first() else {
        return Ok(());
    };
    write!(f, "{{{{{} {pipe}}}}}", if with { "with" } else { "if" })?;
    write_list(f, list)?;
    if !rest.is_empty() {
        f.write_str("{{else}}")?;
        write_cond(f, with, rest, else_list)?;
    } else if let Some(list) = else_list {
        f.write_str("{{else}}")?;
        write_list(f, list)?;
    }
    f.write_str("{{end}}")
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text { text, .. } => f.write_str(text),
            Node::Action(pipe) => write!(f, "{{{{{pipe}}}}}"),
            Node::Cond(cond) => write_cond(f, cond.with, &cond.branches, cond.else_list.as_ref()),
            Node::Range(range) => {
                write!(f, "{{{{range {}}}}}", range.pipe)?;
                write_list(f, &range.list)?;
                if let Some(list) = &range.else_list {
                    f.write_str("{{else}}")?;
                    write_list(f, list)?;
                }
                f.write_str("{{end}}")
            }
            Node::Template(call) => match &call.pipe {
                Some(pipe) => write!(f, "{{{{template {} {pipe}}}}}", quote(&call.name)),
                None => write!(f, "{{{{template {}}}}}", quote(&call.name)),
            },
            Node::Break(_) => f.write_str("{{break}}"),
            Node::Continue(_) => f.write_str("{{continue}}"),
        }
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(f, "{} := ", self.decl.join(", "))?;
        }
        for (i, cmd) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match arg {
                Operand::Pipe(pipe) => write!(f, "({pipe})")?,
                _ => write!(f, "{arg}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Dot(_) => f.write_str("."),
            Operand::Nil(_) => f.write_str("nil"),
            Operand::Bool(_, b) => write!(f, "{b}"),
            Operand::Number(_, number) => f.write_str(&number.text),
            Operand::Str { quoted, .. } => f.write_str(quoted),
            Operand::Field { ident, .. } => ident.iter().try_for_each(|id| write!(f, ".{id}")),
            Operand::Variable { ident, .. } => f.write_str(&ident.join(".")),
            Operand::Func(_, func) => f.write_str(func.name()),
            Operand::Pipe(pipe) => write!(f, "{pipe}"),
            Operand::Chain { node, fields, .. } => {
                match &**node {
                    Operand::Pipe(pipe) => write!(f, "({pipe})")?,
                    node => write!(f, "{node}")?,
                }
                fields.iter().try_for_each(|id| write!(f, ".{id}"))
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Func {
    And,
    Call,
    Eq,
    Ge,
    Gt,
    Html,
    Index,
    Js,
    Last,
    Le,
    Len,
    Lt,
    Ne,
    Not,
    Or,
    Print,
    Printf,
    Println,
    Slice,
    Urlquery,
}

const FUNCS: [(&str, Func); 20] = [
    ("and", Func::And),
    ("call", Func::Call),
    ("eq", Func::Eq),
    ("ge", Func::Ge),
    ("gt", Func::Gt),
    ("html", Func::Html),
    ("index", Func::Index),
    ("js", Func::Js),
    ("last", Func::Last),
    ("le", Func::Le),
    ("len", Func::Len),
    ("lt", Func::Lt),
    ("ne", Func::Ne),
    ("not", Func::Not),
    ("or", Func::Or),
    ("print", Func::Print),
    ("printf", Func::Printf),
    ("println", Func::Println),
    ("slice", Func::Slice),
    ("urlquery", Func::Urlquery),
];

/// The Go type a function parameter demands; everything but these takes any value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Param {
    Any,
    Str,
    Int,
}

impl Param {
    fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Str => "string",
            Param::Int => "int",
        }
    }
}

impl Func {
    fn lookup(name: &str) -> Option<Func> {
        FUNCS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    fn name(self) -> &'static str {
        FUNCS
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("", |(n, _)| n)
    }

    /// Number of fixed parameters, and whether more may follow (Go's variadic signatures).
    fn arity(self) -> (usize, bool) {
        match self {
            Func::And
            | Func::Or
            | Func::Call
            | Func::Eq
            | Func::Index
            | Func::Slice
            | Func::Printf => (1, true),
            Func::Html | Func::Js | Func::Print | Func::Println | Func::Urlquery => (0, true),
            Func::Len | Func::Not => (1, false),
            Func::Ge | Func::Gt | Func::Le | Func::Lt | Func::Ne | Func::Last => (2, false),
        }
    }

    fn param(self, index: usize) -> Param {
        match (self, index) {
            (Func::Printf, 0) => Param::Str,
            (Func::Last, 0) => Param::Int,
            _ => Param::Any,
        }
    }

    /// For `and`/`or`: the truth value that stops evaluation.
    fn short_circuit(self) -> Option<bool> {
        match self {
            Func::And => Some(false),
            Func::Or => Some(true),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parser: Go's recursive descent over the item list, with its look-ahead and error texts.

enum Parsed {
    Node(Node),
    End,
    Else,
}

#[derive(PartialEq, Eq)]
enum Stop {
    End,
    Else,
}

struct Parser<'a> {
    name: &'a str,
    lines: &'a Lines,
    items: Vec<Item>,
    next: usize,
    /// Furthest item handed out: Go reports parse errors at that item's line.
    seen: usize,
    vars: Vec<String>,
    range_depth: usize,
    nesting: usize,
    action_line: usize,
    trees: HashMap<String, Vec<Node>>,
}

fn is_empty_tree(list: &[Node]) -> bool {
    list.iter()
        .all(|node| matches!(node, Node::Text { text, .. } if text.trim().is_empty()))
}

impl Parser<'_> {
    fn item(&self, index: usize) -> Item {
        let last = self.items.len().saturating_sub(1);
        self.items.get(index.min(last)).cloned().unwrap_or(Item {
            kind: Kind::Eof,
            pos: 0,
            val: String::new(),
        })
    }

    fn next(&mut self) -> Item {
        let item = self.item(self.next);
        self.seen = self.seen.max(self.next);
        self.next += 1;
        item
    }

    fn backup(&mut self) {
        self.next = self.next.saturating_sub(1);
    }

    fn peek(&mut self) -> Item {
        let item = self.next();
        self.backup();
        item
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let item = self.next();
            if item.kind != Kind::Space {
                return item;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let item = self.next_non_space();
        self.backup();
        item
    }

    fn line(&self, pos: usize) -> usize {
        self.lines.locate(pos).0
    }

    fn error(&self, msg: impl fmt::Display) -> anyhow::Error {
        anyhow!(
            "template: {}:{}: {}",
            self.name,
            self.line(self.item(self.seen).pos),
            msg
        )
    }

    fn unexpected(&self, item: &Item, context: &str) -> anyhow::Error {
        if item.kind == Kind::Error {
            let line = self.line(item.pos);
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != line {
                extra = format!(" in action started at {}:{}", self.name, self.action_line);
                if item.val.ends_with(" action") {
                    extra.replace_range(.." in action".len(), "");
                }
            }
            return self.error(format!("{}{extra}", item.val));
        }
        self.error(format!("unexpected {item} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> anyhow::Result<Item> {
        let item = self.next_non_space();
        if item.kind != kind {
            return Err(self.unexpected(&item, context));
        }
        Ok(item)
    }

    fn enter(&mut self) -> anyhow::Result<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error(format!("max nesting depth ({MAX_NESTING}) exceeded")));
        }
        Ok(())
    }

    fn unquote(&self, quoted: &str) -> anyhow::Result<String> {
        unquote(quoted).ok_or_else(|| self.error("invalid syntax"))
    }

    /// Installs a tree as Go does: an empty definition never replaces another; two non-empty
    /// ones conflict.
    fn add(&mut self, name: String, list: Vec<Node>) -> anyhow::Result<()> {
        match self.trees.get(&name) {
            Some(existing) if !is_empty_tree(existing) => {
                if !is_empty_tree(&list) {
                    return Err(self.error(format!(
                        "template: multiple definition of template {}",
                        quote(&name)
                    )));
                }
            }
            _ => {
                self.trees.insert(name, list);
            }
        }
        Ok(())
    }

    /// Runs `f` as the body of a new template: only `$` is visible and no range is open.
    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let range_depth = std::mem::take(&mut self.range_depth);
        let result = f(self);
        self.vars = vars;
        self.range_depth = range_depth;
        result
    }

    fn parse(&mut self) -> anyhow::Result<()> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let mark = self.next;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.definition()?;
                    continue;
                }
                self.next = mark;
            }
            match self.text_or_action()? {
                Parsed::Node(node) => root.push(node),
                Parsed::End => return Err(self.error("unexpected {{end}}")),
                Parsed::Else => return Err(self.error("unexpected {{else}}")),
            }
        }
        let name = self.name.to_string();
        self.add(name, root)
    }

    fn definition(&mut self) -> anyhow::Result<()> {
        const CONTEXT: &str = "define clause";
        let token = self.next_non_space();
        if !matches!(token.kind, Kind::String | Kind::RawString) {
            return Err(self.unexpected(&token, CONTEXT));
        }
        let name = self.unquote(&token.val)?;
        self.expect(Kind::RightDelim, CONTEXT)?;
        let (list, stop) = self.scoped(Self::item_list)?;
        if stop == Stop::Else {
            return Err(self.error(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        self.add(name, list)
    }

    fn item_list(&mut self) -> anyhow::Result<(Vec<Node>, Stop)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Parsed::Node(node) => list.push(node),
                Parsed::End => return Ok((list, Stop::End)),
                Parsed::Else => return Ok((list, Stop::Else)),
            }
        }
        Err(self.error("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> anyhow::Result<Parsed> {
        let token = self.next_non_space();
        match token.kind {
            Kind::Text => Ok(Parsed::Node(Node::Text {
                pos: token.pos,
                text: token.val,
            })),
            Kind::LeftDelim => {
                self.action_line = self.line(token.pos);
                let parsed = self.action();
                self.action_line = 0;
                parsed
            }
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    fn action(&mut self) -> anyhow::Result<Parsed> {
        let token = self.next_non_space();
        let node = match token.kind {
            Kind::Block => self.block()?,
            Kind::Break | Kind::Continue => {
                let name = if token.kind == Kind::Break {
                    "break"
                } else {
                    "continue"
                };
                let close = self.next_non_space();
                if close.kind != Kind::RightDelim {
                    return Err(self.unexpected(&close, &format!("{{{{{name}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.error(format!("{{{{{name}}}}} outside {{{{range}}}}")));
                }
                if token.kind == Kind::Break {
                    Node::Break(token.pos)
                } else {
                    Node::Continue(token.pos)
                }
            }
            Kind::Else => {
                // `{{else if …}}` / `{{else with …}}` leave the keyword for the chain to take.
                if !matches!(self.peek_non_space().kind, Kind::If | Kind::With) {
                    self.expect(Kind::RightDelim, "else")?;
                }
                return Ok(Parsed::Else);
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            Kind::If => self.cond(false)?,
            Kind::With => self.cond(true)?,
            Kind::Range => self.range()?,
            Kind::Template => self.template()?,
            _ => {
                self.backup();
                Node::Action(self.pipeline("command", Kind::RightDelim)?)
            }
        };
        Ok(Parsed::Node(node))
    }

    fn cond(&mut self, with: bool) -> anyhow::Result<Node> {
        let (context, keyword) = if with {
            ("with", Kind::With)
        } else {
            ("if", Kind::If)
        };
        self.enter()?;
        let vars = self.vars.len();
        let mut branches = Vec::new();
        let else_list = loop {
            let pipe = self.pipeline(context, Kind::RightDelim)?;
            let (list, stop) = self.item_list()?;
            branches.push((pipe, list));
            if stop == Stop::End {
                break None;
            }
            if self.peek().kind == keyword {
                self.next();
                continue;
            }
            let (list, stop) = self.item_list()?;
            if stop != Stop::End {
                return Err(self.error("expected end; found {{else}}"));
            }
            break Some(list);
        };
        self.vars.truncate(vars);
        self.nesting -= 1;
        Ok(Node::Cond(Box::new(Cond {
            with,
            branches,
            else_list,
        })))
    }

    fn range(&mut self) -> anyhow::Result<Node> {
        self.enter()?;
        let vars = self.vars.len();
        let pipe = self.pipeline("range", Kind::RightDelim)?;
        self.range_depth += 1;
        let (list, stop) = self.item_list()?;
        self.range_depth -= 1;
        let else_list = if stop == Stop::Else {
            let (list, stop) = self.item_list()?;
            if stop != Stop::End {
                return Err(self.error("expected end; found {{else}}"));
            }
            Some(list)
        } else {
            None
        };
        self.vars.truncate(vars);
        self.nesting -= 1;
        Ok(Node::Range(Box::new(RangeNode {
            pipe,
            list,
            else_list,
        })))
    }

    fn template_name(&self, token: &Item, context: &str) -> anyhow::Result<String> {
        match token.kind {
            Kind::String | Kind::RawString => self.unquote(&token.val),
            _ => Err(self.unexpected(token, context)),
        }
    }

    fn template(&mut self) -> anyhow::Result<Node> {
        const CONTEXT: &str = "template clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        let pipe = if self.next_non_space().kind == Kind::RightDelim {
            None
        } else {
            self.backup();
            Some(self.pipeline(CONTEXT, Kind::RightDelim)?)
        };
        Ok(Node::Template(Call {
            pos: token.pos,
            name,
            pipe,
        }))
    }

    fn block(&mut self) -> anyhow::Result<Node> {
        const CONTEXT: &str = "block clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, Kind::RightDelim)?;
        self.enter()?;
        let (list, stop) = self.scoped(Self::item_list)?;
        if stop == Stop::Else {
            return Err(self.error(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        self.nesting -= 1;
        self.add(name.clone(), list)?;
        Ok(Node::Template(Call {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        }))
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> anyhow::Result<Pipe> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe {
            pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        while self.peek_non_space().kind == Kind::Variable {
            let mark = self.next;
            let var = self.next();
            let next = self.peek_non_space();
            if matches!(next.kind, Kind::Assign | Kind::Declare) {
                pipe.is_assign = next.kind == Kind::Assign;
                self.next_non_space();
                pipe.decl.push(var.val.clone());
                self.vars.push(var.val);
                break;
            }
            if next.kind == Kind::Char && next.val == "," {
                self.next_non_space();
                pipe.decl.push(var.val.clone());
                self.vars.push(var.val);
                if context == "range" && pipe.decl.len() < 2 {
                    match self.peek_non_space().kind {
                        Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                        _ => return Err(self.error("range can only initialize variables")),
                    }
                }
                return Err(self.error(format!("too many declarations in {context}")));
            }
            self.next = mark;
            break;
        }
        loop {
            let token = self.next_non_space();
            if token.kind == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match token.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> anyhow::Result<()> {
        if pipe.cmds.is_empty() {
            return Err(self.error(format!("missing value for {context}")));
        }
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                cmd.args.first(),
                Some(
                    Operand::Bool(..)
                        | Operand::Dot(_)
                        | Operand::Nil(_)
                        | Operand::Number(..)
                        | Operand::Str { .. }
                )
            ) {
                return Err(self.error(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> anyhow::Result<Command> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                args.push(operand);
            }
            let token = self.next();
            match token.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.error("empty command"));
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> anyhow::Result<Option<Operand>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            fields.push(self.next().val[1..].to_string());
        }
        Ok(Some(match node {
            Operand::Field { mut ident, .. } => {
                ident.extend(fields);
                Operand::Field { pos, ident }
            }
            Operand::Variable { mut ident, .. } => {
                ident.extend(fields);
                Operand::Variable { pos, ident }
            }
            Operand::Bool(..)
            | Operand::Str { .. }
            | Operand::Number(..)
            | Operand::Nil(_)
            | Operand::Dot(_) => {
                return Err(self.error(format!(
                    "unexpected . after term {}",
                    quote(&node.to_string())
                )));
            }
            node => Operand::Chain {
                pos,
                node: Box::new(node),
                fields,
            },
        }))
    }

    fn term(&mut self) -> anyhow::Result<Option<Operand>> {
        let token = self.next_non_space();
        let pos = token.pos;
        Ok(Some(match token.kind {
            Kind::Identifier => match Func::lookup(&token.val) {
                Some(func) => Operand::Func(pos, func),
                None => {
                    return Err(self.error(format!("function {} not defined", quote(&token.val))));
                }
            },
            Kind::Dot => Operand::Dot(pos),
            Kind::Nil => Operand::Nil(pos),
            Kind::Variable => {
                if !self.vars.contains(&token.val) {
                    return Err(self.error(format!("undefined variable {}", quote(&token.val))));
                }
                Operand::Variable {
                    pos,
                    ident: vec![token.val],
                }
            }
            Kind::Field => Operand::Field {
                pos,
                ident: vec![token.val[1..].to_string()],
            },
            Kind::Bool => Operand::Bool(pos, token.val == "true"),
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                Operand::Number(pos, self.number(&token)?)
            }
            Kind::LeftParen => {
                self.enter()?;
                let pipe = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                self.nesting -= 1;
                Operand::Pipe(Box::new(pipe))
            }
            Kind::String | Kind::RawString => Operand::Str {
                pos,
                text: self.unquote(&token.val)?,
                quoted: token.val,
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    fn number(&self, token: &Item) -> anyhow::Result<Number> {
        let text = token.val.clone();
        if token.kind == Kind::CharConstant {
            let (value, _, tail) = unquote_char(text.get(1..).unwrap_or(""), '\'')
                .ok_or_else(|| self.error("invalid syntax"))?;
            if tail != "'" {
                return Err(self.error(format!("malformed character constant: {text}")));
            }
            return Ok(Number {
                text,
                int: Some(i64::from(value)),
                uint: Some(u64::from(value)),
                float: Some(f64::from(value)),
            });
        }
        if token.kind == Kind::Complex || text.ends_with('i') {
            return Err(self.error(format!("complex number {} is not supported", quote(&text))));
        }
        let int = parse_int(&text);
        let uint = if int == Some(0) {
            Some(0)
        } else {
            parse_uint(&text)
        };
        let mut number = Number {
            text,
            int,
            uint,
            float: None,
        };
        if let Some(i) = int {
            number.float = Some(i as f64);
        } else if let Some(u) = uint {
            number.float = Some(u as f64);
        } else if let Some(f) = parse_float(&number.text) {
            if !number.text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Err(self.error(format!("integer overflow: {}", quote(&number.text))));
            }
            number.float = Some(f);
            let two_63 = 2f64.powi(63);
            if f.fract() == 0.0 && (-two_63..two_63).contains(&f) {
                number.int = Some(f as i64);
            }
            if f.fract() == 0.0 && (0.0..2.0 * two_63).contains(&f) {
                number.uint = Some(f as u64);
            }
        }
        if number.int.is_none() && number.uint.is_none() && number.float.is_none() {
            return Err(self.error(format!("illegal number syntax: {}", quote(&number.text))));
        }
        Ok(number)
    }
}

/// Go's rule for `_` in number literals: only between digits, or after a base prefix.
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || hex && c.is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else if saw == b'_' {
            return false;
        } else {
            saw = b'!';
        }
    }
    saw != b'_'
}

/// `strconv.ParseUint(s, 0, 64)`.
fn parse_uint(s: &str) -> Option<u64> {
    if !underscore_ok(s) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok()
}

/// `strconv.ParseInt(s, 0, 64)`.
fn parse_int(s: &str) -> Option<i64> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint(body)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `strconv.ParseFloat(s, 64)` for what the lexer accepts as a number.
fn parse_float(s: &str) -> Option<f64> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let s: String = s.chars().filter(|&c| c != '_').collect();
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s.as_str()),
    };
    let value = match body.get(..2) {
        Some(prefix) if prefix.eq_ignore_ascii_case("0x") => parse_hex_float(&body[2..])?,
        _ => {
            if !body
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            {
                return None;
            }
            body.parse::<f64>().ok()?
        }
    };
    value
        .is_finite()
        .then_some(if negative { -value } else { value })
}

/// Hexadecimal mantissa with a mandatory binary exponent, as in `0x1.8p3`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mantissa, exp) = s.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (int_part, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in int_part.chars().chain(frac.chars()) {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let scale = exp.checked_sub(i32::try_from(frac.len()).ok()?.checked_mul(4)?)?;
    Some(value * 2f64.powi(scale))
}

// ---------------------------------------------------------------------------------------------
// Values: JSON data seen through Go's types. Nil is both Go's untyped nil and the invalid
// reflect.Value a nil interface turns into.

#[derive(Clone, Debug)]
enum Str<'a> {
    Borrowed(&'a str),
    Owned(Rc<str>),
}

impl std::ops::Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Str::Borrowed(s) => s,
            Str::Owned(s) => s,
        }
    }
}

#[derive(Clone, Debug)]
enum Value<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Str<'a>),
    Array(&'a [Json]),
    Struct(&'a Map<String, Json>),
}

impl<'a> Value<'a> {
    fn from_json(json: &'a Json) -> Self {
        match json {
            Json::Null => Value::Nil,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::Str(Str::Borrowed(s)),
            Json::Array(items) => Value::Array(items),
            Json::Object(fields) => Value::Struct(fields),
        }
    }

    fn owned(s: String) -> Self {
        Value::Str(Str::Owned(s.into()))
    }

    fn byte_len(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            _ => 0,
        }
    }
}

/// Go's `reflect.Type.String()` for the value's type.
fn type_name(value: &Value) -> String {
    match value {
        Value::Nil => "interface {}".to_string(),
        Value::Bool(_) => "bool".to_string(),
        Value::Int(_) => "int".to_string(),
        Value::Float(_) => "float64".to_string(),
        Value::Str(_) => "string".to_string(),
        Value::Array(items) => {
            let mut names = items.iter().map(|item| type_name(&Value::from_json(item)));
            match names.next() {
                Some(first) if names.all(|name| name == first) => format!("[]{first}"),
                _ => "[]interface {}".to_string(),
            }
        }
        Value::Struct(fields) if fields.is_empty() => "struct {}".to_string(),
        Value::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(name, item)| format!("{name} {}", type_name(&Value::from_json(item))))
                .collect();
            format!("struct {{ {} }}", fields.join("; "))
        }
    }
}

/// Go's `reflect.Kind.String()`, as in reflect's panic messages.
fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "interface",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float64",
        Value::Str(_) => "string",
        Value::Array(_) => "slice",
        Value::Struct(_) => "struct",
    }
}

/// Go's truth: zero values and empty containers are false, structs always true.
fn truth(value: &Value) -> bool {
    match value {
        Value::Nil => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Struct(_) => true,
    }
}

#[derive(PartialEq, Eq)]
enum Basic {
    Bool,
    Int,
    Float,
    Str,
}

fn basic(value: &Value) -> Option<Basic> {
    match value {
        Value::Bool(_) => Some(Basic::Bool),
        Value::Int(_) => Some(Basic::Int),
        Value::Float(_) => Some(Basic::Float),
        Value::Str(_) => Some(Basic::Str),
        _ => None,
    }
}

/// Go's `isNil`: an empty array stands for helm-diff's nil slice.
fn is_nil(value: &Value) -> bool {
    match value {
        Value::Nil => true,
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn comparable(value: &Value) -> bool {
    match value {
        Value::Array(_) => false,
        Value::Struct(fields) => fields
            .values()
            .all(|item| comparable(&Value::from_json(item))),
        _ => true,
    }
}

/// Go's `eq`: true when `a` equals any of `others`.
fn eq(a: &Value, others: &[Value]) -> Result<bool, String> {
    if others.is_empty() {
        return Err("missing argument for comparison".to_string());
    }
    let k1 = basic(a);
    for b in others {
        let truth = if k1 != basic(b) {
            if !matches!(a, Value::Nil) && !matches!(b, Value::Nil) {
                return Err("incompatible types for comparison".to_string());
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Str(x), Value::Str(y)) => **x == **y,
                _ => {
                    let same_kind = std::mem::discriminant(a) == std::mem::discriminant(b);
                    if !same_kind && !matches!(a, Value::Nil) && !matches!(b, Value::Nil) {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            sprint_v(a),
                            type_name(a),
                            type_name(b),
                            sprint_v(b)
                        ));
                    }
                    if is_nil(a) || is_nil(b) {
                        is_nil(a) == is_nil(b)
                    } else if !comparable(b) {
                        return Err(format!(
                            "non-comparable type {}: {}",
                            sprint_v(b),
                            type_name(b)
                        ));
                    } else {
                        match (a, b) {
                            (Value::Struct(x), Value::Struct(y)) => {
                                x.len() == y.len()
                                    && x.iter()
                                        .zip(y.iter())
                                        .all(|((kx, vx), (ky, vy))| kx == ky && vx == vy)
                            }
                            _ => false,
                        }
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (Some(k1), Some(k2)) = (basic(a), basic(b)) else {
        return Err("invalid type for comparison".to_string());
    };
    if k1 != k2 {
        return Err("incompatible types for comparison".to_string());
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::Str(x), Value::Str(y)) => Ok(**x < **y),
        _ => Err("invalid type for comparison".to_string()),
    }
}

fn le(a: &Value, b: &Value) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, String> {
    match index {
        Value::Int(x) => match usize::try_from(*x) {
            Ok(x) if x <= cap => Ok(x),
            _ => Err(format!("index out of range: {x}")),
        },
        Value::Nil => Err("cannot index slice/array with nil".to_string()),
        _ => Err(format!(
            "cannot index slice/array with type {}",
            type_name(index)
        )),
    }
}

fn index<'a>(item: &Value<'a>, indexes: &[Value<'a>]) -> Result<Value<'a>, String> {
    if matches!(item, Value::Nil) {
        return Err("index of untyped nil".to_string());
    }
    let mut item = item.clone();
    for index in indexes {
        item = match &item {
            Value::Nil => return Err("index of nil pointer".to_string()),
            Value::Array(items) => {
                let x = index_arg(index, items.len())?;
                Value::from_json(
                    items
                        .get(x)
                        .ok_or_else(|| format!("index out of range: {x}"))?,
                )
            }
            Value::Str(s) => {
                let x = index_arg(index, s.len())?;
                Value::Int(i64::from(
                    *s.as_bytes()
                        .get(x)
                        .ok_or_else(|| format!("index out of range: {x}"))?,
                ))
            }
            _ => return Err(format!("can't index item of type {}", type_name(&item))),
        };
    }
    Ok(item)
}

fn slice<'a>(item: &Value<'a>, indexes: &[Value<'a>]) -> Result<Value<'a>, String> {
    if matches!(item, Value::Nil) {
        return Err("slice of untyped nil".to_string());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match item {
        Value::Str(s) if indexes.len() == 3 => {
            return Err("cannot 3-index slice a string".to_string());
        }
        Value::Str(s) => s.len(),
        Value::Array(items) => items.len(),
        _ => return Err(format!("can't slice item of type {}", type_name(item))),
    };
    let mut bounds = [0, len, 0];
    for (bound, index) in bounds.iter_mut().zip(indexes) {
        *bound = index_arg(index, len)?;
    }
    if bounds[0] > bounds[1] {
        return Err(format!(
            "invalid slice index: {} > {}",
            bounds[0], bounds[1]
        ));
    }
    if indexes.len() == 3 && bounds[1] > bounds[2] {
        return Err(format!(
            "invalid slice index: {} > {}",
            bounds[1], bounds[2]
        ));
    }
    Ok(match item {
        Value::Str(s) => {
            Value::owned(String::from_utf8_lossy(&s.as_bytes()[bounds[0]..bounds[1]]).into_owned())
        }
        Value::Array(items) => Value::Array(&items[bounds[0]..bounds[1]]),
        _ => Value::Nil,
    })
}

fn length(item: &Value) -> Result<i64, String> {
    let len = match item {
        Value::Str(s) => s.len(),
        Value::Array(items) => items.len(),
        Value::Nil => return Err("reflect: call of reflect.Value.Type on zero Value".to_string()),
        _ => return Err(format!("len of type {}", type_name(item))),
    };
    Ok(i64::try_from(len).unwrap_or(i64::MAX))
}

/// helm-diff's `last`: `x == reflect.ValueOf(a).Len()-1`, with reflect's panic texts.
fn last(x: i64, a: &Value) -> Result<bool, String> {
    let len = match a {
        Value::Str(s) => s.len(),
        Value::Array(items) => items.len(),
        Value::Nil => return Err("reflect: call of reflect.Value.Len on zero Value".to_string()),
        _ => {
            return Err(format!(
                "reflect: call of reflect.Value.Len on {} Value",
                kind_name(a)
            ));
        }
    };
    Ok(i64::try_from(len).is_ok_and(|len| x == len - 1))
}

// ---------------------------------------------------------------------------------------------
// Executor.

#[derive(PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// The node Go's `state.at` last pointed to: the context of execution errors.
#[derive(Clone, Copy)]
enum At<'a> {
    Nowhere,
    Node(&'a Node),
    Pipe(&'a Pipe),
    Command(&'a Command),
    Operand(&'a Operand),
    Func(usize, Func),
}

impl At<'_> {
    fn locate(&self) -> Option<(usize, String)> {
        match self {
            At::Nowhere => None,
            At::Node(node) => Some((node.pos(), node.to_string())),
            At::Pipe(pipe) => Some((pipe.pos, pipe.to_string())),
            At::Command(cmd) => Some((cmd.pos, cmd.to_string())),
            At::Operand(operand) => Some((operand.pos(), operand.to_string())),
            At::Func(pos, func) => Some((*pos, func.name().to_string())),
        }
    }
}

/// Go's execution `state`.
struct Exec<'a> {
    tpl: &'a Template,
    /// The template being executed, which Go names in errors.
    name: &'a str,
    out: String,
    vars: Vec<(&'a str, Value<'a>)>,
    at: At<'a>,
    steps: u64,
    built: usize,
    calls: usize,
    nesting: usize,
}

/// A builtin's result, or Go's error text to be wrapped in "error calling NAME: …".
type Outcome<'a> = Result<Value<'a>, String>;

impl<'a> Exec<'a> {
    fn fail(&self, msg: impl fmt::Display) -> anyhow::Error {
        match self.at.locate() {
            Some((pos, context)) => {
                let (line, col) = self.tpl.lines.locate(pos);
                anyhow!(
                    "template: {}:{line}:{col}: executing {} at <{context}>: {msg}",
                    self.tpl.name,
                    quote(self.name)
                )
            }
            None => anyhow!("template: {}: {msg}", self.name),
        }
    }

    fn charge(&mut self, steps: u64) -> anyhow::Result<()> {
        self.steps = self.steps.saturating_add(steps);
        if self.steps > MAX_STEPS {
            return Err(self.fail(format!(
                "exceeded the limit of {MAX_STEPS} evaluation steps"
            )));
        }
        Ok(())
    }

    fn write(&mut self, text: &str) -> anyhow::Result<()> {
        if self.out.len() + text.len() > MAX_OUTPUT {
            return Err(self.fail(format!(
                "output exceeds the limit of {} MiB",
                MAX_OUTPUT >> 20
            )));
        }
        self.out.push_str(text);
        Ok(())
    }

    fn enter(&mut self) -> anyhow::Result<()> {
        self.nesting += 1;
        if self.nesting > MAX_EXEC_NESTING {
            return Err(self.fail(format!(
                "exceeded maximum nesting depth ({MAX_EXEC_NESTING})"
            )));
        }
        Ok(())
    }

    /// Accounts for a string a function built, or fails once their total passes `MAX_BUILT`.
    fn built(&mut self, text: Option<String>) -> anyhow::Result<Outcome<'a>> {
        match text {
            Some(text) if self.built + text.len() <= MAX_BUILT => {
                self.built += text.len();
                Ok(Ok(Value::owned(text)))
            }
            _ => Err(self.fail(format!(
                "strings built by functions exceed the limit of {} MiB",
                MAX_BUILT >> 20
            ))),
        }
    }

    fn room(&self) -> usize {
        MAX_BUILT.saturating_sub(self.built)
    }

    fn walk(&mut self, dot: &Value<'a>, list: &'a [Node]) -> anyhow::Result<Flow> {
        for node in list {
            self.charge(1)?;
            self.at = At::Node(node);
            let flow = match node {
                Node::Text { text, .. } => {
                    self.write(text)?;
                    Flow::Normal
                }
                Node::Action(pipe) => {
                    let value = self.eval_pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        self.at = At::Node(node);
                        self.print(&value)?;
                    }
                    Flow::Normal
                }
                Node::Cond(cond) => self.walk_cond(dot, cond)?,
                Node::Range(range) => self.walk_range(dot, range)?,
                Node::Template(call) => {
                    self.walk_template(dot, call)?;
                    Flow::Normal
                }
                Node::Break(_) => Flow::Break,
                Node::Continue(_) => Flow::Continue,
            };
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn print(&mut self, value: &Value) -> anyhow::Result<()> {
        if matches!(value, Value::Nil) {
            return self.write("<no value>");
        }
        let mut printer = Printer::new(MAX_OUTPUT.saturating_sub(self.out.len()));
        printer.print_arg(value, 'v');
        match printer.finish() {
            Some(text) => self.write(&text),
            None => Err(self.fail(format!(
                "output exceeds the limit of {} MiB",
                MAX_OUTPUT >> 20
            ))),
        }
    }

    fn walk_cond(&mut self, dot: &Value<'a>, cond: &'a Cond) -> anyhow::Result<Flow> {
        self.enter()?;
        let mark = self.vars.len();
        let mut chosen = None;
        for (pipe, list) in &cond.branches {
            let value = self.eval_pipeline(dot, pipe)?;
            if truth(&value) {
                chosen = Some((if cond.with { value } else { dot.clone() }, list));
                break;
            }
        }
        let flow = match (chosen, &cond.else_list) {
            (Some((dot, list)), _) => self.walk(&dot, list)?,
            (None, Some(list)) => self.walk(dot, list)?,
            (None, None) => Flow::Normal,
        };
        self.vars.truncate(mark);
        self.nesting -= 1;
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Value<'a>, range: &'a RangeNode) -> anyhow::Result<Flow> {
        self.enter()?;
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, &range.pipe)?;
        let body_mark = self.vars.len();
        let mut ran = false;
        match &value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    ran = true;
                    let index = Value::Int(i64::try_from(i).unwrap_or(i64::MAX));
                    if self.iteration(range, body_mark, index, Value::from_json(item))? {
                        break;
                    }
                }
            }
            Value::Int(n) => {
                if range.pipe.decl.len() > 1 {
                    return Err(self.fail(format!(
                        "can't use {} to iterate over more than one variable",
                        sprint_v(&value)
                    )));
                }
                for i in 0..*n {
                    ran = true;
                    if self.iteration(range, body_mark, Value::Nil, Value::Int(i))? {
                        break;
                    }
                }
            }
            Value::Nil => {}
            _ => return Err(self.fail(format!("range can't iterate over {}", sprint_v(&value)))),
        }
        let mut flow = Flow::Normal;
        if !ran && let Some(list) = &range.else_list {
            // Go's range recovers a `break` from its else branch but lets `continue` through.
            if self.walk(dot, list)? == Flow::Continue {
                flow = Flow::Continue;
            }
        }
        self.vars.truncate(mark);
        self.nesting -= 1;
        Ok(flow)
    }

    /// One pass of a range body; true when it executed `{{break}}`.
    fn iteration(
        &mut self,
        range: &'a RangeNode,
        mark: usize,
        index: Value<'a>,
        elem: Value<'a>,
    ) -> anyhow::Result<bool> {
        self.charge(1)?;
        match (range.pipe.decl.as_slice(), range.pipe.is_assign) {
            ([elem_var], true) => self.set_var(elem_var, elem.clone())?,
            ([index_var, elem_var], true) => {
                self.set_var(index_var, index)?;
                self.set_var(elem_var, elem.clone())?;
            }
            ([_], false) => self.set_top(1, elem.clone()),
            ([_, _], false) => {
                self.set_top(1, elem.clone());
                self.set_top(2, index);
            }
            _ => {}
        }
        let flow = self.walk(&elem, &range.list)?;
        self.vars.truncate(mark);
        Ok(flow == Flow::Break)
    }

    fn walk_template(&mut self, dot: &Value<'a>, call: &'a Call) -> anyhow::Result<()> {
        let Some(tree) = self.tpl.trees.get(&call.name) else {
            return Err(self.fail(format!("template {} not defined", quote(&call.name))));
        };
        if self.calls >= MAX_TEMPLATE_DEPTH {
            return Err(self.fail(format!(
                "exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})"
            )));
        }
        let dot = match &call.pipe {
            Some(pipe) => self.eval_pipeline(dot, pipe)?,
            None => Value::Nil,
        };
        self.enter()?;
        let vars = std::mem::replace(&mut self.vars, vec![("$", dot.clone())]);
        let name = std::mem::replace(&mut self.name, &call.name);
        self.calls += 1;
        self.walk(&dot, tree)?;
        self.calls -= 1;
        self.name = name;
        self.vars = vars;
        self.nesting -= 1;
        Ok(())
    }

    fn set_top(&mut self, depth: usize, value: Value<'a>) {
        let len = self.vars.len();
        if let Some(slot) = len.checked_sub(depth).and_then(|i| self.vars.get_mut(i)) {
            slot.1 = value;
        }
    }

    fn set_var(&mut self, name: &str, value: Value<'a>) -> anyhow::Result<()> {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(var, _)| *var == name) {
            slot.1 = value;
            return Ok(());
        }
        Err(self.fail(format!("undefined variable: {name}")))
    }

    fn var_value(&self, name: &str) -> anyhow::Result<Value<'a>> {
        match self.vars.iter().rev().find(|(var, _)| *var == name) {
            Some((_, value)) => Ok(value.clone()),
            None => Err(self.fail(format!("undefined variable: {name}"))),
        }
    }

    fn eval_pipeline(&mut self, dot: &Value<'a>, pipe: &'a Pipe) -> anyhow::Result<Value<'a>> {
        self.at = At::Pipe(pipe);
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value.take())?);
        }
        let value = value.unwrap_or(Value::Nil);
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(var, value.clone())?;
            } else {
                self.vars.push((var, value.clone()));
            }
        }
        Ok(value)
    }

    fn nested_pipeline(&mut self, dot: &Value<'a>, pipe: &'a Pipe) -> anyhow::Result<Value<'a>> {
        self.enter()?;
        let value = self.eval_pipeline(dot, pipe)?;
        self.nesting -= 1;
        Ok(value)
    }

    fn not_a_function(&self, cmd: &Command, fin: Option<&Value>) -> anyhow::Result<()> {
        if cmd.args.len() > 1 || fin.is_some() {
            let first = cmd
                .args
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            return Err(self.fail(format!("can't give argument to non-function {first}")));
        }
        Ok(())
    }

    /// Evaluates one command; `fin` is the previous command's value, passed as last argument.
    fn eval_command(
        &mut self,
        dot: &Value<'a>,
        cmd: &'a Command,
        fin: Option<Value<'a>>,
    ) -> anyhow::Result<Value<'a>> {
        self.charge(1)?;
        let Some(first) = cmd.args.first() else {
            return Ok(Value::Nil);
        };
        let has_args = cmd.args.len() > 1 || fin.is_some();
        match first {
            Operand::Field { ident, .. } => {
                self.at = At::Operand(first);
                self.eval_fields(dot.clone(), ident, has_args)
            }
            Operand::Chain { node, fields, .. } => {
                self.at = At::Operand(first);
                let receiver = self.eval_arg(dot, node)?;
                self.eval_fields(receiver, fields, has_args)
            }
            Operand::Func(pos, func) => {
                self.eval_function(dot, *func, *pos, At::Command(cmd), &cmd.args[1..], fin)
            }
            Operand::Pipe(pipe) => {
                self.not_a_function(cmd, fin.as_ref())?;
                self.nested_pipeline(dot, pipe)
            }
            Operand::Variable { ident, .. } => {
                self.at = At::Operand(first);
                let value = self.var_value(&ident[0])?;
                if ident.len() == 1 {
                    self.not_a_function(cmd, fin.as_ref())?;
                    return Ok(value);
                }
                self.eval_fields(value, &ident[1..], has_args)
            }
            Operand::Nil(_) => {
                self.at = At::Operand(first);
                self.not_a_function(cmd, fin.as_ref())?;
                Err(self.fail("nil is not a command"))
            }
            Operand::Dot(_) | Operand::Bool(..) | Operand::Number(..) | Operand::Str { .. } => {
                self.at = At::Operand(first);
                self.not_a_function(cmd, fin.as_ref())?;
                self.eval_arg(dot, first)
            }
        }
    }

    fn eval_fields(
        &self,
        mut receiver: Value<'a>,
        ident: &[String],
        has_args: bool,
    ) -> anyhow::Result<Value<'a>> {
        for (i, name) in ident.iter().enumerate() {
            receiver = match &receiver {
                Value::Nil => Value::Nil,
                Value::Struct(fields) => match fields.get(name) {
                    Some(_) if has_args && i + 1 == ident.len() => {
                        return Err(self.fail(format!(
                            "{name} has arguments but cannot be invoked as function"
                        )));
                    }
                    Some(item) => Value::from_json(item),
                    None => {
                        return Err(self.fail(format!(
                            "can't evaluate field {name} in type {}",
                            type_name(&receiver)
                        )));
                    }
                },
                _ => {
                    return Err(self.fail(format!(
                        "can't evaluate field {name} in type {}",
                        type_name(&receiver)
                    )));
                }
            };
        }
        Ok(receiver)
    }

    fn eval_arg(&mut self, dot: &Value<'a>, arg: &'a Operand) -> anyhow::Result<Value<'a>> {
        self.at = At::Operand(arg);
        match arg {
            Operand::Dot(_) => Ok(dot.clone()),
            Operand::Nil(_) => Ok(Value::Nil),
            Operand::Bool(_, b) => Ok(Value::Bool(*b)),
            Operand::Number(_, number) => self.ideal(number),
            Operand::Str { text, .. } => Ok(Value::Str(Str::Borrowed(text))),
            Operand::Field { ident, .. } => self.eval_fields(dot.clone(), ident, false),
            Operand::Variable { ident, .. } => {
                let value = self.var_value(&ident[0])?;
                self.eval_fields(value, &ident[1..], false)
            }
            Operand::Pipe(pipe) => self.nested_pipeline(dot, pipe),
            Operand::Func(pos, func) => {
                self.eval_function(dot, *func, *pos, At::Operand(arg), &[], None)
            }
            Operand::Chain { node, fields, .. } => {
                let receiver = self.eval_arg(dot, node)?;
                self.eval_fields(receiver, fields, false)
            }
        }
    }

    /// Go's `idealConstant`: the literal's syntax picks int or float64.
    fn ideal(&self, number: &Number) -> anyhow::Result<Value<'a>> {
        let text = &number.text;
        let hex_int = text.len() > 2
            && text.starts_with('0')
            && text[1..].starts_with(['x', 'X'])
            && !text.contains(['p', 'P']);
        if let Some(f) = number.float
            && !hex_int
            && !text.starts_with('\'')
            && text.contains(['.', 'e', 'E', 'p', 'P'])
        {
            return Ok(Value::Float(f));
        }
        match number.int {
            Some(i) => Ok(Value::Int(i)),
            None => Err(self.fail(format!("{text} overflows int"))),
        }
    }

    fn validate(&self, value: Value<'a>, param: Param) -> anyhow::Result<Value<'a>> {
        match (param, &value) {
            (Param::Any, _) | (Param::Str, Value::Str(_)) | (Param::Int, Value::Int(_)) => {
                Ok(value)
            }
            (_, Value::Nil) => {
                Err(self.fail(format!("invalid value; expected {}", param.go_type())))
            }
            _ => Err(self.fail(format!(
                "wrong type for value; expected {}; got {}",
                param.go_type(),
                type_name(&value)
            ))),
        }
    }

    fn eval_typed_arg(
        &mut self,
        dot: &Value<'a>,
        arg: &'a Operand,
        param: Param,
    ) -> anyhow::Result<Value<'a>> {
        if param == Param::Any {
            return self.eval_arg(dot, arg);
        }
        self.at = At::Operand(arg);
        match arg {
            Operand::Nil(_) => Err(self.fail(format!("cannot assign nil to {}", param.go_type()))),
            Operand::Dot(_)
            | Operand::Field { .. }
            | Operand::Variable { .. }
            | Operand::Pipe(_)
            | Operand::Func(..)
            | Operand::Chain { .. } => {
                let value = self.eval_arg(dot, arg)?;
                self.validate(value, param)
            }
            Operand::Str { text, .. } if param == Param::Str => Ok(Value::Str(Str::Borrowed(text))),
            Operand::Number(_, Number { int: Some(i), .. }) if param == Param::Int => {
                Ok(Value::Int(*i))
            }
            _ => Err(self.fail(format!(
                "expected {}; found {arg}",
                if param == Param::Str {
                    "string"
                } else {
                    "integer"
                }
            ))),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Value<'a>,
        func: Func,
        pos: usize,
        node: At<'a>,
        args: &'a [Operand],
        fin: Option<Value<'a>>,
    ) -> anyhow::Result<Value<'a>> {
        self.at = At::Func(pos, func);
        let count = args.len() + usize::from(fin.is_some());
        match func.arity() {
            (fixed, false) if count != fixed => {
                return Err(self.fail(format!(
                    "wrong number of args for {}: want {fixed} got {count}",
                    func.name()
                )));
            }
            (fixed, true) if count < fixed => {
                return Err(self.fail(format!(
                    "wrong number of args for {}: want at least {fixed} got {}",
                    func.name(),
                    args.len()
                )));
            }
            _ => {}
        }
        let mut argv = Vec::with_capacity(count);
        for (i, arg) in args.iter().enumerate() {
            let value = self.eval_typed_arg(dot, arg, func.param(i))?;
            if func.short_circuit() == Some(truth(&value)) {
                return Ok(value);
            }
            argv.push(value);
        }
        if let Some(fin) = fin {
            let param = func.param(argv.len());
            argv.push(self.validate(fin, param)?);
        }
        match self.call(func, &argv)? {
            Ok(value) => Ok(value),
            Err(msg) => {
                self.at = node;
                Err(self.fail(format!("error calling {}: {msg}", func.name())))
            }
        }
    }

    /// Runs a builtin on evaluated arguments; the inner error is Go's, to be wrapped in
    /// "error calling NAME: …".
    fn call(&mut self, func: Func, args: &[Value<'a>]) -> anyhow::Result<Outcome<'a>> {
        let bytes: usize = args.iter().map(Value::byte_len).sum();
        self.charge(u64::try_from(bytes / 64).unwrap_or(u64::MAX))?;
        let outcome = match (func, args) {
            (Func::And | Func::Or, [.., last]) => Ok(last.clone()),
            (Func::Not, [a]) => Ok(Value::Bool(!truth(a))),
            (Func::Len, [a]) => length(a).map(Value::Int),
            (Func::Index, [item, indexes @ ..]) => index(item, indexes),
            (Func::Slice, [item, indexes @ ..]) => match slice(item, indexes) {
                Ok(Value::Str(s)) => return self.built(Some(s.to_string())),
                other => other,
            },
            (Func::Eq, [a, others @ ..]) => eq(a, others).map(Value::Bool),
            (Func::Ne, [a, b]) => eq(a, std::slice::from_ref(b)).map(|t| Value::Bool(!t)),
            (Func::Lt, [a, b]) => lt(a, b).map(Value::Bool),
            (Func::Le, [a, b]) => le(a, b).map(Value::Bool),
            (Func::Gt, [a, b]) => le(a, b).map(|t| Value::Bool(!t)),
            (Func::Ge, [a, b]) => lt(a, b).map(|t| Value::Bool(!t)),
            (Func::Last, [Value::Int(x), a]) => last(*x, a).map(Value::Bool),
            (Func::Call, [Value::Nil, ..]) => Err("call of nil".to_string()),
            (Func::Call, [f, ..]) => Err(format!("non-function of type {}", type_name(f))),
            (Func::Print | Func::Println, _) => {
                let mut printer = Printer::new(self.room());
                printer.sprint(args, func == Func::Println);
                return self.built(printer.finish());
            }
            (Func::Printf, [Value::Str(format), rest @ ..]) => {
                let mut printer = Printer::new(self.room());
                printer.sprintf(format, rest);
                return self.built(printer.finish());
            }
            (Func::Html | Func::Js | Func::Urlquery, _) => {
                let room = self.room();
                let text = match args {
                    [Value::Str(s)] => Some(s.to_string()),
                    _ => {
                        let args: Vec<Value> = args
                            .iter()
                            .map(|a| {
                                if matches!(a, Value::Nil) {
                                    Value::Str(Str::Borrowed("<no value>"))
                                } else {
                                    a.clone()
                                }
                            })
                            .collect();
                        let mut printer = Printer::new(room);
                        printer.sprint(&args, false);
                        printer.finish()
                    }
                };
                let escaped = text.and_then(|text| match func {
                    Func::Html => html_escape(&text, room),
                    Func::Js => js_escape(&text, room),
                    _ => query_escape(&text, room),
                });
                return self.built(escaped);
            }
            _ => Err(format!("wrong number of args for {}", func.name())),
        };
        Ok(outcome)
    }
}

// ---------------------------------------------------------------------------------------------
// Go's fmt, for the value types above.

#[derive(Clone, Copy, Default)]
struct Spec {
    wid: Option<usize>,
    prec: Option<usize>,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
}

/// Go's `fmt.pp`, writing into a buffer that refuses to grow past `room`.
struct Printer {
    buf: String,
    room: usize,
    full: bool,
    spec: Spec,
}

/// Go refuses widths, precisions and argument indexes beyond a million.
fn too_large(n: i64) -> bool {
    !(-1_000_000..=1_000_000).contains(&n)
}

/// Go's `parsenum`: the number at `start`, if any, and where it ends (the end of the format on
/// overflow).
fn parse_num(format: &[u8], start: usize) -> (Option<usize>, usize) {
    let mut num: i64 = 0;
    let mut found = false;
    let mut i = start;
    while i < format.len() && format[i].is_ascii_digit() {
        if too_large(num) {
            return (None, format.len());
        }
        num = num * 10 + i64::from(format[i] - b'0');
        found = true;
        i += 1;
    }
    (found.then(|| usize::try_from(num).unwrap_or(0)), i)
}

impl Printer {
    fn new(room: usize) -> Self {
        Printer {
            buf: String::new(),
            room,
            full: false,
            spec: Spec::default(),
        }
    }

    fn finish(self) -> Option<String> {
        (!self.full).then_some(self.buf)
    }

    fn fits(&mut self, extra: usize) -> bool {
        if self.full || self.buf.len().saturating_add(extra) > self.room {
            self.full = true;
        }
        !self.full
    }

    fn put(&mut self, s: &str) {
        if self.fits(s.len()) {
            self.buf.push_str(s);
        }
    }

    fn put_char(&mut self, c: char) {
        self.put(c.encode_utf8(&mut [0; 4]));
    }

    fn padding(&mut self, n: usize) {
        if self.fits(n) {
            self.buf
                .push_str(&(if self.spec.zero { "0" } else { " " }).repeat(n));
        }
    }

    fn pad(&mut self, s: &str) {
        let Some(wid) = self.spec.wid.filter(|&w| w > 0) else {
            return self.put(s);
        };
        let fill = wid.saturating_sub(s.chars().count());
        if self.spec.minus {
            self.put(s);
            self.padding(fill);
        } else {
            self.padding(fill);
            self.put(s);
        }
    }

    fn pad_spaces(&mut self, s: &str) {
        let zero = std::mem::take(&mut self.spec.zero);
        self.pad(s);
        self.spec.zero = zero;
    }

    /// `fmt.Sprint` (spaces between operands that are not strings) or `fmt.Sprintln`.
    fn sprint(&mut self, args: &[Value], line: bool) {
        let mut prev_string = false;
        for (i, arg) in args.iter().enumerate() {
            let is_string = matches!(arg, Value::Str(_));
            if i > 0 && (line || !is_string && !prev_string) {
                self.put(" ");
            }
            self.print_arg(arg, 'v');
            prev_string = is_string;
        }
        if line {
            self.put("\n");
        }
    }

    /// `fmt.Sprintf`, with Go's flags, widths, precisions, `*`, `[n]` and error notations.
    fn sprintf(&mut self, format: &str, args: &[Value]) {
        let bytes = format.as_bytes();
        let end = bytes.len();
        let mut arg_num = 0;
        let mut reordered = false;
        let mut i = 0;
        while i < end {
            let mut good_arg_num = true;
            let start = i;
            while i < end && bytes[i] != b'%' {
                i += 1;
            }
            if i > start {
                self.put(&format[start..i]);
            }
            if i >= end {
                break;
            }
            i += 1;
            self.spec = Spec::default();
            while i < end {
                match bytes[i] {
                    b'#' => self.spec.sharp = true,
                    b'0' => self.spec.zero = !self.spec.minus,
                    b'+' => self.spec.plus = true,
                    b'-' => {
                        self.spec.minus = true;
                        self.spec.zero = false;
                    }
                    b' ' => self.spec.space = true,
                    _ => break,
                }
                i += 1;
            }
            let mut arg_index =
                |arg_num: usize, i: usize, good: &mut bool| -> (usize, usize, bool) {
                    if bytes.get(i) != Some(&b'[') {
                        return (arg_num, i, false);
                    }
                    reordered = true;
                    let Some(close) = bytes[i..]
                        .iter()
                        .position(|&b| b == b']')
                        .filter(|_| end - i >= 3)
                    else {
                        *good = false;
                        return (arg_num, i + 1, false);
                    };
                    match parse_num(&bytes[i..i + close], 1) {
                        (Some(n), stop) if stop == close && n >= 1 && n <= args.len() => {
                            (n - 1, i + close + 1, true)
                        }
                        (Some(_), stop) if stop == close => {
                            *good = false;
                            (arg_num, i + close + 1, true)
                        }
                        _ => {
                            *good = false;
                            (arg_num, i + close + 1, false)
                        }
                    }
                };
            let (n, ni, mut after_index) = arg_index(arg_num, i, &mut good_arg_num);
            arg_num = n;
            i = ni;
            if i < end && bytes[i] == b'*' {
                i += 1;
                let (wid, next) = int_from_arg(args, arg_num);
                arg_num = next;
                match wid {
                    Some(w) if w < 0 => {
                        self.spec.wid = usize::try_from(-w).ok();
                        self.spec.minus = true;
                        self.spec.zero = false;
                    }
                    Some(w) => self.spec.wid = usize::try_from(w).ok(),
                    None => self.put("%!(BADWIDTH)"),
                }
                after_index = false;
            } else {
                let (wid, next) = parse_num(bytes, i);
                i = next;
                self.spec.wid = wid;
                if after_index && wid.is_some() {
                    good_arg_num = false;
                }
            }
            if i + 1 < end && bytes[i] == b'.' {
                i += 1;
                if after_index {
                    good_arg_num = false;
                }
                let (n, ni, found) = arg_index(arg_num, i, &mut good_arg_num);
                arg_num = n;
                i = ni;
                after_index = found;
                if i < end && bytes[i] == b'*' {
                    i += 1;
                    let (prec, next) = int_from_arg(args, arg_num);
                    arg_num = next;
                    self.spec.prec = prec.and_then(|p| usize::try_from(p).ok());
                    if self.spec.prec.is_none() {
                        self.put("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (prec, next) = parse_num(bytes, i);
                    i = next;
                    self.spec.prec = Some(prec.unwrap_or(0));
                }
            }
            if !after_index {
                let (n, ni, _) = arg_index(arg_num, i, &mut good_arg_num);
                arg_num = n;
                i = ni;
            }
            let Some(verb) = format.get(i..).and_then(|rest| rest.chars().next()) else {
                self.put("%!(NOVERB)");
                break;
            };
            i += verb.len_utf8();
            match args.get(arg_num) {
                _ if verb == '%' => self.put("%"),
                _ if !good_arg_num => {
                    self.put("%!");
                    self.put_char(verb);
                    self.put("(BADINDEX)");
                }
                None => {
                    self.put("%!");
                    self.put_char(verb);
                    self.put("(MISSING)");
                }
                Some(arg) => {
                    if verb == 'v' {
                        self.spec.sharp_v = std::mem::take(&mut self.spec.sharp);
                        self.spec.plus_v = std::mem::take(&mut self.spec.plus);
                    }
                    self.print_arg(arg, verb);
                    arg_num += 1;
                }
            }
        }
        if !reordered && arg_num < args.len() {
            self.spec = Spec::default();
            self.put("%!(EXTRA ");
            for (k, arg) in args[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.put(", ");
                }
                if matches!(arg, Value::Nil) {
                    self.put("<nil>");
                } else {
                    self.put(&type_name(arg));
                    self.put("=");
                    self.print_arg(arg, 'v');
                }
            }
            self.put(")");
        }
    }

    fn print_arg(&mut self, value: &Value, verb: char) {
        match (value, verb) {
            (Value::Nil, 'T' | 'v') => self.pad("<nil>"),
            (Value::Nil, _) => self.bad_verb(verb, value),
            (_, 'T') => {
                let name = type_name(value);
                self.fmt_s(&name);
            }
            _ => self.print_value(value, verb),
        }
    }

    fn print_value(&mut self, value: &Value, verb: char) {
        match value {
            Value::Nil => self.put(if self.spec.sharp_v {
                "interface {}(nil)"
            } else {
                "<nil>"
            }),
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(verb, value),
            },
            Value::Int(i) => self.fmt_int(*i, verb, value),
            Value::Float(f) => self.fmt_float(*f, verb, value),
            Value::Str(s) => self.fmt_str(s, verb, value),
            Value::Array(items) => {
                let sharp_v = self.spec.sharp_v;
                if sharp_v {
                    self.put(&type_name(value));
                    if items.is_empty() {
                        return self.put("(nil)");
                    }
                }
                self.put(if sharp_v { "{" } else { "[" });
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.put(if sharp_v { ", " } else { " " });
                    }
                    self.print_value(&Value::from_json(item), verb);
                }
                self.put(if sharp_v { "}" } else { "]" });
            }
            Value::Struct(fields) => {
                let sharp_v = self.spec.sharp_v;
                if sharp_v {
                    self.put(&type_name(value));
                }
                self.put("{");
                for (i, (name, item)) in fields.iter().enumerate() {
                    if i > 0 {
                        self.put(if sharp_v { ", " } else { " " });
                    }
                    if self.spec.plus_v || sharp_v {
                        self.put(name);
                        self.put(":");
                    }
                    self.print_value(&Value::from_json(item), verb);
                }
                self.put("}");
            }
        }
    }

    fn bad_verb(&mut self, verb: char, value: &Value) {
        self.put("%!");
        self.put_char(verb);
        self.put("(");
        if matches!(value, Value::Nil) {
            self.put("<nil>");
        } else {
            self.put(&type_name(value));
            self.put("=");
            self.print_arg(value, 'v');
        }
        self.put(")");
    }

    fn fmt_int(&mut self, i: i64, verb: char, value: &Value) {
        let rune = || {
            u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or(char::REPLACEMENT_CHARACTER)
        };
        match verb {
            'v' | 'd' => self.integer(i, 10, false, verb),
            'b' => self.integer(i, 2, false, verb),
            'o' | 'O' => self.integer(i, 8, false, verb),
            'x' => self.integer(i, 16, false, verb),
            'X' => self.integer(i, 16, true, verb),
            'c' => self.pad(rune().encode_utf8(&mut [0; 4])),
            'q' => {
                let quoted = quote_rune(rune(), self.spec.plus);
                self.pad(&quoted);
            }
            'U' => self.unicode(i),
            _ => self.bad_verb(verb, value),
        }
    }

    fn integer(&mut self, i: i64, base: u32, upper: bool, verb: char) {
        let negative = i < 0;
        let u = i.unsigned_abs();
        let mut prec = 0;
        if let Some(p) = self.spec.prec {
            prec = p;
            if p == 0 && u == 0 {
                let zero = std::mem::take(&mut self.spec.zero);
                self.padding(self.spec.wid.unwrap_or(0));
                self.spec.zero = zero;
                return;
            }
        } else if self.spec.zero
            && let Some(wid) = self.spec.wid
        {
            prec = wid;
            if negative || self.spec.plus || self.spec.space {
                prec = prec.saturating_sub(1);
            }
        }
        let digits = match (base, upper) {
            (2, _) => format!("{u:b}"),
            (8, _) => format!("{u:o}"),
            (16, false) => format!("{u:x}"),
            (16, true) => format!("{u:X}"),
            _ => u.to_string(),
        };
        let zeros = "0".repeat(prec.saturating_sub(digits.len()));
        let digits = zeros + &digits;
        let prefix = match base {
            _ if !self.spec.sharp => "",
            2 => "0b",
            8 if !digits.starts_with('0') => "0",
            16 if upper => "0X",
            16 => "0x",
            _ => "",
        };
        let octal = if verb == 'O' { "0o" } else { "" };
        let sign = if negative {
            "-"
        } else if self.spec.plus {
            "+"
        } else if self.spec.space {
            " "
        } else {
            ""
        };
        self.pad_spaces(&format!("{sign}{octal}{prefix}{digits}"));
    }

    fn unicode(&mut self, i: i64) {
        let u = i as u64;
        let prec = self.spec.prec.filter(|&p| p > 4).unwrap_or(4);
        let hex = format!("{u:X}");
        let mut text = format!("U+{}{hex}", "0".repeat(prec.saturating_sub(hex.len())));
        if self.spec.sharp
            && let Some(c) = u32::try_from(u).ok().and_then(char::from_u32)
            && is_print(c)
        {
            text.push_str(" '");
            text.push(c);
            text.push('\'');
        }
        self.pad_spaces(&text);
    }

    fn fmt_float(&mut self, f: f64, verb: char, value: &Value) {
        match verb {
            'v' => self.float(f, 'g', None),
            'g' | 'G' => self.float(f, verb, None),
            'e' | 'E' | 'f' => self.float(f, verb, Some(6)),
            'F' => self.float(f, 'f', Some(6)),
            _ => self.bad_verb(verb, value),
        }
    }

    fn float(&mut self, f: f64, verb: char, default_prec: Option<usize>) {
        let mut num = format_float(f, verb, self.spec.prec.or(default_prec));
        if !num.starts_with(['-', '+']) {
            num.insert(0, '+');
        }
        if self.spec.space && num.starts_with('+') && !self.spec.plus {
            num.replace_range(..1, " ");
        }
        if num[1..].starts_with(['I', 'N']) {
            if num[1..].starts_with('N') && !self.spec.space && !self.spec.plus {
                num.remove(0);
            }
            return self.pad_spaces(&num);
        }
        if self.spec.plus || !num.starts_with('+') {
            if self.spec.zero
                && let Some(wid) = self.spec.wid
                && wid > num.len()
            {
                let (sign, digits) = num.split_at(1);
                self.put(sign);
                self.padding(wid - num.len());
                self.put(digits);
                return;
            }
            return self.pad(&num);
        }
        self.pad(&num[1..]);
    }

    fn fmt_str(&mut self, s: &str, verb: char, value: &Value) {
        match verb {
            'v' if self.spec.sharp_v => self.fmt_q(s),
            'v' | 's' => self.fmt_s(s),
            'x' | 'X' => self.fmt_sx(s, verb == 'X'),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(verb, value),
        }
    }

    fn truncate<'s>(&self, s: &'s str) -> &'s str {
        match self.spec.prec.and_then(|p| s.char_indices().nth(p)) {
            Some((i, _)) => &s[..i],
            None => s,
        }
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad(s);
    }

    fn fmt_sx(&mut self, s: &str, upper: bool) {
        let bytes = s.as_bytes();
        let length = self.spec.prec.map_or(bytes.len(), |p| p.min(bytes.len()));
        let mut width = 2 * length;
        if width == 0 {
            if let Some(wid) = self.spec.wid {
                self.padding(wid);
            }
            return;
        }
        if self.spec.space {
            if self.spec.sharp {
                width *= 2;
            }
            width += length - 1;
        } else if self.spec.sharp {
            width += 2;
        }
        let wid = self.spec.wid.unwrap_or(0);
        if !self.fits(width.max(wid)) {
            return;
        }
        if wid > width && !self.spec.minus {
            self.padding(wid - width);
        }
        let prefix = if upper { "0X" } else { "0x" };
        let mut out = String::with_capacity(width);
        if self.spec.sharp {
            out.push_str(prefix);
        }
        for (k, b) in bytes[..length].iter().enumerate() {
            if self.spec.space && k > 0 {
                out.push(' ');
                if self.spec.sharp {
                    out.push_str(prefix);
                }
            }
            out.push_str(&if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            });
        }
        self.put(&out);
        if wid > width && self.spec.minus {
            self.padding(wid - width);
        }
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        if self.spec.sharp && can_backquote(s) {
            return self.pad(&format!("`{s}`"));
        }
        match quote_limited(
            s,
            '"',
            self.spec.plus,
            self.room.saturating_sub(self.buf.len()),
        ) {
            Some(quoted) => self.pad(&quoted),
            None => self.full = true,
        }
    }
}

fn int_from_arg(args: &[Value], arg_num: usize) -> (Option<i64>, usize) {
    match args.get(arg_num) {
        Some(Value::Int(n)) if !too_large(*n) => (Some(*n), arg_num + 1),
        Some(_) => (None, arg_num + 1),
        None => (None, arg_num),
    }
}

/// More significant digits than an f64's exact decimal expansion has (767): Go pads zeros beyond
/// them, and Rust cannot format precisions above `u16::MAX`.
const MAX_SIGNIFICANT: usize = 800;
/// More fractional digits than an f64's exact decimal expansion has (1074), for the same reason.
const MAX_FRACTION: usize = 1100;

/// The digits of `a` (no trailing zeros; none for zero) and the decimal point position, shortest
/// round-trip or rounded to `sig` significant digits, as strconv's decimal.
fn decimal_digits(a: f64, sig: Option<usize>) -> (Vec<u8>, i64) {
    if a == 0.0 {
        return (Vec::new(), 0);
    }
    let text = match sig {
        Some(n) => format!("{:.*e}", n.clamp(1, MAX_SIGNIFICANT) - 1, a),
        None => format!("{a:e}"),
    };
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, exp.parse::<i64>().unwrap_or(0) + 1)
}

fn digit(digits: &[u8], i: i64) -> char {
    usize::try_from(i)
        .ok()
        .and_then(|i| digits.get(i))
        .map_or('0', |&d| char::from(d))
}

fn fmt_e(digits: &[u8], dp: i64, prec: usize, verb: char) -> String {
    let mut out = String::new();
    out.push(digit(digits, 0));
    if prec > 0 {
        out.push('.');
        out.extend((1..=prec).map(|i| digit(digits, i64::try_from(i).unwrap_or(i64::MAX))));
    }
    out.push(verb);
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
    out
}

fn fmt_f(digits: &[u8], dp: i64, prec: usize) -> String {
    let mut out = String::new();
    if dp > 0 {
        out.extend((0..dp).map(|i| digit(digits, i)));
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        out.extend((0..prec).map(|i| digit(digits, dp + i64::try_from(i).unwrap_or(0))));
    }
    out
}

/// `strconv.FormatFloat(f, verb, prec, 64)` for `e`, `E`, `f`, `g` and `G`; `None` is Go's -1.
fn format_float(f: f64, verb: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let a = f.abs();
    let body = match verb {
        'f' => match prec {
            Some(p) => {
                let exact = p.min(MAX_FRACTION);
                format!("{a:.exact$}{}", "0".repeat(p - exact))
            }
            None => {
                let (digits, dp) = decimal_digits(a, None);
                let nd = i64::try_from(digits.len()).unwrap_or(0);
                fmt_f(&digits, dp, usize::try_from(nd - dp).unwrap_or(0))
            }
        },
        'e' | 'E' => {
            let (digits, dp) = decimal_digits(a, prec.map(|p| p + 1));
            fmt_e(
                &digits,
                dp,
                prec.unwrap_or(digits.len().saturating_sub(1)),
                verb,
            )
        }
        _ => {
            let (digits, dp, p, shortest) = match prec {
                None => {
                    let (digits, dp) = decimal_digits(a, None);
                    let p = digits.len();
                    (digits, dp, p, true)
                }
                Some(p) => {
                    let p = p.max(1);
                    let (digits, dp) = decimal_digits(a, Some(p));
                    (digits, dp, p, false)
                }
            };
            let nd = i64::try_from(digits.len()).unwrap_or(0);
            let p = i64::try_from(p).unwrap_or(i64::MAX);
            let mut eprec = p;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if exp < -4 || exp >= eprec {
                let e_verb = if verb == 'G' { 'E' } else { 'e' };
                fmt_e(
                    &digits,
                    dp,
                    usize::try_from(p.min(nd) - 1).unwrap_or(0),
                    e_verb,
                )
            } else {
                let p = if p > dp { nd } else { p };
                fmt_f(&digits, dp, usize::try_from(p - dp).unwrap_or(0))
            }
        }
    };
    format!("{sign}{body}")
}

/// `fmt.Sprint(v)`, for values quoted in error messages.
fn sprint_v(value: &Value) -> String {
    let mut printer = Printer::new(MAX_OUTPUT);
    printer.print_arg(value, 'v');
    printer.buf
}

// ---------------------------------------------------------------------------------------------
// strconv and escaping helpers.

/// Approximates Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols and ASCII
/// space) without category tables: controls, other spaces, format characters and private use
/// are excluded, unassigned code points are not.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(
        u32::from(c),
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0xFFFE..=0xFFFF
            | 0xE000..=0xF8FF
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
            | 0xF0000..=0x10FFFF
    )
}

/// Go's `%#U` rendering of a character, used in lexer errors.
fn go_unicode(c: char) -> String {
    if is_print(c) {
        format!("U+{:04X} '{c}'", u32::from(c))
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

fn escape_char(out: &mut String, c: char, quote: char, ascii_only: bool) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_print(c) && (c.is_ascii() || !ascii_only) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        _ if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        _ if u32::from(c) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
        _ => out.push_str(&format!("\\U{:08x}", u32::from(c))),
    }
}

/// `strconv.Quote`, or `QuoteToASCII` when `ascii_only`; `None` once longer than `limit`.
fn quote_limited(s: &str, quote: char, ascii_only: bool, limit: usize) -> Option<String> {
    let mut out = String::with_capacity(s.len().saturating_add(2).min(limit));
    out.push(quote);
    for c in s.chars() {
        escape_char(&mut out, c, quote, ascii_only);
        if out.len() > limit {
            return None;
        }
    }
    out.push(quote);
    (out.len() <= limit).then_some(out)
}

/// `strconv.Quote`.
fn quote(s: &str) -> String {
    quote_limited(s, '"', false, usize::MAX).unwrap_or_default()
}

/// `strconv.QuoteRune`, or `QuoteRuneToASCII` when `ascii_only`.
fn quote_rune(c: char, ascii_only: bool) -> String {
    let mut out = String::from('\'');
    escape_char(&mut out, c, '\'', ascii_only);
    out.push('\'');
    out
}

fn can_backquote(s: &str) -> bool {
    s.chars().all(|c| {
        if c.len_utf8() > 1 {
            return c != '\u{FEFF}';
        }
        !(c < ' ' && c != '\t' || c == '`' || c == '\x7f')
    })
}

/// `strconv.UnquoteChar`: the first character of `s` (a byte for `\x` and octal escapes, which
/// the bool reports) and the rest.
fn unquote_char(s: &str, quote: char) -> Option<(u32, bool, &str)> {
    let mut chars = s.chars();
    let c = chars.next()?;
    if c == quote {
        return None;
    }
    if c != '\\' {
        return Some((u32::from(c), false, chars.as_str()));
    }
    let escape = chars.next()?;
    let rest = chars.as_str();
    let value = match escape {
        'a' => 7,
        'b' => 8,
        'f' => 12,
        'n' => 10,
        'r' => 13,
        't' => 9,
        'v' => 11,
        '\\' => u32::from('\\'),
        '\'' | '"' if escape == quote => u32::from(escape),
        'x' | 'u' | 'U' => {
            let n = match escape {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex = rest
                .get(..n)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))?;
            let value = u32::from_str_radix(hex, 16).ok()?;
            if escape != 'x' {
                char::from_u32(value)?;
            }
            return Some((value, escape == 'x', &rest[n..]));
        }
        '0'..='7' => {
            let oct = rest
                .get(..2)
                .filter(|o| o.bytes().all(|b| (b'0'..=b'7').contains(&b)))?;
            let value =
                (u32::from(escape) - u32::from('0')) * 64 + u32::from_str_radix(oct, 8).ok()?;
            if value > 255 {
                return None;
            }
            return Some((value, true, &rest[2..]));
        }
        _ => return None,
    };
    Some((value, false, rest))
}

/// `strconv.Unquote` for the string literals the lexer accepts.
fn unquote(s: &str) -> Option<String> {
    let quote = s.chars().next().filter(|q| matches!(q, '"' | '`'))?;
    if s.len() < 2 || !s.ends_with(quote) {
        return None;
    }
    let inner = &s[1..s.len() - 1];
    match quote {
        '`' => (!inner.contains('`')).then(|| inner.replace('\r', "")),
        _ => {
            if inner.contains('\n') {
                return None;
            }
            let mut bytes = Vec::with_capacity(inner.len());
            let mut rest = inner;
            while !rest.is_empty() {
                let (value, is_byte, tail) = unquote_char(rest, '"')?;
                match (is_byte, char::from_u32(value)) {
                    (false, Some(c)) => {
                        bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes())
                    }
                    _ => bytes.push(u8::try_from(value).ok()?),
                }
                rest = tail;
            }
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

/// `template.HTMLEscapeString`; `None` once longer than `limit`.
fn html_escape(s: &str, limit: usize) -> Option<String> {
    let mut out = String::with_capacity(s.len().min(limit));
    for c in s.chars() {
        match c {
            '\0' => out.push(char::REPLACEMENT_CHARACTER),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
        if out.len() > limit {
            return None;
        }
    }
    Some(out)
}

/// `template.JSEscapeString`; `None` once longer than `limit`.
fn js_escape(s: &str, limit: usize) -> Option<String> {
    let mut out = String::with_capacity(s.len().min(limit));
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            _ if c < ' ' || !c.is_ascii() && !is_print(c) => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)))
            }
            _ => out.push(c),
        }
        if out.len() > limit {
            return None;
        }
    }
    Some(out)
}

/// `url.QueryEscape`; `None` once longer than `limit`.
fn query_escape(s: &str, limit: usize) -> Option<String> {
    let mut out = String::with_capacity(s.len().min(limit));
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
        if out.len() > limit {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// helm-diff's `defaultTemplateReport` (diff/constant.go), the template behind `--output json`.
    const HELM_DIFF_DEFAULT: &str = "[\n{{- $global := . -}}\n{{- range $idx, $entry := . -}}\n{\n  \"api\": \"{{ $entry.API }}\",\n  \"kind\": \"{{ $entry.Kind }}\",\n  \"namespace\": \"{{ $entry.Namespace }}\",\n  \"name\": \"{{ $entry.Name }}\",\n  \"change\": \"{{ $entry.Change }}\"\n}{{ if not (last $idx  $global) }},{{ end }}\n{{- end }}]";

    /// helm-diff's diff/testdata/customTemplate.tpl.
    const HELM_DIFF_CUSTOM: &str =
        "{{- range $idx, $entry := . -}}\nResource name: {{ $entry.Name }}\n{{- end -}}\n";

    fn change(namespace: &str, name: &str, kind: &str, api: &str, change: &str) -> Json {
        json!({"Namespace": namespace, "Name": name, "Kind": kind, "API": api, "Change": change})
    }

    fn nginx() -> Json {
        change("default", "nginx", "Deployment", "apps", "MODIFY")
    }

    fn two() -> Json {
        json!([nginx(), change("prod", "web", "Service", "v1", "ADD")])
    }

    fn many(n: usize) -> Json {
        Json::Array((0..n).map(|_| nginx()).collect())
    }

    fn run(tpl: &str, data: &Json) -> anyhow::Result<String> {
        Template::parse("t.tpl", tpl)?.execute(data)
    }

    fn ok(tpl: &str, data: &Json) -> String {
        run(tpl, data).unwrap_or_else(|e| panic!("{tpl:?}: {e:#}"))
    }

    fn err(tpl: &str, data: &Json) -> String {
        match run(tpl, data) {
            Ok(out) => panic!("{tpl:?}: expected an error, got {out:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn default_template_matches_helm_diff() {
        assert_eq!(
            ok(HELM_DIFF_DEFAULT, &two()),
            "[{\n  \"api\": \"apps\",\n  \"kind\": \"Deployment\",\n  \"namespace\": \"default\",\n  \"name\": \"nginx\",\n  \"change\": \"MODIFY\"\n},{\n  \"api\": \"v1\",\n  \"kind\": \"Service\",\n  \"namespace\": \"prod\",\n  \"name\": \"web\",\n  \"change\": \"ADD\"\n}]"
        );
        // diff_test.go OnChangeTemplate, whose printer appends the newline.
        let one = ok(HELM_DIFF_DEFAULT, &json!([nginx()])) + "\n";
        assert_eq!(
            one,
            "[{\n  \"api\": \"apps\",\n  \"kind\": \"Deployment\",\n  \"namespace\": \"default\",\n  \"name\": \"nginx\",\n  \"change\": \"MODIFY\"\n}]\n"
        );
        // OnNoChangeTemplate: "[]\n".
        assert_eq!(ok(HELM_DIFF_DEFAULT, &json!([])), "[]");
    }

    #[test]
    fn custom_template_matches_helm_diff() {
        // OnChangeCustomTemplate expects "Resource name: nginx\n", the newline from the printer.
        assert_eq!(
            ok(HELM_DIFF_CUSTOM, &json!([nginx()])),
            "Resource name: nginx"
        );
    }

    #[test]
    fn empty_list_is_go_nil_slice() {
        assert_eq!(
            ok(
                "{{ . }}|{{ len . }}|{{ range . }}x{{ else }}none{{ end }}|{{ if . }}t{{ else }}f{{ end }}",
                &json!([])
            ),
            "[]|0|none|f"
        );
        assert_eq!(ok("{{ eq . nil }}", &json!([])), "true");
        assert_eq!(ok("{{ eq . nil }}", &two()), "false");
    }

    #[test]
    fn trim_markers_and_comments() {
        let tpl = "a  {{- \"b\" -}}  \n c {{- /* note */ -}} d\n{{/* gone */}}e {{ \"f\" -}}\n\n";
        assert_eq!(ok(tpl, &two()), "abcd\ne f");
        assert_eq!(ok("{{-3}} {{3 -}} x", &two()), "-3 3x");
        assert_eq!(
            err("{{/* open", &two()),
            "template: t.tpl:1: unclosed comment"
        );
        assert_eq!(
            err("{{/* c */ }}", &two()),
            "template: t.tpl:1: comment ends before closing delimiter"
        );
    }

    #[test]
    fn range_else_break_continue() {
        assert_eq!(
            ok(
                "{{range $i, $e := .}}{{$i}}:{{$e.Name}} {{else}}none{{end}}",
                &two()
            ),
            "0:nginx 1:web "
        );
        assert_eq!(
            ok("{{range .}}{{.Name}}{{else}}none{{end}}", &json!([])),
            "none"
        );
        assert_eq!(
            ok(
                "{{range .}}{{if eq .Change \"MODIFY\"}}{{continue}}{{end}}{{.Name}}{{break}}{{end}}",
                &two()
            ),
            "web"
        );
        assert_eq!(
            ok("{{range $e := .}}{{$e.Kind}} {{end}}", &two()),
            "Deployment Service "
        );
        assert_eq!(ok("{{ range 3 }}{{ . }}{{ end }}", &two()), "012");
        assert_eq!(
            err("{{ range (index . 0) }}{{ end }}", &two()),
            "template: t.tpl:1:18: executing \"t.tpl\" at <0>: range can't iterate over {default nginx Deployment apps MODIFY}"
        );
        assert_eq!(
            err("{{ break }}", &two()),
            "template: t.tpl:1: {{break}} outside {{range}}"
        );
    }

    #[test]
    fn if_else_if_and_with() {
        let tpl = "{{range $i, $c := .}}{{if eq $c.Change \"ADD\"}}+{{else if eq $c.Change \"REMOVE\"}}-{{else if eq $c.Change \"MODIFY\"}}~{{else}}?{{end}}{{end}}";
        assert_eq!(ok(tpl, &two()), "~+");
        assert_eq!(
            ok(
                "{{with index . 1}}{{.Kind}}/{{.Name}}{{end}} {{with $x := \"\"}}no{{else}}empty{{end}}",
                &two()
            ),
            "Service/web empty"
        );
        assert_eq!(
            ok("{{with 0}}a{{else with 2}}{{.}}{{else}}c{{end}}", &two()),
            "2"
        );
        assert_eq!(
            ok(
                "{{if 0.0}}a{{else if \"\"}}b{{else if (index . 0)}}d{{end}}",
                &two()
            ),
            "d"
        );
        assert_eq!(
            err("{{ if }}{{ end }}", &two()),
            "template: t.tpl:1: missing value for if"
        );
    }

    #[test]
    fn variables_and_scopes() {
        assert_eq!(
            ok(
                "{{ $n := 0 }}{{ range . }}{{ $n = .Name }}{{ end }}{{ $n }} {{ $ | len }}",
                &two()
            ),
            "web 2"
        );
        assert_eq!(
            ok(
                "{{ $x := 1 }}{{ if $y := 2 }}{{ $x }}{{ $y }}{{ $x := 3 }}{{ $x }}{{ end }}{{ $x }}",
                &two()
            ),
            "1231"
        );
        assert_eq!(
            ok(
                "{{ define \"t\" }}{{ $ }}|{{ . }}{{ end }}{{ template \"t\" \"arg\" }}",
                &two()
            ),
            "arg|arg"
        );
        assert_eq!(
            err("{{ $x }}", &two()),
            "template: t.tpl:1: undefined variable \"$x\""
        );
        assert_eq!(
            err("{{ if true }}{{ $y := 3 }}{{ end }}{{ $y }}", &two()),
            "template: t.tpl:1: undefined variable \"$y\""
        );
    }

    #[test]
    fn printf_verbs() {
        let tpl = "{{ printf \"%s|%d|%v|%q|%t|%x|%%|%5d|%-5s|%05.1f|%+d|%X|%o|%b|%c|%U\" \"a\" 42 3.5 \"q\\\"\" true \"hi\" 7 \"ab\" 3.14159 3 255 8 5 65 9731 }}";
        assert_eq!(
            ok(tpl, &two()),
            "a|42|3.5|\"q\\\"\"|true|6869|%|    7|ab   |003.1|+3|FF|10|101|A|U+2603"
        );
        let tpl = "{{ printf \"%d\" \"s\" }} {{ printf \"%d %d\" 1 }} {{ printf \"%d\" 1 2 }} {{ printf \"%[2]s-%[1]s\" \"a\" \"b\" }} {{ printf \"%*d\" 4 1 }}";
        assert_eq!(
            ok(tpl, &two()),
            "%!d(string=s) 1 %!d(MISSING) 1%!(EXTRA int=2) b-a    1"
        );
        assert_eq!(
            ok(
                "{{ index . 0 }} {{ printf \"%+v\" (index . 0) }} {{ . }}",
                &two()
            ),
            "{default nginx Deployment apps MODIFY} {Namespace:default Name:nginx Kind:Deployment API:apps Change:MODIFY} [{default nginx Deployment apps MODIFY} {prod web Service v1 ADD}]"
        );
        assert_eq!(
            ok("{{ printf \"%v %s %d\" nil nil nil }}", &two()),
            "<nil> %!s(<nil>) %!d(<nil>)"
        );
    }

    #[test]
    fn literals_and_number_printing() {
        let tpl = "{{ 3 }} {{ 3.0 }} {{ 2.5 }} {{ 1e6 }} {{ 123456.0 }} {{ 1e-5 }} {{ 0x10 }} {{ 017 }} {{ 'a' }} {{ printf \"%.2f %e %g\" 2.675 1234.5678 0.0001 }}";
        assert_eq!(
            ok(tpl, &two()),
            "3 3 2.5 1e+06 123456 1e-05 16 15 97 2.67 1.234568e+03 0.0001"
        );
        let tpl = "{{ `raw\\n` }} {{ \"tab\\tq\\\"\" }} {{ true }} {{ print nil }} {{ \"\\u00e9\\x41\" }}";
        assert_eq!(ok(tpl, &two()), "raw\\n tab\tq\" true <nil> éA");
        assert_eq!(
            err("{{ 09 }}", &two()),
            "template: t.tpl:1: integer overflow: \"09\""
        );
        assert_eq!(
            err("{{ \"\\q\" }}", &two()),
            "template: t.tpl:1: invalid syntax"
        );
    }

    #[test]
    fn comparisons() {
        let tpl = "{{ eq .  nil }} {{ eq 1 2 3 1 }} {{ eq \"ADD\" \"MODIFY\" \"REMOVE\" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt \"b\" \"a\" }} {{ ge 1 2 }}";
        assert_eq!(
            ok(tpl, &two()),
            "false true false true true true true false"
        );
        assert_eq!(
            ok(
                "{{ eq (index . 0) (index . 0) }} {{ eq (index . 0) (index . 1) }}",
                &two()
            ),
            "true false"
        );
        assert_eq!(
            err("{{ eq 1 \"a\" }}", &two()),
            "template: t.tpl:1:3: executing \"t.tpl\" at <eq 1 \"a\">: error calling eq: incompatible types for comparison"
        );
        assert_eq!(
            err("{{ lt true false }}", &two()),
            "template: t.tpl:1:3: executing \"t.tpl\" at <lt true false>: error calling lt: invalid type for comparison"
        );
    }

    #[test]
    fn and_or_return_operands_and_short_circuit() {
        let tpl = "{{ and 1 0 \"x\" }}|{{ and 1 \"x\" }}|{{ or 0 \"\" \"y\" }}|{{ or 0 \"\" }}|{{ not \"\" }}|{{ or 1 (index . 99) }}";
        assert_eq!(ok(tpl, &two()), "0|x|y||true|1");
        assert_eq!(ok("{{ 0 | and 1 }} {{ \"\" | or 0 }}", &two()), "0 ");
    }

    #[test]
    fn index_slice_len() {
        let tpl = "{{ (index . 1).Name }} {{ index \"abc\" 1 }} {{ slice \"hello\" 1 3 }} {{ len (slice . 1) }} {{ len \"héllo\" }}";
        assert_eq!(ok(tpl, &two()), "web 98 el 1 6");
        assert_eq!(
            err("{{ index . 5 }}", &two()),
            "template: t.tpl:1:3: executing \"t.tpl\" at <index . 5>: error calling index: index out of range: 5"
        );
        assert_eq!(
            err("{{ len 3 }}", &two()),
            "template: t.tpl:1:3: executing \"t.tpl\" at <len 3>: error calling len: len of type int"
        );
        assert_eq!(
            err("{{ slice \"abc\" 2 1 }}", &two()),
            "template: t.tpl:1:3: executing \"t.tpl\" at <slice \"abc\" 2 1>: error calling slice: invalid slice index: 2 > 1"
        );
    }

    #[test]
    fn templates_and_blocks() {
        let tpl = "{{define \"row\"}}{{.Kind}}/{{.Name}}{{end}}{{range .}}[{{template \"row\" .}}]{{end}}{{block \"tail\" .}}{{len .}}{{end}}{{template \"missing-dot\"}}{{define \"missing-dot\"}}{{.}}{{end}}";
        assert_eq!(
            ok(tpl, &two()),
            "[Deployment/nginx][Service/web]2<no value>"
        );
        assert_eq!(
            err("{{ template \"nope\" }}", &two()),
            "template: t.tpl:1:12: executing \"t.tpl\" at <{{template \"nope\"}}>: template \"nope\" not defined"
        );
        assert_eq!(
            err(
                "{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}",
                &two()
            ),
            "template: t.tpl:1:25: executing \"r\" at <{{template \"r\" .}}>: exceeded maximum template depth (100)"
        );
        assert_eq!(
            err("{{define \"a\"}}1{{end}}{{define \"a\"}}2{{end}}", &two()),
            "template: t.tpl:1: template: multiple definition of template \"a\""
        );
    }

    #[test]
    fn print_and_escape_functions() {
        let tpl = "{{ html \"<a href='x'>&\" }} {{ js \"it's <b>\" }} {{ urlquery \"a b&c\" }} {{ print 1 2 \"a\" \"b\" 3 nil }} {{ println \"x\" 1 }}";
        assert_eq!(
            ok(tpl, &two()),
            "&lt;a href=&#39;x&#39;&gt;&amp; it\\'s \\u003Cb\\u003E a+b%26c 1 2ab3 <nil> x 1\n"
        );
    }

    #[test]
    fn error_messages_name_template_and_line() {
        assert_eq!(
            err("{{ foo . }}", &two()),
            "template: t.tpl:1: function \"foo\" not defined"
        );
        assert_eq!(
            err("{{ range . }}{{ .Namespce }}{{ end }}", &two()),
            "template: t.tpl:1:16: executing \"t.tpl\" at <.Namespce>: can't evaluate field Namespce in type struct { Namespace string; Name string; Kind string; API string; Change string }"
        );
        assert_eq!(
            err("line1\n{{ if .\n", &two()),
            "template: t.tpl:3: unclosed action started at t.tpl:2"
        );
        assert_eq!(
            err("{{ .Name", &two()),
            "template: t.tpl:1: unclosed action"
        );
        assert_eq!(
            err("{{ \"open }}", &two()),
            "template: t.tpl:1: unterminated quoted string"
        );
        assert_eq!(
            err("{{ end }}", &two()),
            "template: t.tpl:1: unexpected {{end}}"
        );
        assert_eq!(
            err("a\n{{ if 1 }}", &two()),
            "template: t.tpl:2: unexpected EOF"
        );
        assert_eq!(
            err("{{ last \"x\" . }}", &two()),
            "template: t.tpl:1:8: executing \"t.tpl\" at <\"x\">: expected integer; found \"x\""
        );
        assert_eq!(
            err("{{ call . }}", &two()),
            "template: t.tpl:1:3: executing \"t.tpl\" at <call .>: error calling call: non-function of type []struct { Namespace string; Name string; Kind string; API string; Change string }"
        );
        assert_eq!(
            err("{{ nil }}", &two()),
            "template: t.tpl:1:3: executing \"t.tpl\" at <nil>: nil is not a command"
        );
        assert_eq!(
            err(
                "{{ define \"x\" }}{{ .Nope }}{{ end }}\n{{ template \"x\" (index . 0) }}",
                &two()
            ),
            "template: t.tpl:1:19: executing \"x\" at <.Nope>: can't evaluate field Nope in type struct { Namespace string; Name string; Kind string; API string; Change string }"
        );
    }

    #[test]
    fn output_is_limited() {
        let e = err(
            "{{ range . }}{{ printf \"%1000000d\" 0 }}{{ end }}",
            &many(20),
        );
        assert!(e.ends_with("output exceeds the limit of 16 MiB"), "{e}");
        assert_eq!(
            ok(
                "{{ range . }}{{ printf \"%1000000d\" 0 }}{{ end }}",
                &many(16)
            )
            .len(),
            16_000_000
        );
    }

    #[test]
    fn work_is_limited() {
        let nested = "{{ range . }}{{ range $ }}{{ range $ }}{{ range $ }}{{ range $ }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}";
        let e = err(nested, &many(40));
        assert!(
            e.ends_with("exceeded the limit of 10000000 evaluation steps"),
            "{e}"
        );
        let e = err(
            "{{ $s := printf \"%1000000d\" 0 }}{{ range . }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}",
            &many(20),
        );
        assert!(
            e.ends_with("strings built by functions exceed the limit of 64 MiB"),
            "{e}"
        );
    }

    #[test]
    fn nesting_is_limited_without_overflowing_the_stack() {
        let parens = |n: usize| format!("{{{{ {}1{} }}}}", "(".repeat(n), ")".repeat(n));
        assert_eq!(ok(&parens(MAX_NESTING), &two()), "1");
        assert_eq!(
            err(&parens(MAX_NESTING + 1), &two()),
            "template: t.tpl:1: max nesting depth (100) exceeded"
        );
        // Recursion nests control structures until the summed limit stops it...
        let recursive = "{{ define \"r\" }}{{ range $ }}{{ with . }}{{ if true }}{{ template \"r\" $ }}{{ end }}{{ end }}{{ end }}{{ end }}{{ template \"r\" . }}";
        let e = err(recursive, &two());
        assert!(e.ends_with("exceeded maximum nesting depth (300)"), "{e}");
        // ...and the deepest recursion allowed still evaluates a deep expression, within the stack
        // of a test thread.
        let calls = "printf \"%v\" (".repeat(95);
        let closing = ")".repeat(95);
        let shrinking = format!(
            "{{{{ define \"r\" }}}}{{{{ if . }}}}{{{{ template \"r\" (slice . 1) }}}}{{{{ else }}}}{{{{ {calls}1{closing} }}}}{{{{ end }}}}{{{{ end }}}}{{{{ template \"r\" . }}}}"
        );
        assert_eq!(ok(&shrinking, &many(99)), "1");
        assert!(err(&shrinking, &many(100)).ends_with("exceeded maximum template depth (100)"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn never_panics(parts in prop::collection::vec(prop::sample::select(vec![
            "{{", "}}", "{{- ", " -}}", "/*", "*/", " ", "\n", "(", ")", "|", ":=", "=", ",", ".", "$", "$x",
            ".Name", ".Nope", "\"s\"", "`r`", "'c'", "1", "-2", "3.5", "1e3", "0x1F", "nil", "true", "if",
            "else", "end", "range", "with", "define", "template", "block", "break", "continue", "\"t\"",
            "index", "slice", "len", "printf", "\"%v %d %5.2f %q %[2]x %*d\"", "eq", "lt", "and", "or", "not",
            "last", "html", "js", "urlquery", "print", "call", "x", "é", "\\", "\"\\x", "-",
        ]), 0..40)) {
            let text: String = parts.concat();
            if let Ok(template) = Template::parse("p.tpl", &text) {
                let _ = template.execute(&two());
                let _ = template.execute(&json!([]));
            }
        }
    }
}
