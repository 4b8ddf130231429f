import JSON

// The container configuration (`config.json`) of the OCI runtime spec 1.0–1.2, config.md.
// Type names are the Go names of runtime-spec's specs-go/config.go; property names are the JSON
// keys; properties are declared in Go's field order so encoding gives runc's key order.
// Fields the spec marks REQUIRED are non-optional; everything else is Optional and omitted
// when nil. Enum-like values stay `String`: the runtime validates them and names the bad value.
// Solaris, Windows, VM and z/OS sections are not modelled (decoding ignores them).

/// The container configuration, `config.json` (config.md).
public struct Spec: Codable, Sendable, Equatable {
    /// The runtime-spec version the bundle complies with (REQUIRED), e.g. `1.2.0`.
    public var ociVersion: String
    /// The container process; required by `start`.
    public var process: Process?
    /// The container's root filesystem.
    public var root: Root?
    /// The container's hostname (needs a UTS namespace).
    public var hostname: String?
    /// The container's NIS domain name (needs a UTS namespace).
    public var domainname: String?
    /// Additional mounts, in order, on top of `root`.
    public var mounts: [Mount]?
    /// Lifecycle hooks.
    public var hooks: Hooks?
    /// Arbitrary metadata.
    public var annotations: [String: String]?
    /// Linux-specific configuration.
    public var linux: Linux?

    /// A configuration; only `ociVersion` is required.
    public init(
        ociVersion: String = Spec.currentVersion, process: Process? = nil, root: Root? = nil,
        hostname: String? = nil, domainname: String? = nil, mounts: [Mount]? = nil, hooks: Hooks? = nil,
        annotations: [String: String]? = nil, linux: Linux? = nil
    ) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.domainname = domainname
        self.mounts = mounts
        self.hooks = hooks
        self.annotations = annotations
        self.linux = linux
    }

    /// The runtime-spec version this model implements and `defaultConfig` writes.
    public static let currentVersion = "1.2.0"
}

/// The process to run in the container (config.md "Process").
public struct Process: Codable, Sendable, Equatable {
    /// Whether to attach a pseudoterminal to the process.
    public var terminal: Bool?
    /// The console size in characters, used when `terminal` is true.
    public var consoleSize: Box?
    /// The user the process runs as (REQUIRED on Linux).
    public var user: User
    /// The program and its arguments; `args[0]` is looked up in the container's `PATH`.
    public var args: [String]?
    /// The full command line (Windows only; kept so such configs round-trip).
    public var commandLine: String?
    /// The environment, `KEY=value` strings.
    public var env: [String]?
    /// The working directory, absolute inside the container (REQUIRED).
    public var cwd: String
    /// Capability sets.
    public var capabilities: LinuxCapabilities?
    /// Resource limits, applied with setrlimit(2).
    public var rlimits: [POSIXRlimit]?
    /// Sets `PR_SET_NO_NEW_PRIVS`.
    public var noNewPrivileges: Bool?
    /// The AppArmor profile.
    public var apparmorProfile: String?
    /// Written to `/proc/self/oom_score_adj`.
    public var oomScoreAdj: Int?
    /// Scheduling policy and attributes, applied with sched_setattr(2) (spec 1.2).
    public var scheduler: Scheduler?
    /// The SELinux label of the process.
    public var selinuxLabel: String?
    /// The I/O priority, applied with ioprio_set(2) (spec 1.2).
    public var ioPriority: LinuxIOPriority?
    /// CPU affinity while and after joining the container (exec only; spec 1.2).
    public var execCPUAffinity: CPUAffinity?

    /// A process; `user` and `cwd` are required.
    public init(
        terminal: Bool? = nil, consoleSize: Box? = nil, user: User = User(), args: [String]? = nil,
        commandLine: String? = nil, env: [String]? = nil, cwd: String = "/",
        capabilities: LinuxCapabilities? = nil, rlimits: [POSIXRlimit]? = nil, noNewPrivileges: Bool? = nil,
        apparmorProfile: String? = nil, oomScoreAdj: Int? = nil, scheduler: Scheduler? = nil,
        selinuxLabel: String? = nil, ioPriority: LinuxIOPriority? = nil, execCPUAffinity: CPUAffinity? = nil
    ) {
        self.terminal = terminal
        self.consoleSize = consoleSize
        self.user = user
        self.args = args
        self.commandLine = commandLine
        self.env = env
        self.cwd = cwd
        self.capabilities = capabilities
        self.rlimits = rlimits
        self.noNewPrivileges = noNewPrivileges
        self.apparmorProfile = apparmorProfile
        self.oomScoreAdj = oomScoreAdj
        self.scheduler = scheduler
        self.selinuxLabel = selinuxLabel
        self.ioPriority = ioPriority
        self.execCPUAffinity = execCPUAffinity
    }
}

