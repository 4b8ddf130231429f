#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem
import OCIRuntime

/// The commands engines call on every container (create, start, state, kill, delete, run, exec,
/// pause, resume) and `list`, parsed by a small table instead of ArgumentParser.
///
/// Why: ArgumentParser builds its command tree through reflection and protocol-conformance
/// lookups, which in a static binary scan every conformance record of the program; that was
/// the largest single cost of a `run` (docs/performance.md). The table below accepts exactly the
/// spellings the ArgumentParser definitions in Lifecycle.swift and Exec.swift accept. Anything
/// else (`--help`, an unknown flag, a bad number, bundled short flags) returns nil, and
/// ArgumentParser parses the same argv and owns the message: help and errors stay one source.
public enum FastPath {
    /// A hot command as the fast path read it.
    enum Command: Equatable {
        case create(id: String, CreateValues)
        case run(id: String, CreateValues, detach: Bool, keep: Bool)
        case start(id: String)
        case state(id: String)
        case pause(id: String)
        case resume(id: String)
        case kill(id: String, signal: String, all: Bool)
        case delete(id: String, force: Bool)
        case exec(id: String, ExecValues)
        case list(json: Bool, quiet: Bool)
    }

    /// The body to run for `args` (the arguments after the global flags), or nil.
    public static func command(_ args: [String]) -> (() -> Never)? {
        guard let c = parse(args) else { return nil }
        switch c {
        case .create(let id, let flags): return { Verbs.create(id: id, flags: flags) }
        case .run(let id, let flags, let detach, let keep): return { Verbs.run(id: id, flags: flags, detach: detach, keep: keep) }
        case .start(let id): return { Verbs.start(id: id) }
        case .state(let id): return { Verbs.state(id: id) }
        case .pause(let id): return { Verbs.setPaused(id: id, paused: true) }
        case .resume(let id): return { Verbs.setPaused(id: id, paused: false) }
        case .kill(let id, let signal, let all): return { Verbs.kill(id: id, signal: signal, all: all) }
        case .delete(let id, let force): return { Verbs.delete(id: id, force: force) }
        case .exec(let id, let values): return { Verbs.exec(id: id, values: values) }
        case .list(let json, let quiet): return { Verbs.list(json: json, quiet: quiet) }
        }
    }

    /// `args` read by the flag table, or nil when ArgumentParser must read them.
    static func parse(_ args: [String]) -> Command? {
        guard let verb = args.first else { return nil }
        let rest = Array(args.dropFirst())
        switch verb {
        case "create", "run":
            var spec = FlagTable.create
            if verb == "run" { spec.merge(FlagTable.runOnly) }
            guard let p = spec.parse(rest, positionals: 1...1), let flags = CreateValues(p) else { return nil }
            let id = p.positionals[0]
            return verb == "create" ? .create(id: id, flags) : .run(id: id, flags, detach: p.has("detach"), keep: p.has("keep"))
        case "start", "state", "pause", "resume":
            guard let p = FlagTable().parse(rest, positionals: 1...1) else { return nil }
            let id = p.positionals[0]
            switch verb {
            case "start": return .start(id: id)
            case "state": return .state(id: id)
            case "pause": return .pause(id: id)
            default: return .resume(id: id)
            }
        case "kill":
            guard let p = FlagTable.kill.parse(rest, positionals: 1...2) else { return nil }
            return .kill(id: p.positionals[0], signal: p.positionals.count > 1 ? p.positionals[1] : "SIGTERM",
                         all: p.has("all"))
        case "delete":
            guard let p = FlagTable.delete.parse(rest, positionals: 1...1) else { return nil }
            return .delete(id: p.positionals[0], force: p.has("force"))
        case "exec":
            guard let p = FlagTable.exec.parse(rest, positionals: 1...1, passthroughAfter: 1),
                  let values = ExecValues(p) else { return nil }
            return .exec(id: p.positionals[0], values)
        case "list":
            // A bad --format value goes to ArgumentParser, which owns the message.
            guard let p = FlagTable.list.parse(rest, positionals: 0...0) else { return nil }
            let format = p.last("format") ?? "table"
            guard format == "table" || format == "json" else { return nil }
            return .list(json: format == "json", quiet: p.has("quiet"))
        default:
            return nil
        }
    }
}

/// Flags of one command: every spelling with the flag's key, as flat [spelling, key, ...] lists.
/// Arrays of strings searched in order, not dictionaries or arrays of tuples: a handful of names,
/// and no hashing or generic metadata to instantiate on every start.
struct FlagTable {
    var valued: [String] = []
    var boolean: [String] = []

    init(valued: [String] = [], boolean: [String] = []) {
        self.valued = valued
        self.boolean = boolean
    }

    mutating func merge(_ other: FlagTable) {
        FlagTable.merge(&valued, other.valued)
        FlagTable.merge(&boolean, other.boolean)
    }

    static func merge(_ into: inout [String], _ other: [String]) {
        var i = 0
        while i + 1 < other.count {
            if key(into, other[i]) == nil { into += [other[i], other[i + 1]] }
            i += 2
        }
    }

