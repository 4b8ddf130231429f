import OCISpec
import Testing
@testable import OCIRuntime

/// ContainerPlan.make: every config error is found before the system is touched.
@Suite("ContainerPlan.make")
struct ContainerPlanTests {
    /// A bundle with an empty rootfs directory and a config that `make` accepts.
    func bundle() throws -> (TempDir, Spec) {
        let t = try TempDir("ocirun-plan")
        try t.mkdir("rootfs")
        var spec = Spec.defaultConfig()
        spec.process?.terminal = false
        spec.process?.args = ["/bin/true"]
        return (t, spec)
    }

    func error(_ edit: (inout Spec) -> Void) throws -> RuntimeError? {
        let (t, base) = try bundle()
        defer { t.remove() }
        var spec = base
        edit(&spec)
        return #expect(throws: RuntimeError.self) { try ContainerPlan.make(spec: spec, bundle: t.path) }
    }

    @Test("the default config is accepted; rootfs is resolved against the bundle")
    func accepted() throws {
        let (t, spec) = try bundle()
        defer { t.remove() }
        let plan = try ContainerPlan.make(spec: spec, bundle: t.path)
        #expect(plan.rootfs == t.path + "/rootfs")
        #expect(Set(plan.namespaces.new) == [.pid, .network, .ipc, .uts, .mount])
        #expect(plan.rlimits.count == 1)
        #expect(plan.rlimits.first?.resource == 7)   // RLIMIT_NOFILE
    }

