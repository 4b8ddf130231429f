import Crypto
import _CryptoExtras

// Just enough OpenPGP (RFC 4880 / RFC 9580) to verify SIF signatures in-process: ASCII armour,
// packet framing, v4 public keys (RSA, EdDSA legacy, Ed25519) and v4 signatures over clear-signed
// text. Key self-signatures, expiry and revocation are not evaluated: the keys given on the
// command line are trusted as they are.

/// ASCII armour (RFC 4880 §6.2).
enum Armor {
    /// Decodes the first armoured block of `type` ("PGP SIGNATURE"); checks the CRC-24 when present.
    static func decode(_ text: String, expecting type: String) throws -> [UInt8] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        guard let begin = lines.firstIndex(where: { $0.trimmingTrailingWhitespace == "-----BEGIN \(type)-----" }) else {
            throw SIFError(.invalidFormat, "no armoured \(type.lowercased()) found")
        }
        var i = begin + 1
        // Armour headers ("Version: …") up to the first blank line.
        while i < lines.count, !lines[i].trimmingTrailingWhitespace.isEmpty, lines[i].contains(":") { i += 1 }
        var body: [UInt8] = []
        var checksum: [UInt8]?
        while i < lines.count {
            let line = lines[i].trimmingTrailingWhitespace
            if line.hasPrefix("-----END ") {
                let data = try Base64.decode(body)
                if let checksum, try Base64.decode(Array(checksum)) != crc24(data) {
                    throw SIFError(.invalidFormat, "armour checksum mismatch")
                }
                return data
            }
            if line.hasPrefix("="), line.count == 5 {
                checksum = Array(line.dropFirst().utf8)
            } else {
                body.append(contentsOf: line.utf8)
            }
            i += 1
        }
        throw SIFError(.invalidFormat, "unterminated armoured \(type.lowercased())")
    }

    static func crc24(_ data: [UInt8]) -> [UInt8] {
        var crc: UInt32 = 0xB704CE
        for b in data {
            crc ^= UInt32(b) << 16
            for _ in 0..<8 {
                crc <<= 1
                if crc & 0x100_0000 != 0 { crc ^= 0x186_4CFB }
            }
        }
        return [UInt8((crc >> 16) & 0xff), UInt8((crc >> 8) & 0xff), UInt8(crc & 0xff)]
    }
}

extension Substring {
    var trimmingTrailingWhitespace: Substring {
        var s = self
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return s
    }
}

/// One OpenPGP packet: tag and body.
struct PGPPacket {
    var tag: Int
    var body: [UInt8]

    /// Splits a binary packet stream (old and new formats, partial lengths joined).
    static func parseAll(_ data: [UInt8]) throws -> [PGPPacket] {
        let bad = SIFError(.invalidFormat, "malformed OpenPGP packet")
        var packets: [PGPPacket] = []
        var i = 0
        func take(_ n: Int) throws -> [UInt8] {
            guard n >= 0, n <= data.count - i else { throw bad }
            defer { i += n }
            return Array(data[i..<i + n])
        }
        func byte() throws -> Int { Int(try take(1)[0]) }
        while i < data.count {
            let ctb = try byte()
            guard ctb & 0x80 != 0 else { throw bad }
            var body: [UInt8] = []
            let tag: Int
            if ctb & 0x40 != 0 {
                tag = ctb & 0x3f
                while true {
                    let b0 = try byte()
                    if b0 < 192 {
                        body += try take(b0)
                        break
                    } else if b0 < 224 {
                        body += try take(((b0 - 192) << 8) + (try byte()) + 192)
                        break
                    } else if b0 == 255 {
                        let l = try take(4).reduce(0) { $0 << 8 | Int($1) }
                        body += try take(l)
                        break
                    } else {
                        body += try take(1 << (b0 & 0x1f))  // partial body length: more follows
                    }
                }
            } else {
                tag = (ctb >> 2) & 0xf
                switch ctb & 3 {
                case 0: body = try take(try byte())
                case 1: body = try take(try take(2).reduce(0) { $0 << 8 | Int($1) })
                case 2: body = try take(try take(4).reduce(0) { $0 << 8 | Int($1) })
                default: body = try take(data.count - i)
                }
            }
            packets.append(PGPPacket(tag: tag, body: body))
        }
        return packets
    }
}

