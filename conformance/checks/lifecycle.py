"""Lifecycle operations (runtime.md): create, start, state, kill, delete, and their errors."""

import json
import os
import time

from harness import Fail, Skip, check, container, parse_report, rand_id, run_bounded
from registry import register

MARK = "/ran"   # the probe writes this file in the rootfs when the user process ran


def marker_ops(*more):
    return ("write=%s" % MARK,) + more


@register("default", "a container with the default (runc spec) config runs its process")
def default(env, rt):
    with container(env, rt) as c:
        rep, _ = c.run_probe("ids", "cwd", "hostname", "ns")
        check(rep.get("uid") == "0,0,0", "uid inside is %s, want 0,0,0" % rep.get("uid"))
        check(rep.get("cwd") == "/", "cwd is %s, want /" % rep.get("cwd"))
        check(rep.get("hostname") == "conformance", "hostname is %r" % rep.get("hostname"))


@register("create", "create: status becomes created; the user process MUST NOT run yet")
def create(env, rt):
    with container(env, rt) as c:
        c.probe(*marker_ops())
        c.must_create()
        st = c.must_state()
        check(st.get("status") == "created", "status after create is %r, want created" % st.get("status"))
        time.sleep(0.3)
        check(not os.path.exists(c.hostpath(MARK)), "the user process ran before start")


@register("create_error_duplicate_id", "create MUST error on a non-unique id and MUST NOT create a new container")
def create_duplicate(env, rt):
    with container(env, rt) as c:
        c.probe("sleep=30")
        c.must_create()
        pid = c.pid()
        # Same id, other bundle: must fail, the first container must be untouched.
        with container(env, rt) as d:
            d.probe(*marker_ops())
            d.id, d.root = c.id, c.root
            d.write_config()
            r = rt(c.root, "create", "--bundle", d.bundle, c.id, timeout=20)
            check(r.rc != 0, "second create with the same id succeeded")
            check(not os.path.exists(d.hostpath(MARK)), "second container's process ran")
        st = c.must_state()
        check(st.get("pid") == pid and st.get("status") == "created",
              "first container changed after the duplicate create: %s" % st)


@register("create_error_no_id", "create MUST error if not given the container id")
def create_no_id(env, rt):
    with container(env, rt) as c:
        c.write_config()
        r = rt(c.root, "create", "--bundle", c.bundle, timeout=20)
        check(r.rc != 0, "create without an id succeeded")


@register("create_error_bad_bundle", "create MUST error when the bundle has no config.json")
def create_bad_bundle(env, rt):
    with container(env, rt) as c:
        os.makedirs(os.path.join(c.dir, "empty"))
        c.created = True
        r = rt(c.root, "create", "--bundle", os.path.join(c.dir, "empty"), c.id, timeout=20)
        check(r.rc != 0, "create with a bundle lacking config.json succeeded")
        r2, _ = c.state()
        check(r2.rc != 0, "a failed create left a container behind")


@register("create_error_leaves_nothing", "a failed create MUST leave the environment as if never attempted")
def create_error_leaves_nothing(env, rt):
    with container(env, rt) as c:
        c.probe("ids")
        # A mount of an unknown filesystem type cannot be set up.
        c.config["mounts"].append({"destination": "/broken", "type": "nosuchfs-conformance", "source": "none"})
        r = c.create()
        check(r.rc != 0, "create with an impossible mount succeeded")
        r2, _ = c.state()
        check(r2.rc != 0, "state still knows the container after a failed create")
        leftovers = [e for e in os.listdir(c.root) if not e.startswith(".")] if os.path.isdir(c.root) else []
        check(c.id not in leftovers, "state directory %s left in --root" % c.id)
        from harness import cgroup_mounts
        v1, v2 = cgroup_mounts()
        for mp in set(v1.values()) | ({v2} if v2 else set()):
            p = os.path.join(mp, c.cgroups_path.lstrip("/"))
            check(not os.path.isdir(p), "cgroup %s left after the failed create" % p)


@register("start", "start MUST run the user-specified program; status becomes running")
def start(env, rt):
    with container(env, rt) as c:
        c.probe(*marker_ops("sleep=30"))
        c.must_create()
        c.must_start()
        st = c.wait_status("running", 5)
        check(st.get("status") == "running", "status %r" % st.get("status"))
        deadline = time.time() + 5
        while time.time() < deadline and not os.path.exists(c.hostpath(MARK)):
            time.sleep(0.05)
        check(os.path.exists(c.hostpath(MARK)), "user process did not run after start")


