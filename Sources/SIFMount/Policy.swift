#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import JSON
import SIFFormat

/// A SIF verification policy file (`/etc/ocirun/sif-policy.json`):
///
/// ```json
/// { "requireSignature": true,
///   "keys": ["site-ed25519.pem", "/etc/ocirun/keys/hpc.asc"],
///   "legacy": false,
///   "allowedImagePrefixes": ["/shared/images/"] }
/// ```
///
/// Key paths are relative to the policy file's directory. Unknown fields are errors.
public struct SIFPolicy: Sendable, Equatable {
    /// The file it was read from.
    public var path: String
    /// Images must verify with one of `keys` (what `ocirun sif verify --key …` checks).
    public var requireSignature: Bool
    /// Absolute paths of public key files.
    public var keys: [String]
    /// Also accept legacy SIFHASH signatures.
    public var legacy: Bool
    /// When set, images must be under one of these directories.
    public var allowedImagePrefixes: [String]?

    public init(path: String, requireSignature: Bool, keys: [String], legacy: Bool, allowedImagePrefixes: [String]?) {
        self.path = path
        self.requireSignature = requireSignature
        self.keys = keys
        self.legacy = legacy
        self.allowedImagePrefixes = allowedImagePrefixes
    }

    /// The system policy's path: `$OCIRUN_SIF_POLICY`, else `/etc/ocirun/sif-policy.json`.
    public static var systemPath: String {
        if let env = getenv("OCIRUN_SIF_POLICY"), env.pointee != 0 { return String(cString: env) }
        return "/etc/ocirun/sif-policy.json"
    }

    /// Reads and validates a policy file.
    public static func load(path: String) throws -> SIFPolicy {
        let bytes: [UInt8]
        do { bytes = try readFileBytes(path) } catch {
            throw SIFError(.notFound, "SIF policy \(path): cannot read", cause: error)
        }
        let doc: JSONValue
        do { doc = try JSONValue.parse(bytes) } catch {
            throw SIFError(.invalidFormat, "SIF policy \(path): not JSON", cause: error)
        }
        guard case .object(let o) = doc else { throw SIFError(.invalidFormat, "SIF policy \(path): not a JSON object") }
        let dir = path.hasPrefix("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var policy = SIFPolicy(path: path, requireSignature: true, keys: [], legacy: false, allowedImagePrefixes: nil)
        for (k, v) in o {
            switch k {
            case "requireSignature":
                guard let b = v.boolValue else { throw SIFError(.invalidFormat, "SIF policy \(path): requireSignature must be true or false") }
                policy.requireSignature = b
            case "legacy":
                guard let b = v.boolValue else { throw SIFError(.invalidFormat, "SIF policy \(path): legacy must be true or false") }
                policy.legacy = b
            case "keys":
                guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else {
                    throw SIFError(.invalidFormat, "SIF policy \(path): keys must be an array of file paths")
                }
                policy.keys = a.compactMap(\.stringValue).map { $0.hasPrefix("/") ? $0 : dir + "/" + $0 }
            case "allowedImagePrefixes":
                guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue?.hasPrefix("/") == true }) else {
                    throw SIFError(.invalidFormat, "SIF policy \(path): allowedImagePrefixes must be an array of absolute paths")
                }
                policy.allowedImagePrefixes = a.compactMap(\.stringValue)
            default:
                throw SIFError(.invalidFormat, "SIF policy \(path): unknown field \"\(k)\"")
            }
        }
        if policy.requireSignature && policy.keys.isEmpty {
            throw SIFError(.invalidFormat, "SIF policy \(path): requireSignature is true but no keys are listed")
        }
        return policy
    }

    /// Whether `image` (absolute, symlinks resolved) is in an allowed place.
    public func allows(imageAt image: String) -> Bool {
        guard let prefixes = allowedImagePrefixes else { return true }
        return prefixes.contains { p in
            let dir = p.hasSuffix("/") ? p : p + "/"
            return image.hasPrefix(dir)
        }
    }
}

