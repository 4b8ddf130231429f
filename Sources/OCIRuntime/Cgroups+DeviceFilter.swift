#if canImport(Glibc)
import Glibc
#endif
import CLinux
import LinuxSystem
import OCISpec

/// Loads and attaches the cgroup2 device program (see DeviceFilter.swift).
///
/// The program is attached with BPF_F_ALLOW_MULTI, so programs of parent cgroups still apply
/// (the kernel allows a request only when every program allows it). Replacing attaches the new
/// program before detaching the old ones: in between both apply, which is never more permissive
/// than either. The kernel detaches the programs itself when the cgroup is removed, so `delete`
/// has nothing to do.
public enum DeviceFilterV2 {
    /// The license the program is loaded under. The device filter calls no GPL-only helper, so
    /// any string is accepted; the project's own license is named.
    static let license = "Apache-2.0"

    /// Replaces the device program of the cgroup2 directory `cgroupDirectory` with one compiled
    /// from `rules` (complete: pass `DeviceFilter.rules(config)` to include the default list),
    /// and records `rules` beside it (`recordedRules`).
    public static func install(_ rules: [DeviceRule], cgroupDirectory: String) throws {
        guard rules.count <= 2000 else {
            throw RuntimeError(.invalidArgument, "linux.resources.devices: \(rules.count) rules are too many for a device program (at most 2000)")
        }
        let program = DeviceFilter.bytes(DeviceFilter.program(rules))
        let count = UInt32(program.count / 8)
        let dir = try FileDescriptor.open(cgroupDirectory, O_RDONLY | O_DIRECTORY)
        var old = [UInt32](repeating: 0, count: 64)
        var n = UInt32(old.count)
        if ocirun_bpf_query_device_programs(dir.rawValue, &old, &n) != 0 { n = 0 }
        var prog = program.withUnsafeBytes { ocirun_bpf_load_device_program($0.baseAddress, count, license, nil, 0) }
        if prog < 0 {
            let e = errno
            // Load again with a log: the verifier's message is the useful part of the error.
            var log = [CChar](repeating: 0, count: 1 << 16)
            prog = program.withUnsafeBytes { ocirun_bpf_load_device_program($0.baseAddress, count, license, &log, UInt32(log.count)) }
            if prog < 0 {
                let text = String(cString: log).trimmingWhitespace()
                let tail = text.split(separator: "\n").suffix(3).joined(separator: "; ")
                throw RuntimeError(.failed, "load the device program for cgroup \(cgroupDirectory)" + (tail.isEmpty ? "" : " (verifier: \(tail))"),
                                   cause: SystemError("bpf(BPF_PROG_LOAD)", errno: e))
            }
        }
        defer { close(prog) }
        if ocirun_bpf_attach_device_program(prog, dir.rawValue) != 0 {
            throw RuntimeError(.failed, "attach the device program", cause: SystemError("bpf(BPF_PROG_ATTACH)", cgroupDirectory))
        }
        for id in old.prefix(Int(min(n, UInt32(old.count)))) {
            let fd = ocirun_bpf_prog_fd_by_id(id)
            guard fd >= 0 else { continue }   // already gone
            defer { close(fd) }
            if ocirun_bpf_detach_device_program(fd, dir.rawValue) != 0 && errno != ENOENT {
                throw RuntimeError(.failed, "detach the previous device program \(id)", cause: SystemError("bpf(BPF_PROG_DETACH)", cgroupDirectory))
            }
        }
        record(rules, cgroupDirectory: cgroupDirectory)   // DeviceFilter+Record.swift
    }

    /// The ids of the device programs attached to the directory itself.
    public static func attachedPrograms(cgroupDirectory: String) throws -> [UInt32] {
        let dir = try FileDescriptor.open(cgroupDirectory, O_RDONLY | O_DIRECTORY)
        var ids = [UInt32](repeating: 0, count: 64)
        var n = UInt32(ids.count)
        guard ocirun_bpf_query_device_programs(dir.rawValue, &ids, &n) == 0 else {
            throw SystemError("bpf(BPF_PROG_QUERY)", cgroupDirectory)
        }
        return Array(ids.prefix(Int(n)))
    }

    /// True when `dir` is a directory of a cgroup2 hierarchy.
    static func isCgroup2(_ dir: String) -> Bool {
        Files.exists(dir + "/cgroup.controllers")
    }
}

extension ContainerCgroup {
    /// The cgroup of a running process (from /proc/PID/cgroup), e.g. for a hook that must
    /// change the devices of a container made by any runtime.
    public static func ofProcess(_ pid: Int32) throws -> ContainerCgroup {
        let own = try Files.readString("/proc/\(pid)/cgroup")
        return resolve(layout: try CgroupLayout.current(), cgroupsPath: "", selfCgroup: own)
    }

    /// Sets the container's device rules to `config` (linux.resources.devices) followed by
    /// `extra` and the default list: v1 `devices.deny a` plus ordered allow/deny lines in the
    /// devices hierarchy, and a rebuilt eBPF program on the cgroup2 directory (v2 and hybrid).
    /// For the HPC hooks: `extra` = `[LinuxDeviceCgroup(allow: true, type: "c", major: 195,
    /// minor: nil, access: "rwm")]` lets the container open /dev/nvidia*.
    public func setDevices(_ config: [LinuxDeviceCgroup], extra: [LinuxDeviceCgroup] = []) throws {
        try CgroupResources.applyDevices(config + extra, to: self, strict: true)
    }
}

extension CgroupResources {
    /// Writes the device rules `config` (+ defaults) to v1 and installs the program on
    /// cgroup2. `strict`: a failure to install the program on a hybrid layout's cgroup2 mount
    /// is an error (otherwise the v1 rules alone are enough there).
    static func applyDevices(_ config: [LinuxDeviceCgroup], to cg: ContainerCgroup, strict: Bool) throws {
        if let dir = cg.path(for: "devices") {
            var r = LinuxResources()
            r.devices = config
            var files = CgroupFileWriter()
            for wr in try v1Writes(r) where wr.controller == "devices" { try files.write(dir, wr) }
        }
        try installDeviceFilter(config, on: cg, strict: strict)
    }

    /// The eBPF half, where the container has no v1 devices cgroup (a v2 host). Where it has one
    /// (v1 and hybrid hosts) the v1 rules are the filter, as with runc and crun: every process
    /// of the container is in that cgroup, and a second, eBPF copy on the hybrid cgroup2 group
    /// cost the kernel's verifier about 0.8 ms per container start (perf) for no added check.
    /// Unprivileged callers (rootless, delegated cgroup) cannot load programs: skipped.
    static func installDeviceFilter(_ config: [LinuxDeviceCgroup], on cg: ContainerCgroup, strict: Bool) throws {
        guard cg.path(for: "devices") == nil else { return }
        guard let dir = cg.unifiedPath, DeviceFilterV2.isCgroup2(dir) else { return }
        let rules = try DeviceFilter.rules(config)
        do {
            try DeviceFilterV2.install(rules, cgroupDirectory: dir)
        } catch {
            if geteuid() != 0 { return }
            if cg.isV2 || cg.path(for: "devices") == nil || strict { throw error }
        }
    }
}
