import CDI

/// What a hook adds to a container: bind mounts, device nodes, environment, and directories to
/// add to the container's ld cache. The GPU, InfiniBand and MPI injectors produce one; the hook
/// applies it to a container (`ContainerEditor`), and `cdi generate` writes it as a CDI spec.
public struct Injection: Sendable, Equatable {
    /// A bind mount of a host file or directory.
    public struct Bind: Sendable, Equatable {
        /// The host path (as the host sees it).
        public var host: String
        /// The source as this process sees it (`host` under the host root).
        public var local: String
        /// The path in the container.
        public var container: String
        /// Mounted read-only.
        public var readOnly: Bool = true
    }

    /// A symbolic link in the container (a soname link beside an injected library).
    public struct Symlink: Sendable, Equatable {
        /// The link, in the container.
        public var path: String
        /// What it points to (a file name in the same directory).
        public var target: String
    }

    /// The staging directory the injected files live in: a tmpfs, so the image is not changed.
    public var stagingRoot = "/.ocirun"
    /// Bind mounts, in order.
    public var binds: [Bind] = []
    /// Device nodes, with the cgroup access they need.
    public var devices: [HostDevice] = []
    /// `KEY=VALUE` entries for the container's environment.
    public var env: [String] = []
    /// Container directories to add to the ld cache.
    public var libraryDirectories: [String] = []
    /// Soname links to make (the ld cache is rebuilt with `ldconfig -X`).
    public var symlinks: [Symlink] = []

    /// An empty injection.
    public init() {}

    /// Adds a bind, skipping a repeated container path.
    public mutating func bind(host: String, local: String, container: String, readOnly: Bool = true) {
        guard !binds.contains(where: { $0.container == container }) else { return }
        binds.append(Bind(host: host, local: local, container: container, readOnly: readOnly))
    }

    /// Adds a device, skipping a repeated path.
    public mutating func device(_ d: HostDevice) {
        guard !devices.contains(where: { $0.path == d.path }) else { return }
        devices.append(d)
    }

    /// Binds a host library into `directory` and links its soname to it.
    public mutating func library(_ lib: HostLibrary, into directory: String) {
        bind(host: lib.realPath, local: lib.local, container: directory + "/" + lib.fileName)
        let link = directory + "/" + lib.soname
        if lib.soname != lib.fileName, !symlinks.contains(where: { $0.path == link }) {
            symlinks.append(Symlink(path: link, target: lib.fileName))
        }
        libraryDirectory(directory)
    }

    /// Adds a library directory once.
    public mutating func libraryDirectory(_ dir: String) {
        if !libraryDirectories.contains(dir) { libraryDirectories.append(dir) }
    }

    /// The CDI container edits with the same effect; `hookPath` is the `ocirun-hooks` executable
    /// that rebuilds the ld cache as a createContainer hook.
    public func cdiEdits(hookPath: String, includeDevices: Bool = true) -> CDIContainerEdits {
        var e = CDIContainerEdits()
        if includeDevices {
            e.deviceNodes = devices.map {
                CDIDeviceNode(path: $0.path, hostPath: $0.local, type: $0.type, major: $0.major, minor: $0.minor,
                              fileMode: $0.mode, permissions: "rwm")
            }
        }
        var mounts: [CDIMount] = []
        if binds.contains(where: { $0.container.hasPrefix(stagingRoot + "/") }) {
            mounts.append(CDIMount(hostPath: "tmpfs", containerPath: stagingRoot, options: ["nosuid", "nodev", "mode=755"], type: "tmpfs"))
        }
        for b in binds {
            mounts.append(CDIMount(hostPath: b.local, containerPath: b.container,
                                   options: (b.readOnly ? ["ro"] : []) + ["nosuid", "nodev", "bind"]))
        }
        e.mounts = mounts.isEmpty ? nil : mounts
        e.env = env.isEmpty ? nil : env
        if !libraryDirectories.isEmpty {
            let links = symlinks.flatMap { ["--link", $0.path + "=" + $0.target] }
            e.hooks = [CDIHook(hookName: "createContainer", path: hookPath,
                               args: ["ocirun-hooks", "ldcache"] + links + libraryDirectories)]
        }
        return e
    }
}
