#if canImport(Glibc)
import Glibc
#endif
import CLinux
import JSON
import LinuxSystem
import OCISpec

extension Container {
    /// `start` (runtime.md "start"): open exec.fifo, which lets the init exec the user process;
    /// then the poststart hooks.
    public static func start(id: String, store: StateStore, logger: Logger) throws {
        let lock = try store.lock(id)
        defer { _ = lock }
        var c = try load(id, store: store)
        try start(&c)
    }

    /// `start` of a loaded container, under its lock.
    static func start(_ c: inout Container) throws {
        let id = c.id, store = c.store
        try c.require(.start)
        let fifoPath = c.directory + "/exec.fifo"
        let fd = Glibc.open(fifoPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw RuntimeError(.failed, "start container \"\(id)\"", cause: SystemError("open", fifoPath)) }
        defer { close(fd) }
        // The init writes one byte once its open(O_WRONLY) returned; poll, watching it stays alive.
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var got = false
        for _ in 0..<3000 {
            let r = poll(&p, 1, 100)
            if r > 0 {
                var b: UInt8 = 0
                let n = read(fd, &b, 1)
                if n == 1 { got = true; break }
                if n == 0 { break }
            }
            if r < 0 && errno != EINTR { break }
            if !isAlive(c.state) { break }
        }
        guard got else {
            throw RuntimeError(.failed, "start container \"\(id)\": the container init exited before start")
        }
        unlink(fifoPath)
        // state.json is not rewritten: without exec.fifo the status reads running (or stopped),
        // as runc and crun tell it.
        try started(&c)
    }

    /// What follows the start of the process: poststart hooks.
    static func started(_ c: inout Container) throws {
        let id = c.id
        c.status = .running
        if let spec = c.savedSpec(), let hooks = spec.hooks?.poststart, !hooks.isEmpty {
            // runtime.md (1.1+): a failing poststart hook is an error and stops the container.
            do {
                try HookRunner.run(hooks, stage: "poststart", state: c.hookState(.running))
            } catch {
                try? c.signal(SIGKILL)
                _ = c.waitForExit()
                throw RuntimeError.wrap(error, "start container \"\(id)\"")
            }
        }
    }

    /// `kill`: refuses a stopped container, as runc does, with runc's words "container not running"
    /// (containerd's shim matches them to treat the process as already gone). With `all`, a stopped
    /// container is not an error: whatever is left in its cgroup is signalled (the shim kills an
    /// init's children that way after the init exited).
    public static func kill(id: String, signal: Int32, all: Bool, store: StateStore) throws {
        let lock = try store.lock(id)
        defer { _ = lock }
        let c = try load(id, store: store)
        if all && c.status == .stopped {
            if c.state.cgroup != nil { try c.signal(signal, all: true) }
            return
        }
        guard c.status.canKill else {
            throw RuntimeError(.invalidState, "cannot kill container \"\(id)\": container not running (it is \(c.status.rawValue))")
        }
        try c.signal(signal, all: all)
    }

    /// `delete`: a stopped (or created) container; `force` also kills a running one, and
    /// succeeds for a container that does not exist.
    public static func delete(id: String, force: Bool, store: StateStore, logger: Logger) throws {
        let lock: FileDescriptor
        do { lock = try store.lock(id) } catch let e as RuntimeError where e.code == .notFound && force {
            return
        }
        defer { _ = lock }
        let c: Container
        do { c = try load(id, store: store) } catch let e as RuntimeError where e.code == .notFound {
            // A directory without state: a create that was killed early. Remove it.
            if force || !Files.exists(store.directory(id) + "/state.json") {
                try? store.remove(id)
                if force { return }
            }
            throw e
        } catch {
            if force { try? store.remove(id); return }
            throw error
        }
        if !force && !(c.status == .stopped || c.status == .created) {
            throw RuntimeError(.invalidState, "cannot delete container \"\(id)\" that is not stopped: it is \(c.status.rawValue)")
        }
        // Poststop hooks for a container that was started (or whose init is gone), not for one
        // still waiting on exec.fifo.
        try c.destroy(runPoststop: c.status != .created && c.status != .creating, logger: logger)
    }

    /// `pause` / `resume` through the freezer.
    public static func setPaused(id: String, paused: Bool, store: StateStore) throws {
        let lock = try store.lock(id)
        defer { _ = lock }
        let c = try load(id, store: store)
        try c.require(paused ? .pause : .resume)
        guard let cg = c.state.cgroup else {
            throw RuntimeError(.unsupported, "container \"\(id)\" has no cgroup to freeze")
        }
        try cg.setFrozen(paused)
    }

    /// Host pids of the container's processes.
    public static func processes(id: String, store: StateStore) throws -> [Int32] {
        let c = try load(id, store: store)
        if let cg = c.state.cgroup {
            let pids = cg.pids()
            if !pids.isEmpty { return pids }
        }
        return c.status == .stopped ? [] : [c.state.pid]
    }
}

/// Signal forwarding for `run` in the foreground: signals sent to ocirun go to the container.
nonisolated(unsafe) var forwardTarget: pid_t = 0

extension Container {
    /// `run`: create, start, and — unless detached — wait for the init, delete the container
    /// (unless `keep`) and return its exit status (128+N when killed by signal N).
    public static func run(id: String, options: CreateOptions, detach: Bool, keep: Bool = false, store: StateStore) throws -> Int32 {
        let created = try create(id: id, options: options, store: store, startAtOnce: true)
        // The init may have been started in this process's memory: it execs right after `ready`;
        // this process does not exit before it has.
        defer { created.waitUntilOutOfMemory() }
        do {
            // The container as create left it (state and config in memory: no reload); create
            // started the process already.
            let lock = try store.lock(id)
            defer { _ = lock }
            var c = created.container
            try started(&c)
        } catch {
            if let c = try? load(id, store: store) { try? c.destroy(runPoststop: false, logger: options.logger) }
            throw error
        }
        if detach { return 0 }
        ProcessIdentity.forwardSignals(to: created.pid)
        let status = try waitForChild(created.pid)
        forwardTarget = 0
        let code = WaitStatus.shellStatus(status)
        if keep { return code }
        // The container as create left it: nothing else rewrites its state (no reload). When
        // another command deleted it meanwhile, its directory and lock are gone.
        guard let lock = try? store.lock(id), Files.exists(store.directory(id) + "/state.json") else { return code }
        defer { _ = lock }
        try created.container.destroy(runPoststop: true, logger: options.logger)
        return code
    }
}
