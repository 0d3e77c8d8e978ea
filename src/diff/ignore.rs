//! `--ignore`, `--ignore-file` and `--ignore-preset`: fields removed from both sides before they are
//! compared, so chart-bump noise (chart labels, `checksum/*` annotations, injected `caBundle`s)
//! neither shows in the report nor makes `--detailed-exitcode` report a change.
//!
//! A rule is an RFC 6901 JSON pointer, optionally behind a kind selector:
//!
//! ```text
//! RULE     = [SELECTOR ":"] POINTER
//! SELECTOR = Kind | group "/" Kind | group "/" version "/" Kind
//! POINTER  = ("/" SEGMENT)+        ; "~0" is "~", "~1" is "/"
//! ```
//!
//! The group is `apiVersion` without its version, as in helm-diff's keys (`v1` for the core group,
//! so `v1/ConfigMap:` selects core ConfigMaps). A segment `*` matches every array item or map key;
//! a last segment ending in `*` matches the map keys starting with the rest (`checksum~1*`). There
//! is no escape for a literal `*`, which label and annotation keys never contain. A numeric segment
//! indexes an array, or names a key in a map.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

/// The `--ignore-preset` names and their rules.
const PRESETS: [(&str, &[&str]); 3] = [
    ("chart-labels", CHART_LABELS),
    ("checksums", CHECKSUMS),
    ("cabundle", CABUNDLE),
];

/// `chart-labels`: the labels `helm create` (and charts following its or the older Helm 2
/// convention) derive from `Chart.yaml`, so every chart or app version bump changes them —
/// `helm.sh/chart` (`<name>-<version>`), `app.kubernetes.io/version` (`appVersion`) and `chart` —
/// in the object's labels, its pod template's and (CronJobs) its job template's pod template's.
/// Stable labels (`app.kubernetes.io/managed-by`, `heritage`, `release`, selectors) are kept.
const CHART_LABELS: &[&str] = &[
    "/metadata/labels/helm.sh~1chart",
    "/metadata/labels/app.kubernetes.io~1version",
    "/metadata/labels/chart",
    "/spec/template/metadata/labels/helm.sh~1chart",
    "/spec/template/metadata/labels/app.kubernetes.io~1version",
    "/spec/template/metadata/labels/chart",
    "/spec/jobTemplate/spec/template/metadata/labels/helm.sh~1chart",
    "/spec/jobTemplate/spec/template/metadata/labels/app.kubernetes.io~1version",
    "/spec/jobTemplate/spec/template/metadata/labels/chart",
];

/// `checksums`: the `checksum/*` annotations charts put on pod templates (and some on objects) to
/// roll pods when a ConfigMap or Secret changes; that change is already shown on the ConfigMap or
/// Secret itself. Removed at the same three places as `chart-labels`.
const CHECKSUMS: &[&str] = &[
    "/metadata/annotations/checksum~1*",
    "/spec/template/metadata/annotations/checksum~1*",
    "/spec/jobTemplate/spec/template/metadata/annotations/checksum~1*",
];

/// `cabundle`: the CA bundles cert-manager's cainjector (or another injector) writes into the live
/// objects, which a chart leaves empty: `webhooks[*].clientConfig.caBundle` of Validating and
/// Mutating WebhookConfigurations, a CustomResourceDefinition's
/// `spec.conversion.webhook.clientConfig.caBundle` and an APIService's `spec.caBundle`.
const CABUNDLE: &[&str] = &[
    "admissionregistration.k8s.io/ValidatingWebhookConfiguration:/webhooks/*/clientConfig/caBundle",
    "admissionregistration.k8s.io/MutatingWebhookConfiguration:/webhooks/*/clientConfig/caBundle",
    "apiextensions.k8s.io/CustomResourceDefinition:/spec/conversion/webhook/clientConfig/caBundle",
    "apiregistration.k8s.io/APIService:/spec/caBundle",
];

/// Fields to leave out of the comparison.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

