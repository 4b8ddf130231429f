#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Random access to the bytes of an image: the reader reads only what it is asked for, never the
/// whole file (images are many GiB).
public protocol RandomAccessReader: AnyObject {
    /// The size of the underlying file in bytes.
    var size: UInt64 { get }
    /// Reads exactly `count` bytes at `offset`, or throws.
    func read(at offset: UInt64, count: Int) throws -> [UInt8]
}

/// A reader that can also write in place (used by `sign` to append a signature object).
public protocol RandomAccessWriter: RandomAccessReader {
    /// Writes all of `bytes` at `offset`, growing the file when needed.
    func write(_ bytes: [UInt8], at offset: UInt64) throws
    /// Flushes written data to stable storage.
    func sync() throws
}

/// A file opened with `open(2)` and read with `pread(2)`; the descriptor is closed on deinit.
public final class FileImageReader: RandomAccessWriter {
    /// The path the file was opened from, for messages.
    public let path: String
    private let fd: Int32
    /// The file size, taken at open and updated by writes.
    public private(set) var size: UInt64

    /// Opens `path` read-only, or read-write when `writable` is true.
    public init(path: String, writable: Bool = false) throws {
        self.path = path
        var fd: Int32
        repeat {
            fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw SIFError(.io, "open \(path): \(errnoText())") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let text = errnoText()
            close(fd)
            throw SIFError(.io, "stat \(path): \(text)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SIFError(.invalidArgument, "\(path): not a regular file")
        }
        self.fd = fd
        self.size = UInt64(st.st_size)
    }

    deinit { close(fd) }

    /// Reads exactly `count` bytes at `offset` (EINTR retried; short reads continued).
    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        guard count >= 0 else { throw SIFError(.invalidArgument, "read \(path): negative count") }
        guard count > 0 else { return [] }
        guard offset <= size, UInt64(count) <= size - offset else {
            throw SIFError(.invalidFormat, "read \(path): \(count) bytes at offset \(offset) extend past end of file")
        }
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        try buffer.withUnsafeMutableBytes { raw in
            while done < count {
                let n = pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SIFError(.io, "pread \(path): \(errnoText())")
                }
                if n == 0 { throw SIFError(.io, "pread \(path): unexpected end of file at \(offset + UInt64(done))") }
                done += n
            }
        }
        return buffer
    }

    /// Writes all of `bytes` at `offset` with `pwrite(2)`.
    public func write(_ bytes: [UInt8], at offset: UInt64) throws {
        var done = 0
        try bytes.withUnsafeBytes { raw in
            while done < bytes.count {
                let n = pwrite(fd, raw.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SIFError(.io, "pwrite \(path): \(errnoText())")
                }
                done += n
            }
        }
        size = max(size, offset + UInt64(bytes.count))
    }

    /// Calls `fsync(2)`.
    public func sync() throws {
        guard fsync(fd) == 0 else { throw SIFError(.io, "fsync \(path): \(errnoText())") }
    }
}

/// An in-memory image, for tests and fuzzing.
public final class MemoryImageReader: RandomAccessWriter {
    /// The image bytes.
    public private(set) var bytes: [UInt8]
    /// Makes a reader over `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// The number of bytes.
    public var size: UInt64 { UInt64(bytes.count) }

    /// Reads exactly `count` bytes at `offset`.
    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        guard count >= 0, offset <= size, UInt64(count) <= size - offset else {
            throw SIFError(.invalidFormat, "read: \(count) bytes at offset \(offset) extend past end of file")
        }
        let start = Int(offset)
        return Array(bytes[start..<start + count])
    }

    /// Writes `data` at `offset`, zero-filling any gap.
    public func write(_ data: [UInt8], at offset: UInt64) throws {
        let start = Int(offset)
        if bytes.count < start + data.count {
            bytes.append(contentsOf: [UInt8](repeating: 0, count: start + data.count - bytes.count))
        }
        bytes.replaceSubrange(start..<start + data.count, with: data)
    }

    /// Nothing to flush.
    public func sync() throws {}
}

package func errnoText() -> String {
    String(cString: strerror(errno))
}
