//! Differential test: `--patch` files with JSON 6902 content and selectors against
//! `kubectl kustomize`: its answers are stored under testdata/oracle/, and under the e2e feature
//! the real one (`KUBECTL_BIN`) is asked too and must still give them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::SmpMode;
use super::apply::{PatchContext, apply_patches};
use super::spec::{PatchSource, load_patches};
use crate::stream::Document;
use crate::testutil::{TempDir, by_identity, object_differences};

/// kubectl's answers, stored per test (see the file's own docs).
// Also included by the other kubectl-oracle unit tests: one store per test, no shared state.
#[allow(clippy::duplicate_mod)]
#[path = "../../tests/common/oracle.rs"]
mod oracle;

/// Deterministic pseudo-random numbers (PCG-style LCG) so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn resources(rng: &mut Rng) -> Vec<Value> {
    let kinds = [
        ("apps/v1", "Deployment"),
        ("v1", "ConfigMap"),
        ("v1", "Service"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ];
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for i in 0..8 {
        let (api, kind) = kinds[rng.below(kinds.len())];
        let name = rng.pick(&["web", "web-1", "api", "db", "cache"]);
        let ns = if kind == "ClusterRole" {
            ""
        } else {
            rng.pick(&["", "default", "prod"])
        };
        let effective = if ns.is_empty() && kind != "ClusterRole" {
            "default"
        } else {
            ns
        };
        if !seen.insert((kind, name, effective)) {
            continue;
        }
        let mut labels = json!({"id": format!("r{i}")});
        if rng.chance(70) {
            labels["app"] = json!(rng.pick(&["a", "b", "c"]));
        }
        if rng.chance(50) {
            labels["tier"] = json!(rng.pick(&["fe", "be"]));
        }
        let mut annotations = json!({"id": format!("r{i}")});
        if rng.chance(50) {
            annotations["owner"] = json!(rng.pick(&["team-a", "team-b"]));
        }
        let mut metadata = json!({"name": name, "labels": labels, "annotations": annotations});
        if !ns.is_empty() {
            metadata["namespace"] = json!(ns);
        }
        let mut obj = json!({"apiVersion": api, "kind": kind, "metadata": metadata});
        if kind == "Deployment" {
            obj["spec"] = json!({"replicas": 1});
        }
        out.push(obj);
    }
    out
}

fn selector(rng: &mut Rng) -> Value {
    let mut t = serde_json::Map::new();
    if rng.chance(60) {
        t.insert(
            "kind".into(),
            json!(rng.pick(&["Deployment", "ConfigMap", "Service", "ClusterRole"])),
        );
    }
    if rng.chance(40) {
        t.insert(
            "name".into(),
            json!(rng.pick(&["web", "web.*", "api|db", "w.*-1", "cache"])),
        );
    }
    if rng.chance(25) {
        t.insert(
            "namespace".into(),
            json!(rng.pick(&["default", "prod", "prod|default"])),
        );
    }
    if rng.chance(40) {
        let expr = rng.pick(&[
            "app=a",
            "app in (a,b)",
            "app!=a",
            "!tier",
            "tier",
            "app notin (c),tier=fe",
            "app==b",
        ]);
        t.insert("labelSelector".into(), json!(expr));
    }
    if rng.chance(15) {
        t.insert(
            "annotationSelector".into(),
            json!(rng.pick(&["owner=team-a", "!owner"])),
        );
    }
    if rng.chance(10) {
        t.insert("group".into(), json!(rng.pick(&["apps", ""])));
        t.insert("version".into(), json!("v1"));
    }
    Value::Object(t)
}

