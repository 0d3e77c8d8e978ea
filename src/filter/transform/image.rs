//! `ImageTagTransformer`, as kustomize's `api/filters/imagetag`: the `image` of every element of
//! any `containers` or `initContainers` list in the object (kustomize's "legacy" walk, which runs
//! whatever the `fieldSpecs`), then the fields of the `fieldSpecs`; CRDs are left alone.

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::fieldspec::{Create, FieldSpec, scalar_text};
use crate::patch::json6902::type_name;

/// kustomize's `types.Image`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ImageSpec {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub new_name: String,
    #[serde(default)]
    pub tag_suffix: String,
    #[serde(default)]
    pub new_tag: String,
    #[serde(default)]
    pub digest: String,
}

/// The transformer with its name pattern compiled.
#[derive(Clone, Debug)]
pub(super) struct ImageTag {
    image: ImageSpec,
    /// kustomize's match: the name as a regular expression, then an optional tag and digest.
    pattern: Regex,
    field_specs: Vec<FieldSpec>,
}

impl ImageTag {
    pub fn new(image: ImageSpec, field_specs: Vec<FieldSpec>) -> Result<Self, String> {
        let pattern = Regex::new(&format!(
            "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
            image.name
        ))
        .map_err(|e| format!("imageTag.name: invalid regular expression: {e}"))?;
        Ok(Self {
            image,
            pattern,
            field_specs,
        })
    }

    /// Updates one object.
    pub fn apply(&self, object: &mut Value) -> Result<(), String> {
        if object.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") {
            return Ok(());
        }
        self.walk(object)?;
        for spec in &self.field_specs {
            spec.apply(object, Create::Never, &mut |node| self.update(node))?;
        }
        Ok(())
    }

    /// Every `containers`/`initContainers` list anywhere, children first, as kustomize walks.
    fn walk(&self, node: &mut Value) -> Result<(), String> {
        match node {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    self.walk(child)?;
                    if let ("containers" | "initContainers", Value::Array(items)) =
                        (key.as_str(), child)
                    {
                        for item in items {
                            self.container(item)?;
                        }
                    }
                }
                Ok(())
            }
            Value::Array(items) => items.iter_mut().try_for_each(|item| self.walk(item)),
            _ => Ok(()),
        }
    }

    fn container(&self, item: &mut Value) -> Result<(), String> {
        match item {
            Value::Null => Ok(()),
            Value::Object(map) => match map.get_mut("image") {
                Some(image) if !image.is_null() => self.update(image),
                _ => Ok(()),
            },
            other => Err(format!(
                "a container must be a mapping, found {}",
                type_name(other)
            )),
        }
    }

    /// kustomize's `imageTagUpdater`.
    fn update(&self, node: &mut Value) -> Result<(), String> {
        let value = scalar_text(node)?;
        if node.is_null() || !self.pattern.is_match(&value) {
            return Ok(());
        }
        let (mut name, mut tag, mut digest) = split(&value);
        let image = &self.image;
        if !image.new_name.is_empty() {
            name = image.new_name.clone();
        }
        if !image.new_tag.is_empty() {
            tag = image.new_tag.clone();
            digest = image.digest.clone();
        } else if !image.digest.is_empty() {
            tag.clear();
            digest = image.digest.clone();
        } else if !image.tag_suffix.is_empty() {
            tag.push_str(&image.tag_suffix);
            digest.clear();
        }
        if !tag.is_empty() {
            name = format!("{name}:{tag}");
        }
        if !digest.is_empty() {
            name = format!("{name}@{digest}");
        }
        *node = Value::String(name);
        Ok(())
    }
}

/// kustomize's `image.Split`: name, tag and digest, a `:` before the first `/` being a port.
fn split(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[slash..];
    let at = search.find('@').map(|d| d + slash);
    // A `:` after the `@` belongs to the digest.
    let colon = search
        .find(':')
        .map(|c| c + slash)
        .filter(|&c| at.is_none_or(|d| c < d));
    let name_end = colon.or(at).unwrap_or(image.len());
    let tag = colon.map_or("", |c| &image[c + 1..at.unwrap_or(image.len())]);
    let digest = at.map_or("", |d| &image[d + 1..]);
    (image[..name_end].into(), tag.into(), digest.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_kustomize() {
        let s = |i: &str| {
            let (n, t, d) = split(i);
            format!("{n}|{t}|{d}")
        };
        assert_eq!(s("nginx"), "nginx||");
        assert_eq!(s("nginx:1.2"), "nginx|1.2|");
        assert_eq!(s("reg:5000/nginx:1.2"), "reg:5000/nginx|1.2|");
        assert_eq!(s("nginx@sha256:ab"), "nginx||sha256:ab");
        assert_eq!(s("nginx:1@sha256:ab"), "nginx|1|sha256:ab");
    }
}
