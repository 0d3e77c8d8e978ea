//! The patch engine alone, without helm: parse a rendered stream, apply patches, write the text.
//!
//! `cargo bench --bench engine` prints a markdown table and writes `target/engine-bench.json`.
//! Streams hold Deployment + Service + ConfigMap triples shaped like `helm create` output; patches are
//! strategic-merge patches addressed by identity (like `--strategic-merge-patch` files). Each size
//! is measured several times and the minimum and median reported.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use helm_x::patch::{PatchContext, PatchSource, SmpMode, apply_documents};
use helm_x::stream::Document;

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

struct Sample {
    resources: usize,
    patches: usize,
    bytes: usize,
    min: Duration,
    median: Duration,
}

fn measure(dir: &Path, resources: usize, count: usize) -> Sample {
    let text = stream(resources);
    let source = [patches(dir, count, resources)];
    let ctx = PatchContext {
        release_namespace: "default",
        mode: SmpMode::Apimachinery,
        allow_missing_targets: false,
        crds: &[],
    };
    let mut times = Vec::with_capacity(REPS);
    for _ in 0..REPS {
        let start = Instant::now();
        let docs =
            Document::parse_stream(&text, "bench", |_| "templates/x.yaml".into()).expect("parse");
        let docs = apply_documents(docs, &source, &ctx)
            .expect("patch")
            .documents;
        let out: usize = docs.iter().map(|d| d.text().len()).sum();
        times.push(start.elapsed());
        assert!(out > 0);
    }
    times.sort();
    Sample {
        resources,
        patches: count,
        bytes: text.len(),
        min: times[0],
        median: times[REPS / 2],
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut samples = Vec::new();
    for (resources, count) in [
        (1_000, 100),
        (2_000, 200),
        (5_000, 500),
        (10_000, 1_000),
        (10_000, 1),
        (1_000, 1),
    ] {
        samples.push(measure(dir.path(), resources, count));
    }
    println!(
        "| resources | patches | input MB | min ms | median ms | MB/s (median) | µs per resource |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut json = Vec::new();
    for s in &samples {
        let mb = s.bytes as f64 / 1e6;
        let med = s.median.as_secs_f64();
        println!(
            "| {} | {} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} |",
            s.resources,
            s.patches,
            mb,
            s.min.as_secs_f64() * 1e3,
            med * 1e3,
            mb / med,
            med * 1e6 / s.resources as f64
        );
        json.push(serde_json::json!({
            "resources": s.resources, "patches": s.patches, "bytes": s.bytes,
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
