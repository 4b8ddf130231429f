#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import RuntimeVerbs
import JSON
import LinuxSystem
import OCIRuntime
import OCISpec

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a process in a running container.")
    @Argument(help: "The container id.") var id: String
    @Option(name: [.customShort("p"), .long], help: "A JSON file with an OCI process.") var process: String?
    @Flag(name: [.customShort("d"), .long], help: "Do not wait for the process.") var detach = false
    @Option(name: .customLong("pid-file"), help: "File to write the process's pid to.") var pidFile: String?
    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.") var consoleSocket: String?
    @Flag(name: [.customShort("t"), .long], help: "Allocate a pseudo-terminal.") var tty = false
    @Option(name: .long, help: "Working directory in the container.") var cwd: String?
    @Option(name: [.customShort("e"), .long], help: "Set an environment variable (KEY=value).") var env: [String] = []
    @Option(name: [.customShort("u"), .long], help: "uid[:gid] or name[:group].") var user: String?
    @Option(name: [.customShort("c"), .long], help: "Add a capability.") var cap: [String] = []
    @Flag(name: .customLong("no-new-privs"), help: "Set no_new_privs.") var noNewPrivs = false
    @Option(name: .customLong("preserve-fds"), help: "Pass N extra descriptors.") var preserveFds: Int = 0
    @Option(name: [.customShort("g"), .customLong("additional-gids")], help: "Additional gids.") var additionalGids: [UInt32] = []
    @Option(name: .customLong("process-label"), help: "SELinux label (refused: SELinux is not enabled here).") var processLabel: String?
    @Option(name: .customLong("apparmor"), help: "AppArmor profile (ignored where AppArmor is off, as runc does).") var apparmor: String?
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    var values: ExecValues {
        ExecValues(
            process: process, detach: detach, pidFile: pidFile, consoleSocket: consoleSocket, tty: tty, cwd: cwd,
            env: env, user: user, cap: cap, noNewPrivs: noNewPrivs, preserveFds: preserveFds,
            additionalGids: additionalGids, processLabel: processLabel, apparmor: apparmor, command: command)
    }

    func run() throws { Verbs.exec(id: id, values: values) }
}
