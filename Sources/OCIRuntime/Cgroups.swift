#if canImport(Glibc)
import Glibc
#endif
import CLinux
import LinuxSystem
import OCISpec

nonisolated(unsafe) private var cachedLayout: CgroupLayout?

/// The cgroup layout of the host, read from /proc/self/mountinfo: v1, v2 (unified) or hybrid
/// (v1 controllers plus a cgroup2 mount, often at /sys/fs/cgroup/unified).
public struct CgroupLayout: Sendable, Equatable {
    /// v1 hierarchies: mount point and the controllers (or `name=` hierarchy) it holds.
    public struct Hierarchy: Sendable, Equatable {
        public var mountPoint: String
        public var controllers: [String]
    }

    public var v1: [Hierarchy]
    /// The cgroup2 mount point, if any.
    public var unified: String?

    public var isUnifiedOnly: Bool { v1.isEmpty && unified != nil }

    /// Parses mountinfo text (proc(5)): fields up to " - ", then fstype, source, super options.
    /// Works on bytes: this runs on every container start (String splitting was a visible cost).
    public static func parse(mountinfo: String) -> CgroupLayout {
        var v1: [Hierarchy] = []
        var unified: String?
        var text = mountinfo
        text.withUTF8 { b in
            var lineStart = 0
            while lineStart < b.count {
                var lineEnd = lineStart
                while lineEnd < b.count, b[lineEnd] != 0x0A { lineEnd += 1 }
                defer { lineStart = lineEnd + 1 }
                // Fields separated by single spaces.
                var fields: [Range<Int>] = []
                var f = lineStart
                for i in lineStart...lineEnd where i == lineEnd || b[i] == 0x20 {
                    fields.append(f..<i)
                    f = i + 1
                }
                guard let dash = fields.firstIndex(where: { $0.count == 1 && b[$0.lowerBound] == 0x2D }),
                      dash >= 5, dash + 3 < fields.count else { continue }
                func string(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self) }
                func equals(_ r: Range<Int>, _ s: StaticString) -> Bool {
                    r.count == s.utf8CodeUnitCount && memcmp(b.baseAddress! + r.lowerBound, s.utf8Start, r.count) == 0
                }
                let fstype = fields[dash + 1]
                if equals(fstype, "cgroup2") {
                    if unified == nil { unified = unescapeMountinfo(string(fields[4])) }
                } else if equals(fstype, "cgroup") {
                    var ctrls: [String] = []
                    let opts = fields[dash + 3]
                    var o = opts.lowerBound
                    for i in opts.lowerBound...opts.upperBound where i == opts.upperBound || b[i] == 0x2C {
                        let r = o..<i
                        o = i + 1
                        if r.isEmpty || isGenericMountOption(b, r) { continue }
                        ctrls.append(string(r))
                    }
                    if !ctrls.isEmpty, !v1.contains(where: { $0.controllers == ctrls }) {
                        v1.append(Hierarchy(mountPoint: unescapeMountinfo(string(fields[4])), controllers: ctrls))
                    }
                }
            }
        }
        return CgroupLayout(v1: v1, unified: unified)
    }

    /// Mount options of a cgroup v1 mount that are not controller names.
    private static func isGenericMountOption(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        let generic: [StaticString] = ["rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec",
                                       "clone_children", "nsdelegate", "noprefix", "xattr"]
        for g in generic where r.count == g.utf8CodeUnitCount && memcmp(b.baseAddress! + r.lowerBound, g.utf8Start, r.count) == 0 {
            return true
        }
        let agent: StaticString = "release_agent="
        return r.count >= agent.utf8CodeUnitCount && memcmp(b.baseAddress! + r.lowerBound, agent.utf8Start, agent.utf8CodeUnitCount) == 0
    }

    /// This host's layout, read once per process (a container's init, cloned from the runtime,
    /// inherits it: its new mount namespace starts as a copy with the same cgroup mounts).
    public static func current() throws -> CgroupLayout {
        if let cached = cachedLayout { return cached }
        let layout = parse(mountinfo: try Files.readString("/proc/self/mountinfo"))
        cachedLayout = layout
        return layout
    }

    /// The v1 hierarchy holding `controller`.
    public func hierarchy(for controller: String) -> Hierarchy? {
        v1.first { $0.controllers.contains(controller) }
    }
}