/// Reads big-endian fields and MPIs out of a packet body.
struct PGPCursor {
    let bytes: [UInt8]
    var at = 0
    static let bad = SIFError(.invalidFormat, "malformed OpenPGP packet")

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func take(_ n: Int) throws -> [UInt8] {
        guard n >= 0, n <= bytes.count - at else { throw PGPCursor.bad }
        defer { at += n }
        return Array(bytes[at..<at + n])
    }
    mutating func u8() throws -> Int { Int(try take(1)[0]) }
    mutating func u16() throws -> Int { try take(2).reduce(0) { $0 << 8 | Int($1) } }
    mutating func u32() throws -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
    /// A multiprecision integer: a 16-bit bit count, then the bytes.
    mutating func mpi() throws -> [UInt8] { try take((try u16() + 7) / 8) }
}

/// A hash algorithm as OpenPGP numbers it.
func pgpHash(_ id: Int) -> SIFDigestAlgorithm? {
    switch id {
    case 8: return .sha256
    case 9: return .sha384
    case 10: return .sha512
    default: return nil  // MD5, SHA-1 and RIPEMD are refused; SHA-224 is not in swift-crypto.
    }
}

/// One OpenPGP public key or subkey (version 4).
public struct OpenPGPKeyMaterial: @unchecked Sendable {
    /// The key's algorithm and public parameters.
    enum Kind {
        case rsa(_RSA.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
        case unsupported(Int)
    }
    let kind: Kind
    /// The v4 fingerprint (SHA-1 of the key packet), 20 bytes.
    public let fingerprint: [UInt8]
    /// The key id: the last 8 bytes of the fingerprint.
    public var keyID: [UInt8] { Array(fingerprint.suffix(8)) }

    init(packetBody body: [UInt8]) throws {
        var c = PGPCursor(body)
        let version = try c.u8()
        guard version == 4 else { throw SIFError(.unsupported, "OpenPGP key version \(version) is not supported") }
        _ = try c.u32()  // creation time
        let algorithm = try c.u8()
        switch algorithm {
        case 1, 3:  // RSA (sign-only 3 is deprecated but still RSA)
            let n = try c.mpi()
            let e = try c.mpi()
            kind = .rsa(try _RSA.Signing.PublicKey(n: n, e: e))
        case 22:  // EdDSA (legacy): curve OID, then the point as 0x40 || 32 bytes
            let oid = try c.take(try c.u8())
            let point = try c.mpi()
            guard oid == OID.pgpEd25519, point.count == 33, point[0] == 0x40 else {
                throw SIFError(.unsupported, "unsupported EdDSA curve")
            }
            kind = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: point.dropFirst()))
        case 27:  // Ed25519 (RFC 9580): 32 raw bytes
            kind = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: try c.take(32)))
        default:
            kind = .unsupported(algorithm)
        }
        let header: [UInt8] = [0x99, UInt8(body.count >> 8), UInt8(body.count & 0xff)]
        fingerprint = Array(Insecure.SHA1.hash(data: header + body))
    }

    /// Whether `signature` is a valid signature by this key over `digest` (of algorithm `hash`).
    func verifies(_ sig: PGPSignature, message: [UInt8], hash: SIFDigestAlgorithm) -> Bool {
        switch (kind, sig.algorithm) {
        case (.rsa(let key), 1), (.rsa(let key), 3):
            guard let s = sig.values.first else { return false }
            return rsaVerify(key, signature: s, message: message, hash: hash, padding: .insecurePKCS1v1_5)
        case (.ed25519(let key), 22), (.ed25519(let key), 27):
            guard sig.values.count == 2, sig.values.allSatisfy({ $0.count <= 32 }) else { return false }
            let raw = sig.values.flatMap { [UInt8](repeating: 0, count: 32 - $0.count) + $0 }
            // NOTE: OpenPGP EdDSA signs the hash digest, not the message itself.
            return key.isValidSignature(raw, for: hash.hash(message))
        default:
            return false
        }
    }
}

