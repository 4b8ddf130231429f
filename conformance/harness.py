"""Runtime-agnostic plumbing for the conformance checks.

Everything a check needs to drive an OCI runtime binary through the
command line that runc established (`--root DIR create|start|state|kill|delete|run`)
and to look at the result from the host side: bundles, state JSON, cgroup
files, and the key=value report of the static probe run inside the container.
"""

import json
import os
import random
import shutil
import signal
import string
import subprocess
import tempfile
import time
from contextlib import contextmanager

HERE = os.path.dirname(os.path.abspath(__file__))
# Every cgroup the suite asks for lives below a directory with this prefix,
# so leftovers can be found and removed whatever the runtime did.
CGROUP_PREFIX = "ocirun-conformance"
DEFAULT_TIMEOUT = 20


class Skip(Exception):
    """The check cannot run here (missing kernel feature, runtime feature, ...)."""


class Fail(AssertionError):
    """The runtime violated the statement the check tests."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Result:
    def __init__(self, rc, out, err, timed_out=False):
        self.rc, self.out, self.err, self.timed_out = rc, out, err, timed_out

    def __repr__(self):
        return "rc=%s timed_out=%s out=%r err=%r" % (self.rc, self.timed_out, self.out[-400:], self.err[-400:])


def run_bounded(argv, timeout=DEFAULT_TIMEOUT, input=None, stdin=None, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, cwd=None, env=None):
    """Run argv with a hard timeout; on timeout kill the whole process group we started."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else (stdin or subprocess.DEVNULL),
                         stdout=stdout, stderr=stderr, cwd=cwd, env=env, start_new_session=True)
    try:
        out, err = p.communicate(input=input.encode() if isinstance(input, str) else input, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            out, err = p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            out, err = b"", b""
        timed_out = True
    dec = lambda b: (b or b"").decode("utf-8", "replace")
    return Result(p.returncode, dec(out), dec(err), timed_out)


def parse_report(text):
    """Parse probe output into a dict; repeated keys keep a list under key+'[]'."""
    rep = {}
    for line in text.splitlines():
        if "=" not in line:
            continue
        k, v = line.split("=", 1)
        rep.setdefault(k + "[]", []).append(v)
        rep[k] = v
    return rep


# --------------------------------------------------------------------------- runtimes

class Runtime:
    def __init__(self, path):
        found = shutil.which(path) if os.sep not in path else path
        if not found or not os.access(found, os.X_OK):
            raise SystemExit("runtime not found or not executable: %s" % path)
        self.path = os.path.abspath(found)
        self.name = os.path.basename(path.rstrip("/"))
        self.timeouts_in_row = 0     # the runner stops using a runtime that hangs on every command

    def __call__(self, root, *args, timeout=DEFAULT_TIMEOUT, **kw):
        r = run_bounded([self.path, "--root", root] + [str(a) for a in args], timeout=timeout, **kw)
        self.timeouts_in_row = self.timeouts_in_row + 1 if r.timed_out else 0
        return r


# --------------------------------------------------------------------------- cgroups

def cgroup_mounts():
    """(v1 map controller -> mountpoint, unified mountpoint or None)."""
    v1, v2 = {}, None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.rstrip("\n").split(" - ", 1)
            fields = left.split()
            fstype, _src, superopts = right.split(" ", 2)
            mp = fields[4]
            if fstype == "cgroup2":
                v2 = mp
            elif fstype == "cgroup":
                for o in superopts.split(","):
                    if o in ("rw", "ro") or o.startswith(("relatime", "release_agent", "clone_children", "xattr")):
                        continue
                    v1.setdefault(o, mp)
    return v1, v2


def proc_cgroups(pid):
    """{controller: path} for v1 entries and {'': path} for the unified entry."""
    out = {}
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _hid, ctrls, path = line.rstrip("\n").split(":", 2)
            if not ctrls:
                out[""] = path
            for c in ctrls.split(","):
                out[c] = path
    return out


def v2_controllers():
    _v1, v2 = cgroup_mounts()
    if not v2:
        return set()
    try:
        with open(os.path.join(v2, "cgroup.controllers")) as f:
            return set(f.read().split())
    except OSError:
        return set()


def cgroup_dir(pid, controller):
    """Directory holding `controller`'s files for process pid and the cgroup version (1 or 2)."""
    v1, v2 = cgroup_mounts()
    pc = proc_cgroups(pid)
    if controller in v1 and controller in pc:
        return os.path.join(v1[controller], pc[controller].lstrip("/")), 1
    if v2 and "" in pc and controller in v2_controllers():
        return os.path.join(v2, pc[""].lstrip("/")), 2
    raise Skip("cgroup controller %s is not available on this host" % controller)


def read_text(path):
    with open(path) as f:
        return f.read().strip()


def sweep_cgroups():
    """Remove every empty cgroup directory the suite may have left, deepest first."""
    v1, v2 = cgroup_mounts()
    mounts = set(v1.values()) | ({v2} if v2 else set())
    for mp in mounts:
        found = []
        for dirpath, dirnames, _ in os.walk(mp):
            depth = dirpath[len(mp):].count("/")
            if depth > 4:
                dirnames[:] = []
                continue
            for d in dirnames:
                if d.startswith(CGROUP_PREFIX):
                    found.append(os.path.join(dirpath, d))
            dirnames[:] = [d for d in dirnames if not d.startswith(CGROUP_PREFIX)]
        for top in found:
            remove_cgroup_tree(top)


def remove_cgroup_tree(top):
    for dirpath, _dirnames, _ in sorted(os.walk(top), key=lambda t: -t[0].count("/")):
        kill_cgroup_procs(dirpath)
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


def kill_cgroup_procs(path):
    """SIGKILL processes left in a cgroup the suite created (they are containers it started)."""
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            pids = [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    if pids:
        time.sleep(0.1)


# --------------------------------------------------------------------------- rootfs and config

def rand_id(n=10):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


ROOTFS_PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
alice:x:1000:1000:alice:/home/alice:/bin/sh
"""
ROOTFS_GROUP = """root:x:0:
daemon:x:1:
tty:x:5:
staff:x:50:alice
users:x:100:alice
alice:x:1000:
nogroup:x:65534:
"""


def build_template(cache, probe_bin):
    """A rootfs template: busybox (static) with its applets, the probe, /etc files."""
    tpl = os.path.join(cache, "rootfs-template")
    stamp = os.path.join(tpl, ".complete")
    if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(probe_bin):
        return tpl
    shutil.rmtree(tpl, ignore_errors=True)
    for d in ("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "home/alice", "var", "run", "mnt"):
        os.makedirs(os.path.join(tpl, d), exist_ok=True)
    os.chmod(os.path.join(tpl, "tmp"), 0o1777)
    bb = shutil.which("busybox")
    if not bb:
        raise SystemExit("busybox (static) is needed to build the test rootfs: apt-get install busybox-static")
    shutil.copy2(bb, os.path.join(tpl, "bin", "busybox"))
    applets = subprocess.run([bb, "--list"], capture_output=True, text=True, timeout=10).stdout.split()
    for a in applets:
        link = os.path.join(tpl, "bin", a)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    shutil.copy2(probe_bin, os.path.join(tpl, "bin", "probe"))
    with open(os.path.join(tpl, "etc", "passwd"), "w") as f:
        f.write(ROOTFS_PASSWD)
    with open(os.path.join(tpl, "etc", "group"), "w") as f:
        f.write(ROOTFS_GROUP)
    with open(os.path.join(tpl, "etc", "hostname"), "w") as f:
        f.write("template\n")
    open(stamp, "w").close()
    return tpl


DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def default_config(args, cgroups_path):
    """The default config: what `runc spec` writes, minus the terminal, plus a cgroupsPath."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(DEFAULT_CAPS) for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "conformance",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                            "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }


# --------------------------------------------------------------------------- one container under test

def mounts_below(path):
    res = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4]
            if mp == path or mp.startswith(path.rstrip("/") + "/"):
                res.append(mp)
    return res


