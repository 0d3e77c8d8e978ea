//! Where the cluster is and who we are to it, taken from the environment helm
//! gives a plugin, resolved like helm (client-go) would.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use kube::config::{
    Context, KubeConfigOptions, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};
use secrecy::SecretString;

/// Connection settings as helm passes them to a plugin.
///
/// helm strips `--kubeconfig`, `--kube-context`, `-n`, `--kube-token`, … from a
/// plugin's arguments and exports them instead (`KUBECONFIG`, `HELM_KUBECONTEXT`,
/// `HELM_NAMESPACE`, `HELM_KUBE*`), so these variables are the only place the
/// user's choice of cluster survives.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClusterConfig {
    /// `KUBECONFIG` entries, merged first-wins like kubectl; empty means `$HOME/.kube/config`.
    pub kubeconfig: Vec<PathBuf>,
    /// `$HOME`, for the default kubeconfig location.
    pub home: Option<PathBuf>,
    /// `HELM_KUBECONTEXT`: overrides the kubeconfig's current-context.
    pub context: Option<String>,
    /// `HELM_NAMESPACE`: helm sets it from `-n`, else the context's namespace.
    pub namespace: Option<String>,
    /// `HELM_KUBEAPISERVER`: overrides the selected cluster's server URL.
    pub api_server: Option<String>,
    /// `HELM_KUBETOKEN`: bearer token overriding the selected user's credentials.
    pub token: Option<String>,
    /// `HELM_KUBECAFILE`: CA bundle overriding the selected cluster's.
    pub ca_file: Option<PathBuf>,
    /// `HELM_KUBEINSECURE_SKIP_TLS_VERIFY`.
    pub insecure_skip_tls_verify: bool,
    /// `HELM_KUBETLS_SERVER_NAME`.
    pub tls_server_name: Option<String>,
    /// `HELM_KUBEASUSER`: user to impersonate.
    pub as_user: Option<String>,
    /// `HELM_KUBEASGROUPS`: groups to impersonate (comma-separated in the variable).
    pub as_groups: Vec<String>,
    /// `HELM_DRIVER`: where helm keeps release records (`secret` when unset).
    pub driver: Option<String>,
    /// `KUBERNETES_SERVICE_HOST`/`_PORT` are set: client-go falls back to the
    /// pod's service account when no kubeconfig is found, so we do too.
    pub in_cluster: bool,
}

impl fmt::Debug for ClusterConfig {
    // Hand-written so that a token never reaches a log or an error message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("kubeconfig", &self.kubeconfig)
            .field("home", &self.home)
            .field("context", &self.context)
            .field("namespace", &self.namespace)
            .field("api_server", &self.api_server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca_file", &self.ca_file)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("tls_server_name", &self.tls_server_name)
            .field("as_user", &self.as_user)
            .field("as_groups", &self.as_groups)
            .field("driver", &self.driver)
            .field("in_cluster", &self.in_cluster)
            .finish()
    }
}

impl ClusterConfig {
    /// Reads the process environment; helm exports every variable even when
    /// empty, so empty values count as unset.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var_os(name).and_then(|v| v.into_string().ok()))
    }

    /// Like [`ClusterConfig::from_env`] with an injectable lookup, so tests need
    /// not mutate the (process-global) environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let kubeconfig = get("KUBECONFIG")
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let as_groups = get("HELM_KUBEASGROUPS")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            kubeconfig,
            home: get("HOME").map(PathBuf::from),
            context: get("HELM_KUBECONTEXT"),
            namespace: get("HELM_NAMESPACE"),
            api_server: get("HELM_KUBEAPISERVER"),
            token: get("HELM_KUBETOKEN"),
            ca_file: get("HELM_KUBECAFILE").map(PathBuf::from),
            insecure_skip_tls_verify: get("HELM_KUBEINSECURE_SKIP_TLS_VERIFY")
                .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1"),
            tls_server_name: get("HELM_KUBETLS_SERVER_NAME"),
            as_user: get("HELM_KUBEASUSER"),
            as_groups,
            driver: get("HELM_DRIVER"),
            in_cluster: get("KUBERNETES_SERVICE_HOST").is_some()
                && get("KUBERNETES_SERVICE_PORT").is_some(),
        }
    }

    /// The kubeconfig files to read, in merge order.
    pub(crate) fn kubeconfig_paths(&self) -> Vec<PathBuf> {
        if !self.kubeconfig.is_empty() {
            return self.kubeconfig.clone();
        }
        self.home
            .iter()
            .map(|h| h.join(".kube").join("config"))
            .collect()
    }

    fn has_overrides(&self) -> bool {
        self.api_server.is_some()
            || self.token.is_some()
            || self.ca_file.is_some()
            || self.insecure_skip_tls_verify
            || self.tls_server_name.is_some()
            || self.as_user.is_some()
            || !self.as_groups.is_empty()
    }
}