/// A transferable OpenPGP public key: a primary key, its subkeys and user ids.
public struct OpenPGPPublicKey: Sendable {
    /// The primary key.
    public let primary: OpenPGPKeyMaterial
    /// Subkeys (signing subkeys are accepted like the primary key).
    public let subkeys: [OpenPGPKeyMaterial]
    /// User ids ("Unit Test <unit@test.com>").
    public let userIDs: [String]

    /// Splits a binary keyring into keys.
    public static func parseKeyring(_ data: [UInt8]) throws -> [OpenPGPPublicKey] {
        var keys: [OpenPGPPublicKey] = []
        var primary: OpenPGPKeyMaterial?
        var subkeys: [OpenPGPKeyMaterial] = []
        var uids: [String] = []
        func flush() {
            if let p = primary { keys.append(OpenPGPPublicKey(primary: p, subkeys: subkeys, userIDs: uids)) }
            primary = nil
            subkeys = []
            uids = []
        }
        for packet in try PGPPacket.parseAll(data) {
            switch packet.tag {
            case 6:
                flush()
                primary = try OpenPGPKeyMaterial(packetBody: packet.body)
            case 14:
                if primary != nil, let sub = try? OpenPGPKeyMaterial(packetBody: packet.body) { subkeys.append(sub) }
            case 13:
                uids.append(String(decoding: packet.body, as: UTF8.self))
            case 5, 7:
                throw SIFError(.invalidArgument, "this is a secret key; give the public key")
            default:
                break
            }
        }
        flush()
        guard !keys.isEmpty else { throw SIFError(.invalidFormat, "no OpenPGP public key found") }
        return keys
    }

    /// The primary key and subkeys that may have made a signature with this issuer.
    func candidates(for sig: PGPSignature) -> [OpenPGPKeyMaterial] {
        let all = [primary] + subkeys
        if let fp = sig.issuerFingerprint { return all.filter { $0.fingerprint == fp } }
        if let id = sig.issuerKeyID { return all.filter { $0.keyID == id } }
        return all
    }
}

/// A version 4 signature packet.
struct PGPSignature {
    var type: Int
    var algorithm: Int
    var hashAlgorithm: Int
    /// The hashed part (version … hashed subpackets), which the signature covers after the data.
    var hashedPart: [UInt8]
    var issuerKeyID: [UInt8]?
    var issuerFingerprint: [UInt8]?
    var hashPrefix: [UInt8]
    /// RSA: [s]; EdDSA: [r, s].
    var values: [[UInt8]]

    init(packetBody body: [UInt8]) throws {
        var c = PGPCursor(body)
        let version = try c.u8()
        guard version == 4 else { throw SIFError(.unsupported, "OpenPGP signature version \(version) is not supported") }
        type = try c.u8()
        algorithm = try c.u8()
        hashAlgorithm = try c.u8()
        let hashed = try c.take(try c.u16())
        hashedPart = Array(body[0..<c.at])
        let unhashed = try c.take(try c.u16())
        hashPrefix = try c.take(2)
        switch algorithm {
        case 1, 3: values = [try c.mpi()]
        case 22: values = [try c.mpi(), try c.mpi()]
        case 27:
            let raw = try c.take(64)
            values = [Array(raw[0..<32]), Array(raw[32..<64])]
        default: values = []
        }
        // Issuer subpackets: the hashed ones are authoritative, unhashed ones are hints.
        for area in [unhashed, hashed] {
            var s = PGPCursor(area)
            while s.at < area.count {
                let l0 = try s.u8()
                var length: Int
                if l0 < 192 { length = l0 } else if l0 < 255 { length = ((l0 - 192) << 8) + (try s.u8()) + 192 } else { length = Int(try s.u32()) }
                guard length >= 1 else { throw PGPCursor.bad }
                let sub = try s.take(length)
                switch sub[0] & 0x7f {
                case 16 where sub.count == 9: issuerKeyID = Array(sub[1...])
                case 33 where sub.count == 22 && sub[1] == 4: issuerFingerprint = Array(sub[2...])
                default: break
                }
            }
        }
    }

