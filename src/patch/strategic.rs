//! Strategic merge patch with the exact semantics of k8s.io/apimachinery `strategicpatch`
//! (`kubectl patch --type strategic`, the API server), apply direction only.
//!
//! One deliberate deviation: apimachinery fails with `unable to find api field` when a
//! field unknown to a Go struct holds a map (or list) on both sides. helm-x must patch
//! CRDs and fields newer than its table, so unknown fields fall back to "maps merge,
//! lists replace" instead. (apimachinery has no SMP for custom resources at all; with a
//! registered CRD its patch-merge-key, else first list-map key, is used as the one key.)
//!
//! Everything else follows `k8s.io/apimachinery/pkg/util/strategicpatch` apply semantics,
//! including Go's type-sensitive `==` on keys, the interleaving order of
//! `normalizeElementOrder`, and the slice-aliasing effect on `$setElementOrder` ordering.
//! Where Go's random map iteration makes kubectl itself nondeterministic (a list and its
//! `$deleteFromPrimitiveList` in one patch), deletions are applied last.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::kustomize_smp;
use super::schema::TypeSchema;
use super::smp_common::{
    AtPath, DELETE_FROM_PRIMITIVE_LIST, DIRECTIVE, GoType, Key, MAX_DEPTH, RETAIN_KEYS,
    SET_ELEMENT_ORDER, SmpError, SmpMode, go_fmt, go_fmt_map, go_type, go_type_name, item_desc,
};

type JsonMap = Map<String, Value>;

/// Applies one strategic merge patch document to one object.
///
/// A top-level `$patch: delete` is the caller's business (see
/// [`is_delete_patch`](super::smp_common::is_delete_patch)); if it reaches this function,
/// apimachinery mode returns `{}` (as the API machinery does) and kustomize mode `null`.
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    schema: TypeSchema<'_>,
    mode: SmpMode,
) -> Result<Value, SmpError> {
    strategic_merge_owned(original.clone(), patch, schema, mode)
}

/// Like [`strategic_merge`] but consumes the original, saving a deep copy per application.
pub fn strategic_merge_owned(
    original: Value,
    patch: &Value,
    schema: TypeSchema<'_>,
    mode: SmpMode,
) -> Result<Value, SmpError> {
    match mode {
        SmpMode::Apimachinery => apply(original, patch, schema),
        SmpMode::Kustomize => kustomize_smp::apply(original, patch, schema),
    }
}

fn apply(original: Value, patch: &Value, schema: TypeSchema<'_>) -> Result<Value, SmpError> {
    let original = match original {
        Value::Object(m) => m,
        Value::Null => JsonMap::new(),
        _ => return Err(SmpError::new("invalid JSON document")),
    };
    match patch {
        Value::Object(p) => merge_map(original, p, schema, 0).map(Value::Object),
        Value::Null => Ok(Value::Object(original)),
        _ => Err(SmpError::new("invalid JSON document")),
    }
}

fn bad_arg_type(expected: &str, actual: &Value) -> SmpError {
    SmpError::new(format!(
        "expected a {expected}, but received a {}",
        go_type_name(actual)
    ))
}

fn no_merge_key(m: &JsonMap, key: &str) -> SmpError {
    SmpError::quoting(|q| {
        format!(
            "map: {} does not contain declared merge key: {key}",
            go_fmt_map(q, m)
        )
    })
}

fn bad_patch_type(directive: &Value, m: &JsonMap) -> SmpError {
    SmpError::quoting(|q| {
        let shown = match directive {
            Value::String(s) => q.value(|| s.clone()),
            other => format!("%!s({}={})", go_type_name(other), go_fmt(q, other)),
        };
        format!("unknown patch type: {shown} in map: {}", go_fmt_map(q, m))
    })
}

/// `$deleteFromPrimitiveList/<f>` → `f` (apimachinery `extractKey`).
fn extract_key<'k>(key: &'k str, prefix: &str) -> Result<&'k str, SmpError> {
    match key.split_once('/') {
        Some((head, rest)) if head == prefix => Ok(rest),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST => {
            Err(SmpError::new("invalid patch format of primitive list"))
        }
        _ => Err(SmpError::new(
            "invalid patch format of setElementOrder list",
        )),
    }
}

