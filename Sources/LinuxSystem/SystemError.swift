#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call: reads `mount /proc: Operation not permitted`.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    /// The syscall's name, as the man page spells it.
    public var syscall: String
    /// The path or object the call acted on, if any.
    public var path: String?
    /// The errno value.
    public var errno: Int32

    public init(_ syscall: String, _ path: String? = nil, errno: Int32 = Glibc.errno) {
        self.syscall = syscall
        self.path = path
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        if let path { return "\(syscall) \(path): \(reason)" }
        return "\(syscall): \(reason)"
    }
}

/// Retries `body` while it fails with EINTR; throws a `SystemError` on any other failure.
/// Inlinable, so that each caller gets a version for its integer type (generic code across
/// modules costs runtime metadata lookups on every first call).
@inlinable
@discardableResult
public func retrying<T: BinaryInteger>(_ syscall: String, _ path: String? = nil, _ body: () -> T) throws -> T {
    while true {
        let r = body()
        if r >= 0 { return r }
        let e = errno
        if e == EINTR { continue }
        throw SystemError(syscall, path, errno: e)
    }
}

/// `String(value)` in decimal, without the stdlib's generic integer formatting: that code lies in
/// the stdlib's one big `.text` section, 64 KB windows of which every command that formats a
/// number would map (docs/performance.md, item 34). For paths like `/proc/PID/stat`.
public func decimal(_ value: Int64) -> String {
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // a sign and 20 digits fit in 24 bytes
    return withUnsafeMutableBytes(of: &digits) { raw in
        let buf = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var i = raw.count
        var m = value.magnitude
        repeat {
            i -= 1
            buf[i] = UInt8(truncatingIfNeeded: m % 10) &+ 48
            m /= 10
        } while m != 0
        if value < 0 {
            i -= 1
            buf[i] = UInt8(ascii: "-")
        }
        return String(decoding: UnsafeBufferPointer(start: buf + i, count: raw.count - i), as: UTF8.self)
    }
}

extension String {
    /// `hasPrefix` for an ASCII prefix, over bytes: the stdlib's `hasPrefix` compares Characters,
    /// through grapheme-breaking code the hot commands otherwise never run (item 34).
    @inlinable
    public func hasASCIIPrefix(_ prefix: StaticString) -> Bool {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        var u = utf8.makeIterator()
        for b in p {
            guard u.next() == b else { return false }
        }
        return true
    }
}
