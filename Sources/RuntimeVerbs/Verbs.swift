#if canImport(Glibc)
import Glibc
#endif
import JSON
import LinuxSystem
import OCIRuntime
import OCISpec

/// The values of `create` and `run`'s flags, whichever parser read them.
public struct CreateValues: Equatable {
    public var bundle = "."
    public var pidFile: String?
    public var consoleSocket: String?
    public var preserveFds = 0
    public var noPivot = false
    public var noNewKeyring = false

    public init(bundle: String = ".", pidFile: String? = nil, consoleSocket: String? = nil, preserveFds: Int = 0,
                noPivot: Bool = false, noNewKeyring: Bool = false) {
        self.bundle = bundle
        self.pidFile = pidFile
        self.consoleSocket = consoleSocket
        self.preserveFds = preserveFds
        self.noPivot = noPivot
        self.noNewKeyring = noNewKeyring
    }

    func options() -> CreateOptions {
        registerSIFRootfsProvider()   // bundles naming a SIF image (org.ocirun.sif.image)
        var o = CreateOptions(bundle: bundle, logger: globalOptions.logger)
        o.pidFile = pidFile
        o.consoleSocket = consoleSocket
        o.preserveFds = max(0, preserveFds)
        o.noPivot = noPivot
        o.noNewKeyring = noNewKeyring
        o.systemdCgroup = globalOptions.systemdCgroup
        o.rootless = globalOptions.isRootless
        return o
    }
}

/// The bodies of the hot commands, shared by ArgumentParser's commands and FastPath.
public enum Verbs {
    public static func create(id: String, flags: CreateValues) -> Never {
        runReportingErrors {
            _ = try Container.create(id: id, options: flags.options(), store: try globalOptions.store())
            return 0
        }
    }

    public static func run(id: String, flags: CreateValues, detach: Bool) -> Never {
        runReportingErrors {
            try Container.run(id: id, options: flags.options(), detach: detach, store: try globalOptions.store())
        }
    }

    public static func start(id: String) -> Never {
        runReportingErrors {
            try Container.start(id: id, store: try globalOptions.store(), logger: globalOptions.logger)
            return 0
        }
    }

    public static func state(id: String) -> Never {
        runReportingErrors {
            let c = try Container.load(id, store: try globalOptions.store())
            try FileDescriptor.write(1, c.stateDocument().serialized(pretty: true) + "\n")
            return 0
        }
    }

    public static func kill(id: String, signal: String, all: Bool) -> Never {
        runReportingErrors {
            let sig = try Signals.parse(signal)
            try Container.kill(id: id, signal: sig, all: all, store: try globalOptions.store())
            return 0
        }
    }

    public static func delete(id: String, force: Bool) -> Never {
        runReportingErrors {
            try Container.delete(id: id, force: force, store: try globalOptions.store(), logger: globalOptions.logger)
            return 0
        }
    }

    /// `list`: the containers of the state root, as a table, as JSON or (`quiet`) their ids.
    /// One container in memory at a time, and the table's cells kept in one buffer: a state root
    /// may hold thousands.
    public static func list(json: Bool, quiet: Bool) -> Never {
        runReportingErrors {
            let store = try globalOptions.store()
            var out = OutputBuffer()
            let ids = store.ids()
            var table = Table(["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], expectedRows: quiet || json ? 0 : ids.count)
            if json { try out.append("[") }
            var first = true
            for id in ids {
                guard let c = try? Container.load(id, store: store) else { continue }
                if quiet {
                    try out.append(c.id + "\n")
                } else if json {
                    try out.append(first ? c.stateDocument().serialized() : "," + c.stateDocument().serialized())
                } else {
                    table.append([c.id, c.status == .stopped ? "0" : String(c.state.pid), c.status.rawValue,
                                  c.state.bundle, c.state.created, c.state.owner])
                }
                first = false
            }
            if json { try out.append("]\n") }
            if !quiet && !json { try table.write(to: &out) }
            try out.flush()
            return 0
        }
    }

    /// `rows` as left-aligned columns three spaces apart (runc's list and ps layout).
    public static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var t = Table(first)
        for r in rows.dropFirst() { t.append(r) }
        return t.text()
    }

    public static func setPaused(id: String, paused: Bool) -> Never {
        runReportingErrors {
            try Container.setPaused(id: id, paused: paused, store: try globalOptions.store())
            return 0
        }
    }
}

/// The values of `exec`'s flags, whichever parser read them.
public struct ExecValues: Equatable {
    public var process: String?
    public var detach = false
    public var pidFile: String?
    public var consoleSocket: String?
    public var tty = false
    public var cwd: String?
    public var env: [String] = []
    public var user: String?
    public var cap: [String] = []
    public var noNewPrivs = false
    public var preserveFds = 0
    public var additionalGids: [UInt32] = []
    public var processLabel: String?
    public var apparmor: String?
    public var command: [String] = []

