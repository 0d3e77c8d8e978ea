//! Charts: bringing them into the work dir and rendering them once with `helm template`.
//!
//! Rendering keeps everything helm would install: hooks (with their annotations), the chart's and
//! subcharts' `crds/`, per-file `# Source:` paths, and the release notes, which `helm template` does not
//! print; helm-x renders them through a wrapper template so the installed release still shows them.
//!
//! `--dependency-update` is not left to `helm template`, which prints its progress ("Hang tight while
//! we grab the latest from your chart repositories...", "Saving 1 charts") on stdout, among the
//! manifests: when a dependency is missing from `charts/` (when helm would update), helm-x runs
//! `helm dependency update` on the copy first, its output going to stderr. The copy of a chart dir
//! brings the dirs its relative `file://` dependencies name along, in the same places relative to it.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use super::{Source, archive, walk};
use crate::helm::{Helm, HelmFlag, Verb, classify};
use crate::stream::{self, Stream};

const NOTES: &str = "templates/NOTES.txt";
const NOTES_DEFINE: &str = "templates/_helm-x-notes.tpl";
const NOTES_PROBE: &str = "templates/zz-helm-x-rendered-notes.yaml";
const NOTES_PROBE_KIND: &str = "HelmXRenderedNotes";
/// The most a packaged subchart's `Chart.yaml` may hold for helm-x to read its name.
const MAX_SUBCHART_METADATA: u64 = 1024 * 1024;
/// Entries of a packaged subchart helm-x looks through for its `Chart.yaml`.
const MAX_SUBCHART_ENTRIES: usize = 20_000;

/// A chart rendered by helm, split back into the files of a temporary chart.
#[derive(Debug)]
pub struct Rendered {
    /// The chart's Chart.yaml.
    pub metadata: Map<String, Value>,
    /// Every rendered object, including hooks and CRDs, with its chart-relative file, and
    /// NOTES.txt rendered with the same values.
    pub stream: Stream,
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
            let layout = file_dependencies(dir)?;
            let to = dest.join(layout.chart.as_deref().unwrap_or(Path::new(&name)));
            walk::copy_tree(dir, &to)?;
            for (from, rel) in &layout.dependencies {
                walk::copy_tree(from, &dest.join(rel)).with_context(|| {
                    format!(
                        "copying {}, a file:// dependency of the chart",
                        from.display()
                    )
                })?;
            }
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
            single(&dest, Path::is_dir).with_context(|| format!("after fetching {reference}"))
        }
        Source::Kustomization(_) | Source::Manifests(_) => {
            bail!("internal error: {source:?} is not a chart")
        }
    }
}

/// The one entry of `dir` that `wanted` accepts (what `helm pull` wrote there).
pub(super) fn single(dir: &Path, wanted: fn(&Path) -> bool) -> Result<PathBuf> {
    let mut found = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| wanted(p));
    match (found.next(), found.next()) {
        (Some(d), None) => Ok(d),
        _ => bail!("expected exactly one chart in {}", dir.display()),
    }
}

/// Where the copy of a chart dir and the dirs of its relative `file://` dependencies go, relative
/// to the copy's root, so that each dependency is where the chart's `Chart.yaml` says.
#[derive(Debug, Default, PartialEq)]
struct Layout {
    /// The chart's own place (`None`: directly under the root, as a chart without such dependencies).
    chart: Option<PathBuf>,
    /// Each dependency dir outside the chart, and its place.
    dependencies: Vec<(PathBuf, PathBuf)>,
}

