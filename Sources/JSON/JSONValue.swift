// A JSON document tree that keeps what the OCI runtime cares about: object key order (so a
// config that is read and written back keeps its shape) and exact 64-bit integers (rlimits,
// seccomp argument values and memory limits do not fit a Double).

/// A JSON number, kept exact: integers as `Int64`, integers above `Int64.max` as `UInt64`,
/// everything else as `Double`.
public enum JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// An integer in `Int64.min ... Int64.max`.
    case int(Int64)
    /// An integer above `Int64.max`; parsing never produces `.uint` for values that fit `Int64`.
    case uint(UInt64)
    /// A number with a fraction or an exponent, or an integer beyond `UInt64.max`.
    case double(Double)

    /// The number as a `Double` (may round large integers).
    public var doubleValue: Double {
        switch self {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        }
    }

    /// The number as JSON text: integers exactly, doubles in their shortest round-trip form.
    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d):
            // NOTE: JSON has no NaN or infinity; the encoder refuses them, the serializer writes null.
            guard d.isFinite else { return "null" }
            // Swift prints integral doubles as "100.0" and big ones as "1e+20"; both are valid JSON.
            return d.description
        }
    }
}

/// One JSON value.
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, kept exact (see `JSONNumber`).
    case number(JSONNumber)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, members in document order.
    case object(JSONObject)
}

/// A JSON object: an ordered list of members. Lookups by key find the last member of that name,
/// as Go's `encoding/json` does for duplicated keys.
public struct JSONObject: Sendable, Equatable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// One member.
    public typealias Element = (key: String, value: JSONValue)

    /// The members in document order.
    public var members: [Element]

    /// An object with these members, in this order.
    public init(_ members: [Element] = []) { self.members = members }

    /// An object from a literal, members in literal order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { (key: $0.0, value: $0.1) }
    }

    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }
    public subscript(position: Int) -> Element { members[position] }

    /// The keys in document order.
    public var keys: [String] { members.map(\.key) }

    /// The value of the last member named `key`; setting replaces it in place or appends, and
    /// setting `nil` removes every member of that name.
    public subscript(key: String) -> JSONValue? {
        get {
            var i = members.count
            while i > 0 {
                i -= 1
                if members[i].key == key { return members[i].value }
            }
            return nil
        }
        set {
            if let newValue {
                if let i = members.lastIndex(where: { $0.key == key }) {
                    members[i].value = newValue
                } else {
                    members.append((key: key, value: newValue))
                }
            } else {
                members.removeAll { $0.key == key }
            }
        }
    }

    /// Appends a member without looking for an existing one of that name.
    public mutating func append(key: String, value: JSONValue) {
        members.append((key: key, value: value))
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for (l, r) in zip(lhs.members, rhs.members) where l.key != r.key || l.value != r.value {
            return false
        }
        return true
    }
}

// MARK: - Accessors

extension JSONValue {
    /// The member `key` when this is an object, else nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let o) = self else { return nil }
        return o[key]
    }

    /// The element at `index` when this is an array and the index is in range, else nil.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }

    /// The string when this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The boolean when this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number when this is an integer that fits `Int64`.
    public var int64Value: Int64? {
        guard case .number(let n) = self else { return nil }
        switch n {
        case .int(let i): return i
        case .uint: return nil
        case .double(let d): return Int64(exactly: d)
        }
    }

    /// The number when this is a non-negative integer that fits `UInt64`.
    public var uint64Value: UInt64? {
        guard case .number(let n) = self else { return nil }
        switch n {
        case .int(let i): return UInt64(exactly: i)
        case .uint(let u): return u
        case .double(let d): return UInt64(exactly: d)
        }
    }

    /// The number as a `Double` when this is a number.
    public var doubleValue: Double? {
        if case .number(let n) = self { return n.doubleValue }
        return nil
    }

    /// The elements when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members when this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The JSON type's name as used in error messages: `null`, `boolean`, `number`, `string`,
    /// `array`, `object`.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

// MARK: - Literals (handy for building documents in code and in tests)

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .number(.int(value)) }
    public init(floatLiteral value: Double) { self = .number(.double(value)) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
}
