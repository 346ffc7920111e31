import Busmaster
import DiagSupport
import Foundation

/// Text helpers for sizes, durations and throughput in xdma-diag's output.
enum Format {
    /// `4 KiB`, `64 MiB`, `1 GiB` for exact binary multiples; otherwise the byte count.
    static func size(_ bytes: Int) -> String {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) B"
    }

    /// A compact size for axis labels: `4K`, `64M`, `1G`, `512`.
    static func shortSize(_ bytes: Int) -> String {
        for (unit, shift) in [("G", 30), ("M", 20), ("K", 10)] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }

    /// Seconds with microsecond resolution.
    static func seconds(_ nanoseconds: UInt64) -> String {
        String(format: "%.6f s", Double(nanoseconds) / 1e9)
    }

    /// MB/s with two decimals.
    static func rate(_ megabytesPerSecond: Double) -> String {
        String(format: "%.2f MB/s", megabytesPerSecond)
    }

    /// A number right-aligned in `width` columns.
    static func column(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// 32-bit hex with a 0x prefix and 8 digits.
    static func hex32(_ value: UInt64) -> String { "0x" + hexDigits(value, 8) }
}
