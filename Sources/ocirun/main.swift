#if canImport(Glibc)
import Glibc
#endif
import OCIRunCommands

// One file: split off runc's global flags, run the hot commands through the fast path, and let
// the command line library do the rest (help, and every other command).
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let (globals, rest) = try GlobalOptions.parse(arguments)
    globalOptions = globals
    if let body = FastPath.command(rest) { body() }
    var command = try OCIRun.parseAsRoot(rest)
    try command.run()
} catch {
    // --help and --version exit 0 with their text; every other error exits 1 (runc's code,
    // not ArgumentParser's 64), and reaches the --log file like any other error.
    if OCIRun.exitCode(for: error).isSuccess { OCIRun.exit(withError: error) }
    reportUsageError(OCIRun.fullMessage(for: error))
}
