import Foundation
import Testing

// SIF images end to end, with the built ocirun and Debian's siftool, squashfs-tools and
// squashfuse: mount/umount, build, sign/verify, and running an image named by an annotation
// under a verification policy. Every test checks that nothing stays mounted and no loop device
// stays attached to its image.

/// What a SIF test needs beyond the sandbox: the image tools, and leak checks.
enum SIFTools {
    static func require(_ tool: String) throws -> String {
        let path = ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"].map { $0 + tool }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(path, "\(tool) is not installed (scripts/setup.sh installs it)")
    }

    /// Mount points under `dir` in this process's mount namespace.
    static func mounts(under dir: String) -> [String] {
        let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count > 4 else { return nil }
            let mp = String(f[4])
            return mp == dir || mp.hasPrefix(dir + "/") ? mp : nil
        }
    }

    /// Loop devices whose backing file is `image` (from sysfs, and `losetup -a`).
    static func loops(backing image: String, scratch: String) throws -> [String] {
        var found: [String] = []
        let block = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? []
        for dev in block where dev.hasPrefix("loop") {
            let bf = (try? String(contentsOfFile: "/sys/block/\(dev)/loop/backing_file", encoding: .utf8)) ?? ""
            if bf.trimmingCharacters(in: .whitespacesAndNewlines) == image { found.append("/dev/" + dev) }
        }
        let losetup = try Spawn.run([try require("losetup"), "-a"], scratch: scratch)
        for line in losetup.stdout.split(separator: "\n") where line.contains("(\(image))") {
            let dev = String(line.prefix { $0 != ":" })
            if !found.contains(dev) { found.append(dev) }
        }
        return found
    }

    /// Leaves: the kernel drops an autoclear loop device as its last mount goes; allow it a moment.
    static func expectNothingLeft(_ dir: String, image: String, scratch: String, _ what: String) throws {
        var loops: [String] = []
        for _ in 0..<50 {
            loops = try Self.loops(backing: image, scratch: scratch)
            if loops.isEmpty { break }
            usleep(20_000)
        }
        #expect(mounts(under: dir).isEmpty, "\(what): mounts left: \(mounts(under: dir))")
        #expect(loops.isEmpty, "\(what): loop devices left on \(image): \(loops)")
    }

    /// The directories a read-only image must hold for the runtime's mounts (images made by
    /// Singularity have them).
    static func addMountPoints(_ sb: Sandbox) throws {
        for d in ["proc", "sys", "dev"] {
            try FileManager.default.createDirectory(atPath: sb.rootfs + "/" + d, withIntermediateDirectories: true)
        }
    }

    /// A squashfs of the sandbox's busybox rootfs made by mksquashfs, wrapped by siftool in a SIF
    /// (primary system partition, squashfs, amd64, group 1).
    static func siftoolImage(_ sb: Sandbox, name: String = "siftool.sif") throws -> String {
        try addMountPoints(sb)
        let sqfs = sb.dir + "/rootfs.squashfs", image = sb.dir + "/" + name
        let mk = try Spawn.run([try require("mksquashfs"), sb.rootfs, sqfs, "-noappend", "-all-root", "-quiet"], scratch: sb.dir, timeout: 60)
        try #require(mk.status == 0, "mksquashfs: \(mk)")
        let siftool = try require("siftool")
        let new = try Spawn.run([siftool, "new", image], scratch: sb.dir)
        try #require(new.status == 0, "siftool new: \(new)")
        let add = try Spawn.run([siftool, "add", "--datatype", "4", "--parttype", "2", "--partfs", "1", "--partarch", "2",
                                 "--groupid", "1", image, sqfs], scratch: sb.dir)
        try #require(add.status == 0, "siftool add: \(add)")
        return image
    }

    /// `ocirun sif build` of the sandbox's rootfs.
    static func builtImage(_ sb: Sandbox, name: String = "built.sif", rootfs: String? = nil) throws -> String {
        try addMountPoints(sb)
        let image = sb.dir + "/" + name
        let out = try Spawn.run([sb.ocirun, "sif", "build", rootfs ?? sb.rootfs, image], scratch: sb.dir, timeout: 60)
        try #require(out.status == 0, "sif build: \(out)")
        return image
    }

    static func readJSON(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func writeJSON(_ object: [String: Any], _ path: String) throws {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: path))
    }

    /// An ed25519 key pair made by openssl: (private, public).
    static func keyPair(_ dir: String, _ name: String = "key") throws -> (String, String) {
        let openssl = try require("openssl")
        let priv = dir + "/\(name).pem", pub = dir + "/\(name).pub"
        let g = try Spawn.run([openssl, "genpkey", "-algorithm", "ed25519", "-out", priv], scratch: dir)
        try #require(g.status == 0, "openssl genpkey: \(g)")
        let p = try Spawn.run([openssl, "pkey", "-in", priv, "-pubout", "-out", pub], scratch: dir)
        try #require(p.status == 0, "openssl pkey: \(p)")
        return (priv, pub)
    }

    /// Flips one byte of `path` at `offset`.
    static func flipByte(_ path: String, at offset: UInt64) throws {
        let h = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? h.close() }
        try h.seek(toOffset: offset)
        let b = try #require(try h.read(upToCount: 1)?.first)
        try h.seek(toOffset: offset)
        try h.write(contentsOf: Data([b ^ 0xff]))
    }
}

