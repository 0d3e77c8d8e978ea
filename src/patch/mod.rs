//! Patching rendered manifests in-process, with the semantics of the Kubernetes API server
//! (`strategic`, default) or kustomize 5.x (`kustomize_smp`), RFC 6902 (`json6902`), patch files
//! (`spec`), object identity and selectors (`target`) and the ordered apply loop (`apply`).
//! Merge keys of built-in kinds come from `schema`'s embedded table (generated from k8s.io/api by
//! `scripts/gen-merge-keys.py`); CRDs found in the render add their own.
//!
//! Where this deliberately differs from kustomize (users compare us with it):
//! - A target that matches nothing is an error listing the closest objects (kustomize errors
//!   only for untargeted SMPs and silently skips selectors); `allow_missing_targets` warns.
//! - An untargeted SMP whose identity occurs twice (a CRD vendored by two subcharts) patches
//!   every copy; kustomize refuses "multiple matches".
//! - An empty namespace means the release namespace, where kustomize assumes `default`.
//! - A targeted SMP needs no `kind`, and `patch:` may be an inline mapping or op list.
//! - The helm-x `--json-patch` target uses kustomize selector semantics (empty fields match
//!   anything, name is an anchored regex), as chartify does today.
//! - JSON 6902 follows the RFC where kustomize's evanphx v4 is lenient (see `json6902`).

pub mod apply;
mod bounds;
pub mod json6902;
pub mod kustomize_smp;
mod redact;
pub mod schema;
mod smp_common;
pub mod spec;
pub mod strategic;
pub mod target;
pub mod threeway;

#[cfg(test)]
mod kustomize_oracle_tests;

pub use apply::{PatchContext, apply_patches};
pub use kustomize_smp::{KustomizeOptions, kustomize_merge};
pub use schema::{CrdError, SchemaRegistry, TypeSchema};
pub use smp_common::{SmpError, SmpMode, is_delete_patch};
pub use spec::{Patch, PatchSource, load_patches};
pub use strategic::{strategic_merge, strategic_merge_owned};

use anyhow::Result;

use crate::stream::Stream;

/// What [`apply`] did besides changing the stream.
#[derive(Debug)]
pub struct Applied {
    /// For each surviving document, its index in the input (deleted ones leave gaps).
    pub origins: Vec<usize>,
    /// Missing targets allowed by `--allow-missing-patch-targets`, CRD schemas not used.
    pub warnings: Vec<String>,
}

/// Loads the patch files and applies them, in order, to a stream of documents. Documents no patch
/// changed keep their original text (and are never parsed unless a selector had to look into
/// them); deleted ones leave the stream.
pub fn apply(stream: &mut Stream, sources: &[PatchSource], ctx: &PatchContext) -> Result<Applied> {
    let patches = spec::load_patches_for(sources, ctx.mode)?;
    let (warnings, alive) = apply::patch_stream(&mut stream.documents, &patches, ctx)?;
    let origins = (0..alive.len()).filter(|&i| alive[i]).collect();
    let mut alive = alive.into_iter();
    stream.documents.retain(|_| alive.next().unwrap_or(true));
    Ok(Applied { origins, warnings })
}
