"""The container's Linux environment (config.md, config-linux.md): namespaces, filesystem, devices, ..."""

import os
import subprocess
import time

from harness import Fail, Skip, check, container, read_text
from registry import register

NS_TYPES = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt", "cgroup": "cgroup",
            "user": "user"}


def host_ns(kind):
    return os.readlink("/proc/self/ns/%s" % kind)


def mount_fields(line):
    """Split a mountinfo line: (mountpoint, mount options, optional fields, fstype, source, super options)."""
    left, right = line.split(" - ", 1)
    f = left.split()
    fstype, src, sopts = (right.split(" ", 2) + ["", ""])[:3]
    return {"mp": f[4], "opts": f[5].split(","), "optional": f[6:], "fstype": fstype, "source": src,
            "super": sopts.split(",")}


def probe_mount(rep, path):
    v = rep.get("mount:" + path)
    check(v and v != "none", "%s is not a mount point in the container" % path)
    return mount_fields(v)


# ----------------------------------------------------------------------------- hostname, domainname

@register("hostname", "hostname is set in the container's UTS namespace")
def hostname(env, rt):
    with container(env, rt) as c:
        c.config["hostname"] = "conf-host-name"
        rep, _ = c.run_probe("hostname")
        check(rep.get("hostname") == "conf-host-name", "hostname %r" % rep.get("hostname"))


@register("domainname", "domainname is set in the container's UTS namespace")
def domainname(env, rt):
    with container(env, rt) as c:
        c.config["domainname"] = "conf.example"
        rep, r = c.run_probe("hostname")
        check(rep.get("domainname") == "conf.example", "domainname %r" % rep.get("domainname"))


@register("hostname_error_no_uts", "setting hostname without a new UTS namespace MUST error")
def hostname_no_uts(env, rt):
    with container(env, rt) as c:
        c.linux["namespaces"] = [n for n in c.linux["namespaces"] if n["type"] != "uts"]
        c.config["hostname"] = "must-not-be-set"
        c.probe("hostname")
        r = c.run()
        check(r.rc != 0, "hostname was accepted without a uts namespace")
        check(os.uname().nodename != "must-not-be-set", "the HOST hostname was changed!")


# ----------------------------------------------------------------------------- namespaces

@register("linux_ns_itype", "each namespace type listed gets a new namespace; unlisted ones are inherited")
def ns_itype(env, rt):
    with container(env, rt) as c:
        c.linux["namespaces"] = [{"type": t} for t in ("pid", "ipc", "uts", "mount", "cgroup")]
        rep, _ = c.run_probe("ns")
        for t in ("pid", "ipc", "uts", "mnt", "cgroup"):
            check(rep.get("ns:" + t) != host_ns(t), "%s namespace is the host's although listed" % t)
        for t in ("net", "user"):
            check(rep.get("ns:" + t) == host_ns(t), "%s namespace is new although not listed" % t)


@register("linux_ns_nopath", "a namespace without a path is a new one, different from the runtime's")
def ns_nopath(env, rt):
    with container(env, rt) as c:
        rep, _ = c.run_probe("ns")
        for t in ("pid", "net", "ipc", "uts", "mnt"):
            check(rep.get("ns:" + t) not in (None, host_ns(t)), "%s namespace %r is not new" % (t, rep.get("ns:" + t)))


def ns_holder(c):
    """A host process in new net, ipc, uts and pid namespaces; returns (pid for net/ipc/uts, pid in new pidns)."""
    if not os.path.exists("/usr/bin/unshare"):
        raise Skip("unshare(1) is needed to make namespaces to join")
    p = c.spawn_helper(["unshare", "--net", "--ipc", "--uts", "--pid", "--fork", "sleep", "60"])
    deadline = time.time() + 5
    child = None
    while time.time() < deadline and child is None:
        try:
            kids = read_text("/proc/%d/task/%d/children" % (p.pid, p.pid)).split()
            if kids:
                child = int(kids[0])
        except OSError:
            pass
        time.sleep(0.02)
    check(child is not None, "helper namespace process did not start")
    return p.pid, child


