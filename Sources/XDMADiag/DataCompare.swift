#if canImport(Glibc)
    import Glibc
#endif

/// Compares received data with expected data.
enum DataCompare {
    /// Writes the bitwise complement of `source` into `target` (same length), eight bytes at a
    /// time: a receive buffer prepared like this cannot pass a comparison unless the transfer
    /// really wrote every byte.
    static func fillComplement(_ target: UnsafeMutableRawBufferPointer, of source: UnsafeRawBufferPointer) {
        precondition(target.count == source.count)
        guard let t = target.baseAddress, let s = source.baseAddress else { return }
        let n = target.count
        var i = 0
        while i + 8 <= n {
            t.storeBytes(of: ~s.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < n {
            t.storeBytes(of: ~s.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self)
            i += 1
        }
    }

    /// nil when equal; otherwise how many bytes differ and where the first one is.
    static func compare(_ actual: UnsafeRawBufferPointer, _ expected: UnsafeRawBufferPointer, iteration: Int) -> VerifyMismatch? {
        precondition(actual.count == expected.count)
        guard let a = actual.baseAddress, let e = expected.baseAddress, actual.count > 0 else { return nil }
        if memcmp(a, e, actual.count) == 0 { return nil }
        var first = -1
        var differing = 0
        for i in 0..<actual.count where actual[i] != expected[i] {
            if first < 0 { first = i }
            differing += 1
        }
        return VerifyMismatch(differingBytes: differing, firstOffset: first, expected: expected[first], actual: actual[first], iteration: iteration)
    }
}
