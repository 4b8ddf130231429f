import Glibc
import LinuxSystem
import Testing
@testable import OCIRuntime

@Suite("MountOptions")
struct MountOptionsTests {
    @Test("flags, cleared flags, propagation and data")
    func mixed() {
        let o = MountOptions(["nosuid", "noexec", "nodev", "ro", "rprivate", "mode=755", "size=65536k", "strictatime"])
        #expect(o.flags == UInt(MS_NOSUID) | UInt(MS_NOEXEC) | UInt(MS_NODEV) | UInt(MS_RDONLY) | UInt(MS_STRICTATIME))
        #expect(o.cleared == 0)
        #expect(o.propagation == [UInt(MS_PRIVATE) | UInt(MS_REC)])
        #expect(o.data == ["mode=755", "size=65536k"])
        #expect(o.dataString == "mode=755,size=65536k")
        #expect(!o.isBind)
    }

    @Test("later options win: ro then rw clears MS_RDONLY and records it as cleared")
    func lastWins() {
        let o = MountOptions(["ro", "rw", "nosuid", "suid", "dev"])
        #expect(o.flags & UInt(MS_RDONLY) == 0)
        #expect(o.flags & UInt(MS_NOSUID) == 0)
        #expect(o.cleared == UInt(MS_RDONLY) | UInt(MS_NOSUID) | UInt(MS_NODEV))
        let back = MountOptions(["rw", "ro"])
        #expect(back.flags == UInt(MS_RDONLY))
        #expect(back.cleared == 0)
    }

    @Test("bind and rbind")
    func binds() {
        let b = MountOptions(["bind"])
        #expect(b.isBind && !b.isRecursive)
        let rb = MountOptions(["rbind", "ro"])
        #expect(rb.isBind && rb.isRecursive)
        #expect(rb.flags == UInt(MS_BIND) | UInt(MS_REC) | UInt(MS_RDONLY))
    }

    @Test("propagation options keep their order")
    func propagation() {
        let o = MountOptions(["shared", "rslave", "unbindable", "runbindable", "private"])
        #expect(o.propagation == [UInt(MS_SHARED), UInt(MS_SLAVE) | UInt(MS_REC), UInt(MS_UNBINDABLE),
                                  UInt(MS_UNBINDABLE) | UInt(MS_REC), UInt(MS_PRIVATE)])
        #expect(o.flags == 0)
    }

    @Test("options runc ignores are not passed as data", arguments: ["tmpcopyup", "rro", "idmap", "nosymfollow"])
    func ignored(option: String) {
        let o = MountOptions([option])
        #expect(o.data.isEmpty && o.flags == 0 && o.propagation.isEmpty)
    }

    @Test("an empty list is no flags and no data")
    func empty() {
        #expect(MountOptions([]) == MountOptions())
        #expect(MountOptions([]).dataString == "")
    }
}

@Suite("Files paths")
struct FilesPathTests {
    @Test("clean", arguments: [
        ("/", "/"), ("", "/"), ("//a//b/", "/a/b"), ("/a/./b/.", "/a/b"), ("/a/b/../c", "/a/c"),
        ("/../..", "/"), ("/a/../../b", "/b"), ("a/b", "/a/b"),
        ("/a/..", "/"), ("/.", "/"), ("/a/.x/..y/...", "/a/.x/..y/..."), ("/é/ü/../ß", "/é/ß"),
    ])
    func clean(input: String, output: String) {
        #expect(Files.clean(input) == output)
    }

    /// components keeps `..` (the kernel resolves it, through symlinks, inside the root).
    @Test("components", arguments: [
        ("/", [String]()), ("", []), ("//a//b/", ["a", "b"]), ("/a/./b/.", ["a", "b"]),
        ("/a/../b", ["a", "..", "b"]), ("a/.b/..c", ["a", ".b", "..c"]), ("/é/ß", ["é", "ß"]),
    ])
    func components(input: String, output: [String]) {
        #expect(Files.components(input) == output)
        #expect(Files.join(Files.components(input), "/") == output.joined(separator: "/"))
    }

