"""Hooks (config.md "POSIX-platform Hooks", runtime.md "Lifecycle")."""

import json
import os
import time

from harness import Fail, check, container
from registry import register


def host_hook(c, name, body):
    """A host-side shell hook script; returns its path."""
    path = os.path.join(c.dir, "hook-%s.sh" % name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


def logger_hook(c, log, label):
    """A host hook that appends its label and saves the state JSON it got on stdin."""
    p = host_hook(c, label, 'cat > "%s/stdin-%s.json"\necho %s >> "%s"' % (c.dir, label, label, log))
    return {"path": p, "args": [os.path.basename(p), label]}


def read_lines(path):
    try:
        with open(path) as f:
            return f.read().split()
    except OSError:
        return []


def hook_state(c, label):
    p = os.path.join(c.dir, "stdin-%s.json" % label)
    check(os.path.exists(p), "the %s hook did not run" % label)
    try:
        with open(p) as f:
            return json.load(f)
    except ValueError as e:
        raise Fail("the %s hook's stdin is not the state JSON: %s" % (label, e))


@register("prestart", "prestart hooks run (in the runtime namespace) before the user process")
def prestart(env, rt):
    with container(env, rt) as c:
        log = os.path.join(c.dir, "order")
        c.config["hooks"] = {"prestart": [logger_hook(c, log, "prestart")]}
        c.probe("write=/ran")
        c.must_create()
        c.must_start()
        c.wait_status("stopped", 10)
        check(read_lines(log) == ["prestart"], "prestart hook log %r" % read_lines(log))


@register("poststart", "poststart hooks run after the user process started")
def poststart(env, rt):
    with container(env, rt) as c:
        log = os.path.join(c.dir, "order")
        c.config["hooks"] = {"poststart": [logger_hook(c, log, "poststart")]}
        c.probe("sleep=30")
        c.must_create()
        check(read_lines(log) == [], "poststart ran at create")
        c.must_start()
        deadline = time.time() + 5
        while time.time() < deadline and read_lines(log) != ["poststart"]:
            time.sleep(0.05)
        check(read_lines(log) == ["poststart"], "poststart hook log %r" % read_lines(log))


@register("poststop", "poststop hooks run after the container is deleted")
def poststop(env, rt):
    with container(env, rt) as c:
        log = os.path.join(c.dir, "order")
        c.config["hooks"] = {"poststop": [logger_hook(c, log, "poststop")]}
        c.probe("exit=0")
        c.must_create()
        c.must_start()
        c.wait_status("stopped", 10)
        check(read_lines(log) == [], "poststop ran before delete")
        r = c.delete()
        check(r.rc == 0, "delete failed: %r" % r)
        check(read_lines(log) == ["poststop"], "poststop hook log %r" % read_lines(log))


@register("hooks", "all hooks run, each once, in lifecycle order")
def hooks_order(env, rt):
    with container(env, rt) as c:
        log = os.path.join(c.dir, "order")
        # createContainer runs in the container's namespaces before pivot_root: it sees the host
        # path of the rootfs.  startContainer runs inside the container after pivot_root: its path
        # resolves in the container, so it is a busybox shell script in the rootfs.
        cc_hook = host_hook(c, "createContainer",
                            'echo createContainer >> "%s" 2>/dev/null || echo createContainer >> /hooklog' % log)
        with open(c.hostpath("/start-hook.sh"), "w") as f:
            f.write("#!/bin/sh\necho startContainer >> /hooklog\n")
        os.chmod(c.hostpath("/start-hook.sh"), 0o755)
        c.config["hooks"] = {
            "createRuntime": [logger_hook(c, log, "createRuntime")],
            "createContainer": [{"path": cc_hook}],
            "startContainer": [{"path": "/start-hook.sh"}],
            "prestart": [logger_hook(c, log, "prestart")],
            "poststart": [logger_hook(c, log, "poststart")],
            "poststop": [logger_hook(c, log, "poststop")],
        }
        c.probe("sleep=1")
        c.must_create()
        after_create = read_lines(log)
        c.must_start()
        c.wait_status("stopped", 10)
        r = c.delete()
        check(r.rc == 0, "delete failed: %r" % r)
        host = read_lines(log)
        inside = read_lines(c.hostpath("/hooklog"))
        seen = host + inside
        for h in ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"):
            check(seen.count(h) == 1, "%s ran %d times (host log %r, container log %r)" % (h, seen.count(h), host, inside))
        check(set(after_create) >= {"prestart", "createRuntime"} or "createContainer" in after_create,
              "create-time hooks had not run when create returned: %r" % after_create)
        check("startContainer" in inside, "startContainer did not run inside the container")
        hp = [h for h in host if h != "createContainer"]
        check(hp == ["prestart", "createRuntime", "poststart", "poststop"],
              "host hook order %r, want prestart, createRuntime, poststart, poststop" % hp)


@register("hooks_stdin", "every hook gets the container state JSON on stdin")
def hooks_stdin(env, rt):
    with container(env, rt) as c:
        log = os.path.join(c.dir, "order")
        c.config["annotations"] = {"org.ocirun.hook": "v"}
        c.config["hooks"] = {k: [logger_hook(c, log, k)] for k in ("prestart", "createRuntime", "poststart", "poststop")}
        c.probe("sleep=1")
        c.must_create()
        pid = c.pid()
        c.must_start()
        c.wait_status("stopped", 10)
        c.delete()
        for k in ("prestart", "createRuntime", "poststart", "poststop"):
            st = hook_state(c, k)
            check(st.get("id") == c.id, "%s: id %r" % (k, st.get("id")))
            b = st.get("bundle", st.get("bundlePath"))
            check(b and os.path.realpath(b) == os.path.realpath(c.bundle), "%s: bundle %r" % (k, b))
            check("ociVersion" in st and "status" in st, "%s: state lacks ociVersion/status: %s" % (k, st))
            if k != "poststop":
                check(st.get("pid") == pid, "%s: pid %r, want %d" % (k, st.get("pid"), pid))
            check((st.get("annotations") or {}).get("org.ocirun.hook") == "v", "%s: annotations %r" % (k, st.get("annotations")))
        check(hook_state(c, "poststart").get("status") == "running",
              "poststart: status %r, want running" % hook_state(c, "poststart").get("status"))
        check(hook_state(c, "poststop").get("status") == "stopped",
              "poststop: status %r, want stopped" % hook_state(c, "poststop").get("status"))


@register("hooks_args_env", "a hook gets its args and env as configured (args[0] included)")
def hooks_args_env(env, rt):
    with container(env, rt) as c:
        out = os.path.join(c.dir, "hookenv")
        p = host_hook(c, "argenv", 'echo "$0|$1|$2|$CONF_HOOK_VAR|$OTHER" > "%s"' % out)
        c.config["hooks"] = {"createRuntime": [{"path": p, "args": [p, "one", "two"],
                                                "env": ["CONF_HOOK_VAR=hv", "OTHER=x"]}]}
        c.probe("ids")
        c.must_create()
        got = open(out).read().strip() if os.path.exists(out) else None
        check(got == "%s|one|two|hv|x" % p, "hook saw %r" % got)


def _prestart_like_fail(env, rt, kind):
    with container(env, rt) as c:
        log = os.path.join(c.dir, "order")
        fail = host_hook(c, "fail", "exit 1")
        c.config["hooks"] = {kind: [{"path": fail}, logger_hook(c, log, "after")]}
        c.probe("write=/ran")
        r = c.create()
        failed = r.rc != 0
        if not failed:
            failed = c.start().rc != 0
        check(failed, "a failing %s hook produced no error from create or start" % kind)
        time.sleep(0.2)
        check(not os.path.exists(c.hostpath("/ran")), "the user process ran despite the failing %s hook" % kind)
        check("after" not in read_lines(log), "hooks after the failing %s hook still ran" % kind)
        # The container MUST be stopped: no container or a stopped one.
        rs, st = c.state()
        check(rs.rc != 0 or (st and st.get("status") == "stopped"),
              "container still %s after the failing hook" % (st or {}).get("status"))


@register("prestart_fail", "a failing prestart hook: error, the container is stopped, the process never runs")
def prestart_fail(env, rt):
    _prestart_like_fail(env, rt, "prestart")


@register("create_runtime_fail", "a failing createRuntime hook: error, the container is stopped")
def create_runtime_fail(env, rt):
    _prestart_like_fail(env, rt, "createRuntime")


@register("poststart_fail", "a failing poststart hook: error and the container is stopped (spec 1.1+)")
def poststart_fail(env, rt):
    # runtime-spec 1.0 said "log a warning and continue"; 1.1.0 changed it to "generate an error,
    # stop the container" (what runc always did).  The check follows the current text.
    with container(env, rt) as c:
        fail = host_hook(c, "fail", "exit 1")
        c.config["hooks"] = {"poststart": [{"path": fail}]}
        c.probe("sleep=30")
        r = c.create()
        if r.rc == 0:
            r = c.start()
        check(r.rc != 0, "create and start with a failing poststart hook both reported success")
        deadline = time.time() + 10
        while time.time() < deadline:
            rs, st = c.state()
            if rs.rc != 0 or (st and st.get("status") == "stopped"):
                return
            time.sleep(0.1)
        raise Fail("container still %s after the failing poststart hook" % (st or {}).get("status"))


@register("poststop_fail", "a failing poststop hook: a warning only; delete succeeds and later hooks run")
def poststop_fail(env, rt):
    with container(env, rt) as c:
        log = os.path.join(c.dir, "order")
        fail = host_hook(c, "fail", "exit 1")
        c.config["hooks"] = {"poststop": [{"path": fail}, logger_hook(c, log, "after")]}
        c.probe("exit=0")
        c.must_create()
        c.must_start()
        c.wait_status("stopped", 10)
        r = c.delete()
        check(r.rc == 0, "delete failed because of a poststop hook: %r" % r)
        check(read_lines(log) == ["after"], "the hook after the failing poststop did not run: %r" % read_lines(log))
        rs, _ = c.state()
        check(rs.rc != 0, "container still exists after delete")


@register("hooks_timeout", "a hook that outlives its timeout is aborted and the operation errors")
def hooks_timeout(env, rt):
    with container(env, rt) as c:
        slow = host_hook(c, "slow", "exec sleep 30")   # exec: killing the hook ends the sleep
        c.config["hooks"] = {"createRuntime": [{"path": slow, "timeout": 1}]}
        c.probe("write=/ran")
        t0 = time.time()
        r = c.create(timeout=25)
        dt = time.time() - t0
        check(not r.timed_out, "create hung on a hook with timeout 1")
        check(r.rc != 0, "create succeeded although its hook timed out")
        check(dt < 15, "create took %.1fs for a hook with timeout 1" % dt)
