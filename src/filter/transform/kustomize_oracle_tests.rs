//! Differential test: `--transformer` files against `kubectl kustomize` of a kustomization with
//! the same `resources:` and `transformers:`; kubectl's answers are stored under testdata/oracle/,
//! and under the e2e feature the real one (`KUBECTL_BIN`) is asked too and must still give them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::patch::{PatchContext, PatchSource, SmpMode};
use crate::stream::{Document, Stream};
use crate::testutil::{TempDir, by_identity, object_differences};

/// kubectl's answers, stored per test (see the file's own docs).
#[allow(clippy::duplicate_mod)]
#[path = "../../../tests/common/oracle.rs"]
mod oracle;

/// The objects every scenario transforms: workloads referring to a ConfigMap, a Secret, a
/// ServiceAccount, a claim, roles and a Service, a helm hook, a CRD and one of its objects.
const RESOURCES: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: sa
      imagePullSecrets: [{name: sec}]
      initContainers: [{name: init, image: busybox:1.0}]
      containers:
      - name: app
        image: nginx:1.25
        env:
        - {name: A, valueFrom: {configMapKeyRef: {name: cfg, key: a}}}
        - {name: B, valueFrom: {secretKeyRef: {name: sec, key: b}}}
        envFrom: [{configMapRef: {name: cfg}}, {secretRef: {name: sec}}]
      volumes:
      - {name: v1, configMap: {name: cfg}}
      - {name: v2, secret: {secretName: sec}}
      - {name: v3, projected: {sources: [{configMap: {name: cfg}}, {secret: {name: sec}}]}}
      - {name: v4, persistentVolumeClaim: {claimName: data}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {b: YmFy}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
  tls: [{secretName: sec}]
  rules:
  - http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: web
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "reg:5000/postgres:16"}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: sa}, {kind: ServiceAccount, name: default}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: viewer}
rules: [{apiGroups: [""], resources: [pods], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: viewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: viewer}
subjects: [{kind: ServiceAccount, name: sa, namespace: default}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {helm.sh/hook: pre-install, helm.sh/hook-weight: "1"}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: busybox:1.0, envFrom: [{configMapRef: {name: cfg}}]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: t, image: nginx:1.25}]
          volumes: [{name: c, configMap: {name: cfg}}]
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: other}
spec: {serviceAccountName: sa, containers: [{name: s, image: nginx}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 1, maxReplicas: 2}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.x.io}
spec:
  group: x.io
  scope: Namespaced
  names: {kind: Gizmo, plural: gizmos}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]
---
apiVersion: x.io/v1
kind: Gizmo
metadata: {name: g}
spec: {containers: [{image: nginx:1.25}], template: {containers: [{image: busybox}]}}
---
apiVersion: v1
kind: Namespace
metadata: {name: team}
"#;

/// A scenario: transformer files (in `transformers:` order) and other files they name.
struct Scenario<'a> {
    transformers: &'a [(&'a str, &'a str)],
    others: &'a [(&'a str, &'a str)],
}

