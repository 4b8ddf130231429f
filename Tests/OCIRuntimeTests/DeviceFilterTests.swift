import OCISpec
import Testing
@testable import OCIRuntime

/// A small eBPF interpreter for exactly the opcodes the device filter emits; anything else
/// fails the test. It also enforces what the kernel's verifier would: jumps stay inside the
/// program and go forward, every instruction is reachable, and the program ends in `exit`.
struct MiniBPF {
    enum Failure: Error, CustomStringConvertible {
        case bad(String)
        var description: String { if case .bad(let s) = self { return s }; return "" }
    }

    let program: [BPFInstruction]

    /// Runs the program on a cgroup device context; returns r0.
    func run(accessType: UInt32, major: UInt32, minor: UInt32) throws -> UInt64 {
        var r = [UInt64](repeating: 0, count: 11)
        let ctx: [UInt32] = [accessType, major, minor]
        var pc = 0
        var steps = 0
        while true {
            guard pc >= 0, pc < program.count else { throw Failure.bad("pc \(pc) outside the program") }
            steps += 1
            guard steps < 100_000 else { throw Failure.bad("no exit") }
            let i = program[pc]
            let d = Int(i.dst), s = Int(i.src)
            let imm = UInt64(bitPattern: Int64(i.imm))   // sign-extended, as the kernel does
            func jump(_ taken: Bool) throws {
                guard i.offset >= 0 else { throw Failure.bad("backward jump at \(pc)") }
                pc += 1 + (taken ? Int(i.offset) : 0)
            }
            switch i.code {
            case BPFInstruction.ldxMemW:
                guard s == 1, i.offset >= 0, i.offset % 4 == 0, Int(i.offset) / 4 < ctx.count else {
                    throw Failure.bad("bad context load at \(pc): \(i)")
                }
                r[d] = UInt64(ctx[Int(i.offset) / 4]); pc += 1
            case BPFInstruction.movReg64: r[d] = r[s]; pc += 1
            case BPFInstruction.movImm64: r[d] = imm; pc += 1
            case BPFInstruction.andImm64: r[d] &= imm; pc += 1
            case BPFInstruction.rshImm64: r[d] >>= UInt64(i.imm); pc += 1
            case BPFInstruction.ja: try jump(true)
            case BPFInstruction.jneImm: try jump(r[d] != imm)
            case BPFInstruction.jsetImm: try jump(r[d] & imm != 0)
            case BPFInstruction.exit: return r[0]
            default: throw Failure.bad("unexpected opcode \(i) at \(pc)")
            }
        }
    }

    /// The verifier's "unreachable insn" rule, and the last instruction must be exit or ja.
    func checkStructure() throws {
        var reached = [Bool](repeating: false, count: program.count)
        var work = [0]
        while let pc = work.popLast() {
            guard pc < program.count else { throw Failure.bad("falls off the end at \(pc)") }
            if reached[pc] { continue }
            reached[pc] = true
            let i = program[pc]
            switch i.code {
            case BPFInstruction.exit: continue
            case BPFInstruction.ja: work.append(pc + 1 + Int(i.offset))
            case BPFInstruction.jneImm, BPFInstruction.jsetImm:
                work.append(pc + 1); work.append(pc + 1 + Int(i.offset))
            default: work.append(pc + 1)
            }
        }
        if let dead = reached.firstIndex(of: false) { throw Failure.bad("unreachable instruction \(dead)") }
    }

    func allows(_ kind: DeviceKind, _ major: UInt32, _ minor: UInt32, _ access: DeviceAccess) throws -> Bool {
        try run(accessType: (access.rawValue << 16) | kind.rawValue, major: major, minor: minor) == 1
    }
}

@Suite("cgroup2 device filter (eBPF)")
struct DeviceFilterTests {
    func rule(_ allow: Bool, _ type: String?, _ major: Int64?, _ minor: Int64?, _ access: String?) -> LinuxDeviceCgroup {
        LinuxDeviceCgroup(allow: allow, type: type, major: major, minor: minor, access: access)
    }

    static let accessSets: [DeviceAccess] = [[.read], [.write], [.mknod], [.read, .write], [.read, .write, .mknod], [.write, .mknod]]

    /// Every (kind, major, minor, access) request the rules mention, plus neighbours.
    func requests(_ rules: [DeviceRule]) -> [(DeviceKind, UInt32, UInt32, DeviceAccess)] {
        var majors: Set<UInt32> = [0, 1, 4, 5, 7, 136, 195, 250]
        var minors: Set<UInt32> = [0, 1, 2, 3, 5, 8, 9, 255]
        for r in rules {
            if let m = r.major { majors.insert(m); majors.insert(m + 1) }
            if let m = r.minor { minors.insert(m); minors.insert(m + 1) }
        }
        var out: [(DeviceKind, UInt32, UInt32, DeviceAccess)] = []
        for k in [DeviceKind.char, .block] { for ma in majors { for mi in minors { for a in Self.accessSets { out.append((k, ma, mi, a)) } } } }
        return out
    }

