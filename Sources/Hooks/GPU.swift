import LinuxSystem

/// The NVIDIA GPU injector: driver libraries matching the running driver, tools, device nodes of
/// the selected GPUs and the control devices, the persistenced socket.
public struct GPUInjector {
    /// Settings.
    public var config: GPUConfig

    /// An injector with `config`.
    public init(config: GPUConfig) { self.config = config }

    /// Which GPUs a container asks for, from `NVIDIA_VISIBLE_DEVICES` in its environment or the
    /// annotation `org.ocirun.hooks.gpu` (the environment wins). nil: no GPU asked for.
    public enum Selection: Equatable, Sendable {
        /// Every GPU.
        case all
        /// The driver but no GPU (`none`).
        case none
        /// These indices.
        case indices([Int])
    }

    /// The annotation that asks for GPUs (same values as `NVIDIA_VISIBLE_DEVICES`).
    public static let annotation = "org.ocirun.hooks.gpu"

    /// Parses the request; nil when the container does not ask (absent, empty or `void`).
    public static func selection(env: [String], annotations: [String: String]) throws -> Selection? {
        var value: String?
        for e in env where e.hasPrefix("NVIDIA_VISIBLE_DEVICES=") { value = String(e.dropFirst("NVIDIA_VISIBLE_DEVICES=".count)) }
        if value == nil { value = annotations[annotation] }
        guard let v = value?.trimmingCharacters, !v.isEmpty, v != "void" else { return nil }
        if v == "all" { return .all }
        if v == "none" { return Selection.none }
        var out: [Int] = []
        for part in v.split(separator: ",") {
            guard let i = Int(part.trimmingCharacters), i >= 0 else {
                throw HookError("NVIDIA_VISIBLE_DEVICES=\(v): \"\(part)\" is not a GPU index (GPU UUIDs need NVML, which ocirun-hooks does not use)")
            }
            if !out.contains(i) { out.append(i) }
        }
        return .indices(out)
    }

    /// The driver version in `/proc/driver/nvidia/version`
    /// (`NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 ...`).
    public static func driverVersion(_ text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("NVRM version:") {
            for word in line.split(separator: " ") {
                let parts = word.split(separator: ".", omittingEmptySubsequences: false)
                if parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) { return String(word) }
            }
        }
        return nil
    }

    /// Whether a library file belongs to `driver`: a file versioned like a driver (`.so.535.104.05`,
    /// major of three digits or more) must carry exactly the running driver's version.
    public static func matchesDriver(fileName: String, driver: String) -> Bool {
        guard let r = fileName.firstRange(of: ".so.") else { return true }
        let suffix = fileName[r.upperBound...]
        let parts = suffix.split(separator: ".")
        guard parts.count >= 2, let major = Int(parts[0]), major >= 100 else { return true }
        return suffix == driver
    }

    /// The injection for `selection` on `host`.
    public func plan(selection: Selection, host: inout HostDiscovery) throws -> Injection {
        let versionFile = host.local("/proc/driver/nvidia/version")
        guard let text = try? Files.readString(versionFile) else {
            throw HookError("gpu: no NVIDIA driver on this host (cannot read \(versionFile))")
        }
        guard let driver = GPUInjector.driverVersion(text) else {
            throw HookError("gpu: no driver version in \(versionFile)")
        }
        var inj = Injection()
        let libDir = config.containerDirectory + "/lib"
        var foundCuda = false
        // The `bin` directory beside the driver's library directory (/usr/local/nvidia/lib64 ->
        // /usr/local/nvidia/bin): where a driver installed outside the system directories keeps
        // its tools; searched before the usual paths.
        var driverBinDirectories: [String] = []
        for name in config.libraries {
            for lib in try host.libraries(named: name) where GPUInjector.matchesDriver(fileName: lib.fileName, driver: driver) {
                inj.library(lib, into: libDir)
                if lib.soname.hasPrefix("libcuda.so") {
                    foundCuda = true
                    let bin = Files.clean(lib.realPath + "/../../bin")
                    if !driverBinDirectories.contains(bin) { driverBinDirectories.append(bin) }
                }
            }
        }
        guard foundCuda else {
            throw HookError("gpu: libcuda.so of driver \(driver) is not in the host's ld cache (\(host.local("/etc/ld.so.cache")))")
        }
        inj.libraryDirectory(libDir)
        // NVIDIA's tools are ELF executables; a script of the same name is a wrapper (passed over).
        for b in config.binaries {
            if let p = host.binary(named: b, searching: driverBinDirectories, elfOnly: true) {
                inj.bind(host: p.path, local: p.local, container: config.containerDirectory + "/bin/" + b)
            }
        }
        for ipc in config.ipcs where Files.exists(host.local(ipc)) {
            inj.bind(host: ipc, local: host.local(ipc), container: ipc, readOnly: false)
        }
        let gpus = host.list("/dev", prefix: "nvidia").filter { p in
            let n = p.dropFirst("/dev/nvidia".count)
            return !n.isEmpty && n.allSatisfy(\.isNumber)
        }
        let selected: [String]
        switch selection {
        case .all: selected = gpus
        case .none: selected = []
        case .indices(let idx):
            selected = try idx.map { i in
                let p = "/dev/nvidia\(i)"
                guard gpus.contains(p) else { throw HookError("gpu: GPU \(i) requested but \(host.local(p)) does not exist") }
                return p
            }
        }
        for p in selected + config.controlDevices {
            if let d = host.device(p) { inj.device(d) } else if selected.contains(p) {
                throw HookError("gpu: \(host.local(p)) is not a device node")
            }
        }
        return inj
    }
}

extension StringProtocol {
    var trimmingCharacters: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s = s.dropLast() }
        return String(s)
    }
}