@register("linux_ns_path", "a namespace with a path is joined (net, ipc, uts, pid)")
def ns_path(env, rt):
    with container(env, rt) as c:
        _unshare_pid, holder = ns_holder(c)
        want = {t: os.readlink("/proc/%d/ns/%s" % (holder, k)) for t, k in
                (("network", "net"), ("ipc", "ipc"), ("uts", "uts"), ("pid", "pid"))}
        ns = []
        for n in c.linux["namespaces"]:
            if n["type"] in want:
                ns.append({"type": n["type"], "path": "/proc/%d/ns/%s" % (holder, NS_TYPES[n["type"]])})
            else:
                ns.append(n)
        c.linux["namespaces"] = ns
        del c.config["hostname"]   # joining a UTS namespace: do not rename it
        rep, _ = c.run_probe("ns")
        for t, k in (("network", "net"), ("ipc", "ipc"), ("uts", "uts"), ("pid", "pid")):
            check(rep.get("ns:" + k) == want[t], "%s: container in %r, want the joined %r" % (t, rep.get("ns:" + k), want[t]))


@register("linux_ns_path_type", "a namespace path of another type MUST generate an error")
def ns_path_type(env, rt):
    with container(env, rt) as c:
        _u, holder = ns_holder(c)
        c.linux["namespaces"] = [n if n["type"] != "ipc" else {"type": "ipc", "path": "/proc/%d/ns/net" % holder}
                                 for n in c.linux["namespaces"]]
        c.probe("write=/ran")
        r = c.run()
        check(r.rc != 0, "a net namespace path given as the ipc namespace was accepted")
        check(not os.path.exists(c.hostpath("/ran")), "the process ran")


@register("linux_ns_duplicate", "a namespace type listed twice MUST generate an error")
def ns_duplicate(env, rt):
    with container(env, rt) as c:
        c.linux["namespaces"].append({"type": "ipc"})
        c.probe("write=/ran")
        r = c.run()
        check(r.rc != 0, "a duplicated namespace type was accepted")


# ----------------------------------------------------------------------------- user namespace

@register("linux_uid_mappings", "uid/gid mappings are written for the user namespace")
def uid_mappings(env, rt):
    with container(env, rt) as c:
        c.linux["namespaces"].append({"type": "user"})
        c.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        c.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        # The rootfs must belong to the mapped root for the process to use it like root would.
        subprocess.run(["chown", "-R", "-h", "200000:200000", c.rootfs], check=True, timeout=30)
        rep, _ = c.run_probe("ids", "cat=/proc/self/uid_map", "cat=/proc/self/gid_map", "ns")
        um = rep.get("cat:/proc/self/uid_map", "").split()
        gm = rep.get("cat:/proc/self/gid_map", "").split()
        check(um == ["0", "200000", "65536"], "uid_map %r" % rep.get("cat:/proc/self/uid_map"))
        check(gm == ["0", "200000", "65536"], "gid_map %r" % rep.get("cat:/proc/self/gid_map"))
        check(rep.get("uid") == "0,0,0", "uid inside %r" % rep.get("uid"))
        check(rep.get("ns:user") != host_ns("user"), "no new user namespace")


