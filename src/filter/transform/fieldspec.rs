//! kustomize `fieldSpecs`: which objects (group, version, kind) and which field (a `/` path) a
//! transformer sets, walked as kustomize's `api/filters/fieldspec` walks them: lists along the
//! path are entered element by element (`[]` is only a hint), a missing field ends the walk unless
//! `create` (then maps are made on the way), `\/` escapes a slash in a key.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::patch::json6902::type_name;

/// One kustomize `FieldSpec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FieldSpec {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub path: String,
    /// Create the field (and the maps leading to it) when missing.
    #[serde(default)]
    pub create: bool,
}

/// What a transformer puts at the end of a path it creates: kustomize's `CreateKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Create {
    /// Never create (the image filter).
    Never,
    /// A mapping (labels, annotations).
    Map,
    /// A scalar, set right after (names, namespaces, replicas).
    Scalar,
}

/// Group and version of an `apiVersion`.
pub(super) fn group_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// kustomize's `Gvk.IsSelected`: an empty field of the selector matches anything.
pub(super) fn selects(group: &str, version: &str, kind: &str, object: &Value) -> bool {
    let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or_default();
    let (g, v) = group_version(text("apiVersion"));
    (group.is_empty() || group == g)
        && (version.is_empty() || version == v)
        && (kind.is_empty() || kind == text("kind"))
}

impl FieldSpec {
    /// Whether the spec applies to `object`'s group, version and kind.
    pub fn selects(&self, object: &Value) -> bool {
        selects(&self.group, &self.version, &self.kind, object)
    }

    /// Calls `set` on every node at the path in `object` (when the spec selects it), creating the
    /// path when the spec says so and `create` allows it. Errors name the field spec's path.
    pub fn apply(
        &self,
        object: &mut Value,
        create: Create,
        set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
    ) -> Result<(), String> {
        if !self.selects(object) {
            return Ok(());
        }
        let path = split_path(&self.path);
        let create = if self.create { create } else { Create::Never };
        walk(object, &path, create, set).map_err(|e| format!("fieldSpec path `{}`: {e}", self.path))
    }
}

/// kustomize's `PathSplitter`: `/`-separated, a leading `/` allowed, `\/` kept inside a key.
fn split_path(path: &str) -> Vec<String> {
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.len() > 1 && parts[0].is_empty() {
        parts.remove(0);
    }
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    for part in parts {
        match out.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('/');
                last.push_str(part);
            }
            _ => out.push(part.to_string()),
        }
    }
    out
}

fn walk(
    node: &mut Value,
    path: &[String],
    create: Create,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return set(node);
    };
    match node {
        Value::Null => Ok(()),
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|item| walk(item, path, create, set)),
        Value::Object(map) => {
            let (name, is_list) = match first.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (first.as_str(), false),
            };
            if name.is_empty() {
                return Err("cannot set or create an empty field name".into());
            }
            let creating = create != Create::Never && !is_list;
            let made = || match (rest.is_empty(), create) {
                (true, Create::Scalar) => Value::Null,
                _ => Value::Object(Map::new()),
            };
            let field = match map.get_mut(name) {
                Some(field) => field,
                None if creating => map.entry(name).or_insert_with(made),
                None => return Ok(()),
            };
            // kustomize turns an explicit null into the kind it would create.
            if field.is_null() {
                if is_list {
                    *field = Value::Array(Vec::new());
                } else if creating {
                    *field = made();
                }
            }
            walk(field, rest, create, set)
        }
        other => Err(format!(
            "expected a mapping or a list at `{first}`, found {}",
            type_name(other)
        )),
    }
}

/// The scalar at a leaf as kustomize reads its text (`""` for null); lists and maps are refused.
pub(super) fn scalar_text(node: &Value) -> Result<String, String> {
    match node {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("expected a scalar, found {}", type_name(other))),
    }
}

/// Sets `key: value` in the mapping at a leaf (labels, annotations); null leaves are left alone,
/// as kustomize's field setter leaves them.
pub(super) fn set_entry(node: &mut Value, key: &str, value: &str) -> Result<(), String> {
    match node {
        Value::Null => Ok(()),
        Value::Object(map) => {
            map.insert(key.to_string(), Value::String(value.to_string()));
            Ok(())
        }
        other => Err(format!("expected a mapping, found {}", type_name(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            path: path.into(),
            create,
            ..FieldSpec::default()
        }
    }

    fn set_x(node: &mut Value) -> Result<(), String> {
        *node = json!("x");
        Ok(())
    }

    #[test]
    fn paths_split_on_unescaped_slashes() {
        assert_eq!(split_path("/a/b"), ["a", "b"]);
        assert_eq!(
            split_path(r"metadata/annotations/a.io\/b"),
            ["metadata", "annotations", "a.io/b"]
        );
        assert_eq!(split_path(""), [""]);
    }

    #[test]
    fn lists_are_entered_and_missing_fields_created_only_when_asked() {
        let mut obj = json!({"kind": "K", "spec": {"c": [{"image": "a"}, {}]}});
        spec("spec/c[]/image", true)
            .apply(&mut obj, Create::Scalar, &mut set_x)
            .unwrap();
        assert_eq!(obj["spec"]["c"], json!([{"image": "x"}, {"image": "x"}]));
        // `[]` marks a list, which is never created.
        spec("spec/l[]/image", true)
            .apply(&mut obj, Create::Scalar, &mut set_x)
            .unwrap();
        assert!(obj["spec"].get("l").is_none());
        spec("spec/new/deep", false)
            .apply(&mut obj, Create::Scalar, &mut set_x)
            .unwrap();
        assert!(obj["spec"].get("new").is_none());
        let mut wrong_kind = FieldSpec {
            kind: "Other".into(),
            ..spec("spec/new", true)
        };
        wrong_kind
            .apply(&mut obj, Create::Scalar, &mut set_x)
            .unwrap();
        assert!(obj["spec"].get("new").is_none());
        wrong_kind.kind = "K".into();
        wrong_kind
            .apply(&mut obj, Create::Scalar, &mut set_x)
            .unwrap();
        assert_eq!(obj["spec"]["new"], "x");
    }

    #[test]
    fn bad_paths_are_errors_naming_the_path() {
        let mut obj = json!({"metadata": {"name": "n"}});
        let err = spec("metadata/name/deeper", true)
            .apply(&mut obj, Create::Map, &mut set_x)
            .unwrap_err();
        assert_eq!(
            err,
            "fieldSpec path `metadata/name/deeper`: expected a mapping or a list at `deeper`, \
             found a string"
        );
        let err = spec("metadata//labels", true)
            .apply(&mut obj, Create::Map, &mut set_x)
            .unwrap_err();
        assert!(
            err.ends_with("cannot set or create an empty field name"),
            "{err}"
        );
    }
}
