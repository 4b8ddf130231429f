import OCISpec

/// A source of a container's root file system that is mounted on the host by `create` before
/// the container is set up (a SIF image named by an annotation), and unmounted by `delete`.
/// The runtime knows nothing of the image format: commands register providers.
public protocol RootfsProvider: Sendable {
    /// Mounts what `spec` asks for at `rootfs` (root.path, absolute) if this provider handles the
    /// spec; returns the host mount points made, first made first ([] when not handled). Throws
    /// with nothing left mounted when it cannot. `stateDir` may hold its working files.
    func prepareRootfs(spec: Spec, bundle: String, rootfs: String, stateDir: String) throws -> [String]
}

/// The providers `create` asks, in order; the first to mount something wins.
public enum RootfsProviders {
    nonisolated(unsafe) public static var registered: [any RootfsProvider] = []

    static func prepare(spec: Spec, bundle: String, rootfs: String, stateDir: String) throws -> [String] {
        for p in registered {
            let mounts = try p.prepareRootfs(spec: spec, bundle: bundle, rootfs: rootfs, stateDir: stateDir)
            if !mounts.isEmpty { return mounts }
        }
        return []
    }
}
