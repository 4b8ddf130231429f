import CLinux
import OCISpec

/// The eight Linux namespace types of config-linux.md, with their clone flag and /proc name.
public enum NamespaceKind: String, CaseIterable, Sendable {
    case pid, network, mount, ipc, uts, user, cgroup, time

    public var cloneFlag: Int32 {
        switch self {
        case .pid: return ocirun_CLONE_NEWPID
        case .network: return ocirun_CLONE_NEWNET
        case .mount: return ocirun_CLONE_NEWNS
        case .ipc: return ocirun_CLONE_NEWIPC
        case .uts: return ocirun_CLONE_NEWUTS
        case .user: return ocirun_CLONE_NEWUSER
        case .cgroup: return ocirun_CLONE_NEWCGROUP
        case .time: return ocirun_CLONE_NEWTIME
        }
    }

    /// The kind of a config's `type`: comparisons, not the synthesized `init(rawValue:)`,
    /// whose generic string-switch helper costs more on every create.
    public static func named(_ type: String) -> NamespaceKind? {
        switch type {
        case "pid": return .pid
        case "network": return .network
        case "mount": return .mount
        case "ipc": return .ipc
        case "uts": return .uts
        case "user": return .user
        case "cgroup": return .cgroup
        case "time": return .time
        default: return nil
        }
    }

    /// The file name under /proc/PID/ns.
    public var procName: String {
        switch self {
        case .network: return "net"
        case .mount: return "mnt"
        default: return rawValue
        }
    }
}

/// The namespaces of a config, validated: known types, no duplicates.
public struct NamespacePlan: Sendable {
    /// Namespaces created new for the container.
    public var new: [NamespaceKind] = []
    /// Namespaces joined by path.
    public var joined: [(NamespaceKind, String)] = []

    public init(_ namespaces: [LinuxNamespace]?) throws {
        for (i, ns) in (namespaces ?? []).enumerated() {
            guard let kind = NamespaceKind.named(ns.type) else {
                throw RuntimeError(.invalidArgument, "linux.namespaces[\(i)]: unknown namespace type \"\(ns.type)\"")
            }
            // Eight kinds at most: the lists, not a Set (no hashing metadata on every create).
            guard !has(kind) else {
                throw RuntimeError(.invalidArgument, "linux.namespaces[\(i)]: namespace type \"\(ns.type)\" given twice")
            }
            if let path = ns.path, !path.isEmpty {
                joined.append((kind, path))
            } else {
                new.append(kind)
            }
        }
    }

    public func has(_ kind: NamespaceKind) -> Bool {
        new.contains(kind) || joined.contains { $0.0 == kind }
    }

    public var cloneFlags: Int32 { new.reduce(0) { $0 | $1.cloneFlag } }
}
