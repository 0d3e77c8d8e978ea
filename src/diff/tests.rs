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
    objects_as(case, side, false)
}

fn objects_as(case: &str, side: &str, normalize: bool) -> Vec<Object> {
    parse_manifests(&read(case, side), "default", normalize).unwrap()
}

fn run(case: &str, opts: &Options) -> Report {
    let (old, new) = (
        objects_as(case, "old.yaml", opts.normalize),
        objects_as(case, "new.yaml", opts.normalize),
    );
    compare(&old, &new, &[], opts).unwrap()
}

fn assert_golden(case: &str, file: &str, opts: &Options) {
    let actual = run(case, opts).render(opts).unwrap();
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
    let normalized = Options {
        normalize: true,
        ..opts(OutputFormat::Diff)
    };
    assert_golden("basic", "diff-normalized.txt", &normalized);
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
    report
        .entries
        .iter()
        .map(|c| (c.change, c.key.clone()))
        .collect()
}

/// As rendered, the reordered Service and ClusterRole are changes; normalized they are not.
#[test]
fn added_removed_changed_and_kept() {
    let normalized = Options {
        normalize: true,
        ..opts(OutputFormat::Diff)
    };
    let report = run("basic", &normalized);
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
    let rendered = summary(&run("basic", &opts(OutputFormat::Diff)));
    assert_eq!(rendered.len(), 5, "{rendered:?}");
    assert!(rendered.contains(&(ChangeType::Modify, "default, web, Service (v1)".into())));
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

/// As rendered, key order and the template path are changes (helm-diff); normalized, neither is.
#[test]
fn key_order_and_source_change_only_as_rendered() {
    let old = "# Source: a/templates/x.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: '1', b: '2'}\ndata: {k: v, j: w}\n";
    let new = "# Source: a/templates/moved.yaml\ndata: {j: w, k: v}\nmetadata:\n  labels: {b: '2', a: '1'}\n  name: x\nkind: ConfigMap\napiVersion: v1\n";
    for (normalize, changed) in [(false, true), (true, false)] {
        let old = parse_manifests(old, "ns", normalize).unwrap();
        let new = parse_manifests(new, "ns", normalize).unwrap();
        let report = compare(&old, &new, &[], &opts(OutputFormat::Diff)).unwrap();
        assert_eq!(report.has_changes(), changed);
    }
}

#[test]
fn unchanged_release_has_no_changes() {
    for case in CASES {
        let old = objects(case, "old.yaml");
        for output in [OutputFormat::Diff, OutputFormat::Simple, OutputFormat::Json] {
            let report = compare(&old, &old, &[], &opts(output)).unwrap();
            assert!(!report.has_changes(), "{case}");
        }
    }
}

#[test]
fn first_of_duplicate_keys_wins() {
    let old = parse_manifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: a}\n",
        "ns",
        false,
    )
    .unwrap();
    let new = parse_manifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: b}\n",
        "ns",
        false,
    )
    .unwrap();
    assert!(
        !compare(&old, &new, &[], &opts(OutputFormat::Diff))
            .unwrap()
            .has_changes()
    );
}

/// Every Secret value of every fixture, as written and decoded.
fn secret_values() -> Vec<String> {
    let mut values = Vec::new();
    for case in CASES {
        for side in ["old.yaml", "new.yaml"] {
            for object in objects(case, side).iter().filter(|o| o.is_secret()) {
                for field in ["data", "stringData"] {
                    let Some(map) = object
                        .value()
                        .unwrap()
                        .get(field)
                        .and_then(|v| v.as_object())
                    else {
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
                let text = run(case, &opts).render(&opts).unwrap();
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
    let text = run("secrets", &shown).render(&shown).unwrap();
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
        let first = compare(&old, &new, &[], &opts)
            .unwrap()
            .render(&opts)
            .unwrap();
        old.reverse();
        new.reverse();
        let again = compare(&old, &new, &[], &opts)
            .unwrap()
            .render(&opts)
            .unwrap();
        assert_eq!(again, first, "{case}");
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
        .filter_map(|t| parse_manifests(t, "ns", false).ok())
        .collect();
    for old in &parsed {
        for new in &parsed {
            for output in [OutputFormat::Diff, OutputFormat::Simple, OutputFormat::Json] {
                let opts = Options {
                    context: Some(0),
                    ..opts(output)
                };
                compare(old, new, &[], &opts)
                    .unwrap()
                    .render(&opts)
                    .unwrap();
            }
        }
    }
}

/// helm-diff reads entries back out of their key; one that does not match its pattern is left
/// out (and reported on stderr), so the JSON stays valid.
#[test]
fn json_leaves_out_keys_it_cannot_read() {
    let objs = parse_manifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 'we\"ird'}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
        "ns",
        false,
    )
    .unwrap();
    let opts = opts(OutputFormat::Json);
    let text = compare(&[], &objs, &[], &opts)
        .unwrap()
        .render(&opts)
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed.as_array().unwrap().len(), 1);
    assert_eq!(parsed[0]["name"], "ok");
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
        OutputFormat::Template
    );
    assert_eq!("dyff".parse::<OutputFormat>().unwrap(), OutputFormat::Dyff);
    assert!("yaml".parse::<OutputFormat>().is_err());
}

#[test]
fn colour_decision() {
    let env = |c, n, t, tty| color_from(None, false, c, n, t, tty);
    assert!(env(Some("true"), Some("1"), Some("dumb"), false));
    assert!(env(Some("T"), None, None, false));
    assert!(!env(Some("false"), None, None, true));
    assert!(!env(Some("0"), None, None, true));
    assert!(!env(None, Some("1"), None, true));
    assert!(env(None, Some(""), None, true));
    assert!(!env(None, None, Some("dumb"), true));
    assert!(env(Some("maybe"), None, Some("xterm"), true));
    assert!(!env(None, None, None, false));
    // The flags win over the environment, and --no-color over --color.
    assert!(color_from(
        Some(true),
        false,
        Some("false"),
        None,
        None,
        false
    ));
    assert!(!color_from(
        Some(false),
        false,
        Some("true"),
        None,
        None,
        true
    ));
    assert!(!color_from(Some(true), true, None, None, None, true));
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
        let old = parse_manifests(&secret(old), "default", false).unwrap();
        let new = parse_manifests(&secret(new), "default", false).unwrap();
        let opts = opts(OutputFormat::Diff);
        assert_eq!(
            compare(&old, &new, &[], &opts)
                .unwrap()
                .render(&opts)
                .unwrap(),
            expected
        );
    }
}

