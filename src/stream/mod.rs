//! YAML streams as Helm and kubectl see them.
//!
//! * [`split`] cuts a multi-document stream into [`RawDoc`]s using a real YAML parser
//!   (saphyr-parser events and their positions), so `---` inside a block scalar never splits.
//! * [`load`] / [`load_all`] turn YAML into `serde_json::Value` the way go-yaml v2 plus
//!   sigs.k8s.io/yaml do (YAML 1.1 booleans, octal `0755`, `1_000`, stringified keys, merge keys).
//! * [`emit`] writes block YAML that go-yaml v2, YAML 1.1 and YAML 1.2 readers all read back
//!   as exactly the same value (quotes `yes`, `on`, `0755`, `1_000`, `2001-12-14`, ...).

mod document;
mod emit;
mod load;
mod resolve;
mod scan;
mod split;

#[cfg(test)]
mod kubectl_oracle;

pub use document::Document;
pub use emit::emit;
pub use load::{DuplicateKeys, LoadOptions, load, load_all, load_all_with, load_with};
pub use split::{RawDoc, split, split_load};

use saphyr_parser::{Marker, ScanError};

/// A YAML syntax or conversion error with a 1-based position, so callers can report
/// "file X, document N, line L".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    /// 1-based line in the text that was parsed.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What went wrong, without position.
    pub message: String,
}

impl YamlError {
    fn at(mark: &Marker, message: impl Into<String>) -> Self {
        YamlError {
            line: mark.line().max(1),
            column: mark.col() + 1,
            message: message.into(),
        }
    }

    fn scan(err: &ScanError) -> Self {
        Self::at(err.marker(), err.info())
    }
}