fn ops(rng: &mut Rng, k: usize) -> Value {
    let all = [
        json!({"op": "add", "path": format!("/metadata/labels/p{k}"), "value": format!("v{k}")}),
        json!({"op": "add", "path": format!("/metadata/annotations/p{k}"), "value": "x"}),
        json!({"op": "replace", "path": "/metadata/annotations/id", "value": format!("z{k}")}),
        json!({"op": "remove", "path": "/metadata/annotations/owner"}),
        json!({"op": "test", "path": "/metadata/labels/app", "value": "a"}),
        json!({"op": "copy", "from": "/metadata/name", "path": "/metadata/annotations/copied"}),
        json!({"op": "move", "from": "/metadata/labels/id", "path": "/metadata/annotations/moved"}),
        json!({"op": "test", "path": "/spec/replicas", "value": 1}),
        json!({"op": "add", "path": "/metadata/labels/app", "value": "b"}),
    ];
    // The first three never fail; weight them so most scenarios produce output.
    let n = 1 + rng.below(3);
    Value::Array(
        (0..n)
            .map(|_| {
                let i = if rng.chance(50) {
                    rng.below(3)
                } else {
                    rng.below(all.len())
                };
                all[i].clone()
            })
            .collect(),
    )
}

/// Our result: objects by identity, or the error text.
fn ours(dir: &TempDir, objects: &[Value]) -> Result<BTreeMap<String, Value>, String> {
    let mut objs: Vec<Document> = objects
        .iter()
        .map(|v| Document::from_value(String::new(), v.clone()))
        .collect();
    let patches = load_patches(&[PatchSource::Kustomize(dir.path().join("patches.yaml"))])
        .map_err(|e| format!("{e:#}"))?;
    let ctx = PatchContext {
        release_namespace: "default",
        mode: SmpMode::Kustomize,
        // kustomize skips selectors that match nothing.
        allow_missing_targets: true,
        crds: &[],
    };
    apply_patches(&mut objs, &patches, &ctx).map_err(|e| format!("{e:#}"))?;
    let values: Vec<Value> = objs
        .iter_mut()
        .map(|o| o.take_value().map_err(|e| format!("{e:#}")))
        .collect::<Result<_, _>>()?;
    Ok(by_identity(values))
}

/// `kubectl kustomize` of the scenario: objects by identity, or kubectl's error (the scenario's
/// path written `$DIR`). The answer stored for this test, checked against kubectl under e2e.
fn theirs(dir: &TempDir) -> Result<BTreeMap<String, Value>, String> {
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).expect("scenario file");
    let input = json!({
        "kustomization.yaml": read("kustomization.yaml"),
        "resources.yaml": read("resources.yaml"),
    });
    let answer = oracle::answer(&oracle::this_test(), input, |_| {
        oracle::result_to_json(
            &kubectl_kustomize(dir).map(|m| Value::Object(m.into_iter().collect())),
        )
    });
    oracle::result_from_json(answer)
        .map(|v| serde_json::from_value(v).expect("objects by identity"))
}

fn kubectl_kustomize(dir: &TempDir) -> Result<BTreeMap<String, Value>, String> {
    crate::testutil::kubectl_kustomize(&oracle::kubectl(), dir.path()).map(by_identity)
}

/// Writes the scenario as both a `--patch` file and a kustomization using the same entries.
fn write_scenario(objects: &[Value], entries: &[Value]) -> TempDir {
    let dir = TempDir::new("oracle");
    let docs: Vec<String> = objects.iter().map(Value::to_string).collect();
    dir.write("resources.yaml", &docs.join("\n---\n"));
    dir.write("patches.yaml", &Value::Array(entries.to_vec()).to_string());
    let kustomization = json!({"resources": ["resources.yaml"], "patches": entries});
    dir.write("kustomization.yaml", &kustomization.to_string());
    dir
}

enum Verdict {
    SameObjects,
    BothFailed,
    Differ(String),
}

fn compare(objects: &[Value], entries: &[Value]) -> Verdict {
    let dir = write_scenario(objects, entries);
    match (ours(&dir, objects), theirs(&dir)) {
        (Ok(a), Ok(b)) if a == b => Verdict::SameObjects,
        (Err(_), Err(_)) => Verdict::BothFailed,
        (Ok(a), Ok(b)) => {
            let diffs = object_differences(&a, &b);
            Verdict::Differ(format!(
                "entries {}\n{}",
                Value::Array(entries.to_vec()),
                diffs.join("\n")
            ))
        }
        (a, b) => Verdict::Differ(format!(
            "entries {}\nours: {a:?}\nkubectl: {b:?}",
            Value::Array(entries.to_vec())
        )),
    }
}