    static let configs: [[LinuxDeviceCgroup]] = [
        [],
        [LinuxDeviceCgroup(allow: false, access: "rwm")],
        [LinuxDeviceCgroup(allow: true, type: "a", access: "rwm")],
        [LinuxDeviceCgroup(allow: true, type: "c", major: 195, minor: nil, access: "rw")],
        [LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 200, access: "rwm"),
         LinuxDeviceCgroup(allow: false, type: "c", major: 10, minor: 200, access: "w")],
        [LinuxDeviceCgroup(allow: true, type: "b", major: 7, minor: -1, access: "r"),
         LinuxDeviceCgroup(allow: true, type: "b", major: 7, minor: -1, access: "w")],
        [LinuxDeviceCgroup(allow: true, type: "a", access: "rwm"),
         LinuxDeviceCgroup(allow: false, type: "c", major: 1, minor: 3, access: "w"),
         LinuxDeviceCgroup(allow: false, type: "b", access: "m")],
        [LinuxDeviceCgroup(allow: true, type: "u", major: 4, minor: 1, access: "r"),
         LinuxDeviceCgroup(allow: true, type: "p", major: 4, minor: 2, access: "r")],
    ]

    @Test("the program decides like the reference rule semantics", arguments: configs.indices)
    func programMatchesReference(_ index: Int) throws {
        let rules = try DeviceFilter.rules(Self.configs[index])
        let vm = MiniBPF(program: DeviceFilter.program(rules))
        try vm.checkStructure()
        for (k, ma, mi, a) in requests(rules) {
            let want = DeviceFilter.decide(rules, kind: k, major: ma, minor: mi, access: a)
            let got = try vm.allows(k, ma, mi, a)
            #expect(got == want, "config \(index): \(k) \(ma):\(mi) \(a.rawValue)")
        }
    }

    @Test("decisions a v1 devices cgroup makes for the same writes")
    func expectedDecisions() throws {
        // Defaults only: null rw allowed; /dev/sda, /dev/mem, /dev/kmsg denied; mknod of anything.
        var vm = MiniBPF(program: DeviceFilter.program(try DeviceFilter.rules([])))
        #expect(try vm.allows(.char, 1, 3, [.read, .write]))
        #expect(try vm.allows(.char, 136, 4, [.read, .write]))     // /dev/pts/4
        #expect(try vm.allows(.char, 5, 2, [.read, .write]))       // /dev/ptmx
        #expect(try !vm.allows(.block, 8, 0, [.read]))
        #expect(try !vm.allows(.char, 1, 1, [.read]))              // /dev/mem
        #expect(try !vm.allows(.char, 1, 11, [.write]))            // /dev/kmsg
        #expect(try vm.allows(.block, 8, 0, [.mknod]))
        #expect(try !vm.allows(.block, 8, 0, [.mknod, .read]))

        // A GPU allowed rw (the HPC hook's extra rule): /dev/nvidia0 opens, mknod of it too
        // (default `c *:* m`), /dev/nvidia-uvm (another major) does not.
        vm = MiniBPF(program: DeviceFilter.program(try DeviceFilter.rules([rule(true, "c", 195, nil, "rw")])))
        #expect(try vm.allows(.char, 195, 0, [.read, .write]))
        #expect(try vm.allows(.char, 195, 255, [.mknod]))
        #expect(try !vm.allows(.char, 511, 0, [.read]))
        #expect(try !vm.allows(.block, 195, 0, [.read]))

        // Allowed, then write revoked: read still allowed, read-write not.
        vm = MiniBPF(program: DeviceFilter.program(try DeviceFilter.rules([rule(true, "c", 10, 200, "rwm"), rule(false, "c", 10, 200, "w")])))
        #expect(try vm.allows(.char, 10, 200, [.read]))
        #expect(try !vm.allows(.char, 10, 200, [.read, .write]))

        // Two allows of the same device merge their access, as v1's exception list does.
        vm = MiniBPF(program: DeviceFilter.program(try DeviceFilter.rules([rule(true, "b", 7, -1, "r"), rule(true, "b", 7, -1, "w")])))
        #expect(try vm.allows(.block, 7, 3, [.read, .write]))

        // Everything allowed: the config's `a` rule makes every request pass (no deny exit at all).
        let open = DeviceFilter.program(try DeviceFilter.rules([rule(true, "a", nil, nil, "rwm")]))
        vm = MiniBPF(program: open)
        try vm.checkStructure()
        #expect(try vm.allows(.block, 8, 0, [.read, .write, .mknod]))

        // A trailing deny-all in the config does not take the defaults away (runc appends them).
        vm = MiniBPF(program: DeviceFilter.program(try DeviceFilter.rules([rule(true, "a", nil, nil, "rwm"), rule(false, nil, nil, nil, "rwm")])))
        #expect(try !vm.allows(.block, 8, 0, [.read]))
        #expect(try vm.allows(.char, 1, 3, [.read, .write]))
    }

    @Test("the encoding is struct bpf_insn: opcode, dst|src<<4, little-endian offset and imm")
    func encoding() {
        let i = BPFInstruction(code: 0x61, dst: 4, src: 1, offset: 4, imm: 0)
        #expect(i.bytes == [0x61, 0x14, 4, 0, 0, 0, 0, 0])
        let j = BPFInstruction(code: 0x55, dst: 3, offset: -2, imm: 0x01020304)
        #expect(j.bytes == [0x55, 0x03, 0xfe, 0xff, 4, 3, 2, 1])
        let prog = DeviceFilter.program(try! DeviceFilter.rules([]))
        #expect(DeviceFilter.bytes(prog).count == prog.count * 8)
        #expect(prog.last?.code == BPFInstruction.exit)
    }

    @Test("bad rules are refused with the field named")
    func badRules() {
        #expect(throws: RuntimeError.self) { try DeviceFilter.rules([rule(true, "x", 1, 1, "r")]) }
        #expect(throws: RuntimeError.self) { try DeviceFilter.rules([rule(true, "c", 1, 1, "rq")]) }
        #expect(throws: RuntimeError.self) { try DeviceFilter.rules([rule(true, "c", 1 << 40, 1, "r")]) }
    }
}
