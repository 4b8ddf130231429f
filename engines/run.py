#!/usr/bin/env python3
"""Runs real engines on top of an OCI runtime: containerd 1.6 (ctr and its CRI plugin, through
containerd-shim-runc-v2) and podman 4.3 (through conmon).

    python3 engines/run.py --runtime PATH [--runtime PATH ...] [--suite ctr,cri,podman] [--keep]

Every runtime given runs the same scenarios (ocirun and runc side by side). Everything lives
under one temporary directory: containerd's config, root, state and socket, podman's
containers.conf, storage and runroot, the runtimes' --root directories, the OCI images (built
here from busybox-static and a static pause binary, never pulled). Cgroups go below
/ocirun-engines-<random>. The containerd started here is killed by its pid at the end.

Output is TAP-like; the exit status is 1 when any scenario failed. When the CI environment
variable is set, a missing engine is a failure, otherwise its scenarios are skipped.
"""

import argparse
import json
import os
import random
import re
import shlex
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import image  # noqa: E402

MISSING = "/no/such/cmd"


class Fail(AssertionError):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def __repr__(self):
        return "`%s` rc=%s out=%r err=%r" % (" ".join(self.argv)[:300], self.rc, self.out[-600:], self.err[-600:])


def run(argv, timeout=60, env=None, input=None):
    """Runs argv in its own process group; on timeout the group is killed (we started it)."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out, err = p.communicate(input=input.encode() if input is not None else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise Fail("timed out after %ss: %s\nout=%r err=%r" % (timeout, " ".join(argv), out[-600:], err[-600:]))
    return Result(argv, p.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def in_pty(argv, timeout=60, env=None, typed=None):
    """Runs argv with a pseudo-terminal as its stdin/stdout/stderr (util-linux `script`); `typed`
    is typed into the terminal a second after the start (once the container reads it)."""
    command = " ".join(shlex.quote(a) for a in argv)
    if typed is None:
        return run(["script", "-qefc", command, "/dev/null"], timeout=timeout, env=env)
    feeder = "sleep 1; printf %s " + shlex.quote(typed)
    r = run(["sh", "-c", "(%s) | script -qefc %s /dev/null" % (feeder, shlex.quote(command))], timeout=timeout, env=env)
    r.out = r.out.replace("\r", "")
    return r


def wait_for(predicate, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise Fail("timed out waiting for " + what)


def fds_of(text):
    """The fd numbers of an `ls /proc/PID/fd` listing."""
    return sorted(int(x) for x in text.split() if x.isdigit())


class Runtime:
    def __init__(self, path, workdir):
        self.path = path
        self.name = os.path.basename(path)
        self.workdir = workdir

    def root(self, engine):
        d = os.path.join(self.workdir, "runtime-root", engine, self.name)
        os.makedirs(d, exist_ok=True)
        return d

    def ids(self, engine):
        """Container ids in this runtime's --root for the engine (as `list` would show); the shim
        gives the runtime ROOT/<containerd namespace> as its root."""
        root = os.path.join(self.root(engine), {"ctr": Containerd.NAMESPACE, "cri": "k8s.io"}.get(engine, ""))
        if not os.path.isdir(root):
            return []
        return sorted(e for e in os.listdir(root) if os.path.isdir(os.path.join(root, e)))

    def state(self, engine, cid):
        root = os.path.join(self.root(engine), {"ctr": Containerd.NAMESPACE, "cri": "k8s.io"}.get(engine, ""))
        r = run([self.path, "--root", root, "state", cid])
        check(r.rc == 0, "%s state %s: %r" % (self.name, cid, r))
        return json.loads(r.out)

    @property
    def is_ocirun(self):
        return self.name.startswith("ocirun")


# --- containerd -------------------------------------------------------------------------------

class Containerd:
    NAMESPACE = "ocirun-test"

    def __init__(self, workdir, runtimes, cgroup_prefix, images):
        self.dir = os.path.join(workdir, "containerd")
        self.socket = os.path.join(self.dir, "containerd.sock")
        self.config = os.path.join(self.dir, "config.toml")
        self.log = os.path.join(self.dir, "containerd.log")
        self.runtimes = runtimes
        self.cgroup_prefix = cgroup_prefix
        self.images = images
        self.proc = None
        os.makedirs(self.dir, exist_ok=True)

    def write_config(self):
        d = self.dir
        lines = [
            "version = 2",
            'root = "%s/root"' % d,
            'state = "%s/state"' % d,
            "[grpc]",
            '  address = "%s"' % self.socket,
            "[ttrpc]",
            '  address = "%s.ttrpc"' % self.socket,
            '[plugins."io.containerd.internal.v1.opt"]',
            '  path = "%s/opt"' % d,
            '[plugins."io.containerd.grpc.v1.cri"]',
            '  sandbox_image = "%s"' % self.images["pause"][0],
            # The sandbox asks for oomScoreAdj -998: root without CAP_SYS_RESOURCE may not lower it.
            "  restrict_oom_score_adj = true",
            '  [plugins."io.containerd.grpc.v1.cri".containerd]',
            '    default_runtime_name = "%s"' % self.runtimes[0].name,
            '    snapshotter = "overlayfs"',
        ]
        for rt in self.runtimes:
            lines += [
                '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s]' % rt.name,
                '    runtime_type = "io.containerd.runc.v2"',
                '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s.options]' % rt.name,
                '      BinaryName = "%s"' % rt.path,
                '      Root = "%s"' % rt.root("cri"),
            ]
        lines += [
            '  [plugins."io.containerd.grpc.v1.cri".cni]',
            '    bin_dir = "/usr/lib/cni"',
            '    conf_dir = "%s/cni"' % d,
        ]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        self.write_config()
        logf = open(self.log, "w")
        self.proc = subprocess.Popen(["containerd", "--config", self.config], stdout=logf, stderr=logf,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        wait_for(lambda: os.path.exists(self.socket) or self.proc.poll() is not None, "containerd's socket")
        if self.proc.poll() is not None:
            raise Fail("containerd exited: " + open(self.log).read()[-2000:])
        for ns in (self.NAMESPACE, "k8s.io"):
            for ref, archive in self.images.values():
                r = self.ctr(["image", "import", archive], namespace=ns)
                check(r.rc == 0, "ctr image import: %r" % r)

    def ctr(self, args, namespace=None, timeout=60):
        return run(["ctr", "--address", self.socket, "--namespace", namespace or self.NAMESPACE] + args, timeout=timeout)

    def ctr_argv(self, args):
        return ["ctr", "--address", self.socket, "--namespace", self.NAMESPACE] + args

    def run_flags(self, rt, cid):
        """The flags of `ctr run` that pick the runtime binary and keep its state, fifos and cgroup
        in the test's places."""
        return ["--runc-binary", rt.path, "--runc-root", rt.root("ctr"),
                "--fifo-dir", os.path.join(self.dir, "fifo"),
                "--cgroup", "/%s/ctr-%s" % (self.cgroup_prefix, cid)]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def ctr_run_argv(cd, rt, cid, args, extra=()):
    return cd.ctr_argv(["run"] + list(extra) + cd.run_flags(rt, cid) + [cd.images["busybox"][0], cid] + list(args))


