import Foundation
import Testing
@testable import SIFBundle

@Suite("SIF reader fuzzing")
struct FuzzTests {
    /// Mutates and truncates copies of every vector with a fixed seed; loading and verifying may
    /// only ever throw `SIFError` — no crash, no hang, no other error type.
    @Test(.timeLimit(.minutes(1)))
    func mutatedAndTruncatedVectors() throws {
        var rng = SeededGenerator(seed: 0x5EED_51F0)
        let vectors = try Fixture.imageNames.map { try Fixture.bytes($0) }
        let keys = try Fixture.keys(["ed25519-public.pem", "pgp-public.asc", "ecdsa-public.pem"])
        let iterations = 3000
        var loaded = 0
        var rejected = 0
        let start = Date()
        for i in 0..<iterations {
            var bytes = vectors[i % vectors.count]
            switch Int.random(in: 0..<6, using: &rng) {
            case 0:  // truncate anywhere
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
            case 1:  // flip bytes in the header
                for _ in 0..<Int.random(in: 1...4, using: &rng) { bytes[Int.random(in: 0..<128, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            case 2:  // flip bytes in the first descriptors
                for _ in 0..<Int.random(in: 1...8, using: &rng) { bytes[4096 + Int.random(in: 0..<(585 * 4), using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            case 3:  // write an extreme 64-bit value into a header or descriptor field
                let fields = [80, 88, 96, 104, 112, 120, 4096 + 17, 4096 + 25, 4096 + 33, 4096 + 585 + 17, 4096 + 585 + 25]
                let extremes: [Int64] = [0, -1, .max, .min, 1 << 32, Int64(bytes.count), Int64(bytes.count) - 1]
                bytes.putI64(extremes.randomElement(using: &rng)!, at: fields.randomElement(using: &rng)!)
            case 4 where bytes.count > 32176:  // flip bytes in the data (signatures included)
                for _ in 0..<Int.random(in: 1...16, using: &rng) {
                    let at = Int.random(in: 32176..<bytes.count, using: &rng)
                    bytes[at] = UInt8.random(in: 0...255, using: &rng)
                }
            default:  // append junk or cut the tail of the data
                if Bool.random(using: &rng) {
                    bytes += (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                } else {
                    bytes.removeLast(Int.random(in: 0...min(2048, bytes.count), using: &rng))
                }
            }
            do {
                let image = try SIFImage(reader: MemoryImageReader(bytes))
                loaded += 1
                for d in image.descriptors {
                    _ = d.extra
                    _ = d.typeDescription
                }
                _ = try image.verify(keys: keys, legacy: Bool.random(using: &rng))
            } catch is SIFError {
                rejected += 1
            } catch {
                Issue.record("iteration \(i): non-SIFError thrown: \(error)")
            }
        }
        #expect(loaded + rejected == iterations)
        #expect(loaded > 0 && rejected > 0)
        #expect(Date().timeIntervalSince(start) < 30)
    }

    @Test func fuzzedSignatureObjectsOnlyThrowSIFError() throws {
        var rng = SeededGenerator(seed: 42)
        let keys = try Fixture.keys(["ed25519-public.pem", "rsa-public.pem", "pgp-public.asc"])
        for name in ["one-group-signed-dsse", "one-group-signed-pgp", "one-group-signed-legacy"] {
            let original = try Fixture.bytes(name)
            let sig = try #require(try SIFImage(reader: MemoryImageReader(original)).descriptor(id: 3))
            for _ in 0..<300 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...6, using: &rng) {
                    bytes[Int(sig.offset) + Int.random(in: 0..<Int(sig.size), using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                let report = try SIFImage(reader: MemoryImageReader(bytes)).verify(keys: keys, legacy: true)
                // A changed signature object may still verify only if the change was a no-op for
                // the signed content (armour whitespace, base64 padding); it must never crash.
                _ = report.isVerified
            }
        }
    }
}