extension Integration {
    @Suite("SIF")
    struct SIF {
        @Test("siftool-made SIF → sif mount → run prints the output → sif umount leaves no mount or loop device")
        func siftoolImageMountRun() throws {
            let sb = try Sandbox(writeConfig: false)
            let image = try SIFTools.siftoolImage(sb)
            let bundle = sb.dir + "/sifbundle"

            let mount = try sb.ocirunCommand(["sif", "mount", image, bundle], globals: [])
            try #require(mount.status == 0, "sif mount: \(mount)")
            #expect(SIFTools.mounts(under: sb.dir) == [bundle + "/rootfs"])
            let loops = try SIFTools.loops(backing: image, scratch: sb.dir)
            #expect(loops.count == 1, "one loop device backed by the image: \(loops)")
            if let loop = loops.first {
                let name = loop.replacingOccurrences(of: "/dev/", with: "")
                let ro = try String(contentsOfFile: "/sys/block/\(name)/ro", encoding: .utf8)
                let offset = try String(contentsOfFile: "/sys/block/\(name)/loop/offset", encoding: .utf8)
                let autoclear = try String(contentsOfFile: "/sys/block/\(name)/loop/autoclear", encoding: .utf8)
                #expect(ro.hasPrefix("1") && offset.hasPrefix("32768") && autoclear.hasPrefix("1"), "ro \(ro) offset \(offset) autoclear \(autoclear)")
            }
            #expect(FileManager.default.isExecutableFile(atPath: bundle + "/rootfs/bin/busybox"))

            // The derived config: defaults (no image metadata), a read-only root.
            var config = try SIFTools.readJSON(bundle + "/config.json")
            #expect(getting(config, ["process", "args"]) as? [String] == ["/bin/sh"])
            #expect(getting(config, ["root", "readonly"]) as? Bool == true)
            #expect(getting(config, ["root", "path"]) as? String == "rootfs")
            config = setting(config, ["process", "args"][...], ["/bin/echo", "hello from a siftool image"]) as! [String: Any]
            config = setting(config, ["linux", "cgroupsPath"][...], sb.cgroupsPath) as! [String: Any]
            try SIFTools.writeJSON(config, bundle + "/config.json")

            let run = try sb.ocirunCommand(["run", "--bundle", bundle, sb.newID()])
            #expect(run.status == 0, "run: \(run)")
            #expect(run.stdout == "hello from a siftool image\n")
            // A read-only squashfs: writing fails inside the container.
            config = setting(config, ["process", "args"][...], ["/bin/sh", "-c", "touch /x 2>/dev/null && echo wrote || echo read-only"]) as! [String: Any]
            try SIFTools.writeJSON(config, bundle + "/config.json")
            let ro = try sb.ocirunCommand(["run", "--bundle", bundle, sb.newID()])
            #expect(ro.stdout == "read-only\n", "\(ro)")

            let umount = try sb.ocirunCommand(["sif", "umount", bundle], globals: [])
            #expect(umount.status == 0, "sif umount: \(umount)")
            try SIFTools.expectNothingLeft(sb.dir, image: image, scratch: sb.dir, "after sif umount")
            #expect(!FileManager.default.fileExists(atPath: bundle + "/config.json"))
            #expect(!FileManager.default.fileExists(atPath: bundle + "/.ocirun-sif-mount.json"))
        }

