//! Creating patches, the direction `strategic` does not cover: apimachinery's
//! `CreateThreeWayMergePatch` (what `kubectl apply` and helm-diff's three-way mode send for
//! built-in types) and evanphx/json-patch's `CreateMergePatch` (RFC 7386, what helm-diff sends
//! for custom resources).
//!
//! Follows `k8s.io/apimachinery/pkg/util/strategicpatch` with `overwrite = true` (helm-diff's
//! call: no conflict detection), quirks included: merge-list items pair by the `%v` text of their
//! merge key (`80` meets `"80"`), and a primitive merge list whose live copy is not sorted gets a
//! `$setElementOrder` even when unchanged (Go sorts the live list in place before comparing).
//! Deviations:
//! - fields unknown to the schema holding maps or lists diff as "maps merge, lists replace" (as
//!   in `strategic`) where apimachinery fails with `unable to find api field`;
//! - only for input no API server accepts (merge-list items sharing a key, `$patch` keys in a
//!   manifest): the order among items of equal sort text is Go's only up to 12 items (its
//!   insertion-sort threshold), and Go's slice aliasing around `$patch` items is not reproduced.
//!
//! `$retainKeys` positions are not apply metadata, so `schema` does not carry them: they come
//! from the same generated table (`merge,retainKeys` lists) plus Deployment's `spec.strategy`
//! (`retainKeys` alone), looked up by the object's apiVersion and kind.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::redact::Redact;
use super::schema::TypeSchema;
use super::smp_common::{
    AtPath, DELETE_FROM_PRIMITIVE_LIST, DIRECTIVE, GoType, Key, MAX_DEPTH, RETAIN_KEYS,
    SET_ELEMENT_ORDER, SmpError, go_fmt, go_fmt_map, go_type, go_type_name, item_desc,
};
use super::strategic::clean_added;

type JsonMap = Map<String, Value>;

/// The generated table `schema` embeds; here for its kind list and `retainKeys` strategies.
const BUILTIN_TABLE: &str = include_str!("../../data/k8s-merge-keys.txt");

/// Deployment's `spec.strategy` is `retainKeys` without `merge`, so the table omits it.
const DEPLOYMENT_API_VERSIONS: [&str; 4] = [
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "extensions/v1beta1",
];

/// Go's `sort.Sort` insertion-sorts up to this many elements (the order of equal ones is then
/// known exactly).
const GO_INSERTION_SORT_MAX: usize = 12;

/// The strategic merge patch that takes `current` (the live object) to `modified`, deleting what
/// `original` had and `modified` dropped (apimachinery `CreateThreeWayMergePatch`, overwrite).
/// `schema` is the merge metadata of the object's type.
pub fn three_way_merge_patch(
    original: &Value,
    modified: &Value,
    current: &Value,
    schema: TypeSchema<'_>,
) -> Result<Value, SmpError> {
    let api_version = modified.get("apiVersion").and_then(Value::as_str);
    let kind = modified.get("kind").and_then(Value::as_str);
    let retained = match (api_version, kind) {
        (Some(api_version), Some(kind)) => builtins().retain_keys.get(&kind_key(api_version, kind)),
        _ => None,
    };
    let retain = |path: &str| retained.is_some_and(|paths| paths.contains(path));
    create_three_way(original, modified, current, schema, &retain)
}

/// The JSON merge patch (RFC 7386) that takes `original` to `modified`, as evanphx/json-patch's
/// `CreateMergePatch` builds it: changed keys, `null` for removed ones, lists replaced whole.
pub fn json_merge_patch(original: &Value, modified: &Value) -> Value {
    match (original, modified) {
        (Value::Object(o), Value::Object(m)) => Value::Object(merge_patch_diff(o, m, 0)),
        _ => modified.clone(),
    }
}

/// Whether apiVersion/kind is a type of k8s.io/api, which helm-diff patches strategically (helm
/// converts it to its Go type); anything else is patched with a JSON merge patch.
pub fn is_builtin_kind(api_version: &str, kind: &str) -> bool {
    builtins().kinds.contains(&kind_key(api_version, kind))
}

/// An error's text with the values it quotes withheld, for errors about Secrets.
pub(crate) fn value_free(error: &SmpError) -> String {
    error.redacted().unwrap_or_else(|| error.to_string())
}

struct Builtins {
    /// `kind_key` of every built-in type.
    kinds: HashSet<String>,
    /// `kind_key` → paths (`spec.template.spec.volumes[]`, `spec.strategy`) whose maps get a
    /// `$retainKeys` directive.
    retain_keys: HashMap<String, HashSet<String>>,
}

fn kind_key(api_version: &str, kind: &str) -> String {
    format!("{api_version} {kind}")
}

fn builtins() -> &'static Builtins {
    static BUILTINS: OnceLock<Builtins> = OnceLock::new();
    BUILTINS.get_or_init(|| {
        let mut kinds = HashSet::new();
        let mut retain_keys: HashMap<String, HashSet<String>> = HashMap::new();
        let mut current = String::new();
        for line in BUILTIN_TABLE.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            match cols.as_slice() {
                ["K", api_version, kind, _] => {
                    current = kind_key(api_version, kind);
                    kinds.insert(current.clone());
                }
                ["F", path, strategy, ..] if strategy.split(',').any(|s| s == "retainKeys") => {
                    retain_keys
                        .entry(current.clone())
                        .or_default()
                        .insert((*path).to_owned());
                }
                _ => {}
            }
        }
        for api_version in DEPLOYMENT_API_VERSIONS {
            retain_keys
                .entry(kind_key(api_version, "Deployment"))
                .or_default()
                .insert("spec.strategy".to_owned());
        }
        Builtins { kinds, retain_keys }
    })
}

/// [`three_way_merge_patch`] with the `$retainKeys` positions given by `retain` (a map field's
/// path, or a list's path ending in `[]`).
fn create_three_way(
    original: &Value,
    modified: &Value,
    current: &Value,
    schema: TypeSchema<'_>,
    retain: &dyn Fn(&str) -> bool,
) -> Result<Value, SmpError> {
    let (original, modified, current) =
        (document(original)?, document(modified)?, document(current)?);
    let differ = Differ { retain };
    let delta = differ.diff_maps(
        &current,
        &modified,
        schema,
        DiffOptions {
            ignore_deletions: true,
            ..DiffOptions::default()
        },
        "",
        0,
    )?;
    let deletions = differ.diff_maps(
        &original,
        &modified,
        schema,
        DiffOptions {
            ignore_changes: true,
            ..DiffOptions::default()
        },
        "",
        0,
    )?;
    combine_maps(deletions, delta, schema, 0).map(Value::Object)
}

/// Go unmarshals an empty document as `{}`; anything but an object is a bad document.
fn document(v: &Value) -> Result<Cow<'_, JsonMap>, SmpError> {
    match v {
        Value::Object(m) => Ok(Cow::Borrowed(m)),
        Value::Null => Ok(Cow::Owned(JsonMap::new())),
        _ => Err(SmpError::new("invalid JSON document")),
    }
}

/// apimachinery `DiffOptions` (`SetElementOrder` is always on in a three-way patch).
#[derive(Debug, Clone, Copy, Default)]
struct DiffOptions {
    ignore_changes: bool,
    ignore_deletions: bool,
    /// Build a `$retainKeys` directive for the map being diffed.
    retain_keys: bool,
}

/// Go's `%v` text of a scalar, which apimachinery sorts and pairs list items by.
fn go_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn bad_arg_type(expected: &str, actual: &Value) -> SmpError {
    SmpError::new(format!(
        "expected a {expected}, but received a {}",
        go_type_name(actual)
    ))
}

const MAP_TYPE: &str = "map[string]interface {}";
const SLICE_TYPE: &str = "[]interface {}";

fn no_merge_key(m: &JsonMap, key: &str) -> SmpError {
    SmpError::quoting(|q| {
        format!(
            "map: {} does not contain declared merge key: {key}",
            go_fmt_map(q, m)
        )
    })
}

fn too_deep() -> SmpError {
    SmpError::new("patch nests too deeply")
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The map and merge-key value of a merge-list item.
fn keyed<'v>(item: &'v Value, merge_key: &str) -> Result<(&'v JsonMap, &'v Value), SmpError> {
    let m = item
        .as_object()
        .ok_or_else(|| bad_arg_type(MAP_TYPE, item))?;
    let v = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
    Ok((m, v))
}

struct Differ<'r> {
    retain: &'r dyn Fn(&str) -> bool,
}