/// Copies a value that is added wholesale, applying `discardNullValuesFromPatch` (when
/// `discard_nulls`) and `removeDirectives`; None when the value itself is a directive map.
pub(crate) fn clean_added(v: &Value, discard_nulls: bool) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.get(DIRECTIVE)
                .is_some_and(|d| !(discard_nulls && d.is_null()))
            {
                return None;
            }
            let mut out = JsonMap::with_capacity(m.len());
            for (k, x) in m {
                if discard_nulls && x.is_null() {
                    continue;
                }
                if let Some(c) = clean_added(x, discard_nulls) {
                    out.insert(k.clone(), c);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(a) => Some(Value::Array(
            a.iter()
                .filter_map(|x| clean_added(x, discard_nulls))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

fn merge_map(
    mut original: JsonMap,
    patch: &JsonMap,
    schema: TypeSchema<'_>,
    depth: usize,
) -> Result<JsonMap, SmpError> {
    if depth > MAX_DEPTH {
        return Err(SmpError::new("patch nests too deeply"));
    }
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                let mut replaced = patch.clone();
                replaced.shift_remove(DIRECTIVE);
                Ok(replaced)
            }
            Some("delete") => Ok(JsonMap::new()),
            _ => Err(bad_patch_type(directive, patch)),
        };
    }

    if let Some(retain) = patch.get(RETAIN_KEYS) {
        apply_retain_keys(&mut original, patch, retain)?;
    }

    let ordered = merge_set_element_order(&mut original, patch, schema, depth)?;

    // Go visits keys in random map order; only a list and its own deletion list can
    // observe the order, and kubectl's result then varies between runs. Deletion lists go
    // last here, so a value both added and deleted ends up deleted, deterministically.
    let (deletions, fields): (Vec<_>, Vec<_>) = patch
        .iter()
        .filter(|(key, _)| {
            *key != RETAIN_KEYS
                && !key.starts_with(SET_ELEMENT_ORDER)
                && !ordered.contains(&key.as_str())
        })
        .partition(|(key, _)| key.starts_with(DELETE_FROM_PRIMITIVE_LIST));
    for (key, patch_value) in fields {
        merge_field(&mut original, key, patch_value, false, schema, depth).at_field(key)?;
    }
    for (key, patch_value) in deletions {
        let key = extract_key(key, DELETE_FROM_PRIMITIVE_LIST)?;
        merge_field(&mut original, key, patch_value, true, schema, depth).at_field(key)?;
    }
    Ok(original)
}

fn merge_field(
    original: &mut JsonMap,
    key: &str,
    patch_value: &Value,
    delete_list: bool,
    schema: TypeSchema<'_>,
    depth: usize,
) -> Result<(), SmpError> {
    if patch_value.is_null() {
        original.shift_remove(key);
        return Ok(());
    }
    let Some(current) = original.get_mut(key) else {
        if !delete_list && let Some(v) = clean_added(patch_value, true) {
            original.insert(key.to_owned(), v);
        }
        return Ok(());
    };
    if go_type(current) != go_type(patch_value) {
        if !delete_list {
            match clean_added(patch_value, true) {
                Some(v) => *current = v,
                None => {
                    original.shift_remove(key);
                }
            }
        }
        return Ok(());
    }
    match (current, patch_value) {
        (Value::Object(cur), Value::Object(p)) => {
            let field = schema.field(key);
            if field.replaces_map() {
                *cur = p.clone();
            } else {
                *cur = merge_map(std::mem::take(cur), p, field, depth + 1)?;
            }
        }
        (Value::Array(cur), Value::Array(p)) => {
            let field = schema.field(key);
            match field.apimachinery_list() {
                Some(merge_key) => {
                    let merge_key = merge_key.unwrap_or("");
                    *cur = merge_slice(
                        std::mem::take(cur),
                        p,
                        merge_key,
                        field.items(),
                        delete_list,
                        depth,
                    )?;
                }
                None if delete_list => {
                    *cur = merge_slice(std::mem::take(cur), p, "", field.items(), true, depth)?;
                }
                None => *cur = p.clone(),
            }
        }
        (cur, p) => *cur = p.clone(),
    }
    Ok(())
}

fn apply_retain_keys(
    original: &mut JsonMap,
    patch: &JsonMap,
    retain: &Value,
) -> Result<(), SmpError> {
    let bad = || SmpError::new("invalid patch format of retainKeys");
    let list = retain.as_array().ok_or_else(bad)?;
    let allowed: HashSet<&str> = list.iter().filter_map(Value::as_str).collect();
    for (k, v) in patch {
        if k == RETAIN_KEYS
            || v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !allowed.contains(k.as_str()) {
            return Err(bad());
        }
    }
    original.retain(|k, _| allowed.contains(k.as_str()));
    Ok(())
}

/// `mergePatchIntoOriginal`: merges and orders every list named by a `$setElementOrder/<f>`
/// directive. Returns the list fields it consumed from the patch.
fn merge_set_element_order<'p>(
    original: &mut JsonMap,
    patch: &'p JsonMap,
    schema: TypeSchema<'_>,
    depth: usize,
) -> Result<Vec<&'p str>, SmpError> {
    let mut consumed = Vec::new();
    for (directive_key, order_value) in patch {
        if !directive_key.starts_with(SET_ELEMENT_ORDER) {
            continue;
        }
        let order = order_value
            .as_array()
            .ok_or_else(|| bad_arg_type("[]interface {}", order_value))?;
        let field_name = match directive_key.split_once('/') {
            Some((head, rest)) if head == SET_ELEMENT_ORDER => rest,
            _ => {
                return Err(SmpError::new(
                    "invalid patch format of setElementOrder list",
                ));
            }
        };
        ordered_list_field(original, patch, field_name, order, schema, depth)
            .at_field(field_name)?;
        if patch.contains_key(field_name) {
            consumed.push(field_name);
        }
    }
    Ok(consumed)
}

