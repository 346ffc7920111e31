import Foundation

/// Printing for diag tools: plain text or JSON (sorted keys, pretty), and errors to stderr.
public enum DiagOutput {
    /// Prints `value` as pretty JSON with sorted keys.
    public static func json<T: Encodable>(_ value: T) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try enc.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Writes a line to standard error.
    public static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Throughput in MB/s (10^6 bytes per second, the figure AMD's tools print), from bytes and
/// nanoseconds measured with a monotonic clock.
public func megabytesPerSecond(bytes: Int, nanoseconds: UInt64) -> Double {
    guard nanoseconds > 0 else { return 0 }
    return Double(bytes) * 1000.0 / Double(nanoseconds)
}
