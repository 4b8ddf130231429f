import Foundation
import Testing
@testable import SIFBundle

@Suite("SIF reader")
struct ReaderTests {
    @Test("every vector matches siftool's golden listing", arguments: Fixture.imageNames)
    func matchesGoldenListing(name: String) throws {
        let image = try Fixture.image(name)
        let golden = GoldenRow.parse(try Fixture.golden(name, "list"))
        let ours = image.descriptors.map { d in
            GoldenRow(id: d.id, group: d.groupID.map { "\($0)" } ?? "NONE", link: d.link.description,
                      start: d.offset, end: d.end, type: d.typeDescription)
        }
        #expect(ours.count == golden.count)
        for (o, g) in zip(ours, golden) {
            #expect(o.id == g.id)
            #expect(o.group == g.group)
            #expect(o.link == g.link)
            #expect(o.start == g.start && o.end == g.end)
            // siftool 2.8.3 predates the OCI data types and prints "Unknown" for them.
            if g.type != "Unknown" { #expect(o.type == g.type) }
        }
    }

    @Test("header fields match siftool header", arguments: Fixture.imageNames)
    func matchesGoldenHeader(name: String) throws {
        let h = try Fixture.image(name).header
        var fields: [String: String] = [:]
        for line in try Fixture.golden(name, "header").split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        #expect(fields["Version"] == h.version)
        #expect(fields["Descriptors Free"] == "\(h.descriptorsFree)")
        #expect(fields["Descriptors Total"] == "\(h.descriptorsTotal)")
        #expect(fields["Descriptors Offset"] == "\(h.descriptorsOffset)")
        #expect(fields["Data Offset"] == "\(h.dataOffset)")
        #expect(fields["Primary Architecture"] == (h.arch == "unknown" ? nil : h.arch))
        #expect(fields["ID"] == h.uuidString)
        #expect(fields["Launch Script"] == (h.launchScript.isEmpty ? nil : h.launchScript.trimmingCharacters(in: .newlines)))
    }

    @Test func selectionByTypeGroupLinkAndPartition() throws {
        let image = try Fixture.image("one-group-signed-dsse")
        #expect(image.primaryPartition?.id == 2)
        #expect(image.descriptors(.partitionType(.system)).map(\.id) == [1])
        #expect(image.descriptors(.dataType(.partition), .groupID(1)).map(\.id) == [1, 2])
        #expect(image.descriptors(.dataType(.signature), .linkedGroupID(1)).map(\.id) == [3])
        #expect(image.descriptors(.noGroup).map(\.id) == [3])
        #expect(image.groupIDs == [1])
        #expect(try image.descriptor(.id(2)).fsType == .squashfs)
        #expect(throws: SIFError.self) { try image.descriptor(.dataType(.partition)) }  // two match
        let legacy = try Fixture.image("one-group-signed-legacy")
        #expect(legacy.descriptors(.linkedID(2)).map(\.id) == [3])
    }

    @Test func extraFieldsOfEveryDataType() throws {
        #expect(try Fixture.image("one-object-sbom").descriptors[0].extra == .sbom(format: SIFSBOMFormat(rawValue: 1)))
        #expect(try Fixture.image("one-object-crypt-message").descriptors[0].extra
            == .cryptoMessage(format: .openPGP, message: .clearSignature))
        #expect(try Fixture.image("one-object-oci-blob").descriptors[0].extra
            == .ociDigest("sha256:a88b15e95042f7d5a1327c03c57e10bdc1cf5f5efc2968fc73c12b6f5b00c731"))
        #expect(try Fixture.image("one-object-oci-root-index").descriptors[0].dataType == .ociRootIndex)
        let json = try Fixture.image("one-object-generic-json")
        #expect(json.descriptors[0].name == "data.json")
        #expect(try json.data(of: json.descriptors[0]) == Array("{}".utf8))
        let pgp = try Fixture.image("one-group-signed-pgp")
        guard case .signature(let hash, let entity)? = pgp.descriptor(id: 3)?.extra else {
            Issue.record("no signature extra")
            return
        }
        #expect(hash == .sha256)
        #expect(entity.map { hexString($0) } == "12045c8c0b1004d058de4beda20c27ee7ff7ba84")
        #expect(pgp.descriptor(id: 1)?.extra == .partition(fs: .raw, type: .system, arch: "386"))
    }

    /// A corruption of one-group.sif and the error it must produce.
    struct Corruption: CustomTestStringConvertible, Sendable {
        var what: String
        var expected: String
        var apply: @Sendable (inout [UInt8]) -> Void
        var testDescription: String { what }
    }

    static let corruptions: [Corruption] = [
        Corruption(what: "bad magic", expected: "bad magic") { $0[32] = UInt8(ascii: "X") },
        Corruption(what: "bad version", expected: "unsupported SIF version") { $0[43] = UInt8(ascii: "2") },
        Corruption(what: "truncated header", expected: "too small") { $0 = Array($0.prefix(100)) },
        Corruption(what: "truncated data", expected: "extends past end of file") { $0 = Array($0.prefix(38000)) },
        Corruption(what: "huge descriptor count", expected: "impossible descriptor count") { $0.putI64(1 << 40, at: 88) },
        Corruption(what: "negative free count", expected: "impossible free descriptor count") { $0.putI64(-1, at: 80) },
        Corruption(what: "free count disagrees", expected: "free descriptors recorded") { $0.putI64(47, at: 80) },
        Corruption(what: "table past end", expected: "descriptor table") { $0.putI64(40000, at: 96) },
        Corruption(what: "object past end", expected: "descriptor 1: object extends past end of file") {
            $0.putI64(1 << 40, at: 4096 + 25)
        },
        Corruption(what: "overlapping objects", expected: "descriptor 2: object overlaps object 1") {
            $0.putI64(32768, at: 4096 + 585 + 17)
        },
        Corruption(what: "object inside descriptor table", expected: "overlaps the header or descriptor table") {
            $0.putI64(4096, at: 4096 + 17)
        },
        Corruption(what: "duplicate ids", expected: "duplicate object id") { $0.putU32(1, at: 4096 + 585 + 5) },
        Corruption(what: "zero id", expected: "object id 0") { $0.putU32(0, at: 4096 + 5) },
    ]

    @Test("strict validation names the problem", arguments: corruptions)
    func strictValidation(c: Corruption) throws {
        var bytes = try Fixture.bytes("one-group")
        c.apply(&bytes)
        do {
            _ = try SIFImage(reader: MemoryImageReader(bytes))
            Issue.record("\(c.what): loaded without error")
        } catch let e as SIFError {
            #expect(e.code == .invalidFormat || e.code == .unsupported)
            #expect(e.description.contains(c.expected), "\(e.description)")
        }
    }

    @Test func fileErrorsNameThePath() {
        #expect {
            try SIFImage(path: "/nonexistent/image.sif")
        } throws: { error in
            (error as? SIFError)?.description.contains("/nonexistent/image.sif") == true
        }
    }
}
