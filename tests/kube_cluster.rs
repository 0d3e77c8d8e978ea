//! Integration tests against a real kube-apiserver (scripts/control-plane) and
//! the real helm binaries (scripts/fetch-tools).
//!
//!   eval "$(scripts/fetch-tools)"
//!   scripts/control-plane start /tmp/some-dir
//!   HELM_X_TEST_KUBECONFIG=/tmp/some-dir/kubeconfig cargo test --test cluster
//!
//! Every test works in its own namespace (suffixed with the process id), so the
//! tests run in parallel and can be re-run against the same cluster.
// Needs helm, kubectl or the local API server: runs with `--features e2e` (scripts/test).
#![cfg(feature = "e2e")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use helm_x::cluster::{
    AdoptError, AdoptOutcome, AdoptRequest, AdoptStatus, Cluster, ClusterConfig, MANAGED_BY_LABEL,
    RELEASE_NAME_ANNOTATION, RELEASE_NAMESPACE_ANNOTATION,
};

fn kubeconfig() -> PathBuf {
    let path = std::env::var_os("HELM_X_TEST_KUBECONFIG").unwrap_or_else(|| {
        panic!(
            "HELM_X_TEST_KUBECONFIG is not set: start a test API server with \
             `scripts/control-plane start DIR` and set HELM_X_TEST_KUBECONFIG=DIR/kubeconfig"
        )
    });
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "HELM_X_TEST_KUBECONFIG={} does not exist",
        path.display()
    );
    path
}

fn tool(var: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .unwrap_or_else(|| panic!("{var} is not set: run `eval \"$(scripts/fetch-tools)\"` first"));
    PathBuf::from(path)
}

/// A namespace unique to this test run, created on the server.
fn namespace(base: &str) -> String {
    let ns = format!("{base}-{}", std::process::id());
    kubectl(&["create", "namespace", &ns]);
    ns
}

fn config(namespace: &str, driver: Option<&str>) -> ClusterConfig {
    ClusterConfig {
        kubeconfig: vec![kubeconfig()],
        namespace: Some(namespace.to_string()),
        driver: driver.map(String::from),
        ..ClusterConfig::default()
    }
}

fn connect(namespace: &str) -> Cluster {
    Cluster::connect(&config(namespace, None))
        .expect("connect")
        .expect("a cluster is configured")
}

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    cmd.output()
        .unwrap_or_else(|e| panic!("running {shown}: {e}"))
}