impl Differ<'_> {
    /// apimachinery `diffMaps`: the patch taking `original` to `modified`, within `options`.
    fn diff_maps(
        &self,
        original: &JsonMap,
        modified: &JsonMap,
        schema: TypeSchema<'_>,
        options: DiffOptions,
        path: &str,
        depth: usize,
    ) -> Result<JsonMap, SmpError> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let mut patch = JsonMap::new();
        for (key, m) in modified {
            if let Some(o) = original.get(key) {
                self.diff_key(key, o, m, &mut patch, schema, options, path, depth)?;
            } else if !options.ignore_changes {
                patch.insert(key.clone(), m.clone());
            }
        }
        finish_diff(original, modified, &mut patch, options);
        Ok(patch)
    }

    /// One key present on both sides, for [`Differ::diff_maps`].
    #[allow(clippy::too_many_arguments)]
    fn diff_key(
        &self,
        key: &str,
        o: &Value,
        m: &Value,
        patch: &mut JsonMap,
        schema: TypeSchema<'_>,
        options: DiffOptions,
        path: &str,
        depth: usize,
    ) -> Result<(), SmpError> {
        if key == DIRECTIVE {
            return diff_directive(o, m, patch);
        }
        match (o, m) {
            (Value::Object(o), Value::Object(m)) => self
                .map_field(key, o, m, patch, schema, options, path, depth)
                .at_field(key),
            (Value::Array(o), Value::Array(m)) => self
                .slice_field(key, o, m, patch, schema, options, path, depth)
                .at_field(key),
            _ => {
                // Go compares types, then values; serde's `!=` tells both apart at once.
                if !options.ignore_changes && o != m {
                    patch.insert(key.to_owned(), m.clone());
                }
                Ok(())
            }
        }
    }

    /// `handleMapDiff`.
    #[allow(clippy::too_many_arguments)]
    fn map_field(
        &self,
        key: &str,
        original: &JsonMap,
        modified: &JsonMap,
        patch: &mut JsonMap,
        schema: TypeSchema<'_>,
        options: DiffOptions,
        path: &str,
        depth: usize,
    ) -> Result<(), SmpError> {
        let field = schema.field(key);
        if field.replaces_map() {
            if !options.ignore_changes {
                patch.insert(key.to_owned(), Value::Object(modified.clone()));
            }
            return Ok(());
        }
        let path = join(path, key);
        let options = DiffOptions {
            retain_keys: (self.retain)(&path),
            ..options
        };
        let diff = self.diff_maps(original, modified, field, options, &path, depth + 1)?;
        if !diff.is_empty() {
            patch.insert(key.to_owned(), Value::Object(diff));
        }
        Ok(())
    }

    /// `handleSliceDiff`.
    #[allow(clippy::too_many_arguments)]
    fn slice_field(
        &self,
        key: &str,
        original: &[Value],
        modified: &[Value],
        patch: &mut JsonMap,
        schema: TypeSchema<'_>,
        options: DiffOptions,
        path: &str,
        depth: usize,
    ) -> Result<(), SmpError> {
        let field = schema.field(key);
        let Some(merge_key) = field.apimachinery_list() else {
            if !options.ignore_changes && original != modified {
                patch.insert(key.to_owned(), Value::Array(modified.to_vec()));
            }
            return Ok(());
        };
        let path = format!("{}[]", join(path, key));
        let options = DiffOptions {
            retain_keys: (self.retain)(&path),
            ..options
        };
        let lists = self.diff_lists(
            original,
            modified,
            field.items(),
            merge_key.unwrap_or(""),
            options,
            &path,
            depth,
        )?;
        if !lists.patch.is_empty() {
            patch.insert(key.to_owned(), Value::Array(lists.patch));
        }
        if !lists.deletions.is_empty() {
            patch.insert(
                format!("{DELETE_FROM_PRIMITIVE_LIST}/{key}"),
                Value::Array(lists.deletions),
            );
        }
        if !lists.order.is_empty() {
            patch.insert(
                format!("{SET_ELEMENT_ORDER}/{key}"),
                Value::Array(lists.order),
            );
        }
        Ok(())
    }

    /// `diffLists`: the patch list, the parallel deletion list (primitives only) and the
    /// `$setElementOrder` list of a merge list.
    #[allow(clippy::too_many_arguments)]
    fn diff_lists(
        &self,
        original: &[Value],
        modified: &[Value],
        item_schema: TypeSchema<'_>,
        merge_key: &str,
        options: DiffOptions,
        path: &str,
        depth: usize,
    ) -> Result<ListDiff, SmpError> {
        if original.is_empty() {
            if modified.is_empty() || options.ignore_changes {
                return Ok(ListDiff::default());
            }
            return Ok(ListDiff {
                patch: modified.to_vec(),
                ..ListDiff::default()
            });
        }
        match slice_element_type(&[original, modified])? {
            GoType::Map => {
                let (patch, deletions) = self.diff_lists_of_maps(
                    original,
                    modified,
                    item_schema,
                    merge_key,
                    options,
                    path,
                    depth,
                )?;
                let order = OrderIndex::new(modified, merge_key, true);
                let mut patch = normalize_slice_order(patch, &order, merge_key, true)?;
                let order_same = is_order_same(original, modified, merge_key)?;
                patch.extend(deletions);
                let want_order = (!options.ignore_changes && (!patch.is_empty() || !order_same))
                    || (!options.ignore_deletions && !patch.is_empty());
                let order = if want_order {
                    modified
                        .iter()
                        .map(|v| {
                            let value = v.get(merge_key).cloned().unwrap_or(Value::Null);
                            Value::Object(JsonMap::from_iter([(merge_key.to_owned(), value)]))
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                Ok(ListDiff {
                    patch,
                    deletions: Vec::new(),
                    order,
                })
            }
            _ => {
                let (added, deletions) = diff_lists_of_scalars(original, modified, options);
                let order = OrderIndex::new(modified, merge_key, false);
                let patch = normalize_slice_order(added, &order, merge_key, false)?;
                // Go sorted `original` in place while diffing, so compares it sorted.
                let changed = go_sort_scalars(original.to_vec()) != modified;
                let want_order = (!options.ignore_deletions && !deletions.is_empty())
                    || (!options.ignore_changes && changed);
                Ok(ListDiff {
                    patch,
                    deletions,
                    order: if want_order {
                        modified.to_vec()
                    } else {
                        Vec::new()
                    },
                })
            }
        }
    }

    /// `diffListsOfMaps`: walks both lists sorted by the text of their merge keys.
    #[allow(clippy::too_many_arguments)]
    fn diff_lists_of_maps(
        &self,
        original: &[Value],
        modified: &[Value],
        item_schema: TypeSchema<'_>,
        merge_key: &str,
        options: DiffOptions,
        path: &str,
        depth: usize,
    ) -> Result<(Vec<Value>, Vec<Value>), SmpError> {
        let original = go_sort_by_text(original.iter().collect(), |v| {
            go_v(v.get(merge_key).unwrap_or(&Value::Null))
        });
        let modified = go_sort_by_text(modified.iter().collect(), |v| {
            go_v(v.get(merge_key).unwrap_or(&Value::Null))
        });
        let mut patch = Vec::with_capacity(modified.len());
        let mut deletions = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < original.len() || j < modified.len() {
            let o = original
                .get(i)
                .map(|v| keyed(v, merge_key).map(|(m, k)| (m, k, go_v(k))))
                .transpose()?;
            let m = modified
                .get(j)
                .map(|v| keyed(v, merge_key).map(|(m, k)| (m, k, go_v(k))))
                .transpose()?;
            match (o, m) {
                (Some((om, _, ot)), Some((mm, mk, mt))) if ot == mt => {
                    let mut diff = self
                        .diff_maps(om, mm, item_schema, options, path, depth + 1)
                        .at_item(|q| item_desc(q, merge_key, mk))?;
                    if !diff.is_empty() {
                        diff.insert(merge_key.to_owned(), mk.clone());
                        patch.push(Value::Object(diff));
                    }
                    i += 1;
                    j += 1;
                }
                (None, Some((mm, _, _))) => {
                    if !options.ignore_changes {
                        patch.push(Value::Object(mm.clone()));
                    }
                    j += 1;
                }
                (Some((_, _, ot)), Some((mm, _, mt))) if ot > mt => {
                    if !options.ignore_changes {
                        patch.push(Value::Object(mm.clone()));
                    }
                    j += 1;
                }
                (Some((_, ok, _)), _) => {
                    if !options.ignore_deletions {
                        deletions.push(Value::Object(JsonMap::from_iter([
                            (merge_key.to_owned(), ok.clone()),
                            (DIRECTIVE.to_owned(), Value::String("delete".to_owned())),
                        ])));
                    }
                    i += 1;
                }
                (None, None) => break,
            }
        }
        Ok((patch, deletions))
    }
}

/// `handleDirectiveMarker`: a changed `$patch` value is kept.
fn diff_directive(o: &Value, m: &Value, patch: &mut JsonMap) -> Result<(), SmpError> {
    let (Some(os), Some(ms)) = (o.as_str(), m.as_str()) else {
        return Err(SmpError::new(format!(
            "invalid value for special key: {DIRECTIVE}"
        )));
    };
    if os != ms {
        patch.insert(DIRECTIVE.to_owned(), m.clone());
    }
    Ok(())
}

/// The end of `diffMaps`: `null` for deleted keys, then the `$retainKeys` directive (the keys of
/// `modified` not null) when the patch changes anything or `original` has keys to clear.
fn finish_diff(original: &JsonMap, modified: &JsonMap, patch: &mut JsonMap, options: DiffOptions) {
    if !options.ignore_deletions {
        for key in original.keys() {
            if !modified.contains_key(key) {
                patch.insert(key.clone(), Value::Null);
            }
        }
    }
    if !options.retain_keys {
        return;
    }
    let mut retained: Vec<&String> = modified
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k)
        .collect();
    let additional = || {
        original
            .iter()
            .any(|(k, v)| !v.is_null() && !modified.contains_key(k))
    };
    if !retained.is_empty() && (!patch.is_empty() || additional()) {
        retained.sort_unstable();
        let list = retained.into_iter().map(|k| Value::String(k.clone()));
        patch.insert(RETAIN_KEYS.to_owned(), Value::Array(list.collect()));
    }
}

/// What `diffLists` returns.
#[derive(Debug, Default)]
struct ListDiff {
    patch: Vec<Value>,
    deletions: Vec<Value>,
    order: Vec<Value>,
}

/// `diffListsOfScalars`: additions and (deduplicated) deletions, walking both lists sorted by
/// their `%v` text.
fn diff_lists_of_scalars(
    original: &[Value],
    modified: &[Value],
    options: DiffOptions,
) -> (Vec<Value>, Vec<Value>) {
    let original = go_sort_scalars(original.to_vec());
    let modified = go_sort_scalars(modified.to_vec());
    let ot: Vec<String> = original.iter().map(go_v).collect();
    let mt: Vec<String> = modified.iter().map(go_v).collect();
    let mut added = Vec::new();
    let mut deleted = Vec::new();
    let (mut i, mut j) = (0, 0);
    loop {
        match (ot.get(i), mt.get(j)) {
            (None, None) => break,
            (Some(o), Some(m)) if o == m => {
                i += 1;
                j += 1;
            }
            (None, Some(_)) => {
                if !options.ignore_changes {
                    added.push(modified[j].clone());
                }
                j += 1;
            }
            (Some(o), Some(m)) if o > m => {
                if !options.ignore_changes {
                    added.push(modified[j].clone());
                }
                j += 1;
            }
            (Some(_), _) => {
                if !options.ignore_deletions {
                    deleted.push(original[i].clone());
                }
                i += 1;
            }
        }
    }
    (added, go_deduplicate(deleted))
}

/// Go's `sortScalars`: by `%v` text.
fn go_sort_scalars(list: Vec<Value>) -> Vec<Value> {
    go_sort_by_text(list, go_v)
}

/// Go's `sort.Sort` by text with `Less = a <= b`: insertion sort (later equal items move first)
/// up to 12 items, as Go does; a stable sort beyond, which differs only among equal texts.
fn go_sort_by_text<T>(list: Vec<T>, text: impl Fn(&T) -> String) -> Vec<T> {
    let mut keyed: Vec<(String, T)> = list.into_iter().map(|v| (text(&v), v)).collect();
    if keyed.len() <= GO_INSERTION_SORT_MAX {
        for i in 1..keyed.len() {
            let mut j = i;
            while j > 0 && keyed[j].0 <= keyed[j - 1].0 {
                keyed.swap(j, j - 1);
                j -= 1;
            }
        }
    } else {
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
    }
    keyed.into_iter().map(|(_, v)| v).collect()
}

/// Go's `deduplicateScalars`, which moves the last element into each duplicate's place.
fn go_deduplicate(mut s: Vec<Value>) -> Vec<Value> {
    let keys: Vec<Key> = s.iter().map(Key::of).collect();
    let mut keys = keys;
    let mut i = 0;
    while i + 1 < s.len() {
        let mut j = i + 1;
        while j < s.len() {
            if keys[i] == keys[j] {
                let last = s.len() - 1;
                s.swap(j, last);
                keys.swap(j, last);
                s.truncate(last);
                keys.truncate(last);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    s
}

/// `isOrderSame`: the same merge keys at the same positions.
fn is_order_same(
    original: &[Value],
    modified: &[Value],
    merge_key: &str,
) -> Result<bool, SmpError> {
    if original.len() != modified.len() {
        return Ok(false);
    }
    for (o, m) in original.iter().zip(modified) {
        let equal = if merge_key.is_empty() {
            Key::of(o) == Key::of(m)
        } else {
            let (_, ok) = keyed(o, merge_key)?;
            let (_, mk) = keyed(m, merge_key)?;
            Key::of(ok) == Key::of(mk)
        };
        if !equal {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `sliceElementType`: all elements share one Go type, and are not lists.
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

/// Ordering identity of a list item: its merge-key value (maps) or itself (primitives).
fn order_key(v: &Value, merge_key: &str, is_map: bool) -> Key {
    if is_map {
        v.get(merge_key).map_or(Key::Null, Key::of)
    } else {
        Key::of(v)
    }
}

/// First position of every item of a reference order (Go's `index`), and the error
/// `validateMergeKeyInLists` raises when a reference item of a map list lacks the merge key.
struct OrderIndex {
    positions: HashMap<Key, usize>,
    invalid: Option<SmpError>,
}

impl OrderIndex {
    fn new(list: &[Value], merge_key: &str, is_map: bool) -> Self {
        let mut positions = HashMap::with_capacity(list.len());
        let mut invalid = None;
        for (i, v) in list.iter().enumerate() {
            if is_map && invalid.is_none() {
                invalid = keyed(v, merge_key).err();
            }
            positions
                .entry(order_key(v, merge_key, is_map))
                .or_insert(i);
        }
        Self { positions, invalid }
    }

    fn position(&self, v: &Value, merge_key: &str, is_map: bool) -> Option<usize> {
        self.positions
            .get(&order_key(v, merge_key, is_map))
            .copied()
    }
}

/// `normalizeSliceOrder`: stable sort by position in `order`, `$patch: delete` items last.
fn normalize_slice_order(
    items: Vec<Value>,
    order: &OrderIndex,
    merge_key: &str,
    is_map: bool,
) -> Result<Vec<Value>, SmpError> {
    let mut deletes = Vec::new();
    let mut keep = if is_map {
        for v in &items {
            keyed(v, merge_key)?;
        }
        if let Some(e) = &order.invalid {
            return Err(e.clone());
        }
        let (keep, doomed): (Vec<Value>, Vec<Value>) = items
            .into_iter()
            .partition(|v| v.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"));
        deletes = doomed;
        keep
    } else {
        items
    };
    keep.sort_by_key(|v| order.position(v, merge_key, is_map).unwrap_or(usize::MAX));
    keep.extend(deletes);
    Ok(keep)
}

/// `normalizeElementOrder` + `mergeSortedSlice`: patch items in patch order, server-only items
/// in server order, interleaved where the server order relates them.
fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &OrderIndex,
    server_order: &OrderIndex,
    merge_key: &str,
    is_map: bool,
) -> Result<Vec<Value>, SmpError> {
    let patch_items = normalize_slice_order(patch_items, patch_order, merge_key, is_map)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, is_map)?;
    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = patch_items.into_iter().peekable();
    loop {
        match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => {
                let take_left = matches!(
                    (
                        server_order.position(l, merge_key, is_map),
                        server_order.position(r, merge_key, is_map)
                    ),
                    (Some(li), Some(ri)) if li < ri
                );
                let next = if take_left { left.next() } else { right.next() };
                out.extend(next);
            }
            (Some(_), None) => out.extend(left.by_ref()),
            (None, Some(_)) => out.extend(right.by_ref()),
            (None, None) => break,
        }
    }
    Ok(out)
}

/// `partition{Primitives,Maps}ByPresentInList`: items named by `by` vs the rest.
fn partition(
    merged: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), SmpError> {
    let is_map = !merge_key.is_empty();
    let mut present = HashSet::with_capacity(by.len());
    for v in by {
        if is_map {
            let m = v
                .as_object()
                .ok_or_else(|| SmpError::new("value for key 0 is not a map"))?;
            if let Some(k) = m.get(merge_key) {
                present.insert(Key::of(k));
            }
        } else {
            present.insert(Key::of(v));
        }
    }
    let mut patch_items = Vec::new();
    let mut server_only = Vec::new();
    for v in merged {
        let key = if is_map {
            Key::of(keyed(&v, merge_key)?.1)
        } else {
            Key::of(&v)
        };
        if present.contains(&key) {
            patch_items.push(v);
        } else {
            server_only.push(v);
        }
    }
    Ok((patch_items, server_only))
}

/// `validatePatchWithSetOrderList`: patch items appear in the order list, in its order.
fn validate_patch_with_order(
    patch: &[Value],
    order: &[Value],
    merge_key: &str,
) -> Result<(), SmpError> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let mut non_delete = Vec::with_capacity(patch.len());
    for v in patch {
        if merge_key.is_empty() {
            non_delete.push(v);
            continue;
        }
        let m = v.as_object().ok_or_else(|| bad_arg_type(MAP_TYPE, v))?;
        if m.get(DIRECTIVE).and_then(Value::as_str) != Some("delete") {
            non_delete.push(v);
        }
    }
    let (mut pi, mut si) = (0, 0);
    while pi < non_delete.len() && si < order.len() {
        if non_delete[pi].get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        let equal = if merge_key.is_empty() {
            Key::of(non_delete[pi]) == Key::of(&order[si])
        } else {
            let (_, pk) = keyed(non_delete[pi], merge_key)?;
            let (_, ok) = keyed(&order[si], merge_key)?;
            Key::of(pk) == Key::of(ok)
        };
        if equal {
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

fn bad_patch_type(directive: &Value, m: &JsonMap) -> SmpError {
    SmpError::quoting(|q| {
        let shown = match directive {
            Value::String(s) => q.value(|| s.clone()),
            other => format!("%!s({}={})", go_type_name(other), go_fmt(q, other)),
        };
        format!("unknown patch type: {shown} in map: {}", go_fmt_map(q, m))
    })
}

fn bad_set_element_order() -> SmpError {
    SmpError::new("invalid patch format of setElementOrder list")
}

/// apimachinery `mergeMap` with `MergeOptions{}`, as `CreateThreeWayMergePatch` merges the delta
/// (`patch`) into the deletions (`original`): directives and nulls are kept, not applied.
fn combine_maps(
    mut original: JsonMap,
    mut patch: JsonMap,
    schema: TypeSchema<'_>,
    depth: usize,
) -> Result<JsonMap, SmpError> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    if let Some(replaced) = combine_directives(&mut original, &mut patch, schema, depth)? {
        return Ok(replaced);
    }
    for (key, value) in patch {
        if let Some((current, value, field)) =
            combine_field(&mut original, &key, value, schema, depth)?
        {
            *current =
                combine_maps(std::mem::take(current), value, field, depth + 1).at_field(&key)?;
        }
    }
    Ok(original)
}

/// The directive part of `mergeMap`: `$patch` (whose result replaces the merge), then
/// `$retainKeys` and `$setElementOrder` (moved into `original`, their lists merged and ordered).
/// Kept out of [`combine_maps`] so that the recursion's stack frames stay small.
fn combine_directives(
    original: &mut JsonMap,
    patch: &mut JsonMap,
    schema: TypeSchema<'_>,
    depth: usize,
) -> Result<Option<JsonMap>, SmpError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                let mut replaced = std::mem::take(patch);
                replaced.shift_remove(DIRECTIVE);
                Ok(Some(replaced))
            }
            Some("delete") => Ok(Some(JsonMap::new())),
            _ => Err(bad_patch_type(directive, patch)),
        };
    }
    if let Some(retain) = patch.shift_remove(RETAIN_KEYS) {
        match original.get(RETAIN_KEYS) {
            Some(existing) if *existing != retain => {
                return Err(SmpError::quoting(|q| {
                    format!(
                        "{} and {} are not deep equal: this may happen when calculating the 3-way diff patch",
                        go_fmt(q, existing),
                        go_fmt(q, &retain)
                    )
                }));
            }
            Some(_) => {}
            None => {
                original.insert(RETAIN_KEYS.to_owned(), retain);
            }
        }
    }
    let directives: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let Some(order) = patch.shift_remove(&directive) else {
            continue;
        };
        match original.get(&directive) {
            Some(existing) if *existing != order => return Err(bad_set_element_order()),
            Some(_) => {}
            None => {
                original.insert(directive.clone(), order.clone());
            }
        }
        let order = order
            .as_array()
            .ok_or_else(|| bad_arg_type(SLICE_TYPE, &order))?;
        let field_name = match directive.split_once('/') {
            Some((head, rest)) if head == SET_ELEMENT_ORDER => rest,
            _ => return Err(bad_set_element_order()),
        };
        combine_ordered_list(original, patch, field_name, order, schema, depth)
            .at_field(field_name)?;
    }
    Ok(None)
}

/// One key of `mergeMap`'s main loop, except merging two maps, which it hands back (the
/// recursion stays in [`combine_maps`], whose frames are small).
fn combine_field<'o, 's>(
    original: &'o mut JsonMap,
    key: &str,
    value: Value,
    schema: TypeSchema<'s>,
    depth: usize,
) -> Result<Option<(&'o mut JsonMap, JsonMap, TypeSchema<'s>)>, SmpError> {
    if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) || value.is_null() {
        original.insert(key.to_owned(), value);
        return Ok(None);
    }
    match original.get(key).map(go_type) {
        Some(t) if t == go_type(&value) => {}
        Some(_) => {
            match clean_added(&value, false) {
                Some(v) => original.insert(key.to_owned(), v),
                None => original.shift_remove(key),
            };
            return Ok(None);
        }
        None => {
            if let Some(v) = clean_added(&value, false) {
                original.insert(key.to_owned(), v);
            }
            return Ok(None);
        }
    }
    let Some(current) = original.get_mut(key) else {
        return Ok(None);
    };
    let field = schema.field(key);
    if current.is_object() && !field.replaces_map() {
        return Ok(match (current, value) {
            (Value::Object(cur), Value::Object(p)) => Some((cur, p, field)),
            _ => None,
        });
    }
    match (current, value) {
        (Value::Array(cur), Value::Array(p)) => {
            if let Some(merge_key) = field.apimachinery_list() {
                let merge_key = merge_key.unwrap_or("");
                *cur = combine_slices(std::mem::take(cur), p, merge_key, field.items(), depth)
                    .at_field(key)?;
            } else {
                *cur = p;
            }
        }
        (cur, p) => *cur = p,
    }
    Ok(None)
}

