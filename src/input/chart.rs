//! Charts: bringing them into the work dir and rendering them once with `helm template`.
//!
//! Rendering keeps everything helm would install: hooks (with their annotations), the chart's and
//! subcharts' `crds/`, per-file `# Source:` paths, and the release notes, which `helm template` does not
//! print; helm-x renders them through a wrapper template so the installed release still shows them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use super::{Source, archive, walk};
use crate::helm::Helm;
use crate::stream::{self, Document};

const NOTES: &str = "templates/NOTES.txt";
const NOTES_DEFINE: &str = "templates/_helm-x-notes.tpl";
const NOTES_PROBE: &str = "templates/zz-helm-x-rendered-notes.yaml";
const NOTES_PROBE_KIND: &str = "HelmXRenderedNotes";

/// A chart rendered by helm, split back into the files of a temporary chart.
#[derive(Debug)]
pub struct Rendered {
    /// The chart's Chart.yaml.
    pub metadata: Map<String, Value>,
    /// Every rendered object, including hooks and CRDs, with its chart-relative file.
    pub documents: Vec<Document>,
    /// NOTES.txt rendered with the same values.
    pub notes: Option<String>,
}

/// Puts a writable copy of the chart in `workdir` and returns its directory.
///
/// `fetch_args` are the user's chart-location flags (`--version`, `--repo`, credentials) for `helm pull`.
pub fn materialize(
    source: &Source,
    helm: &Helm,
    fetch_args: &[OsString],
    workdir: &Path,
) -> Result<PathBuf> {
    let dest = workdir.join("source");
    std::fs::create_dir(&dest).with_context(|| format!("cannot create {}", dest.display()))?;
    match source {
        Source::ChartDir(dir) => {
            let name = dir
                .canonicalize()
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_owned()))
                .unwrap_or_else(|| "chart".into());
            let to = dest.join(name);
            walk::copy_tree(dir, &to)?;
            Ok(to)
        }
        Source::ChartArchive(tgz) => archive::extract_chart(tgz, &dest),
        Source::ChartRef(reference) => {
            let mut args: Vec<OsString> = vec![
                "pull".into(),
                reference.into(),
                "--untar".into(),
                "--destination".into(),
                dest.clone().into(),
            ];
            args.extend(fetch_args.iter().cloned());
            if !helm.run(&args)?.success() {
                bail!("cannot fetch chart {reference}");
            }
            single_dir(&dest).with_context(|| format!("after fetching {reference}"))
        }
        Source::Kustomization(_) | Source::Manifests(_) => {
            bail!("internal error: {source:?} is not a chart")
        }
    }
}

fn single_dir(dir: &Path) -> Result<PathBuf> {
    let mut dirs = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir());
    match (dirs.next(), dirs.next()) {
        (Some(d), None) => Ok(d),
        _ => bail!("expected exactly one chart directory in {}", dir.display()),
    }
}

/// Renders `chart` (a writable dir from [`materialize`]) with the user's render flags.
pub fn render(
    helm: &Helm,
    chart: &Path,
    release: &str,
    render_args: &[OsString],
) -> Result<Rendered> {
    let chart_yaml = chart.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml)
        .with_context(|| format!("cannot read {}", chart_yaml.display()))?;
    let metadata = match stream::load(&text)
        .with_context(|| format!("{}: invalid YAML", chart_yaml.display()))?
    {
        Value::Object(m) => m,
        _ => bail!("{}: not a mapping", chart_yaml.display()),
    };
    let has_notes = wrap_notes(chart)?;

    let mut args: Vec<OsString> = vec![
        "template".into(),
        release.into(),
        chart.into(),
        "--include-crds".into(),
    ];
    args.extend(render_args.iter().cloned());
    let out = helm.capture(&args)?;

    let mut notes = None;
    // A crds/ file with several documents is printed under one `# Source:` line, so a document
    // without one continues the file before it.
    let mut file = String::from("templates/helm-x-unsourced.yaml");
    let mut documents = Document::parse_stream(&out, "output of helm template", |raw| {
        if let Some((_, rel)) = raw.source.as_deref().and_then(|s| s.split_once('/')) {
            file = rel.to_string();
        }
        file.clone()
    })?;
    documents.retain(|doc| {
        if has_notes && doc.file == NOTES_PROBE && doc.kind() == NOTES_PROBE_KIND {
            notes = doc.value()["notes"].as_str().map(str::to_string);
            return false;
        }
        !doc.value().is_null()
    });
    Ok(Rendered {
        metadata,
        documents,
        notes,
    })
}

/// Replaces NOTES.txt by a define plus a probe manifest that carries the rendered notes as a string,
/// so `helm template` (which never prints notes) renders them with the same values and context.
fn wrap_notes(chart: &Path) -> Result<bool> {
    let path = chart.join(NOTES);
    if !path.is_file() {
        return Ok(false);
    }
    let notes = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let define = format!("{{{{- define \"helm-x.notes\" }}}}{notes}{{{{ end }}}}");
    let probe = format!(
        "apiVersion: helm-x.io/v1\nkind: {NOTES_PROBE_KIND}\nmetadata:\n  name: notes\nnotes: {{{{ include \"helm-x.notes\" . | toJson }}}}\n"
    );
    let write = |rel: &str, body: &str| {
        std::fs::write(chart.join(rel), body)
            .with_context(|| format!("cannot write {}", chart.join(rel).display()))
    };
    write(NOTES_DEFINE, &define)?;
    write(NOTES_PROBE, &probe)?;
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(true)
}
