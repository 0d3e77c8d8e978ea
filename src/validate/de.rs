//! A serde deserializer over a parsed object that remembers where it is: a type error names the
//! field path (`spec.template.spec.containers[0].ports[0].containerPort`), and every key of a
//! mapping that the target struct does not declare is recorded as an unknown field, with the
//! closest declared name as a suggestion.
//!
//! k8s-openapi's types ignore unknown keys and list their fields in `deserialize_struct`, so the
//! fields a type knows come from the type itself, not from what a round trip happens to keep:
//! nothing that only serializes differently (a `null`, an empty map) can look unknown.

use std::cell::RefCell;
use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// One step into a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A field path, shown as `spec.containers[0].name` (keys with dots or brackets are quoted:
/// `metadata.annotations["helm.sh/hook"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Segment>);

impl Path {
    /// This path with `key` appended.
    pub fn key(&self, key: &str) -> Path {
        let mut path = self.clone();
        path.0.push(Segment::Key(key.to_string()));
        path
    }

    /// This path with `index` appended.
    pub fn index(&self, index: usize) -> Path {
        let mut path = self.clone();
        path.0.push(Segment::Index(index));
        path
    }

    /// The first key of the path, if it starts with one.
    pub fn first_key(&self) -> Option<&str> {
        match self.0.first() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(k) if k.is_empty() || k.contains(['.', '[', ']', '"', ' ']) => {
                    write!(f, "[{k:?}]")?
                }
                Segment::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
            }
        }
        Ok(())
    }
}

/// A key the target type does not declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub path: Path,
    /// The declared field closest to the key, when one is close.
    pub suggestion: Option<String>,
}

/// A deserialization error and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub path: Option<Path>,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            path: None,
            message: msg.to_string(),
        }
    }
}

/// What one deserialization collects besides its result.
#[derive(Debug, Default)]
pub struct Ctx {
    stack: RefCell<Vec<Segment>>,
    unknown: RefCell<Vec<Unknown>>,
}

impl Ctx {
    /// A context for a value found at `path` (a list's item, an object's `metadata`).
    pub fn at(path: &Path) -> Self {
        Ctx {
            stack: RefCell::new(path.0.clone()),
            unknown: RefCell::default(),
        }
    }

    fn path(&self) -> Path {
        Path(self.stack.borrow().clone())
    }

    /// The unknown keys found so far.
    pub fn take_unknown(&self) -> Vec<Unknown> {
        std::mem::take(&mut self.unknown.borrow_mut())
    }

    fn located(&self, mut e: Error) -> Error {
        if e.path.is_none() {
            e.path = Some(self.path());
        }
        e
    }

    fn within<T>(
        &self,
        segment: Segment,
        f: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.stack.borrow_mut().push(segment);
        let out = f().map_err(|e| self.located(e));
        self.stack.borrow_mut().pop();
        out
    }
}

/// The closest of `candidates` to `key`, if it is close enough to be a likely typo.
pub fn suggest<'a>(key: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let score = if c.to_ascii_lowercase() == lower {
                1.0
            } else {
                strsim::jaro_winkler(key, c)
            };
            (score, c)
        })
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// Deserializes `value` as `T`, recording unknown keys in `ctx`.
pub fn check<T: de::DeserializeOwned>(value: &Value, ctx: &Ctx) -> Result<(), Error> {
    <T as serde::Deserialize>::deserialize(ValueDe { value, ctx })
        .map(drop)
        .map_err(|e| ctx.located(e))
}

struct ValueDe<'de, 'c> {
    value: &'de Value,
    ctx: &'c Ctx,
}

impl<'de> Deserializer<'de> for ValueDe<'de, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let ctx = self.ctx;
        let out = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(SeqDe {
                items: items.iter().enumerate(),
                ctx,
            }),
            Value::Object(map) => visitor.visit_map(MapDe {
                entries: map.iter(),
                value: None,
                ctx,
            }),
        };
        out.map_err(|e| ctx.located(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if let Value::Object(map) = self.value {
            let here = self.ctx.path();
            let mut unknown = self.ctx.unknown.borrow_mut();
            for (key, value) in map {
                // A null is dropped by every decoder, the API server's included: never a problem.
                if !value.is_null() && !fields.contains(&key.as_str()) {
                    unknown.push(Unknown {
                        path: here.key(key),
                        suggestion: suggest(key, fields.iter().copied()),
                    });
                }
            }
        }
        self.deserialize_any(visitor)
    }

    /// A base64 `[]byte` field decodes with the line breaks Go's decoder skips (a Secret's `data`
    /// written as a block scalar); only `ByteString` (and timestamps) ask for a borrowed str.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::String(s) if s.contains(['\n', '\r']) => {
                let joined: String = s.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
                visitor
                    .visit_string(joined)
                    .map_err(|e| self.ctx.located(e))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::String(s) => visitor
                .visit_enum(BorrowedStrDeserializer::<Error>::new(s))
                .map_err(|e| self.ctx.located(e)),
            _ => self.deserialize_any(visitor),
        }
    }

    /// Unknown keys are reported where they are found; what is under them is not looked at.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

struct SeqDe<'de, 'c> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    ctx: &'c Ctx,
}

impl<'de> SeqAccess<'de> for SeqDe<'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some((i, value)) = self.items.next() else {
            return Ok(None);
        };
        let ctx = self.ctx;
        ctx.within(Segment::Index(i), || {
            seed.deserialize(ValueDe { value, ctx }).map(Some)
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'de, 'c> {
    entries: serde_json::map::Iter<'de>,
    value: Option<(&'de str, &'de Value)>,
    ctx: &'c Ctx,
}

impl<'de> MapAccess<'de> for MapDe<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((key.as_str(), value));
        let ctx = self.ctx;
        ctx.within(Segment::Key(key.clone()), || {
            seed.deserialize(BorrowedStrDeserializer::<Error>::new(key))
                .map(Some)
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (key, value) = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("value asked for before its key"))?;
        let ctx = self.ctx;
        ctx.within(Segment::Key(key.to_string()), || {
            seed.deserialize(ValueDe { value, ctx })
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use serde_json::json;

    #[test]
    fn paths_read_like_field_paths() {
        let p = Path::default()
            .key("spec")
            .key("containers")
            .index(0)
            .key("name");
        assert_eq!(p.to_string(), "spec.containers[0].name");
        let a = Path::default()
            .key("metadata")
            .key("annotations")
            .key("helm.sh/hook");
        assert_eq!(a.to_string(), "metadata.annotations[\"helm.sh/hook\"]");
    }

    #[test]
    fn type_errors_name_the_field() {
        let ctx = Ctx::default();
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
            "spec": {"template": {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": "x"}]}]}}}});
        let e = check::<Deployment>(&d, &ctx).unwrap_err();
        assert_eq!(
            e.path.unwrap().to_string(),
            "spec.template.spec.containers[0].ports[0].containerPort"
        );
        assert!(
            e.message
                .contains("invalid type: string \"x\", expected i32"),
            "{}",
            e.message
        );
    }

    #[test]
    fn suggestions_are_close_names_only() {
        let fields = ["replicas", "selector", "template"];
        assert_eq!(suggest("replcias", fields), Some("replicas".into()));
        assert_eq!(suggest("Replicas", fields), Some("replicas".into()));
        assert_eq!(suggest("zzz", fields), None);
    }
}
