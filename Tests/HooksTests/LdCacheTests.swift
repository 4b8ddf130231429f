import Foundation
import Testing
@testable import Hooks

/// Builds cache files byte by byte, in the layouts glibc's dl-cache.h defines.
enum CacheBuilder {
    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)] }
    static func le64(_ v: UInt64) -> [UInt8] { le32(UInt32(v & 0xffff_ffff)) + le32(UInt32(v >> 32)) }

    /// New format: header, entries, then strings; offsets from the header start.
    static func new(_ entries: [(String, String, Int32)]) -> [UInt8] {
        let headerSize = 48, entrySize = 24
        var strings: [UInt8] = []
        var offsets: [(UInt32, UInt32)] = []
        let base = headerSize + entries.count * entrySize
        for (k, v, _) in entries {
            let ko = UInt32(base + strings.count); strings += Array(k.utf8) + [0]
            let vo = UInt32(base + strings.count); strings += Array(v.utf8) + [0]
            offsets.append((ko, vo))
        }
        var out = Array("glibc-ld.so.cache1.1".utf8)
        out += le32(UInt32(entries.count)) + le32(UInt32(strings.count)) + [2, 0, 0, 0] + le32(0) + le32(0) + le32(0) + le32(0)
        for (i, e) in entries.enumerated() {
            out += le32(UInt32(bitPattern: e.2)) + le32(offsets[i].0) + le32(offsets[i].1) + le32(0) + le64(0)
        }
        return out + strings
    }

    /// Old format: magic padded to 12, nlibs, entries, strings; offsets from the strings start.
    static func old(_ entries: [(String, String, Int32)]) -> [UInt8] {
        var strings: [UInt8] = []
        var out = Array("ld.so-1.7.0".utf8) + [0] + le32(UInt32(entries.count))
        for (k, v, f) in entries {
            let ko = UInt32(strings.count); strings += Array(k.utf8) + [0]
            let vo = UInt32(strings.count); strings += Array(v.utf8) + [0]
            out += le32(UInt32(bitPattern: f)) + le32(ko) + le32(vo)
        }
        return out + strings
    }
}

@Suite struct LdCacheTests {
    let sample: [(String, String, Int32)] = [
        ("libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", 0x0303),
        ("libcuda.so.1", "/usr/lib/i386-linux-gnu/libcuda.so.1", 0x0003),
        ("libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", 0x0a03),
    ]

    @Test func parsesTheNewFormat() throws {
        let c = try LdCache.parse(CacheBuilder.new(sample))
        #expect(c.format == .new)
        #expect(c.entries.count == 3)
        #expect(c.entries[0].soname == "libcuda.so.1")
        #expect(c.entries[1].path == "/usr/lib/i386-linux-gnu/libcuda.so.1")
        #expect(c.libraries(machine: "x86_64").map(\.path) == ["/usr/lib/x86_64-linux-gnu/libcuda.so.1"])
        #expect(c.libraries(machine: "aarch64").map(\.soname) == ["libc.so.6"])
    }

    @Test func parsesTheOldFormat() throws {
        let c = try LdCache.parse(CacheBuilder.old(sample))
        #expect(c.format == .old)
        #expect(c.entries.map(\.soname) == ["libcuda.so.1", "libcuda.so.1", "libc.so.6"])
        #expect(c.libraries(machine: "x86_64").map(\.path) == ["/usr/lib/x86_64-linux-gnu/libcuda.so.1"])
    }

    @Test func prefersTheNewTableAfterAnOldOne() throws {
        // glibc puts the new table right after the old entries (8-byte aligned); the old entries'
        // strings live in the new table's string area.
        var bytes = Array(CacheBuilder.old([("libold.so.1", "/old/libold.so.1", 0x0303)]).prefix(16 + 12))
        while bytes.count % 8 != 0 { bytes.append(0) }
        // The new table's offsets count from its own header.
        bytes += CacheBuilder.new(sample)
        let c = try LdCache.parse(bytes)
        #expect(c.format == .new)
        #expect(c.entries.count == 3)
    }

    @Test func rejectsGarbageAndTruncation() {
        #expect(throws: HookError.self) { try LdCache.parse(Array("not a cache".utf8)) }
        let good = CacheBuilder.new(sample)
        #expect(throws: HookError.self) { try LdCache.parse(Array(good.prefix(60))) }
        #expect(throws: HookError.self) { try LdCache.parse(Array(CacheBuilder.old(sample).prefix(30))) }
    }

    @Test func readsThisHostsCache() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/etc/ld.so.cache")))
        let c = try LdCache.parse(bytes)
        let libc = c.libraries(machine: HostDiscovery.unameMachine()).first { $0.soname == "libc.so.6" }
        #expect(libc != nil)
        #expect(FileManager.default.fileExists(atPath: libc?.path ?? "/nonexistent"))
    }

    @Test func resolvesSymlinksInsideTheRoot() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hooks-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/usr/lib", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/usr/lib/libx.so.1.2.3", contents: Data())
        try FileManager.default.createSymbolicLink(atPath: dir + "/lib", withDestinationPath: "usr/lib")
        try FileManager.default.createSymbolicLink(atPath: dir + "/usr/lib/libx.so.1", withDestinationPath: "libx.so.1.2.3")
        // An absolute link that would leave the root stays inside it.
        try FileManager.default.createSymbolicLink(atPath: dir + "/usr/lib/escape", withDestinationPath: "/../../../etc")
        let r = try resolveInRoot(root: dir, path: "/lib/libx.so.1")
        #expect(r.path == "/usr/lib/libx.so.1.2.3")
        #expect(r.local == dir + "/usr/lib/libx.so.1.2.3")
        #expect(try resolveInRoot(root: dir, path: "/usr/lib/escape/passwd").path == "/etc/passwd")
    }
}

/// Caches written by this host's glibc `ldconfig` in each of its formats.
@Suite struct LdconfigFormatsTests {
    @Test(arguments: [("new", LdCache.Format.new), ("compat", .new), ("old", .old)])
    func readsWhatLdconfigWrites(format: String, expected: LdCache.Format) throws {
        let ldconfig = ["/sbin/ldconfig", "/usr/sbin/ldconfig"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try #require(ldconfig != nil, "ldconfig is missing")
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("ldcache-\(UUID().uuidString)").path
        defer { try? fm.removeItem(atPath: root) }
        try fm.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/opt/lib", withIntermediateDirectories: true)
        let libc = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", "/lib64/libc.so.6"]
            .first { fm.fileExists(atPath: $0) }!
        try fm.copyItem(atPath: URL(fileURLWithPath: libc).resolvingSymlinksInPath().path, toPath: root + "/opt/lib/libc.so.6")
        try "/opt/lib\n".write(toFile: root + "/etc/ld.so.conf", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ldconfig!)
        p.arguments = ["-c", format, "-r", root]
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "ldconfig -c \(format) failed")
        let c = try LdCache.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: root + "/etc/ld.so.cache"))))
        #expect(c.format == expected)
        let libs = c.libraries(machine: HostDiscovery.unameMachine())
        #expect(libs.map(\.soname) == ["libc.so.6"])
        #expect(libs.first?.path == "/opt/lib/libc.so.6")
    }
}
