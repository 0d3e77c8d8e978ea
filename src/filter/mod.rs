//! Transformations of the document stream besides patches, each one small module with its tests.

pub mod namespace;