impl IgnoreRules {
    /// `rules`: values of `--ignore RULE` (repeatable); `files`: `--ignore-file FILE` (one rule per
    /// line; blank lines and lines starting with `#` are skipped — only whole-line comments, since
    /// `#` may occur in a key; errors name the file and line); `presets`: `--ignore-preset NAME`
    /// (repeatable).
    pub(super) fn new(
        rules: &[String],
        files: &[PathBuf],
        presets: &[String],
    ) -> Result<IgnoreRules> {
        let mut parsed = Vec::new();
        for rule in rules {
            parsed.push(Rule::parse(rule)?);
        }
        for file in files {
            parsed.extend(read_file(file)?);
        }
        for name in presets {
            let Some((_, preset)) = PRESETS.iter().find(|(n, _)| *n == name.trim()) else {
                let known: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
                bail!(
                    "unknown --ignore-preset {name:?}: known presets are {}",
                    known.join(", ")
                );
            };
            for rule in *preset {
                parsed.push(Rule::parse(rule)?);
            }
        }
        Ok(IgnoreRules { rules: parsed })
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Removes every ignored field from `object` (one parsed Kubernetes object, apiVersion/kind at
    /// the top); returns whether anything was removed.
    ///
    /// A `labels` or `annotations` map that this removal empties is removed too: an object whose
    /// only label was `helm.sh/chart` must compare equal to one with no labels at all. Maps that
    /// were already empty are left alone. Rules apply in order, so an array index in a later rule
    /// sees the items an earlier rule left.
    pub(super) fn apply(&self, object: &mut Value) -> bool {
        let api_version = str_field(object, "apiVersion").to_string();
        let kind = str_field(object, "kind").to_string();
        let mut removed = false;
        for rule in &self.rules {
            if rule.selects(&api_version, &kind) {
                removed |= remove(object, &rule.pointer);
            }
        }
        removed
    }
}

fn str_field<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn read_file(path: &Path) -> Result<Vec<Rule>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --ignore-file {}", path.display()))?;
    let mut rules = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let rule =
            Rule::parse(line).with_context(|| format!("{}:{}", path.display(), index + 1))?;
        rules.push(rule);
    }
    Ok(rules)
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    selector: Option<Selector>,
    pointer: Vec<Segment>,
}

/// Which objects a rule applies to.
#[derive(Debug, Clone, PartialEq)]
enum Selector {
    Kind(String),
    GroupKind { group: String, kind: String },
    ApiVersionKind { api_version: String, kind: String },
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    /// A map key, or an array index when it is a number.
    Key(String),
    /// `*`: every array item or map key.
    Any,
    /// A last segment `prefix*`: the map keys starting with `prefix`.
    Prefix(String),
}

impl Rule {
    fn parse(text: &str) -> Result<Rule> {
        let text = text.trim();
        Rule::parse_trimmed(text).with_context(|| format!("invalid --ignore rule {text:?}"))
    }

    fn parse_trimmed(text: &str) -> Result<Rule> {
        if text.is_empty() {
            bail!("the rule is empty");
        }
        let (selector, pointer) = if text.starts_with('/') {
            (None, text)
        } else {
            let Some((selector, pointer)) = text.split_once(':') else {
                bail!("expected a JSON pointer starting with '/', optionally after KIND:");
            };
            (
                Some(Selector::parse(selector.trim())?),
                pointer.trim_start(),
            )
        };
        let Some(pointer) = pointer.strip_prefix('/') else {
            bail!("the JSON pointer after the kind must start with '/'");
        };
        let raw: Vec<&str> = pointer.split('/').collect();
        let mut segments = Vec::with_capacity(raw.len());
        for (index, segment) in raw.iter().enumerate() {
            let last = index + 1 == raw.len();
            segments.push(match segment.strip_suffix('*') {
                Some("") => Segment::Any,
                Some(prefix) if last => Segment::Prefix(unescape(prefix)?),
                Some(_) => bail!(
                    "segment {segment:?}: a prefix wildcard is only allowed in the last segment"
                ),
                None => Segment::Key(unescape(segment)?),
            });
        }
        Ok(Rule {
            selector,
            pointer: segments,
        })
    }

