import Foundation
import Testing

// Rootless: ocirun run by a real unprivileged user. The test (as root) makes a user with
// subordinate id ranges (useradd adds them to /etc/subuid and /etc/subgid), makes the busybox
// rootfs readable by it, and runs ocirun as that user through setpriv (no setuid anywhere but
// Debian's own newuidmap/newgidmap). The user is deleted when the test ends.

/// A throw-away unprivileged user.
final class TestUser {
    let name: String
    let uid: UInt32
    let gid: UInt32
    let subuid: (start: UInt32, count: UInt32)
    let subgid: (start: UInt32, count: UInt32)

    init(scratch: String) throws {
        name = "ocirt" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let add = try Spawn.run(["/usr/sbin/useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/bin/sh", name], scratch: scratch)
        try #require(add.status == 0, "useradd \(name): \(add)")
        let created = name
        var ok = false
        defer { if !ok { _ = try? Spawn.run(["/usr/sbin/userdel", created], scratch: scratch) } }
        var ids: [UInt32] = []
        for flag in ["-u", "-g"] {
            let out = try Spawn.run(["/usr/bin/id", flag, name], scratch: scratch)
            ids.append(UInt32(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
        }
        uid = ids[0]
        gid = ids[1]
        // useradd gives a new user a subordinate range when /etc/subuid exists; add one otherwise.
        let n = name
        if TestUser.range("/etc/subuid", n) == nil || TestUser.range("/etc/subgid", n) == nil {
            let base = 300_000 + (ids[0] % 1000) * 65536
            _ = try Spawn.run(["/usr/sbin/usermod", "--add-subuids", "\(base)-\(base + 65535)",
                               "--add-subgids", "\(base)-\(base + 65535)", n], scratch: scratch)
        }
        let r = try #require(TestUser.range("/etc/subuid", n), "no /etc/subuid range for \(n)")
        let g = try #require(TestUser.range("/etc/subgid", n), "no /etc/subgid range for \(n)")
        subuid = (r.0, r.1)
        subgid = (g.0, g.1)
        ok = true
    }

    static func range(_ file: String, _ name: String) -> (UInt32, UInt32)? {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":")
            if f.count == 3, f[0] == name, let s = UInt32(f[1]), let c = UInt32(f[2]) { return (s, c) }
        }
        return nil
    }

    deinit {
        _ = try? Spawn.run(["/usr/sbin/userdel", name], scratch: "/tmp")
    }
}

extension Integration {
    @Suite("Rootless (a real unprivileged user)")
    struct Rootless {
        /// The world of one rootless test: the user, an ocirun copy it may execute, a bundle
        /// it owns (rootfs shared, read-only to it), its XDG_RUNTIME_DIR.
        final class World {
            let sb: Sandbox
            let user: TestUser
            let ocirun: String
            let bundle: String
            let xdg: String

            init() throws {
                sb = try Sandbox(writeConfig: false)
                user = try TestUser(scratch: sb.dir)
                let fm = FileManager.default
                ocirun = sb.dir + "/ocirun"
                try fm.copyItem(atPath: sb.ocirun, toPath: ocirun)
                chmod(ocirun, 0o755)
                // ocirun-cli beside it: `spec` and every other non-hot command.
                let cli = URL(fileURLWithPath: sb.ocirun).deletingLastPathComponent().appendingPathComponent("ocirun-cli").path
                try fm.copyItem(atPath: cli, toPath: sb.dir + "/ocirun-cli")
                chmod(sb.dir + "/ocirun-cli", 0o755)
                // The user must reach the rootfs; mount points it cannot make (root owns it).
                for d in [sb.dir, sb.bundle, sb.rootfs] { chmod(d, 0o755) }
                for d in ["proc", "dev", "sys", "mnt"] {
                    try fm.createDirectory(atPath: sb.rootfs + "/" + d, withIntermediateDirectories: true)
                }
                bundle = sb.dir + "/rl-bundle"
                xdg = sb.dir + "/xdg"
                for (d, mode) in [(bundle, 0o755), (xdg, 0o700)] {
                    try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
                    chown(d, user.uid, user.gid)
                    chmod(d, mode_t(mode))
                }
            }