/// A resolved client configuration plus a human description of where it came
/// from, for error messages.
pub(crate) struct Loaded {
    pub config: kube::Config,
    pub source: String,
}

/// Reads and merges the kubeconfig files first-wins, like client-go; also returns the files read.
fn read_merged(cfg: &ClusterConfig) -> anyhow::Result<(Option<Kubeconfig>, Vec<String>)> {
    let mut merged: Option<Kubeconfig> = None;
    let mut read = Vec::new();
    for path in &cfg.kubeconfig_paths() {
        // client-go skips KUBECONFIG entries that do not exist.
        if !path.exists() {
            continue;
        }
        let one = Kubeconfig::read_from(path)
            .with_context(|| format!("reading kubeconfig {}", path.display()))?;
        merged = Some(match merged {
            None => one,
            Some(m) => m
                .merge(one)
                .with_context(|| format!("merging kubeconfig {}", path.display()))?,
        });
        read.push(path.display().to_string());
    }
    Ok((merged, read))
}

impl ClusterConfig {
    /// The namespace of the selected kubeconfig context, read without connecting, for helm's rule
    /// "`-n`, else the context's namespace, else `default`". Unreadable files give `None`: the
    /// connection, if one is made, reports them.
    pub fn context_namespace(&self) -> Option<String> {
        let (merged, _) = read_merged(self).ok()?;
        let kubeconfig = merged?;
        let name = self
            .context
            .clone()
            .or_else(|| kubeconfig.current_context.clone())?;
        kubeconfig
            .contexts
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.context.as_ref())
            .and_then(|c| c.namespace.clone())
            .filter(|ns| !ns.is_empty())
    }
}

/// Name of the context synthesised when only `HELM_KUBEAPISERVER` is given.
const SYNTHETIC: &str = "helm-x";

/// Resolves `cfg` into a client configuration; `None` when no cluster is
/// configured anywhere (no kubeconfig with clusters, no API server override, not
/// in a pod).
pub(crate) async fn load(cfg: &ClusterConfig) -> anyhow::Result<Option<Loaded>> {
    let (merged, read) = read_merged(cfg)?;
    let mut kubeconfig = merged
        .filter(|k| !k.clusters.is_empty() || !k.contexts.is_empty())
        .unwrap_or_default();
    let from_files = !kubeconfig.contexts.is_empty() || !kubeconfig.clusters.is_empty();

    if !from_files && cfg.api_server.is_none() {
        if !cfg.in_cluster {
            return Ok(None);
        }
        let mut config = kube::Config::incluster()
            .context("loading the in-cluster service account configuration")?;
        if let Some(ns) = &cfg.namespace {
            config.default_namespace = ns.clone();
        }
        return Ok(Some(Loaded {
            config,
            source: "in-cluster service account".into(),
        }));
    }

    let source = if from_files {
        format!("kubeconfig {}", read.join(":"))
    } else {
        "HELM_KUBEAPISERVER".into()
    };
    let context = select_context(&mut kubeconfig, cfg, from_files)?;
    apply_overrides(&mut kubeconfig, &context, cfg)?;
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .with_context(|| format!("{source}: context \"{context}\""))?;
    if let Some(ns) = &cfg.namespace {
        config.default_namespace = ns.clone();
    }
    let source = if from_files {
        format!("{source}, context \"{context}\"")
    } else {
        source
    };
    Ok(Some(Loaded { config, source }))
}

