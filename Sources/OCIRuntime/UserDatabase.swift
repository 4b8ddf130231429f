import LinuxSystem

/// The container's own /etc/passwd and /etc/group, parsed as runc does (no NSS: a static binary
/// must not load the host's NSS modules, and the container's files are the ones that count).
public enum UserDatabase {
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var uid: UInt32
        public var gid: UInt32
        public var home: String
    }

    public struct Group: Equatable, Sendable {
        public var name: String
        public var gid: UInt32
        public var members: [String]
    }

    public static func parsePasswd(_ text: String) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 6, let uid = UInt32(f[2]), let gid = UInt32(f[3]) else { return nil }
            return Entry(name: String(f[0]), uid: uid, gid: gid, home: String(f[5]))
        }
    }

    public static func parseGroup(_ text: String) -> [Group] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 4, let gid = UInt32(f[2]) else { return nil }
            return Group(name: String(f[0]), gid: gid, members: f[3].split(separator: ",").map(String.init))
        }
    }

    static func passwd(_ root: String) -> [Entry] {
        parsePasswd((try? Files.readString(root + "/etc/passwd")) ?? "")
    }

    static func groups(_ root: String) -> [Group] {
        parseGroup((try? Files.readString(root + "/etc/group")) ?? "")
    }

    /// The home directory of `uid` in the current root.
    public static func home(uid: UInt32, root: String = "") -> String? {
        passwd(root).first { $0.uid == uid }?.home
    }

    /// The groups that list the user of `uid` as a member (nil when none are found).
    public static func supplementaryGroups(uid: UInt32, gid: UInt32, root: String = "") -> [UInt32]? {
        guard let name = passwd(root).first(where: { $0.uid == uid })?.name else { return nil }
        let g = groups(root).filter { $0.members.contains(name) && $0.gid != gid }.map(\.gid)
        return g.isEmpty ? nil : g
    }

    /// Resolves `user[:group]` (names or numbers), as `exec --user` takes it.
    public static func resolve(_ spec: String, root: String) throws -> (uid: UInt32, gid: UInt32) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty else {
            throw RuntimeError(.invalidArgument, "invalid user \"\(spec)\": expected uid[:gid] or name[:group]")
        }
        let users = passwd(root)
        var uid: UInt32, gid: UInt32
        if let n = UInt32(parts[0]) {
            uid = n
            gid = users.first { $0.uid == n }?.gid ?? 0
        } else if let e = users.first(where: { $0.name == parts[0] }) {
            uid = e.uid; gid = e.gid
        } else {
            throw RuntimeError(.notFound, "user \"\(parts[0])\" not found in the container's /etc/passwd")
        }
        _ = first
        if parts.count == 2, !parts[1].isEmpty {
            if let n = UInt32(parts[1]) { gid = n }
            else if let g = groups(root).first(where: { $0.name == parts[1] }) { gid = g.gid }
            else { throw RuntimeError(.notFound, "group \"\(parts[1])\" not found in the container's /etc/group") }
        }
        return (uid, gid)
    }
}
