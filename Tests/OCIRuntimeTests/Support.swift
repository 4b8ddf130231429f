import Foundation
import Testing

/// A fresh temporary directory, removed by `remove()`.
struct TempDir {
    let path: String

    init(_ prefix: String = "ocirun-unit") throws {
        let template = NSTemporaryDirectory() + "/\(prefix).XXXXXX"
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let made else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        // Canonical path: /tmp may itself be a symlink.
        path = URL(fileURLWithPath: String(cString: made)).resolvingSymlinksInPath().path
    }

    func sub(_ rel: String) -> String { path + "/" + rel }

    func mkdir(_ rel: String) throws {
        try FileManager.default.createDirectory(atPath: sub(rel), withIntermediateDirectories: true)
    }

    func write(_ rel: String, _ text: String) throws {
        let p = sub(rel)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: p, atomically: false, encoding: .utf8)
    }

    func read(_ rel: String) throws -> String {
        try String(contentsOfFile: sub(rel), encoding: .utf8)
    }

    func symlink(_ rel: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: sub(rel), withDestinationPath: target)
    }

    func exists(_ rel: String) -> Bool { lstatExists(sub(rel)) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// True when `path` exists, without following a final symlink.
func lstatExists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

/// The entries of a directory, sorted; empty when it cannot be read.
func listing(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}
