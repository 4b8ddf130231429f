/// The container statuses of the OCI runtime spec (runtime.md "State"), plus `paused` as runc
/// reports it, and the operations each allows.
public enum ContainerStatus: String, Sendable, CaseIterable {
    case creating, created, running, paused, stopped

    public var canStart: Bool { self == .created }
    /// runc refuses to signal a stopped container ("container not running").
    public var canKill: Bool { self == .created || self == .running || self == .paused }
    /// Without --force only a stopped container can be deleted; runc also deletes a created one.
    public var canDelete: Bool { self == .stopped || self == .created }
    public var canPause: Bool { self == .running }
    public var canResume: Bool { self == .paused }
    public var canExec: Bool { self == .running || self == .created }
}

/// The operations a command can ask of a container, for the state-transition table.
public enum ContainerOperation: String, Sendable, CaseIterable {
    case start, kill, delete, pause, resume, exec

    public func allowed(in status: ContainerStatus) -> Bool {
        switch self {
        case .start: return status.canStart
        case .kill: return status.canKill
        case .delete: return status.canDelete
        case .pause: return status.canPause
        case .resume: return status.canResume
        case .exec: return status.canExec
        }
    }
}
