//! Differential tests against kubectl: apimachinery mode vs
//! `kubectl patch --local --type strategic`, kustomize mode vs `kubectl kustomize`
//! (`patches: - path:`), over the fixtures in `testdata/smp/` and deterministic,
//! generated patches.
//!
//! kubectl's answers are stored in `testdata/oracle/` (see `common::oracle`): plain `cargo test`
//! compares with them; `--features e2e` also asks kubectl (`$KUBECTL_BIN`) and checks that it still
//! gives them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::oracle;
use helm_x::patch::{SchemaRegistry, SmpMode, strategic_merge};
use serde_json::{Map, Value, json};

/// Fixtures both oracles accept; `kubectl patch --type strategic` rejects custom resources,
/// so the CRD-like fixture only runs against kustomize.
const FIXTURES: &[&str] = &[
    "deployment.json",
    "service.json",
    "statefulset.json",
    "cronjob.json",
];
const KUSTOMIZE_ONLY_FIXTURES: &[&str] = &["widget.json"];
const CASES_PER_FIXTURE: usize = 80;

fn kubectl_cmd() -> Command {
    let mut cmd = Command::new(oracle::kubectl());
    cmd.env("KUBECONFIG", "/dev/null");
    cmd
}

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/smp")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Deep-merges generated fragments into one patch; lists at the same place concatenate.
fn combine(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => combine(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => a.extend(b),
        (slot, v) => *slot = v,
    }
}

fn container_patch(rng: &mut Rng, name: &str) -> Value {
    let mut c = Map::new();
    c.insert("name".into(), json!(name));
    for _ in 0..rng.below(3) {
        let (k, v) = match rng.below(12) {
            0 => ("image", json!(format!("img:{}", rng.below(9)))),
            1 => (
                "env",
                json!([{"name": "A", "value": format!("{}", rng.below(9))}]),
            ),
            2 => ("env", json!([{"name": "B", "value": "plain"}])),
            3 => (
                "env",
                json!([{"name": "NEW", "value": "n"}, {"name": "A", "value": "2"}]),
            ),
            4 => ("env", json!([{"name": "C", "$patch": "delete"}])),
            5 => (
                "ports",
                json!([{"containerPort": 53, "protocol": "TCP", "name": "renamed"}]),
            ),
            6 => ("ports", json!([{"containerPort": 8080, "protocol": "TCP"}])),
            7 => (
                "volumeMounts",
                json!([{"name": "extra", "mountPath": "/extra"}]),
            ),
            8 => (
                "volumeMounts",
                json!([{"name": "data", "mountPath": "/data", "readOnly": true}]),
            ),
            9 => ("args", json!(["--x"])),
            10 => (
                "resources",
                json!({"limits": {"cpu": "1"}, "requests": null}),
            ),
            _ => ("imagePullPolicy", json!("Always")),
        };
        combine(c.entry(k).or_insert(Value::Null), v);
    }
    if rng.chance(8) {
        c.insert("$patch".into(), json!("delete"));
    }
    Value::Object(c)
}

fn pod_spec_fragment(rng: &mut Rng, names: &[&str]) -> Value {
    match rng.below(11) {
        0..=3 => {
            let mut list = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let name = *rng.pick(names);
                list.push(container_patch(rng, name));
            }
            if rng.chance(6) {
                list.push(json!({"$patch": "replace"}));
            }
            json!({"containers": list})
        }
        4 => json!({"volumes": [{"name": "extra", "emptyDir": {}}]}),
        5 => json!({"volumes": [{"name": "data", "$patch": "delete"}]}),
        6 => {
            json!({"volumes": [{"name": "cfg", "configMap": null, "secret": {"secretName": "s"}}]})
        }
        7 => json!({"tolerations": [{"key": "k2", "operator": "Equal", "value": "v"}]}),
        8 => json!({"nodeSelector": {"$patch": "replace", "zone": "a"}}),
        9 => json!({"topologySpreadConstraints": [
            {"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"}]}),
        _ => {
            let first = *rng.pick(names);
            let second = *rng.pick(names);
            let mut order = vec![json!({"name": first})];
            if second != first {
                order.push(json!({"name": second}));
            }
            json!({"$setElementOrder/containers": order,
                   "containers": [{"name": first, "image": "ordered"}]})
        }
    }
}

fn metadata_fragment(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => json!({"metadata": {"labels": {"added": format!("v{}", rng.below(5))}}}),
        1 => json!({"metadata": {"labels": {"app": null}, "annotations": {"note": null}}}),
        2 => json!({"metadata": {"finalizers": ["example.com/c", "example.com/a"]}}),
        3 => json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"]}}),
        _ => json!({"metadata": {"annotations": {"$patch": "replace", "only": "this"}}}),
    }
}