#[test]
fn json6902_selector_patches_agree_with_kubectl_kustomize() {
    let mut rng = Rng(0x5eed);
    let (mut same, mut both_failed, mut differ) = (0, 0, Vec::new());
    let scenarios = 100;
    for _ in 0..scenarios {
        let objects = resources(&mut rng);
        let entries: Vec<Value> = (0..1 + rng.below(3))
            .map(|k| json!({"patch": ops(&mut rng, k).to_string(), "target": selector(&mut rng)}))
            .collect();
        match compare(&objects, &entries) {
            Verdict::SameObjects => same += 1,
            Verdict::BothFailed => both_failed += 1,
            Verdict::Differ(d) => differ.push(d),
        }
    }
    println!(
        "kubectl kustomize oracle: {} of {scenarios} scenarios agree ({same} identical outputs, \
         {both_failed} rejected by both), {} differ",
        same + both_failed,
        differ.len()
    );
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
    assert!(
        same > scenarios / 2,
        "too few scenarios produced output: {same}"
    );
}

/// Map-only SMP content, so the stand-in engine and kustomize's merge2 agree and what is
/// compared is the resource-level behaviour: targeting, identity restore, renames, deletes.
/// `targeted` leaves out nulls under labels/annotations: kustomize turns those into the string
/// `"null"` for targeted SMPs (see `documented_divergences_from_kustomize`).
fn smp_changes(rng: &mut Rng, k: usize, targeted: bool) -> Value {
    let mut doc = json!({"metadata": {}});
    if rng.chance(60) {
        doc["metadata"]["labels"] = json!({format!("p{k}"): format!("v{k}")});
    }
    if !targeted && rng.chance(30) {
        doc["metadata"]["labels"] = json!({"app": null});
    }
    if rng.chance(30) {
        let removed = if targeted { json!("kept") } else { Value::Null };
        doc["metadata"]["annotations"] = json!({"id": removed, "note": format!("n{k}")});
    }
    if rng.chance(40) {
        doc["data"] = json!({format!("k{k}"): "v", "gone": null});
    }
    doc
}

fn smp_entry(rng: &mut Rng, objects: &[Value], k: usize, last: bool) -> Value {
    let delete = last && rng.chance(30);
    if rng.chance(50) {
        // Untargeted: the patch names an existing object (perhaps as `default` explicitly).
        let obj = &objects[rng.below(objects.len())];
        let mut doc = if delete {
            json!({"$patch": "delete", "metadata": {}})
        } else {
            smp_changes(rng, k, false)
        };
        doc["apiVersion"] = obj["apiVersion"].clone();
        doc["kind"] = obj["kind"].clone();
        doc["metadata"]["name"] = obj["metadata"]["name"].clone();
        match obj["metadata"].get("namespace") {
            Some(ns) => doc["metadata"]["namespace"] = ns.clone(),
            None if obj["kind"] != "ClusterRole" && rng.chance(30) => {
                doc["metadata"]["namespace"] = json!("default");
            }
            None if obj["kind"] == "ClusterRole" && rng.chance(30) => {
                doc["metadata"]["namespace"] = json!("ignored");
            }
            None => {}
        }
        return json!({"patch": doc.to_string()});
    }
    // A literal kind+name target (one object per namespace) may rename what it selects.
    let rename = !delete && rng.chance(25);
    let target = if rename {
        let obj = &objects[rng.below(objects.len())];
        json!({"kind": obj["kind"], "name": obj["metadata"]["name"]})
    } else {
        selector(rng)
    };
    let mut doc = if delete {
        json!({"$patch": "delete"})
    } else {
        smp_changes(rng, k, true)
    };
    // kustomize needs a kind in a targeted SMP; a different one is restored afterwards.
    doc["kind"] = json!(rng.pick(&["Deployment", "Whatever"]));
    if rng.chance(30) {
        doc["metadata"]["namespace"] = json!("elsewhere");
    }
    let mut entry = json!({"target": target});
    if rename {
        doc["metadata"]["name"] = json!(format!("renamed-{k}"));
        entry["options"] = json!({"allowNameChange": true});
    } else {
        // kustomize cannot parse a targeted SMP without a name; the name is then restored.
        doc["metadata"]["name"] = json!("not-applied");
    }
    entry["patch"] = json!(doc.to_string());
    entry
}

