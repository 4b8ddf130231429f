#if canImport(Glibc)
import Glibc
#endif
import CDI
import JSON
import LinuxSystem

/// What the `ocirun-hooks` subcommands do, callable without the command line.
public enum HookActions {
    /// Reads all of stdin.
    public static func readStdin() throws -> [UInt8] {
        try FileDescriptor(0).readAllKeepingOpen()
    }

    /// The GPU hook: nothing when the container asks for no GPU.
    public static func gpu(stateBytes: [UInt8], hostRoot: String, config: HooksConfig) throws {
        let t = try HookTarget.load(stateBytes: stateBytes)
        guard let sel = try GPUInjector.selection(env: t.env, annotations: t.annotations) else { return }
        var host = HostDiscovery(hostRoot: hostRoot)
        let inj = try GPUInjector(config: config.gpu).plan(selection: sel, host: &host)
        let editor = try ContainerEditor.enter(t)
        try editor.apply(inj, kind: "gpu")
    }

    /// The AMD ROCm hook: nothing unless the annotation `org.ocirun.hooks.rocm` is `true` or `all`.
    public static func rocm(stateBytes: [UInt8], hostRoot: String, config: HooksConfig) throws {
        let t = try HookTarget.load(stateBytes: stateBytes)
        guard ROCmInjector.requested(annotations: t.annotations) else { return }
        var host = HostDiscovery(hostRoot: hostRoot)
        let inj = try ROCmInjector(config: config.rocm).plan(host: &host)
        let editor = try ContainerEditor.enter(t)
        try editor.apply(inj, kind: "rocm")
    }

    /// The InfiniBand hook.
    public static func ib(stateBytes: [UInt8], hostRoot: String, config: HooksConfig) throws {
        let t = try HookTarget.load(stateBytes: stateBytes)
        var host = HostDiscovery(hostRoot: hostRoot)
        let inj = try IBInjector(config: config.ib).plan(host: &host, rootContainer: t.isRootContainer)
        let editor = try ContainerEditor.enter(t)
        try editor.apply(inj, kind: "ib")
    }

    /// The MPI hook. The PMI/PMIx/Slurm variables come from the hook's own environment and its
    /// parent's (the runtime, which inherited the launcher's); they are written to
    /// `/.ocirun/mpi/env` in the container, because a hook cannot change the process's environment.
    public static func mpi(stateBytes: [UInt8], hostRoot: String, config: HooksConfig) throws {
        let t = try HookTarget.load(stateBytes: stateBytes)
        var hostEnv = parentEnvironment()
        var e = environ
        while let p = e.pointee { hostEnv.append(String(cString: p)); e += 1 }
        var host = HostDiscovery(hostRoot: hostRoot)
        let editor = try ContainerEditor.enter(t)
        let inj = try MPIInjector(config: config.mpi).plan(host: &host, containerRoot: editor.root, hostEnv: hostEnv)
        try editor.apply(inj, kind: "mpi")
    }

    /// The ld cache hook of generated CDI specs: adds `dirs` to the container's ld cache.
    public static func ldcache(stateBytes: [UInt8], dirs: [String], links: [String] = []) throws {
        let symlinks = try links.map { l -> Injection.Symlink in
            guard let eq = l.firstIndex(of: "="), eq != l.startIndex else {
                throw HookError("--link \(l): expected PATH=TARGET")
            }
            return Injection.Symlink(path: String(l[..<eq]), target: String(l[l.index(after: eq)...]))
        }
        let t = try HookTarget.load(stateBytes: stateBytes)
        let editor = try ContainerEditor.enter(t)
        try editor.updateLdCache(adding: dirs, links: symlinks)
    }

    /// The environment of this process's parent, through /proc.
    static func parentEnvironment() -> [String] {
        guard let status = try? Files.readString("/proc/self/status") else { return [] }
        for line in status.split(separator: "\n") where line.hasPrefix("PPid:") {
            let pid = line.dropFirst(5).trimmingCharacters
            guard let bytes = try? Files.read("/proc/\(pid)/environ") else { return [] }
            return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        }
        return []
    }

    /// A CDI spec for `kind` (`gpu` or `ib`) from host discovery. `hookPath` is the `ocirun-hooks`
    /// the spec's ld cache hook runs.
    public static func cdiSpec(kind: String, hostRoot: String, config: HooksConfig, hookPath: String) throws -> CDISpec {
        var host = HostDiscovery(hostRoot: hostRoot)
        switch kind {
        case "gpu":
            let common = try GPUInjector(config: config.gpu).plan(selection: .none, host: &host)
            let all = try GPUInjector(config: config.gpu).plan(selection: .all, host: &host)
            let ctl = Set(common.devices.map(\.path))
            var devices: [CDIDevice] = []
            let gpus = all.devices.filter { !ctl.contains($0.path) }
            for g in gpus {
                var one = Injection()
                one.device(g)
                devices.append(CDIDevice(name: String(g.path.dropFirst("/dev/nvidia".count)),
                                         containerEdits: one.cdiEdits(hookPath: hookPath)))
            }
            var everything = Injection()
            for g in gpus { everything.device(g) }
            devices.append(CDIDevice(name: "all", containerEdits: everything.cdiEdits(hookPath: hookPath)))
            var spec = CDISpec(kind: "ocirun.dev/gpu", devices: devices, containerEdits: common.cdiEdits(hookPath: hookPath))
            spec.annotations = ["org.ocirun.hooks.generated-by": "ocirun-hooks cdi generate gpu"]
            return spec
        case "ib":
            let inj = try IBInjector(config: config.ib).plan(host: &host, rootContainer: false)
            return CDISpec(kind: "ocirun.dev/ib", devices: [CDIDevice(name: "all", containerEdits: inj.cdiEdits(hookPath: hookPath))])
        default:
            throw HookError("cdi generate: unknown kind \"\(kind)\" (gpu or ib)")
        }
    }
}

extension FileDescriptor {
    /// Reads to end of file without closing the descriptor.
    func readAllKeepingOpen() throws -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(rawValue, &buf, buf.count)
            if n < 0 { if errno == EINTR { continue }; throw SystemError("read", "stdin") }
            if n == 0 { return out }
            out += buf[0..<n]
        }
    }
}
