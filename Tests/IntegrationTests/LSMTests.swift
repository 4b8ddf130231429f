import Foundation
import Testing

// AppArmor and SELinux labels. This project's CI host has neither LSM: there a config that
// asks for a label must be refused (runc 1.1.5 and crun 1.8.1 refuse it too, measured), with
// the field named, before the process runs, leaving no state or cgroup. On a host with the
// LSM the label must be on the process instead.

extension Integration {
    @Suite("AppArmor and SELinux labels")
    struct Labels {
        static var apparmorOn: Bool {
            FileManager.default.fileExists(atPath: "/sys/kernel/security/apparmor")
                && ((try? String(contentsOfFile: "/sys/module/apparmor/parameters/enabled", encoding: .utf8))?.hasPrefix("Y") ?? false)
        }
        static var selinuxOn: Bool { FileManager.default.fileExists(atPath: "/sys/fs/selinux/enforce") }

        struct Case: CustomTestStringConvertible, Sendable {
            var path: [String]
            var value: String
            var field: String
            var enabled: @Sendable () -> Bool
            var testDescription: String { field }
        }

        static let cases: [Case] = [
            Case(path: ["process", "apparmorProfile"], value: "unconfined", field: "process.apparmorProfile", enabled: { apparmorOn }),
            Case(path: ["process", "selinuxLabel"], value: "system_u:system_r:container_t:s0:c1,c2", field: "process.selinuxLabel", enabled: { selinuxOn }),
            Case(path: ["linux", "mountLabel"], value: "system_u:object_r:container_file_t:s0:c1,c2", field: "linux.mountLabel", enabled: { selinuxOn }),
        ]

        @Test("a label the host cannot apply is refused; one it can is applied", arguments: cases)
        func label(_ c: Case) throws {
            let sb = try Sandbox(writeConfig: false)
            sb.set(c.path, c.value)
            sb.set(["process", "args"], ["/bin/probe", "write=/ran", "cat=/proc/self/attr/current"])
            try sb.writeConfig()
            let out = try sb.run()
            if c.enabled() {
                #expect(out.status == 0, "\(out)")
                if c.field != "linux.mountLabel" {
                    #expect(out.stdout.contains(c.field == "process.apparmorProfile" ? "unconfined" : "c1,c2"), "\(out)")
                }
                return
            }
            #expect(out.status == 1, "\(out)")
            #expect(out.stderr.contains(c.field) && out.stderr.contains("not enabled on this host"), "\(out)")
            #expect(!FileManager.default.fileExists(atPath: sb.rootfs + "/ran"), "the process must not run")
            #expect(sb.stateEntries.isEmpty, "\(sb.stateEntries)")
            #expect(sb.leftoverCgroups.isEmpty, "\(sb.leftoverCgroups)")
        }
    }
}