class Env:
    """Global settings shared by the checks of one run."""

    def __init__(self, work, template):
        self.work, self.template = work, template
        self.notes = []


class Container:
    """A fresh bundle, state root, id and cgroupsPath for one check against one runtime."""

    def __init__(self, env, rt, args=("/bin/probe", "ids"), relative_cgroup=False):
        self.env, self.rt = env, rt
        self.dir = tempfile.mkdtemp(prefix="c-", dir=env.work)
        os.chmod(self.dir, 0o711)     # searchable by the ids a user namespace maps to
        self.bundle = os.path.join(self.dir, "bundle")
        self.rootfs = os.path.join(self.bundle, "rootfs")
        self.root = os.path.join(self.dir, "state")
        os.makedirs(self.root)
        shutil.copytree(env.template, self.rootfs, symlinks=True)
        self.id = "conf-" + rand_id()
        if relative_cgroup:
            self.cgroups_path = "%s-rel/%s" % (CGROUP_PREFIX, self.id)
        else:
            self.cgroups_path = "/%s/%s" % (CGROUP_PREFIX, self.id)
        self.config = default_config(args, self.cgroups_path)
        self.stdout_path = os.path.join(self.dir, "stdout")
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.helpers = []      # processes a check started on the host (killed at cleanup)
        self.created = False

    # -- config helpers
    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    def args(self, *a):
        self.process["args"] = list(a)

    def probe(self, *ops):
        self.process["args"] = ["/bin/probe"] + list(ops)

    def resources(self):
        return self.linux.setdefault("resources", {})

    def write_config(self):
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(self.config, f, indent=1)

    def hostpath(self, p):
        return os.path.join(self.rootfs, p.lstrip("/"))

    # -- runtime operations
    def rtc(self, *args, timeout=DEFAULT_TIMEOUT, **kw):
        return self.rt(self.root, *args, timeout=timeout, **kw)

    def run(self, timeout=DEFAULT_TIMEOUT, input=None, write=True):
        """`run` in the foreground; returns Result with the container's stdout/stderr."""
        if write:
            self.write_config()
        self.created = True
        r = self.rtc("run", "--bundle", self.bundle, self.id, timeout=timeout, input=input, cwd=self.dir)
        return r

    def run_probe(self, *ops, timeout=DEFAULT_TIMEOUT):
        """Run the probe with ops; return (report dict, Result). Fails if the container could not run."""
        if ops:
            self.probe(*ops)
        r = self.run(timeout=timeout)
        if r.timed_out:
            raise Fail("run timed out: %r" % r)
        check(r.rc == 0, "run failed (exit %s): %s" % (r.rc, (r.err or r.out).strip()[-600:]))
        return parse_report(r.out), r

    def create(self, *extra, write=True, timeout=DEFAULT_TIMEOUT):
        """`create`; container stdio goes to files (a pipe would never reach EOF)."""
        if write:
            self.write_config()
        self.created = True
        with open(self.stdout_path, "ab") as so, open(self.stderr_path, "ab") as se:
            r = self.rt(self.root, "create", "--bundle", self.bundle, *extra, self.id,
                        timeout=timeout, stdout=so, stderr=se, cwd=self.dir)
        r.out, r.err = self.read_stdout(), self.read_stderr()
        return r

    def must_create(self, *extra):
        r = self.create(*extra)
        if r.timed_out:
            raise Fail("create timed out")
        check(r.rc == 0, "create failed (exit %s): %s" % (r.rc, r.err.strip()[-600:]))
        return r

    def start(self, timeout=DEFAULT_TIMEOUT):
        return self.rtc("start", self.id, timeout=timeout)

    def must_start(self):
        r = self.start()
        check(r.rc == 0 and not r.timed_out, "start failed: %r" % r)
        return r

    def state(self, cid=None):
        """(Result, parsed dict or None)."""
        r = self.rtc("state", cid or self.id, timeout=10)
        st = None
        if r.rc == 0:
            try:
                st = json.loads(r.out)
            except ValueError:
                st = None
        return r, st

    def must_state(self):
        r, st = self.state()
        check(r.rc == 0 and st is not None, "state failed or printed no JSON: %r" % r)
        return st

    def kill(self, sig="KILL", *extra):
        return self.rtc("kill", *extra, self.id, sig, timeout=10)

    def delete(self, force=False):
        args = ["delete"] + (["--force"] if force else []) + [self.id]
        return self.rtc(*args, timeout=15)

    def wait_status(self, want, timeout=10.0):
        deadline = time.time() + timeout
        st = None
        while time.time() < deadline:
            _r, st = self.state()
            if st and st.get("status") == want:
                return st
            time.sleep(0.05)
        raise Fail("container did not reach status %r within %ss (last state: %s)" % (want, timeout, st))

    def read_stdout(self):
        try:
            with open(self.stdout_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def read_stderr(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def report(self):
        return parse_report(self.read_stdout())

    # -- host-side helpers
    def pid(self):
        st = self.must_state()
        pid = st.get("pid")
        check(isinstance(pid, int) and pid > 0, "state has no valid pid: %s" % st)
        return pid

    def cgroup_file(self, controller, v1name, v2name=None):
        """Read a resource file of the container's cgroup: (value, version). v2name None: skip on v2."""
        d, ver = cgroup_dir(self.pid(), controller)
        name = v1name if ver == 1 else v2name
        if name is None:
            raise Skip("%s has no cgroup v%d equivalent" % (v1name, ver))
        p = os.path.join(d, name)
        try:
            return read_text(p), ver
        except OSError as e:
            raise Fail("cannot read %s: %s" % (p, e))

    def spawn_helper(self, argv):
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        self.helpers.append(p)
        return p

    def cleanup(self):
        if self.created:
            try:
                self.delete(force=True)
            except Exception:
                pass
        for p in self.helpers:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                p.wait(timeout=5)
            except Exception:
                pass
        # Never delete through a mount: unmount anything a runtime leaked below our dir first.
        for mp in sorted(mounts_below(self.dir), key=len, reverse=True):
            subprocess.run(["umount", "-l", mp], capture_output=True, timeout=10)
        if mounts_below(self.dir):
            return "mounts left below %s; not removed" % self.dir
        shutil.rmtree(self.dir, ignore_errors=True)
        return None


@contextmanager
def container(env, rt, *args, **kw):
    """A Container that is deleted and removed when the block ends, whatever happened."""
    c = Container(env, rt, *args, **kw)
    try:
        yield c
    finally:
        note = c.cleanup()
        if note:
            env.notes.append(note)
