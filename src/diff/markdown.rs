//! `--output markdown`: the report as a pull-request comment for GitHub or GitLab — a `Plan:` line,
//! then one collapsible `<details>` block per object holding a ```` ```diff ```` block that both
//! colour, capped at a size the comment API accepts.

/// One reported object for the markdown report.
pub(super) struct Section<'a> {
    /// helm-diff's key "<ns>, <name>, <Kind> (<group>)".
    pub key: &'a str,
    /// "ADD", "REMOVE", "MODIFY", "OWNERSHIP" or "MODIFY_SUPPRESSED".
    pub change: &'a str,
    /// The object's diff exactly as the uncoloured `diff` output prints it below its header (lines
    /// starting with "+ ", "- ", "  ", "...").
    pub body: &'a str,
}

/// `limit` is the maximum size in bytes of the whole report (GitHub's comment limit is 65536
/// characters; the caller passes a default of 65000 or `--markdown-limit`).
///
/// Sections are kept whole, in order, while they fit with room left for the closing "N more
/// objects not shown" line; the first that does not fit ends the report. A section that could not
/// fit even right below the plan line is instead cut to the room left, at a line boundary, with a
/// marker line, so a single huge object still shows its beginning. Only a limit too small for the
/// plan line and the closing line themselves cuts the text mid-line.
pub(super) fn render(sections: &[Section<'_>], limit: usize) -> String {
    if sections.is_empty() {
        return cap("No changes.\n".to_string(), limit);
    }
    let mut out = plan(sections);
    let plan_len = out.len();
    for (index, section) in sections.iter().enumerate() {
        let after = sections.len() - index - 1;
        let reserve = if after == 0 {
            0
        } else {
            more(after, limit).len()
        };
        let block = Block::new(section);
        let whole = block.whole();
        if out.len() + whole.len() + reserve <= limit {
            out.push_str(&whole);
            continue;
        }
        if plan_len + whole.len() + reserve > limit {
            let room = limit.saturating_sub(out.len() + reserve);
            if let Some(cut) = block.cut(room) {
                out.push_str(&cut);
                if after > 0 {
                    out.push_str(&more(after, limit));
                }
                return cap(out, limit);
            }
        }
        out.push_str(&more(after + 1, limit));
        return cap(out, limit);
    }
    cap(out, limit)
}

/// The summary line, counted as helm-diff's `simple` output counts; suppressed diffs are listed
/// below but counted nowhere, as there.
fn plan(sections: &[Section<'_>]) -> String {
    let count = |change: &str| sections.iter().filter(|s| s.change == change).count();
    format!(
        "**Plan:** {} to add, {} to change, {} to destroy, {} to change ownership.\n",
        count("ADD"),
        count("MODIFY"),
        count("REMOVE"),
        count("OWNERSHIP"),
    )
}

fn more(count: usize, limit: usize) -> String {
    let objects = if count == 1 { "object" } else { "objects" };
    format!(
        "\n_… {count} more {objects} not shown (limit {limit} bytes); run helm x diff locally for the full report._\n"
    )
}

/// Cuts `text` to at most `limit` bytes at a character boundary; the last resort for limits too
/// small to hold the report's frame.
fn cap(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// One section's `<details>` block, split so that it can be cut between lines.
struct Block {
    open: String,
    lines: Vec<String>,
    fence: String,
}

impl Block {
    fn new(section: &Section<'_>) -> Block {
        let marker = match section.change {
            "ADD" => "add",
            "REMOVE" => "destroy",
            "MODIFY" => "change",
            "OWNERSHIP" => "change ownership",
            "MODIFY_SUPPRESSED" => "change (diff suppressed)",
            other => other,
        };
        // Not `lines()`, which would drop a `\r` that belongs to the text.
        let lines: Vec<String> = section.body.split_terminator('\n').map(unified).collect();
        // Longer than any backtick run in the text, so no line (even one indented up to three
        // spaces, which CommonMark still reads as a fence) can close the block early.
        let longest = lines
            .iter()
            .flat_map(|line| line.split(|c| c != '`'))
            .map(str::len)
            .max()
            .unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        // The blank line ends the HTML block, so the fence after it is read as Markdown.
        let open = format!(
            "\n<details><summary><code>{}</code> {}</summary>\n\n",
            escape(marker),
            escape(section.key)
        );
        Block { open, lines, fence }
    }

    fn whole(&self) -> String {
        let mut out = self.open.clone();
        if self.lines.is_empty() {
            out.push_str("_No diff to show._\n");
        } else {
            self.push_code(&mut out, &self.lines);
            out.push_str(&self.fence);
            out.push('\n');
        }
        out.push_str("\n</details>\n");
        out
    }

    /// The block with as many whole lines as fit in `room` bytes and a marker for the rest;
    /// `None` when not even one line fits.
    fn cut(&self, room: usize) -> Option<String> {
        let tail = |omitted: usize| {
            let lines = if omitted == 1 { "line" } else { "lines" };
            format!(
                "{}\n\n_… diff truncated: {omitted} more {lines} not shown._\n\n</details>\n",
                self.fence
            )
        };
        // The marker's number only shrinks as lines are added, so the widest one bounds them all.
        let mut used =
            self.open.len() + self.fence.len() + "diff\n".len() + tail(self.lines.len()).len();
        let mut shown = 0;
        for line in &self.lines {
            used += line.len() + 1;
            if used > room {
                break;
            }
            shown += 1;
        }
        if shown == 0 {
            return None;
        }
        let mut out = self.open.clone();
        self.push_code(&mut out, &self.lines[..shown]);
        out.push_str(&tail(self.lines.len() - shown));
        Some(out)
    }

    /// The opening fence and `lines`, without the closing fence.
    fn push_code(&self, out: &mut String, lines: &[String]) {
        out.push_str(&self.fence);
        out.push_str("diff\n");
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
    }
}

/// One `diff`-format line in unified-diff style, which GitHub and GitLab colour: `+ x` → `+x`,
/// `- x` → `-x`, `  x` → ` x`, and the `...` of omitted lines as a hunk marker `@@ ... @@`.
fn unified(line: &str) -> String {
    if let Some(sign @ ('+' | '-')) = line.chars().next() {
        let text = &line[1..];
        return format!("{sign}{}", text.strip_prefix(' ').unwrap_or(text));
    }
    match line {
        "" => String::new(),
        "..." => "@@ ... @@".to_string(),
        _ => format!(" {}", line.strip_prefix("  ").unwrap_or(line)),
    }
}

/// Escapes the characters that would otherwise be read as HTML inside `<summary>`.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 65000;

    fn section<'a>(key: &'a str, change: &'a str, body: &'a str) -> Section<'a> {
        Section { key, change, body }
    }

    #[test]
    fn no_changes() {
        assert_eq!(render(&[], LIMIT), "No changes.\n");
    }

    #[test]
    fn sections_become_details_with_unified_diff_blocks() {
        let sections = [
            section(
                "default, web, Deployment (apps)",
                "MODIFY",
                "  spec:\n-   replicas: 1\n+   replicas: 2\n...\n\n+ \n",
            ),
            section("default, cfg, ConfigMap (v1)", "ADD", "+ kind: ConfigMap\n"),
            section("default, old, Service (v1)", "REMOVE", "- kind: Service\n"),
            section("default, s, Secret (v1)", "MODIFY_SUPPRESSED", ""),
            section(
                "default, sa, ServiceAccount (v1)",
                "OWNERSHIP",
                "  kind: ServiceAccount",
            ),
        ];
        let expected = "\
**Plan:** 1 to add, 1 to change, 1 to destroy, 1 to change ownership.

<details><summary><code>change</code> default, web, Deployment (apps)</summary>

```diff
 spec:
-  replicas: 1
+  replicas: 2
@@ ... @@

+
```

</details>

<details><summary><code>add</code> default, cfg, ConfigMap (v1)</summary>

```diff
+kind: ConfigMap
```

</details>

<details><summary><code>destroy</code> default, old, Service (v1)</summary>

```diff
-kind: Service
```

</details>

<details><summary><code>change (diff suppressed)</code> default, s, Secret (v1)</summary>

_No diff to show._

</details>

<details><summary><code>change ownership</code> default, sa, ServiceAccount (v1)</summary>

```diff
 kind: ServiceAccount
```

</details>
";
        assert_eq!(render(&sections, LIMIT), expected);
    }

    #[test]
    fn lines_become_unified_diff_lines() {
        for (line, expected) in [
            ("+ a: 1", "+a: 1"),
            ("- a: 1", "-a: 1"),
            ("+ ", "+"),
            ("+", "+"),
            ("+   b", "+  b"),
            ("  - item", " - item"),
            ("...", "@@ ... @@"),
            ("", ""),
            ("  x\r", " x\r"),
        ] {
            assert_eq!(unified(line), expected, "{line:?}");
        }
    }

    #[test]
    fn keys_are_html_escaped() {
        let out = render(&[section("a&b, <x>, K (g)", "ADD", "+ a: <b>&\n")], LIMIT);
        assert!(out.contains("<summary><code>add</code> a&amp;b, &lt;x&gt;, K (g)</summary>"));
        assert!(out.contains("\n+a: <b>&\n"), "code is literal: {out}");
    }

    #[test]
    fn the_fence_is_longer_than_any_backtick_run() {
        let out = render(
            &[section("k", "ADD", "+ a: |\n+   ````\n+   ``\n   ```\n")],
            LIMIT,
        );
        assert_eq!(
            out,
            "**Plan:** 1 to add, 0 to change, 0 to destroy, 0 to change ownership.\n\n\
             <details><summary><code>add</code> k</summary>\n\n\
             `````diff\n+a: |\n+  ````\n+  ``\n  ```\n`````\n\n</details>\n"
        );
        let short = render(&[section("k", "ADD", "+ `x`\n")], LIMIT);
        assert!(short.contains("\n```diff\n+`x`\n```\n"), "{short}");
    }

    fn many(count: usize) -> Vec<(String, String)> {
        (0..count)
            .map(|i| {
                let body: String = (0..10).map(|l| format!("+ line {i} {l}\n")).collect();
                (format!("ns, obj-{i}, ConfigMap (v1)"), body)
            })
            .collect()
    }

    fn footer(hidden: usize, limit: usize) -> String {
        let objects = if hidden == 1 { "object" } else { "objects" };
        format!(
            "\n_… {hidden} more {objects} not shown (limit {limit} bytes); run helm x diff locally for the full report._\n"
        )
    }

    #[test]
    fn the_limit_is_never_exceeded_and_the_rest_is_counted() {
        let data = many(40);
        let sections: Vec<Section> = data
            .iter()
            .map(|(key, body)| section(key, "ADD", body))
            .collect();
        let full = render(&sections, usize::MAX);
        assert!(!full.contains("not shown"));
        assert_eq!(render(&sections, full.len()), full);
        for limit in [full.len() - 1, 5000, 1000, 400, 300] {
            let out = render(&sections, limit);
            assert!(out.len() <= limit, "{limit}: {} bytes", out.len());
            let shown = out.matches("<details>").count();
            assert!(shown < 40, "{limit}");
            assert!(out.ends_with(&footer(40 - shown, limit)), "{limit}: {out}");
            assert_eq!(out.matches("</details>").count(), shown);
            assert!(
                !out.contains("truncated"),
                "{limit}: every object fits alone"
            );
            // Only whole objects, in order, and a prefix of the full report.
            assert!(full.starts_with(&out[..out.len() - footer(40 - shown, limit).len()]));
        }
        assert_eq!(
            render(&sections, full.len() - 1)
                .matches("<details>")
                .count(),
            39
        );
    }

    #[test]
    fn a_section_larger_than_the_limit_is_cut_at_a_line() {
        let body: String = (0..100).map(|l| format!("+ line {l}\n")).collect();
        let sections = [section("k", "ADD", &body), section("k2", "REMOVE", "- x\n")];
        let out = render(&sections, 400);
        assert!(out.len() <= 400, "{}", out.len());
        let kept = out.matches("\n+line ").count();
        assert!(kept > 1);
        assert!(out.starts_with(
            "**Plan:** 1 to add, 0 to change, 1 to destroy, 0 to change ownership.\n\n\
             <details><summary><code>add</code> k</summary>\n\n```diff\n+line 0\n+line 1\n"
        ));
        let tail = format!(
            "+line {}\n```\n\n_… diff truncated: {} more lines not shown._\n\n</details>\n{}",
            kept - 1,
            100 - kept,
            footer(1, 400)
        );
        assert!(out.ends_with(&tail), "{out}");
        // One more line would not have fitted.
        assert!(out.len() + format!("+line {kept}\n").len() > 400);

        // After a section that fits, the oversized one is cut into the room left.
        let sections = [section("a", "ADD", "+ a\n"), section("k", "ADD", &body)];
        let out = render(&sections, 500);
        assert!(out.len() <= 500);
        assert!(out.contains("\n+a\n```\n\n</details>\n"));
        assert!(out.ends_with("more lines not shown._\n\n</details>\n"));

        // One that fits alone, but not after the others, is counted rather than cut.
        let medium: String = (0..30).map(|l| format!("+ line {l}\n")).collect();
        let sections = [section("a", "ADD", "+ a\n"), section("b", "ADD", &medium)];
        let limit = render(&sections[1..], usize::MAX).len() + 10;
        let out = render(&sections, limit);
        assert_eq!(out.matches("<details>").count(), 1);
        assert!(out.ends_with(&footer(1, limit)), "{out}");
        assert!(!out.contains("truncated"));
    }

    #[test]
    fn tiny_limits_are_never_exceeded_nor_split_a_character() {
        let sections = [section("k", "ADD", "+ x\n"), section("é", "ADD", "+ é\n")];
        let full = render(&sections, usize::MAX);
        let plan = plan(&sections).len() + 1;
        for limit in 0..=full.len() {
            // `String::truncate` would panic inside a multi-byte character.
            let out = render(&sections, limit);
            assert!(out.len() <= limit, "{limit}");
            assert!(full.starts_with(&out[..out.len().min(plan)]), "{limit}");
        }
        assert_eq!(render(&[], 3), "No ");
    }
}