/// `mergePatchIntoOriginal` for one `$setElementOrder/<field>`: merges the field's lists and
/// orders them by the directive, then by the deletions' order.
fn combine_ordered_list(
    original: &mut JsonMap,
    patch: &mut JsonMap,
    field_name: &str,
    order: &[Value],
    schema: TypeSchema<'_>,
    depth: usize,
) -> Result<(), SmpError> {
    let original_list = match original.get(field_name) {
        Some(Value::Array(a)) => Some(a.clone()),
        Some(other) => return Err(bad_arg_type(SLICE_TYPE, other)),
        None => None,
    };
    let patch_list = match patch.shift_remove(field_name) {
        Some(Value::Array(a)) => Some(a),
        Some(other) => return Err(bad_arg_type(SLICE_TYPE, &other)),
        None => None,
    };
    let field = schema.field(field_name);
    let strategy = field.apimachinery_list();
    let merge_key = strategy.flatten().unwrap_or("");
    validate_patch_with_order(patch_list.as_deref().unwrap_or(&[]), order, merge_key)?;
    let element_type = slice_element_type(&[
        original_list.as_deref().unwrap_or(&[]),
        patch_list.as_deref().unwrap_or(&[]),
    ]);
    let merged = match (original_list.clone(), patch_list) {
        (Some(o), None) => o,
        (None, Some(p)) => p.iter().filter_map(|v| clean_added(v, false)).collect(),
        (Some(o), Some(p)) if strategy.is_some() => {
            combine_slices(o, p, merge_key, field.items(), depth)?
        }
        (Some(_), Some(p)) => p,
        (None, None) => return Ok(()),
    };
    let (patch_items, server_only) = partition(merged, order, merge_key)?;
    let is_map = element_type? == GoType::Map;
    let server = original_list.unwrap_or_default();
    let ordered = normalize_element_order(
        patch_items,
        server_only,
        &OrderIndex::new(order, merge_key, is_map),
        &OrderIndex::new(&server, merge_key, is_map),
        merge_key,
        is_map,
    )?;
    original.insert(field_name.to_owned(), Value::Array(ordered));
    Ok(())
}

