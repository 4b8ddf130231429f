#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem
import OCISpec

/// One cgroup file write, computed from `linux.resources` before anything is written, so a bad
/// value is rejected before the system is touched.
public struct CgroupWrite: Equatable, Sendable {
    public var controller: String   // v1 controller name, or "unified"
    public var file: String
    public var value: String
}

/// Devices every container may use (runc's default allow list): null, zero, full, tty, random,
/// urandom, /dev/pts/*, ptmx, and mknod of any device.
let defaultAllowedDevices: [LinuxDeviceCgroup] = [
    LinuxDeviceCgroup(allow: true, type: "c", major: nil, minor: nil, access: "m"),
    LinuxDeviceCgroup(allow: true, type: "b", major: nil, minor: nil, access: "m"),
    LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
    LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),
    LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),
    LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),
    LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
    LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),
    LinuxDeviceCgroup(allow: true, type: "c", major: 136, minor: nil, access: "rwm"),
    LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),
]

public enum CgroupResources {
    /// The writes for `resources` on a v1 (or hybrid) host, in order.
    public static func v1Writes(_ r: LinuxResources, devices: [LinuxDevice] = [], includeDevices: Bool = true) throws -> [CgroupWrite] {
        var w: [CgroupWrite] = []
        func add(_ c: String, _ f: String, _ v: String) { w.append(CgroupWrite(controller: c, file: f, value: v)) }
        if let m = r.memory {
            if let v = m.reservation { add("memory", "memory.soft_limit_in_bytes", "\(v)") }
            if let v = m.limit { add("memory", "memory.limit_in_bytes", "\(v)") }
            if let v = m.swap {
                if let l = m.limit, v != -1, v < l {
                    throw RuntimeError(.invalidArgument, "linux.resources.memory.swap (\(v)) must not be lower than memory.limit (\(l))")
                }
                add("memory", "memory.memsw.limit_in_bytes", "\(v)")
            }
            if let v = m.kernel { add("memory", "memory.kmem.limit_in_bytes", "\(v)") }
            if let v = m.kernelTCP { add("memory", "memory.kmem.tcp.limit_in_bytes", "\(v)") }
            if let v = m.swappiness {
                guard v <= 100 else { throw RuntimeError(.invalidArgument, "linux.resources.memory.swappiness \(v) is out of range 0-100") }
                add("memory", "memory.swappiness", "\(v)")
            }
            if m.disableOOMKiller == true { add("memory", "memory.oom_control", "1") }
        }
        if let c = r.cpu {
            if let v = c.shares { add("cpu", "cpu.shares", "\(v)") }
            if let v = c.period { add("cpu", "cpu.cfs_period_us", "\(v)") }
            if let v = c.quota { add("cpu", "cpu.cfs_quota_us", "\(v)") }
            if let v = c.realtimePeriod { add("cpu", "cpu.rt_period_us", "\(v)") }
            if let v = c.realtimeRuntime { add("cpu", "cpu.rt_runtime_us", "\(v)") }
            if let v = c.cpus, !v.isEmpty { add("cpuset", "cpuset.cpus", v) }
            if let v = c.mems, !v.isEmpty { add("cpuset", "cpuset.mems", v) }
        }
        if let p = r.pids {
            add("pids", "pids.max", p.limit > 0 ? "\(p.limit)" : "max")
        }
        if let b = r.blockIO {
            if let v = b.weight { add("blkio", "blkio.weight", "\(v)") }
            if let v = b.leafWeight { add("blkio", "blkio.leaf_weight", "\(v)") }
            for d in b.weightDevice ?? [] {
                if let v = d.weight { add("blkio", "blkio.weight_device", "\(d.major):\(d.minor) \(v)") }
                if let v = d.leafWeight { add("blkio", "blkio.leaf_weight_device", "\(d.major):\(d.minor) \(v)") }
            }
            for d in b.throttleReadBpsDevice ?? [] { add("blkio", "blkio.throttle.read_bps_device", "\(d.major):\(d.minor) \(d.rate)") }
            for d in b.throttleWriteBpsDevice ?? [] { add("blkio", "blkio.throttle.write_bps_device", "\(d.major):\(d.minor) \(d.rate)") }
            for d in b.throttleReadIOPSDevice ?? [] { add("blkio", "blkio.throttle.read_iops_device", "\(d.major):\(d.minor) \(d.rate)") }
            for d in b.throttleWriteIOPSDevice ?? [] { add("blkio", "blkio.throttle.write_iops_device", "\(d.major):\(d.minor) \(d.rate)") }
        }
        for h in r.hugepageLimits ?? [] {
            add("hugetlb", "hugetlb.\(h.pageSize).limit_in_bytes", "\(h.limit)")
        }
        if let n = r.network {
            if let v = n.classID { add("net_cls", "net_cls.classid", "\(v)") }
            for p in n.priorities ?? [] { add("net_prio", "net_prio.ifpriomap", "\(p.name) \(p.priority)") }
        }
        // Devices: deny all, the config's rules in order, then the defaults and linux.devices.
        guard includeDevices else { return w }
        add("devices", "devices.deny", "a")
        // NOTE: the config's rules come first: a trailing "deny all" would otherwise wipe the
        // default allow list (runc appends its defaults after the spec's rules too).
        var rules = r.devices ?? []
        // linux.devices are not allowed implicitly: access comes from resources.devices (runc).
        rules.append(contentsOf: defaultAllowedDevices)
        for rule in rules {
            let line = try deviceRuleLine(rule)
            add("devices", rule.allow ? "devices.allow" : "devices.deny", line)
        }
        return w
    }

