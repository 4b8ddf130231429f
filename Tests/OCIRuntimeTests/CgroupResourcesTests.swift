import OCISpec
import Testing
@testable import OCIRuntime

@Suite("CgroupResources writes")
struct CgroupResourcesTests {
    func files(_ w: [CgroupWrite], _ controller: String) -> [String: String] {
        var out: [String: String] = [:]
        for x in w where x.controller == controller { out[x.file] = x.value }
        return out
    }

    @Test("v1 memory, cpu, cpuset, pids, blkio and hugetlb values")
    func v1Values() throws {
        let r = LinuxResources(
            memory: LinuxMemory(limit: 268_435_456, reservation: 134_217_728, swap: 536_870_912, kernel: 1_048_576,
                                kernelTCP: 65536, swappiness: 10, disableOOMKiller: true),
            cpu: LinuxCPU(shares: 512, quota: 50000, period: 100_000, realtimeRuntime: 950, realtimePeriod: 1000,
                          cpus: "0-1", mems: "0"),
            pids: LinuxPids(limit: 32),
            blockIO: LinuxBlockIO(weight: 300, leafWeight: 200,
                                  weightDevice: [LinuxWeightDevice(major: 8, minor: 0, weight: 500, leafWeight: 250)],
                                  throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 1_048_576)],
                                  throttleWriteBpsDevice: [LinuxThrottleDevice(major: 8, minor: 16, rate: 2048)],
                                  throttleReadIOPSDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 100)],
                                  throttleWriteIOPSDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 50)]),
            hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 4_194_304)])
        let w = try CgroupResources.v1Writes(r, includeDevices: false)
        #expect(files(w, "memory") == [
            "memory.soft_limit_in_bytes": "134217728", "memory.limit_in_bytes": "268435456",
            "memory.memsw.limit_in_bytes": "536870912", "memory.kmem.limit_in_bytes": "1048576",
            "memory.kmem.tcp.limit_in_bytes": "65536", "memory.swappiness": "10", "memory.oom_control": "1",
        ])
        // memsw after the memory limit: the kernel refuses memsw < limit.
        let memFiles = w.filter { $0.controller == "memory" }.map(\.file)
        #expect(memFiles.firstIndex(of: "memory.limit_in_bytes")! < memFiles.firstIndex(of: "memory.memsw.limit_in_bytes")!)
        #expect(files(w, "cpu") == [
            "cpu.shares": "512", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "50000",
            "cpu.rt_period_us": "1000", "cpu.rt_runtime_us": "950",
        ])
        #expect(files(w, "cpuset") == ["cpuset.cpus": "0-1", "cpuset.mems": "0"])
        #expect(files(w, "pids") == ["pids.max": "32"])
        #expect(w.filter { $0.controller == "blkio" }.map { "\($0.file)=\($0.value)" } == [
            "blkio.weight=300", "blkio.leaf_weight=200", "blkio.weight_device=8:0 500",
            "blkio.leaf_weight_device=8:0 250", "blkio.throttle.read_bps_device=8:0 1048576",
            "blkio.throttle.write_bps_device=8:16 2048", "blkio.throttle.read_iops_device=8:0 100",
            "blkio.throttle.write_iops_device=8:0 50",
        ])
        #expect(files(w, "hugetlb") == ["hugetlb.2MB.limit_in_bytes": "4194304"])
        #expect(!w.contains { $0.controller == "devices" })
    }

    @Test("v1 pids limit 0 or negative means max")
    func pidsMax() throws {
        for limit: Int64 in [0, -1] {
            let w = try CgroupResources.v1Writes(LinuxResources(pids: LinuxPids(limit: limit)), includeDevices: false)
            #expect(w == [CgroupWrite(controller: "pids", file: "pids.max", value: "max")])
        }
    }

    /// linux.devices get no implicit allow rule: access comes from resources.devices, as in runc.
    @Test("v1 device rules: deny all first, the config's rules in order, then the defaults")
    func deviceOrder() throws {
        let r = LinuxResources(devices: [
            LinuxDeviceCgroup(allow: false, access: "rwm"),
            LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 200, access: "rw"),
            LinuxDeviceCgroup(allow: true, type: "b", major: 8, minor: -1, access: "r"),
        ])
        let devs = [LinuxDevice(path: "/dev/fuse", type: "c", major: 10, minor: 229)]
        let w = try CgroupResources.v1Writes(r, devices: devs).filter { $0.controller == "devices" }
        let lines = w.map { "\($0.file) \($0.value)" }
        #expect(lines == [
            "devices.deny a",
            "devices.deny a *:* rwm",
            "devices.allow c 10:200 rw",
            "devices.allow b 8:* r",
            "devices.allow c *:* m",
            "devices.allow b *:* m",
            "devices.allow c 1:3 rwm",
            "devices.allow c 1:8 rwm",
            "devices.allow c 1:7 rwm",
            "devices.allow c 5:0 rwm",
            "devices.allow c 1:5 rwm",
            "devices.allow c 1:9 rwm",
            "devices.allow c 136:* rwm",
            "devices.allow c 5:2 rwm",
        ])
    }

    @Test("device rule lines", arguments: [
        (LinuxDeviceCgroup(allow: true), "a *:* rwm"),
        (LinuxDeviceCgroup(allow: true, type: "c"), "c *:* rwm"),
        (LinuxDeviceCgroup(allow: true, type: "u", major: 4, minor: 1, access: "w"), "c 4:1 w"),
        (LinuxDeviceCgroup(allow: true, type: "b", major: 7, access: "m"), "b 7:* m"),
    ])
    func ruleLine(rule: LinuxDeviceCgroup, line: String) throws {
        #expect(try CgroupResources.deviceRuleLine(rule) == line)
    }

    @Test("invalid device type or access throws", arguments: [
        (LinuxDeviceCgroup(allow: true, type: "x", access: "rwm"), "invalid device type \"x\""),
        (LinuxDeviceCgroup(allow: true, type: "c", access: "rwx"), "invalid access \"rwx\""),
        (LinuxDeviceCgroup(allow: true, type: "c", access: ""), "invalid access \"\""),
    ])
    func invalidDevice(rule: LinuxDeviceCgroup, message: String) {
        let error = #expect(throws: RuntimeError.self) {
            try CgroupResources.v1Writes(LinuxResources(devices: [rule]))
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test("swap lower than the memory limit throws, v1 and v2")
    func swapBelowLimit() {
        let r = LinuxResources(memory: LinuxMemory(limit: 200, swap: 100))
        let e1 = #expect(throws: RuntimeError.self) { try CgroupResources.v1Writes(r, includeDevices: false) }
        #expect(e1?.message.contains("swap (100)") == true)
        let e2 = #expect(throws: RuntimeError.self) { try CgroupResources.v2Writes(r) }
        #expect(e2?.code == .invalidArgument)
    }

    @Test("swap -1 (unlimited) is accepted with any limit")
    func swapUnlimited() throws {
        let r = LinuxResources(memory: LinuxMemory(limit: 200, swap: -1))
        #expect(files(try CgroupResources.v1Writes(r, includeDevices: false), "memory")["memory.memsw.limit_in_bytes"] == "-1")
        #expect(files(try CgroupResources.v2Writes(r), "unified")["memory.swap.max"] == "max")
    }

    @Test("v2: a swap limit needs the memory limit (given, or the live one for update)")
    func v2SwapWithoutLimit() throws {
        let r = LinuxResources(memory: LinuxMemory(swap: 300))
        let e = #expect(throws: RuntimeError.self) { try CgroupResources.v2Writes(r) }
        #expect(e?.message.contains("needs memory.limit") == true, "\(String(describing: e))")
        #expect(files(try CgroupResources.v2Writes(r, currentLimit: 200), "unified")["memory.swap.max"] == "100")
    }

    @Test("swappiness above 100 throws")
    func swappiness() {
        #expect(throws: RuntimeError.self) {
            try CgroupResources.v1Writes(LinuxResources(memory: LinuxMemory(swappiness: 101)), includeDevices: false)
        }
    }

    @Test("v2 files and values")
    func v2Values() throws {
        let r = LinuxResources(
            memory: LinuxMemory(limit: 1000, reservation: -1, swap: 3000),
            cpu: LinuxCPU(shares: 1024, quota: 20000, period: 50000, cpus: "1", mems: "0", idle: 1),
            pids: LinuxPids(limit: 10),
            blockIO: LinuxBlockIO(weight: 100),
            hugepageLimits: [LinuxHugepageLimit(pageSize: "1GB", limit: 0)],
            unified: ["memory.high": "900", "io.max": "8:0 rbps=1"])
        let w = try CgroupResources.v2Writes(r)
        #expect(w.allSatisfy { $0.controller == "unified" })
        #expect(files(w, "unified") == [
            "memory.low": "max", "memory.max": "1000", "memory.swap.max": "2000",
            "cpu.weight": "39", "cpu.max": "20000 50000", "cpu.idle": "1",
            "cpuset.cpus": "1", "cpuset.mems": "0", "pids.max": "10", "io.bfq.weight": "100",
            "hugetlb.1GB.max": "0", "memory.high": "900", "io.max": "8:0 rbps=1",
        ])
    }

    @Test("v2 cpu.max: quota -1 is max, period defaults to 100000")
    func v2CPUMax() throws {
        #expect(files(try CgroupResources.v2Writes(LinuxResources(cpu: LinuxCPU(quota: -1))), "unified")["cpu.max"] == "max 100000")
        #expect(files(try CgroupResources.v2Writes(LinuxResources(cpu: LinuxCPU(period: 25000))), "unified")["cpu.max"] == "max 25000")
    }

    /// runc's ConvertCPUSharesToCgroupV2Value: 1 + ((shares - 2) * 9999) / 262142.
    @Test("cpu shares → cgroup2 weight", arguments: [
        (UInt64(2), "1"), (1024, "39"), (512, "20"), (2048, "79"), (262_144, "10000"),
    ])
    func sharesToWeight(shares: UInt64, weight: String) throws {
        let w = try CgroupResources.v2Writes(LinuxResources(cpu: LinuxCPU(shares: shares)))
        #expect(w == [CgroupWrite(controller: "unified", file: "cpu.weight", value: weight)])
    }

    @Test("v2 unified keys must be controller files", arguments: ["memory/../x", "nodot"])
    func unifiedKeys(key: String) {
        #expect(throws: RuntimeError.self) { try CgroupResources.v2Writes(LinuxResources(unified: [key: "1"])) }
    }
}

/// Values a config file controls must never crash the runtime (STYLE.md: no traps on anything a
/// user or a file can influence). Run in a child process: a trap would kill the test runner.
@Suite("CgroupResources does not trap")
struct CgroupResourcesTrapTests {
    @Test("cpu shares 1 on cgroup2 is an error or a weight, not a crash")
    func sharesOne() async {
        await #expect(processExitsWith: .success) {
            _ = try? CgroupResources.v2Writes(LinuxResources(cpu: LinuxCPU(shares: 1)))
        }
        
    }
}