@register("linux_uid_mappings_host_owner", "a process in a user namespace is owned by the mapped host uid")
def uid_mappings_owner(env, rt):
    with container(env, rt) as c:
        c.linux["namespaces"].append({"type": "user"})
        c.linux["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        c.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        subprocess.run(["chown", "-R", "-h", "200000:200000", c.rootfs], check=True, timeout=30)
        c.probe("sleep=30")
        c.must_create()
        c.must_start()
        st = c.wait_status("running", 5)
        uids = [l for l in open("/proc/%d/status" % st["pid"]).read().splitlines() if l.startswith("Uid:")]
        check(uids and uids[0].split()[1] == "200000", "host sees the container process as %r" % uids)


# ----------------------------------------------------------------------------- filesystem

@register("root_readonly_true", "root.readonly: the root filesystem is read-only in the container")
def root_readonly(env, rt):
    with container(env, rt) as c:
        c.config["root"]["readonly"] = True
        rep, _ = c.run_probe("write=/x", "mount=/", "write=/dev/shm/ok")
        check(rep.get("write:/x") == "EROFS", "writing / gave %s, want EROFS" % rep.get("write:/x"))
        check("ro" in probe_mount(rep, "/")["opts"], "/ is not mounted ro: %s" % rep.get("mount:/"))
        check(rep.get("write:/dev/shm/ok") == "OK", "a tmpfs mount on a read-only root is not writable")


@register("root_readonly_false", "root.readonly false: the root filesystem is writable")
def root_readwrite(env, rt):
    with container(env, rt) as c:
        rep, _ = c.run_probe("write=/x")
        check(rep.get("write:/x") == "OK", "writing / gave %s" % rep.get("write:/x"))


@register("root_path_absolute", "root.path may be an absolute path")
def root_abs(env, rt):
    with container(env, rt) as c:
        c.config["root"]["path"] = c.rootfs
        c.run_probe("ids")


@register("mounts", "mounts: tmpfs with options, bind mounts (ro), in order")
def mounts(env, rt):
    with container(env, rt) as c:
        src = os.path.join(c.dir, "src")
        os.makedirs(src)
        with open(os.path.join(src, "hello"), "w") as f:
            f.write("hi\n")
        c.config["mounts"] += [
            {"destination": "/mnt/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=1m", "mode=700"]},
            {"destination": "/mnt/tmp/nested", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
            {"destination": "/mnt/ro", "type": "bind", "source": src, "options": ["rbind", "ro"]},
            {"destination": "/mnt/rw", "type": "bind", "source": src, "options": ["bind"]},
        ]
        rep, _ = c.run_probe("mount=/mnt/tmp", "mount=/mnt/tmp/nested", "mount=/mnt/ro", "stat=/mnt/tmp",
                             "cat=/mnt/ro/hello", "write=/mnt/ro/new", "write=/mnt/rw/new")
        t = probe_mount(rep, "/mnt/tmp")
        check(t["fstype"] == "tmpfs", "/mnt/tmp is %s" % t["fstype"])
        check("nosuid" in t["opts"] and "nodev" in t["opts"], "/mnt/tmp options %s" % t["opts"])
        check("size=1024k" in t["super"], "/mnt/tmp size: super options %s" % t["super"])
        check(rep.get("stat:/mnt/tmp", "").startswith("dir,0700"), "/mnt/tmp mode %r" % rep.get("stat:/mnt/tmp"))
        probe_mount(rep, "/mnt/tmp/nested")
        check(rep.get("cat:/mnt/ro/hello") == "hi", "bind mount content %r" % rep.get("cat:/mnt/ro/hello"))
        check(rep.get("write:/mnt/ro/new") == "EROFS", "write to ro bind: %s" % rep.get("write:/mnt/ro/new"))
        check(rep.get("write:/mnt/rw/new") == "OK", "write to rw bind: %s" % rep.get("write:/mnt/rw/new"))
        check(os.path.exists(os.path.join(src, "new")), "rw bind write did not reach the host source")


@register("mounts_no_destination_escape", "a mount destination reached through a symlink stays inside the rootfs")
def mounts_escape(env, rt):
    with container(env, rt) as c:
        outside = os.path.join(c.dir, "outside")
        os.makedirs(outside)
        os.symlink(outside, c.hostpath("/evil"))     # absolute host path as link target
        c.config["mounts"].append({"destination": "/evil", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]})
        c.probe("write=/evil/inside")
        r = c.run()
        leaked = [m for m in open("/proc/self/mountinfo").read().splitlines() if " %s " % outside in m]
        check(not leaked, "the runtime mounted on the host path %s through a symlink in the rootfs" % outside)
        check(not os.path.exists(os.path.join(outside, "inside")), "the container wrote to a host directory")


