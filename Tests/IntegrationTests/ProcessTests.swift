import Foundation
import Testing

extension Integration {
    /// What the probe sees inside the container, against what config.json asked for.
    @Suite("Process set-up (probe)")
    struct ProcessSetup {
        @Test("cwd, user, hostname, env, capabilities, rlimits, fds and no_new_privs")
        func process() throws {
            let sb = try Sandbox(writeConfig: false)
            sb.set(["process", "args"], ["/bin/probe", "cwd", "ids", "hostname", "env", "caps", "rlimits", "fds", "nnp"])
            sb.set(["process", "cwd"], "/home/user")
            sb.set(["process", "user"], ["uid": 1000, "gid": 1000, "additionalGids": [2000, 3000]])
            sb.set(["hostname"], "probe-host")
            sb.set(["process", "env"], ["PATH=/bin", "FOO=bar baz", "EMPTY="])
            let caps = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
            sb.set(["process", "capabilities"], ["bounding": caps, "effective": caps, "permitted": caps])
            sb.set(["process", "rlimits"], [["type": "RLIMIT_NOFILE", "soft": 123, "hard": 456]])
            sb.set(["process", "noNewPrivileges"], true)
            try sb.writeConfig()

            let out = try sb.run()
            try #require(out.status == 0, "\(out)")
            let p = out.probe
            #expect(p["cwd"] == "/home/user")
            #expect(p["uid"] == "1000,1000,1000")
            #expect(p["gid"] == "1000,1000,1000")
            #expect(Set((p["groups"] ?? "").split(separator: ",")) == ["2000", "3000"], "groups=\(p["groups"] ?? "nil")")
            #expect(p["hostname"] == "probe-host")
            #expect(p["env:FOO"] == "bar baz")
            #expect(p["env:PATH"] == "/bin")
            #expect(p["env:EMPTY"] == "")
            // CAP_KILL (5) and CAP_NET_BIND_SERVICE (10).
            #expect(p["cap.bnd"] == "0000000000000420")
            // A non-root user keeps no permitted or effective capabilities without ambient ones
            // (runc behaves the same: setuid clears them).
            #expect(p["cap.amb"] == "0000000000000000")
            #expect(p["rlimit:NOFILE"] == "123,456")
            #expect(p["fds"] == "0,1,2")
            #expect(p["nnp"] == "1")
        }

        @Test("root keeps the configured effective capabilities; no_new_privs is off unless asked")
        func rootCapabilities() throws {
            let sb = try Sandbox(writeConfig: false)
            sb.set(["process", "args"], ["/bin/probe", "ids", "caps", "nnp"])
            let caps = ["CAP_CHOWN", "CAP_KILL"]
            sb.set(["process", "capabilities"], ["bounding": caps, "effective": caps, "permitted": caps])
            sb.set(["process", "noNewPrivileges"], false)
            try sb.writeConfig()
            let out = try sb.run()
            try #require(out.status == 0, "\(out)")
            let p = out.probe
            #expect(p["uid"] == "0,0,0")
            #expect(p["cap.bnd"] == "0000000000000021")
            #expect(p["cap.eff"] == "0000000000000021")
            #expect(p["cap.prm"] == "0000000000000021")
            #expect(p["nnp"] == "0")
        }