    public init(process: String? = nil, detach: Bool = false, pidFile: String? = nil, consoleSocket: String? = nil,
                tty: Bool = false, cwd: String? = nil, env: [String] = [], user: String? = nil, cap: [String] = [],
                noNewPrivs: Bool = false, preserveFds: Int = 0, additionalGids: [UInt32] = [],
                processLabel: String? = nil, apparmor: String? = nil, command: [String] = []) {
        self.process = process
        self.detach = detach
        self.pidFile = pidFile
        self.consoleSocket = consoleSocket
        self.tty = tty
        self.cwd = cwd
        self.env = env
        self.user = user
        self.cap = cap
        self.noNewPrivs = noNewPrivs
        self.preserveFds = preserveFds
        self.additionalGids = additionalGids
        self.processLabel = processLabel
        self.apparmor = apparmor
        self.command = command
    }
}

extension Verbs {
    public static func exec(id: String, values v: ExecValues) -> Never {
        runReportingErrors {
            let store = try globalOptions.store()
            var c = try Container.load(id, store: store)
            c.keepSavedSpec()
            let p: OCISpec.Process
            if let path = v.process {
                let bytes = try withContext("read process file \(path)") {
                    path == "-" ? try FileDescriptor(dup(0)).readAll() : try Files.read(Files.absolute(path))
                }
                p = try withContext("parse process file \(path)") { try JSONDecoding.decodeMapped(OCISpec.Process.self, from: bytes) }
            } else {
                let args = v.command.first == "--" ? Array(v.command.dropFirst()) : v.command
                p = try c.execProcess(args: args, env: v.env, cwd: v.cwd, user: v.user, tty: v.tty, addCaps: v.cap,
                                      noNewPrivs: v.noNewPrivs, additionalGids: v.additionalGids)
            }
            var o = ExecOptions(process: p, logger: globalOptions.logger)
            o.detach = v.detach
            o.pidFile = v.pidFile
            o.consoleSocket = v.consoleSocket
            o.preserveFds = max(0, v.preserveFds)
            return try Container.exec(c, options: o)
        }
    }
}


/// The cells of a table, and each column's width so far.
struct Table {
    /// Every cell's bytes, one after the other, each followed by a NUL: one buffer instead of a
    /// string per row (`list` keeps a thousand rows until the widths are known).
    private var cells: [UInt8] = []
    private var widths: [Int]

    init(_ header: [String], expectedRows: Int = 0) {
        widths = [Int](repeating: 0, count: header.count)
        cells.reserveCapacity((expectedRows + 1) * 96)
        append(header)
    }

    mutating func append(_ cells: [String]) {
        for (i, cell) in cells.enumerated() where i < widths.count {
            self.cells.append(contentsOf: cell.utf8)
            self.cells.append(0)
            widths[i] = max(widths[i], cell.unicodeScalars.count)
        }
        // A short row is padded with empty cells.
        for _ in cells.count..<max(cells.count, widths.count) { self.cells.append(0) }
    }

    /// Each row, its cells padded to their column's width plus three spaces (not the last).
    func forEachLine(_ body: (String) throws -> Void) rethrows {
        let n = widths.count
        guard n > 0 else { return }
        var line: [UInt8] = []
        var column = 0
        var start = 0
        for (i, b) in cells.enumerated() where b == 0 {
            let cell = cells[start..<i]
            line.append(contentsOf: cell)
            if column < n - 1 {
                let shown = String(decoding: cell, as: UTF8.self).unicodeScalars.count
                line.append(contentsOf: repeatElement(UInt8(ascii: " "), count: widths[column] - shown + 3))
                column += 1
            } else {
                line.append(UInt8(ascii: "\n"))
                try body(String(decoding: line, as: UTF8.self))
                line.removeAll(keepingCapacity: true)
                column = 0
            }
            start = i + 1
        }
    }

    func text() -> String {
        var out = ""
        forEachLine { out += $0 }
        return out
    }

    func write(to out: inout OutputBuffer) throws {
        try forEachLine { try out.append($0) }
    }
}

/// Standard output written in blocks of about 16 KB, not one string of everything: one buffer
/// of fixed capacity, so that a long listing does not grow and copy it.
struct OutputBuffer {
    private var text: String
    private static let block = 16 * 1024

    init() {
        text = ""
        text.reserveCapacity(OutputBuffer.block + 1024)
    }

    mutating func append(_ s: String) throws {
        if text.utf8.count + s.utf8.count > OutputBuffer.block { try flush() }
        text += s
    }

    mutating func flush() throws {
        guard !text.isEmpty else { return }
        try FileDescriptor.write(1, text)
        text.removeAll(keepingCapacity: true)
    }
}
