import JSON
import OCISpec
import Testing

/// runc writes tabs; the encoder writes Go's two-space `MarshalIndent`. Same document otherwise.
private func runcText(_ text: String, version: String = Spec.currentVersion) -> String {
    text.replacingAll("\t", with: "  ").replacingAll("\"1.0.2-dev\"", with: "\"\(version)\"")
}

extension String {
    /// stdlib-only replace (no Foundation in these tests either).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}

@Suite struct SpecTests {
    @Test(arguments: [(runcDefaultConfig, false), (runcRootlessConfig, true)])
    func runcSpecOutputRoundTrips(text: String, rootless: Bool) throws {
        let spec = try JSONDecoding.decode(Spec.self, from: text)
        #expect(spec.ociVersion == "1.0.2-dev")
        #expect(spec.process?.args == ["sh"])
        #expect(spec.process?.rlimits == [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)])
        #expect(spec.root == Root(path: "rootfs", readonly: true))
        #expect(spec.mounts?.count == 7)
        #expect(spec.linux?.namespaces?.contains(LinuxNamespace(type: "user")) == rootless)

        // Encoding gives runc's document back, key for key, in runc's order.
        #expect(try spec.encodedPretty() == runcText(text, version: "1.0.2-dev"))

        // defaultConfig is that same document with this model's version.
        var expected = spec
        expected.ociVersion = Spec.currentVersion
        #expect(Spec.defaultConfig(rootless: rootless) == expected)
        #expect(try Spec.defaultConfig(rootless: rootless).encodedPretty() == runcText(text))
    }

    @Test func rootlessMapsTheCaller() {
        let spec = Spec.defaultConfig(rootless: true, hostUID: 1000, hostGID: 100)
        #expect(spec.linux?.uidMappings == [LinuxIDMapping(containerID: 0, hostID: 1000, size: 1)])
        #expect(spec.linux?.gidMappings == [LinuxIDMapping(containerID: 0, hostID: 100, size: 1)])
        #expect(spec.linux?.resources == nil)
    }

    @Test func fullConfigRoundTripsUnchanged() throws {
        let spec = try JSONDecoding.decode(Spec.self, from: fullConfig)
        // Spot checks on values that need the right widths and signs.
        #expect(spec.process?.rlimits?.first?.hard == UInt64.max)
        #expect(spec.process?.oomScoreAdj == -500)
        #expect(spec.process?.ioPriority == LinuxIOPriority(class: "IOPRIO_CLASS_BE", priority: 4))
        #expect(spec.process?.capabilities?.inheritable == [])
        #expect(spec.linux?.resources?.memory?.swap == -1)
        #expect(spec.linux?.resources?.unified?["memory.high"] == "1073741824")
        #expect(spec.linux?.resources?.rdma?["mlx5_1"] == LinuxRdma(hcaHandles: 3, hcaObjects: 10000))
        #expect(spec.linux?.seccomp?.syscalls?[1].args?.first?.value == UInt64.max)
        #expect(spec.linux?.timeOffsets?["boottime"]?.secs == Int64.min)
        #expect(spec.linux?.devices?[1] == LinuxDevice(path: "/dev/pipe", type: "p"))
        #expect(spec.linux?.netDevices?["ib0"] == LinuxNetDevice())
        #expect(spec.process?.args?[2] == "echo \"hi\" \\ there\n")
        #expect(spec.annotations == ["com.example.gpu": "all", "org.opencontainers.image.os": "linux"])

        // Every field survives: the text comes back byte for byte.
        #expect(try spec.encodedPretty() == fullConfig)
        #expect(try JSONDecoding.decode(Spec.self, from: spec.encoded()) == spec)
    }

    @Test func unknownFieldsAreIgnored() throws {
        let text = """
            {"ociVersion": "1.2.0", "future": {"x": [1, 2]}, "windows": {"layerFolders": []},
             "root": {"path": "rootfs", "flavour": "vanilla"},
             "process": {"cwd": "/", "user": {"uid": 1, "gid": 2, "sid": "S-1"}, "newThing": null}}
            """
        let spec = try JSONDecoding.decode(Spec.self, from: text)
        #expect(spec.root == Root(path: "rootfs"))
        #expect(spec.process?.user == User(uid: 1, gid: 2))
        #expect(try spec.encoded() == #"{"ociVersion":"1.2.0","process":{"user":{"uid":1,"gid":2},"cwd":"/"},"root":{"path":"rootfs"}}"#)
    }

