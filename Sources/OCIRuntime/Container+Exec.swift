#if canImport(Glibc)
import Glibc
#endif
import CLinux
import JSON
import LinuxSystem
import OCISpec

/// Options of `exec`.
public struct ExecOptions {
    public var process: Process
    public var detach = false
    public var pidFile: String?
    public var consoleSocket: String?
    public var preserveFds = 0
    public var logger: Logger

    public init(process: Process, logger: Logger) {
        self.process = process
        self.logger = logger
    }
}

extension Container {
    /// The process `exec` runs when no --process file is given: the container's own process
    /// with the command, env, cwd, user and capabilities the flags ask for (runc's rules).
    public func execProcess(args: [String], env: [String], cwd: String?, user: String?, tty: Bool,
                            addCaps: [String], noNewPrivs: Bool, additionalGids: [UInt32]) throws -> Process {
        guard !args.isEmpty else { throw RuntimeError(.invalidArgument, "exec: no command given") }
        var p = savedSpec()?.process ?? Process(user: User(uid: 0, gid: 0), cwd: "/")
        p.args = args
        p.terminal = tty
        p.consoleSize = nil
        var e = p.env ?? []
        for kv in env {
            let key = kv.split(separator: "=", maxSplits: 1).first.map(String.init) ?? kv
            e.removeAll { $0.hasPrefix(key + "=") }
            e.append(kv)
        }
        p.env = e
        if let cwd { p.cwd = cwd }
        if let user {
            let r = try UserDatabase.resolve(user, root: state.rootfs)
            p.user = User(uid: r.uid, gid: r.gid, umask: p.user.umask, additionalGids: nil)
        }
        if !additionalGids.isEmpty { p.user.additionalGids = additionalGids }
        if !addCaps.isEmpty {
            var c = p.capabilities ?? LinuxCapabilities()
            for cap in addCaps {
                let name = cap.uppercased().hasASCIIPrefix("CAP_") ? cap.uppercased() : "CAP_" + cap.uppercased()
                for kp in [\LinuxCapabilities.bounding, \.effective, \.permitted] {
                    var l = c[keyPath: kp] ?? []
                    if !l.contains(name) { l.append(name) }
                    c[keyPath: kp] = l
                }
            }
            p.capabilities = c
        }
        if noNewPrivs { p.noNewPrivileges = true }
        return p
    }

