//! The line diff of two object texts, and helm-diff's context elision.

use similar::{Algorithm, ChangeTag, capture_diff_slices};

/// One line of an object's diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    pub tag: ChangeTag,
    pub text: String,
}

/// Diffs two texts line by line. Texts are split on every `\n` like helm-diff does, so an absent
/// side (`""`) is one empty line and a text ending in a newline ends with an empty line; within a
/// replaced block removed lines come before added ones.
pub(super) fn diff(old: &str, new: &str) -> Vec<Line> {
    let old: Vec<&str> = old.split('\n').collect();
    let new: Vec<&str> = new.split('\n').collect();
    capture_diff_slices(Algorithm::Myers, &old, &new)
        .iter()
        .flat_map(|op| op.iter_changes(&old, &new))
        .map(|change| Line {
            tag: change.tag(),
            text: change.value().to_string(),
        })
        .collect()
}

/// Which lines to show with `context` unchanged lines around each change: `false` marks a line
/// helm-diff replaces by `...` (one `...` per run).
pub(super) fn visible(lines: &[Line], context: usize) -> Vec<bool> {
    let changed: Vec<bool> = lines.iter().map(|l| l.tag != ChangeTag::Equal).collect();
    let mut distance = vec![usize::MAX; lines.len()];
    let mut last = None;
    for (i, &c) in changed.iter().enumerate() {
        if c {
            last = Some(i);
        }
        if let Some(at) = last {
            distance[i] = i - at;
        }
    }
    last = None;
    for (i, &c) in changed.iter().enumerate().rev() {
        if c {
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

    #[test]
    fn absent_side_is_one_empty_line() {
        let lines = diff("", "a\nb\n");
        let tags: Vec<ChangeTag> = lines.iter().map(|l| l.tag).collect();
        assert_eq!(
            tags,
            [ChangeTag::Insert, ChangeTag::Insert, ChangeTag::Equal]
        );
    }

    #[test]
    fn unchanged_text_has_nothing_visible_at_zero_context() {
        let lines = diff("a\nb", "a\nb");
        assert_eq!(visible(&lines, 0), [false, false]);
    }
}
