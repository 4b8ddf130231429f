import Foundation
import Testing

// Integration tests run the built `ocirun` binary as root against a busybox rootfs and the
// static probe of conformance/probe. Every test gets its own temp dir, --root state dir and
// cgroupsPath, and removes them all when it ends.

/// The gate of the integration suites: root, or CI (where a missing root must fail, not skip).
enum Gate {
    static let isRoot = geteuid() == 0
    static let inCI = Foundation.ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false
    static let enabled = isRoot || inCI
}

/// Where things are: the ocirun binary, the repository, runc.
enum Paths {
    /// The repository root (this file is Tests/IntegrationTests/Harness.swift).
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// `$OCIRUN_BINARY`, else `ocirun` beside the test bundle, else `.build/debug/ocirun` above
    /// the working directory or the repository.
    static let ocirun: String? = {
        let fm = FileManager.default
        if let env = Foundation.ProcessInfo.processInfo.environment["OCIRUN_BINARY"], !env.isEmpty { return env }
        var candidates: [String] = []
        // On Linux the test bundle is `.build/<config>/<package>PackageTests.xctest` (an executable).
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        while dir.path != "/" {
            if dir.pathExtension == "xctest" { candidates.append(dir.deletingLastPathComponent().appendingPathComponent("ocirun").path) }
            dir.deleteLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ocirun").path)
        for start in [fm.currentDirectoryPath, repo] {
            var d = URL(fileURLWithPath: start)
            while true {
                candidates.append(d.appendingPathComponent(".build/debug/ocirun").path)
                if d.path == "/" { break }
                d.deleteLastPathComponent()
            }
        }
        return candidates.first { fm.isExecutableFile(atPath: $0) }
    }()

    static let runc: String? = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// What one spawned command left behind.
struct Output: CustomStringConvertible {
    var status: Int32          // exit code, or 128+N when killed by signal N
    var stdout: String
    var stderr: String
    var timedOut = false
    var description: String { "status \(status)\(timedOut ? " (timed out)" : "")\nstdout: \(stdout)\nstderr: \(stderr)" }

    /// `key=value` lines of the probe.
    var probe: [String: String] {
        var out: [String: String] = [:]
        for line in stdout.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }
}

enum Spawn {
    /// Starts `args` with stdin, stdout and stderr on /dev/null and no other descriptor of the
    /// test process; the caller waits for it (waitpid).
    static func start(_ args: [String]) throws -> pid_t {
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        closeFrom(&fa, 3)
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &fa, nil, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO, userInfo: ["command": args.joined(separator: " ")]) }
        return pid
    }

    /// Runs `args` with stdin from /dev/null and stdout/stderr to files in `scratch` (never pipes:
    /// a container init started by `create` holds its stdio open long after ocirun exits).
    /// `fds` opens extra descriptors in the child (fd → path, not close-on-exec); every other
    /// descriptor of the test process is closed.
    static func run(_ args: [String], scratch: String, fds: [Int32: String] = [:], timeout: Double = 20) throws -> Output {
        let tag = UUID().uuidString
        let outPath = scratch + "/stdout." + tag, errPath = scratch + "/stderr." + tag
        defer { unlink(outPath); unlink(errPath) }
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&fa, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        for (fd, path) in fds.sorted(by: { $0.key < $1.key }) {
            posix_spawn_file_actions_addopen(&fa, fd, path, O_RDONLY, 0)
        }
        closeFrom(&fa, (fds.keys.max() ?? 2) + 1)
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &fa, nil, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO, userInfo: ["command": args.joined(separator: " ")]) }

        var status: Int32 = 0
        var timedOut = false
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw POSIXError(.ECHILD) }
            if Date() > deadline && !timedOut {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(2000)
        }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let read = { (p: String) in (try? String(contentsOfFile: p, encoding: .utf8)) ?? "" }
        return Output(status: code, stdout: read(outPath), stderr: read(errPath), timedOut: timedOut)
    }
}

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34), which Swift's Glibc module does not
/// export; without it, each descriptor open in the test process is closed one by one.
private func closeFrom(_ fa: inout posix_spawn_file_actions_t, _ low: Int32) {
    typealias Fn = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let sym = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
        _ = unsafeBitCast(sym, to: Fn.self)(&fa, low)
        return
    }
    let open = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    for fd in open where fd >= low { posix_spawn_file_actions_addclose(&fa, fd) }
}

