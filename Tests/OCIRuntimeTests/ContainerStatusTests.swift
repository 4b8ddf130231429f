import Testing
@testable import OCIRuntime

/// Every status × operation pair against the table runc implements (runc's state transition
/// table test): start only from created; kill from created, running, paused; delete (without
/// --force) from stopped and created; pause from running; resume from paused; exec from created
/// and running.
@Suite("ContainerStatus transitions")
struct ContainerStatusTests {
    static let expected: [ContainerStatus: Set<ContainerOperation>] = [
        .creating: [],
        .created: [.start, .kill, .delete, .exec],
        .running: [.kill, .pause, .exec],
        .paused: [.kill, .resume],
        .stopped: [.delete],
    ]

    @Test("the table covers every status")
    func coversEveryStatus() {
        #expect(Set(Self.expected.keys) == Set(ContainerStatus.allCases))
        #expect(ContainerOperation.allCases.count == 6)
    }

    @Test("operation allowed in status", arguments: ContainerStatus.allCases, ContainerOperation.allCases)
    func allowed(status: ContainerStatus, operation: ContainerOperation) {
        let want = Self.expected[status]?.contains(operation) ?? false
        #expect(operation.allowed(in: status) == want, "\(operation.rawValue) in \(status.rawValue)")
    }

    @Test("statuses print as the OCI state spells them")
    func rawValues() {
        #expect(ContainerStatus.allCases.map(\.rawValue) == ["creating", "created", "running", "paused", "stopped"])
    }
}
