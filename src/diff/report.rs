//! helm-diff's report formats: `diff`, `simple`, `template`/`json`, plus the renderers in
//! `structured`, `dyff` and `markdown`.

use std::fmt::Write as _;

use regex::Regex;
use serde_json::{Value, json};

use super::lines::{Delta, Line, visible};
use super::{
    ChangeType, Entry, Options, OutputFormat, Report, Template, dyff, markdown, structured,
};

const RED: &str = "31";
const GREEN: &str = "32";
const YELLOW: &str = "33";
const MAGENTA: &str = "35";
/// mgutz/ansi's `blue+h` (high-intensity blue).
const BRIGHT_BLUE: &str = "94";

pub(super) fn render(report: &Report, opts: &Options) -> anyhow::Result<String> {
    Ok(match opts.output {
        OutputFormat::Diff => diff(report, opts),
        OutputFormat::Simple => simple(report, opts.color),
        OutputFormat::Json => templated(report, None)?,
        OutputFormat::Template => templated(report, opts.template.as_ref())?,
        OutputFormat::Structured => {
            let subjects = subjects(report, opts);
            for warning in subjects.iter().filter_map(structured::warning) {
                eprintln!("{warning}");
            }
            structured::render(&subjects)
        }
        OutputFormat::Dyff => dyff::render(&subjects(report, opts), opts.color),
        OutputFormat::Markdown => {
            let bodies: Vec<String> = report
                .entries
                .iter()
                .map(|e| body(e, opts.context, false, opts))
                .collect();
            let sections: Vec<markdown::Section> = report
                .entries
                .iter()
                .zip(&bodies)
                .map(|(e, body)| markdown::Section {
                    key: &e.key,
                    change: e.change.name(),
                    body,
                })
                .collect();
            markdown::render(&sections, opts.markdown_limit)
        }
    })
}

fn subjects<'a>(report: &'a Report, opts: &Options) -> Vec<structured::Subject<'a>> {
    report
        .entries
        .iter()
        .map(|e| structured::Subject {
            key: &e.key,
            change: e.change.name(),
            kind: &e.kind,
            suppressed: opts.suppressed_kinds.contains(&e.kind),
            old: e.old.as_ref(),
            new: e.new.as_ref(),
        })
        .collect()
}

/// Wraps `text` in an ANSI colour as mgutz/ansi's `Color` does.
fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn style(change: ChangeType) -> &'static str {
    match change {
        ChangeType::Add => GREEN,
        ChangeType::Remove => RED,
        ChangeType::Modify => YELLOW,
        ChangeType::Ownership => MAGENTA,
        ChangeType::ModifySuppressed => BRIGHT_BLUE,
    }
}

fn diff(report: &Report, opts: &Options) -> String {
    let mut out = String::new();
    for entry in &report.entries {
        let message = match entry.change {
            ChangeType::Add => "has been added:",
            ChangeType::Remove => "has been removed:",
            ChangeType::Modify => "has changed:",
            ChangeType::Ownership => "changed ownership:",
            ChangeType::ModifySuppressed => "has changed, but diff is empty after suppression.",
        };
        let header = format!("{} {message}", entry.key);
        out.push_str(&paint(&header, style(entry.change), opts.color));
        out.push('\n');
        out.push_str(&body(entry, opts.context, opts.color, opts));
    }
    out
}

/// An entry's lines as printed below its header. Ownership entries always use no context, as in
/// helm-diff.
fn body(entry: &Entry, context: Option<usize>, color: bool, opts: &Options) -> String {
    let mut out = String::new();
    if opts.suppressed_kinds.contains(&entry.kind) {
        let line = format!(
            "+ Changes suppressed on sensitive content of type {}\n",
            entry.kind
        );
        out.push_str(&paint(&line, YELLOW, color));
        return out;
    }
    let context = match entry.change {
        ChangeType::Ownership => Some(0),
        _ => context,
    };
    write_lines(&mut out, &entry.lines, context, color);
    out
}

/// Prints diff lines with `"  "`/`"- "`/`"+ "` prefixes, an unchanged empty line as a bare newline,
/// and each run of lines farther than `context` from a change as one `...`.
fn write_lines(out: &mut String, lines: &[Line], context: Option<usize>, color: bool) {
    let shown = context.map_or_else(|| vec![true; lines.len()], |c| visible(lines, c));
    let mut omitting = false;
    for (line, shown) in lines.iter().zip(shown) {
        if !shown {
            if !omitting {
                out.push_str("...\n");
            }
            omitting = true;
            continue;
        }
        omitting = false;
        match line.delta {
            Delta::Right => out.push_str(&paint(&format!("+ {}", line.text), GREEN, color)),
            Delta::Left => out.push_str(&paint(&format!("- {}", line.text), RED, color)),
            Delta::Common if line.text.is_empty() => {}
            Delta::Common => {
                out.push_str("  ");
                out.push_str(&line.text);
            }
        }
        out.push('\n');
    }
}

