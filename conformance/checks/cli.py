"""The runc command line beyond the OCI operations, as engines call it (containerd, podman, CRI-O).

Not part of the runtime spec; names start with `cli_`.  They score what a drop-in runc
replacement must do: exec, pause/resume, update, ps, events, list, features, spec, the
console socket, and the JSON error log engines read.
"""

import array
import json
import os
import select
import socket
import subprocess
import time

from harness import Fail, Skip, cgroup_dir, check, container, parse_report, read_text
from registry import register


def running(c, *ops):
    c.probe(*(ops or ("sleep=60",)))
    c.must_create()
    c.must_start()
    return c.wait_status("running", 5)


@register("cli_exec", "exec runs a process in the container's namespaces and cgroup")
def cli_exec(env, rt):
    with container(env, rt) as c:
        st = running(c)
        r = c.rtc("exec", c.id, "/bin/probe", "ns", "ids", "cwd", timeout=20)
        check(r.rc == 0, "exec failed: %r" % r)
        rep = parse_report(r.out)
        for k in ("pid", "net", "ipc", "uts", "mnt"):
            want = os.readlink("/proc/%d/ns/%s" % (st["pid"], k))
            check(rep.get("ns:" + k) == want, "exec'd process in %s namespace %r, init in %r" % (k, rep.get("ns:" + k), want))


@register("cli_exec_exit_status", "exec in the foreground exits with the process's status")
def cli_exec_status(env, rt):
    with container(env, rt) as c:
        running(c)
        r = c.rtc("exec", c.id, "/bin/probe", "exit=5", timeout=20)
        check(r.rc == 5, "exec exited %s, want 5" % r.rc)


@register("cli_exec_process_file", "exec --process FILE takes args, env, cwd and user from the JSON")
def cli_exec_process(env, rt):
    with container(env, rt) as c:
        running(c)
        pf = os.path.join(c.dir, "process.json")
        with open(pf, "w") as f:
            json.dump({"terminal": False, "user": {"uid": 1000, "gid": 1000}, "cwd": "/tmp",
                       "args": ["/bin/probe", "ids", "cwd", "env"], "env": ["PATH=/bin", "EXEC_VAR=1"]}, f)
        r = c.rtc("exec", "--process", pf, c.id, timeout=20)
        check(r.rc == 0, "exec --process failed: %r" % r)
        rep = parse_report(r.out)
        check(rep.get("uid") == "1000,1000,1000", "uid %r" % rep.get("uid"))
        check(rep.get("cwd") == "/tmp", "cwd %r" % rep.get("cwd"))
        check(rep.get("env:EXEC_VAR") == "1", "env %r" % rep.get("env:EXEC_VAR"))


@register("cli_exec_error_stopped", "exec into a stopped container errors")
def cli_exec_stopped(env, rt):
    with container(env, rt) as c:
        c.probe("exit=0")
        c.must_create()
        c.must_start()
        c.wait_status("stopped", 10)
        r = c.rtc("exec", c.id, "/bin/probe", "ids", timeout=20)
        check(r.rc != 0, "exec into a stopped container succeeded")


def counter(c):
    try:
        return int(open(c.hostpath("/tmp/count")).read().strip() or 0)
    except (OSError, ValueError):
        return -1


@register("cli_pause_resume", "pause freezes the container (no progress, status paused); resume thaws it")
def cli_pause(env, rt):
    with container(env, rt) as c:
        c.args("/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; usleep 20000; done")
        c.must_create()
        c.must_start()
        c.wait_status("running", 5)
        time.sleep(0.3)
        r = c.rtc("pause", c.id)
        check(r.rc == 0, "pause failed: %r" % r)
        st = c.must_state()
        check(st.get("status") == "paused", "status after pause %r" % st.get("status"))
        time.sleep(0.1)
        a = counter(c)
        time.sleep(0.5)
        b = counter(c)
        check(a == b and a > 0, "the container made progress while paused (%d -> %d)" % (a, b))
        r = c.rtc("resume", c.id)
        check(r.rc == 0, "resume failed: %r" % r)
        time.sleep(0.5)
        check(counter(c) > b, "no progress after resume")
        check(c.must_state().get("status") == "running", "status after resume is not running")


@register("cli_update_memory", "update --memory changes the live limit")
def cli_update(env, rt):
    with container(env, rt) as c:
        c.resources()["memory"] = {"limit": 64 << 20}
        running(c)
        r = c.rtc("update", "--memory", str(128 << 20), c.id)
        check(r.rc == 0, "update failed: %r" % r)
        got, _ = c.cgroup_file("memory", "memory.limit_in_bytes", "memory.max")
        check(got == str(128 << 20), "memory limit after update %r" % got)


