/// A loaded SIF image: the validated header and used descriptors, with object data read on demand
/// through a `RandomAccessReader`.
public final class SIFImage {
    /// Where the bytes come from.
    public let reader: any RandomAccessReader
    /// The global header.
    public let header: SIFHeader
    /// The used descriptors, in slot order.
    public let descriptors: [SIFDescriptor]
    /// Indices of the unused descriptor slots, in order.
    public let freeSlots: [Int]

    /// Opens and loads the image at `path` (read-only unless `writable`).
    public convenience init(path: String, writable: Bool = false) throws {
        let reader = try FileImageReader(path: path, writable: writable)
        do {
            try self.init(reader: reader)
        } catch let error as SIFError {
            throw error.prefixed("load \(path)")
        }
    }

    /// Loads and validates the header and descriptors from `reader`.
    ///
    /// Throws `SIFError` (`.invalidFormat`) for bad magic or version, impossible descriptor
    /// counts, descriptors or objects outside the file, duplicate ids and overlapping objects.
    public init(reader: any RandomAccessReader) throws {
        self.reader = reader
        let fileSize = reader.size
        guard fileSize >= UInt64(SIFLayout.headerSize) else {
            throw formatError("header: file too small for a SIF header (\(fileSize) bytes)")
        }
        let header = try SIFHeader(bytes: reader.read(at: 0, count: SIFLayout.headerSize))
        self.header = header

        // Counts and the descriptor table.
        let total = header.descriptorsTotal
        guard total >= 0, total <= SIFLayout.maxDescriptors else {
            throw formatError("header: impossible descriptor count \(total)")
        }
        guard header.descriptorsFree >= 0, header.descriptorsFree <= total else {
            throw formatError("header: impossible free descriptor count \(header.descriptorsFree) of \(total)")
        }
        let tableSize = total * Int64(SIFLayout.descriptorSize)
        guard header.descriptorsSize == tableSize else {
            throw formatError("header: descriptor table size \(header.descriptorsSize) does not match \(total) descriptors")
        }
        guard header.descriptorsOffset >= Int64(SIFLayout.headerSize),
              header.descriptorsOffset <= Int64(fileSize),
              tableSize <= Int64(fileSize) - header.descriptorsOffset else {
            throw formatError("header: descriptor table (offset \(header.descriptorsOffset), \(tableSize) bytes) extends past end of file")
        }
        let tableEnd = header.descriptorsOffset + tableSize
        guard header.dataOffset >= 0, header.dataOffset <= Int64(fileSize),
              header.dataSize >= 0, header.dataSize <= Int64(fileSize) - header.dataOffset else {
            throw formatError("header: data section (offset \(header.dataOffset), \(header.dataSize) bytes) extends past end of file")
        }

        let table = try reader.read(at: UInt64(header.descriptorsOffset), count: Int(tableSize))
        var used: [SIFDescriptor] = []
        var free: [Int] = []
        var ids = Set<UInt32>()
        for slot in 0..<Int(total) {
            let start = slot * SIFLayout.descriptorSize
            let bytes = Array(table[start..<start + SIFLayout.descriptorSize])
            guard let d = SIFDescriptor(bytes: bytes, slot: slot) else {
                free.append(slot)
                continue
            }
            let name = "descriptor \(d.id)"
            guard d.id != 0 else { throw formatError("descriptor slot \(slot): object id 0") }
            guard ids.insert(d.id).inserted else { throw formatError("\(name): duplicate object id") }
            guard d.offset >= 0, d.size >= 0 else {
                throw formatError("\(name): negative offset or size")
            }
            guard d.offset <= Int64(fileSize), d.size <= Int64(fileSize) - d.offset else {
                throw formatError("\(name): object extends past end of file")
            }
            guard d.size == 0 || d.offset >= tableEnd else {
                throw formatError("\(name): object overlaps the header or descriptor table")
            }
            used.append(d)
        }
        guard Int64(free.count) == header.descriptorsFree else {
            throw formatError("header: \(header.descriptorsFree) free descriptors recorded but \(free.count) found")
        }

        // Objects must not overlap one another.
        let sorted = used.filter { $0.size > 0 }.sorted { ($0.offset, $0.id) < ($1.offset, $1.id) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.offset < a.end {
            throw formatError("descriptor \(b.id): object overlaps object \(a.id)")
        }
        descriptors = used
        freeSlots = free
    }

    // MARK: selection

    /// The descriptors for which every predicate holds, in slot order.
    public func descriptors(_ predicates: SIFPredicate...) -> [SIFDescriptor] {
        descriptors(matching: predicates)
    }

    /// The descriptors for which every predicate holds, in slot order.
    public func descriptors(matching predicates: [SIFPredicate]) -> [SIFDescriptor] {
        descriptors.filter { d in predicates.allSatisfy { $0.matches(d) } }
    }

    /// The single descriptor matching every predicate; throws when none or several match.
    public func descriptor(_ predicates: SIFPredicate...) throws -> SIFDescriptor {
        let found = descriptors(matching: predicates)
        guard let first = found.first else { throw SIFError(.notFound, "no matching object") }
        guard found.count == 1 else {
            throw SIFError(.invalidArgument, "\(found.count) objects match, expected one")
        }
        return first
    }

    /// The object with `id`, if any.
    public func descriptor(id: UInt32) -> SIFDescriptor? {
        descriptors.first { $0.id == id }
    }

    /// The primary system partition (the container's root file system), if any.
    public var primaryPartition: SIFDescriptor? {
        descriptors(.partitionType(.primarySystem)).first
    }

    /// The ids of all object groups, sorted.
    public var groupIDs: [UInt32] {
        Array(Set(descriptors.compactMap(\.groupID))).sorted()
    }

    // MARK: data

    /// Reads the whole object; refuses objects larger than `limit` bytes (default 64 MiB) so that
    /// a hostile descriptor cannot make the reader allocate gigabytes.
    public func data(of d: SIFDescriptor, limit: Int64 = 64 << 20) throws -> [UInt8] {
        guard d.size <= limit else {
            throw SIFError(.invalidArgument, "\(d.label): \(d.size) bytes is too large to read whole")
        }
        return try reader.read(at: UInt64(d.offset), count: Int(d.size))
    }

    /// Calls `body` with successive chunks of the object (streaming, for hashing partitions).
    public func forEachChunk(of d: SIFDescriptor, chunkSize: Int = 1 << 20,
                             _ body: ([UInt8]) throws -> Void) throws {
        var at = d.offset
        while at < d.end {
            let n = Int(min(Int64(chunkSize), d.end - at))
            try body(reader.read(at: UInt64(at), count: n))
            at += Int64(n)
        }
    }
}

/// A descriptor predicate for `SIFImage.descriptors(_:)`, like sylabs/sif's `WithDataType`,
/// `WithGroupID`, `WithLinkedID` and `WithPartitionType`.
public struct SIFPredicate: Sendable {
    /// The test.
    public let matches: @Sendable (SIFDescriptor) -> Bool