    @Test("listContains finds whole items of a comma-separated list only")
    func listContains() {
        #expect(Files.listContains("cpu,cpuacct", "cpu"))
        #expect(Files.listContains("cpu,cpuacct", "cpuacct"))
        #expect(Files.listContains("cpuset", "cpuset"))
        #expect(!Files.listContains("cpu,cpuacct", "cpua"))
        #expect(!Files.listContains("cpuset", "cpu"))
        #expect(!Files.listContains("name=systemd", "systemd"))
        #expect(!Files.listContains("", "cpu"))
        #expect(Files.join([], ",") == "" && Files.join(["a"], ",") == "a")
    }

    @Test("read returns whole files: regular ones of any size, and /proc files that report size 0")
    func readWholeFiles() throws {
        let tmp = try TempDir("ocirun-read")
        defer { tmp.remove() }
        let base = tmp.path
        for size in [0, 1, 4095, 4096, 70_000, 200_001] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try Files.writeAtomically(base + "/f", bytes)
            #expect(try Files.read(base + "/f") == bytes, "size \(size)")
        }
        let mountinfo = try Files.readString("/proc/self/mountinfo")
        #expect(mountinfo.hasSuffix("\n") && mountinfo.contains(" / "))
        #expect(ProcessInfo.parse(stat: try Files.readString("/proc/self/stat")) != nil)
    }

    @Test("writeAtomically makes a file, replaces it with its mode kept, and leaves no temp file")
    func writeAtomicallyReplaces() throws {
        let tmp = try TempDir("ocirun-atomic")
        defer { tmp.remove() }
        let path = tmp.path + "/state.json"
        try Files.writeAtomically(path, Array("first, longer".utf8), mode: 0o640)
        try Files.writeAtomically(path, Array("second".utf8), mode: 0o640)
        #expect(try Files.readString(path) == "second")
        #expect(try Files.list(tmp.path) == ["state.json"])
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o640)
    }

    @Test("makeDirectories creates every missing level and accepts existing ones")
    func makeDirectories() throws {
        let tmp = try TempDir("ocirun-mkdirs")
        defer { tmp.remove() }
        let base = tmp.path
        try Files.makeDirectories(base + "/a/b/c")
        #expect(Files.isDirectory(base + "/a/b/c"))
        try Files.makeDirectories(base + "/a/b/c")
        try Files.makeDirectories(base + "/a/d/")
        #expect(Files.isDirectory(base + "/a/d"))
        try Files.writeAtomically(base + "/file", Array("x".utf8))
        #expect(throws: SystemError.self) { try Files.makeDirectories(base + "/file/sub") }
    }

    @Test("listDirectories lists directories only, not files or symlinks to directories")
    func listDirectories() throws {
        let tmp = try TempDir("ocirun-lsdir")
        defer { tmp.remove() }
        let base = tmp.path
        try Files.makeDirectories(base + "/b")
        try Files.makeDirectories(base + "/a")
        try Files.writeAtomically(base + "/file", Array("x".utf8))
        #expect(symlink(base + "/a", base + "/link") == 0)
        #expect(try Files.listDirectories(base).sorted() == ["a", "b"])
        #expect(throws: SystemError.self) { try Files.listDirectories(base + "/missing") }
    }

    @Test("splitParent", arguments: [
        ("/dev/net/tun", "/dev/net", "tun"), ("/x", "/", "x"), ("/", "/", ""),
    ])
    func splitParent(path: String, parent: String, name: String) {
        #expect(Files.splitParent(path) == (parent, name))
    }

    @Test("absolute resolves against the working directory")
    func absolute() {
        let cwd = Files.currentDirectory()
        #expect(Files.absolute("/x/../y") == "/y")
        #expect(Files.absolute("state") == Files.clean(cwd + "/state"))
        #expect(Files.absolute("./a/../b") == Files.clean(cwd + "/b"))
        #expect(Files.absolute(".") == Files.clean(cwd))
    }
}

