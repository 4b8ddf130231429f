#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem
import OCIRuntime
import OCISpec

/// The cgroup2 half of allowing a hook's device nodes: the device filter there is an eBPF
/// program attached to the container's cgroup2 directory, which cannot be amended, only
/// replaced. See docs/hooks.md ("Device cgroup").
enum DeviceCgroupV2 {
    /// The container's cgroup2 directory from a `/proc/PID/cgroup` text (its `0::` line) and
    /// this process's mountinfo; nil when there is no cgroup2 mount, or when the path is the
    /// hierarchy's root (the reader sits in a cgroup namespace: the real path is unknown, and a
    /// program on the root would filter the whole machine).
    static func directory(cgroupText: String, mountinfo: String) -> String? {
        var path: String?
        for line in cgroupText.split(separator: "\n") where line.hasPrefix("0::") {
            path = String(line.dropFirst(3))
        }
        guard let path else { return nil }
        for line in mountinfo.split(separator: "\n") {
            let parts = line.split(separator: " - ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let pre = parts[0].split(separator: " "), post = parts[1].split(separator: " ")
            guard pre.count >= 5, post.count >= 1, post[0] == "cgroup2" else { continue }
            let mountRoot = String(pre[3]), mountPoint = String(pre[4])
            var rel = path
            if mountRoot != "/" {
                guard rel.hasPrefix(mountRoot) else { continue }
                rel = String(rel.dropFirst(mountRoot.count))
            }
            guard Files.clean("/" + rel) != "/" else { return nil }
            return Files.clean(mountPoint + "/" + rel)
        }
        return nil
    }

    /// True when this process sees only a cgroup2 hierarchy (a v2-only host).
    static func isUnifiedOnly(mountinfo: String) -> Bool {
        CgroupLayout.parse(mountinfo: mountinfo).isUnifiedOnly
    }

    /// Whether device programs are attached to `dir` itself (by any runtime: the kernel then
    /// allows a device only when every program on the path allows it); nil when this process
    /// may not ask (BPF_PROG_QUERY needs CAP_NET_ADMIN or CAP_SYS_ADMIN: an unprivileged hook).
    /// With none attached the container's own cgroup2 group refuses nothing, on a v2-only host
    /// too (a rootless or privileged container): a program is then not added, it could only
    /// take devices away.
    static func hasProgram(_ dir: String) throws -> Bool? {
        do { return try !DeviceFilterV2.attachedPrograms(cgroupDirectory: dir).isEmpty } catch {
            if let e = error as? SystemError, e.errno == EPERM { return nil }
            throw HookError("query the device programs of cgroup \(dir): \(error)")
        }
    }

    /// The rules of the program now in force, plus `devices` allowed `rwm`. The program in force is
    /// described by the record ocirun and this hook keep beside it (the container's rules, what
    /// CDI and earlier hooks added, the defaults) while that record is current; otherwise (runc,
    /// crun: no record) the container's `linux.resources.devices` from its config.json plus the
    /// default list are what the runtime compiled.
    static func rules(adding devices: [HostDevice], config: [LinuxDeviceCgroup], cgroupDirectory dir: String) throws -> [DeviceRule] {
        let base: [DeviceRule]
        if let recorded = DeviceFilterV2.recordedRules(cgroupDirectory: dir) {
            base = recorded
        } else {
            do { base = try DeviceFilter.rules(config) } catch {
                throw HookError("linux.resources.devices of the container's config.json: \(error)")
            }
        }
        let extra = devices.map { d in
            DeviceRule(allow: true, kind: d.type == "b" ? .block : .char,
                       major: UInt32(truncatingIfNeeded: d.major), minor: UInt32(truncatingIfNeeded: d.minor), access: .all)
        }
        return base + extra   // last match wins: appended allows hold whatever came before
    }

    /// Replaces the program of `dir` with one that also allows `devices`.
    static func allow(_ devices: [HostDevice], config: [LinuxDeviceCgroup], cgroupDirectory dir: String, kind: String) throws {
        let all = try rules(adding: devices, config: config, cgroupDirectory: dir)
        do { try DeviceFilterV2.install(all, cgroupDirectory: dir) } catch {
            let names = devices.map(\.path).joined(separator: ", ")
            throw HookError("\(kind): allow \(names) in the cgroup2 device filter of \(dir): \(error)")
        }
    }
}
