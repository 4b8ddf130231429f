#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem
import OCISpec

/// AppArmor profiles and SELinux labels (config.md `process.apparmorProfile`,
/// `process.selinuxLabel`, config-linux.md `mountLabel`).
///
/// Where the host has the LSM, the labels are applied: the process's on exec through
/// `/proc/thread-self/attr/…/exec`, the mount label as the `context=` option of the file
/// systems the runtime mounts. Where it does not, a config that asks for a label is refused
/// before anything is made (`ContainerPlan.make`): measured here, runc 1.1.5 and crun 1.8.1
/// both fail such a container too (runc writes the profile anyway and gets EINVAL; it refuses
/// an SELinux label up front), and runtime.md says a runtime that cannot create the
/// environment the config asks for MUST generate an error.
public enum LSM {
    /// AppArmor is loaded and enabled (runc's test).
    public static var apparmorEnabled: Bool {
        Files.isDirectory("/sys/kernel/security/apparmor")
            && ((try? Files.readString("/sys/module/apparmor/parameters/enabled"))?.hasASCIIPrefix("Y") ?? false)
    }

    /// SELinux is enabled (selinuxfs mounted).
    public static var selinuxEnabled: Bool { Files.exists("/sys/fs/selinux/enforce") }

    /// Refuses labels that cannot be applied on this host; the message names the field.
    static func validate(process: Process, mountLabel: String?) throws {
        if let profile = process.apparmorProfile, !profile.isEmpty, !apparmorEnabled {
            throw RuntimeError(.unsupported, "process.apparmorProfile \"\(profile)\": AppArmor is not enabled on this host")
        }
        if let label = process.selinuxLabel, !label.isEmpty, !selinuxEnabled {
            throw RuntimeError(.unsupported, "process.selinuxLabel \"\(label)\": SELinux is not enabled on this host")
        }
        if let label = mountLabel, !label.isEmpty, !selinuxEnabled {
            throw RuntimeError(.unsupported, "linux.mountLabel \"\(label)\": SELinux is not enabled on this host")
        }
    }

    /// Sets the labels the next execve gives this thread. Call in the process that execs.
    static func setExecLabels(_ process: Process) throws {
        if let profile = process.apparmorProfile, !profile.isEmpty {
            // The AppArmor-specific file on kernels with LSM stacking, else the shared one.
            let stacked = "/proc/thread-self/attr/apparmor/exec"
            let path = Files.exists(stacked) ? stacked : "/proc/thread-self/attr/exec"
            try withContext("apply AppArmor profile \"\(profile)\"") { try Files.write(path, "exec " + profile) }
        }
        if let label = process.selinuxLabel, !label.isEmpty {
            try withContext("apply SELinux label \"\(label)\"") { try Files.write("/proc/thread-self/attr/exec", label) }
        }
    }

    /// The mount data with the SELinux `context=` option for the file systems that take one.
    static func labeledData(_ data: String, type: String, mountLabel: String?) -> String {
        guard let label = mountLabel, !label.isEmpty, ["tmpfs", "devpts", "mqueue", "shm"].contains(type) else { return data }
        let opt = "context=\"\(label)\""
        return data.isEmpty ? opt : data + "," + opt
    }
}
