import OCISpec

// The cgroup2 device controller is an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the
// cgroup: the kernel runs it on every open/mknod of a device node with a context of
//   struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
// where access_type = (access << 16) | type, access a set of BPF_DEVCG_ACC_{MKNOD=1,READ=2,WRITE=4}
// and type BPF_DEVCG_DEV_{BLOCK=1,CHAR=2}; the program returns 1 to allow, 0 to deny.
// This file turns linux.resources.devices into such a program. It is pure: no syscalls (the
// loader is in Cgroups+DeviceFilter.swift), so the generated code is unit-tested by an interpreter.

/// One eBPF instruction (`struct bpf_insn`): opcode, destination and source registers, a
/// signed 16-bit offset and a signed 32-bit immediate.
public struct BPFInstruction: Equatable, Sendable, CustomStringConvertible {
    public var code: UInt8
    public var dst: UInt8
    public var src: UInt8
    public var offset: Int16
    public var imm: Int32

    public init(code: UInt8, dst: UInt8 = 0, src: UInt8 = 0, offset: Int16 = 0, imm: Int32 = 0) {
        self.code = code
        self.dst = dst
        self.src = src
        self.offset = offset
        self.imm = imm
    }

    /// The 8 bytes the kernel reads (little-endian; registers: dst in the low nibble).
    public var bytes: [UInt8] {
        let o = UInt16(bitPattern: offset), i = UInt32(bitPattern: imm)
        return [code, (src << 4) | (dst & 0x0f), UInt8(o & 0xff), UInt8(o >> 8),
                UInt8(i & 0xff), UInt8((i >> 8) & 0xff), UInt8((i >> 16) & 0xff), UInt8(i >> 24)]
    }

    public var description: String { "code=0x\(String(code, radix: 16)) dst=r\(dst) src=r\(src) off=\(offset) imm=\(imm)" }

    // The opcodes the device filter uses (linux/bpf_common.h, linux/bpf.h).
    public static let ldxMemW: UInt8 = 0x61     // BPF_LDX | BPF_MEM | BPF_W
    public static let movReg64: UInt8 = 0xbf    // BPF_ALU64 | BPF_MOV | BPF_X
    public static let movImm64: UInt8 = 0xb7    // BPF_ALU64 | BPF_MOV | BPF_K
    public static let andImm64: UInt8 = 0x57    // BPF_ALU64 | BPF_AND | BPF_K
    public static let rshImm64: UInt8 = 0x77    // BPF_ALU64 | BPF_RSH | BPF_K
    public static let ja: UInt8 = 0x05          // BPF_JMP | BPF_JA
    public static let jneImm: UInt8 = 0x55      // BPF_JMP | BPF_JNE | BPF_K
    public static let jsetImm: UInt8 = 0x45     // BPF_JMP | BPF_JSET | BPF_K
    public static let exit: UInt8 = 0x95        // BPF_JMP | BPF_EXIT
}

/// Access bits of a device request, as the cgroup device context encodes them.
public struct DeviceAccess: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let mknod = DeviceAccess(rawValue: 1)
    public static let read = DeviceAccess(rawValue: 2)
    public static let write = DeviceAccess(rawValue: 4)
    public static let all: DeviceAccess = [.mknod, .read, .write]

    /// Parses `rwm` letters (absent: all).
    public init(_ text: String?) throws {
        guard let text else { self = .all; return }
        var a: DeviceAccess = []
        for ch in text {
            switch ch {
            case "r": a.insert(.read)
            case "w": a.insert(.write)
            case "m": a.insert(.mknod)
            default: throw RuntimeError(.invalidArgument, "linux.resources.devices: invalid access \"\(text)\"")
            }
        }
        guard !a.isEmpty else { throw RuntimeError(.invalidArgument, "linux.resources.devices: empty access") }
        self = a
    }
}

/// Device node kinds of the cgroup device context.
public enum DeviceKind: UInt32, Sendable {
    case block = 1
    case char = 2
}

/// One device rule in the form the filter compiles: nil kind/major/minor match anything.
public struct DeviceRule: Equatable, Sendable {
    public var allow: Bool
    public var kind: DeviceKind?
    public var major: UInt32?
    public var minor: UInt32?
    public var access: DeviceAccess

    public init(allow: Bool, kind: DeviceKind?, major: UInt32?, minor: UInt32?, access: DeviceAccess) {
        self.allow = allow
        self.kind = kind
        self.major = major
        self.minor = minor
        self.access = access
    }

    /// A `linux.resources.devices` entry; nil for rules that never reach a device cgroup
    /// (type `p`: fifos are not devices). `u` (unbuffered char) is a char device.
    public init?(_ d: LinuxDeviceCgroup) throws {
        switch d.type ?? "a" {
        case "a": kind = nil
        case "c", "u": kind = .char
        case "b": kind = .block
        case "p": return nil
        default: throw RuntimeError(.invalidArgument, "linux.resources.devices: invalid device type \"\(d.type ?? "")\"")
        }
        func number(_ v: Int64?, _ what: String) throws -> UInt32? {
            guard let v, v >= 0 else { return nil }   // -1 (and absent) is the wildcard `*`
            guard v <= Int64(Int32.max) else {
                throw RuntimeError(.invalidArgument, "linux.resources.devices: \(what) number \(v) is out of range")
            }
            return UInt32(v)
        }
        allow = d.allow
        if kind == nil {
            major = nil; minor = nil   // `a` is `a *:*` whatever the numbers say (v1 does the same)
        } else {
            major = try number(d.major, "major")
            minor = try number(d.minor, "minor")
        }
        access = try DeviceAccess(d.access)
    }

