import Testing
@testable import OCIRuntime

@Suite("CgroupLayout and ContainerCgroup.resolve")
struct CgroupLayoutTests {
    /// A systemd hybrid host (Debian 10/Ubuntu 20.04 style): v1 controllers with cpu,cpuacct and
    /// net_cls,net_prio co-mounted, the named systemd hierarchy, cgroup2 at .../unified.
    static let hybrid = """
        22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        23 28 0:5 / /proc rw,nosuid,nodev,noexec,relatime shared:14 - proc proc rw
        31 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        32 31 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
        33 31 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
        36 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
        37 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
        38 31 0:33 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,net_cls,net_prio
        39 31 0:34 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,cpuset,clone_children
        40 31 0:35 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,pids
        41 31 0:36 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,devices
        42 31 0:37 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,freezer
        43 31 0:38 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:22 - cgroup cgroup rw,blkio
        44 31 0:39 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:23 - cgroup cgroup rw,hugetlb
        45 31 0:40 / /sys/fs/cgroup/perf_event rw,nosuid,nodev,noexec,relatime shared:24 - cgroup cgroup rw,perf_event
        """

    static let hybridSelf = """
        12:perf_event:/
        11:hugetlb:/
        10:blkio:/user.slice
        9:freezer:/
        8:devices:/user.slice
        7:pids:/user.slice/user-1000.slice/session-2.scope
        6:cpuset:/
        5:net_cls,net_prio:/
        4:memory:/user.slice/user-1000.slice/session-2.scope
        3:cpu,cpuacct:/user.slice
        1:name=systemd:/user.slice/user-1000.slice/session-2.scope
        0::/user.slice/user-1000.slice/session-2.scope
        """

    static let pureV2 = """
        25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        30 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
        33 25 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """

    static let pureV2Self = "0::/user.slice/user-1000.slice/session-3.scope\n"

    @Test("hybrid: every v1 hierarchy with its controllers, and the cgroup2 mount")
    func hybridLayout() {
        let layout = CgroupLayout.parse(mountinfo: Self.hybrid)
        #expect(layout.unified == "/sys/fs/cgroup/unified")
        #expect(!layout.isUnifiedOnly)
        #expect(layout.v1.count == 11)
        #expect(layout.hierarchy(for: "cpu")?.controllers == ["cpu", "cpuacct"])
        #expect(layout.hierarchy(for: "cpuacct")?.mountPoint == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(layout.hierarchy(for: "name=systemd")?.mountPoint == "/sys/fs/cgroup/systemd")
        #expect(layout.hierarchy(for: "name=systemd")?.controllers == ["name=systemd"])
        #expect(layout.hierarchy(for: "net_prio")?.controllers == ["net_cls", "net_prio"])
        // clone_children is a mount option, not a controller.
        #expect(layout.hierarchy(for: "cpuset")?.controllers == ["cpuset"])
        #expect(layout.hierarchy(for: "memory")?.mountPoint == "/sys/fs/cgroup/memory")
        #expect(layout.hierarchy(for: "rdma") == nil)
        // tmpfs, sysfs and proc lines are not hierarchies.
        #expect(!layout.v1.contains { $0.mountPoint == "/sys/fs/cgroup" })
    }

    @Test("a hierarchy mounted twice is listed once")
    func duplicateMount() {
        let text = Self.hybrid + "\n99 31 0:32 / /mnt/memory rw - cgroup cgroup rw,memory\n"
        let layout = CgroupLayout.parse(mountinfo: text)
        #expect(layout.v1.filter { $0.controllers == ["memory"] }.count == 1)
        #expect(layout.hierarchy(for: "memory")?.mountPoint == "/sys/fs/cgroup/memory")
    }

    @Test("octal escapes in mount points are decoded")
    func escapedMountPoint() {
        let text = "50 31 0:50 / /sys/fs/cgroup/my\\040memory rw - cgroup cgroup rw,memory\n"
        #expect(CgroupLayout.parse(mountinfo: text).hierarchy(for: "memory")?.mountPoint == "/sys/fs/cgroup/my memory")
    }

    @Test("pure cgroup2")
    func pureV2Layout() {
        let layout = CgroupLayout.parse(mountinfo: Self.pureV2)
        #expect(layout.v1.isEmpty)
        #expect(layout.unified == "/sys/fs/cgroup")
        #expect(layout.isUnifiedOnly)
    }

