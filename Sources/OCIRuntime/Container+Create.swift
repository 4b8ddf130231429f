#if canImport(Glibc)
import Glibc
#endif
import CDI
import CLinux
import JSON
import LinuxSystem
import OCISpec

/// Options of `create` and `run`.
public struct CreateOptions {
    public var bundle: String
    public var pidFile: String?
    public var consoleSocket: String?
    public var preserveFds: Int = 0
    public var noPivot: Bool = false
    public var noNewKeyring: Bool = false
    public var systemdCgroup: Bool = false
    public var rootless: Bool = false
    public var logger: Logger

    public init(bundle: String, logger: Logger) {
        self.bundle = bundle
        self.logger = logger
    }
}

/// The result of `create`: the init's pid, and the process it must be reaped from when the
/// caller stays its parent (`run`).
public struct CreatedContainer {
    public var pid: Int32
    public var container: Container
    /// Where the init was started in the runtime's memory (`InitLauncher`): the process must not
    /// exit before `waitUntilOutOfMemory()` (the init execs right after `ready`).
    var launcher: UnsafeMutableRawPointer?

    /// Returns once the init no longer runs in this process's memory (it has exec'd or exited).
    public func waitUntilOutOfMemory() {
        if let l = launcher { ocirun_launcher_wait(l) }
    }
}

/// The closure the shared-memory init runs (`ocirun_launcher_clone`'s argument).
final class InitBody {
    let body: () -> Never
    init(_ body: @escaping () -> Never) { self.body = body }
}

