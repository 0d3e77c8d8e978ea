use super::*;

fn stream(text: &str) -> Stream {
    Stream::parse(text, "in.yaml", |raw| {
        raw.source.clone().unwrap_or_default()
    })
    .unwrap()
}

/// The problems of `text`, one line each.
fn problems(text: &str) -> Vec<String> {
    let s = stream(text);
    let r = report(&s.documents, &s.documents, &[], Options::default()).unwrap();
    r.errors.iter().map(ToString::to_string).collect()
}

fn assert_clean(text: &str) {
    assert_eq!(problems(text), Vec::<String>::new());
}

const DEPLOYMENT: &str = r#"# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
  creationTimestamp: null
  labels:
    app.kubernetes.io/name: web
  annotations:
    helm.sh/hook-weight: "1"
spec:
  replicas: 3
  revisionHistoryLimit: 10
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      serviceAccountName: web
      securityContext: {}
      imagePullSecrets: []
      nodeSelector: null
      containers:
        - name: web
          image: "nginx:1.27"
          imagePullPolicy: IfNotPresent
          args: ["--port", "8080"]
          env:
            - name: A
              value: "1"
            - name: B
              valueFrom:
                secretKeyRef: {name: s, key: k, optional: true}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          livenessProbe:
            httpGet: {path: /, port: http}
            initialDelaySeconds: 5
          resources:
            limits: {cpu: 1, memory: 128Mi}
            requests: {cpu: 0.5, memory: 64Mi}
          volumeMounts:
            - {name: data, mountPath: /data, readOnly: true}
      volumes:
        - name: data
          emptyDir: {}
        - name: cfg
          configMap: {name: cfg, defaultMode: 0644}
      tolerations: []
      affinity: {}
"#;

#[test]
fn a_full_deployment_passes() {
    assert_clean(DEPLOYMENT);
}

#[test]
fn common_kinds_pass() {
    assert_clean(
        r#"apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: ClusterIP
  ports: [{port: 80, targetPort: http, protocol: TCP, name: http}]
  selector: {app: web}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
automountServiceAccountToken: true
---
apiVersion: v1
kind: Secret
metadata: {name: tls}
type: kubernetes.io/tls
data:
  tls.crt: |
    aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29y
    bGQ=
  tls.key: aGk=
stringData: {extra: x}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {a: "1"}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: nginx
  rules:
    - host: a.example
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: web, port: {number: 80}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: web, namespace: apps}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: j}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: j, image: busybox, command: [sh, -c, date]}]
"#,
    );
}

#[test]
fn an_unknown_field_is_named_with_a_suggestion() {
    let text = DEPLOYMENT.replace("  replicas: 3", "  replcias: 3");
    assert_eq!(
        problems(&text),
        [
            "web/templates/deployment.yaml: document 1: Deployment apps/web: spec.replcias: unknown field (did you mean replicas?)"
        ]
    );
}

#[test]
fn a_wrong_type_is_named_by_its_path() {
    let text = DEPLOYMENT.replace("  replicas: 3", "  replicas: three");
    assert_eq!(
        problems(&text),
        [
            "web/templates/deployment.yaml: document 1: Deployment apps/web: spec.replicas: invalid type: string \"three\", expected i32"
        ]
    );
}

#[test]
fn a_nested_unknown_field_in_a_container() {
    let text = DEPLOYMENT.replace(
        "imagePullPolicy: IfNotPresent",
        "imagePullPolicyy: IfNotPresent",
    );
    assert_eq!(
        problems(&text),
        [
            "web/templates/deployment.yaml: document 1: Deployment apps/web: spec.template.spec.containers[0].imagePullPolicyy: unknown field (did you mean imagePullPolicy?)"
        ]
    );
}

#[test]
fn every_problem_is_listed() {
    let text = DEPLOYMENT
        .replace("  replicas: 3", "  replicas: three")
        .replace("containerPort: 8080", "containerPort: [8080]")
        .replace("mountPath: /data", "mountPath: /data, readonly: true")
        .replace(
            "  revisionHistoryLimit: 10",
            "  revisionHistoryLimit: 10\n  foo: bar",
        );
    let p = problems(&text);
    let paths: Vec<&str> = p
        .iter()
        .map(|l| l.split(": ").nth(3).unwrap_or_default())
        .collect();
    assert_eq!(
        paths,
        [
            "spec.replicas",
            "spec.template.spec.containers[0].ports[0].containerPort",
            "spec.foo",
            "spec.template.spec.containers[0].volumeMounts[0].readonly",
        ],
        "{p:#?}"
    );
    assert!(
        p[3].ends_with("unknown field (did you mean readOnly?)"),
        "{}",
        p[3]
    );
    assert!(p[2].ends_with("spec.foo: unknown field"), "{}", p[2]);
}

#[test]
fn secret_values_are_never_shown() {
    let p = problems(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: 12345\n",
    );
    assert_eq!(
        p,
        [
            "in.yaml: document 1: Secret s: stringData.password: invalid value (values of a Secret are not shown)"
        ]
    );
}

#[test]
fn objects_that_are_not_objects() {
    assert_eq!(
        problems("kind: ConfigMap\nmetadata: {name: a}\n---\n- a\n"),
        [
            "in.yaml: document 1: ConfigMap a: not a Kubernetes object: no apiVersion",
            "in.yaml: document 2: object (no name): not a Kubernetes object: a YAML sequence",
        ]
    );
}

