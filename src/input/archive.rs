//! Safe reading of packaged charts (`.tgz`).
//!
//! A chart archive is untrusted input: an entry named `../x` or `/etc/x`, a symlink or hardlink, or a
//! decompression bomb must never write outside the work dir. Every entry is checked before anything is
//! written, and the check runs even when the archive is handed to helm unopened.
//!
//! The archive is read the way helm (Go's `compress/gzip` and `archive/tar`) reads it, so that what is
//! checked is what helm loads: every gzip member in turn, GNU long names and PAX `path` records applied
//! to the entry they describe. Where the two readers could disagree (a PAX `size` unlike the header's,
//! sparse files, a directory carrying data, two long names for one entry) the archive is refused.
//! Extension headers are checked from their declared size before any of their data is read.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use flate2::read::MultiGzDecoder;
use tar::EntryType;

/// Largest total of decompressed file bytes accepted (helm itself caps a chart at 100 MiB).
pub const MAX_TOTAL_BYTES: u64 = 100 * 1024 * 1024;
/// Largest number of entries accepted, not counting extension headers (see [`MAX_EXTENSION_HEADERS`]).
pub const MAX_ENTRIES: usize = 20_000;
/// Largest data one extension header may declare: a GNU long name (`L`) or long link name (`K`), or a
/// PAX extended (`x`) or global (`g`) header. Checked from the header before any data is read (Go's
/// reader allows 1 MiB; real ones hold a few hundred bytes).
pub const MAX_EXTENSION_BYTES: u64 = 64 * 1024;
/// Largest number of extension headers in one archive (tar writers add at most one or two per entry).
pub const MAX_EXTENSION_HEADERS: usize = MAX_ENTRIES;
/// Largest total of extension header data in one archive; it also bounds the memory held for names.
pub const MAX_EXTENSION_TOTAL_BYTES: u64 = 16 * 1024 * 1024;
/// Longest entry name, in bytes, quoted whole in an error message; longer ones are cut.
const MAX_SHOWN_NAME: usize = 200;

/// Checks every entry of `archive` without writing anything.
pub fn validate(archive: &Path) -> Result<()> {
    walk(archive, None).map(|_| ())
}

/// Extracts `archive` into `dest` and returns the chart directory (the archive's single top dir).
pub fn extract_chart(archive: &Path, dest: &Path) -> Result<PathBuf> {
    walk(archive, Some(dest))
}

/// Where a header sits in the decompressed tar stream.
#[derive(Clone, Copy)]
struct Pos {
    /// 1-based, counting every header, extension headers included.
    header: usize,
    /// Byte offset of the header.
    offset: u64,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "header #{} at byte {}", self.header, self.offset)
    }
}

