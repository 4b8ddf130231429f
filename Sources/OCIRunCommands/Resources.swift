#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import JSON
import LinuxSystem
import OCIRuntime
import OCISpec

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change the resource limits of a running container.")
    @Argument(help: "The container id.") var id: String
    @Option(name: [.customShort("r"), .long], help: "A JSON file of linux.resources ('-' reads stdin).") var resources: String?
    @Option(name: .long, help: "Memory limit in bytes.") var memory: Int64?
    @Option(name: .customLong("memory-reservation"), help: "Memory soft limit in bytes.") var memoryReservation: Int64?
    @Option(name: .customLong("memory-swap"), help: "Memory plus swap limit in bytes.") var memorySwap: Int64?
    @Option(name: .customLong("kernel-memory"), help: "Kernel memory limit (ignored on cgroup2).") var kernelMemory: Int64?
    @Option(name: .customLong("cpu-shares"), help: "CPU shares.") var cpuShares: UInt64?
    @Option(name: .customLong("cpu-quota"), help: "CFS quota in microseconds.") var cpuQuota: Int64?
    @Option(name: .customLong("cpu-period"), help: "CFS period in microseconds.") var cpuPeriod: UInt64?
    @Option(name: .customLong("cpu-rt-runtime"), help: "Realtime runtime in microseconds.") var cpuRtRuntime: Int64?
    @Option(name: .customLong("cpu-rt-period"), help: "Realtime period in microseconds.") var cpuRtPeriod: UInt64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs to use.") var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), help: "Memory nodes to use.") var cpusetMems: String?
    @Option(name: .customLong("pids-limit"), help: "Maximum number of processes.") var pidsLimit: Int64?
    @Option(name: .customLong("blkio-weight"), help: "Block IO weight (10-1000).") var blkioWeight: UInt16?

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
                    bytes = try withContextLocal("read \(path)") { try Files.read(Files.absolute(path)) }
                }
                r = try withContextLocal("parse resources") { try JSONDecoding.decodeMapped(LinuxResources.self, from: bytes) }
            }
            if memory != nil || memoryReservation != nil || memorySwap != nil || kernelMemory != nil {
                var m = r.memory ?? LinuxMemory()
                if let v = memory { m.limit = v }
                if let v = memoryReservation { m.reservation = v }
                if let v = memorySwap { m.swap = v }
                if let v = kernelMemory { m.kernel = v }
                r.memory = m
            }
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
            guard let cg = c.state.cgroup else {
                throw RuntimeError(.unsupported, "container \"\(id)\" has no cgroup to update")
            }
            try CgroupResources.update(r, cgroup: cg)
            return 0
        }
    }
}

func withContextLocal<T>(_ context: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw RuntimeError.wrap(error, context) }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Print container events and resource statistics as JSON.")
    @Argument(help: "The container id.") var id: String
    @Flag(name: .long, help: "Print the statistics once and exit.") var stats = false
    @Option(name: .long, help: "Interval between statistics (e.g. 5s, 500ms).") var interval: String = "5s"

    func run() throws {
        runReportingErrors {
            let store = try globalOptions.store()
            let seconds = try parseDuration(interval)
            var lastOOM = -1
            while true {
                let c = try Container.load(id, store: store)
                guard c.status != .stopped else {
                    throw RuntimeError(.invalidState, "container \"\(id)\" is stopped")
                }
                let s = CgroupStats.read(c.state.cgroup)
                if !stats, lastOOM >= 0, s.oomKills > lastOOM {
                    print("{\"type\":\"oom\",\"id\":\(jsonQuote(id))}")
                }
                lastOOM = s.oomKills
                print("{\"type\":\"stats\",\"id\":\(jsonQuote(id)),\"data\":\(s.json())}")
                if stats { return 0 }
                fflush(stdout)
                usleep(UInt32(min(seconds * 1_000_000, 4_000_000_000)))
            }
        }
    }
}

func parseDuration(_ s: String) throws -> Double {
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    for (u, f) in units where s.hasSuffix(u) {
        if let v = Double(s.dropLast(u.count)), v > 0 { return v * f }
    }
    if let v = Double(s), v > 0 { return v }
    throw RuntimeError(.invalidArgument, "invalid --interval \"\(s)\": use a duration such as 5s or 500ms")
}
