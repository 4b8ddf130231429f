#if canImport(Glibc)
import Glibc
#endif
import CDI
import CLinux
import JSON
import LinuxSystem
import OCISpec

/// The OCI state a hook reads on stdin (runtime.md "State").
public struct HookState: Codable, Sendable {
    /// The spec version.
    public var ociVersion: String
    /// The container id.
    public var id: String
    /// `creating`, `created`, …
    public var status: String
    /// The container's init; its pid in the runtime's pid namespace for prestart/createRuntime,
    /// possibly in the container's own for createContainer (runc reports 1 there).
    public var pid: Int32?
    /// The bundle directory.
    public var bundle: String
    /// The config's annotations.
    public var annotations: [String: String]?
}

/// A container a hook is working on: its state, config and rootfs.
public struct HookTarget {
    /// The state read from stdin.
    public var state: HookState
    /// The bundle's config.json.
    public var spec: Spec
    /// The rootfs path from the config, resolved against the bundle.
    public var rootfs: String

    /// Reads the state and the bundle's config.
    public static func load(stateBytes: [UInt8]) throws -> HookTarget {
        let state: HookState
        do { state = try JSONDecoding.decode(HookState.self, from: stateBytes) } catch {
            throw HookError("read the container state on stdin: \(error)")
        }
        let configPath = state.bundle + "/config.json"
        let spec: Spec
        do { spec = try JSONDecoding.decode(Spec.self, from: try Files.read(configPath)) } catch {
            throw HookError("read \(configPath): \(error)")
        }
        guard let root = spec.root?.path, !root.isEmpty else { throw HookError("\(configPath): root.path is empty") }
        let rootfs = root.hasPrefix("/") ? Files.clean(root) : Files.clean(state.bundle + "/" + root)
        return HookTarget(state: state, spec: spec, rootfs: rootfs)
    }

    /// The process environment of the config.
    public var env: [String] { spec.process?.env ?? [] }
    /// The config's annotations.
    public var annotations: [String: String] { spec.annotations ?? state.annotations ?? [:] }
    /// Whether the container's process runs as root (uid 0, no user namespace).
    public var isRootContainer: Bool {
        (spec.process?.user.uid ?? 0) == 0 && !(spec.linux?.namespaces ?? []).contains { $0.type == "user" }
    }
}

/// Applies an `Injection` to a container from inside a hook: enters the container's mount
/// namespace when the hook runs in the runtime's, mounts, makes device nodes, allows them in the
/// device cgroup, rebuilds the ld cache.
public struct ContainerEditor {
    /// The container's `/` as this process sees it (its rootfs before pivot_root).
    public private(set) var root: String
    /// The v1 devices cgroup directory of the container, if any.
    public private(set) var devicesCgroup: String?
    /// The container's cgroup2 directory, if any (hybrid and v2-only hosts).
    public private(set) var unifiedCgroup: String?
    /// True when this process sees only the cgroup2 hierarchy (a v2-only host).
    var unifiedOnly = false
    /// The container's `linux.resources.devices` (config.json).
    var configDevices: [LinuxDeviceCgroup] = []
    /// Where the container's cgroup was looked up (for messages).
    var cgroupSource: String
    var stagingRoot = "/.ocirun"

