//! Child processes as argv vectors: never a shell, never a string split on spaces.
//!
//! Every external tool (helm, kustomize, kubectl) runs through here, so signal forwarding, debug
//! tracing and error wording are the same for all of them.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};

use anyhow::{Context, Result, bail};

use crate::signals;

/// Extra environment for one child, on top of helm-x's own.
pub type Env = [(OsString, OsString)];

/// Runs `bin args…` with inherited stdio, so the user sees the tool's output live.
pub fn run<S: AsRef<OsStr>>(bin: &Path, args: &[S]) -> Result<ExitStatus> {
    run_env(bin, args, &[])
}

/// [`run`] with extra environment variables.
pub fn run_env<S: AsRef<OsStr>>(bin: &Path, args: &[S], env: &Env) -> Result<ExitStatus> {
    trace(bin, args);
    signals::check()?;
    let mut child = Command::new(bin)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let guard = signals::track_child(child.id());
    let status = child
        .wait()
        .with_context(|| format!("waiting for {}", bin.display()))?;
    drop(guard);
    signals::check_after_child(exit_code(status))?;
    Ok(status)
}

/// A child's exit status as a shell reports it: its code, or 128+N for a signal death.
pub fn exit_code(status: ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    use std::os::unix::process::ExitStatusExt;
    let code = status.code();
    #[cfg(unix)]
    let code = code.or_else(|| status.signal().map(|s| 128 + s));
    code
}

/// Runs `bin args…` capturing stdout (stderr streams to the user), whatever the exit status.
pub fn output<S: AsRef<OsStr>>(bin: &Path, args: &[S]) -> Result<Output> {
    collect(bin, args, Stdio::inherit())
}

/// Runs `bin args…` capturing stdout and stderr, for callers that interpret failures themselves.
pub fn output_quiet<S: AsRef<OsStr>>(bin: &Path, args: &[S]) -> Result<Output> {
    collect(bin, args, Stdio::piped())
}

fn collect<S: AsRef<OsStr>>(bin: &Path, args: &[S], stderr: Stdio) -> Result<Output> {
    trace(bin, args);
    signals::check()?;
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let guard = signals::track_child(child.id());
    let out = child
        .wait_with_output()
        .with_context(|| format!("waiting for {}", bin.display()))?;
    drop(guard);
    signals::check_after_child(exit_code(out.status))?;
    Ok(out)
}

/// Runs `bin args…` and returns its stdout, or an error naming the command when it fails.
pub fn capture<S: AsRef<OsStr>>(bin: &Path, args: &[S]) -> Result<String> {
    let out = output(bin, args)?;
    if !out.status.success() {
        bail!("`{}` failed ({})", display(bin, args), out.status);
    }
    String::from_utf8(out.stdout)
        .with_context(|| format!("`{}` printed output that is not UTF-8", display(bin, args)))
}

/// Renders an argv for messages; the quoting is for humans only, the argv itself never meets a shell.
pub fn display<S: AsRef<OsStr>>(bin: &Path, args: &[S]) -> String {
    let mut s = bin.display().to_string();
    for a in args {
        let a = a.as_ref().to_string_lossy();
        s.push(' ');
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
            s.push('\'');
            s.push_str(&a.replace('\'', r"'\''"));
            s.push('\'');
        } else {
            s.push_str(&a);
        }
    }
    s
}

fn trace<S: AsRef<OsStr>>(bin: &Path, args: &[S]) {
    if crate::helm::Settings::from_env().debug {
        eprintln!("helm-x: running {}", display(bin, args));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_for_humans() {
        assert_eq!(
            display(Path::new("helm"), &["template", "a b", "it's"]),
            r"helm template 'a b' 'it'\''s'"
        );
    }

    #[test]
    fn capture_reports_failures() {
        let sh = which::which("false").unwrap();
        let e = capture(&sh, &[] as &[&str]).unwrap_err().to_string();
        assert!(e.contains("failed"), "{e}");
        let echo = which::which("echo").unwrap();
        assert_eq!(capture(&echo, &["a b"]).unwrap(), "a b\n");
    }
}