    /// The key of `spelling` in a flat list.
    static func key(_ list: [String], _ spelling: String) -> String? {
        var i = 0
        while i + 1 < list.count {
            if list[i] == spelling { return list[i + 1] }
            i += 2
        }
        return nil
    }

    static let create = FlagTable(
        valued: ["-b", "bundle", "--bundle", "bundle", "--pid-file", "pid-file",
                 "--console-socket", "console-socket", "--preserve-fds", "preserve-fds"],
        boolean: ["--no-pivot", "no-pivot", "--no-new-keyring", "no-new-keyring"])
    static let runOnly = FlagTable(boolean: ["-d", "detach", "--detach", "detach", "--keep", "keep"])
    static let kill = FlagTable(boolean: ["-a", "all", "--all", "all"])
    static let delete = FlagTable(boolean: ["-f", "force", "--force", "force"])
    static let list = FlagTable(valued: ["-f", "format", "--format", "format"],
                                boolean: ["-q", "quiet", "--quiet", "quiet"])
    static let exec = FlagTable(
        valued: ["-p", "process", "--process", "process", "--pid-file", "pid-file",
                 "--console-socket", "console-socket", "--cwd", "cwd", "-e", "env", "--env", "env",
                 "-u", "user", "--user", "user", "-c", "cap", "--cap", "cap",
                 "--preserve-fds", "preserve-fds", "-g", "additional-gids", "--additional-gids", "additional-gids",
                 "--process-label", "process-label", "--apparmor", "apparmor"],
        boolean: ["-d", "detach", "--detach", "detach", "-t", "tty", "--tty", "tty",
                  "--no-new-privs", "no-new-privs"])

    /// Splits `args` into flags and positionals. With `passthroughAfter: n`, everything after
    /// the n-th positional is the passthrough tail (exec's command), taken as is.
    func parse(_ args: [String], positionals range: ClosedRange<Int>, passthroughAfter: Int? = nil) -> ParsedFlags? {
        var out = ParsedFlags()
        var i = 0
        while i < args.count {
            let a = args[i]
            // exec: everything after the id is the command, flags included (runc's and
            // ArgumentParser's captureForPassthrough rule; a leading `--` is kept, exec drops it).
            if let n = passthroughAfter, out.positionals.count == n {
                out.passthrough = Array(args[i...])
                break
            }
            if a == "--" {
                out.positionals += args[(i + 1)...]
                break
            }
            if a.hasASCIIPrefix("-"), a != "-" {
                var name = a
                var inline: String?
                if a.hasASCIIPrefix("--"), let eq = a.firstIndex(of: "=") {
                    name = String(a[..<eq])
                    inline = String(a[a.index(after: eq)...])
                }
                if let key = FlagTable.key(valued, name) {
                    let value: String
                    if let inline {
                        value = inline
                    } else {
                        guard i + 1 < args.count else { return nil }
                        i += 1
                        value = args[i]
                    }
                    out.keys.append(key)
                    out.values.append(value)
                } else if let key = FlagTable.key(boolean, name), inline == nil {
                    if !out.flags.contains(key) { out.flags.append(key) }
                } else {
                    return nil   // --help, -h, unknown or bundled flags: ArgumentParser decides.
                }
            } else {
                out.positionals.append(a)
            }
            i += 1
        }
        guard range.contains(out.positionals.count) else { return nil }
        return out
    }
}

struct ParsedFlags {
    /// Valued flags in command-line order: keys[i] was given values[i].
    var keys: [String] = []
    var values: [String] = []
    var flags: [String] = []
    var positionals: [String] = []
    var passthrough: [String] = []

    func has(_ key: String) -> Bool { flags.contains(key) }
    /// The last value given (ArgumentParser keeps the last of a repeated single-value option).
    func last(_ key: String) -> String? {
        var i = keys.count - 1
        while i >= 0 {
            if keys[i] == key { return values[i] }
            i -= 1
        }
        return nil
    }
    func all(_ key: String) -> [String] {
        var out: [String] = []
        for i in 0..<keys.count where keys[i] == key { out.append(values[i]) }
        return out
    }
}

extension CreateValues {
    init?(_ p: ParsedFlags) {
        self.init()
        if let b = p.last("bundle") { bundle = b }
        pidFile = p.last("pid-file")
        consoleSocket = p.last("console-socket")
        if let s = p.last("preserve-fds") {
            guard let n = Int(s) else { return nil }
            preserveFds = n
        }
        noPivot = p.has("no-pivot")
        noNewKeyring = p.has("no-new-keyring")
    }
}

extension ExecValues {
    init?(_ p: ParsedFlags) {
        self.init()
        process = p.last("process")
        detach = p.has("detach")
        pidFile = p.last("pid-file")
        consoleSocket = p.last("console-socket")
        tty = p.has("tty")
        cwd = p.last("cwd")
        env = p.all("env")
        user = p.last("user")
        cap = p.all("cap")
        noNewPrivs = p.has("no-new-privs")
        if let s = p.last("preserve-fds") {
            guard let n = Int(s) else { return nil }
            preserveFds = n
        }
        for s in p.all("additional-gids") {
            guard let g = UInt32(s) else { return nil }
            additionalGids.append(g)
        }
        processLabel = p.last("process-label")
        apparmor = p.last("apparmor")
        command = p.passthrough
    }
}