fn simple(report: &Report, color: bool) -> String {
    let mut out = String::new();
    let (mut add, mut modify, mut remove, mut owner) = (0, 0, 0, 0);
    for entry in &report.entries {
        let message = match entry.change {
            ChangeType::Add => {
                add += 1;
                "to be added."
            }
            ChangeType::Remove => {
                remove += 1;
                "to be removed."
            }
            ChangeType::Modify => {
                modify += 1;
                "to be changed."
            }
            ChangeType::Ownership => {
                owner += 1;
                "to change ownership."
            }
            ChangeType::ModifySuppressed => "has changed, but diff is empty after suppression.",
        };
        let line = format!("{} {message}", entry.key);
        out.push_str(&paint(&line, style(entry.change), color));
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Plan: {add} to add, {modify} to change, {remove} to destroy, {owner} to change ownership."
    );
    out
}

/// helm-diff reads the template fields back out of the key with this (unanchored) pattern.
fn key_pattern() -> Regex {
    Regex::new(r"([a-z0-9-]+), ([a-z0-9.-]+), (\w+) \(([^)]+)\)").expect("a valid pattern")
}

/// The `ReportTemplateSpec` list helm-diff hands to templates: entries whose key does not match its
/// pattern are left out with a line on stderr, as helm-diff does.
fn template_data(report: &Report) -> Value {
    let pattern = key_pattern();
    let mut specs = Vec::new();
    for entry in &report.entries {
        match pattern.captures(&entry.key) {
            Some(c) => specs.push(json!({
                "Namespace": &c[1],
                "Name": &c[2],
                "Kind": &c[3],
                "API": &c[4],
                "Change": entry.change.name(),
            })),
            None => eprintln!("error processing report entry {:?}", entry.key),
        }
    }
    Value::Array(specs)
}

/// helm-diff's `--output json` (and `template` without `HELM_DIFF_TPL`): its default template,
/// run by the same interpreter as a user's.
const DEFAULT_TEMPLATE: &str = r#"[
{{- $global := . -}}
{{- range $idx, $entry := . -}}
{
  "api": "{{ $entry.API }}",
  "kind": "{{ $entry.Kind }}",
  "namespace": "{{ $entry.Namespace }}",
  "name": "{{ $entry.Name }}",
  "change": "{{ $entry.Change }}"
}{{ if not (last $idx  $global) }},{{ end }}
{{- end }}]"#;

fn templated(report: &Report, template: Option<&Template>) -> anyhow::Result<String> {
    let default;
    let template = match template {
        Some(t) => t,
        None => {
            default = Template::parse("entries", DEFAULT_TEMPLATE)?;
            &default
        }
    };
    let mut out = template.execute(&template_data(report))?;
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::lines::diff;
    use super::*;

    const TEXT1: &str = "line1\nline2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10";
    const TEXT2: &str = "line1 - different!\nline2 - different!\nline3\nline4\nline5\nline6\nline7\nline8 - different!\nline9\nline10";

    fn show(context: Option<usize>) -> String {
        let mut out = String::new();
        write_lines(&mut out, &diff(TEXT1, TEXT2, false), context, false);
        out
    }

    /// The vectors of helm-diff's `TestPrintDiffWithContext` (diff/diff_test.go).
    #[test]
    fn context_elision_matches_helm_diff() {
        let head = "- line1\n- line2\n+ line1 - different!\n+ line2 - different!\n";
        let change = "- line8\n+ line8 - different!\n";
        assert_eq!(
            show(None),
            format!(
                "{head}  line3\n  line4\n  line5\n  line6\n  line7\n{change}  line9\n  line10\n"
            )
        );
        assert_eq!(show(Some(0)), format!("{head}...\n{change}...\n"));
        assert_eq!(
            show(Some(1)),
            format!("{head}  line3\n...\n  line7\n{change}  line9\n...\n")
        );
        assert_eq!(
            show(Some(2)),
            format!("{head}  line3\n  line4\n...\n  line6\n  line7\n{change}  line9\n  line10\n")
        );
        assert_eq!(show(Some(3)), show(None));
    }

    #[test]
    fn colours_follow_mgutz_ansi() {
        let mut out = String::new();
        write_lines(&mut out, &diff("a\nb\n", "a\nc\n", false), None, true);
        assert_eq!(out, "  a\n\x1b[31m- b\x1b[0m\n\x1b[32m+ c\x1b[0m\n\n");
    }

    #[test]
    fn empty_reports() {
        let report = Report::default();
        let render = |output| {
            render(
                &report,
                &Options {
                    output,
                    ..Options::default()
                },
            )
            .unwrap()
        };
        assert_eq!(render(OutputFormat::Diff), "");
        assert_eq!(
            render(OutputFormat::Simple),
            "Plan: 0 to add, 0 to change, 0 to destroy, 0 to change ownership.\n"
        );
        assert_eq!(render(OutputFormat::Json), "[]\n");
    }
}
