import ArgumentParser
import Busmaster

/// Parses numbers the way hardware people type them: `0x1f`, `1F` with `--hex`-style
/// prefixes, decimal, `0b101`, and sizes with `K`/`M`/`G` suffixes.
public enum NumberParser {
    /// Parses an unsigned integer (`0x` hex, `0b` binary, `0o` octal, else decimal; `_` ignored).
    public static func unsigned(_ text: String, name: String) throws -> UInt64 {
        let t = text.replacingOccurrences(of: "_", with: "").lowercased()
        let (digits, radix): (Substring, Int) =
            t.hasPrefix("0x") ? (t.dropFirst(2), 16) : t.hasPrefix("0b") ? (t.dropFirst(2), 2)
            : t.hasPrefix("0o") ? (t.dropFirst(2), 8) : (Substring(t), 10)
        guard !digits.isEmpty, let v = UInt64(digits, radix: radix) else {
            throw ValidationError("\(name) '\(text)' is not a number (use decimal, 0x… hex, 0b… binary)")
        }
        return v
    }

    /// Parses an offset and checks it is non-negative and fits in an Int.
    public static func offset(_ text: String, name: String = "offset") throws -> Int {
        let v = try unsigned(text, name: name)
        guard v <= UInt64(Int.max) else { throw ValidationError("\(name) '\(text)' is too large") }
        return Int(v)
    }

    /// Parses a size with an optional K, M or G suffix (powers of two): `4K`, `64M`, `0x1000`.
    public static func size(_ text: String, name: String = "size") throws -> Int {
        var t = text.uppercased()
        var multiplier: UInt64 = 1
        for (suffix, m) in [("KIB", 1 << 10), ("MIB", 1 << 20), ("GIB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)]
        where t.hasSuffix(suffix) && !t.hasPrefix("0X") {
            t.removeLast(suffix.count)
            multiplier = UInt64(m)
            break
        }
        let v = try unsigned(t, name: name)
        let (r, overflow) = v.multipliedReportingOverflow(by: multiplier)
        guard !overflow, r <= UInt64(Int.max) else { throw ValidationError("\(name) '\(text)' is too large") }
        return Int(r)
    }

    /// Parses an access width given in bits (8, 16, 32, 64).
    public static func width(_ bits: Int) throws -> AccessWidth {
        guard let w = AccessWidth(bits: bits) else {
            throw ValidationError("--width must be 8, 16, 32 or 64 (bits), not \(bits)")
        }
        return w
    }

    /// Parses a value and checks it fits `width`.
    public static func value(_ text: String, width: AccessWidth) throws -> UInt64 {
        let v = try unsigned(text, name: "value")
        guard v <= width.mask else {
            throw ValidationError("value \(text) does not fit in \(width.bits) bits (max 0x\(String(width.mask, radix: 16)))")
        }
        return v
    }
}

/// Formats a value as `0x` plus zero-padded hex digits for `width`.
public func hexString(_ v: UInt64, width: AccessWidth) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, width.bytes * 2 - s.count)) + s
}

/// Formats `v` as hex padded to `digits`.
public func hexDigits<T: BinaryInteger>(_ v: T, _ digits: Int) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}

import Foundation