        @Test("readonly root and masked paths")
        func readonlyAndMasked() throws {
            let sb = try Sandbox(writeConfig: false)
            sb.set(["root", "readonly"], true)
            var masked = (sb.get(["linux", "maskedPaths"]) as? [String]) ?? []
            masked.append("/proc/version")   // exists on every kernel; /proc/kcore may not
            sb.set(["linux", "maskedPaths"], masked)
            sb.set(["process", "args"], ["/bin/probe", "write=/x", "write=/bin/new", "cat=/proc/kcore", "cat=/proc/version",
                                         "stat=/proc/acpi", "open=/proc/acpi/x", "write=/proc/sys/kernel/domainname:x"])
            try sb.writeConfig()
            let out = try sb.run()
            try #require(out.status == 0, "\(out)")
            let p = out.probe
            #expect(p["write:/x"] == "EROFS")
            #expect(p["write:/bin/new"] == "EROFS")
            #expect(!FileManager.default.fileExists(atPath: sb.rootfs + "/x"))
            // Masked files read empty (bound over by /dev/null); ENOENT where the kernel lacks them.
            #expect(p["cat:/proc/kcore"] == "" || p["cat:/proc/kcore"] == "ENOENT", "\(p["cat:/proc/kcore"] ?? "nil")")
            #expect(p["cat:/proc/version"] == "", "host: \((try? String(contentsOfFile: "/proc/version", encoding: .utf8)) ?? "")")
            // readonlyPaths: /proc/sys is read-only.
            #expect(p["write:/proc/sys/kernel/domainname"] == "EROFS", "\(p)")
        }

        @Test("--preserve-fds 1 passes fd 3 and closes every other inherited descriptor")
        func preserveFds() throws {
            let sb = try Sandbox(writeConfig: false)
            let passed = sb.dir + "/passed.txt", stray = sb.dir + "/stray.txt"
            try "through fd 3\n".write(toFile: passed, atomically: false, encoding: .utf8)
            try "stray\n".write(toFile: stray, atomically: false, encoding: .utf8)
            sb.set(["process", "args"], ["/bin/probe", "fds", "cat=/proc/self/fd/3"])
            try sb.writeConfig()

            let kept = try sb.run(fds: [3: passed, 4: stray], extra: ["--preserve-fds", "1"])
            try #require(kept.status == 0, "\(kept)")
            #expect(kept.probe["fds"] == "0,1,2,3", "\(kept)")
            #expect(kept.probe["cat:/proc/self/fd/3"] == "through fd 3")

            // Without --preserve-fds, fds 3 and 4 inherited by ocirun do not reach the container.
            let closed = try sb.run(fds: [3: passed, 4: stray])
            try #require(closed.status == 0, "\(closed)")
            #expect(closed.probe["fds"] == "0,1,2", "\(closed)")
        }

        /// runc makes a missing cwd (MkdirAll in the container, before the read-only remount of
        /// the root), so `runc spec`'s read-only root and a cwd the image lacks still run.
        @Test("a missing cwd is created, as runc does", arguments: [false, true])
        func cwdCreated(readonlyRoot: Bool) throws {
            let sb = try Sandbox(writeConfig: false)
            sb.set(["root", "readonly"], readonlyRoot)
            sb.set(["process", "cwd"], "/new/work/dir")
            sb.set(["process", "args"], ["/bin/probe", "cwd"])
            try sb.writeConfig()
            let out = try sb.run()
            #expect(out.status == 0, "\(out)")
            #expect(out.probe["cwd"] == "/new/work/dir")
            
        }

