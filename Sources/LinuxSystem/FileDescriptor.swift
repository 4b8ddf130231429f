#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// An owning file descriptor: closed when the value is released or `close()` is called.
public final class FileDescriptor {
    public private(set) var rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    deinit { if rawValue >= 0 { Glibc.close(rawValue) } }

    /// Gives up ownership; the caller closes the descriptor.
    public func release() -> Int32 {
        let fd = rawValue
        rawValue = -1
        return fd
    }

    public func close() {
        if rawValue >= 0 { Glibc.close(rawValue) }
        rawValue = -1
    }

    /// `/proc/self/fd/N`: a path that names this descriptor's file for mount(2) and friends.
    public var procPath: String { "/proc/self/fd/" + decimal(Int64(rawValue)) }

    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws -> FileDescriptor {
        let fd = try retrying("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(fd)
    }

    public static func openat(_ dir: FileDescriptor, _ path: String, _ flags: Int32, mode: mode_t = 0) throws -> FileDescriptor {
        let fd = try retrying("openat", path) { Glibc.openat(dir.rawValue, path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(fd)
    }

    /// Reads to end of file.
    public func readAll() throws -> [UInt8] {
        // Sized by fstat (/proc and /sys files say 0 or 4096), read into uninitialized storage:
        // no zeroed 16 KiB chunk per file.
        var st = stat()
        var want = 4096
        if fstat(rawValue, &st) == 0, st.st_size > 0, st.st_size < 1 << 30 { want = Int(st.st_size) + 1 }
        var out = try [UInt8](unsafeUninitializedCapacity: want) { buf, count in
            count = 0
            while count < buf.count {
                let n = try retrying("read") { Glibc.read(rawValue, buf.baseAddress! + count, buf.count - count) }
                if n == 0 { return }
                count += n
            }
        }
        guard out.count == want else { return out }
        // Longer than fstat said: go on in chunks.
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try chunk.withUnsafeMutableBytes { buf in
                try retrying("read") { Glibc.read(rawValue, buf.baseAddress, buf.count) }
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    public func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try bytes.withUnsafeBytes { buf in
                try retrying("write") { Glibc.write(rawValue, buf.baseAddress! + offset, buf.count - offset) }
            }
            offset += n
        }
    }

    public func writeAll(_ string: String) throws { try writeAll(Array(string.utf8)) }

    /// Writes all of `string` to a descriptor this process does not own (stdout, stderr).
    /// Unlike `print`, no generic formatting: no protocol-conformance lookups at start-up.
    public static func write(_ fd: Int32, _ string: String) throws {
        var s = string
        try s.withUTF8 { try write(fd, bytes: $0) }
    }

    /// Writes all of `bytes` to a descriptor this process does not own.
    public static func write(_ fd: Int32, bytes: UnsafeBufferPointer<UInt8>) throws {
        var offset = 0
        while offset < bytes.count {
            offset += try retrying("write") { Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
        }
    }
}
