//! Safe reading of packaged charts (`.tgz`).
//!
//! A chart archive is untrusted input: an entry named `../x` or `/etc/x`, a symlink or hardlink, or a
//! decompression bomb must never write outside the work dir. Every entry is checked before anything is
//! written, and the check runs even when the archive is handed to helm unopened.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use flate2::read::GzDecoder;
use tar::EntryType;

/// Largest total of decompressed file bytes accepted (helm itself caps a chart at 100 MiB).
pub const MAX_TOTAL_BYTES: u64 = 100 * 1024 * 1024;
/// Largest number of entries accepted.
pub const MAX_ENTRIES: usize = 20_000;

/// Checks every entry of `archive` without writing anything.
pub fn validate(archive: &Path) -> Result<()> {
    walk(archive, None).map(|_| ())
}

/// Extracts `archive` into `dest` and returns the chart directory (the archive's single top dir).
pub fn extract_chart(archive: &Path, dest: &Path) -> Result<PathBuf> {
    walk(archive, Some(dest))
}

fn walk(archive: &Path, dest: Option<&Path>) -> Result<PathBuf> {
    let shown = archive.display();
    let file = File::open(archive).with_context(|| format!("cannot open chart archive {shown}"))?;
    let mut tar = tar::Archive::new(GzDecoder::new(io::BufReader::new(file)));
    let mut top: Option<String> = None;
    let mut total: u64 = 0;
    let entries = tar
        .entries()
        .with_context(|| format!("{shown}: not a gzip-compressed tar archive"))?;
    for (count, entry) in entries.enumerate() {
        let mut entry = entry.with_context(|| format!("{shown}: corrupt archive"))?;
        if count >= MAX_ENTRIES {
            bail!("{shown}: more than {MAX_ENTRIES} entries; refusing to extract");
        }
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            continue;
        }
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = safe_relative(&raw_name)
            .with_context(|| format!("{shown}: entry {raw_name:?} is unsafe"))?;
        let first = match rel.components().next() {
            Some(Component::Normal(c)) => c.to_string_lossy().into_owned(),
            _ => continue,
        };
        match &top {
            None => top = Some(first),
            Some(t) if *t != first => bail!(
                "{shown}: entry {raw_name:?} is outside the chart directory {t:?}; a chart archive holds exactly one top-level directory"
            ),
            Some(_) => {}
        }
        match kind {
            EntryType::Directory => {
                if let Some(dest) = dest {
                    std::fs::create_dir_all(dest.join(&rel))
                        .with_context(|| format!("{shown}: cannot create {}", rel.display()))?;
                }
            }
            EntryType::Regular | EntryType::Continuous => {
                let remaining = MAX_TOTAL_BYTES - total;
                let mut limited = (&mut entry).take(remaining + 1);
                let written = match dest {
                    Some(dest) => {
                        let path = dest.join(&rel);
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent).with_context(|| {
                                format!("{shown}: cannot create {}", parent.display())
                            })?;
                        }
                        let mut out = File::options()
                            .write(true)
                            .create_new(true)
                            .open(&path)
                            .with_context(|| format!("{shown}: cannot write entry {raw_name:?}"))?;
                        io::copy(&mut limited, &mut out)
                    }
                    None => io::copy(&mut limited, &mut io::sink()),
                }
                .with_context(|| format!("{shown}: cannot read entry {raw_name:?}"))?;
                if written > remaining {
                    bail!(
                        "{shown}: entry {raw_name:?} takes the archive past {} MiB decompressed; refusing to extract",
                        MAX_TOTAL_BYTES / 1024 / 1024
                    );
                }
                total += written;
            }
            EntryType::Symlink | EntryType::Link => {
                bail!("{shown}: entry {raw_name:?} is a link; chart archives may not contain links")
            }
            other => bail!("{shown}: entry {raw_name:?} has unsupported type {other:?}"),
        }
    }
    let top = top.with_context(|| format!("{shown}: the archive is empty"))?;
    Ok(dest.map_or_else(|| PathBuf::from(&top), |d| d.join(&top)))
}

/// A path that stays inside the destination: relative, no `..`, no root or prefix.
fn safe_relative(name: &str) -> Result<PathBuf> {
    if name.contains('\\') {
        bail!("backslashes are not allowed in entry names");
    }
    let path = Path::new(name);
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => bail!("it contains `..`"),
            Component::RootDir | Component::Prefix(_) => bail!("it is an absolute path"),
        }
    }
    if out.as_os_str().is_empty() {
        bail!("it has an empty name");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};

    fn build(entries: &[(&str, EntryType, &[u8])]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let enc = GzEncoder::new(file.reopen().unwrap(), Compression::fast());
        let mut b = tar::Builder::new(enc);
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            // Write the raw name so `..` and absolute paths survive into the archive.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            if *kind == EntryType::Symlink || *kind == EntryType::Link {
                h.set_link_name("/etc/passwd").unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap();
        file
    }

    fn err(entries: &[(&str, EntryType, &[u8])]) -> String {
        let f = build(entries);
        let dest = tempfile::tempdir().unwrap();
        format!("{:#}", extract_chart(f.path(), dest.path()).unwrap_err())
    }

    #[test]
    fn extracts_a_chart() {
        let f = build(&[
            ("c/Chart.yaml", EntryType::Regular, b"name: c\n"),
            ("c/templates/a.yaml", EntryType::Regular, b"a: 1\n"),
        ]);
        let dest = tempfile::tempdir().unwrap();
        let dir = extract_chart(f.path(), dest.path()).unwrap();
        assert_eq!(dir, dest.path().join("c"));
        assert_eq!(
            std::fs::read_to_string(dir.join("Chart.yaml")).unwrap(),
            "name: c\n"
        );
        validate(f.path()).unwrap();
    }

    #[test]
    fn rejects_traversal_absolute_and_links() {
        let e = err(&[("c/../../evil", EntryType::Regular, b"x")]);
        assert!(e.contains("\"c/../../evil\"") && e.contains(".."), "{e}");
        let e = err(&[("/etc/evil", EntryType::Regular, b"x")]);
        assert!(e.contains("absolute"), "{e}");
        let e = err(&[("c/link", EntryType::Symlink, b"")]);
        assert!(e.contains("\"c/link\"") && e.contains("link"), "{e}");
        let e = err(&[("c/hard", EntryType::Link, b"")]);
        assert!(e.contains("\"c/hard\""), "{e}");
        let e = err(&[
            ("a/Chart.yaml", EntryType::Regular, b"x"),
            ("b/Chart.yaml", EntryType::Regular, b"x"),
        ]);
        assert!(e.contains("exactly one top-level directory"), "{e}");
    }

    #[test]
    fn rejects_garbage() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, b"definitely not gzip").unwrap();
        let dest = tempfile::tempdir().unwrap();
        assert!(extract_chart(f.path(), dest.path()).is_err());
    }
}
