// Direct, non-generic mapping between JSON trees and the runtime's models, used on the paths
// every container start takes (config.json, state.json).
//
// Why not only Codable: a synthesized `init(from:)` instantiates a keyed-container type per model
// (`KeyedDecodingContainer<Spec.CodingKeys>`…) through mangled type names, and each first
// instantiation checks the `CodingKey` conformance by scanning every protocol-conformance record
// of the (static) program. That was a visible share of `ocirun run` (docs/performance.md). The
// mapped models decode through `JSONReader`, whose accessors take concrete types only.
//
// The mappings are generated (scripts/gen-json-mapping.py) from the Codable models and must agree
// with them: same keys, same errors (jq path and message), same output. A unit test checks that.

/// A model read from and written to JSON without Codable.
public protocol JSONMapped {
    init(json: JSONReader) throws(JSONError)
    var jsonValue: JSONValue { get }
}

extension JSONDecoding {
    /// Parses `bytes` and maps them to a `T` (see `JSONMapped`).
    public static func decodeMapped<T: JSONMapped>(_ type: T.Type, from bytes: [UInt8]) throws(JSONError) -> T {
        try decodeMapped(type, from: JSONValue.parse(bytes))
    }

    /// Maps an already parsed value to a `T`.
    public static func decodeMapped<T: JSONMapped>(_ type: T.Type, from value: JSONValue) throws(JSONError) -> T {
        try T(json: JSONReader.document(value))
    }
}

extension JSONEncoding {
    /// `value` as JSON bytes, through its mapping.
    public static func encodeMapped<T: JSONMapped>(_ value: T, pretty: Bool = false) -> [UInt8] {
        value.jsonValue.serializedBytes(pretty: pretty)
    }
}

/// Where a value sits in its document: a chain from the value up to the root, turned into a jq
/// path only when an error is reported.
public final class JSONPathNode {
    let parent: JSONPathNode?
    let component: JSONPathComponent?

    init(parent: JSONPathNode?, component: JSONPathComponent?) {
        self.parent = parent
        self.component = component
    }

    func rendered(adding child: JSONPathComponent? = nil) -> String {
        var components: [JSONPathComponent] = []
        if let child { components.append(child) }
        var node: JSONPathNode? = self
        while let n = node {
            if let c = n.component { components.append(c) }
            node = n.parent
        }
        return JSONError.render(components.reversed())
    }
}

/// A JSON object being mapped to a model: typed accessors by key, each error naming the jq path.
/// Absent and `null` members are nil for the `…IfPresent` accessors; unknown members are ignored.
public struct JSONReader {
    public let object: JSONObject
    let node: JSONPathNode

    /// The document root, which must be an object.
    public static func document(_ value: JSONValue) throws(JSONError) -> JSONReader {
        try JSONReader(value, node: JSONPathNode(parent: nil, component: nil))
    }

    init(_ value: JSONValue, node: JSONPathNode) throws(JSONError) {
        guard case .object(let o) = value else {
            throw JSONError(path: node.rendered(), message: "expected object, found \(value.kindName)")
        }
        self.object = o
        self.node = node
    }

    func fail(_ message: String, _ key: String) -> JSONError {
        JSONError(path: node.rendered(adding: .key(key)), message: message)
    }

    func mismatch(_ expected: String, _ found: JSONValue, _ key: String) -> JSONError {
        fail("expected \(expected), found \(found.kindName)", key)
    }

    /// The member, or "missing required field".
    func required(_ key: String) throws(JSONError) -> JSONValue {
        guard let v = object[key] else { throw fail("missing required field", key) }
        return v
    }

    /// The member when present and not null.
    func present(_ key: String) -> JSONValue? {
        guard let v = object[key] else { return nil }
        if case .null = v { return nil }
        return v
    }

    // MARK: Strings and booleans

    public func string(_ key: String) throws(JSONError) -> String { try asString(required(key), key) }
    public func stringIfPresent(_ key: String) throws(JSONError) -> String? {
        guard let v = present(key) else { return nil }
        return try asString(v, key)
    }
    func asString(_ v: JSONValue, _ key: String) throws(JSONError) -> String {
        guard case .string(let s) = v else { throw mismatch("string", v, key) }
        return s
    }

    public func bool(_ key: String) throws(JSONError) -> Bool { try asBool(required(key), key) }
    public func boolIfPresent(_ key: String) throws(JSONError) -> Bool? {
        guard let v = present(key) else { return nil }
        return try asBool(v, key)
    }
    func asBool(_ v: JSONValue, _ key: String) throws(JSONError) -> Bool {
        guard case .bool(let b) = v else { throw mismatch("boolean", v, key) }
        return b
    }

