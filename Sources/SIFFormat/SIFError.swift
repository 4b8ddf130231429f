/// The one error type thrown by SIFBundle: a code, a lowercase message that names the object
/// ("descriptor 3: object extends past end of file"), and an optional cause.
public struct SIFError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is, for callers that branch on it.
    public enum Code: String, Sendable {
        /// The file is not a well-formed SIF image (bad magic, bad counts, objects outside the file).
        case invalidFormat
        /// A caller-supplied value (key, option, path) is unusable.
        case invalidArgument
        /// Something looked up (object, group, key) does not exist.
        case notFound
        /// A well-formed but unsupported feature (hash, key algorithm, format version).
        case unsupported
        /// A read or write on the underlying file failed.
        case io
        /// A signature or digest did not verify.
        case verificationFailed
    }

    /// The kind of failure.
    public var code: Code
    /// The message, naming the object it is about.
    public var message: String
    /// The error this one wraps, if any.
    public var cause: SIFErrorCause?

    /// Makes an error with a code and a message.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause.map { SIFErrorCause(String(describing: $0)) }
    }

    /// The message followed by the cause chain: `load image.sif: descriptor 2: ...`.
    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause.text)"
    }

    /// Returns a copy whose message is prefixed with `context` (`"verify x.sif: " + message`).
    public func prefixed(_ context: String) -> SIFError {
        var copy = self
        copy.message = "\(context): \(message)"
        return copy
    }
}

/// The text of a wrapped cause (kept as text so that `SIFError` stays `Sendable`).
public struct SIFErrorCause: Sendable {
    /// The cause's description.
    public var text: String
    init(_ text: String) { self.text = text }
}

@inline(__always)
package func formatError(_ message: String) -> SIFError { SIFError(.invalidFormat, message) }
