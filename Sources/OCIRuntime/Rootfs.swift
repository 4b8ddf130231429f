#if canImport(Glibc)
import Glibc
#endif
import CLinux
import LinuxSystem
import OCISpec

/// The container's root filesystem, set up by the init in its new mount namespace
/// (config-linux.md "Rootfs Mount Propagation", config.md "Mounts", runtime.md "create").
enum Rootfs {
    static func mount(_ source: String?, _ target: String, _ type: String?, _ flags: UInt, _ data: String?,
                      what: String) throws {
        let r = Glibc.mount(source, target, type, flags, data)
        if r != 0 { throw SystemError("mount", what) }
    }

    /// Before pivot_root: propagation, the rootfs bind, the config's mounts, /dev.
    static func prepare(plan: ContainerPlan, cgroup: ContainerCgroup?, beforeCgroupMount: () throws -> Void = {}) throws {
        let spec = plan.spec
        // NOTE: first stop our mounts from propagating to the host (rslave unless asked otherwise).
        // Only slave and private apply here; shared and unbindable come after pivot_root.
        var prop = UInt(MS_SLAVE) | UInt(MS_REC)
        if let p = spec.linux?.rootfsPropagation, let f = MountOptions.propagationTable[p], f & UInt(MS_PRIVATE) != 0 {
            prop = f | UInt(MS_REC)
        }
        try mount(nil, "/", nil, prop, nil, what: "/ (propagation)")

        // The rootfs becomes a mount point of its own, as pivot_root needs.
        try mount(plan.rootfs, plan.rootfs, "bind", UInt(MS_BIND) | UInt(MS_REC), nil, what: plan.rootfs)

        let root = try SafeRoot(path: plan.rootfs)
        var devBound = false
        for (i, m) in (spec.mounts ?? []).enumerated() {
            if m.type == "cgroup" || m.type == "cgroup2" { try beforeCgroupMount() }
            do {
                try mountOne(m, root: root, bundle: plan.bundle, cgroup: cgroup, hasCgroupNs: plan.namespaces.has(.cgroup),
                             mountLabel: spec.linux?.mountLabel)
            } catch {
                throw RuntimeError.wrap(error, "mounts[\(i)] (\(m.destination))")
            }
            if Files.clean(m.destination) == "/dev" && MountOptions(m.options ?? []).isBind { devBound = true }
        }
        // mknod gets the exact permission bits (no chmod after it); the umask comes back after.
        let umaskBefore = umask(0)
        defer { umask(umaskBefore) }
        if !devBound {
            try withContext("create devices") { try createDevices(root: root, devices: spec.linux?.devices ?? [], userns: plan.namespaces.has(.user)) }
        } else {
            var parents = DeviceParents(root: root)
            for d in spec.linux?.devices ?? [] {
                try withContext("create device \(d.path)") {
                    try createDevice(root: root, d, userns: plan.namespaces.has(.user), strict: true, parents: &parents)
                }
            }
        }
    }