    public func strings(_ key: String) throws(JSONError) -> [String] { try asStrings(required(key), key) }
    public func stringsIfPresent(_ key: String) throws(JSONError) -> [String]? {
        guard let v = present(key) else { return nil }
        return try asStrings(v, key)
    }
    func asStrings(_ v: JSONValue, _ key: String) throws(JSONError) -> [String] {
        guard case .array(let elements) = v else { throw mismatch("array", v, key) }
        var out: [String] = []
        out.reserveCapacity(elements.count)
        for (i, e) in elements.enumerated() {
            guard case .string(let s) = e else {
                throw JSONError(path: JSONPathNode(parent: node, component: .key(key)).rendered(adding: .index(i)),
                                message: "expected string, found \(e.kindName)")
            }
            out.append(s)
        }
        return out
    }

    public func stringMap(_ key: String) throws(JSONError) -> [String: String] { try asStringMap(required(key), key) }
    public func stringMapIfPresent(_ key: String) throws(JSONError) -> [String: String]? {
        guard let v = present(key) else { return nil }
        return try asStringMap(v, key)
    }
    func asStringMap(_ v: JSONValue, _ key: String) throws(JSONError) -> [String: String] {
        guard case .object(let o) = v else { throw mismatch("object", v, key) }
        var out: [String: String] = [:]
        out.reserveCapacity(o.members.count)
        for m in o.members {
            guard case .string(let s) = m.value else {
                throw JSONError(path: JSONPathNode(parent: node, component: .key(key)).rendered(adding: .key(m.key)),
                                message: "expected string, found \(m.value.kindName)")
            }
            out[m.key] = s
        }
        return out
    }

    // MARK: Integers (range-checked; integral doubles accepted, as JSONDecoding does)

    func integer<T: FixedWidthInteger>(_ v: JSONValue, _ key: String, _ name: String, at index: Int? = nil) throws(JSONError) -> T {
        func fail(_ message: String) -> JSONError {
            if let index {
                return JSONError(path: JSONPathNode(parent: node, component: .key(key)).rendered(adding: .index(index)), message: message)
            }
            return self.fail(message, key)
        }
        guard case .number(let n) = v else { throw fail("expected integer, found \(v.kindName)") }
        switch n {
        case .int(let i):
            if let r = T(exactly: i) { return r }
            throw fail("value \(i) out of range for \(name)")
        case .uint(let u):
            if let r = T(exactly: u) { return r }
            throw fail("value \(u) out of range for \(name)")
        case .double(let d):
            guard d.isFinite, d.rounded(.towardZero) == d else { throw fail("expected integer, found \(n.description)") }
            if let r = T(exactly: d) { return r }
            throw fail("value \(n.description) out of range for \(name)")
        }
    }

    public func int(_ key: String) throws(JSONError) -> Int { try integer(required(key), key, "Int") }
    public func intIfPresent(_ key: String) throws(JSONError) -> Int? {
        guard let v = present(key) else { return nil }
        return try integer(v, key, "Int")
    }
    public func int32(_ key: String) throws(JSONError) -> Int32 { try integer(required(key), key, "Int32") }
    public func int32IfPresent(_ key: String) throws(JSONError) -> Int32? {
        guard let v = present(key) else { return nil }
        return try integer(v, key, "Int32")
    }
    public func int64(_ key: String) throws(JSONError) -> Int64 { try integer(required(key), key, "Int64") }
    public func int64IfPresent(_ key: String) throws(JSONError) -> Int64? {
        guard let v = present(key) else { return nil }
        return try integer(v, key, "Int64")
    }
    public func uint(_ key: String) throws(JSONError) -> UInt { try integer(required(key), key, "UInt") }
    public func uintIfPresent(_ key: String) throws(JSONError) -> UInt? {
        guard let v = present(key) else { return nil }
        return try integer(v, key, "UInt")
    }
    public func uint16(_ key: String) throws(JSONError) -> UInt16 { try integer(required(key), key, "UInt16") }
    public func uint16IfPresent(_ key: String) throws(JSONError) -> UInt16? {
        guard let v = present(key) else { return nil }
        return try integer(v, key, "UInt16")
    }
    public func uint32(_ key: String) throws(JSONError) -> UInt32 { try integer(required(key), key, "UInt32") }
    public func uint32IfPresent(_ key: String) throws(JSONError) -> UInt32? {
        guard let v = present(key) else { return nil }
        return try integer(v, key, "UInt32")
    }
    public func uint64(_ key: String) throws(JSONError) -> UInt64 { try integer(required(key), key, "UInt64") }
    public func uint64IfPresent(_ key: String) throws(JSONError) -> UInt64? {
        guard let v = present(key) else { return nil }
        return try integer(v, key, "UInt64")
    }
    public func uint32sIfPresent(_ key: String) throws(JSONError) -> [UInt32]? {
        guard let v = present(key) else { return nil }
        guard case .array(let elements) = v else { throw mismatch("array", v, key) }
        var out: [UInt32] = []
        for (i, e) in elements.enumerated() { out.append(try integer(e, key, "UInt32", at: i)) }
        return out
    }

