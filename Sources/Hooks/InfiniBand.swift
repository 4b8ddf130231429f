import LinuxSystem

/// The InfiniBand/RDMA injector: `/dev/infiniband` nodes, the verbs libraries, their provider
/// directory (bound at its host path, where libibverbs looks for providers) and `/etc/libibverbs.d`.
public struct IBInjector {
    /// Settings.
    public var config: IBConfig

    /// An injector with `config`.
    public init(config: IBConfig) { self.config = config }

    /// The annotation that asks for InfiniBand (`true`).
    public static let annotation = "org.ocirun.hooks.ib"

    /// The injection; `rootContainer` adds the management devices (`umad*`, `issm*`).
    public func plan(host: inout HostDiscovery, rootContainer: Bool) throws -> Injection {
        var inj = Injection()
        let nodes = host.list("/dev/infiniband")
        let wanted = nodes.filter { p in
            let n = p.split(separator: "/").last.map(String.init) ?? ""
            if n.hasPrefix("uverbs") || n == "rdma_cm" { return true }
            return rootContainer && (n.hasPrefix("umad") || n.hasPrefix("issm"))
        }
        guard wanted.contains(where: { $0.hasPrefix("/dev/infiniband/uverbs") }) else {
            throw HookError("ib: no InfiniBand verbs devices on this host (\(host.local("/dev/infiniband"))/uverbs*)")
        }
        for p in wanted { if let d = host.device(p) { inj.device(d) } }
        let libDir = config.containerDirectory + "/lib"
        var verbs: HostLibrary?
        for name in config.libraries {
            for lib in try host.libraries(named: name) {
                inj.library(lib, into: libDir)
                if lib.soname.hasPrefix("libibverbs.so") { verbs = lib }
            }
        }
        guard let verbs else {
            throw HookError("ib: libibverbs.so is not in the host's ld cache (\(host.local("/etc/ld.so.cache")))")
        }
        inj.libraryDirectory(libDir)
        // Providers: libibverbs dlopens them from <its libdir>/libibverbs, a path compiled into it.
        let dir = String(verbs.linkPath[..<(verbs.linkPath.lastIndex(of: "/") ?? verbs.linkPath.endIndex)])
        for providers in Set([dir, String(verbs.realPath[..<(verbs.realPath.lastIndex(of: "/") ?? verbs.realPath.endIndex)])]).sorted() {
            let p = providers + "/libibverbs"
            if Files.isDirectory(host.local(p)) { inj.bind(host: p, local: host.local(p), container: p) }
        }
        if Files.isDirectory(host.local("/etc/libibverbs.d")) {
            inj.bind(host: "/etc/libibverbs.d", local: host.local("/etc/libibverbs.d"), container: "/etc/libibverbs.d")
        }
        return inj
    }
}
