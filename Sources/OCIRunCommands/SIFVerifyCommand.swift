import ArgumentParser
import SIFBundle

/// `ocirun sif verify [--key FILE]… [--legacy] IMAGE`: checks every signature object against the
/// given public keys; exits 0 only when every group verifies and no signature fails.
struct SIFVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the signatures of a SIF image against public keys.",
        discussion: """
        Keys are PEM public keys (ed25519, ECDSA, RSA) for DSSE signatures, or OpenPGP public keys \
        (ASCII-armoured or binary) for PGP and legacy signatures. Exits 0 only when every object \
        group is signed by at least one given key and no signature fails.
        """
    )

    @Option(name: .long, help: "A public key file (repeatable).")
    var key: [String] = []

    @Flag(name: .long, help: "Also accept legacy SIFHASH signatures (they do not protect metadata).")
    var legacy = false

    @Argument(help: "The SIF image.")
    var image: String

    func run() throws {
        try sifRun {
            let keys = try key.flatMap { try SIFPublicKey.load(path: $0) }
            let img = try SIFImage(path: image)
            let report = try img.verify(keys: keys, legacy: legacy)
            for r in report.signatures {
                let target = r.signature.link.target
                let kind = r.kind?.rawValue ?? "unknown"
                let state: String
                if let ignored = r.ignored {
                    state = "ignored: \(ignored)"
                } else if !r.failures.isEmpty {
                    state = "FAILED"
                } else if r.verifiedBy.isEmpty {
                    state = "not signed by a given key"
                } else {
                    state = "verified by \(r.verifiedBy.joined(separator: ", "))"
                }
                print("signature object \(r.signature.id) (\(kind), \(target)): \(state)")
            }
            guard report.isVerified else {
                for p in report.problems { sifPrintError("verify \(image): \(p)") }
                if key.isEmpty && !report.signatures.isEmpty { sifPrintError("verify \(image): no --key given") }
                throw ExitCode(1)
            }
            print("verified: group\(report.verifiedGroups.count == 1 ? "" : "s") "
                + report.verifiedGroups.map(String.init).joined(separator: ", "))
        }
    }
}
