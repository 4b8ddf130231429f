import Crypto
import _CryptoExtras

/// A public key that `verify` accepts: a PEM/DER SubjectPublicKeyInfo (ed25519, ECDSA P-256/384/521,
/// RSA) for DSSE signatures, or an OpenPGP key (RSA, EdDSA) for clear-signed and legacy signatures.
public enum SIFPublicKey: @unchecked Sendable, CustomStringConvertible {
    /// An ed25519 key.
    case ed25519(Curve25519.Signing.PublicKey)
    /// An ECDSA P-256 key.
    case p256(P256.Signing.PublicKey)
    /// An ECDSA P-384 key.
    case p384(P384.Signing.PublicKey)
    /// An ECDSA P-521 key.
    case p521(P521.Signing.PublicKey)
    /// An RSA key (PKCS#1 v1.5 and PSS signatures are both accepted).
    case rsa(_RSA.Signing.PublicKey)
    /// An OpenPGP transferable public key (primary key and subkeys).
    case pgp(OpenPGPPublicKey)

    /// Loads every key in a file's contents: PEM ("PUBLIC KEY", "RSA PUBLIC KEY"), an ASCII-armoured
    /// or binary OpenPGP key block, or a DER SubjectPublicKeyInfo.
    public static func load(_ bytes: [UInt8], source: String = "key") throws -> [SIFPublicKey] {
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            if text.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
                return try OpenPGPPublicKey.parseKeyring(try Armor.decode(text, expecting: "PGP PUBLIC KEY BLOCK")).map { .pgp($0) }
            }
            if text.contains("-----BEGIN ") {
                let blocks = try pemBlocks(text)
                var keys: [SIFPublicKey] = []
                for (label, der) in blocks {
                    switch label {
                    case "PUBLIC KEY": keys.append(try fromSPKI(der))
                    case "RSA PUBLIC KEY": keys.append(.rsa(try _RSA.Signing.PublicKey(derRepresentation: der)))
                    default: throw SIFError(.unsupported, "unsupported PEM block \"\(label)\"")
                    }
                }
                guard !keys.isEmpty else { throw SIFError(.invalidFormat, "no key found") }
                return keys
            }
            if let first = bytes.first, first & 0x80 != 0, first != 0x30 {
                return try OpenPGPPublicKey.parseKeyring(bytes).map { .pgp($0) }
            }
            return [try fromSPKI(bytes)]
        } catch let error as SIFError {
            throw error.prefixed(source)
        } catch {
            throw SIFError(.invalidArgument, "\(source): unusable key", cause: error)
        }
    }

    /// Loads the keys in the file at `path`.
    public static func load(path: String) throws -> [SIFPublicKey] {
        try load(readSmallFile(path), source: path)
    }

    /// Decodes a DER SubjectPublicKeyInfo.
    static func fromSPKI(_ der: [UInt8]) throws -> SIFPublicKey {
        let (spki, _) = try DERElement.parse(der, at: 0)
        let parts = try spki.children()
        guard parts.count == 2, let algOID = try parts[0].children().first?.content else {
            throw SIFError(.invalidFormat, "malformed public key")
        }
        let params = try parts[0].children().dropFirst().first?.content
        switch algOID {
        case OID.ed25519:
            guard parts[1].content.first == 0 else { throw SIFError(.invalidFormat, "malformed ed25519 key") }
            return .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: parts[1].content.dropFirst()))
        case OID.ecPublicKey:
            switch params {
            case OID.p256?: return .p256(try P256.Signing.PublicKey(derRepresentation: der))
            case OID.p384?: return .p384(try P384.Signing.PublicKey(derRepresentation: der))
            case OID.p521?: return .p521(try P521.Signing.PublicKey(derRepresentation: der))
            default: throw SIFError(.unsupported, "unsupported elliptic curve")
            }
        case OID.rsaEncryption, OID.rsaPSS:
            return .rsa(try _RSA.Signing.PublicKey(derRepresentation: der))
        default:
            throw SIFError(.unsupported, "unsupported public key algorithm")
        }
    }

    /// "ed25519 SHA256:…", "rsa-2048", "pgp 12045C8C…".
    public var description: String {
        switch self {
        case .ed25519(let k): return "ed25519 \(sshFingerprint(ed25519: k))"
        case .p256: return "ecdsa-p256"
        case .p384: return "ecdsa-p384"
        case .p521: return "ecdsa-p521"
        case .rsa(let k): return "rsa-\(k.keySizeInBits)"
        case .pgp(let k): return "pgp \(hexString(k.primary.fingerprint).uppercased())"
        }
    }

    /// Whether `signature` over `message` verifies with this key, hashing with `hash` where the
    /// algorithm hashes first (ECDSA, RSA; ed25519 signs the message itself). OpenPGP keys never
    /// verify DSSE signatures.
    func verifiesDSSE(signature: [UInt8], message: [UInt8], hash: SIFDigestAlgorithm) -> Bool {
        switch self {
        case .ed25519(let k):
            return k.isValidSignature(signature, for: message)
        case .p256(let k):
            guard let s = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            switch hash {
            case .sha256: return k.isValidSignature(s, for: SHA256.hash(data: message))
            case .sha384: return k.isValidSignature(s, for: SHA384.hash(data: message))
            case .sha512: return k.isValidSignature(s, for: SHA512.hash(data: message))
            }
        case .p384(let k):
            guard let s = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            switch hash {
            case .sha256: return k.isValidSignature(s, for: SHA256.hash(data: message))
            case .sha384: return k.isValidSignature(s, for: SHA384.hash(data: message))
            case .sha512: return k.isValidSignature(s, for: SHA512.hash(data: message))
            }
        case .p521(let k):
            guard let s = try? P521.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            switch hash {
            case .sha256: return k.isValidSignature(s, for: SHA256.hash(data: message))
            case .sha384: return k.isValidSignature(s, for: SHA384.hash(data: message))
            case .sha512: return k.isValidSignature(s, for: SHA512.hash(data: message))
            }
        case .rsa(let k):
            return rsaVerify(k, signature: signature, message: message, hash: hash, padding: .insecurePKCS1v1_5)
                || rsaVerify(k, signature: signature, message: message, hash: hash, padding: .PSS)
        case .pgp:
            return false
        }
    }
}