    fn selects(&self, api_version: &str, kind: &str) -> bool {
        match &self.selector {
            None => true,
            Some(Selector::Kind(k)) => k == kind,
            Some(Selector::GroupKind { group, kind: k }) => {
                let actual = api_version.rsplit_once('/').map_or(api_version, |(g, _)| g);
                k == kind && group == actual
            }
            Some(Selector::ApiVersionKind {
                api_version: v,
                kind: k,
            }) => k == kind && v == api_version,
        }
    }
}

impl Selector {
    fn parse(text: &str) -> Result<Selector> {
        let parts: Vec<&str> = text.split('/').collect();
        if parts.last().is_some_and(|kind| kind.is_empty()) {
            bail!("the kind before ':' is empty");
        }
        if parts.iter().any(|p| p.is_empty()) {
            bail!("the selector {text:?} has an empty group or version");
        }
        Ok(match parts[..] {
            [kind] => Selector::Kind(kind.to_string()),
            [group, kind] => Selector::GroupKind {
                group: group.to_string(),
                kind: kind.to_string(),
            },
            [group, version, kind] => Selector::ApiVersionKind {
                api_version: format!("{group}/{version}"),
                kind: kind.to_string(),
            },
            _ => bail!("the selector {text:?} is not Kind, group/Kind or group/version/Kind"),
        })
    }
}

/// Decodes RFC 6901's `~0` and `~1`; any other `~` is an error rather than a silent literal.
fn unescape(segment: &str) -> Result<String> {
    let mut out = String::with_capacity(segment.len());
    let mut chars = segment.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('~'),
            Some('1') => out.push('/'),
            _ => bail!("segment {segment:?}: '~' must be followed by 0 or 1"),
        }
    }
    Ok(out)
}

/// RFC 6901 array indices: `0` or digits without a leading zero.
fn array_index(key: &str) -> Option<usize> {
    let digits = !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit());
    if !digits || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    key.parse().ok()
}

/// Removes what `pointer` matches below `value`; recursion is one level per segment.
fn remove(value: &mut Value, pointer: &[Segment]) -> bool {
    let Some((segment, rest)) = pointer.split_first() else {
        return false;
    };
    if rest.is_empty() {
        return remove_last(value, segment);
    }
    match (value, segment) {
        // A child that had something removed and is now empty was emptied by this removal.
        (Value::Object(map), Segment::Key(key)) => {
            let removed = map.get_mut(key).is_some_and(|child| remove(child, rest));
            if removed {
                drop_emptied(map, key);
            }
            removed
        }
        (Value::Object(map), Segment::Any) => {
            let mut changed = Vec::new();
            for (key, child) in map.iter_mut() {
                if remove(child, rest) {
                    changed.push(key.clone());
                }
            }
            for key in &changed {
                drop_emptied(map, key);
            }
            !changed.is_empty()
        }
        (Value::Array(items), Segment::Key(key)) => array_index(key)
            .and_then(|i| items.get_mut(i))
            .is_some_and(|child| remove(child, rest)),
        (Value::Array(items), Segment::Any) => items
            .iter_mut()
            .fold(false, |removed, child| remove(child, rest) | removed),
        _ => false,
    }
}

/// Removes `map[key]` when it is a `labels` or `annotations` map the removal just emptied.
fn drop_emptied(map: &mut Map<String, Value>, key: &str) {
    let emptied = map
        .get(key)
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty);
    if emptied && (key == "labels" || key == "annotations") {
        map.shift_remove(key);
    }
}

