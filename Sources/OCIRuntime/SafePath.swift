#if canImport(Glibc)
import Glibc
#endif
import CLinux
import LinuxSystem

/// Paths inside a container's rootfs, resolved inside it: `..` and symlinks (absolute or relative)
/// never leave the rootfs, so a hostile image cannot make ocirun touch a host path.
/// Uses openat2(RESOLVE_IN_ROOT); falls back to a component walk where the kernel lacks it.
public struct SafeRoot {
    public let fd: FileDescriptor
    public let path: String

    public init(path: String) throws {
        self.path = path
        self.fd = try FileDescriptor.open(path, ocirun_O_PATH | O_DIRECTORY)
    }

    /// Opens `path` (absolute inside the rootfs) with `flags`, resolved inside the root.
    public func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws -> FileDescriptor {
        let rel = relative(path)
        if rel.isEmpty { return try FileDescriptor.openat(fd, ".", flags) }
        let r = ocirun_openat_in_root(fd.rawValue, rel, flags | O_CLOEXEC, UInt32(mode))
        if r >= 0 { return FileDescriptor(r) }
        let e = ocirun_errno()
        if e != ENOSYS { throw SystemError("openat2", self.path + "/" + rel, errno: e) }
        return try walk(rel, flags, mode: mode)
    }

    /// Creates the directory `path` and its parents inside the root; returns an ocirun_O_PATH descriptor.
    @discardableResult
    public func makeDirectories(_ path: String, mode: mode_t = 0o755) throws -> FileDescriptor {
        var current = try FileDescriptor.openat(fd, ".", ocirun_O_PATH | O_DIRECTORY)
        var sofar = ""
        for comp in Files.components(path) {
            sofar += "/"
            sofar += comp
            if let next = try? open(sofar, ocirun_O_PATH | O_DIRECTORY) { current = next; continue }
            // `current` was resolved inside the root; mkdirat creates a plain name under it.
            if mkdirat(current.rawValue, comp, mode) != 0 && errno != EEXIST {
                throw SystemError("mkdir", self.path + sofar)
            }
            current = try open(sofar, ocirun_O_PATH | O_DIRECTORY)
        }
        return current
    }

    /// Makes sure `path` exists as a mount target: a directory, or an empty file when `file` is true.
    public func makeMountTarget(_ path: String, file: Bool) throws -> FileDescriptor {
        if let existing = try? open(path, ocirun_O_PATH) { return existing }
        var comps = Files.components(path)
        let rel = Files.join(comps, "/")
        guard !file else {
            let name = comps.popLast() ?? ""
            let parentPath = "/" + Files.join(comps, "/")
            let parent = try makeDirectories(parentPath)
            // O_EXCL|O_NOFOLLOW: a dangling symlink planted at the target is not followed.
            let dirfd = try open(parentPath, O_DIRECTORY | O_RDONLY)
            _ = parent
            let f = openat(dirfd.rawValue, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0o644)
            if f >= 0 { Glibc.close(f) } else if errno != EEXIST { throw SystemError("create", self.path + "/" + rel) }
            return try open(path, ocirun_O_PATH)
        }
        return try makeDirectories(path)
    }

    func relative(_ path: String) -> String {
        Files.join(Files.components(path), "/")
    }

    /// Fallback walk: each component opened with O_NOFOLLOW; symlinks re-resolved from the root;
    /// `..` at the root stays at the root.
    func walk(_ rel: String, _ flags: Int32, mode: mode_t, depth: Int = 0) throws -> FileDescriptor {
        guard depth < 40 else { throw SystemError("open", self.path + "/" + rel, errno: ELOOP) }
        var stack: [String] = []
        var pending = rel.split(separator: "/").map(String.init)
        var links = 0
        while !pending.isEmpty {
            let comp = pending.removeFirst()
            if comp == "." || comp.isEmpty { continue }
            if comp == ".." { if !stack.isEmpty { stack.removeLast() }; continue }
            let candidate = (stack + [comp]).joined(separator: "/")
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX))
            let n = readlinkat(fd.rawValue, candidate, &buf, buf.count - 1)
            if n >= 0 {
                links += 1
                guard links < 40 else { throw SystemError("open", self.path + "/" + rel, errno: ELOOP) }
                let target = String(cString: buf)
                if target.hasASCIIPrefix("/") { stack = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            stack.append(comp)
        }
        let final = stack.isEmpty ? "." : stack.joined(separator: "/")
        return try FileDescriptor.openat(fd, final, flags | O_NOFOLLOW, mode: mode)
    }
}
