// The `linux` section of the configuration (config-linux.md), apart from resources and
// seccomp, which have their own files.

/// Linux-specific configuration (config-linux.md).
public struct Linux: Codable, Sendable, Equatable {
    /// User-namespace uid mappings.
    public var uidMappings: [LinuxIDMapping]?
    /// User-namespace gid mappings.
    public var gidMappings: [LinuxIDMapping]?
    /// Kernel parameters set in the container, e.g. `net.ipv4.ip_forward`.
    public var sysctl: [String: String]?
    /// Cgroup limits.
    public var resources: LinuxResources?
    /// The container's cgroup, absolute (from the cgroup root) or runtime-relative; `slice:prefix:name` for systemd.
    public var cgroupsPath: String?
    /// Namespaces to create (no `path`) or join (`path`).
    public var namespaces: [LinuxNamespace]?
    /// Device nodes to create in the container.
    public var devices: [LinuxDevice]?
    /// The seccomp filter.
    public var seccomp: LinuxSeccomp?
    /// Propagation of the rootfs mount: `shared`, `slave`, `private`, `unbindable` (or `r`-prefixed).
    public var rootfsPropagation: String?
    /// Paths masked (a /dev/null or empty tmpfs mounted over them).
    public var maskedPaths: [String]?
    /// Paths remounted read-only.
    public var readonlyPaths: [String]?
    /// The SELinux context of the container's mounts.
    public var mountLabel: String?
    /// Intel RDT (resctrl) settings.
    public var intelRdt: LinuxIntelRdt?
    /// The execution domain, set with personality(2).
    public var personality: LinuxPersonality?
    /// Time-namespace clock offsets, keyed by clock (`monotonic`, `boottime`).
    public var timeOffsets: [String: LinuxTimeOffset]?
    /// The NUMA memory policy, set with set_mempolicy(2) (spec 1.2).
    public var memoryPolicy: LinuxMemoryPolicy?
    /// Host network interfaces moved into the container, keyed by host name (spec 1.2).
    public var netDevices: [String: LinuxNetDevice]?

    /// A Linux section.
    public init(
        uidMappings: [LinuxIDMapping]? = nil, gidMappings: [LinuxIDMapping]? = nil, sysctl: [String: String]? = nil,
        resources: LinuxResources? = nil, cgroupsPath: String? = nil, namespaces: [LinuxNamespace]? = nil,
        devices: [LinuxDevice]? = nil, seccomp: LinuxSeccomp? = nil, rootfsPropagation: String? = nil,
        maskedPaths: [String]? = nil, readonlyPaths: [String]? = nil, mountLabel: String? = nil,
        intelRdt: LinuxIntelRdt? = nil, personality: LinuxPersonality? = nil,
        timeOffsets: [String: LinuxTimeOffset]? = nil, memoryPolicy: LinuxMemoryPolicy? = nil,
        netDevices: [String: LinuxNetDevice]? = nil
    ) {
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
        self.sysctl = sysctl
        self.resources = resources
        self.cgroupsPath = cgroupsPath
        self.namespaces = namespaces
        self.devices = devices
        self.seccomp = seccomp
        self.rootfsPropagation = rootfsPropagation
        self.maskedPaths = maskedPaths
        self.readonlyPaths = readonlyPaths
        self.mountLabel = mountLabel
        self.intelRdt = intelRdt
        self.personality = personality
        self.timeOffsets = timeOffsets
        self.memoryPolicy = memoryPolicy
        self.netDevices = netDevices
    }
}

/// A namespace to create or join.
public struct LinuxNamespace: Codable, Sendable, Equatable {
    /// `pid`, `network`, `mount`, `ipc`, `uts`, `user`, `cgroup` or `time` (REQUIRED).
    public var type: String
    /// A namespace file to join, e.g. `/proc/1234/ns/net`; nil creates a new namespace.
    public var path: String?

    /// A namespace of `type`, joined at `path` when given.
    public init(type: String, path: String? = nil) {
        self.type = type
        self.path = path
    }
}

/// One uid or gid mapping line.
public struct LinuxIDMapping: Codable, Sendable, Equatable {
    /// First id in the container (REQUIRED).
    public var containerID: UInt32
    /// First id on the host (REQUIRED).
    public var hostID: UInt32
    /// Number of ids (REQUIRED).
    public var size: UInt32