/// The [`Layout`] for the chart in `dir`. Only needed when a dependency is missing from `charts/`,
/// so `helm dependency update` may run; dependencies that do not exist or contain the chart itself
/// are left to helm to report.
fn file_dependencies(dir: &Path) -> Result<Layout> {
    let Ok(text) = std::fs::read_to_string(dir.join("Chart.yaml")) else {
        return Ok(Layout::default());
    };
    let Ok(Value::Object(metadata)) = stream::load(&text) else {
        return Ok(Layout::default());
    };
    if missing_dependencies(dir, &metadata).is_empty() {
        return Ok(Layout::default());
    }
    let chart = clean(
        &std::path::absolute(dir).with_context(|| format!("cannot resolve {}", dir.display()))?,
    );
    let relative: Vec<PathBuf> = dependencies(&metadata)
        .filter_map(|dep| dep["repository"].as_str()?.strip_prefix("file://"))
        .map(|path| clean(Path::new(path)))
        .filter(|path| path.is_relative() && path.starts_with(".."))
        .collect();
    let ups = |p: &Path| {
        p.components()
            .take_while(|c| *c == Component::ParentDir)
            .count()
    };
    let Some(depth) = relative.iter().map(|p| ups(p)).max() else {
        return Ok(Layout::default());
    };
    let Some(root) = chart.ancestors().nth(depth) else {
        return Ok(Layout::default());
    };
    let mut layout = Layout {
        chart: chart.strip_prefix(root).ok().map(Path::to_path_buf),
        dependencies: Vec::new(),
    };
    for path in relative {
        let target = clean(&chart.join(&path));
        if chart.starts_with(&target) || target.starts_with(&chart) || !target.is_dir() {
            continue;
        }
        if let Ok(rel) = target.strip_prefix(root) {
            layout
                .dependencies
                .push((target.clone(), rel.to_path_buf()));
        }
    }
    Ok(layout)
}

/// `path` with `.` and `a/..` removed lexically, as Go's `filepath.Clean`, which is how helm joins
/// a `file://` path to the chart's.
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

/// The entries of `dependencies:` in Chart.yaml.
fn dependencies(metadata: &Map<String, Value>) -> impl Iterator<Item = &Value> {
    metadata
        .get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The dependencies of Chart.yaml that `charts/` does not hold, by name, as helm's
/// `CheckDependencies` decides whether `--dependency-update` updates.
fn missing_dependencies(chart: &Path, metadata: &Map<String, Value>) -> Vec<String> {
    let wanted: Vec<&str> = dependencies(metadata)
        .filter_map(|d| d["name"].as_str())
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let present = subchart_names(&chart.join("charts"));
    wanted
        .into_iter()
        .filter(|name| !present.contains(*name))
        .map(str::to_string)
        .collect()
}

/// The names of the charts helm loads from a `charts/` dir: each subdir's and each archive's
/// `Chart.yaml` name (entries starting with `.` or `_`, and `.prov` files, are not charts to helm).
fn subchart_names(dir: &Path) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            !name.starts_with(['.', '_']) && !name.ends_with(".prov")
        })
        .filter_map(|p| {
            let text = if p.is_dir() {
                std::fs::read_to_string(p.join("Chart.yaml")).ok()?
            } else {
                archive_metadata(&p)?
            };
            let metadata = stream::load(&text).ok()?;
            metadata["name"].as_str().map(str::to_string)
        })
        .collect()
}

/// The `Chart.yaml` of a packaged chart (`TOP/Chart.yaml`), read without extracting anything.
pub(super) fn archive_metadata(tgz: &Path) -> Option<String> {
    let file = std::fs::File::open(tgz).ok()?;
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(file));
    for entry in tar.entries().ok()?.take(MAX_SUBCHART_ENTRIES) {
        let entry = entry.ok()?;
        let path = entry.path().ok()?;
        let mut parts = path.components();
        let is_metadata = matches!(
            (parts.next(), parts.next(), parts.next()),
            (Some(Component::Normal(_)), Some(Component::Normal(f)), None) if f == "Chart.yaml"
        );
        if is_metadata {
            let mut text = String::new();
            entry
                .take(MAX_SUBCHART_METADATA)
                .read_to_string(&mut text)
                .ok()?;
            return Some(text);
        }
    }
    None
}