            /// `ocirun ARGS` as the user, in the bundle, with a minimal environment.
            func asUser(_ args: [String], xdg: Bool = true, globals: [String] = []) throws -> Output {
                var env = ["PATH=/usr/bin:/bin"]
                if xdg { env.append("XDG_RUNTIME_DIR=" + self.xdg) }
                let cmd = ["/usr/bin/setpriv", "--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups",
                           "/usr/bin/env", "-i"] + env + ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", bundle, ocirun] + globals + args
                return try Spawn.run(cmd, scratch: sb.dir, timeout: 30)
            }

            func config() throws -> [String: Any] {
                let data = try Data(contentsOf: URL(fileURLWithPath: bundle + "/config.json"))
                return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            }

            func write(_ c: [String: Any]) throws {
                try JSONSerialization.data(withJSONObject: c, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: bundle + "/config.json"))
            }

            /// `spec --rootless` as the user, then the test's own edits.
            func spec(_ edit: (inout [String: Any]) -> Void) throws -> [String: Any] {
                if !FileManager.default.fileExists(atPath: bundle + "/config.json") {
                    let out = try asUser(["spec", "--rootless"])
                    try #require(out.status == 0, "spec --rootless: \(out)")
                }
                var c = try config()
                c = setting(c, ["root", "path"], sb.rootfs) as! [String: Any]
                c = setting(c, ["process", "terminal"], false) as! [String: Any]
                edit(&c)
                try write(c)
                return c
            }

            var stateEntries: [String] {
                ((try? FileManager.default.contentsOfDirectory(atPath: xdg + "/ocirun")) ?? []).sorted()
            }
        }

        @Test("spec --rootless + run: root inside, the user outside; root-owned host files stay read-only; nothing left")
        func runAsUser() throws {
            let w = try World()
            let hostFile = w.sb.dir + "/root-owned"
            try "original\n".write(toFile: hostFile, atomically: false, encoding: .utf8)
            chmod(hostFile, 0o644)
            // The mount point: the user cannot make it in the root-owned rootfs.
            FileManager.default.createFile(atPath: w.sb.rootfs + "/mnt/host", contents: nil)
            let c = try w.spec { c in
                c = setting(c, ["process", "args"], ["/bin/sleep", "60"]) as! [String: Any]
                var mounts = c["mounts"] as? [[String: Any]] ?? []
                mounts.append(["destination": "/mnt/host", "type": "bind", "source": hostFile, "options": ["bind", "rw"]])
                c["mounts"] = mounts
            }
            let maps = getting(c, ["linux", "uidMappings"]) as? [[String: Any]]
            #expect((maps?.first?["hostID"] as? NSNumber)?.uint32Value == w.user.uid, "spec --rootless maps root to the caller: \(String(describing: maps))")
            let id = "rl-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            defer { _ = try? w.asUser(["delete", "--force", id]) }

            let run = try w.asUser(["run", "--detach", id])
            try #require(run.status == 0, "\(run)")
            #expect(w.stateEntries == [id], "state under $XDG_RUNTIME_DIR/ocirun: \(w.stateEntries)")
            let state = try w.asUser(["state", id])
            let pid = try #require((try JSONSerialization.jsonObject(with: Data(state.stdout.utf8)) as? [String: Any])?["pid"] as? Int, "\(state)")
            var st = stat()
            #expect(stat("/proc/\(pid)", &st) == 0 && st.st_uid == w.user.uid, "the container process is owned by \(w.user.name) outside (uid \(st.st_uid))")
            #expect(w.sb.leftoverCgroups.isEmpty, "no cgroup without delegation: \(w.sb.leftoverCgroups)")

            let inside = try w.asUser(["exec", id, "/bin/sh", "-c", "id -u; echo changed > /mnt/host; echo write=$?"])
            #expect(inside.stdout.hasPrefix("0\n"), "id -u inside: \(inside)")
            #expect(inside.stdout.contains("write=1") || inside.stdout.contains("write=2"), "\(inside)")
            #expect(try String(contentsOfFile: hostFile, encoding: .utf8) == "original\n")

            let del = try w.asUser(["delete", "--force", id])
            #expect(del.status == 0, "\(del)")
            #expect(w.stateEntries.isEmpty, "\(w.stateEntries)")
            // Gone, or a zombie waiting for whichever process it was reparented to.
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let procState = stat.split(separator: ")").last?.split(separator: " ").first
            #expect(stat.isEmpty || procState == "Z", "the container process is gone: \(stat)")
        }

