#if canImport(Glibc)
import Glibc
#endif
import JSON
import LinuxSystem
import OCISpec

/// What ocirun keeps about a container in `ROOT/ID/state.json`. The init's pid is stored with its
/// start time (field 22 of /proc/PID/stat), so a reused pid is never taken for the container.
public struct ContainerState: Codable, Sendable {
    public var id: String
    public var pid: Int32
    public var startTime: UInt64
    public var bundle: String
    public var rootfs: String
    /// RFC 3339 creation time.
    public var created: String
    public var owner: String
    public var annotations: [String: String]?
    public var cgroup: ContainerCgroup?
    /// "creating" until the init reported ready, then "created" (start removes exec.fifo and
    /// does not rewrite the state; `Container.refreshStatus` tells created from running).
    public var phase: String
    /// Mounts made on the host for this container (a SIF image's rootfs), undone on delete.
    public var hostMounts: [String]?
    /// Loop devices made for this container.
    public var loopDevices: [String]?
    /// Whether the container was created with a new pid namespace (kill --all needs it).
    public var sharedPidNamespace: Bool?
}

/// The state directory: `ROOT/ID/{state.json, config.json, exec.fifo}`, with one lock per container.
public struct StateStore {
    public var root: String

    public init(root: String) { self.root = root }

    /// The default roots: `/run/ocirun`, or `$XDG_RUNTIME_DIR/ocirun` when rootless.
    public static func defaultRoot(rootless: Bool) throws -> String {
        if rootless {
            guard let xdg = getenv("XDG_RUNTIME_DIR"), xdg.pointee != 0 else {
                throw RuntimeError(.invalidArgument, "rootless: XDG_RUNTIME_DIR is not set; pass --root DIR")
            }
            return String(cString: xdg) + "/ocirun"
        }
        return "/run/ocirun"
    }

    /// runc's rule for ids: letters, digits, `_ + - .`, not `.` or `..`, at most 1024 bytes.
    public static func validate(id: String) throws {
        let ok = !id.isEmpty && id.utf8.count <= 1024 && id != "." && id != ".."
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
                    || c == UInt8(ascii: "_") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
            }
        guard ok else { throw RuntimeError(.invalidArgument, "invalid container id \"\(id)\": use letters, digits, '_', '+', '-' and '.'") }
    }

    public func directory(_ id: String) -> String { root + "/" + id }

    /// Creates `ROOT/ID` for a new container and locks it; fails if the container exists.
    public func createDirectory(_ id: String) throws -> FileDescriptor {
        try StateStore.validate(id: id)
        try withContext("create state root \(root)") { try Files.makeDirectories(root, mode: 0o711) }
        let dir = directory(id)
        if mkdir(dir, 0o711) != 0 {
            if errno == EEXIST { throw RuntimeError(.exists, "container \"\(id)\" already exists") }
            throw RuntimeError(.failed, "create state directory", cause: SystemError("mkdir", dir))
        }
        let fd = try FileDescriptor.open(dir, O_RDONLY | O_DIRECTORY)
        _ = flock(fd.rawValue, LOCK_EX)
        return fd
    }

    /// Opens and locks `ROOT/ID`; fails with `notFound` when there is no such container.
    public func lock(_ id: String) throws -> FileDescriptor {
        try StateStore.validate(id: id)
        let dir = directory(id)
        while true {
            let fd: FileDescriptor
            do { fd = try FileDescriptor.open(dir, O_RDONLY | O_DIRECTORY) } catch let e as SystemError where e.errno == ENOENT {
                throw RuntimeError(.notFound, "container \"\(id)\" does not exist")
            }
            while flock(fd.rawValue, LOCK_EX) != 0 && errno == EINTR {}
            // The directory may have been removed while we waited: check it is still the same one.
            var a = stat(), b = stat()
            if fstat(fd.rawValue, &a) == 0, stat(dir, &b) == 0, a.st_ino == b.st_ino, a.st_dev == b.st_dev {
                return fd
            }
            if !Files.exists(dir) { throw RuntimeError(.notFound, "container \"\(id)\" does not exist") }
        }
    }

    public func load(_ id: String) throws -> ContainerState {
        let path = directory(id) + "/state.json"
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch let e as SystemError where e.errno == ENOENT {
            throw RuntimeError(.notFound, "container \"\(id)\" does not exist")
        }
        return try withContext("read state of container \"\(id)\"") {
            try JSONDecoding.decodeMapped(ContainerState.self, from: bytes)
        }
    }

    public func save(_ state: ContainerState) throws {
        let bytes = JSONEncoding.encodeMapped(state)
        try withContext("write state of container \"\(state.id)\"") {
            try Files.writeAtomically(directory(state.id) + "/state.json", bytes)
        }
    }

    /// The ids in the root, sorted.
    public func ids() -> [String] {
        // One array, sorted in place (`list` of a thousand containers: no filtered and sorted
        // copies, no stat per entry).
        var names = (try? Files.listDirectories(root)) ?? []
        StateStore.sort(&names)
        return names
    }

    /// Heapsort, in place. Not the stdlib's `sort()`: its merge runs' array type is made at run
    /// time, through the runtime's demangler, on every `list`.
    static func sort(_ a: inout [String]) {
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while true {
                var child = 2 * root + 1
                if child >= end { return }
                if child + 1 < end && a[child] < a[child + 1] { child += 1 }
                guard a[root] < a[child] else { return }
                a.swapAt(root, child)
                root = child
            }
        }
        let n = a.count
        var start = n / 2
        while start > 0 {
            start -= 1
            siftDown(start, n)
        }
        var end = n
        while end > 1 {
            end -= 1
            a.swapAt(0, end)
            siftDown(0, end)
        }
    }

    public func remove(_ id: String) throws {
        try Files.removeTree(directory(id))
    }
}