@register("cli_update_resources_stdin", "update --resources - reads the linux.resources JSON from stdin")
def cli_update_stdin(env, rt):
    with container(env, rt) as c:
        c.resources()["pids"] = {"limit": 100}
        running(c)
        r = c.rtc("update", "--resources", "-", c.id, input=json.dumps({"pids": {"limit": 42}}))
        check(r.rc == 0, "update --resources - failed: %r" % r)
        got, _ = c.cgroup_file("pids", "pids.max", "pids.max")
        check(got == "42", "pids.max after update %r" % got)


@register("cli_update_flags", "update takes runc's single-value flags: sizes with units, -1 for unlimited, cpu and pids")
def cli_update_flags(env, rt):
    with container(env, rt) as c:
        c.resources()["memory"] = {"limit": 64 << 20}
        running(c)
        r = c.rtc("update", "--memory", "96m", "--memory-reservation", "32m", "--pids-limit", "20",
                  "--cpu-share", "256", "--cpu-period", "100000", "--cpu-quota", "50000", c.id)
        check(r.rc == 0, "update failed: %r" % r)
        got, _ = c.cgroup_file("memory", "memory.limit_in_bytes", "memory.max")
        check(got == str(96 << 20), "memory limit after --memory 96m: %r" % got)
        got, _ = c.cgroup_file("pids", "pids.max", "pids.max")
        check(got == "20", "pids.max after --pids-limit 20: %r" % got)
        got, v2 = c.cgroup_file("cpu", "cpu.cfs_quota_us", "cpu.max")
        check(got is not None and got.split()[0] == "50000", "cpu quota after --cpu-quota 50000: %r" % got)
        r = c.rtc("update", "--memory", "-1", "--pids-limit", "-1", c.id)
        check(r.rc == 0, "update --memory -1 failed: %r" % r)
        got, _ = c.cgroup_file("memory", "memory.limit_in_bytes", "memory.max")
        check(got == "max" or int(got or 0) > 1 << 60, "memory limit after --memory -1: %r" % got)


@register("cli_ps_json", "ps --format json lists the container's pids")
def cli_ps(env, rt):
    with container(env, rt) as c:
        st = running(c)
        r = c.rtc("ps", "--format", "json", c.id)
        check(r.rc == 0, "ps failed: %r" % r)
        try:
            pids = json.loads(r.out)
        except ValueError:
            raise Fail("ps output is not JSON: %r" % r.out[:200])
        check(st["pid"] in pids, "ps %r lacks the init pid %d" % (pids, st["pid"]))


@register("cli_list_json", "list --format json shows the container and its status")
def cli_list(env, rt):
    with container(env, rt) as c:
        running(c)
        r = c.rtc("list", "--format", "json")
        check(r.rc == 0, "list failed: %r" % r)
        try:
            items = json.loads(r.out) or []
        except ValueError:
            raise Fail("list output is not JSON: %r" % r.out[:200])
        mine = [i for i in items if i.get("id") == c.id]
        check(mine and mine[0].get("status") == "running", "list: %r" % items)


@register("cli_events_stats", "events --stats prints one stats JSON object with memory and pids")
def cli_events_stats(env, rt):
    with container(env, rt) as c:
        running(c)
        r = c.rtc("events", "--stats", c.id)
        check(r.rc == 0, "events --stats failed: %r" % r)
        try:
            ev = json.loads(r.out.strip().splitlines()[0])
        except (ValueError, IndexError):
            raise Fail("events --stats output is not JSON: %r" % r.out[:200])
        check(ev.get("type") == "stats" and ev.get("id") == c.id, "event %r" % {k: ev.get(k) for k in ("type", "id")})
        data = ev.get("data") or {}
        check("memory" in data and "pids" in data, "stats lack memory/pids: %s" % sorted(data))
        # runc's types.Stats: these members are always present.
        missing = [k for k in ("cpu", "memory", "pids", "blkio", "hugetlb") if k not in data]
        check(not missing, "stats lack %s (runc's shape): %s" % (missing, sorted(data)))
        check(isinstance(data["memory"].get("usage"), dict) and "limit" in data["memory"]["usage"],
              "memory.usage.limit missing: %r" % data["memory"])
        check(data["pids"].get("current", 0) >= 1, "pids.current %r" % data["pids"])


