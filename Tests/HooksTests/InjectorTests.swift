import Foundation
import Testing
@testable import Hooks
import CDI
import OCIRuntime
import OCISpec

@Suite struct GPUSelectionTests {
    @Test func readsTheEnvironmentFirst() throws {
        #expect(try GPUInjector.selection(env: ["NVIDIA_VISIBLE_DEVICES=all"], annotations: [:]) == .all)
        #expect(try GPUInjector.selection(env: ["NVIDIA_VISIBLE_DEVICES=0,2"], annotations: ["org.ocirun.hooks.gpu": "1"]) == .indices([0, 2]))
        #expect(try GPUInjector.selection(env: [], annotations: ["org.ocirun.hooks.gpu": "1"]) == .indices([1]))
        #expect(try GPUInjector.selection(env: ["NVIDIA_VISIBLE_DEVICES=none"], annotations: [:]) == GPUInjector.Selection.none)
    }

    @Test func noRequestMeansNothing() throws {
        #expect(try GPUInjector.selection(env: ["PATH=/bin"], annotations: [:]) == nil)
        #expect(try GPUInjector.selection(env: ["NVIDIA_VISIBLE_DEVICES=void"], annotations: [:]) == nil)
        #expect(try GPUInjector.selection(env: ["NVIDIA_VISIBLE_DEVICES="], annotations: [:]) == nil)
    }

    @Test func uuidsAreRefusedClearly() {
        #expect {
            try GPUInjector.selection(env: ["NVIDIA_VISIBLE_DEVICES=GPU-1234"], annotations: [:])
        } throws: { ($0 as? HookError)?.description.contains("GPU-1234") == true }
    }

    @Test func readsTheDriverVersion() {
        let text = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\nGCC version:  gcc version 12.2.0\n"
        #expect(GPUInjector.driverVersion(text) == "535.104.05")
        #expect(GPUInjector.driverVersion("garbage") == nil)
    }

    @Test func keepsOnlyTheRunningDriversLibraries() {
        #expect(GPUInjector.matchesDriver(fileName: "libcuda.so.535.104.05", driver: "535.104.05"))
        #expect(!GPUInjector.matchesDriver(fileName: "libcuda.so.470.57.02", driver: "535.104.05"))
        #expect(GPUInjector.matchesDriver(fileName: "libGLX.so.0", driver: "535.104.05"))
        #expect(GPUInjector.matchesDriver(fileName: "libnvidia-ml.so.1", driver: "535.104.05"))
    }

    @Test func defaultLibraryListIsSingularitysList() throws {
        let url = Bundle.module.url(forResource: "Fixtures/singularity-nvliblist.conf", withExtension: nil)!
        let text = try String(contentsOf: url, encoding: .utf8)
        let libs = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") && $0.contains(".so") }
        let bins = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") && !$0.contains(".so") }
        #expect(GPUConfig().libraries == libs)
        #expect(GPUConfig().binaries == bins)
    }
}

@Suite struct ROCmTests {
    @Test func defaultLibraryListIsSingularitysList() throws {
        let url = Bundle.module.url(forResource: "Fixtures/singularity-rocmliblist.conf", withExtension: nil)!
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(ROCmConfig().libraries == lines.filter { $0.contains(".so") })
        #expect(ROCmConfig().binaries == lines.filter { !$0.contains(".so") })
        #expect(ROCmInjector.requested(annotations: ["org.ocirun.hooks.rocm": "true"]))
        #expect(!ROCmInjector.requested(annotations: [:]))
    }
}

@Suite struct MPICompatibilityTests {
    @Test func readsVersions() {
        #expect(MPIInjector.version(of: "libmpi.so.12.1.1") == [12, 1, 1])
        #expect(MPIInjector.version(of: "libmpi.so.40") == [40])
        #expect(MPIInjector.version(of: "libmpi.so") == nil)
        #expect(MPIInjector.baseName(of: "libmpi.so.12.1.1") == "libmpi.so")
    }

    @Test(arguments: [
        (MPICompatibility.major, [12, 0, 0], [12, 5, 0], true),
        (.major, [40, 1, 0], [12, 1, 0], false),
        (.full, [12, 5, 0], [12, 1, 1], true),
        (.full, [12, 0, 9], [12, 1, 1], false),
        (.strict, [12, 1, 9], [12, 1, 1], true),
        (.strict, [12, 2, 0], [12, 1, 1], false),
    ])
    func appliesTheRule(rule: MPICompatibility, host: [Int], container: [Int], ok: Bool) {
        let r = Result { try MPIInjector.check(host: "/h/libmpi.so", hostVersion: host, container: "/c/libmpi.so", containerVersion: container, rule: rule) }
        if ok { #expect(throws: Never.self) { try r.get() } } else {
            #expect { try r.get() } throws: { e in
                let d = (e as? HookError)?.description ?? ""
                return d.contains(host.map(String.init).joined(separator: ".")) && d.contains(container.map(String.init).joined(separator: "."))
            }
        }
    }
}

