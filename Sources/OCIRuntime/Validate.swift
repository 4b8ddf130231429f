#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem
import OCISpec

/// A validated config with what was derived from it. `create` builds one before it touches the
/// system, so every config error is reported with nothing to clean up.
public struct ContainerPlan {
    public var spec: Spec
    public var process: Process
    public var bundle: String
    public var rootfs: String
    public var namespaces: NamespacePlan
    public var rlimits: [(resource: Int32, soft: UInt64, hard: UInt64)]

    /// `namespaces`: the config's, when the caller has read them already (nil: read here).
    public static func make(spec: Spec, bundle: String, namespaces: NamespacePlan? = nil) throws -> ContainerPlan {
        guard !spec.ociVersion.isEmpty else { throw RuntimeError(.invalidArgument, "ociVersion must not be empty") }
        guard let root = spec.root, !root.path.isEmpty else {
            throw RuntimeError(.invalidArgument, "root.path is required")
        }
        let rootfs = root.path.hasASCIIPrefix("/") ? Files.clean(root.path) : Files.clean(bundle + "/" + root.path)
        guard Files.isDirectory(rootfs) else {
            throw RuntimeError(.invalidArgument, "root.path \(rootfs): no such directory")
        }
        guard let process = spec.process else { throw RuntimeError(.invalidArgument, "process is required") }
        guard let args = process.args, !args.isEmpty, !args[0].isEmpty else {
            throw RuntimeError(.invalidArgument, "process.args must not be empty")
        }
        guard process.cwd.hasASCIIPrefix("/") else {
            throw RuntimeError(.invalidArgument, "process.cwd \"\(process.cwd)\" must be an absolute path")
        }
        try LSM.validate(process: process, mountLabel: spec.linux?.mountLabel)
        let linux = spec.linux
        let ns = try namespaces ?? NamespacePlan(linux?.namespaces)

        let hasMappings = !(linux?.uidMappings ?? []).isEmpty || !(linux?.gidMappings ?? []).isEmpty
        if ns.new.contains(.user) {
            guard !(linux?.uidMappings ?? []).isEmpty, !(linux?.gidMappings ?? []).isEmpty else {
                throw RuntimeError(.invalidArgument, "a user namespace needs linux.uidMappings and linux.gidMappings")
            }
        } else if hasMappings && !ns.has(.user) {
            throw RuntimeError(.invalidArgument, "linux.uidMappings/gidMappings need a user namespace")
        }
        if let h = spec.hostname, !h.isEmpty, !ns.new.contains(.uts) {
            throw RuntimeError(.invalidArgument, "hostname \"\(h)\" needs a new uts namespace")
        }
        if let d = spec.domainname, !d.isEmpty, !ns.new.contains(.uts) {
            throw RuntimeError(.invalidArgument, "domainname \"\(d)\" needs a new uts namespace")
        }

        let rlimits = try ProcessIdentity.rlimits(of: process)

        let fstypes = kernelFilesystems()
        for (i, m) in (spec.mounts ?? []).enumerated() {
            guard m.destination.hasASCIIPrefix("/") else {
                throw RuntimeError(.invalidArgument, "mounts[\(i)]: destination \"\(m.destination)\" must be an absolute path")
            }
            let opts = MountOptions(m.options ?? [])
            let type = m.type ?? ""
            if type == "bind" || opts.isBind || type.isEmpty || type == "none" { continue }
            if type == "cgroup" || type == "cgroup2" { continue }
            if !fstypes.isEmpty && !fstypes.contains(type) {
                throw RuntimeError(.invalidArgument, "mounts[\(i)] (\(m.destination)): filesystem type \"\(type)\" is not supported by the kernel")
            }
        }
        for (i, d) in (linux?.devices ?? []).enumerated() {
            guard ["c", "b", "u", "p"].contains(d.type) else {
                throw RuntimeError(.invalidArgument, "linux.devices[\(i)]: invalid device type \"\(d.type)\"")
            }
            guard d.path.hasASCIIPrefix("/") else {
                throw RuntimeError(.invalidArgument, "linux.devices[\(i)]: path \"\(d.path)\" must be absolute")
            }
        }
        for (name, _) in linux?.sysctl ?? [:] {
            try validateSysctl(name, namespaces: ns)
        }
        if let prop = linux?.rootfsPropagation, !prop.isEmpty, MountOptions.propagationTable[prop] == nil {
            throw RuntimeError(.invalidArgument, "linux.rootfsPropagation: invalid value \"\(prop)\"")
        }
        if let seccomp = linux?.seccomp {
            _ = try SeccompProfile(seccomp)
        }
        return ContainerPlan(spec: spec, process: process, bundle: bundle, rootfs: rootfs,
                             namespaces: ns, rlimits: rlimits)
    }

    /// runc's rule: namespaced sysctls need the namespace they belong to; others are refused.
    static func validateSysctl(_ name: String, namespaces ns: NamespacePlan) throws {
        let ipc = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                   "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]
        if ipc.contains(name) || name.hasASCIIPrefix("fs.mqueue.") {
            guard ns.has(.ipc) else { throw RuntimeError(.invalidArgument, "sysctl \"\(name)\" needs an ipc namespace") }
            return
        }
        if name.hasASCIIPrefix("net.") {
            guard ns.has(.network) else { throw RuntimeError(.invalidArgument, "sysctl \"\(name)\" needs a network namespace") }
            return
        }
        if name == "kernel.hostname" || name == "kernel.domainname" {
            guard ns.has(.uts) else { throw RuntimeError(.invalidArgument, "sysctl \"\(name)\" needs a uts namespace") }
            return
        }
        throw RuntimeError(.invalidArgument, "sysctl \"\(name)\" is not namespaced and cannot be set in a container")
    }
}

/// setrlimit(2) resources by their spec names.
let rlimitResources: [String: Int32] = [
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
]

/// Filesystem types the kernel knows (/proc/filesystems); empty if unreadable.
func kernelFilesystems() -> [String] {
    // The last field of each line, over bytes (a generic `split(whereSeparator:)` here cost more
    // than reading the file).
    guard let bytes = try? Files.read("/proc/filesystems") else { return [] }
    var out: [String] = []
    var start = 0
    for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") || b == UInt8(ascii: "\t") || b == UInt8(ascii: " ") {
        if b == UInt8(ascii: "\n") && i > start { out.append(String(decoding: bytes[start..<i], as: UTF8.self)) }
        start = i + 1
    }
    return out
}