/// helm-diff's own unit-test expectations, transcribed into `testdata/diff/helm-diff/` (see its
/// PROVENANCE.md).
mod helm_diff {
    use serde_json::Value;

    use super::super::*;

    fn fixture(name: &str) -> Vec<Value> {
        let path = super::case_path("helm-diff", &format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        value["cases"].as_array().unwrap().clone()
    }

    fn options(case: &Value) -> Options {
        let o = &case["options"];
        let strings = |field: &str| -> Vec<String> {
            o[field]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        let flag = |field: &str| o[field].as_bool().unwrap_or(false);
        let output: OutputFormat = o["output"].as_str().unwrap_or("diff").parse().unwrap();
        Options {
            context: o["context"].as_i64().and_then(|c| usize::try_from(c).ok()),
            output,
            template: o["template"]
                .as_str()
                .map(|t| parse_template("customTemplate.tpl", t).unwrap()),
            show_secrets: flag("show_secrets"),
            show_secrets_decoded: flag("show_secrets_decoded"),
            suppressed_kinds: strings("suppress"),
            suppressed_lines: strings("suppress_output_line_regex")
                .iter()
                .map(|r| Regex::new(r).unwrap())
                .collect(),
            find_renames: o["find_renames"].as_f64().unwrap_or(0.0) as f32,
            strip_trailing_cr: flag("strip_trailing_cr"),
            color: flag("color"),
            release_namespace: "default".into(),
            ..Options::default()
        }
    }

    /// helm-diff's tests build indexes of (key, kind, content) directly; so do these.
    fn objects(entries: &Value) -> Vec<Object> {
        entries
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let content = e["content"].as_str().unwrap().to_string();
                Object::of_fixture(
                    e["key"].as_str().unwrap(),
                    e["kind"].as_str().unwrap(),
                    content,
                    e["resource_policy"] == "keep",
                )
            })
            .collect()
    }

    fn owners(case: &Value) -> Vec<Ownership> {
        case["ownership"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| Ownership {
                key: o["key"].as_str().unwrap().into(),
                old_release: o["old_release"].as_str().unwrap().into(),
                new_release: o["new_release"].as_str().unwrap().into(),
            })
            .collect()
    }

    #[test]
    fn reports() {
        let mut checked = 0;
        let mut failed = Vec::new();
        for name in [
            "TestManifests",
            "TestManifestsWithRedactedSecrets",
            "TestChangeOwnership",
            "TestRenameDetectionLengthRatio",
        ] {
            for case in fixture(name) {
                let opts = options(&case);
                let report = compare(
                    &objects(&case["old"]),
                    &objects(&case["new"]),
                    &owners(&case),
                    &opts,
                )
                .unwrap();
                let label = format!("{name}/{}", case["name"]);
                if let Some(seen) = case["seen_changes"].as_bool() {
                    assert_eq!(report.has_changes(), seen, "{label}");
                }
                let text = report.render(&opts).unwrap();
                if let Some(expected) = case["expected"].as_str() {
                    if text != expected {
                        failed.push(format!("{label}:\n{text}\n--- expected ---\n{expected}"));
                    }
                    checked += 1;
                }
                if let Some(json) = case["expected_jsoneq"].as_str() {
                    let want: Value = serde_json::from_str(json).unwrap();
                    assert_eq!(
                        serde_json::from_str::<Value>(&text).unwrap(),
                        want,
                        "{label}"
                    );
                    checked += 1;
                }
                for part in case["expected_contains"].as_array().into_iter().flatten() {
                    assert!(text.contains(part.as_str().unwrap()), "{label}: {text}");
                }
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n=====\n"));
        assert!(checked >= 22, "{checked}");
    }

    fn records(lines: &[Line]) -> Vec<(String, String)> {
        lines
            .iter()
            .map(|l| {
                let delta = match l.delta {
                    lines::Delta::Common => "common",
                    lines::Delta::Left => "left",
                    lines::Delta::Right => "right",
                };
                (delta.to_string(), l.text.clone())
            })
            .collect()
    }

    fn expected_records(diffs: &Value) -> Vec<(String, String)> {
        diffs
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                (
                    d["delta"].as_str().unwrap().into(),
                    d["payload"].as_str().unwrap().into(),
                )
            })
            .collect()
    }

