import ArgumentParser
import JSON
import SIFBundle
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `ocirun sif inspect IMAGE [--json]`: the global header and the objects, like `siftool header`
/// and `siftool list`.
struct SIFInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the header and objects of a SIF image."
    )

    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false

    @Argument(help: "The SIF image.")
    var image: String

    func run() throws {
        try sifRun {
            let img = try SIFImage(path: image)
            print(json ? SIFInspectFormat.json(img) : SIFInspectFormat.text(img), terminator: json ? "\n" : "")
        }
    }
}

/// The text and JSON renderings of `sif inspect`.
enum SIFInspectFormat {
    /// `siftool header` followed by `siftool list`, with a NAME column added.
    static func text(_ img: SIFImage) -> String {
        let h = img.header
        var rows: [(String, String)] = []
        if !h.launchScript.isEmpty { rows.append(("Launch Script", h.launchScript.trimmingNewlines)) }
        rows.append(("Version", h.version))
        if h.arch != "unknown" { rows.append(("Primary Architecture", h.arch)) }
        if let id = h.uuidString { rows.append(("ID", id)) }
        if let t = utcTime(h.createdAt) { rows.append(("Created At", t)) }
        if let t = utcTime(h.modifiedAt) { rows.append(("Modified At", t)) }
        rows += [
            ("Descriptors Free", "\(h.descriptorsFree)"),
            ("Descriptors Total", "\(h.descriptorsTotal)"),
            ("Descriptors Offset", "\(h.descriptorsOffset)"),
            ("Descriptors Size", "\(h.descriptorsSize) B"),
            ("Data Offset", "\(h.dataOffset)"),
            ("Data Size", "\(h.dataSize) B"),
        ]
        let width = rows.map(\.0.count).max()! + 2
        var out = ""
        for (k, v) in rows { out += pad(k + ":", width) + v + "\n" }
        let rule = String(repeating: "-", count: 78) + "\n"
        out += rule
        out += "ID   |GROUP   |LINK    |SIF POSITION (start-end)  |TYPE\n"
        out += rule
        for d in img.descriptors {
            let group = d.groupID.map { "\($0)" } ?? "NONE"
            var line = pad("\(d.id)", 5) + "|" + pad(group, 8) + "|" + pad(d.link.description, 8) + "|"
                + pad("\(d.offset)-\(d.end)", 26) + "|" + d.typeDescription
            if !d.name.isEmpty { line += "  [\(d.name)]" }
            out += line + "\n"
        }
        return out
    }

    /// A JSON document with the header and every object's descriptor fields.
    static func json(_ img: SIFImage) -> String {
        let h = img.header
        var header = JSONObject()
        header.append(key: "launchScript", value: .string(h.launchScript))
        header.append(key: "version", value: .string(h.version))
        header.append(key: "arch", value: .string(h.arch))
        header.append(key: "id", value: h.uuidString.map { .string($0) } ?? .null)
        header.append(key: "createdAt", value: int(h.createdAt))
        header.append(key: "modifiedAt", value: int(h.modifiedAt))
        header.append(key: "descriptorsFree", value: int(h.descriptorsFree))
        header.append(key: "descriptorsTotal", value: int(h.descriptorsTotal))
        header.append(key: "descriptorsOffset", value: int(h.descriptorsOffset))
        header.append(key: "descriptorsSize", value: int(h.descriptorsSize))
        header.append(key: "dataOffset", value: int(h.dataOffset))
        header.append(key: "dataSize", value: int(h.dataSize))

        let objects: [JSONValue] = img.descriptors.map { d in
            var o = JSONObject()
            o.append(key: "id", value: int(Int64(d.id)))
            o.append(key: "group", value: d.groupID.map { int(Int64($0)) } ?? .null)
            switch d.link {
            case .none: o.append(key: "link", value: .null)
            case .object(let id): o.append(key: "link", value: .object(JSONObject([("object", int(Int64(id)))])))
            case .group(let g): o.append(key: "link", value: .object(JSONObject([("group", int(Int64(g)))])))
            }
            o.append(key: "offset", value: int(d.offset))
            o.append(key: "size", value: int(d.size))
            o.append(key: "sizeWithPadding", value: int(d.sizeWithPadding))
            o.append(key: "dataType", value: int(Int64(d.dataType.rawValue)))
            o.append(key: "type", value: .string(d.dataType.description))
            o.append(key: "name", value: .string(d.name))
            o.append(key: "createdAt", value: int(d.createdAt))
            o.append(key: "modifiedAt", value: int(d.modifiedAt))
            switch d.extra {
            case .partition(let fs, let type, let arch):
                o.append(key: "partition", value: .object(JSONObject([
                    ("fs", .string(fs.description)), ("type", .string(type.description)), ("arch", .string(arch)),
                ])))
            case .signature(let hash, let entity):
                o.append(key: "signature", value: .object(JSONObject([
                    ("hash", .string(hash.description)),
                    ("entity", entity.map { .string(hex($0)) } ?? .null),
                ])))
            case .cryptoMessage(let format, let message):
                o.append(key: "cryptoMessage", value: .object(JSONObject([
                    ("format", .string(format.description)), ("message", .string(message.description)),
                ])))
            case .sbom(let format):
                o.append(key: "sbom", value: .object(JSONObject([("format", .string(format.description))])))
            case .ociDigest(let digest):
                o.append(key: "digest", value: .string(digest))
            case .none:
                break
            }
            return .object(o)
        }
        return JSONValue.object(JSONObject([("header", .object(header)), ("objects", .array(objects))]))
            .serialized(pretty: true)
    }

    private static func int(_ v: Int64) -> JSONValue { .number(.int(v)) }

    private static func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF")
        return String(b.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
    }

    private static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }

    /// "2020-05-22 19:30:59 +0000 UTC", or nil for unset times (0 and Go's zero time).
    static func utcTime(_ t: Int64) -> String? {
        guard t > 0 else { return nil }
        var tt = time_t(t)
        var tm = tm()
        guard gmtime_r(&tt, &tm) != nil else { return nil }
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension String {
    fileprivate var trimmingNewlines: String {
        var s = Substring(self)
        while let c = s.last, c == "\n" || c == "\r" { s = s.dropLast() }
        return String(s)
    }
}