/// The busybox binary, its applet list and the static probe, made once per test run.
struct Assets: Sendable {
    let dir: String
    let busybox: String
    let applets: [String]
    let probe: String

    static let shared: Result<Assets, AssetError> = Result { try Assets.make() }.mapError { AssetError(message: "\($0)") }

    struct AssetError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    static func make() throws -> Assets {
        let dir = try makeTempDir("ocirun-it-assets")
        assetsDir = strdup(dir)
        atexit { if let d = assetsDir { try? FileManager.default.removeItem(atPath: String(cString: d)) } }
        let busybox = "/bin/busybox"
        guard FileManager.default.isExecutableFile(atPath: busybox) else {
            throw AssetError(message: "\(busybox) is missing: install busybox-static")
        }
        let list = try Spawn.run([busybox, "--list"], scratch: dir)
        let applets = list.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty && $0 != "busybox" && !$0.contains("/") }
        guard list.status == 0, applets.contains("sh") else { throw AssetError(message: "busybox --list: \(list)") }
        let probe = dir + "/probe"
        let cc = try Spawn.run(["/usr/bin/cc", "-static", "-O2", "-o", probe, Paths.repo + "/conformance/probe/probe.c"],
                               scratch: dir, timeout: 120)
        guard cc.status == 0 else { throw AssetError(message: "cc -static conformance/probe/probe.c: \(cc)") }
        return Assets(dir: dir, busybox: busybox, applets: applets, probe: probe)
    }
}

nonisolated(unsafe) private var assetsDir: UnsafeMutablePointer<CChar>?

func makeTempDir(_ prefix: String) throws -> String {
    var bytes = Array((NSTemporaryDirectory() + "/\(prefix).XXXXXX").utf8CString)
    guard let p = bytes.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
    return URL(fileURLWithPath: String(cString: p)).resolvingSymlinksInPath().path
}

/// JSON edits by key path, on the `[String: Any]` JSONSerialization reads.
func setting(_ object: Any?, _ path: ArraySlice<String>, _ value: Any?) -> Any {
    var dict = object as? [String: Any] ?? [:]
    let key = path.first!
    dict[key] = path.count == 1 ? value : setting(dict[key], path.dropFirst(), value)
    return dict
}

func getting(_ object: Any?, _ path: [String]) -> Any? {
    var cur = object
    for k in path { cur = (cur as? [String: Any])?[k] }
    return cur
}

/// One test's world: a temp dir holding the bundle (busybox rootfs + probe, config from
/// `ocirun spec`), a --root state dir and a cgroupsPath of its own. `deinit` deletes the
/// containers it made, the temp dir and its cgroup directories.
final class Sandbox {
    let dir: String
    let bundle: String
    let rootfs: String
    let root: String
    let cgroupName: String
    var cgroupsPath: String { "/ocirun-test/" + cgroupName }
    var config: [String: Any] = [:]
    private(set) var ids: [String] = []
    let ocirun: String

    /// A sandbox whose config (written) runs `args`.
    convenience init(args: [String]) throws {
        try self.init(writeConfig: false)
        set(["process", "args"], args)
        try writeConfig()
    }

