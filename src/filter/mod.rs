//! Transformations of the document stream besides patches (which live in `patch`), each one small
//! module with its tests: a function that changes a [`crate::stream::Stream`] in place.

pub mod crds;
pub mod inject;
pub mod namespace;
pub mod transform;
