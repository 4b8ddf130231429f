import LinuxSystem

/// The AMD ROCm injector: `/dev/kfd`, the DRI nodes, the ROCm libraries and tools.
public struct ROCmInjector {
    /// Settings.
    public var config: ROCmConfig

    /// An injector with `config`.
    public init(config: ROCmConfig) { self.config = config }

    /// The annotation that asks for AMD GPUs (`true` or `all`).
    public static let annotation = "org.ocirun.hooks.rocm"

    /// Whether the container asks for AMD GPUs.
    public static func requested(annotations: [String: String]) -> Bool {
        ["true", "all"].contains(annotations[annotation]?.trimmingCharacters ?? "")
    }

    /// The injection on `host`.
    public func plan(host: inout HostDiscovery) throws -> Injection {
        guard let kfd = host.device("/dev/kfd") else {
            throw HookError("rocm: no AMD GPU compute device on this host (\(host.local("/dev/kfd")))")
        }
        var inj = Injection()
        inj.device(kfd)
        for p in host.list("/dev/dri") {
            let n = p.split(separator: "/").last ?? ""
            if n.hasPrefix("card") || n.hasPrefix("renderD"), let d = host.device(p) { inj.device(d) }
        }
        let libDir = config.containerDirectory + "/lib"
        for name in config.libraries {
            for lib in try host.libraries(named: name) {
                inj.library(lib, into: libDir)
            }
        }
        guard inj.binds.contains(where: { $0.container.contains("/libhsa-runtime64.so") }) else {
            throw HookError("rocm: libhsa-runtime64.so is not in the host's ld cache (\(host.local("/etc/ld.so.cache")))")
        }
        inj.libraryDirectory(libDir)
        for b in config.binaries {
            if let p = host.binary(named: b) {
                inj.bind(host: p.path, local: p.local, container: config.containerDirectory + "/bin/" + b)
            }
        }
        return inj
    }
}

/// ROCm settings.
public struct ROCmConfig: Codable, Sendable, Equatable {
    /// Library names looked up in the host's ld cache (Singularity's rocmliblist.conf list).
    public var libraries: [String]
    /// Executables bound into the container.
    public var binaries: [String]
    /// Where the libraries and binaries appear in the container.
    public var containerDirectory: String

    /// Defaults.
    public init() {
        libraries = [
            "libamd_comgr.so", "libcomgr.so", "libCXLActivityLogger.so", "libelf.so", "libhc_am.so", "libhipblas.so",
            "libhip_hcc.so", "libhiprand.so", "libhsakmt.so", "libhsa-runtime64.so", "libmcwamp.so", "libmcwamp_cpu.so",
            "libmcwamp_hsa.so", "libmiopengemm.so", "libMIOpen.so", "libdrm.so", "libdrm_amdgpu.so", "libnuma.so",
            "libpci.so", "librccl.so", "librocblas.so", "librocfft-device.so", "librocfft.so", "librocrand.so",
            "librocr_debug_agent64.so", "libamdcomgr64.so", "libamdocl64.so", "libcltrace.so", "libOpenCL.so",
        ]
        binaries = ["rocm-smi", "rocminfo"]
        containerDirectory = "/.ocirun/rocm"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ROCmConfig()
        libraries = try c.decodeIfPresent([String].self, forKey: .libraries) ?? d.libraries
        binaries = try c.decodeIfPresent([String].self, forKey: .binaries) ?? d.binaries
        containerDirectory = try c.decodeIfPresent(String.self, forKey: .containerDirectory) ?? d.containerDirectory
    }
}