@register("start_error_twice", "starting an already started container MUST error and MUST have no effect")
def start_twice(env, rt):
    with container(env, rt) as c:
        c.probe("sleep=30")
        c.must_create()
        c.must_start()
        st1 = c.wait_status("running", 5)
        r = c.start()
        check(r.rc != 0, "second start succeeded")
        st2 = c.must_state()
        check(st2.get("status") == "running" and st2.get("pid") == st1.get("pid"),
              "second start changed the container: %s -> %s" % (st1, st2))


@register("start_error_missing", "starting a container that does not exist MUST error")
def start_missing(env, rt):
    with container(env, rt) as c:
        r = c.start()
        check(r.rc != 0, "start of a missing container succeeded")


@register("state", "state JSON: ociVersion, id, status, pid, bundle, annotations")
def state(env, rt):
    with container(env, rt) as c:
        c.config["annotations"] = {"org.ocirun.conformance": "yes"}
        c.probe("sleep=30")
        c.must_create()
        st = c.must_state()
        for k in ("ociVersion", "id", "status", "pid"):
            check(k in st, "state lacks %r: %s" % (k, st))
        check(st["id"] == c.id, "id %r, want %r" % (st["id"], c.id))
        check(isinstance(st["pid"], int) and st["pid"] > 0, "pid %r" % st["pid"])
        check(os.path.exists("/proc/%d" % st["pid"]), "pid %d is not a live process" % st["pid"])
        bundle = st.get("bundle", st.get("bundlePath"))
        check(bundle is not None, "state lacks bundle: %s" % st)
        check(os.path.isabs(bundle), "bundle %r is not absolute" % bundle)
        check(os.path.realpath(bundle) == os.path.realpath(c.bundle), "bundle %r, want %r" % (bundle, c.bundle))
        check((st.get("annotations") or {}).get("org.ocirun.conformance") == "yes",
              "state annotations %r lack the config's annotation" % st.get("annotations"))


@register("state_stopped", "when the process exits, status MUST be stopped")
def state_stopped(env, rt):
    with container(env, rt) as c:
        c.probe("exit=0")
        c.must_create()
        c.must_start()
        c.wait_status("stopped", 10)


@register("state_error_missing", "state of a container that does not exist MUST error")
def state_missing(env, rt):
    with container(env, rt) as c:
        r, _ = c.state("conf-missing-" + rand_id())
        check(r.rc != 0, "state of a missing container succeeded: %s" % r.out[:200])


@register("state_error_no_id", "state MUST error if not given an id")
def state_no_id(env, rt):
    with container(env, rt) as c:
        r = rt(c.root, "state", timeout=10)
        check(r.rc != 0, "state without an id succeeded")


@register("kill", "kill MUST send the signal to the container process; status becomes stopped")
def kill(env, rt):
    with container(env, rt) as c:
        c.probe("trap=10", "wait=/sig")
        c.must_create()
        c.must_start()
        c.wait_status("running", 5)
        time.sleep(0.2)   # let the probe install its handler
        r = c.kill("SIGUSR1")
        check(r.rc == 0, "kill SIGUSR1 failed: %r" % r)
        c.wait_status("stopped", 10)
        got = open(c.hostpath("/sig")).read().strip() if os.path.exists(c.hostpath("/sig")) else None
        check(got == "10", "the process received %r, want signal 10" % got)


@register("killsig", "kill accepts signal names (TERM, SIGUSR1) and numbers (2), and delivers that signal")
def killsig(env, rt):
    # The probe is pid 1 of its pid namespace: only signals it handles reach it, so it traps them.
    for sig, num in (("TERM", 15), ("SIGUSR1", 10), ("2", 2)):
        with container(env, rt) as c:
            c.probe("trap=%d" % num, "wait=/sig")
            c.must_create()
            c.must_start()
            c.wait_status("running", 5)
            time.sleep(0.2)
            r = c.kill(sig)
            check(r.rc == 0, "kill %s failed: %r" % (sig, r))
            c.wait_status("stopped", 10)
            got = open(c.hostpath("/sig")).read().strip() if os.path.exists(c.hostpath("/sig")) else None
            check(got == str(num), "kill %s delivered %r, want %d" % (sig, got, num))


@register("kill_created", "kill of a created container delivers the signal (status created is killable)")
def kill_created(env, rt):
    with container(env, rt) as c:
        c.probe("sleep=30")
        c.must_create()
        r = c.kill("KILL")
        check(r.rc == 0, "kill of a created container failed: %r" % r)
        c.wait_status("stopped", 10)


