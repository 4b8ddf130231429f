import JSON

// What `features` prints (features.md, features-linux.md). The Go types live in their own
// package (specs-go/features) and reuse names such as `Linux` and `Seccomp`; here they are
// nested in `Features` so `Features.Linux` does not clash with the configuration's `Linux`.
// For every list, nil means "unknown", not "none".

/// The runtime's supported features.
public struct Features: Codable, Sendable, Equatable {
    /// Not in features.md; kept for runtimes that print it. Nil by default, and then omitted.
    public var ociVersion: String?
    /// The oldest runtime-spec version recognized.
    public var ociVersionMin: String?
    /// The newest runtime-spec version recognized.
    public var ociVersionMax: String?
    /// Recognized hook names, e.g. `createRuntime`.
    public var hooks: [String]?
    /// Recognized mount options, e.g. `ro`, `rbind`.
    public var mountOptions: [String]?
    /// Linux features.
    public var linux: Linux?
    /// Implementation-specific annotations, e.g. the runtime's version.
    public var annotations: [String: String]?
    /// Config annotations that may weaken isolation; an entry ending in `.` is a prefix.
    public var potentiallyUnsafeConfigAnnotations: [String]?

    /// A features document.
    public init(
        ociVersion: String? = nil, ociVersionMin: String? = nil, ociVersionMax: String? = nil, hooks: [String]? = nil,
        mountOptions: [String]? = nil, linux: Linux? = nil, annotations: [String: String]? = nil,
        potentiallyUnsafeConfigAnnotations: [String]? = nil
    ) {
        self.ociVersion = ociVersion
        self.ociVersionMin = ociVersionMin
        self.ociVersionMax = ociVersionMax
        self.hooks = hooks
        self.mountOptions = mountOptions
        self.linux = linux
        self.annotations = annotations
        self.potentiallyUnsafeConfigAnnotations = potentiallyUnsafeConfigAnnotations
    }

    /// The document as JSON in runc's layout (two-space indent).
    public func encodedPretty() throws -> String {
        try JSONEncoding.encode(self, pretty: true)
    }

    /// Linux features (features-linux.md).
    public struct Linux: Codable, Sendable, Equatable {
        /// Recognized namespace types.
        public var namespaces: [String]?
        /// Recognized capability names.
        public var capabilities: [String]?
        /// Cgroup support.
        public var cgroup: Cgroup?
        /// Seccomp support.
        public var seccomp: Seccomp?
        /// AppArmor support.
        public var apparmor: Apparmor?
        /// SELinux support.
        public var selinux: Selinux?
        /// Intel RDT support.
        public var intelRdt: IntelRdt?
        /// Mount extensions (id-mapped mounts).
        public var mountExtensions: MountExtensions?
        /// `linux.netDevices` support.
        public var netDevices: NetDevices?
        /// `linux.memoryPolicy` support.
        public var memoryPolicy: MemoryPolicy?

        /// Linux features.
        public init(
            namespaces: [String]? = nil, capabilities: [String]? = nil, cgroup: Cgroup? = nil, seccomp: Seccomp? = nil,
            apparmor: Apparmor? = nil, selinux: Selinux? = nil, intelRdt: IntelRdt? = nil,
            mountExtensions: MountExtensions? = nil, netDevices: NetDevices? = nil, memoryPolicy: MemoryPolicy? = nil
        ) {
            self.namespaces = namespaces
            self.capabilities = capabilities
            self.cgroup = cgroup
            self.seccomp = seccomp
            self.apparmor = apparmor
            self.selinux = selinux
            self.intelRdt = intelRdt
            self.mountExtensions = mountExtensions
            self.netDevices = netDevices
            self.memoryPolicy = memoryPolicy
        }
    }

    /// Which cgroup drivers are compiled in (not what the host uses).
    public struct Cgroup: Codable, Sendable, Equatable {
        /// cgroup v1.
        public var v1: Bool?
        /// cgroup v2.
        public var v2: Bool?
        /// The systemd driver.
        public var systemd: Bool?
        /// The user-scoped systemd driver.
        public var systemdUser: Bool?
        /// The rdma controller.
        public var rdma: Bool?

        /// Cgroup support.
        public init(v1: Bool? = nil, v2: Bool? = nil, systemd: Bool? = nil, systemdUser: Bool? = nil, rdma: Bool? = nil) {
            self.v1 = v1
            self.v2 = v2
            self.systemd = systemd
            self.systemdUser = systemdUser
            self.rdma = rdma
        }
    }

    /// Seccomp support.
    public struct Seccomp: Codable, Sendable, Equatable {
        /// Whether seccomp is compiled in.
        public var enabled: Bool?
        /// Recognized actions.
        public var actions: [String]?
        /// Recognized operators.
        public var operators: [String]?
        /// Recognized architectures.
        public var archs: [String]?
        /// Recognized filter flags.
        public var knownFlags: [String]?
        /// Flags the kernel and libseccomp support here.
        public var supportedFlags: [String]?

        /// Seccomp support.
        public init(
            enabled: Bool? = nil, actions: [String]? = nil, operators: [String]? = nil, archs: [String]? = nil,
            knownFlags: [String]? = nil, supportedFlags: [String]? = nil
        ) {
            self.enabled = enabled
            self.actions = actions
            self.operators = operators
            self.archs = archs
            self.knownFlags = knownFlags
            self.supportedFlags = supportedFlags
        }
    }

    /// AppArmor support.
    public struct Apparmor: Codable, Sendable, Equatable {
        /// Whether AppArmor is compiled in.
        public var enabled: Bool?
        /// AppArmor support.
        public init(enabled: Bool? = nil) { self.enabled = enabled }
    }

    /// SELinux support.
    public struct Selinux: Codable, Sendable, Equatable {
        /// Whether SELinux is compiled in.
        public var enabled: Bool?
        /// SELinux support.
        public init(enabled: Bool? = nil) { self.enabled = enabled }
    }

    /// Intel RDT support.
    public struct IntelRdt: Codable, Sendable, Equatable {
        /// Whether RDT is compiled in.
        public var enabled: Bool?
        /// Whether `linux.intelRdt.schemata` is implemented.
        public var schemata: Bool?
        /// Intel RDT support.
        public init(enabled: Bool? = nil, schemata: Bool? = nil) {
            self.enabled = enabled
            self.schemata = schemata
        }
    }

    /// Mount extensions.
    public struct MountExtensions: Codable, Sendable, Equatable {
        /// Id-mapped mounts.
        public var idmap: IDMap?
        /// Mount extensions.
        public init(idmap: IDMap? = nil) { self.idmap = idmap }
    }

    /// Id-mapped mount support.
    public struct IDMap: Codable, Sendable, Equatable {
        /// Whether id-mapped mounts are compiled in.
        public var enabled: Bool?
        /// Id-mapped mount support.
        public init(enabled: Bool? = nil) { self.enabled = enabled }
    }

    /// Network device support.
    public struct NetDevices: Codable, Sendable, Equatable {
        /// Whether `linux.netDevices` is implemented.
        public var enabled: Bool?
        /// Network device support.
        public init(enabled: Bool? = nil) { self.enabled = enabled }
    }

    /// Memory policy support.
    public struct MemoryPolicy: Codable, Sendable, Equatable {
        /// Recognized modes, e.g. `MPOL_BIND`.
        public var modes: [String]?
        /// Recognized flags, e.g. `MPOL_F_STATIC_NODES`.
        public var flags: [String]?
        /// Memory policy support.
        public init(modes: [String]? = nil, flags: [String]? = nil) {
            self.modes = modes
            self.flags = flags
        }
    }
}
