import Foundation
import OCISpec
import Testing
@testable import OCIRuntime

/// ContainerCgroup against a fake cgroup tree in a temporary directory. A plain directory does not
/// grow control files the way cgroupfs does, so control files a step writes are made by the test.
@Suite("ContainerCgroup on a fake tree")
struct ContainerCgroupTests {
    func fakeTree() throws -> (TempDir, CgroupLayout) {
        let t = try TempDir("ocirun-cgroup")
        for d in ["cpuset", "memory", "pids", "cpu,cpuacct", "unified"] { try t.mkdir(d) }
        try t.write("cpuset/cpuset.cpus", "0-3\n")
        try t.write("cpuset/cpuset.mems", "0\n")
        let mountinfo = """
            40 31 0:34 / \(t.sub("cpuset")) rw - cgroup cgroup rw,cpuset
            41 31 0:35 / \(t.sub("memory")) rw - cgroup cgroup rw,memory
            42 31 0:36 / \(t.sub("pids")) rw - cgroup cgroup rw,pids
            43 31 0:37 / \(t.sub("cpu,cpuacct")) rw - cgroup cgroup rw,cpu,cpuacct
            44 31 0:38 / \(t.sub("unified")) rw - cgroup2 cgroup2 rw
            """
        return (t, CgroupLayout.parse(mountinfo: mountinfo))
    }

    @Test("create makes every directory, add writes the pid, destroy removes the leaves")
    func lifecycle() throws {
        let (t, layout) = try fakeTree()
        defer { t.remove() }
        let cg = ContainerCgroup.resolve(layout: layout, cgroupsPath: "/ocirun-test/c1", selfCgroup: "")
        #expect(cg.paths.count == 5)
        try cg.create()
        for d in ["cpuset", "memory", "pids", "cpu,cpuacct", "unified"] {
            var isDir: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: t.sub("\(d)/ocirun-test/c1"), isDirectory: &isDir) && isDir.boolValue, "\(d)")
        }
        // Creating again is not an error (the parent may be shared by many containers).
        try cg.create()

        for dir in cg.paths.values { try "".write(toFile: dir + "/cgroup.procs", atomically: false, encoding: .utf8) }
        try cg.add(pid: 4242)
        for dir in cg.paths.values { #expect(try String(contentsOfFile: dir + "/cgroup.procs", encoding: .utf8) == "4242") }
        #expect(cg.pids() == [4242])
        for dir in cg.paths.values { try FileManager.default.removeItem(atPath: dir + "/cgroup.procs") }

        try cg.destroy()
        for d in ["cpuset", "memory", "pids", "cpu,cpuacct", "unified"] {
            #expect(!t.exists("\(d)/ocirun-test/c1"), "\(d)")
            #expect(t.exists("\(d)/ocirun-test"), "destroy removes only the container's own directory")
        }
        // A second destroy finds nothing to remove and succeeds.
        try cg.destroy()
    }

    @Test("add names the directory it could not join")
    func addFailure() throws {
        let (t, layout) = try fakeTree()
        defer { t.remove() }
        let cg = ContainerCgroup.resolve(layout: layout, cgroupsPath: "/c2", selfCgroup: "")
        try cg.create()
        let error = #expect(throws: RuntimeError.self) { try cg.add(pid: 1) }
        #expect(error?.description.contains("join cgroup \(t.path)/") == true, "\(String(describing: error))")
    }

    @Test("destroy reports a directory it cannot remove")
    func destroyFailure() throws {
        let (t, layout) = try fakeTree()
        defer { t.remove() }
        let cg = ContainerCgroup.resolve(layout: layout, cgroupsPath: "/c3", selfCgroup: "")
        try cg.create()
        try t.write("memory/c3/stray", "x")
        let error = #expect(throws: RuntimeError.self) { try cg.destroy() }
        #expect(error?.description.contains("\(t.path)/memory/c3") == true)
        #expect(!t.exists("pids/c3"), "the other hierarchies are still removed")
    }

    @Test("apply writes the v1 files in the container's directories")
    func apply() throws {
        let (t, layout) = try fakeTree()
        defer { t.remove() }
        let cg = ContainerCgroup.resolve(layout: layout, cgroupsPath: "/c4", selfCgroup: "")
        try cg.create()
        for f in ["memory/c4/memory.limit_in_bytes", "pids/c4/pids.max", "cpu,cpuacct/c4/cpu.shares"] { try t.write(f, "") }
        let r = LinuxResources(memory: LinuxMemory(limit: 1_048_576), cpu: LinuxCPU(shares: 100), pids: LinuxPids(limit: 7))
        try CgroupResources.apply(r, devices: [], to: cg)
        #expect(try t.read("memory/c4/memory.limit_in_bytes") == "1048576")
        #expect(try t.read("pids/c4/pids.max") == "7")
        #expect(try t.read("cpu,cpuacct/c4/cpu.shares") == "100")
    }

    @Test("the v2 freezer file tells whether the group is frozen")
    func v2Freezer() throws {
        let t = try TempDir("ocirun-cgroup")
        defer { t.remove() }
        try t.mkdir("ocirun/c5")
        let cg = ContainerCgroup(paths: ["unified": t.sub("ocirun/c5")])
        #expect(cg.isV2)
        try t.write("ocirun/c5/cgroup.freeze", "0\n")
        #expect(!cg.isFrozen())
        try cg.setFrozen(true)
        #expect(cg.isFrozen())
        try cg.setFrozen(false)
        #expect(!cg.isFrozen())
    }

    /// The inheritance of cpuset.cpus/mems only shows on cgroupfs, where mkdir makes the files:
    /// a v1 cpuset group starts with empty cpus and mems, and no task may join it.
    @Test("v1 cpuset directories inherit cpus and mems from their parent (real cgroupfs)",
          .enabled(if: geteuid() == 0 && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpuset/cpuset.cpus"),
                   "needs root and a v1 cpuset hierarchy"))
    func cpusetInheritance() throws {
        let name = "ocirun-test/unit-\(UInt32.random(in: 0...UInt32.max))"
        let cg = ContainerCgroup(paths: ["cpuset": "/sys/fs/cgroup/cpuset/" + name])
        defer {
            try? cg.destroy()
            rmdir("/sys/fs/cgroup/cpuset/ocirun-test")
        }
        try cg.create()
        let root = try String(contentsOfFile: "/sys/fs/cgroup/cpuset/cpuset.cpus", encoding: .utf8)
        let mems = try String(contentsOfFile: "/sys/fs/cgroup/cpuset/cpuset.mems", encoding: .utf8)
        #expect(!root.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        for dir in ["/sys/fs/cgroup/cpuset/ocirun-test", "/sys/fs/cgroup/cpuset/" + name] {
            #expect(try String(contentsOfFile: dir + "/cpuset.cpus", encoding: .utf8) == root, "\(dir)")
            #expect(try String(contentsOfFile: dir + "/cpuset.mems", encoding: .utf8) == mems, "\(dir)")
        }
    }
}
