//! The line diff of two object texts, and helm-diff's context elision.
//!
//! helm-diff aligns lines with a longest-common-subsequence diff (Hirschberg's linear-space form of
//! aryann/difflib's result). Where several alignments are equally short, the one chosen decides
//! which lines print as removed and re-added, so the same algorithm, with the same tie-breaking,
//! is used here: reports are byte-identical, and memory stays linear in the object size.

/// Which side a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Delta {
    /// On both sides.
    Common,
    /// Old side only (printed `- `).
    Left,
    /// New side only (printed `+ `).
    Right,
}

/// One line of an object's diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    pub delta: Delta,
    pub text: String,
}

impl Line {
    fn new(delta: Delta, text: &str) -> Line {
        Line {
            delta,
            text: text.to_string(),
        }
    }

    /// Whether the line is a change rather than context.
    pub fn changed(&self) -> bool {
        self.delta != Delta::Common
    }
}

/// Diffs two texts line by line. Texts are split on every `\n` as helm-diff does, so an absent
/// side (`""`) is one empty line; `strip_cr` drops one `\r` at the end of every line first
/// (`--strip-trailing-cr`).
pub(super) fn diff(old: &str, new: &str, strip_cr: bool) -> Vec<Line> {
    let split = |text: &'_ str| -> Vec<String> {
        text.split('\n')
            .map(|l| {
                if strip_cr {
                    l.strip_suffix('\r').unwrap_or(l)
                } else {
                    l
                }
            })
            .map(str::to_string)
            .collect()
    };
    let (old, new) = (split(old), split(new));
    diff_lines(&old, &new)
}

/// The LCS diff of two line sequences: the common head and tail first, Hirschberg in between.
fn diff_lines(a: &[String], b: &[String]) -> Vec<Line> {
    let mut start = 0;
    while start < a.len() && start < b.len() && a[start] == b[start] {
        start += 1;
    }
    // helm-diff stops the tail scan one line early on both sides; kept for identical alignments.
    let mut end = 0;
    while a.len() > start + end + 1
        && b.len() > start + end + 1
        && a[a.len() - 1 - end] == b[b.len() - 1 - end]
    {
        end += 1;
    }
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    out.extend(a[..start].iter().map(|l| Line::new(Delta::Common, l)));
    hirschberg(&a[start..a.len() - end], &b[start..b.len() - end], &mut out);
    out.extend(
        a[a.len() - end..]
            .iter()
            .map(|l| Line::new(Delta::Common, l)),
    );
    out
}

fn hirschberg(a: &[String], b: &[String], out: &mut Vec<Line>) {
    match a.len() {
        0 => out.extend(b.iter().map(|l| Line::new(Delta::Right, l))),
        _ if b.is_empty() => out.extend(a.iter().map(|l| Line::new(Delta::Left, l))),
        1 => single_row(&a[0], b, out),
        n => {
            let mid = n / 2;
            let forward = lcs_row(a[..mid].iter(), b.iter(), b.len());
            let backward = lcs_row(a[mid..].iter().rev(), b.iter().rev(), b.len());
            // backward[k] is the LCS of a[mid..] with the last k lines of b.
            let split = (0..=b.len())
                .fold((0, None), |(best, score), j| {
                    let s = forward[j] + backward[b.len() - j];
                    if score.is_none_or(|max| s > max) {
                        (j, Some(s))
                    } else {
                        (best, score)
                    }
                })
                .0;
            hirschberg(&a[..mid], &b[..split], out);
            hirschberg(&a[mid..], &b[split..], out);
        }
    }
}

/// One line against many: matched at its last occurrence, else removed before everything added.
fn single_row(line: &str, b: &[String], out: &mut Vec<Line>) {
    match b.iter().rposition(|l| l == line) {
        Some(found) => {
            out.extend(b[..found].iter().map(|l| Line::new(Delta::Right, l)));
            out.push(Line::new(Delta::Common, line));
            out.extend(b[found + 1..].iter().map(|l| Line::new(Delta::Right, l)));
        }
        None => {
            out.push(Line::new(Delta::Left, line));
            out.extend(b.iter().map(|l| Line::new(Delta::Right, l)));
        }
    }
}

/// The last row of the LCS table: `row[j]` is the LCS length of `a` and the first `j` of `b`.
fn lcs_row<'a>(
    a: impl Iterator<Item = &'a String>,
    b: impl Iterator<Item = &'a String> + Clone,
    len: usize,
) -> Vec<usize> {
    let mut prev = vec![0; len + 1];
    let mut curr = vec![0; len + 1];
    for x in a {
        for (j, y) in b.clone().enumerate() {
            curr[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(curr[j])
            };
        }
        std::mem::swap(&mut prev, &mut curr);
    }
    prev
}

