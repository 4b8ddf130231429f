import Crypto

/// A hash the integrity scheme can use.
public enum SIFDigestAlgorithm: String, Sendable, CaseIterable {
    case sha256, sha384, sha512

    /// The algorithm for a signature descriptor's hash type; nil for BLAKE2 and unknown types.
    public init?(hashType: SIFHashType) {
        switch hashType {
        case .sha256: self = .sha256
        case .sha384: self = .sha384
        case .sha512: self = .sha512
        default: return nil
        }
    }

    /// The digest length in bytes.
    public var size: Int {
        switch self {
        case .sha256: return 32
        case .sha384: return 48
        case .sha512: return 64
        }
    }

    /// The descriptor hash type for this algorithm.
    public var hashType: SIFHashType {
        switch self {
        case .sha256: return .sha256
        case .sha384: return .sha384
        case .sha512: return .sha512
        }
    }

    /// One-shot digest.
    public func hash(_ bytes: [UInt8]) -> [UInt8] {
        var h = SIFHasher(self)
        h.update(bytes)
        return h.finalize()
    }
}

/// An incremental hasher over one of the supported algorithms.
public struct SIFHasher {
    private enum State {
        case sha256(SHA256), sha384(SHA384), sha512(SHA512)
    }
    private var state: State

    /// Starts a hash.
    public init(_ algorithm: SIFDigestAlgorithm) {
        switch algorithm {
        case .sha256: state = .sha256(SHA256())
        case .sha384: state = .sha384(SHA384())
        case .sha512: state = .sha512(SHA512())
        }
    }

    /// Feeds bytes.
    public mutating func update(_ bytes: [UInt8]) {
        switch state {
        case .sha256(var h): h.update(data: bytes); state = .sha256(h)
        case .sha384(var h): h.update(data: bytes); state = .sha384(h)
        case .sha512(var h): h.update(data: bytes); state = .sha512(h)
        }
    }

    /// The digest.
    public func finalize() -> [UInt8] {
        switch state {
        case .sha256(let h): return Array(h.finalize())
        case .sha384(let h): return Array(h.finalize())
        case .sha512(let h): return Array(h.finalize())
        }
    }
}

/// A digest in the integrity metadata: "sha256:<hex>".
public struct SIFDigest: Sendable, Hashable, CustomStringConvertible {
    /// The algorithm.
    public var algorithm: SIFDigestAlgorithm
    /// The digest bytes.
    public var value: [UInt8]

    /// Wraps a digest value.
    public init(algorithm: SIFDigestAlgorithm, value: [UInt8]) {
        self.algorithm = algorithm
        self.value = value
    }

    /// Parses "alg:hex"; throws on an unknown algorithm or a malformed value.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw SIFError(.invalidFormat, "malformed digest \"\(text.prefix(80))\"") }
        guard let alg = SIFDigestAlgorithm(rawValue: String(parts[0])) else {
            throw SIFError(.unsupported, "unsupported digest algorithm \"\(parts[0].prefix(20))\"")
        }
        guard let value = Hex.decode(String(parts[1])), value.count == alg.size else {
            throw SIFError(.invalidFormat, "malformed digest \"\(text.prefix(80))\"")
        }
        self.init(algorithm: alg, value: value)
    }

    /// "sha256:<hex>".
    public var description: String { "\(algorithm.rawValue):\(hexString(value))" }
}

extension SIFImage {
    /// The digest of an object's data, streamed in chunks.
    public func digest(of d: SIFDescriptor, algorithm: SIFDigestAlgorithm) throws -> [UInt8] {
        var h = SIFHasher(algorithm)
        try forEachChunk(of: d) { h.update($0) }
        return h.finalize()
    }
}
