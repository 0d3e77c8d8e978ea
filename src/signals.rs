//! Ctrl-C and SIGTERM: let helm finish its own interrupt handling, then clean up and exit with its code.
//!
//! The first signal is forwarded to a running helm child (unless the terminal already sent it to the
//! whole foreground group), which then gets [`CHILD_GRACE`] to exit before it is killed; helm-x stops
//! at its next checkpoint ([`check`], and every child start or exit), unwinds normally so the work
//! dir is removed after the main thread stopped writing to it, and exits with helm's code, or
//! 128+signal when no helm ran. A second signal exits at once, killing the children and removing
//! the registered work dirs.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGKILL, SIGTERM};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithRawSiginfo;

/// How long helm gets to finish its interrupt handling before it is killed.
pub const CHILD_GRACE: Duration = Duration::from_secs(30);

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
/// The first signal received, 0 while none was.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// helm-x was interrupted: unwind and exit with `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted by signal {signal}")]
pub struct Interrupted {
    /// The signal received.
    pub signal: i32,
    /// The exit code to use: helm's when it ran, else 128+signal.
    pub code: u8,
}

/// Starts the handler thread once per process; `main` calls it before anything else. If signals
/// cannot be hooked, helm-x still works; only the cleanup-on-signal guarantee is lost, and that is
/// said on stderr.
pub fn install() {
    INSTALL.call_once(|| match SignalsInfo::<WithRawSiginfo>::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                for info in signals.forever() {
                    // si_code <= 0: sent by a process (kill, sigqueue, tkill); the terminal's
                    // Ctrl-C comes from the kernel (SI_KERNEL) to the whole foreground group.
                    received(info.si_signo, info.si_code <= 0);
                }
            });
        }
        Err(e) => eprintln!(
            "helm-x: warning: cannot handle signals ({e}); work dirs may be left behind on Ctrl-C"
        ),
    });
}

fn received(sig: i32, sent_to_us_alone: bool) {
    if RECEIVED
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        shutdown(sig);
    }
    // A terminal's Ctrl-C already reached helm (same foreground group); `kill` reached us only.
    if sent_to_us_alone {
        signal_children(sig);
    }
    std::thread::spawn(|| {
        let start = Instant::now();
        while !registry().children.is_empty() {
            if start.elapsed() > CHILD_GRACE {
                signal_children(SIGKILL);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
}

fn signal_children(sig: i32) {
    for pid in &registry().children {
        if let Ok(pid) = i32::try_from(*pid) {
            // SAFETY: kill(2) has no memory-safety preconditions; a stale pid only yields ESRCH.
            unsafe { libc::kill(pid, sig) };
        }
    }
}

/// The second signal: no more waiting.
fn shutdown(sig: i32) -> ! {
    let reg = registry();
    for pid in &reg.children {
        if let Ok(pid) = i32::try_from(*pid) {
            // SAFETY: as above.
            unsafe { libc::kill(pid, SIGKILL) };
        }
    }
    for dir in &reg.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    std::process::exit(128 + sig);
}

/// The signal received so far, if any.
pub fn received_signal() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// A checkpoint: stop here once a signal arrived.
pub fn check() -> Result<(), Interrupted> {
    match received_signal() {
        None => Ok(()),
        Some(signal) => Err(Interrupted {
            signal,
            code: u8::try_from(128 + signal).unwrap_or(u8::MAX),
        }),
    }
}

/// After a child exited: when a signal arrived meanwhile, stop with the child's exit code.
pub fn check_after_child(code: Option<i32>) -> Result<(), Interrupted> {
    check().map_err(|mut e| {
        if let Some(code) = code.and_then(|c| u8::try_from(c).ok()) {
            e.code = code;
        }
        e
    })
}

/// Creates a dir with `make` and registers it for removal on a second signal in one step, so a
/// signal can never see the dir without its registration.
pub fn create_registered<T>(
    make: impl FnOnce() -> std::io::Result<T>,
    path: impl Fn(&T) -> PathBuf,
) -> std::io::Result<(T, DirGuard)> {
    install();
    let mut reg = registry();
    let made = make()?;
    let dir = path(&made);
    reg.dirs.push(dir.clone());
    Ok((made, DirGuard(dir)))
}

/// Keeps a work dir registered for removal on a second signal.
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
