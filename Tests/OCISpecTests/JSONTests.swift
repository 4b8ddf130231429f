import JSON
import Testing

@Suite struct JSONValueTests {
    @Test(arguments: [
        "plain",
        "quote \" and backslash \\ and slash /",
        "newline\n tab\t return\r",
        "controls \u{01}\u{08}\u{0C}\u{1F}\u{7F}",
        "non-ASCII: héllo, ünïcödé, 日本語, 🐳",
        "",
    ])
    func stringsRoundTrip(_ s: String) throws {
        let text = JSONValue.string(s).serialized()
        #expect(try JSONValue.parse(text) == .string(s))
        // Nothing below 0x20 is written raw.
        #expect(!text.utf8.contains { $0 < 0x20 })
    }

    @Test func escapesAreTheExpectedText() {
        #expect(JSONValue.string("a\"b\\c\nd\u{01}e").serialized() == #""a\"b\\c\nd\u0001e""#)
        #expect(JSONValue.string("日本").serialized() == "\"日本\"")
    }

    @Test func parsesEscapesAndSurrogates() throws {
        #expect(try JSONValue.parse(#""\u00e9\ud83d\udc33\/\b""#) == .string("é🐳/\u{08}"))
    }

    @Test func integersKeepFullPrecision() throws {
        let v = try JSONValue.parse("[18446744073709551615, -9223372036854775808, 9223372036854775807, 0, -0, 1.5, 1e3, 18446744073709551616]")
        #expect(v[0] == .number(.uint(UInt64.max)))
        #expect(v[1] == .number(.int(Int64.min)))
        #expect(v[2] == .number(.int(Int64.max)))
        #expect(v[3] == .number(.int(0)))
        #expect(v[4] == .number(.int(0)))
        #expect(v[5] == .number(.double(1.5)))
        #expect(v[6] == .number(.double(1000)))
        #expect(v[7] == .number(.double(18446744073709551616.0)))
        #expect(v.serialized() == "[18446744073709551615,-9223372036854775808,9223372036854775807,0,0,1.5,1000.0,1.8446744073709552e+19]")
    }

    @Test func decodesExtremeIntegers() throws {
        struct Numbers: Codable, Equatable {
            var big: UInt64
            var small: Int64
            var byte: UInt8
            var float: Float
        }
        let n = try JSONDecoding.decode(
            Numbers.self, from: #"{"big": 18446744073709551615, "small": -9223372036854775808, "byte": 255, "float": 0.1}"#)
        #expect(n == Numbers(big: .max, small: .min, byte: 255, float: 0.1))
        #expect(try JSONEncoding.encode(n) == #"{"big":18446744073709551615,"small":-9223372036854775808,"byte":255,"float":0.1}"#)
        #expect(throws: JSONError(path: ".byte", message: "value 256 out of range for UInt8")) {
            try JSONDecoding.decode(Numbers.self, from: #"{"big": 1, "small": 1, "byte": 256, "float": 0}"#)
        }
        #expect(throws: JSONError(path: ".big", message: "value -1 out of range for UInt64")) {
            try JSONDecoding.decode(Numbers.self, from: #"{"big": -1, "small": 1, "byte": 2, "float": 0}"#)
        }
        #expect(throws: JSONError(path: ".small", message: "value 9223372036854775808 out of range for Int64")) {
            try JSONDecoding.decode(Numbers.self, from: #"{"big": 1, "small": 9223372036854775808, "byte": 2, "float": 0}"#)
        }
    }

    @Test func doublesRoundTrip() throws {
        for d in [0.1, -2.5e-308, 1.7976931348623157e308, Double.leastNonzeroMagnitude, 123456.789, 1e21] {
            let text = JSONValue.number(.double(d)).serialized()
            #expect(try JSONValue.parse(text).doubleValue == d, "\(text)")
        }
        #expect(JSONValue.number(.double(.nan)).serialized() == "null")
        #expect(throws: JSONError(path: ".", message: "cannot encode non-finite number inf")) {
            try JSONEncoding.encode(Double.infinity)
        }
    }