fn walk(archive: &Path, dest: Option<&Path>) -> Result<PathBuf> {
    let shown = archive.display();
    let file = File::open(archive).with_context(|| format!("cannot open chart archive {shown}"))?;
    // Helm reads every gzip member, one after the other, as one stream; a second member read by
    // helm alone could hide any entry from this check.
    let mut tar = tar::Archive::new(MultiGzDecoder::new(file));
    // Raw entries: the tar crate would read long-name and PAX headers whole into memory before we
    // see their size. `Extensions` checks the size first, then reads and applies them itself.
    let entries = tar
        .entries()
        .with_context(|| format!("{shown}: not a gzip-compressed tar archive"))?
        .raw(true);
    let mut top: Option<String> = None;
    let mut total: u64 = 0;
    let mut count: usize = 0;
    let mut extensions = Extensions::default();
    // Normalized paths seen, and where; held names are bounded by MAX_EXTENSION_TOTAL_BYTES plus
    // the 256 bytes a plain header holds per entry.
    let mut seen: HashMap<PathBuf, Pos> = HashMap::new();
    // Paths that are files, and every directory named or implied so far (bounded like `seen`).
    let mut files: HashMap<PathBuf, Pos> = HashMap::new();
    let mut dirs: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    let mut last: Option<String> = None;
    let mut next = Pos {
        header: 1,
        offset: 0,
    };
    for entry in entries {
        let mut entry = entry.with_context(|| {
            let after = last.as_deref().map_or_else(
                || "the first header; is this a gzip-compressed tar archive?".to_owned(),
                |l| format!("after {l}"),
            );
            format!("{shown}: cannot read {next} ({after})")
        })?;
        let at = Pos {
            header: next.header,
            offset: entry.raw_header_position(),
        };
        let size = entry.size();
        next = Pos {
            header: at.header + 1,
            offset: entry
                .raw_file_position()
                .saturating_add(size.div_ceil(512).saturating_mul(512)),
        };
        let kind = entry.header().entry_type();
        if let Some(what) = extension_kind(kind) {
            extensions
                .take(&mut entry, at)
                .with_context(|| format!("{shown}: {at} ({what}) is refused"))?;
            continue;
        }
        count += 1;
        if count > MAX_ENTRIES {
            bail!("{shown}: more than {MAX_ENTRIES} entries at {at}; refusing to extract");
        }
        let ext = std::mem::take(&mut extensions.pending);
        let raw_name = ext
            .name(entry.header())
            .with_context(|| format!("{shown}: the entry of {at} is refused"))?;
        let raw_name = String::from_utf8_lossy(&raw_name).into_owned();
        let label = format!("entry {} ({at})", quote(&raw_name));
        if let Some(pax_size) = ext.pax.as_ref().and_then(|p| p.size)
            && pax_size != size
        {
            bail!(
                "{shown}: {label} has a PAX size of {pax_size} bytes but a header size of {size}; refusing an archive that tar readers may read differently"
            );
        }
        let rel =
            safe_relative(&raw_name).with_context(|| format!("{shown}: {label} is unsafe"))?;
        let first = match rel.components().next() {
            Some(Component::Normal(c)) => c.to_string_lossy().into_owned(),
            _ => continue,
        };
        match &top {
            None => top = Some(first),
            Some(t) if *t != first => bail!(
                "{shown}: {label} is outside the chart directory {}; a chart archive holds exactly one top-level directory",
                quote(t)
            ),
            Some(_) => {}
        }
        if let Some(prev) = seen.get(&rel) {
            bail!(
                "{shown}: {label} duplicates the path {} of {prev}; refusing an archive that names a path twice",
                quote(&rel.to_string_lossy())
            );
        }
        seen.insert(rel.clone(), at);
        // A file and a directory of the same path cannot both be extracted: refuse it here, where
        // `validate` sees it too, instead of failing half-way through extraction.
        for ancestor in rel
            .ancestors()
            .skip(1)
            .filter(|a| !a.as_os_str().is_empty())
        {
            if let Some(prev) = files.get(ancestor) {
                bail!(
                    "{shown}: {label} lies under {}, which {prev} made a file; refusing an archive whose paths collide",
                    quote(&ancestor.to_string_lossy())
                );
            }
            if !dirs.insert(ancestor.to_path_buf()) {
                break;
            }
        }
        if matches!(kind, EntryType::Directory) {
            dirs.insert(rel.clone());
        } else if dirs.contains(&rel) {
            bail!(
                "{shown}: {label} is a file where earlier entries have a directory; refusing an archive whose paths collide"
            );
        } else {
            files.insert(rel.clone(), at);
        }
        match kind {
            EntryType::Directory => {
                if size != 0 {
                    // Go's reader skips no data after a directory: helm would read these bytes as
                    // further entries that this check never sees.
                    bail!(
                        "{shown}: {label} is a directory carrying {size} bytes of data; refusing an archive that tar readers may read differently"
                    );
                }
                if let Some(dest) = dest {
                    std::fs::create_dir_all(dest.join(&rel))
                        .with_context(|| format!("{shown}: cannot create {}", rel.display()))?;
                }
            }
            EntryType::Regular | EntryType::Continuous => {
                let remaining = MAX_TOTAL_BYTES - total;
                if size > remaining {
                    bail!(
                        "{shown}: {label} takes the archive past {} MiB decompressed; refusing to extract",
                        MAX_TOTAL_BYTES / 1024 / 1024
                    );
                }
                let mut data = (&mut entry).take(size);
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
                            .with_context(|| format!("{shown}: cannot write {label}"))?;
                        io::copy(&mut data, &mut out)
                    }
                    None => io::copy(&mut data, &mut io::sink()),
                }
                .with_context(|| format!("{shown}: cannot read {label}"))?;
                if written < size {
                    bail!(
                        "{shown}: {label} is truncated: the archive ends after {written} of its {size} bytes"
                    );
                }
                total += written;
            }
            EntryType::Symlink | EntryType::Link => {
                bail!("{shown}: {label} is a link; chart archives may not contain links")
            }
            other => bail!("{shown}: {label} has unsupported type {other:?}"),
        }
        last = Some(label);
    }
    if let Some(at) = extensions.pending.first {
        bail!("{shown}: the extension header ({at}) describes no entry: the archive ends after it");
    }
    let top = top.with_context(|| format!("{shown}: the archive is empty"))?;
    Ok(dest.map_or_else(|| PathBuf::from(&top), |d| d.join(&top)))
}

