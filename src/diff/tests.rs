//! End-to-end tests of `parse_manifests` → `compare` → `render` against the fixtures and golden
//! outputs in `testdata/diff/<case>/` (regenerate with `HELM_X_REGENERATE=1`).

use std::path::PathBuf;

use super::*;

fn case_path(case: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/diff")
        .join(case)
        .join(file)
}

fn read(case: &str, file: &str) -> String {
    let path = case_path(case, file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn opts(output: OutputFormat) -> Options {
    Options {
        output,
        release_namespace: "default".into(),
        ..Options::default()
    }
}

fn objects(case: &str, side: &str) -> Vec<Object> {
    parse_manifests(&read(case, side), "default").unwrap()
}

fn run(case: &str, opts: &Options) -> Report {
    compare(&objects(case, "old.yaml"), &objects(case, "new.yaml"), opts)
}

fn assert_golden(case: &str, file: &str, opts: &Options) {
    let actual = run(case, opts).render(opts);
    if std::env::var_os("HELM_X_REGENERATE").is_some_and(|v| v == "1") {
        std::fs::write(case_path(case, file), &actual).unwrap();
        return;
    }
    assert_eq!(actual, read(case, file), "golden {case}/{file}");
}

const CASES: [&str; 3] = ["basic", "secrets", "list"];

#[test]
fn golden_outputs() {
    for case in CASES {
        assert_golden(case, "diff.txt", &opts(OutputFormat::Diff));
        assert_golden(case, "simple.txt", &opts(OutputFormat::Simple));
        assert_golden(case, "json.txt", &opts(OutputFormat::Json));
    }
    let context = Options {
        context: Some(1),
        ..opts(OutputFormat::Diff)
    };
    assert_golden("basic", "diff-context1.txt", &context);
    let color = |output| Options {
        color: true,
        ..opts(output)
    };
    assert_golden("basic", "diff-color.txt", &color(OutputFormat::Diff));
    assert_golden("basic", "simple-color.txt", &color(OutputFormat::Simple));
    let tests = Options {
        include_tests: true,
        ..opts(OutputFormat::Simple)
    };
    assert_golden("basic", "simple-include-tests.txt", &tests);
    let show = Options {
        show_secrets: true,
        ..opts(OutputFormat::Diff)
    };
    assert_golden("secrets", "diff-show-secrets.txt", &show);
}

fn summary(report: &Report) -> Vec<(ChangeType, String)> {
    report.changes.iter().map(|c| (c.change, c.key())).collect()
}

#[test]
fn added_removed_changed_and_kept() {
    let report = run("basic", &opts(OutputFormat::Diff));
    assert_eq!(
        summary(&report),
        [
            (ChangeType::Modify, "default, web, Deployment (apps)".into()),
            (
                ChangeType::Remove,
                "default, old-config, ConfigMap (v1)".into()
            ),
            (ChangeType::Add, "other, new-config, ConfigMap (v1)".into()),
        ]
    );
    assert!(report.has_changes());
}

#[test]
fn test_hooks_only_with_include_tests() {
    let with = Options {
        include_tests: true,
        ..opts(OutputFormat::Diff)
    };
    let keys = summary(&run("basic", &with));
    assert!(keys.contains(&(
        ChangeType::Modify,
        "default, web-test-connection, Pod (v1)".into()
    )));
}

#[test]
fn key_order_and_source_alone_are_no_change() {
    let old = parse_manifests(
        "# Source: a/templates/x.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: '1', b: '2'}\ndata: {k: v, j: w}\n",
        "ns",
    )
    .unwrap();
    let new = parse_manifests(
        "# Source: a/templates/moved.yaml\ndata: {j: w, k: v}\nmetadata:\n  labels: {b: '2', a: '1'}\n  name: x\nkind: ConfigMap\napiVersion: v1\n",
        "ns",
    )
    .unwrap();
    let report = compare(&old, &new, &opts(OutputFormat::Diff));
    assert!(!report.has_changes());
    assert_eq!(report.render(&opts(OutputFormat::Diff)), "");
}

#[test]
fn unchanged_release_has_no_changes() {
    for case in CASES {
        let old = objects(case, "old.yaml");
        for output in [OutputFormat::Diff, OutputFormat::Simple, OutputFormat::Json] {
            let report = compare(&old, &old, &opts(output));
            assert!(!report.has_changes(), "{case}");
        }
    }
}

#[test]
fn first_of_duplicate_keys_wins() {
    let old = parse_manifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: a}\n",
        "ns",
    )
    .unwrap();
    let new = parse_manifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: b}\n",
        "ns",
    )
    .unwrap();
    assert!(!compare(&old, &new, &opts(OutputFormat::Diff)).has_changes());
}

