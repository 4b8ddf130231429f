import Foundation
import Testing

// `update` with runc's flags and `events` (stats in runc's JSON shape, OOM notices) against a
// running container, checked in the container's cgroup files.

extension Integration {
    @Suite("update and events")
    struct UpdateEvents {
        /// A detached `sleep` container; returns its id.
        func started(_ sb: Sandbox, resources: [String: Any] = [:]) throws -> String {
            sb.set(["process", "args"], ["/bin/sleep", "120"])
            for (k, v) in resources { sb.set(["linux", "resources", k], v) }
            try sb.writeConfig()
            let id = sb.newID()
            let run = try sb.ocirunCommand(["run", "--detach", "--bundle", sb.bundle, id])
            try #require(run.status == 0, "\(run)")
            return id
        }

        /// A file of the container's cgroup in the v1 hierarchy holding `controller`.
        func v1(_ sb: Sandbox, _ controller: String, _ file: String) -> String? {
            guard let root = sb.cgroupRoots.first(where: { $0.hasSuffix("/" + controller) }) else { return nil }
            return (try? String(contentsOfFile: root + sb.cgroupsPath + "/" + file, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        var hostHasV1Memory: Bool { FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.limit_in_bytes") }

        @Test("runc's single-value flags change the live cgroup (v1)")
        func flags() throws {
            let sb = try Sandbox(writeConfig: false)
            try #require(hostHasV1Memory || !Gate.inCI, "this test needs v1 memory/cpu/pids hierarchies (this project's CI host has them)")
            guard hostHasV1Memory else { return }
            let id = try started(sb)
            let upd = try sb.ocirunCommand(["update", "--memory", "64m", "--memory-swap", "128m", "--memory-reservation", "32m",
                                            "--kernel-memory-tcp", "16m", "--pids-limit", "20", "--cpu-share", "256",
                                            "--cpu-period", "100000", "--cpu-quota", "50000", "--cpu-rt-period", "1000000",
                                            "--cpu-rt-runtime", "0", "--cpuset-cpus", "0", "--cpuset-mems", "0", id])
            #expect(upd.status == 0, "\(upd)")
            #expect(v1(sb, "memory", "memory.limit_in_bytes") == "67108864")
            #expect(v1(sb, "memory", "memory.memsw.limit_in_bytes") == "134217728")
            #expect(v1(sb, "memory", "memory.soft_limit_in_bytes") == "33554432")
            #expect(v1(sb, "memory", "memory.kmem.tcp.limit_in_bytes") == "16777216")
            #expect(v1(sb, "pids", "pids.max") == "20")
            #expect(v1(sb, "cpu", "cpu.shares") == "256")
            #expect(v1(sb, "cpu", "cpu.cfs_quota_us") == "50000")
            #expect(v1(sb, "cpu", "cpu.cfs_period_us") == "100000")
            #expect(v1(sb, "cpuset", "cpuset.cpus") == "0")

            // -1 is unlimited (the value after the flag is not taken for a flag); swap follows.
            let unlimited = try sb.ocirunCommand(["update", "--memory", "-1", "--pids-limit", "-1", id])
            #expect(unlimited.status == 0, "\(unlimited)")
            #expect(Int64(v1(sb, "memory", "memory.limit_in_bytes") ?? "0") ?? 0 > 1 << 60)
            #expect(Int64(v1(sb, "memory", "memory.memsw.limit_in_bytes") ?? "0") ?? 0 > 1 << 60)
            #expect(v1(sb, "pids", "pids.max") == "max")

            // --resources - reads linux.resources JSON from stdin; a flag overrides the file.
            let json = sb.dir + "/resources.json"
            try #"{"pids":{"limit":33},"memory":{"limit":100663296}}"#.write(toFile: json, atomically: false, encoding: .utf8)
            let stdin = try sb.ocirunCommand(["update", "--resources", "-", "--pids-limit", "44", id], fds: [0: json])
            #expect(stdin.status == 0, "\(stdin)")
            #expect(v1(sb, "pids", "pids.max") == "44")
            #expect(v1(sb, "memory", "memory.limit_in_bytes") == "100663296")

            // blkio weight: written where the kernel offers it, a clear error where it does not.
            let blkio = try sb.ocirunCommand(["update", "--blkio-weight", "500", id])
            if blkio.status == 0 {
                #expect(v1(sb, "blkio", "blkio.weight") == "500" || v1(sb, "blkio", "blkio.bfq.weight") == "500")
            } else {
                #expect(blkio.status == 1 && blkio.stderr.contains("blkio.weight"), "\(blkio)")
            }
        }

        @Test("update errors: bad sizes, Intel RDT without resctrl, a missing or stopped container")
        func errors() throws {
            let sb = try Sandbox(writeConfig: false)
            let id = try started(sb)
            let bad = try sb.ocirunCommand(["update", "--memory", "12x", id])
            #expect(bad.status == 1 && bad.stderr.contains("--memory") && bad.stderr.contains("12x"), "\(bad)")
            let rdt = try sb.ocirunCommand(["update", "--l3-cache-schema", "L3:0=f", id])
            #expect(rdt.status == 1 && rdt.stderr.contains("Intel RDT"), "\(rdt)")
            let mbw = try sb.ocirunCommand(["update", "--mem-bw-schema", "MB:0=70", id])
            #expect(mbw.status == 1 && mbw.stderr.contains("Intel RDT"), "\(mbw)")
            let missing = try sb.ocirunCommand(["update", "--pids-limit", "5", "no-such-container"])
            #expect(missing.status == 1 && missing.stderr.contains("does not exist"), "\(missing)")
            let badJSON = sb.dir + "/bad.json"
            try "{\"pids\": 5}".write(toFile: badJSON, atomically: false, encoding: .utf8)
            let parse = try sb.ocirunCommand(["update", "-r", badJSON, id])
            #expect(parse.status == 1 && parse.stderr.contains("parse resources"), "\(parse)")
            #expect(try sb.ocirunCommand(["kill", id, "KILL"]).status == 0)
            _ = try sb.waitForStatus(id, "stopped")
            let stopped = try sb.ocirunCommand(["update", "--pids-limit", "5", id])
            #expect(stopped.status == 1 && stopped.stderr.contains("stopped"), "\(stopped)")
        }

        @Test("events --stats prints one stats event in runc's shape")
        func stats() throws {
            let sb = try Sandbox(writeConfig: false)
            let id = try started(sb, resources: ["memory": ["limit": 67_108_864], "pids": ["limit": 50]])
            let out = try sb.ocirunCommand(["events", "--stats", id])
            #expect(out.status == 0, "\(out)")
            let lines = out.stdout.split(separator: "\n")
            #expect(lines.count == 1, "\(out)")
            let ev = try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any], "\(out)")
            #expect(ev["type"] as? String == "stats")
            #expect(ev["id"] as? String == id)
            let data = try #require(ev["data"] as? [String: Any])
            for key in ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"] {
                #expect(data.keys.contains(key), "data lacks \(key): \(data.keys.sorted())")
            }
            let memory = data["memory"] as? [String: Any]
            let usage = memory?["usage"] as? [String: Any]
            #expect((usage?["limit"] as? NSNumber)?.int64Value == 67_108_864, "\(String(describing: usage))")
            #expect(((usage?["usage"] as? NSNumber)?.int64Value ?? 0) > 0, "\(String(describing: usage))")
            let pids = data["pids"] as? [String: Any]
            #expect((pids?["current"] as? NSNumber)?.intValue == 1, "\(String(describing: pids))")
            #expect((pids?["limit"] as? NSNumber)?.intValue == 50, "\(String(describing: pids))")
            let cpu = (data["cpu"] as? [String: Any])?["usage"] as? [String: Any]
            #expect(((cpu?["total"] as? NSNumber)?.int64Value ?? 0) > 0, "\(String(describing: cpu))")
        }

        @Test("events reports an OOM kill in the container, then ends when it stops")
        func oom() throws {
            let sb = try Sandbox(writeConfig: false)
            let id = try started(sb, resources: ["memory": ["limit": 33_554_432, "swap": 33_554_432]])
            let log = sb.dir + "/events.out"
            FileManager.default.createFile(atPath: log, contents: nil)
            let events = Foundation.Process()
            events.executableURL = URL(fileURLWithPath: sb.ocirun)
            events.arguments = ["--root", sb.root, "events", "--interval", "1s", id]
            events.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            events.standardError = FileHandle.nullDevice
            try events.run()
            defer { if events.isRunning { events.terminate() }; events.waitUntilExit() }
            usleep(300_000)
            let alloc = try sb.ocirunCommand(["exec", id, "/bin/probe", "alloc=64"], timeout: 30)
            #expect(alloc.status != 0, "allocating 64 MiB under a 32 MiB limit: \(alloc)")
            var text = ""
            for _ in 0..<100 {
                text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                if text.contains("\"type\":\"oom\"") && text.contains("\"type\":\"stats\"") { break }
                usleep(100_000)
            }
            #expect(text.contains("{\"type\":\"oom\",\"id\":\"\(id)\"}"), "events output: \(text)")
            #expect(text.contains("\"type\":\"stats\""), "a stats event every interval: \(text)")
            #expect(try sb.ocirunCommand(["kill", id, "KILL"]).status == 0)
            for _ in 0..<50 where events.isRunning { usleep(100_000) }
            #expect(!events.isRunning, "events ends when the container stops")
            #expect(events.isRunning || events.terminationStatus == 0)
        }
    }
}
