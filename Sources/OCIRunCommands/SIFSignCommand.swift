import ArgumentParser
import SIFBundle

/// `ocirun sif sign --key PRIVATE.pem IMAGE`: adds a DSSE signature per object group.
struct SIFSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign every object group of a SIF image (DSSE, ed25519 or ECDSA).",
        discussion: """
        The key is a PKCS#8 PEM private key (ed25519, ECDSA P-256/384/521). Earlier signatures \
        that no longer match the image (it changed since) are replaced.
        """
    )

    @Option(name: .long, help: "The PEM private key.")
    var key: String

    @Argument(help: "The SIF image, changed in place.")
    var image: String

    func run() throws {
        try sifRun {
            let k = try SIFPrivateKey.load(path: key)
            let outcome = try SIFSigner.sign(path: image, key: k)
            for id in outcome.removedStale { print("removed stale signature object \(id)") }
            for d in outcome.added {
                print("signed \(d.link.target) (signature object \(d.id))")
            }
        }
    }
}
