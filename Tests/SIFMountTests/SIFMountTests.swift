import Foundation
import JSON
import OCISpec
import SIFFormat
import SIFMount
import Testing

// Pure logic of SIFMount, without mounts: environment files, policy files, and the bundle
// config of an OCI-SIF (OCI root index → manifest → config, squashfs layer) read in-process.

@Suite("SIFMount")
struct SIFMountTests {
    func tempDir() throws -> String {
        var bytes = Array((NSTemporaryDirectory() + "/ocirun-sifmount.XXXXXX").utf8CString)
        let p = try #require(bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) })
        return String(cString: p)
    }

    @Test("literal assignments of Singularity env files; shell code is left out")
    func shellAssignments() {
        let text = """
        #!/bin/sh
        export A="one two"
        B=plain
          export C='single $quoted'
        export D="$PATH:/opt/bin"
        E=`date`
        if [ -z "$X" ]; then
        1BAD=x
        export F=
        """
        #expect(SIFBundleConfig.shellAssignments(text) == ["A=one two", "B=plain", "C=single $quoted", "F="])
    }

    @Test("policy files: keys relative to the file, unknown fields and missing keys are errors")
    func policies() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/policy.json"
        try #"{"keys": ["k.pem", "/abs/k.asc"], "allowedImagePrefixes": ["/shared/images"]}"#.write(toFile: p, atomically: false, encoding: .utf8)
        let policy = try SIFPolicy.load(path: p)
        #expect(policy.requireSignature)
        #expect(policy.keys == [dir + "/k.pem", "/abs/k.asc"])
        #expect(policy.allows(imageAt: "/shared/images/a.sif"))
        #expect(!policy.allows(imageAt: "/shared/images-evil/a.sif"))
        #expect(!policy.allows(imageAt: "/tmp/a.sif"))