#[test]
fn an_unknown_kind_is_reported_or_warned() {
    let text = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: m}\n---\napiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: d}\n";
    assert_eq!(
        problems(text),
        [
            "in.yaml: document 1: ServiceMonitor m: unknown kind ServiceMonitor (apiVersion monitoring.coreos.com/v1): no built-in type and no CRD in the input; not validated (--validate-offline-allow-unknown-kinds makes this a warning)",
            "in.yaml: document 2: Deployment d: unknown kind Deployment (apiVersion apps/v1beta1): no built-in type and no CRD in the input; not validated; Kubernetes 1.33 has Deployment as apps/v1 (--validate-offline-allow-unknown-kinds makes this a warning)",
        ]
    );
    let s = stream(text);
    let allow = Options {
        allow_unknown_kinds: true,
    };
    let warnings = check(&s, &[], allow).unwrap();
    assert_eq!(warnings.len(), 2);
    assert!(
        warnings[0].ends_with("in the input; not validated"),
        "{}",
        warnings[0]
    );
    let e = check(&s, &[], Options::default()).unwrap_err().to_string();
    assert!(e.starts_with("--validate-offline: 2 problems in 2 objects:\n  in.yaml: document 1: ServiceMonitor m: unknown kind"), "{e}");
}

#[test]
fn list_items_are_checked() {
    let p = problems(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  dato: {}\n",
    );
    assert_eq!(
        p,
        [
            "in.yaml: document 1: List (no name): item 0: ConfigMap a: items[0].dato: unknown field (did you mean data?)"
        ]
    );
}

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [image]
              properties:
                image: {type: string, minLength: 1}
                size: {type: integer, minimum: 1}
                mode: {type: string, enum: [fast, slow]}
                port: {x-kubernetes-int-or-string: true}
                note: {type: string, nullable: true}
                tier: {type: string, default: gold}
                extra:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
                labels:
                  type: object
                  additionalProperties: {type: string}
                template:
                  type: object
                  x-kubernetes-embedded-resource: true
                  x-kubernetes-preserve-unknown-fields: true
            status:
              type: object
              x-kubernetes-preserve-unknown-fields: true
    - name: v1alpha1
      served: false
      storage: false
      schema:
        openAPIV3Schema: {type: object}
"#;

fn with_crd(cr: &str) -> Vec<String> {
    problems(&format!("{CRD}---\n{cr}"))
}

#[test]
fn a_good_custom_resource_passes() {
    assert_eq!(
        with_crd(
            r#"apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps, labels: {a: b}}
spec:
  image: nginx
  size: 2
  mode: fast
  port: http
  note: null
  size2: null
  extra: {anything: [1, 2], goes: {here: true}}
  labels: {x: z}
  template: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {}}
"#
        ),
        Vec::<String>::new()
    );
}

#[test]
fn a_bad_custom_resource_lists_every_problem() {
    assert_eq!(
        with_crd(
            r#"apiVersion: example.com/v1
kind: Widget
metadata: {name: w, labelz: {a: b}}
spec:
  size: three
  mode: medium
  port: [1]
  sise: 3
  labels: {x: 1}
"#
        ),
        [
            "in.yaml: document 2: Widget w: metadata.labelz: unknown field (did you mean labels?)",
            "in.yaml: document 2: Widget w: spec.image: required field missing",
            "in.yaml: document 2: Widget w: spec.size: expected integer, got string",
            "in.yaml: document 2: Widget w: spec.mode: must be one of \"fast\", \"slow\"",
            "in.yaml: document 2: Widget w: spec.port: expected an integer or a string, got array",
            "in.yaml: document 2: Widget w: spec.sise: unknown field (did you mean size?)",
            "in.yaml: document 2: Widget w: spec.labels.x: expected string, got integer",
        ]
    );
}

#[test]
fn custom_resource_versions_and_extra_crds() {
    assert_eq!(
        with_crd("apiVersion: example.com/v1alpha1\nkind: Widget\nmetadata: {name: w}\n"),
        [
            "in.yaml: document 2: Widget w: the CRD widgets.example.com does not serve example.com/v1alpha1"
        ]
    );
    assert_eq!(
        with_crd("apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: w}\n"),
        [
            "in.yaml: document 2: Widget w: the CRD widgets.example.com has no version example.com/v2 (it has v1, v1alpha1)"
        ]
    );
    // A CRD from the chart's crds/, which helm does not render: given beside the stream.
    let crd: Value = crate::stream::load(CRD).unwrap();
    let s = stream(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {image: x, size: 0}\n",
    );
    let e = check(&s, &[crd], Options::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "--validate-offline: 1 problem in 1 object:\n  in.yaml: document 1: Widget w: spec.size: must be at least 1"
    );
}

#[test]
fn schema_junctors_and_bounds() {
    let v = Validator::default();
    let schema: Value = serde_json::json!({
        "type": "object",
        "properties": {
            "a": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 3},
            "b": {"type": "number", "exclusiveMaximum": true, "maximum": 10, "multipleOf": 0.5},
            "c": {"type": "array", "maxItems": 1, "items": {"type": "integer"}},
        },
        "anyOf": [{"required": ["a"]}, {"required": ["c"]}],
    });
    let found = |value: Value| -> Vec<String> {
        v.object(&schema, &value)
            .iter()
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect()
    };
    assert_eq!(
        found(serde_json::json!({"a": "abc", "b": 9.5})),
        Vec::<String>::new()
    );
    assert_eq!(
        found(serde_json::json!({"a": "ABCD", "b": 10, "c": [1, 2.5]})),
        [
            "a: must be at most 3 characters long",
            "a: does not match the pattern \"^[a-z]+$\"",
            "b: must be less than 10",
            "c: must have at most 1 items",
            "c[1]: expected integer, got number",
        ]
    );
    assert_eq!(
        found(serde_json::json!({"b": 1.25})),
        [
            "b: must be a multiple of 0.5",
            ": matches none of the anyOf schemas (the first: a: required field missing)",
        ]
    );
}
