//! Kustomizations, built by the real `kustomize` (or `kubectl kustomize`) as an argv, never a shell.
//!
//! A kustomization whose tree uses `helmCharts` is built with `--enable-helm --helm-command <helm>`,
//! the helm helm-x drives; with Helm 4 that is helm-x's [`helm_shim`], as kustomize before 5.8.1 asks
//! helm for `version -c`, which Helm 4 refuses.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde_json::Value;

use crate::chart::object_file_name;
use crate::helm::Helm;
use crate::input::helm_shim;
use crate::process;
use crate::stream::{Document, DuplicateKeys, LoadOptions, Stream};

/// File names that make a directory a kustomization, in kustomize's own order of preference.
pub const KUSTOMIZATION_FILES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// How many kustomization dirs [`uses_helm_charts`] reads at most (bases of bases of …).
const MAX_SCANNED_DIRS: usize = 256;

/// Whether `dir` holds a kustomization file.
pub fn is_kustomization(dir: &Path) -> bool {
    kustomization_file(dir).is_some()
}

fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

/// The builder to run: `$KUSTOMIZE_BIN build`, else `kustomize build` from PATH, else `kubectl
/// kustomize` (`$KUBECTL_BIN`, else PATH). A variable that is set must name a program: it is never
/// silently passed over for another builder.
fn builder() -> Result<(PathBuf, Vec<OsString>)> {
    let from_env = |var: &str| -> Result<Option<PathBuf>> {
        match std::env::var_os(var).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => match which::which(&v) {
                Ok(bin) => Ok(Some(bin)),
                Err(e) => bail!("{var}={}: {e}", v.to_string_lossy()),
            },
        }
    };
    if let Some(k) = from_env("KUSTOMIZE_BIN")? {
        return Ok((k, vec!["build".into()]));
    }
    if let Ok(k) = which::which("kustomize") {
        return Ok((k, vec!["build".into()]));
    }
    if let Some(k) = from_env("KUBECTL_BIN")? {
        return Ok((k, vec!["kustomize".into()]));
    }
    if let Ok(k) = which::which("kubectl") {
        return Ok((k, vec!["kustomize".into()]));
    }
    bail!(
        "building a kustomization needs `kustomize` or `kubectl` on PATH (or KUSTOMIZE_BIN / KUBECTL_BIN)"
    )
}

/// Builds the kustomization in `dir`; each object becomes its own file under `templates/`.
///
/// `extra` (`--kustomize-build-arg`) goes to the builder word for word, before `dir`. When the
/// kustomization uses `helmCharts`, helm is enabled with `helm` as kustomize's helm command, unless
/// `extra` already says `--enable-helm` / `--helm-command`.
pub fn build(dir: &Path, extra: &[OsString], helm: &Helm) -> Result<Stream> {
    let (bin, mut args) = builder()?;
    let mentions_helm = has_flag(extra, "--enable-helm");
    let helm_charts = !mentions_helm && uses_helm_charts(dir);
    if helm_charts {
        args.push("--enable-helm".into());
    }
    // Kept until kustomize is done with it.
    let mut shim = None;
    if (helm_charts || enables_helm(extra)) && !has_flag(extra, "--helm-command") {
        let command = if helm.major_version()? >= 4 {
            shim.insert(helm_shim::Shim::create(helm.bin())?).path()
        } else {
            helm.bin().to_path_buf()
        };
        args.extend(["--helm-command".into(), command.into_os_string()]);
    }
    args.extend(extra.iter().cloned());
    args.push(dir.as_os_str().to_owned());
    let text = process::capture(&bin, &args)?;
    drop(shim);
    let shown = process::display(&bin, &args);
    let mut taken = BTreeSet::new();
    let mut stream = Stream::parse(&text, &format!("output of `{shown}`"), |_| String::new())?;
    stream.documents.retain(Document::is_object);
    for doc in &mut stream.documents {
        doc.file = format!("templates/{}", object_file_name(doc, &mut taken));
    }
    Ok(stream)
}

/// Whether `args` holds the long flag `name`, bare or as `name=value`.
fn has_flag(args: &[OsString], name: &str) -> bool {
    args.iter().any(|a| flag_value(a, name).is_some())
}

