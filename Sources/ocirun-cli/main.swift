#if canImport(Glibc)
import Glibc
#endif
import OCIRunCommands
import RuntimeVerbs

// ocirun-cli: the whole command line (help, list, ps, update, events, spec, features, sif …),
// beside the runtime binary `ocirun`, which execs it for anything but the hot commands
// (docs/design.md, "Two executables"). It runs the hot commands too, through the same fast path.
let arguments = Array(CommandLine.arguments.dropFirst())
useInProcessSIFVerifier()
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