        @Test("sif mount --writable: an overlay with a tmpfs upper layer; umount removes all three mounts")
        func writableMount() throws {
            let sb = try Sandbox(writeConfig: false)
            let image = try SIFTools.siftoolImage(sb)
            let bundle = sb.dir + "/sifbundle"
            let mount = try sb.ocirunCommand(["sif", "mount", "--writable", image, bundle], globals: [])
            try #require(mount.status == 0, "sif mount: \(mount)")
            #expect(SIFTools.mounts(under: sb.dir).count == 3, "\(SIFTools.mounts(under: sb.dir))")
            var config = try SIFTools.readJSON(bundle + "/config.json")
            #expect(getting(config, ["root", "readonly"]) as? Bool == false)
            config = setting(config, ["process", "args"][...], ["/bin/sh", "-c", "echo changed > /bin/new && cat /bin/new"]) as! [String: Any]
            config = setting(config, ["linux", "cgroupsPath"][...], sb.cgroupsPath) as! [String: Any]
            try SIFTools.writeJSON(config, bundle + "/config.json")
            let run = try sb.ocirunCommand(["run", "--bundle", bundle, sb.newID()])
            #expect(run.stdout == "changed\n", "\(run)")
            let umount = try sb.ocirunCommand(["sif", "umount", bundle], globals: [])
            #expect(umount.status == 0, "sif umount: \(umount)")
            try SIFTools.expectNothingLeft(sb.dir, image: image, scratch: sb.dir, "after sif umount")
            #expect(!FileManager.default.fileExists(atPath: bundle + "/.ocirun-sif-overlay"))
        }

        @Test("a failed mount leaves nothing: not a SIF, and a SIF whose partition is not squashfs")
        func failedMountLeavesNothing() throws {
            let sb = try Sandbox(writeConfig: false)
            let bogus = sb.dir + "/bogus.sif"
            try Data(repeating: 7, count: 100_000).write(to: URL(fileURLWithPath: bogus))
            let bundle = sb.dir + "/sifbundle"
            let bad = try sb.ocirunCommand(["sif", "mount", bogus, bundle], globals: [])
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("bad magic"), "\(bad)")
            #expect(!FileManager.default.fileExists(atPath: bundle), "no bundle made")

            // A SIF whose primary partition holds random bytes labelled squashfs: the kernel refuses it.
            let junk = sb.dir + "/junk.bin", image = sb.dir + "/junk.sif"
            try Data((0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }).write(to: URL(fileURLWithPath: junk))
            let siftool = try SIFTools.require("siftool")
            _ = try Spawn.run([siftool, "new", image], scratch: sb.dir)
            let add = try Spawn.run([siftool, "add", "--datatype", "4", "--parttype", "2", "--partfs", "1", "--partarch", "2", image, junk], scratch: sb.dir)
            try #require(add.status == 0, "\(add)")
            let junkMount = try sb.ocirunCommand(["sif", "mount", image, bundle], globals: [])
            #expect(junkMount.status == 1, "\(junkMount)")
            #expect(junkMount.stderr.contains("squashfs"), "\(junkMount)")
            try SIFTools.expectNothingLeft(sb.dir, image: image, scratch: sb.dir, "after a failed mount")
            #expect(!FileManager.default.fileExists(atPath: bundle), "no bundle left")
        }

        @Test("sif build: siftool lists it, its dumped partition holds bin/busybox, building twice gives the same bytes")
        func build() throws {
            let sb = try Sandbox(writeConfig: false)
            let a = try SIFTools.builtImage(sb, name: "a.sif")
            let b = try SIFTools.builtImage(sb, name: "b.sif")
            #expect(FileManager.default.contentsEqual(atPath: a, andPath: b), "two builds differ")

            let siftool = try SIFTools.require("siftool")
            let list = try Spawn.run([siftool, "list", a], scratch: sb.dir)
            #expect(list.status == 0, "siftool list: \(list)")
            #expect(list.stdout.contains("|1       |NONE    |32768-"), "\(list.stdout)")
            #expect(list.stdout.contains("FS (Squashfs/*System/amd64)"), "\(list.stdout)")
            let dump = try Spawn.run([siftool, "dump", "1", a], scratch: sb.dir, timeout: 60)
            try #require(dump.status == 0, "siftool dump: \(dump.status) \(dump.stderr)")
            let sqfs = sb.dir + "/dumped.squashfs"
            // dump writes binary to stdout; the harness keeps it as text, so dump again into a file.
            let sh = try Spawn.run(["/bin/sh", "-c", "\"$0\" dump 1 \"$1\" > \"$2\"", siftool, a, sqfs], scratch: sb.dir, timeout: 60)
            try #require(sh.status == 0, "\(sh)")
            let ls = try Spawn.run([try SIFTools.require("unsquashfs"), "-l", sqfs], scratch: sb.dir, timeout: 60)
            #expect(ls.status == 0, "unsquashfs: \(ls)")
            #expect(ls.stdout.split(separator: "\n").contains("squashfs-root/bin/busybox"), "\(ls.stdout.prefix(400))")

            // And it runs: mount the built image and run busybox from it.
            let bundle = sb.dir + "/sifbundle"
            let mount = try sb.ocirunCommand(["sif", "mount", a, bundle], globals: [])
            try #require(mount.status == 0, "sif mount: \(mount)")
            var config = try SIFTools.readJSON(bundle + "/config.json")
            config = setting(config, ["process", "args"][...], ["/bin/busybox", "echo", "built by ocirun"]) as! [String: Any]
            config = setting(config, ["linux", "cgroupsPath"][...], sb.cgroupsPath) as! [String: Any]
            try SIFTools.writeJSON(config, bundle + "/config.json")
            let run = try sb.ocirunCommand(["run", "--bundle", bundle, sb.newID()])
            #expect(run.stdout == "built by ocirun\n", "\(run)")
            #expect(try sb.ocirunCommand(["sif", "umount", bundle], globals: []).status == 0)
            try SIFTools.expectNothingLeft(sb.dir, image: a, scratch: sb.dir, "after sif umount")
        }

