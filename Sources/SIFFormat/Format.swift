// SIF on-disk format, version "01" (sylabs/sif pkg/sif). All integers are little-endian.
//
//   offset 0 ┌──────────────────────────────────────────────┐
//            │ GLOBAL HEADER (128 bytes)                    │
//            │   0  launch script   [32] "#!/usr/bin/env…"  │
//            │  32  magic           [10] "SIF_MAGIC\0"      │
//            │  42  version          [3] "01\0"             │
//            │  45  arch             [3] "02\0" (amd64)     │
//            │  48  uuid            [16]                    │
//            │  64  created at      i64 (unix seconds)      │
//            │  72  modified at     i64                     │
//            │  80  descriptors free  i64                   │
//            │  88  descriptors total i64                   │
//            │  96  descriptors offset i64 ───────────┐     │
//            │ 104  descriptors size  i64 (total×585) │     │
//            │ 112  data offset       i64 ────────────┼──┐  │
//            │ 120  data size         i64             │  │  │
//            ├────────────────────────────────────────┘  │  │
//   (4096)   │ DESCRIPTOR[0..total) (585 bytes each)  ◄──┘  │
//            │   0  data type   i32 (0x4001…0x400b)      │  │
//            │   4  used        u8                       │  │
//            │   5  id          u32 (1-based, unique)    │  │
//            │   9  group id    u32 (0xf0000000 | group) │  │
//            │  13  link        u32 (object id, or       │  │
//            │                  0xf0000000 | group id)   │  │
//            │  17  offset      i64 ───────────────────┐ │  │
//            │  25  size        i64                    │ │  │
//            │  33  size+padding i64                   │ │  │
//            │  41  created at / modified at / uid / gid i64 │
//            │  73  name       [128]                   │ │  │
//            │ 201  extra      [384] (per data type:   │ │  │
//            │      partition: fs i32, type i32, arch[3]; │
//            │      signature: hash i32, entity[256];  │ │  │
//            │      crypto message: format i32, type i32; │
//            │      SBOM: format i32; OCI: digest[...]) │ │  │
//            ├─────────────────────────────────────────┼─┘◄─┘
//            │ DATA OBJECTS (partitions aligned, others │
//            │ packed), never overlapping              ◄┘
//            │   definition file, env, labels, squashfs │
//            │   partition, signatures (DSSE / PGP), …  │
//            └──────────────────────────────────────────┘

/// Sizes and offsets of the SIF version 01 on-disk structures.
public enum SIFLayout {
    /// Size of the global header.
    public static let headerSize = 128
    /// Size of one descriptor.
    public static let descriptorSize = 585
    /// Length of the launch script field.
    public static let launchScriptLength = 32
    /// Length of a descriptor name.
    public static let nameLength = 128
    /// Length of a descriptor's type-specific extra field.
    public static let extraLength = 384
    /// Length of the signing entity (fingerprint) field of a signature descriptor.
    public static let entityLength = 256
    /// Bit set in group ids and group links.
    public static let groupMask: UInt32 = 0xf000_0000
    /// The magic string, NUL-terminated.
    public static let magic: [UInt8] = Array("SIF_MAGIC".utf8) + [0]
    /// The only supported version, NUL-terminated.
    public static let version: [UInt8] = Array("01".utf8) + [0]
    /// A generous bound on descriptor counts (sylabs writes 48); larger counts are refused.
    public static let maxDescriptors: Int64 = 1 << 16
}