impl Scenario<'_> {
    fn write(&self) -> TempDir {
        let dir = TempDir::new("transform-oracle");
        dir.write("resources.yaml", RESOURCES);
        for (name, text) in self.transformers.iter().chain(self.others) {
            dir.write(name, text);
        }
        let names: Vec<&str> = self.transformers.iter().map(|(n, _)| *n).collect();
        let kustomization = json!({"resources": ["resources.yaml"], "transformers": names});
        dir.write("kustomization.yaml", &kustomization.to_string());
        dir
    }

    /// helm-x's result: objects by identity, or the error.
    fn ours(&self, dir: &TempDir) -> Result<BTreeMap<String, Value>, String> {
        let mut stream = Stream::parse(RESOURCES, "resources.yaml", |_| String::new())
            .map_err(|e| format!("{e:#}"))?;
        let sources: Vec<PatchSource> = self
            .transformers
            .iter()
            .map(|(n, _)| PatchSource::Transformer(dir.path().join(n)))
            .collect();
        let ctx = PatchContext {
            release_namespace: "default",
            mode: SmpMode::Kustomize,
            // kustomize skips selectors that match nothing.
            allow_missing_targets: true,
            crds: &[],
        };
        crate::patch::apply(&mut stream, &sources, &ctx).map_err(|e| format!("{e:#}"))?;
        let values: Vec<Value> = stream
            .documents
            .iter_mut()
            .map(|d: &mut Document| d.take_value().map_err(|e| format!("{e:#}")))
            .collect::<Result<_, _>>()?;
        Ok(by_identity(values))
    }

    /// `kubectl kustomize` of the scenario, as stored for this test (and asked under e2e).
    fn theirs(&self, dir: &TempDir) -> Result<BTreeMap<String, Value>, String> {
        let files: serde_json::Map<String, Value> = self
            .transformers
            .iter()
            .chain(self.others)
            .map(|(n, t)| (n.to_string(), json!(t)))
            .collect();
        let input = json!({"resources.yaml": RESOURCES, "files": files});
        let answer = oracle::answer(&oracle::this_test(), input, |_| {
            oracle::result_to_json(
                &kubectl_kustomize(dir).map(|m| Value::Object(m.into_iter().collect())),
            )
        });
        oracle::result_from_json(answer)
            .map(|v| serde_json::from_value(v).expect("objects by identity"))
    }

    /// Asserts both sides agree: the same objects (`refused` false), or both refuse.
    fn check(&self, refused: bool) {
        let dir = self.write();
        let (ours, theirs) = (self.ours(&dir), self.theirs(&dir));
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) if !refused => {
                let diffs = object_differences(a, b);
                assert!(
                    diffs.is_empty(),
                    "{:?} differ:\n{}",
                    self.transformers,
                    diffs.join("\n")
                );
            }
            (Err(_), Err(_)) if refused => {}
            _ => panic!(
                "{:?}: ours {:?}\nkubectl {:?}",
                self.transformers,
                ours.map(|m| m.len()),
                theirs.map(|m| m.len())
            ),
        }
    }
}

fn kubectl_kustomize(dir: &TempDir) -> Result<BTreeMap<String, Value>, String> {
    crate::testutil::kubectl_kustomize(&oracle::kubectl(), dir.path()).map(by_identity)
}

fn check(transformers: &[(&str, &str)], others: &[(&str, &str)]) {
    Scenario {
        transformers,
        others,
    }
    .check(false);
}

#[test]
fn labels_and_annotations_agree_with_kubectl_kustomize() {
    check(
        &[(
            "labels.yaml",
            "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\n\
             labels: {team: a, tier: be}\nfieldSpecs:\n\
             - {path: metadata/labels, create: true}\n\
             - {path: spec/selector/matchLabels, create: true, kind: Deployment}\n\
             - {path: spec/template/metadata/labels, create: true, group: apps}\n\
             - {path: spec/selector, create: true, kind: Service, version: v1}\n\
             - {path: spec/jobTemplate/spec/template/metadata/labels, create: true, kind: CronJob}\n",
        )],
        &[],
    );
    check(
        &[(
            "annotations.yaml",
            "apiVersion: builtin\nkind: AnnotationsTransformer\nmetadata: {name: a}\n\
             annotations: {owner: team-a, a.io/note: \"yes\"}\nfieldSpecs:\n\
             - {path: metadata/annotations, create: true}\n\
             - {path: spec/template/metadata/annotations, create: true, kind: Deployment}\n\
             - {path: spec/template/metadata/annotations, kind: StatefulSet}\n",
        )],
        &[],
    );
}

#[test]
fn namespaces_agree_with_kubectl_kustomize() {
    for extra in [
        "",
        "unsetOnly: true\n",
        "setRoleBindingSubjects: allServiceAccounts\n",
        "setRoleBindingSubjects: none\n",
    ] {
        let text = format!(
            "apiVersion: builtin\nkind: NamespaceTransformer\nmetadata: {{name: n, namespace: apps}}\n\
             fieldSpecs:\n- {{path: metadata/name, kind: Namespace, create: true}}\n{extra}"
        );
        check(&[("namespace.yaml", &text)], &[]);
    }
}

#[test]
fn prefix_suffix_renames_and_references_agree_with_kubectl_kustomize() {
    for (kind, fields) in [
        ("PrefixSuffixTransformer", "prefix: p-\nsuffix: -s\n"),
        ("PrefixTransformer", "prefix: p-\n"),
        ("SuffixTransformer", "suffix: -s\n"),
    ] {
        let text = format!(
            "apiVersion: builtin\nkind: {kind}\nmetadata: {{name: x}}\n{fields}\
             fieldSpecs:\n- path: metadata/name\n"
        );
        check(&[("names.yaml", &text)], &[]);
    }
    // Only ConfigMaps renamed: the references to them follow, nothing else changes.
    check(
        &[(
            "names.yaml",
            "apiVersion: builtin\nkind: PrefixSuffixTransformer\nmetadata: {name: x}\n\
             prefix: p-\nfieldSpecs:\n- {path: metadata/name, kind: ConfigMap}\n",
        )],
        &[],
    );
}