fn ordered_list_field(
    original: &mut JsonMap,
    patch: &JsonMap,
    field_name: &str,
    order: &[Value],
    schema: TypeSchema<'_>,
    depth: usize,
) -> Result<(), SmpError> {
    let original_list = match original.get(field_name) {
        Some(Value::Array(a)) => Some(a),
        Some(other) => return Err(bad_arg_type("[]interface {}", other)),
        None => None,
    };
    let patch_list = match patch.get(field_name) {
        Some(Value::Array(a)) => Some(a),
        Some(other) => return Err(bad_arg_type("[]interface {}", other)),
        None => None,
    };
    if original_list.is_none() && patch_list.is_none() {
        return Ok(());
    }
    let field = schema.field(field_name);
    let strategy = field.apimachinery_list();
    let merge_key = strategy.flatten().unwrap_or("");
    validate_patch_with_order(patch_list.map_or(&[], Vec::as_slice), order, merge_key)?;

    let element_type = slice_element_type(&[
        original_list.map_or(&[], Vec::as_slice),
        patch_list.map_or(&[], Vec::as_slice),
    ]);
    let maps = matches!(element_type, Ok(GoType::Map));
    let server = original_list.map(|o| {
        let mut keys = OrderKeys::new(o, merge_key, maps);
        if let (Some(p), Some(_), true) = (patch_list, strategy, maps) {
            keys.index = aliased_server_order(o, p, merge_key);
        }
        keys
    });

    let merged = match (original.get_mut(field_name), patch_list) {
        (Some(Value::Array(o)), None) => std::mem::take(o),
        (Some(Value::Array(o)), Some(p)) => {
            let o = std::mem::take(o);
            if strategy.is_some() {
                merge_slice(o, p, merge_key, field.items(), false, depth)?
            } else {
                p.clone()
            }
        }
        (_, Some(p)) => p.iter().filter_map(|x| clean_added(x, false)).collect(),
        _ => Vec::new(),
    };
    let is_map = element_type? == GoType::Map;
    let server = server.unwrap_or_else(|| OrderKeys::new(&[], merge_key, is_map));
    let (patch_items, server_only) = partition(merged, order, merge_key)?;
    let order_keys = OrderKeys::new(order, merge_key, is_map);
    let ordered = normalize_element_order(
        patch_items,
        server_only,
        &order_keys,
        &server,
        merge_key,
        is_map,
    )?;
    original.insert(field_name.to_owned(), Value::Array(ordered));
    Ok(())
}

/// The "server order" Go's `mergePatchIntoOriginal` really uses after merging a map list.
///
/// Go deletes `$patch: delete` matches by shifting the live slice in place and appends new
/// patch items into the freed capacity, so the caller's original slice header (length n)
/// sees `[kept…, first appended…, stale…]`. Two upstream test vectors depend on this.
fn aliased_server_order(
    original: &[Value],
    patch: &[Value],
    merge_key: &str,
) -> HashMap<Key, usize> {
    let n = original.len();
    let mut backing: Vec<Key> = original.iter().map(|v| order_key(v, merge_key)).collect();
    let mut len = n;
    let directive = |v: &Value| v.get(DIRECTIVE).and_then(Value::as_str).map(str::to_owned);
    for p in patch {
        if directive(p).as_deref() != Some("delete") {
            continue;
        }
        let Some(value) = p.get(merge_key) else {
            continue;
        };
        let key = Key::of(value);
        while let Some(i) = backing[..len].iter().position(|k| *k == key) {
            // Go's append(s[:i], s[i+1:]...): shift left, the old last element stays behind.
            for j in i..len - 1 {
                backing[j] = backing[j + 1].clone();
            }
            len -= 1;
        }
    }
    if !patch
        .iter()
        .any(|p| directive(p).as_deref() == Some("replace"))
    {
        let mut present: HashSet<Key> = backing[..len].iter().cloned().collect();
        for p in patch.iter().filter(|p| directive(p).is_none()) {
            let key = order_key(p, merge_key);
            if present.insert(key.clone()) {
                if len < n {
                    backing[len] = key;
                }
                len += 1;
            }
        }
    }
    let mut index = HashMap::with_capacity(n);
    for (i, k) in backing.into_iter().enumerate() {
        index.entry(k).or_insert(i);
    }
    index
}

