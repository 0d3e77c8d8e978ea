//! `helm x adopt RELEASE KIND/NAME…`.

use clap::Args;

/// Flags of `helm x adopt`.
#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The release that will own the objects.
    pub release: String,
    /// Objects as KIND/NAME (`configmap/settings`, `deployment.apps/web`, `cm/x`), in the release namespace.
    #[arg(required = true, value_name = "KIND/NAME")]
    pub targets: Vec<String>,
    /// Take objects even when another release owns them.
    #[arg(long)]
    pub force: bool,
    /// Show what would change without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}
