#if canImport(Glibc)
import Glibc
#endif
import CLinux
import LinuxSystem
import OCISpec

/// Runs OCI hooks (config.md "POSIX-platform Hooks"): `path` executed with `args` and `env`, the
/// container state JSON on stdin, killed when `timeout` seconds pass.
public enum HookRunner {
    /// Runs each hook in order; the first failure throws, naming the stage and the hook.
    public static func run(_ hooks: [Hook]?, stage: String, state: String) throws {
        for (i, hook) in (hooks ?? []).enumerated() {
            do {
                try runOne(hook, state: state)
            } catch {
                throw RuntimeError(.failed, "\(stage) hook #\(i) (\(hook.path))", cause: error)
            }
        }
    }

    /// Runs the hooks, reporting failures to `warn` instead of throwing (poststart, poststop).
    public static func runIgnoringFailures(_ hooks: [Hook]?, stage: String, state: String, warn: (String) -> Void) {
        for (i, hook) in (hooks ?? []).enumerated() {
            do { try runOne(hook, state: state) } catch {
                warn("\(stage) hook #\(i) (\(hook.path)): \(error)")
            }
        }
    }

    static func runOne(_ hook: Hook, state: String) throws {
        if let t = hook.timeout, t <= 0 {
            throw RuntimeError(.invalidArgument, "timeout must be greater than zero, got \(t)")
        }
        var pipeFds: [Int32] = [0, 0]
        try retrying("pipe2") { ocirun_pipe2(&pipeFds, O_CLOEXEC) }
        defer { if pipeFds[1] >= 0 { Glibc.close(pipeFds[1]) } }

        let args = (hook.args?.isEmpty == false) ? hook.args! : [hook.path]
        let env = hook.env ?? []
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFds[0], 0)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // The child starts with default signal handling and an empty mask.
        var all = sigset_t(); sigfillset(&all)
        var none = sigset_t(); sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let rc = withCStrings(args) { argv in
            withCStrings(env) { envp in
                posix_spawn(&pid, hook.path, &actions, &attr, argv, envp)
            }
        }
        Glibc.close(pipeFds[0])
        guard rc == 0 else { throw SystemError("exec", hook.path, errno: rc) }

        // The hook may exit without reading stdin: ignore EPIPE.
        let bytes = Array(state.utf8)
        _ = bytes.withUnsafeBytes { b in
            signal(SIGPIPE, SIG_IGN)
            return Glibc.write(pipeFds[1], b.baseAddress, b.count)
        }
        Glibc.close(pipeFds[1])
        pipeFds[1] = -1

        let status = try waitWithTimeout(pid, seconds: hook.timeout)
        guard let status else {
            throw RuntimeError(.failed, "timed out after \(hook.timeout ?? 0)s")
        }
        if ocirun_wifexited(status) != 0 && ocirun_wexitstatus(status) == 0 { return }
        if ocirun_wifsignaled(status) != 0 {
            throw RuntimeError(.failed, "killed by signal \(Signals.name(ocirun_wtermsig(status)))")
        }
        throw RuntimeError(.failed, "exited with status \(ocirun_wexitstatus(status))")
    }

    /// Waits for a child; nil when the timeout passed (the child is then killed and reaped).
    static func waitWithTimeout(_ pid: pid_t, seconds: Int?) throws -> Int32? {
        guard let seconds else { return try waitForChild(pid) }
        let pidfd = ocirun_pidfd_open(pid)
        if pidfd >= 0 {
            defer { Glibc.close(pidfd) }
            var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            var remaining = seconds * 1000
            while remaining > 0 {
                var t0 = timespec(); clock_gettime(CLOCK_MONOTONIC, &t0)
                let r = poll(&p, 1, Int32(min(remaining, Int(Int32.max))))
                if r > 0 { return try waitForChild(pid) }
                if r < 0 && errno != EINTR { break }
                var t1 = timespec(); clock_gettime(CLOCK_MONOTONIC, &t1)
                remaining -= Int((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1_000_000)
            }
        } else {
            for _ in 0..<(seconds * 100) {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { return status }
                usleep(10_000)
            }
        }
        kill(pid, SIGKILL)
        _ = try? waitForChild(pid)
        return nil
    }
}

/// Calls `body` with a NULL-terminated `char *[]` of `strings`.
public func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
}