/// Picks the context like client-go: `HELM_KUBECONTEXT`, else current-context;
/// synthesises one when only an API server override exists.
fn select_context(
    kubeconfig: &mut Kubeconfig,
    cfg: &ClusterConfig,
    from_files: bool,
) -> anyhow::Result<String> {
    if !from_files {
        kubeconfig.clusters.push(NamedCluster {
            name: SYNTHETIC.into(),
            cluster: Some(kube::config::Cluster::default()),
            ..NamedCluster::default()
        });
        kubeconfig.auth_infos.push(NamedAuthInfo {
            name: SYNTHETIC.into(),
            auth_info: Some(kube::config::AuthInfo::default()),
            ..NamedAuthInfo::default()
        });
        kubeconfig.contexts.push(NamedContext {
            name: SYNTHETIC.into(),
            context: Some(Context {
                cluster: SYNTHETIC.into(),
                user: Some(SYNTHETIC.into()),
                ..Context::default()
            }),
            ..NamedContext::default()
        });
        return Ok(SYNTHETIC.into());
    }
    if let Some(ctx) = &cfg.context {
        if !kubeconfig.contexts.iter().any(|c| &c.name == ctx) {
            anyhow::bail!(
                "kube context \"{ctx}\" (HELM_KUBECONTEXT / --kube-context) is not defined in {}",
                describe_paths(&cfg.kubeconfig_paths())
            );
        }
        return Ok(ctx.clone());
    }
    kubeconfig.current_context.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "{} sets no current-context; pick one with --kube-context",
            describe_paths(&cfg.kubeconfig_paths())
        )
    })
}

fn describe_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!("kubeconfig {}", shown.join(":"))
}

/// Applies the `HELM_KUBE*` overrides to the cluster and user of `context`, the
/// way client-go's `ConfigOverrides` does.
fn apply_overrides(
    kubeconfig: &mut Kubeconfig,
    context: &str,
    cfg: &ClusterConfig,
) -> anyhow::Result<()> {
    if !cfg.has_overrides() {
        return Ok(());
    }
    let Some(ctx) = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.clone())
    else {
        // The loader reports the missing context with its own message.
        return Ok(());
    };

    let cluster = match kubeconfig
        .clusters
        .iter_mut()
        .find(|c| c.name == ctx.cluster)
    {
        Some(named) => named
            .cluster
            .get_or_insert_with(kube::config::Cluster::default),
        None => anyhow::bail!(
            "context \"{context}\" refers to cluster \"{}\", which is not defined",
            ctx.cluster
        ),
    };
    if let Some(server) = &cfg.api_server {
        cluster.server = Some(server.clone());
    }
    if let Some(ca) = &cfg.ca_file {
        cluster.certificate_authority = Some(path_string(ca)?);
        cluster.certificate_authority_data = None;
    }
    if cfg.insecure_skip_tls_verify {
        cluster.insecure_skip_tls_verify = Some(true);
        cluster.certificate_authority = None;
        cluster.certificate_authority_data = None;
    }
    if let Some(name) = &cfg.tls_server_name {
        cluster.tls_server_name = Some(name.clone());
    }

    let user_overrides = cfg.token.is_some() || cfg.as_user.is_some() || !cfg.as_groups.is_empty();
    if !user_overrides {
        return Ok(());
    }
    let user_name = ctx.user.clone().unwrap_or_else(|| SYNTHETIC.into());
    let idx = match kubeconfig
        .auth_infos
        .iter()
        .position(|u| u.name == user_name)
    {
        Some(idx) => idx,
        None => {
            kubeconfig.auth_infos.push(NamedAuthInfo {
                name: user_name.clone(),
                ..NamedAuthInfo::default()
            });
            if let Some(named) = kubeconfig.contexts.iter_mut().find(|c| c.name == context)
                && let Some(c) = named.context.as_mut()
            {
                c.user = Some(user_name);
            }
            kubeconfig.auth_infos.len() - 1
        }
    };
    let user = kubeconfig.auth_infos[idx]
        .auth_info
        .get_or_insert_with(kube::config::AuthInfo::default);
    if let Some(token) = &cfg.token {
        user.token = Some(SecretString::from(token.clone()));
        user.token_file = None;
    }
    if let Some(as_user) = &cfg.as_user {
        user.impersonate = Some(as_user.clone());
    }
    if !cfg.as_groups.is_empty() {
        user.impersonate_groups = Some(cfg.as_groups.clone());
    }
    Ok(())
}