@register("linux_rootfs_propagation", "rootfsPropagation private/shared/unbindable applies to the container's /")
def rootfs_propagation(env, rt):
    for prop, want in (("private", None), ("shared", "shared:"), ("unbindable", "unbindable")):
        with container(env, rt) as c:
            c.linux["rootfsPropagation"] = prop
            rep, _ = c.run_probe("mount=/")
            opt = probe_mount(rep, "/")["optional"]
            if want is None:
                check(not any(o.startswith(("shared:", "master:")) for o in opt) and "unbindable" not in opt,
                      "%s: / has propagation %s" % (prop, opt))
            else:
                check(any(o.startswith(want) for o in opt), "%s: / has propagation %s, want %s" % (prop, opt, want))


@register("linux_masked_paths", "maskedPaths: files read empty, directories are empty and read-only")
def masked_paths(env, rt):
    with container(env, rt) as c:
        os.makedirs(c.hostpath("/masked-dir"))
        with open(c.hostpath("/masked-dir/secret"), "w") as f:
            f.write("secret\n")
        with open(c.hostpath("/masked-file"), "w") as f:
            f.write("secret\n")
        c.linux["maskedPaths"] = c.linux["maskedPaths"] + ["/masked-dir", "/masked-file", "/masked-missing"]
        rep, _ = c.run_probe("cat=/masked-file", "stat=/masked-dir/secret", "write=/masked-dir/new",
                             "cat=/proc/kcore", "stat=/proc/kcore")
        check(rep.get("cat:/masked-file") == "", "masked file reads %r" % rep.get("cat:/masked-file"))
        check(rep.get("stat:/masked-dir/secret") == "ENOENT", "masked dir still shows its file: %s" % rep.get("stat:/masked-dir/secret"))
        check(rep.get("write:/masked-dir/new") in ("EROFS", "EACCES", "EPERM"),
              "masked dir is writable: %s" % rep.get("write:/masked-dir/new"))
        if os.path.exists("/proc/kcore"):   # not every kernel has it
            check(rep.get("cat:/proc/kcore") in ("", "EPERM", "EACCES"), "/proc/kcore reads %r" % rep.get("cat:/proc/kcore")[:40])


@register("linux_readonly_paths", "readonlyPaths: writes fail with EROFS, reads work")
def readonly_paths(env, rt):
    with container(env, rt) as c:
        os.makedirs(c.hostpath("/ro-dir"))
        with open(c.hostpath("/ro-dir/file"), "w") as f:
            f.write("ro\n")
        c.linux["readonlyPaths"] = c.linux["readonlyPaths"] + ["/ro-dir", "/ro-missing"]
        rep, _ = c.run_probe("cat=/ro-dir/file", "write=/ro-dir/file", "write=/ro-dir/new",
                             "write=/proc/sys/kernel/hostname:x", "write=/rw-ok")
        check(rep.get("cat:/ro-dir/file") == "ro", "read-only dir unreadable: %r" % rep.get("cat:/ro-dir/file"))
        check(rep.get("write:/ro-dir/file") == "EROFS", "write to readonly path: %s" % rep.get("write:/ro-dir/file"))
        check(rep.get("write:/ro-dir/new") == "EROFS", "create in readonly path: %s" % rep.get("write:/ro-dir/new"))
        check(rep.get("write:/proc/sys/kernel/hostname") == "EROFS",
              "write to /proc/sys: %s" % rep.get("write:/proc/sys/kernel/hostname"))
        check(rep.get("write:/rw-ok") == "OK", "the rest of the rootfs became read-only")


