"""cgroups (config-linux.md "Control groups"): cgroupsPath and every linux.resources area.

Each resource area is checked twice, as the OCI validation suite does: with an absolute
cgroupsPath (linux_cgroups_X) and with a relative one (linux_cgroups_relative_X).  The
values are read from the host side in the cgroup the container's process is in, found
through /proc/PID/cgroup, so the checks hold on cgroup v1, v2 and hybrid hosts.
"""

import os

from harness import Fail, Skip, cgroup_dir, cgroup_mounts, check, container, proc_cgroups, read_text, v2_controllers
from registry import register


def need_controller(name):
    v1, _v2 = cgroup_mounts()
    if name not in v1 and name not in v2_controllers():
        raise Skip("the %s cgroup controller is not mounted on this host" % name)


def check_path(c, controller, relative):
    """The container's cgroup for controller ends with cgroupsPath (absolute: equals it)."""
    pc = proc_cgroups(c.pid())
    _d, ver = cgroup_dir(c.pid(), controller)
    path = pc[controller] if ver == 1 else pc[""]
    if relative:
        check(path.endswith("/" + c.cgroups_path), "cgroup %s does not end with the relative cgroupsPath %s" % (path, c.cgroups_path))
    else:
        check(path == c.cgroups_path, "cgroup %s, want the absolute cgroupsPath %s" % (path, c.cgroups_path))


def first_block_device():
    with open("/proc/partitions") as f:
        for line in f.read().splitlines()[2:]:
            parts = line.split()
            if len(parts) == 4:
                return int(parts[0]), int(parts[1])
    raise Skip("no block device on this host")


def area(name, controller):
    """Register an absolute- and a relative-path variant of a resource check."""
    def deco(fn):
        def absolute(env, rt):
            need_controller(controller)
            with container(env, rt) as c:
                fn(c, False)

        def relative(env, rt):
            need_controller(controller)
            with container(env, rt, relative_cgroup=True) as c:
                fn(c, True)
        register("linux_cgroups_" + name, (fn.__doc__ or "") + " (absolute cgroupsPath)")(absolute)
        register("linux_cgroups_relative_" + name, (fn.__doc__ or "") + " (relative cgroupsPath)")(relative)
        return fn
    return deco


def want_file(c, controller, v1, v2, expected, label):
    got, ver = c.cgroup_file(controller, v1, v2)
    exp = expected(ver) if callable(expected) else expected
    check(got == str(exp), "%s: %s = %r, want %r" % (label, v1 if ver == 1 else v2, got, str(exp)))


@area("memory", "memory")
def memory(c, relative):
    """memory: limit, reservation, swap, swappiness, disableOOMKiller"""
    limit, reservation, swap = 64 << 20, 32 << 20, 128 << 20
    c.resources()["memory"] = {"limit": limit, "reservation": reservation, "swap": swap,
                               "disableOOMKiller": True}
    v1, _ = cgroup_mounts()
    has_memsw = "memory" in v1 and os.path.exists(os.path.join(v1["memory"], "memory.memsw.limit_in_bytes"))
    if not has_memsw and "memory" in v1:
        del c.resources()["memory"]["swap"]
    c.probe("sleep=30")
    c.must_create()
    check_path(c, "memory", relative)
    want_file(c, "memory", "memory.limit_in_bytes", "memory.max", limit, "limit")
    want_file(c, "memory", "memory.soft_limit_in_bytes", "memory.low", reservation, "reservation")
    if has_memsw:
        want_file(c, "memory", "memory.memsw.limit_in_bytes", "memory.swap.max",
                  lambda ver: swap if ver == 1 else swap - limit, "swap")
    got, ver = c.cgroup_file("memory", "memory.oom_control", None) if "memory" in v1 else (None, 2)
    if ver == 1:
        check("oom_kill_disable 1" in got, "disableOOMKiller: memory.oom_control %r" % got)


