//! Work a patch may make: a JSON patch `copy` can double an object with each op (26 ops of a
//! 1.2 KB file pass 3 GB) or nest it deeper than any stack (9 copies into its own leaf: depth
//! 51,200). Every value a patch inserts is measured first, iteratively, against these limits.

use serde_json::Value;

/// The largest object a patch may produce, as estimated memory (64 MiB; the largest CRDs users
/// install take a few MB of YAML).
pub const MAX_PATCHED_BYTES: usize = 64 * 1024 * 1024;
/// The deepest nesting a patch may produce (objects from YAML are at most 256 deep).
pub const MAX_PATCHED_DEPTH: usize = 512;

/// What one node costs in memory besides its text: a `Value`, its slot in a list or map.
const NODE_BYTES: usize = 64;
/// What one mapping key costs besides its text: its `String` and its map entry.
const KEY_BYTES: usize = 48;

/// How much a value holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    /// An estimate of the memory it takes: scalar and key bytes plus a cost per node and key.
    pub bytes: usize,
    /// Levels of nesting (a scalar is 0).
    pub depth: usize,
}

/// Measures `value` without recursion, stopping early once it is past the limits.
pub fn measure(value: &Value) -> Measure {
    let mut out = Measure::default();
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((v, depth)) = stack.pop() {
        out.depth = out.depth.max(depth);
        out.bytes = out.bytes.saturating_add(NODE_BYTES);
        match v {
            Value::String(s) => out.bytes = out.bytes.saturating_add(s.len()),
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Object(map) => {
                for (k, item) in map {
                    out.bytes = out.bytes.saturating_add(KEY_BYTES + k.len());
                    stack.push((item, depth + 1));
                }
            }
            _ => {}
        }
        if out.bytes > MAX_PATCHED_BYTES || out.depth > MAX_PATCHED_DEPTH {
            break;
        }
    }
    out
}

/// Checks that inserting a value measured `inserted` at `path` (a JSON pointer) into an object of
/// `total` bytes stays within the limits; says which limit it would pass.
pub fn check_insert(total: usize, inserted: Measure, path: &str) -> Result<(), String> {
    let at_depth = path.matches('/').count();
    if at_depth + inserted.depth > MAX_PATCHED_DEPTH {
        return Err(format!(
            "the result would nest deeper than {MAX_PATCHED_DEPTH} levels"
        ));
    }
    if total.saturating_add(inserted.bytes) > MAX_PATCHED_BYTES {
        return Err(format!(
            "the result would exceed {} MiB",
            MAX_PATCHED_BYTES / 1024 / 1024
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn measures_without_recursion() {
        assert_eq!(
            measure(&json!({"a": "xy", "b": [1, {"c": null}]})),
            Measure {
                bytes: 6 * NODE_BYTES + 3 * KEY_BYTES + 3 + 2,
                depth: 3
            }
        );
        let mut deep = json!(0);
        for _ in 0..100_000 {
            deep = Value::Array(vec![deep]);
        }
        let m = measure(&deep);
        assert!(m.depth > MAX_PATCHED_DEPTH);
        // `Value`'s own drop recurses: take it apart iteratively.
        let mut v = deep;
        while let Value::Array(mut items) = v {
            v = items.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn inserts_are_checked_against_both_limits() {
        let small = Measure {
            bytes: 10,
            depth: 2,
        };
        assert!(check_insert(100, small, "/data/a").is_ok());
        let deep = Measure {
            bytes: 10,
            depth: MAX_PATCHED_DEPTH,
        };
        assert!(
            check_insert(100, deep, "/a/b")
                .unwrap_err()
                .contains("deeper")
        );
        assert!(
            check_insert(MAX_PATCHED_BYTES, small, "/a")
                .unwrap_err()
                .contains("MiB")
        );
    }
}