@register("cli_events_oom", "events reports an OOM kill in the container")
def cli_events_oom(env, rt):
    with container(env, rt) as c:
        c.resources()["memory"] = {"limit": 32 << 20}
        running(c)
        ev = subprocess.Popen([rt.path, "--root", c.root, "events", "--interval", "1s", c.id], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True)
        c.helpers.append(ev)
        time.sleep(0.5)
        check(ev.poll() is None, "events exited at once (exit %s)" % ev.poll())
        c.rtc("exec", c.id, "/bin/probe", "alloc=64", timeout=30)
        deadline = time.time() + 10
        buf = b""
        while time.time() < deadline:
            ready, _, _ = select.select([ev.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(ev.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                if b'"oom"' in buf:
                    return
        raise Fail("no oom event within 10s; got %r" % buf[-300:])


@register("cli_features", "features prints the OCI features JSON")
def cli_features(env, rt):
    with container(env, rt) as c:
        r = c.rtc("features")
        check(r.rc == 0, "features failed: %r" % r)
        try:
            f = json.loads(r.out)
        except ValueError:
            raise Fail("features output is not JSON")
        check("ociVersionMin" in f and "ociVersionMax" in f, "features lacks ociVersionMin/Max")


@register("cli_spec", "spec --bundle writes a config.json with the runc defaults")
def cli_spec(env, rt):
    with container(env, rt) as c:
        d = os.path.join(c.dir, "specdir")
        os.makedirs(d)
        r = c.rtc("spec", "--bundle", d)
        check(r.rc == 0, "spec failed: %r" % r)
        cfg = json.load(open(os.path.join(d, "config.json")))
        check(cfg.get("ociVersion") and cfg.get("process", {}).get("args") and cfg.get("root", {}).get("path") == "rootfs",
              "spec config lacks ociVersion/process.args/root.path=rootfs")


@register("cli_log_json_error", "--log FILE --log-format json: the last line is a JSON error naming the cause")
def cli_log_json(env, rt):
    with container(env, rt) as c:
        log = os.path.join(c.dir, "log.json")
        c.args("/no/such/binary-conformance")
        c.write_config()
        c.created = True
        r = subprocess.run([rt.path, "--root", c.root, "--log", log, "--log-format", "json", "run",
                                          "--bundle", c.bundle, c.id], capture_output=True, text=True, timeout=20,
                                         stdin=subprocess.DEVNULL)
        check(r.returncode != 0, "run of a missing binary succeeded")
        lines = [l for l in open(log).read().splitlines() if l.strip()] if os.path.exists(log) else []
        check(lines, "nothing logged to --log")
        try:
            last = json.loads(lines[-1])
        except ValueError:
            raise Fail("last log line is not JSON: %r" % lines[-1][:200])
        check(last.get("level") == "error", "last log line level %r" % last.get("level"))
        check("binary-conformance" in last.get("msg", ""), "error message does not name the missing binary: %r" % last.get("msg"))


def recv_fd(conn):
    fds = array.array("i")
    msg, anc, _flags, _addr = conn.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
    return fds[0] if fds else None


@register("process_terminal", "terminal: the pty master arrives on --console-socket; stdio is a tty; /dev/console exists")
def process_terminal(env, rt):
    with container(env, rt) as c:
        c.process["terminal"] = True
        c.probe("readlink=/proc/self/fd/0", "stat=/dev/console", "echo=tty-ok", "sleep=1")
        sock_path = os.path.join(c.dir, "console.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(sock_path)
        srv.listen(1)
        srv.settimeout(15)
        master = None
        try:
            r = c.create("--console-socket", sock_path)
            check(r.rc == 0, "create with --console-socket failed: %r" % r)
            conn, _ = srv.accept()
            master = recv_fd(conn)
            conn.close()
            check(master is not None, "no file descriptor received on the console socket")
            c.must_start()
            out = b""
            deadline = time.time() + 10
            while time.time() < deadline and b"echo=tty-ok" not in out:
                ready, _, _ = select.select([master], [], [], 0.5)
                if ready:
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:
                        break
                    if not chunk:
                        break
                    out += chunk
        finally:
            srv.close()
            if master is not None:
                os.close(master)
        rep = parse_report(out.decode(errors="replace").replace("\r", ""))
        check(rep.get("readlink:/proc/self/fd/0", "").startswith("/dev/pts/"), "stdin is %r, not a pty" % rep.get("readlink:/proc/self/fd/0"))
        check(rep.get("stat:/dev/console", "ENOENT") != "ENOENT", "/dev/console missing with terminal: true")
