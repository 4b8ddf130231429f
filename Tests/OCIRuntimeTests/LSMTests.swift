import Testing
@testable import OCIRuntime

@Suite("SELinux mount label")
struct LSMTests {
    @Test("context= is added to the file systems that take it, quoted (labels contain commas)")
    func labeledData() {
        let label = "system_u:object_r:container_file_t:s0:c1,c2"
        #expect(LSM.labeledData("mode=755", type: "tmpfs", mountLabel: label) == "mode=755,context=\"\(label)\"")
        #expect(LSM.labeledData("", type: "mqueue", mountLabel: label) == "context=\"\(label)\"")
        #expect(LSM.labeledData("", type: "proc", mountLabel: label) == "")
        #expect(LSM.labeledData("mode=755", type: "tmpfs", mountLabel: nil) == "mode=755")
        #expect(LSM.labeledData("mode=755", type: "tmpfs", mountLabel: "") == "mode=755")
    }
}