/// Every Secret value of every fixture, as written and decoded.
fn secret_values() -> Vec<String> {
    let mut values = Vec::new();
    for case in CASES {
        for side in ["old.yaml", "new.yaml"] {
            for object in objects(case, side).iter().filter(|o| o.is_secret()) {
                for field in ["data", "stringData"] {
                    let Some(map) = object.value.get(field).and_then(|v| v.as_object()) else {
                        continue;
                    };
                    for value in map.values().filter_map(|v| v.as_str()) {
                        values.push(value.to_string());
                        if let Some(bytes) = crate::encoding::decode_base64(value) {
                            values.extend(String::from_utf8(bytes));
                        }
                    }
                }
            }
        }
    }
    values
}

#[test]
fn secrets_never_leak_unless_shown() {
    let values = secret_values();
    assert!(values.len() > 10 && values.iter().all(|v| v.len() >= 10));
    for case in CASES {
        for output in [OutputFormat::Diff, OutputFormat::Simple, OutputFormat::Json] {
            for (context, color, include_tests) in [
                (None, false, false),
                (Some(0), true, true),
                (Some(3), false, true),
            ] {
                let opts = Options {
                    context,
                    color,
                    include_tests,
                    ..opts(output)
                };
                let text = run(case, &opts).render(&opts);
                let debug = format!("{:?}", run(case, &opts));
                for value in &values {
                    assert!(
                        !text.contains(value.as_str()),
                        "{case}: {value} leaked:\n{text}"
                    );
                    assert!(!debug.contains(value.as_str()), "{case}: {value} in Debug");
                }
            }
        }
    }
    let shown = Options {
        show_secrets: true,
        ..opts(OutputFormat::Diff)
    };
    let text = run("secrets", &shown).render(&shown);
    assert!(text.contains("s3cr3t-new-password!") && text.contains("czNjcjN0LW9sZC1wYXNzd29yZA=="));
}

#[test]
fn stringdata_equal_to_data_is_unchanged() {
    let keys = summary(&run("secrets", &opts(OutputFormat::Diff)));
    assert!(!keys.iter().any(|(_, k)| k.contains(" tls,")), "{keys:?}");
}

#[test]
fn output_is_deterministic_whatever_the_input_order() {
    for case in CASES {
        let (mut old, mut new) = (objects(case, "old.yaml"), objects(case, "new.yaml"));
        let opts = opts(OutputFormat::Diff);
        let first = compare(&old, &new, &opts).render(&opts);
        old.reverse();
        new.reverse();
        assert_eq!(compare(&old, &new, &opts).render(&opts), first, "{case}");
        assert_eq!(compare(&old, &new, &opts).render(&opts), first, "{case}");
    }
}