    /// `c 1:3 rwm` for a device rule; `a` types and absent numbers become `*`.
    static func deviceRuleLine(_ d: LinuxDeviceCgroup) throws -> String {
        let type = d.type ?? "a"
        guard ["a", "b", "c", "u", "p"].contains(type) else {
            throw RuntimeError(.invalidArgument, "linux.resources.devices: invalid device type \"\(type)\"")
        }
        let access = d.access ?? "rwm"
        guard !access.isEmpty, access.allSatisfy({ "rwm".contains($0) }) else {
            throw RuntimeError(.invalidArgument, "linux.resources.devices: invalid access \"\(access)\"")
        }
        let t = type == "u" || type == "p" ? "c" : type
        if t == "a" { return "a *:* \(access)" }
        let maj = d.major.map { $0 < 0 ? "*" : decimal($0) } ?? "*"
        let min = d.minor.map { $0 < 0 ? "*" : decimal($0) } ?? "*"
        return "\(t) \(maj):\(min) \(access)"
    }

    /// The writes for `resources` on a cgroup2 host.
    /// `currentLimit`: the group's memory.max, for `update` of a swap limit alone (the spec's
    /// swap counts memory too; cgroup2's does not, so the memory limit is needed to convert).
    public static func v2Writes(_ r: LinuxResources, currentLimit: Int64? = nil) throws -> [CgroupWrite] {
        var w: [CgroupWrite] = []
        func add(_ f: String, _ v: String) { w.append(CgroupWrite(controller: "unified", file: f, value: v)) }
        func lim(_ v: Int64) -> String { v < 0 ? "max" : "\(v)" }
        if let m = r.memory {
            if let v = m.reservation { add("memory.low", lim(v)) }
            if let v = m.limit { add("memory.max", lim(v)) }
            if let v = m.swap {
                // cgroup2's swap limit excludes memory; the spec's includes it.
                if v < 0 { add("memory.swap.max", "max") }
                else if let l = m.limit ?? currentLimit, l >= 0 {
                    guard v >= l else { throw RuntimeError(.invalidArgument, "linux.resources.memory.swap (\(v)) must not be lower than memory.limit (\(l))") }
                    add("memory.swap.max", "\(v - l)")
                } else if v > 0 {
                    // runc refuses this too: without a memory limit the swap share is unknown.
                    throw RuntimeError(.invalidArgument, "linux.resources.memory.swap (\(v)) needs memory.limit on cgroup v2 (swap there excludes memory)")
                }
            }
        }
        if let c = r.cpu {
            if let v = c.shares, v > 0 {
                // runc's conversion from shares [2, 262144] to weight [1, 10000].
                let s = min(max(v, 2), 262144)
                let weight = 1 + ((s - 2) * 9999) / 262142
                add("cpu.weight", "\(weight)")
            }
            if c.quota != nil || c.period != nil {
                let q = c.quota.map { $0 < 0 ? "max" : "\($0)" } ?? "max"
                add("cpu.max", "\(q) \(c.period ?? 100000)")
            }
            if let v = c.idle { add("cpu.idle", "\(v)") }
            if let v = c.cpus, !v.isEmpty { add("cpuset.cpus", v) }
            if let v = c.mems, !v.isEmpty { add("cpuset.mems", v) }
        }
        if let p = r.pids { add("pids.max", p.limit > 0 ? "\(p.limit)" : "max") }
        if let b = r.blockIO, let v = b.weight { add("io.bfq.weight", "\(v)") }
        for h in r.hugepageLimits ?? [] { add("hugetlb.\(h.pageSize).max", "\(h.limit)") }
        for (k, v) in (r.unified ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !k.contains("/"), k.contains(".") else {
                throw RuntimeError(.invalidArgument, "linux.resources.unified: invalid key \"\(k)\"")
            }
            add(k, v)
        }
        return w
    }

