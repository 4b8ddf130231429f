#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Facts about a process read from /proc, used to tell a live container init from a reused pid.
public struct ProcessInfo: Equatable, Sendable {
    /// Field 3 of /proc/PID/stat: R, S, D, Z, T, ...
    public var state: Character
    /// Field 22 of /proc/PID/stat: start time in clock ticks since boot.
    public var startTime: UInt64

    /// Reads /proc/PID/stat; nil when the process does not exist.
    public static func read(pid: Int32, procRoot: String = "/proc") -> ProcessInfo? {
        guard let text = try? Files.readString("\(procRoot)/\(pid)/stat") else { return nil }
        return parse(stat: text)
    }

    /// Parses a /proc/PID/stat line; the command name may hold spaces and parentheses.
    public static func parse(stat text: String) -> ProcessInfo? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[0] is field 3 (state); field 22 is rest[19].
        guard rest.count > 19, let st = rest[0].first, let start = UInt64(rest[19]) else { return nil }
        return ProcessInfo(state: st, startTime: start)
    }
}

/// Wait-status helpers.
public enum WaitStatus {
    /// The status a shell reports: the exit code, or 128+N when killed by signal N.
    public static func shellStatus(_ status: Int32) -> Int32 {
        if ocirun_wifexited(status) != 0 { return ocirun_wexitstatus(status) }
        if ocirun_wifsignaled(status) != 0 { return 128 + ocirun_wtermsig(status) }
        return 1
    }
}

/// waitpid with EINTR retry; returns the raw status.
public func waitForChild(_ pid: pid_t) throws -> Int32 {
    var status: Int32 = 0
    while true {
        let r = waitpid(pid, &status, 0)
        if r == pid { return status }
        if r < 0 && errno == EINTR { continue }
        throw SystemError("waitpid", "\(pid)")
    }
}
