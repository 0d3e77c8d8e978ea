//! Deterministic directory walking that never follows a symlink out of the input.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Which files a walk yields.
#[derive(Debug, Clone, Copy)]
pub struct Filter<'a> {
    /// Only files with one of these extensions (case-insensitive); `None` takes every file.
    pub extensions: Option<&'a [&'a str]>,
    /// Skip files and dirs whose name starts with a dot (`.git`, editor files).
    pub skip_hidden: bool,
}

/// A file found by [`files`]: where to read it, and its `/`-separated path relative to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The real file to read.
    pub path: PathBuf,
    /// Path relative to the walked root, as the user sees it.
    pub rel: String,
}

/// Lists the files under `root` in sorted order, recursing into directories and following symlinks
/// only while they stay inside `root` (a link leading out is an error, a link loop is walked once).
pub fn files(root: &Path, filter: Filter<'_>) -> Result<Vec<Found>> {
    let root = root
        .canonicalize()
        .with_context(|| format!("cannot read {}", root.display()))?;
    let mut out = Vec::new();
    let mut visited = HashSet::new();
    collect(&root, &root, filter, &mut visited, &mut out)?;
    Ok(out)
}

fn collect(
    root: &Path,
    dir: &Path,
    filter: Filter<'_>,
    visited: &mut HashSet<PathBuf>,
    out: &mut Vec<Found>,
) -> Result<()> {
    let real = dir
        .canonicalize()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    if !visited.insert(real) {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .and_then(|rd| rd.collect::<std::io::Result<Vec<_>>>())
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if filter.skip_hidden && entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let target = if meta.file_type().is_symlink() {
            let target = path
                .canonicalize()
                .with_context(|| format!("{}: broken symlink", path.display()))?;
            if !target.starts_with(root) {
                bail!(
                    "{} is a symlink to {}, outside the input directory {}; refusing to read it",
                    path.display(),
                    target.display(),
                    root.display()
                );
            }
            target
        } else {
            path.clone()
        };
        if target.is_dir() {
            collect(root, &path, filter, visited, out)?;
        } else if target.is_file()
            && filter.extensions.is_none_or(|exts| {
                path.extension()
                    .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
            })
        {
            let rel = path
                .strip_prefix(root)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .with_context(|| format!("{} is outside {}", path.display(), root.display()))?;
            out.push(Found { path: target, rel });
        }
    }
    Ok(())
}

/// Copies the tree under `from` into `to` (created), with the same symlink rules as [`files`].
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let all = Filter {
        extensions: None,
        skip_hidden: false,
    };
    for f in files(from, all)? {
        crate::signals::check()?;
        let dest = to.join(&f.rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::copy(&f.path, &dest)
            .with_context(|| format!("cannot copy {} to {}", f.path.display(), dest.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn link_loops_are_walked_once_and_outside_links_fail() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("a")).unwrap();
        std::fs::write(d.path().join("a/x.yaml"), "x").unwrap();
        std::os::unix::fs::symlink(d.path(), d.path().join("a/loop")).unwrap();
        let all = Filter {
            extensions: Some(&["yaml"]),
            skip_hidden: true,
        };
        let found = files(d.path(), all).unwrap();
        assert_eq!(
            found.iter().map(|f| f.rel.as_str()).collect::<Vec<_>>(),
            ["a/x.yaml"]
        );

        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("out")).unwrap();
        let e = files(d.path(), all).unwrap_err().to_string();
        assert!(e.contains("outside the input directory"), "{e}");
    }
}