    /// `exec`: a new process in the container's namespaces and cgroup, with its own
    /// capabilities, rlimits, user and seccomp, in a container the caller loaded just before
    /// (its state and config read once). Returns the process's exit status (0 detached).
    public static func exec(_ c: Container, options: ExecOptions) throws -> Int32 {
        let id = c.id
        guard c.status.canExec else {
            throw RuntimeError(.invalidState, "cannot exec in container \"\(id)\": it is \(c.status.rawValue)")
        }
        let process = options.process
        guard let args = process.args, !args.isEmpty else {
            throw RuntimeError(.invalidArgument, "exec in container \"\(id)\": process.args must not be empty")
        }
        if process.terminal == true && options.consoleSocket == nil && options.detach {
            throw RuntimeError(.invalidArgument, "exec -t --detach needs --console-socket")
        }
        let rlimits = try ProcessIdentity.rlimits(of: process)
        let spec = c.savedSpec()
        let seccomp = try spec?.linux?.seccomp.map { try SeccompProfile($0) }

        // The container's namespaces that differ from ours, user first.
        let initPid = c.state.pid
        var nsFds: [(NamespaceKind, Int32)] = []
        defer { for (_, fd) in nsFds { close(fd) } }
        let order: [NamespaceKind] = [.user, .mount, .network, .ipc, .uts, .cgroup, .pid, .time]
        for kind in order {
            var mine = stat(), theirs = stat()
            let theirsPath = "/proc/" + decimal(Int64(initPid)) + "/ns/" + kind.procName
            guard stat(theirsPath, &theirs) == 0 else { continue }
            if stat("/proc/self/ns/\(kind.procName)", &mine) == 0 && mine.st_ino == theirs.st_ino { continue }
            let fd = Glibc.open(theirsPath, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw RuntimeError(.failed, "exec: open \(theirsPath)", cause: SystemError("open", theirsPath)) }
            nsFds.append((kind, fd))
        }
        guard Container.isAlive(c.state) else { throw RuntimeError(.invalidState, "container \"\(id)\" is not running") }

        // Rootless: joining the container's pid (or time) namespace needs CAP_SYS_ADMIN in the
        // user namespace that owns it, which an unprivileged caller only has inside it: join the
        // user namespace here first (ocirun is single-threaded, as setns(CLONE_NEWUSER) needs);
        // the child then stays in it.
        var parentJoinedUser = false
        if geteuid() != 0, let (_, fd) = nsFds.first(where: { $0.0 == .user }),
           nsFds.contains(where: { $0.0 == .pid || $0.0 == .time }) {
            if ocirun_setns(fd, NamespaceKind.user.cloneFlag) != 0 {
                throw RuntimeError(.failed, "exec: join user namespace", cause: SystemError("setns"))
            }
            parentJoinedUser = true
        }
        // pid and time namespaces apply to children: join them here, then fork.
        for (kind, fd) in nsFds where kind == .pid || kind == .time {
            if ocirun_setns(fd, kind.cloneFlag) != 0 {
                throw RuntimeError(.failed, "exec: join \(kind.rawValue) namespace", cause: SystemError("setns"))
            }
        }
        var consoleFd: Int32?
        var relayPair: [Int32] = [-1, -1]
        if process.terminal == true {
            if let path = options.consoleSocket {
                consoleFd = try connectUnixSocket(Files.absolute(path))
            } else {
                // Foreground terminal without a console socket: ocirun relays the pty itself.
                try retrying("socketpair") { socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &relayPair) }
                consoleFd = relayPair[1]
            }
        }
        let (parentEnd, childEnd) = try SyncChannel.pair()
        // As root the process joins the container's cgroup by itself (CgroupJoin); otherwise,
        // or where its files cannot be opened, we write its pid (best effort: rootless).
        let join = geteuid() == 0 ? try? c.state.cgroup?.openJoin() : nil
        let childNsFds = nsFds.filter { $0.0 != .pid && $0.0 != .time && !(parentJoinedUser && $0.0 == .user) }
        func child(waitForGo: Bool) -> Never {
            parentEnd.close()
            if relayPair[0] >= 0 { close(relayPair[0]) }
            ExecProcess.run(process: process, rlimits: rlimits, nsFds: childNsFds, joinedUser: parentJoinedUser,
                            cgroupJoin: join, waitForGo: waitForGo, channel: childEnd, consoleSocket: consoleFd,
                            preserveFds: options.preserveFds, seccomp: seccomp, rootfs: c.state.rootfs)
        }
        // The usual case (root, the cgroup joined by the process itself, no user or time
        // namespace to enter): the child shares our memory until it execs, as posix_spawn's does
        // (ExecProcess.spawnSharingMemory). Otherwise a fork-like clone that waits for `go`.
        var spawned: (pid: pid_t, inUnified: Bool)?
        if let join, !childNsFds.contains(where: { $0.0 == .user }), !nsFds.contains(where: { $0.0 == .time }) {
            spawned = ExecProcess.spawnSharingMemory(cgroupFd: join.unified?.fd ?? -1) { child(waitForGo: false) }
        }
        let sharedMemory = spawned != nil
        let (pid, inUnified) = spawned ?? join?.clone(flags: 0) ?? (ocirun_clone(0), false)
        if pid == 0 { child(waitForGo: true) }
        let cloneErrno = errno
        join?.close()
        childEnd.close()
        if let cf = consoleFd { close(cf) }
        defer { parentEnd.close() }
        if pid < 0 { throw RuntimeError(.failed, "exec in container \"\(id)\"", cause: SystemError("clone", errno: cloneErrno)) }
        do {
            if let cg = c.state.cgroup {
                // Joining the container's cgroup: every hierarchy it has.
                for (key, dir) in cg.paths.sorted(by: { $0.key < $1.key }) {
                    if join != nil && (key != "unified" || inUnified) { continue }
                    try? Files.write(dir + "/cgroup.procs", decimal(Int64(pid)))
                }
            }
            if !sharedMemory { try parentEnd.send(.go(pid)) }
            guard let (msg, _) = try parentEnd.receiveWithFd() else {
                let status = (try? waitForChild(pid)).map(WaitStatus.shellStatus) ?? -1
                throw RuntimeError(.failed, "exec process exited during set-up (status \(status))")
            }
            switch msg {
            case .ready: break
            case .error(let m): _ = try? waitForChild(pid); throw RuntimeError(.failed, m)
            default: throw RuntimeError(.failed, "unexpected message from exec process")
            }
        } catch {
            Glibc.kill(pid, SIGKILL)
            _ = try? waitForChild(pid)
            throw RuntimeError.wrap(error, "exec in container \"\(id)\"")
        }
        if let pf = options.pidFile {
            try Files.writeAtomically(Files.absolute(pf), Array(decimal(Int64(pid)).utf8), mode: 0o644)
        }
        if options.detach { return 0 }
        if relayPair[0] >= 0 {
            return try TerminalRelay.relay(consoleSocket: relayPair[0], child: pid)
        }
        ProcessIdentity.forwardSignals(to: pid)
        let status = try waitForChild(pid)
        return WaitStatus.shellStatus(status)
    }
}

