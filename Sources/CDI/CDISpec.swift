#if canImport(Glibc)
import Glibc
#endif
import JSON

/// Container Device Interface specs (container-device-interface SPEC.md, version 1.1.0):
/// a vendor's file naming devices of one kind and the edits that give a container each device.
public struct CDISpec: Codable, Sendable, Equatable {
    /// The CDI version the file follows (REQUIRED).
    public var cdiVersion: String
    /// `vendor.com/class` (REQUIRED).
    public var kind: String
    /// Free-form annotations of the spec.
    public var annotations: [String: String]?
    /// The devices (REQUIRED, at least one).
    public var devices: [CDIDevice]
    /// Edits applied whenever any device of this spec is requested.
    public var containerEdits: CDIContainerEdits?

    /// A spec of `kind` with `devices`.
    public init(cdiVersion: String = CDISpec.currentVersion, kind: String, devices: [CDIDevice],
                containerEdits: CDIContainerEdits? = nil, annotations: [String: String]? = nil) {
        self.cdiVersion = cdiVersion
        self.kind = kind
        self.devices = devices
        self.containerEdits = containerEdits
        self.annotations = annotations
    }

    /// The version this implementation writes.
    public static let currentVersion = "1.1.0"
    /// The versions this implementation reads.
    public static let knownVersions: Set<String> = [
        "0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0",
    ]
}

/// One named device of a spec.
public struct CDIDevice: Codable, Sendable, Equatable {
    /// The name, unique within the spec's kind (REQUIRED).
    public var name: String
    /// Free-form annotations of the device.
    public var annotations: [String: String]?
    /// What the container needs for this device (REQUIRED).
    public var containerEdits: CDIContainerEdits

    /// A device called `name`.
    public init(name: String, containerEdits: CDIContainerEdits) {
        self.name = name
        self.containerEdits = containerEdits
    }
}

/// The edits CDI may make to an OCI config.
public struct CDIContainerEdits: Codable, Sendable, Equatable {
    /// `KEY=VALUE` entries added to the process environment.
    public var env: [String]?
    /// Device nodes created in the container and allowed in its device cgroup.
    public var deviceNodes: [CDIDeviceNode]?
    /// OCI hooks added to the config.
    public var hooks: [CDIHook]?
    /// Mounts added to the config.
    public var mounts: [CDIMount]?
    /// Supplementary groups added to the process user.
    public var additionalGids: [UInt32]?

    /// Empty edits.
    public init(env: [String]? = nil, deviceNodes: [CDIDeviceNode]? = nil, hooks: [CDIHook]? = nil,
                mounts: [CDIMount]? = nil, additionalGids: [UInt32]? = nil) {
        self.env = env
        self.deviceNodes = deviceNodes
        self.hooks = hooks
        self.mounts = mounts
        self.additionalGids = additionalGids
    }

    /// Whether the edits change nothing.
    public var isEmpty: Bool {
        (env ?? []).isEmpty && (deviceNodes ?? []).isEmpty && (hooks ?? []).isEmpty && (mounts ?? []).isEmpty
            && (additionalGids ?? []).isEmpty
    }
}

/// A device node edit.
public struct CDIDeviceNode: Codable, Sendable, Equatable {
    /// Path in the container (REQUIRED).
    public var path: String
    /// Path on the host; `path` when absent.
    public var hostPath: String?
    /// `c`, `b` or `p`; read from the host node when absent.
    public var type: String?
    /// Major number; read from the host node when absent.
    public var major: Int64?
    /// Minor number; read from the host node when absent.
    public var minor: Int64?
    /// Permission bits of the node.
    public var fileMode: UInt32?
    /// Cgroup access, some of `r`, `w`, `m` (default `rwm`).
    public var permissions: String?
    /// Owner in the container.
    public var uid: UInt32?
    /// Group in the container.
    public var gid: UInt32?

    /// A node at `path`.
    public init(path: String, hostPath: String? = nil, type: String? = nil, major: Int64? = nil, minor: Int64? = nil,
                fileMode: UInt32? = nil, permissions: String? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
        self.path = path
        self.hostPath = hostPath
        self.type = type
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
    }
}

/// A mount edit.
public struct CDIMount: Codable, Sendable, Equatable {
    /// The source on the host (REQUIRED).
    public var hostPath: String
    /// The destination in the container (REQUIRED).
    public var containerPath: String
    /// Mount options (`ro`, `bind`, `nosuid`…).
    public var options: [String]?
    /// File system type; a bind mount when absent.
    public var type: String?

    /// A mount of `hostPath` at `containerPath`.
    public init(hostPath: String, containerPath: String, options: [String]? = nil, type: String? = nil) {
        self.hostPath = hostPath
        self.containerPath = containerPath
        self.options = options
        self.type = type
    }
}