@Suite struct ConfigTests {
    @Test func absentKeysKeepDefaults() throws {
        let dir = NSTemporaryDirectory() + "hooks-config-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"{"mpi": {"compatibility": "strict", "libraries": ["/opt/mpi/lib/libmpi.so.12"]}}"#.write(toFile: dir, atomically: true, encoding: .utf8)
        let c = try HooksConfig.load(dir)
        #expect(c.mpi.compatibility == .strict)
        #expect(c.mpi.libraries == ["/opt/mpi/lib/libmpi.so.12"])
        #expect(c.mpi.envPrefixes == ["PMI_", "PMIX_", "SLURM_"])
        #expect(c.gpu == GPUConfig())
    }

    @Test func badConfigNamesTheFile() throws {
        let path = NSTemporaryDirectory() + "hooks-config-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #"{"mpi": {"compatibility": "loose"}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try HooksConfig.load(path) } throws: { ($0 as? HookError)?.description.contains(path) == true }
    }

    @Test func devicesCgroupFromV1Mount() {
        let cg = "12:devices:/ocirun/c1\n11:memory:/ocirun/c1\n0::/\n"
        let mi = "30 25 0:26 / /sys/fs/cgroup/devices rw,nosuid - cgroup cgroup rw,devices\n"
        #expect(ContainerEditor.devicesCgroup(cgroupText: cg, mountinfo: mi) == "/sys/fs/cgroup/devices/ocirun/c1")
        #expect(ContainerEditor.devicesCgroup(cgroupText: "0::/x\n", mountinfo: mi) == nil)
        // Inside a cgroup namespace the path reads "/": unknown, never the hierarchy's root.
        #expect(ContainerEditor.devicesCgroup(cgroupText: "12:devices:/\n", mountinfo: mi) == nil)
    }

    @Test func unifiedCgroupFromCgroup2Mount() {
        let mi = "30 25 0:26 / /sys/fs/cgroup/devices rw,nosuid - cgroup cgroup rw,devices\n"
            + "31 25 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
        let cg = "12:devices:/ocirun/c1\n0::/ocirun/c1\n"
        #expect(DeviceCgroupV2.directory(cgroupText: cg, mountinfo: mi) == "/sys/fs/cgroup/unified/ocirun/c1")
        #expect(DeviceCgroupV2.directory(cgroupText: "12:devices:/ocirun/c1\n", mountinfo: mi) == nil)
        // A cgroup namespace ("/"): never the root, which would filter the whole machine.
        #expect(DeviceCgroupV2.directory(cgroupText: "0::/\n", mountinfo: mi) == nil)
        #expect(DeviceCgroupV2.isUnifiedOnly(mountinfo: mi) == false)
        let v2 = "31 25 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"
        #expect(DeviceCgroupV2.directory(cgroupText: "0::/k8s/pod1/c1\n", mountinfo: v2) == "/sys/fs/cgroup/k8s/pod1/c1")
        #expect(DeviceCgroupV2.isUnifiedOnly(mountinfo: v2))
    }

    /// The record kept beside a device program reads back as the same rules, and the rules a
    /// hook installs keep the container's own and allow its devices (last match wins).
    @Test func deviceRuleRecordRoundTrip() throws {
        let config = [LinuxDeviceCgroup(allow: false, type: nil, major: nil, minor: nil, access: "rwm"),
                      LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 229, access: "r"),
                      LinuxDeviceCgroup(allow: true, type: "b", major: 8, minor: nil, access: "rm")]
        let rules = try DeviceFilter.rules(config)
        let text = DeviceFilterV2.recordText(rules, program: 42)
        #expect(text.hasPrefix("ocirun-device-rules 1\nprogram 42\ndeny a *:* rwm\nallow c 10:229 r\nallow b 8:* rm\n"))
        let back = try #require(DeviceFilterV2.parseRecord(text))
        #expect(back.program == 42)
        #expect(back.rules == rules)
        #expect(DeviceFilterV2.parseRecord("ocirun-device-rules 1\nprogram 42\nallow x 1:2 rwm\n") == nil)
        #expect(DeviceFilterV2.parseRecord("something else") == nil)

