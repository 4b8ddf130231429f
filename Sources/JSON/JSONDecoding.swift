// A `Decoder` over `JSONValue`, so the spec models stay `Codable` without Foundation.
// Every failure is a `JSONError` naming the jq path of the offending value. The path is not
// built while decoding succeeds: each nested decoder points at its parent, and the path is
// assembled only when an error is thrown.

/// Decodes `Decodable` values from JSON text or from a `JSONValue`.
public enum JSONDecoding {
    /// Parses `bytes` and decodes a `T` from them. Unknown object members are ignored.
    ///
    /// - Throws: `JSONError` (never `DecodingError`).
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(JSONError) -> T {
        try decode(type, from: JSONValue.parse(bytes))
    }

    /// Parses `string` and decodes a `T` from it.
    public static func decode<T: Decodable>(_ type: T.Type, from string: String) throws(JSONError) -> T {
        try decode(type, from: JSONValue.parse(Array(string.utf8)))
    }

    /// Decodes a `T` from an already parsed value.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(JSONError) -> T {
        do {
            return try T(from: _JSONDecoder(value: value, parent: nil, key: nil))
        } catch let error as JSONError {
            throw error
        } catch let error as DecodingError {
            // A model's own init(from:) threw; its context carries our coding path.
            throw JSONError.from(error)
        } catch {
            throw JSONError(message: "\(error)")
        }
    }
}

/// A coding key for paths and for `superDecoder`.
struct _JSONKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
    init(index: Int) {
        self.stringValue = "Index \(index)"
        self.intValue = index
    }
    static let superKey = _JSONKey(stringValue: "super")
}

final class _JSONDecoder: Decoder {
    let value: JSONValue
    let parent: _JSONDecoder?
    let key: JSONPathComponent?

    init(value: JSONValue, parent: _JSONDecoder?, key: JSONPathComponent?) {
        self.value = value
        self.parent = parent
        self.key = key
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The path components from the document root to this value.
    var components: [JSONPathComponent] {
        var result: [JSONPathComponent] = []
        var node: _JSONDecoder? = self
        while let n = node {
            if let k = n.key { result.append(k) }
            node = n.parent
        }
        return result.reversed()
    }

    var codingPath: [any CodingKey] {
        components.map { c -> any CodingKey in
            switch c {
            case .key(let k): return _JSONKey(stringValue: k)
            case .index(let i): return _JSONKey(index: i)
            }
        }
    }

    /// An error at this value, or at its child `child`.
    func error(_ message: String, at child: JSONPathComponent? = nil) -> JSONError {
        var c = components
        if let child { c.append(child) }
        return JSONError(path: JSONError.render(c), message: message)
    }

    func mismatch(_ expected: String, _ found: JSONValue, at child: JSONPathComponent? = nil) -> JSONError {
        error("expected \(expected), found \(found.kindName)", at: child)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch("object", value) }
        return KeyedDecodingContainer(_JSONKeyedDecodingContainer<Key>(decoder: self, object: object))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch("array", value) }
        return _JSONUnkeyedDecodingContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        _JSONSingleValueDecodingContainer(decoder: self)
    }

    // MARK: Unboxing scalars (shared by all three containers)

    @inline(__always)
    func unboxBool(_ v: JSONValue, at child: JSONPathComponent?) throws -> Bool {
        guard case .bool(let b) = v else { throw mismatch("boolean", v, at: child) }
        return b
    }

    @inline(__always)
    func unboxString(_ v: JSONValue, at child: JSONPathComponent?) throws -> String {
        guard case .string(let s) = v else { throw mismatch("string", v, at: child) }
        return s
    }

    func unboxDouble(_ v: JSONValue, at child: JSONPathComponent?) throws -> Double {
        guard case .number(let n) = v else { throw mismatch("number", v, at: child) }
        return n.doubleValue
    }

    func unboxFloat(_ v: JSONValue, at child: JSONPathComponent?) throws -> Float {
        let d = try unboxDouble(v, at: child)
        let f = Float(d)
        if f.isInfinite && d.isFinite { throw error("value \(d) out of range for Float", at: child) }
        return f
    }

    /// Any integer width, range-checked. Integral doubles (`1.0`, `1e3`) are accepted.
    @inline(__always)
    func unboxInteger<T: FixedWidthInteger>(_ v: JSONValue, as type: T.Type, at child: JSONPathComponent?) throws -> T {
        guard case .number(let n) = v else { throw mismatch("integer", v, at: child) }
        switch n {
        case .int(let i):
            if let r = T(exactly: i) { return r }
            throw error("value \(i) out of range for \(T.self)", at: child)
        case .uint(let u):
            if let r = T(exactly: u) { return r }
            throw error("value \(u) out of range for \(T.self)", at: child)
        case .double(let d):
            guard d.isFinite, d.rounded(.towardZero) == d else {
                throw error("expected integer, found \(n.description)", at: child)
            }
            if let r = T(exactly: d) { return r }
            throw error("value \(n.description) out of range for \(T.self)", at: child)
        }
    }

    /// Decodes a nested value of any type.
    @inline(__always)
    func decodeChild<T: Decodable>(_ type: T.Type, _ v: JSONValue, at child: JSONPathComponent) throws -> T {
        // Fast path for the commonest spec shape (args, env, capabilities, mount options, paths):
        // no decoder object and no container per array.
        if T.self == [String].self, case .array(let elements) = v {
            var strings: [String] = []
            strings.reserveCapacity(elements.count)
            for (i, e) in elements.enumerated() {
                guard case .string(let s) = e else {
                    throw error("expected string, found \(e.kindName)", below: [child, .index(i)])
                }
                strings.append(s)
            }
            return strings as! T
        }
        return try T(from: _JSONDecoder(value: v, parent: self, key: child))
    }

    /// An error at a descendant several steps below this value.
    func error(_ message: String, below steps: [JSONPathComponent]) -> JSONError {
        JSONError(path: JSONError.render(components + steps), message: message)
    }
}

