// An `Encoder` producing `JSONValue`. Object members come out in the order they are encoded
// (declaration order for synthesized `Codable`), which is also Go's struct field order in
// runtime-spec's specs-go, so `ocirun spec` prints what `runc spec` prints. `[String: X]`
// dictionaries are written with their keys sorted bytewise, as Go sorts map keys.

/// Encodes `Encodable` values to JSON text or to a `JSONValue`.
public enum JSONEncoding {
    /// Encodes `value` as JSON text (see `JSONValue.serialized(pretty:)` for the format).
    ///
    /// - Throws: `JSONError`, e.g. for a NaN or infinite number.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws(JSONError) -> String {
        try encodeValue(value).serialized(pretty: pretty)
    }

    /// Encodes `value` as UTF-8 JSON bytes.
    public static func encodeBytes<T: Encodable>(_ value: T, pretty: Bool = false) throws(JSONError) -> [UInt8] {
        try encodeValue(value).serializedBytes(pretty: pretty)
    }

    /// Encodes `value` as a `JSONValue` tree.
    public static func encodeValue<T: Encodable>(_ value: T) throws(JSONError) -> JSONValue {
        do {
            let encoder = _JSONEncoder(codingPath: [])
            return try encoder.box(value, codingPath: []).resolved()
        } catch let error as JSONError {
            throw error
        } catch let error as EncodingError {
            throw JSONError.from(error)
        } catch {
            throw JSONError(message: "\(error)")
        }
    }
}

/// A value under construction. Containers are reference boxes so nested containers handed out
/// earlier still write into their parent.
enum _JSONNode {
    case value(JSONValue)
    case object(_JSONObjectBox)
    case array(_JSONArrayBox)
    /// A `superEncoder()` slot: whatever that encoder ends up holding.
    case deferred(_JSONEncoder)

    func resolved() -> JSONValue {
        switch self {
        case .value(let v): return v
        case .object(let o):
            var members: [JSONObject.Element] = []
            members.reserveCapacity(o.members.count)
            for (k, n) in o.members { members.append((key: k, value: n.resolved())) }
            return .object(JSONObject(members))
        case .array(let a):
            return .array(a.elements.map { $0.resolved() })
        case .deferred(let e):
            return e.node?.resolved() ?? .object(JSONObject())
        }
    }
}

final class _JSONObjectBox {
    var members: [(String, _JSONNode)] = []
}

final class _JSONArrayBox {
    var elements: [_JSONNode] = []
}

/// `[String: X]` dictionaries, encoded with sorted keys.
protocol _JSONStringKeyedDictionary {
    func _jsonSortedNode(_ encoder: _JSONEncoder, codingPath: [any CodingKey]) throws -> _JSONNode
}

extension Dictionary: _JSONStringKeyedDictionary where Key == String, Value: Encodable {
    func _jsonSortedNode(_ encoder: _JSONEncoder, codingPath: [any CodingKey]) throws -> _JSONNode {
        let box = _JSONObjectBox()
        box.members.reserveCapacity(count)
        for key in keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            box.members.append((key, try encoder.box(self[key]!, codingPath: codingPath + [_JSONKey(stringValue: key)])))
        }
        return .object(box)
    }
}

