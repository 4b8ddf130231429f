#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SIFFormat

/// Builds a SIF image around a squashfs of a directory: the header, a descriptor table of 48
/// slots (as sylabs writes), and the squashfs as the primary system partition (object 1, group 1),
/// aligned to 4 KiB, optionally followed by an OCI image config (object 2, group 1). The same directory and options give the same bytes: the times are
/// `time` (default 0) and the UUID is derived from the partition's content.
public enum SIFBuilder {
    /// What `build` makes.
    public struct Options: Sendable {
        /// Header, descriptor and squashfs times (Unix seconds).
        public var time: Int64 = 0
        /// The squashfs compressor (gzip when nil).
        public var compressor: String?
        /// Architecture of the partition and header ("amd64").
        public var arch: String = SIFBuilder.hostArch
        /// Keep the files' owners instead of recording 0:0.
        public var keepOwners = false
        /// An OCI image config (JSON) stored as a generic JSON object named `oci-config.json` in
        /// the partition's group; `sif mount` takes the process from it.
        public var ociConfig: [UInt8]?
        public init() {}
    }

    /// The Go name of this machine's architecture.
    public static var hostArch: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #elseif arch(powerpc64le)
        return "ppc64le"
        #elseif arch(s390x)
        return "s390x"
        #else
        return "unknown"
        #endif
    }

    static let descriptorSlots = 48
    static let alignment: Int64 = 4096

    /// Writes `output` (replaced atomically) from `rootfs`: a directory, or a tar archive
    /// (plain or gzip) such as an OCI image layer.
    public static func build(rootfs: String, output: String, options: Options = Options()) throws {
        let tmp = output + ".tmp-\(getpid())"
        let sqfsPath = tmp + ".squashfs"
        defer { unlink(sqfsPath); unlink(tmp) }
        var rst = stat()
        guard stat(rootfs, &rst) == 0 else { throw SIFError(.notFound, "\(rootfs): \(errnoText())") }
        if (rst.st_mode & S_IFMT) == S_IFREG {
            try SquashfsWriter.write(tar: rootfs, to: sqfsPath, mtime: UInt32(clamping: options.time),
                                     compressor: options.compressor, keepOwners: options.keepOwners)
        } else {
            try SquashfsWriter.write(directory: rootfs, to: sqfsPath, mtime: UInt32(clamping: options.time),
                                     compressor: options.compressor, keepOwners: options.keepOwners)
        }
        let src = open(sqfsPath, O_RDONLY | O_CLOEXEC)
        guard src >= 0 else { throw SIFError(.io, "open \(sqfsPath): \(errnoText())") }
        defer { close(src) }
        var st = stat()
        guard fstat(src, &st) == 0 else { throw SIFError(.io, "stat \(sqfsPath): \(errnoText())") }
        let size = Int64(st.st_size)

        let dst = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard dst >= 0 else { throw SIFError(.io, "create \(tmp): \(errnoText())") }
        defer { close(dst) }

        // Copy the partition to its place, hashing it for the UUID on the way.
        let descOffset: Int64 = 4096
        let dataOffset = descOffset + Int64(descriptorSlots * SIFLayout.descriptorSize)
        let partOffset = (dataOffset + alignment - 1) / alignment * alignment
        var hash = ContentHash()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var done: Int64 = 0
        while done < size {
            let n = buffer.withUnsafeMutableBytes { pread(src, $0.baseAddress, $0.count, off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SIFError(.io, "read \(sqfsPath): \(n < 0 ? errnoText() : "short read")") }
            hash.update(buffer[0..<n])
            try writeAll(dst, Array(buffer[0..<n]), at: partOffset + done, path: tmp)
            done += Int64(n)
        }

        var extra = FieldWriter()
        extra.i32(SIFFSType.squashfs.rawValue)
        extra.i32(SIFPartitionType.primarySystem.rawValue)
        extra.raw(SIFArch.code(name: options.arch), length: 3)
        let part = SIFDescriptor(slot: 0, dataType: .partition, id: 1, groupID: 1, link: .none,
                                 offset: partOffset, size: size, sizeWithPadding: size + (partOffset - dataOffset),
                                 time: options.time, extra: extra.bytes)
        var descriptors = [part]
        var dataSize = part.sizeWithPadding
        if let config = options.ociConfig {
            let at = partOffset + size
            try writeAll(dst, config, at: at, path: tmp)
            descriptors.append(SIFDescriptor(slot: 1, dataType: .genericJSON, id: 2, groupID: 1, link: .none,
                                             offset: at, size: Int64(config.count), sizeWithPadding: Int64(config.count),
                                             time: options.time, name: SIFRootfsSource.ociConfigName))
            dataSize += Int64(config.count)
        }
        var header = try SIFHeader(bytes: [UInt8](repeating: 0, count: 32) + SIFLayout.magic + SIFLayout.version
                                   + [UInt8](repeating: 0, count: SIFLayout.headerSize - 45))
        header.rawLaunchScript = Array("#!/usr/bin/env run-singularity\n".utf8)
        header.rawArch = SIFArch.code(name: options.arch)
        header.uuid = hash.uuid()
        header.createdAt = options.time
        header.modifiedAt = options.time
        header.descriptorsFree = Int64(descriptorSlots - descriptors.count)
        header.descriptorsTotal = Int64(descriptorSlots)
        header.descriptorsOffset = descOffset
        header.descriptorsSize = Int64(descriptorSlots * SIFLayout.descriptorSize)
        header.dataOffset = dataOffset
        header.dataSize = dataSize

        var front = header.encoded()
        front += [UInt8](repeating: 0, count: Int(descOffset) - front.count)
        for d in descriptors { front += d.encoded() }
        front += [UInt8](repeating: 0, count: Int(partOffset) - front.count)
        try writeAll(dst, front, at: 0, path: tmp)
        guard fsync(dst) == 0 else { throw SIFError(.io, "fsync \(tmp): \(errnoText())") }
        guard rename(tmp, output) == 0 else { throw SIFError(.io, "rename \(tmp) to \(output): \(errnoText())") }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SIFError(.io, "write \(path): \(errnoText())") }
            done += n
        }
    }
}

/// Two FNV-1a 64-bit hashes with different offsets: a UUID derived from content, not a digest
/// anyone should rely on for integrity (signatures do that).
struct ContentHash {
    var a: UInt64 = 0xcbf2_9ce4_8422_2325
    var b: UInt64 = 0x6c62_272e_07bb_0142
    mutating func update(_ bytes: ArraySlice<UInt8>) {
        var a = self.a, b = self.b
        for x in bytes {
            a = (a ^ UInt64(x)) &* 0x0000_0100_0000_01b3
            b = (b ^ UInt64(x)) &* 0x0000_0100_0000_01b3
        }
        self.a = a
        self.b = b
    }
    /// An RFC 4122 version-5-style UUID (version and variant bits set) from the two hashes.
    func uuid() -> [UInt8] {
        var out: [UInt8] = []
        for v in [a, b] { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(7 - i)))) } }
        out[6] = (out[6] & 0x0f) | 0x50
        out[8] = (out[8] & 0x3f) | 0x80
        return out
    }
}
