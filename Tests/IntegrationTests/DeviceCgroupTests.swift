import Foundation
import Testing

// A device node that exists in the container but is not in linux.resources.devices cannot be
// opened (EPERM), on the host's own layout (hybrid here: the v1 devices controller, as runc
// and crun use it) and on cgroup2 alone (the eBPF program). For "cgroup2 alone" ocirun runs in a
// private mount namespace of the test in which the v1 hierarchies are unmounted: ocirun then
// sees the layout of a v2-only host (only the cgroup2 mount in /proc/self/mountinfo), takes
// its v2 code path, and the container's v1 devices cgroup stays the root one (allow all), so
// the eBPF program is the only thing that can refuse the open. No switch in ocirun is involved.

extension Integration {
    @Suite("Device cgroup (v1 rules and the cgroup2 eBPF program)")
    struct DeviceCgroup {
        /// /dev/fuse (10:229): in no default allow list, openable without a capability.
        static let node: [String: Any] = ["path": "/dev/test-fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666]
        static let allowFuse: [[String: Any]] = [["allow": false, "access": "rwm"],
                                                 ["allow": true, "type": "c", "major": 10, "minor": 229, "access": "r"]]

        @Test("host layout: a node not in resources.devices gives EPERM; an allowed one opens for reading only")
        func hostLayout() throws {
            let sb = try Sandbox(writeConfig: false)
            sb.set(["linux", "devices"], [Self.node])
            sb.set(["process", "args"], ["/bin/probe", "open=/dev/test-fuse", "openrw=/dev/null"])
            try sb.writeConfig()
            let denied = try sb.run()
            #expect(denied.status == 0, "\(denied)")
            #expect(denied.probe["open:/dev/test-fuse"] == "EPERM", "\(denied)")
            #expect(denied.probe["openrw:/dev/null"] == "OK", "\(denied)")

            sb.set(["linux", "resources", "devices"], Self.allowFuse)
            sb.set(["process", "args"], ["/bin/probe", "open=/dev/test-fuse", "openrw=/dev/test-fuse"])
            try sb.writeConfig()
            let allowed = try sb.run()
            #expect(allowed.probe["open:/dev/test-fuse"] == "OK", "\(allowed)")
            #expect(allowed.probe["openrw:/dev/test-fuse"] == "EPERM", "\(allowed)")
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
        }

        /// Runs `ocirun ARGS` in a new private mount namespace without the v1 cgroup mounts.
        func ocirunV2Only(_ sb: Sandbox, _ args: [String]) throws -> Output {
            let v1 = sb.cgroupRoots.filter { !isCgroup2($0) }
            let script = "for m in \(v1.map { "'\($0)'" }.joined(separator: " ")); do umount \"$m\" || exit 97; done; "
                + "grep -q ' - cgroup ' /proc/self/mountinfo && exit 98; exec \"$@\""
            return try Spawn.run(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh",
                                  sb.ocirun, "--root", sb.root] + args, scratch: sb.dir)
        }

        func isCgroup2(_ dir: String) -> Bool { FileManager.default.fileExists(atPath: dir + "/cgroup.controllers") }

        @Test("cgroup2 only: the eBPF program alone refuses the node; update replaces the program; delete removes the cgroup")
        func v2Only() throws {
            let sb = try Sandbox(writeConfig: false)
            let unified = try #require(sb.cgroupRoots.first(where: isCgroup2), "no cgroup2 mount on this host")
            sb.set(["linux", "devices"], [Self.node])
            sb.set(["process", "args"], ["/bin/sleep", "60"])
            try sb.writeConfig()
            let id = sb.newID()
            let run = try ocirunV2Only(sb, ["run", "--detach", "--bundle", sb.bundle, id])
            try #require(run.status == 0, "\(run)")
            // Only the cgroup2 directory was made: no v1 devices rules exist for this container.
            #expect(sb.leftoverCgroups == [unified + sb.cgroupsPath], "\(sb.leftoverCgroups)")

            let before = try sb.ocirunCommand(["exec", id, "/bin/probe", "cat=/proc/self/cgroup", "open=/dev/test-fuse", "openrw=/dev/null", "open=/dev/zero"])
            #expect(before.status == 0, "\(before)")
            #expect(before.stdout.contains(":devices:/\\n"), "the process is in the root v1 devices cgroup (the probe escapes newlines): \(before)")
            #expect(before.probe["open:/dev/test-fuse"] == "EPERM", "\(before)")
            #expect(before.probe["openrw:/dev/null"] == "OK", "\(before)")
            #expect(before.probe["open:/dev/zero"] == "OK", "\(before)")

            // update: the new rule list replaces the program (the old one would still deny).
            let rules = try JSONSerialization.data(withJSONObject: ["devices": Self.allowFuse])
            let file = sb.dir + "/devices.json"
            try rules.write(to: URL(fileURLWithPath: file))
            let upd = try sb.ocirunCommand(["update", "--resources", file, id])
            #expect(upd.status == 0, "\(upd)")
            let after = try sb.ocirunCommand(["exec", id, "/bin/probe", "open=/dev/test-fuse", "openrw=/dev/test-fuse", "openrw=/dev/null"])
            #expect(after.probe["open:/dev/test-fuse"] == "OK", "\(after)")
            #expect(after.probe["openrw:/dev/test-fuse"] == "EPERM", "\(after)")
            #expect(after.probe["openrw:/dev/null"] == "OK", "\(after)")

            #expect(try sb.ocirunCommand(["delete", "--force", id]).status == 0)
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
            #expect(sb.stateEntries.isEmpty, "\(sb.stateEntries)")
        }
    }
}
