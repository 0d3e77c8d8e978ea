//! Strategic merge patch as kustomize 5.x applies it (`patches:` → kyaml `merge2` with
//! `ListIncreaseDirection: Prepend`), on JSON values.
//!
//! The reference is kustomize v5.5.0 as embedded in kubectl 1.32, checked differentially
//! with `kubectl kustomize`; where kustomize's newer sources behave differently (lists
//! with several keys), v5.5.0 wins. List semantics come from the schema as kustomize's
//! embedded Kubernetes v1.21.2 OpenAPI knows it (see [`TypeSchema`]); registered CRDs
//! additionally merge `x-kubernetes-list-type: map` lists, which kustomize itself only
//! does when given the CRD's OpenAPI.
//!
//! Differences from kyaml that come from working on values instead of YAML nodes:
//! comments and quoting are not modelled; a `null` in the original is treated as a
//! spelled-out `null` (kept unless the patch touches it), since `key:` and `key: null`
//! cannot be told apart; subtrees the patch does not mention are left untouched rather
//! than re-normalised by the walker; per-field schema comments (`# {"$ref": …}`) are not
//! read.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::redact::Quote;
use super::schema::{ListStrategy, TypeSchema};
use super::smp_common::{AtPath, DIRECTIVE, MAX_DEPTH, SmpError};

type JsonMap = Map<String, Value>;

/// kyaml `merge2` options. kustomize's `patches:` uses the defaults (prepend, no inference).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KustomizeOptions {
    /// New list elements go after existing ones (kustomize ≤ 3.7); default is prepend.
    pub append: bool,
    /// Without a schema, merge lists whose elements all carry `name` by that key.
    pub infer_associative_lists: bool,
}

/// Resource-level kustomize semantics: a top-level `$patch: delete` yields `null` (the
/// caller drops the resource), a top-level `$patch: replace` is ignored (kustomize keeps
/// the resource unchanged).
pub(crate) fn apply(
    original: Value,
    patch: &Value,
    schema: TypeSchema<'_>,
) -> Result<Value, SmpError> {
    match patch.get(DIRECTIVE).and_then(Value::as_str) {
        Some("delete") => Ok(Value::Null),
        Some("replace") => Ok(original),
        _ => {
            let mut merged = kustomize_merge(original, patch, schema, KustomizeOptions::default())?;
            drop_empty_annotations(&mut merged);
            Ok(merged)
        }
    }
}

/// kustomize rewrites `metadata.annotations` when it emits a resource (it strips its own
/// internal annotations), which removes the map when it ends up empty.
fn drop_empty_annotations(resource: &mut Value) {
    if let Some(meta) = resource.get_mut("metadata").and_then(Value::as_object_mut)
        && meta.get("annotations").is_some_and(is_empty_map)
    {
        meta.shift_remove("annotations");
    }
}

