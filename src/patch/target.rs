//! Object identity, namespace scoping and kustomize-style target selectors.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::SchemaRegistry;
use crate::stream::Document;

/// Group/version/kind + name + namespace of an object.
///
/// `namespace` is as written until [`Scope::normalize`] turns it into the effective namespace
/// (release namespace when empty, `""` for cluster-scoped kinds), which is what indexes compare.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResId {
    /// API group; `""` for the core group.
    pub group: String,
    /// API version without the group.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
}

impl ResId {
    /// Reads the identity fields; anything missing or not a string becomes `""`.
    pub fn of(object: &Value) -> Self {
        let text = |ptr: &str| {
            object
                .pointer(ptr)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (group, version) = split_api_version(&text("/apiVersion"));
        Self {
            group,
            version,
            kind: text("/kind"),
            name: text("/metadata/name"),
            namespace: text("/metadata/namespace"),
        }
    }

    /// The identity a document's scan (or parse) cached, without parsing it.
    pub fn of_document(doc: &Document) -> Self {
        let (group, version) = split_api_version(doc.api_version());
        Self {
            group,
            version,
            kind: doc.kind().to_string(),
            name: doc.name().to_string(),
            namespace: doc.namespace().to_string(),
        }
    }

    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.api_version(), self.kind)?;
        if self.namespace.is_empty() {
            write!(f, "{:?}", self.name)
        } else {
            write!(f, "{:?} in namespace {:?}", self.name, self.namespace)
        }
    }
}

/// Splits `apps/v1` into `("apps", "v1")` and `v1` into `("", "v1")`.
fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api_version.to_string()),
    }
}

/// Built-in cluster-scoped kinds by group (Kubernetes 1.34, plus removed kinds old charts still
/// ship, e.g. PodSecurityPolicy). Keyed by group so a CRD reusing a name stays namespaced.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "ComponentStatus"),
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"),
    ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("extensions", "PodSecurityPolicy"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("policy", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
];

/// Decides effective namespaces for one render.
pub struct Scope<'a> {
    release_namespace: &'a str,
    registry: &'a SchemaRegistry,
}

impl<'a> Scope<'a> {
    /// `registry` must already hold the render's CRDs so their `scope: Cluster` is known.
    pub fn new(release_namespace: &'a str, registry: &'a SchemaRegistry) -> Self {
        Self {
            release_namespace,
            registry,
        }
    }

    /// Built-in list first, then CRDs; unknown kinds are namespaced, as the API server assumes
    /// nothing and Helm puts them in the release namespace.
    pub fn is_cluster_scoped(&self, group: &str, kind: &str) -> bool {
        CLUSTER_SCOPED.binary_search(&(group, kind)).is_ok()
            || self.registry.is_cluster_scoped(group, kind) == Some(true)
    }

    /// Replaces the written namespace by the effective one.
    pub fn normalize(&self, mut id: ResId) -> ResId {
        id.namespace = self.effective_namespace(&id.group, &id.kind, &id.namespace);
        id
    }

    fn effective_namespace(&self, group: &str, kind: &str, written: &str) -> String {
        if self.is_cluster_scoped(group, kind) {
            String::new()
        } else if written.is_empty() {
            self.release_namespace.to_string()
        } else {
            written.to_string()
        }
    }
}

/// A kustomize `target:` as written (also the helm-x `--json-patch` target).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SelectorSpec {
    /// Exact API group; empty matches any.
    #[serde(default)]
    pub group: String,
    /// Exact version; empty matches any.
    #[serde(default)]
    pub version: String,
    /// Exact kind; empty matches any.
    #[serde(default)]
    pub kind: String,
    /// Anchored regex on the name.
    #[serde(default)]
    pub name: String,
    /// Anchored regex on the effective namespace.
    #[serde(default)]
    pub namespace: String,
    /// Kubernetes label selector.
    #[serde(default)]
    pub label_selector: String,
    /// Kubernetes label-selector syntax applied to annotations.
    #[serde(default)]
    pub annotation_selector: String,
}

