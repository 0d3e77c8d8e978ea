//! The Argo CD config management plugin (`contrib/argocd`): Argo's build environment and the
//! Application's plugin parameters become the argv of `helm x template`.
//!
//! The argv goes through the same parser as a typed command line, so the flag table stays the one
//! place that knows helm's flags, and every value is attached (`--flag=value`) so that no value
//! can pose as a flag. The source dir is a repository, untrusted: every path must stay inside it.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::path::{Component, Path};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::chart::workdir::WorkDir;

/// Argo CD prefixes the Application's `plugin.env` names with this; ours follow it.
const ENV_PREFIX: &str = "ARGOCD_ENV_HELM_X_";

/// What a parameter holds and what it becomes.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// An array of files in the source dir, one flag each (env: comma-separated).
    Files(&'static str),
    /// A map of `--set` keys to values, one flag each (env: a JSON object of strings).
    Set(&'static str),
    /// YAML values text, written to a private file given as the last `--values` of its place.
    Values,
    /// One word, given as the flag's value.
    Word(&'static str),
    /// The input path inside the source dir (default `.`).
    Input,
    /// The release name instead of the Application's name.
    Release,
}

/// The parameters, as `contrib/argocd/plugin.yaml` announces them (a test keeps the two equal).
const PARAMETERS: &[(&str, Shape)] = &[
    ("values-files", Shape::Files("--values")),
    ("values", Shape::Values),
    ("set", Shape::Set("--set")),
    ("set-string", Shape::Set("--set-string")),
    (
        "strategic-merge-patches",
        Shape::Files("--strategic-merge-patch"),
    ),
    ("json-patches", Shape::Files("--json-patch")),
    ("patches", Shape::Files("--patch")),
    ("transformers", Shape::Files("--transformer")),
    ("input", Shape::Input),
    ("input-type", Shape::Word("--input-type")),
    ("force-namespace", Shape::Word("--force-namespace")),
    ("release-name", Shape::Release),
];

/// One entry of `ARGOCD_APP_PARAMETERS`, as Argo CD marshals it.
#[derive(Debug, Deserialize)]
struct Raw {
    name: String,
    string: Option<String>,
    array: Option<Vec<String>>,
    map: Option<BTreeMap<String, String>>,
}

/// A parameter's value, from the Application's parameters or its `plugin.env`.
#[derive(Debug)]
enum Given {
    String(String),
    Array(Vec<String>),
    Map(BTreeMap<String, String>),
}

/// The `helm x template` command line for one Argo CD manifest generation, and the private dir
/// holding the files it names (removed when this is dropped).
#[derive(Debug)]
pub struct Generate {
    /// The argv for `cli::run`, starting with `template`.
    pub argv: Vec<OsString>,
    _workdir: Option<WorkDir>,
}

impl Generate {
    /// Maps Argo CD's environment (`env`: every variable) for an app whose source is `source`.
    pub fn new(env: &BTreeMap<String, String>, source: &Path) -> Result<Self> {
        let given = parameters(env)?;
        let var = |key: &str| env.get(key).map(String::as_str).filter(|v| !v.is_empty());
        let mut release = var("ARGOCD_APP_NAME").map(str::to_string);
        let mut input = ".".to_string();
        let mut flags: Vec<String> = Vec::new();
        let mut workdir = None;
        for (name, shape, value) in given {
            let what = format!("plugin parameter {name:?}");
            match (shape, value) {
                (Shape::Files(flag), Given::Array(files)) => {
                    for file in files {
                        inside(source, &file, &what)?;
                        flags.push(format!("{flag}={file}"));
                    }
                }
                (Shape::Set(flag), Given::Map(map)) => {
                    for (key, value) in map {
                        flags.push(format!(
                            "{flag}={}={}",
                            set_key(&key, &what)?,
                            escape(&value)
                        ));
                    }
                }
                (Shape::Values, Given::String(text)) => {
                    // Given once at most, so one file.
                    let dir = workdir.insert(WorkDir::create(false)?);
                    let path = dir.path().join("values.yaml");
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    flags.push(format!("--values={}", path.display()));
                }
                (Shape::Word(flag), Given::String(word)) => flags.push(format!("{flag}={word}")),
                (Shape::Input, Given::String(path)) => {
                    inside(source, &path, &what)?;
                    // A positional starting with `-` would read as a flag.
                    input = if path.starts_with('-') {
                        format!("./{path}")
                    } else {
                        path
                    };
                }
                (Shape::Release, Given::String(name)) => release = Some(name),
                (shape, value) => bail!("{what} takes {}, not {}", wanted(shape), kind(&value)),
            }
        }
        let release = release
            .context("ARGOCD_APP_NAME is not set (is this run by Argo CD's plugin server?)")?;
        if release.is_empty() || release.starts_with('-') {
            bail!("{release:?} is not a release name");
        }
        let mut argv: Vec<String> = vec!["template".into(), release, input];
        if let Some(namespace) = var("ARGOCD_APP_NAMESPACE") {
            argv.push(format!("--namespace={namespace}"));
        }
        if let Some(version) = var("KUBE_VERSION") {
            argv.push(format!("--kube-version={version}"));
        }
        let api_versions = var("KUBE_API_VERSIONS").unwrap_or_default().split(',');
        argv.extend(
            api_versions
                .filter(|v| !v.is_empty())
                .map(|v| format!("--api-versions={v}")),
        );
        argv.extend(flags);
        Ok(Self {
            argv: argv.into_iter().map(OsString::from).collect(),
            _workdir: workdir,
        })
    }
}

fn known(name: &str) -> Option<(&'static str, Shape)> {
    PARAMETERS.iter().find(|(n, _)| *n == name).copied()
}

fn env_name(name: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        name.to_ascii_uppercase().replace('-', "_")
    )
}

/// The parameters in the Application's order, then those from `plugin.env` in the table's order.
/// An unknown name, a duplicate, or one given both ways is an error: silently ignoring a setting
/// would render something other than what the Application says.
fn parameters(env: &BTreeMap<String, String>) -> Result<Vec<(&'static str, Shape, Given)>> {
    let mut given = Vec::new();
    let json = env.get("ARGOCD_APP_PARAMETERS").map_or("", |s| s.trim());
    // Argo CD sends `null` when the Application sets no parameters.
    if !json.is_empty() && json != "null" {
        let raw: Vec<Raw> = serde_json::from_str(json)
            .context("ARGOCD_APP_PARAMETERS is not a JSON array of parameters")?;
        for p in raw {
            let value = match (p.string, p.array, p.map) {
                (Some(s), None, None) => Given::String(s),
                (None, Some(a), None) => Given::Array(a),
                (None, None, Some(m)) => Given::Map(m),
                (None, None, None) => bail!("plugin parameter {:?} has no value", p.name),
                _ => bail!(
                    "plugin parameter {:?} has more than one of string, array and map",
                    p.name
                ),
            };
            given.push((p.name, value));
        }
    }
    let unknown: Vec<&str> = given
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| known(n).is_none())
        .collect();
    if !unknown.is_empty() {
        bail!(
            "unknown plugin parameter {} (helm-x takes {})",
            quoted(&unknown),
            quoted(&PARAMETERS.iter().map(|(n, _)| *n).collect::<Vec<_>>())
        );
    }
    let mut seen = HashSet::new();
    if let Some((dup, _)) = given.iter().find(|(n, _)| !seen.insert(n.clone())) {
        bail!("plugin parameter {dup:?} is given twice");
    }
    let mut out: Vec<(&'static str, Shape, Given)> = given
        .into_iter()
        .filter_map(|(n, v)| known(&n).map(|(name, shape)| (name, shape, v)))
        .collect();
    let ours: Vec<String> = PARAMETERS.iter().map(|(n, _)| env_name(n)).collect();
    let unknown: Vec<&str> = env
        .keys()
        .filter(|k| k.starts_with(ENV_PREFIX) && !ours.contains(k))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        bail!(
            "unknown plugin env {} (helm-x takes {})",
            quoted(&unknown),
            ours.iter()
                .map(|k| k.strip_prefix("ARGOCD_ENV_").unwrap_or(k))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (name, shape) in PARAMETERS {
        let key = env_name(name);
        let Some(text) = env.get(&key) else { continue };
        if seen.contains(*name) {
            bail!("{name:?} is given both as a plugin parameter and as {key}");
        }
        let value = match shape {
            Shape::Files(_) => Given::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(String::from)
                    .collect(),
            ),
            Shape::Set(_) => Given::Map(
                serde_json::from_str(text)
                    .with_context(|| format!("{key} is not a JSON object of strings"))?,
            ),
            _ => Given::String(text.clone()),
        };
        out.push((name, *shape, value));
    }
    Ok(out)
}

/// Checks that `rel` names an existing path inside `source`, through no `..`, absolute path or
/// symlink out of it: the repository is untrusted, and the sidecar holds other apps' files.
fn inside(source: &Path, rel: &str, what: &str) -> Result<()> {
    let path = Path::new(rel);
    let lexical = !rel.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !lexical {
        bail!("{what}: {rel:?} must be a relative path inside the app's source dir, without `..`");
    }
    let root = source
        .canonicalize()
        .with_context(|| format!("cannot resolve the source dir {}", source.display()))?;
    let resolved = root
        .join(path)
        .canonicalize()
        .with_context(|| format!("{what}: cannot find {rel:?} in the app's source dir"))?;
    if !resolved.starts_with(&root) {
        bail!("{what}: {rel:?} leads out of the app's source dir (through a symlink)");
    }
    Ok(())
}

/// A `--set` key is helm's path syntax (`a.b[0]`), but `,` or `=` in it would start another
/// assignment.
fn set_key<'a>(key: &'a str, what: &str) -> Result<&'a str> {
    if key.is_empty() || key.contains([',', '=']) {
        bail!("{what}: {key:?} is not a --set key (one without `,` or `=`)");
    }
    Ok(key)
}