    func matches(kind k: DeviceKind, major ma: UInt32, minor mi: UInt32) -> Bool {
        (kind == nil || kind == k) && (major == nil || major == ma) && (minor == nil || minor == mi)
    }

    var isUnconditional: Bool { kind == nil && major == nil && minor == nil }
}

/// linux.resources.devices compiled to a cgroup device program.
///
/// Semantics (the same as the v1 `devices.deny a` + ordered allow/deny writes ocirun makes):
/// the default is deny; rules are the config's in order, then ocirun's default allow list
/// (null, zero, full, tty, random, urandom, ptmx, /dev/pts/*, mknod of anything); for each
/// access bit a request asks for (read, write, mknod), the LAST rule that matches the device and
/// names that bit decides. A request is allowed when every bit it asks for is allowed. One
/// corner differs from the v1 kernel's exception list: there, a deny rule with wildcards does
/// not revoke an earlier, more specific allow; here the later rule always wins.
public enum DeviceFilter {
    /// The rules of a config plus the default allow list, in evaluation order.
    public static func rules(_ config: [LinuxDeviceCgroup], includeDefaults: Bool = true) throws -> [DeviceRule] {
        let all = config + (includeDefaults ? defaultAllowedDevices : [])
        return try all.compactMap { try DeviceRule($0) }
    }

    /// The reference decision for one request: what the program computes.
    public static func decide(_ rules: [DeviceRule], kind: DeviceKind, major: UInt32, minor: UInt32, access: DeviceAccess) -> Bool {
        for bit in [DeviceAccess.mknod, .read, .write] where access.contains(bit) {
            let last = rules.last { $0.access.contains(bit) && $0.matches(kind: kind, major: major, minor: minor) }
            guard last?.allow == true else { return false }
        }
        return true
    }

    /// The program for `rules`. Registers: r2 access bits, r3 device kind, r4 major, r5 minor.
    /// One block per access bit: skipped when the request lacks the bit, otherwise the rules
    /// naming the bit are tested last to first; the first match jumps to the next block (allow)
    /// or to the deny exit. Falling off a block's rules denies.
    public static func program(_ rules: [DeviceRule]) -> [BPFInstruction] {
        var asm = Assembler()
        typealias I = BPFInstruction
        asm.emit(I(code: I.ldxMemW, dst: 2, src: 1, offset: 0))   // r2 = ctx->access_type
        asm.emit(I(code: I.movReg64, dst: 3, src: 2))             // r3 = r2
        asm.emit(I(code: I.andImm64, dst: 3, imm: 0xffff))        // r3 &= 0xffff (kind)
        asm.emit(I(code: I.rshImm64, dst: 2, imm: 16))            // r2 >>= 16 (access)
        asm.emit(I(code: I.ldxMemW, dst: 4, src: 1, offset: 4))   // r4 = ctx->major
        asm.emit(I(code: I.ldxMemW, dst: 5, src: 1, offset: 8))   // r5 = ctx->minor
        let bits: [DeviceAccess] = [.mknod, .read, .write]
        for (i, bit) in bits.enumerated() {
            asm.label("bit\(i)")
            let next = i + 1 < bits.count ? "bit\(i + 1)" : "allow"
            asm.emit(I(code: I.jsetImm, dst: 2, offset: 1, imm: Int32(bit.rawValue)))   // asked for: test rules
            asm.jump(I(code: I.ja), to: next)
            var ended = false
            for (n, rule) in rules.enumerated().reversed() where rule.access.contains(bit) {
                let skip = "bit\(i)-rule\(n)"
                if let k = rule.kind { asm.jump(I(code: I.jneImm, dst: 3, imm: Int32(k.rawValue)), to: skip) }
                if let m = rule.major { asm.jump(I(code: I.jneImm, dst: 4, imm: Int32(bitPattern: m)), to: skip) }
                if let m = rule.minor { asm.jump(I(code: I.jneImm, dst: 5, imm: Int32(bitPattern: m)), to: skip) }
                asm.jump(I(code: I.ja), to: rule.allow ? next : "deny")
                asm.label(skip)
                // NOTE: nothing may follow an unconditional rule: the verifier rejects
                // unreachable instructions.
                if rule.isUnconditional { ended = true; break }
            }
            if !ended { asm.jump(I(code: I.ja), to: "deny") }
        }
        asm.label("allow")
        asm.emit(I(code: I.movImm64, dst: 0, imm: 1))
        asm.emit(I(code: I.exit))
        if asm.isReferenced("deny") {
            asm.label("deny")
            asm.emit(I(code: I.movImm64, dst: 0, imm: 0))
            asm.emit(I(code: I.exit))
        }
        return asm.resolved()
    }

    /// The program as the bytes BPF_PROG_LOAD takes.
    public static func bytes(_ program: [BPFInstruction]) -> [UInt8] { program.flatMap(\.bytes) }
}

/// Forward jumps to named labels, resolved once the program is complete.
private struct Assembler {
    var code: [BPFInstruction] = []
    var labels: [String: Int] = [:]
    var fixups: [(index: Int, label: String)] = []

    mutating func emit(_ i: BPFInstruction) { code.append(i) }
    mutating func jump(_ i: BPFInstruction, to label: String) {
        fixups.append((code.count, label))
        code.append(i)
    }
    mutating func label(_ name: String) { labels[name] = code.count }
    func isReferenced(_ name: String) -> Bool { fixups.contains { $0.label == name } }

    func resolved() -> [BPFInstruction] {
        var out = code
        for f in fixups {
            // Every label is defined by the generator, always after the jump.
            let target = labels[f.label] ?? code.count
            out[f.index].offset = Int16(clamping: target - f.index - 1)
        }
        return out
    }
}
