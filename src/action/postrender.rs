//! `helm-x postrender SPEC`: run by helm as its post-renderer (never by users). Reads the rendered
//! stream on stdin, applies the patches of the spec and writes the stream back in the framing helm
//! splits it by: `# Source:` comments on Helm 3, the filename annotation (kept as it is) on Helm 4.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{ExitCode, Stdio};

use anyhow::{Context, Result, bail};

use crate::filter::{inject, namespace};
use crate::helm::postrender::{Chained, Spec, StreamFormat};
use crate::patch::{self, PatchContext};
use crate::stream::{Document, Stream};

/// The annotation by which Helm 4 splits a post-renderer's output back into the chart's files.
const FILENAME: &str = "postrenderer.helm.sh/postrender-filename";

/// Patches stdin to stdout; a failure is also written where the parent helm-x can print it.
pub fn run(spec_path: &Path) -> Result<ExitCode> {
    let spec = Spec::read(spec_path)?;
    match render(&spec) {
        Ok((output, warnings)) => {
            if !warnings.is_empty() {
                let text = warnings.join("\n") + "\n";
                std::fs::write(&spec.warnings_file, text)
                    .with_context(|| format!("cannot write {}", spec.warnings_file.display()))?;
            }
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(output.as_bytes())
                .and_then(|()| stdout.flush())
                .context("cannot write the patched manifests to helm")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let text = format!("{e:#}");
            // Best effort: the error still reaches helm's stderr below.
            let _ = std::fs::write(&spec.error_file, &text);
            eprintln!("Error: {text}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn render(spec: &Spec) -> Result<(String, Vec<String>)> {
    std::env::set_current_dir(&spec.cwd)
        .with_context(|| format!("cannot enter {}", spec.cwd.display()))?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read helm's rendered manifests (not UTF-8?)")?;
    let mut stream = Stream::parse(&input, "helm's rendered manifests", |raw| {
        raw.source.clone().unwrap_or_default()
    })?;
    if spec.format == StreamFormat::Annotations {
        for doc in &mut stream.documents {
            if let Some(file) = doc.annotation(FILENAME) {
                doc.file = file.to_string();
            }
        }
    }
    let job = &spec.job;
    let ctx = PatchContext {
        release_namespace: &job.namespace,
        mode: job.smp_mode,
        allow_missing_targets: job.allow_missing_targets || job.targets_checked,
        crds: &job.crds,
    };
    let applied = patch::apply(&mut stream, &job.patches, &ctx)?;
    if let Some(force) = &job.force_namespace {
        namespace::apply(&mut stream, force, &job.crds, &job.cluster_scoped)?;
    }
    inject::apply(&mut stream, &job.injectors)?;
    if spec.format == StreamFormat::Annotations {
        // A patch that replaced the annotations must not send the object to another file.
        for doc in &mut stream.documents {
            if !doc.file.is_empty() && doc.annotation(FILENAME).is_none() {
                let file = doc.file.clone();
                doc.set_annotation(FILENAME, &file)?;
            }
        }
    }
    let mut warnings = if job.targets_checked {
        Vec::new()
    } else {
        applied.warnings
    };
    let output = frame(&stream.documents, spec.format);
    let output = match &job.chain {
        Some(chain) => run_chained(chain, &output)?,
        None => output,
    };
    if let Some(options) = job.validate {
        // What helm installs: the user's post-renderer's output when there is one.
        let installed;
        let checked = match &job.chain {
            Some(chain) => {
                installed =
                    Stream::parse(&output, &format!("output of {}", chain.command), |raw| {
                        raw.source.clone().unwrap_or_default()
                    })?;
                &installed
            }
            None => &stream,
        };
        warnings.extend(crate::validate::check(checked, &job.crds, options)?);
    }
    Ok((output, warnings))
}

/// The stream as helm reads it back.
fn frame(documents: &[Document], format: StreamFormat) -> String {
    let mut out = String::new();
    for doc in documents {
        out.push_str("---\n");
        if format == StreamFormat::Sources && !doc.file.is_empty() {
            out.push_str("# Source: ");
            out.push_str(&doc.file);
            out.push('\n');
        }
        let text = doc.text();
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Runs the user's own post-renderer on helm-x's output, as helm would have run it.
fn run_chained(chain: &Chained, input: &str) -> Result<String> {
    let bin = which::which(&chain.command)
        .with_context(|| format!("cannot find the post-renderer {:?}", chain.command))?;
    let mut child = std::process::Command::new(&bin)
        .args(&chain.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start the post-renderer {}", bin.display()))?;
    let mut stdin = child.stdin.take().context("post-renderer stdin")?;
    let text = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child
        .wait_with_output()
        .with_context(|| format!("waiting for the post-renderer {}", bin.display()))?;
    // A post-renderer that exits without reading everything closes the pipe; its status says more.
    let _ = writer.join();
    if !out.status.success() {
        bail!(
            "the post-renderer {} failed ({}): {}",
            chain.command,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout)
        .with_context(|| format!("the post-renderer {} printed non-UTF-8", chain.command))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_for_each_helm() {
        let docs = Document::parse_stream(
            "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n",
            "t",
            |raw| raw.source.clone().unwrap_or_default(),
        )
        .unwrap();
        assert_eq!(
            frame(&docs, StreamFormat::Sources),
            "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n"
        );
        assert_eq!(
            frame(&docs, StreamFormat::Annotations),
            "---\nkind: A\n---\nkind: B\n"
        );
    }

    #[test]
    fn chained_post_renderer_sees_the_output() {
        let chain = Chained {
            command: "sed".into(),
            args: vec!["s/A/Z/".into()],
        };
        assert_eq!(run_chained(&chain, "kind: A\n").unwrap(), "kind: Z\n");
        let failing = Chained {
            command: "false".into(),
            args: vec![],
        };
        let err = run_chained(&failing, "x").unwrap_err().to_string();
        assert!(err.contains("the post-renderer false failed"), "{err}");
    }
}
