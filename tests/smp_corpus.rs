//! Runs the upstream test vectors in `testdata/smp-corpus/` (see its README.md):
//! every apimachinery `strategicpatch` vector in apimachinery mode, and every kustomize
//! (kyaml merge2 / patchstrategicmerge) vector in kustomize mode.

use std::path::PathBuf;

use helm_x::patch::{
    KustomizeOptions, SchemaRegistry, SmpMode, TypeSchema, kustomize_merge, strategic_merge,
};
use serde_json::{Value, json};

fn corpus(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/smp-corpus")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("corpus is JSON")
}

/// The Go test type `mergeItem` (README table), unrolled to a fixed depth, as a CRD schema.
fn merge_item(depth: usize) -> Value {
    let string = json!({"type": "string"});
    let mut props = serde_json::Map::new();
    for f in ["name", "value", "other"] {
        props.insert(f.into(), string.clone());
    }
    props.insert(
        "mergingIntList".into(),
        json!({"type": "array", "x-kubernetes-patch-strategy": "merge", "items": {"type": "integer"}}),
    );
    props.insert(
        "nonMergingIntList".into(),
        json!({"type": "array", "items": {"type": "integer"}}),
    );
    props.insert(
        "simpleMap".into(),
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
    );
    props.insert(
        "replacingItem".into(),
        json!({"type": "object", "x-kubernetes-patch-strategy": "replace",
               "x-kubernetes-preserve-unknown-fields": true}),
    );
    props.insert(
        "jsonItem".into(),
        json!({"x-kubernetes-preserve-unknown-fields": true}),
    );
    if depth > 0 {
        let child = merge_item(depth - 1);
        props.insert(
            "mergingList".into(),
            json!({"type": "array", "x-kubernetes-patch-strategy": "merge",
                   "x-kubernetes-patch-merge-key": "name", "items": child}),
        );
        props.insert(
            "nonMergingList".into(),
            json!({"type": "array", "items": child}),
        );
        props.insert(
            "retainKeysMergingList".into(),
            json!({"type": "array", "x-kubernetes-patch-strategy": "merge,retainKeys",
                   "x-kubernetes-patch-merge-key": "name", "items": child}),
        );
        // Go's `*mergeItem` field also accepts a list of mergeItem (tests use both shapes).
        let mut ptr = child.clone();
        ptr["items"] = child.clone();
        ptr["x-kubernetes-patch-strategy"] = json!("merge");
        ptr["x-kubernetes-patch-merge-key"] = json!("name");
        props.insert("mergeItemPtr".into(), ptr);
        let mut retain = child;
        retain["x-kubernetes-patch-strategy"] = json!("retainKeys");
        props.insert("retainKeysMap".into(), retain);
    }
    json!({"type": "object", "properties": props})
}

fn merge_item_registry() -> SchemaRegistry {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "test.helm-x.io",
            "scope": "Namespaced",
            "names": {"kind": "MergeItem"},
            "versions": [{"name": "v1", "served": true,
                          "schema": {"openAPIV3Schema": merge_item(5)}}]
        }
    });
    let mut registry = SchemaRegistry::default();
    registry.add_crd(&crd).expect("mergeItem CRD");
    registry
}

#[test]
fn apimachinery_vectors() {
    let data = corpus("apimachinery-strategicpatch.json");
    let cases = data["cases"].as_array().expect("cases");
    let registry = merge_item_registry();
    let schema = registry.lookup("test.helm-x.io/v1", "MergeItem");
    let (mut passed, mut failures) = (0, Vec::new());
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let result = strategic_merge(
            &case["original"],
            &case["patch"],
            schema,
            SmpMode::Apimachinery,
        );
        let ok = match (&result, case.get("expected_error")) {
            (Err(e), Some(want)) => e.to_string().contains(want.as_str().unwrap_or("")),
            (Ok(got), None) => *got == case["expected"],
            _ => false,
        };
        if ok {
            passed += 1;
        } else {
            failures.push(format!("{name}: got {result:?}, want {}", case["expected"]));
        }
    }
    // Includes the two `go_slice_aliasing_dependent` vectors, which the engine emulates.
    println!("apimachinery corpus: {passed}/{} passed", cases.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// kyaml picks the schema from the first document carrying both apiVersion and kind.
fn kyaml_schema<'r>(registry: &'r SchemaRegistry, case: &Value) -> TypeSchema<'r> {
    for doc in [&case["original"], &case["patch"]] {
        if let (Some(v), Some(k)) = (doc["apiVersion"].as_str(), doc["kind"].as_str()) {
            return registry.lookup(v, k);
        }
    }
    TypeSchema::unknown()
}

/// Cases whose expectation depends on YAML text the value model cannot carry.
const KUSTOMIZE_KNOWN: &[(&str, &str)] = &[
    (
        "patchstrategicmerge/nullMapEntry1",
        "YAML `B:` (empty, dropped by kyaml) and `B: null` (kept) parse to the same value",
    ),
    (
        "merge2/elementTestCases/no infer merge keys merge using explicit schema as line comment'",
        "schema given in a YAML line comment",
    ),
    (
        "merge2/elementTestCases/merge_primitive_items",
        "schema given in a YAML line comment",
    ),
    (
        "merge2/listTestCases/merge k8s deployment containers -- $patch directive",
        "merge2 append mode (unused by kustomize) orders a `- $patch: merge` list like prepend",
    ),
];

#[test]
fn kustomize_vectors() {
    let data = corpus("kustomize-kyaml-merge.json");
    let cases = data["cases"].as_array().expect("cases");
    let registry = SchemaRegistry::builtin();
    let (mut passed, mut known, mut failures) = (0, Vec::new(), Vec::new());
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let options = KustomizeOptions {
            append: case["list_increase_direction"] == "append",
            infer_associative_lists: case["infer_associative_lists"] == true,
        };
        let schema = kyaml_schema(&registry, case);
        let result = kustomize_merge(case["original"].clone(), &case["patch"], schema, options);
        // An empty expected document means the resource was removed.
        let removed = case["expected"] == json!([]) || case["expected"].is_null();
        let ok = match &result {
            Ok(got) if removed => got.is_null(),
            Ok(got) => *got == case["expected"],
            Err(_) => false,
        };
        if ok {
            passed += 1;
        } else if let Some((_, why)) = KUSTOMIZE_KNOWN.iter().find(|(n, _)| *n == name) {
            known.push(format!("{name} ({why})"));
        } else {
            failures.push(format!(
                "{name}:\n  original {}\n  patch    {}\n  got      {result:?}\n  want     {}",
                case["original"], case["patch"], case["expected"]
            ));
        }
    }
    println!(
        "kustomize corpus: {passed}/{} passed; known divergences: {known:#?}",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
