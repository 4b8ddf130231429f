#if canImport(Glibc)
import Glibc
#endif
import CLinux
import LinuxSystem

/// Typed messages between `ocirun create` (the parent) and the container init, over a
/// SOCK_SEQPACKET socketpair: one message per packet, a tag byte and an optional text.
public enum SyncMessage: Equatable, Sendable {
    /// parent → init: the cgroup's directories exist (the cgroup mount may bind them); the v1
    /// hierarchies' `tasks` files ride along (SCM_RIGHTS). Always sent, first.
    case cgroupDirs
    /// parent → init: cgroup limited and id mappings written; join the cgroup and go on.
    case go(Int32)
    /// init → parent: the seccomp notify fd rides along (SCM_RIGHTS), for the listener.
    case seccompFd
    /// init → parent: namespaces and mounts are ready; run prestart/createRuntime hooks.
    case runCreateRuntimeHooks
    /// parent → init: hooks done.
    case hooksDone
    /// init → parent: set-up complete, waiting on exec.fifo (under `run`, going on to exec).
    case ready
    /// init → parent (or parent → init): failure, with the message to report.
    case error(String)

    var encoded: [UInt8] {
        switch self {
        case .cgroupDirs: return [UInt8(ascii: "C")]
        case .go(let pid): return [UInt8(ascii: "G")] + Array(decimal(Int64(pid)).utf8)
        case .seccompFd: return [UInt8(ascii: "S")]
        case .runCreateRuntimeHooks: return [UInt8(ascii: "H")]
        case .hooksDone: return [UInt8(ascii: "D")]
        case .ready: return [UInt8(ascii: "R")]
        case .error(let m): return [UInt8(ascii: "E")] + Array(m.utf8)
        }
    }

    static func decode(_ b: ArraySlice<UInt8>) -> SyncMessage? {
        guard let tag = b.first else { return nil }
        switch tag {
        case UInt8(ascii: "C"): return .cgroupDirs
        case UInt8(ascii: "G"): return .go(Int32(String(decoding: b.dropFirst(), as: UTF8.self)) ?? 0)
        case UInt8(ascii: "S"): return .seccompFd
        case UInt8(ascii: "H"): return .runCreateRuntimeHooks
        case UInt8(ascii: "D"): return .hooksDone
        case UInt8(ascii: "R"): return .ready
        case UInt8(ascii: "E"): return .error(String(decoding: b.dropFirst(), as: UTF8.self))
        default: return nil
        }
    }
}

/// One end of the socketpair.
public struct SyncChannel {
    public let fd: Int32

    /// A connected pair: (parent end, init end), both close-on-exec.
    public static func pair() throws -> (SyncChannel, SyncChannel) {
        var fds: [Int32] = [0, 0]
        try retrying("socketpair") { socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) }
        return (SyncChannel(fd: fds[0]), SyncChannel(fd: fds[1]))
    }

    public func send(_ m: SyncMessage) throws {
        let bytes = m.encoded
        try bytes.withUnsafeBytes { buf in
            _ = try retrying("send") { Glibc.send(fd, buf.baseAddress, buf.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// Receives one message; nil when the other end closed (the peer died).
    public func receive() throws -> SyncMessage? {
        // Into uninitialized storage: a zeroed 64 KiB buffer costs 16 page faults per message,
        // and only the bytes received are ever read.
        let buf = try [UInt8](unsafeUninitializedCapacity: SyncChannel.maxMessage) { b, count in
            count = try retrying("recv") { Glibc.recv(fd, b.baseAddress, b.count, 0) }
        }
        if buf.isEmpty { return nil }
        return SyncMessage.decode(buf[...])
    }

    /// The error the peer sent before it died, if one is waiting (never blocks).
    public func pendingError() -> String? {
        let buf = [UInt8](unsafeUninitializedCapacity: SyncChannel.maxMessage) { b, count in
            count = max(0, Glibc.recv(fd, b.baseAddress, b.count, Int32(MSG_DONTWAIT)))
        }
        guard !buf.isEmpty, case .error(let m)? = SyncMessage.decode(buf[...]) else { return nil }
        return m
    }

    /// The longest message: an error text (a packet longer than this is cut).
    static let maxMessage = 65536

    /// Sends a message with a descriptor attached.
    public func send(_ m: SyncMessage, fd passed: Int32) throws {
        try send(m, fds: [passed])
    }

    /// Receives one message and the descriptor attached to it, if any.
    public func receiveWithFd() throws -> (SyncMessage, Int32?)? {
        guard let (m, fds) = try receiveWithFds() else { return nil }
        for extra in fds.dropFirst() { Glibc.close(extra) }
        return (m, fds.first)
    }

    /// Sends a message with descriptors attached (at most OCIRUN_MAX_PASSED_FDS).
    public func send(_ m: SyncMessage, fds passed: [Int32]) throws {
        let bytes = m.encoded.map { CChar(bitPattern: $0) }
        let rc = passed.withUnsafeBufferPointer { f in
            bytes.withUnsafeBufferPointer { ocirun_send_fds(fd, f.baseAddress, Int32(f.count), $0.baseAddress, $0.count) }
        }
        if rc != 0 { throw SystemError("sendmsg") }
    }

    /// Receives one message and the descriptors attached to it (close-on-exec).
    public func receiveWithFds() throws -> (SyncMessage, [Int32])? {
        var fds = [Int32](repeating: -1, count: Int(OCIRUN_MAX_PASSED_FDS))
        var nfds: Int32 = 0
        let buf = try [UInt8](unsafeUninitializedCapacity: SyncChannel.maxMessage) { b, count in
            count = Int(try b.withMemoryRebound(to: CChar.self) { c in
                try retrying("recvmsg") { ocirun_recv_fds(fd, c.baseAddress, c.count, &fds, Int32(fds.count), &nfds) }
            })
        }
        let got = Array(fds[0..<Int(nfds)])
        guard !buf.isEmpty, let m = SyncMessage.decode(buf[...]) else {
            for f in got { Glibc.close(f) }
            return nil
        }
        return (m, got)
    }

    public func close() { Glibc.close(fd) }
}