    @Test func nullMeansAbsentForOptionalFields() throws {
        let text = """
            {"ociVersion": "1.2.0", "hostname": null,
             "linux": {"resources": {"memory": {"limit": null, "swap": 5}, "cpu": null}, "seccomp": null}}
            """
        let spec = try JSONDecoding.decode(Spec.self, from: text)
        #expect(spec.hostname == nil)
        #expect(spec.linux?.resources?.memory == LinuxMemory(swap: 5))
        #expect(spec.linux?.resources?.cpu == nil)
        #expect(spec.linux?.seccomp == nil)
    }

    /// A config valid in every respect, for the error tests to break one field of.
    static let base = #"""
        {"ociVersion": "1.2.0", "root": {"path": "rootfs"},
         "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}},
         "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}]}}
        """#

    static let errorCases: [(String, String)] = [
        (String(base.dropLast(3)), ".: parse error: premature EOF"),
        (base.replacingAll(#"["sh"]"#, with: #""sh""#), ".process.args: expected array, found string"),
        (base.replacingAll(#"["sh"]"#, with: #"["sh", 1]"#), ".process.args[1]: expected string, found number"),
        (base.replacingAll(#"{"path": "rootfs"}"#, with: "{}"), ".root.path: missing required field"),
        (base.replacingAll(#""uid": 0"#, with: #""uid": -1"#), ".process.user.uid: value -1 out of range for UInt32"),
        (
            base.replacingAll(#""uid": 0"#, with: #""uid": 4294967296"#),
            ".process.user.uid: value 4294967296 out of range for UInt32"
        ),
        (base.replacingAll(#""gid": 0"#, with: #""gid": -1.5"#), ".process.user.gid: expected integer, found -1.5"),
        (
            base.replacingAll(#"{"type": "mount"}"#, with: #"{"type": 7}"#),
            ".linux.namespaces[1].type: expected string, found number"
        ),
        (base.replacingAll(#""cwd": "/", "#, with: ""), ".process.cwd: missing required field"),
        (base.replacingAll(#""ociVersion": "1.2.0", "#, with: ""), ".ociVersion: missing required field"),
        (base.replacingAll(#"{"type": "ipc"}"#, with: "null"), ".linux.namespaces[2]: expected object, found null"),
        (#"{"ociVersion": "1", "annotations": {"a.b": 1}}"#, #".annotations["a.b"]: expected string, found number"#),
        ("[]", ".: expected object, found array"),
    ]

    @Test(arguments: errorCases)
    func errorsNameThePath(text: String, expected: String) throws {
        do {
            _ = try JSONDecoding.decode(Spec.self, from: text)
            Issue.record("decoding should have failed with \(expected)")
        } catch {
            #expect(error.description.hasPrefix(expected), "got \(error)")
        }
    }

    @Test func stateEncodesInSpecOrder() throws {
        let state = State(id: "c1", status: "running", pid: 4242, bundle: "/b", annotations: ["z": "1", "a": "2"])
        #expect(
            try state.encoded()
                == #"{"ociVersion":"1.2.0","id":"c1","status":"running","pid":4242,"bundle":"/b","annotations":{"a":"2","z":"1"}}"#
        )
        let stopped = State(id: "c1", status: "stopped", bundle: "/b")
        #expect(try stopped.encoded() == #"{"ociVersion":"1.2.0","id":"c1","status":"stopped","bundle":"/b"}"#)
        #expect(try JSONDecoding.decode(State.self, from: state.encoded()) == state)
    }

    @Test func featuresRoundTrip() throws {
        let text = """
            {"ociVersionMin": "1.0.0", "ociVersionMax": "1.2.0", "hooks": ["prestart", "poststop"],
             "mountOptions": ["ro", "rbind"],
             "linux": {"namespaces": ["pid", "user"], "capabilities": ["CAP_KILL"],
                       "cgroup": {"v1": false, "v2": true, "systemd": true, "systemdUser": true, "rdma": false},
                       "seccomp": {"enabled": true, "actions": ["SCMP_ACT_ALLOW"], "operators": ["SCMP_CMP_EQ"],
                                   "archs": ["SCMP_ARCH_X86_64"], "knownFlags": ["SECCOMP_FILTER_FLAG_LOG"],
                                   "supportedFlags": []},
                       "apparmor": {"enabled": false}, "selinux": {"enabled": false},
                       "intelRdt": {"enabled": true, "schemata": true},
                       "mountExtensions": {"idmap": {"enabled": true}}},
             "annotations": {"org.opencontainers.runc.version": "1.1.12"}}
            """
        let features = try JSONDecoding.decode(Features.self, from: text)
        #expect(features.linux?.cgroup?.v2 == true)
        #expect(features.linux?.seccomp?.supportedFlags == [])
        #expect(features.linux?.mountExtensions?.idmap?.enabled == true)
        #expect(features.ociVersion == nil)
        #expect(try JSONEncoding.encodeValue(features) == JSONValue.parse(text))
    }
}
