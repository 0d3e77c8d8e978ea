//! The built-in kinds: each `(apiVersion, kind)` that Kubernetes 1.33 serves (k8s-openapi's
//! `v1_33` feature), with the function that checks an object against its type.

use k8s_openapi as k8s;
use k8s_openapi::Resource;
use serde_json::Value;

use super::de::{self, Ctx};

/// Checks one object against its type, recording unknown keys in the context.
pub type Check = fn(&Value, &Ctx) -> Result<(), de::Error>;

macro_rules! kinds {
    ($($ty:ty),* $(,)?) => {
        &[$((<$ty as Resource>::API_VERSION, <$ty as Resource>::KIND, de::check::<$ty> as Check)),*]
    };
}

/// Every top-level type of k8s-openapi's Kubernetes 1.33 (GA, beta and alpha groups alike).
static KINDS: &[(&str, &str, Check)] = kinds![
    k8s::api::admissionregistration::v1::MutatingWebhookConfiguration,
    k8s::api::admissionregistration::v1::ValidatingAdmissionPolicy,
    k8s::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
    k8s::api::admissionregistration::v1::ValidatingWebhookConfiguration,
    k8s::api::admissionregistration::v1alpha1::MutatingAdmissionPolicy,
    k8s::api::admissionregistration::v1alpha1::MutatingAdmissionPolicyBinding,
    k8s::api::admissionregistration::v1beta1::ValidatingAdmissionPolicy,
    k8s::api::admissionregistration::v1beta1::ValidatingAdmissionPolicyBinding,
    k8s::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    k8s::kube_aggregator::pkg::apis::apiregistration::v1::APIService,
    k8s::api::apps::v1::ControllerRevision,
    k8s::api::apps::v1::DaemonSet,
    k8s::api::apps::v1::Deployment,
    k8s::api::apps::v1::ReplicaSet,
    k8s::api::apps::v1::StatefulSet,
    k8s::api::authentication::v1::SelfSubjectReview,
    k8s::api::authentication::v1::TokenRequest,
    k8s::api::authentication::v1::TokenReview,
    k8s::api::authorization::v1::LocalSubjectAccessReview,
    k8s::api::authorization::v1::SelfSubjectAccessReview,
    k8s::api::authorization::v1::SelfSubjectRulesReview,
    k8s::api::authorization::v1::SubjectAccessReview,
    k8s::api::autoscaling::v1::HorizontalPodAutoscaler,
    k8s::api::autoscaling::v1::Scale,
    k8s::api::autoscaling::v2::HorizontalPodAutoscaler,
    k8s::api::batch::v1::CronJob,
    k8s::api::batch::v1::Job,
    k8s::api::certificates::v1::CertificateSigningRequest,
    k8s::api::certificates::v1alpha1::ClusterTrustBundle,
    k8s::api::certificates::v1beta1::ClusterTrustBundle,
    k8s::api::coordination::v1::Lease,
    k8s::api::coordination::v1alpha2::LeaseCandidate,
    k8s::api::coordination::v1beta1::LeaseCandidate,
    k8s::api::discovery::v1::EndpointSlice,
    k8s::api::events::v1::Event,
    k8s::api::flowcontrol::v1::FlowSchema,
    k8s::api::flowcontrol::v1::PriorityLevelConfiguration,
    k8s::api::apiserverinternal::v1alpha1::StorageVersion,
    k8s::api::networking::v1::IPAddress,
    k8s::api::networking::v1::Ingress,
    k8s::api::networking::v1::IngressClass,
    k8s::api::networking::v1::NetworkPolicy,
    k8s::api::networking::v1::ServiceCIDR,
    k8s::api::networking::v1beta1::IPAddress,
    k8s::api::networking::v1beta1::ServiceCIDR,
    k8s::api::node::v1::RuntimeClass,
    k8s::api::policy::v1::Eviction,
    k8s::api::policy::v1::PodDisruptionBudget,
    k8s::api::rbac::v1::ClusterRole,
    k8s::api::rbac::v1::ClusterRoleBinding,
    k8s::api::rbac::v1::Role,
    k8s::api::rbac::v1::RoleBinding,
    k8s::api::resource::v1alpha3::DeviceClass,
    k8s::api::resource::v1alpha3::DeviceTaintRule,
    k8s::api::resource::v1alpha3::ResourceClaim,
    k8s::api::resource::v1alpha3::ResourceClaimTemplate,
    k8s::api::resource::v1alpha3::ResourceSlice,
    k8s::api::resource::v1beta1::DeviceClass,
    k8s::api::resource::v1beta1::ResourceClaim,
    k8s::api::resource::v1beta1::ResourceClaimTemplate,
    k8s::api::resource::v1beta1::ResourceSlice,
    k8s::api::resource::v1beta2::DeviceClass,
    k8s::api::resource::v1beta2::ResourceClaim,
    k8s::api::resource::v1beta2::ResourceClaimTemplate,
    k8s::api::resource::v1beta2::ResourceSlice,
    k8s::api::scheduling::v1::PriorityClass,
    k8s::api::storage::v1::CSIDriver,
    k8s::api::storage::v1::CSINode,
    k8s::api::storage::v1::CSIStorageCapacity,
    k8s::api::storage::v1::StorageClass,
    k8s::api::storage::v1::VolumeAttachment,
    k8s::api::storage::v1alpha1::VolumeAttributesClass,
    k8s::api::storage::v1beta1::VolumeAttributesClass,
    k8s::api::storagemigration::v1alpha1::StorageVersionMigration,
    k8s::api::core::v1::Binding,
    k8s::api::core::v1::ComponentStatus,
    k8s::api::core::v1::ConfigMap,
    k8s::api::core::v1::Endpoints,
    k8s::api::core::v1::Event,
    k8s::api::core::v1::LimitRange,
    k8s::api::core::v1::Namespace,
    k8s::api::core::v1::Node,
    k8s::api::core::v1::PersistentVolume,
    k8s::api::core::v1::PersistentVolumeClaim,
    k8s::api::core::v1::Pod,
    k8s::api::core::v1::PodTemplate,
    k8s::api::core::v1::ReplicationController,
    k8s::api::core::v1::ResourceQuota,
    k8s::api::core::v1::Secret,
    k8s::api::core::v1::Service,
    k8s::api::core::v1::ServiceAccount,
];

/// The check for `apiVersion`/`kind`, when Kubernetes has that kind built in.
pub fn lookup(api_version: &str, kind: &str) -> Option<Check> {
    KINDS
        .iter()
        .find(|(v, k, _)| *v == api_version && *k == kind)
        .map(|(_, _, check)| *check)
}

/// The apiVersions that serve `kind` as a built-in, for a hint when the one given is not one.
pub fn versions_of(kind: &str) -> Vec<&'static str> {
    KINDS
        .iter()
        .filter(|(_, k, _)| *k == kind)
        .map(|(v, _, _)| *v)
        .collect()
}

/// Checks an object's `metadata` (a custom resource's, which no CRD schema describes).
pub fn check_metadata(value: &Value, ctx: &Ctx) -> Result<(), de::Error> {
    de::check::<k8s::apimachinery::pkg::apis::meta::v1::ObjectMeta>(value, ctx)
}
