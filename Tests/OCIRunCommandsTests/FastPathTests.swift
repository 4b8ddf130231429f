import ArgumentParser
import Testing
@testable import OCIRunCommands
@testable import RuntimeVerbs

/// The fast path (FastPath.swift) must read every command line it accepts exactly as the
/// ArgumentParser definitions read it, and accept the command lines engines send.
@Suite struct FastPathTests {
    /// What ArgumentParser makes of `args`, in the fast path's terms.
    func argumentParser(_ args: [String]) throws -> FastPath.Command? {
        switch try OCIRun.parseAsRoot(args) {
        case let c as Create: return .create(id: c.id, c.flags.values)
        case let c as Run: return .run(id: c.id, c.flags.values, detach: c.detach, keep: c.keep)
        case let c as Start: return .start(id: c.id)
        case let c as State: return .state(id: c.id)
        case let c as Pause: return .pause(id: c.id)
        case let c as Resume: return .resume(id: c.id)
        case let c as Kill: return .kill(id: c.id, signal: c.signal, all: c.all)
        case let c as Delete: return .delete(id: c.id, force: c.force)
        case let c as Exec: return .exec(id: c.id, c.values)
        case let c as List: return .list(json: c.format == "json", quiet: c.quiet)
        default: return nil
        }
    }

    /// Command lines engines and users send (DESIGN.md §1, docs/engines.md): all on the fast path.
    static let accepted: [[String]] = [
        ["create", "--bundle", "/b", "--pid-file", "/p", "--console-socket", "/s", "c1"],
        ["create", "c1", "--bundle=/b", "--no-pivot", "--no-new-keyring", "--preserve-fds", "2"],
        ["create", "-b", "/b", "c1"],
        ["run", "-d", "--bundle", "/b", "c1"],
        ["run", "c1", "--detach", "--keep"],
        ["start", "c1"], ["state", "c1"], ["pause", "c1"], ["resume", "c1"],
        ["kill", "c1"], ["kill", "c1", "9"], ["kill", "c1", "SIGKILL"], ["kill", "--all", "c1", "TERM"], ["kill", "-a", "c1", "15"],
        ["delete", "c1"], ["delete", "--force", "c1"], ["delete", "c1", "-f"],
        ["exec", "--pid-file", "/p", "--process", "/proc.json", "--detach", "--tty", "--console-socket", "/s", "c1"],
        ["exec", "c1", "sh", "-c", "echo hi"],
        ["exec", "-t", "--cwd", "/tmp", "-e", "A=1", "--env", "B=2", "-u", "1000:1000", "c1", "id", "-u"],
        ["exec", "--cap", "CAP_SYS_ADMIN", "-c", "CAP_NET_ADMIN", "--no-new-privs", "-g", "10", "-g", "20", "c1", "true"],
        ["exec", "c1", "--", "ls", "-l"],
        ["exec", "c1", "--tty", "sh"],   // after the id everything is the command, as in runc
        ["exec", "--preserve-fds=3", "c1", "cat"],
        ["list"], ["list", "-q"], ["list", "--format", "json"], ["list", "-f", "table", "--quiet"], ["list", "--format=json"],
    ]

    @Test(arguments: accepted)
    func sameAsArgumentParser(args: [String]) throws {
        let fast = try #require(FastPath.parse(args), "the fast path refused \(args)")
        let ap = try argumentParser(args)
        #expect(fast == ap, "\(args): fast \(fast) vs ArgumentParser \(String(describing: ap))")
    }

    /// Anything else goes to ArgumentParser (help, errors, bundled short flags).
    static let refused: [[String]] = [
        ["create"], ["create", "--help"], ["kill", "-h"], ["delete", "-fa", "c1"], ["delete", "c1", "c2"],
        ["create", "--bogus", "c1"], ["create", "--preserve-fds", "x", "c1"],
        ["run", "--detach=true", "c1"], ["kill", "c1", "9", "extra"],
        ["list", "--format", "yaml"], ["list", "c1"], ["ps", "c1"],
    ]

    @Test(arguments: refused)
    func refusedGoToArgumentParser(args: [String]) {
        #expect(FastPath.parse(args) == nil, "\(args)")
    }

    @Test func execWithoutCommandAgreesToo() throws {
        // Both read an empty command; `exec` itself then reports that no command was given.
        let fast = try #require(FastPath.parse(["exec", "c1"]))
        #expect(fast == (try argumentParser(["exec", "c1"])))
    }
}