/// Which lines to show with `context` unchanged lines around each change: `false` marks a line
/// helm-diff replaces by `...` (one `...` per run).
pub(super) fn visible(lines: &[Line], context: usize) -> Vec<bool> {
    let mut distance = vec![usize::MAX; lines.len()];
    let mut last = None;
    for (i, line) in lines.iter().enumerate() {
        if line.changed() {
            last = Some(i);
        }
        if let Some(at) = last {
            distance[i] = i - at;
        }
    }
    last = None;
    for (i, line) in lines.iter().enumerate().rev() {
        if line.changed() {
            last = Some(i);
        }
        if let Some(at) = last {
            distance[i] = distance[i].min(at - i);
        }
    }
    distance.into_iter().map(|d| d <= context).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(old: &str, new: &str) -> String {
        diff(old, new, false)
            .iter()
            .map(|l| {
                let mark = match l.delta {
                    Delta::Common => ' ',
                    Delta::Left => '-',
                    Delta::Right => '+',
                };
                format!("{mark}{}\n", l.text)
            })
            .collect()
    }

    #[test]
    fn absent_side_is_one_empty_line_removed_first() {
        assert_eq!(show("", "a\nb"), "-\n+a\n+b\n");
        assert_eq!(show("a\nb", ""), "-a\n-b\n+\n");
    }

    #[test]
    fn ties_resolve_like_helm_diff() {
        // A common head is matched first; a single old line matches the last equal new line.
        assert_eq!(show("x", "x\ny\nx"), " x\n+y\n+x\n");
        assert_eq!(show("a\nx", "b\nx\ny\nx"), "-a\n+b\n+x\n+y\n x\n");
        // Replaced blocks print removals before additions.
        assert_eq!(show("a\nb\nc", "a\nB\nc"), " a\n-b\n+B\n c\n");
        assert_eq!(show("a\nb\nc\nd", "a\nc\nb\nd"), " a\n-b\n c\n+b\n d\n");
    }

    fn fixture(name: &str) -> Vec<serde_json::Value> {
        let path = format!(
            "{}/testdata/diff/helm-diff/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        value["cases"].as_array().unwrap().clone()
    }

    fn strings(v: &serde_json::Value) -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    }

    /// helm-diff's lcs tests: the same records as aryann/difflib, and on 1,000 random pairs as many
    /// common lines as helm-diff finds, in a diff that rebuilds both sides.
    #[test]
    fn records_match_helm_diff() {
        for case in fixture("TestDiffLinesParityWithDifflib") {
            let got: Vec<(String, String)> =
                diff_lines(&strings(&case["old_lines"]), &strings(&case["new_lines"]))
                    .into_iter()
                    .map(|l| (format!("{:?}", l.delta).to_lowercase(), l.text))
                    .collect();
            let want: Vec<(String, String)> = case["expected_records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["delta"].as_str().unwrap().to_string(),
                        r["payload"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            assert_eq!(got, want, "{}", case["name"]);
        }
        for case in fixture("TestDiffLinesSemanticValidity") {
            let (a, b) = (strings(&case["old_lines"]), strings(&case["new_lines"]));
            let lines = diff_lines(&a, &b);
            let side = |keep: Delta| -> Vec<&str> {
                lines
                    .iter()
                    .filter(|l| l.delta == Delta::Common || l.delta == keep)
                    .map(|l| l.text.as_str())
                    .collect()
            };
            assert_eq!(side(Delta::Left), a, "{}", case["name"]);
            assert_eq!(side(Delta::Right), b, "{}", case["name"]);
            let common = lines.iter().filter(|l| !l.changed()).count();
            assert_eq!(Some(common as u64), case["expected_common_count"].as_u64());
        }
    }

    #[test]
    fn trailing_carriage_returns_can_be_stripped() {
        assert!(diff("a\r\nb", "a\nb", true).iter().all(|l| !l.changed()));
        assert_eq!(
            diff("a\r\nb", "a\nb", false)
                .iter()
                .filter(|l| l.changed())
                .count(),
            2
        );
    }

    #[test]
    fn unchanged_text_has_nothing_visible_at_zero_context() {
        let lines = diff("a\nb", "a\nb", false);
        assert_eq!(visible(&lines, 0), [false, false]);
    }
}