/// RSA verification over `hash(message)`; the signature is left-padded to the modulus size.
func rsaVerify(_ key: _RSA.Signing.PublicKey, signature: [UInt8], message: [UInt8],
               hash: SIFDigestAlgorithm, padding: _RSA.Signing.Padding) -> Bool {
    let size = (key.keySizeInBits + 7) / 8
    guard signature.count <= size else { return false }
    let sig = _RSA.Signing.RSASignature(rawRepresentation: [UInt8](repeating: 0, count: size - signature.count) + signature)
    switch hash {
    case .sha256: return key.isValidSignature(sig, for: SHA256.hash(data: message), padding: padding)
    case .sha384: return key.isValidSignature(sig, for: SHA384.hash(data: message), padding: padding)
    case .sha512: return key.isValidSignature(sig, for: SHA512.hash(data: message), padding: padding)
    }
}

/// A private key that `sign` accepts (PKCS#8 PEM, or SEC1 "EC PRIVATE KEY" for ECDSA).
public enum SIFPrivateKey: @unchecked Sendable {
    /// An ed25519 key.
    case ed25519(Curve25519.Signing.PrivateKey)
    /// An ECDSA P-256 key.
    case p256(P256.Signing.PrivateKey)
    /// An ECDSA P-384 key.
    case p384(P384.Signing.PrivateKey)
    /// An ECDSA P-521 key.
    case p521(P521.Signing.PrivateKey)