    @Test("an absolute root.path is taken as is")
    func absoluteRoot() throws {
        let (t, base) = try bundle()
        defer { t.remove() }
        var spec = base
        spec.root = Root(path: t.path + "/./rootfs/")
        #expect(try ContainerPlan.make(spec: spec, bundle: "/nonexistent").rootfs == t.path + "/rootfs")
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var message: String
        var edit: @Sendable (inout Spec) -> Void
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "empty args", message: "process.args must not be empty") { $0.process?.args = [] },
        Case(name: "nil args", message: "process.args must not be empty") { $0.process?.args = nil },
        Case(name: "empty args[0]", message: "process.args must not be empty") { $0.process?.args = [""] },
        Case(name: "no process", message: "process is required") { $0.process = nil },
        Case(name: "missing root", message: "root.path is required") { $0.root = nil },
        Case(name: "empty root path", message: "root.path is required") { $0.root = Root(path: "") },
        Case(name: "root path does not exist", message: "no such directory") { $0.root = Root(path: "nosuchdir") },
        Case(name: "root path is a file", message: "no such directory") { $0.root = Root(path: "/etc/passwd") },
        Case(name: "relative cwd", message: "process.cwd \"work\" must be an absolute path") { $0.process?.cwd = "work" },
        Case(name: "unknown namespace", message: "unknown namespace type \"bogus\"") {
            $0.linux?.namespaces?.append(LinuxNamespace(type: "bogus"))
        },
        Case(name: "namespace twice", message: "given twice") { $0.linux?.namespaces?.append(LinuxNamespace(type: "pid")) },
        Case(name: "unknown rlimit", message: "unknown rlimit type \"RLIMIT_BOGUS\"") {
            $0.process?.rlimits = [POSIXRlimit(type: "RLIMIT_BOGUS", hard: 1, soft: 1)]
        },
        Case(name: "soft > hard", message: "soft limit 20 is greater than hard limit 10") {
            $0.process?.rlimits = [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 10, soft: 20)]
        },
        Case(name: "hostname without uts", message: "hostname \"box\" needs a new uts namespace") {
            $0.hostname = "box"
            $0.linux?.namespaces?.removeAll { $0.type == "uts" }
        },
        Case(name: "domainname without uts", message: "domainname \"example\" needs a new uts namespace") {
            $0.hostname = nil
            $0.domainname = "example"
            $0.linux?.namespaces?.removeAll { $0.type == "uts" }
        },
        Case(name: "user namespace without mappings", message: "needs linux.uidMappings") {
            $0.linux?.namespaces?.append(LinuxNamespace(type: "user"))
        },
        Case(name: "mappings without a user namespace", message: "need a user namespace") {
            $0.linux?.uidMappings = [LinuxIDMapping(containerID: 0, hostID: 1000, size: 1)]
        },
        Case(name: "unknown filesystem type", message: "filesystem type \"nosuchfs\" is not supported") {
            $0.mounts?.append(Mount(destination: "/x", type: "nosuchfs", source: "none"))
        },
        Case(name: "relative mount destination", message: "destination \"x\" must be an absolute path") {
            $0.mounts?.append(Mount(destination: "x", type: "tmpfs", source: "tmpfs"))
        },
        Case(name: "bad device type", message: "invalid device type \"z\"") {
            $0.linux?.devices = [LinuxDevice(path: "/dev/z", type: "z", major: 1, minor: 1)]
        },
        Case(name: "relative device path", message: "path \"dev/fuse\" must be absolute") {
            $0.linux?.devices = [LinuxDevice(path: "dev/fuse", type: "c", major: 10, minor: 229)]
        },
        Case(name: "bad rootfsPropagation", message: "rootfsPropagation: invalid value \"sideways\"") {
            $0.linux?.rootfsPropagation = "sideways"
        },
        Case(name: "empty ociVersion", message: "ociVersion must not be empty") { $0.ociVersion = "" },
    ]

    @Test("config errors", arguments: cases)
    func configErrors(c: Case) throws {
        let e = try error(c.edit)
        #expect(e?.code == .invalidArgument)
        #expect(e?.message.contains(c.message) == true, "\(String(describing: e))")
    }

    @Test("bind, none and cgroup mounts are not checked against /proc/filesystems")
    func mountTypesNotChecked() throws {
        let (t, base) = try bundle()
        defer { t.remove() }
        var spec = base
        spec.mounts? += [
            Mount(destination: "/b", type: "bind", source: "/tmp", options: ["rbind"]),
            Mount(destination: "/n", type: "none", source: "/tmp", options: ["bind"]),
            Mount(destination: "/o", type: "weird", source: "/tmp", options: ["bind"]),
            Mount(destination: "/c", type: "cgroup", source: "cgroup"),
        ]
        _ = try ContainerPlan.make(spec: spec, bundle: t.path)
    }

    @Test("sysctls that need a namespace", arguments: [
        ("kernel.msgmax", "ipc", "needs an ipc namespace"),
        ("kernel.shm_rmid_forced", "ipc", "needs an ipc namespace"),
        ("fs.mqueue.queues_max", "ipc", "needs an ipc namespace"),
        ("net.ipv4.ip_forward", "network", "needs a network namespace"),
        ("kernel.hostname", "uts", "needs a uts namespace"),
    ])
    func namespacedSysctl(name: String, namespace: String, message: String) throws {
        let (t, base) = try bundle()
        defer { t.remove() }
        var spec = base
        spec.linux?.sysctl = [name: "1"]
        spec.hostname = nil
        _ = try ContainerPlan.make(spec: spec, bundle: t.path)
        spec.linux?.namespaces?.removeAll { $0.type == namespace }
        let e = #expect(throws: RuntimeError.self) { try ContainerPlan.make(spec: spec, bundle: t.path) }
        #expect(e?.message == "sysctl \"\(name)\" \(message)")
    }

    @Test("a joined namespace counts for sysctls")
    func joinedNamespaceSysctl() throws {
        let (t, base) = try bundle()
        defer { t.remove() }
        var spec = base
        spec.linux?.namespaces?.removeAll { $0.type == "network" }
        spec.linux?.namespaces?.append(LinuxNamespace(type: "network", path: "/proc/1/ns/net"))
        spec.linux?.sysctl = ["net.core.somaxconn": "1024"]
        _ = try ContainerPlan.make(spec: spec, bundle: t.path)
    }

    @Test("sysctls that are not namespaced are refused", arguments: ["vm.swappiness", "kernel.pid_max", "fs.file-max"])
    func hostSysctl(name: String) throws {
        let e = try error { $0.linux?.sysctl = [name: "1"] }
        #expect(e?.message == "sysctl \"\(name)\" is not namespaced and cannot be set in a container")
    }
}
