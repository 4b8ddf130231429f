#if canImport(Glibc)
import Glibc
#endif
import CLinux
import JSON
import LinuxSystem
import OCISpec

/// What the container init needs, prepared by the parent before clone(2). The init runs on a
/// copy of the parent's memory (fork semantics), single-threaded, and never returns.
struct InitContext {
    var plan: ContainerPlan
    var id: String
    var channel: SyncChannel
    /// ocirun_O_PATH descriptor of the state directory, for exec.fifo after pivot_root.
    var stateDirFd: Int32
    /// `run`: no exec.fifo; the init goes on to exec right after `.ready` (the parent records the
    /// state meanwhile: nothing it does after `.ready` may stop the process).
    var startAtOnce = false
    /// Connected --console-socket, when the process has a terminal.
    var consoleSocket: Int32?
    var preserveFds: Int
    var noPivot: Bool
    /// Namespaces the init joins itself (mount and user; the parent joins the others).
    var joinInInit: [(NamespaceKind, Int32)]
    var cgroup: ContainerCgroup?
    /// The cgroup's files the init joins through after `.go` (when not rootless): the cgroup2
    /// directory for the clone; the v1 `tasks` files arrive with `.go`.
    var cgroupJoin: CgroupJoin?
    var seccomp: SeccompProfile?
    /// Extra environment (LISTEN_FDS/LISTEN_PID passed through from the caller).
    var extraEnv: [String]
    /// A network namespace made for the container before the clone (`ocirun_netns_start`):
    /// the init joins it first thing.
    var netnsFd: Int32?
    /// Descriptors of the parent the init must not keep (the container lock: flock locks
    /// belong to the open file, and an init holding it would block every later command).
    var closeInInit: [Int32]
}

enum InitProcess {
    /// The init's main: set-up, report, wait on exec.fifo, exec. Errors before `ready` go to the
    /// parent over the channel; later ones to stderr.
    static func run(_ ctx: InitContext) -> Never {
        var ctx = ctx
        for fd in ctx.closeInInit { close(fd) }
        do {
            if let fd = ctx.netnsFd {
                // Before anything that depends on it (the sysfs mount shows its devices).
                try withContext("join network namespace") {
                    try retrying("setns") { ocirun_setns(fd, ocirun_CLONE_NEWNET) }
                }
                close(fd)
            }
            try setUp(&ctx)
        } catch {
            try? ctx.channel.send(.error("\(error)"))
            _exit(1)
        }
        // Unreachable: setUp execs or throws.
        _exit(1)
    }

    /// A new session, the hostname and domain name, and the rootfs mounts (before pivot_root).
    /// `beforeCgroupMount` runs once, before the first cgroup mount (whose directories the
    /// parent may still be creating).
    static func setUpHostnameAndRootfs(_ plan: ContainerPlan, cgroup: ContainerCgroup?,
                                       beforeCgroupMount: () throws -> Void = {}) throws {
        let spec = plan.spec
        if setsid() < 0 && errno != EPERM { throw SystemError("setsid") }
        if plan.namespaces.new.contains(.uts) {
            if let h = spec.hostname, !h.isEmpty {
                try retrying("sethostname", h) { sethostname(h, h.utf8.count) }
            }
            if let d = spec.domainname, !d.isEmpty {
                try retrying("setdomainname", d) { setdomainname(d, d.utf8.count) }
            }
        }
        if plan.namespaces.has(.mount) {
            try Rootfs.prepare(plan: plan, cgroup: cgroup, beforeCgroupMount: beforeCgroupMount)
        }
    }

