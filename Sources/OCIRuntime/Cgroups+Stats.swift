import JSON
import LinuxSystem

/// The statistics `events` prints, in runc's JSON shape (`types.Stats` of runc's events:
/// cpu, cpuset, memory, pids, blkio, hugetlb, intel_rdt, network_interfaces), read from the
/// container's cgroup on v1, v2 and hybrid hosts. Values the kernel does not offer are 0,
/// and the members runc leaves out when empty are left out too.
public struct CgroupStats {
    /// The `data` object of a stats event.
    public var data: JSONValue = .object([:])
    /// The number of OOM kills in the cgroup (memory.oom_control / memory.events oom_kill).
    public var oomKills: Int = 0

    // MARK: reading files

    static func text(_ path: String) -> String? {
        (try? Files.readString(path)).map { $0.trimmingWhitespace() }
    }

    /// A number file; `max` is `ifMax` (runc: pids 0, memory UInt64.max).
    static func number(_ path: String, ifMax: UInt64 = 0) -> UInt64 {
        guard let t = text(path) else { return 0 }
        return t == "max" ? ifMax : UInt64(t) ?? 0
    }

    /// `key value` lines (memory.stat, cpu.stat, cpuacct.stat, memory.events).
    static func keyed(_ path: String) -> [(String, UInt64)] {
        guard let s = try? Files.readString(path) else { return [] }
        return s.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 2, let v = UInt64(f[1]) else { return nil }
            return (String(f[0]), v)
        }
    }

    static func value(_ pairs: [(String, UInt64)], _ key: String) -> UInt64 {
        pairs.first { $0.0 == key }?.1 ?? 0
    }

    /// A cpuset list such as `0-3,8` as numbers.
    static func list(_ text: String?) -> [UInt64] {
        var out: [UInt64] = []
        for part in (text ?? "").split(separator: ",") {
            let r = part.split(separator: "-")
            if r.count == 2, let a = UInt64(r[0]), let b = UInt64(r[1]), a <= b, b - a < 65536 { out += Array(a...b) }
            else if let a = UInt64(part) { out.append(a) }
        }
        return out
    }

    static func n(_ v: UInt64) -> JSONValue { .number(v <= UInt64(Int64.max) ? .int(Int64(v)) : .uint(v)) }
    static func numbers(_ v: [UInt64]) -> JSONValue { .array(v.map(n)) }

    /// An object without the members whose value is 0, an empty array or an empty object
    /// (Go's `omitempty`), except those in `keep`.
    static func object(_ members: [(String, JSONValue)], keep: Set<String> = []) -> JSONValue {
        var o = JSONObject()
        for (k, v) in members {
            if !keep.contains(k) {
                switch v {
                case .number(.int(0)), .null: continue
                case .array(let a) where a.isEmpty: continue
                case .object(let x) where x.isEmpty: continue
                case .string(let s) where s.isEmpty: continue
                default: break
                }
            }
            o.append(key: k, value: v)
        }
        return .object(o)
    }

    static func memoryEntry(usage: UInt64, max: UInt64, limit: UInt64, failcnt: UInt64) -> JSONValue {
        object([("limit", n(limit)), ("usage", n(usage)), ("max", n(max)), ("failcnt", n(failcnt))], keep: ["limit", "failcnt"])
    }

    // MARK: the stats

    public static func read(_ cg: ContainerCgroup?) -> CgroupStats {
        var s = CgroupStats()
        guard let cg else { return s }
        var cpu: JSONValue = object([("usage", object([("kernel", n(0)), ("user", n(0))], keep: ["kernel", "user"])),
                                     ("throttling", object([]))], keep: ["usage", "throttling"])
        var cpuset: JSONValue = object([])
        var memory: JSONValue = object([])
        var pids: JSONValue = object([])
        var blkio: JSONValue = object([])
        var hugetlb = JSONObject()

        if cg.isV2, let d = cg.unifiedPath {
            let st = keyed(d + "/cpu.stat")
            cpu = object([
                ("usage", object([("total", n(value(st, "usage_usec") * 1000)),
                                  ("kernel", n(value(st, "system_usec") * 1000)), ("user", n(value(st, "user_usec") * 1000))],
                                 keep: ["kernel", "user"])),
                ("throttling", object([("periods", n(value(st, "nr_periods"))), ("throttledPeriods", n(value(st, "nr_throttled"))),
                                       ("throttledTime", n(value(st, "throttled_usec") * 1000))])),
            ], keep: ["usage", "throttling"])
            cpuset = cpusetObject(cpus: text(d + "/cpuset.cpus.effective"), mems: text(d + "/cpuset.mems.effective"), dir: nil)
            let raw = keyed(d + "/memory.stat")
            let events = keyed(d + "/memory.events")
            memory = object([
                ("cache", n(value(raw, "file"))),
                ("usage", memoryEntry(usage: number(d + "/memory.current"), max: number(d + "/memory.peak"),
                                      limit: number(d + "/memory.max", ifMax: .max), failcnt: value(events, "max"))),
                ("swap", memoryEntry(usage: number(d + "/memory.swap.current"), max: number(d + "/memory.swap.peak"),
                                     limit: number(d + "/memory.swap.max", ifMax: .max), failcnt: value(events, "swap_max"))),
                ("kernel", memoryEntry(usage: 0, max: 0, limit: 0, failcnt: 0)),
                ("kernelTCP", memoryEntry(usage: 0, max: 0, limit: 0, failcnt: 0)),
                ("raw", .object(JSONObject(raw.map { (key: $0.0, value: n($0.1)) }))),
            ], keep: ["usage", "swap", "kernel", "kernelTCP"])
            s.oomKills = Int(value(events, "oom_kill"))
            pids = object([("current", n(number(d + "/pids.current"))), ("limit", n(number(d + "/pids.max")))])
            blkio = ioStat(d + "/io.stat")
            hugetlb = hugetlbV2(d)
        } else {
            if let d = cg.path(for: "cpuacct") {
                let st = keyed(d + "/cpuacct.stat")
                // cpuacct.stat counts USER_HZ (100 per second) ticks; runc reports nanoseconds.
                let tick: UInt64 = 10_000_000
                cpu = object([("usage", object([
                    ("total", n(number(d + "/cpuacct.usage"))),
                    ("percpu", numbers(list(text(d + "/cpuacct.usage_percpu").map { $0.split(separator: " ").joined(separator: ",") }))),
                    ("percpu_kernel", numbers(list(text(d + "/cpuacct.usage_percpu_sys").map { $0.split(separator: " ").joined(separator: ",") }))),
                    ("percpu_user", numbers(list(text(d + "/cpuacct.usage_percpu_user").map { $0.split(separator: " ").joined(separator: ",") }))),
                    ("kernel", n(value(st, "system") * tick)), ("user", n(value(st, "user") * tick)),
                ], keep: ["kernel", "user"])), ("throttling", object([]))], keep: ["usage", "throttling"])
            }
            if let d = cg.path(for: "cpu") {
                let st = keyed(d + "/cpu.stat")
                var o: JSONObject = { if case .object(let x) = cpu { return x }; return [:] }()
                o.members.removeAll { $0.key == "throttling" }
                o.append(key: "throttling", value: object([("periods", n(value(st, "nr_periods"))), ("throttledPeriods", n(value(st, "nr_throttled"))),
                                               ("throttledTime", n(value(st, "throttled_time")))]))
                cpu = .object(o)
            }
            if let d = cg.path(for: "cpuset") {
                cpuset = cpusetObject(cpus: text(d + "/cpuset.cpus"), mems: text(d + "/cpuset.mems"), dir: d)
            }
            if let d = cg.path(for: "memory") {
                let raw = keyed(d + "/memory.stat")
                func entry(_ prefix: String) -> JSONValue {
                    memoryEntry(usage: number(d + "/\(prefix).usage_in_bytes"), max: number(d + "/\(prefix).max_usage_in_bytes"),
                                limit: number(d + "/\(prefix).limit_in_bytes"), failcnt: number(d + "/\(prefix).failcnt"))
                }
                memory = object([
                    ("cache", n(raw.contains { $0.0 == "total_cache" } ? value(raw, "total_cache") : value(raw, "cache"))),
                    ("usage", entry("memory")), ("swap", entry("memory.memsw")), ("kernel", entry("memory.kmem")),
                    ("kernelTCP", entry("memory.kmem.tcp")),
                    ("raw", .object(JSONObject(raw.map { (key: $0.0, value: n($0.1)) }))),
                ], keep: ["usage", "swap", "kernel", "kernelTCP"])
                s.oomKills = Int(value(keyed(d + "/memory.oom_control"), "oom_kill"))
            }
            if let d = cg.path(for: "pids") {
                pids = object([("current", n(number(d + "/pids.current"))), ("limit", n(number(d + "/pids.max")))])
            }
            if let d = cg.path(for: "blkio") { blkio = blkioV1(d) }
            if let d = cg.path(for: "hugetlb") {
                hugetlb = hugetlbV1(d)
            } else if let u = cg.unifiedPath {
                hugetlb = hugetlbV2(u)   // hybrid: hugetlb on the cgroup2 mount
            }
        }
        s.data = .object([
            "cpu": cpu, "cpuset": cpuset, "memory": memory, "pids": pids, "blkio": blkio,
            "hugetlb": .object(hugetlb), "intel_rdt": .object([:]), "network_interfaces": .null,
        ])
        return s
    }

    static func cpusetObject(cpus: String?, mems: String?, dir: String?) -> JSONValue {
        var members: [(String, JSONValue)] = [("cpus", numbers(list(cpus))), ("cpu_exclusive", n(0)), ("mems", numbers(list(mems)))]
        let flags = ["mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page", "memory_spread_slab",
                     "memory_pressure", "sched_load_balance"]
        if let dir { members[1] = ("cpu_exclusive", n(number(dir + "/cpuset.cpu_exclusive"))) }
        for f in flags { members.append((f, n(dir.map { number($0 + "/cpuset." + f) } ?? 0))) }
        let relax = dir.flatMap { text($0 + "/cpuset.sched_relax_domain_level") }.flatMap { Int64($0) } ?? 0
        members.append(("sched_relax_domain_level", .number(.int(relax))))
        return object(members, keep: Set(["cpu_exclusive", "sched_relax_domain_level"] + flags))
    }

    /// `8:0 Read 4096` lines of a v1 blkio file (the `Total` line skipped).
    static func blkioEntries(_ path: String) -> JSONValue {
        guard let s = try? Files.readString(path) else { return .array([]) }
        var out: [JSONValue] = []
        for line in s.split(separator: "\n") {
            let f = line.split(separator: " ")
            let dev = f.first?.split(separator: ":") ?? []
            guard dev.count == 2, let ma = UInt64(dev[0]), let mi = UInt64(dev[1]) else { continue }
            if f.count == 3, let v = UInt64(f[2]) {
                out.append(object([("major", n(ma)), ("minor", n(mi)), ("op", .string(String(f[1]))), ("value", n(v))]))
            } else if f.count == 2, let v = UInt64(f[1]) {
                out.append(object([("major", n(ma)), ("minor", n(mi)), ("value", n(v))]))
            }
        }
        return .array(out)
    }

    static func blkioV1(_ d: String) -> JSONValue {
        // The proportional (CFQ/BFQ) files when the scheduler keeps them, else the throttle ones.
        func pick(_ names: [String]) -> JSONValue {
            for name in names {
                let v = blkioEntries(d + "/" + name)
                if case .array(let a) = v, !a.isEmpty { return v }
            }
            return .array([])
        }
        return object([
            ("ioServiceBytesRecursive", pick(["blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive",
                                              "blkio.throttle.io_service_bytes_recursive"])),
            ("ioServicedRecursive", pick(["blkio.io_serviced_recursive", "blkio.bfq.io_serviced_recursive",
                                          "blkio.throttle.io_serviced_recursive"])),
            ("ioQueueRecursive", pick(["blkio.io_queued_recursive"])),
            ("ioServiceTimeRecursive", pick(["blkio.io_service_time_recursive"])),
            ("ioWaitTimeRecursive", pick(["blkio.io_wait_time_recursive"])),
            ("ioMergedRecursive", pick(["blkio.io_merged_recursive"])),
            ("ioTimeRecursive", pick(["blkio.time_recursive"])),
            ("sectorsRecursive", pick(["blkio.sectors_recursive"])),
        ])
    }

    /// cgroup2 `io.stat`: `8:0 rbytes=… wbytes=… rios=… wios=…`, as runc maps it.
    static func ioStat(_ path: String) -> JSONValue {
        guard let s = try? Files.readString(path) else { return object([]) }
        var bytes: [JSONValue] = [], ios: [JSONValue] = []
        for line in s.split(separator: "\n") {
            let f = line.split(separator: " ")
            let dev = f.first?.split(separator: ":") ?? []
            guard dev.count == 2, let ma = UInt64(dev[0]), let mi = UInt64(dev[1]) else { continue }
            for kv in f.dropFirst() {
                let p = kv.split(separator: "=")
                guard p.count == 2, let v = UInt64(p[1]) else { continue }
                let e = { (op: String) in object([("major", n(ma)), ("minor", n(mi)), ("op", .string(op)), ("value", n(v))]) }
                switch p[0] {
                case "rbytes": bytes.append(e("Read"))
                case "wbytes": bytes.append(e("Write"))
                case "rios": ios.append(e("Read"))
                case "wios": ios.append(e("Write"))
                default: continue
                }
            }
        }
        return object([("ioServiceBytesRecursive", .array(bytes)), ("ioServicedRecursive", .array(ios))])
    }

    static func pageSizes(_ dir: String, suffix: String) -> [String] {
        ((try? Files.list(dir)) ?? []).compactMap { name in
            guard name.hasASCIIPrefix("hugetlb."), name.hasSuffix(suffix) else { return nil }
            let size = name.dropFirst("hugetlb.".count).dropLast(suffix.count)
            return size.contains(".") || size.isEmpty ? nil : String(size)
        }.sorted()
    }

    static func hugetlbV1(_ d: String) -> JSONObject {
        var o = JSONObject()
        for size in pageSizes(d, suffix: ".usage_in_bytes") {
            o.append(key: size, value: object([("usage", n(number(d + "/hugetlb.\(size).usage_in_bytes"))),
                                   ("max", n(number(d + "/hugetlb.\(size).max_usage_in_bytes"))),
                                   ("failcnt", n(number(d + "/hugetlb.\(size).failcnt")))], keep: ["failcnt"]))
        }
        return o
    }

    static func hugetlbV2(_ d: String) -> JSONObject {
        var o = JSONObject()
        for size in pageSizes(d, suffix: ".current") {
            o.append(key: size, value: object([("usage", n(number(d + "/hugetlb.\(size).current"))),
                                   ("failcnt", n(value(keyed(d + "/hugetlb.\(size).events"), "max")))], keep: ["failcnt"]))
        }
        return o
    }

    /// The `data` object as JSON text.
    public func json() -> String { data.serialized() }
}

extension CgroupStats {
    /// The OOM-kill counter alone (cheap enough to poll).
    public static func oomKillCount(_ cg: ContainerCgroup?) -> Int {
        guard let cg else { return 0 }
        if cg.isV2, let d = cg.unifiedPath { return Int(value(keyed(d + "/memory.events"), "oom_kill")) }
        if let d = cg.path(for: "memory") { return Int(value(keyed(d + "/memory.oom_control"), "oom_kill")) }
        return 0
    }
}
