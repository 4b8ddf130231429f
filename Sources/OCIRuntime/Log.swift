#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem

/// The `--log` / `--log-format` sink. Engines read the last JSON line of the log file:
/// `{"level":"error","msg":"…","time":"2026-…Z"}`.
public struct Logger {
    public enum Format: String, Sendable { case text, json }

    public var path: String?
    public var format: Format
    public var debug: Bool

    public init(path: String? = nil, format: Format = .text, debug: Bool = false) {
        self.path = path
        self.format = format
        self.debug = debug
    }

    public func error(_ message: String) { write(level: "error", message) }
    public func warning(_ message: String) { write(level: "warning", message) }
    public func debugMessage(_ message: @autoclosure () -> String) {
        if debug { write(level: "debug", message()) }
    }

    func write(level: String, _ message: String) {
        guard let path else { return }
        let line: String
        switch format {
        case .json:
            line = "{\"level\":\"\(level)\",\"msg\":\(jsonQuote(message)),\"time\":\"\(rfc3339Now())\"}\n"
        case .text:
            line = "time=\"\(rfc3339Now())\" level=\(level) msg=\(jsonQuote(message))\n"
        }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        Glibc.close(fd)
    }
}

/// A JSON string literal (quotes included) with the escapes JSON requires.
public func jsonQuote(_ s: String) -> String {
    var out = "\""
    out.reserveCapacity(s.utf8.count + 2)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// Now as RFC 3339 in UTC with nanoseconds, as runc writes times.
public func rfc3339Now() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return rfc3339(seconds: Int(ts.tv_sec), nanoseconds: Int(ts.tv_nsec))
}

public func rfc3339(seconds: Int, nanoseconds: Int) -> String {
    // The UTC calendar date computed here: glibc's gmtime_r loads the time zone file
    // (/etc/localtime) on first use, which UTC does not need.
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400   // rounded down
    let (year, month, day) = civilDate(daysSinceEpoch: days)
    let secondOfDay = seconds - days * 86_400
    func pad(_ v: Int, _ w: Int) -> String {
        let s = decimal(Int64(v))   // not String(v): docs/performance.md, item 34
        let n = s.utf8.count
        return n >= w ? s : String(repeating: "0", count: w - n) + s
    }
    let frac = pad(nanoseconds, 9)
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
        + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(frac)Z"
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
func civilDate(daysSinceEpoch z0: Int) -> (year: Int, month: Int, day: Int) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
}