@Suite("ProcessInfo.parse(stat:)")
struct ProcessStatTests {
    /// Fields 3… of a real stat line; field 22 (start time) is 987654.
    static let tail = "S 1 1234 1234 0 -1 4194560 1000 0 0 0 5 3 0 0 20 0 1 0 987654 10000000 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0"

    @Test("command names with spaces and parentheses", arguments: [
        "sh", "my cmd", "a) S 1 2 3", "(((", "x) (y", ")",
    ])
    func commandNames(comm: String) throws {
        let info = try #require(ProcessInfo.parse(stat: "1234 (\(comm)) \(Self.tail)\n"))
        #expect(info.state == "S")
        #expect(info.startTime == 987_654)
    }

    @Test("zombie state")
    func zombie() {
        let t = Self.tail.replacingOccurrences(of: "S 1 ", with: "Z 1 ", maxReplacements: 1)
        #expect(ProcessInfo.parse(stat: "7 (gone) \(t)")?.state == "Z")
    }

    @Test("malformed lines give nil", arguments: ["", "1234 sh S 1", "1234 (sh) S 1 2 3", "1234 (sh) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 notanumber"])
    func malformed(text: String) {
        #expect(ProcessInfo.parse(stat: text) == nil)
    }

    @Test("this process")
    func own() throws {
        let info = try #require(ProcessInfo.read(pid: getpid()))
        #expect(info.state == "R" || info.state == "S")   // the main thread may be asleep
        #expect(info.startTime > 0)
        #expect(ProcessInfo.read(pid: -5) == nil)
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with new: String, maxReplacements: Int) -> String {
        guard let r = range(of: target) else { return self }
        return replacingCharacters(in: r, with: new)
    }
}

@Suite("UserDatabase")
struct UserDatabaseTests {
    static let passwd = """
        root:x:0:0:root:/root:/bin/sh
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
        # a comment
        broken line
        badnum:x:abc:1::/:/bin/sh
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/sh
        bob:x:1001:100::/home/bob:/bin/sh
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
        """
    static let group = """
        root:x:0:
        users:x:100:alice,bob
        staff:x:50:alice
        alice:x:1000:
        video:x:44:bob,
        nogroup:x:65534:
        """

    @Test("parsePasswd keeps well-formed entries")
    func passwd() {
        let e = UserDatabase.parsePasswd(Self.passwd)
        #expect(e.map(\.name) == ["root", "daemon", "alice", "bob", "nobody"])
        #expect(e[2] == UserDatabase.Entry(name: "alice", uid: 1000, gid: 1000, home: "/home/alice"))
        #expect(e[3].home == "/home/bob")
    }

    @Test("parseGroup with members")
    func group() {
        let g = UserDatabase.parseGroup(Self.group)
        #expect(g.map(\.gid) == [0, 100, 50, 1000, 44, 65534])
        #expect(g[1].members == ["alice", "bob"])
        #expect(g[0].members == [])
        #expect(g[4].members == ["bob"])
    }

    func root() throws -> TempDir {
        let t = try TempDir("ocirun-users")
        try t.write("etc/passwd", Self.passwd)
        try t.write("etc/group", Self.group)
        return t
    }

    @Test("resolve user[:group]", arguments: [
        ("0", UInt32(0), UInt32(0)), ("1000", 1000, 1000), ("alice", 1000, 1000), ("bob", 1001, 100),
        ("alice:staff", 1000, 50), ("alice:44", 1000, 44), ("1001:users", 1001, 100),
        ("4242", 4242, 0), ("4242:4343", 4242, 4343), ("nobody", 65534, 65534),
    ])
    func resolve(spec: String, uid: UInt32, gid: UInt32) throws {
        let t = try root()
        defer { t.remove() }
        let r = try UserDatabase.resolve(spec, root: t.path)
        #expect(r.uid == uid)
        #expect(r.gid == gid)
    }