/// kyaml `merge2.Merge(patch, original)`; returns `null` when the merge clears the object.
pub fn kustomize_merge(
    original: Value,
    patch: &Value,
    schema: TypeSchema<'_>,
    options: KustomizeOptions,
) -> Result<Value, SmpError> {
    let walker = Walker { options };
    Ok(walker
        .walk(Some(original), Some(patch), schema, 0)?
        .unwrap_or(Value::Null))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NodeKind {
    Scalar,
    Map,
    Seq,
}

impl NodeKind {
    fn of(v: &Value) -> Self {
        match v {
            Value::Object(_) => NodeKind::Map,
            Value::Array(_) => NodeKind::Seq,
            _ => NodeKind::Scalar,
        }
    }

    fn name(self) -> &'static str {
        match self {
            NodeKind::Scalar => "ScalarNode",
            NodeKind::Map => "MappingNode",
            NodeKind::Seq => "SequenceNode",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

fn parse_directive(v: &Value) -> Result<Directive, SmpError> {
    match v.as_str() {
        Some("merge") => Ok(Directive::Merge),
        Some("replace") => Ok(Directive::Replace),
        Some("delete") => Ok(Directive::Delete),
        other => Err(SmpError::quoting(|q| {
            format!(
                "unknown patch strategy '{}'",
                q.value(|| other.unwrap_or("").to_owned())
            )
        })),
    }
}

/// A list element's key value as kyaml compares it: the YAML scalar text, so `80` and
/// `"80"` are the same key; missing, null and non-scalar values are "".
fn key_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Key texts of one element for every merge key.
fn key_tuple(elem: &Value, keys: &[Box<str>]) -> Vec<String> {
    keys.iter().map(|k| key_text(elem.get(&**k))).collect()
}

/// Elements of a multi-key list, indexed for exact and partial key-tuple lookups.
struct KeyedList {
    tuples: Vec<Vec<String>>,
    by_tuple: HashMap<Vec<String>, Vec<usize>>,
    by_primary: HashMap<String, Vec<usize>>,
}

impl KeyedList {
    fn new(items: &[Value], keys: &[Box<str>]) -> Self {
        let tuples: Vec<Vec<String>> = items.iter().map(|e| key_tuple(e, keys)).collect();
        let mut by_tuple: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
        let mut by_primary: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, t) in tuples.iter().enumerate() {
            by_tuple.entry(t.clone()).or_default().push(i);
            if let Some(first) = t.first().filter(|f| !f.is_empty()) {
                by_primary.entry(first.clone()).or_default().push(i);
            }
        }
        Self {
            tuples,
            by_tuple,
            by_primary,
        }
    }

    /// Elements whose key tuple equals `values` exactly (missing keys included).
    fn exact<'s>(&'s self, values: &[String]) -> impl Iterator<Item = usize> + 's {
        self.by_tuple.get(values).into_iter().flatten().copied()
    }

    /// Whether some element agrees with `values` wherever `values` has a key.
    fn any_partial(&self, values: &[String], alive: impl Fn(usize) -> bool) -> bool {
        let matches = |i: usize| {
            alive(i)
                && values
                    .iter()
                    .zip(&self.tuples[i])
                    .all(|(want, have)| want.is_empty() || want == have)
        };
        match values.first().filter(|f| !f.is_empty()) {
            Some(primary) => self
                .by_primary
                .get(primary)
                .is_some_and(|c| c.iter().any(|&i| matches(i))),
            None => (0..self.tuples.len()).any(matches),
        }
    }
}

struct Walker {
    options: KustomizeOptions,
}

impl Walker {
    /// kyaml `Walker.Walk` with the `merge2.Merger` visitor. `None` means "absent / cleared".
    fn walk(
        &self,
        dest: Option<Value>,
        origin: Option<&Value>,
        schema: TypeSchema<'_>,
        depth: usize,
    ) -> Result<Option<Value>, SmpError> {
        if depth > MAX_DEPTH {
            return Err(SmpError::new("patch nests too deeply"));
        }
        let kind = dest
            .as_ref()
            .filter(|v| !v.is_null())
            .or(origin.filter(|v| !v.is_null()))
            .map(NodeKind::of);
        let Some(kind) = kind else {
            // Both sides null or missing: a null only the original has survives.
            return Ok(match (dest, origin) {
                (Some(Value::Null), None) => Some(Value::Null),
                _ => None,
            });
        };
        for side in [dest.as_ref(), origin].into_iter().flatten() {
            if !side.is_null() && NodeKind::of(side) != kind {
                return Err(SmpError::new(format!(
                    "wrong node kind: expected {} but got {}",
                    kind.name(),
                    NodeKind::of(side).name()
                )));
            }
        }
        match kind {
            NodeKind::Scalar => Ok(match origin {
                Some(Value::Null) => None,
                Some(v) => Some(v.clone()),
                None => dest,
            }),
            NodeKind::Map => self.walk_map(dest, origin, schema, depth),
            NodeKind::Seq => self.walk_seq(dest, origin, schema, depth),
        }
    }

