//! Cluster access for helm-x: the capabilities `helm template` should render
//! against, whether a release exists, and adopting existing objects into a
//! release. helm-x is a synchronous CLI, so [`Cluster`] wraps an async `kube`
//! client in its own current-thread runtime and bounds every call in time.

mod adopt;
mod config;
mod crds;
mod discovery;
mod live;
mod release;

use std::collections::HashSet;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Client, Resource};

pub use adopt::{
    ADOPT_FIELD_MANAGER, AdoptError, AdoptOutcome, AdoptRequest, AdoptStatus, FieldManagerEntry,
    FieldOwnership, HELM_FIELD_MANAGER, MANAGED_BY_HELM, MANAGED_BY_LABEL, MetadataChange,
    MetadataField, RELEASE_NAME_ANNOTATION, RELEASE_NAMESPACE_ANNOTATION, ReleaseRef,
};
pub use config::ClusterConfig;
pub use crds::{CrdOwner, ESTABLISHED_TIMEOUT};
pub use discovery::Capabilities;
pub use live::{ThreeWay, owning_release, tidy};

use discovery::{Discovered, ServedResource};

/// TCP connect limit, and the limit on the first request that proves the
/// cluster answers; a configured but dead cluster fails fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on one request's response (a stalled server or proxy).
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on one whole operation (discovery is many requests).
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// A blocking client for one cluster (owns a current-thread tokio runtime).
pub struct Cluster {
    client: Client,
    server: String,
    source: String,
    namespace: String,
    kube_version: String,
    driver: Option<String>,
    discovered: OnceLock<Discovered>,
    // Declared last so it is dropped after the client that runs on it.
    runtime: tokio::runtime::Runtime,
}

impl Cluster {
    /// Connects if a cluster is configured, proving it answers within a few
    /// seconds. `Ok(None)` means no cluster is configured at all (no
    /// kubeconfig, no `HELM_KUBEAPISERVER`, not in a pod), so callers can fall
    /// back to offline behaviour; a configured but unreachable cluster is an
    /// error, because silently rendering for the wrong cluster is worse.
    pub fn connect(cfg: &ClusterConfig) -> anyhow::Result<Option<Cluster>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the runtime for the Kubernetes client")?;
        let Some(loaded) = runtime.block_on(config::load(cfg))? else {
            return Ok(None);
        };
        let mut kube_config = loaded.config;
        kube_config.connect_timeout = Some(CONNECT_TIMEOUT);
        kube_config.read_timeout = Some(READ_TIMEOUT);
        let server = kube_config.cluster_url.to_string();
        let namespace = kube_config.default_namespace.clone();
        let source = loaded.source;
        let unreachable = |why: String| {
            anyhow::anyhow!("Kubernetes cluster unreachable at {server} ({source}): {why}")
        };