        @Test("several id ranges go through newuidmap/newgidmap")
        func severalRanges() throws {
            let w = try World()
            let u = w.user
            _ = try w.spec { c in
                let maps: [[String: Any]] = [["containerID": 0, "hostID": u.uid, "size": 1],
                                             ["containerID": 1, "hostID": u.subuid.start, "size": 65536]]
                let gmaps: [[String: Any]] = [["containerID": 0, "hostID": u.gid, "size": 1],
                                              ["containerID": 1, "hostID": u.subgid.start, "size": 65536]]
                c = setting(c, ["linux", "uidMappings"], maps) as! [String: Any]
                c = setting(c, ["linux", "gidMappings"], gmaps) as! [String: Any]
                // uid 1000 exists only through the second range: setuid to it fails without it.
                c = setting(c, ["process", "user"], ["uid": 1000, "gid": 1000]) as! [String: Any]
                c = setting(c, ["process", "args"], ["/bin/sh", "-c", "cat /proc/self/uid_map; echo uid=$(id -u)"]) as! [String: Any]
            }
            let out = try w.asUser(["run", "rl-ranges"])
            #expect(out.status == 0, "\(out)")
            let lines = out.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
            #expect(lines.contains("0 \(u.uid) 1"), "\(out)")
            #expect(lines.contains("1 \(u.subuid.start) 65536"), "\(out)")
            #expect(out.stdout.contains("uid=1000"), "uid 1000 exists in the container: \(out)")
            #expect(w.stateEntries.isEmpty, "\(w.stateEntries)")
        }

        @Test("no XDG_RUNTIME_DIR: a clear error naming --root; --root works instead")
        func noRuntimeDir() throws {
            let w = try World()
            _ = try w.spec { c in c = setting(c, ["process", "args"], ["/bin/true"]) as! [String: Any] }
            let out = try w.asUser(["run", "rl-noxdg"], xdg: false)
            #expect(out.status == 1, "\(out)")
            #expect(out.stderr.contains("XDG_RUNTIME_DIR") && out.stderr.contains("--root"), "\(out)")
            let root = w.xdg + "/explicit"
            let ok = try w.asUser(["run", "rl-noxdg"], xdg: false, globals: ["--root", root])
            #expect(ok.status == 0, "\(ok)")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).isEmpty)
        }

        @Test("a delegated cgroup is used (limits applied) and removed; other hierarchies are skipped")
        func delegatedCgroup() throws {
            let w = try World()
            let pidsRoot = try #require(w.sb.cgroupRoots.first { $0.hasSuffix("/pids") }, "no v1 pids hierarchy")
            let parent = pidsRoot + "/ocirun-test/" + w.sb.cgroupName
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            defer { rmdir(parent + "/c"); rmdir(parent); rmdir(pidsRoot + "/ocirun-test") }
            // Delegation as an administrator does it: the directory and its interface files.
            for f in ["", "/cgroup.procs", "/tasks"] { chown(parent + f, w.user.uid, w.user.gid) }
            _ = try w.spec { c in
                c = setting(c, ["linux", "cgroupsPath"], "/ocirun-test/\(w.sb.cgroupName)/c") as! [String: Any]
                c = setting(c, ["linux", "resources"], ["pids": ["limit": 9], "memory": ["limit": 100_000_000]]) as! [String: Any]
                c = setting(c, ["process", "args"], ["/bin/sleep", "60"]) as! [String: Any]
            }
            let id = "rl-cg"
            defer { _ = try? w.asUser(["delete", "--force", id]) }
            let run = try w.asUser(["run", "--detach", id])
            try #require(run.status == 0, "\(run)")
            let max = try? String(contentsOfFile: parent + "/c/pids.max", encoding: .utf8)
            #expect(max?.trimmingCharacters(in: .whitespacesAndNewlines) == "9", "pids.max in the delegated cgroup")
            let pid = (try? String(contentsOfFile: parent + "/c/cgroup.procs", encoding: .utf8)) ?? ""
            #expect(!pid.isEmpty, "the container joined the delegated cgroup")
            // The memory hierarchy is not delegated: skipped, no error, nothing made.
            #expect(w.sb.leftoverCgroups == [parent], "\(w.sb.leftoverCgroups)")
            #expect(try w.asUser(["delete", "--force", id]).status == 0)
            #expect(!FileManager.default.fileExists(atPath: parent + "/c"), "the cgroup is removed on delete")
            #expect(w.stateEntries.isEmpty, "\(w.stateEntries)")
        }
    }
}