/// Checks an image against policies: implemented where the signature code lives (the
/// commands), so that mounting does not depend on cryptography.
public protocol SIFImageVerifier: Sendable {
    /// Throws a `SIFError` naming `image` and the reason when the image does not verify under
    /// `policy` (its keys, legacy setting). The bytes are read from `path` (`/proc/self/fd/N` of
    /// the descriptor the image is then mounted through).
    func verify(image: String, path: String, policy: SIFPolicy) throws
}

/// Running a bundle whose config names a SIF image in the annotation `org.ocirun.sif.image`:
/// the policies are applied (the system policy if its file exists, and the one named by
/// `org.ocirun.sif.policy`, which can only add requirements), then the image's rootfs is
/// mounted at root.path: read-only, or an overlay with a tmpfs upper layer when root.readonly
/// is false.
public enum SIFAnnotationRootfs {
    public static let imageAnnotation = "org.ocirun.sif.image"
    public static let policyAnnotation = "org.ocirun.sif.policy"

    /// The policies that apply to a config's annotations.
    public static func policies(annotations: [String: String]) throws -> [SIFPolicy] {
        var out: [SIFPolicy] = []
        let system = SIFPolicy.systemPath
        if access(system, F_OK) == 0 { out.append(try SIFPolicy.load(path: system)) }
        if let extra = annotations[policyAnnotation] {
            guard extra.hasPrefix("/") else {
                throw SIFError(.invalidArgument, "annotation \(policyAnnotation): \"\(extra)\" is not an absolute path")
            }
            out.append(try SIFPolicy.load(path: extra))
        }
        return out
    }

    /// Mounts the image named by the annotations at `rootfs`; returns the mount points ([] when
    /// there is no image annotation).
    public static func mount(annotations: [String: String], readonly: Bool, rootfs: String, stateDir: String,
                             verifier: (any SIFImageVerifier)?) throws -> [String] {
        guard let named = annotations[imageAnnotation] else { return [] }
        // CRI passes pod annotations to the pod's sandbox (pause) container too: it keeps its image.
        if annotations["io.kubernetes.cri.container-type"] == "sandbox" { return [] }
        guard named.hasPrefix("/") else {
            throw SIFError(.invalidArgument, "annotation \(imageAnnotation): \"\(named)\" is not an absolute path")
        }
        guard let resolved = realpath(named, nil) else {
            throw SIFError(.notFound, "annotation \(imageAnnotation): \(named): \(errnoText())")
        }
        let image = String(cString: resolved)
        free(resolved)
        // One open file is checked and mounted: renaming another file into place meanwhile
        // changes nothing.
        let fd = open(image, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SIFError(.io, "annotation \(imageAnnotation): open \(image): \(errnoText())") }
        defer { close(fd) }
        let fdPath = "/proc/self/fd/\(fd)"
        for p in try policies(annotations: annotations) {
            guard p.allows(imageAt: image) else {
                throw SIFError(.verificationFailed, "SIF image \(image) refused by policy \(p.path): not under an allowed image directory")
            }
            guard p.requireSignature else { continue }
            guard let verifier else {
                throw SIFError(.unsupported, "SIF image \(image): policy \(p.path) requires a signature, but this ocirun cannot verify signatures")
            }
            try verifier.verify(image: image, path: fdPath, policy: p)
        }
        guard geteuid() == 0 else {
            throw SIFError(.unsupported, "SIF image \(image): running an image by annotation needs root (loop device and squashfs mount); use `ocirun sif mount` for rootless bundles")
        }
        let sif = try SIFImage(path: fdPath)
        let source = try SIFRootfsSource.locate(sif, path: image)
        let record = try SIFMounter.mount(imagePath: image, source: source, at: rootfs, writable: !readonly,
                                          workDir: stateDir + "/sif-overlay", method: .kernel, openPath: fdPath)
        return record.mounts
    }
}