func unescapeMountinfo(_ s: String) -> String {
    guard s.contains("\\") else { return s }
    var out: [UInt8] = []
    let b = Array(s.utf8)
    var i = 0
    while i < b.count {
        if b[i] == UInt8(ascii: "\\"), i + 3 < b.count,
           let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
            out.append(v); i += 4
        } else { out.append(b[i]); i += 1 }
    }
    return String(decoding: out, as: UTF8.self)
}

/// One container's cgroup: a directory per v1 hierarchy and/or one in the unified hierarchy.
public struct ContainerCgroup: Sendable, Codable, Equatable {
    /// Absolute directories, keyed by the hierarchy's controller list (`memory`, `cpu`, `unified`…).
    public var paths: [String: String]

    public init(paths: [String: String]) { self.paths = paths }

    /// Resolves the cgroup directories for `cgroupsPath` (absolute: from each hierarchy's root;
    /// relative: under the caller's own cgroup, as runc does). `selfCgroup` is /proc/self/cgroup.
    public static func resolve(layout: CgroupLayout, cgroupsPath: String, selfCgroup: String) -> ContainerCgroup {
        var own: [String: String] = [:]   // controller list → path (v1), "" → v2
        for line in selfCgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            own[String(parts[1])] = String(parts[2])
        }
        // NOTE: `..` is cleaned as a rooted path first (runc's rule): the result never leaves
        // the hierarchy's mount point.
        let rooted = Files.clean("/" + cgroupsPath)
        func join(_ mount: String, _ base: String) -> String {
            let rel = cgroupsPath.hasASCIIPrefix("/") ? rooted : Files.clean("/" + base) + rooted
            return Files.clean(mount + "/" + Files.clean(rel))
        }
        var paths: [String: String] = [:]
        for h in layout.v1 {
            let key = Files.join(h.controllers, ",")
            paths[key] = join(h.mountPoint, own[key] ?? "/")
        }
        if let u = layout.unified {
            paths["unified"] = join(u, own[""] ?? "/")
        }
        return ContainerCgroup(paths: paths)
    }

    /// The directory of the hierarchy holding `controller` (v1), or the unified one.
    public func path(for controller: String) -> String? {
        for (k, v) in paths where k != "unified" && Files.listContains(k, controller) { return v }
        return nil
    }

    public var unifiedPath: String? { paths["unified"] }
    /// True when resources go to the cgroup2 files (no v1 hierarchy holds the usual controllers).
    public var isV2: Bool { path(for: "memory") == nil && path(for: "pids") == nil && unifiedPath != nil }

    /// Which of the hierarchies an operation covers: `create` makes the cgroup2 directory
    /// before the clone (CLONE_INTO_CGROUP needs it) and the v1 ones after it, while the init
    /// sets up its mounts.
    public enum Hierarchies { case all, unified, v1 }

    /// The keys of `which`, in order (the order the init joins them in). Keys, not (key, dir)
    /// tuples: an array of tuples costs its metadata at run time on every start.
    public func sortedKeys(_ which: Hierarchies = .all) -> [String] {
        var keys: [String] = []
        for key in paths.keys {
            switch which {
            case .all: keys.append(key)
            case .unified: if key == "unified" { keys.append(key) }
            case .v1: if key != "unified" { keys.append(key) }
            }
        }
        keys.sort()
        return keys
    }

    /// Creates the directories (v1 cpuset levels inherit cpus/mems from their parent, without
    /// which no task may join).
    public func create(_ which: Hierarchies = .all) throws {
        _ = try create(which, from: 0, while: { true })
    }

    /// Creates the hierarchies of `which` in order from the `start`th, while `more()` says so;
    /// returns the index of the first one not created (their count when all are).
    public func create(_ which: Hierarchies, from start: Int, while more: () -> Bool) throws -> Int {
        let keys = sortedKeys(which)
        var i = start
        while i < keys.count && more() {
            let key = keys[i]
            i += 1
            let dir = paths[key] ?? ""
            try withContext("create cgroup \(dir)") {
                if Files.listContains(key, "cpuset") {
                    try makeCpusetDirectories(dir)
                } else {
                    try Files.makeDirectories(dir)
                }
            }
            if key == "unified" { enableV2Controllers(dir) }
        }
        return i
    }

    private func makeCpusetDirectories(_ dir: String) throws {
        // The leaf first (usually the only one missing), its parents only when they are missing.
        if mkdir(dir, 0o755) != 0 {
            if errno == EEXIST { return }
            guard errno == ENOENT, let slash = dir.lastIndex(of: "/"), slash != dir.startIndex else {
                throw SystemError("mkdir", dir)
            }
            try makeCpusetDirectories(String(dir[..<slash]))
            if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir", dir) }
        }
        // A new cpuset group starts with no CPUs or memory nodes: its parent's.
        guard let slash = dir.lastIndex(of: "/") else { return }
        let parent = String(dir[..<slash])
        for f in ["cpuset.cpus", "cpuset.mems"] {
            if let v = try? Files.readString(parent + "/" + f) {
                let t = v.trimmingWhitespace()
                try? Files.write(dir + "/" + f, t.isEmpty ? "\n" : t)
            }
        }
    }

    /// On cgroup2, enables the parent's available controllers for the new group's subtree
    /// (best effort: a hybrid cgroup2 mount usually holds few controllers).
    private func enableV2Controllers(_ dir: String) {
        var chain: [String] = []
        var p = dir
        while let slash = p.lastIndex(of: "/"), p != "/" {
            p = String(p[..<slash])
            if p.isEmpty { break }
            chain.append(p)
            if !Files.exists(p + "/../cgroup.controllers") { break }
        }
        for parent in chain.reversed() {
            guard let avail = try? Files.readString(parent + "/cgroup.controllers") else { continue }
            let ctrls = avail.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if ctrls.isEmpty { continue }
            let line = ctrls.map { "+" + $0 }.joined(separator: " ")
            try? Files.write(parent + "/cgroup.subtree_control", line)
        }
    }

    /// Moves `pid` into every directory.
    public func add(pid: Int32) throws {
        for dir in sortedKeys().map({ paths[$0] ?? "" }) {
            try withContext("join cgroup \(dir)") {
                try Files.write(dir + "/cgroup.procs", "\(pid)")
            }
        }
    }

    /// Opens what a new process needs to join the group by itself (`CgroupJoin`). Call after
    /// `create()`, before the clone (or, for `.v1`, to pass the descriptors with `.go`); the
    /// descriptors are close-on-exec.
    public func openJoin(_ which: Hierarchies = .all) throws -> CgroupJoin {
        var j = CgroupJoin()
        do {
            for key in sortedKeys(which) {
                let dir = paths[key] ?? ""
                if key == "unified" {
                    let fd = Glibc.open(dir, ocirun_O_PATH | O_DIRECTORY | O_CLOEXEC)
                    if fd < 0 { throw RuntimeError(.failed, "join cgroup \(dir)", cause: SystemError("open", dir)) }
                    j.unified = (dir, fd)
                } else {
                    let fd = Glibc.open(dir + "/tasks", O_WRONLY | O_CLOEXEC)
                    if fd < 0 { throw RuntimeError(.failed, "join cgroup \(dir)", cause: SystemError("open", dir + "/tasks")) }
                    j.taskDirs.append(dir)
                    j.taskFds.append(fd)
                }
            }
        } catch {
            j.close()
            throw error
        }
        return j
    }

    /// The directory whose `cgroup.procs` lists the container's processes.
    var procsDirectory: String? { path(for: "pids") ?? path(for: "memory") ?? path(for: "freezer") ?? unifiedPath }

    /// The pids in the container's cgroup (host pids).
    public func pids() -> [Int32] {
        guard let dir = procsDirectory, let text = try? Files.readString(dir + "/cgroup.procs") else { return [] }
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    /// Refuses a cgroup that already holds processes (another container of the same id in
    /// another state root, or a cgroupsPath shared by mistake): the new container's `kill --all`
    /// and `delete` would reach them. runc checks the same at create.
    func requireEmpty() throws {
        let busy = pids()
        if !busy.isEmpty, let dir = procsDirectory {
            throw RuntimeError(.exists, "the container's cgroup \(dir) is not empty: \(busy.count) process(es) in it")
        }
    }

    /// Removes the directories; retries while the kernel still lists exiting tasks.
    public func destroy() throws {
        var failures: [String] = []
        for dir in sortedKeys().map({ paths[$0] ?? "" }) {
            var removed = false
            // An exited task stays in its cgroup until it is reaped (its parent may be a shim or
            // a shell): back off from 100 µs up to 5 ms, about a second in all.
            var delay: UInt32 = 100
            for _ in 0..<250 {
                if rmdir(dir) == 0 || errno == ENOENT { removed = true; break }
                if errno != EBUSY { break }
                usleep(delay)
                delay = min(delay * 2, 5_000)
            }
            if !removed { failures.append("\(dir): \(String(cString: strerror(errno)))") }
        }
        if !failures.isEmpty {
            throw RuntimeError(.failed, "remove cgroup " + failures.joined(separator: ", "))
        }
    }

    /// The freezer state: true when frozen.
    public func isFrozen() -> Bool {
        if let dir = path(for: "freezer") {
            return (try? Files.readString(dir + "/freezer.state"))?.hasASCIIPrefix("FROZEN") ?? false
        }
        if let dir = unifiedPath, isV2 {
            return (try? Files.readString(dir + "/cgroup.freeze"))?.hasASCIIPrefix("1") ?? false
        }
        return false
    }

    /// Freezes or thaws the group and waits until the kernel reports the new state.
    public func setFrozen(_ frozen: Bool) throws {
        if let dir = path(for: "freezer") {
            let want: StaticString = frozen ? "FROZEN" : "THAWED"
            for _ in 0..<1000 {
                try Files.write(dir + "/freezer.state", want.description)
                let now = (try? Files.readString(dir + "/freezer.state")) ?? ""
                if now.hasASCIIPrefix(want) { return }
                usleep(1_000)
            }
            throw RuntimeError(.failed, "freezer of \(dir) did not reach \(want)")
        }
        if let dir = unifiedPath, Files.exists(dir + "/cgroup.freeze") {
            try Files.write(dir + "/cgroup.freeze", frozen ? "1" : "0")
            return
        }
        throw RuntimeError(.unsupported, "no freezer cgroup for this container")
    }
}

