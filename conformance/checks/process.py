"""The container process (config.md "Process"): args, env, cwd, user, capabilities, rlimits, ..."""

import os
import resource

from harness import Skip, check, container
from registry import register

CAP_NUM = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4,
           "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9,
           "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
           "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17,
           "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21,
           "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23, "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25,
           "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29,
           "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31, "CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33,
           "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35, "CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37}


def mask(names):
    v = 0
    for n in names:
        v |= 1 << CAP_NUM[n]
    return v


def host_has_cap(n):
    for line in open("/proc/self/status"):
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> CAP_NUM[n] & 1)
    return False


@register("process", "args, env and cwd are those of process")
def process(env, rt):
    with container(env, rt) as c:
        os.makedirs(c.hostpath("/work/dir"))
        c.process["cwd"] = "/work/dir"
        c.process["env"] = ["PATH=/bin", "CONF_A=alpha", "CONF_B=with spaces=and equals"]
        rep, _ = c.run_probe("args", "env", "cwd")
        check(rep.get("cwd") == "/work/dir", "cwd %r" % rep.get("cwd"))
        check(rep.get("arg0") == "/bin/probe" and rep.get("arg1") == "args", "args %r %r" % (rep.get("arg0"), rep.get("arg1")))
        check(rep.get("env:CONF_A") == "alpha", "env CONF_A %r" % rep.get("env:CONF_A"))
        check(rep.get("env:CONF_B") == "with spaces=and equals", "env CONF_B %r" % rep.get("env:CONF_B"))
        check(rep.get("env:PATH") == "/bin", "env PATH %r" % rep.get("env:PATH"))


@register("process_cwd_created", "a cwd that does not exist in the rootfs is created")
def process_cwd_missing(env, rt):
    # runc and crun create it (mkdir -p); the spec leaves it open, engines rely on it.
    with container(env, rt) as c:
        c.process["cwd"] = "/does/not/exist"
        rep, _ = c.run_probe("cwd")
        check(rep.get("cwd") == "/does/not/exist", "cwd %r" % rep.get("cwd"))


@register("process_args_path_lookup", "args[0] without a slash is looked up in the process env's PATH")
def process_path(env, rt):
    with container(env, rt) as c:
        c.process["env"] = ["PATH=/nothing:/bin"]
        c.args("probe", "echo=found")
        rep, _ = c.run_probe()
        check(rep.get("echo") == "found", "probe not found through PATH: %r" % rep)


@register("process_args_missing_binary", "args[0] that does not exist: an error, not a hang")
def process_missing_binary(env, rt):
    with container(env, rt) as c:
        c.args("/no/such/binary")
        r = c.run()
        check(not r.timed_out, "run hung")
        check(r.rc != 0, "run of a missing binary exited 0")


@register("process_user", "user.uid, user.gid and additionalGids are applied")
def process_user(env, rt):
    with container(env, rt) as c:
        c.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [50, 100]}
        rep, _ = c.run_probe("ids")
        check(rep.get("uid") == "1000,1000,1000", "uid %r, want 1000 (real, effective, saved)" % rep.get("uid"))
        check(rep.get("gid") == "1000,1000,1000", "gid %r" % rep.get("gid"))
        check(set(rep.get("groups", "").split(",")) - {""} >= {"50", "100"}, "groups %r, want 50 and 100" % rep.get("groups"))


@register("process_user_no_extra_groups", "without additionalGids the process has no supplementary groups of the runtime")
def process_user_groups(env, rt):
    with container(env, rt) as c:
        c.process["user"] = {"uid": 1000, "gid": 1000}
        rep, _ = c.run_probe("ids")
        groups = set(rep.get("groups", "").split(",")) - {"", "1000"}
        check(not groups, "the process has supplementary groups %s" % sorted(groups))


@register("process_user_umask", "user.umask is applied")
def process_umask(env, rt):
    with container(env, rt) as c:
        c.process["user"] = {"uid": 0, "gid": 0, "umask": 0o027}
        rep, _ = c.run_probe("umask")
        check(rep.get("umask") == "0027", "umask %r, want 0027" % rep.get("umask"))


@register("process_capabilities", "each capability set holds exactly the configured capabilities")
def process_caps(env, rt):
    with container(env, rt) as c:
        c.process["capabilities"] = {
            "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"],
            "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
            # For uid 0 the kernel sets effective = permitted at execve: configure them alike.
            "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
            "inheritable": ["CAP_KILL"],
        }
        rep, _ = c.run_probe("caps")
        for key, setname in (("cap.bnd", "bounding"), ("cap.prm", "permitted"), ("cap.eff", "effective"),
                             ("cap.inh", "inheritable")):
            want = mask(c.process["capabilities"][setname])
            got = int(rep.get(key, "0"), 16)
            check(got == want, "%s = %x, want %x" % (setname, got, want))


