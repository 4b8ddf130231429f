import Foundation
import Testing

extension Integration {
    @Suite("Cgroups")
    struct Cgroups {
        @Test("linux.resources are written to the container's cgroup before start")
        func resources() throws {
            let sb = try Sandbox(writeConfig: false)
            sb.set(["linux", "resources", "pids"], ["limit": 17])
            sb.set(["linux", "resources", "memory"], ["limit": 67_108_864])
            sb.set(["linux", "resources", "cpu"], ["shares": 512])
            try sb.writeConfig()
            let id = sb.newID()
            let create = try sb.ocirunCommand(["create", "--bundle", sb.bundle, id])
            try #require(create.status == 0, "\(create)")
            let pid = try #require(try sb.state(id).json?["pid"] as? Int)
            func read(_ controller: String, _ file: String) -> String? {
                let dir = sb.cgroupRoots.first { $0.hasSuffix("/" + controller) || $0.hasSuffix("," + controller) || $0.contains("/" + controller + ",") }
                return dir.flatMap { try? String(contentsOfFile: $0 + sb.cgroupsPath + "/" + file, encoding: .utf8) }?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if sb.cgroupRoots.contains(where: { $0.hasSuffix("/pids") }) {
                #expect(read("pids", "pids.max") == "17")
                #expect(read("pids", "cgroup.procs")?.split(separator: "\n").contains(Substring(String(pid))) == true)
            }
            if sb.cgroupRoots.contains(where: { $0.hasSuffix("/memory") }) {
                #expect(read("memory", "memory.limit_in_bytes") == "67108864")
            }
            if sb.cgroupRoots.contains(where: { $0.hasSuffix("/cpu") }) {
                #expect(read("cpu", "cpu.shares") == "512")
            }
            #expect(try sb.ocirunCommand(["delete", "--force", id]).status == 0)
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
        }

        /// Two containers given one cgroup (the same id in two state roots, or one cgroupsPath):
        /// the second's `kill --all` and `delete` would reach the first's processes.
        @Test("create refuses a cgroup that already holds another container's processes")
        func nonEmptyCgroup() throws {
            let sb = try Sandbox(args: ["/bin/sleep", "100"])
            let first = sb.newID(), second = sb.newID()
            try #require(try sb.ocirunCommand(["run", "-d", "--bundle", sb.bundle, first]).status == 0)
            let out = try sb.ocirunCommand(["create", "--bundle", sb.bundle, second])
            #expect(out.status == 1, "\(out)")
            #expect(out.stderr.contains("create container \"\(second)\"") && out.stderr.contains(sb.cgroupsPath + " is not empty"), "\(out)")
            #expect(try sb.state(first).json?["status"] as? String == "running")
            #expect(!FileManager.default.fileExists(atPath: sb.root + "/" + second), "the refused container left state")
            #expect(try sb.ocirunCommand(["delete", "--force", first]).status == 0)
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
        }

        /// The init and exec'd processes join the cgroup by themselves (v1 `tasks` files, clone3
        /// into the cgroup2 group), not by pid: each must end up in the container's group of
        /// every hierarchy, the cgroup2 one included.
        @Test("the init and an exec'd process are in the container's group of every hierarchy")
        func membership() throws {
            let sb = try Sandbox(args: ["/bin/sleep", "100"])
            let id = sb.newID()
            try #require(try sb.ocirunCommand(["run", "-d", "--bundle", sb.bundle, id]).status == 0)
            for who in ["init", "exec"] {
                let out = who == "init"
                    ? try sb.ocirunCommand(["exec", id, "/bin/cat", "/proc/1/cgroup"])
                    : try sb.ocirunCommand(["exec", id, "/bin/cat", "/proc/self/cgroup"])
                #expect(out.status == 0, "\(who): \(out)")
                let lines = out.stdout.split(separator: "\n").filter { !$0.isEmpty }
                #expect(!lines.isEmpty, "\(who): \(out.stdout)")
                #expect(lines.allSatisfy { $0.hasSuffix(":" + sb.cgroupsPath) }, "\(who): \(out.stdout)")
            }
            #expect(try sb.ocirunCommand(["delete", "--force", id]).status == 0)
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
        }

        /// podman --cgroupns=private: conmon calls `create` from its own cgroup. The namespace must
        /// be made after the init joined the container's cgroup, so that it is the root ("/") of
        /// every hierarchy, as under runc; made at clone time it was the caller's cgroup.
        @Test("a new cgroup namespace is rooted at the container's cgroup")
        func cgroupNamespaceRoot() throws {
            let sb = try Sandbox(writeConfig: false)
            var namespaces = (sb.get(["linux", "namespaces"]) as? [[String: Any]]) ?? []
            namespaces.removeAll { ($0["type"] as? String) == "cgroup" }
            namespaces.append(["type": "cgroup"])
            sb.set(["linux", "namespaces"], namespaces)
            sb.set(["process", "args"], ["/bin/cat", "/proc/self/cgroup"])
            try sb.writeConfig()
            let out = try sb.run()
            #expect(out.status == 0, "\(out)")
            let lines = out.stdout.split(separator: "\n")
            #expect(!lines.isEmpty && lines.allSatisfy { $0.hasSuffix(":/") }, "\(out.stdout)")
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
        }

        /// runc cleans cgroupsPath as a rooted path before joining it to each mount point, so
        /// `..` stays inside /sys/fs/cgroup. Here the joined path is cleaned afterwards: the
        /// runtime mkdirs on the host and, when set-up fails, rmdirs the (host) directory again.
        @Test("`..` in cgroupsPath never makes or removes host directories")
        func dotDotCgroupsPath() throws {
            let sb = try Sandbox(writeConfig: false)
            let victim = sb.dir + "/victim"
            try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
            let escape = "/" + String(repeating: "../", count: 10) + String(victim.dropFirst())
            sb.set(["linux", "cgroupsPath"], escape)
            sb.set(["process", "args"], ["/bin/probe", "exit=0"])
            try sb.writeConfig()
            let out = try sb.run()
            defer {
                // Where runc would have put it: inside each hierarchy.
                for base in sb.cgroupRoots {
                    var p = base + victim
                    while p.count > base.count { rmdir(p); p = (p as NSString).deletingLastPathComponent }
                }
            }
            #expect(FileManager.default.fileExists(atPath: victim), "a host directory was removed: \(out)")
            #expect(out.status == 0, "\(out)")
            
        }
    }
}
