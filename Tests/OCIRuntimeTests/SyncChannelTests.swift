import Glibc
import Testing
@testable import OCIRuntime

/// The parent ↔ init channel: typed messages, and `.cgroupDirs` carrying the v1 cgroups'
/// `tasks` descriptors (SCM_RIGHTS), which the init writes to when it joins.
@Suite("SyncChannel")
struct SyncChannelTests {
    @Test("messages round-trip, and descriptors sent with one arrive open and in order")
    func messagesAndDescriptors() throws {
        let (parent, initEnd) = try SyncChannel.pair()
        defer { parent.close(); initEnd.close() }
        // Two pipes: the receiver writes through the passed write ends.
        var a: [Int32] = [0, 0], b: [Int32] = [0, 0]
        #expect(pipe(&a) == 0 && pipe(&b) == 0)
        defer { for fd in a + b { close(fd) } }
        try parent.send(.cgroupDirs, fds: [a[1], b[1]])
        let (msg, fds) = try #require(try initEnd.receiveWithFds())
        #expect(msg == .cgroupDirs)
        #expect(fds.count == 2)
        for (i, fd) in fds.enumerated() {
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0, "received descriptors are close-on-exec")
            var byte = UInt8(ascii: "x") + UInt8(i)
            #expect(write(fd, &byte, 1) == 1)
            close(fd)
        }
        var got: UInt8 = 0
        #expect(read(a[0], &got, 1) == 1 && got == UInt8(ascii: "x"))
        #expect(read(b[0], &got, 1) == 1 && got == UInt8(ascii: "y"))

        // No descriptors, every message kind, and an error text of some length.
        for m: SyncMessage in [.cgroupDirs, .go(1), .ready, .hooksDone, .runCreateRuntimeHooks, .error(String(repeating: "é", count: 3000))] {
            try initEnd.send(m)
            #expect(try parent.receive() == m)
        }
        try initEnd.send(.ready, fds: [])
        let (ready, none) = try #require(try parent.receiveWithFds())
        #expect(ready == .ready && none.isEmpty)
    }

    @Test("receive reports a closed peer as nil")
    func closedPeer() throws {
        let (parent, initEnd) = try SyncChannel.pair()
        initEnd.close()
        #expect(try parent.receive() == nil)
        #expect(try parent.receiveWithFds() == nil)
        parent.close()
    }
}
