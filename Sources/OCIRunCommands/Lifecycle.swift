#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import RuntimeVerbs
import LinuxSystem
import OCIRuntime

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
    @Flag(name: .long, help: "Do not delete the container when it exits: `delete` removes it later.")
    var keep = false
    func run() throws { Verbs.run(id: id, flags: flags.values, detach: detach, keep: keep) }
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