#[test]
fn odd_inputs_do_not_panic() {
    let texts = [
        "",
        "---\n---\n",
        "apiVersion: v1\nkind: Secret\nmetadata: 7\ndata: [1]\n",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: 5}\nstringData: 3\n",
        "apiVersion: v1\nkind: List\nitems: [1, null, {apiVersion: v1, kind: A}]\n",
        "apiVersion: v1\nkind: ConfigMapList\nitems: 5\n",
        "apiVersion: v1\nkind: X\nmetadata: {name: [1], namespace: {a: b}, annotations: [x]}\n",
        "apiVersion: v1\nkind: X\nmetadata: {name: 'a\n\n\n b'}\ndata: {'': '', '0': 1, '00': 2, '9999999999999999999999': 3}\n",
    ];
    let parsed: Vec<Vec<Object>> = texts
        .iter()
        .filter_map(|t| parse_manifests(t, "ns").ok())
        .collect();
    for old in &parsed {
        for new in &parsed {
            for output in [OutputFormat::Diff, OutputFormat::Simple, OutputFormat::Json] {
                let opts = Options {
                    context: Some(0),
                    ..opts(output)
                };
                compare(old, new, &opts).render(&opts);
            }
        }
    }
}

#[test]
fn json_escapes_what_it_prints() {
    let objs = parse_manifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 'we\"ird'}\n",
        "ns",
    )
    .unwrap();
    let text = compare(&[], &objs, &opts(OutputFormat::Json)).render(&opts(OutputFormat::Json));
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed[0]["name"], "we\"ird");
    assert_eq!(parsed[0]["change"], "ADD");
}

#[test]
fn output_format_parses_flag_values() {
    assert_eq!("diff".parse::<OutputFormat>().unwrap(), OutputFormat::Diff);
    assert_eq!(
        " simple".parse::<OutputFormat>().unwrap(),
        OutputFormat::Simple
    );
    assert_eq!("json".parse::<OutputFormat>().unwrap(), OutputFormat::Json);
    assert_eq!(
        "template".parse::<OutputFormat>().unwrap(),
        OutputFormat::Json
    );
    assert!("dyff".parse::<OutputFormat>().is_err());
}

#[test]
fn colour_decision() {
    assert!(color_from(Some("true"), Some("1"), Some("dumb"), false));
    assert!(color_from(Some("T"), None, None, false));
    assert!(!color_from(Some("false"), None, None, true));
    assert!(!color_from(Some("0"), None, None, true));
    assert!(!color_from(None, Some("1"), None, true));
    assert!(color_from(None, Some(""), None, true));
    assert!(!color_from(None, None, Some("dumb"), true));
    assert!(color_from(Some("maybe"), None, Some("xterm"), true));
    assert!(!color_from(None, None, None, false));
}

/// helm-diff's `TestManifestsWithRedactedSecrets` vector (diff/diff_test.go), data and stringData.
#[test]
fn matches_helm_diff_redacted_secret_vector() {
    let secret = |body: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: foobar\ntype: Opaque\n{body}")
    };
    let expected = "default, foobar, Secret (v1) has changed:\n  apiVersion: v1\n  kind: Secret\n  metadata:\n    name: foobar\n  data:\n-   key1: '-------- # (6 bytes)'\n+   key1: '++++++++ # (13 bytes)'\n    key2: 'REDACTED # (6 bytes)'\n-   key3: '-------- # (6 bytes)'\n+   key4: '++++++++ # (6 bytes)'\n  type: Opaque\n\n";
    for (old, new) in [
        (
            "data:\n  key1: dmFsdWUx\n  key2: dmFsdWUy\n  key3: dmFsdWUz\n",
            "data:\n  key1: dmFsdWUxY2hhbmdlZA==\n  key2: dmFsdWUy\n  key4: dmFsdWU0\n",
        ),
        (
            "stringData:\n  key1: value1\n  key2: value2\n  key3: value3\n",
            "stringData:\n  key1: value1changed\n  key2: value2\n  key4: value4\n",
        ),
    ] {
        let old = parse_manifests(&secret(old), "default").unwrap();
        let new = parse_manifests(&secret(new), "default").unwrap();
        let opts = opts(OutputFormat::Diff);
        assert_eq!(compare(&old, &new, &opts).render(&opts), expected);
    }
}