/// The type of a data object (`DataType` in sylabs/sif).
public struct SIFDataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The on-disk value.
    public var rawValue: Int32
    /// Wraps an on-disk value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Definition file.
    public static let deffile = SIFDataType(rawValue: 0x4001)
    /// Environment variables.
    public static let envVar = SIFDataType(rawValue: 0x4002)
    /// JSON labels.
    public static let labels = SIFDataType(rawValue: 0x4003)
    /// File system partition.
    public static let partition = SIFDataType(rawValue: 0x4004)
    /// Signature.
    public static let signature = SIFDataType(rawValue: 0x4005)
    /// Generic JSON.
    public static let genericJSON = SIFDataType(rawValue: 0x4006)
    /// Generic raw data.
    public static let generic = SIFDataType(rawValue: 0x4007)
    /// Cryptographic message.
    public static let cryptoMessage = SIFDataType(rawValue: 0x4008)
    /// Software bill of materials.
    public static let sbom = SIFDataType(rawValue: 0x4009)
    /// OCI root index.
    public static let ociRootIndex = SIFDataType(rawValue: 0x400a)
    /// OCI blob.
    public static let ociBlob = SIFDataType(rawValue: 0x400b)

    /// The name `siftool list` prints.
    public var description: String {
        switch self {
        case .deffile: return "Def.FILE"
        case .envVar: return "Env.Vars"
        case .labels: return "JSON.Labels"
        case .partition: return "FS"
        case .signature: return "Signature"
        case .genericJSON: return "JSON.Generic"
        case .generic: return "Generic/Raw"
        case .cryptoMessage: return "Cryptographic Message"
        case .sbom: return "SBOM"
        case .ociRootIndex: return "OCI.RootIndex"
        case .ociBlob: return "OCI.Blob"
        default: return "Unknown"
        }
    }

    /// A short lowercase name for messages ("partition", "signature").
    public var shortName: String {
        switch self {
        case .deffile: return "definition file"
        case .envVar: return "environment"
        case .labels: return "labels"
        case .partition: return "partition"
        case .signature: return "signature"
        case .genericJSON: return "generic json"
        case .generic: return "generic"
        case .cryptoMessage: return "crypto message"
        case .sbom: return "sbom"
        case .ociRootIndex: return "oci root index"
        case .ociBlob: return "oci blob"
        default: return "unknown type \(rawValue)"
        }
    }
}

/// The file system of a partition (`FSType`).
public struct SIFFSType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The on-disk value.
    public var rawValue: Int32
    /// Wraps an on-disk value.
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// Squashfs (read-only).
    public static let squashfs = SIFFSType(rawValue: 1)
    /// Ext3 (deprecated).
    public static let ext3 = SIFFSType(rawValue: 2)
    /// Immutable object archive.
    public static let archive = SIFFSType(rawValue: 3)
    /// Raw data.
    public static let raw = SIFFSType(rawValue: 4)
    /// Encrypted squashfs.
    public static let encryptedSquashfs = SIFFSType(rawValue: 5)
    /// The name `siftool` prints.
    public var description: String {
        switch self {
        case .squashfs: return "Squashfs"
        case .ext3: return "Ext3"
        case .archive: return "Archive"
        case .raw: return "Raw"
        case .encryptedSquashfs: return "Encrypted squashfs"
        default: return "Unknown"
        }
    }
}

/// The role of a partition (`PartType`).
public struct SIFPartitionType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The on-disk value.
    public var rawValue: Int32
    /// Wraps an on-disk value.
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// An operating system.
    public static let system = SIFPartitionType(rawValue: 1)
    /// The primary operating system (the container's root file system).
    public static let primarySystem = SIFPartitionType(rawValue: 2)
    /// Data only.
    public static let data = SIFPartitionType(rawValue: 3)
    /// An overlay.
    public static let overlay = SIFPartitionType(rawValue: 4)
    /// The name `siftool` prints.
    public var description: String {
        switch self {
        case .system: return "System"
        case .primarySystem: return "*System"
        case .data: return "Data"
        case .overlay: return "Overlay"
        default: return "Unknown"
        }
    }
}

/// The hash named in a signature descriptor.
public struct SIFHashType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The on-disk value.
    public var rawValue: Int32
    /// Wraps an on-disk value.
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// SHA-256.
    public static let sha256 = SIFHashType(rawValue: 1)
    /// SHA-384.
    public static let sha384 = SIFHashType(rawValue: 2)
    /// SHA-512.
    public static let sha512 = SIFHashType(rawValue: 3)
    /// BLAKE2s (not supported for verification).
    public static let blake2s = SIFHashType(rawValue: 4)
    /// BLAKE2b (not supported for verification).
    public static let blake2b = SIFHashType(rawValue: 5)
    /// The name `siftool` prints ("SHA-256").
    public var description: String {
        switch self {
        case .sha256: return "SHA-256"
        case .sha384: return "SHA-384"
        case .sha512: return "SHA-512"
        case .blake2s: return "BLAKE2s-256"
        case .blake2b: return "BLAKE2b-256"
        default: return "unknown hash \(rawValue)"
        }
    }
}

