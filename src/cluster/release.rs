//! Reading helm's release records (`pkg/storage/driver`) without their
//! payload: only the labels are needed to tell whether a release exists.

use std::collections::BTreeMap;

/// Where helm keeps release records (`HELM_DRIVER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Driver {
    Secret,
    ConfigMap,
    /// Records live only inside one helm process, so none ever exist for us.
    Memory,
}

/// Parses `HELM_DRIVER` with helm's spellings; unset or empty means secrets.
pub(crate) fn parse_driver(value: Option<&str>) -> anyhow::Result<Driver> {
    match value.unwrap_or("") {
        "" | "secret" | "secrets" => Ok(Driver::Secret),
        "configmap" | "configmaps" => Ok(Driver::ConfigMap),
        "memory" => Ok(Driver::Memory),
        "sql" => anyhow::bail!(
            "HELM_DRIVER=sql keeps releases in a SQL database, which helm-x cannot read; use the secret or configmap driver"
        ),
        other => anyhow::bail!(
            "HELM_DRIVER=\"{other}\" is not a helm storage driver (secret, configmap, memory, sql)"
        ),
    }
}

/// Release names must be valid label values; checking keeps a stray `,` or `=`
/// from turning into extra label-selector terms.
pub(crate) fn check_release_name(release: &str) -> anyhow::Result<()> {
    let valid = !release.is_empty()
        && release.len() <= 63
        && release
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && release.starts_with(|c: char| c.is_ascii_alphanumeric())
        && release.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        anyhow::bail!(
            "invalid release name \"{release}\": helm release names are lower-case alphanumerics, '-' and '.'"
        )
    }
}

/// The label selector helm's drivers use for one release's records.
pub(crate) fn selector(release: &str) -> String {
    format!("owner=helm,name={release}")
}

/// Like `helm upgrade --install`: a release exists when it has a record and its
/// latest revision is not `uninstalled` (kept with `--keep-history`).
pub(crate) fn exists<'a>(records: impl IntoIterator<Item = &'a BTreeMap<String, String>>) -> bool {
    records
        .into_iter()
        .map(|labels| {
            let version = labels
                .get("version")
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            (version, labels.get("status").map(String::as_str))
        })
        .max_by_key(|(version, _)| *version)
        .is_some_and(|(_, status)| status != Some("uninstalled"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(version: &str, status: &str) -> BTreeMap<String, String> {
        [
            ("owner", "helm"),
            ("name", "rel"),
            ("version", version),
            ("status", status),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
    }

    #[test]
    fn drivers_use_helm_spellings() {
        assert_eq!(parse_driver(None).expect("default"), Driver::Secret);
        assert_eq!(parse_driver(Some("secrets")).expect("ok"), Driver::Secret);
        assert_eq!(
            parse_driver(Some("configmap")).expect("ok"),
            Driver::ConfigMap
        );
        assert_eq!(
            parse_driver(Some("configmaps")).expect("ok"),
            Driver::ConfigMap
        );
        assert_eq!(parse_driver(Some("memory")).expect("ok"), Driver::Memory);
        assert!(parse_driver(Some("sql")).is_err());
        assert!(parse_driver(Some("etcd")).is_err());
    }

    #[test]
    fn release_names_are_checked() {
        for ok in ["a", "my-rel", "rel.v2", "0abc"] {
            assert!(check_release_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Rel", "a,b", "a=b", "-a", "a-", &"x".repeat(64)] {
            assert!(check_release_name(bad).is_err(), "{bad}");
        }
        assert_eq!(selector("rel"), "owner=helm,name=rel");
    }

    #[test]
    fn latest_revision_decides() {
        assert!(!exists([]));
        assert!(exists([&labels("1", "deployed")]));
        assert!(!exists([&labels("1", "uninstalled")]));
        // Revision 10 sorts before 2 by name; the number must win.
        assert!(exists([
            &labels("10", "deployed"),
            &labels("2", "uninstalled")
        ]));
        assert!(!exists([
            &labels("2", "superseded"),
            &labels("3", "uninstalled")
        ]));
        assert!(exists([&labels("1", "failed")]));
    }
}