    @Test("unknown user or group names throw notFound", arguments: ["mallory", "alice:nosuchgroup", "root:"])
    func unknown(spec: String) throws {
        let t = try root()
        defer { t.remove() }
        if spec == "root:" {
            // `root:` with an empty group keeps the user's own gid (runc's user.GetExecUser).
            let r = try UserDatabase.resolve(spec, root: t.path)
            #expect(r.uid == 0 && r.gid == 0)
            return
        }
        let error = #expect(throws: RuntimeError.self) { try UserDatabase.resolve(spec, root: t.path) }
        #expect(error?.code == .notFound)
    }

    @Test("supplementary groups and home")
    func supplementary() throws {
        let t = try root()
        defer { t.remove() }
        #expect(UserDatabase.supplementaryGroups(uid: 1000, gid: 1000, root: t.path) == [100, 50])
        #expect(UserDatabase.supplementaryGroups(uid: 1001, gid: 100, root: t.path) == [44])
        #expect(UserDatabase.supplementaryGroups(uid: 0, gid: 0, root: t.path) == nil)
        #expect(UserDatabase.home(uid: 1000, root: t.path) == "/home/alice")
        #expect(UserDatabase.home(uid: 5, root: t.path) == nil)
    }

    @Test("an empty user spec is an error, not a crash")
    func emptySpec() async {
        await #expect(processExitsWith: .success) {
            _ = try? UserDatabase.resolve("", root: "/nonexistent")
        }
        
    }
}

@Suite("StateStore.validate(id:)")
struct StateStoreIDTests {
    @Test("valid ids", arguments: ["a", "c1", "my-container_1.2+x", String(repeating: "x", count: 1024), "...", ".a"])
    func valid(id: String) throws {
        try StateStore.validate(id: id)
    }

    @Test("invalid ids", arguments: ["", ".", "..", "a/b", "../etc", "a b", "ä", "a\n", "id:1", String(repeating: "x", count: 1025)])
    func invalid(id: String) {
        let error = #expect(throws: RuntimeError.self) { try StateStore.validate(id: id) }
        #expect(error?.code == .invalidArgument)
    }
}

@Suite("RFC 3339 timestamps")
struct RFC3339Tests {
    /// `rfc3339` computes the UTC date itself (no time zone file): it must agree with glibc's
    /// gmtime_r on every kind of day, leap days and years before 1970 included.
    @Test("the date and time agree with gmtime_r")
    func agreesWithGmtime() {
        var samples: [Int] = [0, -1, 59, 86_399, 86_400, 951_782_400, 951_868_799, 4_107_542_400, -2_208_988_800,
                              1_709_164_800, 1_798_675_200, 253_402_300_799]
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            samples.append(Int(x >> 30) % 8_000_000_000 - 3_000_000_000)
        }
        for s in samples {
            var t = time_t(s)
            var tmv = tm()
            gmtime_r(&t, &tmv)
            func pad(_ v: Int32, _ w: Int) -> String {
                let d = String(v)
                return String(repeating: "0", count: max(0, w - d.count)) + d
            }
            let want = "\(pad(tmv.tm_year + 1900, 4))-\(pad(tmv.tm_mon + 1, 2))-\(pad(tmv.tm_mday, 2))T"
                + "\(pad(tmv.tm_hour, 2)):\(pad(tmv.tm_min, 2)):\(pad(tmv.tm_sec, 2)).000000042Z"
            #expect(rfc3339(seconds: s, nanoseconds: 42) == want, "seconds \(s)")
        }
    }
}

    /// A state.json as `StateStore.save` writes it, with `fields` replacing or adding members.
private func stateJSON(_ id: String, _ fields: [String: String] = [:]) -> String {
    var members: [(String, String)] = [
        ("id", "\"\(id)\""), ("pid", "0"), ("startTime", "0"), ("bundle", "\"/b/\(id)\""),
        ("rootfs", "\"/b/\(id)/rootfs\""), ("created", "\"2026-01-01T00:00:00Z\""), ("owner", "\"root\""),
        ("phase", "\"created\""),
    ]
    for (k, v) in fields.sorted(by: { $0.key < $1.key }) {
        if let i = members.firstIndex(where: { $0.0 == k }) { members[i].1 = v } else { members.append((k, v)) }
    }
    return "{" + members.filter { $0.1 != "-" }.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
}