    @Test func emptyContainers() throws {
        #expect(try JSONValue.parse("{}") == .object([:]))
        #expect(try JSONValue.parse("[]") == .array([]))
        #expect(try JSONValue.parse(#"{"a": {}, "b": []}"#).serialized(pretty: true) == "{\n  \"a\": {},\n  \"b\": []\n}")
        #expect(try JSONDecoding.decode([String].self, from: "[]") == [])
        #expect(try JSONDecoding.decode([String: Int].self, from: "{}") == [:])
        #expect(try JSONEncoding.encode([String]()) == "[]")
        #expect(try JSONEncoding.encode([String: Int]()) == "{}")
    }

    @Test func objectsKeepOrderAndLastDuplicateWins() throws {
        let v = try JSONValue.parse(#"{"z": 1, "a": 2, "m": 3, "a": 4}"#)
        #expect(v.objectValue?.keys == ["z", "a", "m", "a"])
        #expect(v["a"] == 4)
        #expect(v.serialized() == #"{"z":1,"a":2,"m":3,"a":4}"#)
        #expect(try JSONDecoding.decode([String: Int].self, from: v) == ["z": 1, "a": 4, "m": 3])
    }

    @Test func prettyMatchesGoIndent() throws {
        let v: JSONValue = ["a": [1, true, nil], "b": ["c": "d"]]
        #expect(v.serialized(pretty: true) == "{\n  \"a\": [\n    1,\n    true,\n    null\n  ],\n  \"b\": {\n    \"c\": \"d\"\n  }\n}")
    }

    @Test(arguments: [
        ("", "parse error"),
        ("{\"a\": ", "premature EOF"),
        ("[1,]", "parse error"),
        ("{\"a\" 1}", "parse error"),
        ("nul", "lexical error"),
    ])
    func parseErrorsCarryYajlMessage(text: String, fragment: String) {
        do {
            _ = try JSONValue.parse(text)
            Issue.record("parse of \(text) should fail")
        } catch {
            #expect(error.path == ".")
            #expect(error.description.contains(fragment), "got \(error)")
        }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func deepNestingIsRefusedNotCrashing() {
        let deep = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
        #expect(throws: JSONError.self) { try JSONValue.parse(deep) }
    }
}

// MARK: - Codable

private struct Inner: Codable, Equatable {
    var name: String
    var tag: String?
}

private struct Outer: Codable, Equatable {
    var inner: Inner?
    var list: [Inner?]
    var map: [String: [Int]]
    var flag: Bool?
}

/// A type with a hand-written Codable using nested, unkeyed and super containers.
private struct Custom: Codable, Equatable {
    var a: Int
    var pair: (String, Double)
    var base: Int

    enum Keys: String, CodingKey { case a, nested, pair, x }

    init(a: Int, pair: (String, Double), base: Int) {
        self.a = a
        self.pair = pair
        self.base = base
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let nested = try c.nestedContainer(keyedBy: Keys.self, forKey: .nested)
        a = try nested.decode(Int.self, forKey: .a)
        var u = try c.nestedUnkeyedContainer(forKey: .pair)
        pair = (try u.decode(String.self), try u.decode(Double.self))
        base = try Int(from: c.superDecoder())
        if a < 0 {
            throw DecodingError.dataCorruptedError(forKey: .a, in: nested, debugDescription: "a must not be negative")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        var nested = c.nestedContainer(keyedBy: Keys.self, forKey: .nested)
        try nested.encode(a, forKey: .a)
        var u = c.nestedUnkeyedContainer(forKey: .pair)
        try u.encode(pair.0)
        try u.encode(pair.1)
        try base.encode(to: c.superEncoder())
    }

    static func == (l: Custom, r: Custom) -> Bool { l.a == r.a && l.pair == r.pair && l.base == r.base }
}

@Suite struct CodableTests {
    @Test func nestedOptionalNull() throws {
        let text = #"{"inner": null, "list": [null, {"name": "x", "tag": null}], "map": {"b": [], "a": [1, 2]}}"#
        let v = try JSONDecoding.decode(Outer.self, from: text)
        #expect(v == Outer(inner: nil, list: [nil, Inner(name: "x")], map: ["a": [1, 2], "b": []], flag: nil))
        // nil optionals are omitted; nil array elements stay null; map keys come out sorted.
        #expect(try JSONEncoding.encode(v) == #"{"list":[null,{"name":"x"}],"map":{"a":[1,2],"b":[]}}"#)
    }

    @Test func typeMismatchInOptionalFieldIsAnError() {
        #expect(throws: JSONError(path: ".flag", message: "expected boolean, found string")) {
            try JSONDecoding.decode(Outer.self, from: #"{"list": [], "map": {}, "flag": "yes"}"#)
        }
        #expect(throws: JSONError(path: ".list[1].name", message: "missing required field")) {
            try JSONDecoding.decode(Outer.self, from: #"{"list": [null, {}], "map": {}}"#)
        }
        #expect(throws: JSONError(path: ".map.k[0]", message: "expected integer, found string")) {
            try JSONDecoding.decode(Outer.self, from: #"{"list": [], "map": {"k": ["1"]}}"#)
        }
    }

    @Test func customContainersRoundTrip() throws {
        let value = Custom(a: 7, pair: ("x", 2.5), base: 9)
        let text = try JSONEncoding.encode(value)
        #expect(text == #"{"nested":{"a":7},"pair":["x",2.5],"super":9}"#)
        #expect(try JSONDecoding.decode(Custom.self, from: text) == value)
    }

    @Test func decodingErrorsFromModelsBecomeJSONErrors() {
        #expect(throws: JSONError(path: ".nested.a", message: "a must not be negative")) {
            try JSONDecoding.decode(Custom.self, from: #"{"nested": {"a": -1}, "pair": ["x", 1], "super": 0}"#)
        }
        #expect(throws: JSONError(path: ".pair[1]", message: "unexpected end of array")) {
            try JSONDecoding.decode(Custom.self, from: #"{"nested": {"a": 1}, "pair": ["x"], "super": 0}"#)
        }
    }

    @Test func enumsWithRawValuesNameTheBadValue() throws {
        enum Color: String, Codable { case red }
        struct Paint: Codable { var color: Color }
        #expect(try JSONDecoding.decode(Paint.self, from: #"{"color": "red"}"#).color == .red)
        do {
            _ = try JSONDecoding.decode(Paint.self, from: #"{"color": "blue"}"#)
            Issue.record("should fail")
        } catch {
            #expect(error.path == ".color")
            #expect(error.message.contains("blue"))
        }
    }

    @Test func topLevelScalarsAndJSONValueFields() throws {
        #expect(try JSONDecoding.decode(Int32.self, from: "-5") == -5)
        #expect(try JSONDecoding.decode(String?.self, from: "null") == nil)
        struct Free: Codable { var extra: JSONValue }
        let free = try JSONDecoding.decode(Free.self, from: #"{"extra": {"b": [1, "x"], "a": null}}"#)
        #expect(free.extra == ["b": [1, "x"], "a": nil])
        #expect(try JSONEncoding.encode(free) == #"{"extra":{"b":[1,"x"],"a":null}}"#)
    }

    @Test func largeMapsUseTheIndex() throws {
        var map: [String: Int] = [:]
        for i in 0..<200 { map["key\(i)"] = i }
        let text = try JSONEncoding.encode(map)
        #expect(text.hasPrefix(#"{"key0":0,"key1":1,"key10":10,"key100":100,"#))
        #expect(try JSONDecoding.decode([String: Int].self, from: text) == map)
    }
}
