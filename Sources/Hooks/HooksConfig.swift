import JSON
import LinuxSystem

/// The configuration file of `ocirun-hooks` (default `/etc/ocirun/hooks.json`; built-in defaults
/// when it is absent). Every key is optional; an absent key keeps the default.
public struct HooksConfig: Codable, Sendable, Equatable {
    /// NVIDIA GPUs.
    public var gpu: GPUConfig
    /// AMD ROCm GPUs.
    public var rocm: ROCmConfig
    /// InfiniBand / RDMA.
    public var ib: IBConfig
    /// MPI replacement.
    public var mpi: MPIConfig

    /// The default configuration file.
    public static let defaultPath = "/etc/ocirun/hooks.json"

    /// The built-in defaults.
    public init() {
        gpu = GPUConfig()
        rocm = ROCmConfig()
        ib = IBConfig()
        mpi = MPIConfig()
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        gpu = try c.decodeIfPresent(GPUConfig.self, forKey: .gpu) ?? GPUConfig()
        rocm = try c.decodeIfPresent(ROCmConfig.self, forKey: .rocm) ?? ROCmConfig()
        ib = try c.decodeIfPresent(IBConfig.self, forKey: .ib) ?? IBConfig()
        mpi = try c.decodeIfPresent(MPIConfig.self, forKey: .mpi) ?? MPIConfig()
    }

    /// Loads `path`; the built-in defaults when `path` is nil and the default file is absent.
    public static func load(_ path: String?) throws -> HooksConfig {
        let p = path ?? defaultPath
        if path == nil && !Files.exists(p) { return HooksConfig() }
        let bytes: [UInt8]
        do { bytes = try Files.read(p) } catch { throw HookError("read config \(p): \(error)") }
        do { return try JSONDecoding.decode(HooksConfig.self, from: bytes) } catch {
            throw HookError("config \(p): \(error)")
        }
    }
}

/// GPU settings.
public struct GPUConfig: Codable, Sendable, Equatable {
    /// Library names looked up in the host's ld cache (Singularity's nvliblist.conf list).
    public var libraries: [String]
    /// Executables bound into the container.
    public var binaries: [String]
    /// Control devices added for every GPU container.
    public var controlDevices: [String]
    /// Sockets bound when present (the persistenced socket).
    public var ipcs: [String]
    /// Where the libraries and binaries appear in the container.
    public var containerDirectory: String

    /// Defaults.
    public init() {
        libraries = GPUConfig.nvidiaLibraries
        binaries = ["nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control", "nvidia-cuda-mps-server"]
        controlDevices = ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"]
        ipcs = ["/var/run/nvidia-persistenced/socket", "/run/nvidia-persistenced/socket"]
        containerDirectory = "/.ocirun/gpu"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GPUConfig()
        libraries = try c.decodeIfPresent([String].self, forKey: .libraries) ?? d.libraries
        binaries = try c.decodeIfPresent([String].self, forKey: .binaries) ?? d.binaries
        controlDevices = try c.decodeIfPresent([String].self, forKey: .controlDevices) ?? d.controlDevices
        ipcs = try c.decodeIfPresent([String].self, forKey: .ipcs) ?? d.ipcs
        containerDirectory = try c.decodeIfPresent(String.self, forKey: .containerDirectory) ?? d.containerDirectory
    }