/// A compiled [`SelectorSpec`].
#[derive(Clone, Debug)]
pub struct Selector {
    spec: SelectorSpec,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

impl Selector {
    /// Compiles regexes and selectors up front so syntax errors surface while loading.
    pub fn compile(spec: SelectorSpec) -> Result<Self, String> {
        // kustomize anchors like this: `^(?:name)$`.
        let anchored = |field: &str, pattern: &str| {
            if pattern.is_empty() {
                return Ok(None);
            }
            Regex::new(&format!("^(?:{pattern})$"))
                .map(Some)
                .map_err(|e| format!("target.{field}: invalid regular expression: {e}"))
        };
        let selector = |field: &str, text: &str| {
            if text.trim().is_empty() {
                return Ok(None);
            }
            LabelSelector::parse(text)
                .map(Some)
                .map_err(|e| format!("target.{field}: {e}"))
        };
        Ok(Self {
            name: anchored("name", &spec.name)?,
            namespace: anchored("namespace", &spec.namespace)?,
            labels: selector("labelSelector", &spec.label_selector)?,
            annotations: selector("annotationSelector", &spec.annotation_selector)?,
            spec,
        })
    }

    /// The selector as written.
    pub fn spec(&self) -> &SelectorSpec {
        &self.spec
    }

    /// Kind and name when both are literal, so an index lookup can replace a scan.
    pub fn literal_kind_name(&self) -> Option<(&str, &str)> {
        let name = self.spec.name.as_str();
        // `regex::escape` also escapes `-`, which is literal outside a class: names like `web-1`
        // would never take the index.
        let meta = |c: char| "\\.+*?()|[]{}^$".contains(c);
        let literal = !name.is_empty() && !name.contains(meta);
        (literal && !self.spec.kind.is_empty()).then_some((self.spec.kind.as_str(), name))
    }

    /// Whether the selector looks into labels or annotations, so candidates must be parsed.
    pub fn reads_metadata(&self) -> bool {
        self.labels.is_some() || self.annotations.is_some()
    }

    /// The part of [`Selector::matches`] that needs only identities.
    pub fn matches_id(&self, ids: &[ResId]) -> bool {
        let Some(cur) = ids.last() else {
            return false;
        };
        let gvk = |want: &str, have: &str| want.is_empty() || want == have;
        let any_id = |re: &Option<Regex>, field: fn(&ResId) -> &str| {
            re.as_ref()
                .is_none_or(|re| ids.iter().any(|id| re.is_match(field(id))))
        };
        gvk(&self.spec.group, &cur.group)
            && gvk(&self.spec.version, &cur.version)
            && gvk(&self.spec.kind, &cur.kind)
            && any_id(&self.name, |id| &id.name)
            && any_id(&self.namespace, |id| &id.namespace)
    }

    /// kustomize semantics: GVK and labels on the current object; name and namespace on any id
    /// the object has had (`ids`, normalized, current last).
    pub fn matches(&self, ids: &[ResId], object: &Value) -> bool {
        self.mismatches(ids, object).is_empty()
    }

    /// The selector fields that `object` fails; empty when it is selected.
    pub(crate) fn mismatches(&self, ids: &[ResId], object: &Value) -> Vec<&'static str> {
        let Some(cur) = ids.last() else {
            return vec!["kind", "name"];
        };
        let gvk = |want: &str, have: &str| want.is_empty() || want == have;
        let any_id = |re: &Option<Regex>, field: fn(&ResId) -> &str| {
            re.as_ref()
                .is_none_or(|re| ids.iter().any(|id| re.is_match(field(id))))
        };
        let meta = |sel: &Option<LabelSelector>, ptr: &str| {
            sel.as_ref().is_none_or(|s| s.matches(object.pointer(ptr)))
        };
        [
            ("group", gvk(&self.spec.group, &cur.group)),
            ("version", gvk(&self.spec.version, &cur.version)),
            ("kind", gvk(&self.spec.kind, &cur.kind)),
            ("name", any_id(&self.name, |id| &id.name)),
            ("namespace", any_id(&self.namespace, |id| &id.namespace)),
            ("labels", meta(&self.labels, "/metadata/labels")),
            (
                "annotations",
                meta(&self.annotations, "/metadata/annotations"),
            ),
        ]
        .into_iter()
        .filter_map(|(field, ok)| (!ok).then_some(field))
        .collect()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.spec;
        let fields = [
            ("group", &s.group),
            ("version", &s.version),
            ("kind", &s.kind),
            ("name", &s.name),
            ("namespace", &s.namespace),
            ("labelSelector", &s.label_selector),
            ("annotationSelector", &s.annotation_selector),
        ];
        let set: Vec<String> = fields
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        if set.is_empty() {
            f.write_str("target {} (every object)")
        } else {
            write!(f, "target {{{}}}", set.join(", "))
        }
    }
}

