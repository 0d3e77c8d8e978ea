//! The user's chart repositories, as `helm repo list` knows them (`--dependency repo/chart`,
//! `helm x export flux` of a `repo/chart`).

use std::ffi::OsString;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::Helm;

/// `(name, url)` of each repository in `helm repo list`, in its order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repos(Vec<(String, String)>);

impl Repos {
    /// Asks `helm repo list -o json` with the user's helm globals (repository config…); no
    /// repositories configured is an empty list.
    pub fn list(helm: &Helm, globals: &[OsString]) -> Result<Self> {
        let mut args: Vec<OsString> = vec![
            "repo".into(),
            "list".into(),
            "--output".into(),
            "json".into(),
        ];
        args.extend(globals.iter().cloned());
        let out = helm.output_quiet(&args)?;
        if !out.status.success() {
            // helm says "no repositories to show" with a failure when there are none.
            return Ok(Self::default());
        }
        let list: Value =
            serde_json::from_slice(&out.stdout).context("helm repo list printed invalid JSON")?;
        Ok(Self::parse(&list))
    }

    fn parse(list: &Value) -> Self {
        Self(
            list.as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    Some((
                        r["name"].as_str()?.to_string(),
                        r["url"].as_str()?.to_string(),
                    ))
                })
                .collect(),
        )
    }

    /// The URL of the repository called `name`; an unknown name is an error naming the known ones.
    pub fn url(&self, name: &str) -> Result<&str> {
        if let Some((_, url)) = self.0.iter().find(|(n, _)| n == name) {
            return Ok(url);
        }
        let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
        bail!(
            "no chart repository {name:?} in `helm repo list` ({}); add it with `helm repo add \
             {name} URL`",
            if names.is_empty() {
                "no repositories".to_string()
            } else {
                format!("known: {}", names.join(", "))
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_by_name_and_unknown_names_listed() {
        let repos = Repos::parse(&json!([
            {"name": "local", "url": "http://127.0.0.1:1/"},
            {"name": "bitnami", "url": "https://charts.bitnami.com/bitnami"},
            {"url": "no name"},
        ]));
        assert_eq!(repos.url("local").unwrap(), "http://127.0.0.1:1/");
        let err = repos.url("stable").unwrap_err().to_string();
        assert_eq!(
            err,
            "no chart repository \"stable\" in `helm repo list` (known: local, bitnami); add it \
             with `helm repo add stable URL`"
        );
        let none = Repos::default().url("x").unwrap_err().to_string();
        assert!(none.contains("(no repositories)"), "{none}");
    }
}