    /// `--suppress-output-line-regex` (helm-diff's `doSuppress`), on its entries' diff records.
    #[test]
    fn line_suppression() {
        for case in fixture("TestDoSuppress") {
            let patterns: Vec<Regex> = case["options"]["suppress_output_line_regex"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| Regex::new(p.as_str().unwrap()).unwrap())
                .collect();
            let inputs = case["input_entries"].as_array().unwrap();
            let expected = case["expected_entries"].as_array().unwrap();
            assert_eq!(inputs.len(), expected.len());
            for (input, want) in inputs.iter().zip(expected) {
                let from = &input["diffs_from"];
                let lines = lines::diff(
                    from["old"].as_str().unwrap(),
                    from["new"].as_str().unwrap(),
                    false,
                );
                assert_eq!(records(&lines), expected_records(&input["diffs"]));
                let mut entry = Entry {
                    key: String::new(),
                    kind: String::new(),
                    change: ChangeType::Add,
                    lines,
                    old: None,
                    new: None,
                };
                if !patterns.is_empty() {
                    suppress_lines(&mut entry, &patterns);
                }
                assert_eq!(
                    records(&entry.lines),
                    expected_records(&want["diffs"]),
                    "{}",
                    case["name"]
                );
            }
        }
    }

    #[test]
    fn context_printing() {
        for case in fixture("TestPrintDiffWithContext") {
            let entry = Entry {
                key: "k".into(),
                kind: "ConfigMap".into(),
                change: ChangeType::Modify,
                lines: lines::diff(
                    case["old"].as_str().unwrap(),
                    case["new"].as_str().unwrap(),
                    case["strip_trailing_cr"].as_bool().unwrap(),
                ),
                old: None,
                new: None,
            };
            let opts = Options {
                context: case["context"]
                    .as_i64()
                    .and_then(|c| usize::try_from(c).ok()),
                color: case["color"].as_bool().unwrap_or(false),
                ..Options::default()
            };
            let report = Report {
                entries: vec![entry],
                seen_changes: true,
            };
            let text = report.render(&opts).unwrap();
            let body = text.split_once('\n').unwrap().1;
            assert_eq!(body, case["expected"].as_str().unwrap(), "{}", case["name"]);
        }
    }

    #[test]
    fn parsing() {
        let mut checked = 0;
        for name in [
            "TestPod",
            "TestPodNamespace",
            "TestPodHook",
            "TestDeployV1",
            "TestDeployV1Beta1",
            "TestList",
            "TestConfigMapList",
            "TestSecretList",
            "TestEmpty",
            "TestBaseNameAnnotation",
        ] {
            for case in fixture(name) {
                let hooks: Vec<&str> = case["excluded_hooks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                // helm-x leaves out both test hook spellings or neither, as helm-diff's commands do.
                if hooks.len() == 1 && hooks[0] == "test-success" {
                    continue;
                }
                let file = case["manifest_file"].as_str().unwrap();
                let text = std::fs::read_to_string(super::case_path("helm-diff", file)).unwrap();
                let ns = case["namespace"].as_str().unwrap();
                let normalize = case["normalize"].as_bool().unwrap_or(false);
                let objects = parse_manifests(&text, ns, normalize).unwrap();
                let mut keys: Vec<&str> = objects
                    .iter()
                    .filter(|o| hooks.is_empty() || !o.is_test_hook())
                    .map(Object::key)
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                let mut expected: Vec<&str> = case["expected_keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                expected.sort_unstable();
                assert_eq!(keys, expected, "{name}/{}", case["name"]);
                checked += 1;
            }
        }
        assert!(checked >= 11, "{checked}");
    }

    #[test]
    fn normalizing() {
        for case in fixture("TestNormalizeContent") {
            let content = case["content"].as_str().unwrap();
            match case["expected"].as_str() {
                Some(expected) if !content.is_empty() => {
                    let objects = parse_manifests(content, "default", true).unwrap();
                    assert_eq!(objects[0].content, expected, "{}", case["name"]);
                }
                // helm-x never normalizes an empty document: it is no object.
                Some(_) => assert!(
                    parse_manifests(content, "default", true)
                        .unwrap()
                        .is_empty()
                ),
                None => assert!(parse_manifests(content, "default", true).is_err()),
            }
        }
    }
}