        let gpu = HostDevice(path: "/dev/nvidia0", local: "/dev/nvidia0", type: "c", major: 195, minor: 0, mode: 0o666)
        let all = try DeviceCgroupV2.rules(adding: [gpu], config: config, cgroupDirectory: "/nonexistent-cgroup")
        #expect(DeviceFilter.decide(all, kind: .char, major: 195, minor: 0, access: .all))
        #expect(!DeviceFilter.decide(all, kind: .char, major: 195, minor: 1, access: .read))
        #expect(DeviceFilter.decide(all, kind: .char, major: 10, minor: 229, access: .read))
        #expect(!DeviceFilter.decide(all, kind: .char, major: 10, minor: 229, access: .write))
        #expect(DeviceFilter.decide(all, kind: .char, major: 1, minor: 3, access: .all))   // /dev/null: the defaults stay
    }
}

@Suite struct InjectionCDITests {
    @Test func editsMatchWhatTheHookDoes() throws {
        var inj = Injection()
        inj.library(HostLibrary(soname: "libcuda.so.1", linkPath: "/usr/lib/libcuda.so.1", realPath: "/usr/lib/libcuda.so.535.1.2",
                                local: "/fake/usr/lib/libcuda.so.535.1.2"), into: "/.ocirun/gpu/lib")
        inj.device(HostDevice(path: "/dev/nvidia0", local: "/fake/dev/nvidia0", type: "c", major: 195, minor: 0, mode: 0o666))
        inj.bind(host: "/run/sock", local: "/fake/run/sock", container: "/run/sock", readOnly: false)
        let e = inj.cdiEdits(hookPath: "/usr/bin/ocirun-hooks")
        #expect(e.mounts?.map(\.containerPath) == ["/.ocirun", "/.ocirun/gpu/lib/libcuda.so.535.1.2", "/run/sock"])
        #expect(e.mounts?[0].type == "tmpfs")
        #expect(e.mounts?[1].hostPath == "/fake/usr/lib/libcuda.so.535.1.2")
        #expect(e.mounts?[1].options == ["ro", "nosuid", "nodev", "bind"])
        #expect(e.mounts?[2].options == ["nosuid", "nodev", "bind"])
        #expect(e.deviceNodes == [CDIDeviceNode(path: "/dev/nvidia0", hostPath: "/fake/dev/nvidia0", type: "c", major: 195, minor: 0,
                                                fileMode: 0o666, permissions: "rwm")])
        #expect(e.hooks?.first?.args == ["ocirun-hooks", "ldcache", "--link", "/.ocirun/gpu/lib/libcuda.so.1=libcuda.so.535.1.2", "/.ocirun/gpu/lib"])
        try e.validate()
    }
}

/// The driver layout of a GPU machine the hook was run on (an H100 VM, driver 580.159.04): the
/// driver's own tree on a read-only mount at /usr/local/nvidia (lib64, bin), its directory in the
/// ld cache, absolute links to its libraries in /usr/lib, and /usr/bin/nvidia-smi a shell script
/// that runs /usr/local/nvidia/bin/nvidia-smi. Bound into a container, that script failed
/// ("exec: line 9: /usr/local/nvidia/bin/nvidia-smi: not found").
@Suite struct GPUDriverLayoutTests {
    static let driver = "580.159.04"