    init(writeConfig: Bool = true) throws {
        ocirun = try #require(Paths.ocirun, "the ocirun binary was not found: build it (swift build) or set OCIRUN_BINARY")
        try #require(Gate.isRoot, "the integration tests need root (CI is set, so they fail instead of skipping)")
        let assets = try Assets.shared.get()
        dir = try makeTempDir("ocirun-it")
        bundle = dir + "/bundle"
        rootfs = bundle + "/rootfs"
        root = dir + "/state"
        cgroupName = "t" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let fm = FileManager.default
        for d in ["bin", "etc", "home/user", "tmp"] {
            try fm.createDirectory(atPath: rootfs + "/" + d, withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: assets.busybox, toPath: rootfs + "/bin/busybox")
        try fm.copyItem(atPath: assets.probe, toPath: rootfs + "/bin/probe")
        for a in assets.applets { try? fm.createSymbolicLink(atPath: rootfs + "/bin/" + a, withDestinationPath: "busybox") }
        try "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
            .write(toFile: rootfs + "/etc/passwd", atomically: false, encoding: .utf8)
        try "root:x:0:\nuser:x:1000:\nextra:x:2000:\nmore:x:3000:\nnogroup:x:65534:\n"
            .write(toFile: rootfs + "/etc/group", atomically: false, encoding: .utf8)
        chmod(rootfs + "/tmp", 0o1777)

        let spec = try Spawn.run([ocirun, "spec", "--bundle", bundle], scratch: dir)
        try #require(spec.status == 0, "ocirun spec: \(spec)")
        let data = try Data(contentsOf: URL(fileURLWithPath: bundle + "/config.json"))
        config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        set(["process", "terminal"], false)
        // runc's spec makes the root read-only; tests that write into it (signal files) need it
        // writable, and the tests of a read-only root set it back.
        set(["root", "readonly"], false)
        set(["process", "args"], ["/bin/probe", "exit=0"])
        set(["linux", "cgroupsPath"], cgroupsPath)
        if writeConfig { try self.writeConfig() }
    }

    deinit {
        for id in ids { _ = try? ocirunCommand(["delete", "--force", id]) }
        try? FileManager.default.removeItem(atPath: dir)
        for base in cgroupRoots {
            rmdir(base + cgroupsPath)
            rmdir(base + "/ocirun-test")
        }
    }

    /// The cgroup hierarchies of this host (v1 mount points and the cgroup2 mount).
    var cgroupRoots: [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2, halves[1].hasPrefix("cgroup") else { return nil }
            let f = halves[0].split(separator: " ")
            return f.count > 4 ? String(f[4]) : nil
        }
    }

    /// The container's cgroup directories that exist now.
    var leftoverCgroups: [String] {
        cgroupRoots.map { $0 + cgroupsPath }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    func set(_ path: [String], _ value: Any?) {
        config = setting(config, path[...], value) as! [String: Any]
    }

    func get(_ path: [String]) -> Any? { getting(config, path) }

    func writeConfig() throws {
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: bundle + "/config.json"))
    }

    func writeRawConfig(_ text: String) throws {
        try text.write(toFile: bundle + "/config.json", atomically: false, encoding: .utf8)
    }

    /// A fresh container id, remembered for clean-up.
    func newID(_ prefix: String = "c") -> String {
        let id = prefix + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        ids.append(id)
        return id
    }

    /// `ocirun --root ROOT ARGS…` (or `ocirun GLOBALS… ARGS…` when `globals` is given).
    func ocirunCommand(_ args: [String], globals: [String]? = nil, fds: [Int32: String] = [:], timeout: Double = 20) throws -> Output {
        try Spawn.run([ocirun] + (globals ?? ["--root", root]) + args, scratch: dir, fds: fds, timeout: timeout)
    }

    /// `ocirun run --bundle B ID` in the foreground.
    func run(_ id: String? = nil, fds: [Int32: String] = [:], extra: [String] = []) throws -> Output {
        try ocirunCommand(["run", "--bundle", bundle] + extra + [id ?? newID()], fds: fds)
    }

    /// The parsed output of `ocirun state ID`, or nil with the output when it failed.
    func state(_ id: String) throws -> (json: [String: Any]?, output: Output) {
        let out = try ocirunCommand(["state", id])
        guard out.status == 0, let data = out.stdout.data(using: .utf8) else { return (nil, out) }
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any], out)
    }

    /// Polls `state` until the status is `want` (or `timeout` passes); returns the last status.
    func waitForStatus(_ id: String, _ want: String, timeout: Double = 5) throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var last: String?
        repeat {
            last = try state(id).json?["status"] as? String
            if last == want { return last }
            usleep(20_000)
        } while Date() < deadline
        return last
    }

    /// The entries of the --root state dir (none when it does not exist).
    var stateEntries: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
    }
}

/// The top of every integration suite: serialized, because the tests share the
/// `/ocirun-test` cgroup parent that each removes when it ends.
@Suite("Integration (ocirun binary, as root)", .serialized,
       .enabled(if: Gate.enabled, "needs root (set CI to make a missing root fail instead of skip)"))
struct Integration {}
