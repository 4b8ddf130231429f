import Foundation
import Testing

extension Integration {
    /// What a user or an engine sees from the command line itself: usage errors exit 1 (runc's
    /// code) with the message on stderr and in --log; --help and --version exit 0; the fast path
    /// of the hot commands and ArgumentParser accept the same spellings.
    @Suite("Command line")
    struct CommandLine {
        @Test("an unknown flag or a missing id exits 1, naming it, also in the JSON log")
        func usageErrors() throws {
            let sb = try Sandbox(writeConfig: false)
            let log = sb.dir + "/log.json"
            for (args, words) in [(["update", "--bogus", "x"], "Unknown option '--bogus'"),
                                  (["kill"], "Missing expected argument '<id>'"),
                                  (["delete", "--forse", "x"], "Unknown option '--forse'")] {
                let out = try sb.ocirunCommand(args, globals: ["--log", log, "--log-format", "json"])
                #expect(out.status == 1, "\(args): \(out)")
                #expect(out.stderr.contains(words), "\(args): \(out)")
                let last = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
                let json = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
                #expect(json?["level"] as? String == "error")
                #expect((json?["msg"] as? String)?.contains(words) == true, "log: \(last)")
            }
        }

        /// `ocirun` runs the hot commands and hands the rest to `ocirun-cli` beside it.
        @Test("without ocirun-cli beside it, ocirun still runs containers and names what a command lacks")
        func withoutCompanion() throws {
            let sb = try Sandbox()
            let alone = sb.dir + "/alone"
            try FileManager.default.createDirectory(atPath: alone, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: sb.ocirun, toPath: alone + "/ocirun")
            let help = try Spawn.run([alone + "/ocirun", "--help"], scratch: sb.dir)
            #expect(help.status == 1, "\(help)")
            #expect(help.stderr.contains(alone + "/ocirun-cli") && help.stderr.contains("No such file"), "\(help)")
            let ps = try Spawn.run([alone + "/ocirun", "--root", sb.root, "ps", "c1"], scratch: sb.dir)
            #expect(ps.status == 1 && ps.stderr.contains("ocirun: ps: "), "\(ps)")
            let list = try Spawn.run([alone + "/ocirun", "--root", sb.root, "list", "-q"], scratch: sb.dir)
            #expect(list.status == 0, "list runs in ocirun itself: \(list)")
            let run = try Spawn.run([alone + "/ocirun", "--root", sb.root, "run", "--bundle", sb.bundle, sb.newID()], scratch: sb.dir)
            #expect(run.status == 0, "the hot commands need nothing else: \(run)")
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
        }

        @Test("--help and --version exit 0")
        func helpAndVersion() throws {
            let sb = try Sandbox(writeConfig: false)
            for args in [["--help"], ["--version"], ["create", "--help"], ["exec", "--help"], ["kill", "-h"]] {
                let out = try sb.ocirunCommand(args)
                #expect(out.status == 0, "\(args): \(out)")
                #expect(!out.stdout.isEmpty)
            }
        }

        @Test("flag spellings the fast path takes: --flag=value, -b, options after the id")
        func spellings() throws {
            let sb = try Sandbox()
            sb.set(["process", "args"], ["sh", "-c", "echo spelled"])
            try sb.writeConfig()
            let id = sb.newID()
            defer { _ = try? sb.ocirunCommand(["delete", "-f", id]) }
            let out = try sb.ocirunCommand(["run", id, "--bundle=" + sb.bundle, "--pid-file", sb.dir + "/pid"])
            #expect(out.status == 0, "\(out)")
            #expect(out.stdout == "spelled\n")
            #expect(FileManager.default.fileExists(atPath: sb.dir + "/pid"))
            let id2 = sb.newID()
            defer { _ = try? sb.ocirunCommand(["delete", "--force", id2]) }
            let out2 = try sb.ocirunCommand(["run", "-b", sb.bundle, id2])
            #expect(out2.stdout == "spelled\n", "\(out2)")
        }