    /// A mapping of `size` ids from `hostID` to `containerID`.
    public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
        self.containerID = containerID
        self.hostID = hostID
        self.size = size
    }
}

/// A time-namespace clock offset.
public struct LinuxTimeOffset: Codable, Sendable, Equatable {
    /// Seconds.
    public var secs: Int64?
    /// Additional nanoseconds.
    public var nanosecs: UInt32?

    /// An offset.
    public init(secs: Int64? = nil, nanosecs: UInt32? = nil) {
        self.secs = secs
        self.nanosecs = nanosecs
    }
}

/// A device node to create in the container (config-linux.md "Devices").
public struct LinuxDevice: Codable, Sendable, Equatable {
    /// Path inside the container (REQUIRED).
    public var path: String
    /// `c`, `b`, `u` or `p` (REQUIRED).
    public var type: String
    /// Major number (required unless `type` is `p`).
    public var major: Int64?
    /// Minor number (required unless `type` is `p`).
    public var minor: Int64?
    /// Permission bits of the node.
    public var fileMode: UInt32?
    /// Owner, in the container.
    public var uid: UInt32?
    /// Group, in the container.
    public var gid: UInt32?

    /// A device node.
    public init(
        path: String, type: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil,
        uid: UInt32? = nil, gid: UInt32? = nil
    ) {
        self.path = path
        self.type = type
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.uid = uid
        self.gid = gid
    }
}

/// Intel RDT settings, written to the resctrl filesystem.
public struct LinuxIntelRdt: Codable, Sendable, Equatable {
    /// The resctrl group (class of service) name.
    public var closID: String?
    /// Full schemata lines written as they are (newer specs; overrides the two below).
    public var schemata: [String]?
    /// The `L3:` schema line.
    public var l3CacheSchema: String?
    /// The `MB:` schema line.
    public var memBwSchema: String?
    /// Whether to create a monitoring group.
    public var enableMonitoring: Bool?
    /// Cache monitoring (spec 1.1/1.2).
    public var enableCMT: Bool?
    /// Memory-bandwidth monitoring (spec 1.1/1.2).
    public var enableMBM: Bool?

    /// RDT settings.
    public init(
        closID: String? = nil, schemata: [String]? = nil, l3CacheSchema: String? = nil, memBwSchema: String? = nil,
        enableMonitoring: Bool? = nil, enableCMT: Bool? = nil, enableMBM: Bool? = nil
    ) {
        self.closID = closID
        self.schemata = schemata
        self.l3CacheSchema = l3CacheSchema
        self.memBwSchema = memBwSchema
        self.enableMonitoring = enableMonitoring
        self.enableCMT = enableCMT
        self.enableMBM = enableMBM
    }
}

/// The personality(2) execution domain.
public struct LinuxPersonality: Codable, Sendable, Equatable {
    /// `LINUX` or `LINUX32` (REQUIRED).
    public var domain: String
    /// Additional flags (none are defined yet).
    public var flags: [String]?

    /// A personality.
    public init(domain: String, flags: [String]? = nil) {
        self.domain = domain
        self.flags = flags
    }
}

/// A NUMA memory policy for set_mempolicy(2) (spec 1.2).
public struct LinuxMemoryPolicy: Codable, Sendable, Equatable {
    /// `MPOL_DEFAULT`, `MPOL_BIND`, `MPOL_INTERLEAVE`, `MPOL_PREFERRED`, ... (REQUIRED).
    public var mode: String
    /// The node list, e.g. `0-3,7`.
    public var nodes: String?
    /// Mode flags such as `MPOL_F_STATIC_NODES`.
    public var flags: [String]?

    /// A memory policy.
    public init(mode: String, nodes: String? = nil, flags: [String]? = nil) {
        self.mode = mode
        self.nodes = nodes
        self.flags = flags
    }
}

/// A host network device moved into the container (spec 1.2).
public struct LinuxNetDevice: Codable, Sendable, Equatable {
    /// Its name in the container; the host name when nil.
    public var name: String?

    /// A network device.
    public init(name: String? = nil) {
        self.name = name
    }
}
