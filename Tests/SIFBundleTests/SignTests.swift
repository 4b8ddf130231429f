import Foundation
import Testing
@testable import SIFBundle

@Suite("SIF signing")
struct SignTests {
    static let signers: [(String, String)] = [
        ("test-ed25519-private.pem", "test-ed25519-public.pem"),
        ("test-ecdsa-private.pem", "test-ecdsa-public.pem"),
    ]

    @Test("sign → verify round trip; wrong key and flipped byte fail", arguments: signers)
    func roundTrip(privateKey: String, publicKey: String) throws {
        let file = MemoryImageReader(try Fixture.bytes("one-group"))
        let key = try SIFPrivateKey.load(path: Fixture.keyPath(privateKey))
        let outcome = try SIFSigner.sign(file, key: key, time: 1_700_000_000)
        #expect(outcome.added.map(\.id) == [3])
        #expect(outcome.added.first?.link == .group(1))

        let image = try SIFImage(reader: file)
        #expect(image.header.descriptorsFree == 45)
        let ok = try image.verify(keys: Fixture.keys([publicKey]))
        #expect(ok.isVerified, "\(ok.problems)")
        #expect(try !image.verify(keys: Fixture.keys(["ed25519-public.pem"])).isVerified)

        var bytes = file.bytes
        bytes[36864 + 100] ^= 0x04
        let bad = try SIFImage(reader: MemoryImageReader(bytes)).verify(keys: Fixture.keys([publicKey]))
        #expect(bad.problems.contains("group 1: object 2 (partition, squashfs) digest mismatch (signature object 3)"))
    }

    @Test func signaturesAreDSSEWithSylabsKeyID() throws {
        let file = MemoryImageReader(try Fixture.bytes("one-group"))
        let key = try SIFPrivateKey.load(path: Fixture.keyPath("test-ed25519-private.pem"))
        _ = try SIFSigner.sign(file, key: key, time: 0)
        let image = try SIFImage(reader: file)
        let sig = try #require(image.descriptor(id: 3))
        let env = try DSSEEnvelope(json: image.data(of: sig))
        #expect(env.payloadType == "application/vnd.sylabs.sif-metadata+json")
        #expect(env.signatures.first?.keyID == key.keyID)
        #expect(key.keyID.hasPrefix("SHA256:"))
        #expect(sig.extra == .signature(hash: .sha256, entity: nil))
    }

    @Test func resigningAfterAddingAnObjectSignsTheNewState() throws {
        let file = MemoryImageReader(try Fixture.bytes("one-group"))
        let key = try SIFPrivateKey.load(path: Fixture.keyPath("test-ed25519-private.pem"))
        let pub = try Fixture.keys(["test-ed25519-public.pem"])
        _ = try SIFSigner.sign(file, key: key, time: 1)

        // Add a JSON object to group 1: the old signature no longer covers the group.
        var image = try SIFImage(reader: file)
        _ = try SIFSigner.appendObject(image: image, file: file, dataType: .genericJSON, data: Array("{}".utf8),
                                       groupID: 1, link: .none, extra: [], name: "added.json", time: 2)
        image = try SIFImage(reader: file)
        let stale = try image.verify(keys: pub)
        #expect(!stale.isVerified)
        #expect(stale.problems.contains { $0.contains("object 4 (generic json) is not signed") })

        let outcome = try SIFSigner.sign(file, key: key, time: 3)
        #expect(outcome.removedStale == [3])
        image = try SIFImage(reader: file)
        let fresh = try image.verify(keys: pub)
        #expect(fresh.isVerified, "\(fresh.problems)")
        #expect(image.descriptors(.dataType(.signature)).count == 1)
    }

    @Test func cosignaturesThatStillMatchAreKept() throws {
        let file = MemoryImageReader(try Fixture.bytes("one-group-signed-dsse"))
        let key = try SIFPrivateKey.load(path: Fixture.keyPath("test-ecdsa-private.pem"))
        let outcome = try SIFSigner.sign(file, key: key, time: 5)
        #expect(outcome.removedStale.isEmpty)
        let report = try SIFImage(reader: file).verify(keys: Fixture.keys(["ed25519-public.pem", "test-ecdsa-public.pem"]))
        #expect(report.isVerified, "\(report.problems)")
        #expect(report.signatures.allSatisfy { $0.isVerified })
    }

    @Test func appendingAPrimaryPartitionSetsTheHeaderArch() throws {
        let file = MemoryImageReader(try Fixture.bytes("one-object-generic-json"))
        var extra = [UInt8]()
        extra += [1, 0, 0, 0]  // squashfs
        extra += [2, 0, 0, 0]  // primary system
        extra += SIFArch.code(name: "amd64")
        let d = try SIFSigner.appendObject(image: SIFImage(reader: file), file: file, dataType: .partition,
                                           data: [UInt8](repeating: 7, count: 10), groupID: 1, link: .none,
                                           extra: extra, time: 0)
        let image = try SIFImage(reader: file)
        #expect(image.header.arch == "amd64")
        #expect(image.primaryPartition == d)
        #expect(throws: SIFError.self) {
            try SIFSigner.appendObject(image: image, file: file, dataType: .partition, data: [1], groupID: 1,
                                       link: .none, extra: extra, time: 0)
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/siftool")))
    func siftoolReadsSignedImage() throws {
        let path = try Fixture.tempCopy("one-group")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let key = try SIFPrivateKey.load(path: Fixture.keyPath("test-ed25519-private.pem"))
        let outcome = try SIFSigner.sign(path: path, key: key)
        let sig = try #require(outcome.added.first)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/siftool")
        p.arguments = ["list", path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let rows = GoldenRow.parse(out)
        #expect(rows.last == GoldenRow(id: sig.id, group: "NONE", link: "1   (G)", start: sig.offset, end: sig.end,
                                       type: "Signature (SHA-256)"))
        #expect(try SIFImage(path: path).verify(keys: Fixture.keys(["test-ed25519-public.pem"])).isVerified)
    }
}
