import Foundation
import Testing
@testable import SIFBundle

@Suite("SIF signature verification")
struct VerifyTests {
    /// An image, the keys given, whether legacy signatures count, and whether it must verify.
    struct Case: CustomTestStringConvertible, Sendable {
        var image: String
        var keys: [String]
        var legacy = false
        var verifies: Bool
        var testDescription: String { "\(image) with \(keys.joined(separator: ","))\(legacy ? " --legacy" : "") → \(verifies)" }
    }

    static let cases: [Case] = [
        // DSSE envelope signed by both an ed25519 and an RSA key.
        Case(image: "one-group-signed-dsse", keys: ["ed25519-public.pem"], verifies: true),
        Case(image: "one-group-signed-dsse", keys: ["rsa-public.pem"], verifies: true),
        Case(image: "one-group-signed-dsse", keys: ["ecdsa-public.pem"], verifies: false),
        Case(image: "one-group-signed-dsse", keys: ["pgp-public.asc"], verifies: false),
        Case(image: "one-group-signed-dsse", keys: ["test-ed25519-public.pem"], verifies: false),
        // PGP clear-signed metadata, armoured and binary keys.
        Case(image: "one-group-signed-pgp", keys: ["pgp-public.asc"], verifies: true),
        Case(image: "one-group-signed-pgp", keys: ["pgp-public.gpg"], verifies: true),
        Case(image: "one-group-signed-pgp", keys: ["ed25519-public.pem"], verifies: false),
        // Legacy SIFHASH signatures: only with --legacy.
        Case(image: "one-group-signed-legacy", keys: ["pgp-public.asc"], verifies: false),
        Case(image: "one-group-signed-legacy", keys: ["pgp-public.asc"], legacy: true, verifies: true),
        Case(image: "one-group-signed-legacy-group", keys: ["pgp-public.asc"], legacy: true, verifies: true),
        Case(image: "one-group-signed-legacy-group", keys: ["rsa-public.pem"], legacy: true, verifies: false),
        // Unsigned images never verify.
        Case(image: "one-group", keys: ["ed25519-public.pem"], verifies: false),
        Case(image: "empty", keys: ["ed25519-public.pem"], verifies: false),
    ]

    @Test("vectors verify only with their keys", arguments: cases)
    func vectors(c: Case) throws {
        let report = try Fixture.image(c.image).verify(keys: Fixture.keys(c.keys), legacy: c.legacy)
        #expect(report.isVerified == c.verifies, "\(report.problems)")
        #expect(report.problems.isEmpty == c.verifies)
    }

    @Test func unsignedImageSaysNoSignatures() throws {
        let report = try Fixture.image("one-group").verify(keys: Fixture.keys(["ed25519-public.pem"]))
        #expect(report.problems == ["no signatures"])
    }

    /// Signed vectors, their key, and the legacy flag they need.
    static let signed: [(String, String, Bool)] = [
        ("one-group-signed-dsse", "ed25519-public.pem", false),
        ("one-group-signed-dsse", "rsa-public.pem", false),
        ("one-group-signed-pgp", "pgp-public.asc", false),
        ("one-group-signed-legacy", "pgp-public.asc", true),
        ("one-group-signed-legacy-group", "pgp-public.asc", true),
    ]

    @Test("flipping one byte of a signed object fails, naming group and object", arguments: signed)
    func flippedByte(image: String, key: String, legacy: Bool) throws {
        var bytes = try Fixture.bytes(image)
        let original = try SIFImage(reader: MemoryImageReader(bytes))
        let target = try #require(original.primaryPartition)
        bytes[Int(target.offset) + 1] ^= 0x01
        let report = try SIFImage(reader: MemoryImageReader(bytes)).verify(keys: Fixture.keys([key]), legacy: legacy)
        #expect(!report.isVerified)
        let expected = image == "one-group-signed-legacy-group"
            ? "group 1: group 1 data digest mismatch"
            : "group 1: object 2 (partition, squashfs) digest mismatch"
        #expect(report.problems.contains { $0.hasPrefix(expected) }, "\(report.problems)")
    }

    @Test("flipping a byte in a copy on disk fails too", arguments: ["one-group-signed-dsse", "one-group-signed-pgp"])
    func flippedByteOnDisk(image: String) throws {
        let path = try Fixture.tempCopy(image)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let file = try FileImageReader(path: path, writable: true)
        let d = try #require(try SIFImage(reader: file).descriptor(id: 1))
        try file.write([try file.read(at: UInt64(d.offset), count: 1)[0] ^ 0x80], at: UInt64(d.offset))
        let key = image.hasSuffix("pgp") ? "pgp-public.asc" : "ed25519-public.pem"
        let report = try SIFImage(path: path).verify(keys: Fixture.keys([key]))
        #expect(report.problems.contains("group 1: object 1 (partition, raw) digest mismatch (signature object 3)"))
    }