        @Test("list: a table with each container's status in id order, ids alone, JSON; a damaged state named and left out")
        func list() throws {
            let sb = try Sandbox(args: ["sh", "-c", "sleep 60"])
            let running = sb.newID(), created = sb.newID(), paused = sb.newID(), stopped = sb.newID()
            defer { for id in [running, created, paused, stopped] { _ = try? sb.ocirunCommand(["delete", "-f", id]) } }
            #expect(try sb.ocirunCommand(["run", "-d", "--bundle", sb.bundle, running]).status == 0)
            sb.set(["linux", "cgroupsPath"], sb.cgroupsPath + "-2")   // a cgroup of its own
            try sb.writeConfig()
            #expect(try sb.ocirunCommand(["create", "--bundle", sb.bundle, created]).status == 0)
            sb.set(["linux", "cgroupsPath"], sb.cgroupsPath + "-3")
            try sb.writeConfig()
            #expect(try sb.ocirunCommand(["run", "-d", "--bundle", sb.bundle, paused]).status == 0)
            #expect(try sb.ocirunCommand(["pause", paused]).status == 0)
            sb.set(["linux", "cgroupsPath"], sb.cgroupsPath + "-4")
            sb.set(["process", "args"], ["/bin/probe", "exit=0"])
            try sb.writeConfig()
            #expect(try sb.ocirunCommand(["run", "--keep", "--bundle", sb.bundle, stopped]).status == 0)
            // A state directory whose state.json is cut short, and one still without a state.json.
            try FileManager.default.createDirectory(atPath: sb.root + "/damaged", withIntermediateDirectories: false)
            try #"{"id": "damaged", "pid": 1"#.write(toFile: sb.root + "/damaged/state.json", atomically: false, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: sb.root + "/new", withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(atPath: sb.root + "/damaged"); try? FileManager.default.removeItem(atPath: sb.root + "/new") }

            let table = try sb.ocirunCommand(["list"])
            #expect(table.status == 0, "\(table)")
            #expect(table.stderr.contains("container \"damaged\"") && table.stderr.contains("premature EOF"), "\(table)")
            #expect(!table.stderr.contains("\"new\""), "\(table)")
            let rows = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(rows.first == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], "\(table.stdout)")
            #expect(rows.dropFirst().map { $0[0] } == [running, created, paused, stopped].sorted(), "\(table.stdout)")
            let status = Dictionary(uniqueKeysWithValues: rows.dropFirst().map { ($0[0], $0[2]) })
            #expect(status == [running: "running", created: "created", paused: "paused", stopped: "stopped"], "\(table.stdout)")
            for row in rows.dropFirst() {
                #expect(row.count == 6 && row[3] == sb.bundle && row[5] == "root", "\(row)")
                #expect(row[0] == stopped ? row[1] == "0" : Int(row[1]) ?? 0 > 1, "\(row)")
            }
            // Columns line up: every row has its STATUS where the header has it.
            let lines = table.stdout.split(separator: "\n").map(String.init)
            let column = try #require(lines.first?.range(of: "STATUS")).lowerBound.utf16Offset(in: lines[0])
            for line in lines.dropFirst() {
                let word = line.dropFirst(column).prefix(while: { $0 != " " })
                #expect(["running", "created", "paused", "stopped"].contains(word), "\(line)")
            }
            #expect(try sb.ocirunCommand(["resume", paused]).status == 0)

            let quiet = try sb.ocirunCommand(["list", "-q"])
            #expect(quiet.stdout.split(separator: "\n").map(String.init) == [running, created, paused, stopped].sorted(), "\(quiet)")
            #expect(quiet.stderr.contains("container \"damaged\""), "\(quiet)")

            let json = try sb.ocirunCommand(["list", "--format", "json"])
            let items = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], "\(json)")
            #expect(items.compactMap { $0["id"] as? String } == [running, created, paused, stopped].sorted())
            #expect(items.allSatisfy { ($0["pid"] as? Int ?? 0) > 0 || $0["id"] as? String == stopped }, "\(json.stdout)")
            #expect(json.stderr.contains("container \"damaged\""), "\(json)")

            // A state root not made yet: an empty list, as runc prints, in each format.
            let none = sb.dir + "/no-root"
            let emptyTable = try sb.ocirunCommand(["list"], globals: ["--root", none])
            #expect(emptyTable.status == 0 && emptyTable.stdout.split(separator: " ", omittingEmptySubsequences: true)
                .map(String.init) == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER\n"], "\(emptyTable)")
            let emptyQuiet = try sb.ocirunCommand(["list", "-q"], globals: ["--root", none])
            #expect(emptyQuiet.status == 0 && emptyQuiet.stdout.isEmpty, "\(emptyQuiet)")
            let emptyJSON = try sb.ocirunCommand(["list", "--format", "json"], globals: ["--root", none])
            #expect(emptyJSON.status == 0 && emptyJSON.stdout == "[]\n", "\(emptyJSON)")
            #expect(!FileManager.default.fileExists(atPath: none))

            let bad = try sb.ocirunCommand(["list", "--format", "yaml"])
            #expect(bad.status != 0 && bad.stderr.contains("invalid --format \"yaml\""), "\(bad)")
        }
    }
}
