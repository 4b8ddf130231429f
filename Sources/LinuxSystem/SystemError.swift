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
