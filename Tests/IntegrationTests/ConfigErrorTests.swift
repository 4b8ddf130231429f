import Foundation
import Testing

extension Integration {
    /// A malformed config: `create` exits 1, the last line of `--log` (JSON) names the problem,
    /// and nothing is left behind: no state directory entry, no cgroup.
    @Suite("Malformed configs")
    struct ConfigErrors {
        struct Case: Sendable, CustomTestStringConvertible {
            var name: String
            /// A substring the error message must contain.
            var message: String
            var edit: @Sendable (Sandbox) throws -> Void
            var testDescription: String { name }
        }

        static let cases: [Case] = [
            Case(name: "truncated JSON", message: "load config.json") { sb in
                try sb.writeConfig()
                let text = try String(contentsOfFile: sb.bundle + "/config.json", encoding: .utf8)
                try sb.writeRawConfig(String(text.prefix(text.count / 2)))
            },
            Case(name: "process.args is a string", message: "process.args") { sb in
                sb.set(["process", "args"], "/bin/sh -c true")
                try sb.writeConfig()
            },
            Case(name: "empty process.args", message: "process.args must not be empty") { sb in
                sb.set(["process", "args"], [String]())
                try sb.writeConfig()
            },
            Case(name: "missing root", message: "root.path is required") { sb in
                sb.set(["root"], nil)
                try sb.writeConfig()
            },
            Case(name: "root path does not exist", message: "rootfs/nosuchrootfs: no such directory") { sb in
                sb.set(["root", "path"], "rootfs/nosuchrootfs")
                try sb.writeConfig()
            },
            Case(name: "unknown namespace type", message: "unknown namespace type \"bogusns\"") { sb in
                var ns = (sb.get(["linux", "namespaces"]) as? [[String: Any]]) ?? []
                ns.append(["type": "bogusns"])
                sb.set(["linux", "namespaces"], ns)
                try sb.writeConfig()
            },
            Case(name: "negative uid", message: "process.user.uid") { sb in
                sb.set(["process", "user", "uid"], -1)
                try sb.writeConfig()
            },
            Case(name: "unknown rlimit", message: "unknown rlimit type \"RLIMIT_BOGUS\"") { sb in
                sb.set(["process", "rlimits"], [["type": "RLIMIT_BOGUS", "soft": 1, "hard": 1]])
                try sb.writeConfig()
            },
            Case(name: "mount of type nosuchfs", message: "filesystem type \"nosuchfs\"") { sb in
                var mounts = (sb.get(["mounts"]) as? [[String: Any]]) ?? []
                mounts.append(["destination": "/data", "type": "nosuchfs", "source": "none"])
                sb.set(["mounts"], mounts)
                try sb.writeConfig()
            },
            Case(name: "soft rlimit above hard", message: "soft limit 2048 is greater than hard limit 1024") { sb in
                sb.set(["process", "rlimits"], [["type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024]])
                try sb.writeConfig()
            },
        ]

        @Test("create fails cleanly and the JSON log names the problem", arguments: cases)
        func malformed(c: Case) throws {
            let sb = try Sandbox(writeConfig: false)
            try c.edit(sb)
            let log = sb.dir + "/ocirun.log"
            let id = sb.newID()
            let out = try sb.ocirunCommand(["create", "--bundle", sb.bundle, id],
                                           globals: ["--root", sb.root, "--log", log, "--log-format", "json"])
            #expect(out.status == 1, "\(out)")
            let last = try #require(try lastJSONLine(log), "log: \(String(describing: try? String(contentsOfFile: log, encoding: .utf8)))")
            #expect(last["level"] as? String == "error")
            let msg = last["msg"] as? String ?? ""
            #expect(msg.contains(c.message), "msg: \(msg)")
            #expect(out.stderr.contains(c.message), "stderr: \(out.stderr)")
            #expect(sb.stateEntries.isEmpty, "state left: \(sb.stateEntries)")
            #expect(sb.leftoverCgroups.isEmpty, "cgroups left: \(sb.leftoverCgroups)")
            #expect(try sb.state(id).output.status == 1)
        }

        @Test("process.terminal without --console-socket is refused before anything is made")
        func terminalWithoutSocket() throws {
            let sb = try Sandbox(writeConfig: false)
            sb.set(["process", "terminal"], true)
            try sb.writeConfig()
            let out = try sb.ocirunCommand(["create", "--bundle", sb.bundle, sb.newID()])
            #expect(out.status == 1)
            #expect(out.stderr.contains("console-socket"), "\(out)")
            #expect(sb.stateEntries.isEmpty)
            #expect(sb.leftoverCgroups.isEmpty)
        }

        @Test("create of an existing id fails and leaves the first container alone")
        func duplicateID() throws {
            let sb = try Sandbox()
            let id = sb.newID()
            try #require(try sb.ocirunCommand(["create", "--bundle", sb.bundle, id]).status == 0)
            let again = try sb.ocirunCommand(["create", "--bundle", sb.bundle, id])
            #expect(again.status == 1)
            #expect(again.stderr.contains(id), "\(again)")
            #expect(try sb.state(id).json?["status"] as? String == "created")
        }

        @Test("an invalid id is refused", arguments: ["../escape", "a/b", ""])
        func invalidID(id: String) throws {
            let sb = try Sandbox()
            let out = try sb.ocirunCommand(["create", "--bundle", sb.bundle, id])
            #expect(out.status == 1, "\(out)")
            #expect(sb.stateEntries.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: sb.dir + "/escape"))
        }
    }
}
