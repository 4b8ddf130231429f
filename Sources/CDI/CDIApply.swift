#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem
import OCISpec

/// The CDI specs found in the spec directories, and the devices they name.
public struct CDIRegistry: Sendable {
    /// The standard spec directories, lowest priority first (a later directory's device wins).
    public static let defaultDirectories = ["/etc/cdi", "/var/run/cdi"]
    /// The annotation key prefix that requests devices (SPEC.md "CDI annotations").
    public static let annotationPrefix = "cdi.k8s.io/"

    /// Loaded specs with the file each came from, in priority order.
    public var specs: [(path: String, spec: CDISpec)] = []

    /// An empty registry.
    public init() {}

    /// Loads every `*.json` spec in `directories` (missing directories are skipped). A `*.yaml`
    /// or `*.yml` spec is an error: this implementation reads JSON only.
    public static func load(directories: [String]) throws -> CDIRegistry {
        var r = CDIRegistry()
        for dir in directories where Files.isDirectory(dir) {
            let names = try Files.list(dir).sorted()
            for n in names {
                let path = dir + "/" + n
                if n.hasSuffix(".yaml") || n.hasSuffix(".yml") {
                    throw CDIError("cdi spec \(path): YAML specs are not supported; write the spec as JSON")
                }
                guard n.hasSuffix(".json") else { continue }
                let bytes: [UInt8]
                do { bytes = try Files.read(path) } catch { throw CDIError("cdi spec \(path): \(error)") }
                r.specs.append((path, try CDISpec.parse(bytes, name: path)))
            }
        }
        return r
    }

    /// The spec and device a fully qualified name `vendor.com/class=name` refers to.
    public func resolve(_ qualified: String) throws -> (spec: CDISpec, device: CDIDevice) {
        guard let eq = qualified.firstIndex(of: "=") else {
            throw CDIError("cdi device \"\(qualified)\" is not of the form vendor.com/class=name")
        }
        let kind = String(qualified[..<eq]), name = String(qualified[qualified.index(after: eq)...])
        try CDISpec.validateKind(kind)
        try CDISpec.validateDeviceName(name)
        // Later specs (higher priority directories) win.
        for (_, spec) in specs.reversed() where spec.kind == kind {
            if let d = spec.devices.first(where: { $0.name == name }) { return (spec, d) }
        }
        throw CDIError("cdi device \"\(qualified)\": not found in any spec")
    }