final class _JSONEncoder: Encoder {
    var node: _JSONNode?
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(codingPath: [any CodingKey]) {
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: _JSONObjectBox
        if case .object(let existing)? = node {
            box = existing
        } else {
            box = _JSONObjectBox()
            node = .object(box)
        }
        return KeyedEncodingContainer(_JSONKeyedEncodingContainer<Key>(encoder: self, box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: _JSONArrayBox
        if case .array(let existing)? = node {
            box = existing
        } else {
            box = _JSONArrayBox()
            node = .array(box)
        }
        return _JSONUnkeyedEncodingContainer(encoder: self, box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        _JSONSingleValueEncodingContainer(encoder: self)
    }

    /// Encodes a value into a node: scalars directly, `[String: X]` sorted, anything else
    /// through its `encode(to:)` with a child encoder.
    func box<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> _JSONNode {
        switch value {
        case let v as String: return .value(.string(v))
        case let v as Bool: return .value(.bool(v))
        case let v as Int: return .value(.number(.int(Int64(v))))
        case let v as Int64: return .value(.number(.int(v)))
        case let v as UInt32: return .value(.number(.int(Int64(v))))
        case let v as UInt64: return .value(integer(v))
        case let v as Double: return .value(try number(v, codingPath: codingPath))
        case let v as JSONValue: return .value(v)
        case let v as any _JSONStringKeyedDictionary: return try v._jsonSortedNode(self, codingPath: codingPath)
        default:
            let child = _JSONEncoder(codingPath: codingPath)
            try value.encode(to: child)
            return child.node ?? .object(_JSONObjectBox())
        }
    }

    func integer<T: BinaryInteger>(_ v: T) -> JSONValue {
        if let i = Int64(exactly: v) { return .number(.int(i)) }
        return .number(.uint(UInt64(v)))
    }

    func number(_ d: Double, codingPath: [any CodingKey]) throws -> JSONValue {
        guard d.isFinite else {
            throw JSONError(path: JSONError.render(codingPath: codingPath), message: "cannot encode non-finite number \(d)")
        }
        return .number(.double(d))
    }

    func number(_ f: Float, codingPath: [any CodingKey]) throws -> JSONValue {
        guard f.isFinite else {
            throw JSONError(path: JSONError.render(codingPath: codingPath), message: "cannot encode non-finite number \(f)")
        }
        // Print a Float as Float prints (0.1, not 0.10000000149011612).
        return .number(.double(Double(f.description) ?? Double(f)))
    }
}

// MARK: - Keyed

struct _JSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: _JSONEncoder
    let box: _JSONObjectBox
    let codingPath: [any CodingKey]

    @inline(__always)
    private func put(_ key: Key, _ node: _JSONNode) {
        box.members.append((key.stringValue, node))
    }

    private func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }

    mutating func encodeNil(forKey key: Key) throws { put(key, .value(.null)) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, .value(.bool(value))) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(key, .value(.string(value))) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        put(key, .value(try encoder.number(value, codingPath: path(key))))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        put(key, .value(try encoder.number(value, codingPath: path(key))))
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(key, .value(encoder.integer(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(key, .value(encoder.integer(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(key, .value(encoder.integer(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(key, .value(encoder.integer(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(key, .value(encoder.integer(value))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(key, .value(encoder.integer(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(key, .value(encoder.integer(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(key, .value(encoder.integer(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(key, .value(encoder.integer(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(key, .value(encoder.integer(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        put(key, try encoder.box(value, codingPath: path(key)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = _JSONObjectBox()
        put(key, .object(nested))
        return KeyedEncodingContainer(_JSONKeyedEncodingContainer<NestedKey>(encoder: encoder, box: nested, codingPath: path(key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = _JSONArrayBox()
        put(key, .array(nested))
        return _JSONUnkeyedEncodingContainer(encoder: encoder, box: nested, codingPath: path(key))
    }

    mutating func superEncoder() -> any Encoder {
        let child = _JSONEncoder(codingPath: codingPath + [_JSONKey.superKey])
        box.members.append(("super", .deferred(child)))
        return child
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = _JSONEncoder(codingPath: path(key))
        put(key, .deferred(child))
        return child
    }
}

// MARK: - Unkeyed

struct _JSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: _JSONEncoder
    let box: _JSONArrayBox
    let codingPath: [any CodingKey]

    var count: Int { box.elements.count }

    @inline(__always)
    private func put(_ node: _JSONNode) { box.elements.append(node) }

    private var nextPath: [any CodingKey] { codingPath + [_JSONKey(index: box.elements.count)] }

    mutating func encodeNil() throws { put(.value(.null)) }
    mutating func encode(_ value: Bool) throws { put(.value(.bool(value))) }
    mutating func encode(_ value: String) throws { put(.value(.string(value))) }
    mutating func encode(_ value: Double) throws { put(.value(try encoder.number(value, codingPath: nextPath))) }
    mutating func encode(_ value: Float) throws { put(.value(try encoder.number(value, codingPath: nextPath))) }
    mutating func encode(_ value: Int) throws { put(.value(encoder.integer(value))) }
    mutating func encode(_ value: Int8) throws { put(.value(encoder.integer(value))) }
    mutating func encode(_ value: Int16) throws { put(.value(encoder.integer(value))) }
    mutating func encode(_ value: Int32) throws { put(.value(encoder.integer(value))) }
    mutating func encode(_ value: Int64) throws { put(.value(encoder.integer(value))) }
    mutating func encode(_ value: UInt) throws { put(.value(encoder.integer(value))) }
    mutating func encode(_ value: UInt8) throws { put(.value(encoder.integer(value))) }
    mutating func encode(_ value: UInt16) throws { put(.value(encoder.integer(value))) }
    mutating func encode(_ value: UInt32) throws { put(.value(encoder.integer(value))) }
    mutating func encode(_ value: UInt64) throws { put(.value(encoder.integer(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        put(try encoder.box(value, codingPath: nextPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let path = nextPath
        let nested = _JSONObjectBox()
        put(.object(nested))
        return KeyedEncodingContainer(_JSONKeyedEncodingContainer<NestedKey>(encoder: encoder, box: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        let nested = _JSONArrayBox()
        put(.array(nested))
        return _JSONUnkeyedEncodingContainer(encoder: encoder, box: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let child = _JSONEncoder(codingPath: nextPath)
        put(.deferred(child))
        return child
    }
}

// MARK: - Single value

struct _JSONSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: _JSONEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ v: JSONValue) { encoder.node = .value(v) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try encoder.number(value, codingPath: codingPath)) }
    mutating func encode(_ value: Float) throws { set(try encoder.number(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int) throws { set(encoder.integer(value)) }
    mutating func encode(_ value: Int8) throws { set(encoder.integer(value)) }
    mutating func encode(_ value: Int16) throws { set(encoder.integer(value)) }
    mutating func encode(_ value: Int32) throws { set(encoder.integer(value)) }
    mutating func encode(_ value: Int64) throws { set(encoder.integer(value)) }
    mutating func encode(_ value: UInt) throws { set(encoder.integer(value)) }
    mutating func encode(_ value: UInt8) throws { set(encoder.integer(value)) }
    mutating func encode(_ value: UInt16) throws { set(encoder.integer(value)) }
    mutating func encode(_ value: UInt32) throws { set(encoder.integer(value)) }
    mutating func encode(_ value: UInt64) throws { set(encoder.integer(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.node = try encoder.box(value, codingPath: codingPath)
    }
}
