//! One action per subcommand, like helm's `pkg/action`: each composes source → filters → sink and
//! decides which helm command runs. `cli/` only parses argv into an [`Invocation`] and calls one.
//!
//! [`Invocation`]: crate::invocation::Invocation

pub mod adopt;
pub mod apply;
pub mod argocd;
pub mod diff;
pub mod export;
pub mod passthrough;
pub mod postrender;
pub mod template;

use std::process::ExitCode;

/// Helm's exit status as ours; a signal death becomes 128+N like a shell reports it.
pub fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    let code = crate::process::exit_code(status);
    ExitCode::from(code.and_then(|c| u8::try_from(c).ok()).unwrap_or(1))
}
