//! Ctrl-C and SIGTERM handling: stop the helm child, remove private work dirs, exit like a shell would.
//!
//! Destructors do not run when a signal kills the process, so work dirs that must never be left behind
//! are registered here and removed by a handler thread instead.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, Once};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

#[derive(Default)]
struct Registry {
    dirs: Vec<PathBuf>,
    children: Vec<u32>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    dirs: Vec::new(),
    children: Vec::new(),
});
static INSTALL: Once = Once::new();

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts the handler thread once per process. If signals cannot be hooked, helm-x still works; only
/// the cleanup-on-signal guarantee is lost, and that is said on stderr.
pub fn install() {
    INSTALL.call_once(|| match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    shutdown(sig);
                }
            });
        }
        Err(e) => eprintln!(
            "helm-x: warning: cannot handle signals ({e}); work dirs may be left behind on Ctrl-C"
        ),
    });
}

fn shutdown(sig: i32) -> ! {
    let reg = registry();
    for pid in &reg.children {
        // Forwarding matters for SIGTERM sent to helm-x alone; on Ctrl-C the child already got it.
        if let Ok(pid) = i32::try_from(*pid) {
            // SAFETY: kill(2) has no memory-safety preconditions; a stale pid only yields ESRCH.
            unsafe { libc::kill(pid, sig) };
        }
    }
    for dir in &reg.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    std::process::exit(128 + sig);
}

/// Removes `dir` if the process is interrupted; the returned guard unregisters it when dropped.
pub fn remove_on_signal(dir: PathBuf) -> DirGuard {
    install();
    registry().dirs.push(dir.clone());
    DirGuard(dir)
}

/// Keeps a work dir registered for removal on signal.
#[derive(Debug)]
pub struct DirGuard(PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        registry().dirs.retain(|d| d != &self.0);
    }
}

/// Forwards termination signals to `pid` while the returned guard lives.
pub fn track_child(pid: u32) -> ChildGuard {
    install();
    registry().children.push(pid);
    ChildGuard(pid)
}

/// Keeps a child registered for signal forwarding.
#[derive(Debug)]
pub struct ChildGuard(u32);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        registry().children.retain(|p| *p != self.0);
    }
}
