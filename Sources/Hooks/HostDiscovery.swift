#if canImport(Glibc)
import Glibc
#endif
import CDI
import LinuxSystem

/// What the host offers, found under an injectable root (`/` in production, a fake tree in tests).
public struct HostDiscovery {
    /// The host's root directory as seen by this process.
    public var hostRoot: String
    /// The machine (`uname -m`) whose libraries are picked from the ld cache.
    public var machine: String
    var cache: LdCache?

    /// Discovery rooted at `hostRoot`.
    public init(hostRoot: String = "/", machine: String? = nil) {
        self.hostRoot = hostRoot == "/" ? "" : Files.clean(Files.absolute(hostRoot))
        self.machine = machine ?? HostDiscovery.unameMachine()
    }

    /// `uname -m`.
    public static func unameMachine() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.machine) { b in String(decoding: b.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    /// `path` (a host path) as seen by this process.
    public func local(_ path: String) -> String { hostRoot + (path.hasPrefix("/") ? path : "/" + path) }

    /// The host's ld.so.cache, read once.
    public mutating func ldCache() throws -> LdCache {
        if let c = cache { return c }
        let path = local("/etc/ld.so.cache")
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch { throw HookError("read host ld cache \(path): \(error)") }
        do { cache = try LdCache.parse(bytes) } catch { throw HookError("\(path): \(error)") }
        return cache!
    }

    /// Host libraries whose soname is `name` or starts with `name.` (`libcuda.so` matches
    /// `libcuda.so.1`), of the host's architecture, with their symlink chains resolved.
    public mutating func libraries(named name: String) throws -> [HostLibrary] {
        let cache = try ldCache()
        var out: [HostLibrary] = []
        for e in cache.libraries(machine: machine) where e.soname == name || e.soname.hasPrefix(name + ".") {
            guard let real = try? resolveInRoot(root: hostRoot, path: e.path) else { continue }
            guard Files.exists(real.local) else { continue }
            if out.contains(where: { $0.realPath == real.path }) { continue }
            out.append(HostLibrary(soname: e.soname, linkPath: e.path, realPath: real.path, local: real.local))
        }
        return out
    }

    /// The directories `binary(named:)` searches after the caller's own.
    public static let binaryDirectories = ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"]

    /// A host executable: the first regular, executable file `name` in `first`, then in
    /// `binaryDirectories`, its symlinks resolved inside the host root (so the bind is of the
    /// real file). With `elfOnly`, a file that is not ELF is passed over: a wrapper script such as
    /// `#!/bin/sh … exec /usr/local/nvidia/bin/nvidia-smi "$@"` runs the real tool by a host
    /// path that the container does not have.
    public func binary(named name: String, searching first: [String] = [], elfOnly: Bool = false) -> RootedPath? {
        var seen: Set<String> = []
        for dir in first + HostDiscovery.binaryDirectories {
            guard let r = try? resolveInRoot(root: hostRoot, path: dir + "/" + name), seen.insert(r.path).inserted else { continue }
            var st = stat()
            guard stat(r.local, &st) == 0, st.st_mode & S_IFMT == S_IFREG, access(r.local, X_OK) == 0 else { continue }
            if elfOnly && !HostDiscovery.isELF(r.local) { continue }
            return r
        }
        return nil
    }

    /// Whether the file at `path` (as this process sees it) starts with the ELF magic.
    public static func isELF(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        return read(fd, &magic, 4) == 4 && magic == [0x7f, 0x45, 0x4c, 0x46]
    }

    /// A device node of the host (`/dev/nvidia0`), nil when absent or not a device.
    public func device(_ path: String) -> HostDevice? {
        var st = stat()
        guard stat(local(path), &st) == 0 else { return nil }
        let fmt = st.st_mode & S_IFMT
        guard fmt == S_IFCHR || fmt == S_IFBLK else { return nil }
        return HostDevice(path: path, local: local(path), type: fmt == S_IFCHR ? "c" : "b",
                          major: Int64(DeviceNumber.major(UInt64(st.st_rdev))),
                          minor: Int64(DeviceNumber.minor(UInt64(st.st_rdev))), mode: UInt32(st.st_mode & 0o777))
    }

    /// Entries of a host directory matching `prefix` (sorted), as host paths.
    public func list(_ dir: String, prefix: String = "") -> [String] {
        ((try? Files.list(local(dir))) ?? []).filter { $0.hasPrefix(prefix) }.sorted().map { dir + "/" + $0 }
    }
}

/// A library found in the host's ld cache.
public struct HostLibrary: Sendable, Equatable {
    /// Its soname (the cache key).
    public var soname: String
    /// The path the cache names (often a symlink).
    public var linkPath: String
    /// The real file at the end of the symlink chain (a host path).
    public var realPath: String
    /// The real file as seen by this process.
    public var local: String

    /// The basename of the real file, e.g. `libcuda.so.525.60.13`.
    public var fileName: String { String(realPath.split(separator: "/").last ?? "") }
}

/// A device node found on the host.
public struct HostDevice: Sendable, Equatable {
    /// The host path (`/dev/nvidia0`), also its path in the container.
    public var path: String
    /// The path as seen by this process.
    public var local: String
    /// `c` or `b`.
    public var type: String
    /// The major number.
    public var major: Int64
    /// The minor number.
    public var minor: Int64
    /// Its permission bits.
    public var mode: UInt32
}

/// A path resolved inside a root: `path` as the root sees it, `local` as this process sees it.
public struct RootedPath: Sendable, Equatable {
    /// The path inside the root, all symlinks resolved.
    public var path: String
    /// `root + path`.
    public var local: String
}

/// Resolves `path` inside `root` as if `root` were `/`: symlinks (absolute ones too) never
/// leave the root, `..` stops at it. Missing components are kept as they are.
/// `root` is "" for the real root.
public func resolveInRoot(root: String, path: String, followLast: Bool = true) throws -> RootedPath {
    var pending = path.split(separator: "/").map(String.init).reversed() as [String]
    var resolved: [String] = []
    var hops = 0
    while let comp = pending.popLast() {
        if comp == "." || comp.isEmpty { continue }
        if comp == ".." { _ = resolved.popLast(); continue }
        let candidate = root + "/" + (resolved + [comp]).joined(separator: "/")
        let isLast = pending.isEmpty
        var st = stat()
        if (!isLast || followLast), lstat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFLNK {
            hops += 1
            guard hops <= 40 else { throw HookError("resolve \(path): too many levels of symbolic links") }
            var buf = [CChar](repeating: 0, count: 4097)
            let n = readlink(candidate, &buf, 4096)
            guard n >= 0 else { throw HookError("readlink \(candidate): \(String(cString: strerror(errno)))") }
            let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") { resolved = [] }
            pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
            continue
        }
        resolved.append(comp)
    }
    let p = "/" + resolved.joined(separator: "/")
    return RootedPath(path: p, local: root + (p == "/" && !root.isEmpty ? "" : p))
}