/// The exec'd process, after fork: joins the namespaces, takes on the process's identity, execs.
enum ExecProcess {
    static func run(process: Process, rlimits: [ProcessIdentity.Rlimit], nsFds: [(NamespaceKind, Int32)], joinedUser: Bool = false,
                    cgroupJoin: CgroupJoin? = nil, waitForGo: Bool = true, channel: SyncChannel, consoleSocket: Int32?,
                    preserveFds: Int, seccomp: SeccompProfile?, rootfs: String) -> Never {
        do {
            if waitForGo {
                guard case .go? = try channel.receive() else { _exit(1) }
            }
            try cgroupJoin?.joinSelf()
            // NOTE: not dumpable before entering: the container must not ptrace or read our memory.
            _ = ocirun_set_dumpable(0)
            for (kind, fd) in nsFds {
                if ocirun_setns(fd, kind.cloneFlag) != 0 {
                    throw RuntimeError(.failed, "join \(kind.rawValue) namespace", cause: SystemError("setns"))
                }
            }
            if !nsFds.contains(where: { $0.0 == .mount }) && rootfs != "/" {
                try retrying("chroot", rootfs) { chroot(rootfs) }
            }
            if joinedUser || nsFds.contains(where: { $0.0 == .user }) {
                try retrying("setresgid", "0") { ocirun_setresgid(0, 0, 0) }
                try retrying("setresuid", "0") { ocirun_setresuid(0, 0, 0) }
            }
            _ = setsid()
            if process.terminal == true {
                try InitProcess.setUpTerminal(process: process, consoleSocket: consoleSocket)
            }
            if let s = consoleSocket { close(s) }
            try ProcessIdentity.apply(rlimits)
            let user = process.user
            var env = process.env ?? []
            if !env.contains(where: { $0.hasASCIIPrefix("HOME=") }) {
                env.append("HOME=" + (UserDatabase.home(uid: user.uid) ?? "/"))
            }
            let caps = CapabilitySets(process.capabilities)
            let nnp = process.noNewPrivileges == true
            if let sc = seccomp, !nnp { _ = try sc.load() }
            let groups = user.additionalGids ?? UserDatabase.supplementaryGroups(uid: user.uid, gid: user.gid) ?? []
            try ProcessIdentity.switchUser(user, groups: groups, caps: caps)
            if let m = user.umask { umask(mode_t(m)) }
            if chdir(process.cwd) != 0 { throw SystemError("chdir", process.cwd) }
            let args = process.args ?? []
            let exe = try InitProcess.lookPath(args[0], env: env)
            try LSM.setExecLabels(process)
            if nnp { try retrying("prctl(PR_SET_NO_NEW_PRIVS)") { ocirun_set_no_new_privs() } }
            if let sc = seccomp, nnp { _ = try sc.load() }
            try channel.send(.ready)
            channel.close()
            _ = ocirun_close_range_cloexec(UInt32(3 + preserveFds))
            _ = ocirun_reset_signals()
            _ = withCStrings(args) { argv in withCStrings(env) { envp in ocirun_execve(exe, argv, envp) } }
            InitProcess.fail("exec \(args[0])", SystemError("execve", exe))
        } catch {
            try? channel.send(.error("\(error)"))
            _exit(1)
        }
    }

    /// The body of the child started by `spawnSharingMemory` (one at a time: ocirun is
    /// single-threaded, and the parent waits until the child has exec'd or exited).
    nonisolated(unsafe) private static var sharedMemoryBody: (() -> Never)?

    /// Starts `body` in a child that shares this process's memory until it execs (clone3 with
    /// CLONE_VM | CLONE_VFORK, in the cgroup2 directory `cgroupFd` when >= 0), on a stack of its
    /// own; returns once the child has exec'd or exited. nil where that cannot be done (not
    /// x86_64, no clone3): the caller forks instead.
    ///
    /// Why: a fork copies the runtime's page tables and the child faults its code in again
    /// (about a tenth of an `exec`). Safe here because the parent does nothing until the
    /// child is gone from its memory; the child only releases what it made itself, ends in
    /// execve or _exit (no atexit handlers), and does not enter a user namespace (the kernel
    /// refuses that to a task sharing its memory). Its fd table, signal handlers, credentials
    /// and namespaces are its own.
    static func spawnSharingMemory(cgroupFd: Int32, _ body: @escaping () -> Never) -> (pid: pid_t, inUnified: Bool)? {
        let size = 512 * 1024
        guard let stack = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0),
              stack != MAP_FAILED else { return nil }
        defer { munmap(stack, size) }
        sharedMemoryBody = body
        defer { sharedMemoryBody = nil }
        let entry: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { _ in ExecProcess.sharedMemoryBody!() }
        let pid = ocirun_clone_vfork(0, cgroupFd, stack, size, entry, nil)
        if pid < 0 { return nil }
        return (pid, cgroupFd >= 0)
    }
}
