import JSON

// The container state (runtime.md "State"): what `state` prints and what hooks read on stdin.

/// The state of a container.
public struct State: Codable, Sendable, Equatable {
    /// The runtime-spec version of this state (REQUIRED).
    public var ociVersion: String
    /// The container id (REQUIRED).
    public var id: String
    /// `creating`, `created`, `running` or `stopped` (REQUIRED).
    public var status: String
    /// The container process's pid on the host; absent when stopped.
    public var pid: Int?
    /// Absolute path of the bundle (REQUIRED).
    public var bundle: String
    /// The annotations of the configuration.
    public var annotations: [String: String]?

    /// A state.
    public init(
        ociVersion: String = Spec.currentVersion, id: String, status: String, pid: Int? = nil, bundle: String,
        annotations: [String: String]? = nil
    ) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }

    /// The state as JSON, keys in the spec's order (`ociVersion`, `id`, `status`, `pid`, `bundle`, `annotations`).
    public func encoded(pretty: Bool = false) throws -> String {
        try JSONEncoding.encode(self, pretty: pretty)
    }
}
