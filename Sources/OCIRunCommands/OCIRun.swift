import ArgumentParser

/// The root command: runc's command line.
public struct OCIRun: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ocirun",
        abstract: "An OCI container runtime for HPC and Kubernetes nodes (runc-compatible).",
        discussion: """
        Global options (before the command, as runc takes them):
          --root DIR              state directory (default /run/ocirun, or $XDG_RUNTIME_DIR/ocirun when rootless)
          --log FILE              append log lines to FILE
          --log-format text|json  format of the log lines (default text)
          --debug                 log debug messages
          --systemd-cgroup        use the systemd cgroup driver (not available on hosts without systemd)
          --rootless true|false|auto
        """,
        version: "ocirun 0.1.0\nspec: 1.2.0",
        subcommands: [
            Create.self, Start.self, State.self, Kill.self, Delete.self, Run.self, Exec.self,
            List.self, PS.self, Pause.self, Resume.self, Update.self, Events.self,
            SpecCommand.self, Features.self, Checkpoint.self, Restore.self, SIFCommand.self,
        ]
    )

    public init() {}
}