    static func setUp(_ ctx: inout InitContext) throws {
        let plan = ctx.plan
        let spec = plan.spec
        let process = plan.process

        // Without a user namespace, namespaces to join or a new cgroup namespace, the hostname
        // and the rootfs depend on nothing the parent does before `.go` (cgroup membership, id
        // mappings, oom_score_adj): set them up meanwhile, in parallel with the parent (that
        // phase was about a fifth of `run`'s wall time with the init idle). Nothing of the
        // container's own code runs before `.go`.
        // The cgroup mount, which binds the container's cgroup directories, waits for
        // `.cgroupDirs`; the parent limits the cgroup meanwhile, and the init joins it at `.go`.
        let early = ctx.joinInInit.isEmpty && !plan.namespaces.has(.user) && !plan.namespaces.new.contains(.cgroup)
        var goPid: Int32?
        var v1 = CgroupJoin()
        var dirsReady = false
        let channel = ctx.channel
        // The cgroup's directories exist.
        func waitForDirs() throws {
            guard !dirsReady else { return }
            guard case .cgroupDirs? = try channel.receive() else { _exit(1) }
            dirsReady = true
        }
        // Wait until the parent limited the cgroup and wrote the id mappings; then join the
        // cgroup. The v1 `tasks` files come with `.go`.
        func waitForGo() throws {
            guard goPid == nil else { return }
            try waitForDirs()
            guard let (msg, fds) = try channel.receiveWithFds(), case .go(let p) = msg else { _exit(1) }
            goPid = p
            if !fds.isEmpty {
                if let cg = ctx.cgroup { v1.taskDirs = cg.sortedKeys(.v1).map { cg.paths[$0] ?? $0 } }
                v1.taskFds = fds
            }
            // The cgroup is limited now: join it (CgroupJoin), the cgroup2 group through the
            // clone, each v1 hierarchy through its `tasks` file.
            try ctx.cgroupJoin?.joinSelf()
            try v1.joinSelf()
            v1 = CgroupJoin()
        }
        if early { try setUpHostnameAndRootfs(plan, cgroup: ctx.cgroup, beforeCgroupMount: waitForDirs) }
        try waitForGo()
        let hostPid = goPid ?? 0

        for (kind, fd) in ctx.joinInInit {
            try withContext("join \(kind.rawValue) namespace") {
                try retrying("setns") { ocirun_setns(fd, kind.cloneFlag) }
            }
            close(fd)
        }
        if plan.namespaces.has(.user) {
            // Become root of the new user namespace before anything privileged.
            try retrying("setresgid", "0") { ocirun_setresgid(0, 0, 0) }
            try retrying("setresuid", "0") { ocirun_setresuid(0, 0, 0) }
        }
        if plan.namespaces.new.contains(.cgroup) {
            // Now that the parent placed us in the container's cgroup: it becomes the root.
            try retrying("unshare", "cgroup namespace") { ocirun_unshare(ocirun_CLONE_NEWCGROUP) }
        }
        if !early { try setUpHostnameAndRootfs(plan, cgroup: ctx.cgroup) }
        let newMountNs = plan.namespaces.has(.mount)

        let hooks = spec.hooks
        if !(hooks?.prestart ?? []).isEmpty || !(hooks?.createRuntime ?? []).isEmpty {
            try ctx.channel.send(.runCreateRuntimeHooks)
            switch try ctx.channel.receive() {
            case .hooksDone?: break
            case .error(let m)?: throw RuntimeError(.failed, m)
            default: _exit(1)
            }
        }
        if let cc = hooks?.createContainer, !cc.isEmpty {
            let state = Container.stateJSON(id: ctx.id, status: .creating, pid: hostPid, bundle: plan.bundle,
                                            annotations: spec.annotations)
            try HookRunner.run(cc, stage: "createContainer", state: state)
        }

        if newMountNs {
            try Rootfs.enter(plan: plan, noPivot: ctx.noPivot)
        } else if plan.rootfs != "/" {
            try retrying("chroot", plan.rootfs) { chroot(plan.rootfs) }
        }
        // Sysctls before the read-only paths (/proc/sys is one of them in the default config).
        for (name, value) in (spec.linux?.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = "/proc/sys/" + name.replacingOccurrences(".", "/")
            try withContext("set sysctl \(name)=\(value)") { try Files.write(path, value) }
        }
        // runc creates a missing working directory (as root, before the read-only remounts and the user switch).
        if newMountNs, !Files.isDirectory(process.cwd) {
            try withContext("create process.cwd \(process.cwd)") { try Files.makeDirectories(process.cwd) }
        }
        if newMountNs {
            try Rootfs.finish(plan: plan)
        }

        if process.terminal == true {
            try setUpTerminal(process: process, consoleSocket: ctx.consoleSocket, console: newMountNs)
        }

        if let s = ctx.consoleSocket { close(s) }

        try ProcessIdentity.apply(plan.rlimits)

        // Look up the user's home and groups in the container's own /etc files (no NSS).
        let user = process.user
        var env = process.env ?? []
        if !env.contains(where: { $0.hasASCIIPrefix("HOME=") }) {
            env.append("HOME=" + (UserDatabase.home(uid: user.uid) ?? "/"))
        }
        env.append(contentsOf: ctx.extraEnv)

        let caps = CapabilitySets(process.capabilities)
        let noNewPrivs = process.noNewPrivileges == true
        var notifyFd: Int32?
        // Without no_new_privs, loading seccomp needs CAP_SYS_ADMIN: load before dropping it
        // (runc's order). A notify profile is loaded here too, so its fd can reach the parent.
        if let sc = ctx.seccomp, !noNewPrivs || sc.usesNotify {
            if noNewPrivs { try retrying("prctl(PR_SET_NO_NEW_PRIVS)") { ocirun_set_no_new_privs() } }
            notifyFd = try sc.load()
        }
        if let nfd = notifyFd {
            // The parent hands the fd to the listener on listenerPath (a host path).
            try ctx.channel.send(.seccompFd, fd: nfd)
            close(nfd)
        }

        // Only additionalGids: runc does not add the groups of /etc/group for the config's user.
        try ProcessIdentity.switchUser(user, groups: user.additionalGids ?? [], caps: caps)
        umask(mode_t(user.umask ?? 0o022))

        if chdir(process.cwd) != 0 {
            throw RuntimeError(.invalidArgument, "process.cwd \(process.cwd)", cause: SystemError("chdir", process.cwd))
        }

        let args = process.args ?? []
        let executable = try lookPath(args[0], env: env)

        // Ready: the parent records the state and exits; `start` opens exec.fifo to let us go on.
        // Under `run` we go on at once while the parent records the state.
        try ctx.channel.send(.ready)
        if ctx.startAtOnce {
            ctx.channel.close()
        } else {
            ctx.channel.close()
            let fifo = openat(ctx.stateDirFd, "exec.fifo", O_WRONLY | O_CLOEXEC)
            if fifo < 0 { fail("open exec.fifo", SystemError("open", "exec.fifo")) }
            var zero: UInt8 = 0x30
            if write(fifo, &zero, 1) != 1 { fail("write exec.fifo", SystemError("write", "exec.fifo")) }
            close(fifo)
        }
        close(ctx.stateDirFd)

        if let sc = hooks?.startContainer, !sc.isEmpty {
            let state = Container.stateJSON(id: ctx.id, status: .running, pid: hostPid, bundle: plan.bundle,
                                            annotations: spec.annotations)
            do { try HookRunner.run(sc, stage: "startContainer", state: state) } catch { fail("start container", error) }
        }
        do { try LSM.setExecLabels(process) } catch { fail("set the process's security labels", error) }
        if noNewPrivs && notifyFd == nil {
            if ocirun_set_no_new_privs() != 0 { fail("set no_new_privs", SystemError("prctl(PR_SET_NO_NEW_PRIVS)")) }
        }
        if let sc = ctx.seccomp, noNewPrivs, !sc.usesNotify {
            do { _ = try sc.load() } catch { fail("load seccomp profile", error) }
        }
        _ = ocirun_close_range_cloexec(UInt32(3 + ctx.preserveFds))
        _ = ocirun_reset_signals()
        let rc = withCStrings(args) { argv in
            withCStrings(env) { envp in ocirun_execve(executable, argv, envp) }
        }
        _ = rc
        fail("exec \(args[0])", SystemError("execve", executable))
    }

