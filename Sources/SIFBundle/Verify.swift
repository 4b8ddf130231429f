/// How a signature object is encoded.
public enum SIFSignatureKind: String, Sendable {
    /// A DSSE envelope over the JSON metadata (current scheme).
    case dsse
    /// An OpenPGP clear-signed JSON metadata document (current scheme).
    case pgp
    /// An OpenPGP clear-signed "SIFHASH:" digest (legacy scheme, data only).
    case legacy
}

/// The outcome for one signature object.
public struct SIFSignatureResult: Sendable {
    /// The signature object.
    public var signature: SIFDescriptor
    /// Its encoding, when recognised.
    public var kind: SIFSignatureKind?
    /// Descriptions of the given keys that verify it.
    public var verifiedBy: [String] = []
    /// Why it fails (integrity mismatches, invalid signatures); empty when it does not fail.
    public var failures: [String] = []
    /// Why it was not considered (a legacy signature without `legacy`), if it was not.
    public var ignored: String?

    /// Verified by a given key and not failing.
    public var isVerified: Bool { ignored == nil && failures.isEmpty && !verifiedBy.isEmpty }
}

/// The outcome of verifying an image.
public struct SIFVerificationReport: Sendable {
    /// One result per signature object.
    public var signatures: [SIFSignatureResult] = []
    /// The object groups that verified.
    public var verifiedGroups: [UInt32] = []
    /// Every reason the image does not verify ("group 1: object 2 (partition, squashfs) digest
    /// mismatch (signature object 3)"); empty when it verifies.
    public var problems: [String] = []
    /// True when every group verifies with at least one given key and no signature fails.
    public var isVerified: Bool { problems.isEmpty && !verifiedGroups.isEmpty }
}

extension SIFImage {
    /// Verifies every signature object against `keys`, following sylabs' integrity scheme.
    ///
    /// The image verifies when it has at least one signature, every object group has a signature
    /// that a given key verifies, no signature fails (an integrity mismatch, or a signature that
    /// claims a given key but does not verify), and no non-signature object sits outside a group.
    /// A signature by a key that was not given neither verifies nor fails. With `legacy`, old
    /// `SIFHASH` signatures count too; a group is then also covered by a legacy signature of its
    /// primary system partition, the object Singularity checks by default.
    public func verify(keys: [SIFPublicKey], legacy: Bool = false) throws -> SIFVerificationReport {
        var report = SIFVerificationReport()
        let sigs = descriptors(.dataType(.signature))
        guard !sigs.isEmpty else {
            report.problems.append("no signatures")
            return report
        }
        let pgpKeys: [OpenPGPPublicKey] = keys.compactMap { if case .pgp(let k) = $0 { return k } else { return nil } }
        for d in sigs {
            report.signatures.append(try verifySignature(d, keys: keys, pgpKeys: pgpKeys, legacy: legacy))
        }

        for d in descriptors where d.dataType != .signature && d.groupID == nil {
            report.problems.append("\(d.label) is in no group, so no signature covers it")
        }
        for r in report.signatures {
            let n = r.signature.id
            if case .group(let g) = r.signature.link, descriptors(.groupID(g)).isEmpty {
                report.problems.append("signature object \(n): linked group \(g) not found")
            } else if case .object(let o) = r.signature.link, descriptor(id: o) == nil {
                report.problems.append("signature object \(n): linked object \(o) not found")
            } else if case .none = r.signature.link {
                report.problems.append("signature object \(n): links to no object or group")
            }
        }

        for g in groupIDs {
            let members = descriptors(.groupID(g))
            let memberIDs = Set(members.map(\.id))
            let primary = members.first { $0.partitionType == .primarySystem }
            let relevant = report.signatures.filter {
                switch $0.signature.link {
                case .group(let lg): return lg == g
                case .object(let o): return memberIDs.contains(o)
                case .none: return false
                }
            }
            for r in relevant where r.ignored == nil {
                for f in r.failures { report.problems.append("group \(g): \(f) (signature object \(r.signature.id))") }
            }
            // A group is covered by a signature that a given key verifies (its integrity failures,
            // if any, are already listed above).
            let covered = relevant.contains { r in
                guard r.ignored == nil, !r.verifiedBy.isEmpty else { return false }
                if case .group = r.signature.link { return true }
                if case .object(let o) = r.signature.link, let primary { return o == primary.id }
                return false
            }
            let failing = relevant.contains { $0.ignored == nil && !$0.failures.isEmpty }
            if covered {
                if !failing { report.verifiedGroups.append(g) }
            } else if relevant.isEmpty {
                report.problems.append("group \(g): no signature")
            } else if relevant.allSatisfy({ $0.ignored != nil }) {
                report.problems.append("group \(g): only legacy signatures (verify them with --legacy)")
            } else {
                report.problems.append("group \(g): no signature verifies with the given keys")
            }
        }
        return report
    }