/// A console size.
public struct Box: Codable, Sendable, Equatable {
    /// Rows.
    public var height: UInt
    /// Columns.
    public var width: UInt

    /// A console of `height` rows and `width` columns.
    public init(height: UInt, width: UInt) {
        self.height = height
        self.width = width
    }
}

/// The user and groups of a process (config.md "User").
public struct User: Codable, Sendable, Equatable {
    /// The user id in the container (REQUIRED).
    public var uid: UInt32
    /// The group id in the container (REQUIRED).
    public var gid: UInt32
    /// The umask of the process.
    public var umask: UInt32?
    /// Supplementary group ids.
    public var additionalGids: [UInt32]?
    /// The user name (Windows only).
    public var username: String?

    /// A user; root by default.
    public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil, username: String? = nil) {
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additionalGids = additionalGids
        self.username = username
    }
}

/// The container's root filesystem (config.md "Root").
public struct Root: Codable, Sendable, Equatable {
    /// The rootfs path, absolute or relative to the bundle (REQUIRED).
    public var path: String
    /// Whether the rootfs is remounted read-only.
    public var readonly: Bool?

    /// A root filesystem at `path`.
    public init(path: String, readonly: Bool? = nil) {
        self.path = path
        self.readonly = readonly
    }
}

/// One mount (config.md "Mounts").
public struct Mount: Codable, Sendable, Equatable {
    /// Where to mount, inside the container (REQUIRED).
    public var destination: String
    /// The filesystem type (`proc`, `tmpfs`, `bind`, `none`, ...).
    public var type: String?
    /// A device, a host path for bind mounts, or a dummy name.
    public var source: String?
    /// fstab-style options: flags (`ro`, `nosuid`, `rbind`, `rprivate`, ...) and data (`mode=755`).
    public var options: [String]?
    /// An id-mapped mount's uid mappings (spec 1.1).
    public var uidMappings: [LinuxIDMapping]?
    /// An id-mapped mount's gid mappings (spec 1.1).
    public var gidMappings: [LinuxIDMapping]?

    /// A mount at `destination`.
    public init(
        destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil,
        uidMappings: [LinuxIDMapping]? = nil, gidMappings: [LinuxIDMapping]? = nil
    ) {
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
    }
}

/// Lifecycle hooks (config.md "POSIX-platform Hooks"), each list run in order.
public struct Hooks: Codable, Sendable, Equatable {
    /// Deprecated: run after create, in the runtime namespace (use `createRuntime`).
    public var prestart: [Hook]?
    /// Run during create, after the namespaces exist, in the runtime namespace.
    public var createRuntime: [Hook]?
    /// Run during create, before pivot_root, in the container namespace.
    public var createContainer: [Hook]?
    /// Run during start, before the user process executes, in the container namespace.
    public var startContainer: [Hook]?
    /// Run after the user process started, in the runtime namespace.
    public var poststart: [Hook]?
    /// Run after the container is deleted, in the runtime namespace.
    public var poststop: [Hook]?

    /// A set of hooks.
    public init(
        prestart: [Hook]? = nil, createRuntime: [Hook]? = nil, createContainer: [Hook]? = nil,
        startContainer: [Hook]? = nil, poststart: [Hook]? = nil, poststop: [Hook]? = nil
    ) {
        self.prestart = prestart
        self.createRuntime = createRuntime
        self.createContainer = createContainer
        self.startContainer = startContainer
        self.poststart = poststart
        self.poststop = poststop
    }
}

/// One hook command; it receives the container state on stdin.
public struct Hook: Codable, Sendable, Equatable {
    /// Absolute path of the program (REQUIRED).
    public var path: String
    /// Its argv, `args[0]` included.
    public var args: [String]?
    /// Its environment.
    public var env: [String]?
    /// Seconds before the hook is aborted; must be positive.
    public var timeout: Int?

    /// A hook running `path`.
    public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }
}

