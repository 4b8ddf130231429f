// `linux.resources`: cgroup limits (config-linux.md "Control groups").
// Integer widths are Go's: memory values are Int64 because -1 means unlimited.

/// Cgroup limits of the container.
public struct LinuxResources: Codable, Sendable, Equatable {
    /// The device allow/deny list, applied in order.
    public var devices: [LinuxDeviceCgroup]?
    /// Memory limits.
    public var memory: LinuxMemory?
    /// CPU and cpuset limits.
    public var cpu: LinuxCPU?
    /// The pids limit.
    public var pids: LinuxPids?
    /// Block I/O weights and throttles.
    public var blockIO: LinuxBlockIO?
    /// Hugetlb limits per page size.
    public var hugepageLimits: [LinuxHugepageLimit]?
    /// Network class id and priorities (cgroup v1).
    public var network: LinuxNetwork?
    /// RDMA limits keyed by device name.
    public var rdma: [String: LinuxRdma]?
    /// Raw cgroup v2 files to write, e.g. `memory.high`.
    public var unified: [String: String]?

    /// Resource limits.
    public init(
        devices: [LinuxDeviceCgroup]? = nil, memory: LinuxMemory? = nil, cpu: LinuxCPU? = nil, pids: LinuxPids? = nil,
        blockIO: LinuxBlockIO? = nil, hugepageLimits: [LinuxHugepageLimit]? = nil, network: LinuxNetwork? = nil,
        rdma: [String: LinuxRdma]? = nil, unified: [String: String]? = nil
    ) {
        self.devices = devices
        self.memory = memory
        self.cpu = cpu
        self.pids = pids
        self.blockIO = blockIO
        self.hugepageLimits = hugepageLimits
        self.network = network
        self.rdma = rdma
        self.unified = unified
    }
}

/// One device-cgroup rule.
public struct LinuxDeviceCgroup: Codable, Sendable, Equatable {
    /// Allow (true) or deny (REQUIRED).
    public var allow: Bool
    /// `a`, `c` or `b`; nil means all.
    public var type: String?
    /// Major number; nil means all.
    public var major: Int64?
    /// Minor number; nil means all.
    public var minor: Int64?
    /// Some of `r`, `w`, `m`.
    public var access: String?

    /// A device rule.
    public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
        self.allow = allow
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access
    }
}

/// Memory limits, bytes (-1 is unlimited).
public struct LinuxMemory: Codable, Sendable, Equatable {
    /// The hard limit.
    public var limit: Int64?
    /// The soft limit.
    public var reservation: Int64?
    /// Memory plus swap.
    public var swap: Int64?
    /// Kernel memory (deprecated, cgroup v1).
    public var kernel: Int64?
    /// Kernel TCP buffers (cgroup v1).
    public var kernelTCP: Int64?
    /// vm.swappiness for the cgroup, 0–100.
    public var swappiness: UInt64?
    /// Disables the OOM killer (cgroup v1).
    public var disableOOMKiller: Bool?
    /// Hierarchical accounting (cgroup v1).
    public var useHierarchy: Bool?
    /// Refuse a new limit below current usage on update.
    public var checkBeforeUpdate: Bool?

    /// Memory limits.
    public init(
        limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil, kernel: Int64? = nil,
        kernelTCP: Int64? = nil, swappiness: UInt64? = nil, disableOOMKiller: Bool? = nil,
        useHierarchy: Bool? = nil, checkBeforeUpdate: Bool? = nil
    ) {
        self.limit = limit
        self.reservation = reservation
        self.swap = swap
        self.kernel = kernel
        self.kernelTCP = kernelTCP
        self.swappiness = swappiness
        self.disableOOMKiller = disableOOMKiller
        self.useHierarchy = useHierarchy
        self.checkBeforeUpdate = checkBeforeUpdate
    }
}

/// CPU and cpuset limits.
public struct LinuxCPU: Codable, Sendable, Equatable {
    /// Relative weight (cgroup v1 shares; converted to a v2 weight).
    public var shares: UInt64?
    /// Microseconds of CPU per period; -1 is unlimited.
    public var quota: Int64?
    /// Burst microseconds on top of the quota.
    public var burst: UInt64?
    /// The quota period, microseconds.
    public var period: UInt64?
    /// Realtime runtime, microseconds.
    public var realtimeRuntime: Int64?
    /// Realtime period, microseconds.
    public var realtimePeriod: UInt64?
    /// The cpuset CPUs, e.g. `0-3,7`.
    public var cpus: String?
    /// The cpuset memory nodes.
    public var mems: String?
    /// 1 makes the cgroup SCHED_IDLE.
    public var idle: Int64?

    /// CPU limits.
    public init(
        shares: UInt64? = nil, quota: Int64? = nil, burst: UInt64? = nil, period: UInt64? = nil,
        realtimeRuntime: Int64? = nil, realtimePeriod: UInt64? = nil, cpus: String? = nil, mems: String? = nil,
        idle: Int64? = nil
    ) {
        self.shares = shares
        self.quota = quota
        self.burst = burst
        self.period = period
        self.realtimeRuntime = realtimeRuntime
        self.realtimePeriod = realtimePeriod
        self.cpus = cpus
        self.mems = mems
        self.idle = idle
    }
}