def gone(pid):
    """The process has exited (a zombie that nobody reaps here counts as gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return "zombie" in f.read()
    except OSError:
        return True


def ctr_cleanup(cd, cid):
    cd.ctr(["task", "kill", "-s", "KILL", cid])
    cd.ctr(["task", "delete", "--force", cid])
    cd.ctr(["container", "delete", cid])


def t_ctr_foreground(cd, rt):
    cid = "fg-" + rt.name
    r = run(ctr_run_argv(cd, rt, cid, ["sh", "-c", "echo hello from $(hostname); ls /proc/$$/fd; exit 3"],
                         ["--rm"]))
    check(r.rc == 3, "ctr run --rm exits with the container's status 3: %r" % r)
    check("hello from" in r.out, "the container's stdout reaches ctr: %r" % r)
    fds = fds_of(r.out.split("\n", 1)[1])
    check(fds == [0, 1, 2], "the container process holds only stdio, got fds %s: %r" % (fds, r))
    check(cd.ctr(["container", "info", cid]).rc != 0, "--rm removed the container")
    check(rt.ids("ctr") == [], "no state left in the runtime's root: %s" % rt.ids("ctr"))


def t_ctr_detached(cd, rt):
    cid = "bg-" + rt.name
    try:
        r = run(ctr_run_argv(cd, rt, cid, ["sleep", "1000"], ["-d"]))
        check(r.rc == 0, "ctr run -d: %r" % r)
        tasks = cd.ctr(["task", "ls"])
        check(cid in tasks.out and "RUNNING" in tasks.out, "task ls shows it RUNNING: %r" % tasks)
        st = rt.state("ctr", cid)
        check(st["status"] == "running", "the runtime's own state says running: %s" % st)
        init_pid = st["pid"]

        e = cd.ctr(["task", "exec", "--exec-id", "e1", "--fifo-dir", os.path.join(cd.dir, "fifo"), cid,
                    "sh", "-c", "echo in-exec; cat /proc/1/cmdline | tr '\\0' ' '; exit 4"])
        check(e.rc == 4, "task exec exits with the process's status 4: %r" % e)
        check("in-exec" in e.out and "sleep 1000" in e.out, "the exec ran in the container's pid namespace: %r" % e)

        e = cd.ctr(["task", "exec", "--exec-id", "e-missing", "--fifo-dir", os.path.join(cd.dir, "fifo"), cid, MISSING])
        check(e.rc != 0 and MISSING in e.err, "task exec of a missing command shows the runtime's message: %r" % e)
        if rt.is_ocirun:
            check('exec in container "%s"' % cid in e.err, "the message is ocirun's: %r" % e)

        e = cd.ctr(["task", "exec", "-d", "--exec-id", "e2", "--fifo-dir", os.path.join(cd.dir, "fifo"), cid,
                    "sleep", "500"])
        check(e.rc == 0, "task exec -d: %r" % e)
        ps = cd.ctr(["task", "ps", cid])
        pids = [int(line.split()[0]) for line in ps.out.splitlines()[1:] if line.strip()]
        check(ps.rc == 0 and init_pid in pids and len(pids) == 2,
              "task ps lists the host pids of the init (%d) and the exec: %r" % (init_pid, ps))

        check(cd.ctr(["task", "pause", cid]).rc == 0, "task pause")
        tasks = cd.ctr(["task", "ls"])
        check("PAUSED" in tasks.out, "task ls shows PAUSED: %r" % tasks)
        st = rt.state("ctr", cid)
        check(st["status"] == "paused", "the runtime's own state says paused: %s" % st)
        check(cd.ctr(["task", "resume", cid]).rc == 0, "task resume")
        tasks = cd.ctr(["task", "ls"])
        check("RUNNING" in tasks.out, "task ls shows RUNNING after resume: %r" % tasks)
        e = cd.ctr(["task", "exec", "--exec-id", "e3", "--fifo-dir", os.path.join(cd.dir, "fifo"), cid, "true"])
        check(e.rc == 0, "exec after resume: %r" % e)

        k = cd.ctr(["task", "kill", "-s", "KILL", cid])
        check(k.rc == 0, "task kill: %r" % k)
        wait_for(lambda: "STOPPED" in cd.ctr(["task", "ls"]).out, "task ls to show STOPPED")
        d = cd.ctr(["task", "delete", cid])
        check(d.rc == 0, "task delete: %r" % d)
        d = cd.ctr(["container", "delete", cid])
        check(d.rc == 0, "container delete: %r" % d)
        check(gone(init_pid), "the init is gone")
        check(rt.ids("ctr") == [], "no state left in the runtime's root: %s" % rt.ids("ctr"))
    finally:
        ctr_cleanup(cd, cid)


def t_ctr_tty(cd, rt):
    cid = "tty-" + rt.name
    try:
        r = in_pty(ctr_run_argv(cd, rt, cid, ["sh", "-c", "test -t 0 && test -t 1 && echo TTY-OK; tty"],
                                ["--rm", "-t"]))
        check(r.rc == 0 and "TTY-OK" in r.out and "/dev/pts/" in r.out,
              "ctr run -t gives the container a terminal on stdin and stdout: %r" % r)
        r = in_pty(ctr_run_argv(cd, rt, cid, ["sh"], ["--rm", "-t"]), typed="echo IN-$((1+2))\nexit 4\n")
        check(r.rc == 4 and "\nIN-3\n" in r.out, "what is typed reaches the container's shell: %r" % r)
        r = run(ctr_run_argv(cd, rt, cid, ["sleep", "1000"], ["-d"]))
        check(r.rc == 0, "ctr run -d: %r" % r)
        e = in_pty(cd.ctr_argv(["task", "exec", "-t", "--exec-id", "t1", "--fifo-dir", os.path.join(cd.dir, "fifo"),
                                cid, "sh", "-c", "test -t 0 && echo EXEC-TTY-OK; exit 2"]))
        check(e.rc == 2 and "EXEC-TTY-OK" in e.out, "task exec -t gives the process a terminal: %r" % e)
    finally:
        ctr_cleanup(cd, cid)
    check(rt.ids("ctr") == [], "no state left in the runtime's root: %s" % rt.ids("ctr"))


def t_ctr_options(cd, rt):
    """`ctr run` options the runtime must honour: --privileged, containerd's seccomp profile, a
    read-only root, memory and CPU limits (read back from the host's cgroup files), and
    `task kill -a` reaching every process of the container."""
    def ctr_run(cid, extra, script):
        r = run(ctr_run_argv(cd, rt, cid, ["sh", "-c", script], ["--rm"] + extra))
        check(r.rc == 0, "ctr run %s: %r" % (" ".join(extra), r))
        return r.out.splitlines()

    # Not `--uidmap`: ctr 1.6 then runs the container with runc whatever --runc-binary says
    # (the podman scenarios cover user namespaces).
    out = ctr_run("priv-" + rt.name, ["--privileged"], "grep CapEff /proc/self/status; test -e /dev/full && echo dev")
    check(out == ["CapEff:\t000001fffeffffff", "dev"], "--privileged: every capability, host devices: %r" % out)
    out = ctr_run("sec-" + rt.name, ["--seccomp", "--read-only"], "grep Seccomp: /proc/self/status; "
                  "touch /x 2>/dev/null && echo writable || echo read-only")
    check(out == ["Seccomp:\t2", "read-only"], "--seccomp, --read-only: %r" % out)
    cid = "lim-" + rt.name
    try:
        r = run(ctr_run_argv(cd, rt, cid, ["sleep", "1000"], ["-d", "--memory-limit", str(48 * 1024 * 1024),
                                                                 "--cpus", "0.5"]))
        check(r.rc == 0, "ctr run -d --memory-limit --cpus: %r" % r)
        with open("/proc/%d/cgroup" % rt.state("ctr", cid)["pid"]) as f:
            cgroup = f.read()
        check(host_cgroup_file("memory", cgroup, "memory.limit_in_bytes") == str(48 * 1024 * 1024) and
              host_cgroup_file("cpu", cgroup, "cpu.cfs_quota_us") == "50000", "--memory-limit, --cpus 0.5")
    finally:
        ctr_cleanup(cd, cid)

    cid = "all-" + rt.name
    try:
        r = run(ctr_run_argv(cd, rt, cid, ["sh", "-c", "sleep 1000 & sleep 1000 & wait"], ["-d"]))
        check(r.rc == 0, "ctr run -d: %r" % r)
        wait_for(lambda: len(cd.ctr(["task", "ps", cid]).out.splitlines()) == 4, "3 processes in task ps")
        pids = [int(line.split()[0]) for line in cd.ctr(["task", "ps", cid]).out.splitlines()[1:]]
        k = cd.ctr(["task", "kill", "-a", "-s", "KILL", cid])
        check(k.rc == 0, "task kill -a: %r" % k)
        wait_for(lambda: all(gone(p) for p in pids), "every process of the container to die")
        wait_for(lambda: "STOPPED" in cd.ctr(["task", "ls"]).out, "task ls to show STOPPED")
    finally:
        ctr_cleanup(cd, cid)
    check(rt.ids("ctr") == [], "no state left in the runtime's root: %s" % rt.ids("ctr"))


def t_ctr_kill_paused(cd, rt):
    """`task kill -s KILL` of a paused task stops it (the runtime thaws the frozen init)."""
    cid = "kp-" + rt.name
    try:
        r = run(ctr_run_argv(cd, rt, cid, ["sleep", "1000"], ["-d"]))
        check(r.rc == 0, "ctr run -d: %r" % r)
        check(cd.ctr(["task", "pause", cid]).rc == 0, "task pause")
        k = cd.ctr(["task", "kill", "-s", "KILL", cid])
        check(k.rc == 0, "task kill -s KILL of a paused task: %r" % k)
        wait_for(lambda: "STOPPED" in cd.ctr(["task", "ls"]).out, "task ls to show the paused task STOPPED", timeout=10)
        d = cd.ctr(["task", "delete", cid])
        check(d.rc == 0, "task delete: %r" % d)
    finally:
        ctr_cleanup(cd, cid)
    check(rt.ids("ctr") == [], "no state left in the runtime's root: %s" % rt.ids("ctr"))


def t_ctr_missing_command(cd, rt):
    cid = "missing-" + rt.name
    try:
        r = run(ctr_run_argv(cd, rt, cid, [MISSING], ["--rm"]))
        check(r.rc != 0, "ctr run of a missing command fails: %r" % r)
        check(MISSING in r.err and "no such file" in r.err.lower(),
              "ctr prints the runtime's message naming %s: %r" % (MISSING, r))
        if rt.is_ocirun:
            # The shim puts the msg of the last JSON error line of --log right after its prefix.
            check('OCI runtime create failed: create container "%s": exec "%s": no such file or directory'
                  % (cid, MISSING) in r.err, "the message is ocirun's, from its --log JSON: %r" % r)
    finally:
        ctr_cleanup(cd, cid)
    check(rt.ids("ctr") == [], "no state left in the runtime's root: %s" % rt.ids("ctr"))


# --- CRI --------------------------------------------------------------------------------------

def host_cgroup_file(controller, cgroup_line_text, name):
    """Reads a cgroup v1 file of the cgroup a `/proc/self/cgroup` listing (from inside) names."""
    for line in cgroup_line_text.splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            with open(os.path.join("/sys/fs/cgroup", controller, path.lstrip("/"), name)) as f:
                return f.read().strip()
    raise Fail("no %s cgroup in %r" % (controller, cgroup_line_text))


def t_cri_pod(cd, rt, cri):
    client = cri.Client(cd.socket)
    pod = cid = None
    try:
        logs = os.path.join(cd.dir, "pod-logs", rt.name)
        os.makedirs(logs, exist_ok=True)
        sandbox = cri.Client.sandbox_config("pod-" + rt.name, "uid-" + rt.name, logs,
                                            cgroup_parent="/%s/cri-%s" % (cd.cgroup_prefix, rt.name))
        pod = client.run_pod_sandbox(sandbox, rt.name)
        check(rt.ids("cri") == [pod], "the sandbox runs under the %s handler: %s" % (rt.name, rt.ids("cri")))
        cid = client.create_container(pod, sandbox, "box", cd.images["busybox"][0], ["sleep", "1000"],
                                      env={"GREETING": "hello"}, log_path="box.log")
        made = [pod, cid]
        client.start_container(cid)
        st = client.container_status(cid)
        check(st["state"] == "RUNNING", "ContainerStatus says RUNNING: %s" % st)
        check(sorted(rt.ids("cri")) == sorted([pod, cid]), "both run under %s: %s" % (rt.name, rt.ids("cri")))

        out, err, code = client.exec_sync(cid, ["sh", "-c", "echo $GREETING; echo to-stderr >&2; "
                                                "cat /proc/1/cmdline; echo; ls /proc/$$/fd; exit 7"])
        check(code == 7, "ExecSync returns the exit code 7: %r" % ((out, err, code),))
        check(out.startswith("hello\n") and err == "to-stderr\n", "ExecSync returns stdout and stderr: %r" % ((out, err),))
        check("/pause" in out, "the exec joined the pod's pid namespace (pid 1 is /pause): %r" % out)
        check(fds_of(out.split("\n", 2)[2]) == [0, 1, 2], "the exec holds only stdio: %r" % out)

        try:
            out, err, code = client.exec_sync(cid, [MISSING])
            message = "exit code %d, stdout %r, stderr %r" % (code, out, err)
        except cri.CRIError as e:
            message, code = str(e), None
        check(code != 0 and MISSING in message, "ExecSync of a missing command reports the runtime's message: %s" % message)

        client.update_container_resources(cid, cpu_period=100000, cpu_quota=50000, memory_limit=200 * 1024 * 1024)
        cg, _, code = client.exec_sync(cid, ["cat", "/proc/self/cgroup"])
        check(code == 0, "cat /proc/self/cgroup")
        check(host_cgroup_file("memory", cg, "memory.limit_in_bytes") == str(200 * 1024 * 1024),
              "UpdateContainerResources set the memory limit")
        check(host_cgroup_file("cpu", cg, "cpu.cfs_quota_us") == "50000", "UpdateContainerResources set the cpu quota")

        client.stop_container(cid, timeout=2)
        st = client.container_status(cid)
        check(st["state"] == "EXITED" and st["exit_code"] == 143,
              "ContainerStatus says EXITED (SIGTERM, 143) after StopContainer: %s" % st)
        client.remove_container(cid)
        cid = None

        # A second container of the pod ignores SIGTERM: StopContainer kills it after the timeout.
        cid = client.create_container(pod, sandbox, "stubborn", cd.images["busybox"][0],
                                      ["sh", "-c", "trap '' TERM; touch /tmp/trapped; while :; do sleep 0.1; done"])
        made.append(cid)
        client.start_container(cid)
        wait_for(lambda: client.exec_sync(cid, ["test", "-e", "/tmp/trapped"])[2] == 0, "the trap to be set")
        t0 = time.time()
        client.stop_container(cid, timeout=1)
        st = client.container_status(cid)
        check(st["state"] == "EXITED" and st["exit_code"] == 137 and time.time() - t0 >= 1,
              "a container ignoring SIGTERM is killed after the timeout: %s" % st)
        client.remove_container(cid)
        cid = None
        client.stop_pod_sandbox(pod)
        client.remove_pod_sandbox(pod)
        pod = None
        left = set(rt.ids("cri")) & set(made)
        check(not left, "no state left in the runtime's root: %s" % left)
    finally:
        cri_cleanup(client, pod, cid)


def t_cri_security(cd, rt, cri):
    """A container with a security context (run as uid 1000, read-only root, all capabilities
    dropped but one, no_new_privs, containerd's default seccomp profile), a memory limit at
    creation, and a terminal (stdin + tty: the pty master through --console-socket)."""
    client = cri.Client(cd.socket)
    pod = cid = None
    try:
        logs = os.path.join(cd.dir, "pod-logs", "sec-" + rt.name)
        os.makedirs(logs, exist_ok=True)
        sandbox = cri.Client.sandbox_config("pod3-" + rt.name, "uid3-" + rt.name, logs,
                                            cgroup_parent="/%s/cri3-%s" % (cd.cgroup_prefix, rt.name))
        pod = client.run_pod_sandbox(sandbox, rt.name)
        linux = cri.Client.linux_config(memory_limit=96 * 1024 * 1024, run_as_user=1000, readonly_rootfs=True,
                                        drop_caps=["ALL"], add_caps=["CAP_NET_BIND_SERVICE"], no_new_privs=True,
                                        seccomp_runtime_default=True, pid_mode=cri.CONTAINER)
        cid = client.create_container(pod, sandbox, "secure", cd.images["busybox"][0],
                                      ["sh", "-c", "test -t 0 && echo TTY-OK $(tty); exec sleep 1000"],
                                      log_path="secure.log", tty=True, linux=linux)
        client.start_container(cid)
        log = os.path.join(logs, "secure.log")
        wait_for(lambda: os.path.exists(log) and "TTY-OK" in open(log).read(), "the container's terminal output in its log")
        check("TTY-OK /dev/pts/" in open(log).read(), "stdin and stdout are a terminal: %r" % open(log).read())
        out, err, code = client.exec_sync(cid, ["sh", "-c", "id -u; touch /x 2>/dev/null && echo writable || "
                                                "echo read-only; grep -E '^(CapEff|NoNewPrivs|Seccomp):' "
                                                "/proc/self/status; cat /proc/self/cgroup"])
        pid1, _, _ = client.exec_sync(cid, ["cat", "/proc/1/cmdline"])
        check(pid1.startswith("sleep"), "a container pid namespace (the kubelet's default): pid 1 is the "
                                        "container's own process: %r" % pid1)
        check(code == 0, "ExecSync: %r" % ((out, err, code),))
        lines = out.splitlines()
        check(lines[0] == "1000", "run_as_user 1000 (for the exec too): %r" % out)
        check(lines[1] == "read-only", "readonly_rootfs: %r" % out)
        status = dict(line.split(":\t") for line in lines[2:5])
        # CAP_NET_BIND_SERVICE (bit 10) is bounding/permitted; a non-root exec has no effective caps.
        check(status["NoNewPrivs"] == "1" and status["Seccomp"] == "2" and status["CapEff"] == "0000000000000000",
              "no_new_privs, seccomp RuntimeDefault, no effective capabilities as uid 1000: %r" % status)
        check(host_cgroup_file("memory", "\n".join(lines[5:]), "memory.limit_in_bytes") == str(96 * 1024 * 1024),
              "the memory limit given at creation")
        client.stop_container(cid, timeout=1)
        cri_remove_checked(client, rt, pod, cid)
        pod = cid = None
    finally:
        cri_cleanup(client, pod, cid)


def t_cri_oom(cd, rt, cri):
    """A container over its memory limit is killed by the kernel; the shim's OOM watch on the cgroup
    the runtime made reports it as kubectl shows it: exit 137, reason OOMKilled."""
    client = cri.Client(cd.socket)
    pod = cid = None
    try:
        logs = os.path.join(cd.dir, "pod-logs", "oom-" + rt.name)
        os.makedirs(logs, exist_ok=True)
        sandbox = cri.Client.sandbox_config("pod4-" + rt.name, "uid4-" + rt.name, logs,
                                            cgroup_parent="/%s/cri4-%s" % (cd.cgroup_prefix, rt.name))
        pod = client.run_pod_sandbox(sandbox, rt.name)
        cid = client.create_container(pod, sandbox, "hog", cd.images["busybox"][0],
                                      ["sh", "-c", "x=$(head -c 64m /dev/zero | tr '\\0' a); echo survived"],
                                      linux=cri.Client.linux_config(memory_limit=16 * 1024 * 1024), log_path="hog.log")
        client.start_container(cid)
        wait_for(lambda: client.container_status(cid)["state"] == "EXITED", "the container to exit", timeout=30)
        st = client.container_status(cid)
        check(st["exit_code"] == 137 and st["reason"] == "OOMKilled", "ContainerStatus: exit 137, OOMKilled: %s" % st)
        cri_remove_checked(client, rt, pod, cid)
        pod = cid = None
    finally:
        cri_cleanup(client, pod, cid)


def cri_remove_checked(client, rt, pod, cid):
    """Removes a stopped container and its pod through CRI; the runtime must keep no state of either."""
    client.remove_container(cid)
    client.stop_pod_sandbox(pod)
    client.remove_pod_sandbox(pod)
    left = set(rt.ids("cri")) & {pod, cid}
    check(not left, "no state left in the runtime's root: %s" % left)


def cri_cleanup(client, pod, cid):
    for call in ([lambda: client.stop_container(cid), lambda: client.remove_container(cid)] if cid else []) + \
                ([lambda: client.stop_pod_sandbox(pod), lambda: client.remove_pod_sandbox(pod)] if pod else []):
        try:
            call()
        except Exception:
            pass
    client.close()


def t_cri_missing_command(cd, rt, cri):
    client = cri.Client(cd.socket)
    pod = cid = None
    try:
        logs = os.path.join(cd.dir, "pod-logs", rt.name)
        os.makedirs(logs, exist_ok=True)
        sandbox = cri.Client.sandbox_config("pod2-" + rt.name, "uid2-" + rt.name, logs,
                                            cgroup_parent="/%s/cri2-%s" % (cd.cgroup_prefix, rt.name))
        pod = client.run_pod_sandbox(sandbox, rt.name)
        cid = client.create_container(pod, sandbox, "missing", cd.images["busybox"][0], [MISSING])
        try:
            client.start_container(cid)
            raise Fail("StartContainer of a missing command succeeded")
        except cri.CRIError as e:
            message = str(e)
        check(MISSING in message, "StartContainer's error (what kubectl describe shows) names %s: %s" % (MISSING, message))
        if rt.is_ocirun:
            check('OCI runtime create failed: create container "%s": exec "%s": no such file or directory'
                  % (cid, MISSING) in message, "the message is ocirun's, from its --log JSON: %s" % message)
    finally:
        cri_cleanup(client, pod, cid)
    left = set(rt.ids("cri")) & {pod, cid}
    check(not left, "no state left in the runtime's root: %s" % left)


# --- podman -----------------------------------------------------------------------------------

class Podman:
    def __init__(self, workdir, runtimes, cgroup_prefix, images, driver="vfs"):
        self.dir = os.path.join(workdir, "podman")
        self.runtimes = runtimes
        self.cgroup_prefix = cgroup_prefix
        self.images = images
        os.makedirs(self.dir, exist_ok=True)
        d = self.dir
        self.env = dict(os.environ,
                        CONTAINERS_CONF=os.path.join(d, "containers.conf"),
                        CONTAINERS_STORAGE_CONF=os.path.join(d, "storage.conf"),
                        CONTAINERS_REGISTRIES_CONF=os.path.join(d, "registries.conf"))
        json_runtimes = ["crun", "runc"] + [rt.name for rt in runtimes if rt.name not in ("crun", "runc")]
        names = ", ".join('"%s"' % n for n in json_runtimes)
        with open(self.env["CONTAINERS_CONF"], "w") as f:
            f.write("\n".join([
                "[containers]",
                # root's hard limits here are nofile 20000 and nproc 32768: stay within them.
                'default_ulimits = ["nofile=1024:4096", "nproc=4096:4096"]',
                'netns = "none"',
                "",
                "[engine]",
                'cgroup_manager = "cgroupfs"',
                'events_logger = "file"',
                'events_logfile_path = "%s/events.log"' % d,
                # No static_dir: podman's exit command (`container cleanup`, run by conmon) gets
                # --root but not this file's static_dir, and must find the same database.
                'tmp_dir = "%s/tmp"' % d,
                'volume_path = "%s/volumes"' % d,
                'runtime = "%s"' % runtimes[0].name,
                # podman passes --log-format=json only to the runtimes named here.
                'runtime_supports_json = [%s]' % names,
                "",
                "[engine.runtimes]",
            ] + ['%s = ["%s"]' % (rt.name, rt.path) for rt in runtimes] + [
                "",
                "[network]",
                'network_config_dir = "%s/networks"' % d,
            ]) + "\n")
        with open(self.env["CONTAINERS_STORAGE_CONF"], "w") as f:
            f.write('[storage]\ndriver = "%s"\ngraphroot = "%s/storage"\nrunroot = "%s/runroot"\n' % (driver, d, d))
        with open(self.env["CONTAINERS_REGISTRIES_CONF"], "w") as f:
            f.write("unqualified-search-registries = []\n")

    def argv(self, rt, args):
        # The runtime keeps its default --root, as under podman in production: podman's exit
        # command (run by conmon) would not pass a --runtime-flag on to the runtime.
        return ["podman", "--runtime", rt.name] + args

    def podman(self, rt, args, timeout=90):
        return run(self.argv(rt, args), timeout=timeout, env=self.env)

    def run_args(self, rt, name, extra=()):
        return ["run", "--name", name, "--cidfile", self.cidfile(name),
                "--cgroup-parent", "/%s/podman-%s" % (self.cgroup_prefix, rt.name)] + \
            list(extra) + [self.images["busybox"][0]]

    def cidfile(self, name):
        return os.path.join(self.dir, name + ".cid")

    def cid(self, name):
        with open(self.cidfile(name)) as f:
            return f.read().strip()

    def load(self):
        r = run(["podman", "load", "-i", self.images["busybox"][1]], env=self.env, timeout=120)
        check(r.rc == 0, "podman load: %r" % r)

    def cleanup(self, rt, name):
        self.podman(rt, ["rm", "--force", "--time", "0", name])
        cid = self.cid(name) if os.path.exists(self.cidfile(name)) else None
        if os.path.exists(self.cidfile(name)):
            os.unlink(self.cidfile(name))
        if cid:
            r = run([rt.path, "state", cid])
            check(r.rc != 0, "no state left in %s's root for %s: %r" % (rt.name, cid, r))


def t_podman_run_rm(pm, rt):
    name = "rm-" + rt.name
    try:
        r = pm.podman(rt, pm.run_args(rt, name, ["--rm"]) + ["sh", "-c", "echo hello; ls /proc/$$/fd; exit 5"])
        check(r.rc == 5, "podman run --rm exits with the container's status 5: %r" % r)
        check(r.out.startswith("hello\n"), "the container's stdout reaches podman: %r" % r)
        check(fds_of(r.out.split("\n", 1)[1]) == [0, 1, 2], "the container process holds only stdio: %r" % r)
        check(pm.podman(rt, ["container", "exists", name]).rc == 1, "--rm removed the container")
    finally:
        pm.cleanup(rt, name)


def t_podman_tty(pm, rt):
    name = "tty-" + rt.name
    try:
        r = in_pty(pm.argv(rt, pm.run_args(rt, name, ["--rm", "-t"]) +
                           ["sh", "-c", "test -t 0 && test -t 1 && echo TTY-OK; tty"]), env=pm.env)
        check(r.rc == 0 and "TTY-OK" in r.out and "/dev/pts/" in r.out,
              "podman run -t gives the container a real terminal (test -t 0 is true): %r" % r)
        pm.cleanup(rt, name)
        r = in_pty(pm.argv(rt, pm.run_args(rt, name, ["--rm", "-it"]) + ["sh"]), env=pm.env,
                   typed="echo IN-$((1+2))\nexit 4\n")
        check(r.rc == 4 and "\nIN-3\n" in r.out, "podman run -it: what is typed reaches the container's shell: %r" % r)
    finally:
        pm.cleanup(rt, name)


def t_podman_detached(pm, rt):
    name = "bg-" + rt.name
    try:
        r = pm.podman(rt, pm.run_args(rt, name, ["-d"]) + ["sleep", "1000"])
        check(r.rc == 0, "podman run -d: %r" % r)
        st = run([rt.path, "state", pm.cid(name)])
        check(st.rc == 0 and json.loads(st.out)["status"] == "running", "the container runs under %s: %r" % (rt.name, st))
        e = pm.podman(rt, ["exec", name, "sh", "-c", "echo in-exec; cat /proc/1/cmdline; echo; ls /proc/$$/fd; exit 6"])
        check(e.rc == 6, "podman exec exits with the process's status 6: %r" % e)
        lines = e.out.split("\n", 2)
        check(lines[0] == "in-exec" and lines[1].startswith("sleep"), "exec ran in the container: %r" % e)
        check(fds_of(lines[2]) == [0, 1, 2], "the exec holds only stdio: %r" % e)
        e = pm.podman(rt, ["exec", "--user", "nobody", "--workdir", "/tmp", "--env", "FOO=bar", name,
                           "sh", "-c", "id -un; pwd; echo $FOO"])
        check(e.rc == 0 and e.out.split() == ["nobody", "/tmp", "bar"], "podman exec --user --workdir --env: %r" % e)
        e = pm.podman(rt, ["exec", name, MISSING])
        check(e.rc == 127 and MISSING in e.err, "podman exec of a missing command: 127 and the message: %r" % e)
        check(pm.podman(rt, ["pause", name]).rc == 0, "podman pause")
        i = pm.podman(rt, ["inspect", "--format", "{{.State.Status}}", name])
        check(i.out.strip() == "paused", "podman inspect says paused: %r" % i)
        check(pm.podman(rt, ["unpause", name]).rc == 0, "podman unpause")
        e = in_pty(pm.argv(rt, ["exec", "-t", name, "sh", "-c", "test -t 0 && echo EXEC-TTY-OK"]), env=pm.env)
        check(e.rc == 0 and "EXEC-TTY-OK" in e.out, "podman exec -t gives a terminal: %r" % e)
        s = pm.podman(rt, ["stop", "--time", "2", name])
        check(s.rc == 0, "podman stop: %r" % s)
        i = pm.podman(rt, ["inspect", "--format", "{{.State.Status}}", name])
        check(i.out.strip() == "exited", "podman inspect says exited: %r" % i)
        d = pm.podman(rt, ["rm", name])
        check(d.rc == 0, "podman rm: %r" % d)
        check(pm.podman(rt, ["container", "exists", name]).rc == 1, "podman rm removed it")
    finally:
        pm.cleanup(rt, name)


def t_podman_fds(pm, rt):
    """--preserve-fds N and socket activation (LISTEN_FDS/LISTEN_PID set for podman itself): the
    descriptors reach the container process, nothing else does."""
    name = "fds-" + rt.name
    marker = os.path.join(pm.dir, "marker")
    with open(marker, "w") as f:
        f.write("marker-%s\n" % rt.name)
    show = "ls /proc/$$/fd; echo LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID; cat <&%d"
    try:
        fd = os.open(marker, os.O_RDONLY)
        try:
            os.dup2(fd, 3, inheritable=True)
            os.dup2(fd, 4, inheritable=True)
            argv = pm.argv(rt, pm.run_args(rt, name, ["--rm", "--preserve-fds", "2"]) + ["sh", "-c", show % 4])
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=pm.env,
                               pass_fds=(3, 4), timeout=90)
            check(p.returncode == 0, "podman run --preserve-fds 2: %r" % p)
            lines = [line for line in p.stdout.split("\n") if not line.isdigit()]
            check(fds_of(p.stdout) == [0, 1, 2, 3, 4] and lines[1] == "marker-" + rt.name,
                  "--preserve-fds 2 passes fds 3 and 4, and only them: %r" % p)
            pm.cleanup(rt, name)
            os.close(4)
            fresh = os.open(marker, os.O_RDONLY)  # fd 3's offset is at the end now
            os.dup2(fresh, 3, inheritable=True)
            os.close(fresh)
            # podman was socket-activated: it hands fd 3 on with LISTEN_FDS=1, LISTEN_PID=1.
            activated = "LISTEN_PID=$$ LISTEN_FDS=1 exec " + " ".join(shlex.quote(a) for a in pm.argv(
                rt, pm.run_args(rt, name, ["--rm"]) + ["sh", "-c", show % 3]))
            p = subprocess.run(["sh", "-c", activated], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               env=pm.env, pass_fds=(3,), timeout=90)
            check(p.returncode == 0, "socket-activated podman run: %r" % p)
            lines = [line for line in p.stdout.split("\n") if not line.isdigit()]
            check(fds_of(p.stdout) == [0, 1, 2, 3] and lines[0] == "LISTEN_FDS=1 LISTEN_PID=1" and
                  lines[1] == "marker-" + rt.name, "LISTEN_FDS=1 passes fd 3 to pid 1 of the container: %r" % p)
            pm.cleanup(rt, name)
            # exec --preserve-fds 1: fd 3 reaches the exec'd process.
            r = pm.podman(rt, pm.run_args(rt, name, ["-d"]) + ["sleep", "1000"])
            check(r.rc == 0, "podman run -d: %r" % r)
            fresh = os.open(marker, os.O_RDONLY)
            os.dup2(fresh, 3, inheritable=True)
            os.close(fresh)
            p = subprocess.run(pm.argv(rt, ["exec", "--preserve-fds", "1", name, "sh", "-c", show % 3]),
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, env=pm.env,
                               pass_fds=(3,), timeout=90)
            lines = [line for line in p.stdout.split("\n") if not line.isdigit()]
            check(p.returncode == 0 and fds_of(p.stdout) == [0, 1, 2, 3] and lines[1] == "marker-" + rt.name,
                  "podman exec --preserve-fds 1 passes fd 3, and only it: %r" % p)
        finally:
            os.close(fd)
            for n in (3, 4):
                try:
                    os.close(n)
                except OSError:
                    pass
    finally:
        pm.cleanup(rt, name)


def t_podman_options(pm, rt):
    """Common `podman run` options reach the container through the runtime: a user namespace,
    a read-only root, dropped capabilities, no_new_privs, podman's seccomp profile, memory and pids
    limits (read back from the host's cgroup files), --init, --user/--group-add, --hostname,
    --sysctl, --tmpfs, a read-only bind mount."""
    name = "opts-" + rt.name
    marker = os.path.join(pm.dir, "bind-marker")
    with open(marker, "w") as f:
        f.write("bound\n")
    script = ("cat /proc/self/uid_map; touch /x 2>/dev/null && echo writable || echo read-only; "
              "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; cat /proc/self/cgroup; "
              "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; cat /proc/sys/net/ipv4/ping_group_range; "
              "id; grep -c ' /scratch tmpfs ' /proc/mounts; cat /m; echo x > /m 2>/dev/null || echo m-read-only")
    try:
        r = pm.podman(rt, pm.run_args(rt, name, [
            "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536", "--read-only", "--cap-drop", "all",
            "--security-opt", "no-new-privileges", "--memory", "64m", "--pids-limit", "50", "--init",
            "--user", "1000:1000", "--group-add", "44", "--hostname", "h-" + rt.name,
            "--sysctl", "net.ipv4.ping_group_range=0 1", "--tmpfs", "/scratch:size=1m",
            "--mount", "type=bind,src=%s,dst=/m,ro" % marker, "-d"]) + ["sh", "-c", script + "; sleep 1000"])
        check(r.rc == 0, "podman run with options: %r" % r)
        wait_for(lambda: "m-read-only" in pm.podman(rt, ["logs", name]).out, "the container's report")
        out = pm.podman(rt, ["logs", name]).out
        lines = out.splitlines()
        check(lines[0].split() == ["0", "100000", "65536"], "the user namespace mapping: %r" % out)
        check(lines[1] == "read-only", "--read-only: %r" % out)
        status = dict(line.split(":\t") for line in lines[2:5])
        check(status == {"CapEff": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2"},
              "--cap-drop all, no-new-privileges, seccomp: %r" % status)
        cgroup = "\n".join(line for line in lines if line.count(":") == 2 and line.split(":")[0].isdigit())
        check(host_cgroup_file("memory", cgroup, "memory.limit_in_bytes") == str(64 * 1024 * 1024), "--memory 64m")
        check(host_cgroup_file("pids", cgroup, "pids.max") == "50", "--pids-limit 50")
        rest = lines[lines.index(cgroup.splitlines()[-1]) + 1:]
        check(rest[0].startswith("/run/podman-init -- sh -c"), "--init: pid 1 is podman's init: %r" % rest)
        check(rest[1] == "h-" + rt.name and rest[2].split() == ["0", "1"], "--hostname, --sysctl: %r" % rest)
        check(re.match(r"uid=1000\b.* gid=1000\b.* groups=44,1000", rest[3]), "--user 1000:1000 --group-add 44: %r" % rest)
        check(rest[4:7] == ["1", "bound", "m-read-only"], "--tmpfs, read-only --mount: %r" % rest)
    finally:
        pm.cleanup(rt, name)


def t_podman_cgroupns(pm, rt):
    """--cgroupns=private: conmon calls the runtime from its own cgroup; the container's cgroup
    namespace must still be rooted at the container's cgroup ("/" in every hierarchy)."""
    name = "cgns-" + rt.name
    try:
        r = pm.podman(rt, pm.run_args(rt, name, ["--rm", "--cgroupns", "private"]) + ["cat", "/proc/self/cgroup"])
        lines = r.out.splitlines()
        check(r.rc == 0 and lines and all(line.endswith(":/") for line in lines),
              "every hierarchy's path is / in the container's cgroup namespace: %r" % r)
    finally:
        pm.cleanup(rt, name)


def t_podman_kill_paused(pm, rt):
    """`podman kill` of a paused container: the runtime's `kill ID 9` must stop it (it thaws the
    frozen init), so podman sees it exit at once."""
    name = "kp-" + rt.name
    try:
        r = pm.podman(rt, pm.run_args(rt, name, ["-d"]) + ["sleep", "1000"])
        check(r.rc == 0, "podman run -d: %r" % r)
        check(pm.podman(rt, ["pause", name]).rc == 0, "podman pause")
        t0 = time.time()
        k = pm.podman(rt, ["kill", name])
        check(k.rc == 0 and time.time() - t0 < 4, "podman kill of a paused container: %r (%.1fs)" % (k, time.time() - t0))
        i = pm.podman(rt, ["inspect", "--format", "{{.State.Status}}", name])
        check(i.out.strip() == "exited", "podman inspect says exited: %r" % i)
    finally:
        pm.cleanup(rt, name)


def t_podman_init(pm, rt):
    """`podman init` runs only the runtime's `create`: the container waits as "created"; `podman rm`
    deletes it unstarted, and `podman start -a` of another starts it."""
    name = "init-" + rt.name
    try:
        r = pm.podman(rt, ["create", "--name", name, "--cidfile", pm.cidfile(name), pm.images["busybox"][0],
                           "echo", "started"])
        check(r.rc == 0 and pm.podman(rt, ["init", name]).rc == 0, "podman create + init: %r" % r)
        st = run([rt.path, "state", pm.cid(name)])
        check(st.rc == 0 and json.loads(st.out)["status"] == "created", "the runtime's state says created: %r" % st)
        d = pm.podman(rt, ["rm", name])
        check(d.rc == 0, "podman rm of an initialized container: %r" % d)
    finally:
        pm.cleanup(rt, name)
    try:
        r = pm.podman(rt, ["create", "--name", name, "--cidfile", pm.cidfile(name), pm.images["busybox"][0],
                           "echo", "started"])
        check(r.rc == 0 and pm.podman(rt, ["init", name]).rc == 0, "podman create + init: %r" % r)
        s = pm.podman(rt, ["start", "--attach", name])
        check(s.rc == 0 and s.out == "started\n", "podman start -a of an initialized container: %r" % s)
    finally:
        pm.cleanup(rt, name)


def t_podman_restart(pm, rt):
    """--restart on-failure:2: podman's cleanup process re-creates the container under the same id
    (the runtime's state of the exited one must be gone) and starts it again, twice."""
    name = "restart-" + rt.name
    try:
        r = pm.podman(rt, pm.run_args(rt, name, ["-d", "--restart", "on-failure:2"]) + ["sh", "-c", "echo run; exit 1"])
        check(r.rc == 0, "podman run -d --restart on-failure:2: %r" % r)

        def done():
            i = pm.podman(rt, ["inspect", "--format", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", name])
            return i.out.split() == ["2", "exited", "1"]
        wait_for(done, "two restarts, then exited with status 1", timeout=30)
        logs = pm.podman(rt, ["logs", name])
        check(logs.out.split() == ["run"] * 3, "three runs of the same container: %r" % logs)
    finally:
        pm.cleanup(rt, name)


def t_podman_missing_command(pm, rt):
    name = "missing-" + rt.name
    try:
        r = pm.podman(rt, pm.run_args(rt, name, ["--rm"]) + [MISSING])
        check(r.rc == 127, "podman run of a missing command exits 127: %r" % r)
        check(MISSING in r.err, "podman prints the runtime's message naming %s: %r" % (MISSING, r))
        if rt.is_ocirun:
            # podman shows the msg of ocirun's --log-format=json error line, not the raw line.
            check('Error: ocirun: create container "%s": exec "%s": no such file or directory'
                  % (pm.cid(name), MISSING) in r.err and '"level"' not in r.err,
                  "the message is ocirun's, from its --log-format=json line: %r" % r)
    finally:
        pm.cleanup(rt, name)


# --- docs -------------------------------------------------------------------------------------

DOCS = os.path.join(HERE, "..", "docs", "engines.md")
DOC_BINARY = "/usr/local/bin/ocirun"


def doc_blocks():
    """The fenced blocks of docs/engines.md tagged `tested=NAME`: {NAME: text}."""
    with open(DOCS) as f:
        text = f.read()
    return {m.group(1): m.group(2) for m in re.finditer(r"^```\w+ tested=(\w+)\n(.*?)^```", text, re.M | re.S)}


def config_lines(text):
    return {line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")}


def t_docs(cd, pm, rt):
    blocks = doc_blocks()
    check(set(blocks) >= {"containerd", "runtimeclass", "podman"}, "docs/engines.md has the tested blocks: %s" % sorted(blocks))
    for name, path in (("containerd", cd.config if cd else None), ("podman", pm.env["CONTAINERS_CONF"] if pm else None)):
        if path is None:
            continue
        with open(path) as f:
            generated = config_lines(f.read())
        wanted = config_lines(blocks[name].replace(DOC_BINARY, rt.path))
        check(wanted <= generated, "docs/engines.md's %s lines are in the tested configuration; missing: %s"
              % (name, sorted(wanted - generated)))
    check("handler: %s" % rt.name in blocks["runtimeclass"].splitlines(),
          "the RuntimeClass's handler is the CRI handler the tests use (%s)" % rt.name)


# --- driver -----------------------------------------------------------------------------------

def kill_leftovers(prefix, socket):
    """After a failed scenario: kills what is left in the test's cgroups, then the shims the test's
    containerd started (found by its socket address on their command line)."""
    pids = set()
    for top in ["/sys/fs/cgroup/" + c for c in sorted(os.listdir("/sys/fs/cgroup"))] + ["/sys/fs/cgroup"]:
        for dirpath, _, files in os.walk(os.path.join(top, prefix)):
            if "cgroup.procs" in files:
                with open(os.path.join(dirpath, "cgroup.procs")) as f:
                    pids.update(int(x) for x in f.read().split())
    for pid in sorted(os.listdir("/proc")):
        if pid.isdigit() and socket:
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv[0].endswith(b"containerd-shim-runc-v2") and socket.encode() in argv:
                pids.add(int(pid))
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids


def remove_cgroups(prefix):
    """Removes the cgroup directories below /<prefix> in every hierarchy, deepest first, and
    podman's conmon cgroup (/libpod_parent/conmon) when it is empty."""
    for top in ["/sys/fs/cgroup/" + c for c in sorted(os.listdir("/sys/fs/cgroup"))] + ["/sys/fs/cgroup"]:
        for empty in ("libpod_parent/conmon", "libpod_parent"):
            try:
                os.rmdir(os.path.join(top, empty))
            except OSError:
                pass
        base = os.path.join(top, prefix)
        if not os.path.isdir(base):
            continue
        for dirpath, _, _ in sorted(os.walk(base), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runtime", action="append", required=True, help="an OCI runtime binary (repeatable)")
    ap.add_argument("--suite", default="ctr,cri,podman", help="comma-separated: ctr, cri, podman")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (for debugging)")
    args = ap.parse_args()
    suites = set(args.suite.split(","))
    in_ci = bool(os.environ.get("CI"))

    workdir = tempfile.mkdtemp(prefix="ocirun-engines-")
    cgroup_prefix = "ocirun-engines-" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))
    runtimes = [Runtime(os.path.abspath(p), workdir) for p in args.runtime]
    for rt in runtimes:
        if not os.access(rt.path, os.X_OK):
            print("engines: %s is not an executable" % rt.path, file=sys.stderr)
            return 1
    if len({rt.name for rt in runtimes}) != len(runtimes):
        print("engines: the runtimes' file names must differ (they name the handlers)", file=sys.stderr)
        return 1

    counts = {"ok": 0, "fail": 0, "skip": 0}
    n = [0]

    def report(status, name, detail=""):
        n[0] += 1
        if status == "ok":
            counts["ok"] += 1
            print("ok %d - %s" % (n[0], name))
        elif status == "skip":
            counts["skip"] += 1
            print("ok %d - %s # SKIP %s" % (n[0], name, detail))
        else:
            counts["fail"] += 1
            print("not ok %d - %s" % (n[0], name))
            for line in str(detail).rstrip().splitlines():
                print("#   " + line)
        sys.stdout.flush()

    def attempt(name, fn, *a):
        t0 = time.time()
        try:
            fn(*a)
            report("ok", "%s (%.1fs)" % (name, time.time() - t0))
        except Skip as e:
            report("skip", name, str(e))
        except Exception as e:  # Fail or an engine error: report it, go on with the others
            detail = str(e) if isinstance(e, Fail) else traceback.format_exc()
            report("fail", name, detail)

    def missing(tools):
        return [t for t in tools if shutil.which(t) is None]

    def unavailable(suite, tools):
        gone = missing(tools)
        if not gone:
            return False
        for rt in runtimes:
            if in_ci:
                report("fail", "[%s] %s" % (rt.name, suite), "missing in CI: " + ", ".join(gone))
            else:
                report("skip", "[%s] %s" % (rt.name, suite), "missing: " + ", ".join(gone))
        return True

    cd = pm = None
    try:
        images = image.build_images(os.path.join(workdir, "images"))
        if suites & {"ctr", "cri"} and not unavailable("containerd", ["containerd", "ctr", "containerd-shim-runc-v2", "script"]):
            cd = Containerd(workdir, runtimes, cgroup_prefix, images)
            try:
                cd.start()
            except Exception as e:
                report("fail", "containerd starts with a private config, root, state and socket", e)
                cd = None
        if cd and "ctr" in suites:
            for rt in runtimes:
                attempt("[%s] ctr run (foreground, --rm, exit status, only stdio fds)" % rt.name, t_ctr_foreground, cd, rt)
                attempt("[%s] ctr run -d, task exec, task ps, pause, resume, kill, delete" % rt.name, t_ctr_detached, cd, rt)
                attempt("[%s] ctr run -t and task exec -t (terminal)" % rt.name, t_ctr_tty, cd, rt)
                attempt("[%s] ctr run --privileged, --seccomp, --read-only, --memory-limit, --cpus; "
                        "task kill -a" % rt.name, t_ctr_options, cd, rt)
                attempt("[%s] ctr task kill -s KILL of a paused task stops it" % rt.name, t_ctr_kill_paused, cd, rt)
                attempt("[%s] ctr run of a missing command shows the runtime's message" % rt.name,
                        t_ctr_missing_command, cd, rt)
        if cd and "cri" in suites:
            try:
                import cri
            except ImportError as e:
                cri = None
                for rt in runtimes:
                    report("fail" if in_ci else "skip", "[%s] CRI" % rt.name, "python grpc: %s" % e)
            if cri:
                for rt in runtimes:
                    attempt("[%s] CRI: pod sandbox + container (handler %s), ExecSync, UpdateContainerResources, "
                            "Stop, Remove" % (rt.name, rt.name), t_cri_pod, cd, rt, cri)
                    attempt("[%s] CRI: security context (uid, read-only root, caps, no_new_privs, seccomp), memory "
                            "limit, tty container" % rt.name, t_cri_security, cd, rt, cri)
                    attempt("[%s] CRI: a container over its memory limit is OOMKilled (137)" % rt.name,
                            t_cri_oom, cd, rt, cri)
                    attempt("[%s] CRI: StartContainer of a missing command shows the runtime's message" % rt.name,
                            t_cri_missing_command, cd, rt, cri)
        if "podman" in suites and not unavailable("podman", ["podman", "conmon", "script"]):
            pm = Podman(workdir, runtimes, cgroup_prefix, images)
            try:
                pm.load()
            except Exception as e:
                report("fail", "podman load of the test image", e)
                pm = None
            if pm:
                for rt in runtimes:
                    attempt("[%s] podman run --rm (exit status, only stdio fds)" % rt.name, t_podman_run_rm, pm, rt)
                    attempt("[%s] podman run -t (test -t 0 is true)" % rt.name, t_podman_tty, pm, rt)
                    attempt("[%s] podman run -d, exec (--user/--workdir/--env, missing command), pause, "
                            "unpause, exec -t, stop, rm" % rt.name, t_podman_detached, pm, rt)
                    attempt("[%s] podman run --preserve-fds 2, socket activation (LISTEN_FDS), exec --preserve-fds 1"
                            % rt.name,
                            t_podman_fds, pm, rt)
                    attempt("[%s] podman run --uidmap --read-only --cap-drop all --memory --pids-limit --init "
                            "--user --hostname --sysctl --tmpfs --mount" % rt.name, t_podman_options, pm, rt)
                    attempt("[%s] podman run --cgroupns private: rooted at the container's cgroup" % rt.name,
                            t_podman_cgroupns, pm, rt)
                    attempt("[%s] podman kill of a paused container" % rt.name, t_podman_kill_paused, pm, rt)
                    attempt("[%s] podman init (create only), rm of it unstarted, start -a" % rt.name,
                            t_podman_init, pm, rt)
                    attempt("[%s] podman run --restart on-failure:2 (same id created again)" % rt.name,
                            t_podman_restart, pm, rt)
                    attempt("[%s] podman run of a missing command shows the runtime's message" % rt.name,
                            t_podman_missing_command, pm, rt)
        for rt in runtimes:
            if rt.name == "ocirun" and (cd or pm):
                attempt("[ocirun] docs/engines.md: the containerd, RuntimeClass and podman snippets are the "
                        "tested configuration", t_docs, cd, pm, rt)
        if pm:
            r = run(["podman", "system", "reset", "--force"], env=pm.env, timeout=120)
            if r.rc != 0:
                print("# podman system reset: %r" % r)
    finally:
        left = kill_leftovers(cgroup_prefix, cd.socket if cd else None)
        if left:
            report("fail", "the engines left no container or shim processes behind",
                   "killed: %s" % sorted(left))
        if cd:
            cd.stop()
        # Mounts the engines may have left below the work directory (overlay snapshots, shm).
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f]
        for m in reversed(mounts):
            if m.startswith(workdir + "/"):
                subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        remove_cgroups(cgroup_prefix)
        if args.keep:
            print("# kept " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print("1..%d" % n[0])
    print("engines: %d passed, %d failed, %d skipped" % (counts["ok"], counts["fail"], counts["skip"]))
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
