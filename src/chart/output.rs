//! `helm template`'s output for a chart helm already rendered, without running helm a second time.
//!
//! A chart rendered by `helm template` comes back in helm's own order (CRDs, manifests in install
//! order, hooks last), each document as helm prints it. Printing the patched documents in that order
//! and format is exactly what `helm template` of the temporary chart prints; the tests check it
//! against helm. Only the flags whose effect is a filter over that output are supported here.

use std::fmt::Write as _;

use anyhow::Result;

use super::{file_bodies, in_crds_dir};
use crate::helm::HelmArgs;
use crate::stream::Document;

/// Which parts of the render to print, as `helm template`'s flags of the same names.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    /// `--include-crds`: print the chart's (and subcharts') `crds/` files first.
    pub include_crds: bool,
    /// `--skip-tests`: leave out `helm test` hooks.
    pub skip_tests: bool,
    /// `--no-hooks`: leave out every hook.
    pub no_hooks: bool,
}

impl Filter {
    /// The filter the user's flags ask for.
    pub fn of(args: &HelmArgs) -> Self {
        Self {
            include_crds: args.include_crds(),
            skip_tests: args.skip_tests(),
            no_hooks: args.no_hooks(),
        }
    }
}

/// Render flags whose whole effect is already in a pre-rendered chart's objects or reproduced by
/// [`Filter`]; with any other render or release flag the temporary chart goes through helm instead.
pub const PRINTABLE_FLAGS: &[&str] = &[
    "include-crds",
    "skip-tests",
    "no-hooks",
    "kube-version",
    "api-versions",
    "is-upgrade",
    "enable-dns",
    "skip-schema-validation",
    "dependency-update",
];

/// The text `helm template` prints for `documents` of chart `chart_name`.
pub fn helm_template(chart_name: &str, documents: &[Document], filter: Filter) -> Result<String> {
    let mut out = String::new();
    if filter.include_crds {
        let crds: Vec<Document> = documents
            .iter()
            .filter(|d| in_crds_dir(&d.file))
            .cloned()
            .collect();
        for (file, body) in file_bodies(&crds, str::to_string)? {
            let _ = write!(out, "---\n# Source: {chart_name}/{file}\n{body}\n");
        }
    }
    for doc in documents.iter().filter(|d| !in_crds_dir(&d.file)) {
        let events = doc.hook_events();
        if !events.is_empty()
            && (filter.no_hooks || (filter.skip_tests && events.iter().any(|e| is_test_event(e))))
        {
            continue;
        }
        let text = doc.text();
        let _ = write!(
            out,
            "---\n# Source: {chart_name}/{}\n{}\n",
            doc.file,
            text.trim()
        );
    }
    Ok(out)
}

fn is_test_event(event: &str) -> bool {
    matches!(event, "test" | "test-success")
}
