//! `--dependency [ALIAS=]CHART[:VERSION]`: ad-hoc subcharts (chartify's `AdhocChartDependencies`,
//! helmfile's `dependencies:`, mumoshu/helm-x's `--adhoc-dependency`).
//!
//! Each one is fetched with helm into the `charts/` of a chart helm-x owns (the copy of the user's
//! chart, or the temporary chart of a kustomization or manifests dir) and declared in its
//! dependencies with the condition `ALIAS.enabled`. Helm enables a dependency whose condition key
//! is absent, so it is on by default, `--set ALIAS.enabled=false` turns it off and `--set ALIAS.x=…`
//! configures it, as for any subchart. Nothing is re-resolved: the chart's own dependencies and
//! its `Chart.lock` stay as they are, so no repository but the dependency's is asked.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use super::{chart, walk};
use crate::helm::Repos;
use crate::invocation::Invocation;
use crate::stream::{self, emit};

/// Where a dependency chart comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    /// `repo/chart`, through the user's `helm repo list`.
    Repo { repo: String, chart: String },
    /// `oci://registry/path/chart`.
    Oci(String),
    /// A chart dir or packaged chart on disk (starts with `.` or `/`, or `file://`).
    Local(PathBuf),
}

/// One `--dependency` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// As the user wrote it, for messages.
    spec: String,
    alias: Option<String>,
    location: Location,
    version: Option<String>,
}

impl std::fmt::Display for Dependency {
    /// As the user wrote it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.spec)
    }
}

/// Helm's rule for dependency aliases, which are also the values key.
fn valid_alias(alias: &str) -> bool {
    !alias.is_empty()
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl FromStr for Dependency {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let bad =
            |why: &str| format!("--dependency {spec:?}: {why} (expected [ALIAS=]CHART[:VERSION])");
        let (alias, rest) = match spec.split_once('=') {
            Some((alias, rest)) if !alias.contains(['/', ':']) => {
                if !valid_alias(alias) {
                    return Err(bad("the alias may hold only letters, digits, - and _"));
                }
                (Some(alias.to_string()), rest)
            }
            _ => (None, spec),
        };
        // The version follows the last `:` after the last `/` (not the scheme's or a port's).
        let tail = rest.rfind('/').map_or(0, |i| i + 1);
        let (chart, version) = match rest[tail..].rfind(':') {
            Some(i) => (&rest[..tail + i], Some(&rest[tail + i + 1..])),
            None => (rest, None),
        };
        if version == Some("") {
            return Err(bad("empty version after ':'"));
        }
        let location = if let Some(path) = chart.strip_prefix("file://") {
            Location::Local(PathBuf::from(path))
        } else if chart.starts_with("oci://") {
            Location::Oci(chart.to_string())
        } else if chart.starts_with(['.', '/']) {
            Location::Local(PathBuf::from(chart))
        } else {
            match chart.split_once('/') {
                Some((repo, name))
                    if !repo.is_empty() && !name.is_empty() && !name.contains('/') =>
                {
                    Location::Repo {
                        repo: repo.to_string(),
                        chart: name.to_string(),
                    }
                }
                _ => {
                    return Err(bad(
                        "CHART must be repo/chart, oci://…, or a path starting with ./, ../ or /",
                    ));
                }
            }
        };
        Ok(Self {
            spec: spec.to_string(),
            alias,
            location,
            version: version.map(str::to_string),
        })
    }
}

/// The file that declares a chart's dependencies: `requirements.yaml` for an `apiVersion: v1`
/// chart that has one (helm reads them from there), else `Chart.yaml`.
fn declaring_file(chart_dir: &Path, metadata: &Map<String, Value>) -> PathBuf {
    let requirements = chart_dir.join("requirements.yaml");
    if metadata.get("apiVersion").and_then(Value::as_str) == Some("v1") && requirements.is_file() {
        requirements
    } else {
        chart_dir.join("Chart.yaml")
    }
}

fn read_mapping(path: &Path) -> Result<Map<String, Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match stream::load(&text).with_context(|| format!("{}: invalid YAML", path.display()))? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        _ => bail!("{}: not a mapping", path.display()),
    }
}