    @Test("absolute cgroupsPath: from each hierarchy's root")
    func absoluteHybrid() {
        let layout = CgroupLayout.parse(mountinfo: Self.hybrid)
        let cg = ContainerCgroup.resolve(layout: layout, cgroupsPath: "/ocirun/c1", selfCgroup: Self.hybridSelf)
        #expect(cg.paths.count == 12)
        #expect(cg.path(for: "memory") == "/sys/fs/cgroup/memory/ocirun/c1")
        #expect(cg.path(for: "cpu") == "/sys/fs/cgroup/cpu,cpuacct/ocirun/c1")
        #expect(cg.path(for: "cpuacct") == "/sys/fs/cgroup/cpu,cpuacct/ocirun/c1")
        #expect(cg.path(for: "name=systemd") == "/sys/fs/cgroup/systemd/ocirun/c1")
        #expect(cg.paths["cpu,cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct/ocirun/c1")
        #expect(cg.unifiedPath == "/sys/fs/cgroup/unified/ocirun/c1")
        #expect(!cg.isV2)
    }

    @Test("relative cgroupsPath: under the caller's own cgroup, per hierarchy")
    func relativeHybrid() {
        let layout = CgroupLayout.parse(mountinfo: Self.hybrid)
        let cg = ContainerCgroup.resolve(layout: layout, cgroupsPath: "ocirun/c1", selfCgroup: Self.hybridSelf)
        #expect(cg.path(for: "memory") == "/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-2.scope/ocirun/c1")
        #expect(cg.path(for: "pids") == "/sys/fs/cgroup/pids/user.slice/user-1000.slice/session-2.scope/ocirun/c1")
        #expect(cg.path(for: "cpu") == "/sys/fs/cgroup/cpu,cpuacct/user.slice/ocirun/c1")
        #expect(cg.path(for: "devices") == "/sys/fs/cgroup/devices/user.slice/ocirun/c1")
        #expect(cg.path(for: "freezer") == "/sys/fs/cgroup/freezer/ocirun/c1")
        #expect(cg.path(for: "net_cls") == "/sys/fs/cgroup/net_cls,net_prio/ocirun/c1")
        #expect(cg.path(for: "name=systemd") == "/sys/fs/cgroup/systemd/user.slice/user-1000.slice/session-2.scope/ocirun/c1")
        #expect(cg.unifiedPath == "/sys/fs/cgroup/unified/user.slice/user-1000.slice/session-2.scope/ocirun/c1")
    }

    @Test("pure v2: absolute and relative paths in the one hierarchy")
    func v2Resolve() {
        let layout = CgroupLayout.parse(mountinfo: Self.pureV2)
        let abs = ContainerCgroup.resolve(layout: layout, cgroupsPath: "/ocirun/c1", selfCgroup: Self.pureV2Self)
        #expect(abs.paths == ["unified": "/sys/fs/cgroup/ocirun/c1"])
        #expect(abs.isV2)
        #expect(abs.path(for: "memory") == nil)
        let rel = ContainerCgroup.resolve(layout: layout, cgroupsPath: "c1", selfCgroup: Self.pureV2Self)
        #expect(rel.unifiedPath == "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/c1")
    }

    /// runc cleans cgroupsPath as a rooted path (utils.CleanPath) before joining it to the mount
    /// point, so `..` cannot leave the hierarchy. A config must not make the runtime mkdir host
    /// directories outside /sys/fs/cgroup.
    @Test("`..` in cgroupsPath cannot climb above the hierarchy's mount point", arguments: [
        "/../../../../tmp/escape", "../../../../../../tmp/escape",
    ])
    func dotDot(cgroupsPath: String) {
        let layout = CgroupLayout.parse(mountinfo: Self.hybrid)
        let cg = ContainerCgroup.resolve(layout: layout, cgroupsPath: cgroupsPath, selfCgroup: Self.hybridSelf)
        let escaping = cg.paths.filter { key, dir in
            let mount = key == "unified" ? layout.unified : layout.v1.first { $0.controllers.joined(separator: ",") == key }?.mountPoint
            return mount.map { !dir.hasPrefix($0 + "/") } ?? true
        }
        #expect(escaping.isEmpty)
        
    }
}