/// Edge cases: directives, nulls, missing keys, type changes (shared by workload kinds).
fn edge_fragment(rng: &mut Rng) -> Value {
    let pod = match rng.below(16) {
        14 => json!({"containers": [{"name": "app", "$deleteFromPrimitiveList/args": ["--a"]}]}),
        15 => json!({"containers": [{"name": "app", "ports": [
                {"containerPort": 53, "protocol": "UDP", "$patch": "replace"}]}]}),
        0 => json!({"containers": [{"name": "app", "env": [{"name": "A", "value": null}]}]}),
        1 => json!({"containers": [{"name": "app", "env": []}]}),
        2 => json!({"containers": [{"name": "new3", "image": "i",
                                    "env": [{"name": "X", "value": null}],
                                    "resources": {"limits": {"cpu": null, "memory": "1Gi"}}}]}),
        3 => json!({"nodeSelector": {"$patch": "merge", "zone": "b"}}),
        4 => json!({"containers": [{"image": "no-name"}]}),
        5 => json!({"containers": [{"name": "app", "ports": [
                {"containerPort": 53, "protocol": "UDP", "$patch": "delete"}]}]}),
        6 => {
            json!({"containers": [{"name": "app", "ports": [{"containerPort": 80, "name": "web"}]}]})
        }
        7 => json!({"nodeSelector": {"$patch": "delete"}}),
        8 => json!({"volumes": [{"name": "cfg", "secret": {"secretName": "s"},
                                 "$retainKeys": ["name", "secret"]}]}),
        9 => json!({"volumes": [{"name": "data", "emptyDir": null, "hostPath": {"path": "/d"}}]}),
        10 => json!({"initContainers": [{"name": "init2", "image": "busybox"}]}),
        11 => {
            json!({"containers": [{"name": "app", "env": [{"name": "B", "value": "v", "valueFrom": null}]}]})
        }
        12 => json!({"topologySpreadConstraints": [{"topologyKey": "zone", "$patch": "delete"}]}),
        _ => json!({"containers": [{"name": "app", "$patch": "replace", "image": "only"}]}),
    };
    if rng.chance(15) {
        return json!({"metadata": {"labels": {"$patch": "delete"}}});
    }
    if rng.chance(10) {
        return json!({"metadata": {"finalizers": [{"$patch": "replace"}, "example.com/z"]}});
    }
    json!({"spec": {"template": {"spec": pod}}})
}

fn fragment(rng: &mut Rng, kind: &str) -> Value {
    if rng.chance(20) {
        return metadata_fragment(rng);
    }
    // Pod-spec edge cases; a custom resource with a map in `finalizers` would not even
    // survive kubectl's YAML-to-JSON step of the kustomize oracle.
    if !matches!(kind, "Service" | "Widget") && rng.chance(25) {
        return edge_fragment(rng);
    }
    match kind {
        "Deployment" => {
            let names = ["app", "sidecar", "metrics", "new1", "new2"];
            match rng.below(8) {
                0 => json!({"spec": {"replicas": rng.below(5)}}),
                1 => json!({"spec": {"strategy": {"type": "Recreate", "rollingUpdate": null}}}),
                2 => json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
                3 => json!({"spec": {"template": {"spec": {"initContainers": [
                        {"name": "init", "image": "busybox:1.37"}]}}}}),
                _ => json!({"spec": {"template": {"spec": pod_spec_fragment(rng, &names)}}}),
            }
        }
        "CronJob" => {
            let names = ["job", "extra"];
            match rng.below(4) {
                0 => json!({"spec": {"schedule": "*/5 * * * *", "suspend": true}}),
                _ => json!({"spec": {"jobTemplate": {"spec": {"template": {"spec":
                        pod_spec_fragment(rng, &names)}}}}}),
            }
        }
        "Widget" => match rng.below(6) {
            0 => json!({"spec": {"items": [{"name": "b", "weight": 5}, {"name": "c"}]}}),
            1 => json!({"spec": {"settings": {"color": null, "shape": "round"}}}),
            2 => json!({"spec": {"settings": {"$patch": "replace", "only": true}}}),
            3 => json!({"spec": {"settings": {"limits": {"$patch": "delete"}}, "tags": ["z"]}}),
            4 => json!({"spec": {"items": [{"name": "a", "$patch": "delete"}]}}),
            _ => json!({"spec": {"size": 5, "extra": {"nested": {"k": null, "v": 1}}}}),
        },
        "StatefulSet" => {
            let names = ["postgres", "backup"];
            match rng.below(5) {
                0 => json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "wal"},
                        "spec": {"accessModes": ["ReadWriteOnce"]}}]}}),
                1 => json!({"spec": {"replicas": rng.below(5), "serviceName": "db2"}}),
                _ => json!({"spec": {"template": {"spec": pod_spec_fragment(rng, &names)}}}),
            }
        }
        _ => match rng.below(7) {
            0 => json!({"spec": {"ports": [{"port": 53, "protocol": "TCP", "targetPort": 5353}]}}),
            1 => json!({"spec": {"ports": [{"port": 8443, "protocol": "TCP", "name": "https"}]}}),
            2 => json!({"spec": {"ports": [{"port": 80, "$patch": "delete"}]}}),
            3 => json!({"spec": {"ports": [{"port": 53, "protocol": "UDP", "name": "dns"},
                                           {"port": 9153, "protocol": "TCP", "name": "metrics"}]}}),
            4 => json!({"spec": {"selector": {"app": "dns2", "extra": "x"}}}),
            5 => json!({"spec": {"type": "NodePort"}}),
            _ => {
                json!({"spec": {"ports": [{"$patch": "replace"}, {"port": 1, "protocol": "TCP"}]}})
            }
        },
    }
}

