#if canImport(Glibc)
import Glibc
#endif
import CLinux
import LinuxSystem
import OCISpec

/// What the container init and an exec'd process share: rlimits, and the switch to the
/// process's user with its capabilities (runc's order).
enum ProcessIdentity {
    typealias Rlimit = (resource: Int32, soft: UInt64, hard: UInt64)

    /// `process.rlimits` as setrlimit(2) arguments; unknown types and soft > hard are errors.
    static func rlimits(of process: Process) throws -> [Rlimit] {
        try (process.rlimits ?? []).enumerated().map { i, r in
            guard let res = rlimitResources[r.type] else {
                throw RuntimeError(.invalidArgument, "process.rlimits[\(i)]: unknown rlimit type \"\(r.type)\"")
            }
            guard r.soft <= r.hard else {
                throw RuntimeError(.invalidArgument, "process.rlimits[\(i)] (\(r.type)): soft limit \(r.soft) is greater than hard limit \(r.hard)")
            }
            return (res, r.soft, r.hard)
        }
    }

    static func apply(_ rlimits: [Rlimit]) throws {
        for r in rlimits {
            var lim = rlimit(rlim_cur: rlim_t(r.soft), rlim_max: rlim_t(r.hard))
            if setrlimit(__rlimit_resource_t(UInt32(r.resource)), &lim) != 0 {
                let name = rlimitResources.first { $0.value == r.resource }?.key ?? "\(r.resource)"
                throw SystemError("setrlimit", name)
            }
        }
    }

    /// Bounding set, then groups/gid/uid with capabilities kept across the switch, then the
    /// process's capability sets. NOTE: the bounding set needs CAP_SETPCAP: before the switch.
    static func switchUser(_ user: User, groups: [UInt32], caps: CapabilitySets) throws {
        try withContext("drop bounding capabilities") { try caps.applyBounding() }
        try retrying("prctl(PR_SET_KEEPCAPS)") { ocirun_set_keepcaps(1) }
        // In a user namespace whose setgroups is denied (rootless), setgroups(2) would fail.
        if (try? Files.readString("/proc/self/setgroups"))?.hasASCIIPrefix("deny") != true {
            try retrying("setgroups") { groups.withUnsafeBufferPointer { ocirun_setgroups($0.count, $0.baseAddress) } }
        }
        try retrying("setresgid", decimal(Int64(user.gid))) { ocirun_setresgid(user.gid, user.gid, user.gid) }
        try retrying("setresuid", decimal(Int64(user.uid))) { ocirun_setresuid(user.uid, user.uid, user.uid) }
        try retrying("prctl(PR_SET_KEEPCAPS)") { ocirun_set_keepcaps(0) }
        try withContext("set capabilities") { try caps.applySets() }
    }

    /// Signals sent to ocirun while it waits in the foreground go to `pid` (run, exec).
    static func forwardSignals(to pid: pid_t) {
        forwardTarget = pid
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH] {
            Glibc.signal(sig) { s in if forwardTarget > 0 { Glibc.kill(forwardTarget, s) } }
        }
    }
}