        @Test("a Singularity image's /.singularity.d gives the command, environment and labels")
        func singularityMetadata() throws {
            let sb = try Sandbox(writeConfig: false)
            let meta = sb.rootfs + "/.singularity.d"
            try FileManager.default.createDirectory(atPath: meta + "/env", withIntermediateDirectories: true)
            try "#!/bin/sh\necho \"runscript says $GREETING\"\n".write(toFile: meta + "/runscript", atomically: false, encoding: .utf8)
            chmod(meta + "/runscript", 0o755)
            try "export GREETING=\"hello from env\"\nexport SKIPPED=\"$PATH:/x\"\n".write(toFile: meta + "/env/90-environment.sh", atomically: false, encoding: .utf8)
            try "{\"org.example.maintainer\": \"hpc team\"}".write(toFile: meta + "/labels.json", atomically: false, encoding: .utf8)
            let image = try SIFTools.builtImage(sb)
            let bundle = sb.dir + "/sifbundle"
            let mount = try sb.ocirunCommand(["sif", "mount", image, bundle], globals: [])
            try #require(mount.status == 0, "sif mount: \(mount)")
            var config = try SIFTools.readJSON(bundle + "/config.json")
            #expect(getting(config, ["process", "args"]) as? [String] == ["/.singularity.d/runscript"])
            let env = getting(config, ["process", "env"]) as? [String] ?? []
            #expect(env.contains("GREETING=hello from env"), "\(env)")
            #expect(!env.contains { $0.hasPrefix("SKIPPED=") }, "\(env)")
            #expect(getting(config, ["annotations", "org.example.maintainer"]) as? String == "hpc team")
            config = setting(config, ["linux", "cgroupsPath"][...], sb.cgroupsPath) as! [String: Any]
            try SIFTools.writeJSON(config, bundle + "/config.json")
            let run = try sb.ocirunCommand(["run", "--bundle", bundle, sb.newID()])
            #expect(run.stdout == "runscript says hello from env\n", "\(run)")
            #expect(try sb.ocirunCommand(["sif", "umount", bundle], globals: []).status == 0)
            try SIFTools.expectNothingLeft(sb.dir, image: image, scratch: sb.dir, "after sif umount")
        }

        @Test("a built image signed by sif sign verifies; one flipped byte makes it fail")
        func signVerifyFlip() throws {
            let sb = try Sandbox(writeConfig: false)
            let image = try SIFTools.builtImage(sb)
            let (priv, pub) = try SIFTools.keyPair(sb.dir)
            let sign = try sb.ocirunCommand(["sif", "sign", "--key", priv, image], globals: [])
            try #require(sign.status == 0, "sif sign: \(sign)")
            let ok = try sb.ocirunCommand(["sif", "verify", "--key", pub, image], globals: [])
            #expect(ok.status == 0, "verify: \(ok)")
            try SIFTools.flipByte(image, at: 32768 + 5000)
            let bad = try sb.ocirunCommand(["sif", "verify", "--key", pub, image], globals: [])
            #expect(bad.status == 1, "verify after a flip: \(bad)")
            #expect(bad.stderr.contains("object 1 (partition, squashfs) digest mismatch"), "\(bad.stderr)")
        }