    /// The device names requested by `cdi.k8s.io/*` annotations (comma separated values).
    public static func requestedDevices(_ annotations: [String: String]?) -> [String] {
        var out: [String] = []
        for key in (annotations ?? [:]).keys.sorted() where key.hasPrefix(annotationPrefix) {
            for part in annotations![key]!.split(separator: ",") {
                let name = String(part).trimmingSpaces
                if !name.isEmpty && !out.contains(name) { out.append(name) }
            }
        }
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// Applies CDI container edits to an OCI config (SPEC.md "Container Edits").
public enum CDI {
    /// The spec directories: `$OCIRUN_CDI_SPEC_DIRS` (colon separated) when set, else the standard ones.
    public static func specDirectories() -> [String] {
        if let v = getenv("OCIRUN_CDI_SPEC_DIRS") {
            let dirs = String(cString: v).split(separator: ":").map(String.init)
            if !dirs.isEmpty { return dirs }
        }
        return CDIRegistry.defaultDirectories
    }

    /// The config with the edits of every device named in its `cdi.k8s.io/*` annotations applied;
    /// the config unchanged (and no spec read) when it names none.
    public static func applyAnnotatedDevices(to spec: Spec, directories: [String]? = nil) throws -> Spec {
        let names = CDIRegistry.requestedDevices(spec.annotations)
        guard !names.isEmpty else { return spec }
        let registry = try CDIRegistry.load(directories: directories ?? specDirectories())
        return try apply(devices: names, registry: registry, to: spec)
    }

    /// The config with the edits of `devices` (qualified names) applied: each spec's global edits
    /// once, then each device's own edits.
    public static func apply(devices: [String], registry: CDIRegistry, to spec: Spec) throws -> Spec {
        var out = spec
        var specsDone: Set<String> = []
        for name in devices {
            let (s, d) = try registry.resolve(name)
            if let g = s.containerEdits, specsDone.insert(s.kind).inserted {
                do { try apply(g, to: &out) } catch { throw CDIError("cdi device \"\(name)\": \(error)") }
            }
            do { try apply(d.containerEdits, to: &out) } catch { throw CDIError("cdi device \"\(name)\": \(error)") }
        }
        // SPEC.md: mounts are ordered so that a parent directory is mounted before its children.
        if var mounts = out.mounts {
            let original = spec.mounts?.count ?? 0
            let added = mounts[original...].enumerated().sorted { a, b in
                let da = a.element.destination.split(separator: "/").count
                let db = b.element.destination.split(separator: "/").count
                return da != db ? da < db : a.offset < b.offset
            }.map(\.element)
            mounts.replaceSubrange(original..., with: added)
            out.mounts = mounts
        }
        return out
    }

    /// Applies one set of edits.
    public static func apply(_ edits: CDIContainerEdits, to spec: inout Spec) throws {
        if let env = edits.env, !env.isEmpty {
            var p = spec.process ?? Process(user: User(uid: 0, gid: 0), cwd: "/")
            var current = p.env ?? []
            for e in env {
                let key = e.split(separator: "=", maxSplits: 1).first.map(String.init) ?? e
                current.removeAll { $0 == key || $0.hasPrefix(key + "=") }
                current.append(e)
            }
            p.env = current
            spec.process = p
        }
        if let gids = edits.additionalGids, !gids.isEmpty, spec.process != nil {
            var g = spec.process!.user.additionalGids ?? []
            for id in gids where !g.contains(id) { g.append(id) }
            spec.process!.user.additionalGids = g
        }
        for n in edits.deviceNodes ?? [] {
            var type = n.type, major = n.major, minor = n.minor, mode = n.fileMode
            let host = n.hostPath ?? n.path
            if type == nil || ((type == "c" || type == "b") && (major == nil || minor == nil)) || mode == nil {
                var st = stat()
                guard stat(host, &st) == 0 else {
                    throw CDIError("device node \(n.path): stat host path \(host): \(String(cString: strerror(errno)))")
                }
                let fmt = st.st_mode & S_IFMT
                let hostType = fmt == S_IFCHR ? "c" : fmt == S_IFBLK ? "b" : fmt == S_IFIFO ? "p" : nil
                guard let ht = hostType else { throw CDIError("device node \(n.path): host path \(host) is not a device") }
                if type == nil { type = ht }
                if major == nil { major = Int64(DeviceNumber.major(UInt64(st.st_rdev))) }
                if minor == nil { minor = Int64(DeviceNumber.minor(UInt64(st.st_rdev))) }
                if mode == nil { mode = UInt32(st.st_mode & 0o777) }
            }
            var linux = spec.linux ?? Linux()
            var devs = linux.devices ?? []
            devs.removeAll { $0.path == n.path }
            devs.append(LinuxDevice(path: n.path, type: type!, major: major, minor: minor, fileMode: mode,
                                    uid: n.uid, gid: n.gid))
            linux.devices = devs
            if type == "c" || type == "b" {
                var res = linux.resources ?? LinuxResources()
                var rules = res.devices ?? []
                rules.append(LinuxDeviceCgroup(allow: true, type: type, major: major, minor: minor, access: n.permissions ?? "rwm"))
                res.devices = rules
                linux.resources = res
            }
            spec.linux = linux
        }
        for m in edits.mounts ?? [] {
            var opts = m.options ?? []
            if m.type == nil || m.type == "bind" {
                if !opts.contains("bind") && !opts.contains("rbind") { opts.append("bind") }
            }
            var mounts = spec.mounts ?? []
            mounts.append(Mount(destination: m.containerPath, type: m.type ?? "bind", source: m.hostPath, options: opts))
            spec.mounts = mounts
        }
        for h in edits.hooks ?? [] {
            var hooks = spec.hooks ?? Hooks()
            let hook = Hook(path: h.path, args: h.args, env: h.env, timeout: h.timeout)
            switch h.hookName {
            case "prestart": hooks.prestart = (hooks.prestart ?? []) + [hook]
            case "createRuntime": hooks.createRuntime = (hooks.createRuntime ?? []) + [hook]
            case "createContainer": hooks.createContainer = (hooks.createContainer ?? []) + [hook]
            case "startContainer": hooks.startContainer = (hooks.startContainer ?? []) + [hook]
            case "poststart": hooks.poststart = (hooks.poststart ?? []) + [hook]
            case "poststop": hooks.poststop = (hooks.poststop ?? []) + [hook]
            default: throw CDIError("hook \(h.path): unknown hookName \"\(h.hookName)\"")
            }
            spec.hooks = hooks
        }
    }
}

/// Major and minor numbers of a Linux `dev_t` (glibc's encoding).
public enum DeviceNumber {
    /// The major number.
    public static func major(_ dev: UInt64) -> UInt64 { ((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff)) }
    /// The minor number.
    public static func minor(_ dev: UInt64) -> UInt64 { (dev & 0xff) | ((dev >> 12) & ~UInt64(0xff)) }
}
