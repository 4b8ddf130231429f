import RuntimeVerbs

// ocirun: the runtime binary engines call for every container. The hot commands (create, start,
// state, kill, delete, run, exec, pause, resume) run here, parsed by the fast path; everything
// else (help, usage errors, the other commands) is `ocirun-cli`, beside this file, exec'd with
// the same arguments. This binary links no command-line library and no cryptography: a smaller
// program faults in fewer pages on every start (docs/design.md, "Two executables").
var verb: String?
if let (globals, rest) = try? GlobalOptions.parse(Array(CommandLine.arguments.dropFirst())) {
    globalOptions = globals
    if let body = FastPath.command(rest) { body() }
    verb = rest.first
}
Companion.exec(CommandLine.arguments, verb: verb)