@register("linux_mount_label", "mountLabel is applied to the container's mounts (SELinux)")
def mount_label(env, rt):
    if not os.path.exists("/sys/fs/selinux/enforce"):
        raise Skip("SELinux is not enabled on this host")
    with container(env, rt) as c:
        c.linux["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
        rep, _ = c.run_probe("mount=/dev/shm")
        check("c1,c2" in rep.get("mount:/dev/shm", ""), "mountLabel not on /dev/shm: %s" % rep.get("mount:/dev/shm"))


# ----------------------------------------------------------------------------- devices

DEFAULT_DEVICES = {"/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/full": (1, 7), "/dev/random": (1, 8),
                   "/dev/urandom": (1, 9), "/dev/tty": (5, 0)}


@register("linux_default_devices", "the default devices exist as character devices and are usable")
def default_devices(env, rt):
    with container(env, rt) as c:
        ops = ["stat=%s" % d for d in DEFAULT_DEVICES] + ["openrw=/dev/null", "open=/dev/urandom", "stat=/dev/ptmx"]
        rep, _ = c.run_probe(*ops)
        for d, (ma, mi) in DEFAULT_DEVICES.items():
            f = rep.get("stat:" + d, "").split(",")
            check(len(f) > 5 and f[0] == "char" and (int(f[4]), int(f[5])) == (ma, mi),
                  "%s: %r, want char %d:%d" % (d, rep.get("stat:" + d), ma, mi))
        check(rep.get("openrw:/dev/null") == "OK", "/dev/null not usable: %s" % rep.get("openrw:/dev/null"))
        check(rep.get("open:/dev/urandom") == "OK", "/dev/urandom not usable: %s" % rep.get("open:/dev/urandom"))
        check(rep.get("stat:/dev/ptmx", "ENOENT") != "ENOENT", "/dev/ptmx missing")


@register("linux_dev_symlinks", "/dev/fd, /dev/stdin, /dev/stdout, /dev/stderr symlinks exist")
def dev_symlinks(env, rt):
    with container(env, rt) as c:
        want = {"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1",
                "/dev/stderr": "/proc/self/fd/2"}
        rep, _ = c.run_probe(*["readlink=%s" % k for k in want])
        for k, v in want.items():
            check(rep.get("readlink:" + k) == v, "%s -> %r, want %s" % (k, rep.get("readlink:" + k), v))


@register("linux_devices", "linux.devices creates the nodes with type, major/minor, fileMode, uid, gid")
def linux_devices(env, rt):
    with container(env, rt) as c:
        c.linux["devices"] = [
            {"path": "/dev/conf-null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o660, "uid": 0, "gid": 0},
            {"path": "/dev/conf-owned", "type": "c", "major": 1, "minor": 5, "fileMode": 0o640, "uid": 1000, "gid": 50},
            {"path": "/dev/sub/conf-loop", "type": "b", "major": 7, "minor": 200, "fileMode": 0o600, "uid": 0, "gid": 0},
            {"path": "/dev/conf-fifo", "type": "p", "fileMode": 0o600},
        ]
        c.resources()["devices"] = [{"allow": False, "access": "rwm"},
                                    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]
        rep, _ = c.run_probe("stat=/dev/conf-null", "stat=/dev/conf-owned", "stat=/dev/sub/conf-loop", "stat=/dev/conf-fifo", "openrw=/dev/conf-null")
        check(rep.get("stat:/dev/conf-null") == "char,0660,0,0,1,3,0", "/dev/conf-null: %r" % rep.get("stat:/dev/conf-null"))
        check(rep.get("stat:/dev/conf-owned") == "char,0640,1000,50,1,5,0", "/dev/conf-owned: %r" % rep.get("stat:/dev/conf-owned"))
        check(rep.get("stat:/dev/sub/conf-loop") == "block,0600,0,0,7,200,0", "/dev/sub/conf-loop: %r" % rep.get("stat:/dev/sub/conf-loop"))
        check(rep.get("stat:/dev/conf-fifo", "").startswith("fifo,0600"), "/dev/conf-fifo: %r" % rep.get("stat:/dev/conf-fifo"))
        check(rep.get("openrw:/dev/conf-null") == "OK", "/dev/conf-null not usable: %s" % rep.get("openrw:/dev/conf-null"))


@register("linux_devices_conflict", "a file at a device path that does not match the device MUST generate an error")
def linux_devices_conflict(env, rt):
    with container(env, rt) as c:
        with open(c.hostpath("/conf-dev"), "w") as f:
            f.write("a regular file\n")
        c.linux["devices"] = [{"path": "/conf-dev", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666}]
        c.probe("write=/ran")
        r = c.run()
        check(r.rc != 0, "a device over an existing regular file was accepted")


@register("linux_cgroups_devices_enforced", "resources.devices: a node that exists but is not allowed cannot be opened (EPERM)")
def cgroups_devices(env, rt):
    # /dev/fuse (10:229) is in neither runc's nor crun's default allow list and needs no capability to open.
    node = [{"path": "/dev/conf-fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666}]
    with container(env, rt) as c:
        c.linux["devices"] = list(node)
        rep, _ = c.run_probe("open=/dev/conf-fuse")
        check(rep.get("open:/dev/conf-fuse") == "EPERM", "opening a device not in the allow list gave %s, want EPERM" % rep.get("open:/dev/conf-fuse"))
    with container(env, rt) as c:
        c.linux["devices"] = list(node)
        c.resources()["devices"] = [{"allow": False, "access": "rwm"},
                                    {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "r"}]
        rep, _ = c.run_probe("open=/dev/conf-fuse", "openrw=/dev/conf-fuse")
        check(rep.get("open:/dev/conf-fuse") == "OK", "an allowed (r) device: open gave %s" % rep.get("open:/dev/conf-fuse"))
        check(rep.get("openrw:/dev/conf-fuse") == "EPERM", "write access to an r-only device gave %s, want EPERM" % rep.get("openrw:/dev/conf-fuse"))


# ----------------------------------------------------------------------------- sysctl, seccomp

@register("linux_sysctl", "linux.sysctl values are set in the container's namespaces")
def sysctl(env, rt):
    with container(env, rt) as c:
        c.linux["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192", "net.ipv4.tcp_syncookies": "0"}
        rep, _ = c.run_probe("sysctl=net.ipv4.ip_forward", "sysctl=kernel.msgmax", "sysctl=net.ipv4.tcp_syncookies")
        for k, v in c.linux["sysctl"].items():
            check(rep.get("sysctl:" + k) == v, "%s = %r, want %s" % (k, rep.get("sysctl:" + k), v))


@register("linux_sysctl_host_ns_error", "a namespaced sysctl whose namespace is the host's MUST NOT change the host")
def sysctl_host(env, rt):
    with container(env, rt) as c:
        c.linux["namespaces"] = [n for n in c.linux["namespaces"] if n["type"] != "network"]
        before = read_text("/proc/sys/net/ipv4/ip_forward")
        c.linux["sysctl"] = {"net.ipv4.ip_forward": "0" if before == "1" else "1"}
        c.probe("ids")
        r = c.run()
        after = read_text("/proc/sys/net/ipv4/ip_forward")
        if after != before:
            with open("/proc/sys/net/ipv4/ip_forward", "w") as f:   # put the host back
                f.write(before)
        check(after == before, "the runtime changed the HOST's net.ipv4.ip_forward")
        check(r.rc != 0, "a net sysctl without a network namespace was accepted")


def seccomp_errno_profile(default="SCMP_ACT_ALLOW"):
    return {"defaultAction": default, "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}


@register("linux_seccomp", "seccomp: a rule denying mkdir with EPERM; the filter is in place (Seccomp: 2)")
def seccomp(env, rt):
    with container(env, rt) as c:
        c.linux["seccomp"] = seccomp_errno_profile()
        rep, _ = c.run_probe("seccomp", "mkdir=/tmp/denied", "write=/tmp/allowed")
        check(rep.get("seccomp") == "2", "Seccomp mode %r, want 2 (filter)" % rep.get("seccomp"))
        check(rep.get("mkdir:/tmp/denied") == "EPERM", "mkdir gave %s, want EPERM" % rep.get("mkdir:/tmp/denied"))
        check(rep.get("write:/tmp/allowed") == "OK", "other syscalls broken: %s" % rep.get("write:/tmp/allowed"))


@register("linux_seccomp_errno_value", "seccomp: errnoRet chooses the errno (ENOSPC) and args conditions match")
def seccomp_errno(env, rt):
    with container(env, rt) as c:
        prof = {"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28},
                             # sethostname(name, 5) is refused, other lengths reach the kernel
                             {"names": ["sethostname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
                              "args": [{"index": 1, "value": 5, "op": "SCMP_CMP_EQ"}]}]}
        c.linux["seccomp"] = prof
        rep, _ = c.run_probe("mkdir=/tmp/x", "sethostname=abcde", "sethostname=abcdef")
        check(rep.get("mkdir:/tmp/x") == "ENOSPC", "mkdir gave %s, want ENOSPC" % rep.get("mkdir:/tmp/x"))
        check(rep.get("sethostname:abcde") == "EINVAL", "sethostname(len 5) gave %s, want EINVAL" % rep.get("sethostname:abcde"))
        # 'abcdef' does not match the condition: the kernel answers (EPERM, no CAP_SYS_ADMIN in the default caps)
        check(rep.get("sethostname:abcdef") == "EPERM", "sethostname(len 6) gave %s, want the kernel's EPERM" % rep.get("sethostname:abcdef"))


@register("linux_seccomp_kill", "seccomp: SCMP_ACT_KILL_PROCESS kills the process on the syscall")
def seccomp_kill(env, rt):
    with container(env, rt) as c:
        c.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                              "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}
        c.probe("echo=before", "mkdir=/tmp/x", "echo=after")
        r = c.run()
        check("echo=before" in r.out, "the probe did not start: %r" % r)
        check("echo=after" not in r.out, "the process survived the killing syscall")
        check(r.rc != 0, "run exited 0 although the process was killed")


@register("linux_seccomp_unknown_action", "seccomp: an unknown action MUST generate an error")
def seccomp_bad(env, rt):
    with container(env, rt) as c:
        c.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                              "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NO_SUCH_ACTION"}]}
        c.probe("write=/ran")
        r = c.run()
        check(r.rc != 0, "an unknown seccomp action was accepted")
        check(not os.path.exists(c.hostpath("/ran")), "the process ran")


SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100     # _IOWR('!', 0, struct seccomp_notif), 80 bytes
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101     # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes


@register("linux_seccomp_notify", "seccomp SCMP_ACT_NOTIFY: the listener on listenerPath gets the fd and answers the syscall")
def seccomp_notify(env, rt):
    import array
    import fcntl
    import json as _json
    import select
    import socket
    import struct
    with container(env, rt) as c:
        sock_path = os.path.join(c.dir, "seccomp.sock")
        c.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": sock_path,
                              "listenerMetadata": "conformance-meta",
                              "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
        c.probe("mkdir=/tmp/notified", "echo=done")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(sock_path)
        srv.listen(1)
        srv.settimeout(15)
        got = {}

        def listen():
            # Runtimes differ in when they hand the fd over (create or start): accept in the background.
            try:
                conn, _ = srv.accept()
                conn.settimeout(15)
                fds = array.array("i")
                msg, anc, _f, _a = conn.recvmsg(65536, socket.CMSG_SPACE(16 * fds.itemsize))
                for level, typ, data in anc:
                    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                        fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
                conn.close()
                got["msg"], got["fds"] = msg, list(fds)
            except OSError as e:
                got["error"] = str(e)

        import threading
        t = threading.Thread(target=listen, daemon=True)
        t.start()
        nfd = None
        try:
            c.must_create()
            c.must_start()
            t.join(15)
            check(not t.is_alive() and got.get("fds"), "no seccomp fd received on listenerPath: %s" % got)
            nfd = got["fds"][0]
            for extra in got["fds"][1:]:
                os.close(extra)
            msg = got["msg"]
            try:
                state = _json.loads(msg.decode())
            except ValueError:
                state = {}
            check(state.get("metadata") == "conformance-meta",
                  "the listener message lacks listenerMetadata: %r" % msg[:200])
            ready, _, _ = select.select([nfd], [], [], 10)
            check(ready, "no seccomp notification arrived within 10s")
            buf = bytearray(80)
            fcntl.ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, buf)
            nid = struct.unpack_from("<Q", buf, 0)[0]
            resp = bytearray(struct.pack("<QqiI", nid, 0, -28, 0))   # answer: ENOSPC
            fcntl.ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp)
            c.wait_status("stopped", 10)
        finally:
            srv.close()
            if nfd is not None:
                os.close(nfd)
        rep = c.report()
        check(rep.get("mkdir:/tmp/notified") == "ENOSPC",
              "mkdir gave %s, want the listener's answer ENOSPC" % rep.get("mkdir:/tmp/notified"))
