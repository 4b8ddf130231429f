#if canImport(Glibc)
import Glibc
#endif
import OCIRunCommands

// One file: split off runc's global flags, then let the command line library do the rest.
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let (globals, rest) = try GlobalOptions.parse(arguments)
    globalOptions = globals
    if let body = FastPath.command(rest) { body() }
    var command = try OCIRun.parseAsRoot(rest)
    try command.run()
} catch {
    OCIRun.exit(withError: error)
}
