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

    public static func run(id: String, flags: CreateValues, detach: Bool, keep: Bool) -> Never {
        runReportingErrors {
            try Container.run(id: id, options: flags.options(), detach: detach, keep: keep, store: try globalOptions.store())
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
    /// One container in memory at a time: a state root may hold thousands. The table reads
    /// only the fields it shows (`StateListReader`) and keeps its cells in one buffer.
    public static func list(json: Bool, quiet: Bool) -> Never {
        runReportingErrors {
            let store = try globalOptions.store()
            var out = OutputBuffer()
            // No state root yet: an empty list, as runc prints.
            let ids = store.ids()
            if !json {
                var table = Table(["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], expectedRows: quiet ? 0 : ids.count)
                let reader = ids.isEmpty ? nil : try StateListReader(store: store)
                for id in ids {
                    guard let reader else { break }
                    do {
                        guard try reader.read(id) else { continue }
                    } catch {
                        skipped(error)
                        continue
                    }
                    if quiet {
                        try out.append(id + "\n")
                        continue
                    }
                    var id = id
                    id.withUTF8 { table.appendCell($0) }
                    if reader.status == .stopped {
                        table.appendCell(StaticString("0"))
                    } else {
                        var pid = decimal(Int64(reader.pid))
                        pid.withUTF8 { table.appendCell($0) }
                    }
                    var status = reader.status.rawValue
                    status.withUTF8 { table.appendCell($0) }
                    reader.text.withUnsafeBufferPointer { text in
                        table.appendCell(UnsafeBufferPointer(rebasing: text[reader.bundle]))
                        table.appendCell(UnsafeBufferPointer(rebasing: text[reader.created]))
                        table.appendCell(UnsafeBufferPointer(rebasing: text[reader.owner]))
                    }
                    table.endRow()
                }
                if !quiet { try table.write(to: &out) }
                try out.flush()
                return 0
            }
            try out.append("[")
            var first = true
            for id in ids {
                let c: Container
                do { c = try Container.load(id, store: store) } catch let e as RuntimeError where e.code == .notFound {
                    continue   // being created or deleted
                } catch {
                    skipped(error)
                    continue
                }
                try out.append(first ? c.stateDocument().serialized() : "," + c.stateDocument().serialized())
                first = false
            }
            try out.append("]\n")
            try out.flush()
            return 0
        }
    }

    /// A container `list` leaves out, its state damaged: named on stderr, as runc does.
    private static func skipped(_ error: any Error) {
        try? FileDescriptor.write(2, "ocirun: list: \(error)\n")
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
    /// Every cell, one after the other: its length plus one as a LEB128 number, then its bytes;
    /// a lone 0 for a cell equal to the one above it (a `list`'s bundle and owner repeat down
    /// the rows). One buffer instead of a string per cell: `list` keeps a thousand rows until
    /// the widths are known.
    private var cells: [UInt8] = []
    private var widths: [Int]
    /// Where each column's last cell starts and ends in `cells`, to tell a repeat (-1: none
    /// yet). Two [Int], not [Range<Int>?]: that array's type would be made at run time.
    private var lastStart: [Int]
    private var lastEnd: [Int]
    /// The column the next cell goes to.
    private var column = 0

    init(_ header: [String], expectedRows: Int = 0) {
        widths = [Int](repeating: 0, count: header.count)
        lastStart = [Int](repeating: -1, count: header.count)
        lastEnd = lastStart
        cells.reserveCapacity((expectedRows + 1) * 48)
        append(header)
    }

    mutating func append(_ row: [String]) {
        for cell in row {
            var cell = cell
            cell.withUTF8 { appendCell($0) }
        }
        endRow()
    }

    mutating func appendCell(_ text: StaticString) {
        appendCell(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Adds a cell to the current row; a row's cells past the header's count are dropped.
    mutating func appendCell(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard column < widths.count else { return }
        defer { column += 1 }
        // The first column (a list's id) is never repeated: not worth the compare.
        let previous = lastStart[column]
        if column > 0, previous >= 0, lastEnd[column] - previous == bytes.count,
           bytes.isEmpty || cells.withUnsafeBufferPointer({ memcmp($0.baseAddress! + previous, bytes.baseAddress!, bytes.count) == 0 }) {
            cells.append(0)
            return
        }
        var n = bytes.count + 1
        while n >= 0x80 {
            cells.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        cells.append(UInt8(n))
        let start = cells.count
        cells.append(contentsOf: bytes)
        lastStart[column] = start
        lastEnd[column] = cells.count
        widths[column] = max(widths[column], Table.displayWidth(bytes))
    }

    /// Ends the current row; a short row is padded with empty cells.
    mutating func endRow() {
        while column < widths.count { appendCell(UnsafeBufferPointer(start: nil, count: 0)) }
        column = 0
    }

    /// The characters of UTF-8 text: its bytes that do not continue a character.
    static func displayWidth(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var n = 0
        for b in bytes where b & 0xc0 != 0x80 { n += 1 }
        return n
    }

    /// Each row, its cells padded to their column's width plus three spaces (not the last).
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        let n = widths.count
        guard n > 0 else { return }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        var shownStart = [Int](repeating: 0, count: n), shownEnd = shownStart
        try cells.withUnsafeBufferPointer { cells in
            var column = 0
            var i = 0
            while i < cells.count {
                var length = 0, shift = 0
                while true {
                    let b = cells[i]
                    i += 1
                    length |= Int(b & 0x7f) << shift
                    shift += 7
                    if b < 0x80 { break }
                }
                if length > 0 {
                    shownStart[column] = i
                    i += length - 1
                    shownEnd[column] = i
                }
                let cell = UnsafeBufferPointer(rebasing: cells[shownStart[column]..<shownEnd[column]])
                line.append(contentsOf: cell)
                if column < n - 1 {
                    line.append(contentsOf: repeatElement(UInt8(ascii: " "), count: widths[column] - Table.displayWidth(cell) + 3))
                    column += 1
                } else {
                    line.append(UInt8(ascii: "\n"))
                    try line.withUnsafeBufferPointer { try body($0) }
                    line.removeAll(keepingCapacity: true)
                    column = 0
                }
            }
        }
    }

    func text() -> String {
        var out: [UInt8] = []
        forEachLine { out.append(contentsOf: $0) }
        return String(decoding: out, as: UTF8.self)
    }

    func write(to out: inout OutputBuffer) throws {
        try forEachLine { try out.append(bytes: $0) }
    }
}

/// Standard output written in blocks of about 16 KB, not one string of everything: one buffer
/// of fixed capacity, so that a long listing does not grow and copy it.
struct OutputBuffer {
    private var bytes: [UInt8] = []
    private static let block = 16 * 1024

    init() {
        bytes.reserveCapacity(OutputBuffer.block)
    }

    mutating func append(_ s: String) throws {
        var s = s
        try s.withUTF8 { try append(bytes: $0) }
    }

    mutating func append(bytes more: UnsafeBufferPointer<UInt8>) throws {
        if bytes.count + more.count > OutputBuffer.block { try flush() }
        if more.count > OutputBuffer.block { return try FileDescriptor.write(1, bytes: more) }
        bytes.append(contentsOf: more)
    }

    mutating func flush() throws {
        guard !bytes.isEmpty else { return }
        try bytes.withUnsafeBufferPointer { try FileDescriptor.write(1, bytes: $0) }
        bytes.removeAll(keepingCapacity: true)
    }
}
