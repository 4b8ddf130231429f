#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import JSON
import SIFFormat

/// Where a SIF image's root file system is: the squashfs primary system partition of a
/// Singularity image, or the squashfs layer blob of an OCI-SIF.
public struct SIFRootfsSource: Sendable {
    /// How the image holds its rootfs.
    public enum Kind: String, Sendable { case partition, ociLayer }
    public var kind: Kind
    /// The object holding the squashfs.
    public var objectID: UInt32
    /// Byte range of the squashfs in the image file.
    public var offset: Int64
    public var size: Int64
    /// For an OCI-SIF: the OCI image config (JSON) named by the manifest.
    public var ociConfig: JSONValue?

    /// The name of the generic JSON object holding an OCI image config in images `sif build` made.
    public static let ociConfigName = "oci-config.json"

    /// Finds the rootfs of `image` (at `path`, for messages).
    public static func locate(_ image: SIFImage, path: String) throws -> SIFRootfsSource {
        if let p = image.primaryPartition {
            guard p.fsType == .squashfs else {
                throw SIFError(.unsupported, "\(path): \(p.label): the primary partition is \(p.fsType?.description ?? "not a file system"), only squashfs can be mounted")
            }
            // `ocirun sif build --oci-config` stores the image config beside the partition.
            var config: JSONValue?
            if let group = p.groupID, let c = image.descriptors(.dataType(.genericJSON), .groupID(group))
                .first(where: { $0.name == ociConfigName }) {
                config = try json(image, c, path: path)
            }
            return SIFRootfsSource(kind: .partition, objectID: p.id, offset: p.offset, size: p.size, ociConfig: config)
        }
        if let index = image.descriptors(.dataType(.ociRootIndex)).first {
            return try locateOCI(image, index: index, path: path)
        }
        throw SIFError(.notFound, "\(path): no primary system partition and no OCI root index: nothing to mount as the root file system")
    }

    static func blob(_ image: SIFImage, digest: String, path: String) throws -> SIFDescriptor {
        guard let d = image.descriptors(.dataType(.ociBlob)).first(where: {
            if case .ociDigest(let dg) = $0.extra { return dg == digest }
            return false
        }) else { throw SIFError(.notFound, "\(path): OCI blob \(digest) is not in the image") }
        return d
    }

    static func json(_ image: SIFImage, _ d: SIFDescriptor, path: String) throws -> JSONValue {
        do { return try JSONValue.parse(image.data(of: d, limit: 4 << 20)) } catch let e as SIFError {
            throw e.prefixed(path)
        } catch {
            throw SIFError(.invalidFormat, "\(path): \(d.label): not JSON", cause: error)
        }
    }

    static func locateOCI(_ image: SIFImage, index: SIFDescriptor, path: String) throws -> SIFRootfsSource {
        var doc = try json(image, index, path: path)
        // An index may point at a manifest or at a nested index; follow up to 4 levels.
        for _ in 0..<4 {
            guard let m = doc["manifests"]?.arrayValue?.first, let digest = m["digest"]?.stringValue else { break }
            doc = try json(image, try blob(image, digest: digest, path: path), path: path)
        }
        guard let layers = doc["layers"]?.arrayValue, let configDigest = doc["config"]?["digest"]?.stringValue else {
            throw SIFError(.invalidFormat, "\(path): OCI manifest has no config or layers")
        }
        let config = try json(image, try blob(image, digest: configDigest, path: path), path: path)
        let squash = layers.filter { ($0["mediaType"]?.stringValue ?? "").utf8.containsSequence("squashfs".utf8) }
        guard squash.count == 1, let digest = squash[0]["digest"]?.stringValue else {
            throw SIFError(.unsupported, "\(path): OCI-SIF must have exactly one squashfs layer (it has \(squash.count) of \(layers.count) layers)")
        }
        let layer = try blob(image, digest: digest, path: path)
        return SIFRootfsSource(kind: .ociLayer, objectID: layer.id, offset: layer.offset, size: layer.size, ociConfig: config)
    }
}
