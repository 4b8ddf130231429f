// Writing JSON text into a byte buffer. Compact output has no spaces at all; pretty output is
// Go's `json.MarshalIndent(v, "", "  ")`: two-space indent, `"key": value`, and `[]` / `{}` for
// empty containers, which is the shape of `runc spec` and `runc state` output.

extension JSONValue {
    /// The value as JSON text, without a trailing newline.
    ///
    /// Strings escape `"`, `\`, and control characters (`\n`, `\r`, `\t`, others as `\u00XX`);
    /// other characters, non-ASCII included, are written as UTF-8. Integers are written exactly,
    /// doubles in their shortest round-trip form; a NaN or infinity becomes `null`.
    public func serialized(pretty: Bool = false) -> String {
        var writer = JSONWriter(pretty: pretty)
        writer.write(self, depth: 0)
        return String(decoding: writer.out, as: UTF8.self)
    }

    /// The value as UTF-8 JSON bytes (see `serialized(pretty:)`).
    public func serializedBytes(pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty)
        writer.write(self, depth: 0)
        return writer.out
    }
}

struct JSONWriter {
    var out: [UInt8] = []
    let pretty: Bool

    init(pretty: Bool) {
        self.pretty = pretty
        out.reserveCapacity(4096)
    }

    mutating func write(_ value: JSONValue, depth: Int) {
        switch value {
        case .null:
            append("null")
        case .bool(let b):
            append(b ? "true" : "false")
        case .number(let n):
            switch n {
            case .int(let i): appendDecimal(i.magnitude, negative: i < 0)
            case .uint(let u): appendDecimal(u, negative: false)
            case .double: append(n.description)
            }
        case .string(let s):
            writeString(s)
        case .array(let elements):
            if elements.isEmpty {
                append("[]")
                return
            }
            out.append(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                write(e, depth: depth + 1)
            }
            newline(depth)
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.members.isEmpty {
                append("{}")
                return
            }
            out.append(UInt8(ascii: "{"))
            for (i, m) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                writeString(m.key)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(m.value, depth: depth + 1)
            }
            newline(depth)
            out.append(UInt8(ascii: "}"))
        }
    }

    private mutating func newline(_ depth: Int) {
        guard pretty else { return }
        out.append(UInt8(ascii: "\n"))
        for _ in 0..<depth {
            out.append(0x20)
            out.append(0x20)
        }
    }

    private mutating func append(_ s: String) {
        out.append(contentsOf: s.utf8)
    }

    /// An integer's digits, written straight into the output: the stdlib's generic integer
    /// formatting lies in 64 KB windows of its code that no other part of the hot commands maps
    /// (docs/performance.md, item 34).
    private mutating func appendDecimal(_ magnitude: UInt64, negative: Bool) {
        if negative { out.append(UInt8(ascii: "-")) }
        var m = magnitude, p: UInt64 = 1
        while m / p >= 10 { p *= 10 }
        repeat {
            out.append(UInt8(truncatingIfNeeded: (m / p) % 10) &+ 48)
            p /= 10
        } while p != 0
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    mutating func writeString(_ s: String) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            // Copy runs of plain bytes at once; escape only what must be escaped.
            var runStart = 0
            for i in 0..<bytes.count {
                let c = bytes[i]
                if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") { continue }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                runStart = i + 1
                out.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, Self.hex[Int(c >> 4)], Self.hex[Int(c & 0xF)]])
                }
            }
            if runStart < bytes.count {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