        @Test("annotation org.ocirun.sif.image with a policy: signed runs, unsigned and tampered are refused, nothing stays mounted")
        func annotationPolicy() throws {
            let sb = try Sandbox(writeConfig: false)
            let unsigned = try SIFTools.builtImage(sb, name: "unsigned.sif")
            let signed = try SIFTools.builtImage(sb, name: "signed.sif")
            let (priv, pub) = try SIFTools.keyPair(sb.dir)
            #expect(try sb.ocirunCommand(["sif", "sign", "--key", priv, signed], globals: []).status == 0)
            let policy = sb.dir + "/policy.json"
            try "{\"requireSignature\": true, \"keys\": [\"key.pub\"]}".write(toFile: policy, atomically: false, encoding: .utf8)
            _ = pub

            // A bundle whose rootfs is an empty directory: the image becomes the root.
            let bundle = sb.dir + "/annotated"
            try FileManager.default.createDirectory(atPath: bundle + "/rootfs", withIntermediateDirectories: true)
            var config = sb.config
            config = setting(config, ["process", "args"][...], ["/bin/sh", "-c", "echo running from $(cat /proc/self/mountinfo | grep -c ' / / ') root"]) as! [String: Any]
            config = setting(config, ["root", "readonly"][...], true) as! [String: Any]
            func runWith(_ image: String, policyAnnotation: Bool = true) throws -> Output {
                var annotations = ["org.ocirun.sif.image": image]
                if policyAnnotation { annotations["org.ocirun.sif.policy"] = policy }
                try SIFTools.writeJSON(setting(config, ["annotations"][...], annotations) as! [String: Any], bundle + "/config.json")
                return try sb.ocirunCommand(["run", "--bundle", bundle, sb.newID()])
            }

            let good = try runWith(signed)
            #expect(good.status == 0, "signed image: \(good)")
            #expect(good.stdout == "running from 1 root\n", "\(good)")
            try SIFTools.expectNothingLeft(sb.dir, image: signed, scratch: sb.dir, "after running the signed image")

            let refused = try runWith(unsigned)
            #expect(refused.status == 1, "unsigned image: \(refused)")
            #expect(refused.stdout.isEmpty, "nothing ran: \(refused)")
            #expect(refused.stderr.contains("SIF image \(unsigned) refused by policy \(policy): the image is not signed"), "\(refused.stderr)")
            try SIFTools.expectNothingLeft(sb.dir, image: unsigned, scratch: sb.dir, "after refusing the unsigned image")
            #expect(sb.stateEntries.isEmpty, "state left: \(sb.stateEntries)")

            // The system policy ($OCIRUN_SIF_POLICY here) applies without any annotation.
            try SIFTools.writeJSON(setting(config, ["annotations"][...], ["org.ocirun.sif.image": unsigned]) as! [String: Any], bundle + "/config.json")
            let viaEnv = try Spawn.run(["/usr/bin/env", "OCIRUN_SIF_POLICY=" + policy, sb.ocirun, "--root", sb.root,
                                        "run", "--bundle", bundle, sb.newID()], scratch: sb.dir)
            #expect(viaEnv.status == 1 && viaEnv.stderr.contains("refused by policy"), "\(viaEnv)")
            try SIFTools.expectNothingLeft(sb.dir, image: unsigned, scratch: sb.dir, "after the system policy refused")

            try SIFTools.flipByte(signed, at: 32768 + 5000)
            let tampered = try runWith(signed)
            #expect(tampered.status == 1, "tampered image: \(tampered)")
            #expect(tampered.stderr.contains("digest mismatch"), "\(tampered.stderr)")
            try SIFTools.expectNothingLeft(sb.dir, image: signed, scratch: sb.dir, "after refusing the tampered image")
            #expect(sb.stateEntries.isEmpty, "state left: \(sb.stateEntries)")
        }

