//! `helm-x`: the binary behind `helm x`. All logic lives in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv = std::env::args_os().skip(1).collect();
    match helm_x::cli::run(argv) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
