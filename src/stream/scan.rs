//! Placeholder until the scanner lands: declines every stream.

use super::RawDoc;

/// What one pass learns about a document without building its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scanned {
    pub raw: RawDoc,
    pub head: Option<Head>,
}

/// The fields of a document's top-level mapping that later stages look up without parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Head {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub annotations: Vec<(String, String)>,
}

pub(crate) fn scan(_text: &str) -> Option<Vec<Scanned>> {
    None
}
