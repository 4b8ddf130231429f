#if canImport(Glibc)
import Glibc
#endif
import CSeccomp
import LinuxSystem
import OCISpec

/// A `linux.seccomp` profile, validated (actions, operators, architectures, flags) before the
/// container is created, and loaded with libseccomp in the init.
public struct SeccompProfile {
    struct Rule {
        var syscall: String
        var action: UInt32
        var args: [LinuxSeccompArg]
        var ops: [scmp_compare]
    }

    var defaultAction: UInt32
    var arches: [UInt32] = []
    var rules: [Rule] = []
    var flags: [String] = []
    public var usesNotify: Bool = false
    public var listenerPath: String?
    public var listenerMetadata: String?

    static let ops: [String: scmp_compare] = [
        "SCMP_CMP_NE": SCMP_CMP_NE, "SCMP_CMP_LT": SCMP_CMP_LT, "SCMP_CMP_LE": SCMP_CMP_LE,
        "SCMP_CMP_EQ": SCMP_CMP_EQ, "SCMP_CMP_GE": SCMP_CMP_GE, "SCMP_CMP_GT": SCMP_CMP_GT,
        "SCMP_CMP_MASKED_EQ": SCMP_CMP_MASKED_EQ,
    ]
    static let knownFlags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                             "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    public static let actionNames = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                                     "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"]
    public static let operatorNames = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                                       "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"]
    public static let archNames = ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
                                   "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
                                   "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                                   "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_RISCV64"]

    static func action(_ name: String, errno e: UInt?, where context: String) throws -> UInt32 {
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return 0x0000_0000
        case "SCMP_ACT_KILL_PROCESS": return 0x8000_0000
        case "SCMP_ACT_TRAP": return 0x0003_0000
        case "SCMP_ACT_ERRNO": return ocirun_scmp_act_errno(UInt16(truncatingIfNeeded: e ?? UInt(EPERM)))
        case "SCMP_ACT_TRACE": return ocirun_scmp_act_trace(UInt16(truncatingIfNeeded: e ?? UInt(EPERM)))
        case "SCMP_ACT_ALLOW": return 0x7fff_0000
        case "SCMP_ACT_LOG": return 0x7ffc_0000
        case "SCMP_ACT_NOTIFY": return 0x7fc0_0000
        default: throw RuntimeError(.invalidArgument, "\(context): unknown seccomp action \"\(name)\"")
        }
    }

    public init(_ s: LinuxSeccomp) throws {
        defaultAction = try Self.action(s.defaultAction, errno: s.defaultErrnoRet, where: "linux.seccomp.defaultAction")
        if s.defaultAction == "SCMP_ACT_NOTIFY" {
            throw RuntimeError(.invalidArgument, "linux.seccomp.defaultAction cannot be SCMP_ACT_NOTIFY")
        }
        for a in s.architectures ?? [] {
            guard a.hasASCIIPrefix("SCMP_ARCH_") else { throw RuntimeError(.invalidArgument, "linux.seccomp.architectures: unknown architecture \"\(a)\"") }
            let token = seccomp_arch_resolve_name(String(a.dropFirst(10)).lowercased())
            guard token != 0 else { throw RuntimeError(.invalidArgument, "linux.seccomp.architectures: unknown architecture \"\(a)\"") }
            arches.append(token)
        }
        for f in s.flags ?? [] {
            guard Self.knownFlags.contains(f) else { throw RuntimeError(.invalidArgument, "linux.seccomp.flags: unknown flag \"\(f)\"") }
            flags.append(f)
        }
        for (i, sc) in (s.syscalls ?? []).enumerated() {
            let act = try Self.action(sc.action, errno: sc.errnoRet ?? s.defaultErrnoRet, where: "linux.seccomp.syscalls[\(i)]")
            if sc.action == "SCMP_ACT_NOTIFY" { usesNotify = true }
            var ops: [scmp_compare] = []
            for (j, a) in (sc.args ?? []).enumerated() {
                guard let op = Self.ops[a.op] else {
                    throw RuntimeError(.invalidArgument, "linux.seccomp.syscalls[\(i)].args[\(j)]: unknown operator \"\(a.op)\"")
                }
                guard a.index < 6 else {
                    throw RuntimeError(.invalidArgument, "linux.seccomp.syscalls[\(i)].args[\(j)]: index \(a.index) out of range 0-5")
                }
                ops.append(op)
            }
            for name in sc.names {
                rules.append(Rule(syscall: name, action: act, args: sc.args ?? [], ops: ops))
            }
        }
        if usesNotify {
            guard let lp = s.listenerPath, !lp.isEmpty else {
                throw RuntimeError(.invalidArgument, "linux.seccomp: SCMP_ACT_NOTIFY needs listenerPath")
            }
        }
        listenerPath = s.listenerPath
        listenerMetadata = s.listenerMetadata
    }

    /// Builds and loads the filter; returns the notify descriptor when the profile uses
    /// SCMP_ACT_NOTIFY. Unknown syscall names are skipped, as runc does.
    public func load() throws -> Int32? {
        guard let ctx = seccomp_init(defaultAction) else { throw RuntimeError(.failed, "seccomp_init failed") }
        defer { seccomp_release(ctx) }
        // Leave no_new_privs to process.noNewPrivileges.
        _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)
        for f in flags {
            switch f {
            case "SECCOMP_FILTER_FLAG_TSYNC": _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)
            case "SECCOMP_FILTER_FLAG_LOG": _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)
            default: break
            }
        }
        for a in arches {
            let r = seccomp_arch_add(ctx, a)
            if r < 0 && r != -EEXIST { throw RuntimeError(.failed, "seccomp: add architecture", cause: SystemError("seccomp_arch_add", errno: -r)) }
        }
        for rule in rules {
            let nr = seccomp_syscall_resolve_name(rule.syscall)
            if nr == __NR_SCMP_ERROR { continue }
            if rule.action == defaultAction { continue }
            var cmps: [scmp_arg_cmp] = []
            for (k, a) in rule.args.enumerated() {
                cmps.append(scmp_arg_cmp(arg: UInt32(a.index), op: rule.ops[k], datum_a: a.value, datum_b: a.valueTwo ?? 0))
            }
            let indices = cmps.map(\.arg)
            if Set(indices).count != indices.count {
                // Conditions on the same argument: one rule each (they are OR-ed), as runc does.
                for c in cmps {
                    var one = [c]
                    let r = seccomp_rule_add_array(ctx, rule.action, nr, 1, &one)
                    if r < 0 { throw RuntimeError(.failed, "seccomp: add rule for \(rule.syscall)", cause: SystemError("seccomp_rule_add", errno: -r)) }
                }
                continue
            }
            let r = cmps.withUnsafeBufferPointer { seccomp_rule_add_array(ctx, rule.action, nr, UInt32($0.count), $0.baseAddress) }
            if r < 0 { throw RuntimeError(.failed, "seccomp: add rule for \(rule.syscall)", cause: SystemError("seccomp_rule_add", errno: -r)) }
        }
        let r = seccomp_load(ctx)
        if r < 0 { throw RuntimeError(.failed, "seccomp: load filter", cause: SystemError("seccomp_load", errno: -r)) }
        if usesNotify {
            let fd = seccomp_notify_fd(ctx)
            if fd < 0 { throw RuntimeError(.failed, "seccomp: notify fd", cause: SystemError("seccomp_notify_fd", errno: -fd)) }
            return dup(fd)
        }
        return nil
    }
}
