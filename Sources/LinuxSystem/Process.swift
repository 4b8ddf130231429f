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
        guard let text = try? Files.readString(procRoot + "/" + decimal(Int64(pid)) + "/stat") else { return nil }
        return parse(stat: text)
    }

    /// Parses a /proc/PID/stat line; the command name may hold spaces and parentheses.
    public static func parse(stat text: String) -> ProcessInfo? {
        // Over bytes (no [Substring]): field 3 is the state, field 22 the start time; both come
        // after the last ")" (the command name may hold spaces and parentheses).
        var text = text
        return text.withUTF8 { b -> ProcessInfo? in
            guard let close = b.lastIndex(of: UInt8(ascii: ")")) else { return nil }
            var field = 2
            var i = close + 1
            var state: Character?
            let n = b.count
            while i < n {
                while i < n && b[i] == UInt8(ascii: " ") { i += 1 }
                guard i < n else { break }
                field += 1
                var j = i
                while j < n && b[j] != UInt8(ascii: " ") { j += 1 }
                if field == 3 { state = Character(Unicode.Scalar(b[i])) }
                if field == 22 {
                    var v: UInt64 = 0
                    for k in i..<j {
                        let d = b[k] &- UInt8(ascii: "0")
                        guard d < 10 else { return nil }
                        let (m, o1) = v.multipliedReportingOverflow(by: 10)
                        let (a, o2) = m.addingReportingOverflow(UInt64(d))
                        guard !o1, !o2 else { return nil }
                        v = a
                    }
                    guard let st = state, j > i else { return nil }
                    return ProcessInfo(state: st, startTime: v)
                }
                i = j
            }
            return nil
        }
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