fn check(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn kubectl(args: &[&str]) -> String {
    let out = run(Command::new(tool("KUBECTL_BIN"))
        .arg("--kubeconfig")
        .arg(kubeconfig())
        .args(args));
    check(out, &format!("kubectl {}", args.join(" ")))
}

/// Labels and annotations of one object, read with kubectl (not our client).
fn metadata(
    kind: &str,
    name: &str,
    ns: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>, String) {
    let json = kubectl(&["get", kind, name, "-n", ns, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("kubectl json");
    let map = |key: &str| -> BTreeMap<String, String> {
        v["metadata"][key]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let rv = v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (map("labels"), map("annotations"), rv)
}

/// helm with its own empty home, so the developer's repos/plugins don't matter.
struct Helm {
    bin: PathBuf,
    home: PathBuf,
}

impl Helm {
    fn new(var: &str, tag: &str) -> Self {
        let home = scratch_dir(&format!("helm-{tag}"));
        Helm {
            bin: tool(var),
            home,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("KUBECONFIG", kubeconfig())
            .env("HELM_DATA_HOME", self.home.join("data"))
            .env("HELM_CONFIG_HOME", self.home.join("config"))
            .env("HELM_CACHE_HOME", self.home.join("cache"))
            .env_remove("HELM_NAMESPACE")
            .env_remove("HELM_KUBECONTEXT")
            .env_remove("HELM_DRIVER");
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        check(
            run(&mut self.command(args)),
            &format!("helm {}", args.join(" ")),
        )
    }
}

fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("helm-x-cluster-it-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A chart holding exactly the given templates.
fn chart(dir: &Path, name: &str, templates: &[(&str, &str)]) -> PathBuf {
    let chart = dir.join(name);
    std::fs::create_dir_all(chart.join("templates")).expect("chart dir");
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    )
    .expect("Chart.yaml");
    for (file, text) in templates {
        std::fs::write(chart.join("templates").join(file), text).expect("template");
    }
    chart
}

fn configmap_chart(dir: &Path, cm_name: &str) -> PathBuf {
    chart(
        dir,
        "cmchart",
        &[(
            "cm.yaml",
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {cm_name}\ndata:\n  from: chart\n"
            ),
        )],
    )
}

fn request(release: &str, ns: &str, targets: &[&str]) -> AdoptRequest {
    AdoptRequest {
        release: release.into(),
        namespace: ns.into(),
        targets: targets.iter().map(|t| t.to_string()).collect(),
        force: false,
        dry_run: false,
    }
}

fn adopt_err(cluster: &Cluster, req: &AdoptRequest) -> anyhow::Error {
    match cluster.adopt(req) {
        Ok(outcomes) => panic!("adopt {:?} should fail, got {outcomes:?}", req.targets),
        Err(err) => err,
    }
}

#[test]
fn capabilities_match_the_server_and_helm() {
    let ns = namespace("caps");
    let cluster = connect(&ns);
    let caps = cluster.capabilities().expect("capabilities");
    assert!(
        caps.kube_version.starts_with("v1.20."),
        "kube_version {}",
        caps.kube_version
    );
    for want in [
        "v1",
        "apps/v1",
        "apps/v1/Deployment",
        "v1/ConfigMap",
        "apps/v1/Scale",
    ] {
        assert!(
            caps.api_versions.iter().any(|v| v == want),
            "{want} missing from {:?}",
            caps.api_versions
        );
    }
    assert!(caps.unavailable.is_empty(), "{:?}", caps.unavailable);

    // helm's own view when it talks to the cluster must be identical.
    let dir = scratch_dir("caps");
    let chart = chart(
        &dir,
        "capschart",
        &[(
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n  \
             kube: {{ .Capabilities.KubeVersion.Version | quote }}\n  \
             apis: {{ .Capabilities.APIVersions | toJson | quote }}\n",
        )],
    );
    // helm 4 reads the cluster with --dry-run=server; helm 3.18 ignores that
    // for `template` and needs --validate.
    for (var, tag, online) in [
        ("HELM4_BIN", "h4", "--dry-run=server"),
        ("HELM43_BIN", "h43", "--dry-run=server"),
        ("HELM3_BIN", "h3", "--validate"),
    ] {
        let helm = Helm::new(var, &format!("caps-{tag}"));
        let chart = chart.to_str().expect("utf-8");
        let rendered = helm.ok(&["template", "caps", chart, "-n", &ns, online]);
        let field = |key: &str| -> String {
            let line = rendered
                .lines()
                .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
                .unwrap_or_else(|| panic!("{key} missing in:\n{rendered}"));
            serde_json::from_str::<String>(line).expect("quoted value")
        };
        assert_eq!(field("kube"), caps.kube_version, "{var}");
        let mut helm_apis: Vec<String> =
            serde_json::from_str(&field("apis")).expect("apis json array");
        helm_apis.sort();
        assert_eq!(
            helm_apis, caps.api_versions,
            "{var}: helm's APIVersions differ"
        );
    }

    let args = caps.helm_template_args();
    assert_eq!(
        args[..2],
        ["--kube-version".to_string(), caps.kube_version.clone()]
    );
    assert_eq!(args.len(), 2 + 2 * caps.api_versions.len());
}

#[test]
fn release_exists_follows_helm_install_and_uninstall() {
    let ns = namespace("relx");
    let cluster = connect(&ns);
    assert!(!cluster.release_exists("web", &ns).expect("lookup"));

    let dir = scratch_dir("relx");
    let helm = Helm::new("HELM4_BIN", "relx");
    let chart = dir.join("web");
    helm.ok(&["create", chart.to_str().expect("utf-8")]);
    helm.ok(&["install", "web", chart.to_str().expect("utf-8"), "-n", &ns]);
    assert!(cluster.release_exists("web", &ns).expect("lookup"));
    assert!(
        !cluster
            .release_exists("web", "default")
            .expect("other namespace")
    );
    assert!(!cluster.release_exists("web2", &ns).expect("other name"));

    // Kept history whose latest revision is uninstalled: upgrade --install would install.
    helm.ok(&["uninstall", "web", "-n", &ns, "--keep-history"]);
    assert!(!cluster.release_exists("web", &ns).expect("lookup"));

    // The configmap driver keeps records elsewhere.
    let out = run(helm
        .command(&[
            "install",
            "cmrel",
            chart.to_str().expect("utf-8"),
            "-n",
            &ns,
        ])
        .env("HELM_DRIVER", "configmap"));
    check(out, "helm install with HELM_DRIVER=configmap");
    assert!(!cluster.release_exists("cmrel", &ns).expect("secret driver"));
    let cm_cluster = Cluster::connect(&config(&ns, Some("configmap")))
        .expect("connect")
        .expect("configured");
    assert!(
        cm_cluster
            .release_exists("cmrel", &ns)
            .expect("configmap driver")
    );

    let err = cluster
        .release_exists("Bad,Name", &ns)
        .expect_err("invalid release name");
    assert!(err.to_string().contains("invalid release name"), "{err:#}");
}

/// Without adoption helm refuses the existing ConfigMap; after adopt it installs.
/// `ssa`: helm 4 installs with server-side apply, which then conflicts with the
/// field manager that created the object (kubectl) wherever the chart's values
/// differ, until it is told `--force-conflicts`.
fn adopt_then_install(helm_var: &str, tag: &str) {
    let ns = namespace(&format!("adopt-{tag}"));
    let cluster = connect(&ns);
    kubectl(&[
        "create",
        "configmap",
        "shared",
        "-n",
        &ns,
        "--from-literal=from=kubectl",
    ]);
    let dir = scratch_dir(&format!("adopt-{tag}"));
    let chart = configmap_chart(&dir, "shared");
    let helm = Helm::new(helm_var, &format!("adopt-{tag}"));
    let install = ["install", "app", chart.to_str().expect("utf-8"), "-n", &ns];

    let refused = run(&mut helm.command(&install));
    assert!(
        !refused.status.success(),
        "install should fail before adoption"
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("invalid ownership metadata"),
        "unexpected helm error: {stderr}"
    );
    assert!(!cluster.release_exists("app", &ns).expect("lookup"));

    let outcomes = cluster
        .adopt(&request("app", &ns, &["cm/shared"]))
        .expect("adopt");
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0];
    assert_eq!(o.status, AdoptStatus::Adopted);
    assert_eq!(
        (o.api_version.as_str(), o.kind.as_str()),
        ("v1", "ConfigMap")
    );
    assert_eq!(o.namespace.as_deref(), Some(ns.as_str()));
    assert_eq!(o.changes.len(), 3, "{o}");

    let (labels, annotations, _) = metadata("configmap", "shared", &ns);
    assert_eq!(
        labels.get(MANAGED_BY_LABEL).map(String::as_str),
        Some("Helm")
    );
    assert_eq!(
        annotations.get(RELEASE_NAME_ANNOTATION).map(String::as_str),
        Some("app")
    );
    assert_eq!(
        annotations
            .get(RELEASE_NAMESPACE_ANNOTATION)
            .map(String::as_str),
        Some(ns.as_str())
    );
    let data = kubectl(&[
        "get",
        "configmap",
        "shared",
        "-n",
        &ns,
        "-o",
        "jsonpath={.data.from}",
    ]);
    assert_eq!(data, "kubectl", "adopt must not touch data");

    // The adoption also handed kubectl's fields to helm, so Helm 4's server-side apply takes
    // the object over without --force-conflicts (it used to conflict with "kubectl-create").
    helm.ok(&install);
    assert!(cluster.release_exists("app", &ns).expect("lookup"));
    let data = kubectl(&[
        "get",
        "configmap",
        "shared",
        "-n",
        &ns,
        "-o",
        "jsonpath={.data.from}",
    ]);
    assert_eq!(data, "chart", "the release now manages the object");

    let again = cluster
        .adopt(&request("app", &ns, &["configmap/shared"]))
        .expect("adopt again");
    assert_eq!(again[0].status, AdoptStatus::AlreadyOwned);
    assert!(again[0].changes.is_empty());
}

#[test]
fn adopt_lets_helm4_install_take_over() {
    adopt_then_install("HELM4_BIN", "h4");
}

#[test]
fn adopt_lets_helm43_install_take_over() {
    adopt_then_install("HELM43_BIN", "h43");
}

#[test]
fn adopt_lets_helm3_install_take_over() {
    adopt_then_install("HELM3_BIN", "h3");
}

#[test]
fn adopt_refuses_another_release_unless_forced() {
    let ns = namespace("owned");
    let cluster = connect(&ns);
    kubectl(&["create", "configmap", "taken", "-n", &ns]);
    kubectl(&[
        "label",
        "configmap",
        "taken",
        "-n",
        &ns,
        "app.kubernetes.io/managed-by=Helm",
    ]);
    kubectl(&[
        "annotate",
        "configmap",
        "taken",
        "-n",
        &ns,
        "meta.helm.sh/release-name=other",
        &format!("meta.helm.sh/release-namespace={ns}"),
    ]);
    let (_, _, rv_before) = metadata("configmap", "taken", &ns);

    let mut req = request("mine", &ns, &["cm/taken"]);
    let err = adopt_err(&cluster, &req);
    let msg = err.to_string();
    assert!(
        msg.contains("ConfigMap \"taken\"") && msg.contains("release \"other\""),
        "{msg}"
    );
    assert!(
        matches!(
            err.downcast_ref::<AdoptError>(),
            Some(AdoptError::OwnedByOtherRelease { .. })
        ),
        "{err:#}"
    );
    let (_, annotations, rv_after) = metadata("configmap", "taken", &ns);
    assert_eq!(rv_before, rv_after, "a refused adoption must not write");
    assert_eq!(
        annotations.get(RELEASE_NAME_ANNOTATION).map(String::as_str),
        Some("other")
    );

    req.force = true;
    let outcomes = cluster.adopt(&req).expect("forced adopt");
    let o = &outcomes[0];
    assert_eq!(o.status, AdoptStatus::Adopted);
    assert_eq!(
        o.previous_owner.as_ref().and_then(|p| p.name.as_deref()),
        Some("other")
    );
    assert_eq!(o.changes.len(), 1, "only release-name differs: {o}");
    let (_, annotations, _) = metadata("configmap", "taken", &ns);
    assert_eq!(
        annotations.get(RELEASE_NAME_ANNOTATION).map(String::as_str),
        Some("mine")
    );
}

#[test]
fn adopt_dry_run_changes_nothing() {
    let ns = namespace("dryrun");
    let cluster = connect(&ns);
    kubectl(&["create", "configmap", "probe", "-n", &ns]);
    let (labels, annotations, rv_before) = metadata("configmap", "probe", &ns);

    let mut req = request("rel", &ns, &["cm/probe"]);
    req.dry_run = true;
    let outcomes = cluster.adopt(&req).expect("dry run");
    let o = &outcomes[0];
    assert_eq!(o.status, AdoptStatus::WouldAdopt);
    let shown: Vec<String> = o.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "label app.kubernetes.io/managed-by: (unset) -> Helm".to_string(),
            "annotation meta.helm.sh/release-name: (unset) -> rel".to_string(),
            format!("annotation meta.helm.sh/release-namespace: (unset) -> {ns}"),
        ]
    );
    assert_eq!(
        metadata("configmap", "probe", &ns),
        (labels, annotations, rv_before)
    );
}

#[test]
fn adopt_resolves_kinds_like_kubectl() {
    let ns = namespace("kinds");
    let cluster = connect(&ns);
    kubectl(&["create", "configmap", "x", "-n", &ns]);
    kubectl(&[
        "create",
        "deployment",
        "y",
        "-n",
        &ns,
        "--image=registry.invalid/none",
    ]);
    kubectl(&[
        "create",
        "clusterrole",
        &format!("cr-{ns}"),
        "--verb=get",
        "--resource=pods",
    ]);

    let resolve = |target: &str| -> AdoptOutcome {
        let mut req = request("rel", &ns, &[target]);
        req.dry_run = true;
        let mut outcomes = cluster
            .adopt(&req)
            .unwrap_or_else(|e| panic!("{target}: {e:#}"));
        assert_eq!(outcomes.len(), 1);
        outcomes.remove(0)
    };
    for target in ["cm/x", "configmaps/x", "configmap/x", "ConfigMap/x", "CM/x"] {
        let o = resolve(target);
        assert_eq!(
            (o.api_version.as_str(), o.kind.as_str(), o.name.as_str()),
            ("v1", "ConfigMap", "x"),
            "{target}"
        );
    }
    for target in [
        "deployment.apps/y",
        "deployments.apps/y",
        "deploy/y",
        "Deployment/y",
        "Deployment.v1.apps/y",
    ] {
        let o = resolve(target);
        assert_eq!(
            (o.api_version.as_str(), o.kind.as_str()),
            ("apps/v1", "Deployment"),
            "{target}"
        );
        assert_eq!(o.target, target);
    }
    // Cluster-scoped: no namespace, but the release namespace is still recorded.
    let o = resolve(&format!("clusterrole.rbac.authorization.k8s.io/cr-{ns}"));
    assert_eq!(o.kind, "ClusterRole");
    assert_eq!(o.namespace, None);
    assert!(
        o.changes
            .iter()
            .any(|c| c.key == RELEASE_NAMESPACE_ANNOTATION && c.to == ns)
    );

    // The same object named twice is adopted once.
    let mut req = request("rel", &ns, &["cm/x", "configmaps/x", "deploy/y"]);
    req.dry_run = true;
    assert_eq!(cluster.adopt(&req).expect("dedup").len(), 2);
}

#[test]
fn adopt_errors_are_clear_and_change_nothing() {
    let ns = namespace("errs");
    let cluster = connect(&ns);
    kubectl(&["create", "configmap", "present", "-n", &ns]);
    let (_, _, rv_before) = metadata("configmap", "present", &ns);

    let err = adopt_err(&cluster, &request("rel", &ns, &["frobnicators/x"]));
    assert!(
        matches!(
            err.downcast_ref::<AdoptError>(),
            Some(AdoptError::UnknownKind { .. })
        ),
        "{err:#}"
    );
    assert!(err.to_string().contains("\"frobnicators\""), "{err}");
    assert!(
        err.to_string().contains("discovery found no resource"),
        "{err}"
    );

    let err = adopt_err(&cluster, &request("rel", &ns, &["deployment.v9.apps/x"]));
    assert!(
        matches!(
            err.downcast_ref::<AdoptError>(),
            Some(AdoptError::UnknownKind { .. })
        ),
        "{err:#}"
    );

    let err = adopt_err(&cluster, &request("rel", &ns, &["present"]));
    assert!(
        matches!(
            err.downcast_ref::<AdoptError>(),
            Some(AdoptError::InvalidTarget(_))
        ),
        "{err:#}"
    );

    // A missing object among valid ones: nothing is patched.
    let err = adopt_err(&cluster, &request("rel", &ns, &["cm/present", "cm/absent"]));
    assert_eq!(
        err.to_string(),
        format!("ConfigMap \"absent\" in namespace \"{ns}\" not found")
    );
    let (labels, _, rv_after) = metadata("configmap", "present", &ns);
    assert_eq!(rv_before, rv_after);
    assert!(labels.is_empty());

    let err = adopt_err(&cluster, &request("Bad_Release", &ns, &["cm/present"]));
    assert!(err.to_string().contains("invalid release name"), "{err}");
}

#[test]
fn connect_reports_unconfigured_and_unreachable_clusters() {
    // Not configured at all: no KUBECONFIG file, no HOME.
    let dir = scratch_dir("connect");
    let cfg = ClusterConfig {
        kubeconfig: vec![dir.join("missing")],
        ..ClusterConfig::default()
    };
    assert!(
        Cluster::connect(&cfg)
            .expect("not configured is fine")
            .is_none()
    );

    // Configured, nothing listening: an error naming the server, quickly.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let path = dir.join("dead");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:{port}\n\
             users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: u\n\
             current-context: dead\n"
        ),
    )
    .expect("write kubeconfig");
    let cfg = ClusterConfig {
        kubeconfig: vec![path],
        ..ClusterConfig::default()
    };
    let started = Instant::now();
    let err = Cluster::connect(&cfg).expect_err("unreachable");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "took {:?}",
        started.elapsed()
    );
    let msg = format!("{err:#}");
    assert!(
        msg.contains("unreachable") && msg.contains(&format!("127.0.0.1:{port}")),
        "{msg}"
    );

    // The test cluster itself, through the environment the way helm passes it.
    let cfg = ClusterConfig::from_lookup(|name| match name {
        "KUBECONFIG" => kubeconfig().to_str().map(String::from),
        "HELM_NAMESPACE" => Some("from-env".into()),
        _ => None,
    });
    let cluster = Cluster::connect(&cfg)
        .expect("connect")
        .expect("configured");
    assert_eq!(cluster.namespace(), "from-env");
    assert!(cluster.server().starts_with("https://127.0.0.1:"));
}