    /// The libraries of Singularity's nvliblist.conf (the list libnvidia-container also uses).
    public static let nvidiaLibraries = [
        "libcuda.so", "libEGL_installertest.so", "libEGL_nvidia.so", "libEGL.so", "libGLdispatch.so",
        "libGLESv1_CM_nvidia.so", "libGLESv1_CM.so", "libGLESv2_nvidia.so", "libGLESv2.so", "libGL.so",
        "libGLX_installertest.so", "libGLX_nvidia.so", "libglx.so", "libGLX.so", "libnvcuvid.so",
        "libnvidia-cbl.so", "libnvidia-cfg.so", "libnvidia-compiler.so", "libnvidia-eglcore.so",
        "libnvidia-egl-wayland.so", "libnvidia-encode.so", "libnvidia-fatbinaryloader.so", "libnvidia-fbc.so",
        "libnvidia-glcore.so", "libnvidia-glsi.so", "libnvidia-glvkspirv.so", "libnvidia-gpucomp.so",
        "libnvidia-gtk2.so", "libnvidia-gtk3.so", "libnvidia-ifr.so", "libnvidia-ml.so", "libnvidia-nvvm.so",
        "libnvidia-opencl.so", "libnvidia-opticalflow.so", "libnvidia-ptxjitcompiler.so", "libnvidia-rtcore.so",
        "libnvidia-tls.so", "libnvidia-wfb.so", "libnvoptix.so.1", "libOpenCL.so", "libOpenGL.so",
        "libvdpau_nvidia.so", "nvidia_drv.so", "tls_test_.so",
    ]
}

/// InfiniBand settings.
public struct IBConfig: Codable, Sendable, Equatable {
    /// Library names looked up in the host's ld cache.
    public var libraries: [String]
    /// Where the libraries appear in the container.
    public var containerDirectory: String

    /// Defaults.
    public init() {
        libraries = ["libibverbs.so", "librdmacm.so", "libibumad.so", "libmlx5.so", "libmlx4.so", "libefa.so", "libnl-3.so", "libnl-route-3.so"]
        containerDirectory = "/.ocirun/ib"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = IBConfig()
        libraries = try c.decodeIfPresent([String].self, forKey: .libraries) ?? d.libraries
        containerDirectory = try c.decodeIfPresent(String.self, forKey: .containerDirectory) ?? d.containerDirectory
    }
}

/// MPI settings (Sarus's MPI hook has the same knobs).
public struct MPIConfig: Codable, Sendable, Equatable {
    /// Host MPI libraries (paths); empty: the host ld cache entries named in `names`.
    public var libraries: [String]
    /// Sonames of MPI libraries looked for in the container's ld cache.
    public var names: [String]
    /// Host libraries the host MPI needs (paths), bound into `containerDirectory`.
    public var dependencies: [String]
    /// Extra host paths bound at the same path (the interconnect's files).
    public var bindMounts: [String]
    /// `major`, `full` or `strict` (see `MPICompatibility`).
    public var compatibility: MPICompatibility
    /// Environment prefixes passed through.
    public var envPrefixes: [String]
    /// Where the dependency libraries appear in the container.
    public var containerDirectory: String

    /// Defaults.
    public init() {
        libraries = []
        names = ["libmpi.so", "libmpicxx.so", "libmpifort.so", "libmpich.so", "libmpichcxx.so", "libmpichf90.so", "libmpl.so", "libopa.so"]
        dependencies = []
        bindMounts = []
        compatibility = .full
        envPrefixes = ["PMI_", "PMIX_", "SLURM_"]
        containerDirectory = "/.ocirun/mpi"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MPIConfig()
        libraries = try c.decodeIfPresent([String].self, forKey: .libraries) ?? d.libraries
        names = try c.decodeIfPresent([String].self, forKey: .names) ?? d.names
        dependencies = try c.decodeIfPresent([String].self, forKey: .dependencies) ?? d.dependencies
        bindMounts = try c.decodeIfPresent([String].self, forKey: .bindMounts) ?? d.bindMounts
        compatibility = try c.decodeIfPresent(MPICompatibility.self, forKey: .compatibility) ?? d.compatibility
        envPrefixes = try c.decodeIfPresent([String].self, forKey: .envPrefixes) ?? d.envPrefixes
        containerDirectory = try c.decodeIfPresent(String.self, forKey: .containerDirectory) ?? d.containerDirectory
    }
}

/// How strictly host and container MPI library versions must agree (the major always must).
public enum MPICompatibility: String, Codable, Sendable, Equatable {
    /// Same major version.
    case major
    /// Same major, and the host's minor at least the container's.
    case full
    /// Same major and minor.
    case strict
}