@area("cpus", "cpu")
def cpus(c, relative):
    """cpu: shares, quota, period, cpus, mems"""
    c.resources()["cpu"] = {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"}
    c.probe("sleep=30")
    c.must_create()
    check_path(c, "cpu", relative)
    _d, ver = cgroup_dir(c.pid(), "cpu")
    if ver == 1:
        want_file(c, "cpu", "cpu.shares", None, 512, "shares")
        want_file(c, "cpu", "cpu.cfs_quota_us", None, 50000, "quota")
        want_file(c, "cpu", "cpu.cfs_period_us", None, 100000, "period")
    else:
        want_file(c, "cpu", None, "cpu.max", "50000 100000", "quota/period")
        got, _ = c.cgroup_file("cpu", None, "cpu.weight")
        check(got != "100", "shares 512 left cpu.weight at the default 100")
    want_file(c, "cpuset", "cpuset.cpus", "cpuset.cpus", "0", "cpus")
    want_file(c, "cpuset", "cpuset.mems", "cpuset.mems", "0", "mems")


@area("pids", "pids")
def pids(c, relative):
    """pids: limit"""
    c.resources()["pids"] = {"limit": 10}
    c.probe("sleep=30")
    c.must_create()
    check_path(c, "pids", relative)
    want_file(c, "pids", "pids.max", "pids.max", 10, "limit")


@area("blkio", "blkio")
def blkio(c, relative):
    """blkio: throttle read/write bps and iops per device"""
    major, minor = first_block_device()
    dev = lambda rate: [{"major": major, "minor": minor, "rate": rate}]
    c.resources()["blockIO"] = {"throttleReadBpsDevice": dev(1 << 20), "throttleWriteBpsDevice": dev(2 << 20),
                                "throttleReadIOPSDevice": dev(100), "throttleWriteIOPSDevice": dev(200)}
    c.probe("sleep=30")
    c.must_create()
    check_path(c, "blkio", relative)
    d, ver = cgroup_dir(c.pid(), "blkio")
    if ver == 1:
        for f, v in (("read_bps_device", 1 << 20), ("write_bps_device", 2 << 20), ("read_iops_device", 100),
                     ("write_iops_device", 200)):
            want_file(c, "blkio", "blkio.throttle." + f, None, "%d:%d %d" % (major, minor, v), f)
    else:
        got, _ = c.cgroup_file("io", None, "io.max")
        for k, v in (("rbps", 1 << 20), ("wbps", 2 << 20), ("riops", 100), ("wiops", 200)):
            check("%s=%d" % (k, v) in got, "io.max %r lacks %s=%d" % (got, k, v))


@register("linux_cgroups_blkio_weight", "blkio: weight (needs a weight-capable I/O scheduler)")
def blkio_weight(env, rt):
    need_controller("blkio")
    v1, v2 = cgroup_mounts()
    if "blkio" in v1:
        if not any(os.path.exists(os.path.join(v1["blkio"], f)) for f in ("blkio.weight", "blkio.bfq.weight")):
            raise Skip("no blkio.weight or blkio.bfq.weight on this host (no CFQ/BFQ scheduler)")
    with container(env, rt) as c:
        c.resources()["blockIO"] = {"weight": 300}
        c.probe("sleep=30")
        c.must_create()
        d, ver = cgroup_dir(c.pid(), "blkio")
        for f in ("blkio.weight", "blkio.bfq.weight", "io.weight", "io.bfq.weight"):
            p = os.path.join(d, f)
            if os.path.exists(p):
                check("300" in read_text(p), "%s = %r, want 300" % (f, read_text(p)))
                return
        raise Fail("no weight file in %s" % d)


@area("hugetlb", "hugetlb")
def hugetlb(c, relative):
    """hugetlb: a 2MB page limit"""
    if not os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        raise Skip("no 2MB huge pages on this host")
    c.resources()["hugepageLimits"] = [{"pageSize": "2MB", "limit": 4 << 20}]
    c.probe("sleep=30")
    c.must_create()
    check_path(c, "hugetlb", relative)
    want_file(c, "hugetlb", "hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.max", 4 << 20, "2MB limit")


@area("network", "net_cls")
def network(c, relative):
    """network: classID and priorities"""
    need_controller("net_prio")
    c.resources()["network"] = {"classID": 0x100001, "priorities": [{"name": "lo", "priority": 5}]}
    c.probe("sleep=30")
    c.must_create()
    check_path(c, "net_cls", relative)
    want_file(c, "net_cls", "net_cls.classid", None, 0x100001, "classID")
    got, _ = c.cgroup_file("net_prio", "net_prio.ifpriomap", None)
    check("lo 5" in got, "net_prio.ifpriomap %r lacks 'lo 5'" % got)


@area("devices", "devices")
def devices(c, relative):
    """devices: the allow list is written in order"""
    c.linux["devices"] = [{"path": "/dev/conf-fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666}]
    c.resources()["devices"] = [{"allow": False, "access": "rwm"},
                                {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
                                {"allow": True, "type": "b", "major": 7, "minor": 7, "access": "r"}]
    c.probe("sleep=30")
    c.must_create()
    check_path(c, "devices", relative)
    _d, ver = cgroup_dir(c.pid(), "devices")
    got, _ = c.cgroup_file("devices", "devices.list", None)
    lines = got.splitlines()
    check("a *:* rwm" not in lines, "devices.list still allows everything: %r" % lines)
    check("c 10:229 rw" in lines, "devices.list %r lacks c 10:229 rw" % lines)
    check("b 7:7 r" in lines, "devices.list %r lacks b 7:7 r" % lines)


@register("linux_cgroups_memory_oom", "a process above memory.limit is OOM-killed (32 MiB limit, 64 MiB touched)")
def memory_oom(env, rt):
    need_controller("memory")
    with container(env, rt) as c:
        c.resources()["memory"] = {"limit": 32 << 20, "swap": 32 << 20}
        v1, _ = cgroup_mounts()
        if "memory" in v1 and not os.path.exists(os.path.join(v1["memory"], "memory.memsw.limit_in_bytes")):
            del c.resources()["memory"]["swap"]
        c.probe("echo=start", "alloc=64", "echo=survived")
        r = c.run(timeout=60)
        check("echo=start" in r.out, "the probe did not start: %r" % r)
        check("echo=survived" not in r.out, "a process touching 64 MiB survived a 32 MiB limit")
        check(r.rc == 137, "run exited %s, want 137 (SIGKILL by the OOM killer)" % r.rc)


@register("linux_cgroups_pids_enforced", "pids.limit 10: forking beyond it fails with EAGAIN")
def pids_enforced(env, rt):
    need_controller("pids")
    with container(env, rt) as c:
        c.resources()["pids"] = {"limit": 10}
        rep, _ = c.run_probe("fork=20")
        got, err = rep.get("fork", "0,?").split(",")
        check(err == "EAGAIN" and int(got) == 9, "forks: %s succeeded then %s; want 9 then EAGAIN" % (got, err))


@register("linux_cgroups_unified_v1_error", "unified on a host whose controllers are not on cgroup v2 MUST error")
def unified_error(env, rt):
    if "memory" in v2_controllers() or "memory" not in cgroup_mounts()[0]:
        raise Skip("memory is on cgroup v2 here: see linux_cgroups_unified")
    with container(env, rt) as c:
        c.resources()["unified"] = {"memory.high": str(64 << 20)}
        c.probe("write=/ran")
        r = c.run()
        check(r.rc != 0, "unified memory.high was accepted although memory is a cgroup v1 controller here")


@register("linux_cgroups_unified", "unified: keys are written to the cgroup v2 files")
def unified(env, rt):
    if "memory" not in v2_controllers():
        raise Skip("memory is not a cgroup v2 controller on this host")
    with container(env, rt) as c:
        c.resources()["unified"] = {"memory.high": str(64 << 20), "pids.max": "42"}
        c.probe("sleep=30")
        c.must_create()
        got, _ = c.cgroup_file("memory", None, "memory.high")
        check(got == str(64 << 20), "memory.high %r" % got)


@register("linux_cgroups_same_path", "the same cgroupsPath always attaches to the same place")
def same_path(env, rt):
    need_controller("pids")
    with container(env, rt) as a:
        a.probe("exit=0")
        a.must_create()
        pa = proc_cgroups(a.pid())["pids"]
        a.delete(force=True)
        with container(env, rt) as b:
            b.cgroups_path = a.cgroups_path
            b.linux["cgroupsPath"] = a.cgroups_path
            b.probe("sleep=30")
            b.must_create()
            check(proc_cgroups(b.pid())["pids"] == pa, "same cgroupsPath, different cgroups")
