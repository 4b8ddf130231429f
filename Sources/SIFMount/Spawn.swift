#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SIFFormat

/// Runs a helper program (squashfuse, fusermount, `ocirun-cli sif policy-check`) found on PATH or
/// by path, waits for it, and returns its exit status; stdout goes to /dev/null, stderr is
/// returned (its lines joined with "; ").
package func runHelper(_ args: [String]) throws -> (status: Int32, stderr: String) {
    var errPipe: [Int32] = [0, 0]
    guard pipe(&errPipe) == 0 else { throw SIFError(.io, "pipe: \(errnoText())") }
    _ = fcntl(errPipe[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(errPipe[1], F_SETFD, FD_CLOEXEC)
    var fa = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&fa)
    defer { posix_spawn_file_actions_destroy(&fa) }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_adddup2(&fa, errPipe[1], 2)
    var pid: pid_t = 0
    let cargs = args.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    let rc = posix_spawnp(&pid, args[0], &fa, nil, cargs, environ)
    close(errPipe[1])
    defer { close(errPipe[0]) }
    guard rc == 0 else { throw SIFError(.io, "run \(args[0]): \(String(cString: strerror(rc)))") }
    var text: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buf.withUnsafeMutableBytes { read(errPipe[0], $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        if text.count < 1 << 16 { text += buf[0..<n] }
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw SIFError(.io, "waitpid \(args[0]): \(errnoText())") }
    }
    let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let message = String(decoding: text, as: UTF8.self).split(separator: "\n").joined(separator: "; ")
    return (code, message)
}

/// Whether `path` is on PATH (or an executable path).
func findProgram(_ name: String) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
    for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
    return nil
}
