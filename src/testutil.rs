//! Helpers shared by unit tests.

use std::path::{Path, PathBuf};

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