/// apimachinery `mergeSlice` with `MergeOptions{}` for a merge list present in both patches.
fn combine_slices(
    original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
    item_schema: TypeSchema<'_>,
    depth: usize,
) -> Result<Vec<Value>, SmpError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    if slice_element_type(&[&original, &patch])? != GoType::Map {
        let server = OrderIndex::new(&original, merge_key, false);
        let mut both = original;
        both.extend(patch.iter().cloned());
        let (patch_items, server_only) = partition(go_deduplicate(both), &patch, merge_key)?;
        let patch_order = OrderIndex::new(&patch, merge_key, false);
        return normalize_element_order(
            patch_items,
            server_only,
            &patch_order,
            &server,
            merge_key,
            false,
        );
    }
    if merge_key.is_empty() {
        return Err(SmpError::new(
            "cannot merge lists without merge key for this field",
        ));
    }
    let (original, patch) = special_elements(original, patch, merge_key)?;
    let server = OrderIndex::new(&original, merge_key, true);
    let mut merged = original;
    for item in &patch {
        let (item_map, value) = keyed(item, merge_key)?;
        let key = Key::of(value);
        let mut found = None;
        for (i, v) in merged.iter().enumerate() {
            let m = v
                .as_object()
                .ok_or_else(|| SmpError::new(format!("value for key {i} is not a map")))?;
            if m.get(merge_key).is_some_and(|k| Key::of(k) == key) {
                found = Some(i);
                break;
            }
        }
        match found {
            Some(i) => {
                let current = match std::mem::take(&mut merged[i]) {
                    Value::Object(m) => m,
                    _ => JsonMap::new(),
                };
                let combined = combine_maps(current, item_map.clone(), item_schema, depth + 1)
                    .at_item(|q| item_desc(q, merge_key, value))?;
                merged[i] = Value::Object(combined);
            }
            None => merged.push(item.clone()),
        }
    }
    let (patch_items, server_only) = partition(merged, &patch, merge_key)?;
    let patch_order = OrderIndex::new(&patch, merge_key, true);
    normalize_element_order(
        patch_items,
        server_only,
        &patch_order,
        &server,
        merge_key,
        true,
    )
}