    fn walk_map(
        &self,
        dest: Option<Value>,
        origin: Option<&Value>,
        schema: TypeSchema<'_>,
        depth: usize,
    ) -> Result<Option<Value>, SmpError> {
        let patch = match origin {
            Some(Value::Object(p)) => p,
            Some(_) => return Ok(None),
            None => return Ok(dest),
        };
        let directive = patch.get(DIRECTIVE);
        let mut base = match dest {
            Some(Value::Object(d)) => match directive.map(parse_directive).transpose()? {
                Some(Directive::Delete) => return Ok(None),
                Some(Directive::Replace) => return self.build(patch, schema, depth),
                _ => d,
            },
            // Adding (unknown directives are ignored here, as kyaml does).
            _ => match directive.map(parse_directive) {
                Some(Ok(Directive::Delete)) => return Ok(None),
                _ => return self.build(patch, schema, depth),
            },
        };
        let mut keys: Vec<&String> = patch.keys().filter(|k| *k != DIRECTIVE).collect();
        keys.sort_unstable();
        for key in keys {
            let child_dest = base.get_mut(key.as_str()).map(std::mem::take);
            let merged = self
                .walk(
                    child_dest,
                    patch.get(key.as_str()),
                    schema.field(key),
                    depth + 1,
                )
                .at_field(key)?;
            match merged {
                Some(v) if !v.is_null() => {
                    base.insert(key.clone(), v);
                }
                _ => {
                    base.shift_remove(key.as_str());
                }
            }
        }
        Ok(Some(Value::Object(base)))
    }

    /// A patch map taken as the new value: kyaml merges it with itself, which processes
    /// nested directives and drops nulls.
    fn build(
        &self,
        patch: &JsonMap,
        schema: TypeSchema<'_>,
        depth: usize,
    ) -> Result<Option<Value>, SmpError> {
        let mut out = JsonMap::with_capacity(patch.len());
        for (key, value) in patch {
            if key == DIRECTIVE {
                continue;
            }
            let added = self
                .walk(None, Some(value), schema.field(key), depth + 1)
                .at_field(key)?;
            if let Some(v) = added.filter(|v| !v.is_null()) {
                out.insert(key.clone(), v);
            }
        }
        Ok(Some(Value::Object(out)))
    }

    fn walk_seq(
        &self,
        dest: Option<Value>,
        origin: Option<&Value>,
        schema: TypeSchema<'_>,
        depth: usize,
    ) -> Result<Option<Value>, SmpError> {
        let keys: Vec<Box<str>> = match schema.kustomize_list() {
            ListStrategy::Merge(keys) => keys.to_vec(),
            ListStrategy::Replace
                if self.options.infer_associative_lists && !schema.known_to_kustomize() =>
            {
                match inferred_key(dest.as_ref(), origin)? {
                    Some(k) => vec![k.into()],
                    None => return Ok(non_associative(dest, origin)),
                }
            }
            ListStrategy::Replace => return Ok(non_associative(dest, origin)),
        };
        let patch = match origin {
            Some(Value::Array(p)) => p,
            Some(_) => return Ok(None),
            None => return Ok(dest),
        };
        let (directive, patch) = sequence_directive(patch)?;
        let replaced = directive == Directive::Replace;
        let (dest, self_merge) = match (directive, dest) {
            (Directive::Delete, _) => return Ok(None),
            (Directive::Merge, Some(Value::Array(d))) => (d, false),
            // Adding a list, or replacing one: the patch merges with itself.
            _ => (patch.clone(), true),
        };
        let items = schema.items();
        let merged = match keys.len() {
            0 => self.merge_primitive(dest, &patch),
            1 => self.merge_single_key(dest, &patch, &keys[0], items, depth)?,
            _ if self_merge => self.add_multi_key(&patch, &keys, replaced, items, depth)?,
            _ => self.merge_multi_key(dest, &patch, &keys, items, depth)?,
        };
        Ok(Some(Value::Array(merged)))
    }

    /// Sets (`finalizers`): union by scalar text; the patch's copy of a value wins.
    fn merge_primitive(&self, dest: Vec<Value>, patch: &[Value]) -> Vec<Value> {
        let mut from_patch: HashMap<String, &Value> = HashMap::with_capacity(patch.len());
        for v in patch {
            from_patch.entry(scalar_text(v)).or_insert(v);
        }
        let sources: Vec<Value> = if self.options.append {
            dest.into_iter().chain(patch.iter().cloned()).collect()
        } else {
            patch.iter().cloned().chain(dest).collect()
        };
        let mut seen = HashSet::with_capacity(sources.len());
        let mut out = Vec::with_capacity(sources.len());
        for v in sources {
            let text = scalar_text(&v);
            if v.is_null() || !seen.insert(text.clone()) {
                continue;
            }
            out.push(from_patch.get(&text).map_or(v, |p| (*p).clone()));
        }
        out
    }

