#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import JSON
import OCISpec
import SIFFormat

/// `ocirun sif mount IMAGE BUNDLE` / `ocirun sif umount BUNDLE`: a bundle whose `rootfs` is the
/// image's squashfs, mounted, and whose `config.json` comes from the image. What was mounted is
/// recorded in `BUNDLE/.ocirun-sif-mount.json`, so that umount undoes exactly that.
public enum SIFBundleMount {
    /// The record's file name in the bundle.
    public static let recordName = ".ocirun-sif-mount.json"

    /// Makes `bundle` (created if missing; `rootfs` and `config.json` must not exist yet).
    public static func mount(imagePath: String, bundle: String, writable: Bool,
                             method: SIFMounter.Method = SIFMounter.defaultMethod) throws -> SIFMountRecord {
        let imagePath = absolute(imagePath), bundle = absolute(bundle)
        let image = try SIFImage(path: imagePath)
        let source = try SIFRootfsSource.locate(image, path: imagePath)
        let fd = open(imagePath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SIFError(.io, "open \(imagePath): \(errnoText())") }
        defer { close(fd) }
        let spec: Spec
        do {
            let squashfs = try SquashfsReader(fd: fd, offset: UInt64(source.offset), size: UInt64(source.size))
            spec = try SIFBundleConfig.make(imagePath: imagePath, source: source, squashfs: squashfs, writable: writable)
        } catch let e as SIFError {
            throw e.prefixed("\(imagePath): object \(source.objectID)")
        }

        let recordPath = bundle + "/" + recordName
        let rootfs = bundle + "/rootfs"
        let configPath = bundle + "/config.json"
        if access(recordPath, F_OK) == 0 {
            throw SIFError(.invalidArgument, "\(bundle): already holds a mounted SIF (\(recordName)); run `ocirun sif umount \(bundle)` first")
        }
        if access(configPath, F_OK) == 0 {
            throw SIFError(.invalidArgument, "\(bundle): config.json exists; give a new or empty bundle directory")
        }
        var made: [String] = []
        if mkdir(bundle, 0o755) == 0 { made.append(bundle) } else if errno != EEXIST {
            throw SIFError(.io, "mkdir \(bundle): \(errnoText())")
        }
        if mkdir(rootfs, 0o755) == 0 { made.append(rootfs) } else if errno != EEXIST {
            for d in made.reversed() { rmdir(d) }
            throw SIFError(.io, "mkdir \(rootfs): \(errnoText())")
        }
        var record: SIFMountRecord?
        do {
            let r = try SIFMounter.mount(imagePath: imagePath, source: source, at: rootfs, writable: writable,
                                         workDir: bundle + "/.ocirun-sif-overlay", method: method)
            record = r
            var saved = r
            saved.workDir = r.workDir
            try writeFile(recordPath, JSONEncoding.encodeBytes(saved, pretty: true))
            try writeFile(configPath, JSONEncoding.encodeBytes(spec, pretty: true))
            return r
        } catch {
            if let r = record { SIFMounter.unmount(r) }
            unlink(recordPath)
            unlink(configPath)
            for d in made.reversed() { rmdir(d) }
            throw error
        }
    }

    /// Unmounts what `mount` recorded in `bundle` and removes the record and the config.json it wrote.
    public static func unmount(bundle: String) throws {
        let bundle = absolute(bundle)
        let recordPath = bundle + "/" + recordName
        let bytes: [UInt8]
        do { bytes = try readFileBytes(recordPath) } catch {
            throw SIFError(.notFound, "\(bundle): no SIF mounted here (no \(recordName))")
        }
        let record: SIFMountRecord
        do { record = try JSONDecoding.decode(SIFMountRecord.self, from: bytes) } catch {
            throw SIFError(.invalidFormat, "\(recordPath): unreadable record", cause: error)
        }
        let problems = SIFMounter.unmount(record)
        guard problems.isEmpty else {
            throw SIFError(.io, "umount \(bundle): " + problems.joined(separator: "; "))
        }
        unlink(recordPath)
        unlink(bundle + "/config.json")
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SIFError(.io, "create \(path): \(errnoText())") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SIFError(.io, "write \(path): \(errnoText())") }
            done += n
        }
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return path }
        return String(cString: buf) + "/" + path
    }
}

/// The bytes of a small file (records, policies, keys): at most `limit`.
public func readFileBytes(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SIFError(.io, "open \(path): \(errnoText())") }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { throw SIFError(.io, "read \(path): \(errnoText())") }
        if n == 0 { return out }
        out += buf[0..<n]
        guard out.count <= limit else { throw SIFError(.invalidArgument, "\(path): larger than \(limit) bytes") }
    }
}