#[test]
fn images_and_replicas_agree_with_kubectl_kustomize() {
    let images = "- path: spec/containers[]/image\n  create: true\n\
                  - path: spec/template/spec/containers[]/image\n  create: true\n\
                  - path: spec/template/spec/initContainers[]/image\n";
    for image in [
        "{name: nginx, newTag: \"1.27\"}",
        "{name: nginx, newName: reg.io/nginx, digest: \"sha256:abc\"}",
        "{name: busybox, tagSuffix: -debug}",
        "{name: reg:5000/postgres, newTag: \"17\"}",
        "{name: \"ng.*\", newTag: x}",
    ] {
        let text = format!(
            "apiVersion: builtin\nkind: ImageTagTransformer\nmetadata: {{name: i}}\n\
             imageTag: {image}\nfieldSpecs:\n{images}"
        );
        check(&[("images.yaml", &text)], &[]);
    }
    check(
        &[(
            "replicas.yaml",
            "apiVersion: builtin\nkind: ReplicaCountTransformer\nmetadata: {name: r}\n\
             replica: {name: web, count: 3}\nfieldSpecs:\n\
             - {path: spec/replicas, create: true, kind: Deployment}\n\
             - {path: spec/replicas, create: true, kind: StatefulSet}\n",
        )],
        &[],
    );
    // No object of that name: both refuse.
    Scenario {
        transformers: &[(
            "replicas.yaml",
            "apiVersion: builtin\nkind: ReplicaCountTransformer\nmetadata: {name: r}\n\
             replica: {name: nope, count: 3}\nfieldSpecs:\n- {path: spec/replicas, kind: Deployment}\n",
        )],
        others: &[],
    }
    .check(true);
}

#[test]
fn patch_transformers_agree_with_kubectl_kustomize() {
    let smp_body = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ignored}\n\
                    spec: {template: {spec: {containers: [{name: app, image: nginx:2}]}}}\n";
    check(
        &[
            (
                "patch-path.yaml",
                "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\n\
                 path: body.yaml\ntarget: {kind: Deployment, name: web}\n",
            ),
            (
                "patch-inline.yaml",
                "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: q}\n\
                 patch: '[{\"op\": \"add\", \"path\": \"/metadata/annotations/patched\", \"value\": \"yes\"}]'\n\
                 target: {annotationSelector: helm.sh/hook=pre-install}\n",
            ),
        ],
        &[("body.yaml", smp_body)],
    );
    check(
        &[(
            "smp.yaml",
            "apiVersion: builtin\nkind: PatchStrategicMergeTransformer\nmetadata: {name: s}\n\
             paths: [smp-body.yaml]\n\
             patches: |-\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cfg}\n  data: {b: two}\n",
        )],
        &[(
            "smp-body.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 81}]}\n",
        )],
    );
    check(
        &[(
            "json.yaml",
            "apiVersion: builtin\nkind: PatchJson6902Transformer\nmetadata: {name: j}\n\
             target: {group: apps, version: v1, kind: Deployment, name: web}\n\
             jsonOp: '- {op: replace, path: /spec/replicas, value: 5}'\n\
             ---\n\
             apiVersion: builtin\nkind: PatchJson6902Transformer\nmetadata: {name: k}\n\
             target: {version: v1, kind: ConfigMap, name: cfg}\npath: ops.json\n",
        )],
        &[(
            "ops.json",
            "[{\"op\": \"add\", \"path\": \"/data/c\", \"value\": \"3\"}]",
        )],
    );
}

/// Several transformers in one file and across files run in order: the labels reach the
/// renamed objects, the patch names them by their new names.
#[test]
fn transformer_sequences_agree_with_kubectl_kustomize() {
    check(
        &[
            (
                "first.yaml",
                "apiVersion: builtin\nkind: PrefixSuffixTransformer\nmetadata: {name: x}\n\
                 prefix: p-\nfieldSpecs:\n- path: metadata/name\n\
                 ---\n\
                 apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\n\
                 labels: {renamed: \"true\"}\nfieldSpecs:\n- {path: metadata/labels, create: true}\n",
            ),
            (
                "second.yaml",
                "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\n\
                 patch: '[{\"op\": \"add\", \"path\": \"/data/seen\", \"value\": \"1\"}]'\n\
                 target: {kind: ConfigMap, name: p-cfg}\n",
            ),
        ],
        &[],
    );
}
