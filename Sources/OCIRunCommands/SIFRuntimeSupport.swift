import ArgumentParser
import RuntimeVerbs
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

/// In `ocirun-cli`, images under a policy are verified in this process.
public func useInProcessSIFVerifier() {
    sifPolicyVerifier = SIFPolicyVerifier()
}

/// `ocirun-cli sif policy-check`: the runtime binary's way to verify an image under a policy
/// (it holds no cryptography). Exits 0 when the image verifies; otherwise prints the reason.
struct SIFPolicyCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy-check",
        abstract: "Check a SIF image against a signature policy's keys (used by the runtime).",
        shouldDisplay: false
    )

    @Option(name: .long, help: "The policy file (named in messages).") var policy: String
    @Option(name: .long, help: "The image as the config names it (for messages).") var image: String
    @Option(name: .long, help: "A public key file of the policy (repeatable).") var key: [String] = []
    @Flag(name: .long, help: "The policy accepts legacy SIFHASH signatures.") var legacy = false
    @Argument(help: "The image file to read (a /proc/PID/fd/N path of the runtime).") var path: String

    func run() throws {
        try sifRun {
            let p = SIFPolicy(path: policy, requireSignature: true, keys: key, legacy: legacy, allowedImagePrefixes: nil)
            try SIFPolicyVerifier().verify(image: image, path: path, policy: p)
        }
    }
}