#[test]
fn smp_resource_semantics_agree_with_kubectl_kustomize() {
    let mut rng = Rng(0xfeed);
    let (mut same, mut both_failed, mut differ) = (0, 0, Vec::new());
    let (mut renames, mut deletes) = (0, 0);
    let scenarios = 60;
    for _ in 0..scenarios {
        let objects = resources(&mut rng);
        let n = 1 + rng.below(4);
        let entries: Vec<Value> = (0..n)
            .map(|k| smp_entry(&mut rng, &objects, k, k + 1 == n))
            .collect();
        let text = Value::Array(entries.clone()).to_string();
        renames += text.matches("allowNameChange").count();
        deletes += text.matches("$patch").count();
        match compare(&objects, &entries) {
            Verdict::SameObjects => same += 1,
            Verdict::BothFailed => both_failed += 1,
            Verdict::Differ(d) => differ.push(d),
        }
    }
    println!(
        "kubectl kustomize oracle (SMP resource level): {} of {scenarios} scenarios agree \
         ({same} identical outputs, {both_failed} rejected by both), {} differ; \
         {renames} renames, {deletes} deletes",
        same + both_failed,
        differ.len()
    );
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
}

/// kustomize copies a targeted SMP's labels/annotations as strings, so `null` becomes the
/// label value `"null"`; we keep SMP semantics (null deletes).
#[test]
fn kustomize_stringifies_nulls_in_targeted_smp_metadata() {
    let objects = vec![json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "labels": {"app": "a", "keep": "k"}}
    })];
    let patch = json!({"kind": "ConfigMap", "metadata": {"name": "c", "labels": {"app": null}}});
    let entries = [json!({"patch": patch.to_string(), "target": {"kind": "ConfigMap"}})];
    let dir = write_scenario(&objects, &entries);
    let labels = |r: Result<BTreeMap<String, Value>, String>| {
        r.map(|m| m["ConfigMap/default/c"]["metadata"]["labels"].clone())
    };
    assert_eq!(labels(ours(&dir, &objects)), Ok(json!({"keep": "k"})));
    assert_eq!(
        labels(theirs(&dir)),
        Ok(json!({"app": "null", "keep": "k"}))
    );
}

/// The RFC-over-kustomize choices documented in `json6902`: kustomize accepts the first five
/// and refuses the last (`1` vs `1.0`, numerically equal per RFC 6902 §4.6).
#[test]
fn documented_divergences_from_kustomize() {
    let objects = vec![json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c"}, "data": {"a": "1"}, "list": [1, 2]
    })];
    let cases = [
        (
            json!([{"op": "replace", "path": "/data/missing", "value": "x"}]),
            false,
        ),
        (
            json!([{"op": "add", "path": "/list/-1", "value": 3}]),
            false,
        ),
        (
            json!([{"op": "copy", "from": "/nope", "path": "/data/b"}]),
            false,
        ),
        (
            json!([{"op": "test", "path": "/data/nope", "value": null}]),
            false,
        ),
        (
            json!([{"op": "test", "path": "/list/01", "value": 2}]),
            false,
        ),
        (
            json!([{"op": "test", "path": "/list/0", "value": 1.0}]),
            true,
        ),
    ];
    let mut confirmed = 0;
    for (ops, we_accept) in &cases {
        let entries = [json!({"patch": ops.to_string(), "target": {"kind": "ConfigMap"}})];
        let dir = write_scenario(&objects, &entries);
        let (a, b) = (ours(&dir, &objects), theirs(&dir));
        assert!(
            a.is_ok() == *we_accept && b.is_ok() != *we_accept,
            "{ops}: ours {a:?}, kubectl {b:?}"
        );
        confirmed += 1;
    }
    println!(
        "documented divergences confirmed: {confirmed}/{}",
        cases.len()
    );
}
