import OCISpec

/// The `features` document (features.md): what this build of ocirun implements.
public enum RuntimeFeatures {
    public static let capabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    public static func document() -> Features {
        var f = Features()
        f.ociVersionMin = "1.0.0"
        f.ociVersionMax = Spec.currentVersion
        f.hooks = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
        f.mountOptions = MountOptions.table.keys.sorted() + MountOptions.propagationTable.keys.sorted()
        var l = Features.Linux()
        l.namespaces = NamespaceKind.allCases.map(\.rawValue)
        l.capabilities = capabilities
        l.cgroup = Features.Cgroup(v1: true, v2: true, systemd: false, systemdUser: false, rdma: false)
        var s = Features.Seccomp()
        s.enabled = true
        s.actions = SeccompProfile.actionNames
        s.operators = SeccompProfile.operatorNames
        s.archs = SeccompProfile.archNames
        s.knownFlags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
        s.supportedFlags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
        l.seccomp = s
        f.linux = l
        f.annotations = ["org.opencontainers.runc.version": "compatible", "org.ocirun.sif.image": "path of a SIF image to run as the rootfs"]
        return f
    }
}
