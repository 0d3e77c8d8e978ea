//! helm-diff's `diff`, `simple` and `json` report formats.

use similar::ChangeTag;

use super::lines::{Line, visible};
use super::{ChangeType, Options, OutputFormat, Report};

const RED: &str = "31";
const GREEN: &str = "32";
const YELLOW: &str = "33";

pub(super) fn render(report: &Report, opts: &Options) -> String {
    match opts.output {
        OutputFormat::Diff => diff(report, opts),
        OutputFormat::Simple => simple(report, opts.color),
        OutputFormat::Json => json(report),
    }
}

/// Wraps `text` in an ANSI colour as helm-diff's `ansi.Color` does.
fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn header_color(change: ChangeType) -> &'static str {
    match change {
        ChangeType::Add => GREEN,
        ChangeType::Remove => RED,
        ChangeType::Modify => YELLOW,
    }
}

fn diff(report: &Report, opts: &Options) -> String {
    let mut out = String::new();
    for change in &report.changes {
        let message = match change.change {
            ChangeType::Add => "has been added:",
            ChangeType::Remove => "has been removed:",
            ChangeType::Modify => "has changed:",
        };
        let header = format!("{} {message}", change.key());
        out.push_str(&paint(&header, header_color(change.change), opts.color));
        out.push('\n');
        write_lines(&mut out, &change.lines, opts.context, opts.color);
    }
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
        match line.tag {
            ChangeTag::Insert => out.push_str(&paint(&format!("+ {}", line.text), GREEN, color)),
            ChangeTag::Delete => out.push_str(&paint(&format!("- {}", line.text), RED, color)),
            ChangeTag::Equal if line.text.is_empty() => {}
            ChangeTag::Equal => {
                out.push_str("  ");
                out.push_str(&line.text);
            }
        }
        out.push('\n');
    }
}

fn simple(report: &Report, color: bool) -> String {
    let mut out = String::new();
    let (mut add, mut modify, mut remove) = (0, 0, 0);
    for change in &report.changes {
        let message = match change.change {
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
        };
        let line = format!("{} {message}", change.key());
        out.push_str(&paint(&line, header_color(change.change), color));
        out.push('\n');
    }
    out + &format!(
        "Plan: {add} to add, {modify} to change, {remove} to destroy, 0 to change ownership.\n"
    )
}

/// helm-diff's default template output: uncoloured, pretty-printed objects joined without
/// whitespace between them (`[{…},{…}]`), and a final newline.
fn json(report: &Report) -> String {
    let quote = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let entries: Vec<String> = report
        .changes
        .iter()
        .map(|c| {
            let change = match c.change {
                ChangeType::Add => "ADD",
                ChangeType::Remove => "REMOVE",
                ChangeType::Modify => "MODIFY",
            };
            format!(
                "{{\n  \"api\": {},\n  \"kind\": {},\n  \"namespace\": {},\n  \"name\": {},\n  \"change\": \"{change}\"\n}}",
                quote(&c.group),
                quote(&c.kind),
                quote(&c.namespace),
                quote(&c.name),
            )
        })
        .collect();
    format!("[{}]\n", entries.join(","))
}

#[cfg(test)]
mod tests {
    use super::super::lines::diff;
    use super::*;

    const TEXT1: &str = "line1\nline2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10";
    const TEXT2: &str = "line1 - different!\nline2 - different!\nline3\nline4\nline5\nline6\nline7\nline8 - different!\nline9\nline10";

    fn show(context: Option<usize>) -> String {
        let mut out = String::new();
        write_lines(&mut out, &diff(TEXT1, TEXT2), context, false);
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
        write_lines(&mut out, &diff("a\nb\n", "a\nc\n"), None, true);
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
        };
        assert_eq!(render(OutputFormat::Diff), "");
        assert_eq!(
            render(OutputFormat::Simple),
            "Plan: 0 to add, 0 to change, 0 to destroy, 0 to change ownership.\n"
        );
        assert_eq!(render(OutputFormat::Json), "[]\n");
    }
}
