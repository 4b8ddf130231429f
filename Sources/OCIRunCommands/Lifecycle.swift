#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import LinuxSystem
import OCIRuntime

/// The values of `create` and `run`'s flags, whichever parser read them.
struct CreateValues: Equatable {
    var bundle = "."
    var pidFile: String?
    var consoleSocket: String?
    var preserveFds = 0
    var noPivot = false
    var noNewKeyring = false

    func options() -> CreateOptions {
        registerSIFRootfsProvider()   // bundles naming a SIF image (org.ocirun.sif.image)
        var o = CreateOptions(bundle: bundle, logger: globalOptions.logger)
        o.pidFile = pidFile
        o.consoleSocket = consoleSocket
        o.preserveFds = max(0, preserveFds)
        o.noPivot = noPivot
        o.noNewKeyring = noNewKeyring
        o.systemdCgroup = globalOptions.systemdCgroup
        o.rootless = globalOptions.isRootless
        return o
    }
}

/// The bodies of the hot commands, shared by ArgumentParser's commands and FastPath.
enum Verbs {
    static func create(id: String, flags: CreateValues) -> Never {
        runReportingErrors {
            _ = try Container.create(id: id, options: flags.options(), store: try globalOptions.store())
            return 0
        }
    }

    static func run(id: String, flags: CreateValues, detach: Bool) -> Never {
        runReportingErrors {
            try Container.run(id: id, options: flags.options(), detach: detach, store: try globalOptions.store())
        }
    }

    static func start(id: String) -> Never {
        runReportingErrors {
            try Container.start(id: id, store: try globalOptions.store(), logger: globalOptions.logger)
            return 0
        }
    }

    static func state(id: String) -> Never {
        runReportingErrors {
            let c = try Container.load(id, store: try globalOptions.store())
            try FileDescriptor.write(1, c.stateDocument().serialized(pretty: true) + "\n")
            return 0
        }
    }

    static func kill(id: String, signal: String, all: Bool) -> Never {
        runReportingErrors {
            let sig = try Signals.parse(signal)
            try Container.kill(id: id, signal: sig, all: all, store: try globalOptions.store())
            return 0
        }
    }

    static func delete(id: String, force: Bool) -> Never {
        runReportingErrors {
            try Container.delete(id: id, force: force, store: try globalOptions.store(), logger: globalOptions.logger)
            return 0
        }
    }

    static func setPaused(id: String, paused: Bool) -> Never {
        runReportingErrors {
            try Container.setPaused(id: id, paused: paused, store: try globalOptions.store())
            return 0
        }
    }
}

/// Flags shared by `create` and `run`.
struct CreateFlags: ParsableArguments {
    @Option(name: [.customShort("b"), .long], help: "Path to the bundle (the directory holding config.json).")
    var bundle: String = "."
    @Option(name: .customLong("pid-file"), help: "File to write the container init's pid to.")
    var pidFile: String?
    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master (process.terminal).")
    var consoleSocket: String?
    @Option(name: .customLong("preserve-fds"), help: "Pass N extra descriptors (3 … 3+N-1) to the container.")
    var preserveFds: Int = 0
    @Flag(name: .customLong("no-pivot"), help: "Use MS_MOVE and chroot instead of pivot_root.")
    var noPivot = false
    @Flag(name: .customLong("no-new-keyring"), help: "Do not create a new session keyring.")
    var noNewKeyring = false

    var values: CreateValues {
        CreateValues(bundle: bundle, pidFile: pidFile, consoleSocket: consoleSocket, preserveFds: preserveFds,
                     noPivot: noPivot, noNewKeyring: noNewKeyring)
    }
}

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container: set it up and wait for start.")
    @Argument(help: "The container id.") var id: String
    @OptionGroup var flags: CreateFlags
    func run() throws { Verbs.create(id: id, flags: flags.values) }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Create and start a container; wait for it unless --detach.")
    @Argument(help: "The container id.") var id: String
    @OptionGroup var flags: CreateFlags
    @Flag(name: [.customShort("d"), .long], help: "Return after start instead of waiting for the container.")
    var detach = false
    @Flag(name: .long, help: "Keep the container's state after it exits (accepted for runc compatibility).")
    var keep = false
    func run() throws { Verbs.run(id: id, flags: flags.values, detach: detach) }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a created container: exec its process.")
    @Argument(help: "The container id.") var id: String
    func run() throws { Verbs.start(id: id) }
}

struct State: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Print the state of a container (OCI state JSON).")
    @Argument(help: "The container id.") var id: String
    func run() throws { Verbs.state(id: id) }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal (default SIGTERM) to a container's init.")
    @Argument(help: "The container id.") var id: String
    @Argument(help: "The signal, by number (15) or name (TERM, SIGKILL).") var signal: String = "SIGTERM"
    @Flag(name: [.customShort("a"), .long], help: "Send the signal to every process of the container.")
    var all = false
    func run() throws { Verbs.kill(id: id, signal: signal, all: all) }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a container and everything it holds.")
    @Argument(help: "The container id.") var id: String
    @Flag(name: [.customShort("f"), .long], help: "Kill a running container first; succeed if it does not exist.")
    var force = false
    func run() throws { Verbs.delete(id: id, force: force) }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Freeze every process of a container.")
    @Argument(help: "The container id.") var id: String
    func run() throws { Verbs.setPaused(id: id, paused: true) }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Thaw a paused container.")
    @Argument(help: "The container id.") var id: String
    func run() throws { Verbs.setPaused(id: id, paused: false) }
}
