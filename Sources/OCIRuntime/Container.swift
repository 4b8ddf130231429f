#if canImport(Glibc)
import Glibc
#endif
import CLinux
import JSON
import LinuxSystem
import OCISpec

/// A container known to the state store, with its status refreshed from the kernel.
public struct Container {
    public var store: StateStore
    public var state: ContainerState
    public var status: ContainerStatus
    /// The config, when this process has it already (`run`: from `create`); else read from
    /// the state directory by `savedSpec()`.
    var spec: Spec? = nil

    public var id: String { state.id }
    public var directory: String { store.directory(state.id) }

    /// Loads a container and works out its status: the init must still be the same process
    /// (pid and start time) and not a zombie; exec.fifo present means `created`.
    public static func load(_ id: String, store: StateStore) throws -> Container {
        let state = try store.load(id)
        return Container(store: store, state: state, status: refreshStatus(state, store: store))
    }

    static func refreshStatus(_ state: ContainerState, store: StateStore) -> ContainerStatus {
        status(pid: state.pid, startTime: state.startTime, creating: state.phase == "creating",
               hasFifo: { Files.exists(store.directory(state.id) + "/exec.fifo") }, cgroup: { state.cgroup })
    }

    /// The status from what the state records and the kernel: stopped unless the init is still
    /// the same live process; then creating, created (exec.fifo is there), paused or running.
    static func status(pid: Int32, startTime: UInt64, creating: Bool, hasFifo: () -> Bool,
                       cgroup: () -> ContainerCgroup?) -> ContainerStatus {
        guard isAlive(pid: pid, startTime: startTime) else { return .stopped }
        if creating { return .creating }
        if hasFifo() { return .created }
        if cgroup()?.isFrozen() == true { return .paused }
        return .running
    }

    static func isAlive(_ state: ContainerState) -> Bool { isAlive(pid: state.pid, startTime: state.startTime) }

    static func isAlive(pid: Int32, startTime: UInt64) -> Bool {
        guard pid > 0, let info = ProcessInfo.read(pid: pid) else { return false }
        return info.startTime == startTime && info.state != "Z" && info.state != "X"
    }

    /// The OCI state document (runtime.md "State"), plus runc's rootfs/created/owner fields.
    public func stateDocument() -> JSONValue {
        var o: JSONObject = [:]
        o["ociVersion"] = .string(Spec.currentVersion)
        o["id"] = .string(state.id)
        o["pid"] = .number(.int(status == .stopped ? 0 : Int64(state.pid)))
        o["status"] = .string(status.rawValue)
        o["bundle"] = .string(state.bundle)
        o["rootfs"] = .string(state.rootfs)
        o["created"] = .string(state.created)
        o["owner"] = .string(state.owner)
        if let a = state.annotations, !a.isEmpty {
            var ao: JSONObject = [:]
            for (k, v) in a.sorted(by: { $0.key < $1.key }) { ao[k] = .string(v) }
            o["annotations"] = .object(ao)
        }
        return .object(o)
    }

    /// The state passed to hooks on stdin.
    public static func stateJSON(id: String, status: ContainerStatus, pid: Int32, bundle: String,
                                 annotations: [String: String]?) -> String {
        var s = "{\"ociVersion\":\"\(Spec.currentVersion)\",\"id\":\(jsonQuote(id)),\"status\":\"\(status.rawValue)\""
        if pid > 0 { s += ",\"pid\":\(pid)" }
        s += ",\"bundle\":\(jsonQuote(bundle))"
        if let a = annotations, !a.isEmpty {
            s += ",\"annotations\":{" + a.sorted(by: { $0.key < $1.key }).map { "\(jsonQuote($0.key)):\(jsonQuote($0.value))" }.joined(separator: ",") + "}"
        }
        return s + "}"
    }

    func hookState(_ status: ContainerStatus) -> String {
        Container.stateJSON(id: state.id, status: status, pid: status == .stopped ? 0 : state.pid,
                            bundle: state.bundle, annotations: state.annotations)
    }

    /// Reads the saved config once, for the commands that need it more than once (`exec`).
    public mutating func keepSavedSpec() {
        if spec == nil { spec = savedSpec() }
    }