    // MARK: Nested models

    func child(_ v: JSONValue, _ key: String) throws(JSONError) -> JSONReader {
        try JSONReader(v, node: JSONPathNode(parent: node, component: .key(key)))
    }

    public func model<T: JSONMapped>(_ key: String) throws(JSONError) -> T {
        try T(json: child(required(key), key))
    }
    public func modelIfPresent<T: JSONMapped>(_ key: String) throws(JSONError) -> T? {
        guard let v = present(key) else { return nil }
        return try T(json: child(v, key))
    }
    public func modelsIfPresent<T: JSONMapped>(_ key: String) throws(JSONError) -> [T]? {
        guard let v = present(key) else { return nil }
        guard case .array(let elements) = v else { throw mismatch("array", v, key) }
        let arrayNode = JSONPathNode(parent: node, component: .key(key))
        var out: [T] = []
        out.reserveCapacity(elements.count)
        for (i, e) in elements.enumerated() {
            out.append(try T(json: JSONReader(e, node: JSONPathNode(parent: arrayNode, component: .index(i)))))
        }
        return out
    }
    public func modelMapIfPresent<T: JSONMapped>(_ key: String) throws(JSONError) -> [String: T]? {
        guard let v = present(key) else { return nil }
        guard case .object(let o) = v else { throw mismatch("object", v, key) }
        let mapNode = JSONPathNode(parent: node, component: .key(key))
        var out: [String: T] = [:]
        for m in o.members {
            out[m.key] = try T(json: JSONReader(m.value, node: JSONPathNode(parent: mapNode, component: .key(m.key))))
        }
        return out
    }
}

/// Builds a model's JSON object: members in declaration order, nil members left out.
public struct JSONObjectWriter {
    public private(set) var object = JSONObject()

    public init() {}

    public var value: JSONValue { .object(object) }

    public mutating func put(_ key: String, _ v: String?) { if let v { object.append(key: key, value: .string(v)) } }
    public mutating func put(_ key: String, _ v: Bool?) { if let v { object.append(key: key, value: .bool(v)) } }
    public mutating func put(_ key: String, _ v: Int?) { if let v { object.append(key: key, value: .number(.int(Int64(v)))) } }
    public mutating func put(_ key: String, _ v: Int32?) { if let v { object.append(key: key, value: .number(.int(Int64(v)))) } }
    public mutating func put(_ key: String, _ v: Int64?) { if let v { object.append(key: key, value: .number(.int(v))) } }
    public mutating func put(_ key: String, _ v: UInt?) { if let v { put(key, UInt64(v)) } }
    public mutating func put(_ key: String, _ v: UInt16?) { if let v { object.append(key: key, value: .number(.int(Int64(v)))) } }
    public mutating func put(_ key: String, _ v: UInt32?) { if let v { object.append(key: key, value: .number(.int(Int64(v)))) } }
    public mutating func put(_ key: String, _ v: UInt64?) {
        guard let v else { return }
        object.append(key: key, value: .number(Int64(exactly: v).map { .int($0) } ?? .uint(v)))
    }
    public mutating func put(_ key: String, _ v: [String]?) {
        if let v { object.append(key: key, value: .array(v.map { .string($0) })) }
    }
    public mutating func put(_ key: String, _ v: [UInt32]?) {
        if let v { object.append(key: key, value: .array(v.map { .number(.int(Int64($0))) })) }
    }
    /// Keys sorted bytewise, as Go sorts map keys (and JSONEncoding does).
    public mutating func put(_ key: String, _ v: [String: String]?) {
        guard let v else { return }
        let keys = v.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        object.append(key: key, value: .object(JSONObject(keys.map { (key: $0, value: .string(v[$0]!)) })))
    }
    public mutating func put<T: JSONMapped>(_ key: String, _ v: T?) {
        if let v { object.append(key: key, value: v.jsonValue) }
    }
    public mutating func put<T: JSONMapped>(_ key: String, _ v: [T]?) {
        if let v { object.append(key: key, value: .array(v.map { $0.jsonValue })) }
    }
    public mutating func put<T: JSONMapped>(_ key: String, _ v: [String: T]?) {
        guard let v else { return }
        let keys = v.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        object.append(key: key, value: .object(JSONObject(keys.map { (key: $0, value: v[$0]!.jsonValue) })))
    }
}
