//! Secret redaction as helm-diff does it: values are never shown, only whether each one changed and
//! its decoded size; `--show-secrets-decoded` shows the decoded values instead.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::manifest::{emit_body, sort_keys};

/// The texts (without `# Source:`) of an old and a new Secret, `None` for an absent side.
///
/// `stringData` is folded into `data` first, as the API server would, so a value moved between the
/// two is unchanged. Each `data` value becomes `REDACTED # (N bytes)` when both sides hold the same
/// bytes, else `-------- # (N bytes)` on the old side and `++++++++ # (N bytes)` on the new one.
/// Only the fields of a `v1.Secret` are kept (helm-diff decodes into that type), so a misspelled
/// field can never carry a value through; a Secret that cannot be decoded is shown as an error.
///
/// With [`View::Decoded`] the values are printed decoded, under `stringData`, as helm-diff's
/// `--show-secrets-decoded` does.
pub(super) fn secret_bodies(
    old: Option<&Value>,
    new: Option<&Value>,
    view: View,
) -> (Option<String>, Option<String>) {
    let old = old.map(|v| decode(v).map_err(|e| format!("Error parsing old secret: {e}")));
    let new = new.map(|v| decode(v).map_err(|e| format!("Error parsing new secret: {e}")));
    (
        render(&old, data(&new), "--------", view),
        render(&new, data(&old), "++++++++", view),
    )
}

/// How Secret data is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    /// Sizes and whether each value changed.
    Redacted,
    /// The decoded values.
    Decoded,
}

type Decoded<'a> = Option<Result<Secret<'a>, String>>;

fn data<'a>(side: &'a Decoded) -> Option<&'a Data> {
    side.as_ref()?.as_ref().ok().map(|secret| &secret.data)
}

fn render(side: &Decoded, other: Option<&Data>, changed: &str, view: View) -> Option<String> {
    side.as_ref().map(|secret| match secret {
        Ok(secret) => secret.render(other, changed, view),
        Err(message) => format!("{message}\n"),
    })
}

type Data = BTreeMap<String, Vec<u8>>;

struct Secret<'a> {
    object: &'a Map<String, Value>,
    data: Data,
}

/// The top-level fields of a `v1.Secret` besides its data, in the order helm-diff prints them
/// (alphabetical, with `data` where its `stringData` sorts).
const FIELDS: [&str; 6] = [
    "apiVersion",
    "immutable",
    "kind",
    "metadata",
    "data",
    "type",
];

impl Secret<'_> {
    fn render(&self, other: Option<&Data>, changed: &str, view: View) -> String {
        let data: Map<String, Value> = self
            .data
            .iter()
            .map(|(key, bytes)| {
                let text = match view {
                    View::Decoded => String::from_utf8_lossy(bytes).into_owned(),
                    View::Redacted => {
                        let same = other.and_then(|o| o.get(key)) == Some(bytes);
                        let marker = if same { "REDACTED" } else { changed };
                        format!("{marker} # ({} bytes)", bytes.len())
                    }
                };
                (key.clone(), Value::String(text))
            })
            .collect();
        let mut data = (!data.is_empty()).then(|| sort_keys(&Value::Object(data)));
        let shown: Map<String, Value> = FIELDS
            .iter()
            .filter_map(|&field| {
                let value = match field {
                    "data" => data.take(),
                    _ => self
                        .object
                        .get(field)
                        .filter(|v| !v.is_null())
                        .map(sort_keys),
                };
                let name = match (field, view) {
                    ("data", View::Decoded) => "stringData",
                    _ => field,
                };
                value.map(|v| (name.to_string(), v))
            })
            .collect();
        emit_body(&Value::Object(shown))
    }
}

