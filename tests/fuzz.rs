//! Property-based fuzzing of the three engines hostile input reaches first: the YAML loader, the
//! strategic-merge engine (both modes) and JSON patch. Each must answer every input with a value or
//! an error, never a panic. The suite runs a bounded number of cases; a longer run:
//!
//!   PROPTEST_CASES=100000 cargo test --release --test fuzz

use helm_x::patch::json6902::JsonPatch;
use helm_x::patch::{KustomizeOptions, SchemaRegistry, SmpMode, kustomize_merge, strategic_merge};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Cases per property in the normal suite (PROPTEST_CASES overrides it).
const CASES: u32 = 300;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(CASES);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Keys that steer the engines: directives, merge keys, ordinary names.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("$patch".to_string()),
        Just("$retainKeys".to_string()),
        Just("$setElementOrder/containers".to_string()),
        Just("$deleteFromPrimitiveList/args".to_string()),
        Just("name".to_string()),
        Just("containers".to_string()),
        Just("args".to_string()),
        Just("ports".to_string()),
        Just("containerPort".to_string()),
        "[a-z]{1,3}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("replace"),
            Just("merge"),
            Just("delete"),
            Just("retainKeys"),
            Just("app"),
            Just("x"),
        ]
        .prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A Deployment-shaped original, so merge keys from the built-in schema come into play.
fn deployment(spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"template": {"spec": spec}}})
}

fn pointer() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![key(), Just("0".into()), Just("-".into()), Just("9".into())],
        0..5,
    )
    .prop_map(|parts| parts.iter().map(|p| format!("/{p}")).collect::<String>())
}

fn json_op() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("add"),
            Just("remove"),
            Just("replace"),
            Just("move"),
            Just("copy"),
            Just("test"),
            Just("bogus"),
        ],
        pointer(),
        pointer(),
        value(),
    )
        .prop_map(
            |(op, path, from, value)| json!({"op": op, "path": path, "from": from, "value": value}),
        )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn yaml_loader_never_panics(text in "[a-z0-9:\\-\\[\\]{}&*!|>'\" \n#,?<%@`\t.]{0,300}") {
        let _ = helm_x::stream::load(&text);
        let _ = helm_x::stream::split(&text);
    }

    #[test]
    fn yaml_loader_never_panics_on_yaml_like_lines(
        lines in prop::collection::vec(
            ("[ ]{0,6}", prop_oneof![Just("- "), Just("? "), Just(""), Just("&a "), Just("*a"), Just("<<: *a"), Just("!!binary "), Just("--- "), Just("|"), Just(">-")], "[a-z:]{0,8}", prop_oneof![Just(": "), Just(""), Just(": [x, y]"), Just(": {a: b}"), Just(": &b c")]),
            0..30,
        )
    ) {
        let text: String = lines.iter().map(|(i, a, b, c)| format!("{i}{a}{b}{c}\n")).collect();
        let _ = helm_x::stream::load(&text);
        let _ = helm_x::stream::split(&text);
    }

    #[test]
    fn strategic_merge_never_panics(original in value(), patch in value()) {
        let registry = SchemaRegistry::builtin();
        let schema = registry.lookup("apps/v1", "Deployment");
        let (original, patch) = (deployment(original), deployment(patch));
        for mode in [SmpMode::Apimachinery, SmpMode::Kustomize] {
            let _ = strategic_merge(&original, &patch, schema, mode);
        }
        let options = KustomizeOptions { append: false, infer_associative_lists: true };
        let _ = kustomize_merge(original, &patch, schema, options);
    }

    #[test]
    fn json_patch_never_panics(doc in value(), ops in prop::collection::vec(json_op(), 0..6)) {
        if let Ok(patch) = JsonPatch::from_value(&Value::Array(ops)) {
            let _ = patch.patched(&doc);
        }
    }
}
