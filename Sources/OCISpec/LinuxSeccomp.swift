// `linux.seccomp` (config-linux.md "Seccomp"). Actions, operators, architectures and flags stay
// strings (`SCMP_ACT_ERRNO`, `SCMP_CMP_EQ`, `SCMP_ARCH_X86_64`, `SECCOMP_FILTER_FLAG_LOG`).

/// A seccomp filter.
public struct LinuxSeccomp: Codable, Sendable, Equatable {
    /// The action for syscalls no rule matches (REQUIRED).
    public var defaultAction: String
    /// The errno returned by a default `SCMP_ACT_ERRNO`/`SCMP_ACT_TRACE` (EPERM when nil).
    public var defaultErrnoRet: UInt?
    /// Extra architectures the filter accepts.
    public var architectures: [String]?
    /// seccomp(2) flags.
    public var flags: [String]?
    /// A UNIX socket that receives the notify fd (`SCMP_ACT_NOTIFY`).
    public var listenerPath: String?
    /// Opaque data sent with the notify fd.
    public var listenerMetadata: String?
    /// The rules, in order.
    public var syscalls: [LinuxSyscall]?

    /// A filter.
    public init(
        defaultAction: String, defaultErrnoRet: UInt? = nil, architectures: [String]? = nil, flags: [String]? = nil,
        listenerPath: String? = nil, listenerMetadata: String? = nil, syscalls: [LinuxSyscall]? = nil
    ) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.flags = flags
        self.listenerPath = listenerPath
        self.listenerMetadata = listenerMetadata
        self.syscalls = syscalls
    }
}

/// A rule: an action for some syscalls, optionally only when their arguments match.
public struct LinuxSyscall: Codable, Sendable, Equatable {
    /// Syscall names (REQUIRED).
    public var names: [String]
    /// The action (REQUIRED).
    public var action: String
    /// The errno for `SCMP_ACT_ERRNO`/`SCMP_ACT_TRACE`.
    public var errnoRet: UInt?
    /// Argument conditions, all of which must match.
    public var args: [LinuxSeccompArg]?

    /// A rule.
    public init(names: [String], action: String, errnoRet: UInt? = nil, args: [LinuxSeccompArg]? = nil) {
        self.names = names
        self.action = action
        self.errnoRet = errnoRet
        self.args = args
    }
}

/// A syscall argument condition.
public struct LinuxSeccompArg: Codable, Sendable, Equatable {
    /// The argument index, 0–5 (REQUIRED).
    public var index: UInt
    /// The value compared against (REQUIRED).
    public var value: UInt64
    /// The second value (`SCMP_CMP_MASKED_EQ`).
    public var valueTwo: UInt64?
    /// The operator, e.g. `SCMP_CMP_EQ` (REQUIRED).
    public var op: String

    /// An argument condition.
    public init(index: UInt, value: UInt64, valueTwo: UInt64? = nil, op: String) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }
}
