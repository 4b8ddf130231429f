#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSquashfs
import JSON
import SIFFormat

/// What one SIF mount made, in the order it was made; undone in reverse by `SIFMounter.unmount`.
public struct SIFMountRecord: Codable, Sendable, Equatable {
    /// The image file.
    public var image: String
    /// "kernel" (loop device + squashfs) or "squashfuse".
    public var method: String
    /// Mount points, first made first: [squashfs] or [tmpfs, squashfs, overlay].
    public var mounts: [String]
    /// The loop device used (it clears itself when its mount goes: autoclear).
    public var loopDevice: String?
    /// A directory made for the overlay's layers, removed after the mounts.
    public var workDir: String?

    public init(image: String, method: String, mounts: [String] = [], loopDevice: String? = nil, workDir: String? = nil) {
        self.image = image
        self.method = method
        self.mounts = mounts
        self.loopDevice = loopDevice
        self.workDir = workDir
    }
}

/// Mounts the root file system of a SIF image read-only at a directory: as root a loop device
/// (offset and size limit of the squashfs, read-only, autoclear) and the kernel's squashfs;
/// otherwise `squashfuse -o ro,offset=N`. With `writable`, an overlay with a tmpfs upper layer
/// goes on top. A failed mount leaves nothing mounted and no loop device.
public enum SIFMounter {
    public enum Method: String, Sendable { case kernel, squashfuse }

    /// The method used when none is asked for: the kernel's squashfs when root.
    public static var defaultMethod: Method { geteuid() == 0 ? .kernel : .squashfuse }

    /// Mounts the rootfs of `imagePath` at `target` (an existing empty directory). `workDir`
    /// (made, then removed on unmount) holds the overlay layers when `writable`.
    /// `openPath` (default `imagePath`) is what is opened, e.g. `/proc/self/fd/N` of the
    /// descriptor an image was verified through; `imagePath` is what messages and the record name.
    public static func mount(imagePath: String, source: SIFRootfsSource, at target: String, writable: Bool,
                             workDir: String, method: Method = defaultMethod, openPath: String? = nil) throws -> SIFMountRecord {
        var record = SIFMountRecord(image: imagePath, method: method.rawValue)
        do {
            var lower = target
            if writable {
                guard mkdir(workDir, 0o700) == 0 else { throw SIFError(.io, "mkdir \(workDir): \(errnoText())") }
                record.workDir = workDir
                if method == .kernel {
                    guard Glibc.mount("tmpfs", workDir, "tmpfs", UInt(MS_NODEV | MS_NOSUID), "mode=0700") == 0 else {
                        throw SIFError(.io, "mount tmpfs on \(workDir): \(errnoText())")
                    }
                    record.mounts.append(workDir)
                }
                for d in ["lower", "upper", "work"] where mkdir(workDir + "/" + d, 0o755) != 0 {
                    throw SIFError(.io, "mkdir \(workDir)/\(d): \(errnoText())")
                }
                lower = workDir + "/lower"
            }
            switch method {
            case .kernel:
                record.loopDevice = try mountKernel(imagePath, openPath: openPath ?? imagePath, source: source, at: lower)
            case .squashfuse:
                try mountFuse(imagePath, source: source, at: lower)
            }
            record.mounts.append(lower)
            if writable {
                let opts = "lowerdir=\(workDir)/lower,upperdir=\(workDir)/upper,workdir=\(workDir)/work"
                guard method == .kernel else {
                    throw SIFError(.unsupported, "--writable needs root (an overlay over a FUSE mount is not made rootless)")
                }
                guard Glibc.mount("overlay", target, "overlay", 0, opts) == 0 else {
                    throw SIFError(.io, "mount overlay on \(target): \(errnoText())")
                }
                record.mounts.append(target)
            }
            return record
        } catch {
            _ = unmount(record)
            throw error
        }
    }

    static func mountKernel(_ imagePath: String, openPath: String, source: SIFRootfsSource, at target: String) throws -> String {
        let fd = open(openPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SIFError(.io, "open \(imagePath): \(errnoText())") }
        defer { close(fd) }
        var err = [CChar](repeating: 0, count: 512)
        var nr: Int32 = -1
        let loop = csqfs_loop_attach(fd, UInt64(source.offset), UInt64(source.size), &nr, &err, err.count)
        guard loop >= 0 else { throw SIFError(.io, "\(imagePath): loop device: \(String(cString: err))") }
        // Autoclear: once `loop` is closed the device goes with its last mount (or now, if the
        // mount failed).
        defer { close(loop) }
        let dev = "/dev/loop\(nr)"
        guard Glibc.mount(dev, target, "squashfs", UInt(MS_RDONLY | MS_NODEV), nil) == 0 else {
            throw SIFError(.io, "mount \(imagePath) (object \(source.objectID), squashfs via \(dev)) on \(target): \(errnoText())")
        }
        return dev
    }

    static func mountFuse(_ imagePath: String, source: SIFRootfsSource, at target: String) throws {
        guard let fuse = findProgram("squashfuse") else {
            throw SIFError(.unsupported, "mount \(imagePath) without root: squashfuse is not installed (Debian package squashfuse)")
        }
        let (status, err) = try runHelper([fuse, "-o", "ro,offset=\(source.offset)", imagePath, target])
        guard status == 0 else {
            throw SIFError(.io, "squashfuse \(imagePath) on \(target) failed (status \(status))\(err.isEmpty ? "" : ": \(err)")")
        }
    }

    /// Unmounts what `record` holds, newest first, and removes its work directory. Returns the
    /// problems met (nothing mounted any more is not one).
    @discardableResult
    public static func unmount(_ record: SIFMountRecord) -> [String] {
        var problems: [String] = []
        for m in record.mounts.reversed() {
            if umount2(m, 0) == 0 || errno == EINVAL || errno == ENOENT { continue }
            if errno == EPERM && record.method == SIFMounter.Method.squashfuse.rawValue {
                let helper = findProgram("fusermount3") ?? findProgram("fusermount")
                if let helper, let (status, err) = try? runHelper([helper, "-u", m]), status == 0 || err.utf8.containsSequence("not found in".utf8) { continue }
                problems.append("unmount \(m) (fusermount -u failed)")
                continue
            }
            if errno == EBUSY && umount2(m, Int32(MNT_DETACH)) == 0 { continue }
            problems.append("umount \(m): \(errnoText())")
        }
        if let w = record.workDir {
            for d in ["lower", "upper", "work"] { rmdir(w + "/" + d) }
            if rmdir(w) != 0 && errno != ENOENT { problems.append("rmdir \(w): \(errnoText())") }
        }
        return problems
    }
}