fn path_string(path: &Path) -> anyhow::Result<String> {
    path.to_str()
        .map(String::from)
        .with_context(|| format!("path {} is not valid UTF-8", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use std::collections::HashMap;

    fn cfg_from(vars: &[(&str, &str)]) -> ClusterConfig {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        ClusterConfig::from_lookup(|name| map.get(name).cloned())
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    const KUBECONFIG_A: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster:
    server: https://127.0.0.1:6443
- name: b
  cluster:
    server: https://127.0.0.1:7443
users:
- name: alice
  user:
    token: secret-a
contexts:
- name: ctx-a
  context:
    cluster: a
    user: alice
    namespace: team-a
- name: ctx-b
  context:
    cluster: b
    user: alice
current-context: ctx-a
"#;

    const KUBECONFIG_B: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster:
    server: https://127.0.0.1:9999
contexts:
- name: ctx-c
  context:
    cluster: a
current-context: ctx-c
"#;

    #[test]
    fn env_values_are_read_and_empty_means_unset() {
        let cfg = cfg_from(&[
            ("KUBECONFIG", "/a/config::/b/config"),
            ("HOME", "/home/u"),
            ("HELM_KUBECONTEXT", "prod"),
            ("HELM_NAMESPACE", "ns1"),
            ("HELM_KUBEAPISERVER", ""),
            ("HELM_KUBETOKEN", ""),
            ("HELM_KUBECAFILE", ""),
            ("HELM_KUBEINSECURE_SKIP_TLS_VERIFY", "false"),
            ("HELM_KUBEASGROUPS", "g1, g2,"),
            ("HELM_DRIVER", "configmap"),
        ]);
        assert_eq!(
            cfg.kubeconfig,
            vec![PathBuf::from("/a/config"), PathBuf::from("/b/config")]
        );
        assert_eq!(cfg.context.as_deref(), Some("prod"));
        assert_eq!(cfg.namespace.as_deref(), Some("ns1"));
        assert_eq!(cfg.api_server, None);
        assert_eq!(cfg.token, None);
        assert_eq!(cfg.ca_file, None);
        assert!(!cfg.insecure_skip_tls_verify);
        assert_eq!(cfg.as_groups, vec!["g1".to_string(), "g2".to_string()]);
        assert_eq!(cfg.driver.as_deref(), Some("configmap"));
        assert!(!cfg.in_cluster);
        assert!(cfg.has_overrides(), "impersonated groups are an override");
        assert!(!cfg_from(&[("HELM_KUBEINSECURE_SKIP_TLS_VERIFY", "false")]).has_overrides());
    }

    #[test]
    fn default_kubeconfig_is_under_home() {
        let cfg = cfg_from(&[("HOME", "/home/u"), ("KUBECONFIG", "")]);
        assert_eq!(
            cfg.kubeconfig_paths(),
            vec![PathBuf::from("/home/u/.kube/config")]
        );
        assert!(cfg_from(&[]).kubeconfig_paths().is_empty());
    }

    #[test]
    fn debug_redacts_the_token() {
        let cfg = cfg_from(&[("HELM_KUBETOKEN", "s3cr3t-value")]);
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn no_kubeconfig_anywhere_means_not_configured() {
        let dir = TempDir::new("none");
        let missing = dir.path().join("missing");
        let cfg = cfg_from(&[("KUBECONFIG", missing.to_str().expect("utf-8"))]);
        assert!(rt().block_on(load(&cfg)).expect("load").is_none());
        let cfg = cfg_from(&[("HOME", dir.path().to_str().expect("utf-8"))]);
        assert!(rt().block_on(load(&cfg)).expect("load").is_none());
        let empty = dir.write("empty", "");
        let cfg = cfg_from(&[("KUBECONFIG", empty.to_str().expect("utf-8"))]);
        assert!(rt().block_on(load(&cfg)).expect("load").is_none());
    }

    #[test]
    fn current_context_and_its_namespace_are_used() {
        let dir = TempDir::new("current");
        let a = dir.write("a", KUBECONFIG_A);
        let cfg = cfg_from(&[("KUBECONFIG", a.to_str().expect("utf-8"))]);
        let loaded = rt()
            .block_on(load(&cfg))
            .expect("load")
            .expect("configured");
        assert_eq!(
            loaded.config.cluster_url.to_string(),
            "https://127.0.0.1:6443/"
        );
        assert_eq!(loaded.config.default_namespace, "team-a");
        assert!(loaded.source.contains("ctx-a"), "{}", loaded.source);
    }

    #[test]
    fn helm_context_and_namespace_win() {
        let dir = TempDir::new("override");
        let a = dir.write("a", KUBECONFIG_A);
        let cfg = cfg_from(&[
            ("KUBECONFIG", a.to_str().expect("utf-8")),
            ("HELM_KUBECONTEXT", "ctx-b"),
            ("HELM_NAMESPACE", "ns9"),
        ]);
        let loaded = rt()
            .block_on(load(&cfg))
            .expect("load")
            .expect("configured");
        assert_eq!(
            loaded.config.cluster_url.to_string(),
            "https://127.0.0.1:7443/"
        );
        assert_eq!(loaded.config.default_namespace, "ns9");
    }

    #[test]
    fn kubeconfig_list_merges_first_wins_and_skips_missing_files() {
        let dir = TempDir::new("merge");
        let a = dir.write("a", KUBECONFIG_A);
        let b = dir.write("b", KUBECONFIG_B);
        let missing = dir.path().join("missing");
        let list = std::env::join_paths([&missing, &b, &a]).expect("join");
        let cfg = cfg_from(&[("KUBECONFIG", list.to_str().expect("utf-8"))]);
        let loaded = rt()
            .block_on(load(&cfg))
            .expect("load")
            .expect("configured");
        // b comes first: its current-context and its cluster "a" win.
        assert_eq!(
            loaded.config.cluster_url.to_string(),
            "https://127.0.0.1:9999/"
        );
        assert_eq!(loaded.config.default_namespace, "default");
    }

    #[test]
    fn unknown_context_is_a_clear_error() {
        let dir = TempDir::new("badctx");
        let a = dir.write("a", KUBECONFIG_A);
        let cfg = cfg_from(&[
            ("KUBECONFIG", a.to_str().expect("utf-8")),
            ("HELM_KUBECONTEXT", "nope"),
        ]);
        let err = rt().block_on(load(&cfg)).err().expect("error");
        let msg = format!("{err:#}");
        assert!(
            msg.contains("\"nope\"") && msg.contains("not defined"),
            "{msg}"
        );
    }

    #[test]
    fn unparsable_kubeconfig_is_an_error_naming_the_file() {
        let dir = TempDir::new("bad");
        let bad = dir.write("bad", "clusters: [unclosed");
        let cfg = cfg_from(&[("KUBECONFIG", bad.to_str().expect("utf-8"))]);
        let err = rt().block_on(load(&cfg)).err().expect("error");
        assert!(format!("{err:#}").contains("bad"), "{err:#}");
    }

    #[test]
    fn api_server_alone_is_enough() {
        let cfg = cfg_from(&[
            ("HELM_KUBEAPISERVER", "https://127.0.0.1:6555"),
            ("HELM_KUBETOKEN", "tok"),
            ("HELM_KUBEINSECURE_SKIP_TLS_VERIFY", "true"),
        ]);
        let loaded = rt()
            .block_on(load(&cfg))
            .expect("load")
            .expect("configured");
        assert_eq!(
            loaded.config.cluster_url.to_string(),
            "https://127.0.0.1:6555/"
        );
        assert!(loaded.config.accept_invalid_certs);
        assert!(loaded.config.auth_info.token.is_some());
        assert_eq!(loaded.config.default_namespace, "default");
    }

    #[test]
    fn overrides_apply_to_the_selected_context() {
        let dir = TempDir::new("ovr");
        let a = dir.write("a", KUBECONFIG_A);
        let cfg = cfg_from(&[
            ("KUBECONFIG", a.to_str().expect("utf-8")),
            ("HELM_KUBEAPISERVER", "https://127.0.0.1:1234"),
            ("HELM_KUBEASUSER", "bob"),
            ("HELM_KUBEASGROUPS", "devs"),
            ("HELM_KUBETLS_SERVER_NAME", "kubernetes"),
        ]);
        let loaded = rt()
            .block_on(load(&cfg))
            .expect("load")
            .expect("configured");
        assert_eq!(
            loaded.config.cluster_url.to_string(),
            "https://127.0.0.1:1234/"
        );
        assert_eq!(loaded.config.auth_info.impersonate.as_deref(), Some("bob"));
        assert_eq!(
            loaded.config.auth_info.impersonate_groups,
            Some(vec!["devs".to_string()])
        );
        assert_eq!(loaded.config.tls_server_name.as_deref(), Some("kubernetes"));
    }
}
