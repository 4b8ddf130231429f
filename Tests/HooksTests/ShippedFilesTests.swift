import Foundation
import Testing
@testable import Hooks

/// The files shipped for engines and admins: `hooks.d/*.json` (oci-hooks 1.0.0) and the example config.
@Suite struct ShippedFilesTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func exampleConfigLoads() throws {
        let c = try HooksConfig.load(Self.repo + "/config/ocirun-hooks.json")
        #expect(c.mpi.compatibility == .full)
        #expect(c.gpu.libraries == GPUConfig.nvidiaLibraries)   // absent key: the built-in list
    }

    @Test func hooksDFilesAreOCIHooks100() throws {
        let dir = Self.repo + "/hooks.d"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count == 4)
        let stages: Set<String> = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
        for f in files {
            let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))) as! [String: Any]
            #expect(obj["version"] as? String == "1.0.0", "\(f)")
            let hook = obj["hook"] as! [String: Any]
            #expect((hook["path"] as? String)?.hasPrefix("/") == true, "\(f)")
            let args = hook["args"] as! [String]
            #expect(["gpu", "rocm", "ib", "mpi"].contains(args[1]), "\(f)")
            let st = obj["stages"] as! [String]
            #expect(!st.isEmpty && st.allSatisfy(stages.contains), "\(f)")
            #expect(obj["when"] is [String: Any], "\(f)")
        }
    }
}