    /// The config saved at create time (hooks and annotations for later commands).
    func savedSpec() -> Spec? {
        if let spec { return spec }
        guard let bytes = try? Files.read(directory + "/config.json") else { return nil }
        return try? JSONDecoding.decodeMapped(Spec.self, from: bytes)
    }

    func require(_ op: ContainerOperation) throws {
        guard op.allowed(in: status) else {
            throw RuntimeError(.invalidState, "cannot \(op.rawValue) container \"\(id)\": it is \(status.rawValue)")
        }
    }

    /// Sends `signal` to the init (through a pidfd, so a reused pid is never signalled), or to
    /// every process of the container's cgroup with `all`.
    public func signal(_ sig: Int32, all: Bool = false) throws {
        if all, let cg = state.cgroup {
            let frozen = cg.isFrozen()
            for pid in cg.pids() { _ = Glibc.kill(pid, sig) }
            if frozen && sig == SIGKILL { try? cg.setFrozen(false) }
            return
        }
        let fd = ocirun_pidfd_open(state.pid)
        if fd >= 0 {
            defer { close(fd) }
            // The pidfd names this process for good: check it is still the container's init.
            guard Container.isAlive(state) else { throw RuntimeError(.invalidState, "cannot signal container \"\(id)\": container not running") }
            if ocirun_pidfd_send_signal(fd, sig) != 0 { throw SystemError("pidfd_send_signal", "pid \(state.pid)") }
            thawAfterKill(sig)
            return
        }
        guard Container.isAlive(state) else { throw RuntimeError(.invalidState, "cannot signal container \"\(id)\": container not running") }
        if Glibc.kill(state.pid, sig) != 0 { throw SystemError("kill", "pid \(state.pid)") }
        thawAfterKill(sig)
    }

    /// A frozen (paused) process does not die of SIGKILL until it is thawed (cgroup v1 freezer):
    /// thaw the container after SIGKILL, as runc does, so that `kill` of a paused container stops it.
    private func thawAfterKill(_ sig: Int32) {
        if sig == SIGKILL, let cg = state.cgroup, cg.isFrozen() { try? cg.setFrozen(false) }
    }

    /// Waits until the init has exited (it is not our child: a pidfd poll, else /proc polling).
    func waitForExit(timeoutMs: Int32 = 10_000) -> Bool {
        let fd = ocirun_pidfd_open(state.pid)
        if fd >= 0 {
            defer { close(fd) }
            guard Container.isAlive(state) else { return true }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while true {
                let r = poll(&p, 1, timeoutMs)
                if r < 0 && errno == EINTR { continue }
                return r > 0
            }
        }
        for _ in 0..<(Int(timeoutMs) / 5) {
            if !Container.isAlive(state) { return true }
            usleep(5_000)
        }
        return false
    }

    /// Removes everything the container holds: processes, cgroups, host mounts, state.
    func destroy(runPoststop: Bool, logger: Logger) throws {
        if Container.isAlive(state) {
            try? signal(SIGKILL)
            _ = waitForExit()
        }
        if let cg = state.cgroup {
            // Anything left in the cgroup (a shared pid namespace, exec'd processes) goes too.
            var delay: UInt32 = 500
            for _ in 0..<5 {
                let pids = cg.pids()
                if pids.isEmpty { break }
                if cg.isFrozen() { try? cg.setFrozen(false) }
                for p in pids { Glibc.kill(p, SIGKILL) }
                usleep(delay)
                delay *= 3
            }
        }
        var errors: [String] = []
        if let cg = state.cgroup {
            do { try cg.destroy() } catch { errors.append("\(error)") }
        }
        for m in (state.hostMounts ?? []).reversed() {
            if umount2(m, Int32(MNT_DETACH)) != 0 && errno != EINVAL && errno != ENOENT {
                errors.append("\(SystemError("umount", m))")
            }
        }
        if runPoststop, let spec = savedSpec(), let poststop = spec.hooks?.poststop, !poststop.isEmpty {
            HookRunner.runIgnoringFailures(poststop, stage: "poststop", state: hookState(.stopped)) {
                logger.warning($0)
            }
        }
        do { try store.remove(id) } catch { errors.append("\(error)") }
        if !errors.isEmpty {
            throw RuntimeError(.failed, "delete container \"\(id)\": " + errors.joined(separator: "; "))
        }
    }
}