/// What an extension header is, or `None` for an entry.
fn extension_kind(kind: EntryType) -> Option<&'static str> {
    match kind {
        EntryType::GNULongName => Some("a GNU long-name header"),
        EntryType::GNULongLink => Some("a GNU long-link header"),
        EntryType::XHeader => Some("a PAX extended header"),
        EntryType::XGlobalHeader => Some("a PAX global header"),
        _ => None,
    }
}

/// The extension headers of an archive: their totals, and those that describe the next entry.
#[derive(Default)]
struct Extensions {
    count: usize,
    bytes: u64,
    pending: Pending,
}

/// Extension headers read since the last entry.
#[derive(Default)]
struct Pending {
    /// Where the first of them sits.
    first: Option<Pos>,
    long_name: Option<Vec<u8>>,
    long_link: bool,
    pax: Option<Pax>,
}

impl Extensions {
    /// Checks the extension header `entry` against the limits from its declared size, then reads
    /// what the next entry needs from it; the rest is skipped unread.
    fn take<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>, at: Pos) -> Result<()> {
        let size = entry.size();
        self.count += 1;
        if self.count > MAX_EXTENSION_HEADERS {
            bail!("the archive has more than {MAX_EXTENSION_HEADERS} extension headers");
        }
        if size > MAX_EXTENSION_BYTES {
            bail!(
                "it declares {size} bytes; an extension header may hold at most {} KiB",
                MAX_EXTENSION_BYTES / 1024
            );
        }
        self.bytes += size;
        if self.bytes > MAX_EXTENSION_TOTAL_BYTES {
            bail!(
                "the archive's extension headers take more than {} MiB in all",
                MAX_EXTENSION_TOTAL_BYTES / 1024 / 1024
            );
        }
        let p = &mut self.pending;
        match entry.header().entry_type() {
            EntryType::GNULongName => {
                if p.long_name.is_some() {
                    bail!("it is a second GNU long name for the same entry");
                }
                let mut name = read_whole(entry, size)?;
                while name.last() == Some(&0) {
                    name.pop();
                }
                if name.contains(&0) {
                    bail!("the long name holds a NUL byte");
                }
                p.long_name = Some(name);
            }
            EntryType::GNULongLink => {
                if p.long_link {
                    bail!("it is a second GNU long link name for the same entry");
                }
                // Links are refused whatever their target, so the name itself is not needed.
                p.long_link = true;
            }
            EntryType::XHeader => {
                if p.pax.is_some() {
                    bail!("it is a second PAX extended header for the same entry");
                }
                p.pax = Some(parse_pax(&read_whole(entry, size)?)?);
            }
            _ => {
                // A global header describes no one entry (helm skips it); it is not read.
                if let Some(first) = p.first {
                    bail!(
                        "it comes between the extension header at {first} and the entry it describes"
                    );
                }
                return Ok(());
            }
        }
        p.first.get_or_insert(at);
        Ok(())
    }
}

