//! Input detection and loading: charts (dir, `.tgz`, `repo/chart`, `oci://`), kustomizations, manifests.

pub mod archive;
pub mod chart;
pub mod dependency;
pub mod helm_shim;
pub mod kustomize;
pub mod manifests;
pub mod walk;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// What kind of input the user means; `--input-type` forces it when detection would guess wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputType {
    /// A Helm chart: local dir, packaged `.tgz`, `repo/chart` or `oci://` reference.
    Chart,
    /// A directory with a kustomization file.
    Kustomize,
    /// A directory (or file) of plain Kubernetes manifests.
    Manifests,
}

/// A detected input, ready to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A chart directory on disk.
    ChartDir(PathBuf),
    /// A packaged chart on disk.
    ChartArchive(PathBuf),
    /// A chart helm fetches: `repo/chart`, `oci://…`, or a URL.
    ChartRef(String),
    /// A kustomization directory.
    Kustomization(PathBuf),
    /// A directory or file of manifests.
    Manifests(PathBuf),
}

impl Source {
    /// Whether the input is a Helm chart (and so can be handed to helm untouched).
    pub fn is_chart(&self) -> bool {
        matches!(
            self,
            Self::ChartDir(_) | Self::ChartArchive(_) | Self::ChartRef(_)
        )
    }
}

/// Works out what `input` is. A chart dir wins over a kustomization file in the same dir.
pub fn detect(input: &str, forced: Option<InputType>, repo: bool) -> Result<Source> {
    // `--repo URL CHART`: helm looks CHART up in that repository, whatever is on disk.
    if repo {
        return match forced {
            None | Some(InputType::Chart) => Ok(Source::ChartRef(input.to_string())),
            Some(_) => bail!(
                "--repo names a chart repository; {input} cannot be a kustomization or manifests there"
            ),
        };
    }
    let path = Path::new(input);
    if path.is_dir() {
        let has_chart = path.join("Chart.yaml").is_file();
        let has_kustomization = kustomize::is_kustomization(path);
        let kind = match forced {
            Some(k) => k,
            None if has_chart => InputType::Chart,
            None if has_kustomization => InputType::Kustomize,
            None => InputType::Manifests,
        };
        return Ok(match kind {
            InputType::Chart if !has_chart => {
                bail!("{input} has no Chart.yaml, so it is not a chart")
            }
            InputType::Kustomize if !has_kustomization => bail!(
                "{input} has no kustomization file ({})",
                kustomize::KUSTOMIZATION_FILES.join(", ")
            ),
            InputType::Chart => Source::ChartDir(path.to_path_buf()),
            InputType::Kustomize => Source::Kustomization(path.to_path_buf()),
            InputType::Manifests => Source::Manifests(path.to_path_buf()),
        });
    }
    if path.is_file() {
        let archive = input.ends_with(".tgz") || input.ends_with(".tar.gz");
        return Ok(match forced {
            Some(InputType::Chart) => Source::ChartArchive(path.to_path_buf()),
            None if archive => Source::ChartArchive(path.to_path_buf()),
            Some(InputType::Manifests) | None => Source::Manifests(path.to_path_buf()),
            Some(InputType::Kustomize) => {
                bail!("{input} is a file; a kustomization is a directory")
            }
        });
    }
    let remote = ["oci://", "https://", "http://"]
        .iter()
        .any(|p| input.starts_with(p))
        || is_repo_reference(input);
    match forced {
        Some(InputType::Kustomize | InputType::Manifests) => bail!("{input} does not exist"),
        _ if remote => Ok(Source::ChartRef(input.to_string())),
        _ => bail!("{input} does not exist, and is not a `repo/chart` or `oci://` reference"),
    }
}

/// `repo/chart`: two non-empty names, nothing that looks like a path.
fn is_repo_reference(input: &str) -> bool {
    let mut parts = input.split('/');
    let valid = |s: Option<&str>| {
        s.is_some_and(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
    };
    valid(parts.next()) && valid(parts.next()) && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_wins_over_kustomization() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("Chart.yaml"), "name: c\n").unwrap();
        std::fs::write(d.path().join("kustomization.yaml"), "resources: []\n").unwrap();
        let p = d.path().to_str().unwrap();
        assert_eq!(
            detect(p, None, false).unwrap(),
            Source::ChartDir(d.path().into())
        );
        assert_eq!(
            detect(p, Some(InputType::Kustomize), false).unwrap(),
            Source::Kustomization(d.path().into())
        );
    }

    #[test]
    fn kustomization_and_manifests() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().to_str().unwrap();
        assert_eq!(
            detect(p, None, false).unwrap(),
            Source::Manifests(d.path().into())
        );
        assert!(detect(p, Some(InputType::Chart), false).is_err());
        std::fs::write(d.path().join("Kustomization"), "resources: []\n").unwrap();
        assert_eq!(
            detect(p, None, false).unwrap(),
            Source::Kustomization(d.path().into())
        );
    }

    #[test]
    fn references() {
        assert_eq!(
            detect("bitnami/nginx", None, false).unwrap(),
            Source::ChartRef("bitnami/nginx".into())
        );
        assert_eq!(
            detect("oci://r.example/charts/x", None, false).unwrap(),
            Source::ChartRef("oci://r.example/charts/x".into())
        );
        assert!(detect("./missing/dir", None, false).is_err());
        assert!(detect("a/b/c", None, false).is_err());
        assert!(detect("missing", None, false).is_err());
        assert_eq!(
            detect("missing", None, true).unwrap(),
            Source::ChartRef("missing".into())
        );
        assert!(detect("missing", Some(InputType::Kustomize), true).is_err());
    }
}