@register("process_capabilities_ambient", "ambient capabilities are raised (with inheritable and permitted)")
def process_caps_ambient(env, rt):
    with container(env, rt) as c:
        cs = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
        c.process["user"] = {"uid": 1000, "gid": 1000}
        c.process["noNewPrivileges"] = True
        c.process["capabilities"] = {k: list(cs) for k in ("bounding", "permitted", "effective", "inheritable", "ambient")}
        rep, _ = c.run_probe("caps", "ids")
        check(int(rep.get("cap.amb", "0"), 16) == mask(cs), "ambient %s, want %x" % (rep.get("cap.amb"), mask(cs)))
        check(int(rep.get("cap.eff", "0"), 16) == mask(cs), "non-root effective %s, want %x" % (rep.get("cap.eff"), mask(cs)))


@register("process_capabilities_enforced", "a capability not granted is not usable (sethostname needs CAP_SYS_ADMIN)")
def process_caps_enforced(env, rt):
    with container(env, rt) as c:
        rep, _ = c.run_probe("sethostname=nope", "mknod=/tmp/n")
        check(rep.get("sethostname:nope") == "EPERM", "sethostname without CAP_SYS_ADMIN gave %s" % rep.get("sethostname:nope"))
        check(rep.get("mknod:/tmp/n") == "EPERM", "mknod without CAP_MKNOD gave %s" % rep.get("mknod:/tmp/n"))


@register("process_capabilities_unknown", "an unknown capability is only a warning (spec 1.1+); the known ones apply")
def process_caps_unknown(env, rt):
    # runtime-spec 1.0 required an error here; 1.1.0 changed it to "MUST be logged as a warning",
    # "SHOULD NOT fail" (capability lists outlive kernels).
    with container(env, rt) as c:
        for k in ("bounding", "effective", "permitted"):
            c.process["capabilities"][k] = ["CAP_KILL", "CAP_NO_SUCH_THING"]
        rep, _ = c.run_probe("caps")
        check(int(rep.get("cap.bnd", "0"), 16) == mask(["CAP_KILL"]), "bounding %s" % rep.get("cap.bnd"))


@register("process_rlimits", "rlimits are set (soft and hard, lowering the hard limit)")
def process_rlimits(env, rt):
    with container(env, rt) as c:
        c.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 768},
                                {"type": "RLIMIT_CORE", "soft": 4096, "hard": 8192},
                                {"type": "RLIMIT_NPROC", "soft": 1000, "hard": 1000}]
        rep, _ = c.run_probe("rlimits")
        check(rep.get("rlimit:NOFILE") == "512,768", "NOFILE %r" % rep.get("rlimit:NOFILE"))
        check(rep.get("rlimit:CORE") == "4096,8192", "CORE %r" % rep.get("rlimit:CORE"))
        check(rep.get("rlimit:NPROC") == "1000,1000", "NPROC %r" % rep.get("rlimit:NPROC"))


@register("process_rlimits_raise_hard", "rlimits above the runtime's hard limit are set (needs CAP_SYS_RESOURCE)")
def process_rlimits_raise(env, rt):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard + 1024
    with container(env, rt) as c:
        c.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": want, "hard": want}]
        rep, r = c.run_probe("rlimits")
        check(rep.get("rlimit:NOFILE") == "%d,%d" % (want, want), "NOFILE %r" % rep.get("rlimit:NOFILE"))


@register("process_rlimits_fail", "an unknown rlimit type MUST generate an error")
def process_rlimits_fail(env, rt):
    with container(env, rt) as c:
        c.process["rlimits"] = [{"type": "RLIMIT_NO_SUCH_LIMIT", "soft": 1, "hard": 1}]
        c.probe("write=/ran")
        r = c.run()
        check(r.rc != 0 and not os.path.exists(c.hostpath("/ran")), "an unknown rlimit type was accepted")


@register("process_rlimits_duplicate", "a duplicated rlimit type MUST generate an error")
def process_rlimits_dup(env, rt):
    with container(env, rt) as c:
        c.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 100},
                                {"type": "RLIMIT_NOFILE", "soft": 200, "hard": 200}]
        c.probe("write=/ran")
        r = c.run()
        check(r.rc != 0, "a duplicated rlimit type was accepted")


@register("process_oom_score_adj", "oomScoreAdj is written for the process (raising it)")
def process_oom(env, rt):
    with container(env, rt) as c:
        c.process["oomScoreAdj"] = 500
        rep, _ = c.run_probe("oom")
        check(rep.get("oom_score_adj") == "500", "oom_score_adj %r" % rep.get("oom_score_adj"))


