/// CRC-32 (IEEE 802.3, the zlib/PNG polynomial, reflected, initial and final XOR all-ones),
/// used by traces as a digest of DMA data at sync points.
public enum CRC32 {
    /// The reflected polynomial.
    static let polynomial: UInt32 = 0xEDB8_8320

    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? polynomial ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC-32 of `bytes` (`CRC32.checksum("123456789".utf8)` is 0xCBF43926).
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }

    /// The CRC-32 of a byte sequence.
    public static func checksum<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        let a = Array(bytes)
        return a.withUnsafeBytes { checksum($0) }
    }
}