@register("kill_no_effect", "kill of a stopped container MUST error and MUST have no effect")
def kill_no_effect(env, rt):
    with container(env, rt) as c:
        c.probe("exit=0")
        c.must_create()
        c.must_start()
        st1 = c.wait_status("stopped", 10)
        r = c.kill("KILL")
        st2 = c.must_state()
        check(st1 == st2, "kill changed the state: %s -> %s" % (st1, st2))
        check(r.rc != 0, "kill of a stopped container did not report an error")


@register("kill_error_missing", "kill of a container that does not exist MUST error")
def kill_missing(env, rt):
    with container(env, rt) as c:
        r = c.kill("KILL")
        check(r.rc != 0, "kill of a missing container succeeded")


@register("delete", "delete of a stopped container removes it (state then errors)")
def delete(env, rt):
    with container(env, rt) as c:
        c.probe("exit=0")
        c.must_create()
        c.must_start()
        c.wait_status("stopped", 10)
        r = c.delete()
        check(r.rc == 0, "delete failed: %r" % r)
        r2, _ = c.state()
        check(r2.rc != 0, "state still works after delete")


@register("delete_created", "delete of a created (never started) container removes it and its process")
def delete_created(env, rt):
    with container(env, rt) as c:
        c.probe("sleep=30")
        c.must_create()
        pid = c.pid()
        r = c.delete(force=True)
        check(r.rc == 0, "delete --force of a created container failed: %r" % r)
        deadline = time.time() + 5
        while time.time() < deadline and os.path.exists("/proc/%d" % pid):
            # a zombie until its parent reaps it counts as gone
            try:
                if open("/proc/%d/stat" % pid).read().split(")")[1].split()[0] == "Z":
                    break
            except OSError:
                break
            time.sleep(0.05)
        alive = os.path.exists("/proc/%d/stat" % pid) and \
            open("/proc/%d/stat" % pid).read().split(")")[1].split()[0] != "Z"
        check(not alive, "the container's init %d still runs after delete" % pid)


@register("delete_resources", "delete MUST delete the resources created during create (cgroup, state)")
def delete_resources(env, rt):
    from harness import cgroup_dir
    with container(env, rt) as c:
        c.probe("exit=0")
        c.must_create()
        d, _ver = cgroup_dir(c.pid(), "pids")
        check(os.path.isdir(d), "no cgroup at %s while created" % d)
        c.must_start()
        c.wait_status("stopped", 10)
        r = c.delete()
        check(r.rc == 0, "delete failed: %r" % r)
        check(not os.path.isdir(d), "cgroup %s still exists after delete" % d)
        check(c.id not in os.listdir(c.root), "state directory still in --root after delete")


@register("delete_after_crash", "delete after the init was SIGKILLed from outside removes its cgroup and state")
def delete_after_crash(env, rt):
    import signal
    from harness import cgroup_dir
    with container(env, rt) as c:
        c.probe("sleep=60")
        c.must_create()
        c.must_start()
        st = c.wait_status("running", 5)
        d, _ver = cgroup_dir(st["pid"], "memory")
        os.kill(st["pid"], signal.SIGKILL)     # the container's own init, which this check started
        c.wait_status("stopped", 10)
        r = c.delete()
        check(r.rc == 0, "delete after a crash failed: %r" % r)
        deadline = time.time() + 3
        while time.time() < deadline and os.path.isdir(d):
            time.sleep(0.05)
        check(not os.path.isdir(d), "cgroup %s left after delete" % d)
        r2, _ = c.state()
        check(r2.rc != 0, "state still works after delete")


@register("delete_only_create_resources", "resources not created by the container MUST NOT be deleted")
def delete_only_created(env, rt):
    with container(env, rt) as c:
        src = os.path.join(c.dir, "hostdata")
        os.makedirs(src)
        with open(os.path.join(src, "keep"), "w") as f:
            f.write("keep\n")
        c.config["mounts"].append({"destination": "/data", "type": "bind", "source": src,
                                   "options": ["rbind", "rw"]})
        c.probe("cat=/data/keep")
        c.must_create()
        c.must_start()
        c.wait_status("stopped", 10)
        r = c.delete()
        check(r.rc == 0, "delete failed: %r" % r)
        check(os.path.exists(os.path.join(src, "keep")), "delete removed a bind-mount source it did not create")
        check(os.path.exists(os.path.join(c.rootfs, "bin", "probe")), "delete removed files of the rootfs")


@register("delete_error_running", "delete of a running container MUST error (and leave it running)")
def delete_running(env, rt):
    with container(env, rt) as c:
        c.probe("sleep=30")
        c.must_create()
        c.must_start()
        st1 = c.wait_status("running", 5)
        r = c.delete()
        check(r.rc != 0, "delete of a running container succeeded")
        st2 = c.must_state()
        check(st2.get("status") == "running" and st2.get("pid") == st1.get("pid"),
              "delete changed a running container: %s" % st2)


