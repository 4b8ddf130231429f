import JSON

/// A DSSE envelope (secure-systems-lab/dsse): a typed payload and signatures over its
/// pre-authentication encoding. sylabs' scheme stores one as a signature object's data, with the
/// `SIFImageMetadata` JSON as payload.
public struct DSSEEnvelope: Sendable, Equatable {
    /// One signature.
    public struct Signature: Sendable, Equatable {
        /// The signer's key id (informational; not authenticated).
        public var keyID: String
        /// The signature bytes.
        public var sig: [UInt8]
    }

    /// The payload type ("application/vnd.sylabs.sif-metadata+json").
    public var payloadType: String
    /// The payload bytes.
    public var payload: [UInt8]
    /// The signatures.
    public var signatures: [Signature]

    /// Makes an envelope.
    public init(payloadType: String, payload: [UInt8], signatures: [Signature]) {
        self.payloadType = payloadType
        self.payload = payload
        self.signatures = signatures
    }

    /// Whether `bytes` looks like a JSON envelope (first non-space byte is "{").
    static func looksLikeEnvelope(_ bytes: [UInt8]) -> Bool {
        bytes.first { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 } == UInt8(ascii: "{")
    }

    /// Parses the JSON form.
    public init(json: [UInt8]) throws {
        let v: JSONValue
        do { v = try JSONValue.parse(json) } catch {
            throw SIFError(.invalidFormat, "dsse envelope is not JSON", cause: error)
        }
        guard let type = v["payloadType"]?.stringValue, let payload = v["payload"]?.stringValue,
              let sigs = v["signatures"]?.arrayValue else {
            throw SIFError(.invalidFormat, "malformed dsse envelope")
        }
        payloadType = type
        self.payload = try Base64.decode(payload)
        signatures = try sigs.map {
            guard let sig = $0["sig"]?.stringValue else { throw SIFError(.invalidFormat, "malformed dsse signature") }
            return Signature(keyID: $0["keyid"]?.stringValue ?? "", sig: try Base64.decode(sig))
        }
    }

    /// The JSON form, as Go's encoder writes it (`payloadType`, `payload`, `signatures`).
    public func encoded() -> [UInt8] {
        JSONValue.object(JSONObject([
            ("payloadType", .string(payloadType)),
            ("payload", .string(Base64.encode(payload))),
            ("signatures", .array(signatures.map {
                .object(JSONObject([("keyid", .string($0.keyID)), ("sig", .string(Base64.encode($0.sig)))]))
            })),
        ])).serializedBytes()
    }

    /// The pre-authentication encoding that is signed:
    /// "DSSEv1" SP len(type) SP type SP len(payload) SP payload.
    public static func pae(payloadType: String, payload: [UInt8]) -> [UInt8] {
        let type = Array(payloadType.utf8)
        return Array("DSSEv1 \(type.count) ".utf8) + type + Array(" \(payload.count) ".utf8) + payload
    }

    /// The descriptions of the keys among `keys` that verify at least one signature.
    public func verifyingKeys(_ keys: [SIFPublicKey], hash: SIFDigestAlgorithm = .sha256) -> [String] {
        let message = DSSEEnvelope.pae(payloadType: payloadType, payload: payload)
        return keys.filter { key in
            signatures.contains { key.verifiesDSSE(signature: $0.sig, message: message, hash: hash) }
        }.map(\.description)
    }
}