        try #"{"keys": ["k.pem"], "requireSignatures": true}"#.write(toFile: p, atomically: false, encoding: .utf8)
        #expect { try SIFPolicy.load(path: p) } throws: { "\($0)".contains("unknown field \"requireSignatures\"") }
        try #"{"requireSignature": true}"#.write(toFile: p, atomically: false, encoding: .utf8)
        #expect { try SIFPolicy.load(path: p) } throws: { "\($0)".contains("no keys") }
        try #"{"requireSignature": false}"#.write(toFile: p, atomically: false, encoding: .utf8)
        #expect(try SIFPolicy.load(path: p).requireSignature == false)
        #expect { try SIFPolicy.load(path: dir + "/missing.json") } throws: { "\($0)".contains("missing.json") }
    }

    /// A SIF holding an OCI image: root index, manifest, config and a squashfs layer blob.
    func ociSIF(_ dir: String) throws -> String {
        let root = dir + "/root"
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "root:x:0:0::/root:/bin/sh\napp:x:1234:4321::/home/app:/bin/sh\n".write(toFile: root + "/etc/passwd", atomically: false, encoding: .utf8)
        try "root:x:0:\nstaff:x:50:\n".write(toFile: root + "/etc/group", atomically: false, encoding: .utf8)
        let sqfs = dir + "/layer.squashfs"
        try SquashfsWriter.write(directory: root, to: sqfs)
        let layer = Array(try Data(contentsOf: URL(fileURLWithPath: sqfs)))

        func digest(_ n: Int) -> String { "sha256:" + String(repeating: String(n), count: 64) }
        let config = Array(#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/bin:/bin","APP_MODE=fast"],"Entrypoint":["/app/run"],"Cmd":["--serve"],"WorkingDir":"/srv","User":"app:staff","Labels":{"org.opencontainers.image.title":"demo"}}}"#.utf8)
        let manifest = Array("""
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
         "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(digest(2))","size":\(config.count)},
         "layers":[{"mediaType":"application/vnd.sylabs.image.layer.v1.squashfs","digest":"\(digest(3))","size":\(layer.count)}]}
        """.utf8)
        let index = Array(#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(digest(1))","size":\#(manifest.count)}]}"#.utf8)

        let objects: [(SIFDataType, [UInt8], String?)] = [
            (.ociRootIndex, index, nil), (.ociBlob, manifest, digest(1)), (.ociBlob, config, digest(2)), (.ociBlob, layer, digest(3)),
        ]
        let slots = 48, descOffset = 4096, dataOffset = descOffset + slots * SIFLayout.descriptorSize
        var data: [UInt8] = []
        var descriptors: [SIFDescriptor] = []
        for (i, (type, bytes, dg)) in objects.enumerated() {
            var offset = dataOffset + data.count
            if type == .ociBlob && dg == digest(3) {   // the layer, aligned like a partition
                let aligned = (offset + 4095) / 4096 * 4096
                data += [UInt8](repeating: 0, count: aligned - offset)
                offset = aligned
            }
            descriptors.append(SIFDescriptor(slot: i, dataType: type, id: UInt32(i + 1), groupID: 1, link: .none,
                                             offset: Int64(offset), size: Int64(bytes.count), sizeWithPadding: Int64(bytes.count),
                                             time: 0, extra: Array((dg ?? "").utf8)))
            data += bytes
        }
        var header = try SIFHeader(bytes: [UInt8](repeating: 0, count: 32) + SIFLayout.magic + SIFLayout.version
                                   + [UInt8](repeating: 0, count: SIFLayout.headerSize - 45))
        header.rawArch = SIFArch.code(name: "amd64")
        header.descriptorsFree = Int64(slots - objects.count)
        header.descriptorsTotal = Int64(slots)
        header.descriptorsOffset = Int64(descOffset)
        header.descriptorsSize = Int64(slots * SIFLayout.descriptorSize)
        header.dataOffset = Int64(dataOffset)
        header.dataSize = Int64(data.count)
        var file = header.encoded()
        file += [UInt8](repeating: 0, count: descOffset - file.count)
        for d in descriptors { file += d.encoded() }
        file += [UInt8](repeating: 0, count: dataOffset - file.count)
        file += data
        let path = dir + "/oci.sif"
        try Data(file).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("an OCI-SIF: the squashfs layer is the rootfs; Env, Entrypoint+Cmd, WorkingDir, User by name, Labels")
    func ociSIFConfig() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try ociSIF(dir)
        let image = try SIFImage(path: path)
        let source = try SIFRootfsSource.locate(image, path: path)
        #expect(source.kind == .ociLayer)
        #expect(source.objectID == 4)
        #expect(source.offset % 4096 == 0)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let squashfs = try SquashfsReader(fd: fd, offset: UInt64(source.offset), size: UInt64(source.size))
        #expect(try squashfs.list("/etc") == ["group", "passwd"])
        let spec = try SIFBundleConfig.make(imagePath: path, source: source, squashfs: squashfs, writable: false, rootless: false)
        #expect(spec.process?.args == ["/app/run", "--serve"])
        #expect(spec.process?.cwd == "/srv")
        #expect(spec.process?.user.uid == 1234)
        #expect(spec.process?.user.gid == 50)
        #expect(spec.process?.env?.contains("APP_MODE=fast") == true)
        #expect(spec.process?.env?.filter { $0.hasPrefix("PATH=") } == ["PATH=/usr/bin:/bin"])
        #expect(spec.annotations?["org.opencontainers.image.title"] == "demo")
        #expect(spec.annotations?[SIFBundleConfig.sourceAnnotation] == path)
        #expect(spec.root == Root(path: "rootfs", readonly: true))
    }

    @Test("an image with neither a primary partition nor an OCI index has no rootfs to mount")
    func noRootfs() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/r", withIntermediateDirectories: true)
        let built = dir + "/b.sif"
        try SIFBuilder.build(rootfs: dir + "/r", output: built)
        let image = try SIFImage(path: built)
        #expect(try SIFRootfsSource.locate(image, path: built).kind == .partition)
        // The same header with the descriptor slot cleared: an empty image.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: built)))
        bytes[4096 + 4] = 0
        for i in 80..<88 { bytes[i] = i == 80 ? 48 : 0 }
        try Data(bytes).write(to: URL(fileURLWithPath: built))
        #expect { try SIFRootfsSource.locate(SIFImage(path: built), path: built) } throws: {
            "\($0)".contains("no primary system partition and no OCI root index")
        }
    }
}
