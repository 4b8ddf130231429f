/// What a descriptor links to.
public enum SIFLink: Sendable, Hashable, CustomStringConvertible {
    /// No link.
    case none
    /// A data object, by id.
    case object(UInt32)
    /// An object group, by group id (without the group bit).
    case group(UInt32)

    /// Decodes the on-disk link field.
    public init(raw: UInt32) {
        if raw == 0 {
            self = .none
        } else if raw & SIFLayout.groupMask == SIFLayout.groupMask {
            self = .group(raw & ~SIFLayout.groupMask)
        } else {
            self = .object(raw)
        }
    }

    /// The on-disk encoding.
    public var raw: UInt32 {
        switch self {
        case .none: return 0
        case .object(let id): return id
        case .group(let id): return id | SIFLayout.groupMask
        }
    }

    /// For messages: "group 1", "object 2", "nothing".
    public var target: String {
        switch self {
        case .none: return "nothing"
        case .object(let id): return "object \(id)"
        case .group(let id): return "group \(id)"
        }
    }

    /// `siftool list` style: "NONE", "2", "1   (G)".
    public var description: String {
        switch self {
        case .none: return "NONE"
        case .object(let id): return "\(id)"
        case .group(let id): return "\(id)   (G)"
        }
    }
}

/// The type-specific metadata kept in a descriptor's extra field.
public enum SIFExtra: Sendable, Hashable {
    /// No extra metadata for this data type.
    case none
    /// A partition: file system, role and architecture (Go name).
    case partition(fs: SIFFSType, type: SIFPartitionType, arch: String)
    /// A signature: hash type and the signing entity's 20-byte fingerprint (nil when unset).
    case signature(hash: SIFHashType, entity: [UInt8]?)
    /// A cryptographic message: format and message type.
    case cryptoMessage(format: SIFFormatType, message: SIFMessageType)
    /// An SBOM: its format.
    case sbom(format: SIFSBOMFormat)
    /// An OCI root index or blob: its digest ("sha256:…").
    case ociDigest(String)
}

/// One used descriptor of an image: a data object's type, identity, place in the file and metadata.
public struct SIFDescriptor: Sendable, Hashable {
    /// The slot index in the descriptor table.
    public var slot: Int
    /// The data type.
    public var dataType: SIFDataType
    /// The object id (unique, non-zero).
    public var id: UInt32
    /// The raw group field (0xf0000000 | group, or 0xf0000000 for none).
    public var rawGroupID: UInt32
    /// The raw link field.
    public var rawLink: UInt32
    /// Offset of the object in the file.
    public var offset: Int64
    /// Size of the object.
    public var size: Int64
    /// Size of the object plus the alignment padding before it.
    public var sizeWithPadding: Int64
    /// Creation time, Unix seconds.
    public var createdAt: Int64
    /// Modification time, Unix seconds.
    public var modifiedAt: Int64
    /// Historical uid field (integrity-protected, otherwise unused).
    public var uid: Int64
    /// Historical gid field (integrity-protected, otherwise unused).
    public var gid: Int64
    /// The raw 128-byte name field.
    public var rawName: [UInt8]
    /// The raw 384-byte extra field.
    public var rawExtra: [UInt8]

    /// The group id, or nil when the object is in no group.
    public var groupID: UInt32? {
        let g = rawGroupID & ~SIFLayout.groupMask
        return g == 0 ? nil : g
    }
    /// What the descriptor links to.
    public var link: SIFLink { SIFLink(raw: rawLink) }
    /// The object name ("data.json"), or "".
    public var name: String { cString(rawName) }
    /// The offset one past the last byte of the object.
    public var end: Int64 { offset + size }

    /// The type-specific metadata decoded from the extra field.
    public var extra: SIFExtra {
        let f = FieldReader(rawExtra)
        switch dataType {
        case .partition:
            return .partition(fs: SIFFSType(rawValue: f.i32(0)), type: SIFPartitionType(rawValue: f.i32(4)),
                              arch: SIFArch.name(code: f.slice(8, 3)))
        case .signature:
            let entity = f.slice(4, 20)
            return .signature(hash: SIFHashType(rawValue: f.i32(0)),
                              entity: entity.allSatisfy { $0 == 0 } ? nil : entity)
        case .cryptoMessage:
            return .cryptoMessage(format: SIFFormatType(rawValue: f.i32(0)), message: SIFMessageType(rawValue: f.i32(4)))
        case .sbom:
            return .sbom(format: SIFSBOMFormat(rawValue: f.i32(0)))
        case .ociRootIndex, .ociBlob:
            return .ociDigest(cString(rawExtra))
        default:
            return .none
        }
    }