/// Escapes a `--set` value so helm reads it as one literal value: `,` would start another
/// assignment and a leading `{` a list.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn wanted(shape: Shape) -> &'static str {
    match shape {
        Shape::Files(_) => "an array",
        Shape::Set(_) => "a map",
        _ => "a string",
    }
}

fn kind(value: &Given) -> &'static str {
    match value {
        Given::String(_) => "a string",
        Given::Array(_) => "an array",
        Given::Map(_) => "a map",
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    use crate::testutil::{TempDir, write_in};

    /// A source dir with the files the tests name.
    fn source() -> TempDir {
        let dir = TempDir::new("argocd");
        for file in [
            "values.yaml",
            "prod.yaml",
            "p/smp.yaml",
            "p/json.yaml",
            "chart/Chart.yaml",
        ] {
            write_in(dir.path(), file, "{}\n");
        }
        dir
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = [("ARGOCD_APP_NAME", "web")]
            .into_iter()
            .chain(pairs.iter().copied())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert("PATH".into(), "/bin".into());
        env
    }

    fn argv(pairs: &[(&str, &str)]) -> Result<Vec<String>> {
        let dir = source();
        let generate = Generate::new(&env(pairs), dir.path())?;
        Ok(generate
            .argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect())
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        format!("{:#}", argv(pairs).unwrap_err())
    }

    #[test]
    fn build_environment_and_parameters_in_order() {
        let params = r#"[
            {"name": "values-files", "array": ["values.yaml", "prod.yaml"]},
            {"name": "json-patches", "array": ["p/json.yaml"]},
            {"name": "set", "map": {"image.tag": "v1", "a": "b"}},
            {"name": "strategic-merge-patches", "array": ["./p/smp.yaml"]},
            {"name": "input", "string": "chart"},
            {"name": "input-type", "string": "chart"}
        ]"#;
        let got = argv(&[
            ("ARGOCD_APP_NAMESPACE", "apps"),
            ("KUBE_VERSION", "1.29"),
            ("KUBE_API_VERSIONS", "apps/v1,x/v1"),
            ("ARGOCD_APP_PARAMETERS", params),
        ])
        .unwrap();
        assert_eq!(
            got,
            [
                "template",
                "web",
                "chart",
                "--namespace=apps",
                "--kube-version=1.29",
                "--api-versions=apps/v1",
                "--api-versions=x/v1",
                "--values=values.yaml",
                "--values=prod.yaml",
                "--json-patch=p/json.yaml",
                "--set=a=b",
                "--set=image.tag=v1",
                "--strategic-merge-patch=./p/smp.yaml",
                "--input-type=chart",
            ]
        );
    }

    #[test]
    fn nothing_set_renders_the_source_dir() {
        for params in [None, Some(""), Some("null"), Some("[]")] {
            let pairs: Vec<_> = params
                .map(|p| ("ARGOCD_APP_PARAMETERS", p))
                .into_iter()
                .collect();
            let mut pairs = pairs;
            pairs.extend([
                ("KUBE_VERSION", ""),
                ("KUBE_API_VERSIONS", ""),
                ("ARGOCD_APP_NAMESPACE", ""),
            ]);
            assert_eq!(
                argv(&pairs).unwrap(),
                ["template", "web", "."],
                "{params:?}"
            );
        }
    }

    #[test]
    fn env_alternatives_follow_the_parameters() {
        let got = argv(&[
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name": "patches", "array": ["p/smp.yaml"]}]"#,
            ),
            ("ARGOCD_ENV_HELM_X_VALUES_FILES", "values.yaml, prod.yaml"),
            ("ARGOCD_ENV_HELM_X_SET_STRING", r#"{"tag": "1.10"}"#),
            ("ARGOCD_ENV_HELM_X_RELEASE_NAME", "other"),
            ("ARGOCD_ENV_UNRELATED", "x"),
        ])
        .unwrap();
        assert_eq!(
            got,
            [
                "template",
                "other",
                ".",
                "--patch=p/smp.yaml",
                "--values=values.yaml",
                "--values=prod.yaml",
                "--set-string=tag=1.10",
            ]
        );
    }

    #[test]
    fn set_values_are_literal() {
        let params = r#"[{"name": "set-string", "map": {"list": "{a,b}", "s": "x,y=1\\"}}]"#;
        let got = argv(&[("ARGOCD_APP_PARAMETERS", params)]).unwrap();
        assert_eq!(
            got[3..],
            [r"--set-string=list=\{a\,b\}", r"--set-string=s=x\,y=1\\"]
        );
        let params = r#"[{"name": "set", "map": {"a,b": "1"}}]"#;
        assert!(
            error(&[("ARGOCD_APP_PARAMETERS", params)]).contains(r#""a,b" is not a --set key"#)
        );
    }

    #[test]
    fn values_text_goes_to_a_private_file_removed_afterwards() {
        let dir = source();
        let params = r#"[{"name": "values", "string": "replicas: 3\n"}]"#;
        let generate =
            Generate::new(&env(&[("ARGOCD_APP_PARAMETERS", params)]), dir.path()).unwrap();
        let flag = generate.argv[3].to_string_lossy().into_owned();
        let file = PathBuf::from(flag.strip_prefix("--values=").unwrap());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "replicas: 3\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let parent = std::fs::metadata(file.parent().unwrap()).unwrap();
            assert_eq!(parent.permissions().mode() & 0o777, 0o700);
        }
        drop(generate);
        assert!(!file.exists());
    }

    #[test]
    fn unknown_names_are_errors_naming_them() {
        let params =
            r#"[{"name": "valuesFiles", "array": []}, {"name": "extra-args", "string": "x"}]"#;
        let e = error(&[("ARGOCD_APP_PARAMETERS", params)]);
        assert!(
            e.contains(r#"unknown plugin parameter "valuesFiles", "extra-args""#),
            "{e}"
        );
        assert!(e.contains(r#""values-files""#), "{e}");
        let e = error(&[("ARGOCD_ENV_HELM_X_VALUE_FILES", "v.yaml")]);
        assert!(
            e.contains(r#"unknown plugin env "ARGOCD_ENV_HELM_X_VALUE_FILES""#),
            "{e}"
        );
    }

    #[test]
    fn paths_stay_in_the_source_dir() {
        for path in [
            "../values.yaml",
            "/etc/passwd",
            "p/../values.yaml",
            "",
            "missing.yaml",
        ] {
            let params = format!(r#"[{{"name": "values-files", "array": [{path:?}]}}]"#);
            let e = error(&[("ARGOCD_APP_PARAMETERS", &params)]);
            assert!(e.contains("values-files"), "{path}: {e}");
        }
        let params = r#"[{"name": "input", "string": "../.."}]"#;
        assert!(error(&[("ARGOCD_APP_PARAMETERS", params)]).contains("without `..`"));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_source_dir_are_refused() {
        let outside = TempDir::new("argocd-outside");
        let secret = outside.write("secret.yaml", "{}\n");
        let dir = source();
        std::os::unix::fs::symlink(&secret, dir.path().join("link.yaml")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("values.yaml"), dir.path().join("in.yaml"))
            .unwrap();
        let run = |file: &str| {
            let params = format!(r#"[{{"name": "strategic-merge-patches", "array": [{file:?}]}}]"#);
            Generate::new(&env(&[("ARGOCD_APP_PARAMETERS", &params)]), dir.path())
        };
        let e = format!("{:#}", run("link.yaml").unwrap_err());
        assert!(e.contains("leads out of the app's source dir"), "{e}");
        run("in.yaml").unwrap();
    }

    #[test]
    fn malformed_parameters_are_errors() {
        let cases = [
            ("{", "not a JSON array"),
            (r#"{"name": "values"}"#, "not a JSON array"),
            (r#"[{"name": "set", "map": {"a": 1}}]"#, "not a JSON array"),
            (r#"[{"name": "values"}]"#, r#""values" has no value"#),
            (
                r#"[{"name": "values", "string": "", "array": []}]"#,
                "more than one",
            ),
            (
                r#"[{"name": "values-files", "string": "v.yaml"}]"#,
                "takes an array, not a string",
            ),
            (
                r#"[{"name": "set", "array": ["a=b"]}]"#,
                "takes a map, not an array",
            ),
            (
                r#"[{"name": "input", "string": "."}, {"name": "input", "string": "."}]"#,
                "given twice",
            ),
        ];
        for (params, want) in cases {
            let e = error(&[("ARGOCD_APP_PARAMETERS", params)]);
            assert!(e.contains(want), "{params}: {e}");
        }
        let e = error(&[
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name": "input", "string": "."}]"#,
            ),
            ("ARGOCD_ENV_HELM_X_INPUT", "."),
        ]);
        assert!(
            e.contains("both as a plugin parameter and as ARGOCD_ENV_HELM_X_INPUT"),
            "{e}"
        );
        let e = error(&[("ARGOCD_ENV_HELM_X_SET", "a=b")]);
        assert!(
            e.contains("ARGOCD_ENV_HELM_X_SET is not a JSON object of strings"),
            "{e}"
        );
    }

    #[test]
    fn a_release_is_needed() {
        let dir = source();
        let e = Generate::new(&BTreeMap::new(), dir.path()).unwrap_err();
        assert!(e.to_string().contains("ARGOCD_APP_NAME is not set"), "{e}");
        let e = error(&[("ARGOCD_ENV_HELM_X_RELEASE_NAME", "--debug")]);
        assert!(e.contains("is not a release name"), "{e}");
    }

    /// The plugin file Argo CD reads announces exactly the parameters this module takes.
    #[test]
    fn plugin_yaml_announces_the_parameters() {
        let text = include_str!("../../contrib/argocd/plugin.yaml");
        let plugin = crate::stream::load(text).unwrap();
        assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
        assert_eq!(plugin["kind"], "ConfigManagementPlugin");
        assert_eq!(plugin["metadata"]["name"], "helm-x");
        let spec = &plugin["spec"];
        assert_eq!(
            spec["generate"]["command"],
            serde_json::json!(["helm-x", "argocd", "generate"])
        );
        assert!(spec["discover"]["find"]["glob"].is_string());
        let announced: Vec<(&str, &str)> = spec["parameters"]["static"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let collection = p["collectionType"].as_str().unwrap_or("string");
                (p["name"].as_str().unwrap(), collection)
            })
            .collect();
        let ours: Vec<(&str, &str)> = PARAMETERS
            .iter()
            .map(|(name, shape)| {
                let collection = match shape {
                    Shape::Files(_) => "array",
                    Shape::Set(_) => "map",
                    _ => "string",
                };
                (*name, collection)
            })
            .collect();
        assert_eq!(announced, ours);
    }
}