        /// `exec` starts its process two ways: sharing the runtime's memory until it execs
        /// (root, no user namespace to enter) or forked (here: a container with a user
        /// namespace). Both must give the same process and the same errors.
        @Test("exec: user, cwd, env, fds, exit status, cgroup and a missing program", arguments: [false, true])
        func exec(userNamespace: Bool) throws {
            let sb = try Sandbox(writeConfig: false)
            sb.set(["process", "args"], ["/bin/sleep", "100"])
            if userNamespace {
                var namespaces = (sb.get(["linux", "namespaces"]) as? [[String: Any]]) ?? []
                namespaces.append(["type": "user"])
                sb.set(["linux", "namespaces"], namespaces)
                sb.set(["linux", "uidMappings"], [["containerID": 0, "hostID": 0, "size": 65536]])
                sb.set(["linux", "gidMappings"], [["containerID": 0, "hostID": 0, "size": 65536]])
            }
            try sb.writeConfig()
            let id = sb.newID()
            let started = try sb.ocirunCommand(["run", "-d", "--bundle", sb.bundle, id])
            try #require(started.status == 0, "\(started)")

            let out = try sb.ocirunCommand(["exec", "-u", "1000:1000", "--cwd", "/home/user", "-e", "FOO=bar", id,
                                            "/bin/probe", "cwd", "ids", "env", "fds", "ns", "cat=/proc/self/cgroup", "exit=3"])
            #expect(out.status == 3, "\(out)")
            let p = out.probe
            #expect(p["cwd"] == "/home/user")
            #expect(p["uid"] == "1000,1000,1000")
            #expect(p["env:FOO"] == "bar")
            #expect(p["fds"] == "0,1,2")
            // The cgroup file's lines: "N:controllers:path", the first after the probe's key.
            let cgroupLines = out.stdout.split(separator: "\n").map { line -> Substring in
                line.hasPrefix("cat:") ? line[line.index(after: line.firstIndex(of: "=")!)...] : line
            }.filter { $0.first?.isNumber == true && $0.contains(":/") }
            #expect(!cgroupLines.isEmpty, "\(out.stdout)")
            #expect(cgroupLines.allSatisfy { $0.hasSuffix(":" + sb.cgroupsPath) }, "\(out.stdout)")
            // The container init's namespaces, read on the host.
            let pid = try #require(try sb.state(id).json?["pid"] as? Int)
            for kind in ["mnt", "pid", "net", "ipc", "uts", "user"] {
                let initNs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")
                #expect(p["ns:" + kind] == initNs, "\(kind): \(p["ns:" + kind] ?? "nil") vs \(initNs)")
            }

            let missing = try sb.ocirunCommand(["exec", id, "/no/such/program"])
            #expect(missing.status != 0, "\(missing)")
            #expect(missing.stderr.contains("/no/such/program"), "\(missing)")
            #expect(try sb.ocirunCommand(["delete", "--force", id]).status == 0)
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
        }

        /// Device nodes are made with the umask off (no chmod after mknod): their mode must be
        /// the configured one whatever ocirun's umask, both in the /dev tmpfs ocirun mounts and
        /// in a /dev bound from elsewhere (linux.devices only).
        @Test("device nodes get the configured mode and owner, with or without ocirun's own /dev", arguments: [false, true])
        func deviceModes(boundDev: Bool) throws {
            let sb = try Sandbox(writeConfig: false)
            if boundDev {
                let devDir = sb.dir + "/devdir"
                try FileManager.default.createDirectory(atPath: devDir, withIntermediateDirectories: true)
                var mounts = (sb.get(["mounts"]) as? [[String: Any]]) ?? []
                mounts.removeAll { ($0["destination"] as? String)?.hasPrefix("/dev") == true }
                mounts.append(["destination": "/dev", "type": "bind", "source": devDir, "options": ["rbind", "rw"]])
                sb.set(["mounts"], mounts)
                sb.set(["linux", "maskedPaths"], [])   // they bind /dev/null, which this /dev lacks
            }
            sb.set(["linux", "devices"], [["path": "/dev/test-null", "type": "c", "major": 1, "minor": 3,
                                           "fileMode": 0o666, "uid": 1000, "gid": 2000]])
            sb.set(["process", "args"], ["/bin/probe", "stat=/dev/test-null"] + (boundDev ? [] : ["stat=/dev/null", "stat=/dev/zero"]))
            try sb.writeConfig()
            // A restrictive umask in the caller must not reach the nodes.
            let out = try Spawn.run(["/bin/sh", "-c", "umask 077 && exec \"$0\" \"$@\"", sb.ocirun, "--root", sb.root,
                                     "run", "--bundle", sb.bundle, sb.newID()], scratch: sb.dir)
            try #require(out.status == 0, "\(out)")
            let p = out.probe
            #expect(p["stat:/dev/test-null"] == "char,0666,1000,2000,1,3,0", "\(out.stdout)")
            if !boundDev {
                #expect(p["stat:/dev/null"] == "char,0666,0,0,1,3,0", "\(out.stdout)")
                #expect(p["stat:/dev/zero"] == "char,0666,0,0,1,5,0", "\(out.stdout)")
            }
        }
    }
}
