import Foundation
import Testing

extension Integration {
    @Suite("ocirun spec")
    struct SpecCommand {
        /// `ocirun spec` with only what a user must change (no terminal, a command that ends).
        func bundle() throws -> Sandbox {
            let sb = try Sandbox(writeConfig: false)
            let data = try Data(contentsOf: URL(fileURLWithPath: sb.bundle + "/config.json"))
            var config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(getting(config, ["process", "terminal"]) as? Bool == true, "runc's default is a terminal")
            #expect(getting(config, ["root", "path"]) as? String == "rootfs")
            config = setting(config, ["process", "terminal"], false) as! [String: Any]
            config = setting(config, ["process", "args"], ["sh", "-c", "echo spec-ok; exit 5"]) as! [String: Any]
            config = setting(config, ["linux", "cgroupsPath"], sb.cgroupsPath) as! [String: Any]
            sb.config = config
            try sb.writeConfig()
            return sb
        }

        @Test("its output runs under ocirun")
        func ocirun() throws {
            let sb = try bundle()
            let out = try sb.run()
            #expect(out.status == 5, "\(out)")
            #expect(out.stdout == "spec-ok\n")
        }

        @Test("its output runs under runc")
        func runc() throws {
            guard let runc = Paths.runc else {
                try #require(!Gate.inCI, "runc is not installed (CI is set, so this fails)")
                return
            }
            let sb = try bundle()
            let id = "spec-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let runcRoot = sb.dir + "/runc-root"
            defer { _ = try? Spawn.run([runc, "--root", runcRoot, "delete", "--force", id], scratch: sb.dir) }
            let out = try Spawn.run([runc, "--root", runcRoot, "run", "--bundle", sb.bundle, id], scratch: sb.dir)
            #expect(out.status == 5, "\(out)")
            #expect(out.stdout == "spec-ok\n")
        }

        @Test("spec refuses to overwrite an existing config.json")
        func noOverwrite() throws {
            let sb = try Sandbox()
            let before = try String(contentsOfFile: sb.bundle + "/config.json", encoding: .utf8)
            let out = try sb.ocirunCommand(["spec", "--bundle", sb.bundle])
            #expect(out.status == 1, "\(out)")
            #expect(try String(contentsOfFile: sb.bundle + "/config.json", encoding: .utf8) == before)
        }
    }
}
