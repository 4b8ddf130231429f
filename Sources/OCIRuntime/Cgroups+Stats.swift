import LinuxSystem

/// The statistics `events` prints, in runc's JSON shape (a subset: cpu, memory, pids).
public struct CgroupStats {
    public var cpuUsageTotal: UInt64 = 0
    public var memoryUsage: UInt64 = 0
    public var memoryLimit: UInt64 = 0
    public var memoryMaxUsage: UInt64 = 0
    public var memoryFailcnt: UInt64 = 0
    public var pidsCurrent: UInt64 = 0
    public var pidsLimit: UInt64 = 0
    public var oomKills: Int = 0

    static func number(_ path: String) -> UInt64 {
        guard let s = try? Files.readString(path) else { return 0 }
        let t = s.trimmingWhitespace()
        return t == "max" ? 0 : UInt64(t) ?? 0
    }

    static func keyed(_ path: String, _ key: String) -> UInt64 {
        guard let s = try? Files.readString(path) else { return 0 }
        for line in s.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, f[0] == key { return UInt64(f[1]) ?? 0 }
        }
        return 0
    }

    public static func read(_ cg: ContainerCgroup?) -> CgroupStats {
        var s = CgroupStats()
        guard let cg else { return s }
        if cg.isV2, let d = cg.unifiedPath {
            s.cpuUsageTotal = keyed(d + "/cpu.stat", "usage_usec") * 1000
            s.memoryUsage = number(d + "/memory.current")
            s.memoryLimit = number(d + "/memory.max")
            s.memoryMaxUsage = number(d + "/memory.peak")
            s.oomKills = Int(keyed(d + "/memory.events", "oom_kill"))
            s.pidsCurrent = number(d + "/pids.current")
            s.pidsLimit = number(d + "/pids.max")
            return s
        }
        if let d = cg.path(for: "cpuacct") { s.cpuUsageTotal = number(d + "/cpuacct.usage") }
        if let d = cg.path(for: "memory") {
            s.memoryUsage = number(d + "/memory.usage_in_bytes")
            s.memoryLimit = number(d + "/memory.limit_in_bytes")
            s.memoryMaxUsage = number(d + "/memory.max_usage_in_bytes")
            s.memoryFailcnt = number(d + "/memory.failcnt")
            s.oomKills = Int(keyed(d + "/memory.oom_control", "oom_kill"))
        }
        if let d = cg.path(for: "pids") {
            s.pidsCurrent = number(d + "/pids.current")
            s.pidsLimit = number(d + "/pids.max")
        }
        return s
    }

    public func json() -> String {
        "{\"cpu\":{\"usage\":{\"total\":\(cpuUsageTotal)}},"
            + "\"memory\":{\"usage\":{\"usage\":\(memoryUsage),\"max\":\(memoryMaxUsage),\"limit\":\(memoryLimit),\"failcnt\":\(memoryFailcnt)},\"oom_kill\":\(oomKills)},"
            + "\"pids\":{\"current\":\(pidsCurrent),\"limit\":\(pidsLimit)}}"
    }
}
