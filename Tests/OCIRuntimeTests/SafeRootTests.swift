import Foundation
import LinuxSystem
import Testing
@testable import OCIRuntime

/// SafeRoot against a rootfs planted with symlinks that point out of it. Whatever each call
/// answers (success or an error), it must only ever touch paths inside the rootfs.
@Suite("SafeRoot with hostile symlinks")
struct SafeRootTests {
    struct Fixture {
        let tmp: TempDir
        let rootfs: String
        let host: String        // stands in for a host directory such as /etc
        let hostAbove: String   // the target of the climbing relative link
        var hostSnapshot: [String] { listing(host) + listing(hostAbove) }

        init() throws {
            tmp = try TempDir("ocirun-saferoot")
            try tmp.mkdir("rootfs/a")
            try tmp.mkdir("host")
            try tmp.mkdir("above")
            try tmp.write("host/hostfile", "host secret\n")
            rootfs = tmp.sub("rootfs")
            host = tmp.sub("host")
            hostAbove = tmp.sub("above")
            // etc -> HOST (absolute), a/b -> ../../../…/above (climbs out), abs -> HOST/hostfile.
            try tmp.symlink("rootfs/etc", to: host)
            try tmp.symlink("rootfs/a/b", to: String(repeating: "../", count: 12) + String(hostAbove.dropFirst()))
            try tmp.symlink("rootfs/abs", to: host + "/hostfile")
            try tmp.symlink("rootfs/dotdot", to: "/../../../..")
        }
    }

    func contents(_ fd: FileDescriptor) throws -> String {
        String(decoding: try fd.readAll(), as: UTF8.self)
    }

    @Test("open resolves absolute and climbing links inside the rootfs", arguments: [false, true])
    func open(fallback: Bool) throws {
        let f = try Fixture()
        defer { f.tmp.remove() }
        let root = try SafeRoot(path: f.rootfs)
        func open(_ p: String, _ flags: Int32 = O_RDONLY) throws -> FileDescriptor {
            fallback ? try root.walk(root.relative(p), flags, mode: 0) : try root.open(p, flags)
        }
        // The host file is not reachable through any link.
        for p in ["/etc/hostfile", "/abs", "/a/b/../../../../../\(f.host.dropFirst())/hostfile"] {
            #expect(throws: (any Error).self, "\(p)") { try open(p) }
        }
        // The same names resolve to files planted inside the rootfs.
        try f.tmp.write("rootfs" + f.host + "/hostfile", "inside\n")
        #expect(try contents(try open("/etc/hostfile")) == "inside\n")
        #expect(try contents(try open("/abs")) == "inside\n")
        #expect(try contents(try open("/dotdot" + f.host + "/hostfile")) == "inside\n")
        try f.tmp.write("rootfs" + f.hostAbove + "/x", "inside above\n")
        #expect(try contents(try open("/a/b/x")) == "inside above\n")
        #expect(f.hostSnapshot == ["hostfile"])
    }

    @Test("makeDirectories never creates on the host", arguments: ["/etc/newdir", "/a/b/newdir/sub", "/dotdot/tmp/newdir"])
    func makeDirectories(path: String) throws {
        let f = try Fixture()
        defer { f.tmp.remove() }
        let root = try SafeRoot(path: f.rootfs)
        // Link targets missing inside the rootfs: an error is fine, a host directory is not.
        _ = try? root.makeDirectories(path)
        #expect(f.hostSnapshot == ["hostfile"])
        #expect(!lstatExists("/tmp/newdir"))
        // With the link targets present inside the rootfs, the directories are made there.
        try f.tmp.mkdir("rootfs" + f.host)
        try f.tmp.mkdir("rootfs" + f.hostAbove)
        try f.tmp.mkdir("rootfs/tmp")
        let fd = try root.makeDirectories(path)
        #expect(Files.isDirectory("/proc/self/fd/\(fd.rawValue)"))
        let made = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd.rawValue)")
        #expect(made.hasPrefix(f.rootfs + "/"), "\(made)")
        #expect(f.hostSnapshot == ["hostfile"])
    }

    @Test("makeMountTarget makes files and directories inside the rootfs", arguments: [
        ("/etc/resolv.conf", true), ("/etc/mnt", false), ("/a/b/mnt", false), ("/a/b/file", true),
        ("/new/deep/dir", false),
    ])
    func makeMountTarget(path: String, file: Bool) throws {
        let f = try Fixture()
        defer { f.tmp.remove() }
        let root = try SafeRoot(path: f.rootfs)
        _ = try? root.makeMountTarget(path, file: file)
        #expect(f.hostSnapshot == ["hostfile"])
        try f.tmp.mkdir("rootfs" + f.host)
        try f.tmp.mkdir("rootfs" + f.hostAbove)
        let fd = try root.makeMountTarget(path, file: file)
        let made = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd.rawValue)")
        #expect(made.hasPrefix(f.rootfs + "/"), "\(made)")
        #expect(f.hostSnapshot == ["hostfile"])
        #expect(try String(contentsOfFile: f.host + "/hostfile", encoding: .utf8) == "host secret\n")
    }

    /// runc (SecureJoin, then create) would make the link's target inside the rootfs; ocirun
    /// refuses. Either is safe: the host must be untouched.
    @Test("a dangling link at a file mount target is not followed to the host", arguments: ["/abs", "/dangling"])
    func danglingFileTarget(path: String) throws {
        let f = try Fixture()
        defer { f.tmp.remove() }
        try f.tmp.symlink("rootfs/dangling", to: f.host + "/created-by-runtime")
        let root = try SafeRoot(path: f.rootfs)
        _ = try? root.makeMountTarget(path, file: true)
        try f.tmp.mkdir("rootfs" + f.host)
        _ = try? root.makeMountTarget(path, file: true)
        #expect(f.hostSnapshot == ["hostfile"])
        #expect(try String(contentsOfFile: f.host + "/hostfile", encoding: .utf8) == "host secret\n")
    }
}
