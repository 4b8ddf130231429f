// Small codecs the signature formats need: base64 (DSSE, ASCII armour), hex (digests),
// a minimal DER reader (SubjectPublicKeyInfo, PKCS#8) and file reading.

enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let table: [Int16] = {
        var t = [Int16](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int16(i) }
        t[Int(UInt8(ascii: "-"))] = 62  // URL-safe alphabet too (DSSE allows either).
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()

    /// Standard base64 with padding.
    static func encode(_ bytes: [UInt8], padding: Bool = true) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int((v >> UInt32(shift)) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            var v = UInt32(bytes[i]) << 16
            if rest == 2 { v |= UInt32(bytes[i + 1]) << 8 }
            out.append(alphabet[Int((v >> 18) & 63)])
            out.append(alphabet[Int((v >> 12) & 63)])
            if rest == 2 { out.append(alphabet[Int((v >> 6) & 63)]) }
            if padding { out.append(contentsOf: [UInt8](repeating: UInt8(ascii: "="), count: 3 - rest)) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes standard or URL-safe base64, padded or not; whitespace is skipped.
    static func decode<S: Sequence>(_ text: S) throws -> [UInt8] where S.Element == UInt8 {
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        var ended = false
        for c in text {
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\t") { continue }
            if c == UInt8(ascii: "=") { ended = true; continue }
            let v = table[Int(c)]
            guard v >= 0, !ended else { throw SIFError(.invalidFormat, "invalid base64") }
            acc = (acc << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        guard bits < 6 else { throw SIFError(.invalidFormat, "invalid base64 length") }
        return out
    }

    static func decode(_ text: String) throws -> [UInt8] { try decode(Array(text.utf8)) }
}

enum Hex {
    /// Decodes lowercase or uppercase hex; nil on odd length or a bad digit.
    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// One DER element: tag, content, and the whole encoding.
struct DERElement {
    var tag: UInt8
    var content: [UInt8]
    var encoded: [UInt8]

    /// Parses a sequence of elements filling `bytes` exactly.
    static func parseAll(_ bytes: [UInt8]) throws -> [DERElement] {
        var out: [DERElement] = []
        var i = 0
        while i < bytes.count {
            let (e, next) = try parse(bytes, at: i)
            out.append(e)
            i = next
        }
        return out
    }

    /// Parses one element at `at`; returns it and the offset after it.
    static func parse(_ bytes: [UInt8], at start: Int) throws -> (DERElement, Int) {
        let bad = SIFError(.invalidFormat, "malformed DER")
        guard start + 2 <= bytes.count else { throw bad }
        let tag = bytes[start]
        var i = start + 1
        var length = Int(bytes[i])
        i += 1
        if length & 0x80 != 0 {
            let n = length & 0x7f
            guard n >= 1, n <= 4, i + n <= bytes.count else { throw bad }
            length = 0
            for _ in 0..<n {
                length = length << 8 | Int(bytes[i])
                i += 1
            }
        }
        guard length <= bytes.count - i else { throw bad }
        return (DERElement(tag: tag, content: Array(bytes[i..<i + length]), encoded: Array(bytes[start..<i + length])), i + length)
    }

    /// The children of a constructed element.
    func children() throws -> [DERElement] { try DERElement.parseAll(content) }
}

/// Object identifiers, as DER content bytes.
enum OID {
    static let ed25519: [UInt8] = [0x2b, 0x65, 0x70]
    static let ecPublicKey: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]
    static let p256: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
    static let p384: [UInt8] = [0x2b, 0x81, 0x04, 0x00, 0x22]
    static let p521: [UInt8] = [0x2b, 0x81, 0x04, 0x00, 0x23]
    static let rsaEncryption: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]
    static let rsaPSS: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a]
    static let pgpEd25519: [UInt8] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01]
}

/// PEM blocks in a text: (label, DER bytes).
func pemBlocks(_ text: String) throws -> [(label: String, der: [UInt8])] {
    var blocks: [(String, [UInt8])] = []
    var label: String?
    var body: [UInt8] = []
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
        if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
            label = String(line.dropFirst(11).dropLast(5))
            body = []
        } else if line.hasPrefix("-----END "), let l = label {
            blocks.append((l, try Base64.decode(body)))
            label = nil
        } else if label != nil, !line.contains(":") {
            body.append(contentsOf: line.utf8)
        }
    }
    return blocks
}

/// Reads a small file whole (keys, signatures); refuses files over `limit` bytes.
public func readSmallFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
    let reader = try FileImageReader(path: path)
    guard reader.size <= UInt64(limit) else {
        throw SIFError(.invalidArgument, "\(path): file too large (\(reader.size) bytes)")
    }
    return try reader.read(at: 0, count: Int(reader.size))
}
