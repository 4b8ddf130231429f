import ArgumentParser
import JSON
import SIFBundle
import SIFMount

/// `ocirun sif mount IMAGE BUNDLE [--writable]`.
struct SIFMountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount a SIF image's root file system as BUNDLE/rootfs and write BUNDLE/config.json.",
        discussion: """
        As root: a read-only loop device and the kernel's squashfs; otherwise squashfuse. \
        --writable puts an overlay with a tmpfs upper layer on top (root only). config.json comes \
        from the image (OCI image config, or /.singularity.d). Undo with `ocirun sif umount BUNDLE`.
        """
    )

    @Flag(name: .long, help: "Overlay a tmpfs upper layer so the container can write (changes are lost on umount).")
    var writable = false

    @Flag(name: .long, help: "Use squashfuse even as root.")
    var fuse = false

    @Argument(help: "The SIF image.")
    var image: String

    @Argument(help: "The bundle directory (made if missing; must not hold a config.json).")
    var bundle: String

    func run() throws {
        try sifRun {
            let record = try SIFBundleMount.mount(imagePath: image, bundle: bundle, writable: writable,
                                                  method: fuse ? .squashfuse : SIFMounter.defaultMethod)
            print("mounted \(image) on \(bundle)/rootfs (\(record.method)\(record.loopDevice.map { ", \($0)" } ?? "")\(writable ? ", writable overlay" : ""))")
        }
    }
}

/// `ocirun sif umount BUNDLE`.
struct SIFUmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "umount",
        abstract: "Unmount what `ocirun sif mount` mounted on BUNDLE and remove its config.json."
    )

    @Argument(help: "The bundle directory.")
    var bundle: String

    func run() throws {
        try sifRun { try SIFBundleMount.unmount(bundle: bundle) }
    }
}

/// `ocirun sif build [--time N] [--compressor C] [--keep-owners] [--oci-config FILE] [--sign-key KEY] ROOTFS IMAGE`.
struct SIFBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a SIF image from a root file system directory or tar archive.",
        discussion: """
        ROOTFS is a directory, or a tar archive (plain or gzip: an OCI image layer, `tar -c` \
        output). It becomes a squashfs (written in-process) in the image's primary system \
        partition. The output is reproducible: entries sorted, owners 0:0 (unless --keep-owners), \
        every time set to --time (default 0), UUID derived from the content; building twice gives \
        the same bytes.
        """
    )

    @Option(name: .long, help: "Time (Unix seconds) of the files, the squashfs and the SIF header.")
    var time: Int64 = 0

    @Option(name: .long, help: "squashfs compressor: gzip (default), zstd, xz, lz4, lzo.")
    var compressor: String?

    @Flag(name: .customLong("keep-owners"), help: "Record the files' owners instead of 0:0.")
    var keepOwners = false

    @Option(name: .customLong("oci-config"), help: "An OCI image config (JSON: config.Env, Entrypoint, Cmd, WorkingDir, User, Labels) to store in the image for `sif mount`.")
    var ociConfig: String?

    @Option(name: .customLong("sign-key"), help: "Sign the image with this PEM private key (ed25519 or ECDSA).")
    var signKey: String?

    @Argument(help: "The root file system: a directory or a tar archive (plain or gzip).")
    var rootfs: String

    @Argument(help: "The SIF image to write (replaced).")
    var image: String

    func run() throws {
        try sifRun {
            guard time >= 0 && time <= Int64(UInt32.max) else {
                throw SIFError(.invalidArgument, "--time \(time): must be between 0 and \(UInt32.max)")
            }
            var o = SIFBuilder.Options()
            o.time = time
            o.compressor = compressor
            o.keepOwners = keepOwners
            if let ociConfig {
                let bytes = try readFileBytes(ociConfig, limit: 4 << 20)
                guard case .object(let doc)? = try? JSONValue.parse(bytes), doc["config"]?.objectValue != nil else {
                    throw SIFError(.invalidArgument, "--oci-config \(ociConfig): not an OCI image config (a JSON object with a \"config\" object)")
                }
                o.ociConfig = bytes
            }
            try SIFBuilder.build(rootfs: rootfs, output: image, options: o)
            if let signKey {
                let k = try SIFPrivateKey.load(path: signKey)
                _ = try SIFSigner.sign(path: image, key: k)
            }
            print("built \(image)")
        }
    }
}