extension String {
    func trimmingWhitespace() -> String {
        // Over bytes: Substring's first/last/removeLast step by Characters, through grapheme
        // code no other part of `run` needs (docs/performance.md, item 34).
        var s = self
        return s.withUTF8 { b in
            func space(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D }
            var lo = 0, hi = b.count
            while lo < hi, space(b[lo]) { lo += 1 }
            while hi > lo, space(b[hi - 1]) { hi -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: b[lo..<hi]), as: UTF8.self)
        }
    }
}

/// How a new process (a container's init, an exec'd process) enters the container's cgroup
/// without anyone writing its pid to a `cgroup.procs` file.
///
/// Why: moving a process by pid takes the kernel's global `cgroup_threadgroup_rwsem` for
/// writing, and when nothing took it for a few milliseconds that waits for an RCU grace period:
/// 6 to 40 ms on this kind of host, for nearly every container started on an otherwise quiet node
/// (docs/performance.md). Two ways skip that lock:
/// - v1 hierarchies: the process writes "0" (itself) to the group's `tasks` file, which moves
///   one thread; the init and the exec'd process are single-threaded, so that is the process.
///   The files are opened by the runtime (the kernel checks the opener's credentials), so this
///   works from inside a new user namespace too.
/// - cgroup2: the process is cloned into the group (`clone3` with `CLONE_INTO_CGROUP`).
public struct CgroupJoin {
    /// v1 directories and their `tasks` files, open for writing (taskFds[i] is in taskDirs[i]).
    public var taskDirs: [String] = []
    public var taskFds: [Int32] = []
    /// The cgroup2 directory, open O_PATH, for CLONE_INTO_CGROUP.
    public var unified: (dir: String, fd: Int32)?

