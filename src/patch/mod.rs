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

use crate::filter::transform::Transformation;
use crate::stream::Stream;

/// What [`apply`] did besides changing the stream.
#[derive(Debug)]
pub struct Applied {
    /// For each surviving document, its index in the input (deleted ones leave gaps).
    pub origins: Vec<usize>,
    /// Missing targets allowed by `--allow-missing-patch-targets`, CRD schemas not used.
    pub warnings: Vec<String>,
}

/// Loads the patch and transformer files and applies them, in order, to a stream of documents.
/// Documents nothing changed keep their original text (and are never parsed unless a selector had
/// to look into them); deleted ones leave the stream.
pub fn apply(stream: &mut Stream, sources: &[PatchSource], ctx: &PatchContext) -> Result<Applied> {
    // Everything is loaded first, so a bad file fails before any object changes.
    let mut steps: Vec<Transformation> = Vec::new();
    for source in sources {
        let loaded = match source {
            PatchSource::Transformer(file) => crate::filter::transform::load(file, ctx.mode)?,
            patches => vec![Transformation::Patches(spec::load_patches_for(
                std::slice::from_ref(patches),
                ctx.mode,
            )?)],
        };
        for step in loaded {
            match (steps.last_mut(), step) {
                // Consecutive patches share one identity index.
                (Some(Transformation::Patches(all)), Transformation::Patches(more)) => {
                    all.extend(more);
                }
                (_, step) => steps.push(step),
            }
        }
    }
    let mut origins: Vec<usize> = (0..stream.documents.len()).collect();
    let mut warnings = Vec::new();
    for step in &steps {
        match step {
            Transformation::Patches(patches) => {
                let (more, alive) = apply::patch_stream(&mut stream.documents, patches, ctx)?;
                warnings.extend(more);
                let mut keep = alive.iter();
                origins.retain(|_| *keep.next().unwrap_or(&true));
                let mut keep = alive.into_iter();
                stream.documents.retain(|_| keep.next().unwrap_or(true));
            }
            Transformation::Fields(fields) => fields.apply(stream)?,
        }
    }
    Ok(Applied { origins, warnings })
}
