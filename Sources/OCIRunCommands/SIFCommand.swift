import ArgumentParser
import SIFBundle
import SIFMount
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `ocirun sif …`: read, verify and sign Singularity Image Format files.
public struct SIFCommand: ParsableCommand {
    /// The `sif` verb and its subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "sif",
        abstract: "Inspect, verify, sign, build and mount Singularity Image Format (SIF) images.",
        subcommands: [SIFInspectCommand.self, SIFVerifyCommand.self, SIFSignCommand.self,
                      SIFMountCommand.self, SIFUmountCommand.self, SIFBuildCommand.self,
                      SIFPolicyCheckCommand.self]
    )

    /// Makes the command (ArgumentParser fills it in).
    public init() {}
}

/// Writes `ocirun: <message>` to stderr.
func sifPrintError(_ message: String) {
    fputs("ocirun: \(message)\n", stderr)
}

/// Runs `body`, turning a `SIFError` into `ocirun: <message>` on stderr and exit status 1.
func sifRun(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as SIFError {
        sifPrintError(error.description)
        throw ExitCode(1)
    }
}
