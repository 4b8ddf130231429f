// swift-tools-version: 6.0
// ocirun: an OCI runtime for HPC and Kubernetes nodes.
import PackageDescription

/// Targets that run inside the container's set-up path keep Foundation out (DESIGN.md §4).
///
/// `hot`: concrete generic types (`[String]`, `[String: String]`, `Spec?`) get their metadata from
/// the compiler's accessor functions instead of from mangled names the runtime demangles on first
/// use; each demangled `Set`/`Dictionary` type also needed a scan of every protocol conformance
/// record in the static binary. That was about a quarter of a `state` command's instructions
/// (docs/performance.md).
///
/// `-function-sections`: each function in a section of its own, so that scripts/build.sh can
/// have lld put the ones the hot commands run side by side (bench/order.sh, scripts/build.sh).
let hot: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors",
                                          "-Xfrontend", "-disable-implicit-string-processing-module-import",
                                          "-Xfrontend", "-function-sections"])]
/// The same for the targets outside the runtime binary, which may use the stdlib's string
/// algorithms (`firstRange(of:)`, `contains` of a substring) from _StringProcessing. In the
/// runtime binary that module and _RegexParser were 0.8 MB of text and 0.14 MB of data.
let tools: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])]

let package = Package(
    name: "ocirun",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ocirun", targets: ["ocirun"]),
        .executable(name: "ocirun-cli", targets: ["ocirun-cli"]),
        .executable(name: "ocirun-hooks", targets: ["ocirun-hooks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .systemLibrary(name: "CYajl", providers: [.apt(["libyajl-dev"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        // What Swift's Glibc module does not expose: clone, setns, pivot_root, openat2, prctl, ...
        .target(name: "CLinux", cSettings: [.unsafeFlags(["-ffunction-sections"])]),

        // Pure Swift: JSON over yajl, and the OCI runtime-spec model.
        .target(name: "JSON", dependencies: ["CYajl"], swiftSettings: hot),
        .target(name: "OCISpec", dependencies: ["JSON"], swiftSettings: hot),

        // The syscall seam and the runtime core.
        .target(name: "LinuxSystem", dependencies: ["CLinux"], swiftSettings: hot),
        .target(name: "OCIRuntime", dependencies: ["OCISpec", "JSON", "LinuxSystem", "CLinux", "CCap", "CSeccomp", "CDI"], swiftSettings: hot),

        // Singularity images and HPC hooks.
        .target(name: "SIFFormat", dependencies: [], swiftSettings: hot),
        // squashfs written and read in-process (libsquashfs, squashfs-tools-ng) and loop devices.
        .target(name: "CSquashfs", linkerSettings: [
            .linkedLibrary("squashfs"), .linkedLibrary("zstd"), .linkedLibrary("lz4"),
            .linkedLibrary("lzma"), .linkedLibrary("z"),
        ]),
        .target(name: "SIFBundle", dependencies: [
            "SIFFormat", "JSON",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),

        // SIF images as bundles: mount/umount, build, run by annotation (no cryptography here).
        .target(name: "SIFMount", dependencies: ["SIFFormat", "CSquashfs", "JSON", "OCISpec"], swiftSettings: hot),

        // The hot commands (create, start, state, kill, delete, run, exec, pause, resume): global
        // flags, a flag table and the command bodies; no command-line library, no cryptography.
        .target(name: "RuntimeVerbs", dependencies: [
            "OCIRuntime", "OCISpec", "JSON", "LinuxSystem", "CLinux", "SIFFormat", "SIFMount",
        ], swiftSettings: hot),
        // The runtime binary: RuntimeVerbs, and `ocirun-cli` exec'd for everything else.
        // Linked by lld, which applies scripts/build.sh's function order (bench/hot-symbols.txt) to
        // every input section: glibc's and the Swift runtime's as well as ours.
        .executableTarget(name: "ocirun", dependencies: ["RuntimeVerbs", "CLinux"], swiftSettings: hot,
                          linkerSettings: [.unsafeFlags(["-use-ld=lld"])]),

        // The whole command line: one ParsableCommand per verb (ArgumentParser), SIF signing.
        .target(name: "OCIRunCommands", dependencies: [
            "RuntimeVerbs", "OCIRuntime", "OCISpec", "JSON", "LinuxSystem", "SIFBundle", "SIFMount",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: tools),
        .executableTarget(name: "ocirun-cli", dependencies: ["OCIRunCommands", "RuntimeVerbs"], swiftSettings: tools),

        // CDI spec parsing and container edits (used by OCIRuntime's create), and the HPC hooks.
        .target(name: "CDI", dependencies: ["OCISpec", "JSON", "LinuxSystem"], swiftSettings: hot),
        .target(name: "Hooks", dependencies: ["CDI", "OCISpec", "JSON", "LinuxSystem", "CLinux", "OCIRuntime"], swiftSettings: tools),
        .executableTarget(name: "ocirun-hooks", dependencies: [
            "Hooks", "CDI", "JSON", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: tools),

        .testTarget(name: "OCISpecTests", dependencies: ["OCISpec", "JSON"]),
        .testTarget(name: "OCIRuntimeTests", dependencies: ["OCIRuntime", "OCISpec", "LinuxSystem"]),
        .testTarget(name: "SIFBundleTests", dependencies: [
            "SIFBundle",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], resources: [.copy("Fixtures")]),
        .testTarget(name: "IntegrationTests", dependencies: ["OCISpec", "JSON"]),
        .testTarget(name: "OCIRunCommandsTests", dependencies: [
            "OCIRunCommands", "RuntimeVerbs", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "SIFMountTests", dependencies: ["SIFMount", "SIFFormat", "OCISpec", "JSON"]),
        .testTarget(name: "HooksTests", dependencies: ["Hooks", "CDI", "OCISpec", "JSON", "OCIRuntime"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