    /// Lists with one merge key (containers, env, volumes, …): elements named by the patch
    /// come first, in patch order, then the original's other elements (prepend mode).
    ///
    /// Mirrors kyaml's bookkeeping: merged originals are updated in place; a patch element
    /// without the key deletes every keyed original not yet merged; at the end every
    /// original still in the list is re-set into the result by key, which undoes an
    /// element-level `$patch: replace` and lets an unmerged duplicate win.
    fn merge_single_key(
        &self,
        dest: Vec<Value>,
        patch: &[Value],
        key: &str,
        item_schema: TypeSchema<'_>,
        depth: usize,
    ) -> Result<Vec<Value>, SmpError> {
        enum State {
            Alive(Value),
            Merged(usize),
            Dead,
        }
        let dest_keys: Vec<String> = dest.iter().map(|e| key_text(e.get(key))).collect();
        let patch_keys: Vec<String> = patch.iter().map(|e| key_text(e.get(key))).collect();
        let mut first_patch: HashMap<&str, usize> = HashMap::with_capacity(patch.len());
        for (i, k) in patch_keys.iter().enumerate() {
            first_patch.entry(k.as_str()).or_insert(i);
        }
        let mut first_dest: HashMap<&str, usize> = HashMap::with_capacity(dest_keys.len());
        for (j, k) in dest_keys.iter().enumerate().filter(|(_, k)| !k.is_empty()) {
            first_dest.entry(k.as_str()).or_insert(j);
        }
        let mut state: Vec<State> = dest.into_iter().map(State::Alive).collect();

        // Keys in kyaml's order: patch first for prepend, dest first for append.
        let (first, second) = if self.options.append {
            (&dest_keys, &patch_keys)
        } else {
            (&patch_keys, &dest_keys)
        };
        let mut slots: Vec<Option<Value>> = Vec::new();
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        let mut done: HashSet<&str> = HashSet::new();
        for k in first.iter().chain(second) {
            if !done.insert(k.as_str()) {
                continue;
            }
            if k.is_empty() {
                if first_patch.contains_key("") {
                    for (st, dk) in state.iter_mut().zip(&dest_keys) {
                        if !dk.is_empty() {
                            *st = State::Dead;
                        }
                    }
                }
                continue;
            }
            let p = first_patch.get(k.as_str()).map(|&i| &patch[i]);
            let d = first_dest
                .get(k.as_str())
                .copied()
                .filter(|&j| matches!(state[j], State::Alive(_)));
            let replace =
                p.and_then(|p| p.get(DIRECTIVE)).and_then(Value::as_str) == Some("replace");
            let dest_value = match d {
                Some(j) if !replace => match std::mem::replace(&mut state[j], State::Dead) {
                    State::Alive(v) => Some(v),
                    _ => None,
                },
                _ => None,
            };
            let merged = self
                .walk(dest_value, p, item_schema, depth + 1)
                .at_item(|q| format!("{key}={}", q.value(|| k.clone())))?;
            let merged = match merged {
                Some(Value::Object(mut m)) if !m.is_empty() => {
                    if !m.contains_key(key) {
                        m.insert(key.to_owned(), Value::String(k.clone()));
                    }
                    Value::Object(m)
                }
                None | Some(Value::Null) | Some(Value::Object(_)) => {
                    for (st, dk) in state.iter_mut().zip(&dest_keys) {
                        if dk == k {
                            *st = State::Dead;
                        }
                    }
                    continue;
                }
                Some(other) => other,
            };
            if let (Some(j), false) = (d, replace) {
                state[j] = State::Merged(slots.len());
            }
            slot_of.insert(k, slots.len());
            slots.push(Some(merged));
        }

        let mut out = Vec::with_capacity(slots.len() + state.len());
        if self.options.append {
            for st in state {
                match st {
                    State::Merged(pos) => out.extend(slots[pos].take()),
                    State::Alive(v) => out.push(v),
                    State::Dead => {}
                }
            }
            out.extend(slots.into_iter().flatten());
            return Ok(out);
        }
        let mut keyless = Vec::new();
        for (st, dk) in state.into_iter().zip(&dest_keys) {
            let State::Alive(v) = st else { continue };
            match slot_of.get(dk.as_str()) {
                _ if dk.is_empty() => keyless.push(v),
                Some(&pos) => slots[pos] = Some(v),
                None => slots.push(Some(v)),
            }
        }
        out.extend(slots.into_iter().flatten());
        out.extend(keyless);
        Ok(out)
    }