/// `validatePatchWithSetOrderList`: patch items must appear in the order list, in order.
fn validate_patch_with_order(
    patch: &[Value],
    order: &[Value],
    merge_key: &str,
) -> Result<(), SmpError> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> = if merge_key.is_empty() {
        patch.iter().collect()
    } else {
        let mut kept = Vec::with_capacity(patch.len());
        for v in patch {
            let m = v
                .as_object()
                .ok_or_else(|| bad_arg_type("map[string]interface {}", v))?;
            if m.get(DIRECTIVE).and_then(Value::as_str) != Some("delete") {
                kept.push(v);
            }
        }
        kept
    };
    let (mut pi, mut si) = (0, 0);
    while pi < non_delete.len() && si < order.len() {
        if non_delete[pi].get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(non_delete[pi], &order[si], merge_key)? {
            pi += 1;
        }
        si += 1;
    }
    if pi < non_delete.len() && si >= order.len() {
        return Err(SmpError::quoting(|q| {
            format!(
                "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
                go_fmt(q, &Value::Array(patch.to_vec())),
                go_fmt(q, &Value::Array(order.to_vec()))
            )
        }));
    }
    Ok(())
}

fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool, SmpError> {
    if merge_key.is_empty() {
        return Ok(Key::of(left) == Key::of(right));
    }
    let l = left
        .as_object()
        .ok_or_else(|| bad_arg_type("map[string]interface {}", left))?;
    let r = right
        .as_object()
        .ok_or_else(|| bad_arg_type("map[string]interface {}", right))?;
    let lv = l.get(merge_key).ok_or_else(|| no_merge_key(l, merge_key))?;
    let rv = r.get(merge_key).ok_or_else(|| no_merge_key(r, merge_key))?;
    Ok(Key::of(lv) == Key::of(rv))
}

/// `sliceElementType`: all elements must share one Go type, and not be lists.
fn slice_element_type(lists: &[&[Value]]) -> Result<GoType, SmpError> {
    let mut seen: Option<GoType> = None;
    for v in lists.iter().flat_map(|l| l.iter()) {
        let t = go_type(v);
        match seen {
            None if t == GoType::Slice => {
                return Err(SmpError::new("lists of lists are not supported"));
            }
            None => seen = Some(t),
            Some(prev) if prev != t => {
                let all = Value::Array(lists.iter().map(|l| Value::Array(l.to_vec())).collect());
                return Err(SmpError::quoting(|q| {
                    format!("list element types are not identical: {}", go_fmt(q, &all))
                }));
            }
            Some(_) => {}
        }
    }
    seen.ok_or_else(|| SmpError::new("no elements in any of the given slices"))
}

/// Ordering identity of a list element: its merge-key value (maps) or itself (scalars).
fn order_key(v: &Value, merge_key: &str) -> Key {
    if merge_key.is_empty() {
        Key::of(v)
    } else {
        v.get(merge_key).map_or(Key::Null, Key::of)
    }
}

/// A list element with its ordering identity, computed once.
type Keyed = (Key, Value);

/// Position of every element of a reference order, plus the error apimachinery raises when
/// a reference element of a map list lacks the merge key (`validateMergeKeyInLists`).
struct OrderKeys {
    index: HashMap<Key, usize>,
    invalid: Option<SmpError>,
}

impl OrderKeys {
    fn new<'v>(list: impl IntoIterator<Item = &'v Value>, merge_key: &str, is_map: bool) -> Self {
        let mut index = HashMap::new();
        let mut invalid = None;
        for (i, v) in list.into_iter().enumerate() {
            if is_map && invalid.is_none() {
                invalid = match v.as_object() {
                    None => Some(bad_arg_type("map[string]interface {}", v)),
                    Some(m) if !m.contains_key(merge_key) => Some(no_merge_key(m, merge_key)),
                    Some(_) => None,
                };
            }
            index.entry(order_key(v, merge_key)).or_insert(i);
        }
        Self { index, invalid }
    }

    fn position(&self, key: &Key) -> Option<usize> {
        self.index.get(key).copied()
    }
}

