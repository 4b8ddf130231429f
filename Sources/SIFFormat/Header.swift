/// The SIF global header (the first 128 bytes of an image).
public struct SIFHeader: Sendable, Hashable {
    /// The raw 32-byte launch script field.
    public var rawLaunchScript: [UInt8]
    /// The raw 10-byte magic field.
    public var rawMagic: [UInt8]
    /// The raw 3-byte version field.
    public var rawVersion: [UInt8]
    /// The raw 3-byte architecture code of the primary partition.
    public var rawArch: [UInt8]
    /// The 16-byte image UUID (all zero for deterministic images).
    public var uuid: [UInt8]
    /// Creation time, Unix seconds.
    public var createdAt: Int64
    /// Modification time, Unix seconds.
    public var modifiedAt: Int64
    /// Number of unused descriptor slots.
    public var descriptorsFree: Int64
    /// Number of descriptor slots.
    public var descriptorsTotal: Int64
    /// File offset of the descriptor table.
    public var descriptorsOffset: Int64
    /// Size of the descriptor table in bytes.
    public var descriptorsSize: Int64
    /// File offset where data objects start.
    public var dataOffset: Int64
    /// Bytes used by data objects (with padding).
    public var dataSize: Int64

    /// The launch script ("#!/usr/bin/env run-singularity"), without NULs.
    public var launchScript: String { cString(rawLaunchScript) }
    /// The format version ("01").
    public var version: String { cString(rawVersion) }
    /// The Go name of the primary architecture ("amd64"), or "unknown".
    public var arch: String { SIFArch.name(code: rawArch) }
    /// The UUID in its canonical text form, or nil when it is all zero.
    public var uuidString: String? {
        guard uuid.contains(where: { $0 != 0 }) else { return nil }
        let hex = uuid.map { hexByte($0) }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }

    /// Decodes and validates the magic and version of a 128-byte header.
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= SIFLayout.headerSize else {
            throw formatError("header: file too small for a SIF header (\(bytes.count) bytes)")
        }
        let f = FieldReader(bytes)
        rawLaunchScript = f.slice(0, 32)
        rawMagic = f.slice(32, 10)
        rawVersion = f.slice(42, 3)
        rawArch = f.slice(45, 3)
        uuid = f.slice(48, 16)
        createdAt = f.i64(64)
        modifiedAt = f.i64(72)
        descriptorsFree = f.i64(80)
        descriptorsTotal = f.i64(88)
        descriptorsOffset = f.i64(96)
        descriptorsSize = f.i64(104)
        dataOffset = f.i64(112)
        dataSize = f.i64(120)
        guard rawMagic == SIFLayout.magic else {
            throw formatError("header: bad magic: not a SIF image")
        }
        guard rawVersion == SIFLayout.version else {
            throw SIFError(.unsupported, "header: unsupported SIF version \"\(cString(rawVersion))\" (want \"01\")")
        }
    }

    /// The 128-byte on-disk encoding.
    public func encoded() -> [UInt8] {
        var w = FieldWriter()
        w.raw(rawLaunchScript, length: 32)
        w.raw(rawMagic, length: 10)
        w.raw(rawVersion, length: 3)
        w.raw(rawArch, length: 3)
        w.raw(uuid, length: 16)
        for v in [createdAt, modifiedAt, descriptorsFree, descriptorsTotal, descriptorsOffset,
                  descriptorsSize, dataOffset, dataSize] {
            w.i64(v)
        }
        return w.bytes
    }

    /// The integrity-protected header fields of sylabs' signature scheme: launch script, magic,
    /// version and UUID (not the architecture, times or counts, which change as objects are added).
    public var integrityBytes: [UInt8] { rawLaunchScript + rawMagic + rawVersion + uuid }
}

package func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 0xf)]])
}

package func hexString(_ bytes: [UInt8]) -> String { bytes.map(hexByte).joined() }