    /// Lists with several keys (ports: `[containerPort, protocol]`), as kustomize 5.5 does
    /// them: elements with the same key values (missing ones included) merge in place, new
    /// elements are prepended in patch order, an element matching only on the keys it has
    /// is ignored, `$patch: delete` needs every key and `$patch: replace` of an existing
    /// element changes nothing.
    fn merge_multi_key(
        &self,
        dest: Vec<Value>,
        patch: &[Value],
        keys: &[Box<str>],
        item_schema: TypeSchema<'_>,
        depth: usize,
    ) -> Result<Vec<Value>, SmpError> {
        let dest_index = KeyedList::new(&dest, keys);
        let mut dest: Vec<Option<Value>> = dest.into_iter().map(Some).collect();
        let mut added = Vec::new();
        let mut seen = HashSet::new();
        for elem in patch {
            let tuple = key_tuple(elem, keys);
            if tuple.iter().all(String::is_empty) || !seen.insert(tuple.clone()) {
                continue;
            }
            let alive = |j: usize| dest[j].is_some();
            let exact = dest_index.exact(&tuple).find(|&j| alive(j));
            if elem.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") {
                if tuple.iter().all(|v| !v.is_empty()) {
                    for j in dest_index.exact(&tuple) {
                        dest[j] = None;
                    }
                }
                continue;
            }
            let desc = |q| describe(q, keys, &tuple);
            let replace = elem.get(DIRECTIVE).and_then(Value::as_str) == Some("replace");
            match exact {
                // As for single-key lists, kyaml leaves the original element in place.
                Some(_) if replace => {}
                Some(j) => {
                    let merged = self
                        .walk(dest[j].take(), Some(elem), item_schema, depth + 1)
                        .at_item(desc)?;
                    dest[j] = merged.filter(|v| !is_empty_map(v));
                }
                // kustomize 5.5 ignores an element that omits a key another element has.
                None if dest_index.any_partial(&tuple, alive) => {}
                None => {
                    let new = self
                        .walk(None, Some(elem), item_schema, depth + 1)
                        .at_item(desc)?;
                    added.extend(new.filter(|v| !is_empty_map(v)));
                }
            }
        }
        let kept = dest.into_iter().flatten();
        Ok(if self.options.append {
            kept.chain(added).collect()
        } else {
            added.into_iter().chain(kept).collect()
        })
    }

    /// A multi-key list added or replaced wholesale: keyless and duplicate elements are
    /// dropped; `$patch: delete` elements are dropped when adding but, as kustomize 5.5
    /// does, kept minus the marker when replacing.
    fn add_multi_key(
        &self,
        patch: &[Value],
        keys: &[Box<str>],
        replaced: bool,
        item_schema: TypeSchema<'_>,
        depth: usize,
    ) -> Result<Vec<Value>, SmpError> {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(patch.len());
        for elem in patch {
            let tuple = key_tuple(elem, keys);
            if tuple.iter().all(String::is_empty) || !seen.insert(tuple.clone()) {
                continue;
            }
            let stripped;
            let elem = match elem {
                Value::Object(m)
                    if replaced && m.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") =>
                {
                    stripped = Value::Object(without_directive(m));
                    &stripped
                }
                other => other,
            };
            let added = self
                .walk(None, Some(elem), item_schema, depth + 1)
                .at_item(|q| describe(q, keys, &tuple))?;
            out.extend(added.filter(|v| !is_empty_map(v)));
        }
        Ok(out)
    }
}

fn is_empty_map(v: &Value) -> bool {
    v.as_object().is_some_and(JsonMap::is_empty)
}

