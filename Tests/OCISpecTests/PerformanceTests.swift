import JSON
import OCISpec
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Prints how long decoding runc's default config takes; no assertion on the time (CI machines
/// vary), only that every iteration decodes the same document.
@Test func decodeTimeOfRuncDefaultConfig() throws {
    let bytes = Array(runcDefaultConfig.utf8)
    let expected = try Spec.decode(from: bytes)
    let iterations = 1000

    func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    var parseOnly = 0.0
    var decode = 0.0
    var encode = 0.0
    var ok = true
    for _ in 0..<iterations {
        let t0 = now()
        _ = try JSONValue.parse(bytes)
        let t1 = now()
        let spec = try Spec.decode(from: bytes)
        let t2 = now()
        _ = try spec.encodedPretty()
        let t3 = now()
        parseOnly += t1 - t0
        decode += t2 - t1
        encode += t3 - t2
        ok = ok && spec == expected
    }
    #expect(ok)
    func us(_ total: Double) -> String { String(Int((total / Double(iterations) * 1e6).rounded())) }
    print("runc default config.json (\(bytes.count) bytes), mean of \(iterations):"
        + " parse \(us(parseOnly)) µs, parse+decode \(us(decode)) µs, encode \(us(encode)) µs")
}
