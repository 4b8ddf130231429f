import JSON
import Testing

/// `JSONMembers.scan`: the members of one object, in order, without a tree.
@Suite struct JSONMembersTests {
    enum Member: Equatable {
        case string(String), number(String), bool(Bool), null, nested(String)
    }

    func scan(_ text: String) throws -> [(String, Member)] {
        let bytes = Array(text.utf8)
        var out: [(String, Member)] = []
        try bytes.withUnsafeBufferPointer { input in
            try JSONMembers.scan(input) { key, value in
                let k = String(decoding: key, as: UTF8.self)
                switch value {
                case .string(let s): out.append((k, .string(String(decoding: s, as: UTF8.self))))
                case .number(let n): out.append((k, .number(String(decoding: n, as: UTF8.self))))
                case .bool(let b): out.append((k, .bool(b)))
                case .null: out.append((k, .null))
                case .nested(let r): out.append((k, .nested(String(decoding: bytes[r], as: UTF8.self))))
                }
            }
        }
        return out
    }

    @Test("scalars decoded, nested values as their text, members in order")
    func members() throws {
        let m = try scan(#" {"id": "c\"1\u00e9", "pid": 42, "t": -1.5e3, "ok": true, "no": false, "n": null, "#
            + #""cgroup": {"paths": {"a": "/x"}, "l": [1, {"b": []}]}, "list": [ "x", {} ], "last": ""} "#)
        let want: [(String, Member)] = [
            ("id", .string("c\"1é")), ("pid", .number("42")), ("t", .number("-1.5e3")), ("ok", .bool(true)),
            ("no", .bool(false)), ("n", .null), ("cgroup", .nested(#"{"paths": {"a": "/x"}, "l": [1, {"b": []}]}"#)),
            ("list", .nested(#"[ "x", {} ]"#)), ("last", .string("")),
        ]
        #expect(m.map(\.0) == want.map(\.0))
        #expect(m.map(\.1) == want.map(\.1))
    }

    @Test("an empty object has no members")
    func empty() throws {
        #expect(try scan("{}").isEmpty)
    }

    @Test("what JSONValue.parse refuses is refused, with yajl's message", arguments: [
        "", "{", #"{"a": }"#, #"{"a": 1} x"#, #"{"a": 1}{"b": 2}"#, "{\"a\": \"\u{1}\"}",
    ])
    func malformed(_ text: String) {
        #expect(throws: JSONError.self) { try scan(text) }
        #expect(throws: JSONError.self) { try JSONValue.parse(text) }
    }

    @Test("a document that is not an object is refused", arguments: ["[1, 2]", "\"s\"", "3", "null", "true"])
    func notObject(_ text: String) throws {
        let e = try #require(throws: JSONError.self) { try scan(text) }
        #expect(e.message == "expected object")
    }

    @Test("invalid UTF-8 in a string is refused")
    func badUTF8() {
        let bytes: [UInt8] = Array(#"{"a": ""#.utf8) + [0xff, 0xfe] + Array(#""}"#.utf8)
        #expect(throws: JSONError.self) {
            try bytes.withUnsafeBufferPointer { try JSONMembers.scan($0) { _, _ in } }
        }
    }
}