/// State files both `Container.load` and `StateListReader` refuse.
private let damagedStates = ["{", "[]", "", "{\"id\":\"c1\"}"]
    + [["pid": "\"1\""], ["pid": "-2147483649"], ["pid": "1.5"], ["pid": "4294967296"], ["startTime": "true"],
       ["bundle": "3"], ["owner": "null"], ["created": "-"], ["phase": "{}"], ["cgroup": "\"x\""],
       ["annotations": "1"], ["sharedPidNamespace": "\"no\""]].map { stateJSON("c1", $0) }

@Suite("StateStore.ids and StateListReader")
struct StateListTests {
    @Test("ids: the root's directories, in byte order")
    func ids() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var names = (0..<300).map { "c\(($0 * 7919) % 300)" } + ["B", "a", "a.1", "a-1", "_x", "Z9"]
        names.shuffle()
        for n in names { try dir.mkdir(n) }
        try dir.write("file", "not a container")
        #expect(StateStore(root: dir.path).ids() == names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }))
    }

    @Test("sort: every order of a small list")
    func sort() {
        let base = ["a", "b", "b", "c", "d"]
        var seen = 0
        func permute(_ rest: [String], _ prefix: [String]) {
            if rest.isEmpty {
                var a = prefix
                StateStore.sort(&a)
                #expect(a == base)
                seen += 1
                return
            }
            for i in rest.indices { var r = rest; let x = r.remove(at: i); permute(r, prefix + [x]) }
        }
        permute(base, [])
        #expect(seen == 120)
        var empty: [String] = []
        StateStore.sort(&empty)
        #expect(empty.isEmpty)
    }

    @Test("a stopped container: pid 0, its bundle, created and owner")
    func stopped() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.write("c1/state.json", stateJSON("c1", ["pid": "4194304", "startTime": "7", "annotations": #"{"a":"b"}"#,
                                                    "cgroup": #"{"paths":{"unified":"/nowhere"}}"#, "sharedPidNamespace": "false",
                                                    "hostMounts": "null", "unknown": "[1]"]))
        let r = try StateListReader(store: StateStore(root: dir.path))
        #expect(try r.read("c1"))
        #expect(r.status == .stopped)
        #expect(String(decoding: r.text[r.bundle], as: UTF8.self) == "/b/c1")
        #expect(String(decoding: r.text[r.created], as: UTF8.self) == "2026-01-01T00:00:00Z")
        #expect(String(decoding: r.text[r.owner], as: UTF8.self) == "root")
        // Same as Container.load.
        let c = try Container.load("c1", store: StateStore(root: dir.path))
        #expect(c.status == .stopped && c.state.bundle == "/b/c1")
    }

    @Test("this process as the init: running, or created while exec.fifo is there")
    func live() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let me = try #require(ProcessInfo.read(pid: getpid()))
        try dir.write("c1/state.json", stateJSON("c1", ["pid": "\(getpid())", "startTime": "\(me.startTime)", "phase": "\"created\""]))
        let r = try StateListReader(store: StateStore(root: dir.path))
        #expect(try r.read("c1"))
        #expect(r.status == .running && r.pid == getpid())
        try dir.write("c1/exec.fifo", "")
        #expect(try r.read("c1"))
        #expect(r.status == .created)
        try dir.write("c1/state.json", stateJSON("c1", ["pid": "\(getpid())", "startTime": "\(me.startTime)", "phase": "\"creating\""]))
        #expect(try r.read("c1"))
        #expect(r.status == .creating)
        try dir.write("c1/state.json", stateJSON("c1", ["pid": "\(getpid())", "startTime": "\(me.startTime + 1)"]))
        #expect(try r.read("c1"))
        #expect(r.status == .stopped)
    }

    @Test("every field of ContainerState, of the wrong type, is refused by both readers")
    func everyField() throws {
        let sample = ContainerState(id: "c1", pid: 0, startTime: 0, bundle: "/b", rootfs: "/b/rootfs", created: "t",
                                    owner: "root", annotations: nil, cgroup: nil, phase: "created", hostMounts: nil,
                                    loopDevices: nil, sharedPidNamespace: nil)
        let wrong = ["id": "1", "pid": "\"x\"", "startTime": "\"x\"", "bundle": "1", "rootfs": "1", "created": "1",
                     "owner": "1", "annotations": "1", "cgroup": "1", "phase": "1", "hostMounts": "1", "loopDevices": "1",
                     "sharedPidNamespace": "1"]
        let fields = Mirror(reflecting: sample).children.compactMap(\.label)
        #expect(Set(fields) == Set(wrong.keys), "a new ContainerState field: add it to StateListReader's field(_:) and here")
        let dir = try TempDir()
        defer { dir.remove() }
        let r = try StateListReader(store: StateStore(root: dir.path))
        for field in fields {
            try dir.write("c1/state.json", stateJSON("c1", [field: wrong[field] ?? "[]"]))
            #expect(throws: RuntimeError.self, "\(field)") { try r.read("c1") }
            #expect(throws: (any Error).self, "\(field)") { try Container.load("c1", store: StateStore(root: dir.path)) }
        }
    }

    @Test("no state.json: not listed, no error")
    func missing() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.mkdir("c1")
        let r = try StateListReader(store: StateStore(root: dir.path))
        #expect(try r.read("c1") == false)
        #expect(try r.read("absent") == false)
    }

    @Test("a damaged state is an error naming the container, as Container.load's", arguments: damagedStates)
    func damaged(_ text: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.write("c1/state.json", text)
        let r = try StateListReader(store: StateStore(root: dir.path))
        let e = try #require(throws: RuntimeError.self) { try r.read("c1") }
        #expect(e.description.contains("container \"c1\""), "\(e)")
        #expect(throws: (any Error).self) { try Container.load("c1", store: StateStore(root: dir.path)) }
    }
}

