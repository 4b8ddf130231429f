// The configuration `runc spec` writes (runc libcontainer/specconv/example.go), and its
// `--rootless` variant (specconv.ToRootless), with ociVersion set to this model's version.

extension Spec {
    /// The example configuration of `runc spec`: `sh` as root with a terminal, the default
    /// mounts, new pid/network/ipc/uts/mount namespaces, all devices denied, masked and
    /// read-only /proc paths.
    ///
    /// With `rootless`, as `runc spec --rootless`: no network namespace, a user namespace mapping
    /// container root to `hostUID`/`hostGID` (runc uses the caller's euid/egid), `/sys` bind
    /// mounted, no `gid=5` on devpts, and no cgroup resources.
    public static func defaultConfig(rootless: Bool = false, hostUID: UInt32 = 0, hostGID: UInt32 = 0) -> Spec {
        let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        var devptsOptions = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
        if !rootless { devptsOptions.append("gid=5") }
        let sys =
            rootless
            ? Mount(destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
            : Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"])

        let namespaces: [LinuxNamespace] =
            rootless
            ? ["pid", "ipc", "uts", "mount", "user"].map { LinuxNamespace(type: $0) }
            : ["pid", "network", "ipc", "uts", "mount"].map { LinuxNamespace(type: $0) }

        var linux = Linux(
            namespaces: namespaces,
            maskedPaths: [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
            ],
            readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        )
        if rootless {
            linux.uidMappings = [LinuxIDMapping(containerID: 0, hostID: hostUID, size: 1)]
            linux.gidMappings = [LinuxIDMapping(containerID: 0, hostID: hostGID, size: 1)]
        } else {
            linux.resources = LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")])
        }

        return Spec(
            ociVersion: currentVersion,
            process: Process(
                terminal: true,
                user: User(uid: 0, gid: 0),
                args: ["sh"],
                env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                cwd: "/",
                capabilities: LinuxCapabilities(bounding: caps, effective: caps, permitted: caps, ambient: caps),
                rlimits: [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
                noNewPrivileges: true
            ),
            root: Root(path: "rootfs", readonly: true),
            hostname: "runc",
            mounts: [
                Mount(destination: "/proc", type: "proc", source: "proc"),
                Mount(
                    destination: "/dev", type: "tmpfs", source: "tmpfs",
                    options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                Mount(destination: "/dev/pts", type: "devpts", source: "devpts", options: devptsOptions),
                Mount(
                    destination: "/dev/shm", type: "tmpfs", source: "shm",
                    options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
                Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
                sys,
                Mount(
                    destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                    options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
            ],
            linux: linux
        )
    }
}