extension Container {
    /// `create` (runtime.md "create"): validate, make the state directory and cgroup, clone the
    /// init into its namespaces, let it set up the rootfs, run the creation hooks, record state.
    /// On any failure nothing is left: no process, cgroup, state directory.
    /// With `startAtOnce` (`run`), the init execs the process as soon as it is ready: no
    /// exec.fifo, and the state is recorded while the process starts.
    public static func create(id: String, options: CreateOptions, store: StateStore,
                              startAtOnce: Bool = false) throws -> CreatedContainer {
        let bundle = Files.absolute(options.bundle)
        let configPath = bundle + "/config.json"
        let configBytes: [UInt8]
        do { configBytes = try Files.read(configPath) } catch {
            throw RuntimeError(.invalidArgument, "load bundle \(bundle)", cause: error)
        }
        var spec: Spec
        do { spec = try JSONDecoding.decodeMapped(Spec.self, from: configBytes) } catch {
            throw RuntimeError(.invalidArgument, "load config.json", cause: error)
        }
        // A new network namespace is the costliest part of the clone (the kernel registers its
        // loopback device and sysctl tables): a helper thread makes it, from here on, while we
        // validate the config and set up the state and cgroup; the init joins it. Not with a
        // user namespace, which must own it, nor with namespaces to join: setns(2) into a time
        // namespace needs a single-threaded caller.
        // (The CDI edits below leave the namespaces alone: the plan reuses this reading.)
        let namespaces = try? NamespacePlan(spec.linux?.namespaces)
        var netnsJob: UnsafeMutableRawPointer?
        defer {
            if let job = netnsJob {
                let fd = ocirun_netns_finish(job)
                if fd >= 0 { close(fd) }
            }
        }
        // `run`: the init is started by a launcher thread in this process's memory (docs/design.md,
        // "The init shares the runtime's memory"): no page tables copied, nothing faulted in again,
        // no copy torn down at its execve. The launcher makes the network namespace first, so
        // the init is born in it. Not with a user or time namespace (the kernel refuses those to
        // a task sharing its memory), nor with namespaces to join (joined by this thread).
        var launcher: UnsafeMutableRawPointer?
        defer { if let l = launcher { ocirun_launcher_cancel(l) } }
        if let ns = namespaces, !ns.has(.user) && ns.joined.isEmpty {
            if startAtOnce && InitLauncher.available && !ns.new.contains(.time) && !options.rootless {
                launcher = ocirun_launcher_start(ns.new.contains(.network) ? 1 : 0)
            } else if ns.new.contains(.network) {
                netnsJob = ocirun_netns_start()
            }
        }
        // CDI 1.1.0: the container edits of devices named in cdi.k8s.io/* annotations (Sources/CDI).
        do { spec = try CDI.applyAnnotatedDevices(to: spec) } catch {
            throw RuntimeError(.invalidArgument, "apply CDI devices", cause: error)
        }
        let plan: ContainerPlan
        do { plan = try ContainerPlan.make(spec: spec, bundle: bundle, namespaces: namespaces) } catch {
            throw RuntimeError.wrap(error, "invalid config.json")
        }
        if options.systemdCgroup {
            guard Files.isDirectory("/run/systemd/system") else {
                throw RuntimeError(.unsupported, "--systemd-cgroup: systemd is not running on this host (no /run/systemd/system); use the cgroupfs driver")
            }
            throw RuntimeError(.unsupported, "--systemd-cgroup: the systemd cgroup driver is not implemented; use the cgroupfs driver")
        }
        if process(spec).terminal == true && options.consoleSocket == nil {
            throw RuntimeError(.invalidArgument, "process.terminal is true: --console-socket is required")
        }
        if process(spec).terminal != true && options.consoleSocket != nil {
            throw RuntimeError(.invalidArgument, "--console-socket given but process.terminal is false")
        }
        let seccomp = try spec.linux?.seccomp.map { try SeccompProfile($0) }
        let cgroupsPath = spec.linux?.cgroupsPath.flatMap { $0.isEmpty ? nil : $0 } ?? "/ocirun/\(id)"
        // Everything is validated: from here on, undo what we do when something fails.

        let dirFd = try store.createDirectory(id)
        let stateDir = store.directory(id)
        var cgroup: ContainerCgroup?
        var cgroupMade = false
        // The launcher that started the init in this process's memory, if one did.
        var startedBy: UnsafeMutableRawPointer?
        // The v1 cgroup directories made before the clone (in `sortedKeys(.v1)` order), their
        // `tasks` files opened and the limits written, where that was done before the clone.
        var v1Made = 0
        var v1Join: CgroupJoin?
        defer { v1Join?.close() }
        var limitsApplied = false
        var childPid: pid_t = 0
        var cleanupState = true
        var hostMounts: [String] = []
        defer {
            if cleanupState {
                if childPid > 0 { Glibc.kill(childPid, SIGKILL); _ = try? waitForChild(childPid) }
                if cgroupMade, let cg = cgroup { try? cg.destroy() }
                for m in hostMounts.reversed() { _ = umount2(m, Int32(MNT_DETACH)) }
                try? Files.removeTree(stateDir)
            }
        }
        do {
            // A root file system mounted on the host (a SIF image): before anything else is set up.
            hostMounts = try RootfsProviders.prepare(spec: spec, bundle: bundle, rootfs: plan.rootfs, stateDir: stateDir)
            if !startAtOnce {
                if mkfifo(stateDir + "/exec.fifo", 0o622) != 0 { throw SystemError("mkfifo", stateDir + "/exec.fifo") }
                let rootUid = hostID(0, spec.linux?.uidMappings, userns: plan.namespaces.new.contains(.user))
                let rootGid = hostID(0, spec.linux?.gidMappings, userns: plan.namespaces.new.contains(.user))
                // mkfifo applies the umask: set 0622 so the container's user can open it for writing.
                _ = chmod(stateDir + "/exec.fifo", 0o622)
                _ = chown(stateDir + "/exec.fifo", rootUid, rootGid)
            }

            // cgroup: its directories are resolved here and limited after clone, while the init
            // sets up its mounts.
            let layout = try CgroupLayout.current()
            let selfCgroup = (try? Files.readString("/proc/self/cgroup")) ?? ""
            let cg = ContainerCgroup.resolve(layout: layout, cgroupsPath: cgroupsPath, selfCgroup: selfCgroup)
            if options.rootless {
                // Rootless: only the hierarchies delegated to the caller; none is no error.
                let own = cg.delegated()
                if !own.paths.isEmpty { cgroup = own }
            } else {
                cgroup = cg
            }
            var state = ContainerState(id: id, pid: 0, startTime: 0, bundle: bundle, rootfs: plan.rootfs,
                                       created: rfc3339Now(), owner: ownerName(), annotations: spec.annotations,
                                       cgroup: cgroup, phase: "creating", hostMounts: hostMounts.isEmpty ? nil : hostMounts, loopDevices: nil,
                                       sharedPidNamespace: !plan.namespaces.new.contains(.pid))
            // Not rootless: the init joins the cgroup by itself (CgroupJoin: no pid written to a
            // cgroup.procs file, which can stall for milliseconds), so the directories exist
            // before the clone. The state is recorded first (pid 0: the init is found through
            // the cgroup), so that `delete --force` removes them if we die from here on.
            try cgroup?.requireEmpty()
            var join: CgroupJoin?
            defer { join?.close() }
            if let cg = cgroup, !options.rootless {
                try store.save(state)
                cgroupMade = true
                // The cgroup2 directory now, for CLONE_INTO_CGROUP; the v1 ones after the clone,
                // while the init mounts (their `tasks` files go to the init with `.cgroupDirs`).
                try cg.create(.unified)
                join = try cg.openJoin(.unified)
            }

            var consoleFd: Int32?
            if let path = options.consoleSocket {
                consoleFd = try connectUnixSocket(Files.absolute(path))
            }
            defer { if let c = consoleFd { close(c) } }

            let stateDirPathFd = try FileDescriptor.open(stateDir, ocirun_O_PATH | O_DIRECTORY)
            let (parentEnd, initEnd) = try SyncChannel.pair()
            defer { parentEnd.close() }

            // Namespaces joined by path: the parent joins those that only affect its children or
            // that it can leave again; the init joins mount and user namespaces itself.
            var restore: [(NamespaceKind, Int32)] = []
            var joinInInit: [(NamespaceKind, Int32)] = []
            defer { for (_, fd) in joinInInit { close(fd) } }
            for (kind, path) in plan.namespaces.joined {
                let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    throw RuntimeError(.invalidArgument, "linux.namespaces: open \(kind.rawValue) namespace", cause: SystemError("open", path))
                }
                if kind == .mount || kind == .user { joinInInit.append((kind, fd)); continue }
                let own = Glibc.open("/proc/self/ns/\(kind.procName)", O_RDONLY | O_CLOEXEC)
                if setns_checked(fd, kind) != 0 {
                    let e = errno
                    close(fd); close(own)
                    for (k, o) in restore { _ = ocirun_setns(o, k.cloneFlag); close(o) }
                    throw RuntimeError(.invalidArgument, "join \(kind.rawValue) namespace \(path)", cause: SystemError("setns", path, errno: e))
                }
                close(fd)
                restore.append((kind, own))
            }

            var extraEnv: [String] = []
            var preserve = options.preserveFds
            if let lf = getenv("LISTEN_FDS").flatMap({ Int(String(cString: $0)) }), lf > 0 {
                let lp = getenv("LISTEN_PID").flatMap { Int32(String(cString: $0)) }
                if lp == nil || lp == getpid() {
                    extraEnv = ["LISTEN_FDS=\(lf)", "LISTEN_PID=1"]
                    preserve = max(preserve, lf)
                }
            }

            var ctx = InitContext(plan: plan, id: id, channel: initEnd, stateDirFd: stateDirPathFd.rawValue,
                                  consoleSocket: consoleFd, preserveFds: preserve, noPivot: options.noPivot,
                                  joinInInit: joinInInit, cgroup: cgroup, cgroupJoin: join, seccomp: seccomp,
                                  extraEnv: extraEnv, closeInInit: [dirFd.rawValue])
            ctx.startAtOnce = startAtOnce
            // The helper's network namespace, if it made one (otherwise the clone makes it).
            var netnsFd: Int32 = -1
            if let job = netnsJob {
                netnsJob = nil
                netnsFd = ocirun_netns_finish(job)
            }
            defer { if netnsFd >= 0 { close(netnsFd) } }
            // A new cgroup namespace is made by the init once it is in its cgroup (after `.go`), so
            // that the namespace's root is the container's cgroup, not the caller's (conmon's).
            var newFlags = plan.namespaces.cloneFlags & ~ocirun_CLONE_NEWCGROUP
            var spawned: (pid: pid_t, inUnified: Bool)?
            if let l = launcher {
                // Hooks that run in the init (createContainer, startContainer; CDI may have added
                // them) start processes of their own: that init forks, as before.
                let hooksInInit = !(spec.hooks?.createContainer ?? []).isEmpty || !(spec.hooks?.startContainer ?? []).isEmpty
                if !hooksInInit {
                    // While the launcher still makes the network namespace, the v1 cgroup
                    // directories are made here instead of after the clone, then their `tasks`
                    // files opened and the limits written (nothing is in the cgroup yet).
                    if let cg = cgroup, !options.rootless {
                        let waiting = { ocirun_launcher_netns_ready(l) == 0 }
                        v1Made = try cg.create(.v1, from: 0, while: waiting)
                        if v1Made == cg.sortedKeys(.v1).count && waiting() {
                            v1Join = try cg.openJoin(.v1)
                            if waiting() {
                                try CgroupResources.apply(spec.linux?.resources, devices: spec.linux?.devices ?? [], to: cg)
                                limitsApplied = true
                            }
                        }
                    }
                    launcher = nil
                    let sharedCtx = ctx
                    let body = InitBody { parentEnd.close(); InitProcess.run(sharedCtx) }
                    let flags = UInt(UInt32(bitPattern: newFlags & ~ocirun_CLONE_NEWNET))
                    var netnsFailed: Int32 = 0
                    let pid = ocirun_launcher_clone(l, flags, join?.unified?.fd ?? -1, InitLauncher.entry,
                                                    Unmanaged.passRetained(body).toOpaque(), &netnsFailed)
                    if pid > 0 {
                        spawned = (pid, join?.unified != nil)
                        startedBy = l
                    } else if netnsFailed != 0 {
                        throw RuntimeError(.failed, "create network namespace", cause: SystemError("unshare", errno: errno))
                    }
                    // Otherwise (a kernel without clone3 or CLONE_INTO_CGROUP, say) the init forks.
                } else {
                    launcher = nil
                    if newFlags & ocirun_CLONE_NEWNET != 0 {
                        netnsFd = ocirun_launcher_take_netns(l)
                        if netnsFd < 0 {
                            let e = errno
                            ocirun_launcher_cancel(l)
                            throw RuntimeError(.failed, "create network namespace", cause: SystemError("unshare", errno: e))
                        }
                    }
                    ocirun_launcher_cancel(l)
                }
            }
            ctx.netnsFd = netnsFd >= 0 ? netnsFd : nil
            if netnsFd >= 0 { newFlags &= ~ocirun_CLONE_NEWNET }
            let cloneFlags = UInt(UInt32(bitPattern: newFlags))
            let (pid, inUnified) = spawned ?? join?.clone(flags: cloneFlags) ?? (ocirun_clone(cloneFlags), false)
            if pid == 0 {
                parentEnd.close()
                InitProcess.run(ctx)
            }
            let cloneErrno = errno
            for (k, o) in restore { _ = ocirun_setns(o, k.cloneFlag); close(o) }
            initEnd.close()
            if pid < 0 {
                if let u = join?.unified {
                    throw RuntimeError(.failed, "clone into cgroup \(u.dir)", cause: SystemError("clone3", errno: cloneErrno))
                }
                throw SystemError("clone", errno: cloneErrno)
            }
            childPid = pid

            // The init may be setting up its rootfs meanwhile (InitProcess.setUp); when it failed,
            // its error, not ours about the dead process, is the one to report.
            func preferInitError<T>(_ body: () throws -> T) throws -> T {
                do { return try body() } catch {
                    if let m = parentEnd.pendingError() { throw RuntimeError(.failed, m) }
                    throw error
                }
            }
            state.pid = pid
            // Recorded with the pid at once where something may look at the container while it
            // is being created (hooks may call `state`), or where the cgroup does not lead
            // `delete --force` to the init (rootless). Otherwise the start time is read once
            // the init has its cgroup directories.
            let hooks = spec.hooks
            if join == nil || !(hooks?.prestart ?? []).isEmpty || !(hooks?.createRuntime ?? []).isEmpty
                || !(hooks?.createContainer ?? []).isEmpty {
                state.startTime = ProcessInfo.read(pid: pid)?.startTime ?? 0
                try store.save(state)
            }
            join?.close()
            join = nil
            var sentDirs = false
            try preferInitError {
                if let cg = cgroup {
                    if options.rootless {
                        cgroupMade = true
                        try cg.create()
                        try CgroupResources.applyDelegated(spec.linux?.resources, to: cg)
                        try cg.add(pid: pid)
                    } else {
                        _ = try cg.create(.v1, from: v1Made, while: { true })
                        // The init may bind the directories now; it joins them at `.go`, through
                        // the `tasks` files that come with it.
                        try parentEnd.send(.cgroupDirs)
                        sentDirs = true
                        if v1Join == nil { v1Join = try cg.openJoin(.v1) }
                        if !limitsApplied {
                            try CgroupResources.apply(spec.linux?.resources, devices: spec.linux?.devices ?? [], to: cg)
                        }
                        // The init joins the v1 hierarchies after `.go`; the cgroup2 one here only
                        // where the kernel could not clone into it.
                        if let u = cg.unifiedPath, !inUnified {
                            try withContext("join cgroup \(u)") { try Files.write(u + "/cgroup.procs", "\(pid)") }
                        }
                    }
                }
                if let adj = process(spec).oomScoreAdj {
                    do { try Files.write("/proc/\(pid)/oom_score_adj", "\(adj)") } catch {
                        throw RuntimeError(.failed, "set oom_score_adj to \(adj) (lowering it needs CAP_SYS_RESOURCE)", cause: error)
                    }
                }
                if plan.namespaces.new.contains(.user) {
                    try writeIDMappings(pid: pid, spec: spec, rootless: options.rootless)
                }
                if !sentDirs { try parentEnd.send(.cgroupDirs) }
                if state.startTime == 0 { state.startTime = ProcessInfo.read(pid: pid)?.startTime ?? 0 }
                try parentEnd.send(.go(pid), fds: v1Join?.taskFds ?? [])
                v1Join?.close()
                v1Join = nil
            }
            // The config's copy, while the init sets up (nothing reads it before create returns;
            // a `delete --force` after a crash before this point runs no poststop hooks). A new
            // directory: no temp file and rename needed.
            try Files.createNew(stateDir + "/config.json", configBytes)

            loop: while true {
                guard let (msg, fd) = try parentEnd.receiveWithFd() else {
                    let status = (try? waitForChild(pid)).map(WaitStatus.shellStatus) ?? -1
                    childPid = 0
                    throw RuntimeError(.failed, "container init exited during set-up (status \(status))")
                }
                switch msg {
                case .runCreateRuntimeHooks:
                    let hs = stateJSON(id: id, status: .creating, pid: pid, bundle: bundle, annotations: spec.annotations)
                    do {
                        try HookRunner.run(spec.hooks?.prestart, stage: "prestart", state: hs)
                        try HookRunner.run(spec.hooks?.createRuntime, stage: "createRuntime", state: hs)
                        try parentEnd.send(.hooksDone)
                    } catch {
                        try? parentEnd.send(.error("\(error)"))
                        throw error
                    }
                case .seccompFd:
                    guard let fd else { throw RuntimeError(.failed, "seccomp notify fd missing") }
                    defer { close(fd) }
                    let stateText = stateJSON(id: id, status: .creating, pid: pid, bundle: bundle, annotations: spec.annotations)
                    try sendToSeccompListener(seccomp!, fd: fd, pid: pid, state: stateText)
                case .ready:
                    break loop
                case .error(let m):
                    throw RuntimeError(.failed, m)
                case .go, .hooksDone, .cgroupDirs:
                    throw RuntimeError(.failed, "unexpected message from container init")
                }
            }

            // Under `run` the init is exec'ing the process meanwhile.
            state.phase = "created"
            try store.save(state)
            if let pf = options.pidFile {
                try withContext("write pid file") {
                    try Files.writeAtomically(Files.absolute(pf), Array("\(pid)".utf8), mode: 0o644)
                }
            }
            cleanupState = false
            _ = dirFd
            return CreatedContainer(pid: pid, container: Container(store: store, state: state,
                                                                   status: startAtOnce ? .running : .created, spec: spec),
                                    launcher: startedBy)
        } catch {
            throw RuntimeError.wrap(error, "create container \"\(id)\"")
        }
    }

    static func process(_ spec: Spec) -> Process {
        spec.process ?? Process(user: User(uid: 0, gid: 0), cwd: "/")
    }

    static func setns_checked(_ fd: Int32, _ kind: NamespaceKind) -> Int32 {
        ocirun_setns(fd, kind.cloneFlag)
    }

    /// The host id that `id` maps to (the id itself without a user namespace).
    static func hostID(_ id: UInt32, _ maps: [LinuxIDMapping]?, userns: Bool) -> UInt32 {
        guard userns else { return id }
        for m in maps ?? [] where id >= m.containerID && id < m.containerID + m.size {
            return m.hostID + (id - m.containerID)
        }
        return id
    }

    /// Writes uid_map and gid_map of the init. Several ranges as an unprivileged user need the
    /// setuid helpers newuidmap/newgidmap (Debian's uidmap).
    static func writeIDMappings(pid: Int32, spec: Spec, rootless: Bool) throws {
        func text(_ maps: [LinuxIDMapping]) -> String {
            maps.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
        }
        let uids = spec.linux?.uidMappings ?? []
        let gids = spec.linux?.gidMappings ?? []
        if geteuid() != 0 && (uids.count > 1 || gids.count > 1) {
            try runIDHelper("newuidmap", pid: pid, maps: uids)
            try runIDHelper("newgidmap", pid: pid, maps: gids)
            return
        }
        if geteuid() != 0 {
            // An unprivileged single mapping needs setgroups denied first.
            try? Files.write("/proc/\(pid)/setgroups", "deny")
        }
        try withContext("write uid mappings") { try Files.write("/proc/\(pid)/uid_map", text(uids)) }
        try withContext("write gid mappings") { try Files.write("/proc/\(pid)/gid_map", text(gids)) }
    }

    static func runIDHelper(_ tool: String, pid: Int32, maps: [LinuxIDMapping]) throws {
        var args = [tool, "\(pid)"]
        for m in maps { args += ["\(m.containerID)", "\(m.hostID)", "\(m.size)"] }
        var child: pid_t = 0
        let paths = ["/usr/bin/" + tool, "/bin/" + tool, "/usr/sbin/" + tool]
        guard let path = paths.first(where: { access($0, X_OK) == 0 }) else {
            throw RuntimeError(.unsupported, "\(tool) not found: several id ranges need Debian's uidmap package")
        }
        let rc = withCStrings(args) { argv in withCStrings(["PATH=/usr/bin:/bin"]) { envp in posix_spawn(&child, path, nil, nil, argv, envp) } }
        guard rc == 0 else { throw SystemError("exec", path, errno: rc) }
        let status = try waitForChild(child)
        guard WaitStatus.shellStatus(status) == 0 else {
            throw RuntimeError(.failed, "\(tool) \(pid) failed with status \(WaitStatus.shellStatus(status))")
        }
    }

    static func ownerName() -> String {
        let uid = geteuid()
        if uid == 0 { return "root" }
        let entries = UserDatabase.parsePasswd((try? Files.readString("/etc/passwd")) ?? "")
        return entries.first { $0.uid == uid }?.name ?? "#\(uid)"
    }

    /// Connects to a unix socket path (the console socket, the seccomp listener).
    static func connectUnixSocket(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", path) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw RuntimeError(.invalidArgument, "socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { buf in
            for (i, b) in bytes.enumerated() { buf[i] = b }
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if r != 0 {
            let e = errno
            close(fd)
            throw SystemError("connect", path, errno: e)
        }
        return fd
    }

    /// Sends the seccomp notify fd to the listener with the container process state
    /// (config-linux.md "The Container Process State").
    static func sendToSeccompListener(_ profile: SeccompProfile, fd: Int32, pid: Int32, state: String) throws {
        guard let path = profile.listenerPath else { return }
        let sock = try connectUnixSocket(path)
        defer { close(sock) }
        let doc = "{\"ociVersion\":\"\(Spec.currentVersion)\",\"fds\":[\"seccompFd\"],\"pid\":\(pid),\"metadata\":\(jsonQuote(profile.listenerMetadata ?? "")),\"state\":\(state)}"
        let rc = doc.withCString { ocirun_send_fd(sock, fd, $0, strlen($0)) }
        if rc != 0 { throw SystemError("sendmsg", path) }
    }
}

/// Starting the container's init in the runtime's own memory (`ocirun_launcher_*`, docs/design.md
/// "The init shares the runtime's memory").
enum InitLauncher {
    #if arch(x86_64)
    static let available = true
    #else
    static let available = false
    #endif

    /// The init's entry: runs the `InitBody` passed as the argument; never returns.
    static let entry: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { arg in
        Unmanaged<InitBody>.fromOpaque(arg!).takeUnretainedValue().body()
    }
}