    public init() {}

    /// Clones like `ocirun_clone(flags)`, into the cgroup2 group when there is one. Returns the
    /// pid (0 in the child) and whether the child started in that group; where the kernel
    /// lacks clone3 (before 5.7) the caller writes the pid to its `cgroup.procs` instead.
    public func clone(flags: UInt) -> (pid: pid_t, inUnified: Bool) {
        if let u = unified {
            let pid = ocirun_clone_into_cgroup(flags, u.fd)
            if pid >= 0 || (errno != ENOSYS && errno != E2BIG) { return (pid, pid >= 0) }
        }
        return (ocirun_clone(flags), false)
    }

    /// In the new process: joins every v1 hierarchy, then closes the descriptors.
    public func joinSelf() throws {
        for (i, fd) in taskFds.enumerated() {
            let r = "0".withCString { Glibc.write(fd, $0, 1) }
            if r != 1 {
                let dir = i < taskDirs.count ? taskDirs[i] : "(v1)"
                throw RuntimeError(.failed, "join cgroup \(dir)", cause: SystemError("write", dir + "/tasks"))
            }
            Glibc.close(fd)
        }
        if let u = unified { Glibc.close(u.fd) }
    }

    /// Closes the descriptors (the runtime's copies, once the child has them).
    public func close() {
        for fd in taskFds { Glibc.close(fd) }
        if let u = unified { Glibc.close(u.fd) }
    }
}