    static func mountOne(_ m: Mount, root: SafeRoot, bundle: String, cgroup: ContainerCgroup?, hasCgroupNs: Bool,
                         mountLabel: String? = nil) throws {
        let opts = MountOptions(m.options ?? [])
        let type = m.type ?? ""
        let dest = Files.clean(m.destination)
        if type == "bind" || opts.isBind {
            var source = m.source ?? ""
            if !source.hasASCIIPrefix("/") { source = Files.clean(bundle + "/" + source) }
            var st = stat()
            guard stat(source, &st) == 0 else { throw SystemError("stat", source) }
            let isDir = (st.st_mode & S_IFMT) == S_IFDIR
            let target = try root.makeMountTarget(dest, file: !isDir)
            try mount(source, target.procPath, nil, UInt(MS_BIND) | (opts.flags & UInt(MS_REC)), nil, what: source)
            let extra = opts.flags & ~(UInt(MS_BIND) | UInt(MS_REC) | UInt(MS_REMOUNT))
            if extra != 0 || opts.cleared != 0 {
                let mounted = try root.open(dest, ocirun_O_PATH)
                try remount(mounted.procPath, flags: extra, what: dest)
            }
            try applyPropagation(opts, root: root, dest: dest)
            return
        }
        if type == "cgroup" || type == "cgroup2" {
            try mountCgroup(m, opts: opts, root: root, cgroup: cgroup, hasCgroupNs: hasCgroupNs)
            return
        }
        let target = try root.makeMountTarget(dest, file: false)
        let flags = opts.flags & ~UInt(MS_REMOUNT)
        let data = LSM.labeledData(opts.dataString, type: type, mountLabel: mountLabel)
        let r = Glibc.mount(m.source ?? type, target.procPath, type, flags, data.isEmpty ? nil : data)
        if r != 0 {
            let e = errno
            if type == "sysfs" && (e == EPERM || e == EACCES) {
                // No network namespace of our own (or a user namespace): bind the host's /sys.
                try mount("/sys", target.procPath, nil, UInt(MS_BIND) | UInt(MS_REC), nil, what: "/sys")
                let mounted = try root.open(dest, ocirun_O_PATH)
                try? remount(mounted.procPath, flags: flags & (UInt(MS_RDONLY) | UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC)), what: dest)
            } else if type == "mqueue" && (e == EPERM || e == EACCES) {
                try mount("/dev/mqueue", target.procPath, nil, UInt(MS_BIND) | UInt(MS_REC), nil, what: "/dev/mqueue")
            } else if e == ENODEV {
                throw RuntimeError(.invalidArgument, "filesystem type \"\(type)\" is not supported by the kernel")
            } else {
                throw SystemError("mount", "\(type) on \(dest)", errno: e)
            }
        }
        try applyPropagation(opts, root: root, dest: dest)
    }

    static func applyPropagation(_ opts: MountOptions, root: SafeRoot, dest: String) throws {
        guard !opts.propagation.isEmpty else { return }
        let mounted = try root.open(dest, ocirun_O_PATH)
        for p in opts.propagation {
            try mount(nil, mounted.procPath, nil, p, nil, what: dest + " (propagation)")
        }
    }

    /// A bind remount that keeps the flags the kernel locks (nosuid, nodev, noexec, ro, atime).
    static func remount(_ target: String, flags: UInt, what: String) throws {
        var sv = statvfs()
        var locked: UInt = 0
        if statvfs(target, &sv) == 0 {
            let f = UInt(sv.f_flag)
            let pairs: [(UInt, UInt)] = [(UInt(2), UInt(MS_NOSUID)), (UInt(4), UInt(MS_NODEV)),
                                         (UInt(8), UInt(MS_NOEXEC)), (UInt(1024), UInt(MS_NOATIME)),
                                         (UInt(2048), UInt(MS_NODIRATIME)), (UInt(4096), UInt(MS_RELATIME))]
            for (st, ms) in pairs where f & st != 0 { locked |= ms }
        }
        let want = UInt(MS_BIND) | UInt(MS_REMOUNT) | flags
        if Glibc.mount(nil, target, nil, want | locked, nil) != 0 {
            // Some locked flags cannot be cleared or set in a user namespace: try as asked.
            try mount(nil, target, nil, want, nil, what: what + " (remount)")
        }
    }

    /// `cgroup` mounts: cgroup2 on a unified host; otherwise a tmpfs with each hierarchy's
    /// container directory bound in (runc's layout), read-only when asked.
    static func mountCgroup(_ m: Mount, opts: MountOptions, root: SafeRoot, cgroup: ContainerCgroup?, hasCgroupNs: Bool) throws {
        let dest = Files.clean(m.destination)
        let target = try root.makeMountTarget(dest, file: false)
        let layout = try CgroupLayout.current()
        let ro = opts.flags & UInt(MS_RDONLY) != 0
        let base = opts.flags & (UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC))
        if layout.isUnifiedOnly {
            if Glibc.mount("cgroup2", target.procPath, "cgroup2", base | (ro ? UInt(MS_RDONLY) : 0), nil) != 0 {
                guard let dir = cgroup?.unifiedPath else { throw SystemError("mount", "cgroup2 on \(dest)") }
                try mount(dir, target.procPath, nil, UInt(MS_BIND), nil, what: dir)
                if ro { try remount(target.procPath, flags: base | UInt(MS_RDONLY), what: dest) }
            }
            return
        }
        try mount("tmpfs", target.procPath, "tmpfs", base, "mode=755", what: "tmpfs on \(dest)")
        // The tmpfs was just mounted by us and nothing else runs in this mount namespace: names
        // in it are plain directories we make, resolved with O_NOFOLLOW from its root.
        let dir = try root.open(dest, O_DIRECTORY | O_RDONLY)
        // One mount_setattr for the tmpfs and every bind below it, instead of a remount each.
        var attrs: UInt64 = ro ? 0x1 : 0
        if base & UInt(MS_NOSUID) != 0 { attrs |= 0x2 }
        if base & UInt(MS_NODEV) != 0 { attrs |= 0x4 }
        if base & UInt(MS_NOEXEC) != 0 { attrs |= 0x8 }
        let setattr = ocirun_mount_setattr_recursive(dir.rawValue, 0) == 0   // probe: sets nothing
        for h in layout.v1 + (layout.unified.map { [CgroupLayout.Hierarchy(mountPoint: $0, controllers: ["unified"])] } ?? []) {
            let name = String(h.mountPoint.split(separator: "/").last ?? "")
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { continue }
            let key = h.controllers == ["unified"] ? "unified" : Files.join(h.controllers, ",")
            let source = cgroup?.paths[key] ?? h.mountPoint
            guard Files.isDirectory(source) else { continue }
            if mkdirat(dir.rawValue, name, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir", dest + "/" + name) }
            let sub = try FileDescriptor.openat(dir, name, ocirun_O_PATH | O_DIRECTORY | O_NOFOLLOW)
            try mount(source, sub.procPath, nil, UInt(MS_BIND) | UInt(MS_REC), nil, what: source)
            if !setattr {
                let mounted = try FileDescriptor.openat(dir, name, ocirun_O_PATH | O_DIRECTORY | O_NOFOLLOW)
                try remount(mounted.procPath, flags: base | (ro ? UInt(MS_RDONLY) : 0), what: dest + "/" + name)
            }
            // Co-mounted controllers get their symlinks (cpu -> cpu,cpuacct).
            if name.contains(",") {
                for c in name.split(separator: ",") { _ = symlinkat(name, dir.rawValue, String(c)) }
            }
        }
        if setattr {
            if ocirun_mount_setattr_recursive(dir.rawValue, attrs) != 0 { throw SystemError("mount_setattr", dest) }
        } else if ro {
            let mounted = try root.open(dest, ocirun_O_PATH)
            try remount(mounted.procPath, flags: base | UInt(MS_RDONLY), what: dest)
        }
    }

    static let defaultDevices: [LinuxDevice] = [
        LinuxDevice(path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/zero", type: "c", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/full", type: "c", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/tty", type: "c", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/random", type: "c", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        LinuxDevice(path: "/dev/urandom", type: "c", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
    ]

    static func createDevices(root: SafeRoot, devices: [LinuxDevice], userns: Bool) throws {
        let dev = try root.makeDirectories("/dev")
        var parents = DeviceParents(root: root)
        for d in defaultDevices where !devices.contains(where: { $0.path == d.path }) {
            try createDevice(root: root, d, userns: userns, parents: &parents)
        }
        for d in devices {
            try withContext("linux.devices \(d.path)") {
                try createDevice(root: root, d, userns: userns, strict: true, parents: &parents)
            }
        }
        let targets = ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"]
        let names = ["fd", "stdin", "stdout", "stderr"]
        for (target, name) in zip(targets, names) {
            if symlinkat(target, dev.rawValue, name) != 0 && errno != EEXIST { throw SystemError("symlink", "/dev/" + name) }
        }
        // /dev/ptmx follows the container's own devpts instance.
        if (try? root.open("/dev/pts/ptmx", ocirun_O_PATH)) != nil {
            let devDir = try root.open("/dev", O_DIRECTORY | O_RDONLY)
            _ = unlinkat(devDir.rawValue, "ptmx", 0)
            if symlinkat("pts/ptmx", devDir.rawValue, "ptmx") != 0 { throw SystemError("symlink", "/dev/ptmx") }
        }
    }

    /// mknod inside the rootfs; in a user namespace (no mknod) the host's node is bind-mounted.
    static func createDevice(root: SafeRoot, _ d: LinuxDevice, userns: Bool, strict: Bool = false,
                             parents: inout DeviceParents) throws {
        let path = Files.clean(d.path)
        let (parentPath, name) = Files.splitParent(path)
        let parent = try parents.directory(parentPath)
        let kind: mode_t
        switch d.type {
        case "b": kind = S_IFBLK
        case "p": kind = S_IFIFO
        default: kind = S_IFCHR
        }
        let mode = kind | mode_t(d.fileMode ?? 0o666) & 0o7777
        if strict {
            // config-linux.md: a file at `path` that is not the requested device is an error.
            var st = stat()
            if fstatat(parent.rawValue, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
                let want = ocirun_makedev(UInt32(truncatingIfNeeded: d.major ?? 0), UInt32(truncatingIfNeeded: d.minor ?? 0))
                let same = (st.st_mode & S_IFMT) == kind && (kind == S_IFIFO || UInt(st.st_rdev) == UInt(want))
                if !same { throw RuntimeError(.invalidArgument, "\(path) exists and is not the requested device") }
                return  // the node already is the requested device
            }
        }
        if userns {
            let f = openat(parent.rawValue, name, O_CREAT | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0o644)
            if f < 0 && errno != EEXIST { throw SystemError("create", path) }
            if f >= 0 { close(f) }
            let target = try root.open(path, ocirun_O_PATH)
            try mount(path, target.procPath, nil, UInt(MS_BIND), nil, what: path)
            return
        }
        let dev = ocirun_makedev(UInt32(truncatingIfNeeded: d.major ?? 0), UInt32(truncatingIfNeeded: d.minor ?? 0))
        if mknodat(parent.rawValue, name, mode, dev_t(dev)) != 0 {
            // Something is there already (the image's own node): replace it.
            guard errno == EEXIST else { throw SystemError("mknod", path) }
            _ = unlinkat(parent.rawValue, name, 0)
            if mknodat(parent.rawValue, name, mode, dev_t(dev)) != 0 { throw SystemError("mknod", path) }
        }
        // The umask is 0 here (Rootfs.prepare): only set-id and sticky bits need a chmod.
        if mode & 0o7000 != 0 {
            let node = try FileDescriptor.openat(parent, name, ocirun_O_PATH | O_NOFOLLOW)
            if chmod(node.procPath, mode & 0o7777) != 0 { throw SystemError("chmod", path) }
        }
        // AT_SYMLINK_NOFOLLOW: the owner of this very node, never of what a name points to.
        if fchownat(parent.rawValue, name, d.uid ?? 0, d.gid ?? 0, AT_SYMLINK_NOFOLLOW) != 0 { throw SystemError("chown", path) }
    }

    /// Open directories of device nodes, made and resolved inside the root once each.
    struct DeviceParents {
        let root: SafeRoot
        var open: [(path: String, fd: FileDescriptor)] = []

        init(root: SafeRoot) { self.root = root }

        mutating func directory(_ path: String) throws -> FileDescriptor {
            if let hit = open.first(where: { $0.path == path }) { return hit.fd }
            _ = try root.makeDirectories(path)
            let fd = try root.open(path, O_DIRECTORY | O_RDONLY)
            open.append((path, fd))
            return fd
        }
    }

    /// pivot_root into the rootfs (or MS_MOVE + chroot with --no-pivot) and drop the old root.
    static func enter(plan: ContainerPlan, noPivot: Bool) throws {
        try retrying("chdir", plan.rootfs) { chdir(plan.rootfs) }
        if noPivot {
            try mount(plan.rootfs, "/", nil, UInt(MS_MOVE), nil, what: plan.rootfs + " (move to /)")
            try retrying("chroot", ".") { chroot(".") }
            try retrying("chdir", "/") { chdir("/") }
            return
        }
        // pivot_root(".", ".") stacks the old root on top of the new one; detach it from there.
        try retrying("pivot_root", plan.rootfs) { ocirun_pivot_root(".", ".") }
        try mount(nil, ".", nil, UInt(MS_SLAVE) | UInt(MS_REC), nil, what: "old root (propagation)")
        try retrying("umount2", "old root") { umount2(".", Int32(MNT_DETACH)) }
        try retrying("chdir", "/") { chdir("/") }
    }

    /// After pivot_root: masked and read-only paths, read-only root.
    static func finish(plan: ContainerPlan) throws {
        let linux = plan.spec.linux
        for p in linux?.maskedPaths ?? [] {
            var st = stat()
            if stat(p, &st) != 0 { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                try mount("tmpfs", p, "tmpfs", UInt(MS_RDONLY), nil, what: "tmpfs on \(p) (masked)")
            } else {
                try mount("/dev/null", p, nil, UInt(MS_BIND), nil, what: "\(p) (masked)")
            }
        }
        for p in linux?.readonlyPaths ?? [] {
            var st = stat()
            if stat(p, &st) != 0 { continue }
            try mount(p, p, nil, UInt(MS_BIND) | UInt(MS_REC), nil, what: "\(p) (read-only)")
            try remount(p, flags: UInt(MS_RDONLY) | UInt(MS_REC), what: p)
        }
        if plan.spec.root?.readonly == true {
            try remount("/", flags: UInt(MS_RDONLY), what: "/ (read-only root)")
        }
        // Shared and unbindable roots are set last: before pivot_root they would break the
        // rootfs bind (unbindable) and pivot_root itself (shared).
        if let p = plan.spec.linux?.rootfsPropagation, let f = MountOptions.propagationTable[p],
           f & (UInt(MS_SHARED) | UInt(MS_UNBINDABLE)) != 0 {
            try mount(nil, "/", nil, (f & ~UInt(MS_REC)) | UInt(MS_REC), nil, what: "/ (\(p) propagation)")
        }

    }
}
