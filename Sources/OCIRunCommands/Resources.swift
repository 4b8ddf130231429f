#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import RuntimeVerbs
import JSON
import LinuxSystem
import OCIRuntime
import OCISpec

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change the resource limits of a running container.",
        discussion: "Sizes take runc's units (64m, 1g; -1 is unlimited). --resources reads linux.resources JSON; the single-value flags override it.")
    @Argument(help: "The container id.") var id: String
    @Option(name: [.customShort("r"), .long], help: "A JSON file of linux.resources ('-' reads stdin).") var resources: String?
    @Option(name: .customLong("blkio-weight"), help: "Block IO weight (10-1000).") var blkioWeight: UInt16?
    @Option(name: .customLong("cpu-period"), help: "CFS period in microseconds.") var cpuPeriod: UInt64?
    @Option(name: .customLong("cpu-quota"), parsing: .unconditional, help: "CFS quota in microseconds (-1: unlimited).") var cpuQuota: Int64?
    @Option(name: [.customLong("cpu-share"), .customLong("cpu-shares")], help: "CPU shares (relative weight).") var cpuShares: UInt64?
    @Option(name: .customLong("cpu-rt-period"), help: "Realtime period in microseconds.") var cpuRtPeriod: UInt64?
    @Option(name: .customLong("cpu-rt-runtime"), parsing: .unconditional, help: "Realtime runtime in microseconds.") var cpuRtRuntime: Int64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs to use (e.g. 0-3,8).") var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), help: "Memory nodes to use.") var cpusetMems: String?
    @Option(name: .customLong("kernel-memory"), parsing: .unconditional, help: "Kernel memory limit (cgroup v1 only).") var kernelMemory: String?
    @Option(name: .customLong("kernel-memory-tcp"), parsing: .unconditional, help: "Kernel TCP buffer memory limit (cgroup v1 only).") var kernelMemoryTCP: String?
    @Option(name: .long, parsing: .unconditional, help: "Memory limit.") var memory: String?
    @Option(name: .customLong("memory-reservation"), parsing: .unconditional, help: "Memory soft limit.") var memoryReservation: String?
    @Option(name: .customLong("memory-swap"), parsing: .unconditional, help: "Memory plus swap limit.") var memorySwap: String?
    @Option(name: .customLong("pids-limit"), parsing: .unconditional, help: "Maximum number of processes (0 or -1: unlimited).") var pidsLimit: Int64?
    @Option(name: .customLong("l3-cache-schema"), help: "Intel RDT L3 cache schema (needs resctrl).") var l3CacheSchema: String?
    @Option(name: .customLong("mem-bw-schema"), help: "Intel RDT memory bandwidth schema (needs resctrl).") var memBwSchema: String?

    func run() throws {
        runReportingErrors {
            let store = try globalOptions.store()
            let lock = try store.lock(id)
            defer { _ = lock }
            let c = try Container.load(id, store: store)
            guard c.status != .stopped else {
                throw RuntimeError(.invalidState, "cannot update container \"\(id)\": it is stopped")
            }
            var r = LinuxResources()
            if let path = resources {
                let bytes: [UInt8]
                if path == "-" { bytes = try FileDescriptor(dup(0)).readAll() } else {
                    bytes = try withContext("read \(path)") { try Files.read(Files.absolute(path)) }
                }
                r = try withContext("parse resources") { try JSONDecoding.decodeMapped(LinuxResources.self, from: bytes) }
            }
            try UpdateFlags.merge(into: &r, memory: memory, reservation: memoryReservation, swap: memorySwap,
                                  kernel: kernelMemory, kernelTCP: kernelMemoryTCP)
            if cpuShares != nil || cpuQuota != nil || cpuPeriod != nil || cpuRtRuntime != nil || cpuRtPeriod != nil
                || cpusetCpus != nil || cpusetMems != nil {
                var cpu = r.cpu ?? LinuxCPU()
                if let v = cpuShares { cpu.shares = v }
                if let v = cpuQuota { cpu.quota = v }
                if let v = cpuPeriod { cpu.period = v }
                if let v = cpuRtRuntime { cpu.realtimeRuntime = v }
                if let v = cpuRtPeriod { cpu.realtimePeriod = v }
                if let v = cpusetCpus { cpu.cpus = v }
                if let v = cpusetMems { cpu.mems = v }
                r.cpu = cpu
            }
            if let v = pidsLimit { r.pids = LinuxPids(limit: v) }
            if let v = blkioWeight { var b = r.blockIO ?? LinuxBlockIO(); b.weight = v; r.blockIO = b }
            if l3CacheSchema != nil || memBwSchema != nil {
                // runc refuses these unless Intel RDT is enabled; ocirun makes no resctrl group.
                let flag = l3CacheSchema != nil ? "--l3-cache-schema" : "--mem-bw-schema"
                let mounted = ((try? Files.readString("/proc/self/mountinfo")) ?? "").contains(" - resctrl ")
                throw RuntimeError(.unsupported, mounted
                    ? "\(flag): container \"\(id)\" has no Intel RDT (resctrl) group: ocirun does not support linux.intelRdt"
                    : "\(flag): Intel RDT is not enabled on this host (no resctrl file system mounted)")
            }
            guard let cg = c.state.cgroup else {
                throw RuntimeError(.unsupported, "container \"\(id)\" has no cgroup to update")
            }
            try withContext("update container \"\(id)\"") { try CgroupResources.update(r, cgroup: cg) }
            return 0
        }
    }
}

