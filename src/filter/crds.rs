//! CRDs of a kustomization or manifests release outlive `helm uninstall`, as CRDs in a chart's
//! `crds/` dir do: deleting a CRD deletes every custom resource of its kinds, in every namespace.

use anyhow::Result;

use crate::stream::Stream;

/// The annotation by which helm leaves an object in the cluster when the release goes.
const KEEP: (&str, &str) = ("helm.sh/resource-policy", "keep");

/// Marks every CRD of the stream to be kept.
pub fn keep(stream: &mut Stream) -> Result<()> {
    for doc in stream.documents.iter_mut().filter(|d| d.is_crd()) {
        doc.set_annotation(KEEP.0, KEEP.1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_crds_are_kept() {
        let mut stream = Stream::parse(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
            "t",
            |_| String::new(),
        )
        .unwrap();
        keep(&mut stream).unwrap();
        let kept: Vec<Option<&str>> = stream
            .documents
            .iter()
            .map(|d| d.annotation(KEEP.0))
            .collect();
        assert_eq!(kept, [Some("keep"), None]);
        assert!(!stream.documents[1].is_modified());
    }
}
