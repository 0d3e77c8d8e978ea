//! kubectl's answers, stored: `testdata/oracle/NAME.jsonl` (see the README there).
//!
//! Plain `cargo test` takes kubectl's answers from the file, after checking that each was made for
//! the input the test has now. With `--features e2e` kubectl (`$KUBECTL_BIN`, never PATH) is asked
//! as well and must still give the stored answers, so they cannot rot; with `--features e2e` and
//! `INSTA_UPDATE=always` (the switch that also rewrites the golden files) the file is rewritten
//! from kubectl's answers instead.
//!
//! Shared by the integration tests (`common::oracle`) and by the unit tests that consult kubectl
//! (included there with `#[path]`), so it needs nothing but std and serde_json.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

/// kubectl from `KUBECTL_BIN`; only the e2e tier asks it, and never looks it up on PATH.
pub fn kubectl() -> PathBuf {
    let bin = std::env::var_os("KUBECTL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "KUBECTL_BIN is not set: the e2e tests ask kubectl (run them through scripts/test)"
            )
        });
    assert!(bin.is_file(), "KUBECTL_BIN={} is not a file", bin.display());
    bin
}

/// Whether this run asks kubectl (the e2e tier).
pub fn live() -> bool {
    cfg!(feature = "e2e")
}

fn regenerating() -> bool {
    live() && std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always")
}

pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/oracle")
        .join(format!("{name}.jsonl"))
}

/// The store of the running test: its (libtest-given) thread name, `::` as `.`.
pub fn this_test() -> String {
    let thread = std::thread::current();
    let name = thread
        .name()
        .filter(|n| *n != "main")
        .expect("oracle answers are stored per test: run under libtest, which names test threads");
    name.replace("::", ".")
}

struct Store {
    /// The file's records (read on first use), or those made this run when regenerating.
    records: Vec<Value>,
    /// How many records this run has used.
    next: usize,
}

fn stores() -> &'static Mutex<HashMap<String, Store>> {
    static STORES: OnceLock<Mutex<HashMap<String, Store>>> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

fn regenerate_hint(name: &str) -> String {
    format!(
        "regenerate it with `INSTA_UPDATE=always cargo test --features e2e` running this test \
         (KUBECTL_BIN set; scripts/fetch-tools gives it), then review `git diff {}`",
        path(name)
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .display()
    )
}

fn read(name: &str) -> Vec<Value> {
    let file = path(name);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "no stored kubectl answers {} ({e}): {}",
            file.display(),
            regenerate_hint(name)
        )
    });
    // The first line says how the file was made; records follow, one a line.
    text.lines()
        .skip(1)
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", file.display(), i + 2))
        })
        .collect()
}

fn kubectl_version() -> &'static Value {
    static VERSION: OnceLock<Value> = OnceLock::new();
    VERSION.get_or_init(|| {
        let out = std::process::Command::new(kubectl())
            .args(["version", "--client", "-o", "json"])
            .output()
            .expect("run kubectl version");
        let version: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        version["clientVersion"]["gitVersion"].clone()
    })
}

fn write(name: &str, records: &[Value]) {
    let header = json!({
        "kubectl": kubectl_version(),
        "made_by": "INSTA_UPDATE=always cargo test --features e2e (see README.md)",
    });
    let mut text = header.to_string();
    text.push('\n');
    for r in records {
        text.push_str(&r.to_string());
        text.push('\n');
    }
    let file = path(name);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
}

/// kubectl's answers to `inputs`, in order: the next records of store `name`. `ask` runs kubectl on
/// all of them (e2e only); inputs and answers are JSON values of the caller's choosing.
pub fn answers(
    name: &str,
    inputs: &[Value],
    ask: impl FnOnce(&[Value]) -> Vec<Value>,
) -> Vec<Value> {
    let regenerate = regenerating();
    let (start, stored) = {
        let mut all = stores().lock().unwrap_or_else(|e| e.into_inner());
        let store = all.entry(name.to_owned()).or_insert_with(|| Store {
            records: if regenerate { Vec::new() } else { read(name) },
            next: 0,
        });
        let start = store.next;
        store.next += inputs.len();
        let stored: Vec<Value> = if regenerate {
            Vec::new()
        } else {
            (start..)
                .zip(inputs)
                .map(|(at, input)| stored_output(name, &store.records, at, input))
                .collect()
        };
        (start, stored)
    };
    if !live() {
        return stored;
    }
    let asked = ask(inputs);
    assert_eq!(asked.len(), inputs.len(), "one kubectl answer per input");
    if regenerate {
        let mut all = stores().lock().unwrap_or_else(|e| e.into_inner());
        let store = all.get_mut(name).unwrap();
        store.records.extend(
            inputs
                .iter()
                .zip(&asked)
                .map(|(input, output)| json!({"input": input, "output": output})),
        );
        write(name, &store.records);
        return asked;
    }
    for (i, (was, is)) in stored.iter().zip(&asked).enumerate() {
        assert!(
            was == is,
            "kubectl no longer gives the answer stored in {} record {}:\n  input  {}\n  stored {was}\n  now    {is}\n{}",
            path(name).display(),
            start + i + 1,
            inputs[i],
            regenerate_hint(name)
        );
    }
    asked
}

/// The output of record `at` (0-based) of store `name`, which must have been made for `input`.
fn stored_output(name: &str, records: &[Value], at: usize, input: &Value) -> Value {
    let record = records.get(at).unwrap_or_else(|| {
        panic!(
            "{} has {} records, this test needs more: {}",
            path(name).display(),
            records.len(),
            regenerate_hint(name)
        )
    });
    assert!(
        record["input"] == *input,
        "{} record {} was made for another input than this test's now:\n  stored {}\n  now    {input}\n{}",
        path(name).display(),
        at + 1,
        record["input"],
        regenerate_hint(name)
    );
    record["output"].clone()
}

/// kubectl's answer to one input: the next record of store `name`.
pub fn answer(name: &str, input: Value, ask: impl FnOnce(&Value) -> Value) -> Value {
    answers(name, std::slice::from_ref(&input), |inputs| {
        vec![ask(&inputs[0])]
    })
    .pop()
    .unwrap()
}

/// A short fingerprint of a large input (FNV-1a, 64 bits), so a record can name it without a copy.
pub fn digest(v: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in v.to_string().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A result as a record's output: `{"ok": value}` or `{"error": text}`.
pub fn result_to_json(r: &Result<Value, String>) -> Value {
    match r {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "error": e }),
    }
}

pub fn result_from_json(v: Value) -> Result<Value, String> {
    match v {
        Value::Object(mut m) if m.contains_key("ok") => Ok(m.remove("ok").unwrap()),
        Value::Object(mut m) => Err(m
            .remove("error")
            .and_then(|e| e.as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("a stored result is {{\"ok\": …}} or {{\"error\": \"…\"}}"))),
        other => panic!("a stored result is {{\"ok\": …}} or {{\"error\": \"…\"}}, not {other}"),
    }
}
