import CYajl

// Parsing with yajl's tree API: yajl does the tokenizing and UTF-8 validation in C, this file
// copies the tree into `JSONValue` and frees it. Numbers are re-read from yajl's raw text
// (`u.number.r`) because yajl's own integer parse rejects Int64.min and everything above Int64.max.

extension JSONValue {
    /// Nesting deeper than this is refused (the copy out of yajl's tree is recursive).
    public static let maximumDepth = 512

    /// Parses one JSON document.
    ///
    /// - Throws: `JSONError` at path `.` whose message is yajl's, e.g. `parse error: premature EOF`.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        // NOTE: yajl_tree_parse reads a NUL-terminated string; a NUL inside the input ends it there.
        var input = bytes
        input.append(0)
        var errorBuffer = [CChar](repeating: 0, count: 512)
        let errorSize = errorBuffer.count
        let tree: yajl_val? = input.withUnsafeBufferPointer { inBuf in
            errorBuffer.withUnsafeMutableBufferPointer { errBuf in
                inBuf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: inBuf.count) { text in
                    yajl_tree_parse(text, errBuf.baseAddress, errorSize)
                }
            }
        }
        guard let tree else {
            throw JSONError(path: ".", message: parseErrorMessage(errorBuffer))
        }
        defer { yajl_tree_free(tree) }
        return try convert(tree, depth: 0)
    }

    /// Parses one JSON document from a string.
    public static func parse(_ string: String) throws(JSONError) -> JSONValue {
        try parse(Array(string.utf8))
    }

    /// yajl's verbose message is three lines (message, the text near the error, a caret);
    /// this joins the first two: `parse error: premature EOF near '{"a": '`.
    private static func parseErrorMessage(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first else { return "parse error" }
        var message = String(first).trimmingSpaces()
        if message.isEmpty { message = "parse error" }
        if lines.count > 1 {
            let context = String(lines[1]).trimmingSpaces()
            if !context.isEmpty && !context.utf8.containsSequence("(right here)".utf8) {
                message += " near '\(context)'"
            }
        }
        return message
    }

    private static func convert(_ v: yajl_val, depth: Int) throws(JSONError) -> JSONValue {
        let type = v.pointee.type
        if type == yajl_t_string {
            guard let s = v.pointee.u.string else { return .string("") }
            return .string(String(cString: s))
        } else if type == yajl_t_number {
            return .number(try number(v))
        } else if type == yajl_t_object {
            guard depth < maximumDepth else { throw JSONError(message: "nesting deeper than \(maximumDepth)") }
            let o = v.pointee.u.object
            var members: [JSONObject.Element] = []
            members.reserveCapacity(o.len)
            for i in 0..<o.len {
                let key = o.keys[i].map { String(cString: $0) } ?? ""
                var value = JSONValue.null
                if let child = o.values[i] { value = try convert(child, depth: depth + 1) }
                members.append((key: key, value: value))
            }
            return .object(JSONObject(members))
        } else if type == yajl_t_array {
            guard depth < maximumDepth else { throw JSONError(message: "nesting deeper than \(maximumDepth)") }
            let a = v.pointee.u.array
            var elements: [JSONValue] = []
            elements.reserveCapacity(a.len)
            for i in 0..<a.len {
                var value = JSONValue.null
                if let child = a.values[i] { value = try convert(child, depth: depth + 1) }
                elements.append(value)
            }
            return .array(elements)
        } else if type == yajl_t_true {
            return .bool(true)
        } else if type == yajl_t_false {
            return .bool(false)
        }
        return .null
    }

    /// Reads yajl's raw number text: integers exactly (Int64, else UInt64), others as Double.
    private static func number(_ v: yajl_val) throws(JSONError) -> JSONNumber {
        guard let raw = v.pointee.u.number.r else { throw JSONError(message: "number without text") }
        // Integer fast path over the bytes: optional '-', then digits only.
        var p = UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self)
        var negative = false
        if p.pointee == UInt8(ascii: "-") {
            negative = true
            p += 1
        }
        var magnitude: UInt64 = 0
        var integral = p.pointee != 0
        var overflow = false
        while p.pointee != 0 {
            let c = p.pointee
            guard c >= 0x30 && c <= 0x39 else {
                integral = false
                break
            }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            if o1 || o2 { overflow = true }
            magnitude = s
            p += 1
        }
        if integral && !overflow {
            if !negative {
                return magnitude <= UInt64(Int64.max) ? .int(Int64(magnitude)) : .uint(magnitude)
            }
            if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
            if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
        }
        // A fraction, an exponent, or an integer too large for 64 bits.
        if v.pointee.u.number.flags & UInt32(YAJL_NUMBER_DOUBLE_VALID) != 0 {
            return .double(v.pointee.u.number.d)
        }
        let text = String(cString: raw)
        guard let d = Double(text) else { throw JSONError(message: "number \(text) out of range") }
        return .double(d)
    }
}

extension String {
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" && $0 != "\r" }) else { return "" }
        let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" && $0 != "\r" })!
        return String(scalars[start...end])
    }
}

extension Sequence where Element: Equatable {
    /// Whether `needle` occurs in this sequence as a run of consecutive elements (the stdlib's
    /// `contains(_:)` for collections lives in _StringProcessing, which the runtime does not link).
    package func containsSequence<C: Collection>(_ needle: C) -> Bool where C.Element == Element {
        let hay = Array(self)
        let n = Array(needle)
        if n.isEmpty { return true }
        guard hay.count >= n.count else { return false }
        for i in 0...(hay.count - n.count) where hay[i] == n[0] {
            if hay[i..<(i + n.count)].elementsEqual(n) { return true }
        }
        return false
    }
}
