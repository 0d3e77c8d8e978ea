//! Kustomizations, built by the real `kustomize` (or `kubectl kustomize`) as an argv, never a shell.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::chart::object_file_name;
use crate::process;
use crate::stream::Document;

/// File names that make a directory a kustomization, in kustomize's own order of preference.
pub const KUSTOMIZATION_FILES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether `dir` holds a kustomization file.
pub fn is_kustomization(dir: &Path) -> bool {
    KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file())
}

/// The builder to run: `$KUSTOMIZE_BIN`, else `kustomize build`, else `kubectl kustomize` (`$KUBECTL_BIN`
/// or PATH).
fn builder() -> Result<(PathBuf, Vec<OsString>)> {
    let find = |env: &str, name: &str| {
        std::env::var_os(env)
            .filter(|v| !v.is_empty())
            .map(which::which)
            .unwrap_or_else(|| which::which(name))
            .ok()
    };
    if let Some(k) = find("KUSTOMIZE_BIN", "kustomize") {
        return Ok((k, vec!["build".into()]));
    }
    if let Some(k) = find("KUBECTL_BIN", "kubectl") {
        return Ok((k, vec!["kustomize".into()]));
    }
    bail!(
        "building a kustomization needs `kustomize` or `kubectl` on PATH (or KUSTOMIZE_BIN / KUBECTL_BIN)"
    )
}

/// Builds the kustomization in `dir`; each object becomes its own file under `templates/`.
pub fn build(dir: &Path) -> Result<Vec<Document>> {
    let (bin, mut args) = builder()?;
    args.push(dir.as_os_str().to_owned());
    let text = process::capture(&bin, &args)?;
    let shown = process::display(&bin, &args);
    let mut taken = BTreeSet::new();
    let mut docs =
        Document::parse_stream(&text, &format!("output of `{shown}`"), |_| String::new())?;
    docs.retain(Document::is_object);
    for doc in &mut docs {
        doc.file = format!("templates/{}", object_file_name(doc, &mut taken));
    }
    Ok(docs)
}