// MARK: - Keyed

struct _JSONKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: _JSONDecoder
    let object: JSONObject
    /// For large objects (annotations, sysctl) a key index; small ones are scanned.
    let index: [String: Int]?

    init(decoder: _JSONDecoder, object: JSONObject) {
        self.decoder = decoder
        self.object = object
        if object.members.count > 16 {
            var index: [String: Int] = [:]
            index.reserveCapacity(object.members.count)
            for (i, m) in object.members.enumerated() { index[m.key] = i }  // last duplicate wins
            self.index = index
        } else {
            self.index = nil
        }
    }

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] {
        var seen = Set<String>()
        var keys: [Key] = []
        for m in object.members where seen.insert(m.key).inserted {
            if let k = Key(stringValue: m.key) { keys.append(k) }
        }
        return keys
    }

    @inline(__always)
    func lookup(_ key: Key) -> JSONValue? {
        let name = key.stringValue
        if let index { return index[name].map { object.members[$0].value } }
        var i = object.members.count
        while i > 0 {
            i -= 1
            if object.members[i].key == name { return object.members[i].value }
        }
        return nil
    }

    @inline(__always)
    func require(_ key: Key) throws -> JSONValue {
        guard let v = lookup(key) else { throw decoder.error("missing required field", at: .key(key.stringValue)) }
        return v
    }

    /// The value for an optional field: nil when absent or null.
    @inline(__always)
    func optional(_ key: Key) -> JSONValue? {
        guard let v = lookup(key) else { return nil }
        if case .null = v { return nil }
        return v
    }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try require(key) { return true }
        return false
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try decoder.unboxBool(require(key), at: .key(key.stringValue))
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try decoder.unboxString(require(key), at: .key(key.stringValue))
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try decoder.unboxDouble(require(key), at: .key(key.stringValue))
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        try decoder.unboxFloat(require(key), at: .key(key.stringValue))
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.decodeChild(type, require(key), at: .key(key.stringValue))
    }

    @inline(__always)
    private func integer<T: FixedWidthInteger>(_ key: Key) throws -> T {
        try decoder.unboxInteger(require(key), as: T.self, at: .key(key.stringValue))
    }

    // One lookup per optional field instead of the default contains + decodeNil + decode.
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try optional(key).map { try decoder.unboxBool($0, at: .key(key.stringValue)) }
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try optional(key).map { try decoder.unboxString($0, at: .key(key.stringValue)) }
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try optional(key).map { try decoder.unboxDouble($0, at: .key(key.stringValue)) }
    }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        try optional(key).map { try decoder.unboxFloat($0, at: .key(key.stringValue)) }
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optionalInteger(key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optionalInteger(key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optionalInteger(key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optionalInteger(key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optionalInteger(key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optionalInteger(key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optionalInteger(key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optionalInteger(key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optionalInteger(key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optionalInteger(key) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try optional(key).map { try decoder.decodeChild(type, $0, at: .key(key.stringValue)) }
    }

    @inline(__always)
    private func optionalInteger<T: FixedWidthInteger>(_ key: Key) throws -> T? {
        try optional(key).map { try decoder.unboxInteger($0, as: T.self, at: .key(key.stringValue)) }
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try _JSONDecoder(value: require(key), parent: decoder, key: .key(key.stringValue)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try _JSONDecoder(value: require(key), parent: decoder, key: .key(key.stringValue)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        _JSONDecoder(value: object["super"] ?? .null, parent: decoder, key: .key("super"))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        _JSONDecoder(value: lookup(key) ?? .null, parent: decoder, key: .key(key.stringValue))
    }
}

// MARK: - Unkeyed

struct _JSONUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: _JSONDecoder
    let elements: [JSONValue]
    private(set) var currentIndex = 0

    init(decoder: _JSONDecoder, elements: [JSONValue]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    /// The next element and its path component, advancing past it.
    @inline(__always)
    private mutating func next() throws -> (JSONValue, JSONPathComponent) {
        guard currentIndex < elements.count else {
            throw decoder.error("unexpected end of array", at: .index(currentIndex))
        }
        defer { currentIndex += 1 }
        return (elements[currentIndex], .index(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < elements.count else {
            throw decoder.error("unexpected end of array", at: .index(currentIndex))
        }
        if case .null = elements[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        let (v, at) = try next()
        return try decoder.unboxBool(v, at: at)
    }
    mutating func decode(_ type: String.Type) throws -> String {
        let (v, at) = try next()
        return try decoder.unboxString(v, at: at)
    }
    mutating func decode(_ type: Double.Type) throws -> Double {
        let (v, at) = try next()
        return try decoder.unboxDouble(v, at: at)
    }
    mutating func decode(_ type: Float.Type) throws -> Float {
        let (v, at) = try next()
        return try decoder.unboxFloat(v, at: at)
    }
    mutating func decode(_ type: Int.Type) throws -> Int { try integer() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, at) = try next()
        return try decoder.decodeChild(type, v, at: at)
    }

    @inline(__always)
    private mutating func integer<T: FixedWidthInteger>() throws -> T {
        let (v, at) = try next()
        return try decoder.unboxInteger(v, as: T.self, at: at)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, at) = try next()
        return try _JSONDecoder(value: v, parent: decoder, key: at).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, at) = try next()
        return try _JSONDecoder(value: v, parent: decoder, key: at).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (v, at) = try next()
        return _JSONDecoder(value: v, parent: decoder, key: at)
    }
}

// MARK: - Single value

struct _JSONSingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: _JSONDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }
    private var value: JSONValue { decoder.value }

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool { try decoder.unboxBool(value, at: nil) }
    func decode(_ type: String.Type) throws -> String { try decoder.unboxString(value, at: nil) }
    func decode(_ type: Double.Type) throws -> Double { try decoder.unboxDouble(value, at: nil) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.unboxFloat(value, at: nil) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.unboxInteger(value, as: type, at: nil) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.unboxInteger(value, as: type, at: nil) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.unboxInteger(value, as: type, at: nil) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.unboxInteger(value, as: type, at: nil) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.unboxInteger(value, as: type, at: nil) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.unboxInteger(value, as: type, at: nil) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.unboxInteger(value, as: type, at: nil) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.unboxInteger(value, as: type, at: nil) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.unboxInteger(value, as: type, at: nil) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.unboxInteger(value, as: type, at: nil) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if type == JSONValue.self { return value as! T }
        return try T(from: decoder)
    }
}

// MARK: - JSONValue is itself Codable (an escape hatch for free-form fields)

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let d = decoder as? _JSONDecoder {
            self = d.value
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .number(.int(i))
        } else if let u = try? c.decode(UInt64.self) {
            self = .number(.uint(u))
        } else if let d = try? c.decode(Double.self) {
            self = .number(.double(d))
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            let o = try decoder.container(keyedBy: _JSONKey.self)
            var members: [JSONObject.Element] = []
            for k in o.allKeys { members.append((key: k.stringValue, value: try o.decode(JSONValue.self, forKey: k))) }
            self = .object(JSONObject(members))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if let e = encoder as? _JSONEncoder {
            e.node = .value(self)
            return
        }
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let n):
            var c = encoder.singleValueContainer()
            switch n {
            case .int(let i): try c.encode(i)
            case .uint(let u): try c.encode(u)
            case .double(let d): try c.encode(d)
            }
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let a):
            var c = encoder.unkeyedContainer()
            for e in a { try c.encode(e) }
        case .object(let o):
            var c = encoder.container(keyedBy: _JSONKey.self)
            for m in o.members { try c.encode(m.value, forKey: _JSONKey(stringValue: m.key)) }
        }
    }
}