impl Pending {
    /// The entry's name as helm reads it: a GNU long name, else a PAX `path`, else the header's own.
    fn name(&self, header: &tar::Header) -> Result<Vec<u8>> {
        let pax_path = self.pax.as_ref().and_then(|p| p.path.as_deref());
        match (self.long_name.as_deref(), pax_path) {
            (Some(long), Some(path)) if long != path => {
                bail!("its GNU long name and its PAX path differ")
            }
            (Some(name), _) | (None, Some(name)) => Ok(name.to_vec()),
            (None, None) => Ok(header.path_bytes().into_owned()),
        }
    }
}

/// All `size` bytes of the (small, already size-checked) extension header `entry`.
fn read_whole(entry: &mut impl Read, size: u64) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    entry
        .take(size)
        .read_to_end(&mut data)
        .context("cannot read it")?;
    if (data.len() as u64) < size {
        bail!(
            "it is truncated: the archive ends after {} of its {size} bytes",
            data.len()
        );
    }
    Ok(data)
}

/// The PAX records that decide which bytes an entry is and where it goes.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    size: Option<u64>,
}

/// Parses PAX records (`"<len> <key>=<value>\n"`) at least as strictly as Go's reader, which fails
/// on any malformed one; a repeated `path` or `size` (Go keeps the last, the tar crate the first)
/// and sparse-file records (which change what Go reads) are refused.
fn parse_pax(mut data: &[u8]) -> Result<Pax> {
    let mut pax = Pax::default();
    while !data.is_empty() {
        let digits = data
            .iter()
            .position(|&b| b == b' ')
            .filter(|&n| n > 0 && data[..n].iter().all(u8::is_ascii_digit))
            .context("a PAX record does not start with its length")?;
        let len = std::str::from_utf8(&data[..digits])
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&len| len > digits + 1 && len <= data.len())
            .context("a PAX record's length is out of range")?;
        let (record, rest) = data.split_at(len);
        let body = record[digits + 1..]
            .strip_suffix(b"\n")
            .context("a PAX record does not end with a newline")?;
        let eq = body
            .iter()
            .position(|&b| b == b'=')
            .context("a PAX record has no `=`")?;
        let (key, value) = (&body[..eq], &body[eq + 1..]);
        let shown_key = quote(&String::from_utf8_lossy(key));
        if key.is_empty() || key.contains(&0) {
            bail!("a PAX record has an empty key or a NUL byte in its key");
        }
        match key {
            b"path" | b"linkpath" | b"size" if value.contains(&0) => {
                bail!("the PAX record {shown_key} holds a NUL byte")
            }
            b"path" if pax.path.is_some() => bail!("the PAX header repeats {shown_key}"),
            b"size" if pax.size.is_some() => bail!("the PAX header repeats {shown_key}"),
            b"path" => pax.path = Some(value.to_vec()),
            b"size" => {
                let size = std::str::from_utf8(value)
                    .ok()
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse().ok())
                    .context("the PAX size is not a number")?;
                pax.size = Some(size);
            }
            _ if key.starts_with(b"GNU.sparse.") => {
                bail!(
                    "its PAX record {shown_key} describes a sparse file; chart archives may not contain sparse files"
                )
            }
            _ => {}
        }
        data = rest;
    }
    Ok(pax)
}

