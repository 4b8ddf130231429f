import LinuxSystem

/// Signal names and numbers on Linux x86_64/arm64, as `kill` accepts them: `15`, `TERM`, `SIGTERM`,
/// `sigterm`, and the real-time forms `RTMIN+3` / `SIGRTMAX-1`.
public enum Signals {
    public static let table: [(String, Int32)] = [
        ("HUP", 1), ("INT", 2), ("QUIT", 3), ("ILL", 4), ("TRAP", 5), ("ABRT", 6), ("IOT", 6), ("BUS", 7),
        ("FPE", 8), ("KILL", 9), ("USR1", 10), ("SEGV", 11), ("USR2", 12), ("PIPE", 13), ("ALRM", 14),
        ("TERM", 15), ("STKFLT", 16), ("CHLD", 17), ("CONT", 18), ("STOP", 19), ("TSTP", 20), ("TTIN", 21),
        ("TTOU", 22), ("URG", 23), ("XCPU", 24), ("XFSZ", 25), ("VTALRM", 26), ("PROF", 27), ("WINCH", 28),
        ("IO", 29), ("POLL", 29), ("PWR", 30), ("SYS", 31),
    ]
    static let rtMin: Int32 = 34
    static let rtMax: Int32 = 64

    /// Parses a signal given by number or name; throws an error naming the bad value.
    public static func parse(_ text: String) throws -> Int32 {
        if let n = Int32(text) {
            guard n > 0 && n <= rtMax else { throw RuntimeError(.invalidArgument, "invalid signal \"\(text)\": out of range 1-\(rtMax)") }
            return n
        }
        var name = text.uppercased()
        if name.hasASCIIPrefix("SIG") { name.removeFirst(3) }
        if let (_, n) = table.first(where: { $0.0 == name }) { return n }
        if name.hasASCIIPrefix("RTMIN") || name.hasASCIIPrefix("RTMAX") {
            let base = name.hasASCIIPrefix("RTMIN") ? rtMin : rtMax
            let rest = name.dropFirst(5)
            var n = base
            if !rest.isEmpty {
                guard let off = Int32(rest), off != 0 || rest == "+0" else {
                    throw RuntimeError(.invalidArgument, "invalid signal \"\(text)\"")
                }
                n = base + off
            }
            if n >= rtMin && n <= rtMax { return n }
        }
        throw RuntimeError(.invalidArgument, "invalid signal \"\(text)\": unknown signal name")
    }

    /// The name of a signal number, without the SIG prefix.
    public static func name(_ n: Int32) -> String {
        table.first(where: { $0.1 == n }).map { $0.0 } ?? "\(n)"
    }
}