fn decode(value: &Value) -> Result<Secret<'_>, String> {
    let object = value.as_object().ok_or("not a mapping")?;
    let mut data = Data::new();
    for (key, value) in entries(object, "data")? {
        let bytes = match value {
            Value::Null => Vec::new(),
            Value::String(s) => crate::encoding::decode_base64(s)
                .ok_or_else(|| format!("data.{key}: illegal base64 data"))?,
            _ => return Err(format!("data.{key}: not a base64 string")),
        };
        data.insert(key.clone(), bytes);
    }
    for (key, value) in entries(object, "stringData")? {
        let bytes = match value {
            Value::Null => Vec::new(),
            Value::String(s) => s.as_bytes().to_vec(),
            _ => return Err(format!("stringData.{key}: not a string")),
        };
        data.insert(key.clone(), bytes);
    }
    Ok(Secret { object, data })
}

fn entries<'a>(
    object: &'a Map<String, Value>,
    field: &str,
) -> Result<Vec<(&'a String, &'a Value)>, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map.iter().collect()),
        Some(_) => Err(format!("{field}: not a mapping")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream;

    fn bodies(old: Option<&str>, new: Option<&str>) -> (Option<String>, Option<String>) {
        let old = old.map(|t| stream::load(t).unwrap());
        let new = new.map(|t| stream::load(t).unwrap());
        secret_bodies(old.as_ref(), new.as_ref(), View::Redacted)
    }

    #[test]
    fn helm_diff_wording_and_sizes() {
        let (old, new) = bodies(
            Some(
                "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: Opaque\ndata:\n  key1: dmFsdWUx\n  key2: dmFsdWUy\n  key3: dmFsdWUz\n",
            ),
            Some(
                "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: Opaque\nstringData:\n  key1: value1changed\n  key2: value2\n  key4: value4\n",
            ),
        );
        let (old, new) = (old.unwrap(), new.unwrap());
        for (text, marker) in [(&old, "--------"), (&new, "++++++++")] {
            assert!(
                text.contains("key2: 'REDACTED # (6 bytes)'")
                    || text.contains("key2: \"REDACTED # (6 bytes)\""),
                "{text}"
            );
            assert!(text.contains(&format!("{marker} # (")), "{text}");
            assert!(!text.contains("value") && !text.contains("dmFs"), "{text}");
            let order: Vec<usize> = ["apiVersion", "kind", "metadata", "data:", "type"]
                .iter()
                .map(|k| text.find(k).unwrap())
                .collect();
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
        }
        assert!(old.contains("key1: '-------- # (6 bytes)'"), "{old}");
        assert!(new.contains("key1: '++++++++ # (13 bytes)'"), "{new}");
        assert!(old.contains("key3: '-------- # (6 bytes)'"), "{old}");
        assert!(new.contains("key4: '++++++++ # (6 bytes)'"), "{new}");
    }

    #[test]
    fn added_secret_has_only_new_markers_and_unknown_fields_are_dropped() {
        let (old, new) = bodies(
            None,
            Some(
                "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nimmutable: true\nstringdata: {p: hunter2}\ndata: {e: null}\n",
            ),
        );
        assert_eq!(old, None);
        let new = new.unwrap();
        assert!(
            new.contains("'++++++++ # (0 bytes)'") && new.contains("immutable: true"),
            "{new}"
        );
        assert!(
            !new.contains("hunter2") && !new.contains("stringdata"),
            "{new}"
        );
    }

    #[test]
    fn undecodable_secret_is_an_error_line_without_values() {
        let (old, new) = bodies(
            Some("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: 'not*base64'}\n"),
            Some("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: [hunter2]}\n"),
        );
        assert_eq!(
            old.unwrap(),
            "Error parsing old secret: data.k: illegal base64 data\n"
        );
        assert_eq!(
            new.unwrap(),
            "Error parsing new secret: stringData.k: not a string\n"
        );
        let (_, new) = bodies(None, Some("[hunter2]\n"));
        assert_eq!(new.unwrap(), "Error parsing new secret: not a mapping\n");
    }

    #[test]
    fn decoded_view_shows_values_under_string_data() {
        let old = stream::load(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: aHVudGVyMg==}\n",
        )
        .unwrap();
        let (old, _) = secret_bodies(Some(&old), None, View::Decoded);
        assert_eq!(
            old.unwrap(),
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: hunter2\n"
        );
    }
}