fn describe(q: Quote, keys: &[Box<str>], tuple: &[String]) -> String {
    keys.iter()
        .zip(tuple)
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", q.value(|| v.clone())))
        .collect::<Vec<_>>()
        .join(",")
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => v.to_string(),
        other => key_text(Some(other)),
    }
}

fn without_directive(patch: &JsonMap) -> JsonMap {
    let mut m = patch.clone();
    m.shift_remove(DIRECTIVE);
    m
}

fn non_associative(dest: Option<Value>, origin: Option<&Value>) -> Option<Value> {
    match origin {
        Some(Value::Null) => None,
        Some(v) => Some(v.clone()),
        None => dest,
    }
}

/// kyaml `determineSequenceNodePatchStrategy`: the first element carrying `$patch`, if
/// that is its only key, is a directive for the whole list; every element with the same
/// `$patch` value is then removed from the patch.
fn sequence_directive(patch: &[Value]) -> Result<(Directive, Vec<Value>), SmpError> {
    let first = patch
        .iter()
        .filter_map(Value::as_object)
        .find(|m| m.contains_key(DIRECTIVE));
    let Some(marker) = first
        .filter(|m| m.len() == 1)
        .and_then(|m| m.get(DIRECTIVE))
    else {
        return Ok((Directive::Merge, patch.to_vec()));
    };
    let directive = parse_directive(marker)?;
    let rest = patch
        .iter()
        .filter(|e| e.get(DIRECTIVE) != Some(marker))
        .cloned()
        .collect();
    Ok((directive, rest))
}