    /// The bytes that are hashed after the signed data: the hashed part and the v4 trailer.
    var trailer: [UInt8] {
        let n = UInt32(hashedPart.count)
        return hashedPart + [0x04, 0xff, UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
    }
}

/// A clear-signed message (RFC 4880 §7): the text and its detached signature.
public struct ClearSignedMessage {
    /// The text as signed (dash-escaping removed), lines joined with "\n", no final newline.
    public let plaintext: [UInt8]
    /// The canonical form that is hashed: trailing whitespace removed, "\r\n" line ends.
    let canonical: [UInt8]
    let signatures: [PGPSignature]

    /// Whether `bytes` looks like a clear-signed message.
    static func isClearSigned(_ bytes: [UInt8]) -> Bool {
        let head = Array("-----BEGIN PGP SIGNED MESSAGE-----".utf8)
        return bytes.count >= head.count && Array(bytes.prefix(head.count)) == head
    }

    /// Parses a clear-signed message.
    public init(_ bytes: [UInt8]) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        guard lines.first?.trimmingTrailingWhitespace == "-----BEGIN PGP SIGNED MESSAGE-----" else {
            throw SIFError(.invalidFormat, "not a clear-signed message")
        }
        var i = 1
        while i < lines.count, !lines[i].trimmingTrailingWhitespace.isEmpty { i += 1 }  // "Hash: SHA256"
        i += 1
        var body: [Substring] = []
        while i < lines.count, lines[i].trimmingTrailingWhitespace != "-----BEGIN PGP SIGNATURE-----" {
            let line = lines[i]
            body.append(line.hasPrefix("- ") ? line.dropFirst(2) : line)
            i += 1
        }
        guard i < lines.count else { throw SIFError(.invalidFormat, "clear-signed message has no signature") }
        plaintext = Array(body.joined(separator: "\n").utf8)
        canonical = Array(body.map { $0.trimmingTrailingWhitespace }.joined(separator: "\r\n").utf8)
        let armored = lines[i...].joined(separator: "\n")
        signatures = try PGPPacket.parseAll(try Armor.decode(armored, expecting: "PGP SIGNATURE"))
            .filter { $0.tag == 2 }
            .map { try PGPSignature(packetBody: $0.body) }
        guard !signatures.isEmpty else { throw SIFError(.invalidFormat, "clear-signed message has no signature packet") }
    }

    /// The keys (primary fingerprints) among `keys` that made a valid signature over the text.
    /// A signature that names a given key as issuer but does not verify is reported in `bad`.
    func verify(with keys: [OpenPGPPublicKey]) -> (good: [OpenPGPPublicKey], bad: [String]) {
        var good: [OpenPGPPublicKey] = []
        var bad: [String] = []
        for sig in signatures {
            guard sig.type == 0x00 || sig.type == 0x01 else {
                bad.append("unexpected OpenPGP signature type \(sig.type)")
                continue
            }
            guard let hash = pgpHash(sig.hashAlgorithm) else {
                bad.append("unsupported OpenPGP hash algorithm \(sig.hashAlgorithm)")
                continue
            }
            let message = canonical + sig.trailer
            for key in keys {
                let candidates = key.candidates(for: sig)
                guard !candidates.isEmpty else { continue }
                if candidates.contains(where: { $0.verifies(sig, message: message, hash: hash) }) {
                    good.append(key)
                } else {
                    bad.append("OpenPGP signature by \(hexString(key.primary.fingerprint).uppercased()) does not verify")
                }
            }
        }
        return (good, bad)
    }
}