/// A parsed Kubernetes label selector (`a=b,c!=d,e in (x,y),!f,g,h>1`).
#[derive(Clone, Debug, PartialEq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Exists,
    NotExists,
    In,
    NotIn,
    Gt(i64),
    Lt(i64),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    Comma,
    Eq,
    NotEq,
    Bang,
    Open,
    Close,
    Gt,
    Lt,
}

fn lex(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        chars.next();
        let token = match c {
            c if c.is_whitespace() => continue,
            ',' => Token::Comma,
            '(' => Token::Open,
            ')' => Token::Close,
            '>' => Token::Gt,
            '<' => Token::Lt,
            '=' => {
                chars.next_if_eq(&'=');
                Token::Eq
            }
            '!' if chars.next_if_eq(&'=').is_some() => Token::NotEq,
            '!' => Token::Bang,
            c => {
                let mut ident = String::from(c);
                while let Some(n) = chars.next_if(|n| !n.is_whitespace() && !",()=!<>".contains(*n))
                {
                    ident.push(n);
                }
                Token::Ident(ident)
            }
        };
        out.push(token);
    }
    out
}

static LABEL_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$").expect("static regex")
});
static DNS_SUBDOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
        .expect("static regex")
});

fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| p.len() <= 253 && DNS_SUBDOMAIN.is_match(p));
    if prefix_ok && name.len() <= 63 && LABEL_NAME.is_match(name) {
        Ok(())
    } else {
        Err(format!("invalid label key {key:?}"))
    }
}

fn validate_value(value: &str) -> Result<(), String> {
    if value.is_empty() || (value.len() <= 63 && LABEL_NAME.is_match(value)) {
        Ok(())
    } else {
        Err(format!("invalid label value {value:?}"))
    }
}

impl LabelSelector {
    /// Parses the syntax of `k8s.io/apimachinery/pkg/labels.Parse`, validating keys and values
    /// as it does (kustomize uses it for both label and annotation selectors).
    pub fn parse(text: &str) -> Result<Self, String> {
        let tokens = lex(text);
        let mut pos = 0;
        let mut requirements = Vec::new();
        let err = |what: &str| format!("invalid selector {text:?}: {what}");
        loop {
            let (key, negated) = match tokens.get(pos) {
                Some(Token::Bang) => match tokens.get(pos + 1) {
                    Some(Token::Ident(k)) => {
                        pos += 2;
                        (k.clone(), true)
                    }
                    _ => return Err(err("expected a key after '!'")),
                },
                Some(Token::Ident(k)) => {
                    pos += 1;
                    (k.clone(), false)
                }
                _ => return Err(err("expected a key")),
            };
            validate_key(&key).map_err(|e| err(&e))?;
            let single = |pos: &mut usize| match tokens.get(*pos) {
                Some(Token::Ident(v)) => {
                    *pos += 1;
                    v.clone()
                }
                _ => String::new(),
            };
            let requirement = if negated {
                Requirement {
                    key,
                    op: Op::NotExists,
                    values: Vec::new(),
                }
            } else {
                let (op, values) = match tokens.get(pos) {
                    None | Some(Token::Comma) => (Op::Exists, Vec::new()),
                    Some(Token::Eq) => {
                        pos += 1;
                        (Op::In, vec![single(&mut pos)])
                    }
                    Some(Token::NotEq) => {
                        pos += 1;
                        (Op::NotIn, vec![single(&mut pos)])
                    }
                    Some(cmp @ (Token::Gt | Token::Lt)) => {
                        let greater = *cmp == Token::Gt;
                        pos += 1;
                        let v = single(&mut pos);
                        let Ok(bound) = v.parse::<i64>() else {
                            return Err(err(&format!("{v:?} is not an integer")));
                        };
                        (
                            if greater {
                                Op::Gt(bound)
                            } else {
                                Op::Lt(bound)
                            },
                            Vec::new(),
                        )
                    }
                    Some(Token::Ident(w)) if w == "in" || w == "notin" => {
                        let op = if w == "in" { Op::In } else { Op::NotIn };
                        pos += 1;
                        if tokens.get(pos) != Some(&Token::Open) {
                            return Err(err(&format!("expected '(' after {w}")));
                        }
                        pos += 1;
                        let mut values = Vec::new();
                        loop {
                            values.push(single(&mut pos));
                            match tokens.get(pos) {
                                Some(Token::Comma) => pos += 1,
                                Some(Token::Close) => {
                                    pos += 1;
                                    break;
                                }
                                _ => return Err(err("expected ',' or ')' in value list")),
                            }
                        }
                        (op, values)
                    }
                    _ => return Err(err(&format!("unexpected token after key {key:?}"))),
                };
                if matches!(op, Op::In | Op::NotIn) {
                    for v in &values {
                        validate_value(v).map_err(|e| err(&e))?;
                    }
                }
                Requirement { key, op, values }
            };
            requirements.push(requirement);
            match tokens.get(pos) {
                None => break,
                Some(Token::Comma) => pos += 1,
                Some(_) => return Err(err("expected ',' between requirements")),
            }
        }
        Ok(Self { requirements })
    }

