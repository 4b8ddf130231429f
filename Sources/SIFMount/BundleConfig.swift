#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import JSON
import OCISpec
import SIFFormat

/// The `config.json` of a bundle made from a SIF image: `ocirun spec`'s defaults (rootless when
/// not root), read-only root `rootfs` unless writable, and the process from the image:
///
/// * OCI-SIF: the OCI image config's Env, Entrypoint + Cmd, WorkingDir, User (numeric, or a name
///   looked up in the image's /etc/passwd and /etc/group) and Labels (as annotations);
/// * Singularity image: `/.singularity.d/actions/run` (or `/.singularity.d/runscript`) as the
///   command, the literal `NAME=value` assignments of `/.singularity.d/env/*.sh` as environment,
///   `/.singularity.d/labels.json` as annotations;
/// * otherwise `/bin/sh`.
public enum SIFBundleConfig {
    /// Annotation naming the image a bundle's rootfs was mounted from (informative).
    public static let sourceAnnotation = "org.ocirun.sif.source"

    public static func make(imagePath: String, source: SIFRootfsSource, squashfs: SquashfsReader,
                            writable: Bool, rootless: Bool = geteuid() != 0) throws -> Spec {
        var spec = Spec.defaultConfig(rootless: rootless, hostUID: geteuid(), hostGID: getegid())
        spec.root = Root(path: "rootfs", readonly: !writable)
        spec.hostname = "sif"
        var process = spec.process!
        process.terminal = false
        var annotations: [String: String] = [sourceAnnotation: imagePath]
        var env = process.env ?? []

        func setEnv(_ entry: String) {
            guard let eq = entry.firstIndex(of: "=") else { return }
            let key = entry[..<eq]
            env.removeAll { $0.hasPrefix(key + "=") }
            env.append(entry)
        }

        if let oci = source.ociConfig {
            let c = oci["config"]
            for e in c?["Env"]?.arrayValue ?? [] { if let s = e.stringValue { setEnv(s) } }
            let entry = (c?["Entrypoint"]?.arrayValue ?? []).compactMap(\.stringValue)
            let cmd = (c?["Cmd"]?.arrayValue ?? []).compactMap(\.stringValue)
            let args = entry + cmd
            process.args = args.isEmpty ? ["/bin/sh"] : args
            if let wd = c?["WorkingDir"]?.stringValue, !wd.isEmpty { process.cwd = wd }
            if let user = c?["User"]?.stringValue, !user.isEmpty {
                let (uid, gid) = try resolveUser(user, squashfs: squashfs, image: imagePath)
                process.user = User(uid: uid, gid: gid)
            }
            if case .object(let labels)? = c?["Labels"] {
                for (k, v) in labels { if let s = v.stringValue { annotations[k] = s } }
            }
        } else if try squashfs.list("/.singularity.d") != nil {
            if try squashfs.readFile("/.singularity.d/actions/run", limit: 1 << 20) != nil {
                process.args = ["/.singularity.d/actions/run"]
            } else if try squashfs.readFile("/.singularity.d/runscript", limit: 1 << 20) != nil {
                process.args = ["/.singularity.d/runscript"]
            } else {
                process.args = ["/bin/sh"]
            }
            for name in (try squashfs.list("/.singularity.d/env") ?? []).sorted() where name.hasSuffix(".sh") {
                guard let bytes = try squashfs.readFile("/.singularity.d/env/" + name, limit: 1 << 20) else { continue }
                for assignment in shellAssignments(String(decoding: bytes, as: UTF8.self)) { setEnv(assignment) }
            }
            if let bytes = try squashfs.readFile("/.singularity.d/labels.json", limit: 1 << 20) {
                if case .object(let labels)? = try? JSONValue.parse(bytes) {
                    for (k, v) in labels { if let s = v.stringValue { annotations[k] = s } }
                }
            }
        } else {
            process.args = ["/bin/sh"]
        }
        process.env = env
        spec.process = process
        spec.annotations = annotations
        return spec
    }

    /// The literal assignments of a shell environment file: `NAME=value`, `export NAME="value"`,
    /// `export NAME='value'`. Lines using expansions (`$`, backquotes) or other shell code are
    /// skipped: they need a shell, which the runscript provides.
    public static func shellAssignments(_ text: String) -> [String] {
        var out: [String] = []
        for raw in text.split(separator: "\n") {
            var line = raw.trimmingSpaces()
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingSpaces() }
            guard let eq = line.firstIndex(of: "="), eq != line.startIndex else { continue }
            let name = line[..<eq]
            guard name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }),
                  !(name.first?.isNumber ?? true) else { continue }
            var value = String(line[line.index(after: eq)...])
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
                if q == "\"" && (value.contains("$") || value.contains("`") || value.contains("\"")) { continue }
                if q == "'" && value.contains("'") { continue }
            } else if value.contains(where: { " \t$`\"'\\;&|()<>".contains($0) }) {
                continue
            }
            out.append("\(name)=\(value)")
        }
        return out
    }

    /// `uid[:gid]` with numbers or names looked up in the image's /etc/passwd and /etc/group.
    static func resolveUser(_ spec: String, squashfs: SquashfsReader, image: String) throws -> (UInt32, UInt32) {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        func lookup(_ file: String, _ name: String) throws -> (UInt32, UInt32)? {
            guard let bytes = try squashfs.readFile(file, limit: 4 << 20) else { return nil }
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                if f.count >= 4, f[0] == name, let a = UInt32(f[2]) { return (a, UInt32(f[3]) ?? 0) }
                if f.count >= 3, f[0] == name, let a = UInt32(f[2]) { return (a, a) }
            }
            return nil
        }
        var uid: UInt32, gid: UInt32
        if let n = UInt32(parts[0]) {
            uid = n
            gid = try lookupByUID(n, squashfs) ?? 0
        } else if let (u, g) = try lookup("/etc/passwd", parts[0]) {
            uid = u; gid = g
        } else {
            throw SIFError(.notFound, "\(image): image config user \"\(parts[0])\" is not in the image's /etc/passwd")
        }
        if parts.count == 2 {
            if let n = UInt32(parts[1]) { gid = n } else if let (g, _) = try lookup("/etc/group", parts[1]) { gid = g } else {
                throw SIFError(.notFound, "\(image): image config group \"\(parts[1])\" is not in the image's /etc/group")
            }
        }
        return (uid, gid)
    }

    static func lookupByUID(_ uid: UInt32, _ squashfs: SquashfsReader) throws -> UInt32? {
        guard let bytes = try squashfs.readFile("/etc/passwd", limit: 4 << 20) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            if f.count >= 4, UInt32(f[2]) == uid { return UInt32(f[3]) }
        }
        return nil
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return String(s)
    }
}
extension String {
    func trimmingSpaces() -> String { self[...].trimmingSpaces() }
}
