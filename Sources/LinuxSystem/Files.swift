#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Plain file helpers over syscalls, with errors that name the path.
public enum Files {
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = try FileDescriptor.open(path, O_RDONLY)
        return try fd.readAll()
    }

    public static func readString(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes a file in place (for /proc, /sys and cgroup files): no truncation games, one write.
    public static func write(_ path: String, _ string: String, flags: Int32 = O_WRONLY | O_TRUNC) throws {
        let fd = try FileDescriptor.open(path, flags)
        let bytes = Array(string.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd.rawValue, $0.baseAddress, $0.count) }
        if n < 0 { throw SystemError("write", path) }
    }

    /// Writes a new file (it must not exist), for files nobody reads before the writer says so.
    public static func createNew(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws {
        let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        try fd.writeAll(bytes)
    }

    /// Writes `bytes` to `path` atomically: a temp file beside it, then rename.
    ///
    /// An existing `path` is replaced by exchanging the two names (`RENAME_EXCHANGE`), then the
    /// old file removed: renaming over it makes ext4 start writing the new file's data at once
    /// (its `auto_da_alloc` heuristic), and whoever removes the file soon after (`run` at the
    /// container's exit, `delete`) waits for that write. Readers see the old or the new file.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws {
        let tmp = path + ".tmp"
        let fd = try FileDescriptor.open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        try fd.writeAll(bytes)
        fd.close()
        if ocirun_rename_exchange(tmp, path) == 0 {
            _ = Glibc.unlink(tmp)
            return
        }
        // ENOENT: no file to replace; EINVAL, ENOSYS: no exchange on this file system or kernel.
        try retrying("rename", path) { Glibc.rename(tmp, path) }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir -p.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        // The leaf first: usually only it is missing (one syscall per cgroup hierarchy).
        if Glibc.mkdir(path, mode) == 0 || errno == EEXIST { return }
        guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
            throw SystemError("mkdir", path)
        }
        try makeDirectories(String(path[..<slash]), mode: mode)
        if Glibc.mkdir(path, mode) != 0 && errno != EEXIST { throw SystemError("mkdir", path) }
    }

    /// rm -rf, without following symlinks and without crossing into mounts it cannot remove.
    public static func removeTree(_ path: String) throws {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return }
            throw SystemError("lstat", path)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for n in (try? list(path)) ?? [] { try removeTree(path + "/" + n) }
            if Glibc.rmdir(path) != 0 && errno != ENOENT { throw SystemError("rmdir", path) }
        } else if unlink(path) != 0 && errno != ENOENT {
            throw SystemError("unlink", path)
        }
    }

    /// Entries of a directory, without "." and "..".
    public static func list(_ path: String) throws -> [String] {
        try entries(path) { _, _, _ in true }
    }

    /// The names of the directories in `path` (symlinks not followed), from the entries' types:
    /// no stat per entry unless the file system leaves the type unknown.
    public static func listDirectories(_ path: String) throws -> [String] {
        try entries(path) { dirFd, name, type in
            if type == UInt8(DT_DIR) { return true }
            guard type == UInt8(DT_UNKNOWN) else { return false }
            var st = stat()
            return fstatat(dirFd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
        }
    }

    /// The names in directory `path` but `.` and `..` that `keep` takes, given the directory's
    /// descriptor, the name and the entry's type.
    private static func entries(_ path: String, _ keep: (Int32, String, UInt8) -> Bool) throws -> [String] {
        guard let dir = opendir(path) else { throw SystemError("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != "..", keep(dirfd(dir), name, ent.pointee.d_type) { names.append(name) }
        }
        return names
    }

    /// The current working directory.
    public static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(cString: buf)
    }

    /// Makes `path` absolute against the working directory (runc resolves --root, --bundle and
    /// --pid-file this way) and removes `.` components and duplicate slashes.
    public static func absolute(_ path: String) -> String {
        let joined = path.hasASCIIPrefix("/") ? path : currentDirectory() + "/" + path
        return clean(joined)
    }

    /// Lexical clean of an absolute path: `//`, `.` and `..` resolved without touching the disk.
    public static func clean(_ path: String) -> String {
        // Over bytes: `split` and `joined` on Substrings cost a protocol-conformance scan of the
        // whole binary on first use, more than the rest of a `state` command.
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var out: [UInt8] = [slash]
        var starts: [Int] = []
        var path = path
        path.withUTF8 { b in
            out.reserveCapacity(b.count + 1)
            forEachField(b, slash) { r in
                if r.isEmpty || (r.count == 1 && b[r.lowerBound] == dot) {
                    // "" or "."
                } else if r.count == 2 && b[r.lowerBound] == dot && b[r.lowerBound + 1] == dot {
                    if let s = starts.popLast() { out.removeLast(out.count - s) }
                } else {
                    starts.append(out.count)
                    if out.count > 1 { out.append(slash) }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[r]))
                }
                return true
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The components of `path` between slashes, without empty and `.` ones; `..` is kept (a
    /// path resolved by the kernel, through symlinks, must not be cleaned lexically).
    /// Over bytes, like `clean`: no generic `split`/`filter` on the hot path.
    public static func components(_ path: String) -> [String] {
        let dot = UInt8(ascii: ".")
        var out: [String] = []
        var path = path
        path.withUTF8 { b in
            forEachField(b, UInt8(ascii: "/")) { r in
                if !r.isEmpty && !(r.count == 1 && b[r.lowerBound] == dot) {
                    out.append(String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self))
                }
                return true
            }
        }
        return out
    }

    /// Calls `body` with the range of each run of bytes between `separator`s, empty ones
    /// included ("a//b" gives a, "", b), until it returns false.
    @inline(__always)
    private static func forEachField(_ b: UnsafeBufferPointer<UInt8>, _ separator: UInt8, _ body: (Range<Int>) -> Bool) {
        var i = 0
        while i <= b.count {
            var j = i
            while j < b.count && b[j] != separator { j += 1 }
            if !body(i..<j) { return }
            i = j + 1
        }
    }

    /// `parts` with `separator` between them (a concrete `joined(separator:)`).
    public static func join(_ parts: [String], _ separator: String) -> String {
        var out = ""
        for (i, p) in parts.enumerated() {
            if i > 0 { out += separator }
            out += p
        }
        return out
    }

    /// Whether the comma-separated `list` ("cpu,cpuacct") has `item`.
    public static func listContains(_ list: String, _ item: String) -> Bool {
        var list = list, item = item
        return list.withUTF8 { l in
            item.withUTF8 { it in
                var found = false
                forEachField(l, UInt8(ascii: ",")) { r in
                    found = r.count == it.count && (r.isEmpty || memcmp(l.baseAddress! + r.lowerBound, it.baseAddress!, r.count) == 0)
                    return !found
                }
                return found
            }
        }
    }

    /// A cleaned absolute path's parent directory and last component: `/dev/net/tun` →
    /// (`/dev/net`, `tun`), `/x` → (`/`, `x`), `/` → (`/`, ``).
    public static func splitParent(_ cleanPath: String) -> (parent: String, name: String) {
        guard let slash = cleanPath.lastIndex(of: "/") else { return ("/", cleanPath) }
        let parent = slash == cleanPath.startIndex ? "/" : String(cleanPath[..<slash])
        return (parent, String(cleanPath[cleanPath.index(after: slash)...]))
    }
}