    /// Evaluates against a `metadata.labels`-like map; non-string values compare as their text.
    pub fn matches(&self, map: Option<&Value>) -> bool {
        let map = map.and_then(Value::as_object);
        let text = |key: &str| {
            map.and_then(|m| m.get(key)).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        self.requirements.iter().all(|r| {
            let have = text(&r.key);
            let int = |s: &str| s.parse::<i64>().ok();
            match (r.op, have) {
                (Op::Exists, have) => have.is_some(),
                (Op::NotExists, have) => have.is_none(),
                (Op::In, Some(v)) => r.values.contains(&v),
                (Op::NotIn, Some(v)) => !r.values.contains(&v),
                (Op::NotIn, None) => true,
                (Op::Gt(bound), Some(v)) => int(&v).is_some_and(|n| n > bound),
                (Op::Lt(bound), Some(v)) => int(&v).is_some_and(|n| n < bound),
                (Op::In | Op::Gt(_) | Op::Lt(_), None) => false,
            }
        })
    }
}

/// Up to `limit` near misses, best first, each with what differs. `candidates` pairs an id with
/// the fields in which it fails the target; `name` is the wanted name (or name pattern).
pub(crate) fn closest<'a>(
    candidates: impl Iterator<Item = (&'a ResId, Vec<&'static str>)>,
    name: &str,
    limit: usize,
) -> Vec<(&'a ResId, String)> {
    let threshold = (name.chars().count() / 3).max(2);
    let mut ranked: BTreeMap<(usize, String), (&'a ResId, String)> = BTreeMap::new();
    for (id, diffs) in candidates {
        let distance = if name.is_empty() {
            0
        } else {
            levenshtein(name, &id.name)
        };
        // Another kind is only interesting under (nearly) the same name.
        let unrelated_kind = diffs.contains(&"kind") && (name.is_empty() || distance > threshold);
        if diffs.is_empty() || unrelated_kind {
            continue;
        }
        let cost: usize = diffs
            .iter()
            .map(|d| match *d {
                "kind" => 4,
                "group" | "namespace" => 3,
                "version" => 2,
                "labels" | "annotations" => 1,
                _ => 0,
            })
            .sum();
        ranked.insert(
            (distance + cost, id.to_string()),
            (id, format!("differs: {}", diffs.join(", "))),
        );
        if ranked.len() > limit {
            ranked.pop_last();
        }
    }
    ranked.into_values().collect()
}

impl ResId {
    /// Fields in which `self` (a candidate) differs from `want`, for near-miss reports.
    pub(crate) fn differences(&self, want: &ResId) -> Vec<&'static str> {
        [
            ("group", self.group == want.group),
            ("version", self.version == want.version),
            ("kind", self.kind == want.kind),
            ("name", self.name == want.name),
            ("namespace", self.namespace == want.namespace),
        ]
        .into_iter()
        .filter_map(|(field, same)| (!same).then_some(field))
        .collect()
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cluster_scoped_table_is_sorted() {
        assert!(CLUSTER_SCOPED.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn namespaces_default_to_release_and_cluster_kinds_drop_them() {
        let mut registry = SchemaRegistry::builtin();
        registry
            .add_crd(&json!({
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": "issuers.cert.io"},
                "spec": {"group": "cert.io", "scope": "Cluster", "names": {"kind": "ClusterIssuer"},
                         "versions": [{"name": "v1", "served": true}]}
            }))
            .expect("crd");
        let scope = Scope::new("rel", &registry);
        let id = |v: Value| scope.normalize(ResId::of(&v));
        let deploy =
            id(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}));
        assert_eq!(deploy.namespace, "rel");
        let role = id(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "a", "namespace": "x"}}),
        );
        assert_eq!(role.namespace, "");
        let issuer = id(json!({"apiVersion": "cert.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": "a", "namespace": "x"}}));
        assert_eq!(issuer.namespace, "");
        let fake_ns = id(json!({"apiVersion": "example.com/v1", "kind": "Namespace",
            "metadata": {"name": "a"}}));
        assert_eq!(fake_ns.namespace, "rel");
        assert_eq!(
            deploy.to_string(),
            "apps/v1 Deployment \"a\" in namespace \"rel\""
        );
        assert_eq!(
            role.to_string(),
            "rbac.authorization.k8s.io/v1 ClusterRole \"a\""
        );
    }

    #[test]
    fn label_selector_syntax() {
        let sel = LabelSelector::parse("a=b, c!=d,e in (x, y),!f,g,h notin (z),n>3,m<10,p==q")
            .expect("valid");
        let labels = json!({"a": "b", "c": "x", "e": "y", "g": "", "n": "4", "m": 9, "p": "q"});
        assert!(sel.matches(Some(&labels)));
        let mut bad = labels.clone();
        bad["f"] = json!("1");
        assert!(!sel.matches(Some(&bad)));
        assert!(!sel.matches(None));
        assert!(
            LabelSelector::parse("!a,b notin (c)")
                .expect("valid")
                .matches(None)
        );
        assert!(
            LabelSelector::parse("a=")
                .expect("empty value")
                .matches(Some(&json!({"a": ""})))
        );
        for bad in [
            "a in x", "a in (b", "=b", "a=b c", "a>x", "-a=b", "a=b b", "a=$",
        ] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad} should fail");
        }
        assert!(LabelSelector::parse("example.com/tier in (fe,be)").is_ok());
    }

    #[test]
    fn selector_regex_is_anchored_and_matches_previous_names() {
        let sel = Selector::compile(SelectorSpec {
            kind: "Deployment".into(),
            name: "web-.*".into(),
            ..Default::default()
        })
        .expect("valid");
        let obj = json!({});
        let id = |name: &str| ResId {
            kind: "Deployment".into(),
            name: name.into(),
            ..Default::default()
        };
        assert!(sel.matches(&[id("web-1")], &obj));
        assert!(!sel.matches(&[id("my-web-1")], &obj));
        assert!(sel.matches(&[id("web-1"), id("renamed")], &obj));
        assert_eq!(sel.literal_kind_name(), None);
        let dashed = Selector::compile(SelectorSpec {
            kind: "Deployment".into(),
            name: "web-1".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(dashed.literal_kind_name(), Some(("Deployment", "web-1")));
        let lit = Selector::compile(SelectorSpec {
            kind: "Deployment".into(),
            name: "web".into(),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(lit.literal_kind_name(), Some(("Deployment", "web")));
        let err = Selector::compile(SelectorSpec {
            name: "(".into(),
            ..Default::default()
        })
        .expect_err("bad regex");
        assert!(
            err.starts_with("target.name: invalid regular expression"),
            "{err}"
        );
    }

    #[test]
    fn closest_ranks_near_names_first() {
        let id = |kind: &str, name: &str, ns: &str| ResId {
            kind: kind.into(),
            name: name.into(),
            namespace: ns.into(),
            ..Default::default()
        };
        let ids = [
            id("Deployment", "web-frontend", "ns"),
            id("Deployment", "web", "prod"),
            id("Service", "web", "ns"),
            id("ConfigMap", "unrelated-thing", "ns"),
        ];
        let want = id("Deployment", "web", "ns");
        let got: Vec<(String, String)> =
            closest(ids.iter().map(|i| (i, i.differences(&want))), "web", 5)
                .into_iter()
                .map(|(id, why)| (id.name.clone(), why))
                .collect();
        assert_eq!(
            got,
            vec![
                ("web".into(), "differs: namespace".into()),
                ("web".into(), "differs: kind".into()),
                ("web-frontend".into(), "differs: name".into()),
            ]
        );
    }
}
