#if canImport(Glibc)
import Glibc
#endif
import CCap
import CLinux
import LinuxSystem
import OCISpec

/// The five capability sets of `process.capabilities`, as libcap values.
struct CapabilitySets {
    var bounding: [cap_value_t] = []
    var effective: [cap_value_t] = []
    var permitted: [cap_value_t] = []
    var inheritable: [cap_value_t] = []
    var ambient: [cap_value_t] = []

    /// Unknown names are skipped, as runc does for forward compatibility.
    init(_ caps: LinuxCapabilities?) {
        func values(_ names: [String]?) -> [cap_value_t] {
            (names ?? []).compactMap { name in
                var v = cap_value_t()
                return cap_from_name(name.lowercased(), &v) == 0 && v <= cap_max_bits() ? v : nil
            }
        }
        bounding = values(caps?.bounding)
        effective = values(caps?.effective)
        permitted = values(caps?.permitted)
        inheritable = values(caps?.inheritable)
        ambient = values(caps?.ambient)
    }

    /// Drops every capability not in the bounding set. Needs CAP_SETPCAP: before the user switch.
    func applyBounding() throws {
        let last = cap_value_t(cap_max_bits())
        // A flag per capability, not a Set: no hashing metadata to instantiate in the init.
        var keep = [Bool](repeating: false, count: Int(max(last, 0)))
        for b in bounding where b >= 0 && b < last { keep[Int(b)] = true }
        var c: cap_value_t = 0
        while c < last {
            // Dropping a capability already out of the set succeeds: no read first (one syscall
            // per capability instead of two).
            if !keep[Int(c)], cap_drop_bound(c) != 0 {
                throw SystemError("prctl(PR_CAPBSET_DROP)", "cap \(c)")
            }
            c += 1
        }
    }

    /// Sets effective, permitted and inheritable, then raises the ambient ones.
    func applySets() throws {
        guard let caps = cap_init() else { throw SystemError("cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        func set(_ flag: cap_flag_t, _ list: [cap_value_t]) {
            guard !list.isEmpty else { return }
            var l = list
            _ = cap_set_flag(caps, flag, Int32(l.count), &l, CAP_SET)
        }
        set(CAP_EFFECTIVE, effective)
        set(CAP_PERMITTED, permitted)
        set(CAP_INHERITABLE, inheritable)
        if cap_set_proc(caps) != 0 { throw SystemError("capset") }
        // PR_CAP_AMBIENT_CLEAR_ALL in one call (libcap's cap_reset_ambient reads every
        // capability first).
        _ = ocirun_clear_ambient_caps()
        for a in ambient {
            // A capability outside permitted or inheritable cannot be ambient; runc ignores it too.
            _ = cap_set_ambient(a, CAP_SET)
        }
    }
}
