//! `helm x export flux` end to end through the real helm 3 and 4: a patched repository chart
//! exported as a HelmRelease and HelmRepository, checked against Flux's own CRD schemas
//! (testdata/flux, see its PROVENANCE.md), and replayed through `helm x template` to show that the
//! exported values and post-renderer patches make the same objects as the original command line.
// Needs helm: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use std::path::Path;

use common::{HelmEnv, documents, envs, s, testdata, text};
use serde_json::Value;

/// The `openAPIV3Schema` of `version` in one of testdata/flux's CRDs, made strict: every object
/// schema that lists its properties (and does not preserve unknown fields) refuses any other
/// property. The API server would prune such a field silently, so Flux would never see it; a
/// field the export writes must therefore be one the schema names.
fn schema(file: &str, version: &str) -> Value {
    let text = std::fs::read_to_string(testdata(&format!("flux/{file}"))).unwrap();
    let crd = helm_x::stream::load(&text).unwrap();
    let versions = crd["spec"]["versions"].as_array().unwrap();
    let found = versions
        .iter()
        .find(|v| v["name"] == version)
        .unwrap_or_else(|| panic!("{file} has no version {version}"));
    let mut schema = found["schema"]["openAPIV3Schema"].clone();
    strict(&mut schema);
    schema
}

fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let preserves =
                map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            if map.contains_key("properties")
                && !preserves
                && !map.contains_key("additionalProperties")
            {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for value in map.values_mut() {
                strict(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

fn validate(schema: &Value, object: &Value) {
    let validator = jsonschema::validator_for(schema).expect("the CRD schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(object)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{} {} does not match its CRD:\n{}",
        object["kind"],
        object["metadata"]["name"],
        errors.join("\n")
    );
}

/// Packages testdata/charts/app into a served chart repository and adds it as `local`.
fn local_repo(env: &HelmEnv, dir: &Path) -> String {
    let out = env.helm(["package", s(&testdata("charts/app")), "-d", s(dir)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let url = common::http::serve(dir.to_path_buf());
    let out = env.helm(["repo", "index", s(dir), "--url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.helm(["repo", "add", "local", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    url
}

/// The objects of a render, by kind and name, as parsed values.
fn objects(output: &str) -> Vec<(String, String, Value)> {
    let mut all: Vec<_> = documents(output)
        .into_iter()
        .map(|d| (d.kind().to_string(), d.name().to_string(), d.value))
        .collect();
    all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    all
}

#[test]
fn patched_repository_chart_exports_a_valid_equivalent_helm_release() {
    let release_schema = schema("helm.toolkit.fluxcd.io_helmreleases.yaml", "v2");
    let repository_schema = schema("source.toolkit.fluxcd.io_helmrepositories.yaml", "v1");
    for env in envs() {
        let repo = tempfile::tempdir().unwrap();
        let url = local_repo(&env, repo.path());
        let work = tempfile::tempdir().unwrap();
        let file = |name: &str, body: &str| {
            let path = work.path().join(name);
            std::fs::write(&path, body).unwrap();
            path.to_string_lossy().into_owned()
        };
        let values = file(
            "values.yaml",
            "replicas: 3\ngreeting: hello\nsub:\n  enabled: true\n",
        );
        let smp = file(
            "smp.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: r-app\n  labels:\n    \
             patched: \"yes\"\nspec:\n  template:\n    spec:\n      containers:\n        - name: \
             sidecar\n          image: busybox:1.37\n",
        );
        let json = file(
            "json.yaml",
            "target:\n  version: v1\n  kind: ConfigMap\n  name: r-app-config\npatch:\n  - op: \
             replace\n    path: /data/flag\n    value: \"off\"\n  - op: add\n    path: \
             /data/added\n    value: \"1.10\"\n",
        );
        let chart_flags = [
            "local/app",
            "--version",
            "1.2.0",
            "-f",
            values.as_str(),
            "--set",
            "greeting=hey",
            "-n",
            "apps",
        ];
        let patch_flags = [
            "--strategic-merge-patch",
            smp.as_str(),
            "--json-patch",
            json.as_str(),
        ];
        let mut argv = vec!["export", "flux", "r"];
        argv.extend(chart_flags);
        argv.extend(patch_flags);
        let out = env.x(&argv);
        assert!(out.status.success(), "{}: {}", env.label, text(&out.stderr));
        // Flux merges strategic-merge patches as kustomize does; the export says so.
        assert!(
            text(&out.stderr).contains("helm-x's --smp-mode kustomize"),
            "{}",
            text(&out.stderr)
        );
        let exported = text(&out.stdout);
        let docs: Vec<Value> = documents(&exported).into_iter().map(|d| d.value).collect();
        assert_eq!(docs.len(), 2, "{}: {exported}", env.label);
        let (source, release) = (&docs[0], &docs[1]);
        assert_eq!(source["kind"], "HelmRepository", "{exported}");
        assert_eq!(source["metadata"]["name"], "local");
        assert_eq!(source["metadata"]["namespace"], "apps");
        assert_eq!(source["spec"]["url"], url.as_str());
        assert_eq!(release["apiVersion"], "helm.toolkit.fluxcd.io/v2");
        assert_eq!(release["kind"], "HelmRelease");
        assert_eq!(release["metadata"]["namespace"], "apps");
        assert_eq!(release["spec"]["releaseName"], "r");
        assert_eq!(
            release["spec"]["chart"]["spec"],
            serde_json::json!({"chart": "app", "version": "1.2.0",
                               "sourceRef": {"kind": "HelmRepository", "name": "local"}})
        );
        // helm's own merge: the file, then --set.
        assert_eq!(
            release["spec"]["values"],
            serde_json::json!({"replicas": 3, "greeting": "hey", "sub": {"enabled": true}}),
            "{}",
            env.label
        );
        validate(&release_schema, release);
        validate(&repository_schema, source);
        // helm-x's own offline validation agrees: the export beside Flux's CRDs checks clean.
        let crds = work.path().join("flux");
        std::fs::create_dir(&crds).unwrap();
        for crd in [
            "helm.toolkit.fluxcd.io_helmreleases.yaml",
            "source.toolkit.fluxcd.io_helmrepositories.yaml",
        ] {
            std::fs::copy(testdata(&format!("flux/{crd}")), crds.join(crd)).unwrap();
        }
        std::fs::write(crds.join("export.yaml"), &exported).unwrap();
        let checked = env.x(["template", "r", s(&crds), "--validate-offline"]);
        assert!(
            checked.status.success(),
            "{}: {}",
            env.label,
            text(&checked.stderr)
        );

        // The exported patches, as a kustomize `patches:` file, with the exported values, make
        // what the original command line makes with kustomize's semantics (Flux's). With the
        // default `--smp-mode apimachinery` they differ here: kustomize moves the patched
        // `sidecar` container to the front of the list.
        let patches = &release["spec"]["postRenderers"][0]["kustomize"]["patches"];
        assert_eq!(patches.as_array().map(Vec::len), Some(2), "{exported}");
        let flux_patches = file(
            "flux-patches.yaml",
            &serde_json::to_string(patches).unwrap(),
        );
        let flux_values = file(
            "flux-values.yaml",
            &serde_json::to_string(&release["spec"]["values"]).unwrap(),
        );
        let mut original = vec!["template", "r"];
        original.extend(chart_flags);
        original.extend(patch_flags);
        original.extend(["--smp-mode", "kustomize"]);
        let original = env.x_ok(&original);
        let replayed = env.x_ok([
            "template",
            "r",
            "local/app",
            "--version",
            "1.2.0",
            "-f",
            flux_values.as_str(),
            "-n",
            "apps",
            "--patch",
            flux_patches.as_str(),
            "--smp-mode",
            "kustomize",
        ]);
        assert_eq!(objects(&replayed), objects(&original), "{}", env.label);
        assert!(original.contains("busybox:1.37") && original.contains("added: \"1.10\""));
    }
}

#[test]
fn unportable_inputs_are_refused_by_name() {
    let chart = testdata("charts/app");
    let env = envs().remove(0);
    for (extra, want) in [
        (
            &[][..],
            "is a local chart, which a Flux HelmRelease cannot reference",
        ),
        (
            &["--inject", "cat FILE"][..],
            "--inject cat FILE: Flux runs no commands on the rendered objects",
        ),
        (
            &["--force-namespace", "x"][..],
            "--force-namespace x: Flux's post-renderer takes only kustomize patches and images",
        ),
        (&["--atomic"][..], "--atomic: no HelmRelease field holds it"),
    ] {
        let mut argv = vec!["export", "flux", "r", s(&chart)];
        argv.extend(extra);
        let out = env.x(&argv);
        assert!(!out.status.success(), "{extra:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(want), "{extra:?}: {stderr}");
    }
    let manifests = testdata("manifests");
    let out = env.x(["export", "flux", "r", s(&manifests)]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Kustomization object"),
        "{}",
        text(&out.stderr)
    );
}
