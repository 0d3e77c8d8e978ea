//! Helpers shared by unit tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// A temporary directory (removed on drop) with a convenience writer for fixture files.
pub(crate) struct TempDir(tempfile::TempDir);

impl TempDir {
    /// Creates `helm-x-<tag>-XXXXXX` under the system temp dir.
    pub(crate) fn new(tag: &str) -> Self {
        Self(
            tempfile::Builder::new()
                .prefix(&format!("helm-x-{tag}-"))
                .tempdir()
                .expect("create temp dir"),
        )
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes `text` to `name` inside the directory and returns its path.
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write temp file");
        path
    }
}

/// Writes `body` to `dir/rel`, creating the directories in between.
pub(crate) fn write_in(dir: &Path, rel: &str, body: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("a file has a parent")).expect("create dirs");
    std::fs::write(p, body).expect("write fixture");
}

/// Objects keyed `kind/namespace/name` (an empty namespace written `default`, but for ClusterRoles),
/// so the oracle tests compare kubectl's objects with ours whatever their order.
pub(crate) fn by_identity(values: impl IntoIterator<Item = Value>) -> BTreeMap<String, Value> {
    values
        .into_iter()
        .map(|v| {
            let s = |p: &str| {
                v.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let mut ns = s("/metadata/namespace");
            if ns.is_empty() && s("/kind") != "ClusterRole" {
                ns = "default".into();
            }
            (format!("{}/{ns}/{}", s("/kind"), s("/metadata/name")), v)
        })
        .collect()
}

/// The objects two `by_identity` maps disagree on, one line each side.
pub(crate) fn object_differences(
    ours: &BTreeMap<String, Value>,
    kubectl: &BTreeMap<String, Value>,
) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = ours.keys().chain(kubectl.keys()).collect();
    let show = |v: Option<&Value>| v.map_or("-".into(), Value::to_string);
    keys.into_iter()
        .filter(|k| ours.get(*k) != kubectl.get(*k))
        .map(|k| {
            format!(
                "  {k}\n    ours:    {}\n    kubectl: {}",
                show(ours.get(k)),
                show(kubectl.get(k))
            )
        })
        .collect()
}

/// `kubectl kustomize DIR` (with `kubectl` given by the oracle tests): its objects, or its stderr
/// with the scratch dir's path written `$DIR`.
pub(crate) fn kubectl_kustomize(kubectl: &Path, dir: &Path) -> Result<Vec<Value>, String> {
    let out = std::process::Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        .env("KUBECONFIG", "/dev/null")
        .output()
        .map_err(|e| format!("cannot run kubectl: {e}"))?;
    if !out.status.success() {
        let scratch = dir.to_str().expect("UTF-8 temp dir");
        return Err(String::from_utf8_lossy(&out.stderr).replace(scratch, "$DIR"));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let docs = crate::stream::load_all(&text).map_err(|e| e.to_string())?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}
