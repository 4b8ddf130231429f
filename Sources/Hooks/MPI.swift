import LinuxSystem

/// The MPI injector: replaces each MPI library of the container with the host's ABI-compatible
/// one (bound over the container's file), and binds the host MPI's dependencies.
public struct MPIInjector {
    /// Settings.
    public var config: MPIConfig

    /// An injector with `config`.
    public init(config: MPIConfig) { self.config = config }

    /// The annotation that asks for MPI (`true`).
    public static let annotation = "org.ocirun.hooks.mpi"

    /// The version numbers after `.so.` in a library file name: `libmpi.so.12.1.1` → [12, 1, 1].
    public static func version(of fileName: String) -> [Int]? {
        guard let r = fileName.firstRange(of: ".so.") else { return nil }
        let parts = fileName[r.upperBound...].split(separator: ".")
        let nums = parts.compactMap { Int($0) }
        return nums.count == parts.count && !nums.isEmpty ? nums : nil
    }

    /// The library name before the version: `libmpi.so.12.1.1` → `libmpi.so`.
    public static func baseName(of fileName: String) -> String {
        guard let r = fileName.firstRange(of: ".so") else { return fileName }
        return String(fileName[..<r.upperBound])
    }

    /// Checks that a host library may replace a container library under `rule`; the error names both.
    public static func check(host: String, hostVersion: [Int], container: String, containerVersion: [Int],
                             rule: MPICompatibility) throws {
        func v(_ x: [Int]) -> String { x.map(String.init).joined(separator: ".") }
        let why: String?
        let hMinor = hostVersion.count > 1 ? hostVersion[1] : 0
        let cMinor = containerVersion.count > 1 ? containerVersion[1] : 0
        if hostVersion[0] != containerVersion[0] {
            why = "major versions differ (\(hostVersion[0]) vs \(containerVersion[0]))"
        } else if rule == .full && hMinor < cMinor {
            why = "the host's minor version \(hMinor) is older than the container's \(cMinor) (rule full)"
        } else if rule == .strict && hMinor != cMinor {
            why = "minor versions differ (\(hMinor) vs \(cMinor), rule strict)"
        } else {
            why = nil
        }
        if let why {
            throw HookError("mpi: host library \(host) (version \(v(hostVersion))) is not ABI-compatible with the container's \(container) (version \(v(containerVersion))): \(why)")
        }
    }

    /// The injection: `containerRoot` is the container's root as this process sees it.
    public func plan(host: inout HostDiscovery, containerRoot: String, hostEnv: [String]) throws -> Injection {
        // The container's MPI libraries, from its own ld cache.
        let cachePath = containerRoot + "/etc/ld.so.cache"
        let cache: LdCache
        do { cache = try LdCache.parse(try Files.read(cachePath)) } catch {
            throw HookError("mpi: read the container's ld cache \(cachePath): \(error)")
        }
        var containerLibs: [(base: String, path: RootedPath)] = []
        for e in cache.libraries(machine: host.machine) {
            let base = MPIInjector.baseName(of: e.soname)
            guard config.names.contains(base) else { continue }
            let real = try resolveInRoot(root: containerRoot, path: e.path)
            guard Files.exists(real.local), !containerLibs.contains(where: { $0.path == real }) else { continue }
            containerLibs.append((base, real))
        }
        guard !containerLibs.isEmpty else {
            throw HookError("mpi: the container has no MPI library (none of \(config.names.joined(separator: ", ")) in \(cachePath))")
        }
        // The host's MPI libraries.
        var hostLibs: [HostLibrary] = []
        if config.libraries.isEmpty {
            for n in config.names { hostLibs += try host.libraries(named: n) }
        } else {
            for p in config.libraries {
                let real = try resolveInRoot(root: host.hostRoot, path: p)
                guard Files.exists(real.local) else { throw HookError("mpi: host MPI library \(host.local(p)) does not exist") }
                let name = String(real.path.split(separator: "/").last ?? "")
                hostLibs.append(HostLibrary(soname: name, linkPath: p, realPath: real.path, local: real.local))
            }
        }
        var inj = Injection()
        for c in containerLibs {
            let cName = String(c.path.path.split(separator: "/").last ?? "")
            guard let h = hostLibs.first(where: { MPIInjector.baseName(of: $0.fileName) == c.base }) else {
                throw HookError("mpi: the container's \(c.path.path) has no counterpart among the host's MPI libraries (\(hostLibs.map(\.realPath).joined(separator: ", ")))")
            }
            guard let hv = MPIInjector.version(of: h.fileName), let cv = MPIInjector.version(of: cName) else {
                throw HookError("mpi: cannot read the versions of \(h.realPath) and \(c.path.path)")
            }
            try MPIInjector.check(host: h.realPath, hostVersion: hv, container: c.path.path, containerVersion: cv,
                                  rule: config.compatibility)
            inj.bind(host: h.realPath, local: h.local, container: c.path.path)
        }
        let depDir = config.containerDirectory + "/lib"
        for d in config.dependencies {
            let real = try resolveInRoot(root: host.hostRoot, path: d)
            guard Files.exists(real.local) else { throw HookError("mpi: dependency \(host.local(d)) does not exist") }
            let linkName = String(d.split(separator: "/").last ?? "")
            inj.bind(host: real.path, local: real.local, container: depDir + "/" + linkName)
            inj.libraryDirectory(depDir)
        }
        for m in config.bindMounts {
            guard Files.exists(host.local(m)) else { throw HookError("mpi: bind mount \(host.local(m)) does not exist") }
            inj.bind(host: m, local: host.local(m), container: m, readOnly: false)
        }
        inj.env = hostEnv.filter { e in config.envPrefixes.contains { e.hasPrefix($0) } }
        // The PMIx server's rendezvous directory must be reachable from inside.
        for e in inj.env {
            for key in ["PMIX_SERVER_TMPDIR=", "PMIX_SYSTEM_TMPDIR="] where e.hasPrefix(key) {
                let dir = String(e.dropFirst(key.count))
                if dir.hasPrefix("/"), Files.isDirectory(host.local(dir)) {
                    inj.bind(host: dir, local: host.local(dir), container: dir, readOnly: false)
                }
            }
        }
        return inj
    }
}
