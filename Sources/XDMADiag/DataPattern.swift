import ArgumentParser
import DiagSupport

/// Data to send, or to expect back: a counter, a constant, seeded random bytes, or a
/// repeated 32-bit value (Jungo's fill pattern). Bytes depend only on the pattern and the
/// position within the transfer, so a later `from-device --verify` regenerates them.
enum DataPattern: Equatable, CustomStringConvertible, Codable {
    /// 32-bit little-endian words counting up from 0 (word k holds k).
    case increment
    /// All bytes 0x00.
    case zero
    /// All bytes 0xFF.
    case ones
    /// SplitMix64 bytes from `seed`.
    case random(seed: UInt64)
    /// A repeated 32-bit little-endian value.
    case value(UInt32)

    /// Parses `increment`, `zero`, `ones`, `random` (with `seed`) or a 32-bit number (`0xdeadbeef`).
    init(parsing text: String, seed: UInt64) throws {
        switch text.lowercased() {
        case "increment", "inc", "counter": self = .increment
        case "zero", "zeros", "zeroes": self = .zero
        case "ones", "one": self = .ones
        case "random", "rand": self = .random(seed: seed)
        default:
            guard let v = try? NumberParser.unsigned(text, name: "--pattern") else {
                throw ValidationError("--pattern '\(text)' is not increment, zero, ones, random or a 32-bit value such as 0xdeadbeef")
            }
            guard v <= UInt64(UInt32.max) else {
                throw ValidationError("--pattern value \(text) does not fit in 32 bits (max 0xffffffff)")
            }
            self = .value(UInt32(v))
        }
    }

    /// Sizes this pattern can fill exactly: a 32-bit value needs whole words.
    func check(size: Int) throws {
        if case .value(let v) = self, size % 4 != 0 {
            throw ValidationError("the 32-bit pattern 0x\(hexDigits(v, 8)) needs a size that is a multiple of 4 bytes (got \(size))")
        }
    }

    var description: String {
        switch self {
        case .increment: "increment"
        case .zero: "zero"
        case .ones: "ones"
        case .random(let s): "random (seed \(s))"
        case .value(let v): "0x\(hexDigits(v, 8))"
        }
    }

    /// Fills `target` with the pattern's first `target.count` bytes.
    func fill(_ target: UnsafeMutableRawBufferPointer) {
        guard let base = target.baseAddress, target.count > 0 else { return }
        let n = target.count
        switch self {
        case .zero: target.initializeMemory(as: UInt8.self, repeating: 0)
        case .ones: target.initializeMemory(as: UInt8.self, repeating: 0xFF)
        case .increment: fillWords(base, n) { UInt64($0) }
        case .value(let v): fillWords(base, n) { _ in UInt64(v) }
        case .random(let seed):
            var state = seed
            var i = 0
            while i < n {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                let chunk = min(8, n - i)
                if chunk == 8 {
                    (base + i).storeBytes(of: z.littleEndian, as: UInt64.self)
                } else {
                    withUnsafeBytes(of: z.littleEndian) { (base + i).copyMemory(from: $0.baseAddress!, byteCount: chunk) }
                }
                i += 8
            }
        }
    }

    private func fillWords(_ base: UnsafeMutableRawPointer, _ n: Int, _ word: (Int) -> UInt64) {
        var i = 0
        var k = 0
        while i < n {
            let w = UInt32(truncatingIfNeeded: word(k)).littleEndian
            let chunk = min(4, n - i)
            if chunk == 4 {
                (base + i).storeBytes(of: w, as: UInt32.self)
            } else {
                withUnsafeBytes(of: w) { (base + i).copyMemory(from: $0.baseAddress!, byteCount: chunk) }
            }
            i += 4
            k += 1
        }
    }

    /// The pattern's first `count` bytes.
    func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }
}
