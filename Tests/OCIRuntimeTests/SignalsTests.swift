import Testing
@testable import OCIRuntime

@Suite("Signals.parse")
struct SignalsTests {
    @Test("valid signals", arguments: [
        ("1", Int32(1)), ("9", 9), ("15", 15), ("64", 64),
        ("TERM", 15), ("SIGTERM", 15), ("sigkill", 9), ("kill", 9), ("SigHup", 1), ("IOT", 6), ("SIGCHLD", 17),
        ("RTMIN", 34), ("RTMIN+3", 37), ("SIGRTMIN+3", 37), ("RTMAX", 64), ("SIGRTMAX-1", 63), ("rtmax-30", 34),
    ])
    func valid(text: String, number: Int32) throws {
        #expect(try Signals.parse(text) == number)
    }

    @Test("invalid signals throw an invalid-argument error naming the value", arguments: [
        "0", "65", "FOO", "-1", "", "SIG", "RTMIN+31", "RTMAX+1", "RTMIN-1", "RTMINX", "15x", "SIGTERMX",
    ])
    func invalid(text: String) {
        let error = #expect(throws: RuntimeError.self) { try Signals.parse(text) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("\"\(text)\"") == true)
    }

    @Test("names of numbers")
    func names() {
        #expect(Signals.name(15) == "TERM")
        #expect(Signals.name(9) == "KILL")
        #expect(Signals.name(40) == "40")
    }
}
