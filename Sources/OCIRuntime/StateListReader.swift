#if canImport(Glibc)
import Glibc
#endif
import JSON
import LinuxSystem

/// `list`'s reading of the state root: each container's status and the fields its table shows.
/// A state root may hold thousands of containers, so state.json is read with yajl's event parser
/// (`JSONMembers`) into buffers kept from one container to the next: no tree, no
/// `ContainerState`, no strings. A container whose state `Container.load` would refuse (missing
/// or mistyped fields, bad JSON) is refused here too.
public final class StateListReader {
    private let rootFd: Int32
    /// The state.json being read; grown, never shrunk.
    private var file: [UInt8] = []
    /// The string fields of the container read last, one after the other.
    public private(set) var text: [UInt8] = []
    public private(set) var bundle = 0..<0
    public private(set) var created = 0..<0
    public private(set) var owner = 0..<0
    /// The init's pid as recorded (0 for a stopped container, as `state` shows it).
    public private(set) var pid: Int32 = 0
    public private(set) var status = ContainerStatus.stopped

    public init(store: StateStore) throws {
        rootFd = open(store.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if rootFd < 0 { throw SystemError("open", store.root) }
        text.reserveCapacity(512)
    }

    deinit { close(rootFd) }

    /// Reads container `id`. False when it has no state.json (being created or deleted).
    /// - Throws: `RuntimeError` naming the container when its state is damaged.
    public func read(_ id: String) throws -> Bool {
        guard let length = try readState(id) else { return false }
        text.removeAll(keepingCapacity: true)
        var statePid: Int32 = 0, startTime: UInt64 = 0, creating = false
        var cgroup: Range<Int>?
        // The fields ContainerState requires, seen (a wrong type makes `valid` false).
        var seen: UInt8 = 0
        let required: UInt8 = 0xff
        var valid = true
        do {
            try file.withUnsafeBufferPointer { all in
                try JSONMembers.scan(UnsafeBufferPointer(rebasing: all[0..<length])) { key, value in
                    // A key that is not ContainerState's is ignored, and a null leaves a field
                    // unset, as with Container.load.
                    if case .null = value { return }
                    guard let f = field(key) else { return }
                    seen |= f.requiredBit
                    switch (f.kind, value) {
                    case (.string, .string(let s)):
                        if matches(key, "bundle") { bundle = keep(s) }
                        else if matches(key, "created") { created = keep(s) }
                        else if matches(key, "owner") { owner = keep(s) }
                        else if matches(key, "phase") { creating = matches(s, "creating") }
                    case (.integer, .number(let n)):
                        if matches(key, "pid") {
                            // Int32, as ContainerState's: a negative one is a stopped container.
                            let negative = n.first == UInt8(ascii: "-")
                            guard let v = decimal(negative ? UnsafeBufferPointer(rebasing: n.dropFirst()) : n),
                                  v <= (negative ? UInt64(Int32.max) + 1 : UInt64(Int32.max)) else { valid = false; return }
                            statePid = negative ? Int32(truncatingIfNeeded: 0 &- Int64(v)) : Int32(v)
                        } else {
                            guard let v = decimal(n) else { valid = false; return }
                            startTime = v
                        }
                    case (.nested, .nested(let r)):
                        if matches(key, "cgroup") { cgroup = r }
                    case (.bool, .bool):
                        break
                    default:
                        valid = false
                    }
                }
            }
        } catch {
            throw RuntimeError(.failed, "read state of container \"\(id)\": \(error)")
        }
        guard valid, seen == required else {
            throw RuntimeError(.failed, "read state of container \"\(id)\": a field is missing or of the wrong type")
        }
        pid = statePid
        status = Container.status(
            pid: statePid, startTime: startTime, creating: creating,
            hasFifo: { faccessat(rootFd, id + "/exec.fifo", F_OK, 0) == 0 },
            cgroup: { cgroup.flatMap { r in try? JSONDecoding.decodeMapped(ContainerCgroup.self, from: Array(file[r])) } })
        return true
    }

    /// state.json's bytes into `file`; their count, or nil when there is none.
    private func readState(_ id: String) throws -> Int? {
        let path = id + "/state.json"
        let fd = openat(rootFd, path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw RuntimeError(.failed, "read state of container \"\(id)\"", cause: SystemError("open", path))
        }
        defer { close(fd) }
        var length = 0
        while true {
            if length == file.count { file.append(contentsOf: repeatElement(0, count: max(4096, file.count))) }
            let n = file.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + length, $0.count - length) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RuntimeError(.failed, "read state of container \"\(id)\"", cause: SystemError("read", path))
            }
            if n == 0 { return length }
            length += n
        }
    }

    private func keep(_ s: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        let start = text.count
        text.append(contentsOf: s)
        return start..<text.count
    }
}

/// The JSON kind of each of ContainerState's fields.
private enum FieldKind { case string, integer, nested, bool }

/// `key` as one of ContainerState's fields: the kind its value must have, and for a required
/// field its bit in `read`'s `seen`; nil for a key that is not a field.
private func field(_ key: UnsafeBufferPointer<UInt8>) -> (kind: FieldKind, requiredBit: UInt8)? {
    if matches(key, "id") { return (.string, 1) }
    if matches(key, "rootfs") { return (.string, 2) }
    if matches(key, "bundle") { return (.string, 4) }
    if matches(key, "created") { return (.string, 8) }
    if matches(key, "owner") { return (.string, 16) }
    if matches(key, "phase") { return (.string, 32) }
    if matches(key, "pid") { return (.integer, 64) }
    if matches(key, "startTime") { return (.integer, 128) }
    if matches(key, "annotations") || matches(key, "cgroup") || matches(key, "hostMounts") || matches(key, "loopDevices") {
        return (.nested, 0)
    }
    if matches(key, "sharedPidNamespace") { return (.bool, 0) }
    return nil
}

private func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
    guard bytes.count == name.utf8CodeUnitCount else { return false }
    return memcmp(bytes.baseAddress!, name.utf8Start, bytes.count) == 0
}

/// A non-negative integer written in decimal; nil for anything else (`-1`, `1.5`, `1e3`) or an overflow.
private func decimal(_ text: UnsafeBufferPointer<UInt8>) -> UInt64? {
    guard !text.isEmpty else { return nil }
    var v: UInt64 = 0
    for c in text {
        let d = c &- UInt8(ascii: "0")
        guard d < 10 else { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(d))
        guard !o1, !o2 else { return nil }
        v = a
    }
    return v
}