    /// Finds the container and enters its mount namespace when needed. The process must be
    /// single-threaded (setns of a mount namespace requires it).
    ///
    /// NOTE: a createContainer hook runs inside the container's namespaces before pivot_root
    /// (runc, crun and ocirun fork it from the container's init): nothing to enter, and the state's
    /// pid may be one of the container's pid namespace (runc writes 1), meaningless in this
    /// process's /proc. A prestart/createRuntime hook runs in the runtime's namespaces with the
    /// init's host pid: enter /proc/PID/ns/mnt, where the rootfs is still at its host path.
    public static func enter(_ t: HookTarget) throws -> ContainerEditor {
        var buf = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/self", &buf, 63)
        let procPid = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let procMatches = procPid == String(getpid())
        var cgroupFile = "/proc/self/cgroup"
        if procMatches, let pid = t.state.pid, pid > 0, Files.exists("/proc/\(pid)") {
            cgroupFile = "/proc/\(pid)/cgroup"
            var mine = stat(), theirs = stat()
            guard stat("/proc/self/ns/mnt", &mine) == 0, stat("/proc/\(pid)/ns/mnt", &theirs) == 0 else {
                throw HookError("stat /proc/\(pid)/ns/mnt: \(String(cString: strerror(errno)))")
            }
            if mine.st_ino != theirs.st_ino || mine.st_dev != theirs.st_dev {
                let cgroupText = (try? Files.readString(cgroupFile)) ?? ""
                let fd = open("/proc/\(pid)/ns/mnt", O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw HookError("open /proc/\(pid)/ns/mnt: \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                guard ocirun_setns(fd, ocirun_CLONE_NEWNS) == 0 else {
                    throw HookError("enter the mount namespace of container \(t.state.id) (pid \(pid)): setns: \(String(cString: strerror(errno)))")
                }
                return try ContainerEditor(t, cgroupText: cgroupText, source: cgroupFile)
            }
        }
        let cgroupText = (try? Files.readString(cgroupFile)) ?? ""
        return try ContainerEditor(t, cgroupText: cgroupText, source: cgroupFile)
    }

    init(_ t: HookTarget, cgroupText: String, source: String) throws {
        var rootSt = stat(), fsSt = stat()
        if stat("/", &rootSt) == 0, stat(t.rootfs, &fsSt) == 0, rootSt.st_ino == fsSt.st_ino, rootSt.st_dev == fsSt.st_dev {
            root = ""
        } else {
            guard Files.isDirectory(t.rootfs) else {
                throw HookError("container \(t.state.id): rootfs \(t.rootfs) is not visible from the hook (run it as a prestart, createRuntime or createContainer hook)")
            }
            root = t.rootfs
        }
        cgroupSource = source
        let mountinfo = (try? Files.readString("/proc/self/mountinfo")) ?? ""
        devicesCgroup = ContainerEditor.devicesCgroup(cgroupText: cgroupText, mountinfo: mountinfo)
        unifiedCgroup = DeviceCgroupV2.directory(cgroupText: cgroupText, mountinfo: mountinfo)
        unifiedOnly = DeviceCgroupV2.isUnifiedOnly(mountinfo: mountinfo)
        configDevices = t.spec.linux?.resources?.devices ?? []
    }

    /// The v1 devices cgroup directory from a `/proc/PID/cgroup` text and this process's mountinfo.
    public static func devicesCgroup(cgroupText: String, mountinfo: String) -> String? {
        var path: String?
        for line in cgroupText.split(separator: "\n") {
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if f.count == 3, f[1].split(separator: ",").contains("devices") { path = String(f[2]) }
        }
        guard let path else { return nil }
        for line in mountinfo.split(separator: "\n") {
            let parts = line.split(separator: " - ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let pre = parts[0].split(separator: " "), post = parts[1].split(separator: " ")
            guard pre.count >= 5, post.count >= 3, post[0] == "cgroup",
                  post[2].split(separator: ",").contains("devices") else { continue }
            let mountRoot = String(pre[3]), mountPoint = String(pre[4])
            var rel = path
            if mountRoot != "/" {
                guard rel.hasPrefix(mountRoot) else { continue }
                rel = String(rel.dropFirst(mountRoot.count))
            }
            // The hierarchy's root is never a container's cgroup: a path of "/" means the reader
            // sits in a cgroup namespace, and the real path is not known from here.
            guard Files.clean(rel) != "/" else { return nil }
            return Files.clean(mountPoint + "/" + rel)
        }
        return nil
    }

    /// `path` of the container as this process sees it, symlinks resolved inside the container.
    public func local(_ path: String) throws -> String {
        try resolveInRoot(root: root, path: path).local
    }

    /// Applies `inj`; `kind` names the hook in messages and the staging directory.
    public func apply(_ inj: Injection, kind: String) throws {
        if inj.binds.contains(where: { $0.container.hasPrefix(stagingRoot + "/") }) { try ensureStaging() }
        for b in inj.binds {
            var st = stat()
            guard stat(b.local, &st) == 0 else { throw HookError("\(kind): host path \(b.local): \(String(cString: strerror(errno)))") }
            let isDir = st.st_mode & S_IFMT == S_IFDIR
            let target = try makeTarget(b.container, directory: isDir)
            guard mount(b.local, target, nil, UInt(MS_BIND | MS_REC), nil) == 0 else {
                throw HookError("\(kind): bind \(b.local) on \(b.container): mount: \(String(cString: strerror(errno)))")
            }
            if b.readOnly {
                let flags = UInt(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
                guard mount(nil, target, nil, flags, nil) == 0 else {
                    throw HookError("\(kind): remount \(b.container) read-only: mount: \(String(cString: strerror(errno)))")
                }
            }
        }
        for d in inj.devices { try makeDevice(d, kind: kind) }
        if !inj.devices.isEmpty { try allowDevices(inj.devices, kind: kind) }
        if !inj.env.isEmpty {
            try ensureStaging()
            let text = inj.env.map { e -> String in
                let kv = e.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let v = kv.count > 1 ? String(kv[1]) : ""
                return "export \(kv[0])='\(v.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''"))'\n"
            }.joined()
            let dir = try makeTarget(stagingRoot + "/" + kind, directory: true)
            try Files.writeAtomically(dir + "/env", Array(text.utf8), mode: 0o644)
        }
        if !inj.libraryDirectories.isEmpty || !inj.symlinks.isEmpty {
            try updateLdCache(adding: inj.libraryDirectories, links: inj.symlinks)
        }
    }

    /// Mounts a tmpfs on the staging directory once (a marker file tells a second hook).
    func ensureStaging() throws {
        let dir = try makeTarget(stagingRoot, directory: true)
        if Files.exists(dir + "/.ocirun-hooks") { return }
        // Already a mount point (a CDI spec's tmpfs, mounted by the runtime): use it as it is.
        var st = stat(), parent = stat()
        if stat(dir, &st) == 0, stat(dir + "/..", &parent) == 0, st.st_dev != parent.st_dev {
            try Files.write(dir + "/.ocirun-hooks", "", flags: O_WRONLY | O_CREAT | O_TRUNC)
            return
        }
        guard mount("tmpfs", dir, "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=755") == 0 else {
            throw HookError("mount tmpfs on \(stagingRoot): \(String(cString: strerror(errno)))")
        }
        try Files.write(dir + "/.ocirun-hooks", "", flags: O_WRONLY | O_CREAT | O_TRUNC)
    }

    /// Creates the mount target (a directory, or an empty file) and its parents inside the container.
    func makeTarget(_ path: String, directory: Bool) throws -> String {
        let target = try local(path)
        let parent = String(target[..<(target.lastIndex(of: "/") ?? target.startIndex)])
        if !parent.isEmpty && !Files.isDirectory(parent) {
            // Resolve again per created level: a parent may be a symlink inside the container.
            try Files.makeDirectories(try local(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])))
        }
        if directory {
            if !Files.isDirectory(target) { try Files.makeDirectories(target) }
        } else if !Files.exists(target) {
            let fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw HookError("create \(path) in the container: \(String(cString: strerror(errno)))") }
            close(fd)
        }
        return target
    }

    /// Makes the device node (mknod; a bind of the host node where mknod is refused).
    func makeDevice(_ d: HostDevice, kind: String) throws {
        let target = try local(d.path)
        var st = stat()
        if lstat(target, &st) == 0 {
            let fmt = st.st_mode & S_IFMT
            if (fmt == S_IFCHR || fmt == S_IFBLK) && DeviceNumber.major(UInt64(st.st_rdev)) == d.major
                && DeviceNumber.minor(UInt64(st.st_rdev)) == d.minor { return }
            throw HookError("\(kind): \(d.path) exists in the container and is not device \(d.major):\(d.minor)")
        }
        let parent = String(d.path[..<(d.path.lastIndex(of: "/") ?? d.path.startIndex)])
        if !parent.isEmpty { _ = try makeTarget(parent, directory: true) }
        let type = d.type == "c" ? UInt32(S_IFCHR) : UInt32(S_IFBLK)
        if ocirun_mknod(target, type | d.mode, UInt32(d.major), UInt32(d.minor)) == 0 {
            _ = chmod(target, mode_t(d.mode))
            return
        }
        guard errno == EPERM else {
            throw HookError("\(kind): mknod \(d.path) (\(d.major):\(d.minor)): \(String(cString: strerror(errno)))")
        }
        _ = try makeTarget(d.path, directory: false)
        guard mount(d.local, target, nil, UInt(MS_BIND), nil) == 0 else {
            throw HookError("\(kind): bind \(d.local) on \(d.path): mount: \(String(cString: strerror(errno)))")
        }
    }

    /// Allows the devices in the container's device cgroup: `c MAJ:MIN rwm` lines to the v1
    /// `devices.allow`, and, where the container's cgroup2 directory has a device program
    /// attached (any runtime's), a rebuilt program that keeps everything the old one allowed and
    /// adds these devices (`DeviceCgroupV2`).
    func allowDevices(_ devices: [HostDevice], kind: String) throws {
        var allowed = false
        if let dir = devicesCgroup {
            for d in devices {
                let rule = "\(d.type) \(d.major):\(d.minor) rwm"
                do { try Files.write(dir + "/devices.allow", rule) } catch {
                    throw HookError("\(kind): allow \(d.path) in the device cgroup: write \"\(rule)\" to \(dir)/devices.allow: \(error)")
                }
            }
            allowed = true
        }
        if let dir = unifiedCgroup {
            switch try DeviceCgroupV2.hasProgram(dir) {
            case true?:
                try DeviceCgroupV2.allow(devices, config: configDevices, cgroupDirectory: dir, kind: kind)
                allowed = true
            case false?:
                // Nothing of the container's own refuses a device on cgroup2; on a v2-only host
                // that is the whole device filter.
                if unifiedOnly { allowed = true }
            case nil:
                if devicesCgroup != nil {
                    throw HookError("\(kind): query the device programs of cgroup \(dir): not permitted (the v1 rules were written: the hook runs privileged)")
                }
                FileDescriptor.standardError("ocirun-hooks \(kind): warning: not permitted to change the device programs of \(dir) (an unprivileged hook): device access is left to the runtime's rules\n")
                return
            }
        }
        if !allowed {
            FileDescriptor.standardError("ocirun-hooks \(kind): warning: no devices cgroup of the container found (from \(cgroupSource); a cgroup namespace hides it): device access is left to the runtime's rules\n")
        }
    }

    /// Adds `dirs` to the container's ld cache. Writes a config in the staging tmpfs that includes
    /// the container's own `/etc/ld.so.conf`, runs the container's `ldconfig` chrooted into the
    /// rootfs (the host's `ldconfig -r` when the container has none) to write a new cache in the
    /// staging tmpfs, and binds that over `/etc/ld.so.cache`. The image is not changed.
    ///
    /// NOTE: the container's `ldconfig` is the image's code, run from the runtime's side: it runs
    /// chrooted, as nobody (65534) with no capabilities and no_new_privs, with `-X` (the hook makes
    /// the soname links itself), and can write only the staging cache directory.
    public func updateLdCache(adding dirs: [String], links: [Injection.Symlink] = []) throws {
        try ensureStaging()
        try makeSymlinks(links)
        let cacheDir = stagingRoot + "/ldcache"
        let localCacheDir = try makeTarget(cacheDir, directory: true)
        guard chown(localCacheDir, 65534, 65534) == 0 else {
            throw HookError("ldcache: chown \(cacheDir): \(String(cString: strerror(errno)))")
        }
        let confPath = localCacheDir + "/ld.so.conf"
        var lines = (try? Files.readString(confPath))?.split(separator: "\n").map(String.init) ?? []
        let containerConf = try local("/etc/ld.so.conf")
        if lines.isEmpty && Files.exists(containerConf) { lines.append("include /etc/ld.so.conf") }
        for d in dirs where !lines.contains(d) { lines.append(d) }
        try Files.writeAtomically(confPath, Array((lines.joined(separator: "\n") + "\n").utf8), mode: 0o644)

        let args = ["-X", "-C", cacheDir + "/ld.so.cache", "-f", cacheDir + "/ld.so.conf"]
        let inContainer = ["/sbin/ldconfig", "/usr/sbin/ldconfig", "/sbin/ldconfig.real"].first { p in
            (try? local(p)).map { access($0, X_OK) == 0 } ?? false
        }
        if let ldconfig = inContainer {
            try runChrootedUnprivileged(ldconfig, args: args)
        } else {
            let hostCandidates: [String] = ["/sbin/ldconfig", "/usr/sbin/ldconfig"]
            guard let host = hostCandidates.first(where: { access($0, X_OK) == 0 }) else {
                throw HookError("ldcache: neither the container nor the host has ldconfig")
            }
            try runHost(host, args: ["-r", root.isEmpty ? "/" : root] + args)
        }
        let cacheTarget = try makeTarget("/etc/ld.so.cache", directory: false)
        let marker = try local(stagingRoot) + "/.ld.so.cache-bound"
        if Files.exists(marker) { _ = umount2(cacheTarget, Int32(MNT_DETACH)) }
        guard mount(localCacheDir + "/ld.so.cache", cacheTarget, nil, UInt(MS_BIND), nil) == 0 else {
            throw HookError("ldcache: bind the new cache on /etc/ld.so.cache: mount: \(String(cString: strerror(errno)))")
        }
        try Files.write(marker, "", flags: O_WRONLY | O_CREAT | O_TRUNC)
    }

    /// Makes the soname links (`libcuda.so.1 -> libcuda.so.535.104.05`); only inside the staging tmpfs.
    func makeSymlinks(_ links: [Injection.Symlink]) throws {
        for l in links {
            guard l.path.hasPrefix(stagingRoot + "/"), !l.target.contains("/") else {
                throw HookError("ldcache: link \(l.path) -> \(l.target): links are made only in \(stagingRoot), to a file beside them")
            }
            let dir = String(l.path[..<l.path.lastIndex(of: "/")!])
            let local = try makeTarget(dir, directory: true) + "/" + (l.path.split(separator: "/").last.map(String.init) ?? "")
            var st = stat()
            if lstat(local, &st) == 0 { continue }
            guard symlink(l.target, local) == 0 else {
                throw HookError("ldcache: symlink \(l.path) -> \(l.target): \(String(cString: strerror(errno)))")
            }
        }
    }

    func runChrootedUnprivileged(_ path: String, args: [String]) throws {
        let pid = ocirun_clone(0)
        if pid == 0 {
            if !root.isEmpty && chroot(root) != 0 { _exit(126) }
            _ = chdir("/")
            var none: [gid_t] = []
            // NOTE: groups, then gid, then uid: after setuid the process may no longer change the others.
            guard ocirun_setgroups(0, &none) == 0, setgid(65534) == 0, setuid(65534) == 0,
                  ocirun_set_no_new_privs() == 0 else { _exit(125) }
            _ = withCStrings([path] + args) { argv in
                withCStrings(["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]) { envp in ocirun_execve(path, argv, envp) }
            }
            _exit(127)
        }
        guard pid > 0 else { throw HookError("ldcache: fork: \(String(cString: strerror(errno)))") }
        let status = WaitStatus.shellStatus(try waitForChild(pid))
        guard status == 0 else { throw HookError("ldcache: the container's \(path) \(args.joined(separator: " ")) failed with status \(status)") }
    }

    func runHost(_ path: String, args: [String]) throws {
        var pid: pid_t = 0
        let rc = withCStrings([path] + args) { argv in
            withCStrings(["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]) { envp in posix_spawn(&pid, path, nil, nil, argv, envp) }
        }
        guard rc == 0 else { throw HookError("ldcache: run \(path): \(String(cString: strerror(rc)))") }
        let status = WaitStatus.shellStatus(try waitForChild(pid))
        guard status == 0 else { throw HookError("ldcache: \(path) \(args.joined(separator: " ")) failed with status \(status)") }
    }
}

/// Calls `body` with a NULL-terminated `char *[]` of `strings`.
func withCStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return ptrs.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}

extension FileDescriptor {
    /// Writes `text` to stderr (a warning: a failed write is not an error of the hook).
    static func standardError(_ text: String) {
        try? write(2, text)
    }
}
