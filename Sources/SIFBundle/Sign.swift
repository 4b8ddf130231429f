#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds since the epoch.
func currentUnixTime() -> Int64 { Int64(time(nil)) }

/// What `sign` did.
public struct SIFSignOutcome: Sendable {
    /// The signature objects added, one per group.
    public var added: [SIFDescriptor] = []
    /// Ids of earlier signatures that no longer matched their group and were removed.
    public var removedStale: [UInt32] = []
}

/// Adds DSSE signatures (sylabs' integrity scheme) to SIF images.
public enum SIFSigner {
    /// Signs every object group of the image at `path` in place.
    public static func sign(path: String, key: SIFPrivateKey, time: Int64? = nil) throws -> SIFSignOutcome {
        let file = try FileImageReader(path: path, writable: true)
        do {
            let outcome = try sign(file, key: key, time: time)
            try file.sync()
            return outcome
        } catch let error as SIFError {
            throw error.prefixed("sign \(path)")
        }
    }

    /// Signs every object group of the image in `file`: one signature object per group, a DSSE
    /// envelope over the group's metadata, linked to the group, hash type SHA-256.
    ///
    /// Signing again after the image changed signs the new state: earlier (non-legacy) signatures
    /// of a group whose digests no longer match the group are removed first, so that a stale
    /// signature does not make the image fail verification; signatures that still match (other
    /// signers' co-signatures) are kept. `time` (Unix seconds) defaults to now.
    public static func sign(_ file: any RandomAccessWriter, key: SIFPrivateKey, time: Int64? = nil) throws -> SIFSignOutcome {
        let now = time ?? currentUnixTime()
        var outcome = SIFSignOutcome()
        var image = try SIFImage(reader: file)
        let groups = image.groupIDs
        guard !groups.isEmpty else { throw SIFError(.invalidArgument, "no object groups to sign") }

        // Drop stale signatures of the groups about to be signed.
        for d in image.descriptors(.dataType(.signature)) {
            guard case .group(let g) = d.link, groups.contains(g), let md = try? signedMetadata(image, d),
                  try md.mismatches(image: image, groupID: g).isEmpty == false else { continue }
            try removeObject(d, image: image, file: file, time: now)
            outcome.removedStale.append(d.id)
            image = try SIFImage(reader: file)
        }

        for g in groups {
            let md = try SIFImageMetadata(image: image, groupID: g, algorithm: .sha256)
            let payload = md.encoded()
            let sig = try key.signDSSE(DSSEEnvelope.pae(payloadType: SIFImageMetadata.mediaType, payload: payload))
            let env = DSSEEnvelope(payloadType: SIFImageMetadata.mediaType, payload: payload,
                                   signatures: [.init(keyID: key.keyID, sig: sig)])
            var extra = FieldWriter()
            extra.i32(SIFHashType.sha256.rawValue)  // entity stays zero: DSSE has no PGP fingerprint
            let added = try appendObject(image: image, file: file, dataType: .signature, data: env.encoded(),
                                         groupID: nil, link: .group(g), extra: extra.bytes, time: now)
            outcome.added.append(added)
            image = try SIFImage(reader: file)
        }
        return outcome
    }

    /// The metadata a DSSE or clear-signed (non-legacy) signature carries, without checking who signed.
    static func signedMetadata(_ image: SIFImage, _ d: SIFDescriptor) throws -> SIFImageMetadata? {
        let data = try image.data(of: d, limit: 16 << 20)
        if DSSEEnvelope.looksLikeEnvelope(data) {
            let env = try DSSEEnvelope(json: data)
            return env.payloadType == SIFImageMetadata.mediaType ? try SIFImageMetadata(json: env.payload) : nil
        }
        if ClearSignedMessage.isClearSigned(data) {
            let msg = try ClearSignedMessage(data)
            return msg.plaintext.starts(with: Array("SIFHASH:".utf8)) ? nil : try SIFImageMetadata(json: msg.plaintext)
        }
        return nil
    }

    /// Appends an object after the last one and records it in the first free descriptor slot,
    /// as sylabs' `AddObject` does (id = slot + 1 unless taken). Returns its descriptor.
    public static func appendObject(image: SIFImage, file: any RandomAccessWriter, dataType: SIFDataType,
                                    data: [UInt8], groupID: UInt32?, link: SIFLink, extra: [UInt8],
                                    name: String = "", time: Int64) throws -> SIFDescriptor {
        guard let slot = image.freeSlots.first else {
            throw SIFError(.invalidArgument, "no free descriptor slot (all \(image.header.descriptorsTotal) used)")
        }
        var id = UInt32(slot + 1)
        if image.descriptor(id: id) != nil { id = (image.descriptors.map(\.id).max() ?? 0) + 1 }
        let unaligned = image.header.dataOffset + image.header.dataSize
        // Never trust the header alone: place the object after every existing object.
        let offset = max(unaligned, image.descriptors.map(\.end).max() ?? 0)
        var h = image.header
        let d = SIFDescriptor(slot: slot, dataType: dataType, id: id, groupID: groupID, link: link,
                              offset: offset, size: Int64(data.count),
                              sizeWithPadding: offset - unaligned + Int64(data.count), time: time,
                              name: name, extra: extra)
        if dataType == .partition, case .partition(_, .primarySystem, let arch) = d.extra {
            guard image.primaryPartition == nil else {
                throw SIFError(.invalidArgument, "image already has a primary system partition")
            }
            h.rawArch = SIFArch.code(name: arch)  // the header names the primary partition's arch
        }
        h.descriptorsFree -= 1
        h.dataSize = offset + Int64(data.count) - h.dataOffset
        h.modifiedAt = time
        // NOTE: data first, then the descriptor, then the header: until the header is written the
        // image still reads as it was (an unreferenced tail), except for the descriptor slot.
        try file.write(data, at: UInt64(offset))
        try file.write(d.encoded(), at: UInt64(h.descriptorsOffset) + UInt64(slot * SIFLayout.descriptorSize))
        try file.write(h.encoded(), at: 0)
        return d
    }

    /// Zeroes an object's data and frees its descriptor (sylabs' `DeleteObject` with zeroing).
    static func removeObject(_ d: SIFDescriptor, image: SIFImage, file: any RandomAccessWriter, time: Int64) throws {
        var h = image.header
        h.descriptorsFree += 1
        h.modifiedAt = time
        try file.write([UInt8](repeating: 0, count: Int(d.size)), at: UInt64(d.offset))
        try file.write([UInt8](repeating: 0, count: SIFLayout.descriptorSize),
                       at: UInt64(h.descriptorsOffset) + UInt64(d.slot * SIFLayout.descriptorSize))
        try file.write(h.encoded(), at: 0)
    }
}