/// `render_args` without `--dependency-update[=BOOL]`, and whether it asked for an update (the last
/// one wins, as in pflag). Values of other flags are stepped over, so they are never taken for it.
fn split_dependency_update(render_args: &[OsString]) -> (Vec<OsString>, bool) {
    let mut rest = Vec::with_capacity(render_args.len());
    let mut update = false;
    let mut i = 0;
    while i < render_args.len() {
        let token = render_args[i].to_string_lossy();
        match classify(&token) {
            Some((f, _)) if f.long == "dependency-update" => {
                update = match token.split_once('=') {
                    None => true,
                    Some((_, v)) => matches!(v, "1" | "t" | "T" | "true" | "TRUE" | "True"),
                };
                i += 1;
                continue;
            }
            Some((f, false)) if f.takes_value(Verb::Template) => {
                let end = (i + 2).min(render_args.len());
                rest.extend_from_slice(&render_args[i..end]);
                i = end;
                continue;
            }
            _ => rest.push(render_args[i].clone()),
        }
        i += 1;
    }
    (rest, update)
}

/// Helm's global flags among `args` (repository and registry config, `--debug`, …), which
/// `helm dependency update` takes like every helm command.
fn global_flags(args: &[OsString]) -> Vec<OsString> {
    let global = |f: &HelmFlag| classify("--kube-context").is_some_and(|(g, _)| g.role == f.role);
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let flag = classify(&args[i].to_string_lossy());
        let n = match flag {
            Some((f, attached)) if f.takes_value(Verb::Template) && !attached => 2,
            _ => 1,
        };
        let end = (i + n).min(args.len());
        if flag.is_some_and(|(f, _)| global(&f)) {
            out.extend_from_slice(&args[i..end]);
        }
        i = end;
    }
    out
}

