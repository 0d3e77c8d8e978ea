//! kubectl (go-yaml v2 through sigs.k8s.io/yaml) as the reference reader: what we emit
//! must read back identically there, and what we load must match what it loads.

use std::process::Command;

use serde_json::{Map, Value, json};

use super::emit::TRICKY;
use super::emit::tests::Gen;
use super::{emit, load};

/// kubectl's answers, stored under testdata/oracle/ and re-checked against kubectl under e2e.
// Also included by the other kubectl-oracle unit tests: one store per test, no shared state.
#[allow(clippy::duplicate_mod)]
#[path = "../../tests/common/oracle.rs"]
mod oracle;

/// What kubectl makes of a YAML file, as JSON (client side only, no cluster needed): the answer
/// stored for this test, which must be what kubectl (`$KUBECTL_BIN`) still says under e2e.
fn kubectl_read(name: &str, yaml: &str) -> Value {
    oracle::answer(&oracle::this_test(), json!(yaml), |_| {
        let path =
            std::env::temp_dir().join(format!("helmx-stream-{}-{name}.yaml", std::process::id()));
        std::fs::write(&path, yaml).expect("write temp file");
        let out = Command::new(oracle::kubectl())
            .args([
                "patch", "--local", "--type", "merge", "-p", "{}", "-o", "json", "-f",
            ])
            .arg(&path)
            .env("KUBECONFIG", "/dev/null")
            .output()
            .expect("run kubectl");
        let _ = std::fs::remove_file(&path);
        assert!(
            out.status.success(),
            "kubectl failed: {}\n{yaml}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("kubectl printed JSON")
    })
}

fn config_map(extra: Map<String, Value>) -> Value {
    let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "oracle"}});
    if let Value::Object(m) = &mut obj {
        m.extend(extra);
    }
    obj
}

#[test]
fn kubectl_reads_emitted_strings_and_numbers_unchanged() {
    let data: Map<String, Value> = TRICKY
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("k{i}"), json!(s)))
        .collect();
    let keys: Map<String, Value> = TRICKY
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), json!(format!("v{i}"))))
        .collect();
    let numbers = json!({
        "max": i64::MAX, "min": i64::MIN, "zero": 0, "f": 1.5, "tiny": 5e-324,
        "huge": 1.7976931348623157e308, "third": 1.0 / 3.0, "neg": -2.5e-300,
    });
    let mut extra = Map::new();
    extra.insert("data".into(), Value::Object(data.clone()));
    extra.insert("keys".into(), Value::Object(keys.clone()));
    extra.insert("numbers".into(), numbers.clone());
    extra.insert("list".into(), json!(TRICKY));
    let yaml = emit(&config_map(extra));
    let back = kubectl_read("emit", &yaml);
    for (k, v) in &data {
        assert_eq!(back["data"].get(k), Some(v), "data.{k} ({v})");
    }
    for (k, v) in &keys {
        assert_eq!(back["keys"].get(k), Some(v), "key {k:?}");
    }
    assert_eq!(back["list"], json!(TRICKY));
    for (k, v) in numbers.as_object().into_iter().flatten() {
        let got = &back["numbers"][k];
        match v.as_i64() {
            Some(i) => assert_eq!(got.as_i64(), Some(i), "numbers.{k}"),
            None => assert_eq!(got.as_f64(), v.as_f64(), "numbers.{k}"),
        }
    }
}

#[test]
fn loader_agrees_with_kubectl() {
    let plain = [
        "~",
        "null",
        "Null",
        "NULL",
        "nuLL",
        "",
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "yEs",
        "n",
        "NO",
        "on",
        "ON",
        "oN",
        "off",
        "Off",
        "true",
        "TRUE",
        "False",
        "0x1F",
        "-0x1F",
        "0x_1F",
        "0o17",
        "017",
        "08",
        "09.5",
        "1_000",
        "+12",
        "-0",
        "0b101",
        "-0b11",
        "1e3",
        "1E+3",
        "1.",
        "1.e5",
        ".5",
        "+.5",
        ".5_",
        "1e400",
        "9223372036854775807",
        "-9223372036854775808",
        "-9223372036854775809",
        "0xFFFFFFFFFFFFFFFFFF",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "1:20",
        ".",
        "0x",
        "1.2.3",
        "NaN",
        "12e",
        "+",
        "0.1",
        "-0.0",
        "<<x",
    ];
    let mut yaml = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n");
    for (i, p) in plain.iter().enumerate() {
        yaml.push_str(&format!("  k{i}: {p}\n"));
    }
    yaml.push_str("keys:\n");
    for p in [
        "1",
        "1.5",
        "0.1",
        "1e6",
        "123456789",
        "0x1F",
        "yes",
        "off",
        "1e-5",
        "08",
    ] {
        yaml.push_str(&format!("  {p}: x{p}\n"));
    }
    let ours = load(&yaml).expect("load");
    let theirs = kubectl_read("load", &yaml);
    for (i, p) in plain.iter().enumerate() {
        let k = format!("k{i}");
        let (a, b) = (&ours["data"][&k], &theirs["data"][&k]);
        // kubectl re-reads its JSON as int64 or float64, so compare numbers by value.
        let same = match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ if a.is_number() && b.is_number() => a.as_f64() == b.as_f64(),
            _ => a == b,
        };
        assert!(same, "{p:?}: ours {a}, kubectl {b}");
    }
    let our_keys: Vec<&String> = ours["keys"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .collect();
    for k in our_keys {
        assert_eq!(ours["keys"][k], theirs["keys"][k], "key {k:?}");
    }
    assert_eq!(
        ours["keys"].as_object().map(Map::len),
        theirs["keys"].as_object().map(Map::len)
    );
}

/// Equal up to what kubectl's JSON round trip loses: `1.0` comes back as `1`, and
/// integers beyond int64 come back as floats.
fn same_modulo_json_numbers(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_modulo_json_numbers(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_modulo_json_numbers(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn kubectl_reads_generated_values_unchanged() {
    let mut g = Gen(0x9e3779b97f4a7c15);
    let values: Vec<Value> = (0..1500).map(|_| g.value(0)).collect();
    let mut extra = Map::new();
    extra.insert("gen".into(), Value::Array(values.clone()));
    let back = kubectl_read("gen", &emit(&config_map(extra)));
    let got = back["gen"].as_array().cloned().unwrap_or_default();
    assert_eq!(got.len(), values.len());
    for (want, got) in values.iter().zip(&got) {
        assert!(
            same_modulo_json_numbers(want, got),
            "want {want}\ngot  {got}"
        );
    }
}
