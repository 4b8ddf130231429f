#if canImport(Glibc)
import Glibc
#endif
import CLinux

// The rule list a cgroup2 device program was compiled from, kept beside it.
//
// A BPF program cannot be read back as rules, yet whoever adds a device to a running container's
// filter (the HPC hooks, after the runtime has attached its program) must rebuild the whole
// program: the container's own rules, what CDI added at create, what an earlier hook added.
// `install` therefore records the complete rule list, with the id of the program it attached, in
// the extended attribute `trusted.ocirun.device-rules` of the cgroup2 directory:
// - it lives exactly as long as the cgroup (kernfs keeps xattrs in memory, per directory);
// - `trusted.*` needs CAP_SYS_ADMIN in the initial user namespace to write (and to read), so a
//   container cannot use it to grant itself a device; a process that has that capability and
//   the cgroupfs can attach programs itself anyway;
// - the record is believed only while the program it names is the one and only program
//   attached there: a runtime that replaced it (runc/crun `update`, a later create in a reused
//   directory) makes it stale, and the reader falls back to the container's config.

extension DeviceFilterV2 {
    /// The extended attribute holding the record.
    public static let recordAttribute = "trusted.ocirun.device-rules"

    /// The rules of the program attached to `cgroupDirectory`, when `install` recorded them and
    /// that program is still the only one attached; nil otherwise.
    public static func recordedRules(cgroupDirectory: String) -> [DeviceRule]? {
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        let n = ocirun_getxattr(cgroupDirectory, recordAttribute, &buf, buf.count)
        guard n > 0, let record = parseRecord(String(decoding: buf[0..<Int(n)], as: UTF8.self)) else { return nil }
        guard let attached = try? attachedPrograms(cgroupDirectory: cgroupDirectory), attached == [record.program] else { return nil }
        return record.rules
    }

    /// Records `rules` as the source of the program now attached to `cgroupDirectory` (best
    /// effort: without a record a later reader rebuilds from the container's config).
    static func record(_ rules: [DeviceRule], cgroupDirectory: String) {
        guard let attached = try? attachedPrograms(cgroupDirectory: cgroupDirectory), attached.count == 1 else {
            _ = ocirun_removexattr(cgroupDirectory, recordAttribute)
            return
        }
        let text = recordText(rules, program: attached[0])
        if text.utf8.count >= 1 << 16 || ocirun_setxattr(cgroupDirectory, recordAttribute, text, text.utf8.count) != 0 {
            _ = ocirun_removexattr(cgroupDirectory, recordAttribute)
        }
    }

    /// `ocirun-device-rules 1`, `program ID`, then one `allow|deny a|c|b MAJ|*:MIN|* ACCESS` line per rule.
    public static func recordText(_ rules: [DeviceRule], program: UInt32) -> String {
        var lines = ["ocirun-device-rules 1", "program \(program)"]
        for r in rules {
            let kind = r.kind.map { $0 == .char ? "c" : "b" } ?? "a"
            var access = ""
            if r.access.contains(.read) { access += "r" }
            if r.access.contains(.write) { access += "w" }
            if r.access.contains(.mknod) { access += "m" }
            lines.append("\(r.allow ? "allow" : "deny") \(kind) \(r.major.map(String.init) ?? "*"):\(r.minor.map(String.init) ?? "*") \(access)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The inverse of `recordText`; nil for anything else.
    public static func parseRecord(_ text: String) -> (program: UInt32, rules: [DeviceRule])? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count >= 2, lines[0] == "ocirun-device-rules 1", lines[1].hasPrefix("program "),
              let program = UInt32(lines[1].dropFirst("program ".count)) else { return nil }
        var rules: [DeviceRule] = []
        for line in lines.dropFirst(2) {
            let f = line.split(separator: " ")
            guard f.count == 4, f[0] == "allow" || f[0] == "deny" else { return nil }
            let kind: DeviceKind?
            switch f[1] {
            case "a": kind = nil
            case "c": kind = .char
            case "b": kind = .block
            default: return nil
            }
            let nums = f[2].split(separator: ":", omittingEmptySubsequences: false)
            guard nums.count == 2 else { return nil }
            func number(_ s: Substring) -> UInt32?? { s == "*" ? .some(nil) : UInt32(s).map { .some($0) } }
            guard let major = number(nums[0]), let minor = number(nums[1]),
                  let access = try? DeviceAccess(String(f[3])) else { return nil }
            rules.append(DeviceRule(allow: f[0] == "allow", kind: kind, major: major, minor: minor, access: access))
        }
        return (program, rules)
    }
}