    /// Reports a failure after the parent has gone: on stderr, exit status 127/126 like a shell.
    static func fail(_ what: String, _ error: any Error) -> Never {
        try? FileDescriptor.write(2, "ocirun: \(what): \(error)\n")
        _exit(127)
    }

    /// `args[0]` as execve needs it: a path, or looked up in the process's PATH.
    static func lookPath(_ name: String, env: [String]) throws -> String {
        func isExecutable(_ p: String) -> Bool {
            var st = stat()
            return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(p, X_OK) == 0
        }
        if name.contains("/") {
            var st = stat()
            guard stat(name, &st) == 0 else {
                throw RuntimeError(.invalidArgument, "exec \"\(name)\": no such file or directory")
            }
            guard (st.st_mode & S_IFMT) != S_IFDIR else {
                throw RuntimeError(.invalidArgument, "exec \"\(name)\": is a directory")
            }
            return name
        }
        let path = env.last(where: { $0.hasASCIIPrefix("PATH=") }).map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let d = dir.isEmpty ? "." : String(dir)
            let candidate = d + "/" + name
            if isExecutable(candidate) { return candidate }
        }
        throw RuntimeError(.invalidArgument, "exec \"\(name)\": executable file not found in $PATH")
    }

    /// A pty for the process: the master goes to the console socket (SCM_RIGHTS), the slave
    /// becomes the controlling terminal and stdio.
    static func setUpTerminal(process: Process, consoleSocket: Int32?, console: Bool = false) throws {
        guard let sock = consoleSocket else {
            throw RuntimeError(.invalidArgument, "process.terminal is true but no --console-socket was given")
        }
        var master: Int32 = -1, slave: Int32 = -1
        let rows = UInt16(truncatingIfNeeded: process.consoleSize?.height ?? 0)
        let cols = UInt16(truncatingIfNeeded: process.consoleSize?.width ?? 0)
        try retrying("openpty", "/dev/ptmx") { ocirun_openpty(&master, &slave, rows, cols) }
        // The name runc sends with the fd: the pty's path.
        var name = [CChar](repeating: 0, count: 128)
        _ = ocirun_ptsname(master, &name, name.count)
        let path = String(cString: name)
        let rc = path.withCString { ocirun_send_fd(sock, master, $0, strlen($0)) }
        if rc != 0 { throw SystemError("sendmsg", "console socket") }
        close(master)
        if console {
            // /dev/console is the container's terminal (runc binds the pty slave there).
            let f = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if f >= 0 { close(f) }
            if Glibc.mount(path, "/dev/console", nil, UInt(MS_BIND), nil) != 0 { throw SystemError("mount", "/dev/console") }
        }
        for fd: Int32 in 0...2 { try retrying("dup2") { dup2(slave, fd) } }
        if slave > 2 { close(slave) }
        try retrying("ioctl(TIOCSCTTY)") { ocirun_set_ctty(0) }
    }
}

extension String {
    func replacingOccurrences(_ a: Character, _ b: Character) -> String {
        String(map { $0 == a ? b : $0 })
    }
}
