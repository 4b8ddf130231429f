// ocirun-hooks: OCI hooks that give a container the host's GPUs, InfiniBand and MPI, and write
// CDI specs of the same (docs/hooks.md).
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CDI
import Hooks
import JSON
import LinuxSystem

/// Options every injecting hook takes.
struct HookOptions: ParsableArguments {
    @Option(name: .customLong("host-root"), help: "Root of the host tree all discovery reads (default /).")
    var hostRoot: String = "/"

    @Option(help: "The hooks configuration file (default /etc/ocirun/hooks.json; built-in defaults when absent).")
    var config: String?
}

extension HookOptions {
    /// Runs one injector on the state read from stdin, with this host root and configuration.
    func inject(_ what: String, _ injector: ([UInt8], String, HooksConfig) throws -> Void) throws {
        try reporting(what) { try injector(try HookActions.readStdin(), hostRoot, try HooksConfig.load(config)) }
    }
}

/// Runs `body`, turning an error into `ocirun-hooks <what>: <message>` on stderr and exit 1.
func reporting(_ what: String, _ body: () throws -> Void) throws {
    do { try body() } catch {
        try? FileDescriptor.write(2, "ocirun-hooks \(what): \(error)\n")
        throw ExitCode(1)
    }
}

struct GPU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpu",
        abstract: "OCI hook: inject the NVIDIA driver, tools and selected GPUs (NVIDIA_VISIBLE_DEVICES or annotation org.ocirun.hooks.gpu).")
    @OptionGroup var options: HookOptions
    func run() throws { try options.inject("gpu", HookActions.gpu) }
}

struct ROCm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rocm",
        abstract: "OCI hook: inject AMD ROCm libraries, tools, /dev/kfd and /dev/dri (annotation org.ocirun.hooks.rocm=true).")
    @OptionGroup var options: HookOptions
    func run() throws { try options.inject("rocm", HookActions.rocm) }
}

struct IB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ib",
        abstract: "OCI hook: inject InfiniBand/RDMA devices, verbs libraries and providers.")
    @OptionGroup var options: HookOptions
    func run() throws { try options.inject("ib", HookActions.ib) }
}

struct MPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi",
        abstract: "OCI hook: replace the container's MPI libraries with the host's ABI-compatible ones.")
    @OptionGroup var options: HookOptions
    func run() throws { try options.inject("mpi", HookActions.mpi) }
}

struct LdCacheHook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ldcache",
        abstract: "OCI createContainer hook: add directories to the container's ld cache (used by generated CDI specs).")
    @Option(name: .customLong("link"), help: "A soname link to make first, PATH=TARGET (PATH under /.ocirun).")
    var links: [String] = []
    @Argument(help: "Directories in the container.") var directories: [String]
    func run() throws {
        try reporting("ldcache") {
            try HookActions.ldcache(stateBytes: try HookActions.readStdin(), dirs: directories, links: links)
        }
    }
}

struct CDIGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a CDI 1.1.0 spec (JSON) for the host's GPUs or InfiniBand devices.")
    @Argument(help: "gpu or ib.") var kind: String
    @OptionGroup var options: HookOptions
    @Option(name: [.short, .long], help: "Write the spec to this file instead of stdout.") var output: String?
    @Option(name: .customLong("hook-path"), help: "The ocirun-hooks path the spec's ld cache hook runs (default: this executable).")
    var hookPath: String?

    func run() throws {
        try reporting("cdi generate") {
            var exe = [CChar](repeating: 0, count: 4097)
            let n = readlink("/proc/self/exe", &exe, 4096)
            let selfPath = n > 0 ? String(decoding: exe[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/usr/bin/ocirun-hooks"
            let spec = try HookActions.cdiSpec(kind: kind, hostRoot: options.hostRoot,
                                               config: try HooksConfig.load(options.config), hookPath: hookPath ?? selfPath)
            let text = try JSONEncoding.encode(spec, pretty: true) + "\n"
            if let output {
                let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw HookError("open \(output): \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                var t = text
                let ok = t.withUTF8 { b in write(fd, b.baseAddress, b.count) == b.count }
                guard ok else { throw HookError("write \(output): \(String(cString: strerror(errno)))") }
            } else {
                print(text, terminator: "")
            }
        }
    }
}

struct CDICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdi", abstract: "Container Device Interface specs.", subcommands: [CDIGenerate.self])
}

struct OCIRunHooks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocirun-hooks",
        abstract: "OCI hooks for HPC: GPUs, InfiniBand/RDMA and MPI from the host, beneath any OCI runtime.",
        discussion: "Each hook reads the OCI state JSON on stdin. See docs/hooks.md.",
        subcommands: [GPU.self, ROCm.self, IB.self, MPI.self, LdCacheHook.self, CDICommand.self])
}

OCIRunHooks.main()
