//! `helm-x`: the binary behind `helm x`. All logic lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything can create a work dir or start helm.
    helm_x::signals::install();
    let argv = std::env::args_os().skip(1).collect();
    match helm_x::cli::run(argv) {
        Ok(code) => code,
        Err(e) => match e.downcast_ref::<helm_x::signals::Interrupted>() {
            // helm already said what it had to; its code (or 128+signal) is ours.
            Some(interrupted) => ExitCode::from(interrupted.code),
            None => {
                eprintln!("Error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