/// `metadata.managedFields` of one object as `(manager, operation, apiVersion, fieldsV1)`, read
/// with kubectl (which hides them unless asked).
fn managed_fields(
    kind: &str,
    name: &str,
    ns: &str,
) -> Vec<(String, String, String, serde_json::Value)> {
    let json = kubectl(&[
        "get",
        kind,
        name,
        "-n",
        ns,
        "-o",
        "json",
        "--show-managed-fields",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("kubectl json");
    v["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                    (
                        s("manager"),
                        s("operation"),
                        s("apiVersion"),
                        e["fieldsV1"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn configmap_data(name: &str, ns: &str, key: &str) -> String {
    kubectl(&[
        "get",
        "configmap",
        name,
        "-n",
        ns,
        "-o",
        &format!("jsonpath={{.data.{key}}}"),
    ])
}

/// kubectl creates a ConfigMap, adoption takes it into a release, and a plain
/// `helm upgrade --install` (not helm-x, so no `--force-conflicts`) of a chart
/// whose ConfigMap has other data takes it over: adoption handed the fields
/// `kubectl-create` owned to helm's field manager, so helm 4's server-side apply
/// has nothing to conflict with (helm 3's client-side patch never did).
fn adopt_hands_field_ownership_to_helm(helm_var: &str, tag: &str) {
    let ns = namespace(&format!("fields-{tag}"));
    let cluster = connect(&ns);
    kubectl(&[
        "create",
        "configmap",
        "legacy",
        "-n",
        &ns,
        "--from-literal=k=v",
    ]);
    let before = managed_fields("configmap", "legacy", &ns);
    assert_eq!(
        before
            .iter()
            .map(|(m, op, ..)| (m.as_str(), op.as_str()))
            .collect::<Vec<_>>(),
        vec![("kubectl-create", "Update")]
    );

    // The dry run shows the move and changes nothing.
    let mut req = request("legacy", &ns, &["configmap/legacy"]);
    req.dry_run = true;
    let (_, _, rv_before) = metadata("configmap", "legacy", &ns);
    let dry = cluster.adopt(&req).expect("dry run");
    assert_eq!(dry[0].status, AdoptStatus::WouldAdopt);
    let shown = dry[0].to_string();
    assert!(
        shown.ends_with("\n  field ownership: kubectl-create (Update) -> helm (Apply)"),
        "{shown}"
    );
    assert_eq!(metadata("configmap", "legacy", &ns).2, rv_before);
    assert_eq!(managed_fields("configmap", "legacy", &ns), before);

    req.dry_run = false;
    let outcomes = cluster.adopt(&req).expect("adopt");
    let o = &outcomes[0];
    assert_eq!(o.status, AdoptStatus::Adopted);
    assert_eq!(o.changes.len(), 3, "{o}");
    let moved = o.field_ownership.as_ref().expect("field ownership moved");
    assert_eq!(
        moved
            .moved
            .iter()
            .map(|e| (
                e.manager.as_str(),
                e.operation.as_str(),
                e.api_version.as_str()
            ))
            .collect::<Vec<_>>(),
        vec![("kubectl-create", "Update", "v1")],
        "{o}"
    );
    assert!(moved.released.is_empty(), "{o}");
    assert!(
        o.to_string()
            .ends_with("\n  field ownership: kubectl-create (Update) -> helm (Apply)"),
        "{o}"
    );
    assert_eq!(
        configmap_data("legacy", &ns, "k"),
        "v",
        "adopt must not touch data"
    );

    // helm alone owns everything now: kubectl-create's data and the ownership
    // metadata adoption set (its own Update entry was handed over too).
    let after = managed_fields("configmap", "legacy", &ns);
    assert_eq!(after.len(), 1, "{after:?}");
    let (manager, operation, api_version, fields) = &after[0];
    assert_eq!(
        (manager.as_str(), operation.as_str(), api_version.as_str()),
        ("helm", "Apply", "v1")
    );
    assert!(fields["f:data"].get("f:k").is_some(), "{fields}");
    assert!(
        fields["f:metadata"]["f:labels"]
            .get(format!("f:{MANAGED_BY_LABEL}"))
            .is_some(),
        "{fields}"
    );
    for key in [RELEASE_NAME_ANNOTATION, RELEASE_NAMESPACE_ANNOTATION] {
        assert!(
            fields["f:metadata"]["f:annotations"]
                .get(format!("f:{key}"))
                .is_some(),
            "{key}: {fields}"
        );
    }

    let dir = scratch_dir(&format!("fields-{tag}"));
    let chart = chart(
        &dir,
        "legacychart",
        &[(
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: legacy\ndata:\n  k: other\n",
        )],
    );
    let helm = Helm::new(helm_var, &format!("fields-{tag}"));
    let chart = chart.to_str().expect("utf-8");
    helm.ok(&["upgrade", "--install", "legacy", chart, "-n", &ns]);
    assert!(cluster.release_exists("legacy", &ns).expect("lookup"));
    assert_eq!(configmap_data("legacy", &ns, "k"), "other");
    let managers: Vec<String> = managed_fields("configmap", "legacy", &ns)
        .into_iter()
        .map(|(m, op, ..)| format!("{m} ({op})"))
        .collect();
    assert!(
        !managers.iter().any(|m| m.starts_with("kubectl-create")),
        "{managers:?}"
    );

    let again = cluster
        .adopt(&request("legacy", &ns, &["cm/legacy"]))
        .expect("adopt again");
    assert_eq!(again[0].status, AdoptStatus::AlreadyOwned);
    assert_eq!(again[0].field_ownership, None);
}

#[test]
fn adopt_lets_plain_helm4_upgrade_take_over_kubectl_fields() {
    adopt_hands_field_ownership_to_helm("HELM4_BIN", "h4");
}

#[test]
fn adopt_lets_plain_helm43_upgrade_take_over_kubectl_fields() {
    adopt_hands_field_ownership_to_helm("HELM43_BIN", "h43");
}

#[test]
fn adopt_field_ownership_move_is_harmless_for_helm3() {
    adopt_hands_field_ownership_to_helm("HELM3_BIN", "h3");
}

/// A Deployment written by two kubectl managers (`kubectl-create`, then `kubectl-set` on a
/// list item keyed by container name): adoption merges both into helm's entry, and a plain
/// helm 4 install with another image succeeds without `--force-conflicts`.
#[test]
fn adopt_merges_several_kubectl_managers_for_helm4() {
    let ns = namespace("fields-deploy");
    let cluster = connect(&ns);
    kubectl(&[
        "create",
        "deployment",
        "web",
        "-n",
        &ns,
        "--image=registry.invalid/one",
    ]);
    kubectl(&[
        "set",
        "image",
        "deployment/web",
        "-n",
        &ns,
        "one=registry.invalid/two",
    ]);

    let outcomes = cluster
        .adopt(&request("web", &ns, &["deploy/web"]))
        .expect("adopt");
    let o = &outcomes[0];
    let mut moved: Vec<&str> = o
        .field_ownership
        .as_ref()
        .expect("moved")
        .moved
        .iter()
        .map(|e| e.manager.as_str())
        .collect();
    moved.sort_unstable();
    assert_eq!(moved, ["kubectl-create", "kubectl-set"], "{o}");
    let after = managed_fields("deployment", "web", &ns);
    assert_eq!(
        after
            .iter()
            .map(|(m, op, v, _)| (m.as_str(), op.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        vec![("helm", "Apply", "apps/v1")],
        "{after:?}"
    );

    let dir = scratch_dir("fields-deploy");
    let chart = chart(
        &dir,
        "webchart",
        &[(
            "deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  \
             selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      \
             labels:\n        app: web\n    spec:\n      containers:\n      - name: one\n        \
             image: registry.invalid/three\n",
        )],
    );
    let helm = Helm::new("HELM4_BIN", "fields-deploy");
    helm.ok(&[
        "upgrade",
        "--install",
        "web",
        chart.to_str().expect("utf-8"),
        "-n",
        &ns,
    ]);
    let got = kubectl(&[
        "get",
        "deployment",
        "web",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(got, "2 registry.invalid/three");
}