/// One generated patch document (without identity fields).
fn generate(rng: &mut Rng, kind: &str) -> Value {
    let mut patch = json!({});
    for _ in 0..1 + rng.below(3) {
        let f = fragment(rng, kind);
        combine(&mut patch, f);
    }
    // kubectl's result for a list plus its own deletion list depends on Go's random map
    // order (it differs between runs), so such patches cannot be compared.
    if let Some(meta) = patch.get_mut("metadata").and_then(Value::as_object_mut)
        && meta.contains_key("finalizers")
    {
        meta.shift_remove("$deleteFromPrimitiveList/finalizers");
    }
    patch
}

fn cases(fixtures: &[&str]) -> Vec<(Value, Value)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::new();
    for name in fixtures {
        let original = fixture(name);
        let kind = original["kind"].as_str().unwrap_or("").to_owned();
        for _ in 0..CASES_PER_FIXTURE {
            out.push((original.clone(), generate(&mut rng, &kind)));
        }
    }
    out
}

fn show(r: &Result<Value, String>) -> String {
    match r {
        Ok(v) => v.to_string(),
        Err(e) => format!("error: {e}"),
    }
}

/// A scratch dir for kubectl's input files; kubectl's messages name it as `$DIR`.
fn temp_dir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("helmx-smp-{tag}-"))
        .tempdir()
        .expect("temp dir")
}

/// kubectl's stderr with the scratch dir's path replaced, so stored answers do not depend on it.
fn stderr_in(dir: &Path, stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr).replace(dir.to_str().expect("UTF-8 temp dir"), "$DIR")
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).expect("serialise")).expect("write");
}

/// What a record names for one case: the original by its kind and fingerprint, the patch itself.
fn case_input(original: &Value, patch: &Value) -> Value {
    json!({"kind": original["kind"], "original": oracle::digest(original), "patch": patch})
}

/// `kubectl patch --local --type strategic`; Err carries kubectl's stderr.
fn kubectl_patch(dir: &Path, file: &Path, patch: &Value) -> Result<Value, String> {
    let out = kubectl_cmd()
        .args([
            "patch",
            "--local",
            "--type",
            "strategic",
            "-o",
            "json",
            "-f",
        ])
        .arg(file)
        .arg("-p")
        .arg(patch.to_string())
        .output()
        .expect("run kubectl");
    if !out.status.success() {
        return Err(stderr_in(dir, &out.stderr));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}

/// `kubectl patch` on every case, eight at a time.
fn kubectl_patch_all(cases: &[(Value, Value)]) -> Vec<Result<Value, String>> {
    let dir = temp_dir("am");
    let mut files = Vec::new();
    for (i, (original, _)) in cases.iter().enumerate() {
        let f = dir.path().join(format!("orig-{i}.json"));
        write_json(&f, original);
        files.push(f);
    }
    let dir = dir.path();
    std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(8))
            .zip(files.chunks(cases.len().div_ceil(8)))
            .map(|(chunk, fs)| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .zip(fs)
                        .map(|((_, patch), f)| kubectl_patch(dir, f, patch))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    })
}

