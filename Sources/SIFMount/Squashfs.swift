#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSquashfs
import SIFFormat

/// A squashfs read in-process with libsquashfs: a window of an open file (a SIF partition or an
/// OCI layer blob), for the few small files a bundle's configuration comes from.
public final class SquashfsReader {
    private let handle: OpaquePointer

    /// Opens the squashfs at `offset` (`size` bytes) of the open descriptor `fd` (kept open by
    /// the caller while the reader lives).
    public init(fd: Int32, offset: UInt64, size: UInt64) throws {
        var err = [CChar](repeating: 0, count: 512)
        guard let h = csqfs_open(fd, offset, size, &err, err.count) else {
            throw SIFError(.invalidFormat, String(cString: err))
        }
        handle = h
    }

    deinit { csqfs_close(handle) }

    /// The bytes of the regular file at `path` (a final symlink is followed), or nil when there
    /// is no such file; refuses files larger than `limit`.
    public func readFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8]? {
        var err = [CChar](repeating: 0, count: 512)
        var out: UnsafeMutablePointer<UInt8>?
        var len = 0
        let r = csqfs_read_file(handle, path, limit, &out, &len, &err, err.count)
        if r == 1 { return nil }
        guard r == 0, let out else { throw SIFError(.invalidFormat, String(cString: err)) }
        defer { free(out) }
        return Array(UnsafeBufferPointer(start: out, count: len))
    }

    /// The entry names of the directory at `path`, or nil when it is not a directory.
    public func list(_ path: String) throws -> [String]? {
        var err = [CChar](repeating: 0, count: 512)
        var out: UnsafeMutablePointer<CChar>?
        let r = csqfs_list_dir(handle, path, &out, &err, err.count)
        if r == 1 { return nil }
        guard r == 0, let out else { throw SIFError(.invalidFormat, String(cString: err)) }
        defer { free(out) }
        return String(cString: out).split(separator: "\n").map(String.init)
    }
}

/// Writes squashfs images with libsquashfs.
public enum SquashfsWriter {
    /// Writes a squashfs of the tree at `directory` to `output`, reproducibly: entries sorted,
    /// every time `mtime`, owners 0:0 unless `keepOwners`.
    public static func write(directory: String, to output: String, mtime: UInt32 = 0,
                             compressor: String? = nil, keepOwners: Bool = false) throws {
        var err = [CChar](repeating: 0, count: 1024)
        let r = csqfs_write_dir(directory, output, mtime, compressor, keepOwners ? 0 : 1, &err, err.count)
        guard r == 0 else { throw SIFError(.io, String(cString: err)) }
    }

    /// Writes a squashfs of the tar archive (plain or gzip) at `archive` to `output`, with the
    /// same reproducibility as `write(directory:)`; file data is streamed in archive order.
    public static func write(tar archive: String, to output: String, mtime: UInt32 = 0,
                             compressor: String? = nil, keepOwners: Bool = false) throws {
        var err = [CChar](repeating: 0, count: 1024)
        let r = csqfs_write_tar(archive, output, mtime, compressor, keepOwners ? 0 : 1, &err, err.count)
        guard r == 0 else { throw SIFError(.invalidArgument, String(cString: err)) }
    }
}
