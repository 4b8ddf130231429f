#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem

/// Mount flags named in `mounts[].options` (mount(8) names), split into the flags for mount(2),
/// the propagation changes applied after it, and the leftover filesystem data string.
public struct MountOptions: Equatable, Sendable {
    public var flags: UInt = 0
    /// Flags the options clear (`rw`, `suid`…), so a bind remount does not keep them.
    public var cleared: UInt = 0
    public var propagation: [UInt] = []
    public var data: [String] = []
    public var isBind: Bool { flags & UInt(MS_BIND) != 0 }
    public var isRecursive: Bool { flags & UInt(MS_REC) != 0 }

    static let table: [String: (set: Bool, flag: UInt)] = [
        "ro": (true, UInt(MS_RDONLY)), "rw": (false, UInt(MS_RDONLY)),
        "nosuid": (true, UInt(MS_NOSUID)), "suid": (false, UInt(MS_NOSUID)),
        "nodev": (true, UInt(MS_NODEV)), "dev": (false, UInt(MS_NODEV)),
        "noexec": (true, UInt(MS_NOEXEC)), "exec": (false, UInt(MS_NOEXEC)),
        "sync": (true, UInt(MS_SYNCHRONOUS)), "async": (false, UInt(MS_SYNCHRONOUS)),
        "dirsync": (true, UInt(MS_DIRSYNC)),
        "remount": (true, UInt(MS_REMOUNT)),
        "mand": (true, UInt(MS_MANDLOCK)), "nomand": (false, UInt(MS_MANDLOCK)),
        "noatime": (true, UInt(MS_NOATIME)), "atime": (false, UInt(MS_NOATIME)),
        "nodiratime": (true, UInt(MS_NODIRATIME)), "diratime": (false, UInt(MS_NODIRATIME)),
        "relatime": (true, UInt(MS_RELATIME)), "norelatime": (false, UInt(MS_RELATIME)),
        "strictatime": (true, UInt(MS_STRICTATIME)), "nostrictatime": (false, UInt(MS_STRICTATIME)),
        "silent": (true, UInt(MS_SILENT)), "loud": (false, UInt(MS_SILENT)),
        "iversion": (true, UInt(MS_I_VERSION)), "noiversion": (false, UInt(MS_I_VERSION)),
        "lazytime": (true, UInt(1 << 25)), "nolazytime": (false, UInt(1 << 25)),
        "bind": (true, UInt(MS_BIND)), "rbind": (true, UInt(MS_BIND) | UInt(MS_REC)),
        "defaults": (true, 0),
    ]

    static let propagationTable: [String: UInt] = [
        "private": UInt(MS_PRIVATE), "rprivate": UInt(MS_PRIVATE) | UInt(MS_REC),
        "shared": UInt(MS_SHARED), "rshared": UInt(MS_SHARED) | UInt(MS_REC),
        "slave": UInt(MS_SLAVE), "rslave": UInt(MS_SLAVE) | UInt(MS_REC),
        "unbindable": UInt(MS_UNBINDABLE), "runbindable": UInt(MS_UNBINDABLE) | UInt(MS_REC),
    ]

    /// Options runc accepts and ignores here (handled elsewhere or by other engines).
    static let ignored: Set<String> = ["tmpcopyup", "rro", "rrw", "rnosuid", "rnodev", "rnoexec", "idmap", "ridmap",
                                       "nosymfollow", "rnosymfollow", "symfollow", "rsymfollow", "copy-symlink"]

    public init() {}

    public init(_ options: [String]) {
        for o in options {
            if let (set, flag) = MountOptions.table[o] {
                if set { flags |= flag; cleared &= ~flag } else { flags &= ~flag; cleared |= flag }
            } else if let p = MountOptions.propagationTable[o] {
                propagation.append(p)
            } else if MountOptions.ignored.contains(o) {
                continue
            } else {
                data.append(o)
            }
        }
    }

    public var dataString: String { Files.join(data, ",") }
}
