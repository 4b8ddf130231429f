import Foundation
import Testing

extension Integration {
    /// A hostile image plants symlinks to host paths; nothing the runtime does for the container
    /// may touch them.
    @Suite("Hostile rootfs")
    struct HostileRootfs {
        @Test("/etc and a mount destination that are symlinks to host directories")
        func symlinksToHost() throws {
            let sb = try Sandbox(writeConfig: false)
            let hostEtc = sb.dir + "/host-etc", hostMnt = sb.dir + "/host-mnt"
            let fm = FileManager.default
            try fm.createDirectory(atPath: hostEtc, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: hostMnt, withIntermediateDirectories: true)
            try "host file\n".write(toFile: hostEtc + "/marker", atomically: false, encoding: .utf8)
            try fm.removeItem(atPath: sb.rootfs + "/etc")
            try fm.createSymbolicLink(atPath: sb.rootfs + "/etc", withDestinationPath: hostEtc)
            try fm.createSymbolicLink(atPath: sb.rootfs + "/data", withDestinationPath: hostMnt)
            try fm.createSymbolicLink(atPath: sb.rootfs + "/escape", withDestinationPath: "../../../../../../../../" + hostMnt)
            var mounts = (sb.get(["mounts"]) as? [[String: Any]]) ?? []
            mounts.append(["destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m"]])
            mounts.append(["destination": "/escape/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]])
            mounts.append(["destination": "/etc/hosts", "type": "bind", "source": hostEtc + "/marker", "options": ["rbind", "ro"]])
            sb.set(["mounts"], mounts)
            sb.set(["process", "args"], ["/bin/probe", "write=/data/f", "mkdir=/etc/d", "write=/etc/f", "write=/escape/sub/g",
                                         "cat=/etc/hosts", "mount=/data"])
            try sb.writeConfig()

            let out = try sb.run()
            #expect(listing(hostEtc) == ["marker"], "host /etc stand-in changed")
            #expect(listing(hostMnt) == [], "host mount stand-in changed")
            #expect(try String(contentsOfFile: hostEtc + "/marker", encoding: .utf8) == "host file\n")
            #expect(!fm.fileExists(atPath: hostMnt + "/sub"))

            // runc resolves each destination inside the rootfs (SecureJoin) and makes it there.
            withKnownIssue("mount destinations whose symlink target is missing inside the rootfs fail instead of being created there") {
                #expect(out.status == 0, "\(out)")
                #expect(out.probe["write:/data/f"] == "OK")
                #expect(out.probe["write:/escape/sub/g"] == "OK")
                #expect(out.probe["cat:/etc/hosts"] == "host file")
                #expect(out.probe["mount:/data"]?.contains("tmpfs") == true)
            }
        }

        @Test("symlinks whose targets exist inside the rootfs resolve there")
        func symlinksInside() throws {
            let sb = try Sandbox(writeConfig: false)
            let hostMnt = sb.dir + "/host-mnt"
            let fm = FileManager.default
            try fm.createDirectory(atPath: hostMnt, withIntermediateDirectories: true)
            // The same absolute target exists inside the rootfs: that is where the mount goes.
            try fm.createDirectory(atPath: sb.rootfs + hostMnt, withIntermediateDirectories: true)
            try fm.createSymbolicLink(atPath: sb.rootfs + "/data", withDestinationPath: hostMnt)
            var mounts = (sb.get(["mounts"]) as? [[String: Any]]) ?? []
            mounts.append(["destination": "/data/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]])
            sb.set(["mounts"], mounts)
            sb.set(["process", "args"], ["/bin/probe", "write=/data/sub/f", "mount=" + hostMnt + "/sub"])
            try sb.writeConfig()
            let out = try sb.run()
            #expect(out.status == 0, "\(out)")
            #expect(out.probe["write:/data/sub/f"] == "OK")
            #expect(out.probe["mount:" + hostMnt + "/sub"]?.contains("tmpfs") == true, "\(out)")
            #expect(listing(hostMnt) == [], "host directory changed")
            #expect(fm.fileExists(atPath: sb.rootfs + hostMnt + "/sub"), "the target was made inside the rootfs")
        }
    }
}

func listing(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}
