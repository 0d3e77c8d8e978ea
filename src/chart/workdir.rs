//! The private work dir: created 0700, removed on success, error and signal unless the user keeps it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::signals::{self, DirGuard};

/// A private temporary directory holding fetched charts and the temporary chart.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
    /// Removes the dir when dropped and on a signal; `None` when the user keeps it.
    _removal: Option<(tempfile::TempDir, DirGuard)>,
}

impl WorkDir {
    /// Creates `helm-x-XXXXXX` under the system temp dir with mode 0700. With `keep`, the dir survives
    /// and its path is printed on stderr so the user can inspect the temporary chart.
    pub fn create(keep: bool) -> Result<Self> {
        signals::check()?;
        let (dir, guard) = signals::create_registered(
            || tempfile::Builder::new().prefix("helm-x-").tempdir(),
            |dir| dir.path().to_path_buf(),
        )
        .context("cannot create a work dir under the system temp dir")?;
        set_private(dir.path())?;
        let path = dir.path().to_path_buf();
        if keep {
            eprintln!("helm-x: keeping work dir {}", path.display());
            drop(guard);
            // `keep` disarms the automatic removal; the path stays valid.
            return Ok(Self {
                path: dir.keep(),
                _removal: None,
            });
        }
        Ok(Self {
            path,
            _removal: Some((dir, guard)),
        })
    }

    /// The work dir's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", path.display()))
}

#[cfg(not(unix))]
fn set_private(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_removed_on_drop() {
        let wd = WorkDir::create(false).unwrap();
        let path = wd.path().to_path_buf();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        drop(wd);
        assert!(!path.exists());
    }

    #[test]
    fn kept_dir_survives() {
        let wd = WorkDir::create(true).unwrap();
        let path = wd.path().to_path_buf();
        drop(wd);
        assert!(path.exists());
        std::fs::remove_dir_all(path).unwrap();
    }
}