        let probe = async {
            let client = Client::try_from(kube_config).map_err(|e| unreachable(e.to_string()))?;
            // Connecting and authenticating (possibly via an exec plugin) count
            // towards the limit too, so allow twice the TCP connect time.
            let version = tokio::time::timeout(2 * CONNECT_TIMEOUT, client.apiserver_version())
                .await
                .map_err(|_| {
                    unreachable(format!(
                        "no answer within {}s",
                        (2 * CONNECT_TIMEOUT).as_secs()
                    ))
                })?
                .map_err(|e| match e {
                    kube::Error::Api(_) => anyhow::anyhow!(
                        "Kubernetes cluster at {server} ({source}) refused the connection: {:#}",
                        api_error(e)
                    ),
                    other => unreachable(format!("{:#}", anyhow::Error::new(other))),
                })?;
            anyhow::Ok((client, version.git_version))
        };
        let (client, kube_version) = runtime.block_on(probe)?;
        Ok(Some(Cluster {
            client,
            server,
            source,
            namespace,
            kube_version,
            driver: cfg.driver.clone(),
            discovered: OnceLock::new(),
            runtime,
        }))
    }

    /// The namespace helm would use: `HELM_NAMESPACE`, else the context's, else `default`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The API server URL, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// `.Capabilities` exactly as helm computes them when connected (its
    /// `GetVersionSet`), so `helm template` can be pinned to this cluster.
    pub fn capabilities(&self) -> anyhow::Result<Capabilities> {
        let discovered = self.discovered()?;
        Ok(Capabilities {
            kube_version: self.kube_version.clone(),
            api_versions: discovered.api_versions(),
            unavailable: discovered.unavailable.clone(),
        })
    }

    /// The `(group, kind)` of every cluster-scoped type the server serves, for kinds whose scope
    /// the input does not tell (CRDs installed earlier, aggregated APIs).
    pub fn cluster_scoped_kinds(&self) -> anyhow::Result<Vec<(String, String)>> {
        let discovered = self.discovered()?;
        let mut kinds: Vec<(String, String)> = discovered
            .resources
            .iter()
            .filter(|r| !r.namespaced)
            .map(|r| (r.group.clone(), r.kind.clone()))
            .collect();
        kinds.sort();
        kinds.dedup();
        Ok(kinds)
    }

    /// Whether `helm upgrade --install` would upgrade (true) rather than
    /// install: a record exists and its latest revision is not `uninstalled`.
    /// Reads record labels only, never the release payload.
    pub fn release_exists(&self, release: &str, namespace: &str) -> anyhow::Result<bool> {
        release::check_release_name(release)?;
        let driver = release::parse_driver(self.driver.as_deref())?;
        let lp = ListParams::default().labels(&release::selector(release));
        let what = format!("looking up release \"{release}\" in namespace \"{namespace}\"");
        let labels = match driver {
            release::Driver::Memory => return Ok(false),
            release::Driver::Secret => self.record_labels::<Secret>(namespace, &lp, &what)?,
            release::Driver::ConfigMap => self.record_labels::<ConfigMap>(namespace, &lp, &what)?,
        };
        Ok(release::exists(&labels))
    }

    /// Stamps existing objects with helm's ownership metadata so the next
    /// install/upgrade of `req.release` takes them over instead of failing with
    /// "invalid ownership metadata", then hands the fields other writers own
    /// (`Update` entries of `metadata.managedFields`: kubectl create/edit,
    /// client-side apply, …) to helm's field manager, so Helm 4's server-side
    /// apply does not conflict with them. Every target is resolved, fetched and
    /// checked before anything is patched, so a typo or a conflict changes
    /// nothing. Only `metadata` is patched (JSON merge patches), never `spec`.
    pub fn adopt(&self, req: &AdoptRequest) -> anyhow::Result<Vec<AdoptOutcome>> {
        release::check_release_name(&req.release)?;
        anyhow::ensure!(
            !req.namespace.is_empty(),
            "adopt needs the release namespace"
        );
        let discovered = self.discovered()?;

        let mut planned = Vec::new();
        let mut seen = HashSet::new();
        for target in &req.targets {
            let (kind, name) = adopt::parse_target(target)?;
            let resource = discovered
                .resolve(kind)
                .ok_or_else(|| AdoptError::UnknownKind {
                    target: target.clone(),
                    kind: kind.to_string(),
                })?;
            let key = (
                resource.api_version(),
                resource.kind.clone(),
                name.to_string(),
            );
            if !seen.insert(key) {
                continue;
            }
            planned.push(self.plan_one(req, target, resource, name)?);
        }

        let mut outcomes = Vec::with_capacity(planned.len());
        for (mut outcome, api, resource_version) in planned {
            if outcome.status == AdoptStatus::Adopted {
                let patch = adopt::merge_patch(&outcome.changes, resource_version.as_deref());
                let name = outcome.name.clone();
                let what = format!("patching the ownership metadata of {}", outcome.object());
                let params = PatchParams {
                    field_manager: Some(adopt::ADOPT_FIELD_MANAGER.into()),
                    ..PatchParams::default()
                };
                let patched = {
                    let api = api.clone();
                    self.run(&what, async move {
                        api.patch(&name, &params, &Patch::Merge(&patch)).await
                    })
                };
                // The metadata is set: from here on a failure leaves this
                // object adopted, with its field ownership not (fully) moved.
                let done = patched.map_err(|e| (e, false)).and_then(|patched| {
                    let what = format!(
                        "handing the field ownership of {} to helm's field manager \"{}\"",
                        outcome.object(),
                        adopt::HELM_FIELD_MANAGER
                    );
                    self.hand_object_to_helm(&api, patched, &outcome.api_version, &what)
                        .map_err(|e| (e, true))
                });
                match done {
                    Ok(moved) => outcome.field_ownership = moved,
                    Err((err, this_adopted)) => {
                        let mut adopted: Vec<String> = outcomes
                            .iter()
                            .filter(|o: &&AdoptOutcome| o.status == AdoptStatus::Adopted)
                            .map(AdoptOutcome::object)
                            .collect();
                        if this_adopted {
                            adopted.push(format!("{} (ownership metadata only)", outcome.object()));
                        }
                        if adopted.is_empty() {
                            return Err(err);
                        }
                        return Err(err.context(format!(
                            "adoption stopped part-way; already adopted: {}",
                            adopted.join(", ")
                        )));
                    }
                }
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Fetches one object and decides what adopting it means, without changing it.
    fn plan_one(
        &self,
        req: &AdoptRequest,
        target: &str,
        resource: &ServedResource,
        name: &str,
    ) -> anyhow::Result<(AdoptOutcome, Api<DynamicObject>, Option<String>)> {
        let has = |verb: &str| resource.verbs.iter().any(|v| v == verb);
        if !has("get") || !has("patch") {
            return Err(AdoptError::NotPatchable {
                kind: resource.kind.clone(),
                api_version: resource.api_version(),
            }
            .into());
        }
        let ar = resource.api_resource();
        let namespace = resource.namespaced.then(|| req.namespace.clone());
        let api: Api<DynamicObject> = match &namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        };
        let object = adopt::describe_object(&resource.kind, name, namespace.as_deref());
        let fetched = {
            let api = api.clone();
            let name = name.to_string();
            self.run(&format!("reading {object}"), async move {
                api.get_opt(&name).await
            })?
        };
        let Some(found) = fetched else {
            return Err(AdoptError::NotFound { object }.into());
        };
        let meta = found.meta();
        let plan = adopt::plan(
            meta.labels.as_ref().unwrap_or(&Default::default()),
            meta.annotations.as_ref().unwrap_or(&Default::default()),
            &req.release,
            &req.namespace,
        );
        if let Some(owner) = &plan.other_owner
            && !req.force
        {
            return Err(AdoptError::OwnedByOtherRelease {
                object,
                owner: owner.clone(),
                release: req.release.clone(),
                namespace: req.namespace.clone(),
            }
            .into());
        }
        let status = if plan.changes.is_empty() {
            AdoptStatus::AlreadyOwned
        } else if req.dry_run {
            AdoptStatus::WouldAdopt
        } else {
            AdoptStatus::Adopted
        };
        // What the field ownership move would do to the object as read; an
        // actual adoption reports what it did (see `adopt`).
        let field_ownership = if status == AdoptStatus::AlreadyOwned {
            None
        } else {
            adopt::hand_fields_to_helm(&adopt::managed_fields_json(meta)?, &resource.api_version())
                .and_then(|(_, moved)| moved.shown())
        };
        let outcome = AdoptOutcome {
            target: target.to_string(),
            api_version: resource.api_version(),
            kind: resource.kind.clone(),
            name: name.to_string(),
            namespace,
            status,
            previous_owner: plan.other_owner,
            changes: plan.changes,
            field_ownership,
        };
        Ok((outcome, api, meta.resource_version.clone()))
    }

    /// Discovery, fetched once per `Cluster` (it is dozens of requests).
    fn discovered(&self) -> anyhow::Result<&Discovered> {
        if let Some(d) = self.discovered.get() {
            return Ok(d);
        }
        let client = self.client.clone();
        let fetched = self.run_any("discovering the API server's resources", async move {
            discovery::discover(&client).await
        })?;
        Ok(self.discovered.get_or_init(|| fetched))
    }

    /// Runs one kube call to completion within [`OPERATION_TIMEOUT`], turning
    /// its error into a readable one that says what was being done.
    /// Labels of the release records (Secrets or ConfigMaps) matching `lp`; only metadata is read,
    /// so no release content (values, Secrets) ever reaches helm-x.
    fn record_labels<K>(
        &self,
        namespace: &str,
        lp: &ListParams,
        what: &str,
    ) -> anyhow::Result<Vec<std::collections::BTreeMap<String, String>>>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        Ok(self
            .run(what, async move { api.list_metadata(lp).await })?
            .items
            .into_iter()
            .map(|m| m.metadata.labels.unwrap_or_default())
            .collect())
    }

    fn run<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, kube::Error>>,
    ) -> anyhow::Result<T> {
        self.run_any(what, async { fut.await.map_err(api_error) })
    }

    fn run_any<T>(
        &self,
        what: &str,
        fut: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let result = self
            .runtime
            .block_on(async { tokio::time::timeout(OPERATION_TIMEOUT, fut).await });
        match result {
            Ok(inner) => inner.with_context(|| format!("{what} ({})", self.server)),
            Err(_) => anyhow::bail!(
                "{what} ({}): no answer within {}s",
                self.server,
                OPERATION_TIMEOUT.as_secs()
            ),
        }
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server)
            .field("source", &self.source)
            .field("namespace", &self.namespace)
            .field("kube_version", &self.kube_version)
            .finish_non_exhaustive()
    }
}

/// kube's own rendering of an API error includes a Debug dump of the Status;
/// keep just what the server said.
fn api_error(err: kube::Error) -> anyhow::Error {
    match err {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                String::new()
            } else {
                format!(" {}", status.reason)
            };
            anyhow::anyhow!(
                "the API server answered {}{reason}: {}",
                status.code,
                status.message
            )
        }
        other => anyhow::Error::new(other),
    }
}
