#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem
import OCIRuntime
import OCISpec
import SIFFormat
import SIFMount

/// How an image under a signature policy is checked. The runtime binary holds no cryptography
/// (docs/design.md, "Two executables"): it asks `ocirun-cli sif policy-check`; `ocirun-cli`
/// itself sets its in-process verifier here.
nonisolated(unsafe) public var sifPolicyVerifier: any SIFImageVerifier = CompanionPolicyVerifier()

/// The runtime's hook for bundles naming a SIF image (annotation `org.ocirun.sif.image`).
struct SIFRootfsProvider: RootfsProvider {
    func prepareRootfs(spec: Spec, bundle: String, rootfs: String, stateDir: String) throws -> [String] {
        guard let annotations = spec.annotations, annotations[SIFAnnotationRootfs.imageAnnotation] != nil else { return [] }
        return try SIFAnnotationRootfs.mount(annotations: annotations, readonly: spec.root?.readonly ?? false,
                                             rootfs: rootfs, stateDir: stateDir, verifier: sifPolicyVerifier)
    }
}

/// Registers the SIF rootfs provider with the runtime (called before create/run).
public func registerSIFRootfsProvider() {
    // A flag, not `registered.contains { $0 is SIFRootfsProvider }`: a dynamic cast on every
    // create costs a scan of the binary's conformance records.
    if !sifProviderRegistered {
        sifProviderRegistered = true
        RootfsProviders.registered.append(SIFRootfsProvider())
    }
}

nonisolated(unsafe) private var sifProviderRegistered = false

/// Checks an image by running `ocirun-cli sif policy-check` on it; its message (stderr) becomes
/// the error.
struct CompanionPolicyVerifier: SIFImageVerifier {
    func verify(image: String, path: String, policy: SIFPolicy) throws {
        // `/proc/self/fd/N` is ours: the child reads the same open file through our pid.
        let own = path.hasASCIIPrefix("/proc/self/") ? "/proc/\(getpid())/" + path.dropFirst("/proc/self/".count) : path
        let tool = try Companion.path()
        var args = [tool, "sif", "policy-check", "--policy", policy.path, "--image", image]
        for k in policy.keys { args += ["--key", k] }
        if policy.legacy { args.append("--legacy") }
        args.append(own)
        let (status, output) = try runHelper(args)
        guard status != 0 else { return }
        var message = output
        if message.hasASCIIPrefix("ocirun: ") { message.removeFirst("ocirun: ".count) }
        if message.isEmpty { message = "SIF image \(image): policy check by \(tool) failed (status \(status))" }
        throw SIFError(.verificationFailed, message)
    }
}

/// `ocirun-cli`: every command but the hot ones, beside the runtime binary.
public enum Companion {
    public static let name = "ocirun-cli"

    /// Its path: the directory of this executable, then `name`.
    public static func path() throws -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { throw SystemError("readlink", "/proc/self/exe") }
        let exe = String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let dir = exe.lastIndex(of: "/").map { String(exe[..<$0]) } ?? "."
        return (dir.isEmpty ? "" : dir) + "/" + name
    }

    /// Replaces this process with `ocirun-cli` and the same arguments (argv[0] kept, so that
    /// messages still name `ocirun`). Only returns on failure, after saying why (stderr and the
    /// --log file), naming `verb` (the command, when the global flags could be read).
    public static func exec(_ argv: [String], verb: String?) -> Never {
        let tool: String
        do { tool = try path() } catch {
            fail("\(error)")
        }
        _ = withCStrings(argv) { execv(tool, $0) }
        fail("\(verb ?? "this command"): \(tool) is needed for it: \(String(cString: strerror(errno)))")
    }

    private static func fail(_ message: String) -> Never {
        globalOptions.logger.error(message)
        try? FileDescriptor.write(2, "ocirun: " + message + "\n")
        exit(1)
    }
}
