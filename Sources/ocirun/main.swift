import RuntimeVerbs

// ocirun: the runtime binary engines call for every container. The hot commands (create, start,
// state, kill, delete, run, exec, pause, resume, list) run here, parsed by the fast path;
// everything else (help, usage errors, the other commands) is `ocirun-cli`, beside this file,
// exec'd with the same arguments. This binary links no command-line library and no cryptography:
// a smaller program faults in fewer pages on every start (docs/design.md, "Two executables").

// argv read directly: the stdlib's `CommandLine.arguments` builds the array through a generic
// `map`, whose metadata costs more than the rest of the parsing.
var arguments: [String] = []
arguments.reserveCapacity(Int(CommandLine.argc))
for i in 0..<Int(CommandLine.argc) {
    if let p = CommandLine.unsafeArgv[i] { arguments.append(String(cString: p)) }
}
var verb: String?
if let (globals, rest) = try? GlobalOptions.parse(Array(arguments.dropFirst())) {
    globalOptions = globals
    if let body = FastPath.command(rest) { body() }
    verb = rest.first
}
Companion.exec(arguments, verb: verb)