@register("process_oom_score_adj_lower", "a negative oomScoreAdj is written (needs CAP_SYS_RESOURCE)")
def process_oom_lower(env, rt):
    with container(env, rt) as c:
        c.process["oomScoreAdj"] = -500
        rep, _ = c.run_probe("oom")
        check(rep.get("oom_score_adj") == "-500", "oom_score_adj %r" % rep.get("oom_score_adj"))


@register("process_no_new_privileges", "noNewPrivileges true sets no_new_privs; false leaves it clear")
def process_nnp(env, rt):
    for flag, want in ((True, "1"), (False, "0")):
        with container(env, rt) as c:
            c.process["noNewPrivileges"] = flag
            rep, _ = c.run_probe("nnp")
            check(rep.get("nnp") == want, "noNewPrivileges %s: no_new_privs %r" % (flag, rep.get("nnp")))


@register("process_apparmor_profile", "apparmorProfile is applied; where AppArmor is off it cannot be, so MUST error")
def process_apparmor(env, rt):
    # runtime.md: "If the runtime is unable to create the environment specified in the config.json,
    # it MUST generate an error."  runc 1.1.5 and crun 1.8.1 both refuse a profile when AppArmor is off.
    enabled = False
    try:
        enabled = open("/sys/module/apparmor/parameters/enabled").read().strip() == "Y"
    except OSError:
        pass
    with container(env, rt) as c:
        if enabled:
            c.process["apparmorProfile"] = "unconfined"
            rep, _ = c.run_probe("cat=/proc/self/attr/current")
            check("unconfined" in rep.get("cat:/proc/self/attr/current", ""),
                  "AppArmor label %r" % rep.get("cat:/proc/self/attr/current"))
        else:
            c.process["apparmorProfile"] = "conformance-profile"
            c.probe("write=/ran")
            r = c.run()
            check(r.rc != 0 and not os.path.exists(c.hostpath("/ran")),
                  "AppArmor is off, yet the container ran with a profile it cannot have")


@register("process_selinux_label", "selinuxLabel is applied to the process (SELinux)")
def process_selinux(env, rt):
    if not os.path.exists("/sys/fs/selinux/enforce"):
        raise Skip("SELinux is not enabled on this host")
    with container(env, rt) as c:
        c.process["selinuxLabel"] = "system_u:system_r:container_t:s0:c1,c2"
        rep, _ = c.run_probe("cat=/proc/self/attr/current")
        check("c1,c2" in rep.get("cat:/proc/self/attr/current", ""), "label %r" % rep.get("cat:/proc/self/attr/current"))


@register("process_no_leaked_fds", "the process gets only stdio, not the runtime's other descriptors")
def process_fds(env, rt):
    with container(env, rt) as c:
        c.probe("fds")
        c.write_config()
        c.created = True
        r_fd, w_fd = os.pipe()
        os.set_inheritable(r_fd, True)
        try:
            import subprocess
            from harness import parse_report
            p = subprocess.run([rt.path, "--root", c.root, "run", "--bundle", c.bundle, c.id], capture_output=True,
                               text=True, timeout=20, pass_fds=(r_fd,), stdin=subprocess.DEVNULL)
        finally:
            os.close(r_fd)
            os.close(w_fd)
        rep = parse_report(p.stdout)
        check(p.returncode == 0, "run failed: %s" % p.stderr[-300:])
        check(rep.get("fds") == "0,1,2", "open fds in the container: %r, want 0,1,2" % rep.get("fds"))


@register("process_preserve_fds", "runc CLI: --preserve-fds N passes fds 3..3+N-1 to the process")
def process_preserve_fds(env, rt):
    with container(env, rt) as c:
        c.probe("fds", "readlink=/proc/self/fd/3")
        c.write_config()
        c.created = True
        import subprocess
        from harness import parse_report
        r_fd, w_fd = os.pipe()
        # Put the pipe's read end at fd 3 of this process (saving what was there) and pass it on.
        try:
            saved = os.dup(3)
        except OSError:
            saved = None
        try:
            os.dup2(r_fd, 3)
            p = subprocess.run([rt.path, "--root", c.root, "run", "--preserve-fds", "1", "--bundle", c.bundle, c.id],
                               capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL, pass_fds=(3,))
        finally:
            if saved is not None:
                os.dup2(saved, 3)
                os.close(saved)
            else:
                os.close(3)
            os.close(r_fd)
            os.close(w_fd)
        rep = parse_report(p.stdout)
        check(p.returncode == 0, "run failed: %s" % p.stderr[-300:])
        check(rep.get("readlink:/proc/self/fd/3", "").startswith("pipe:"), "fd 3 in the container: %r" % rep.get("readlink:/proc/self/fd/3"))
