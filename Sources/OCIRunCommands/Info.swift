#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import RuntimeVerbs
import JSON
import LinuxSystem
import OCIRuntime
import OCISpec

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the containers in the state root.")
    @Option(name: [.customShort("f"), .long], help: "table or json") var format: String = "table"
    @Flag(name: [.customShort("q"), .long], help: "Print only the ids.") var quiet = false

    func run() throws {
        guard format == "table" || format == "json" else {
            runReportingErrors { throw RuntimeError(.invalidArgument, "invalid --format \"\(format)\": use table or json") }
        }
        Verbs.list(json: format == "json", quiet: quiet)
    }
}

func printTable(_ rows: [[String]]) {
    print(Verbs.table(rows), terminator: "")
}

struct PS: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List the processes of a container (host pids).")
    @Argument(help: "The container id.") var id: String
    @Option(name: [.customShort("f"), .long], help: "table or json") var format: String = "table"
    @Argument(parsing: .captureForPassthrough, help: "Ignored ps(1) options, accepted for runc compatibility.") var psArgs: [String] = []

    func run() throws {
        runReportingErrors {
            guard format == "table" || format == "json" else {
                throw RuntimeError(.invalidArgument, "invalid --format \"\(format)\": use table or json")
            }
            let pids = try Container.processes(id: id, store: try globalOptions.store())
            if format == "json" {
                print("[" + pids.map(String.init).joined(separator: ",") + "]")
                return 0
            }
            var rows = [["PID", "CMD"]]
            for p in pids {
                let raw = (try? Files.read("/proc/\(p)/cmdline")) ?? []
                let cmd = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
                rows.append(["\(p)", cmd])
            }
            printTable(rows)
            return 0
        }
    }
}

struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spec", abstract: "Write a default config.json into the bundle.")
    @Flag(name: .long, help: "A config for a rootless container (user namespace, no cgroup limits).") var rootless = false
    @Option(name: [.customShort("b"), .long], help: "The bundle directory (default: the current directory).") var bundle: String = "."

    func run() throws {
        runReportingErrors {
            let dir = Files.absolute(bundle)
            let path = dir + "/config.json"
            if Files.exists(path) {
                throw RuntimeError(.exists, "\(path) exists: remove it first")
            }
            var spec = Spec.defaultConfig(rootless: rootless)
            if rootless {
                // Map the caller's own ids to root in the container.
                spec.linux?.uidMappings = [LinuxIDMapping(containerID: 0, hostID: geteuid(), size: 1)]
                spec.linux?.gidMappings = [LinuxIDMapping(containerID: 0, hostID: getegid(), size: 1)]
            }
            let text = try JSONEncoding.encode(spec, pretty: true)
            try Files.writeAtomically(path, Array((text + "\n").utf8), mode: 0o644)
            return 0
        }
    }
}

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "features", abstract: "Print the features of this runtime (OCI features JSON).")
    func run() throws {
        runReportingErrors {
            print(try JSONEncoding.encode(RuntimeFeatures.document(), pretty: true))
            return 0
        }
    }
}

struct Checkpoint: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Checkpoint a running container (not supported: needs CRIU).")
    @Argument(help: "The container id.") var id: String
    @Option(name: .customLong("image-path"), help: "Where to write the checkpoint images.") var imagePath: String?
    @Option(name: .customLong("work-path"), help: "Where to write logs and work files.") var workPath: String?
    @Flag(name: .customLong("leave-running"), help: "Leave the container running after the checkpoint.") var leaveRunning = false
    func run() throws {
        runReportingErrors { throw RuntimeError(.unsupported, "checkpoint of container \"\(id)\": checkpoint/restore is not supported by ocirun") }
    }
}

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Restore a container from a checkpoint (not supported: needs CRIU).")
    @Argument(help: "The container id.") var id: String
    @Option(name: .customLong("image-path"), help: "Where the checkpoint images are.") var imagePath: String?
    @Option(name: .customLong("work-path"), help: "Where to write logs and work files.") var workPath: String?
    @Option(name: [.customShort("b"), .long], help: "The bundle.") var bundle: String = "."
    func run() throws {
        runReportingErrors { throw RuntimeError(.unsupported, "restore of container \"\(id)\": checkpoint/restore is not supported by ocirun") }
    }
}