/// `helm dependency update CHART`, its progress printed on stderr: stdout is for manifests.
fn update_dependencies(helm: &Helm, chart: &Path, globals: Vec<OsString>) -> Result<()> {
    let mut args: Vec<OsString> = vec!["dependency".into(), "update".into(), chart.into()];
    args.extend(globals);
    let out = helm.output_quiet(&args)?;
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!(
            "`helm dependency update` of the chart failed ({}), for --dependency-update",
            out.status
        );
    }
    Ok(())
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
    let (render_args, dependency_update) = split_dependency_update(render_args);
    if dependency_update && !missing_dependencies(chart, &metadata).is_empty() {
        update_dependencies(helm, chart, global_flags(&render_args))?;
    }
    let has_notes = wrap_notes(chart)?;

    let mut args: Vec<OsString> = vec![
        "template".into(),
        release.into(),
        chart.into(),
        "--include-crds".into(),
    ];
    args.extend(render_args);
    let out = helm.capture(&args)?;

    // A crds/ file with several documents is printed under one `# Source:` line, so a document
    // without one continues the file before it.
    let mut file = String::from("templates/helm-x-unsourced.yaml");
    let mut stream = Stream::parse(&out, "output of helm template", |raw| {
        if let Some((_, rel)) = raw.source.as_deref().and_then(|s| s.split_once('/')) {
            file = rel.to_string();
        }
        file.clone()
    })?;
    let mut kept = Vec::with_capacity(stream.documents.len());
    for doc in stream.documents.drain(..) {
        if has_notes && doc.file == NOTES_PROBE && doc.kind() == NOTES_PROBE_KIND {
            stream.notes = doc.value()?["notes"].as_str().map(str::to_string);
        } else if !doc.is_null() {
            kept.push(doc);
        }
    }
    stream.documents = kept;
    Ok(Rendered { metadata, stream })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn write(dir: &Path, rel: &str, body: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    fn chart_yaml(name: &str, deps: &[(&str, &str)]) -> String {
        let mut text = format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n");
        if !deps.is_empty() {
            text.push_str("dependencies:\n");
        }
        for (dep, repo) in deps {
            text.push_str(&format!(
                "- name: {dep}\n  version: 0.1.0\n  repository: {repo}\n"
            ));
        }
        text
    }

    fn package(dir: &Path, file: &str, top: &str, chart_yaml: &str) {
        let out = std::fs::File::create(dir.join(file)).unwrap();
        let gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (path, body) in [
            (format!("{top}/values.yaml"), ""),
            (format!("{top}/Chart.yaml"), chart_yaml),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, path, body.as_bytes()).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
    }

    #[test]
    fn dependency_update_is_taken_out_of_the_render_flags() {
        let (rest, update) = split_dependency_update(&os(&[
            "--set",
            "--dependency-update",
            "--dependency-update",
            "-f",
            "v.yaml",
            "--debug",
        ]));
        assert!(update);
        assert_eq!(
            rest,
            os(&["--set", "--dependency-update", "-f", "v.yaml", "--debug"])
        );
        let (rest, update) =
            split_dependency_update(&os(&["--dependency-update", "--dependency-update=false"]));
        assert!(!update && rest.is_empty());
        assert!(split_dependency_update(&os(&["--dependency-update=true"])).1);
        assert!(!split_dependency_update(&os(&["--skip-crds"])).1);
        assert_eq!(
            global_flags(&os(&[
                "--set",
                "a=b",
                "--repository-config",
                "r.yaml",
                "--debug",
                "-f",
                "v.yaml",
                "--registry-config=c.json",
                "--kube-version",
                "1.30.0",
            ])),
            os(&[
                "--repository-config",
                "r.yaml",
                "--debug",
                "--registry-config=c.json"
            ])
        );
    }

    #[test]
    fn missing_dependencies_by_name_as_helm_checks_them() {
        let d = tempfile::tempdir().unwrap();
        let chart = d.path().join("app");
        let deps = [
            ("dir", "file://../dir"),
            ("packed", "https://127.0.0.1/charts"),
            ("gone", "oci://127.0.0.1/x"),
            ("hidden", "file://x"),
        ];
        write(&chart, "Chart.yaml", &chart_yaml("app", &deps));
        write(&chart, "charts/renamed/Chart.yaml", &chart_yaml("dir", &[]));
        write(
            &chart,
            "charts/_hidden/Chart.yaml",
            &chart_yaml("hidden", &[]),
        );
        write(&chart, "charts/notes.prov", "x");
        package(
            &chart.join("charts"),
            "whatever.tgz",
            "packed",
            &chart_yaml("packed", &[]),
        );
        let Value::Object(metadata) = stream::load(&chart_yaml("app", &deps)).unwrap() else {
            panic!("not a mapping");
        };
        assert_eq!(missing_dependencies(&chart, &metadata), ["gone", "hidden"]);
        let Value::Object(none) = stream::load(&chart_yaml("app", &[])).unwrap() else {
            panic!("not a mapping");
        };
        assert!(missing_dependencies(&chart, &none).is_empty());
    }

    #[test]
    fn relative_file_dependencies_keep_their_place_in_the_copy() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let deps = [
            ("sub", "file://../sub"),
            ("lib", "file://./../../libs/lib"),
            ("inside", "file://vendored/inside"),
            ("absent", "file://../absent"),
            ("parent", "file://.."),
            ("remote", "https://127.0.0.1/charts"),
        ];
        write(root, "charts/app/Chart.yaml", &chart_yaml("app", &deps));
        write(root, "charts/sub/Chart.yaml", &chart_yaml("sub", &[]));
        write(root, "libs/lib/Chart.yaml", &chart_yaml("lib", &[]));
        let app = root.join("charts/app");
        let layout = file_dependencies(&app).unwrap();
        let root = clean(&std::path::absolute(root).unwrap());
        assert_eq!(
            layout,
            Layout {
                chart: Some("charts/app".into()),
                dependencies: vec![
                    (root.join("charts/sub"), "charts/sub".into()),
                    (root.join("libs/lib"), "libs/lib".into()),
                ],
            }
        );
        // Every dependency present in charts/: nothing to update, nothing to copy.
        write(&app, "charts/sub/Chart.yaml", &chart_yaml("sub", &[]));
        for name in ["lib", "inside", "absent", "parent", "remote"] {
            write(
                &app,
                &format!("charts/{name}/Chart.yaml"),
                &chart_yaml(name, &[]),
            );
        }
        assert_eq!(file_dependencies(&app).unwrap(), Layout::default());
        assert_eq!(clean(Path::new("a/./b/../../../c")), Path::new("../c"));
        assert_eq!(clean(Path::new("/a/../../b")), Path::new("/b"));
    }
}