/// `name` quoted for an error message, cut after MAX_SHOWN_NAME bytes.
fn quote(name: &str) -> String {
    if name.len() <= MAX_SHOWN_NAME {
        return format!("{name:?}");
    }
    let mut cut = MAX_SHOWN_NAME;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{:?}... ({} bytes)", &name[..cut], name.len())
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

    // --- Raw archive building: every byte under the test's control. ---

    const END: [u8; 1024] = [0; 1024];

    /// One tar member: a header named `name` (written raw, so `..` survives) declaring `size`
    /// bytes, then `data` padded to the block size; `data` may be shorter than `size`.
    fn member(name: &[u8], kind: EntryType, size: u64, data: &[u8]) -> Vec<u8> {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        if kind == EntryType::Symlink || kind == EntryType::Link {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        let mut out = h.as_bytes().to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(512), 0);
        out
    }

    fn file(name: &str, data: &[u8]) -> Vec<u8> {
        member(name.as_bytes(), EntryType::Regular, data.len() as u64, data)
    }

    fn dir(name: &str) -> Vec<u8> {
        member(name.as_bytes(), EntryType::Directory, 0, b"")
    }

    /// An extension header (`L`, `K`, `x` or `g`) holding `data`.
    fn ext(kind: EntryType, data: &[u8]) -> Vec<u8> {
        member(b"././@LongLink", kind, data.len() as u64, data)
    }

    /// A PAX extended header holding `records`.
    fn pax(records: &[(&str, &[u8])]) -> Vec<u8> {
        let mut data = Vec::new();
        for (key, value) in records {
            let body = key.len() + value.len() + 3; // " ", "=", "\n"
            let mut len = body + 1;
            while (body + len.to_string().len()) != len {
                len = body + len.to_string().len();
            }
            data.extend_from_slice(format!("{len} {key}=").as_bytes());
            data.extend_from_slice(value);
            data.push(b'\n');
        }
        ext(EntryType::XHeader, &data)
    }

    fn gz(tar: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        std::io::Write::write_all(&mut enc, tar).unwrap();
        enc.finish().unwrap()
    }

    fn file_of(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, bytes).unwrap();
        f
    }

    /// Checks that `validate` and `extract_chart` both refuse the gzip file `bytes` with the same
    /// message, and returns it.
    fn refused_gz(bytes: &[u8]) -> String {
        let f = file_of(bytes);
        let checked = format!(
            "{:#}",
            validate(f.path()).expect_err("validate accepted it")
        );
        let dest = tempfile::tempdir().unwrap();
        let extracted = extract_chart(f.path(), dest.path()).expect_err("extract accepted it");
        assert_eq!(checked, format!("{extracted:#}"));
        checked
    }

    fn refused(tar: &[u8]) -> String {
        refused_gz(&gz(tar))
    }

    /// Extracts the gzip file `bytes` (after validating it) and returns the chart dir.
    fn extracted_gz(bytes: &[u8], dest: &Path) -> PathBuf {
        let f = file_of(bytes);
        validate(f.path()).unwrap();
        extract_chart(f.path(), dest).unwrap()
    }

    #[test]
    fn extension_headers_over_the_size_limit_are_refused_unread() {
        let kinds = [
            EntryType::GNULongName,
            EntryType::GNULongLink,
            EntryType::XHeader,
            EntryType::XGlobalHeader,
        ];
        let big = vec![b'a'; MAX_EXTENSION_BYTES as usize + 1];
        for kind in kinds {
            let e = refused(&[ext(kind, &big), file("c/Chart.yaml", b"x"), END.to_vec()].concat());
            assert!(
                e.contains("header #1 at byte 0") && e.contains("64 KiB"),
                "{e}"
            );
            assert!(e.len() < 300, "{e}");
            // A declared terabyte with nothing behind it: refused from the header alone.
            let huge = member(b"././@LongLink", kind, 1 << 40, b"");
            let e = refused(&huge);
            assert!(
                e.contains("header #1 at byte 0") && e.contains("1099511627776"),
                "{e}"
            );
        }
        // At the limit is fine.
        let name = format!("c/{}", "n".repeat(MAX_EXTENSION_BYTES as usize - 2));
        let tar = [
            ext(EntryType::GNULongName, name.as_bytes()),
            file("c/x", b"x"),
            END.to_vec(),
        ]
        .concat();
        validate(file_of(&gz(&tar)).path()).unwrap();
    }

    #[test]
    fn too_many_extension_headers_are_refused() {
        let g = ext(EntryType::XGlobalHeader, b"");
        let mut tar = g.repeat(MAX_EXTENSION_HEADERS);
        tar.extend(file("c/Chart.yaml", b"x"));
        tar.extend(END);
        validate(file_of(&gz(&tar)).path()).unwrap();
        let mut tar = g.repeat(MAX_EXTENSION_HEADERS + 1);
        tar.extend(file("c/Chart.yaml", b"x"));
        tar.extend(END);
        let e = refused(&tar);
        let at = format!(
            "header #{} at byte {}",
            MAX_EXTENSION_HEADERS + 1,
            MAX_EXTENSION_HEADERS * 512
        );
        assert!(e.contains(&at) && e.contains("extension headers"), "{e}");
    }

    #[test]
    fn extension_bytes_are_capped_per_archive() {
        let full = ext(EntryType::XGlobalHeader, &[0; MAX_EXTENSION_BYTES as usize]);
        let n = (MAX_EXTENSION_TOTAL_BYTES / MAX_EXTENSION_BYTES) as usize;
        let mut tar = full.repeat(n);
        tar.extend(file("c/Chart.yaml", b"x"));
        tar.extend(END);
        validate(file_of(&gz(&tar)).path()).unwrap();
        let mut tar = full.repeat(n);
        tar.extend(ext(EntryType::XGlobalHeader, b"1"));
        tar.extend(file("c/Chart.yaml", b"x"));
        tar.extend(END);
        let e = refused(&tar);
        assert!(
            e.contains(&format!("header #{}", n + 1)) && e.contains("MiB"),
            "{e}"
        );
    }

    #[test]
    fn every_gzip_member_is_read() {
        // Member one ends without the end-of-archive blocks; member two carries on.
        let first = gz(&file("c/Chart.yaml", b"name: c\n"));
        let second = gz(&[member(b"c/link", EntryType::Symlink, 0, b""), END.to_vec()].concat());
        let e = refused_gz(&[first.clone(), second].concat());
        assert!(
            e.contains("\"c/link\" (header #2 at byte 1024)") && e.contains("link"),
            "{e}"
        );
        // Each member's entries are extracted, as helm reads them.
        let second = gz(&[file("c/values.yaml", b"a: 1\n"), END.to_vec()].concat());
        let dest = tempfile::tempdir().unwrap();
        let dir = extracted_gz(&[first, second].concat(), dest.path());
        assert_eq!(
            std::fs::read_to_string(dir.join("values.yaml")).unwrap(),
            "a: 1\n"
        );
        assert!(dir.join("Chart.yaml").is_file());
    }

    #[test]
    fn errors_name_the_entry_and_its_position() {
        let tar = [
            file("c/Chart.yaml", b"name: c\n"),
            file("c/a.yaml", &[b'a'; 2000]),
            END.to_vec(),
        ]
        .concat();
        // Cut inside c/a.yaml's data.
        let e = refused(&tar[..1536 + 700]);
        assert!(
            e.contains("entry \"c/a.yaml\" (header #2 at byte 1024)") && e.contains("truncated"),
            "{e}"
        );
        // Cut inside the second header.
        let e = refused(&tar[..1024 + 100]);
        assert!(
            e.contains("header #2 at byte 1024") && e.contains("after entry \"c/Chart.yaml\""),
            "{e}"
        );
        // A bad checksum in the second header.
        let mut bad = tar.clone();
        bad[1024 + 10] ^= 1;
        let e = refused(&bad);
        assert!(
            e.contains("header #2 at byte 1024") && e.contains("checksum"),
            "{e}"
        );
        // A gzip stream cut short.
        let zipped = gz(&tar);
        let e = refused_gz(&zipped[..zipped.len() / 2]);
        assert!(e.contains("header #"), "{e}");
        // Not gzip at all.
        let e = refused_gz(b"definitely not gzip");
        assert!(e.contains("header #1 at byte 0"), "{e}");
    }

    #[test]
    fn long_names_are_cut_in_errors() {
        let name = format!("c/{}/../../../evil", "a".repeat(10_000));
        let tar = [
            ext(EntryType::GNULongName, name.as_bytes()),
            file("c/placeholder", b"x"),
            END.to_vec(),
        ]
        .concat();
        let e = refused(&tar);
        assert!(
            e.len() < 500 && e.contains("... (10016 bytes)") && e.contains(".."),
            "{e}"
        );
        let top = format!("d{}/x", "d".repeat(10_000));
        let tar = [
            file("c/Chart.yaml", b"x"),
            ext(EntryType::GNULongName, top.as_bytes()),
            file("c/placeholder", b"x"),
            END.to_vec(),
        ]
        .concat();
        let e = refused(&tar);
        assert!(
            e.len() < 500 && e.contains("exactly one top-level directory"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_entries_are_refused() {
        let pairs: [(Vec<u8>, Vec<u8>); 5] = [
            (file("c/a.yaml", b"1"), file("c/a.yaml", b"2")),
            (file("c/a.yaml", b"1"), file("c/./a.yaml", b"2")),
            (file("c/a.yaml", b"1"), file("c//a.yaml", b"2")),
            (dir("c/d/"), dir("c/d")),
            (dir("c/d/"), file("c/d", b"x")),
        ];
        for (first, second) in pairs {
            let e = refused(&[first, second, END.to_vec()].concat());
            assert!(
                e.contains("(header #2 at byte")
                    && e.contains("duplicates")
                    && e.contains("header #1 at byte 0"),
                "{e}"
            );
        }
        // Through a long name too.
        let long = format!("c/{}/{}", "l".repeat(150), "l".repeat(150));
        let tar = [
            ext(EntryType::GNULongName, long.as_bytes()),
            file("c/x", b"1"),
            pax(&[("path", long.as_bytes())]),
            file("c/y", b"2"),
            END.to_vec(),
        ]
        .concat();
        let e = refused(&tar);
        assert!(
            e.contains("duplicates") && e.contains("l\"... (303 bytes)"),
            "{e}"
        );
    }

    #[test]
    fn files_and_directories_of_one_path_are_refused() {
        let e = refused(&[file("c/x", b"1"), file("c/x/y", b"2"), END.to_vec()].concat());
        assert!(
            e.contains("lies under \"c/x\"") && e.contains("header #1"),
            "{e}"
        );
        let e = refused(&[file("c/x/y", b"1"), file("c/x", b"2"), END.to_vec()].concat());
        assert!(
            e.contains("is a file where earlier entries have a directory"),
            "{e}"
        );
        let e = refused(
            &[
                dir("c/d/"),
                file("c/d/f", b"1"),
                file("c/d", b"x"),
                END.to_vec(),
            ]
            .concat(),
        );
        assert!(e.contains("duplicates") || e.contains("directory"), "{e}");
    }

    #[test]
    fn long_names_and_pax_records_are_applied() {
        let long = format!("c/templates/{}.yaml", "n".repeat(150));
        let pax_path = format!("c/{}.yaml", "p".repeat(120));
        let tar = [
            // What `git archive` puts first.
            ext(
                EntryType::XGlobalHeader,
                b"52 comment=0123456789012345678901234567890123456789\n",
            ),
            ext(EntryType::GNULongName, format!("{long}\0").as_bytes()),
            file("c/templates/short", b"long\n"),
            pax(&[
                ("mtime", b"1700000000.5"),
                ("path", pax_path.as_bytes()),
                ("size", b"4"),
            ]),
            file("c/short", b"pax\n"),
            file("c/Chart.yaml", b"name: c\n"),
            END.to_vec(),
        ]
        .concat();
        let dest = tempfile::tempdir().unwrap();
        extracted_gz(&gz(&tar), dest.path());
        assert_eq!(
            std::fs::read_to_string(dest.path().join(&long)).unwrap(),
            "long\n"
        );
        assert_eq!(
            std::fs::read_to_string(dest.path().join(&pax_path)).unwrap(),
            "pax\n"
        );
        assert!(!dest.path().join("c/short").exists());
        // The real name is the one checked.
        let e = refused(
            &[
                pax(&[("path", b"c/../../evil")]),
                file("c/ok", b"x"),
                END.to_vec(),
            ]
            .concat(),
        );
        assert!(e.contains("\"c/../../evil\"") && e.contains(".."), "{e}");
        let e = refused(
            &[
                ext(EntryType::GNULongName, b"/etc/evil"),
                file("c/ok", b"x"),
                END.to_vec(),
            ]
            .concat(),
        );
        assert!(e.contains("absolute"), "{e}");
    }

    #[test]
    fn ambiguous_extension_headers_are_refused() {
        let entry = || file("c/a", b"x");
        let cases: Vec<(Vec<u8>, &str)> = vec![
            ([pax(&[("size", b"2048")]), entry()].concat(), "PAX size"),
            (
                [pax(&[("GNU.sparse.major", b"1")]), entry()].concat(),
                "sparse",
            ),
            (
                [
                    pax(&[("path", b"c/b")]),
                    ext(EntryType::GNULongName, b"c/c"),
                    entry(),
                ]
                .concat(),
                "differ",
            ),
            (
                [pax(&[("path", b"c/b"), ("path", b"c/c")]), entry()].concat(),
                "repeats",
            ),
            (
                [pax(&[("path", b"c/b\0/../../x")]), entry()].concat(),
                "NUL",
            ),
            (
                [ext(EntryType::GNULongName, b"c/b\0../../x"), entry()].concat(),
                "NUL",
            ),
            (
                [ext(EntryType::XHeader, b"12 path=c\n"), entry()].concat(),
                "PAX record",
            ),
            (
                [ext(EntryType::XHeader, b"garbage"), entry()].concat(),
                "PAX record",
            ),
            (
                [
                    ext(EntryType::GNULongName, b"c/b"),
                    ext(EntryType::GNULongName, b"c/c"),
                    entry(),
                ]
                .concat(),
                "second",
            ),
            (
                [
                    pax(&[("path", b"c/b")]),
                    ext(EntryType::XGlobalHeader, b""),
                    entry(),
                ]
                .concat(),
                "between",
            ),
            (
                [entry(), pax(&[("path", b"c/b")])].concat(),
                "describes no entry",
            ),
        ];
        for (i, (tar, needle)) in cases.into_iter().enumerate() {
            let e = refused(&[tar, END.to_vec()].concat());
            assert!(
                e.contains(needle) && e.contains("header #"),
                "case {i}: {e}"
            );
        }
    }

    #[test]
    fn directories_with_data_are_refused() {
        // Helm reads no data for a directory, so these bytes would be entries to it but not to us.
        let hidden = [member(b"c/link", EntryType::Symlink, 0, b""), END.to_vec()].concat();
        let tar = [
            member(b"c/d/", EntryType::Directory, hidden.len() as u64, &hidden),
            file("c/Chart.yaml", b"x"),
            END.to_vec(),
        ]
        .concat();
        let e = refused(&tar);
        assert!(
            e.contains("\"c/d/\" (header #1 at byte 0)") && e.contains("directory"),
            "{e}"
        );
    }

    #[test]
    fn too_many_entries_are_refused() {
        let mut tar = dir("c/");
        for i in 1..MAX_ENTRIES {
            tar.extend(member(
                format!("c/{i}").as_bytes(),
                EntryType::Regular,
                0,
                b"",
            ));
        }
        tar.extend(END);
        validate(file_of(&gz(&tar)).path()).unwrap();
        tar.truncate(tar.len() - END.len());
        tar.extend(file("c/one-more", b""));
        tar.extend(END);
        let f = file_of(&gz(&tar));
        let e = format!("{:#}", validate(f.path()).unwrap_err());
        assert!(e.contains("more than 20000 entries"), "{e}");
    }
}