    /// Decodes a PEM private key.
    public init(pem text: String, source: String = "key") throws {
        guard let (label, der) = try pemBlocks(text).first else {
            throw SIFError(.invalidArgument, "\(source): no PEM private key found")
        }
        do {
            switch label {
            case "EC PRIVATE KEY":
                self = try SIFPrivateKey.ecdsa(der: der, pem: text)
            case "PRIVATE KEY":
                // PKCS#8: SEQUENCE { version, AlgorithmIdentifier { oid, params }, OCTET STRING key }
                let (outer, _) = try DERElement.parse(der, at: 0)
                let parts = try outer.children()
                guard parts.count >= 3, let oid = try parts[1].children().first?.content else {
                    throw SIFError(.invalidFormat, "malformed PKCS#8 key")
                }
                switch oid {
                case OID.ed25519:
                    let (inner, _) = try DERElement.parse(parts[2].content, at: 0)
                    guard inner.tag == 0x04, inner.content.count == 32 else {
                        throw SIFError(.invalidFormat, "malformed ed25519 private key")
                    }
                    self = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: inner.content))
                case OID.ecPublicKey:
                    self = try SIFPrivateKey.ecdsa(der: der, pem: text)
                case OID.rsaEncryption, OID.rsaPSS:
                    throw SIFError(.unsupported, "RSA signing is not supported; use an ed25519 or ECDSA key")
                default:
                    throw SIFError(.unsupported, "unsupported private key algorithm")
                }
            default:
                throw SIFError(.unsupported, "unsupported PEM block \"\(label)\"")
            }
        } catch let error as SIFError {
            throw error.prefixed(source)
        } catch {
            throw SIFError(.invalidArgument, "\(source): unusable private key", cause: error)
        }
    }

    private static func ecdsa(der: [UInt8], pem: String) throws -> SIFPrivateKey {
        if let k = try? P256.Signing.PrivateKey(pemRepresentation: pem) { return .p256(k) }
        if let k = try? P384.Signing.PrivateKey(pemRepresentation: pem) { return .p384(k) }
        if let k = try? P521.Signing.PrivateKey(pemRepresentation: pem) { return .p521(k) }
        throw SIFError(.unsupported, "unsupported ECDSA key")
    }

    /// Loads the PEM private key at `path`.
    public static func load(path: String) throws -> SIFPrivateKey {
        try SIFPrivateKey(pem: String(decoding: readSmallFile(path), as: UTF8.self), source: path)
    }

    /// The matching public key.
    public var publicKey: SIFPublicKey {
        switch self {
        case .ed25519(let k): return .ed25519(k.publicKey)
        case .p256(let k): return .p256(k.publicKey)
        case .p384(let k): return .p384(k.publicKey)
        case .p521(let k): return .p521(k.publicKey)
        }
    }

    /// The DSSE key id: the OpenSSH SHA256 fingerprint, as sylabs' signer (go-securesystemslib) writes.
    public var keyID: String {
        switch self {
        case .ed25519(let k): return sshFingerprint(ed25519: k.publicKey)
        case .p256(let k): return sshFingerprint(curve: "nistp256", point: Array(k.publicKey.x963Representation))
        case .p384(let k): return sshFingerprint(curve: "nistp384", point: Array(k.publicKey.x963Representation))
        case .p521(let k): return sshFingerprint(curve: "nistp521", point: Array(k.publicKey.x963Representation))
        }
    }

    /// Signs a DSSE pre-authentication encoding: ed25519 signs it directly; ECDSA signs its SHA-256
    /// digest (DER-encoded signature), as sylabs' default `crypto.SHA256` signer options do.
    func signDSSE(_ message: [UInt8]) throws -> [UInt8] {
        switch self {
        case .ed25519(let k): return Array(try k.signature(for: message))
        case .p256(let k): return Array(try k.signature(for: SHA256.hash(data: message)).derRepresentation)
        case .p384(let k): return Array(try k.signature(for: SHA256.hash(data: message)).derRepresentation)
        case .p521(let k): return Array(try k.signature(for: SHA256.hash(data: message)).derRepresentation)
        }
    }
}

private func sshString(_ b: [UInt8]) -> [UInt8] {
    let n = UInt32(b.count)
    return [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + b
}

func sshFingerprint(ed25519 key: Curve25519.Signing.PublicKey) -> String {
    let wire = sshString(Array("ssh-ed25519".utf8)) + sshString(Array(key.rawRepresentation))
    return "SHA256:" + Base64.encode(Array(SHA256.hash(data: wire)), padding: false)
}

func sshFingerprint(curve: String, point: [UInt8]) -> String {
    let wire = sshString(Array("ecdsa-sha2-\(curve)".utf8)) + sshString(Array(curve.utf8)) + sshString(point)
    return "SHA256:" + Base64.encode(Array(SHA256.hash(data: wire)), padding: false)
}
