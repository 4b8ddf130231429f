#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem
import OCISpec

// Rootless containers use a cgroup only where one was delegated to the caller (an
// administrator, or systemd's Delegate=yes, chowned a directory to the user). Elsewhere the
// container runs in the caller's own cgroups and its limits are not applied, with no error:
// runc's rootless behaviour.

extension ContainerCgroup {
    /// The hierarchies in which the caller may make the container's directory: the nearest
    /// existing ancestor of the directory is writable (and, for the ancestor to let tasks move
    /// in, so is its `cgroup.procs`).
    public func delegated() -> ContainerCgroup {
        var kept: [String: String] = [:]
        for (key, dir) in paths {
            var p = dir
            while !Files.exists(p), let slash = p.lastIndex(of: "/"), p != "/" {
                p = slash == p.startIndex ? "/" : String(p[..<slash])
            }
            if access(p, W_OK) == 0 && access(p + "/cgroup.procs", W_OK) == 0 { kept[key] = dir }
        }
        return ContainerCgroup(paths: kept)
    }
}

extension CgroupResources {
    /// Rootless: writes the limits a delegated cgroup can take. Controllers that are not
    /// delegated (no directory, or the file is absent because the controller is not enabled
    /// there) are skipped; device rules are never written (they need CAP_SYS_ADMIN, or root to
    /// load an eBPF program). A write that is possible but fails is an error.
    public static func applyDelegated(_ r: LinuxResources?, to cg: ContainerCgroup) throws {
        let r = r ?? LinuxResources()
        let writes: [(String, CgroupWrite)]
        if cg.isV2 {
            guard let dir = cg.unifiedPath else { return }
            writes = try v2Writes(r).map { (dir, $0) }
        } else {
            writes = try v1Writes(r, includeDevices: false).compactMap { w in cg.path(for: w.controller).map { ($0, w) } }
        }
        for (dir, w) in writes where Files.exists(dir + "/" + w.file) {
            try write(dir, w)
        }
    }
}
