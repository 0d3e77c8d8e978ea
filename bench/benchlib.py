"""Process measurement shared by scripts/bench and scripts/bench-diff (Python 3.11 stdlib only).

- spawn(): runs an argv (no shell) in its own session with os.posix_spawn, waits with os.wait4 and
  returns the wall time and ru_maxrss. On Linux ru_maxrss of a waited-for child is the largest peak
  RSS of the child *and of every descendant it waited for* (signal->cmaxrss): the largest process
  of the tree. Caveat: a process started with vfork/CLONE_VM (posix_spawn) or fork inherits its
  parent's high-water mark in ru_maxrss, so every ru_maxrss is at least the RSS of the Python
  process that started it (reported as the floor).
- Optionally /proc/PID/status VmHWM is sampled every 10 ms, of every process of the tree (found
  through /proc/PID/task/*/children), by program name. VmHWM belongs to the process's memory
  (no inheritance); it is a high-water mark, so a sample misses only the growth since the previous
  one. Run under `strace` with hold_at_exit(), every traced process is held for 100 ms at the entry
  of exit_group with its memory still mapped, and the sample taken there is its final peak (exact).
- detached_wrapper(): a stand-in for a tool (HELM_BIN, KUBECTL_BIN) that runs the real tool in a
  grandchild, which logs argv, wall time, ru_maxrss and exit code as a JSON line; the wrapper exits
  without reaping it, so the tool's peak does not reach its caller's ru_maxrss. While such a run is
  going on the caller sets PR_SET_CHILD_SUBREAPER, so the orphaned grandchildren are reparented to
  it, and reap() collects them.
"""

import ctypes
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

CURRENT = {"pgid": None}  # the process group running now, killed on Ctrl-C / SIGTERM


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def _children(pid):
    out = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            pass
    return out


EXIT_GROUP = {"x86_64": 231, "aarch64": 94}.get(platform.machine())


def _status(pid):
    """(name, VmHWM kB, stopped in exit_group) of a process."""
    try:
        with open("/proc/%d/status" % pid) as f:
            text = f.read()
    except OSError:
        return None, None, False
    n = re.search(r"^Name:\s+(\S+)", text, re.M)
    m = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
    at_exit = False
    if EXIT_GROUP is not None and re.search(r"^State:\s+t", text, re.M):
        try:  # a tracing stop: in exit_group when strace holds it there (exit_delay_args)
            with open("/proc/%d/syscall" % pid) as f:
                at_exit = f.read().split()[0] == str(EXIT_GROUP)
        except (OSError, IndexError):
            pass
    return (n.group(1) if n else None), (int(m.group(1)) if m else None), at_exit


HOLD_MS = 100  # how long strace holds a process at exit_group


def exit_delay_args(strace, ms=HOLD_MS):
    """strace options that hold every traced process for `ms` at the entry of exit_group, with its memory
    still mapped, so that a Sampler reads its final VmHWM; [] when this strace cannot inject delays."""
    if not strace or EXIT_GROUP is None:
        return []
    opts = ["-e", "trace=execve,exit_group", "-e", "inject=exit_group:delay_enter=%d" % (ms * 1000)]
    try:
        ok = subprocess.run([strace, "-f", "-qq", "-o", os.devnull] + opts + ["true"], capture_output=True,
                            timeout=30).returncode == 0
    except (OSError, ValueError, subprocess.SubprocessError):
        ok = False
    return opts if ok else []


def hold_at_exit(strace):
    """An argv prefix: strace holding the command (its own process only, not its children) at exit_group,
    for an exact VmHWM of it; None when strace cannot do it."""
    opts = exit_delay_args(strace)
    return [strace, "-qq", "-o", os.devnull, "-e", "signal=none"] + opts if opts else None


class Sampler(threading.Thread):
    """Samples VmHWM (a high-water mark: only growth in the last interval before exit can be missed)."""

    def __init__(self, root, tree, interval=0.01):
        super().__init__(daemon=True)
        self.root, self.tree, self.interval = root, tree, interval
        self.done = threading.Event()
        self.root_name = None
        self.root_kb = None
        self.by_pid = {}  # (pid, name) -> kb
        self.at_exit = set()  # (pid, name) seen stopped in exit_group: its VmHWM is final

    def run(self):
        while not self.done.is_set():
            pids = [self.root]
            if self.tree:
                i = 0
                while i < len(pids) and i < 500:
                    pids += _children(pids[i])
                    i += 1
            for pid in pids:
                name, kb, at_exit = _status(pid)
                if name is None or kb is None:
                    continue
                if pid == self.root and (self.root_name is None or self.root_name == name):
                    self.root_name = name
                    self.root_kb = max(self.root_kb or 0, kb)
                k = (pid, name)
                self.by_pid[k] = max(self.by_pid.get(k, 0), kb)
                if at_exit:
                    self.at_exit.add(k)
            self.done.wait(self.interval)

    def peaks_by_name(self):
        """{name: [kB, final]}: the largest VmHWM of the processes of that name, and whether it was read
        while that process was held in exit_group (then it is its final peak, not a lower bound)."""
        out = {}
        for k, kb in self.by_pid.items():
            name = k[1]
            if name not in out or kb > out[name][0]:
                out[name] = [kb, k in self.at_exit]
        return dict(sorted(out.items()))