    /// The partition type, when this is a partition.
    public var partitionType: SIFPartitionType? {
        if case .partition(_, let type, _) = extra { return type }
        return nil
    }

    /// The file system, when this is a partition.
    public var fsType: SIFFSType? {
        if case .partition(let fs, _, _) = extra { return fs }
        return nil
    }

    /// The `siftool list` type column: "FS (Squashfs/*System/amd64)", "Signature (SHA-256)".
    public var typeDescription: String {
        switch extra {
        case .partition(let fs, let type, let arch):
            return "\(dataType) (\(fs)/\(type)/\(arch))"
        case .signature(let hash, _):
            return "\(dataType) (\(hash))"
        case .cryptoMessage(let format, let message):
            return "\(dataType) (\(format)/\(message))"
        case .sbom(let format):
            return "\(dataType) (\(format))"
        case .ociDigest(let digest):
            return "\(dataType) (\(digest))"
        case .none:
            return dataType.description
        }
    }

    /// How messages name the object: "object 2 (partition, squashfs)".
    public var label: String {
        if let fs = fsType { return "object \(id) (partition, \(fs.description.lowercased()))" }
        return "object \(id) (\(dataType.shortName))"
    }

    /// Decodes descriptor `slot` from its 585 bytes; returns nil for an unused slot.
    init?(bytes: [UInt8], slot: Int) {
        let f = FieldReader(bytes)
        guard bytes[4] != 0 else { return nil }
        self.slot = slot
        dataType = SIFDataType(rawValue: f.i32(0))
        id = f.u32(5)
        rawGroupID = f.u32(9)
        rawLink = f.u32(13)
        offset = f.i64(17)
        size = f.i64(25)
        sizeWithPadding = f.i64(33)
        createdAt = f.i64(41)
        modifiedAt = f.i64(49)
        uid = f.i64(57)
        gid = f.i64(65)
        rawName = f.slice(73, SIFLayout.nameLength)
        rawExtra = f.slice(201, SIFLayout.extraLength)
    }

    /// Makes a descriptor for a new object.
    public init(slot: Int, dataType: SIFDataType, id: UInt32, groupID: UInt32?, link: SIFLink,
                offset: Int64, size: Int64, sizeWithPadding: Int64, time: Int64,
                name: String = "", extra: [UInt8] = []) {
        self.slot = slot
        self.dataType = dataType
        self.id = id
        rawGroupID = SIFLayout.groupMask | (groupID ?? 0)
        rawLink = link.raw
        self.offset = offset
        self.size = size
        self.sizeWithPadding = sizeWithPadding
        createdAt = time
        modifiedAt = time
        uid = 0
        gid = 0
        rawName = Array(Array(name.utf8).prefix(SIFLayout.nameLength))
        rawName += [UInt8](repeating: 0, count: SIFLayout.nameLength - rawName.count)
        rawExtra = Array(extra.prefix(SIFLayout.extraLength))
        rawExtra += [UInt8](repeating: 0, count: SIFLayout.extraLength - rawExtra.count)
    }

    /// The 585-byte on-disk encoding (with the used flag set).
    public func encoded() -> [UInt8] {
        var w = FieldWriter()
        w.i32(dataType.rawValue)
        w.u8(1)
        w.u32(id)
        w.u32(rawGroupID)
        w.u32(rawLink)
        for v in [offset, size, sizeWithPadding, createdAt, modifiedAt, uid, gid] { w.i64(v) }
        w.raw(rawName, length: SIFLayout.nameLength)
        w.raw(rawExtra, length: SIFLayout.extraLength)
        return w.bytes
    }

    /// The integrity-protected fields of sylabs' signature scheme, with the id replaced by its
    /// offset from the smallest id in the group (so that signed groups survive renumbering):
    /// type, used, relative id, link, size, created at, uid, gid, name, extra.
    public func integrityBytes(relativeID: UInt32) -> [UInt8] {
        var w = FieldWriter()
        w.i32(dataType.rawValue)
        w.u8(1)
        w.u32(relativeID)
        w.u32(rawLink)
        w.i64(size)
        w.i64(createdAt)
        w.i64(uid)
        w.i64(gid)
        return w.bytes + rawName + rawExtra
    }
}
