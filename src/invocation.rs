//! Everything the user said, resolved once and shared by every stage of an action.
//!
//! Helm strips `-n`, `--kube-context`, `--kubeconfig` and `--debug` from a plugin's argv and exports
//! them (`HELM_NAMESPACE`, …); run directly, helm-x finds them on its own argv. Both are read here and
//! nowhere else, and the cluster is connected lazily, once, for whichever stage needs it first.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{Context, Result};

use crate::cluster::{Cluster, ClusterConfig};
use crate::filter::inject::Injector;
use crate::filter::namespace::ForceNamespace;
use crate::helm::{Helm, HelmArgs, Run, Settings};
use crate::input::InputType;
use crate::input::dependency::Dependency;
use crate::patch::{PatchContext, PatchSource, SmpMode};
use serde_json::Value;

/// What a chart-taking command works on: the release, the input and helm-x's own options.
#[derive(Debug, Clone)]
pub struct Target {
    /// Release name.
    pub release: String,
    /// The input as typed.
    pub input: String,
    /// `--input-type`.
    pub input_type: Option<InputType>,
    /// Patch files in command-line order.
    pub patches: Vec<PatchSource>,
    /// Strategic-merge semantics.
    pub smp_mode: SmpMode,
    /// Missing patch targets warn instead of failing.
    pub allow_missing_patch_targets: bool,
    /// `--pre-render`: install a frozen chart of the patched render instead of post-rendering.
    pub pre_render: bool,
    /// `--keep-workdir`.
    pub keep_workdir: bool,
    /// `--inject`: injectors to run on the objects, in order, after the patches.
    pub injectors: Vec<Injector>,
    /// `--dependency`: subcharts to add, in order.
    pub dependencies: Vec<Dependency>,
    /// The input is a copy of the chart that helm-x made (to add `--dependency` charts), so helm
    /// must not be given the chart-location flags (`--version`, `--repo`, `--verify`…) again.
    pub local_copy: bool,
    /// `--kustomize-build-arg`: extra argv words for `kustomize build` / `kubectl kustomize`, in order.
    pub kustomize_build_args: Vec<OsString>,
    /// `--force-namespace` and `--force-namespace-mode`.
    pub force_namespace: Option<ForceNamespace>,
    /// `--validate-offline` (and its options): check the final objects before helm gets them.
    pub validate_offline: Option<crate::validate::Options>,
}

impl Target {
    /// Whether helm-x works on the objects at all (patches, `--force-namespace`, injectors,
    /// `--validate-offline`); a chart it does not touch goes to helm untouched.
    pub fn transforms(&self) -> bool {
        !self.patches.is_empty()
            || self.force_namespace.is_some()
            || !self.injectors.is_empty()
            || self.validate_offline.is_some()
    }

    /// How helm renders the user's chart for helm-x: with the chart-location flags unless helm-x
    /// already fetched it.
    pub fn user_chart(&self) -> Run {
        Run::Render {
            chart_is_local: self.local_copy,
        }
    }

    /// How the patches apply to this target's objects in `namespace`, knowing `crds` besides them.
    pub fn patch_context<'a>(&self, namespace: &'a str, crds: &'a [Value]) -> PatchContext<'a> {
        PatchContext {
            release_namespace: namespace,
            mode: self.smp_mode,
            allow_missing_targets: self.allow_missing_patch_targets,
            crds,
        }
    }
}

/// A command line resolved once: the user's helm flags, helm's settings, the helm binary and
/// (lazily) the cluster.
pub struct Invocation {
    /// The user's helm flags, classified by the flag table.
    pub helm_args: HelmArgs,
    /// The release namespace, resolved with helm's precedence.
    pub namespace: String,
    /// `--debug`: verbose output and a kept work dir.
    pub debug: bool,
    cluster_config: ClusterConfig,
    helm: OnceLock<Helm>,
    cluster: OnceLock<Option<Cluster>>,
}

impl std::fmt::Debug for Invocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocation")
            .field("helm_args", &self.helm_args)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Invocation {
    /// Resolves the settings from the environment and the argv's helm globals: namespace is `-n` on
    /// the argv, then `HELM_NAMESPACE`, then the kube context's, then `default`.
    pub fn new(helm_args: HelmArgs) -> Self {
        let env = Settings::from_env();
        let mut cluster_config = ClusterConfig::from_env();
        if let Some(ctx) = helm_args.kube_context() {
            cluster_config.context = Some(ctx);
        }
        if let Some(path) = helm_args.kubeconfig() {
            cluster_config.kubeconfig = vec![PathBuf::from(path)];
        }
        let namespace = helm_args
            .namespace()
            .or(env.namespace)
            .or_else(|| cluster_config.context_namespace())
            .unwrap_or_else(|| "default".to_string());
        cluster_config.namespace = Some(namespace.clone());
        Self {
            helm_args,
            namespace,
            debug: env.debug,
            cluster_config,
            helm: OnceLock::new(),
            cluster: OnceLock::new(),
        }
    }

    /// Whether the work dir is kept (`--keep-workdir` or `--debug`).
    pub fn keep_workdir(&self, target: &Target) -> bool {
        self.debug || target.keep_workdir
    }

    /// The helm binary, located on first use.
    pub fn helm(&self) -> Result<&Helm> {
        if let Some(h) = self.helm.get() {
            return Ok(h);
        }
        let helm = Helm::locate()?;
        Ok(self.helm.get_or_init(|| helm))
    }

    /// The configured cluster, connected on first use; `None` when no cluster is configured.
    pub fn cluster(&self) -> Result<Option<&Cluster>> {
        if let Some(c) = self.cluster.get() {
            return Ok(c.as_ref());
        }
        let cluster = Cluster::connect(&self.cluster_config)?;
        Ok(self.cluster.get_or_init(|| cluster).as_ref())
    }

    /// The cluster, for commands that cannot work without one.
    pub fn require_cluster(&self, what: &str) -> Result<&Cluster> {
        self.cluster()?.with_context(|| {
            format!("{what} needs a cluster: no kubeconfig or API server is configured")
        })
    }

    /// Whether `helm upgrade` would find the release (so it upgrades rather than installs).
    pub fn release_exists(&self, release: &str) -> Result<bool> {
        match self.cluster()? {
            Some(cluster) => cluster.release_exists(release, &self.namespace),
            None => Ok(false),
        }
    }
}