def spawn(argv, env, stdout_path=None, timeout=1800, sample=None, stderr_dir=None):
    """Runs argv in its own session; returns {rc, seconds, maxrss_kb, stderr, timed_out[, own_hwm_kb,
    peaks_kb]}. sample: None, "root" (VmHWM of the child) or "tree" (VmHWM of every process of the tree,
    by program name: {name: [kB, final]}, plus the child's)."""
    argv = [str(a) for a in argv]
    err_fd, err_path = tempfile.mkstemp(prefix="stderr.", dir=stderr_dir or env.get("TMPDIR") or None)
    os.close(err_fd)
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, stdout_path or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
               (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_TRUNC, 0o644)]
    exe = argv[0] if os.sep in argv[0] else shutil.which(argv[0], path=env.get("PATH"))
    if not exe:
        os.unlink(err_path)
        raise OSError("not found on PATH: %s" % argv[0])
    t0 = time.perf_counter()
    pid = os.posix_spawn(exe, argv, env, file_actions=actions, setsid=True)
    CURRENT["pgid"] = pid
    fired = []
    killer = threading.Timer(timeout, lambda: (fired.append(1), kill_group(pid)))
    killer.daemon = True
    killer.start()
    sampler = None
    if sample:
        sampler = Sampler(pid, sample == "tree")
        sampler.start()
    try:
        _, status, ru = os.wait4(pid, 0)
    except BaseException:  # Ctrl-C / SIGTERM: the child's whole process group goes first
        kill_group(pid)
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
        raise
    finally:
        if sampler:
            sampler.done.set()
        killer.cancel()
        CURRENT["pgid"] = None
    seconds = time.perf_counter() - t0
    if sampler:
        sampler.join()
    # The session may have left processes behind (a killed run): they go with it.
    if fired:
        kill_group(pid)
    with open(err_path, encoding="utf-8", errors="replace") as f:
        stderr = f.read()
    os.unlink(err_path)
    res = {"rc": os.waitstatus_to_exitcode(status), "seconds": seconds, "maxrss_kb": ru.ru_maxrss,
           "stderr": stderr, "timed_out": bool(fired)}
    if sampler:
        res["own_hwm_kb"] = sampler.root_kb
        res["peaks_kb"] = sampler.peaks_by_name()
    return res


# --------------------------------------------------------------------------------------------
# detached wrappers

WRAPPER = r'''#!%(python)s
# A stand-in for %(real)s, written by bench/benchlib.py for one memory run. It runs the real program
# in a grandchild, which records argv, time, ru_maxrss and exit code, and exits without reaping it,
# so that the program's peak RSS never reaches the caller's ru_maxrss.
import json, os, resource, sys, time
REAL, LOG = %(real)r, %(log)r
r, w = os.pipe()
if os.fork() == 0:
    os.close(r)
    t0 = time.perf_counter()
    pid = os.posix_spawn(REAL, [REAL] + sys.argv[1:], os.environ)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    _, status, ru = os.wait4(pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    rc = rc if rc >= 0 else 128 - rc
    with open(LOG, "a") as f:
        f.write(json.dumps({"program": os.path.basename(REAL), "argv": sys.argv[1:],
                            "seconds": round(time.perf_counter() - t0, 4), "maxrss_kb": ru.ru_maxrss,
                            "rc": rc, "reaper_pid": os.getpid()}) + "\n")
    os.write(w, b"%%d" %% rc)
    os._exit(0)
os.close(w)
null = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
data = b""
while True:
    chunk = os.read(r, 64)
    if not chunk:
        break
    data += chunk
# The wrapper's own peak: VmHWM of its own memory. (ru_maxrss would not do: a child started with
# vfork/CLONE_VM, as posix_spawn does, starts with its parent's high-water mark.)
with open("/proc/self/status") as f:
    hwm = [int(l.split()[1]) for l in f if l.startswith("VmHWM:")]
with open(LOG, "a") as f:
    f.write(json.dumps({"wrapper_maxrss_kb": max(hwm or [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss])}) + "\n")
os._exit(int(data) if data.strip() else 1)
'''


def detached_wrapper(path, real, log):
    """Writes a detached wrapper for the program `real` at `path`, logging to `log`."""
    with open(path, "w") as f:
        f.write(WRAPPER % {"python": sys.executable, "real": real, "log": log})
    os.chmod(path, 0o755)
    return path


def read_log(log):
    """(calls, largest wrapper peak kB) from a wrapper log."""
    calls, wrappers = [], []
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                if not line.strip():
                    continue
                d = json.loads(line)
                if "wrapper_maxrss_kb" in d:
                    wrappers.append(d["wrapper_maxrss_kb"])
                else:
                    calls.append(d)
    return calls, max(wrappers or [0])


_PR_SET_CHILD_SUBREAPER = 36


def set_subreaper(on):
    """PR_SET_CHILD_SUBREAPER on this process; False when the kernel refuses."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap(pids, wait=2.0):
    """Reaps the wrappers' orphaned grandchildren (when they were reparented to us)."""
    deadline = time.time() + wait
    for pid in pids:
        while True:
            try:
                got, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break  # not ours (reparented to init) or already reaped
            if got or time.time() > deadline:
                break
            time.sleep(0.01)
