// Byte-level stand-ins for stdlib string operations that hot code calls (docs/design.md, "What
// hot code does not call in the stdlib").

/// `String(value)` in decimal, without the stdlib's generic integer formatting: that code lies in
/// the stdlib's one big `.text` section, 64 KB windows of which every command that formats a
/// number would map (docs/performance.md, item 34). For paths like `/proc/PID/stat`.
public func decimal(_ value: Int64) -> String {
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // a sign and 20 digits fit in 24 bytes
    return withUnsafeMutableBytes(of: &digits) { raw in
        let buf = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var i = raw.count
        var m = value.magnitude
        repeat {
            i -= 1
            buf[i] = UInt8(truncatingIfNeeded: m % 10) &+ 48
            m /= 10
        } while m != 0
        if value < 0 {
            i -= 1
            buf[i] = UInt8(ascii: "-")
        }
        return String(decoding: UnsafeBufferPointer(start: buf + i, count: raw.count - i), as: UTF8.self)
    }
}

extension String {
    /// `hasPrefix` for an ASCII prefix, over bytes: the stdlib's `hasPrefix` compares Characters,
    /// through grapheme-breaking code the hot commands otherwise never run (item 34).
    @inlinable
    public func hasASCIIPrefix(_ prefix: StaticString) -> Bool {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        var u = utf8.makeIterator()
        for b in p {
            guard u.next() == b else { return false }
        }
        return true
    }
}