        @Test("annotation with a writable root: overlay; delete --force after the init was killed unmounts everything")
        func annotationWritableForceDelete() throws {
            let sb = try Sandbox(writeConfig: false)
            let image = try SIFTools.builtImage(sb)
            let bundle = sb.dir + "/annotated"
            try FileManager.default.createDirectory(atPath: bundle + "/rootfs", withIntermediateDirectories: true)
            var config = setting(sb.config, ["annotations"][...], ["org.ocirun.sif.image": image]) as! [String: Any]
            config = setting(config, ["process", "args"][...], ["/bin/sh", "-c", "echo x > /tmp/written && sleep 60"]) as! [String: Any]
            try SIFTools.writeJSON(config, bundle + "/config.json")
            let id = sb.newID()
            let create = try sb.ocirunCommand(["create", "--bundle", bundle, id])
            try #require(create.status == 0, "create: \(create)")
            // tmpfs and squashfs in the state directory, the overlay on root.path.
            #expect(SIFTools.mounts(under: sb.dir).count == 3, "\(SIFTools.mounts(under: sb.dir))")
            #expect(SIFTools.mounts(under: bundle) == [bundle + "/rootfs"], "the overlay on the rootfs")
            #expect(try sb.ocirunCommand(["start", id]).status == 0)
            let pid = try #require(try sb.state(id).json?["pid"] as? Int)
            usleep(200_000)
            kill(pid_t(pid), SIGKILL)
            #expect(try sb.waitForStatus(id, "stopped") == "stopped")
            let delete = try sb.ocirunCommand(["delete", "--force", id])
            #expect(delete.status == 0, "delete --force: \(delete)")
            try SIFTools.expectNothingLeft(sb.dir, image: image, scratch: sb.dir, "after delete --force")
            let stateDirMounts = SIFTools.mounts(under: sb.root)
            #expect(stateDirMounts.isEmpty, "\(stateDirMounts)")
            #expect(sb.stateEntries.isEmpty, "state left: \(sb.stateEntries)")
        }

        @Test("rootless: an unprivileged user mounts with squashfuse, runs the bundle rootless, and unmounts")
        func rootlessSquashfuse() throws {
            let sb = try Sandbox(writeConfig: false)
            let image = try SIFTools.builtImage(sb)
            _ = try SIFTools.require("squashfuse")
            let setpriv = try SIFTools.require("setpriv")
            let user = "ocirunsif" + String(UInt32.random(in: 0...UInt32.max) % 100_000)
            let add = try Spawn.run([try SIFTools.require("useradd"), "--system", "--no-create-home", "--shell", "/bin/false", user], scratch: sb.dir)
            try #require(add.status == 0, "useradd: \(add)")
            defer { _ = try? Spawn.run(["/usr/sbin/userdel", user], scratch: sb.dir) }
            let id = try Spawn.run(["/usr/bin/id", "-u", user], scratch: sb.dir)
            let uid = id.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let work = sb.dir + "/user"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            chmod(sb.dir, 0o755)
            chmod(image, 0o644)
            #expect(chown(work, uid_t(uid) ?? 65534, gid_t(65534)) == 0)
            // /dev/fuse may be root-only on this host (0600): the user part runs in a private mount
            // namespace (unshare) where a world-usable FUSE device node made here covers it.
            let fuseNode = sb.dir + "/fuse"
            #expect(mknod(fuseNode, S_IFCHR | 0o666, dev_t(10 << 8 | 229)) == 0, "mknod \(fuseNode)")
            chmod(fuseNode, 0o666)
            let bundle = work + "/bundle"
            let asUser = "\(setpriv) --reuid \(uid) --regid 65534 --clear-groups --reset-env"
            let script = """
            set -e
            mount --bind "$1" /dev/fuse
            \(asUser) "$2" sif mount "$3" "$4"
            grep " $4/rootfs " /proc/self/mountinfo | grep -q fuse.squashfuse && echo MOUNTED
            \(asUser) /bin/ls "$4/rootfs/bin/busybox" >/dev/null && echo READABLE
            sed -i 's|^      "/bin/sh"$|      "/bin/echo", "rootless container"|' "$4/config.json"
            \(asUser) "$2" --root "$5" run --bundle "$4" rootless-sif
            \(asUser) "$2" sif umount "$4"
            grep -q " $4/rootfs " /proc/self/mountinfo || echo UNMOUNTED
            """
            let out = try Spawn.run([try SIFTools.require("unshare"), "-m", "--propagation", "private", "/bin/sh", "-c", script, "sh",
                                     fuseNode, sb.ocirun, image, bundle, work + "/state"], scratch: sb.dir)
            #expect(out.status == 0, "\(out)")
            #expect(out.stdout == "mounted \(image) on \(bundle)/rootfs (squashfuse)\nMOUNTED\nREADABLE\nrootless container\nUNMOUNTED\n", "\(out)")
            #expect(SIFTools.mounts(under: sb.dir).isEmpty, "\(SIFTools.mounts(under: sb.dir))")
        }

