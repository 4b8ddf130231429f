import Foundation
import SIFBundle

/// Paths and loaders for the fixtures next to this file.
enum Fixture {
    static let root: String = {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return here.appendingPathComponent("Fixtures").path
    }()

    /// Every image in Fixtures/images, by base name ("one-group-signed-dsse").
    static let imageNames: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: root + "/images")) ?? []
        return files.filter { $0.hasSuffix(".sif") }.map { String($0.dropLast(4)) }.sorted()
    }()

    static func imagePath(_ name: String) -> String { "\(root)/images/\(name).sif" }
    static func keyPath(_ name: String) -> String { "\(root)/keys/\(name)" }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: imagePath(name))))
    }

    static func image(_ name: String) throws -> SIFImage {
        try SIFImage(path: imagePath(name))
    }

    static func keys(_ names: [String]) throws -> [SIFPublicKey] {
        try names.flatMap { try SIFPublicKey.load(path: keyPath($0)) }
    }

    static func golden(_ name: String, _ ext: String) throws -> String {
        try String(contentsOfFile: "\(root)/golden/\(name).\(ext)", encoding: .utf8)
    }

    /// A fresh copy of an image in a temporary directory.
    static func tempCopy(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sif-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let dest = dir.appendingPathComponent("\(name).sif").path
        try FileManager.default.copyItem(atPath: imagePath(name), toPath: dest)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dest)
        return dest
    }
}

/// One row of `siftool list`.
struct GoldenRow: Equatable {
    var id: UInt32
    var group: String
    var link: String
    var start: Int64
    var end: Int64
    var type: String

    /// Parses the table rows of `siftool list` output.
    static func parse(_ text: String) -> [GoldenRow] {
        text.split(separator: "\n").compactMap { line in
            let cols = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cols.count == 5, let id = UInt32(cols[0]) else { return nil }
            let pos = cols[3].split(separator: "-")
            guard pos.count == 2, let s = Int64(pos[0]), let e = Int64(pos[1]) else { return nil }
            return GoldenRow(id: id, group: cols[1], link: cols[2], start: s, end: e, type: cols[4])
        }
    }
}

/// A small deterministic generator (SplitMix64) so that the fuzz test is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Little-endian patching for hand-made corruptions.
extension Array where Element == UInt8 {
    mutating func putI64(_ v: Int64, at: Int) {
        let u = UInt64(bitPattern: v)
        for i in 0..<8 { self[at + i] = UInt8(truncatingIfNeeded: u >> (8 * UInt64(i))) }
    }
    mutating func putU32(_ v: UInt32, at: Int) {
        for i in 0..<4 { self[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}