/// `partition*ByPresentInList`: elements named by `by` (in any order) vs the rest.
fn partition<'v>(
    merged: Vec<Value>,
    by: impl IntoIterator<Item = &'v Value>,
    merge_key: &str,
) -> Result<(Vec<Keyed>, Vec<Keyed>), SmpError> {
    let mut present = HashSet::new();
    for v in by {
        if merge_key.is_empty() {
            present.insert(Key::of(v));
        } else {
            let m = v
                .as_object()
                .ok_or_else(|| SmpError::new("value for key 0 is not a map."))?;
            if let Some(k) = m.get(merge_key) {
                present.insert(Key::of(k));
            }
        }
    }
    let mut patch_items = Vec::new();
    let mut server_only = Vec::new();
    for v in merged {
        let key = if merge_key.is_empty() {
            Key::of(&v)
        } else {
            let m = v
                .as_object()
                .ok_or_else(|| bad_arg_type("map[string]interface {}", &v))?;
            Key::of(m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?)
        };
        if present.contains(&key) {
            patch_items.push((key, v));
        } else {
            server_only.push((key, v));
        }
    }
    Ok((patch_items, server_only))
}

/// `normalizeElementOrder` + `mergeSortedSlice` (strategic-merge-patch.md §2.4).
fn normalize_element_order(
    patch_items: Vec<Keyed>,
    server_only: Vec<Keyed>,
    patch_order: &OrderKeys,
    server: &OrderKeys,
    merge_key: &str,
    is_map: bool,
) -> Result<Vec<Value>, SmpError> {
    let patch_items = sort_by_order(patch_items, patch_order, merge_key, is_map)?;
    let server_only = sort_by_order(server_only, server, merge_key, is_map)?;

    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = patch_items.into_iter().peekable();
    loop {
        match (left.peek(), right.peek()) {
            (Some((lk, _)), Some((rk, _))) => {
                let take_left = matches!(
                    (server.position(lk), server.position(rk)),
                    (Some(li), Some(ri)) if li < ri
                );
                let next = if take_left { left.next() } else { right.next() };
                out.extend(next.map(|(_, v)| v));
            }
            (Some(_), None) => out.extend(left.by_ref().map(|(_, v)| v)),
            (None, Some(_)) => out.extend(right.by_ref().map(|(_, v)| v)),
            (None, None) => break,
        }
    }
    Ok(out)
}

/// `normalizeSliceOrder`: stable sort by position in `order`; `$patch: delete` items last.
fn sort_by_order(
    items: Vec<Keyed>,
    order: &OrderKeys,
    merge_key: &str,
    is_map: bool,
) -> Result<Vec<Keyed>, SmpError> {
    if is_map {
        for (_, v) in &items {
            let m = v
                .as_object()
                .ok_or_else(|| bad_arg_type("map[string]interface {}", v))?;
            if !m.contains_key(merge_key) {
                return Err(no_merge_key(m, merge_key));
            }
        }
        if let Some(e) = &order.invalid {
            return Err(e.clone());
        }
    }
    let (mut keep, deletes): (Vec<Keyed>, Vec<Keyed>) = items.into_iter().partition(|(_, v)| {
        !(is_map && v.get(DIRECTIVE).and_then(Value::as_str) == Some("delete"))
    });
    keep.sort_by_key(|(k, _)| order.position(k).unwrap_or(usize::MAX));
    keep.extend(deletes);
    Ok(keep)
}

/// `mergeSlice`: merge two lists of a `merge`-strategy field (or a deletion list).
fn merge_slice(
    original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    item_schema: TypeSchema<'_>,
    delete_list: bool,
    depth: usize,
) -> Result<Vec<Value>, SmpError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let element_type = slice_element_type(&[&original, patch])?;
    if element_type != GoType::Map {
        if delete_list {
            let doomed: HashSet<Key> = patch.iter().map(Key::of).collect();
            return Ok(original
                .into_iter()
                .filter(|v| !doomed.contains(&Key::of(v)))
                .collect());
        }
        let server = OrderKeys::new(&original, "", false);
        let mut seen = HashSet::with_capacity(original.len() + patch.len());
        let merged: Vec<Value> = original
            .into_iter()
            .chain(patch.iter().cloned())
            .filter(|v| seen.insert(Key::of(v)))
            .collect();
        let (patch_items, server_only) = partition(merged, patch, "")?;
        let patch_order = OrderKeys::new(patch, "", false);
        return normalize_element_order(patch_items, server_only, &patch_order, &server, "", false);
    }
    if merge_key.is_empty() {
        return Err(SmpError::new(
            "cannot merge lists without merge key for this field",
        ));
    }
    let (original, plain) = apply_special_elements(original, patch, merge_key)?;
    let server = OrderKeys::new(&original, merge_key, true);
    let merged = merge_by_key(original, &plain, merge_key, item_schema, depth)?;
    let (patch_items, server_only) = partition(merged, plain.iter().copied(), merge_key)?;
    let patch_order = OrderKeys::new(plain.iter().copied(), merge_key, true);
    normalize_element_order(
        patch_items,
        server_only,
        &patch_order,
        &server,
        merge_key,
        true,
    )
}