/// `mergeSliceWithSpecialElements`: applies the patch's `{$patch: delete|replace}` items to
/// `original` and returns both without them.
fn special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), SmpError> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for v in patch {
        let Some(m) = v.as_object() else {
            plain.push(v);
            continue;
        };
        let Some(directive) = m.get(DIRECTIVE) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let key = Key::of(m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?);
                for (i, item) in original.iter().enumerate() {
                    if !item.is_object() {
                        return Err(SmpError::new(format!("value for key {i} is not a map")));
                    }
                }
                original.retain(|item| item.get(merge_key).is_none_or(|k| Key::of(k) != key));
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
        return Ok((plain, Vec::new()));
    }
    Ok((original, plain))
}

/// evanphx `getDiff`: added and changed keys, nested maps diffed, `null` for removed keys.
fn merge_patch_diff(original: &JsonMap, modified: &JsonMap, depth: usize) -> JsonMap {
    let mut patch = JsonMap::new();
    for (key, m) in modified {
        let Some(o) = original.get(key) else {
            patch.insert(key.clone(), m.clone());
            continue;
        };
        match (o, m) {
            // Past the depth limit (deeper than any parsed document) the value is sent whole.
            (Value::Object(o), Value::Object(m)) if depth < MAX_DEPTH => {
                let diff = merge_patch_diff(o, m, depth + 1);
                if !diff.is_empty() {
                    patch.insert(key.clone(), Value::Object(diff));
                }
            }
            _ if o != m => {
                patch.insert(key.clone(), m.clone());
            }
            _ => {}
        }
    }
    for key in original.keys() {
        if !modified.contains_key(key) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::schema::SchemaRegistry;
    use crate::patch::smp_common::SmpMode;
    use crate::patch::strategic::strategic_merge;
    use serde_json::json;

    /// apimachinery's test type `MergeItem` (patch_test.go) as a CRD schema, unrolled.
    fn merge_item(depth: usize) -> Value {
        let item = if depth == 0 {
            json!({"type": "object"})
        } else {
            merge_item(depth - 1)
        };
        let merging = |items: &Value, strategy: &str| {
            json!({"type": "array", "x-kubernetes-patch-strategy": strategy,
                   "x-kubernetes-patch-merge-key": "name", "items": items})
        };
        let int_set = json!({"type": "array", "x-kubernetes-patch-strategy": "merge",
                             "items": {"type": "integer"}});
        let string_map = json!({"type": "object", "additionalProperties": {"type": "string"}});
        json!({"type": "object", "properties": {
            "mergingList": merging(&item, "merge"),
            "nonMergingList": {"type": "array", "items": item},
            "mergingIntList": int_set,
            "mergeItemPtr": merging(&item, "merge"),
            "simpleMap": string_map,
            "replacingItem": {"type": "object", "x-kubernetes-patch-strategy": "replace"},
            "retainKeysMap": {"type": "object", "properties": {
                "simpleMap": string_map,
                "mergingIntList": int_set,
                "mergingList": merging(&item, "merge"),
                "nonMergingList": {"type": "array", "items": item}
            }},
            "retainKeysMergingList": merging(&item, "merge,retainKeys")
        }})
    }

    fn merge_item_registry() -> SchemaRegistry {
        let mut reg = SchemaRegistry::default();
        reg.add_crd(
            &json!({"spec": {"group": "example.com", "names": {"kind": "MergeItem"},
            "versions": [{"name": "v1", "schema": {"openAPIV3Schema": merge_item(4)}}]}}),
        )
        .expect("valid CRD");
        reg
    }

    /// `MergeItem`'s `retainKeys` fields, wherever a `MergeItem` is.
    fn merge_item_retains(path: &str) -> bool {
        let last = path.rsplit('.').next().unwrap_or(path);
        last == "retainKeysMap" || last == "retainKeysMergingList[]"
    }

    /// (description, original, modified, current, three-way patch, result of applying it to
    /// current): apimachinery patch_test.go (`strategicMergePatchRawTestCases`,
    /// `createStrategicMergePatchTestCaseData`, `replaceRawExtensionPatchTestCases`,
    /// `TestUnknownField`), expected patches with overwrite.
    const UPSTREAM: &[(&str, &str, &str, &str, &str, &str)] = &[
        (
            "nested patch merge with empty list",
            r#"{"name":"hi"}"#,
            r#"{"name":"hi","mergingList":[{"name":"hello"},{"$patch":"delete","name":"doesntexist"}]}"#,
            r#"{"name":"hi","mergingList":[{"name":"hello2"}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":"hello"},{"name":"doesntexist"}],"mergingList":[{"name":"hello"}]}"#,
            r#"{"name":"hi","mergingList":[{"name":"hello"},{"name":"hello2"}]}"#,
        ),
        (
            "delete items in lists of scalars",
            r#"{"mergingIntList":[1,2,3]}"#,
            r#"{"mergingIntList":[1,2]}"#,
            r#"{"mergingIntList":[1,2,3,4]}"#,
            r#"{"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]}"#,
            r#"{"mergingIntList":[1,2,4]}"#,
        ),
        (
            "delete all duplicate items in lists of scalars",
            r#"{"mergingIntList":[1,2,3,3]}"#,
            r#"{"mergingIntList":[1,2]}"#,
            r#"{"mergingIntList":[1,2,3,3,4]}"#,
            r#"{"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]}"#,
            r#"{"mergingIntList":[1,2,4]}"#,
        ),
        (
            "add and delete items in lists of scalars",
            r#"{"mergingIntList":[1,2,3]}"#,
            r#"{"mergingIntList":[1,2,4]}"#,
            r#"{"mergingIntList":[1,2,3,4]}"#,
            r#"{"$setElementOrder/mergingIntList":[1,2,4],"$deleteFromPrimitiveList/mergingIntList":[3]}"#,
            r#"{"mergingIntList":[1,2,4]}"#,
        ),
        (
            "merge lists of maps with conflict",
            r#"{"mergingList":[{"name":1},{"name":2,"value":2}]}"#,
            r#"{"mergingList":[{"name":1},{"name":2,"value":2},{"name":3,"value":3}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":3,"other":"b"}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":1},{"name":2},{"name":3}],"mergingList":[{"name":2,"value":2},{"name":3,"value":3}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}"#,
        ),
        (
            "add an item that already exists in current object in merging list",
            r#"{"mergingList":[{"name":1,"value":"a"},{"name":2}]}"#,
            r#"{"mergingList":[{"name":1,"value":"a"},{"name":2},{"name":3}]}"#,
            r#"{"mergingList":[{"name":1,"value":"a","other":"x"},{"name":2},{"name":3}]}"#,
            r#"{}"#,
            r#"{"mergingList":[{"name":1,"value":"a","other":"x"},{"name":2},{"name":3}]}"#,
        ),
        (
            "replace map field value in merging list with conflict",
            r#"{"mergingList":[{"name":1,"value":1},{"name":2,"value":2}]}"#,
            r#"{"mergingList":[{"name":1,"value":"a"},{"name":2,"value":2}]}"#,
            r#"{"mergingList":[{"name":1,"value":3,"other":"a"},{"name":2,"value":2,"other":"b"}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":"a"}]}"#,
            r#"{"mergingList":[{"name":1,"value":"a","other":"a"},{"name":2,"value":2,"other":"b"}]}"#,
        ),
        (
            "add map and delete map from merging list with conflict",
            r#"{"mergingList":[{"name":1},{"name":2}]}"#,
            r#"{"mergingList":[{"name":2},{"name":3}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a"},{"name":4,"other":"c"}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":2},{"name":3}],"mergingList":[{"name":2},{"name":3},{"name":1,"$patch":"delete"}]}"#,
            r#"{"mergingList":[{"name":4,"other":"c"},{"name":2},{"name":3}]}"#,
        ),
        (
            "delete field from map in merging list with conflict",
            r#"{"mergingList":[{"name":1,"value":1},{"name":2,"value":2}]}"#,
            r#"{"mergingList":[{"name":1},{"name":2,"value":2}]}"#,
            r#"{"mergingList":[{"name":1,"value":"a","other":"a"},{"name":2,"value":2}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"value":null}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2}]}"#,
        ),
        (
            "replace non merging list nested in merging list with deletion conflict",
            r#"{"mergingList":[{"name":1,"nonMergingList":[{"name":1},{"name":2,"value":2}]},{"name":2}]}"#,
            r#"{"mergingList":[{"name":1,"nonMergingList":[{"name":1,"value":1}]},{"name":2}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":2,"value":2}]},{"name":2,"other":"b"}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":1,"nonMergingList":[{"name":1,"value":1}]}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":1,"value":1}]},{"name":2,"other":"b"}]}"#,
        ),
        (
            "add field to map in merging list nested in merging list with deletion conflict",
            r#"{"mergingList":[{"name":1,"mergingList":[{"name":1},{"name":2,"value":2}]},{"name":2}]}"#,
            r#"{"mergingList":[{"name":1,"mergingList":[{"name":1,"value":1},{"name":2,"value":2}]},{"name":2}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":2,"value":2,"other":"d"}]},{"name":2,"other":"b"}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"name":1,"mergingList":[{"name":1,"value":1}]}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a","mergingList":[{"name":1,"value":1},{"name":2,"value":2,"other":"d"}]},{"name":2,"other":"b"}]}"#,
        ),
        (
            "merge lists of scalars",
            r#"{"mergingIntList":[1,2]}"#,
            r#"{"mergingIntList":[1,2,3]}"#,
            r#"{"mergingIntList":[1,2,4]}"#,
            r#"{"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3]}"#,
            r#"{"mergingIntList":[1,2,3,4]}"#,
        ),
        (
            "add duplicate field to map in merging int list",
            r#"{"mergingIntList":[1,2]}"#,
            r#"{"mergingIntList":[1,2,3]}"#,
            r#"{"mergingIntList":[1,2,3]}"#,
            r#"{}"#,
            r#"{"mergingIntList":[1,2,3]}"#,
        ),
        (
            "add multiple items in a list and preserve order",
            r#"{"mergingList":[{"name":1},{"name":2,"value":2}]}"#,
            r#"{"mergingList":[{"name":1},{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":1},{"name":4},{"name":2},{"name":3}],"mergingList":[{"name":4,"value":4},{"name":3,"value":3}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a"},{"name":4,"value":4},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}"#,
        ),
        (
            "add and delete an item in a list and preserve order",
            r#"{"mergingList":[{"name":1},{"name":3,"value":3},{"name":2,"value":2}]}"#,
            r#"{"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":1}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":1}],"mergingList":[{"name":4,"value":4},{"name":3,"$patch":"delete"}]}"#,
            r#"{"mergingList":[{"name":4,"value":4},{"name":2,"value":2,"other":"b"},{"name":1,"other":"a"}]}"#,
        ),
        (
            "set elements order in a list with server-only items",
            r#"{"mergingList":[{"name":1},{"name":3,"value":3},{"name":4,"value":4},{"name":2,"value":2}]}"#,
            r#"{"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3},{"name":1}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a"},{"name":3,"value":3},{"name":4,"value":4},{"name":2,"value":2},{"name":9}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":3},{"name":1}]}"#,
            r#"{"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3},{"name":1,"other":"a"},{"name":9}]}"#,
        ),
        (
            "set elements order in a list with server-only items 3",
            r#"{"mergingList":[{"name":1},{"name":2,"value":2},{"name":3,"value":3},{"name":4,"value":4}]}"#,
            r#"{"mergingList":[{"name":2,"value":2},{"name":1},{"name":4,"value":4},{"name":3,"value":3}]}"#,
            r#"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2},{"name":7},{"name":9},{"name":8},{"name":3,"value":3},{"name":4,"value":4}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3}]}"#,
            r#"{"mergingList":[{"name":2,"value":2},{"name":1,"other":"a"},{"name":7},{"name":9},{"name":8},{"name":4,"value":4},{"name":3,"value":3}]}"#,
        ),
        (
            "set elements order in a int list with server-only items",
            r#"{"mergingIntList":[1,3,4,2]}"#,
            r#"{"mergingIntList":[4,2,3,1]}"#,
            r#"{"mergingIntList":[1,3,4,2,9]}"#,
            r#"{"$setElementOrder/mergingIntList":[4,2,3,1]}"#,
            r#"{"mergingIntList":[4,2,3,1,9]}"#,
        ),
        (
            "set elements order in a int list with server-only items 3",
            r#"{"mergingIntList":[1,2,3,4]}"#,
            r#"{"mergingIntList":[2,1,4,3]}"#,
            r#"{"mergingIntList":[1,2,7,9,8,3,4]}"#,
            r#"{"$setElementOrder/mergingIntList":[2,1,4,3]}"#,
            r#"{"mergingIntList":[2,1,7,9,8,4,3]}"#,
        ),
        (
            "behavior of set element order for a merging list with duplicate",
            r#"{"mergingList":[{"name":1},{"name":2,"value":"dup1"},{"name":3},{"name":2,"value":"dup2"},{"name":4}]}"#,
            r#"{"mergingList":[{"name":2,"value":"dup1"},{"name":1},{"name":4},{"name":3},{"name":2,"value":"dup2"}]}"#,
            r#"{"mergingList":[{"name":1},{"name":2,"value":"dup1"},{"name":3},{"name":2,"value":"dup2"},{"name":4}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3},{"name":2}]}"#,
            r#"{"mergingList":[{"name":2,"value":"dup1"},{"name":2,"value":"dup2"},{"name":1},{"name":4},{"name":3}]}"#,
        ),
        (
            "behavior of set element order for a merging int list with duplicate",
            r#"{"mergingIntList":[1,2,3,2,4]}"#,
            r#"{"mergingIntList":[2,1,4,3,2]}"#,
            r#"{"mergingIntList":[1,2,3,2,4]}"#,
            r#"{"$setElementOrder/mergingIntList":[2,1,4,3,2]}"#,
            r#"{"mergingIntList":[2,2,1,4,3]}"#,
        ),
        (
            "retainKeys map should clear defaulted field with conflict (discriminated union)",
            r#"{}"#,
            r#"{"retainKeysMap":{"name":"type2","other":"bar"}}"#,
            r#"{"retainKeysMap":{"name":"type1","value":"foo"}}"#,
            r#"{"retainKeysMap":{"$retainKeys":["name","other"],"name":"type2","other":"bar"}}"#,
            r#"{"retainKeysMap":{"name":"type2","other":"bar"}}"#,
        ),
        (
            "retainKeys map deletes a field and clears a field",
            r#"{"retainKeysMap":{"name":"foo","value":"bar"}}"#,
            r#"{"retainKeysMap":{"name":"foo"}}"#,
            r#"{"retainKeysMap":{"name":"foo","value":"bar","other":"a"}}"#,
            r#"{"retainKeysMap":{"$retainKeys":["name"],"value":null}}"#,
            r#"{"retainKeysMap":{"name":"foo"}}"#,
        ),
        (
            "retainKeys map changes a field in a nested map with conflict",
            r#"{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"old","key2":"b"}}}"#,
            r#"{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"modified","key2":"b"}}}"#,
            r#"{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"new","key2":"b","key3":"c"}}}"#,
            r#"{"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],"simpleMap":{"key1":"modified"}}}"#,
            r#"{"retainKeysMap":{"name":"foo","value":"bar","simpleMap":{"key1":"modified","key2":"b","key3":"c"}}}"#,
        ),
        (
            "retainKeys map adds an item and deletes an item in nested merging int list",
            r#"{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3]}}"#,
            r#"{"retainKeysMap":{"name":"foo","mergingIntList":[1,3,5]}}"#,
            r#"{"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3,4]}}"#,
            r#"{"retainKeysMap":{"$retainKeys":["mergingIntList","name"],"mergingIntList":[5],"$deleteFromPrimitiveList/mergingIntList":[2],"$setElementOrder/mergingIntList":[1,3,5]}}"#,
            r#"{"retainKeysMap":{"name":"foo","mergingIntList":[1,3,5,4]}}"#,
        ),
        (
            "retainKeys map deletes an item in nested merging list",
            r#"{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"}]}}"#,
            r#"{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"}]}}"#,
            r#"{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"},{"name":"x"}]}}"#,
            r#"{"retainKeysMap":{"$retainKeys":["mergingList","name"],"$setElementOrder/mergingList":[{"name":"a"}],"mergingList":[{"name":"b","$patch":"delete"}]}}"#,
            r#"{"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"x"}]}}"#,
        ),
        (
            "retainKeys list of maps changes a field and clear a field",
            r#"{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"old"}]}"#,
            r#"{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"new"}]}"#,
            r#"{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"old","other":"x"}]}"#,
            r#"{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name","value"],"name":"foo","value":"new"}]}"#,
            r#"{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"new"}]}"#,
        ),
        (
            "retainKeys list of maps deletes a field and clear a field",
            r#"{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a"}]}"#,
            r#"{"retainKeysMergingList":[{"name":"bar"},{"name":"foo"}]}"#,
            r#"{"retainKeysMergingList":[{"name":"bar"},{"name":"foo","value":"a","other":"x"}]}"#,
            r#"{"$setElementOrder/retainKeysMergingList":[{"name":"bar"},{"name":"foo"}],"retainKeysMergingList":[{"$retainKeys":["name"],"name":"foo","value":null}]}"#,
            r#"{"retainKeysMergingList":[{"name":"bar"},{"name":"foo"}]}"#,
        ),
        (
            "delete and reorder in one list, reorder in another",
            r#"{"mergingList":[{"name":"a","value":"a"},{"name":"b","value":"b"}],"mergeItemPtr":[{"name":"c","value":"c"},{"name":"d","value":"d"}]}"#,
            r#"{"mergingList":[{"name":"b","value":"b"}],"mergeItemPtr":[{"name":"d","value":"d"},{"name":"c","value":"c"}]}"#,
            r#"{"mergingList":[{"name":"a","value":"a"},{"name":"b","value":"b"}],"mergeItemPtr":[{"name":"c","value":"c"},{"name":"d","value":"d"}]}"#,
            r#"{"$setElementOrder/mergingList":[{"name":"b"}],"$setElementOrder/mergeItemPtr":[{"name":"d"},{"name":"c"}],"mergingList":[{"$patch":"delete","name":"a"}]}"#,
            r#"{"mergingList":[{"name":"b","value":"b"}],"mergeItemPtr":[{"name":"d","value":"d"},{"name":"c","value":"c"}]}"#,
        ),
        (
            "add field to map with conflict",
            r#"{"name":1}"#,
            r#"{"name":1,"value":1}"#,
            r#"{"name":"a","other":"a"}"#,
            r#"{"name":1,"value":1}"#,
            r#"{"name":1,"value":1,"other":"a"}"#,
        ),
        (
            "delete all fields from map with conflict",
            r#"{"name":1,"value":1}"#,
            r#"{}"#,
            r#"{"name":1,"value":"a","other":"a"}"#,
            r#"{"name":null,"value":null}"#,
            r#"{"other":"a"}"#,
        ),
        (
            "delete all maps from merging list",
            r#"{"mergingList":[{"name":1},{"name":2}]}"#,
            r#"{"mergingList":[]}"#,
            r#"{"mergingList":[{"name":1},{"name":2}]}"#,
            r#"{"mergingList":[{"name":1,"$patch":"delete"},{"name":2,"$patch":"delete"}]}"#,
            r#"{"mergingList":[]}"#,
        ),
        (
            "delete all maps from empty merging list",
            r#"{"mergingList":[{"name":1},{"name":2}]}"#,
            r#"{"mergingList":[]}"#,
            r#"{"mergingList":[]}"#,
            r#"{"mergingList":[{"name":1,"$patch":"delete"},{"name":2,"$patch":"delete"}]}"#,
            r#"{"mergingList":[]}"#,
        ),
        (
            "defined null values should propagate overwrite current fields (with conflict)",
            r#"{"name":2}"#,
            r#"{"name":1,"value":1,"other":null}"#,
            r#"{"name":"a","other":"a"}"#,
            r#"{"name":1,"value":1,"other":null}"#,
            r#"{"name":1,"value":1}"#,
        ),
        (
            "defined null values should propagate removing original fields",
            r#"{"name":"original-name","value":"original-value"}"#,
            r#"{"name":"modified-name","value":null}"#,
            r#"{"name":"original-name","value":"original-value","other":"current-other"}"#,
            r#"{"name":"modified-name","value":null}"#,
            r#"{"name":"modified-name","other":"current-other"}"#,
        ),
        (
            "retainKeys map with no change should not be present",
            r#"{"name":"a","retainKeysMap":{"name":"foo"}}"#,
            r#"{"name":"a","value":"b","retainKeysMap":{"name":"foo"}}"#,
            r#"{"name":"a","other":"c","retainKeysMap":{"name":"foo"}}"#,
            r#"{"value":"b"}"#,
            r#"{"name":"a","value":"b","other":"c","retainKeysMap":{"name":"foo"}}"#,
        ),
        (
            "replace RawExtension field and merge list",
            r#"{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1}],"replacingItem":{"Some":"Generic","Yaml":"Inside","The":"RawExtension","Field":"Period"}}"#,
            r#"{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":2}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}"#,
            r#"{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":3}],"replacingItem":{"Some":"Generic","Yaml":"Inside","The":"RawExtension","Field":"Period"}}"#,
            r#"{"$setElementOrder/mergingList":[{"name":1},{"name":2}],"mergingList":[{"name":2}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}"#,
            r#"{"name":"my-object","value":"some-value","other":"current-other","mergingList":[{"name":1},{"name":2},{"name":3}],"replacingItem":{"Newly":"Modified","Yaml":"Inside","The":"RawExtension"}}"#,
        ),
        (
            "unknown: discard nulls in nested and adds not nulls",
            r#"{"array":[1,2,3],"complex":{"nested":true},"name":"foo","scalar":true}"#,
            r#"{"array":[1,2,3],"complex":{"nested":true},"complex_nullable":{"key":{"keynotnull":"value","keynull":null}},"name":"foo","scalar":true}"#,
            r#"{"array":[1,2,3],"complex":{"nested":true},"name":"foo","scalar":true}"#,
            r#"{"complex_nullable":{"key":{"keynotnull":"value","keynull":null}}}"#,
            r#"{"array":[1,2,3],"complex":{"nested":true},"complex_nullable":{"key":{"keynotnull":"value"}},"name":"foo","scalar":true}"#,
        ),
        (
            "unknown: filter nulls from nested slices",
            r#"{}"#,
            r#"{"complex_nullable":[{"inner_one":{"key_one":"foo","key_two":null}}]}"#,
            r#"{}"#,
            r#"{"complex_nullable":[{"inner_one":{"key_one":"foo","key_two":null}}]}"#,
            r#"{"complex_nullable":[{"inner_one":{"key_one":"foo"}}]}"#,
        ),
        (
            "unknown: removed only",
            r#"{"name":"foo","scalar":true,"complex":{"nested":true}}"#,
            r#"{"name":"foo"}"#,
            r#"{"name":"foo","scalar":true,"complex":{"nested":true},"array":[1,2,3]}"#,
            r#"{"complex":null,"scalar":null}"#,
            r#"{"array":[1,2,3],"name":"foo"}"#,
        ),
    ];

    #[test]
    fn upstream_three_way_cases() {
        let reg = merge_item_registry();
        let schema = reg.lookup("example.com/v1", "MergeItem");
        let parse = |s: &str| -> Value { serde_json::from_str(s).expect("valid JSON") };
        for (description, original, modified, current, expected, result) in UPSTREAM {
            let current = parse(current);
            let patch = create_three_way(
                &parse(original),
                &parse(modified),
                &current,
                schema,
                &merge_item_retains,
            )
            .unwrap_or_else(|e| panic!("{description}: {e}"));
            assert_eq!(patch, parse(expected), "patch of {description}");
            let applied = strategic_merge(&current, &patch, schema, SmpMode::Apimachinery)
                .unwrap_or_else(|e| panic!("{description}: applying: {e}"));
            assert_eq!(applied, parse(result), "result of {description}");
        }
    }

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "default"}, "spec": spec})
    }

    #[test]
    fn replica_drift_is_reverted() {
        let reg = SchemaRegistry::builtin();
        let schema = reg.lookup("apps/v1", "Deployment");
        let chart = deployment(json!({"replicas": 1, "template": {"spec": {"containers": [
            {"name": "app", "image": "nginx"}]}}}));
        let live = deployment(json!({"replicas": 3, "progressDeadlineSeconds": 600,
            "template": {"spec": {"containers": [
                {"name": "app", "image": "nginx", "imagePullPolicy": "Always"}]}}}));
        let patch = three_way_merge_patch(&chart, &chart, &live, schema).expect("patch");
        assert_eq!(patch, json!({"spec": {"replicas": 1}}));
        let result = strategic_merge(&live, &patch, schema, SmpMode::Apimachinery).expect("apply");
        assert_eq!(result["spec"]["replicas"], 1);
        assert_eq!(result["spec"]["progressDeadlineSeconds"], 600);
    }

    /// The patch `kubectl apply` (v1.34) sent to a v1.20 API server for the same three objects
    /// (its last-applied annotation left out): `$retainKeys` for `spec.strategy` and a volume,
    /// `$setElementOrder` for unchanged but unsorted finalizers.
    #[test]
    fn matches_kubectl_apply_for_a_deployment() {
        let reg = SchemaRegistry::builtin();
        let schema = reg.lookup("apps/v1", "Deployment");
        let meta = |labels: Value| {
            json!({"annotations": {}, "finalizers": ["b.example.com/x", "a.example.com/y"],
                   "labels": labels, "name": "web", "namespace": "default"})
        };
        let original = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(json!({"app": "web", "tier": "front"})),
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                    "containers": [
                        {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                         "image": "nginx:1.20", "name": "app",
                         "ports": [{"containerPort": 80}, {"containerPort": 443}]},
                        {"image": "busybox", "name": "side"}],
                    "volumes": [{"configMap": {"name": "conf"}, "name": "conf"},
                                {"emptyDir": {}, "name": "data"}]}}}});
        let current = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(json!({"app": "web", "tier": "front"})),
            "spec": {"progressDeadlineSeconds": 600, "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                             "type": "RollingUpdate"},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                    "containers": [
                        {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                         "image": "nginx:drift", "imagePullPolicy": "IfNotPresent", "name": "app",
                         "ports": [{"containerPort": 80, "protocol": "TCP"},
                                   {"containerPort": 443, "protocol": "TCP"}],
                         "terminationMessagePath": "/dev/termination-log"},
                        {"image": "busybox", "imagePullPolicy": "Always", "name": "side"}],
                    "dnsPolicy": "ClusterFirst",
                    "volumes": [{"configMap": {"defaultMode": 420, "name": "conf"}, "name": "conf"},
                                {"emptyDir": {}, "name": "data"}]}}},
            "status": {}});
        let modified = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(json!({"app": "web"})),
            "spec": {"replicas": 1, "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                    "containers": [
                        {"name": "side", "image": "busybox:1.36"},
                        {"name": "app", "image": "nginx:1.21",
                         "env": [{"name": "B", "value": "2"}, {"name": "C", "value": "3"}],
                         "ports": [{"containerPort": 443}]}],
                    "volumes": [{"name": "conf", "secret": {"secretName": "conf"}},
                                {"name": "extra", "emptyDir": {}}]}}}});
        let kubectl = json!({
            "metadata": {
                "$setElementOrder/finalizers": ["b.example.com/x", "a.example.com/y"],
                "labels": {"tier": null}},
            "spec": {"replicas": 1, "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
                "template": {"spec": {
                    "$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
                    "$setElementOrder/volumes": [{"name": "conf"}, {"name": "extra"}],
                    "containers": [
                        {"image": "busybox:1.36", "name": "side"},
                        {"$setElementOrder/env": [{"name": "B"}, {"name": "C"}],
                         "$setElementOrder/ports": [{"containerPort": 443}],
                         "env": [{"name": "C", "value": "3"}, {"$patch": "delete", "name": "A"}],
                         "image": "nginx:1.21", "name": "app",
                         "ports": [{"$patch": "delete", "containerPort": 80}]}],
                    "volumes": [
                        {"$retainKeys": ["name", "secret"], "configMap": null, "name": "conf",
                         "secret": {"secretName": "conf"}},
                        {"emptyDir": {}, "name": "extra"},
                        {"$patch": "delete", "name": "data"}]}}}});
        let patch = three_way_merge_patch(&original, &modified, &current, schema).expect("patch");
        assert_eq!(patch, kubectl);
        let result =
            strategic_merge(&current, &patch, schema, SmpMode::Apimachinery).expect("apply");
        assert_eq!(result["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(
            result["spec"]["template"]["spec"]["volumes"][0],
            json!({"name": "conf", "secret": {"secretName": "conf"}})
        );
    }

    #[test]
    fn builtin_kinds_and_retain_keys_positions() {
        assert!(is_builtin_kind("apps/v1", "Deployment"));
        assert!(is_builtin_kind("v1", "Secret"));
        assert!(!is_builtin_kind(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition"
        ));
        assert!(!is_builtin_kind("gateway.networking.k8s.io/v1", "Gateway"));
        let retains = |av: &str, kind: &str, path: &str| {
            builtins()
                .retain_keys
                .get(&kind_key(av, kind))
                .is_some_and(|p| p.contains(path))
        };
        assert!(retains("apps/v1", "Deployment", "spec.strategy"));
        assert!(retains(
            "apps/v1",
            "Deployment",
            "spec.template.spec.volumes[]"
        ));
        assert!(retains(
            "batch/v1",
            "CronJob",
            "spec.jobTemplate.spec.template.spec.volumes[]"
        ));
        assert!(retains("v1", "Pod", "spec.volumes[]"));
        assert!(!retains("apps/v1", "DaemonSet", "spec.updateStrategy"));
    }

    #[test]
    fn errors_name_the_field_and_can_withhold_values() {
        let reg = SchemaRegistry::builtin();
        let schema = reg.lookup("v1", "Pod");
        let pod = |containers: Value| json!({"spec": {"containers": containers}});
        let err = three_way_merge_patch(
            &Value::Null,
            &pod(json!([{"image": "s3cr3t"}])),
            &pod(json!([{"name": "app"}])),
            schema,
        )
        .expect_err("no merge key");
        assert_eq!(err.path(), "spec.containers");
        assert!(err.message().contains("s3cr3t"), "{err}");
        assert!(!value_free(&err).contains("s3cr3t"), "{}", value_free(&err));
        let bad = three_way_merge_patch(&json!([1]), &json!({}), &json!({}), schema);
        assert_eq!(
            bad.expect_err("not an object").message(),
            "invalid JSON document"
        );
    }

    fn nested(depth: usize) -> Value {
        let mut v = json!("leaf");
        for _ in 0..depth {
            v = json!({ "a": v });
        }
        v
    }

    #[test]
    fn depth_is_bounded() {
        let (deep, deeper) = (nested(MAX_DEPTH + 10), json!({"a": nested(MAX_DEPTH + 10)}));
        let err = three_way_merge_patch(&deep, &deeper, &deep, TypeSchema::unknown())
            .expect_err("too deep");
        assert_eq!(err.message(), "patch nests too deeply");
        assert_eq!(json_merge_patch(&deep, &deep), json!({}));
        assert!(json_merge_patch(&deep, &deeper).is_object());
    }

    /// evanphx/json-patch merge_test.go `TestCreateMergePatch*` cases.
    #[test]
    fn json_merge_patch_like_evanphx() {
        let cases = [
            (
                json!({"a": 100, "b": 200}),
                json!({"a": 100, "b": 200}),
                json!({}),
            ),
            (
                json!({"a": 100, "b": 200}),
                json!({"a": 100, "b": 300}),
                json!({"b": 300}),
            ),
            (
                json!({"a": 100}),
                json!({"a": 100, "c": "hello"}),
                json!({"c": "hello"}),
            ),
            (
                json!({"a": 100, "b": 200}),
                json!({"a": 100}),
                json!({"b": null}),
            ),
            (
                json!({"a": {"b": 1, "c": 2}, "d": {"e": 3}}),
                json!({"a": {"b": 1, "c": 3}, "d": {"e": 3}}),
                json!({"a": {"c": 3}}),
            ),
            (
                json!({"a": {"b": 1}}),
                json!({"a": {}}),
                json!({"a": {"b": null}}),
            ),
            (
                json!({"a": [1, 2]}),
                json!({"a": [2, 1]}),
                json!({"a": [2, 1]}),
            ),
            (
                json!({"a": [{"b": 1}]}),
                json!({"a": [{"b": 1}]}),
                json!({}),
            ),
            (
                json!({"a": "x"}),
                json!({"a": {"x": 1}}),
                json!({"a": {"x": 1}}),
            ),
            (json!({"a": 1}), json!({"a": 1.0}), json!({"a": 1.0})),
            (json!({"a": null}), json!({"a": null}), json!({})),
            (json!({"a": null}), json!({"a": 1}), json!({"a": 1})),
        ];
        for (original, modified, expected) in cases {
            assert_eq!(
                json_merge_patch(&original, &modified),
                expected,
                "{original} → {modified}"
            );
        }
    }
}
