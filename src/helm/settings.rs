//! Helm's global settings as a plugin receives them.
//!
//! Helm strips `-n`, `--kube-context`, `--kubeconfig` and `--debug` from a plugin's argv and exports
//! them instead; child helm processes inherit the same environment, so reading it is enough.

/// The global flags the user gave to `helm`, recovered from the plugin environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Release namespace: `-n`, else the kubeconfig context's namespace, else `default` (helm resolves it).
    pub namespace: String,
    /// `--kube-context`, when the user chose one.
    pub kube_context: Option<String>,
    /// `--debug`: verbose output and a kept work dir.
    pub debug: bool,
}

impl Settings {
    /// Reads `HELM_NAMESPACE`, `HELM_KUBECONTEXT` and `HELM_DEBUG`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            namespace: var("HELM_NAMESPACE").unwrap_or_else(|| "default".to_string()),
            kube_context: var("HELM_KUBECONTEXT"),
            debug: var("HELM_DEBUG").is_some_and(|v| v == "true" || v == "1"),
        }
    }
}
