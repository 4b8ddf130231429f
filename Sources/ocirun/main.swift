import CLinux
import RuntimeVerbs

// ocirun: the runtime binary engines call for every container. The hot commands (create, start,
// state, kill, delete, run, exec, pause, resume, list) run here, parsed by the fast path;
// everything else (help, usage errors, the other commands) is `ocirun-cli`, beside this file,
// exec'd with the same arguments. This binary links no command-line library and no cryptography:
// a smaller program faults in fewer pages on every start (docs/design.md, "Two executables").

// argv read directly: the stdlib's `CommandLine.arguments` builds the array through a generic
// `map`, whose metadata costs more than the rest of the parsing, and even `CommandLine.argc`
// maps a 64 KB window of the stdlib's code for its lazy initializer alone; glibc hands argv to
// CLinux's constructor (docs/performance.md, item 34).
var arguments: [String] = []
let argc = Int(ocirun_argc())
arguments.reserveCapacity(argc)
if let argv = ocirun_argv() {
    for i in 0..<argc {
        if let p = argv[i] { arguments.append(String(cString: p)) }
    }
}
var verb: String?
if let (globals, rest) = try? GlobalOptions.parse(Array(arguments.dropFirst())) {
    globalOptions = globals
    if let body = FastPath.command(rest) { body() }
    verb = rest.first
}
Companion.exec(arguments, verb: verb)