    @Test func tamperedDescriptorAndHeaderAreCaught() throws {
        var bytes = try Fixture.bytes("one-group-signed-dsse")
        bytes[4096 + 73] = UInt8(ascii: "x")  // object 1's name
        var report = try SIFImage(reader: MemoryImageReader(bytes)).verify(keys: Fixture.keys(["ed25519-public.pem"]))
        #expect(report.problems.contains { $0.contains("object 1 (partition, raw) descriptor digest mismatch") })

        bytes = try Fixture.bytes("one-group-signed-dsse")
        bytes[0] = UInt8(ascii: "#")  // launch script is integrity-protected
        report = try SIFImage(reader: MemoryImageReader(bytes)).verify(keys: Fixture.keys(["ed25519-public.pem"]))
        #expect(report.problems.contains { $0.contains("header digest mismatch") })
    }

    @Test func tamperedSignatureFails() throws {
        var bytes = try Fixture.bytes("one-group-signed-pgp")
        let image = try SIFImage(reader: MemoryImageReader(bytes))
        let sig = try #require(image.descriptor(id: 3))
        // Change one digest digit inside the signed text: the PGP signature no longer verifies.
        let text = try image.data(of: sig)
        let marker = Array(#""objectDigest":"sha256:"#.utf8)
        let at = try #require((0..<text.count - marker.count).first { Array(text[$0..<$0 + marker.count]) == marker })
        let digit = Int(sig.offset) + at + marker.count
        bytes[digit] = bytes[digit] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let report = try SIFImage(reader: MemoryImageReader(bytes)).verify(keys: Fixture.keys(["pgp-public.asc"]))
        #expect(!report.isVerified)
        #expect(report.signatures.first?.failures.contains { $0.contains("does not verify") } == true)
    }

    @Test func metadataRoundTripsThroughJSON() throws {
        let image = try Fixture.image("one-group-signed-dsse")
        let computed = try SIFImageMetadata(image: image, groupID: 1)
        let sig = try #require(image.descriptor(id: 3))
        let env = try DSSEEnvelope(json: image.data(of: sig))
        // The digests sylabs signed are the ones this reader computes, byte for byte.
        #expect(computed.encoded() == env.payload)
        #expect(try SIFImageMetadata(json: env.payload) == computed)
    }

    /// one-group.sif plus a clear-signed metadata document made by gpg with an EdDSA (ed25519)
    /// key, stored as a signature object linked to group 1 with `entity` as fingerprint.
    static func eddsaSignedImage(entity: [UInt8]) throws -> MemoryImageReader {
        let file = MemoryImageReader(try Fixture.bytes("one-group"))
        let signed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixture.root + "/signatures/one-group-pgp-ed25519.asc")))
        var extra = [UInt8](repeating: 0, count: 4)
        extra[0] = 1  // SHA-256
        _ = try SIFSigner.appendObject(image: SIFImage(reader: file), file: file, dataType: .signature, data: signed,
                                       groupID: nil, link: .group(1), extra: extra + entity, time: 0)
        return file
    }

    @Test func pgpEdDSAKeyVerifiesClearSignedMetadata() throws {
        let fpr = try String(contentsOfFile: Fixture.root + "/signatures/one-group-pgp-ed25519.fingerprint", encoding: .utf8)
        let entity = try #require(Hex.decode(fpr.trimmingCharacters(in: .whitespacesAndNewlines)))
        let image = try SIFImage(reader: Self.eddsaSignedImage(entity: entity))
        let good = try image.verify(keys: Fixture.keys(["test-pgp-ed25519-public.asc"]))
        #expect(good.isVerified, "\(good.problems)")
        #expect(try !image.verify(keys: Fixture.keys(["pgp-public.asc"])).isVerified)

        // The descriptor's entity must be the signer's fingerprint.
        var wrong = entity
        wrong[0] ^= 0xff
        let mismatched = try SIFImage(reader: Self.eddsaSignedImage(entity: wrong))
            .verify(keys: Fixture.keys(["test-pgp-ed25519-public.asc"]))
        #expect(mismatched.problems.contains { $0.contains("does not match the descriptor's entity") })
    }

    @Test func keysLoadInEveryForm() throws {
        #expect(try Fixture.keys(["ed25519-public.pem"]).first?.description.hasPrefix("ed25519 SHA256:x6l8Zblp") == true)
        #expect(try Fixture.keys(["ecdsa-public.pem"]).first?.description == "ecdsa-p256")
        #expect(try Fixture.keys(["rsa-public.pem"]).first?.description == "rsa-4096")
        #expect(try Fixture.keys(["pgp-public.asc"]).first?.description == "pgp 12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84")
        #expect(try Fixture.keys(["pgp-public.gpg"]).first?.description == "pgp 12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84")
        #expect(throws: SIFError.self) { try SIFPublicKey.load(Array("not a key".utf8)) }
    }
}