/// Fetches every dependency into `chart_dir/charts` and declares it in the chart. `scratch` is a
/// private dir for downloads. `helm pull` and `helm repo list` get the user's helm globals
/// (repository and registry config, `--debug`…), not the main chart's credentials.
pub fn add(
    inv: &Invocation,
    chart_dir: &Path,
    scratch: &Path,
    dependencies: &[Dependency],
) -> Result<()> {
    let metadata = read_mapping(&chart_dir.join("Chart.yaml"))?;
    let file = declaring_file(chart_dir, &metadata);
    let mut declaring = if file.ends_with("Chart.yaml") {
        metadata
    } else {
        read_mapping(&file)?
    };
    let mut entries = match declaring.remove("dependencies") {
        Some(Value::Array(list)) => list,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => bail!("{}: dependencies is not a list", file.display()),
    };
    let charts = chart_dir.join("charts");
    std::fs::create_dir_all(&charts)
        .with_context(|| format!("cannot create {}", charts.display()))?;
    let mut repos = None;
    let taken = |entries: &[Value], key: &str, spec: &str| -> Result<()> {
        let clash = entries.iter().any(|e| {
            let named = e.get("alias").or_else(|| e.get("name"));
            named.and_then(Value::as_str) == Some(key)
        });
        if clash {
            bail!(
                "--dependency {spec}: the chart already has a dependency called {key:?}; give this \
                 one another alias (ALIAS=CHART)"
            );
        }
        Ok(())
    };
    for (n, dependency) in dependencies.iter().enumerate() {
        if let Some(alias) = &dependency.alias {
            taken(&entries, alias, &dependency.spec)?;
        }
        let download = scratch.join(format!("dependency-{n}"));
        let fetched = fetch(inv, dependency, &download, &charts, &mut repos)
            .with_context(|| format!("--dependency {}", dependency.spec))?;
        let key = dependency
            .alias
            .clone()
            .unwrap_or_else(|| fetched.name.clone());
        taken(&entries, &key, &dependency.spec)?;
        entries.push(json!({
            "name": fetched.name,
            "version": fetched.version,
            "repository": fetched.repository,
            "alias": key,
            "condition": format!("{key}.enabled"),
        }));
    }
    declaring.insert("dependencies".into(), Value::Array(entries));
    std::fs::write(&file, emit(&Value::Object(declaring)))
        .with_context(|| format!("cannot write {}", file.display()))
}

/// A dependency chart in `charts/`, as its own `Chart.yaml` names it.
struct Fetched {
    name: String,
    version: String,
    repository: String,
}