    /// Applies the resources to an existing cgroup.
    public static func apply(_ r: LinuxResources?, devices: [LinuxDevice], to cg: ContainerCgroup) throws {
        let r = r ?? LinuxResources()
        if cg.isV2 {
            for wr in try v2Writes(r) {
                guard let dir = cg.unifiedPath else { continue }
                try write(dir, wr)
            }
            try installDeviceFilter(r.devices ?? [], on: cg, strict: true)
            return
        }
        var files = CgroupFileWriter()
        for wr in try v1Writes(r, devices: devices) {
            guard let dir = cg.path(for: wr.controller) else {
                if wr.controller == "devices" { continue }
                // hugetlb may live on the hybrid cgroup2 mount.
                if wr.controller == "hugetlb", let u = cg.unifiedPath, Files.exists(u + "/cgroup.controllers") {
                    let name = wr.file.replacingSuffix(".limit_in_bytes", with: ".max")
                    try write(u, CgroupWrite(controller: "unified", file: name, value: wr.value))
                    continue
                }
                throw RuntimeError(.unsupported, "cgroup controller \(wr.controller) is not mounted (needed for \(wr.file))")
            }
            try files.write(dir, wr)
        }
        if let u = r.unified, !u.isEmpty, let dir = cg.unifiedPath {
            for (k, v) in u.sorted(by: { $0.key < $1.key }) {
                try write(dir, CgroupWrite(controller: "unified", file: k, value: v))
            }
        }
        // Hybrid: the cgroup2 group gets the device program too (both filters apply).
        try installDeviceFilter(r.devices ?? [], on: cg, strict: false)
    }

    /// `update`: the given resources only (devices untouched unless given). On v1, a memory
    /// limit above the current memory+swap limit needs memsw raised first.
    public static func update(_ r: LinuxResources, cgroup cg: ContainerCgroup) throws {
        if cg.isV2 {
            guard let dir = cg.unifiedPath else { return }
            let current = (try? Files.readString(dir + "/memory.max")).flatMap { Int64($0.trimmingWhitespace()) }
            for wr in try v2Writes(r, currentLimit: current) { try write(dir, wr) }
            if let d = r.devices { try installDeviceFilter(d, on: cg, strict: true) }
            return
        }
        var writes = try v1Writes(r, includeDevices: r.devices != nil)
        if let i = writes.firstIndex(where: { $0.file == "memory.memsw.limit_in_bytes" }),
           let j = writes.firstIndex(where: { $0.file == "memory.limit_in_bytes" }), i > j,
           let dir = cg.path(for: "memory"),
           let cur = (try? Files.readString(dir + "/memory.memsw.limit_in_bytes")).flatMap({ Int64($0.trimmingWhitespace()) }),
           let new = Int64(writes[j].value), new > cur || new == -1 {
            writes.swapAt(i, j)
        }
        for wr in writes {
            guard let dir = cg.path(for: wr.controller) else {
                throw RuntimeError(.unsupported, "cgroup controller \(wr.controller) is not mounted (needed for \(wr.file))")
            }
            try write(dir, wr)
        }
        if let d = r.devices { try installDeviceFilter(d, on: cg, strict: false) }
    }

    static func write(_ dir: String, _ w: CgroupWrite) throws {
        var files = CgroupFileWriter()
        try files.write(dir, w)
    }
}

/// Writes cgroup files, keeping the last one open: consecutive writes to one file share one open
/// (devices.allow takes one rule per write, a dozen for the default devices).
struct CgroupFileWriter {
    private var path = ""
    private var fd: FileDescriptor?

    mutating func write(_ dir: String, _ w: CgroupWrite) throws {
        var path = dir + "/" + w.file
        // Kernels with BFQ and no CFQ name the v1 weights blkio.bfq.weight (runc's fallback).
        if w.file.hasASCIIPrefix("blkio.weight"), !Files.exists(path) {
            let bfq = dir + "/blkio.bfq." + w.file.dropFirst("blkio.".count)
            if Files.exists(bfq) { path = bfq } else {
                throw RuntimeError(.unsupported, "set cgroup \(w.file) to \"\(w.value)\": this kernel's block scheduler offers no proportional weight (no \(w.file) or blkio.bfq.\(w.file.dropFirst("blkio.".count)) in \(dir))")
            }
        }
        do {
            if fd == nil || path != self.path {
                fd = nil
                fd = try FileDescriptor.open(path, O_WRONLY | O_TRUNC)
                self.path = path
            }
            // One write(2) per value, as the kernel takes it (a cgroup file is not a stream).
            let bytes = Array(w.value.utf8)
            let n = bytes.withUnsafeBytes { Glibc.write(fd?.rawValue ?? -1, $0.baseAddress, $0.count) }
            if n < 0 { throw SystemError("write", path) }
        } catch {
            throw RuntimeError(.failed, "set cgroup \(w.file) to \"\(w.value)\"", cause: error)
        }
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with new: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + new : self
    }
}
