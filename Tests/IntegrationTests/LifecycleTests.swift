import Foundation
import Testing

extension Integration {
    @Suite("Lifecycle")
    struct Lifecycle {
        /// The brief: killing ocirun at any point must leave state that `delete --force` can
        /// clean. `create` is killed with SIGKILL at 20 points spread over its own duration
        /// (before, during and after the clone and the cgroup's creation).
        @Test("create killed at any point: delete --force leaves no cgroup, process or state")
        func killedCreate() throws {
            let sb = try Sandbox(args: ["/bin/sleep", "1000"])
            // How long one whole create takes here.
            let probeID = sb.newID()
            let t0 = Date()
            try #require(try sb.ocirunCommand(["create", "--bundle", sb.bundle, probeID]).status == 0)
            let duration = Date().timeIntervalSince(t0)
            #expect(try sb.ocirunCommand(["delete", "--force", probeID]).status == 0)
            for i in 0..<20 {
                let id = sb.newID()
                let pid = try Spawn.start([sb.ocirun, "--root", sb.root, "create", "--bundle", sb.bundle, id])
                usleep(useconds_t(duration * 1_000_000 * Double(i) / 20))
                kill(pid, SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let del = try sb.ocirunCommand(["delete", "--force", id])
                #expect(del.status == 0, "delete --force after a kill at \(i)/20: \(del)")
                #expect(sb.leftoverCgroups.isEmpty, "kill at \(i)/20: \(sb.leftoverCgroups)")
                #expect(!FileManager.default.fileExists(atPath: sb.root + "/" + id), "kill at \(i)/20: state left")
                // No init left behind: nothing runs with this container's cgroup or id.
                let left = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
                let stray = left.compactMap(Int32.init).filter { pid in
                    let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
                    return cmd.contains(id)
                }
                #expect(stray.isEmpty, "kill at \(i)/20: processes \(stray) left")
            }
        }

        @Test("create --pid-file → created → start → running → kill TERM → stopped → delete → gone")
        func lifecycle() throws {
            let sb = try Sandbox(writeConfig: false)
            // The init is pid 1 of its namespace: it dies on TERM only by handling it.
            sb.set(["process", "args"], ["/bin/probe", "trap=15", "wait=/tmp/signal"])
            try sb.writeConfig()
            let id = sb.newID()
            let pidFile = sb.dir + "/init.pid"

            let create = try sb.ocirunCommand(["create", "--bundle", sb.bundle, "--pid-file", pidFile, id])
            try #require(create.status == 0, "create: \(create)")
            let pidText = try String(contentsOfFile: pidFile, encoding: .utf8)
            let pid = try #require(Int(pidText.trimmingCharacters(in: .whitespacesAndNewlines)), "pid file: \(pidText)")
            #expect(pid > 1)

            let created = try #require(try sb.state(id).json)
            #expect(created["status"] as? String == "created")
            #expect(created["pid"] as? Int == pid)
            #expect(created["id"] as? String == id)
            #expect(created["bundle"] as? String == sb.bundle)
            #expect(created["ociVersion"] as? String != nil)
            #expect(kill(pid_t(pid), 0) == 0, "the init is alive while created")
            #expect(sb.leftoverCgroups.count == sb.cgroupRoots.count, "a cgroup directory in every hierarchy")

            let start = try sb.ocirunCommand(["start", id])
            try #require(start.status == 0, "start: \(start)")
            #expect(try sb.state(id).json?["status"] as? String == "running")

            let kill = try sb.ocirunCommand(["kill", id, "TERM"])
            #expect(kill.status == 0, "kill: \(kill)")
            #expect(try sb.waitForStatus(id, "stopped") == "stopped")
            #expect(try String(contentsOfFile: sb.rootfs + "/tmp/signal", encoding: .utf8) == "15\n")

            let delete = try sb.ocirunCommand(["delete", id])
            #expect(delete.status == 0, "delete: \(delete)")
            let gone = try sb.state(id).output
            #expect(gone.status == 1)
            #expect(gone.stderr.contains("does not exist"), "\(gone)")
            #expect(sb.stateEntries.isEmpty, "state dir left: \(sb.stateEntries)")
            #expect(sb.leftoverCgroups.isEmpty, "cgroups left: \(sb.leftoverCgroups)")
        }

        /// A signal kills the init only when it is not pid 1 of a pid namespace (the kernel drops
        /// SIGKILL sent to a namespace's init from inside), so the signal cases share the host's
        /// pid namespace.
        @Test("run exits with the container's status", arguments: [
            ("exit 0", Int32(0)), ("exit 3", 3), ("exit 255", 255), ("kill -9 $$", 137), ("kill -TERM $$", 143),
        ])
        func runExitStatus(script: String, status: Int32) throws {
            let sb = try Sandbox(writeConfig: false)
            sb.set(["process", "args"], ["/bin/sh", "-c", script])
            if script.hasPrefix("kill") {
                let ns = (sb.get(["linux", "namespaces"]) as? [[String: Any]]) ?? []
                sb.set(["linux", "namespaces"], ns.filter { $0["type"] as? String != "pid" })
            }
            try sb.writeConfig()
            let out = try sb.run()
            #expect(out.status == status, "\(out)")
            #expect(sb.stateEntries.isEmpty, "run removes the container: \(sb.stateEntries)")
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
        }

        @Test("run: SIGKILL of a pid-namespace init from inside is ignored; sh then exits 0")
        func runKillSelfAsInit() throws {
            let sb = try Sandbox(args: ["/bin/sh", "-c", "kill -9 $$; exit 7"])
            let out = try sb.run()
            #expect(out.status == 7, "\(out)")
        }

        /// `run` starts the process over its sync channel as soon as the init is ready (no
        /// exec.fifo), and its new network namespace is made by a launcher thread before the
        /// clone: the container must read running at once, refuse a second start, and have a
        /// network namespace of its own holding only an unconfigured loopback device. Without
        /// hooks in the init, the launcher starts the init in the runtime's memory; with a
        /// createContainer hook the init forks, and takes the launcher's namespace (the hook
        /// must have run in the container's namespace too).
        @Test("run: running at once without exec.fifo, in a network namespace of its own",
              arguments: [false, true])
        func runStartsAtOnce(hookInInit: Bool) throws {
            let sb = try Sandbox(args: ["/bin/sleep", "100"])
            if hookInInit {
                sb.set(["hooks", "createContainer"], [["path": "/bin/sh",
                                                      "args": ["sh", "-c", "readlink /proc/self/ns/net > \(sb.dir)/hook-net"]]])
                try sb.writeConfig()
            }
            let id = sb.newID()
            try #require(try sb.ocirunCommand(["run", "-d", "--bundle", sb.bundle, id]).status == 0)
            #expect(try sb.state(id).json?["status"] as? String == "running")
            #expect(!FileManager.default.fileExists(atPath: sb.root + "/" + id + "/exec.fifo"))
            let again = try sb.ocirunCommand(["start", id])
            #expect(again.status != 0 && again.stderr.contains(id), "\(again)")
            let pid = try #require(try sb.state(id).json?["pid"] as? Int)
            let hostNet = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
            let initNet = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
            #expect(initNet != hostNet)
            let devices = try String(contentsOfFile: "/proc/\(pid)/net/dev", encoding: .utf8)
                .split(separator: "\n").dropFirst(2).map { $0.split(separator: ":")[0].trimmingCharacters(in: .whitespaces) }
            #expect(devices == ["lo"], "\(devices)")
            if hookInInit {
                let hookNet = try String(contentsOfFile: sb.dir + "/hook-net", encoding: .utf8)
                #expect(hookNet.trimmingCharacters(in: .whitespacesAndNewlines) == initNet)
            }
            #expect(try sb.ocirunCommand(["delete", "--force", id]).status == 0)
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
        }

        @Test("run passes the container's stdout through")
        func runStdout() throws {
            let sb = try Sandbox(args: ["/bin/probe", "echo=hello", "exit=4"])
            let out = try sb.run()
            #expect(out.status == 4)
            #expect(out.probe["echo"] == "hello", "\(out)")
        }

        @Test("delete --force of a running container, and of a missing one, exits 0")
        func deleteForce() throws {
            let sb = try Sandbox(args: ["/bin/probe", "pause"])
            let id = sb.newID()
            let run = try sb.ocirunCommand(["run", "--detach", "--bundle", sb.bundle, id])
            try #require(run.status == 0, "run --detach: \(run)")
            let pid = try #require(try sb.state(id).json?["pid"] as? Int)
            #expect(try sb.state(id).json?["status"] as? String == "running")

            let notForced = try sb.ocirunCommand(["delete", id])
            #expect(notForced.status == 1, "delete without --force of a running container: \(notForced)")
            #expect(notForced.stderr.contains("running"), "\(notForced)")

            let forced = try sb.ocirunCommand(["delete", "--force", id])
            #expect(forced.status == 0, "\(forced)")
            #expect(try sb.state(id).output.status == 1)
            #expect(sb.stateEntries.isEmpty)
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
            // The init is gone (or a zombie waiting for its reaper).
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            #expect(stat.isEmpty || stat.contains(") Z "), "init still alive: \(stat)")

            let missing = try sb.ocirunCommand(["delete", "--force", "no-such-container"])
            #expect(missing.status == 0, "\(missing)")
            let missingPlain = try sb.ocirunCommand(["delete", "no-such-container"])
            #expect(missingPlain.status == 1)
            #expect(missingPlain.stderr.contains("does not exist"), "\(missingPlain)")
        }

        @Test("kill of a stopped container exits 1 (kill --all exits 0); kill with a bad signal exits 1")
        func killStopped() throws {
            let sb = try Sandbox(args: ["/bin/probe", "exit=0"])
            let id = sb.newID()
            try #require(try sb.ocirunCommand(["create", "--bundle", sb.bundle, id]).status == 0)
            let badSignal = try sb.ocirunCommand(["kill", id, "SIGNOPE"])
            #expect(badSignal.status == 1)
            #expect(badSignal.stderr.contains("SIGNOPE"), "\(badSignal)")
            try #require(try sb.ocirunCommand(["start", id]).status == 0)
            #expect(try sb.waitForStatus(id, "stopped") == "stopped")
            let kill = try sb.ocirunCommand(["kill", id, "KILL"])
            #expect(kill.status == 1, "\(kill)")
            // containerd's shim recognises runc's words "container not running" (process gone).
            #expect(kill.stderr.contains("container not running"), "\(kill)")
            // The shim kills an exited init's children with `kill --all`: not an error (runc).
            let killAll = try sb.ocirunCommand(["kill", "--all", id, "KILL"])
            #expect(killAll.status == 0, "kill --all of a stopped container: \(killAll)")
            let start = try sb.ocirunCommand(["start", id])
            #expect(start.status == 1, "start of a stopped container: \(start)")
            #expect(try sb.ocirunCommand(["delete", id]).status == 0)
        }

        /// `ctr task kill -s KILL` of a paused task: runc thaws after SIGKILL; without that the
        /// frozen init never dies and the container stays paused.
        @Test("kill KILL of a paused container stops it")
        func killPaused() throws {
            let sb = try Sandbox(args: ["/bin/sleep", "1000"])
            let id = sb.newID()
            try #require(try sb.ocirunCommand(["create", "--bundle", sb.bundle, id]).status == 0)
            try #require(try sb.ocirunCommand(["start", id]).status == 0)
            let pause = try sb.ocirunCommand(["pause", id])
            try #require(pause.status == 0, "\(pause)")
            #expect(try sb.state(id).json?["status"] as? String == "paused")
            let kill = try sb.ocirunCommand(["kill", id, "KILL"])
            #expect(kill.status == 0, "\(kill)")
            #expect(try sb.waitForStatus(id, "stopped") == "stopped")
            #expect(try sb.ocirunCommand(["delete", id]).status == 0)
        }

        @Test("kill --all and a numeric signal reach the init")
        func killNumeric() throws {
            let sb = try Sandbox(args: ["/bin/probe", "trap=10", "wait=/tmp/signal"])
            let id = sb.newID()
            try #require(try sb.ocirunCommand(["run", "--detach", "--bundle", sb.bundle, id]).status == 0)
            #expect(try sb.ocirunCommand(["kill", id, "10"]).status == 0)
            #expect(try sb.waitForStatus(id, "stopped") == "stopped")
            #expect((try? String(contentsOfFile: sb.rootfs + "/tmp/signal", encoding: .utf8)) == "10\n")
        }

        @Test("global flags: --root=X and --root X, --log=L --log-format=json and the spaced forms")
        func globalFlags() throws {
            let sb = try Sandbox()
            let id = sb.newID()
            let altRoot = sb.dir + "/alt-root"
            let create = try sb.ocirunCommand(["create", "--bundle", sb.bundle, id], globals: ["--root=" + altRoot])
            try #require(create.status == 0, "\(create)")
            #expect(FileManager.default.fileExists(atPath: altRoot + "/" + id + "/state.json"))
            let spaced = try sb.ocirunCommand(["state", id], globals: ["--root", altRoot])
            #expect(spaced.status == 0 && spaced.stdout.contains("\"created\""), "\(spaced)")
            // The default root knows nothing of it.
            #expect(try sb.ocirunCommand(["state", id]).status == 1)

            for globals in [["--log=" + sb.dir + "/a.log", "--log-format=json", "--root=" + altRoot],
                            ["--log", sb.dir + "/b.log", "--log-format", "json", "--root", altRoot]] {
                let log = globals.contains("--log") ? sb.dir + "/b.log" : sb.dir + "/a.log"
                let out = try sb.ocirunCommand(["state", "no-such-id"], globals: globals)
                #expect(out.status == 1)
                let last = try #require(try lastJSONLine(log), "\(globals)")
                #expect(last["level"] as? String == "error")
                #expect((last["msg"] as? String)?.contains("no-such-id") == true)
                #expect(last["time"] is String)
            }
            let delete = try sb.ocirunCommand(["delete", "--force", id], globals: ["--root=" + altRoot])
            #expect(delete.status == 0)
            #expect(!FileManager.default.fileExists(atPath: altRoot + "/" + id))
        }

        @Test("a relative --root and --pid-file are resolved against the working directory")
        func relativePaths() throws {
            let sb = try Sandbox()
            let id = sb.newID()
            let old = FileManager.default.currentDirectoryPath
            // posix_spawn inherits the working directory; the suite is serialized.
            FileManager.default.changeCurrentDirectoryPath(sb.dir)
            defer { FileManager.default.changeCurrentDirectoryPath(old) }
            let out = try sb.ocirunCommand(["create", "--bundle", "bundle", "--pid-file", "rel.pid", id], globals: ["--root", "relroot"])
            #expect(out.status == 0, "\(out)")
            #expect(FileManager.default.fileExists(atPath: sb.dir + "/rel.pid"))
            #expect(FileManager.default.fileExists(atPath: sb.dir + "/relroot/" + id))
            #expect(try sb.ocirunCommand(["delete", "--force", id], globals: ["--root", sb.dir + "/relroot"]).status == 0)
        }
    }
}

/// The last line of a log file, parsed as a JSON object.
func lastJSONLine(_ path: String) throws -> [String: Any]? {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    guard let line = text.split(separator: "\n").last, let data = line.data(using: .utf8) else { return nil }
    return try JSONSerialization.jsonObject(with: data) as? [String: Any]
}