        @Test("sif inspect lists what siftool list lists, for every vector image")
        func inspectAgreesWithSiftool() throws {
            _ = try Sandbox(writeConfig: false)
            let siftool = try SIFTools.require("siftool")
            let dir = Paths.repo + "/Tests/SIFBundleTests/Fixtures/images"
            let images = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".sif") }.sorted()
            #expect(images.count >= 10)
            let scratch = try makeTempDir("ocirun-it-sif")
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            func rows(_ text: String) -> [[String]] {
                text.split(separator: "\n").compactMap { line in
                    let cols = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard cols.count == 5, UInt32(cols[0]) != nil else { return nil }
                    return Array(cols[0..<4])   // id, group, link, position (the type column names OCI types siftool 2.8.3 predates)
                }
            }
            for name in images {
                let path = dir + "/" + name
                let theirs = try Spawn.run([siftool, "list", path], scratch: scratch)
                let ours = try Spawn.run([try #require(Paths.ocirun), "sif", "inspect", path], scratch: scratch)
                #expect(ours.status == 0, "\(name): \(ours)")
                #expect(rows(ours.stdout) == rows(theirs.stdout), "\(name): ocirun \(rows(ours.stdout)) siftool \(rows(theirs.stdout))")
            }
        }
    }
}

extension Integration.SIF {
    @Test("sif build --oci-config stores the image config beside the partition; sif mount runs its Entrypoint + Cmd")
    func buildWithOCIConfig() throws {
        let sb = try Sandbox(writeConfig: false)
        let configFile = sb.dir + "/image-config.json"
        try #"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/sh","-c"],"Cmd":["echo \"$GREETING from $(pwd)\""],"Env":["GREETING=hello"],"WorkingDir":"/tmp","Labels":{"org.example.team":"hpc"}}}"#
            .write(toFile: configFile, atomically: false, encoding: .utf8)
        try SIFTools.addMountPoints(sb)
        let image = sb.dir + "/oci.sif"
        let build = try Spawn.run([sb.ocirun, "sif", "build", "--oci-config", configFile, sb.rootfs, image], scratch: sb.dir, timeout: 60)
        try #require(build.status == 0, "sif build: \(build)")
        let list = try Spawn.run([try SIFTools.require("siftool"), "list", image], scratch: sb.dir)
        #expect(list.stdout.contains("FS (Squashfs/*System/amd64)") && list.stdout.contains("JSON.Generic"), "\(list.stdout)")

        let bundle = sb.dir + "/sifbundle"
        let mount = try sb.ocirunCommand(["sif", "mount", image, bundle], globals: [])
        try #require(mount.status == 0, "sif mount: \(mount)")
        var config = try SIFTools.readJSON(bundle + "/config.json")
        #expect(getting(config, ["process", "args"]) as? [String] == ["/bin/sh", "-c", "echo \"$GREETING from $(pwd)\""])
        #expect(getting(config, ["process", "cwd"]) as? String == "/tmp")
        #expect(getting(config, ["annotations", "org.example.team"]) as? String == "hpc")
        config = setting(config, ["linux", "cgroupsPath"][...], sb.cgroupsPath) as! [String: Any]
        try SIFTools.writeJSON(config, bundle + "/config.json")
        let run = try sb.ocirunCommand(["run", "--bundle", bundle, sb.newID()])
        #expect(run.stdout == "hello from /tmp\n", "\(run)")
        #expect(try sb.ocirunCommand(["sif", "umount", bundle], globals: []).status == 0)
        try SIFTools.expectNothingLeft(sb.dir, image: image, scratch: sb.dir, "after sif umount")

        let bad = try Spawn.run([sb.ocirun, "sif", "build", "--oci-config", sb.rootfs + "/etc/passwd", sb.rootfs, sb.dir + "/bad.sif"], scratch: sb.dir)
        #expect(bad.status == 1 && bad.stderr.contains("not an OCI image config"), "\(bad)")
        #expect(!FileManager.default.fileExists(atPath: sb.dir + "/bad.sif"))
    }
}