    /// Wraps an arbitrary test.
    public init(_ matches: @escaping @Sendable (SIFDescriptor) -> Bool) { self.matches = matches }

    /// Objects with this id.
    public static func id(_ id: UInt32) -> SIFPredicate { SIFPredicate { $0.id == id } }
    /// Objects of this data type.
    public static func dataType(_ t: SIFDataType) -> SIFPredicate { SIFPredicate { $0.dataType == t } }
    /// Objects in this group.
    public static func groupID(_ g: UInt32) -> SIFPredicate { SIFPredicate { $0.groupID == g } }
    /// Objects in no group.
    public static var noGroup: SIFPredicate { SIFPredicate { $0.groupID == nil } }
    /// Objects linked to the object `id`.
    public static func linkedID(_ id: UInt32) -> SIFPredicate { SIFPredicate { $0.link == .object(id) } }
    /// Objects linked to the group `g`.
    public static func linkedGroupID(_ g: UInt32) -> SIFPredicate { SIFPredicate { $0.link == .group(g) } }
    /// Partitions of this type.
    public static func partitionType(_ t: SIFPartitionType) -> SIFPredicate {
        SIFPredicate { $0.dataType == .partition && $0.partitionType == t }
    }
    /// Objects with this name.
    public static func name(_ n: String) -> SIFPredicate { SIFPredicate { $0.name == n } }
}
