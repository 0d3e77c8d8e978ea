//! Helm's global settings as a plugin receives them.
//!
//! Helm strips `-n`, `--kube-context`, `--kubeconfig` and `--debug` from a plugin's argv and exports
//! them instead; [`crate::invocation::Invocation`] combines these with the argv of a direct run.

/// The global flags the user gave to `helm`, recovered from the plugin environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `HELM_NAMESPACE` (`-n` given to helm).
    pub namespace: Option<String>,
    /// `--debug`: verbose output and a kept work dir.
    pub debug: bool,
}

impl Settings {
    /// Reads `HELM_NAMESPACE` and `HELM_DEBUG`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            namespace: var("HELM_NAMESPACE"),
            debug: var("HELM_DEBUG").is_some_and(|v| v == "true" || v == "1"),
        }
    }
}
