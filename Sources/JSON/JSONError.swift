/// A JSON parse, decode or encode failure, naming where in the document it happened.
///
/// `path` is written as jq writes it: `.` is the document, `.process.args`, `.linux.namespaces[2].type`,
/// and keys that are not identifiers are quoted: `.annotations["org.opencontainers.image"]`.
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where the problem is, in jq syntax.
    public var path: String
    /// What is wrong, lowercase: `expected array, found string`, `missing required field`.
    public var message: String

    /// An error at `path`.
    public init(path: String = ".", message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`, e.g. `.process.user.uid: value -1 out of range for UInt32`.
    public var description: String { "\(path): \(message)" }
}

/// One step of a path into a document.
enum JSONPathComponent {
    case key(String)
    case index(Int)
}

extension JSONError {
    /// Renders path components in jq syntax.
    static func render<C: Collection>(_ components: C) -> String where C.Element == JSONPathComponent {
        if components.isEmpty { return "." }
        var out = ""
        for c in components {
            switch c {
            case .index(let i):
                out += "[\(i)]"
            case .key(let k):
                if isIdentifier(k) {
                    out += "." + k
                } else {
                    if out.isEmpty { out = "." }
                    out += "[" + JSONValue.string(k).serialized() + "]"
                }
            }
        }
        return out
    }

    /// Renders a Swift coding path (from a `DecodingError` or an `Encoder`) in jq syntax.
    static func render(codingPath: [any CodingKey]) -> String {
        render(codingPath.map { key -> JSONPathComponent in
            if let i = key.intValue, key.stringValue == "Index \(i)" || key.stringValue == String(i) {
                return .index(i)
            }
            return .key(key.stringValue)
        })
    }

    /// Converts a Swift `DecodingError` (thrown by a model's own `init(from:)`) to a `JSONError`.
    static func from(_ error: DecodingError) -> JSONError {
        switch error {
        case .keyNotFound(let key, let ctx):
            return JSONError(path: render(codingPath: ctx.codingPath + [key]), message: "missing required field")
        case .valueNotFound(let type, let ctx):
            return JSONError(path: render(codingPath: ctx.codingPath), message: "expected \(type), found null")
        case .typeMismatch(let type, let ctx):
            return JSONError(
                path: render(codingPath: ctx.codingPath),
                message: ctx.debugDescription.isEmpty ? "expected \(type)" : ctx.debugDescription)
        case .dataCorrupted(let ctx):
            return JSONError(path: render(codingPath: ctx.codingPath), message: ctx.debugDescription)
        @unknown default:
            return JSONError(message: "\(error)")
        }
    }

    /// Converts a Swift `EncodingError` to a `JSONError`.
    static func from(_ error: EncodingError) -> JSONError {
        switch error {
        case .invalidValue(_, let ctx):
            return JSONError(path: render(codingPath: ctx.codingPath), message: ctx.debugDescription)
        @unknown default:
            return JSONError(message: "\(error)")
        }
    }

    private static func isIdentifier(_ s: String) -> Bool {
        var first = true
        for b in s.utf8 {
            let letter = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
            let digit = b >= 0x30 && b <= 0x39
            if !(letter || (digit && !first)) { return false }
            first = false
        }
        return !first
    }
}
