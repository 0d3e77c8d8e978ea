//! helm-x's own work alone, without helm: split and index a rendered stream, apply patches, write
//! the text (what the post-renderer and `helm x template` do); and compare two releases (what
//! `helm x diff` does once helm has printed them).
//!
//! `cargo bench --bench engine` prints a markdown table and writes `target/engine-bench.json`.
//! Streams hold Deployment + Service + ConfigMap triples shaped like `helm create` output. Rows:
//! - `stream-3000`: 3,000 objects with 10 strategic-merge and 5 JSON patches, as in scripts/bench;
//! - `diff-10000`: two releases of 10,002 objects, every Deployment changed, compared as
//!   `helm x diff` compares them (keys, texts, line diffs of the changed objects);
//! - `scale-R-P`: R objects and P strategic-merge patches addressed by identity, for the scaling
//!   table. Each row is measured several times; the minimum and median are reported.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use helm_x::diff::{self, Options};
use helm_x::patch::{PatchContext, PatchSource, SmpMode};
use helm_x::stream::Stream;

const REPS: usize = 5;

fn stream(resources: usize) -> String {
    let mut s = String::new();
    for i in 0..resources {
        let n = i / 3;
        match i % 3 {
            0 => write!(
                s,
                "---\n# Source: big/templates/app-{t}.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{n}\n  labels:\n    app.kubernetes.io/name: app-{n}\n    app.kubernetes.io/instance: big\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: app-{n}\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: app-{n}\n    spec:\n      containers:\n        - name: app\n          image: \"nginx:1.27\"\n          ports:\n            - name: http\n              containerPort: 80\n              protocol: TCP\n          env:\n            - name: MODE\n              value: \"on\"\n          resources:\n            limits:\n              cpu: 100m\n              memory: 128Mi\n",
                t = n % 40
            ),
            1 => write!(
                s,
                "---\n# Source: big/templates/app-{t}.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-{n}\nspec:\n  type: ClusterIP\n  ports:\n    - port: 80\n      targetPort: http\n      protocol: TCP\n      name: http\n  selector:\n    app.kubernetes.io/name: app-{n}\n",
                t = n % 40
            ),
            _ => write!(
                s,
                "---\n# Source: big/templates/app-{t}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{n}\ndata:\n  country: \"NO\"\n  greeting: hello\n  index: \"{n}\"\n",
                t = n % 40
            ),
        }
        .expect("write to String");
    }
    s
}

/// `count` strategic-merge patches of the stream's Deployments, addressed by identity.
fn patches(dir: &Path, count: usize, resources: usize) -> PatchSource {
    let deployments = resources.div_ceil(3).max(1);
    let mut s = String::new();
    for i in 0..count {
        let n = (i * 7919) % deployments;
        write!(
            s,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{n}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: app\n          env:\n            - name: PATCHED\n              value: \"{i}\"\n"
        )
        .expect("write to String");
    }
    let file = dir.join(format!("smp-{count}-{resources}.yaml"));
    std::fs::write(&file, s).expect("write patch file");
    PatchSource::Strategic(file)
}

/// The patches of scripts/bench's large chart: 10 strategic-merge patches (Deployments) and 5 JSON
/// patches (ConfigMaps), each touching only its own key.
fn mixed_patches(dir: &Path, resources: usize) -> Vec<PatchSource> {
    let triples = resources.div_ceil(3).max(1);
    (0..15)
        .map(|j| {
            let n = (j * 197) % triples;
            if j % 3 == 2 {
                let file = dir.join(format!("json-{j}.yaml"));
                let body = format!(
                    "target: {{kind: ConfigMap, name: app-{n}}}\npatch:\n- {{op: add, path: /data/hx-p{j}, value: \"hx-p{j:05}\"}}\n"
                );
                std::fs::write(&file, body).expect("write patch file");
                PatchSource::Json(file)
            } else {
                let file = dir.join(format!("smp-{j}.yaml"));
                let body = format!(
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{n}\n  labels:\n    hx-p{j}: hx-p{j:05}\n"
                );
                std::fs::write(&file, body).expect("write patch file");
                PatchSource::Strategic(file)
            }
        })
        .collect()
}

