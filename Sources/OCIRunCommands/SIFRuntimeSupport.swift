import OCIRuntime
import OCISpec
import SIFBundle
import SIFMount

/// Checks a SIF image against a policy's keys with SIFBundle's verifier (what
/// `ocirun sif verify --key …` does). The mount side only sees `SIFImageVerifier`.
struct SIFPolicyVerifier: SIFImageVerifier {
    func verify(image: String, path: String, policy: SIFPolicy) throws {
        let keys: [SIFPublicKey]
        do { keys = try policy.keys.flatMap { try SIFPublicKey.load(path: $0) } } catch let e as SIFError {
            throw e.prefixed("SIF policy \(policy.path)")
        }
        let report: SIFVerificationReport
        do { report = try SIFImage(path: path).verify(keys: keys, legacy: policy.legacy) } catch let e as SIFError {
            throw e.prefixed("SIF image \(image)")
        }
        guard report.isVerified else {
            let why = report.signatures.isEmpty ? "the image is not signed"
                : report.problems.isEmpty ? "no signature by a key of the policy" : report.problems.joined(separator: "; ")
            throw SIFError(.verificationFailed, "SIF image \(image) refused by policy \(policy.path): \(why)")
        }
    }
}

/// The runtime's hook for bundles naming a SIF image (annotation `org.ocirun.sif.image`).
struct SIFRootfsProvider: RootfsProvider {
    func prepareRootfs(spec: Spec, bundle: String, rootfs: String, stateDir: String) throws -> [String] {
        guard let annotations = spec.annotations, annotations[SIFAnnotationRootfs.imageAnnotation] != nil else { return [] }
        return try SIFAnnotationRootfs.mount(annotations: annotations, readonly: spec.root?.readonly ?? false,
                                             rootfs: rootfs, stateDir: stateDir, verifier: SIFPolicyVerifier())
    }
}

/// Registers the SIF rootfs provider with the runtime (called before create/run).
public func registerSIFRootfsProvider() {
    if !RootfsProviders.registered.contains(where: { $0 is SIFRootfsProvider }) {
        RootfsProviders.registered.append(SIFRootfsProvider())
    }
}