/// The memory flags of `update`, in runc's units.
enum UpdateFlags {
    /// A size as runc's `update` takes it (go-units RAMInBytes): a number with an optional
    /// binary suffix b, k, m, g, t, p (kb, KiB… alike, case-insensitive); `-1` is unlimited.
    static func size(_ text: String, flag: String) throws -> Int64 {
        if text == "-1" { return -1 }
        var digits = Substring(text.trimmingWhitespaceLocal())
        var unit = ""
        while let last = digits.last, last.isLetter { unit = String(last).lowercased() + unit; digits.removeLast() }
        let multipliers: [String: Int64] = ["": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50]
        var key = unit
        if key.hasSuffix("ib") { key.removeLast(2) } else if key.count == 2 && key.hasSuffix("b") { key.removeLast() }
        guard let mult = multipliers[key], let value = Double(digits), value >= 0, value.isFinite,
              value * Double(mult) < 9.2e18 else {
            throw RuntimeError(.invalidArgument, "invalid value for \(flag): \"\(text)\" (use bytes or a size such as 64m, 1g; -1 for unlimited)")
        }
        return Int64(value * Double(mult))
    }

    static func merge(into r: inout LinuxResources, memory: String?, reservation: String?, swap: String?,
                      kernel: String?, kernelTCP: String?) throws {
        guard memory != nil || reservation != nil || swap != nil || kernel != nil || kernelTCP != nil else { return }
        var m = r.memory ?? LinuxMemory()
        if let v = memory { m.limit = try size(v, flag: "--memory") }
        if let v = reservation { m.reservation = try size(v, flag: "--memory-reservation") }
        if let v = swap { m.swap = try size(v, flag: "--memory-swap") }
        if let v = kernel { m.kernel = try size(v, flag: "--kernel-memory") }
        if let v = kernelTCP { m.kernelTCP = try size(v, flag: "--kernel-memory-tcp") }
        // runc: an unlimited memory limit without a swap value makes swap unlimited too, since
        // memory+swap may never be below memory.
        if m.limit == -1 && swap == nil && m.swap == nil { m.swap = -1 }
        r.memory = m
    }
}

extension String {
    func trimmingWhitespaceLocal() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s.removeLast() }
        return String(s)
    }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Print container events and resource statistics as JSON.",
        discussion: "One JSON object per line: {\"type\":\"stats\",\"id\":…,\"data\":{…}} every interval (runc's stats shape) and {\"type\":\"oom\",\"id\":…} when the kernel OOM-kills a process of the container. Ends when the container stops.")
    @Argument(help: "The container id.") var id: String
    @Flag(name: .long, help: "Print the statistics once and exit.") var stats = false
    @Option(name: .long, help: "Interval between statistics (e.g. 5s, 500ms).") var interval: String = "5s"

    func run() throws {
        runReportingErrors {
            let store = try globalOptions.store()
            let seconds = try parseDuration(interval)
            var c = try Container.load(id, store: store)
            guard c.status != .stopped else {
                throw RuntimeError(.invalidState, "container \"\(id)\" is not running")
            }
            func emit(_ line: String) {
                print(line)
                fflush(stdout)
            }
            func statsLine() -> String {
                "{\"type\":\"stats\",\"id\":\(jsonQuote(id)),\"data\":\(CgroupStats.read(c.state.cgroup).json())}"
            }
            if stats {
                emit(statsLine())
                return 0
            }
            // OOM kills are polled every 100 ms (the counters of memory.oom_control /
            // memory.events), statistics printed every interval.
            var lastOOM = CgroupStats.oomKillCount(c.state.cgroup)
            var nextStats = monotonicSeconds() + seconds
            while true {
                let oom = CgroupStats.oomKillCount(c.state.cgroup)
                if oom > lastOOM { emit("{\"type\":\"oom\",\"id\":\(jsonQuote(id))}") }
                lastOOM = max(lastOOM, oom)
                guard let now = try? Container.load(id, store: store), now.status != .stopped else {
                    // The kill that stopped it may be the OOM: report it before ending.
                    if CgroupStats.oomKillCount(c.state.cgroup) > lastOOM { emit("{\"type\":\"oom\",\"id\":\(jsonQuote(id))}") }
                    return 0
                }
                c = now
                if monotonicSeconds() >= nextStats {
                    emit(statsLine())
                    nextStats += seconds
                }
                usleep(100_000)
            }
        }
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func parseDuration(_ s: String) throws -> Double {
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    for (u, f) in units where s.hasSuffix(u) {
        if let v = Double(s.dropLast(u.count)), v > 0 { return v * f }
    }
    if let v = Double(s), v > 0 { return v }
    throw RuntimeError(.invalidArgument, "invalid --interval \"\(s)\": use a duration such as 5s or 500ms")
}