/// `mergeSliceWithSpecialElements`: applies `{$patch: delete|replace}` elements and returns
/// the remaining original and the patch elements without directives.
fn apply_special_elements<'p>(
    original: Vec<Value>,
    patch: &'p [Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<&'p Value>), SmpError> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut deleted: HashSet<Key> = HashSet::new();
    let mut replace = false;
    for v in patch {
        let Some(m) = v.as_object() else { continue };
        let Some(directive) = m.get(DIRECTIVE) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let value = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
                deleted.insert(Key::of(value));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err(SmpError::new(
                    "merging lists cannot yet be specified in the patch",
                ));
            }
            _ => return Err(bad_patch_type(directive, m)),
        }
    }
    if replace {
        return Ok((plain.into_iter().cloned().collect(), Vec::new()));
    }
    let original = if deleted.is_empty() {
        original
    } else {
        original
            .into_iter()
            .filter(|v| {
                !v.get(merge_key)
                    .is_some_and(|k| deleted.contains(&Key::of(k)))
            })
            .collect()
    };
    Ok((original, plain))
}

/// `mergeSliceWithoutSpecialElements`: merge matching elements, append new ones raw.
fn merge_by_key(
    mut original: Vec<Value>,
    patch: &[&Value],
    merge_key: &str,
    item_schema: TypeSchema<'_>,
    depth: usize,
) -> Result<Vec<Value>, SmpError> {
    let mut index: HashMap<Key, usize> = HashMap::with_capacity(original.len() + patch.len());
    for (i, v) in original.iter().enumerate() {
        if let Some(k) = v.get(merge_key) {
            index.entry(Key::of(k)).or_insert(i);
        }
    }
    for v in patch {
        let Some(m) = v.as_object() else { continue };
        let value = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
        let key = Key::of(value);
        match index.get(&key) {
            Some(&i) => {
                if let Value::Object(target) = &mut original[i] {
                    *target = merge_map(std::mem::take(target), m, item_schema, depth + 1)
                        .at_item(|q| item_desc(q, merge_key, value))?;
                }
            }
            None => {
                index.insert(key, original.len());
                original.push((*v).clone());
            }
        }
    }
    Ok(original)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::schema::SchemaRegistry;
    use serde_json::json;

    fn deployment(containers: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": containers}}}})
    }

    fn apply_to(original: &Value, patch: &Value) -> Result<Value, SmpError> {
        let reg = SchemaRegistry::builtin();
        let schema = reg.lookup("apps/v1", "Deployment");
        strategic_merge(original, patch, schema, SmpMode::Apimachinery)
    }

    fn names(v: &Value) -> Vec<String> {
        v["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| c["name"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn ordering_table() {
        let original = deployment(json!([{"name": "app"}, {"name": "sidecar"}]));
        let cases: [(&[&str], &[&str]); 5] = [
            (&["extra"], &["extra", "app", "sidecar"]),
            (&["app", "extra"], &["app", "extra", "sidecar"]),
            (&["extra", "sidecar"], &["extra", "app", "sidecar"]),
            (&["sidecar", "app"], &["sidecar", "app"]),
            (&["sidecar"], &["app", "sidecar"]),
        ];
        for (patch_names, want) in cases {
            let list: Vec<Value> = patch_names
                .iter()
                .map(|n| json!({"name": n, "image": "x"}))
                .collect();
            let got = apply_to(&original, &deployment(Value::Array(list))).expect("merge");
            assert_eq!(names(&got), want, "patch {patch_names:?}");
        }
    }

    #[test]
    fn finalizers_union_order() {
        let original = json!({"metadata": {"finalizers": ["f1", "f2"]}});
        let got = apply_to(
            &original,
            &json!({"metadata": {"finalizers": ["f3", "f1"]}}),
        )
        .expect("merge");
        assert_eq!(got["metadata"]["finalizers"], json!(["f3", "f1", "f2"]));
    }

    #[test]
    fn deletion_lists_apply_last() {
        let original = json!({"metadata": {"finalizers": ["f1"]}, "spec": {"template": {"spec": {
            "containers": [{"name": "app", "args": ["--a", "--b"]}]}}}});
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["f2"],
                                        "finalizers": ["f2", "f3"]},
                           "spec": {"template": {"spec": {"containers": [
                               {"name": "app", "$deleteFromPrimitiveList/args": ["--a"]}]}}}});
        let got = apply_to(&original, &patch).expect("merge");
        assert_eq!(got["metadata"]["finalizers"], json!(["f3", "f1"]));
        assert_eq!(
            got["spec"]["template"]["spec"]["containers"][0]["args"],
            json!(["--b"])
        );
        let bad = json!({"metadata": {"$deleteFromPrimitiveListfinalizers": ["x"]}});
        let err = apply_to(&original, &bad).expect_err("malformed directive");
        assert_eq!(err.message(), "invalid patch format of primitive list");
    }

    #[test]
    fn set_element_order_keeps_unlisted_items_in_place() {
        let original = deployment(json!([{"name": "app", "env": [
            {"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]}]));
        let patch = deployment(json!([{"name": "app",
            "$setElementOrder/env": [{"name": "C"}, {"name": "A"}],
            "env": [{"name": "A", "value": "9"}]}]));
        let got = apply_to(&original, &patch).expect("merge");
        let env = &got["spec"]["template"]["spec"]["containers"][0]["env"];
        let order: Vec<&str> = env
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["name"].as_str())
            .collect();
        assert_eq!(order, ["B", "C", "A"]);
        assert_eq!(env[2]["value"], "9");
    }

    #[test]
    fn errors_name_the_field_path() {
        let original = deployment(json!([{"name": "app", "ports": [{"containerPort": 80}]}]));
        let patch = deployment(json!([{"name": "app", "ports": [{"name": "http"}]}]));
        let err = apply_to(&original, &patch).expect_err("missing merge key");
        assert_eq!(err.path(), "spec.template.spec.containers[name=app].ports");
        assert!(
            err.message().starts_with(
                "map: map[name:http] does not contain declared merge key: containerPort"
            )
        );
    }

    #[test]
    fn quoted_values_have_a_redacted_form() {
        use crate::patch::redact::Redact;
        let original = deployment(json!([{"name": "app", "ports": [{"containerPort": 80}]}]));
        let patch = deployment(json!([{"name": "app", "ports": [{"name": "s3cr3t"}]}]));
        let err = apply_to(&original, &patch).expect_err("missing merge key");
        assert!(
            err.to_string()
                .contains("[name=app].ports: map: map[name:s3cr3t]")
        );
        assert_eq!(
            err.redacted().as_deref(),
            Some(
                "spec.template.spec.containers[name=<hidden>].ports: map: <hidden> does not \
                 contain declared merge key: containerPort"
            )
        );
        let mixed = json!({"metadata": {"finalizers": ["s3cr3t", 1]}});
        let with_finalizer = json!({"metadata": {"finalizers": ["f"]}});
        let err = apply_to(&with_finalizer, &mixed).expect_err("mixed types");
        assert_eq!(
            err.to_string(),
            "metadata.finalizers: list element types are not identical: [[f] [s3cr3t 1]]"
        );
        assert_eq!(
            err.redacted().as_deref(),
            Some("metadata.finalizers: list element types are not identical: <hidden>")
        );
        let bad = json!({"spec": {"$patch": 7, "replicas": 1}});
        let err = apply_to(&original, &bad).expect_err("bad directive");
        assert_eq!(
            err.to_string(),
            "spec: unknown patch type: %!s(int64=7) in map: map[$patch:7 replicas:1]"
        );
        assert_eq!(
            err.redacted().as_deref(),
            Some("spec: unknown patch type: %!s(int64=<hidden>) in map: <hidden>")
        );
        let plain = json!({"spec": {"$retainKeys": ["replicas"], "paused": true}});
        let err = apply_to(&original, &plain).expect_err("retainKeys");
        assert_eq!(err.redacted(), None, "nothing to withhold");
    }

    #[test]
    fn directive_errors() {
        let original = deployment(json!([{"name": "app"}]));
        let merge_list = deployment(json!([{"$patch": "merge"}]));
        let err = apply_to(&original, &merge_list).expect_err("merge directive in list");
        assert!(
            err.message()
                .contains("merging lists cannot yet be specified in the patch")
        );
        let merge_map = json!({"spec": {"$patch": "merge"}});
        let err = apply_to(&original, &merge_map).expect_err("merge directive in map");
        assert!(
            err.to_string()
                .starts_with("spec: unknown patch type: merge in map:")
        );
        let bad_retain = json!({"spec": {"$retainKeys": ["replicas"], "paused": true}});
        let err = apply_to(&original, &bad_retain).expect_err("retainKeys");
        assert_eq!(err.message(), "invalid patch format of retainKeys");
    }

    #[test]
    fn keys_are_type_sensitive() {
        let original =
            deployment(json!([{"name": "app", "ports": [{"containerPort": 80, "name": "http"}]}]));
        let patch =
            deployment(json!([{"name": "app", "ports": [{"containerPort": "80", "name": "str"}]}]));
        let got = apply_to(&original, &patch).expect("merge");
        let ports = &got["spec"]["template"]["spec"]["containers"][0]["ports"];
        assert_eq!(ports.as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn added_subtrees_are_cleaned_but_appended_items_are_raw() {
        let original = deployment(json!([{"name": "app"}]));
        let patch = json!({"spec": {"template": {"spec": {
            "nodeSelector": {"$patch": "replace", "x": "y"},
            "affinity": {"nodeAffinity": null, "podAffinity": {"x": 1}},
            "containers": [{"name": "new", "env": [{"name": "E", "value": null}]}]}}}});
        let got = apply_to(&original, &patch).expect("merge");
        let spec = &got["spec"]["template"]["spec"];
        assert!(spec.get("nodeSelector").is_none());
        assert_eq!(spec["affinity"], json!({"podAffinity": {"x": 1}}));
        assert_eq!(
            spec["containers"][0]["env"],
            json!([{"name": "E", "value": null}])
        );
    }

    #[test]
    fn unknown_fields_merge_maps_and_replace_lists() {
        let original = json!({"spec": {"custom": {"a": 1, "list": [{"name": "x"}]}}});
        let patch = json!({"spec": {"custom": {"b": 2, "list": [{"name": "y"}]}}});
        let got = strategic_merge(
            &original,
            &patch,
            TypeSchema::unknown(),
            SmpMode::Apimachinery,
        )
        .expect("unknown fields never error");
        assert_eq!(
            got,
            json!({"spec": {"custom": {"a": 1, "b": 2, "list": [{"name": "y"}]}}})
        );
    }

    #[test]
    fn empty_patch_list_is_a_noop_on_merge_lists() {
        let original = deployment(json!([{"name": "app"}]));
        let got = apply_to(&original, &deployment(json!([]))).expect("merge");
        assert_eq!(names(&got), ["app"]);
    }

    #[test]
    fn numbers_keep_precision() {
        let original =
            json!({"a": 9_223_372_036_854_775_807_i64, "b": 1.797_693_134_862_315_7e308});
        let got = apply_to(&original, &json!({"c": 1})).expect("merge");
        assert_eq!(got["a"].as_i64(), Some(i64::MAX));
        assert_eq!(got["b"].as_f64(), Some(f64::MAX));
    }

    #[test]
    fn top_level_directives() {
        let original = deployment(json!([]));
        assert_eq!(
            apply_to(&original, &json!({"$patch": "delete"})).expect("delete"),
            json!({})
        );
        let replaced =
            apply_to(&original, &json!({"$patch": "replace", "kind": "X"})).expect("replace");
        assert_eq!(replaced, json!({"kind": "X"}));
        assert!(apply_to(&json!([1]), &json!({})).is_err());
    }

    /// Random documents mixing every directive must never panic, in either mode.
    #[test]
    fn arbitrary_input_never_panics() {
        let mut seed = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        fn random_value(next: &mut dyn FnMut() -> u64, depth: u32) -> Value {
            let atoms = [
                json!(null),
                json!(1),
                json!(1.5),
                json!("a"),
                json!("delete"),
                json!(true),
                json!("replace"),
                json!("merge"),
            ];
            let keys = [
                "name",
                "containers",
                "ports",
                "env",
                "$patch",
                "$retainKeys",
                "finalizers",
                "$setElementOrder/containers",
                "$deleteFromPrimitiveList/finalizers",
                "containerPort",
                "protocol",
                "$setElementOrder",
                "spec",
                "template",
                "metadata",
            ];
            match (next() % 4, depth) {
                (_, 0) | (0, _) => atoms[(next() % atoms.len() as u64) as usize].clone(),
                (1, _) => Value::Array(
                    (0..next() % 4)
                        .map(|_| random_value(next, depth - 1))
                        .collect(),
                ),
                _ => {
                    let mut m = JsonMap::new();
                    for _ in 0..next() % 5 {
                        let k = keys[(next() % keys.len() as u64) as usize];
                        m.insert(k.to_owned(), random_value(next, depth - 1));
                    }
                    Value::Object(m)
                }
            }
        }
        let reg = SchemaRegistry::builtin();
        let schema = reg
            .lookup("apps/v1", "Deployment")
            .field("spec")
            .field("template")
            .field("spec");
        for _ in 0..3000 {
            let original = random_value(&mut next, 5);
            let patch = random_value(&mut next, 5);
            for mode in [SmpMode::Apimachinery, SmpMode::Kustomize] {
                let _ = strategic_merge(&original, &patch, schema, mode);
            }
        }
    }
}
