import Foundation
import OCISpec
import Testing
@testable import OCIRuntime

/// The device API the HPC hooks use, against real cgroups of this host (root only: loading a
/// BPF program and writing devices.allow need it; CI runs as root, so there it must not skip).
@Suite("ContainerCgroup.setDevices on this host's cgroups",
       .enabled(if: geteuid() == 0 || ProcessInfo.processInfo.environment["CI"] != nil, "needs root"))
struct DeviceFilterHostTests {
    @Test("rules plus extra devices reach v1 devices.list and replace the cgroup2 program")
    func setDevices() throws {
        #expect(geteuid() == 0, "needs root")
        let layout = try CgroupLayout.current()
        let name = "/ocirun-unit-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        var cg = ContainerCgroup.resolve(layout: layout, cgroupsPath: name, selfCgroup: "")
        cg.paths = cg.paths.filter { $0.key == "unified" || $0.key.split(separator: ",").contains("devices") }
        try #require(!cg.paths.isEmpty, "neither a devices hierarchy nor a cgroup2 mount")
        try cg.create()
        defer { try? cg.destroy() }

        let config = [LinuxDeviceCgroup(allow: false, access: "rwm")]
        let gpu = [LinuxDeviceCgroup(allow: true, type: "c", major: 195, minor: nil, access: "rwm")]
        try cg.setDevices(config, extra: gpu)
        if let dir = cg.path(for: "devices") {
            let list = try String(contentsOfFile: dir + "/devices.list", encoding: .utf8)
            #expect(list.contains("c 195:* rwm"), "\(list)")
            #expect(list.contains("c 1:3 rwm"), "defaults stay: \(list)")
            #expect(!list.contains("a *:* rwm"), "\(list)")
        }
        if cg.path(for: "devices") != nil, let dir = cg.unifiedPath,
           FileManager.default.fileExists(atPath: dir + "/cgroup.controllers") {
            // Hybrid: the v1 rules are the filter; no program on the cgroup2 group.
            #expect(try DeviceFilterV2.attachedPrograms(cgroupDirectory: dir).isEmpty)
        } else if let dir = cg.unifiedPath, FileManager.default.fileExists(atPath: dir + "/cgroup.controllers") {
            let first = try DeviceFilterV2.attachedPrograms(cgroupDirectory: dir)
            #expect(first.count == 1, "one program attached: \(first)")
            try cg.setDevices(config)   // the GPU taken away again: the program is replaced
            let second = try DeviceFilterV2.attachedPrograms(cgroupDirectory: dir)
            #expect(second.count == 1 && second != first, "replaced, not added: \(first) then \(second)")
        }
    }

    @Test("ofProcess finds this process's own cgroup directories")
    func ofProcess() throws {
        let cg = try ContainerCgroup.ofProcess(getpid())
        #expect(!cg.paths.isEmpty)
        for dir in cg.paths.values { #expect(FileManager.default.fileExists(atPath: dir + "/cgroup.procs"), "\(dir)") }
    }
}
