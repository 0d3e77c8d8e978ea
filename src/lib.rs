//! helm-x: turn charts, kustomizations and manifest dirs into patched, real Helm releases.
//!
//! The pipeline (see `pipeline`) is: detect and load the input (`input`), parse it into a stream of
//! documents (`stream`), apply patches (`patch`), write a temporary chart (`chart`) and hand it to the
//! real helm (`helm`).

pub mod action;
pub mod chart;
pub mod cli;
pub mod cluster;
pub mod diff;
pub mod encoding;
pub mod filter;
pub mod helm;
pub mod input;
pub mod invocation;
pub mod patch;
pub mod pipeline;
pub mod process;
pub mod signals;
pub mod stream;
#[cfg(test)]
mod testutil;
pub mod validate;