    /// Builds the host tree under a new temporary directory and returns its path.
    static func makeHost() throws -> String {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("gpu-host-\(UUID().uuidString)").path
        for d in ["/usr/local/nvidia/lib64", "/usr/local/nvidia/bin", "/usr/lib", "/usr/bin", "/etc", "/proc/driver/nvidia"] {
            try fm.createDirectory(atPath: root + d, withIntermediateDirectories: true)
        }
        try fm.createSymbolicLink(atPath: root + "/lib", withDestinationPath: "usr/lib")
        try fm.createSymbolicLink(atPath: root + "/bin", withDestinationPath: "usr/bin")
        try fm.createSymbolicLink(atPath: root + "/usr/local/nvidia/lib", withDestinationPath: "lib64")
        let elf = Data([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 56))
        let lib64 = root + "/usr/local/nvidia/lib64"
        var cache: [(String, String, Int32)] = []
        for (name, soname) in [("libcuda.so", "libcuda.so.1"), ("libnvidia-ml.so", "libnvidia-ml.so.1")] {
            fm.createFile(atPath: "\(lib64)/\(name).\(driver)", contents: elf, attributes: [.posixPermissions: 0o755])
            try fm.createSymbolicLink(atPath: "\(lib64)/\(soname)", withDestinationPath: "\(name).\(driver)")
            try fm.createSymbolicLink(atPath: "\(root)/usr/lib/\(soname)", withDestinationPath: "/usr/local/nvidia/lib64/\(soname)")
            cache.append((soname, "/usr/local/nvidia/lib64/\(soname)", 0x0303))
            cache.append((soname, "/lib/\(soname)", 0x0303))
        }
        fm.createFile(atPath: root + "/etc/ld.so.cache", contents: Data(CacheBuilder.new(cache)))
        try "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  \(driver)  Release Build  (nixbld@)  \nGCC version:  gcc version 15.3.0 (GCC) \n"
            .write(toFile: root + "/proc/driver/nvidia/version", atomically: true, encoding: .utf8)
        for tool in ["nvidia-smi", "nvidia-debugdump"] {
            fm.createFile(atPath: root + "/usr/local/nvidia/bin/" + tool, contents: elf, attributes: [.posixPermissions: 0o755])
        }
        let wrapper = "#!/bin/sh\n# run the driver's nvidia-smi with the driver's libraries\nexport LD_LIBRARY_PATH=/usr/local/nvidia/lib64\nexec /usr/local/nvidia/bin/nvidia-smi \"$@\"\n"
        fm.createFile(atPath: root + "/usr/bin/nvidia-smi", contents: Data(wrapper.utf8), attributes: [.posixPermissions: 0o755])
        try fm.createSymbolicLink(atPath: root + "/usr/bin/nvidia-debugdump", withDestinationPath: "/usr/local/nvidia/bin/nvidia-debugdump")
        return root
    }

    @Test func readsTheOpenKernelModulesVersionLine() {
        let text = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)  \n"
        #expect(GPUInjector.driverVersion(text) == "580.159.04")
    }

    @Test func bindsTheDriversToolsNotAWrapperScript() throws {
        let root = try Self.makeHost()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var host = HostDiscovery(hostRoot: root, machine: "x86_64")
        let inj = try GPUInjector(config: GPUConfig()).plan(selection: .none, host: &host)
        let tools = Dictionary(uniqueKeysWithValues: inj.binds.filter { $0.container.hasPrefix("/.ocirun/gpu/bin/") }.map { ($0.container, $0) })
        // The real executable, found in the bin directory beside the driver's libraries; the
        // wrapper in /usr/bin is passed over.
        #expect(tools["/.ocirun/gpu/bin/nvidia-smi"]?.host == "/usr/local/nvidia/bin/nvidia-smi")
        #expect(tools["/.ocirun/gpu/bin/nvidia-smi"]?.local == root + "/usr/local/nvidia/bin/nvidia-smi")
        #expect(tools["/.ocirun/gpu/bin/nvidia-debugdump"]?.host == "/usr/local/nvidia/bin/nvidia-debugdump")
        #expect(tools.count == 2)
        // The libraries: the real files in the driver's tree, once each, with their soname links.
        let libs = inj.binds.filter { $0.container.hasPrefix("/.ocirun/gpu/lib/") }.map(\.host)
        #expect(libs == ["/usr/local/nvidia/lib64/libcuda.so.\(Self.driver)", "/usr/local/nvidia/lib64/libnvidia-ml.so.\(Self.driver)"])
        #expect(inj.symlinks.map(\.path) == ["/.ocirun/gpu/lib/libcuda.so.1", "/.ocirun/gpu/lib/libnvidia-ml.so.1"])
    }

    @Test func searchesTheGivenDirectoriesFirstAndSkipsScriptsOnlyWhenAsked() throws {
        let root = try Self.makeHost()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let host = HostDiscovery(hostRoot: root, machine: "x86_64")
        // Without elfOnly (the ROCm tools include scripts), the first executable on the usual paths.
        #expect(host.binary(named: "nvidia-smi")?.path == "/usr/bin/nvidia-smi")
        #expect(host.binary(named: "nvidia-smi", elfOnly: true)?.path == nil)
        #expect(host.binary(named: "nvidia-smi", searching: ["/usr/local/nvidia/bin"])?.path == "/usr/local/nvidia/bin/nvidia-smi")
        // A symlink is followed inside the host root, to the real file.
        #expect(host.binary(named: "nvidia-debugdump")?.local == root + "/usr/local/nvidia/bin/nvidia-debugdump")
        #expect(host.binary(named: "lib64", searching: ["/usr/local/nvidia"]) == nil)   // a directory is no executable
        #expect(HostDiscovery.isELF(root + "/usr/local/nvidia/bin/nvidia-smi"))
        #expect(!HostDiscovery.isELF(root + "/usr/bin/nvidia-smi"))
    }
}
