import JSON

/// The signed document of sylabs' integrity scheme ("application/vnd.sylabs.sif-metadata+json"):
/// a digest of the header's integrity fields, and for each object of a group a digest of its
/// descriptor (with the id made relative to the group's smallest id) and of its data.
public struct SIFImageMetadata: Sendable, Equatable {
    /// One signed object.
    public struct Object: Sendable, Equatable {
        /// The object's id minus the smallest id of its group.
        public var relativeID: UInt32
        /// Digest of `SIFDescriptor.integrityBytes(relativeID:)`.
        public var descriptorDigest: SIFDigest
        /// Digest of the object's data.
        public var objectDigest: SIFDigest
    }

    /// The DSSE payload type of this document.
    public static let mediaType = "application/vnd.sylabs.sif-metadata+json"

    /// The metadata version (1).
    public var version: Int64
    /// Digest of `SIFHeader.integrityBytes`.
    public var headerDigest: SIFDigest
    /// The signed objects, by id.
    public var objects: [Object]

    /// Computes the metadata of every object in `groupID` as the image is now.
    public init(image: SIFImage, groupID: UInt32, algorithm: SIFDigestAlgorithm = .sha256) throws {
        let members = image.descriptors(.groupID(groupID)).sorted { $0.id < $1.id }
        guard let minID = members.first?.id else {
            throw SIFError(.notFound, "group \(groupID): no objects")
        }
        version = 1
        headerDigest = SIFDigest(algorithm: algorithm, value: algorithm.hash(image.header.integrityBytes))
        objects = try members.map { d in
            let rel = d.id - minID
            return Object(relativeID: rel,
                          descriptorDigest: SIFDigest(algorithm: algorithm, value: algorithm.hash(d.integrityBytes(relativeID: rel))),
                          objectDigest: SIFDigest(algorithm: algorithm, value: try image.digest(of: d, algorithm: algorithm)))
        }
    }

    /// Parses the JSON document (as found in a DSSE payload or a clear-signed message).
    public init(json: [UInt8]) throws {
        let value: JSONValue
        do {
            value = try JSONValue.parse(json)
        } catch {
            throw SIFError(.invalidFormat, "signed metadata is not JSON", cause: error)
        }
        guard let version = value["version"]?.int64Value, version == 1 else {
            throw SIFError(.unsupported, "signed metadata: unsupported version")
        }
        guard let header = value["header"]?["digest"]?.stringValue else {
            throw SIFError(.invalidFormat, "signed metadata: missing header digest")
        }
        self.version = version
        headerDigest = try SIFDigest(parsing: header)
        var objects: [Object] = []
        for item in value["objects"]?.arrayValue ?? [] {
            guard let rel = item["relativeId"]?.int64Value, rel >= 0, rel <= Int64(UInt32.max),
                  let dd = item["descriptorDigest"]?.stringValue,
                  let od = item["objectDigest"]?.stringValue else {
                throw SIFError(.invalidFormat, "signed metadata: malformed object entry")
            }
            objects.append(Object(relativeID: UInt32(rel), descriptorDigest: try SIFDigest(parsing: dd),
                                  objectDigest: try SIFDigest(parsing: od)))
        }
        self.objects = objects
    }

    /// The compact JSON encoding, field for field what sylabs' Go `json.Marshal` writes.
    public func encoded() -> [UInt8] {
        let objs: [JSONValue] = objects.map {
            .object(JSONObject([
                ("relativeId", .number(.int(Int64($0.relativeID)))),
                ("descriptorDigest", .string($0.descriptorDigest.description)),
                ("objectDigest", .string($0.objectDigest.description)),
            ]))
        }
        let doc = JSONValue.object(JSONObject([
            ("version", .number(.int(version))),
            ("header", .object(JSONObject([("digest", .string(headerDigest.description))]))),
            ("objects", .array(objs)),
        ]))
        return doc.serializedBytes()
    }

    /// Compares the metadata with group `groupID` of `image` as it is now; returns one message per
    /// difference ("object 2 (partition, squashfs) digest mismatch"), empty when all match.
    ///
    /// Like sylabs' verifier, the set of objects must match exactly: an object added to the group
    /// after signing, or a signed object that is gone, is a difference.
    public func mismatches(image: SIFImage, groupID: UInt32) throws -> [String] {
        let members = image.descriptors(.groupID(groupID)).sorted { $0.id < $1.id }
        guard let minID = members.first?.id else { return ["group \(groupID): no objects"] }
        var problems: [String] = []
        let alg = headerDigest.algorithm
        if alg.hash(image.header.integrityBytes) != headerDigest.value {
            problems.append("header digest mismatch")
        }
        var signed: [UInt32: Object] = [:]
        for o in objects {
            let (abs, overflow) = minID.addingReportingOverflow(o.relativeID)
            if overflow || signed[abs] != nil {
                problems.append("signed metadata: bad relative id \(o.relativeID)")
                continue
            }
            signed[abs] = o
        }
        for d in members {
            guard let o = signed.removeValue(forKey: d.id) else {
                problems.append("\(d.label) is not signed")
                continue
            }
            let da = o.descriptorDigest.algorithm
            if da.hash(d.integrityBytes(relativeID: d.id - minID)) != o.descriptorDigest.value {
                problems.append("\(d.label) descriptor digest mismatch")
            }
            if try image.digest(of: d, algorithm: o.objectDigest.algorithm) != o.objectDigest.value {
                problems.append("\(d.label) digest mismatch")
            }
        }
        for id in signed.keys.sorted() {
            problems.append("signed object \(id) not found")
        }
        return problems
    }
}