/// The format of a cryptographic message object.
public struct SIFFormatType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The on-disk value.
    public var rawValue: Int32
    /// Wraps an on-disk value.
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// OpenPGP.
    public static let openPGP = SIFFormatType(rawValue: 1)
    /// PEM.
    public static let pem = SIFFormatType(rawValue: 2)
    /// The name `siftool` prints.
    public var description: String {
        switch self {
        case .openPGP: return "OpenPGP"
        case .pem: return "PEM"
        default: return "Unknown"
        }
    }
}

/// The kind of message in a cryptographic message object.
public struct SIFMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The on-disk value.
    public var rawValue: Int32
    /// Wraps an on-disk value.
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// An OpenPGP clear-signed message.
    public static let clearSignature = SIFMessageType(rawValue: 0x100)
    /// An RSA-OAEP encrypted key (PEM).
    public static let rsaOAEP = SIFMessageType(rawValue: 0x200)
    /// The name `siftool` prints.
    public var description: String {
        switch self {
        case .clearSignature: return "Clear Signature"
        case .rsaOAEP: return "RSA-OAEP"
        default: return "Unknown"
        }
    }
}

/// The format of an SBOM object.
public struct SIFSBOMFormat: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The on-disk value.
    public var rawValue: Int32
    /// Wraps an on-disk value.
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// The name `siftool` prints ("cyclonedx-json").
    public var description: String {
        let names = ["cyclonedx-json", "cyclonedx-xml", "github-json", "spdx-json", "spdx-rdf",
                     "spdx-tag-value", "spdx-yaml", "syft-json"]
        return rawValue >= 1 && Int(rawValue) <= names.count ? names[Int(rawValue) - 1] : "unknown"
    }
}

/// Maps the header/partition architecture code ("02") to the Go architecture name ("amd64").
public enum SIFArch {
    static let names: [String: String] = [
        "01": "386", "02": "amd64", "03": "arm", "04": "arm64", "05": "ppc64", "06": "ppc64le",
        "07": "mips", "08": "mipsle", "09": "mips64", "10": "mips64le", "11": "s390x", "12": "riscv64",
    ]

    /// The Go architecture name for a 3-byte code, or "unknown".
    public static func name(code: [UInt8]) -> String {
        names[cString(code)] ?? "unknown"
    }

    /// The 3-byte code for a Go architecture name, or "00" (unknown).
    public static func code(name: String) -> [UInt8] {
        let code = names.first { $0.value == name }?.key ?? "00"
        return Array(code.utf8) + [0]
    }
}

// MARK: - little-endian field access

/// Reads little-endian fields out of a fixed-size record.
struct FieldReader {
    let bytes: [UInt8]
    let base: Int

    init(_ bytes: [UInt8], base: Int = 0) {
        self.bytes = bytes
        self.base = base
    }

    func u32(_ at: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[base + at + i]) << (8 * UInt32(i)) }
        return v
    }

    func i32(_ at: Int) -> Int32 { Int32(bitPattern: u32(at)) }

    func i64(_ at: Int) -> Int64 {
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[base + at + i]) << (8 * UInt64(i)) }
        return Int64(bitPattern: v)
    }

    func slice(_ at: Int, _ count: Int) -> [UInt8] {
        Array(bytes[(base + at)..<(base + at + count)])
    }
}

/// Appends little-endian fields to a record being built.
package struct FieldWriter {
    package var bytes: [UInt8] = []
    package init() {}
    package mutating func u8(_ v: UInt8) { bytes.append(v) }
    package mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    package mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    package mutating func i64(_ v: Int64) {
        let u = UInt64(bitPattern: v)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: u >> (8 * UInt64(i)))) }
    }
    package mutating func raw(_ b: [UInt8], length: Int) {
        precondition(b.count <= length)
        bytes.append(contentsOf: b)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: length - b.count))
    }
}

/// The bytes before the first NUL, as a (lossily decoded) string.
package func cString(_ bytes: [UInt8]) -> String {
    let end = bytes.firstIndex(of: 0) ?? bytes.count
    return String(decoding: bytes[..<end], as: UTF8.self)
}