/// A hook edit.
public struct CDIHook: Codable, Sendable, Equatable {
    /// The OCI hook stage: `prestart`, `createRuntime`, `createContainer`, `startContainer`,
    /// `poststart` or `poststop` (REQUIRED).
    public var hookName: String
    /// The executable (REQUIRED).
    public var path: String
    /// Its argv.
    public var args: [String]?
    /// Its environment.
    public var env: [String]?
    /// Seconds before it is killed.
    public var timeout: Int?

    /// A hook of stage `hookName`.
    public init(hookName: String, path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
        self.hookName = hookName
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }
}

/// A CDI error: the object and the cause, e.g. `cdi spec /etc/cdi/a.json: kind "x" is not vendor/class`.
public struct CDIError: Error, CustomStringConvertible, Sendable {
    /// The message.
    public var description: String
    /// An error with `message`.
    public init(_ message: String) { description = message }
}

extension CDISpec {
    /// Parses and validates a spec; `name` (the file) prefixes errors.
    public static func parse(_ bytes: [UInt8], name: String) throws -> CDISpec {
        let spec: CDISpec
        do { spec = try JSONDecoding.decode(CDISpec.self, from: bytes) } catch {
            throw CDIError("cdi spec \(name): \(error)")
        }
        do { try spec.validate() } catch let e as CDIError {
            throw CDIError("cdi spec \(name): \(e.description)")
        }
        return spec
    }

    /// Checks what SPEC.md requires: a known version, `vendor/class` kind, named devices with edits.
    public func validate() throws {
        guard CDISpec.knownVersions.contains(cdiVersion) else {
            throw CDIError("unsupported cdiVersion \"\(cdiVersion)\" (known: \(CDISpec.knownVersions.sorted().joined(separator: ", ")))")
        }
        try CDISpec.validateKind(kind)
        guard !devices.isEmpty else { throw CDIError("no devices") }
        var seen: Set<String> = []
        for d in devices {
            try CDISpec.validateDeviceName(d.name)
            guard seen.insert(d.name).inserted else { throw CDIError("device \"\(d.name)\" is defined twice") }
            do { try d.containerEdits.validate() } catch let e as CDIError {
                throw CDIError("device \"\(d.name)\": \(e.description)")
            }
        }
        try containerEdits?.validate()
    }

    /// `vendor.com/class`: vendor of letters, digits, `-`, `_`, `.`; class of letters, digits, `-`, `_`.
    public static func validateKind(_ kind: String) throws {
        let parts = kind.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw CDIError("kind \"\(kind)\" is not of the form vendor.com/class")
        }
        func ok(_ s: Substring, dots: Bool) -> Bool {
            guard let f = s.first, f.isLetter || f.isNumber, let l = s.last, l.isLetter || l.isNumber else { return false }
            return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || (dots && $0 == ".")) }
        }
        guard ok(parts[0], dots: true), ok(parts[1], dots: false) else {
            throw CDIError("kind \"\(kind)\" has invalid characters")
        }
    }

    /// Device names: letters, digits, `-`, `_`, `.`, `:`, starting and ending with a letter or digit.
    public static func validateDeviceName(_ name: String) throws {
        guard let f = name.first, f.isLetter || f.isNumber, let l = name.last, l.isLetter || l.isNumber,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }) else {
            throw CDIError("invalid device name \"\(name)\"")
        }
    }
}

extension CDIContainerEdits {
    /// Paths absolute, env entries `KEY=VALUE`, hook stages known.
    public func validate() throws {
        for e in env ?? [] where !e.contains("=") || e.hasPrefix("=") {
            throw CDIError("env entry \"\(e)\" is not KEY=VALUE")
        }
        for n in deviceNodes ?? [] {
            guard n.path.hasPrefix("/") else { throw CDIError("device node path \"\(n.path)\" is not absolute") }
            if let t = n.type, !["c", "b", "u", "p"].contains(t) {
                throw CDIError("device node \(n.path): type \"\(t)\" is not c, b, u or p")
            }
            if let p = n.permissions, p.isEmpty || !p.allSatisfy({ "rwm".contains($0) }) {
                throw CDIError("device node \(n.path): permissions \"\(p)\" are not some of r, w, m")
            }
        }
        for m in mounts ?? [] {
            guard m.containerPath.hasPrefix("/") else {
                throw CDIError("mount containerPath \"\(m.containerPath)\" is not absolute")
            }
            guard !m.hostPath.isEmpty else { throw CDIError("mount \(m.containerPath): empty hostPath") }
        }
        let stages = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
        for h in hooks ?? [] {
            guard stages.contains(h.hookName) else { throw CDIError("hook \(h.path): unknown hookName \"\(h.hookName)\"") }
            guard h.path.hasPrefix("/") else { throw CDIError("hook path \"\(h.path)\" is not absolute") }
        }
    }
}