/// kubectl's results for `cases` (stored ones, and under e2e kubectl's own): `kubectl` runs it.
fn oracle_results(
    store: &str,
    cases: &[(Value, Value)],
    kubectl: impl FnOnce() -> Vec<Result<Value, String>>,
) -> Vec<Result<Value, String>> {
    let inputs: Vec<Value> = cases.iter().map(|(o, p)| case_input(o, p)).collect();
    oracle::answers(store, &inputs, |_| {
        kubectl().iter().map(oracle::result_to_json).collect()
    })
    .into_iter()
    .map(oracle::result_from_json)
    .collect()
}

#[test]
fn apimachinery_mode_matches_kubectl_patch() {
    let registry = SchemaRegistry::builtin();
    let cases = cases(FIXTURES);
    let results = oracle_results(
        "smp_kubectl_oracle.apimachinery_mode_matches_kubectl_patch",
        &cases,
        || kubectl_patch_all(&cases),
    );
    let (mut agree, mut both_err, mut mismatches) = (0, 0, Vec::new());
    for ((original, patch), oracle) in cases.iter().zip(results) {
        let schema = registry.lookup(
            original["apiVersion"].as_str().unwrap_or(""),
            original["kind"].as_str().unwrap_or(""),
        );
        let ours = strategic_merge(original, patch, schema, SmpMode::Apimachinery);
        match (&ours, &oracle) {
            (Ok(a), Ok(b)) if a == b => agree += 1,
            // Both reject: the apimachinery error text must be the one kubectl printed.
            (Err(e), Err(stderr)) if stderr.contains(e.message().lines().next().unwrap_or("")) => {
                agree += 1;
                both_err += 1;
            }
            _ => mismatches.push(format!(
                "patch {patch}\n  ours    {}\n  kubectl {}",
                show(&ours.map_err(|e| e.to_string())),
                show(&oracle)
            )),
        }
    }
    println!(
        "kubectl patch oracle: {agree}/{} agree ({both_err} where both reject the patch)",
        cases.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Gives every case its own resource name so one `kubectl kustomize` run covers all.
fn kustomize_inputs(cases: &[(Value, Value)]) -> Vec<(Value, Value)> {
    cases
        .iter()
        .enumerate()
        .map(|(i, (original, patch))| {
            let mut original = original.clone();
            let name = format!(
                "{}-{i}",
                original["metadata"]["name"].as_str().unwrap_or("x")
            );
            original["metadata"]["name"] = json!(name);
            let mut full = json!({
                "apiVersion": original["apiVersion"],
                "kind": original["kind"],
                "metadata": {"name": name, "namespace": original["metadata"]["namespace"]},
            });
            combine(&mut full, patch.clone());
            (original, full)
        })
        .collect()
}

/// Runs `kubectl kustomize` on the cases, returning the output documents by name.
fn kubectl_kustomize(cases: &[(Value, Value)]) -> Result<Map<String, Value>, String> {
    let scratch = temp_dir("kz");
    let dir = scratch.path();
    let mut kustomization = String::from("resources:\n");
    for (i, (original, _)) in cases.iter().enumerate() {
        write_json(&dir.join(format!("r{i}.json")), original);
        kustomization.push_str(&format!("- r{i}.json\n"));
    }
    kustomization.push_str("patches:\n");
    for (i, (_, patch)) in cases.iter().enumerate() {
        write_json(&dir.join(format!("p{i}.json")), patch);
        kustomization.push_str(&format!("- path: p{i}.json\n"));
    }
    std::fs::write(dir.join("kustomization.yaml"), kustomization).expect("write");
    let built = kubectl_cmd()
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("run kubectl");
    if !built.status.success() {
        return Err(stderr_in(dir, &built.stderr));
    }
    // kustomize prints YAML; a no-op local merge patch turns it into JSON.
    let mut to_json = kubectl_cmd()
        .args([
            "patch", "--local", "--type", "merge", "-p", "{}", "-o", "json", "-f", "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kubectl");
    let mut stdin = to_json.stdin.take().expect("stdin");
    let yaml = built.stdout;
    // Feed stdin from another thread: kubectl writes output while still reading input.
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(&yaml)
    });
    let out = to_json.wait_with_output().expect("kubectl");
    feeder.join().expect("feeder").expect("pipe");
    if !out.status.success() {
        return Err(stderr_in(dir, &out.stderr));
    }
    let mut docs = Map::new();
    for doc in serde_json::Deserializer::from_slice(&out.stdout).into_iter::<Value>() {
        let doc = doc.map_err(|e| e.to_string())?;
        let name = doc["metadata"]["name"].as_str().unwrap_or("").to_owned();
        docs.insert(name, doc);
    }
    Ok(docs)
}

/// `kubectl kustomize` of every case, by name: one batch, re-run case by case when the batch
/// fails, to find the offender.
fn kubectl_kustomize_each(inputs: &[(Value, Value)]) -> Vec<Result<Value, String>> {
    let name = |original: &Value| {
        original["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let batch = kubectl_kustomize(inputs);
    inputs
        .iter()
        .map(|(original, patch)| match &batch {
            Ok(docs) => docs
                .get(&name(original))
                .cloned()
                .ok_or_else(|| "missing".to_owned()),
            Err(_) => kubectl_kustomize(&[(original.clone(), patch.clone())]).and_then(|d| {
                d.get(&name(original))
                    .cloned()
                    .ok_or_else(|| "missing".to_owned())
            }),
        })
        .collect()
}

#[test]
fn kustomize_mode_matches_kubectl_kustomize() {
    let registry = SchemaRegistry::builtin();
    let all: Vec<&str> = FIXTURES
        .iter()
        .chain(KUSTOMIZE_ONLY_FIXTURES)
        .copied()
        .collect();
    let inputs = kustomize_inputs(&cases(&all));
    let results = oracle_results(
        "smp_kubectl_oracle.kustomize_mode_matches_kubectl_kustomize",
        &inputs,
        || kubectl_kustomize_each(&inputs),
    );
    let (mut agree, mut both_err, mut mismatches) = (0, 0, Vec::new());
    for ((original, patch), oracle) in inputs.iter().zip(results) {
        let schema = registry.lookup(
            original["apiVersion"].as_str().unwrap_or(""),
            original["kind"].as_str().unwrap_or(""),
        );
        let ours = strategic_merge(original, patch, schema, SmpMode::Kustomize);
        match (&ours, &oracle) {
            (Ok(a), Ok(b)) if a == b => agree += 1,
            (Err(_), Err(_)) => {
                agree += 1;
                both_err += 1;
            }
            _ => mismatches.push(format!(
                "patch {patch}\n  ours      {}\n  kustomize {}",
                show(&ours.map_err(|e| e.to_string())),
                show(&oracle)
            )),
        }
    }
    println!(
        "kubectl kustomize oracle: {agree}/{} agree ({both_err} where both reject the patch)",
        inputs.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Patches kustomize refuses; run one by one since a failing build has no output.
#[test]
fn kustomize_mode_rejects_what_kubectl_kustomize_rejects() {
    let registry = SchemaRegistry::builtin();
    let widget = fixture("widget.json");
    let deployment = fixture("deployment.json");
    let rejected = [
        (&widget, json!({"spec": {"size": {"a": 1}}})),
        (&widget, json!({"spec": {"settings": {"$patch": "bogus"}}})),
        (&widget, json!({"spec": {"settings": [1]}})),
        (&widget, json!({"spec": {"items": {"a": 1}}})),
        (
            &deployment,
            json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "resources": "none"}]}}}}),
        ),
        (
            &deployment,
            json!({"spec": {"template": {"spec": {"containers": [
            {"$patch": "bogus"}]}}}}),
        ),
    ];
    let cases: Vec<(Value, Value)> = rejected
        .iter()
        .map(|(o, p)| ((*o).clone(), p.clone()))
        .collect();
    let inputs = kustomize_inputs(&cases);
    let results = oracle_results(
        "smp_kubectl_oracle.kustomize_mode_rejects_what_kubectl_kustomize_rejects",
        &inputs,
        || {
            inputs
                .iter()
                .map(|case| kubectl_kustomize(std::slice::from_ref(case)).map(Value::Object))
                .collect()
        },
    );
    let mut agree = 0;
    for ((original, patch), oracle) in inputs.into_iter().zip(results) {
        let schema = registry.lookup(
            original["apiVersion"].as_str().unwrap_or(""),
            original["kind"].as_str().unwrap_or(""),
        );
        let ours = strategic_merge(&original, &patch, schema, SmpMode::Kustomize);
        match (&ours, &oracle) {
            (Err(e), Err(stderr)) if stderr.contains(e.message()) => agree += 1,
            _ => panic!(
                "patch {patch}\n  ours      {}\n  kustomize {}",
                show(&ours.clone().map_err(|e| e.to_string())),
                show(&oracle)
            ),
        }
    }
    println!(
        "kubectl kustomize oracle (rejections): {agree}/{} agree",
        cases.len()
    );
}