/// The pids limit.
public struct LinuxPids: Codable, Sendable, Equatable {
    /// Maximum number of tasks; 0 or -1 is unlimited (REQUIRED).
    public var limit: Int64

    /// A pids limit.
    public init(limit: Int64) {
        self.limit = limit
    }
}

/// Block I/O weights and throttles.
public struct LinuxBlockIO: Codable, Sendable, Equatable {
    /// The cgroup's weight, 10–1000.
    public var weight: UInt16?
    /// The weight against child cgroups (CFQ, cgroup v1).
    public var leafWeight: UInt16?
    /// Per-device weights.
    public var weightDevice: [LinuxWeightDevice]?
    /// Per-device read bytes/s.
    public var throttleReadBpsDevice: [LinuxThrottleDevice]?
    /// Per-device write bytes/s.
    public var throttleWriteBpsDevice: [LinuxThrottleDevice]?
    /// Per-device read I/O/s.
    public var throttleReadIOPSDevice: [LinuxThrottleDevice]?
    /// Per-device write I/O/s.
    public var throttleWriteIOPSDevice: [LinuxThrottleDevice]?

    /// Block I/O limits.
    public init(
        weight: UInt16? = nil, leafWeight: UInt16? = nil, weightDevice: [LinuxWeightDevice]? = nil,
        throttleReadBpsDevice: [LinuxThrottleDevice]? = nil, throttleWriteBpsDevice: [LinuxThrottleDevice]? = nil,
        throttleReadIOPSDevice: [LinuxThrottleDevice]? = nil, throttleWriteIOPSDevice: [LinuxThrottleDevice]? = nil
    ) {
        self.weight = weight
        self.leafWeight = leafWeight
        self.weightDevice = weightDevice
        self.throttleReadBpsDevice = throttleReadBpsDevice
        self.throttleWriteBpsDevice = throttleWriteBpsDevice
        self.throttleReadIOPSDevice = throttleReadIOPSDevice
        self.throttleWriteIOPSDevice = throttleWriteIOPSDevice
    }
}

/// A per-device block I/O weight (Go embeds LinuxBlockIODevice; its fields are inlined here).
public struct LinuxWeightDevice: Codable, Sendable, Equatable {
    /// Major number (REQUIRED).
    public var major: Int64
    /// Minor number (REQUIRED).
    public var minor: Int64
    /// The weight.
    public var weight: UInt16?
    /// The leaf weight (CFQ).
    public var leafWeight: UInt16?

    /// A device weight.
    public init(major: Int64, minor: Int64, weight: UInt16? = nil, leafWeight: UInt16? = nil) {
        self.major = major
        self.minor = minor
        self.weight = weight
        self.leafWeight = leafWeight
    }
}

/// A per-device block I/O rate limit.
public struct LinuxThrottleDevice: Codable, Sendable, Equatable {
    /// Major number (REQUIRED).
    public var major: Int64
    /// Minor number (REQUIRED).
    public var minor: Int64
    /// Bytes or operations per second (REQUIRED).
    public var rate: UInt64

    /// A device rate limit.
    public init(major: Int64, minor: Int64, rate: UInt64) {
        self.major = major
        self.minor = minor
        self.rate = rate
    }
}

/// A hugetlb limit.
public struct LinuxHugepageLimit: Codable, Sendable, Equatable {
    /// The page size, e.g. `2MB` (REQUIRED).
    public var pageSize: String
    /// Bytes (REQUIRED).
    public var limit: UInt64

    /// A hugetlb limit.
    public init(pageSize: String, limit: UInt64) {
        self.pageSize = pageSize
        self.limit = limit
    }
}

/// Network class id and interface priorities (cgroup v1 net_cls / net_prio).
public struct LinuxNetwork: Codable, Sendable, Equatable {
    /// The net_cls class id.
    public var classID: UInt32?
    /// Per-interface priorities.
    public var priorities: [LinuxInterfacePriority]?

    /// Network settings.
    public init(classID: UInt32? = nil, priorities: [LinuxInterfacePriority]? = nil) {
        self.classID = classID
        self.priorities = priorities
    }
}

/// A network interface priority.
public struct LinuxInterfacePriority: Codable, Sendable, Equatable {
    /// Interface name (REQUIRED).
    public var name: String
    /// Priority (REQUIRED).
    public var priority: UInt32

    /// An interface priority.
    public init(name: String, priority: UInt32) {
        self.name = name
        self.priority = priority
    }
}

/// RDMA limits for one device.
public struct LinuxRdma: Codable, Sendable, Equatable {
    /// Maximum HCA handles.
    public var hcaHandles: UInt32?
    /// Maximum HCA objects.
    public var hcaObjects: UInt32?

    /// RDMA limits.
    public init(hcaHandles: UInt32? = nil, hcaObjects: UInt32? = nil) {
        self.hcaHandles = hcaHandles
        self.hcaObjects = hcaObjects
    }
}
