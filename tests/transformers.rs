//! `--transformer` end to end through the real helm 3 and 4: a manifests dir with a hook, and a
//! chart both patched in-process and post-rendered.
// Needs helm: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

mod common;

use common::{documents, envs, find, testdata, text};

fn p(rel: &str) -> String {
    testdata(rel).to_str().unwrap().to_string()
}

#[test]
fn manifests_take_transformers_in_order_hooks_included() {
    for env in envs() {
        let out = env.x_ok([
            "template",
            "r",
            &p("transformers/manifests"),
            "--transformer",
            &p("transformers/rename.yaml"),
            "--transformer",
            &p("transformers/patch.yaml"),
        ]);
        let docs = documents(&out);
        let web = find(&docs, "Deployment", "pay-web");
        assert_eq!(
            web.value["metadata"]["labels"]["team"], "payments",
            "{}",
            env.label
        );
        // The patch after the rename names the new name; the reference follows the ConfigMap.
        assert_eq!(web.value["spec"]["replicas"], 3);
        let pod = &web.value["spec"]["template"]["spec"];
        assert_eq!(
            pod["containers"][0]["envFrom"][0]["configMapRef"]["name"],
            "pay-settings"
        );
        find(&docs, "ConfigMap", "pay-settings");
        let hook = find(&docs, "Job", "pay-migrate");
        assert_eq!(hook.value["metadata"]["labels"]["team"], "payments");
        assert_eq!(
            hook.value["metadata"]["annotations"]["helm.sh/hook"],
            "pre-install"
        );
        let hook_pod = &hook.value["spec"]["template"]["spec"];
        assert_eq!(
            hook_pod["containers"][0]["envFrom"][0]["configMapRef"]["name"],
            "pay-settings"
        );
    }
}

#[test]
fn charts_take_transformers_in_process_and_post_rendered() {
    for env in envs() {
        // `--dry-run=client` is a flag only helm applies: helm renders, helm-x post-renders.
        for extra in [&[][..], &["--dry-run=client"][..]] {
            let mut args = vec![
                "template".to_string(),
                "r".into(),
                p("charts/app"),
                "--transformer".into(),
                p("transformers/chart.yaml"),
            ];
            args.extend(extra.iter().map(|a| a.to_string()));
            let out = env.x_ok(&args);
            let docs = documents(&out);
            let what = format!("{} {extra:?}", env.label);
            let deploy = find(&docs, "Deployment", "r-app");
            assert_eq!(
                deploy.value["metadata"]["labels"]["team"], "payments",
                "{what}"
            );
            let containers = &deploy.value["spec"]["template"]["spec"]["containers"];
            assert_eq!(containers[1]["image"], "busybox:1.37", "{what}");
            assert_eq!(containers[0]["image"], "nginx:1.27", "{what}");
            let hook = find(&docs, "Job", "r-app-migrate");
            assert_eq!(
                hook.value["metadata"]["labels"]["team"], "payments",
                "{what}: hook"
            );
            let hook_containers = &hook.value["spec"]["template"]["spec"]["containers"];
            assert_eq!(hook_containers[0]["image"], "busybox:1.37", "{what}: hook");
            assert_eq!(
                hook.source.as_deref(),
                Some("app/templates/hook-job.yaml"),
                "{what}"
            );
        }
    }
}

#[test]
fn an_unsupported_kind_names_the_file_and_document() {
    let file = p("transformers/unsupported.yaml");
    for env in envs() {
        let out = env.x([
            "template",
            "r",
            &p("transformers/manifests"),
            "--transformer",
            &file,
        ]);
        assert!(!out.status.success(), "{}", env.label);
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!(
                "transformer file {file}, document 2: kind `HashTransformer` is not supported"
            )),
            "{}: {err}",
            env.label
        );
    }
}