extension Integration.SIF {
    @Test("sif build from a tar archive (plain and gzip) gives the bytes of the directory build; hard links; '..' is refused")
    func buildFromTar() throws {
        let sb = try Sandbox(writeConfig: false)
        try SIFTools.addMountPoints(sb)
        let tar = try SIFTools.require("tar")
        // busybox picks its applet by name: a hard link named busybox elsewhere still runs it.
        #expect(link(sb.rootfs + "/bin/busybox", sb.rootfs + "/etc/busybox") == 0)
        let plain = sb.dir + "/rootfs.tar", gz = sb.dir + "/rootfs.tar.gz"
        for (file, z) in [(plain, "-cf"), (gz, "-czf")] {
            let t = try Spawn.run([tar, "--sort=name", "--numeric-owner", z, file, "-C", sb.rootfs, "."], scratch: sb.dir, timeout: 60)
            try #require(t.status == 0, "tar: \(t)")
        }
        let fromDir = try SIFTools.builtImage(sb, name: "dir.sif")
        for (file, name) in [(plain, "tar.sif"), (gz, "tgz.sif")] {
            let out = try Spawn.run([sb.ocirun, "sif", "build", file, sb.dir + "/" + name], scratch: sb.dir, timeout: 60)
            try #require(out.status == 0, "sif build \(file): \(out)")
        }
        // tar --sort=name walks the tree in the order the directory build does; the hard link is
        // a second inode over the same data either way.
        #expect(FileManager.default.contentsEqual(atPath: sb.dir + "/tar.sif", andPath: sb.dir + "/tgz.sif"))
        let dump = try Spawn.run(["/bin/sh", "-c", "\"$0\" dump 1 \"$1\" > \"$2\" && unsquashfs -lls \"$2\"",
                                  try SIFTools.require("siftool"), sb.dir + "/tar.sif", sb.dir + "/tar.squashfs"], scratch: sb.dir, timeout: 60)
        #expect(dump.status == 0, "\(dump)")
        let hard = dump.stdout.split(separator: "\n").first { $0.hasSuffix("squashfs-root/etc/busybox") } ?? ""
        #expect(hard.hasPrefix("-rwx"), "hard link listed as a regular file: \(hard)")
        #expect(FileManager.default.contentsEqual(atPath: sb.dir + "/tar.sif", andPath: fromDir), "tar and directory builds differ")
        let dirDump = try Spawn.run(["/bin/sh", "-c", "\"$0\" dump 1 \"$1\" > \"$2\" && unsquashfs -lls \"$2\"",
                                     try SIFTools.require("siftool"), fromDir, sb.dir + "/dir.squashfs"], scratch: sb.dir, timeout: 60)
        #expect(dump.stdout.replacingOccurrences(of: "tar.squashfs", with: "") == dirDump.stdout.replacingOccurrences(of: "dir.squashfs", with: ""),
                "the tar and directory images list the same files")

        // It runs: busybox through the hard link.
        let bundle = sb.dir + "/sifbundle"
        let mount = try sb.ocirunCommand(["sif", "mount", sb.dir + "/tgz.sif", bundle], globals: [])
        try #require(mount.status == 0, "sif mount: \(mount)")
        var config = try SIFTools.readJSON(bundle + "/config.json")
        config = setting(config, ["process", "args"][...], ["/etc/busybox", "echo", "from a tar layer"]) as! [String: Any]
        config = setting(config, ["linux", "cgroupsPath"][...], sb.cgroupsPath) as! [String: Any]
        try SIFTools.writeJSON(config, bundle + "/config.json")
        let run = try sb.ocirunCommand(["run", "--bundle", bundle, sb.newID()])
        #expect(run.stdout == "from a tar layer\n", "\(run)")
        #expect(try sb.ocirunCommand(["sif", "umount", bundle], globals: []).status == 0)
        try SIFTools.expectNothingLeft(sb.dir, image: sb.dir + "/tgz.sif", scratch: sb.dir, "after sif umount")

        // An archive entry above its root, and a file that is not a tar archive: clear errors, no output.
        try FileManager.default.createDirectory(atPath: sb.dir + "/evil/sub", withIntermediateDirectories: true)
        try "x".write(toFile: sb.dir + "/evil/x", atomically: false, encoding: .utf8)
        let mk = try Spawn.run(["/bin/sh", "-c", "cd \"$1/evil/sub\" && \"$0\" -P -cf ../../evil.tar ../x", tar, sb.dir], scratch: sb.dir)
        try #require(mk.status == 0, "\(mk)")
        let evil = try Spawn.run([sb.ocirun, "sif", "build", sb.dir + "/evil.tar", sb.dir + "/evil.sif"], scratch: sb.dir)
        #expect(evil.status == 1 && evil.stderr.contains("entry \"../x\" leaves the archive root"), "\(evil)")
        let notTar = try Spawn.run([sb.ocirun, "sif", "build", sb.rootfs + "/etc/passwd", sb.dir + "/bad.sif"], scratch: sb.dir)
        #expect(notTar.status == 1 && notTar.stderr.contains("not a tar archive"), "\(notTar)")
        let left = try FileManager.default.contentsOfDirectory(atPath: sb.dir).filter { $0.hasPrefix("evil.sif") || $0.hasPrefix("bad.sif") }
        #expect(left.isEmpty, "\(left)")
    }
}
