import LinuxSystem

/// The one error type of the runtime: a code, a message that names the object, and a cause.
/// Its text chains the cause: `create container "c1": mount /proc: Operation not permitted`.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case invalidArgument, notFound, exists, invalidState, unsupported, failed
    }

    public var code: Code
    public var message: String
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause.map { "\($0)" }
    }

    public var description: String {
        if let cause { return "\(message): \(cause)" }
        return message
    }

    /// Wraps any error with a context message, keeping the code of a RuntimeError.
    public static func wrap(_ error: any Error, _ context: String) -> RuntimeError {
        if let e = error as? RuntimeError {
            return RuntimeError(e.code, context, cause: e)
        }
        return RuntimeError(.failed, context, cause: error)
    }
}

/// Runs `body`, prefixing any error with `context`.
@inlinable
public func withContext<T>(_ context: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw RuntimeError.wrap(error, context()) }
}
