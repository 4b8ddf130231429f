/// glibc's `/etc/ld.so.cache`, read directly (glibc elf/cache.c and sysdeps/generic/dl-cache.h).
///
/// ```
/// new format ("glibc-ld.so.cache1.1"), all little-endian on x86_64/aarch64:
///   0  magic "glibc-ld.so.cache" + version "1.1"    20 bytes
///  20  nlibs u32 | 24 len_strings u32 | 28 flags u8, pad[3] | 32 extension_offset u32 | 36 unused[3]
///  48  entries[nlibs] { flags i32, key u32, value u32, osversion u32, hwcap u64 }   24 bytes each
///      strings; key/value are offsets from the start of this header
/// old format ("ld.so-1.7.0"):
///   0  magic "ld.so-1.7.0" (11 bytes, padded to 12) | 12 nlibs u32
///  16  entries[nlibs] { flags i32, key u32, value u32 }   12 bytes each
///      strings; key/value are offsets from the end of the entries
///  A file may hold an old table followed (8-byte aligned) by a new one: the new one is used.
/// ```
public struct LdCache: Sendable, Equatable {
    /// One library: its soname (`key`), the path it resolves to (`value`), and flags naming the ABI.
    public struct Entry: Sendable, Equatable {
        /// The soname, e.g. `libcuda.so.1`.
        public var soname: String
        /// The path, e.g. `/usr/lib/x86_64-linux-gnu/libcuda.so.1`.
        public var path: String
        /// `FLAG_ELF_LIBC6` (3) in the low byte, the architecture (`0x0300` x86-64) above it.
        public var flags: Int32
        /// The hardware capability bits (new format).
        public var hwcap: UInt64
    }

    /// The format the file was read in.
    public enum Format: String, Sendable { case new = "glibc-ld.so.cache1.1", old = "ld.so-1.7.0" }

    /// The entries, in file order (glibc sorts them; the first match wins when loading).
    public var entries: [Entry]
    /// The format that was read.
    public var format: Format

    static let newMagic = Array("glibc-ld.so.cache1.1".utf8)
    static let oldMagic = Array("ld.so-1.7.0".utf8)

    /// Parses the bytes of an ld.so.cache.
    public static func parse(_ bytes: [UInt8]) throws -> LdCache {
        func u32(_ at: Int) -> UInt32? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        func u64(_ at: Int) -> UInt64? {
            guard let lo = u32(at), let hi = u32(at + 4) else { return nil }
            return UInt64(lo) | UInt64(hi) << 32
        }
        func string(_ at: Int) -> String? {
            guard at >= 0, at < bytes.count, let end = bytes[at...].firstIndex(of: 0) else { return nil }
            return String(decoding: bytes[at..<end], as: UTF8.self)
        }
        func hasMagic(_ m: [UInt8], at: Int) -> Bool {
            at + m.count <= bytes.count && Array(bytes[at..<at + m.count]) == m
        }
        func parseNew(at base: Int) throws -> LdCache {
            guard let n = u32(base + 20) else { throw HookError("ld.so.cache: truncated header") }
            let count = Int(n)
            guard base + 48 + count * 24 <= bytes.count else {
                throw HookError("ld.so.cache: \(count) entries do not fit in \(bytes.count) bytes")
            }
            var out: [Entry] = []
            out.reserveCapacity(count)
            for i in 0..<count {
                let e = base + 48 + i * 24
                guard let key = string(base + Int(u32(e + 4)!)), let value = string(base + Int(u32(e + 8)!)) else {
                    throw HookError("ld.so.cache: entry \(i) points outside the file")
                }
                out.append(Entry(soname: key, path: value, flags: Int32(bitPattern: u32(e)!), hwcap: u64(e + 16)!))
            }
            return LdCache(entries: out, format: .new)
        }

        if hasMagic(newMagic, at: 0) { return try parseNew(at: 0) }
        guard hasMagic(oldMagic, at: 0), let n = u32(12) else {
            throw HookError("ld.so.cache: unknown format (neither \(Format.new.rawValue) nor \(Format.old.rawValue))")
        }
        let count = Int(n)
        let stringsAt = 16 + count * 12
        guard stringsAt <= bytes.count else {
            throw HookError("ld.so.cache: \(count) entries do not fit in \(bytes.count) bytes")
        }
        // An old table followed by a new one: glibc reads the new one.
        let newAt = (stringsAt + 7) & ~7
        if hasMagic(newMagic, at: newAt) { return try parseNew(at: newAt) }
        var out: [Entry] = []
        for i in 0..<count {
            let e = 16 + i * 12
            guard let key = string(stringsAt + Int(u32(e + 4)!)), let value = string(stringsAt + Int(u32(e + 8)!)) else {
                throw HookError("ld.so.cache: entry \(i) points outside the file")
            }
            out.append(Entry(soname: key, path: value, flags: Int32(bitPattern: u32(e)!), hwcap: 0))
        }
        return LdCache(entries: out, format: .old)
    }

    /// The architecture bits (`flags & 0xff00`) of ELF libc6 libraries for a `uname -m` machine.
    public static func archFlags(machine: String) -> Int32? {
        switch machine {
        case "x86_64": return 0x0300       // FLAG_X8664_LIB64
        case "aarch64": return 0x0a00      // FLAG_AARCH64_LIB64
        case "ppc64le", "ppc64": return 0x0500   // FLAG_POWERPC_LIB64
        case "s390x": return 0x0400        // FLAG_S390_LIB64
        case "riscv64": return 0x1000      // FLAG_RISCV_FLOAT_ABI_DOUBLE
        case "armv7l": return 0x0900         // FLAG_ARM_LIBHF
        case "i386", "i486", "i586", "i686": return 0x0000
        default: return nil
        }
    }

    /// Entries for libc6 libraries of the architecture `machine`, first entry per soname.
    public func libraries(machine: String) -> [Entry] {
        let arch = LdCache.archFlags(machine: machine)
        var seen: Set<String> = []
        return entries.filter { e in
            guard e.flags & 0xff == 3 else { return false }      // FLAG_ELF_LIBC6
            if let a = arch, e.flags & 0xff00 != a { return false }
            return seen.insert(e.soname).inserted
        }
    }
}

/// An error of the hooks: lowercase, naming the object and the cause.
public struct HookError: Error, CustomStringConvertible, Sendable {
    /// The message.
    public var description: String
    /// An error with `message`.
    public init(_ message: String) { description = message }
}
