#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem
import OCIRuntime

/// runc's global flags, given before the subcommand in `--flag value` or `--flag=value` form.
/// They are split off argv before ArgumentParser sees the subcommand's own arguments.
public struct GlobalOptions: Sendable {
    public var root: String?
    public var log: String?
    public var logFormat: Logger.Format = .text
    public var debug = false
    public var systemdCgroup = false
    public var rootless: String = "auto"
    public var criu: String?

    public init() {}

    // Plain arrays, not Sets: a Set<String> costs generic metadata and a seeded hash on every
    // start, for five names.
    static let valued = ["--root", "--log", "--log-format", "--rootless", "--criu"]
    static let boolean = ["--debug", "--systemd-cgroup"]

    /// Takes the global flags off the front of `args` (the arguments after the program name)
    /// and returns the rest. Errors name the flag.
    public static func parse(_ args: [String]) throws -> (GlobalOptions, [String]) {
        var g = GlobalOptions()
        var i = 0
        while i < args.count {
            let a = args[i]
            guard a.hasASCIIPrefix("-"), a != "-", a != "--" else { break }
            // runc (urfave/cli) also takes the single-dash forms.
            let normalized = a.hasASCIIPrefix("--") ? a : "-" + a
            var name = normalized
            var value: String?
            if let eq = normalized.firstIndex(of: "=") {
                name = String(normalized[..<eq])
                value = String(normalized[normalized.index(after: eq)...])
            }
            if valued.contains(name) {
                if value == nil {
                    guard i + 1 < args.count else { throw RuntimeError(.invalidArgument, "flag \(name) needs a value") }
                    i += 1
                    value = args[i]
                }
                switch name {
                case "--root": g.root = value
                case "--log": g.log = value
                case "--log-format":
                    guard let f = Logger.Format(rawValue: value!) else {
                        throw RuntimeError(.invalidArgument, "invalid --log-format \"\(value!)\": use text or json")
                    }
                    g.logFormat = f
                case "--rootless":
                    guard ["true", "false", "auto"].contains(value!) else {
                        throw RuntimeError(.invalidArgument, "invalid --rootless \"\(value!)\": use true, false or auto")
                    }
                    g.rootless = value!
                case "--criu": g.criu = value
                default: break
                }
            } else if boolean.contains(name) {
                let on = value.map { $0 == "true" || $0 == "1" } ?? true
                if name == "--debug" { g.debug = on } else { g.systemdCgroup = on }
            } else {
                break   // --help, --version and unknown flags are ArgumentParser's.
            }
            i += 1
        }
        return (g, Array(args[i...]))
    }

    /// Rootless when asked, or (auto) when not running as root.
    public var isRootless: Bool {
        switch rootless {
        case "true": return true
        case "false": return false
        default: return geteuid() != 0
        }
    }

    public var logger: Logger {
        Logger(path: log.map { Files.absolute($0) }, format: logFormat, debug: debug)
    }

    public func store() throws -> StateStore {
        if let root { return StateStore(root: Files.absolute(root)) }
        return StateStore(root: try StateStore.defaultRoot(rootless: isRootless))
    }
}

/// The global options of this invocation, set once by the executable before parsing.
nonisolated(unsafe) public var globalOptions = GlobalOptions()

/// Runs a command body: errors become a log line (JSON with --log-format json), a line on
/// stderr, and exit status 1.
public func runReportingErrors(_ body: () throws -> Int32) -> Never {
    let code: Int32
    do {
        code = try body()
    } catch {
        let message = "\(error)"
        globalOptions.logger.error(message)
        try? FileDescriptor.write(2, "ocirun: " + message + "\n")
        exit(1)
    }
    exit(code)
}

/// A command-line error (unknown flag, missing argument): the message on stderr and in the
/// log, exit status 1.
public func reportUsageError(_ message: String) -> Never {
    // The log gets the first line ("Error: Unknown option '--bogus'"), which engines show.
    globalOptions.logger.error(String(message.prefix { $0 != "\n" }))
    try? FileDescriptor.write(2, message.hasSuffix("\n") ? message : message + "\n")
    exit(1)
}