struct Sample {
    label: String,
    resources: usize,
    patches: usize,
    bytes: usize,
    min: Duration,
    median: Duration,
}

/// Times `work` REPS times after one warm-up run.
fn time(mut work: impl FnMut()) -> (Duration, Duration) {
    work();
    let mut times: Vec<Duration> = (0..REPS)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[REPS / 2])
}

/// Split + index, patch, and write the text, as the post-renderer does.
fn measure(label: String, text: &str, sources: &[PatchSource], patches: usize) -> Sample {
    let ctx = PatchContext {
        release_namespace: "default",
        mode: SmpMode::Apimachinery,
        allow_missing_targets: false,
        crds: &[],
    };
    let (min, median) = time(|| {
        let mut stream =
            Stream::parse(text, "bench", |_| "templates/x.yaml".into()).expect("parse");
        helm_x::patch::apply(&mut stream, sources, &ctx).expect("patch");
        let mut out = String::with_capacity(text.len() + text.len() / 8);
        for doc in &stream.documents {
            out.push_str("---\n");
            out.push_str(&doc.text());
        }
        assert!(out.len() > text.len() / 2);
    });
    Sample {
        label,
        resources: text.matches("\nkind: ").count(),
        patches,
        bytes: text.len(),
        min,
        median,
    }
}

/// Two releases compared as `helm x diff` compares them.
fn measure_diff(resources: usize) -> Sample {
    let old = stream(resources);
    let new = old.replace("image: \"nginx:1.27\"", "image: \"nginx:1.28\"");
    let opts = Options {
        release_namespace: "default".into(),
        ..Options::default()
    };
    let (min, median) = time(|| {
        let old = diff::parse_manifests(&old, "default", false).expect("old");
        let new = diff::parse_manifests(&new, "default", false).expect("new");
        let report = diff::compare(&old, &new, &[], &opts).expect("compare");
        let text = report.render(&opts).expect("render");
        assert!(report.has_changes() && !text.is_empty());
    });
    Sample {
        label: format!("diff-{resources}"),
        resources,
        patches: 0,
        bytes: old.len() + new.len(),
        min,
        median,
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut samples = Vec::new();
    let text = stream(3_000);
    samples.push(measure(
        "stream-3000".into(),
        &text,
        &mixed_patches(dir.path(), 3_000),
        15,
    ));
    samples.push(measure_diff(10_002));
    for (resources, count) in [
        (1_000, 1),
        (1_000, 100),
        (2_000, 200),
        (5_000, 500),
        (10_000, 1),
        (10_000, 1_000),
    ] {
        let text = stream(resources);
        let sources = [patches(dir.path(), count, resources)];
        samples.push(measure(
            format!("scale-{resources}-{count}"),
            &text,
            &sources,
            count,
        ));
    }
    println!(
        "| row | resources | patches | input MB | min ms | median ms | MB/s (median) | µs per resource |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut json = Vec::new();
    for s in &samples {
        let mb = s.bytes as f64 / 1e6;
        let med = s.median.as_secs_f64();
        println!(
            "| {} | {} | {} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} |",
            s.label,
            s.resources,
            s.patches,
            mb,
            s.min.as_secs_f64() * 1e3,
            med * 1e3,
            mb / med,
            med * 1e6 / s.resources as f64
        );
        json.push(serde_json::json!({
            "label": s.label, "resources": s.resources, "patches": s.patches, "bytes": s.bytes,
            "min_ms": s.min.as_secs_f64() * 1e3, "median_ms": med * 1e3, "mb_per_s": mb / med,
        }));
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/engine-bench.json");
    let body = serde_json::to_string_pretty(&serde_json::json!({"reps": REPS, "samples": json}))
        .expect("json");
    if let Err(e) = std::fs::write(&out, body) {
        eprintln!("cannot write {}: {e}", out.display());
    } else {
        println!("\nwrote {}", out.display());
    }
}
