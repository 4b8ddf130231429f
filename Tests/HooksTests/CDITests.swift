import Foundation
import Testing
import CDI
import OCISpec

func fixture(_ name: String) throws -> [UInt8] {
    let url = Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)!
    return [UInt8](try Data(contentsOf: url))
}

@Suite struct CDISpecTests {
    @Test func parsesTheSpecExamples() throws {
        let s = try CDISpec.parse(try fixture("good_spec-example.json"), name: "example")
        #expect(s.kind == "vendor.com/device")
        #expect(s.devices.map(\.name) == ["myDevice"])
        #expect(s.containerEdits?.env == ["FOO=CDI_SPEC", "BAR=BARVALUE1"])
        #expect(s.containerEdits?.hooks?.map(\.hookName) == ["createContainer", "startContainer"])
        let m = try CDISpec.parse(try fixture("good_minimal.json"), name: "minimal")
        #expect(m.devices[0].containerEdits.deviceNodes?.first?.path == "/dev/card1")
    }

    @Test func rejectsAnEmptySpecNamingTheFile() throws {
        #expect { try CDISpec.parse(try fixture("bad_explicit-empty.json"), name: "empty.json") } throws: {
            ($0 as? CDIError)?.description.hasPrefix("cdi spec empty.json:") == true
        }
    }

    @Test(arguments: ["vendor.com", "vendor.com/", "/class", "ven dor.com/x", "vendor.com/cl.ass"])
    func rejectsBadKinds(kind: String) {
        #expect(throws: CDIError.self) { try CDISpec.validateKind(kind) }
    }

    @Test func rejectsUnknownVersionAndRelativePaths() {
        let bad = #"{"cdiVersion":"9.9.9","kind":"a.com/b","devices":[{"name":"x","containerEdits":{}}]}"#
        #expect { try CDISpec.parse(Array(bad.utf8), name: "v") } throws: { ($0 as? CDIError)?.description.contains("9.9.9") == true }
        let rel = #"{"cdiVersion":"1.1.0","kind":"a.com/b","devices":[{"name":"x","containerEdits":{"mounts":[{"hostPath":"/a","containerPath":"b"}]}}]}"#
        #expect { try CDISpec.parse(Array(rel.utf8), name: "r") } throws: { ($0 as? CDIError)?.description.contains("\"b\"") == true }
    }
}

@Suite struct CDIApplyTests {
    func registry() throws -> CDIRegistry {
        var r = CDIRegistry()
        let spec = CDISpec(kind: "acme.com/gpu", devices: [
            CDIDevice(name: "0", containerEdits: CDIContainerEdits(
                deviceNodes: [CDIDeviceNode(path: "/dev/acme0", type: "c", major: 195, minor: 0, fileMode: 0o666)])),
        ], containerEdits: CDIContainerEdits(
            env: ["ACME=1", "PATH=/acme/bin"],
            hooks: [CDIHook(hookName: "createContainer", path: "/usr/bin/acme-hook", args: ["acme-hook", "x"])],
            mounts: [
                CDIMount(hostPath: "/opt/acme/lib/libacme.so.1", containerPath: "/acme/lib/libacme.so.1", options: ["ro"]),
                CDIMount(hostPath: "tmpfs", containerPath: "/acme", options: ["mode=755"], type: "tmpfs"),
            ]))
        try spec.validate()
        r.specs = [("mem", spec)]
        return r
    }

    @Test func appliesEditsOfAnnotatedDevices() throws {
        var spec = Spec(ociVersion: "1.2.0")
        spec.process = Process(args: ["sh"], env: ["PATH=/bin", "HOME=/"])
        spec.mounts = [Mount(destination: "/proc", type: "proc", source: "proc")]
        let names = CDIRegistry.requestedDevices(["cdi.k8s.io/gpu": "acme.com/gpu=0", "other": "x"])
        #expect(names == ["acme.com/gpu=0"])
        let out = try CDI.apply(devices: names, registry: try registry(), to: spec)
        #expect(out.process?.env == ["HOME=/", "ACME=1", "PATH=/acme/bin"])
        #expect(out.linux?.devices == [LinuxDevice(path: "/dev/acme0", type: "c", major: 195, minor: 0, fileMode: 0o666)])
        #expect(out.linux?.resources?.devices == [LinuxDeviceCgroup(allow: true, type: "c", major: 195, minor: 0, access: "rwm")])
        // Existing mounts stay first; added ones are ordered parent before child.
        #expect(out.mounts?.map(\.destination) == ["/proc", "/acme", "/acme/lib/libacme.so.1"])
        #expect(out.mounts?[2].options == ["ro", "bind"])
        #expect(out.hooks?.createContainer?.first?.path == "/usr/bin/acme-hook")
    }

    @Test func unknownDeviceIsAClearError() throws {
        #expect { try CDI.apply(devices: ["acme.com/gpu=7"], registry: try registry(), to: Spec(ociVersion: "1.2.0")) } throws: {
            ($0 as? CDIError)?.description == "cdi device \"acme.com/gpu=7\": not found in any spec"
        }
        #expect(throws: CDIError.self) { try CDI.apply(devices: ["nonsense"], registry: try registry(), to: Spec(ociVersion: "1.2.0")) }
    }

    @Test func noAnnotationReadsNoSpec() throws {
        let spec = Spec(ociVersion: "1.2.0")
        #expect(try CDI.applyAnnotatedDevices(to: spec, directories: ["/nonexistent-cdi-dir"]) == spec)
    }

    @Test func yamlSpecsAreRefusedClearly() throws {
        let dir = NSTemporaryDirectory() + "cdi-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/x.yaml", contents: Data("cdiVersion: 1.1.0\n".utf8))
        #expect { try CDIRegistry.load(directories: [dir]) } throws: { ($0 as? CDIError)?.description.contains("x.yaml") == true }
    }
}