@register("delete_error_missing", "delete of a container that does not exist MUST error")
def delete_missing(env, rt):
    with container(env, rt) as c:
        r = c.delete()
        check(r.rc != 0, "delete of a missing container succeeded")


@register("delete_force_missing", "runc CLI: delete --force of a missing container exits 0")
def delete_force_missing(env, rt):
    with container(env, rt) as c:
        r = c.delete(force=True)
        check(r.rc == 0, "delete --force of a missing container failed: %r" % r)


@register("delete_force_running", "runc CLI: delete --force kills and removes a running container")
def delete_force_running(env, rt):
    with container(env, rt) as c:
        c.probe("sleep=30")
        c.must_create()
        c.must_start()
        c.wait_status("running", 5)
        r = c.delete(force=True)
        check(r.rc == 0, "delete --force of a running container failed: %r" % r)
        r2, _ = c.state()
        check(r2.rc != 0, "container still exists after delete --force")


@register("pidfile", "--pid-file holds the container process pid (the one state reports)")
def pidfile(env, rt):
    with container(env, rt) as c:
        c.probe("sleep=30")
        pf = os.path.join(c.dir, "pid")
        c.must_create("--pid-file", pf)
        check(os.path.exists(pf), "pid file not written")
        txt = open(pf).read().strip()
        check(txt.isdigit(), "pid file content %r is not a number" % txt)
        check(int(txt) == c.pid(), "pid file %s != state pid %d" % (txt, c.pid()))


@register("pidfile_relative", "runc CLI: a relative --pid-file is resolved against the caller's cwd")
def pidfile_relative(env, rt):
    with container(env, rt) as c:
        c.probe("sleep=30")
        c.must_create("--pid-file", "rel.pid")   # create runs with cwd = c.dir
        pf = os.path.join(c.dir, "rel.pid")
        check(os.path.exists(pf), "relative pid file not written to the caller's cwd")
        check(int(open(pf).read().strip()) == c.pid(), "pid file does not match the state pid")


@register("config_updates_without_affect", "updates to config.json after create MUST NOT affect the container")
def config_updates(env, rt):
    with container(env, rt) as c:
        c.probe("echo=original")
        c.must_create()
        c.probe("echo=changed")
        c.write_config()
        c.must_start()
        c.wait_status("stopped", 10)
        rep = c.report()
        check(rep.get("echo") == "original", "the process saw the updated config: echo=%r" % rep.get("echo"))


@register("run_exit_status", "runc CLI: run in the foreground exits with the container's exit status")
def run_exit_status(env, rt):
    with container(env, rt) as c:
        c.probe("exit=7")
        r = c.run()
        check(r.rc == 7, "run exited %s, want 7" % r.rc)


@register("run_stdio", "the process gets the caller's stdin/stdout/stderr")
def run_stdio(env, rt):
    with container(env, rt) as c:
        c.probe("stdin", "echo=out")
        c.write_config()
        c.created = True
        r = rt(c.root, "run", "--bundle", c.bundle, c.id, input="hello-stdin\n", timeout=20)
        rep = parse_report(r.out)
        check(r.rc == 0, "run failed: %r" % r)
        check(rep.get("stdin") == "hello-stdin", "stdin read %r" % rep.get("stdin"))


@register("misc_props_unknown_annotation", "unknown annotation keys MUST NOT generate an error")
def misc_unknown_annotation(env, rt):
    with container(env, rt) as c:
        c.config["annotations"] = {"org.conformance.unknown-%s" % rand_id(): ""}
        c.run_probe("ids")


@register("misc_props_unknown_property", "unknown properties MUST NOT generate an error")
def misc_unknown_property(env, rt):
    with container(env, rt) as c:
        c.config["unknownProperty"] = {"x": 1}
        c.process["unknownProcessProperty"] = "y"
        c.linux["unknownLinuxProperty"] = ["z"]
        c.run_probe("ids")


@register("misc_props_invalid_value", "invalid values MUST generate an error (a uid that is a string)")
def misc_invalid_value(env, rt):
    with container(env, rt) as c:
        c.probe(*marker_ops())
        c.process["user"] = {"uid": "root", "gid": 0}   # uid must be an integer
        r = c.run()
        check(r.rc != 0, "a config with a string uid ran")
        check(not os.path.exists(c.hostpath(MARK)), "the process ran")


@register("misc_props_missing_args", "process.args is REQUIRED: a config without it MUST error")
def misc_missing_args(env, rt):
    with container(env, rt) as c:
        del c.process["args"]
        r = c.run()
        check(r.rc != 0, "a config without process.args ran")