fn fetch(
    inv: &Invocation,
    dependency: &Dependency,
    download: &Path,
    charts: &Path,
    repos: &mut Option<Repos>,
) -> Result<Fetched> {
    let (reference, repository) = match &dependency.location {
        Location::Local(path) => return copy_local(path, dependency.version.as_deref(), charts),
        Location::Repo { repo, chart } => {
            let known = match repos {
                Some(known) => known,
                None => repos.insert(Repos::list(inv.helm()?, &inv.helm_args.globals())?),
            };
            let url = known.url(repo)?.to_string();
            (format!("{repo}/{chart}"), url)
        }
        Location::Oci(reference) => {
            let parent = reference
                .rsplit_once('/')
                .map_or(reference.as_str(), |(p, _)| p);
            (reference.clone(), parent.to_string())
        }
    };
    std::fs::create_dir(download)
        .with_context(|| format!("cannot create {}", download.display()))?;
    let mut args: Vec<OsString> = vec![
        "pull".into(),
        reference.as_str().into(),
        "--destination".into(),
        download.into(),
    ];
    if let Some(version) = &dependency.version {
        args.extend(["--version".into(), version.into()]);
    }
    args.extend(inv.helm_args.globals());
    let out = inv.helm()?.output_quiet(&args)?;
    if !out.status.success() {
        bail!(
            "helm pull {reference} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let archive = chart::single(download, Path::is_file)?;
    let text = chart::archive_metadata(&archive)
        .with_context(|| format!("{}: no Chart.yaml in the fetched chart", archive.display()))?;
    let (name, version) = name_and_version(&text, &archive)?;
    let to = charts.join(
        archive
            .file_name()
            .context("fetched chart has no file name")?,
    );
    std::fs::rename(&archive, &to)
        .or_else(|_| std::fs::copy(&archive, &to).map(|_| ()))
        .with_context(|| {
            format!(
                "cannot move {} into {}",
                archive.display(),
                charts.display()
            )
        })?;
    Ok(Fetched {
        name,
        version,
        repository,
    })
}

/// A local chart dir or packaged chart, copied into `charts/`.
fn copy_local(path: &Path, version: Option<&str>, charts: &Path) -> Result<Fetched> {
    let abs = path
        .canonicalize()
        .with_context(|| format!("cannot find the chart {}", path.display()))?;
    let text = if abs.is_dir() {
        std::fs::read_to_string(abs.join("Chart.yaml"))
            .with_context(|| format!("{} is not a chart dir (no Chart.yaml)", abs.display()))?
    } else {
        chart::archive_metadata(&abs)
            .with_context(|| format!("{} is not a packaged chart (no Chart.yaml)", abs.display()))?
    };
    let (name, actual) = name_and_version(&text, &abs)?;
    if let Some(wanted) = version
        && wanted != actual
    {
        bail!("{} is version {actual}, not {wanted}", abs.display());
    }
    let file_name = abs.file_name().context("the chart path has no file name")?;
    let to = charts.join(file_name);
    if to.exists() {
        bail!(
            "the chart's charts/ already holds {}",
            file_name.to_string_lossy()
        );
    }
    if abs.is_dir() {
        walk::copy_tree(&abs, &to)?;
    } else {
        std::fs::copy(&abs, &to).with_context(|| format!("cannot copy {}", abs.display()))?;
    }
    Ok(Fetched {
        name,
        version: actual,
        repository: format!("file://{}", abs.display()),
    })
}

fn name_and_version(chart_yaml: &str, from: &Path) -> Result<(String, String)> {
    let metadata = stream::load(chart_yaml)
        .with_context(|| format!("{}: Chart.yaml is invalid YAML", from.display()))?;
    let field = |key: &str| match &metadata[key] {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => bail!("{}: Chart.yaml has no {key}", from.display()),
    };
    Ok((field("name")?, field("version")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Dependency {
        spec.parse().unwrap()
    }

    #[test]
    fn forms() {
        let d = parse("log=stable/fluent-bit:1.2.3");
        assert_eq!(d.alias.as_deref(), Some("log"));
        assert_eq!(
            d.location,
            Location::Repo {
                repo: "stable".into(),
                chart: "fluent-bit".into()
            }
        );
        assert_eq!(d.version.as_deref(), Some("1.2.3"));
        let d = parse("oci://127.0.0.1:5000/charts/log:0.1.0");
        assert_eq!(
            d.location,
            Location::Oci("oci://127.0.0.1:5000/charts/log".into())
        );
        assert_eq!(d.version.as_deref(), Some("0.1.0"));
        let d = parse("oci://127.0.0.1:5000/charts/log");
        assert_eq!(
            d.location,
            Location::Oci("oci://127.0.0.1:5000/charts/log".into())
        );
        assert_eq!(d.version, None);
        let d = parse("./charts/log");
        assert_eq!(
            (d.alias, d.location),
            (None, Location::Local("./charts/log".into()))
        );
        let d = parse("x=file:///abs/log:2.0.0");
        assert_eq!(d.location, Location::Local("/abs/log".into()));
        assert_eq!(d.version.as_deref(), Some("2.0.0"));
    }

    #[test]
    fn bad_forms_say_why() {
        for (spec, why) in [
            ("justname", "CHART must be"),
            ("a/b/c", "CHART must be"),
            ("bad alias=r/c", "the alias may hold"),
            ("r/c:", "empty version"),
        ] {
            let err = spec.parse::<Dependency>().unwrap_err();
            assert!(err.contains(why) && err.contains(spec), "{spec}: {err}");
        }
    }

    #[test]
    fn local_dependency_is_declared_with_its_condition() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("app");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: app\nversion: 1.0.0\n",
        )
        .unwrap();
        let dep = dir.path().join("log");
        std::fs::create_dir_all(&dep).unwrap();
        std::fs::write(
            dep.join("Chart.yaml"),
            "apiVersion: v2\nname: log\nversion: 0.3.0\n",
        )
        .unwrap();
        let inv = Invocation::new(crate::helm::HelmArgs::default());
        let spec: Dependency = format!("logs={}:0.3.0", dep.display()).parse().unwrap();
        add(&inv, &chart, dir.path(), std::slice::from_ref(&spec)).unwrap();
        let meta = read_mapping(&chart.join("Chart.yaml")).unwrap();
        assert_eq!(
            meta["dependencies"],
            json!([{
                "name": "log",
                "version": "0.3.0",
                "repository": format!("file://{}", dep.canonicalize().unwrap().display()),
                "alias": "logs",
                "condition": "logs.enabled",
            }])
        );
        assert!(chart.join("charts/log/Chart.yaml").is_file());
        let again = add(&inv, &chart, dir.path(), &[spec]).unwrap_err();
        assert!(
            format!("{again:#}").contains("already has a dependency called \"logs\""),
            "{again:#}"
        );
        let wrong: Dependency = format!("{}:9.9.9", dep.display()).parse().unwrap();
        let err = add(&inv, &chart, dir.path(), &[wrong]).unwrap_err();
        assert!(
            format!("{err:#}").contains("is version 0.3.0, not 9.9.9"),
            "{err:#}"
        );
    }
}