fn remove_last(value: &mut Value, segment: &Segment) -> bool {
    match (value, segment) {
        (Value::Object(map), Segment::Key(key)) => map.shift_remove(key).is_some(),
        (Value::Object(map), Segment::Any) => {
            let removed = !map.is_empty();
            map.clear();
            removed
        }
        (Value::Object(map), Segment::Prefix(prefix)) => {
            let before = map.len();
            map.retain(|key, _| !key.starts_with(prefix.as_str()));
            map.len() != before
        }
        (Value::Array(items), Segment::Key(key)) => match array_index(key) {
            Some(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        (Value::Array(items), Segment::Any) => {
            let removed = !items.is_empty();
            items.clear();
            removed
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testutil::TempDir;

    fn rules(rules: &[&str]) -> IgnoreRules {
        let rules: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
        IgnoreRules::new(&rules, &[], &[]).unwrap()
    }

    fn presets(names: &[&str]) -> IgnoreRules {
        let names: Vec<String> = names.iter().map(|r| r.to_string()).collect();
        IgnoreRules::new(&[], &[], &names).unwrap()
    }

    fn error(rule: &str) -> String {
        let err = IgnoreRules::new(&[rule.to_string()], &[], &[]).unwrap_err();
        format!("{err:#}")
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "labels": {"helm.sh/chart": "web-1.2.3", "app.kubernetes.io/name": "web"},
                "annotations": {"checksum/config": "abc", "note": "x"},
            },
            "spec": {
                "replicas": 3,
                "template": {
                    "metadata": {
                        "labels": {"helm.sh/chart": "web-1.2.3", "app.kubernetes.io/version": "2.0"},
                        "annotations": {"checksum/config": "abc", "checksum/secret": "def"},
                    },
                    "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]},
                },
            },
        })
    }

    #[test]
    fn plain_pointer_removes_the_field_of_every_kind() {
        let mut object = deployment();
        assert!(rules(&["/spec/replicas"]).apply(&mut object));
        assert_eq!(object["spec"].get("replicas"), None);
        assert!(
            !rules(&["/spec/replicas"]).apply(&mut object),
            "nothing left to remove"
        );
        let mut service = json!({"apiVersion": "v1", "kind": "Service", "spec": {"replicas": 1}});
        assert!(rules(&["/spec/replicas"]).apply(&mut service));
    }

    #[test]
    fn selectors_match_kind_group_and_api_version() {
        for (rule, matches) in [
            ("Deployment:/spec/replicas", true),
            (" Deployment : /spec/replicas ", true),
            ("apps/Deployment:/spec/replicas", true),
            ("apps/v1/Deployment:/spec/replicas", true),
            ("StatefulSet:/spec/replicas", false),
            ("deployment:/spec/replicas", false),
            ("extensions/Deployment:/spec/replicas", false),
            ("apps/v1beta2/Deployment:/spec/replicas", false),
        ] {
            let mut object = deployment();
            assert_eq!(rules(&[rule]).apply(&mut object), matches, "{rule}");
            assert_eq!(object["spec"].get("replicas").is_none(), matches, "{rule}");
            if !matches {
                assert_eq!(
                    object,
                    deployment(),
                    "{rule} must leave the object untouched"
                );
            }
        }
        let mut config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}});
        assert!(rules(&["v1/ConfigMap:/data/a"]).apply(&mut config_map));
        assert_eq!(config_map["data"], json!({}));
    }

    #[test]
    fn escapes_decode_tilde_and_slash() {
        let mut object = json!({"kind": "X", "a/b": {"c~d": 1, "e": 2}});
        assert!(rules(&["/a~1b/c~0d"]).apply(&mut object));
        assert_eq!(object, json!({"kind": "X", "a/b": {"e": 2}}));
        // A colon in the pointer is not a selector.
        let mut object = json!({"kind": "X", "a:b": 1});
        assert!(rules(&["/a:b"]).apply(&mut object));
        assert_eq!(object, json!({"kind": "X"}));
    }

    #[test]
    fn wildcards_match_items_keys_and_key_prefixes() {
        let mut object = deployment();
        assert!(rules(&["/spec/template/spec/containers/*/image"]).apply(&mut object));
        assert_eq!(
            object["spec"]["template"]["spec"]["containers"],
            json!([{"name": "a"}, {"name": "b"}])
        );
        let mut object = deployment();
        assert!(rules(&["/*/annotations/checksum~1*"]).apply(&mut object));
        assert_eq!(object["metadata"]["annotations"], json!({"note": "x"}));
        let mut object = deployment();
        assert!(rules(&["/spec/template/spec/containers/1"]).apply(&mut object));
        assert_eq!(
            object["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        for no_match in [
            "/spec/template/spec/containers/2",
            "/spec/template/spec/containers/01",
        ] {
            assert!(!rules(&[no_match]).apply(&mut deployment()), "{no_match}");
        }
        let mut object = json!({"kind": "X", "items": [1, 2], "map": {"0": 1}});
        assert!(rules(&["/items/*", "/map/0"]).apply(&mut object));
        assert_eq!(object, json!({"kind": "X", "items": [], "map": {}}));
    }

    #[test]
    fn emptied_labels_and_annotations_maps_are_removed() {
        let mut object = json!({
            "kind": "ConfigMap",
            "metadata": {"name": "a", "labels": {"helm.sh/chart": "c-1"}, "annotations": {}},
            "data": {"helm.sh/chart": "kept"},
        });
        assert!(presets(&["chart-labels"]).apply(&mut object));
        assert_eq!(
            object,
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "annotations": {}}, "data": {"helm.sh/chart": "kept"}})
        );
        // Other maps stay, even when emptied.
        let mut object = json!({"kind": "X", "spec": {"only": 1}});
        assert!(rules(&["/spec/only"]).apply(&mut object));
        assert_eq!(object, json!({"kind": "X", "spec": {}}));
        let mut object = json!({"kind": "X", "metadata": {"labels": {"a": "1"}}});
        assert!(rules(&["/metadata/labels/*"]).apply(&mut object));
        assert_eq!(object, json!({"kind": "X", "metadata": {}}));
    }

    #[test]
    fn chart_labels_and_checksums_presets() {
        let mut object = deployment();
        assert!(presets(&["chart-labels", "checksums"]).apply(&mut object));
        assert_eq!(
            object["metadata"],
            json!({"name": "web", "labels": {"app.kubernetes.io/name": "web"}, "annotations": {"note": "x"}})
        );
        assert_eq!(object["spec"]["template"]["metadata"], json!({}));

        let mut cron = json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"labels": {"chart": "c-1", "heritage": "Helm", "app.kubernetes.io/managed-by": "Helm"}},
            "spec": {"jobTemplate": {"spec": {"template": {"metadata": {
                "labels": {"helm.sh/chart": "c-1", "app": "c"},
                "annotations": {"checksum/config": "1", "other": "2"},
            }}}}},
        });
        assert!(presets(&["checksums", "chart-labels"]).apply(&mut cron));
        assert_eq!(
            cron,
            json!({
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"labels": {"heritage": "Helm", "app.kubernetes.io/managed-by": "Helm"}},
                "spec": {"jobTemplate": {"spec": {"template": {"metadata": {
                    "labels": {"app": "c"},
                    "annotations": {"other": "2"},
                }}}}},
            })
        );
    }

    #[test]
    fn cabundle_preset() {
        let cabundle = presets(&["cabundle"]);
        let mut webhook = json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration",
            "webhooks": [
                {"name": "a", "clientConfig": {"caBundle": "Q0E=", "service": {"name": "s"}}},
                {"name": "b", "clientConfig": {"url": "https://x"}},
            ],
        });
        assert!(cabundle.apply(&mut webhook));
        assert_eq!(
            webhook["webhooks"],
            json!([
                {"name": "a", "clientConfig": {"service": {"name": "s"}}},
                {"name": "b", "clientConfig": {"url": "https://x"}},
            ])
        );
        let mut validating = json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "webhooks": [{"clientConfig": {"caBundle": "Q0E="}}],
        });
        assert!(cabundle.apply(&mut validating));
        let mut crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {"conversion": {"strategy": "Webhook", "webhook": {"clientConfig": {"caBundle": "Q0E="}}}},
        });
        assert!(cabundle.apply(&mut crd));
        assert_eq!(
            crd["spec"]["conversion"]["webhook"]["clientConfig"],
            json!({})
        );
        let mut api_service = json!({
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "spec": {"caBundle": "Q0E=", "group": "metrics.k8s.io"},
        });
        assert!(cabundle.apply(&mut api_service));
        assert_eq!(api_service["spec"], json!({"group": "metrics.k8s.io"}));
        // Same field on another kind: untouched.
        let mut other =
            json!({"apiVersion": "example.io/v1", "kind": "Thing", "spec": {"caBundle": "Q0E="}});
        assert!(!cabundle.apply(&mut other));
        assert_eq!(other["spec"]["caBundle"], "Q0E=");
    }

    #[test]
    fn every_preset_parses_and_unknown_presets_are_listed() {
        for (name, preset) in PRESETS {
            assert_eq!(presets(&[name]).rules.len(), preset.len(), "{name}");
        }
        let err = IgnoreRules::new(&[], &[], &["labels".to_string()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown --ignore-preset \"labels\": known presets are chart-labels, checksums, cabundle"
        );
    }

    #[test]
    fn malformed_rules_are_errors_naming_the_rule() {
        for (rule, message) in [
            ("", "invalid --ignore rule \"\": the rule is empty"),
            (
                "spec/replicas",
                "invalid --ignore rule \"spec/replicas\": expected a JSON pointer starting with '/', optionally after KIND:",
            ),
            (
                "Deployment:spec",
                "invalid --ignore rule \"Deployment:spec\": the JSON pointer after the kind must start with '/'",
            ),
            (
                ":/spec",
                "invalid --ignore rule \":/spec\": the kind before ':' is empty",
            ),
            (
                "apps/:/spec",
                "invalid --ignore rule \"apps/:/spec\": the kind before ':' is empty",
            ),
            (
                "apps//Deployment:/spec",
                "invalid --ignore rule \"apps//Deployment:/spec\": the selector \"apps//Deployment\" has an empty group or version",
            ),
            (
                "a/b/c/D:/spec",
                "invalid --ignore rule \"a/b/c/D:/spec\": the selector \"a/b/c/D\" is not Kind, group/Kind or group/version/Kind",
            ),
            (
                "/metadata/a~2b",
                "invalid --ignore rule \"/metadata/a~2b\": segment \"a~2b\": '~' must be followed by 0 or 1",
            ),
            (
                "/metadata/a~",
                "invalid --ignore rule \"/metadata/a~\": segment \"a~\": '~' must be followed by 0 or 1",
            ),
            (
                "/meta*/labels",
                "invalid --ignore rule \"/meta*/labels\": segment \"meta*\": a prefix wildcard is only allowed in the last segment",
            ),
        ] {
            assert_eq!(error(rule), message);
        }
    }

    #[test]
    fn files_skip_comments_and_blank_lines_and_errors_name_the_line() {
        let dir = TempDir::new("ignore");
        let good = dir.write(
            "good",
            "# noise from chart bumps\n\n  /metadata/labels/helm.sh~1chart  \r\nDeployment:/spec/replicas\n",
        );
        let ignore = IgnoreRules::new(&[], &[good], &[]).unwrap();
        assert_eq!(ignore.rules.len(), 2);
        let mut object = deployment();
        assert!(ignore.apply(&mut object));
        assert_eq!(object["spec"].get("replicas"), None);
        assert_eq!(
            object["metadata"]["labels"],
            json!({"app.kubernetes.io/name": "web"})
        );

        let bad = dir.write("bad", "/ok\n# comment\nspec/replicas\n");
        let err = IgnoreRules::new(&[], std::slice::from_ref(&bad), &[]).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            format!(
                "{}:3: invalid --ignore rule \"spec/replicas\": expected a JSON pointer starting with '/', optionally after KIND:",
                bad.display()
            )
        );
        let missing = dir.path().join("missing");
        let err = IgnoreRules::new(&[], std::slice::from_ref(&missing), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("reading --ignore-file {}", missing.display())
        );
    }

    #[test]
    fn empty_rules_and_non_objects() {
        let none = IgnoreRules::new(&[], &[], &[]).unwrap();
        assert!(none.is_empty());
        assert!(!rules(&["/a"]).is_empty());
        for mut value in [json!(null), json!("text"), json!([1, 2]), json!({"a": 1})] {
            let before = value.clone();
            assert!(!none.apply(&mut value));
            assert!(!rules(&["/b/c", "/a/x", "/*/y"]).apply(&mut value));
            assert_eq!(value, before);
        }
    }
}