/// The byte-level helpers the hot commands use instead of the stdlib's generic integer
/// formatting and Character-level prefix tests (docs/performance.md, item 34): they must agree
/// with the stdlib on every input.
@Suite("Byte-level string helpers")
struct ByteHelperTests {
    @Test("decimal agrees with String(_:)", arguments: [
        Int64(0), 1, 9, 10, 99, 100, -1, -9, -10, 1_000_000_007, Int64(Int32.max), Int64(Int32.min),
        Int64.max, Int64.min, Int64.min + 1,
    ])
    func decimalMatches(_ v: Int64) {
        #expect(decimal(v) == String(v))
    }

    @Test("hasASCIIPrefix agrees with hasPrefix", arguments: [
        ("", ""), ("-", ""), ("", "-"), ("-", "-"), ("--root", "-"), ("--root", "--"), ("-root", "--"),
        ("/a", "/"), ("a/", "/"), ("deny\n", "deny"), ("den", "deny"), ("FROZEN", "FROZEN"),
    ])
    func prefix(_ s: String, _ p: String) {
        let want = s.hasPrefix(p)
        switch p {
        case "": #expect(s.hasASCIIPrefix("") == want)
        case "-": #expect(s.hasASCIIPrefix("-") == want)
        case "--": #expect(s.hasASCIIPrefix("--") == want)
        case "/": #expect(s.hasASCIIPrefix("/") == want)
        case "deny": #expect(s.hasASCIIPrefix("deny") == want)
        default: #expect(s.hasASCIIPrefix("FROZEN") == want)
        }
    }

    @Test("trimmingWhitespace strips spaces, tabs and line ends at both ends only", arguments: [
        ("", ""), (" \n\t\r", ""), ("0::/\n", "0::/"), ("  a b  ", "a b"), ("\tx\r\n", "x"), ("日本 ", "日本"),
    ])
    func trimming(_ s: String, _ want: String) {
        #expect(s.trimmingWhitespace() == want)
    }
}