/// `Some("")` for a bare `name`, `Some(value)` for `name=value`, else `None`.
fn flag_value<'a>(arg: &'a OsStr, name: &str) -> Option<&'a str> {
    let a = arg.to_str()?;
    match a.strip_prefix(name)? {
        "" => Some(""),
        rest => rest.strip_prefix('='),
    }
}

/// Whether the user's words turn kustomize's helm on (the last `--enable-helm[=bool]` wins).
fn enables_helm(args: &[OsString]) -> bool {
    args.iter()
        .filter_map(|a| flag_value(a, "--enable-helm"))
        .next_back()
        .is_some_and(|v| matches!(v, "" | "true" | "True" | "TRUE" | "t" | "T" | "1"))
}

/// Whether the kustomization in `dir`, or one of the local kustomizations it builds on
/// (`resources`, `components`, `bases`), mentions `helmCharts` (or the older
/// `helmChartInflationGenerator`). Remote bases are not read; unreadable files count as not
/// mentioning it (kustomize reports them).
pub fn uses_helm_charts(dir: &Path) -> bool {
    let mut seen = BTreeSet::new();
    let mut queue = vec![dir.to_path_buf()];
    while let Some(dir) = queue.pop() {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if seen.len() >= MAX_SCANNED_DIRS {
            break;
        }
        if !seen.insert(key) {
            continue;
        }
        let Some(file) = kustomization_file(&dir) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if text.contains("helmCharts") || text.contains("helmChartInflationGenerator") {
            return true;
        }
        let lenient = LoadOptions {
            duplicate_keys: DuplicateKeys::LastWins,
        };
        let Ok(Value::Object(kustomization)) = crate::stream::load_with(&text, &lenient) else {
            continue;
        };
        for field in ["resources", "components", "bases"] {
            let entries = kustomization.get(field).and_then(Value::as_array);
            for entry in entries.into_iter().flatten().filter_map(Value::as_str) {
                if is_remote(entry) {
                    continue;
                }
                let path = dir.join(entry);
                if path.is_dir() {
                    queue.push(path);
                }
            }
        }
    }
    false
}

/// kustomize's remote targets: URLs, `git@host:…`, `github.com/…`.
fn is_remote(entry: &str) -> bool {
    entry.contains("://") || entry.starts_with("git@") || entry.starts_with("github.com/")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::write_in as write;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn helm_charts_are_found_through_local_bases() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        write(
            root,
            "base/kustomization.yaml",
            "helmCharts:\n- name: web\n  releaseName: r\n",
        );
        write(
            root,
            "mid/kustomization.yml",
            "resources:\n- ../base\n- https://example.invalid/x\n",
        );
        write(root, "top/Kustomization", "components: [../mid]\n");
        write(
            root,
            "plain/kustomization.yaml",
            "resources: [cm.yaml, ../plain]\n",
        );
        write(root, "plain/cm.yaml", "helmCharts: not a kustomization\n");
        for dir in ["base", "mid", "top"] {
            assert!(uses_helm_charts(&root.join(dir)), "{dir}");
        }
        assert!(!uses_helm_charts(&root.join("plain")));
        assert!(!uses_helm_charts(&root.join("missing")));
    }

    #[test]
    fn helm_flags_the_user_gave() {
        assert!(has_flag(&os(&["--enable-helm"]), "--enable-helm"));
        assert!(has_flag(&os(&["--enable-helm=false"]), "--enable-helm"));
        assert!(!has_flag(&os(&["--enable-helmet"]), "--enable-helm"));
        assert!(has_flag(&os(&["--helm-command=/x"]), "--helm-command"));
        assert!(enables_helm(&os(&["--enable-helm"])));
        assert!(enables_helm(&os(&[
            "--enable-helm=false",
            "--enable-helm=true"
        ])));
        assert!(!enables_helm(&os(&[
            "--enable-helm",
            "--enable-helm=false"
        ])));
        assert!(!enables_helm(&os(&[
            "--load-restrictor=LoadRestrictionsNone"
        ])));
    }
}