    private func verifySignature(_ d: SIFDescriptor, keys: [SIFPublicKey], pgpKeys: [OpenPGPPublicKey],
                                 legacy: Bool) throws -> SIFSignatureResult {
        var r = SIFSignatureResult(signature: d)
        let data: [UInt8]
        do {
            data = try self.data(of: d, limit: 16 << 20)
        } catch let e as SIFError {
            r.failures.append(e.message)
            return r
        }
        var hash = SIFDigestAlgorithm.sha256
        var entity: [UInt8]?
        if case .signature(let ht, let e) = d.extra {
            entity = e
            if let h = SIFDigestAlgorithm(hashType: ht) { hash = h }
        }
        do {
            if DSSEEnvelope.looksLikeEnvelope(data) {
                r.kind = .dsse
                let env = try DSSEEnvelope(json: data)
                guard env.payloadType == SIFImageMetadata.mediaType else {
                    r.failures.append("unexpected dsse payload type \"\(env.payloadType.prefix(80))\"")
                    return r
                }
                r.verifiedBy = env.verifyingKeys(keys, hash: hash)
                r.failures += try metadataMismatches(SIFImageMetadata(json: env.payload), signature: d)
            } else if ClearSignedMessage.isClearSigned(data) {
                let msg = try ClearSignedMessage(data)
                let isLegacy = msg.plaintext.starts(with: Array("SIFHASH:".utf8))
                r.kind = isLegacy ? .legacy : .pgp
                if isLegacy && !legacy {
                    r.ignored = "legacy signature (verify it with --legacy)"
                    return r
                }
                let (good, bad) = msg.verify(with: pgpKeys)
                r.failures += bad
                for k in good {
                    if let entity, entity != k.primary.fingerprint {
                        r.failures.append("signing key \(hexString(k.primary.fingerprint).uppercased()) does not match the descriptor's entity")
                    } else {
                        r.verifiedBy.append(SIFPublicKey.pgp(k).description)
                    }
                }
                if isLegacy {
                    r.failures += try legacyMismatches(msg.plaintext, signature: d, hash: d.extra)
                } else {
                    r.failures += try metadataMismatches(SIFImageMetadata(json: msg.plaintext), signature: d)
                }
            } else {
                r.failures.append("unrecognised signature format")
            }
        } catch let e as SIFError {
            r.failures.append(e.description)
        }
        return r
    }

    private func metadataMismatches(_ md: SIFImageMetadata, signature d: SIFDescriptor) throws -> [String] {
        guard case .group(let g) = d.link else { return ["signature is not linked to a group"] }
        guard !descriptors(.groupID(g)).isEmpty else { return [] }  // reported by the caller
        return try md.mismatches(image: self, groupID: g)
    }

    /// Legacy "SIFHASH:\n<hex>" signatures: one digest over the data of the linked object, or of
    /// every object in the linked group in id order, with the descriptor's hash type.
    private func legacyMismatches(_ plaintext: [UInt8], signature d: SIFDescriptor, hash: SIFExtra) throws -> [String] {
        guard case .signature(let ht, _) = hash, let alg = SIFDigestAlgorithm(hashType: ht) else {
            return ["unsupported legacy hash type"]
        }
        var text = String(decoding: plaintext.dropFirst("SIFHASH:".utf8.count), as: UTF8.self)
        while let c = text.first, c == "\n" || c == "\r" { text.removeFirst() }
        while let c = text.last, c == "\n" || c == "\r" || c == " " { text.removeLast() }
        guard let want = Hex.decode(text), want.count == alg.size else { return ["malformed legacy digest"] }
        let objects: [SIFDescriptor]
        let what: String
        switch d.link {
        case .object(let id):
            guard let o = descriptor(id: id) else { return [] }
            objects = [o]
            what = o.label
        case .group(let g):
            objects = descriptors(.groupID(g)).sorted { $0.id < $1.id }
            what = "group \(g) data"
        case .none:
            return []
        }
        var h = SIFHasher(alg)
        for o in objects { try forEachChunk(of: o) { h.update($0) } }
        return h.finalize() == want ? [] : ["\(what) digest mismatch"]
    }
}
