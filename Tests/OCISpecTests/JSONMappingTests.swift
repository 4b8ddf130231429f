import JSON
import OCISpec
import Testing

/// The generated JSONMapped conformances (scripts/gen-json-mapping.py) must read and write exactly
/// what the Codable models read and write: the runtime uses the mappings, the tests and tools
/// the Codable path.
@Suite struct JSONMappingTests {
    @Test(arguments: [runcDefaultConfig, runcRootlessConfig, fullConfig, SpecTests.base])
    func mappedDecodingEqualsCodable(text: String) throws {
        let codable = try JSONDecoding.decode(Spec.self, from: text)
        let mapped = try JSONDecoding.decodeMapped(Spec.self, from: Array(text.utf8))
        #expect(mapped == codable)
        // And the mapped encoding is the Codable encoding, byte for byte.
        #expect(mapped.jsonValue.serialized(pretty: true) == (try codable.encodedPretty()))
    }

    @Test func everyFieldOfTheFullConfigRoundTrips() throws {
        let mapped = try JSONDecoding.decodeMapped(Spec.self, from: Array(fullConfig.utf8))
        #expect(mapped.jsonValue.serialized(pretty: true) == fullConfig)
    }

    @Test(arguments: SpecTests.errorCases)
    func mappedErrorsNameThePathAsCodableDoes(text: String, expected: String) throws {
        do {
            _ = try JSONDecoding.decodeMapped(Spec.self, from: Array(text.utf8))
            Issue.record("decoding should have failed with \(expected)")
        } catch {
            #expect(error.description.hasPrefix(expected), "got \(error)")
        }
    }

    /// Every scalar of the full config replaced by a value of the wrong JSON type: both paths
    /// fail with the same jq path and message.
    @Test func wrongTypesFailTheSameWayEverywhere() throws {
        let doc = try JSONValue.parse(Array(fullConfig.utf8))
        var cases = 0
        func visit(_ v: JSONValue, _ rebuild: (JSONValue) -> JSONValue) {
            switch v {
            case .object(let o):
                for (i, m) in o.members.enumerated() {
                    visit(m.value) { new in var c = o; c.members[i].value = new; return rebuild(.object(c)) }
                }
            case .array(let a):
                for (i, e) in a.enumerated() {
                    visit(e) { new in var c = a; c[i] = new; return rebuild(.array(c)) }
                }
            case .string:
                check(rebuild(.bool(true)))
            default:
                check(rebuild(.string("x")))
            }
        }
        func check(_ broken: JSONValue) {
            cases += 1
            let codable = Result { try JSONDecoding.decode(Spec.self, from: broken) }
            let mapped = Result { try JSONDecoding.decodeMapped(Spec.self, from: broken) }
            switch (codable, mapped) {
            case (.success(let a), .success(let b)):
                #expect(a == b)
            case (.failure(let a), .failure(let b)):
                #expect("\(a)" == "\(b)")
            default:
                Issue.record("Codable \(codable) vs mapped \(mapped) for \(broken.serialized())")
            }
        }
        visit(doc) { $0 }
        #expect(cases > 100)
    }

    /// (Whether the generated files match the models: `gen-json-mapping.py --check` in scripts/test.sh.)
    @Test func stateAndResourcesAreMapped() throws {
        _ = try JSONDecoding.decodeMapped(State.self, from: Array(#"{"ociVersion":"1.2.0","id":"a","status":"created","bundle":"/b"}"#.utf8))
        _ = try JSONDecoding.decodeMapped(LinuxResources.self, from: Array(#"{"pids":{"limit":5}}"#.utf8))
    }
}
