//! `--inject 'CMD ARG… FILE …'`: an external injector (istioctl kube-inject, linkerd inject…) run
//! on the objects, as mumoshu/helm-x ran them.
//!
//! The command line is split into words once, by shell-words rules but with no shell; each word
//! that is exactly `FILE` becomes the path of a file holding the objects. The injector runs once per
//! source file of the stream (a chart template, a manifest file), so every object it prints stays
//! in the file it came from, and its stdout replaces that file's objects. Injectors run in the order
//! given, after the patches and `--force-namespace`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::chart::workdir::WorkDir;
use crate::process;
use crate::stream::{Document, Stream};

/// The word an injector's command line names the objects' file by.
const PLACEHOLDER: &str = "FILE";

/// One `--inject` command line, split into words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Injector {
    words: Vec<String>,
}

impl std::str::FromStr for Injector {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, String> {
        let words = shell_words::split(line)
            .map_err(|e| format!("--inject {line:?}: cannot split into words: {e}"))?;
        if words.is_empty() {
            return Err("--inject needs a command".to_string());
        }
        if !words.iter().skip(1).any(|w| w == PLACEHOLDER) {
            return Err(format!(
                "--inject {line:?}: no {PLACEHOLDER} argument, where the objects' file goes"
            ));
        }
        Ok(Self { words })
    }
}

impl std::fmt::Display for Injector {
    /// The command line, quoted as a shell would need it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&shell_words::join(&self.words))
    }
}

impl Injector {
    /// The injector's executable, looked up once for all the files it runs on.
    fn locate(&self) -> Result<PathBuf> {
        which::which(&self.words[0])
            .with_context(|| format!("cannot find the injector {:?}", self.words[0]))
    }

    /// Runs the injector `bin` on `text` (written to `file`) and returns what it printed.
    fn run(&self, bin: &Path, text: &str, file: &Path) -> Result<String> {
        std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))?;
        let args: Vec<OsString> = self.words[1..]
            .iter()
            .map(|w| match w.as_str() {
                PLACEHOLDER => file.as_os_str().to_owned(),
                _ => OsString::from(w),
            })
            .collect();
        let out = process::output_quiet(bin, &args)?;
        if !out.status.success() {
            bail!(
                "the injector `{}` failed ({}): {}",
                self.words.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        String::from_utf8(out.stdout).with_context(|| {
            format!(
                "the injector `{}` printed output that is not UTF-8",
                self.words.join(" ")
            )
        })
    }
}

/// Runs every injector over the stream, one source file at a time, in stream order.
pub fn apply(stream: &mut Stream, injectors: &[Injector]) -> Result<()> {
    if injectors.is_empty() || stream.documents.is_empty() {
        return Ok(());
    }
    let scratch = WorkDir::create(false)?;
    for (n, injector) in injectors.iter().enumerate() {
        let file = scratch.path().join(format!("objects-{n}.yaml"));
        let bin = injector.locate()?;
        let mut out: Vec<Document> = Vec::with_capacity(stream.documents.len());
        for group in groups(&stream.documents) {
            let source = group[0].file.clone();
            let mut text = String::new();
            for doc in group {
                text.push_str("---\n");
                let body = doc.text();
                text.push_str(&body);
                if !body.ends_with('\n') {
                    text.push('\n');
                }
            }
            let label = format!(
                "output of the injector `{}` for {}",
                injector.words.join(" "),
                if source.is_empty() {
                    "the objects"
                } else {
                    &source
                }
            );
            let printed = injector.run(&bin, &text, &file)?;
            let injected = Document::parse_stream(&printed, &label, |_| source.clone())?;
            out.extend(injected.into_iter().filter(|d| !d.is_null()));
        }
        stream.documents = out;
    }
    Ok(())
}

/// Consecutive documents of one source file.
fn groups(documents: &[Document]) -> impl Iterator<Item = &[Document]> {
    documents.chunk_by(|a, b| a.file == b.file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("inject.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn stream() -> Stream {
        Stream::parse(
            "---\n# Source: c/templates/a.yaml\nkind: A\nmetadata:\n  name: a\n---\n# Source: c/templates/a.yaml\nkind: A\nmetadata:\n  name: b\n---\n# Source: c/templates/b.yaml\nkind: B\nmetadata:\n  name: c\n",
            "t",
            |raw| raw.source.clone().unwrap_or_default(),
        )
        .unwrap()
    }

    #[test]
    fn command_lines_split_once_without_a_shell() {
        let i: Injector = "istioctl kube-inject -f FILE --meshConfigFile 'my mesh.yaml'"
            .parse()
            .unwrap();
        assert_eq!(
            i.words,
            [
                "istioctl",
                "kube-inject",
                "-f",
                "FILE",
                "--meshConfigFile",
                "my mesh.yaml"
            ]
        );
        let err = "istioctl kube-inject -f x.yaml"
            .parse::<Injector>()
            .unwrap_err();
        assert!(err.contains("no FILE argument"), "{err}");
        let err = "a 'unterminated FILE".parse::<Injector>().unwrap_err();
        assert!(err.contains("cannot split"), "{err}");
    }

    #[test]
    fn each_source_file_is_injected_and_keeps_its_objects() {
        let dir = tempfile::tempdir().unwrap();
        let sh = script(
            dir.path(),
            "sed 's/^metadata:$/metadata:\\n  annotations:\\n    injected: \"yes\"/' \"$1\"; echo \"# $(grep -c '^kind' \"$1\")\" >&2",
        );
        let injector: Injector = format!("{} FILE", sh.display()).parse().unwrap();
        let mut s = stream();
        apply(&mut s, std::slice::from_ref(&injector)).unwrap();
        let seen: Vec<(String, String, Option<String>)> = s
            .documents
            .iter()
            .map(|d| {
                let injected = d.annotation("injected").map(str::to_string);
                (d.file.clone(), d.name().to_string(), injected)
            })
            .collect();
        let yes = Some("yes".to_string());
        assert_eq!(
            seen,
            [
                ("c/templates/a.yaml".into(), "a".into(), yes.clone()),
                ("c/templates/a.yaml".into(), "b".into(), yes.clone()),
                ("c/templates/b.yaml".into(), "c".into(), yes),
            ]
        );
    }

    #[test]
    fn a_failing_injector_is_reported_with_its_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let sh = script(dir.path(), "echo 'no mesh here' >&2; exit 3");
        let injector: Injector = format!("{} FILE", sh.display()).parse().unwrap();
        let err = apply(&mut stream(), &[injector]).unwrap_err().to_string();
        assert!(
            err.contains("failed") && err.contains("no mesh here"),
            "{err}"
        );
        let missing: Injector = "no-such-injector-x FILE".parse().unwrap();
        let err = apply(&mut stream(), &[missing]).unwrap_err().to_string();
        assert!(err.contains("cannot find the injector"), "{err}");
    }
}