/// The capability sets of the process (config.md "Linux Process"), names like `CAP_KILL`.
public struct LinuxCapabilities: Codable, Sendable, Equatable {
    /// The bounding set.
    public var bounding: [String]?
    /// The effective set.
    public var effective: [String]?
    /// The inheritable set.
    public var inheritable: [String]?
    /// The permitted set.
    public var permitted: [String]?
    /// The ambient set.
    public var ambient: [String]?

    /// Capability sets.
    public init(
        bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
        permitted: [String]? = nil, ambient: [String]? = nil
    ) {
        self.bounding = bounding
        self.effective = effective
        self.inheritable = inheritable
        self.permitted = permitted
        self.ambient = ambient
    }
}

/// One resource limit (config.md "POSIX process").
public struct POSIXRlimit: Codable, Sendable, Equatable {
    /// The limit, e.g. `RLIMIT_NOFILE` (REQUIRED).
    public var type: String
    /// The ceiling for the soft limit (REQUIRED).
    public var hard: UInt64
    /// The limit enforced (REQUIRED).
    public var soft: UInt64

    /// A resource limit.
    public init(type: String, hard: UInt64, soft: UInt64) {
        self.type = type
        self.hard = hard
        self.soft = soft
    }
}

/// Scheduling attributes for sched_setattr(2) (spec 1.2).
public struct Scheduler: Codable, Sendable, Equatable {
    /// `SCHED_OTHER`, `SCHED_FIFO`, `SCHED_RR`, `SCHED_BATCH`, `SCHED_ISO`, `SCHED_IDLE` or `SCHED_DEADLINE` (REQUIRED).
    public var policy: String
    /// The nice value (`SCHED_OTHER`, `SCHED_BATCH`).
    public var nice: Int32?
    /// The static priority (`SCHED_FIFO`, `SCHED_RR`).
    public var priority: Int32?
    /// Flags such as `SCHED_FLAG_RESET_ON_FORK`.
    public var flags: [String]?
    /// `SCHED_DEADLINE` runtime, nanoseconds.
    public var runtime: UInt64?
    /// `SCHED_DEADLINE` deadline, nanoseconds.
    public var deadline: UInt64?
    /// `SCHED_DEADLINE` period, nanoseconds.
    public var period: UInt64?

    /// Scheduling attributes.
    public init(
        policy: String, nice: Int32? = nil, priority: Int32? = nil, flags: [String]? = nil,
        runtime: UInt64? = nil, deadline: UInt64? = nil, period: UInt64? = nil
    ) {
        self.policy = policy
        self.nice = nice
        self.priority = priority
        self.flags = flags
        self.runtime = runtime
        self.deadline = deadline
        self.period = period
    }
}

/// The I/O priority of the process (spec 1.2).
public struct LinuxIOPriority: Codable, Sendable, Equatable {
    /// `IOPRIO_CLASS_RT`, `IOPRIO_CLASS_BE` or `IOPRIO_CLASS_IDLE` (REQUIRED).
    public var `class`: String
    /// 0 (highest) to 7 (lowest) (REQUIRED).
    public var priority: Int

    /// An I/O priority.
    public init(class: String, priority: Int) {
        self.class = `class`
        self.priority = priority
    }
}

/// CPU affinity of an exec'd process (spec 1.2), CPU lists such as `0-3,7`.
public struct CPUAffinity: Codable, Sendable, Equatable {
    /// The CPUs the runtime runs on before joining the container's cgroup.
    public var initial: String?
    /// The CPUs the process runs on after joining the container's cgroup.
    public var final: String?

    /// A CPU affinity.
    public init(initial: String? = nil, final: String? = nil) {
        self.initial = initial
        self.final = final
    }
}

extension Spec {
    /// The configuration as JSON in the layout of `runc spec` (two-space indent).
    public func encodedPretty() throws -> String {
        try JSONEncoding.encode(self, pretty: true)
    }

    /// The configuration as compact JSON.
    public func encoded() throws -> String {
        try JSONEncoding.encode(self)
    }

    /// Decodes a configuration from `config.json` bytes.
    ///
    /// - Throws: `JSONError` naming the path of the bad value, e.g. `.process.args: expected array, found string`.
    public static func decode(from bytes: [UInt8]) throws -> Spec {
        try JSONDecoding.decode(Spec.self, from: bytes)
    }
}