/// kyaml `elementKey` with `AssociativeSequenceKeys = ["name"]`, for schema-less lists.
fn inferred_key(
    dest: Option<&Value>,
    origin: Option<&Value>,
) -> Result<Option<&'static str>, SmpError> {
    let all_named = |v: &Value| {
        v.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|e| e.get("name").is_some()))
    };
    let non_empty: Vec<&Value> = [dest, origin]
        .into_iter()
        .flatten()
        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    if !non_empty.iter().any(|v| all_named(v)) {
        return Ok(None);
    }
    if non_empty.iter().all(|v| all_named(v)) {
        Ok(Some("name"))
    } else {
        Err(SmpError::new("conflicting merge keys [name,] for field"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::schema::SchemaRegistry;
    use crate::patch::{SmpMode, strategic_merge};
    use serde_json::json;

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    }

    fn kz(original: &Value, patch: &Value) -> Result<Value, SmpError> {
        let reg = SchemaRegistry::builtin();
        let schema = reg.lookup("v1", "Pod");
        strategic_merge(original, patch, schema, SmpMode::Kustomize)
    }

    #[test]
    fn patched_element_moves_to_front() {
        let original = pod(json!({"containers": [{"name": "app"}, {"name": "sidecar"}]}));
        let patch = pod(json!({"containers": [{"name": "sidecar", "image": "s"}]}));
        let got = kz(&original, &patch).expect("merge");
        assert_eq!(
            got["spec"]["containers"],
            json!([{"name": "sidecar", "image": "s"}, {"name": "app"}])
        );
    }

    #[test]
    fn ports_merge_by_port_and_protocol() {
        let original = pod(json!({"containers": [{"name": "dns", "ports": [
            {"containerPort": 53, "protocol": "UDP", "name": "dns-udp"},
            {"containerPort": 53, "protocol": "TCP", "name": "dns-tcp"}]}]}));
        let patch = pod(json!({"containers": [{"name": "dns", "ports": [
            {"containerPort": 53, "protocol": "TCP", "name": "renamed"},
            {"containerPort": 9153, "protocol": "TCP", "name": "metrics"}]}]}));
        let got = kz(&original, &patch).expect("merge");
        let names: Vec<&str> = got["spec"]["containers"][0]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, ["metrics", "dns-udp", "renamed"]);
    }

    #[test]
    fn keys_compare_as_text() {
        let original = pod(json!({"containers": [{"name": "a", "ports": [
            {"containerPort": 80, "protocol": "TCP", "name": "http"}]}]}));
        let patch = pod(json!({"containers": [{"name": "a", "ports": [
            {"containerPort": "80", "protocol": "TCP", "name": "web"}]}]}));
        let got = kz(&original, &patch).expect("merge");
        assert_eq!(
            got["spec"]["containers"][0]["ports"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn map_directives() {
        let original = pod(json!({"nodeSelector": {"a": "b"}, "affinity": {"x": 1}}));
        let patch = pod(
            json!({"nodeSelector": {"$patch": "delete"}, "affinity": {"$patch": "merge", "y": 2},
                               "tolerations": null, "dnsConfig": {"$patch": "replace", "z": 3}}),
        );
        let got = kz(&original, &patch).expect("merge");
        assert!(got["spec"].get("nodeSelector").is_none());
        assert_eq!(got["spec"]["affinity"], json!({"x": 1, "y": 2}));
        assert_eq!(got["spec"]["dnsConfig"], json!({"z": 3}));
        let bad = pod(json!({"affinity": {"$patch": "bogus"}}));
        let err = kz(&original, &bad).expect_err("unknown directive");
        assert_eq!(
            err.to_string(),
            "spec.affinity: unknown patch strategy 'bogus'"
        );
    }

    #[test]
    fn unsupported_directives_are_plain_fields() {
        let original = pod(json!({"containers": [{"name": "a"}]}));
        let patch = pod(json!({"$setElementOrder/containers": [{"name": "a"}]}));
        let got = kz(&original, &patch).expect("merge");
        assert_eq!(
            got["spec"]["$setElementOrder/containers"],
            json!([{"name": "a"}])
        );
    }

    #[test]
    fn list_directives() {
        let original = pod(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
        let replace = pod(json!({"containers": [{"name": "c"}, {"$patch": "replace"}]}));
        let got = kz(&original, &replace).expect("replace");
        assert_eq!(got["spec"]["containers"], json!([{"name": "c"}]));
        let delete = pod(json!({"containers": [{"$patch": "delete"}]}));
        let got = kz(&original, &delete).expect("delete");
        assert!(got["spec"].get("containers").is_none());
        let one = pod(json!({"containers": [{"name": "a", "$patch": "delete"}]}));
        let got = kz(&original, &one).expect("delete element");
        assert_eq!(got["spec"]["containers"], json!([{"name": "b"}]));
    }

    #[test]
    fn kyaml_schema_gaps_replace() {
        let original = pod(json!({"schedulingGates": [{"name": "a"}]}));
        let patch = pod(json!({"schedulingGates": [{"name": "b"}]}));
        let got = kz(&original, &patch).expect("merge");
        assert_eq!(got["spec"]["schedulingGates"], json!([{"name": "b"}]));
    }

    #[test]
    fn resource_level_directives_and_annotations() {
        let original = pod(json!({}));
        assert!(
            kz(&original, &json!({"$patch": "delete"}))
                .expect("delete")
                .is_null()
        );
        assert_eq!(
            kz(&original, &json!({"$patch": "replace", "kind": "X"})).expect("replace"),
            original
        );
        let with_note = json!({"metadata": {"name": "p", "annotations": {"a": "b"}}});
        let got = kz(
            &with_note,
            &json!({"metadata": {"annotations": {"a": null}}}),
        )
        .expect("merge");
        assert_eq!(got, json!({"metadata": {"name": "p"}}));
    }

    #[test]
    fn kind_mismatch_is_an_error() {
        let original = pod(json!({"hostname": "h"}));
        let err = kz(&original, &pod(json!({"hostname": {"a": 1}}))).expect_err("mismatch");
        assert_eq!(err.path(), "spec.hostname");
        assert!(err.message().starts_with("wrong node kind"));
    }

    #[test]
    fn merge2_append_mode() {
        let original = json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let patch = json!({"spec": {"containers": [{"name": "c"}, {"name": "b", "image": "x"}]}});
        let reg = SchemaRegistry::builtin();
        let options = KustomizeOptions {
            append: true,
            infer_associative_lists: false,
        };
        let got =
            kustomize_merge(original, &patch, reg.lookup("v1", "Pod"), options).expect("merge");
        assert_eq!(
            got["spec"]["containers"],
            json!([{"name": "a"}, {"name": "b", "image": "x"}, {"name": "c"}])
        );
    }
}
