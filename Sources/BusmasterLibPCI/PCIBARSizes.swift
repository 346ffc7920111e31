import Busmaster

#if canImport(Glibc)
    import Glibc
#endif

/// BAR sizes for a config-space dump, kept in a sidecar file because a dump cannot hold
/// them (sizes come from writing all-ones to the BARs, which a dump never saw).
///
/// Format, one BAR per line (`#` starts a comment, blank lines are ignored):
/// ```
/// # address       BAR   size
/// 0000:03:00.0    0     512
/// 03:00.0         2     1M
/// 0001:02:00.0    4     0x10000000
/// ```
/// Sizes are decimal, `0x` hexadecimal, or decimal with a `K`, `M`, `G` or `T` suffix
/// (powers of 1024), and must be powers of two (as BAR sizes are).
public struct PCIBARSizes: Sendable, Hashable {
    /// One line of the file.
    public struct Entry: Sendable, Hashable {
        /// The device.
        public var address: PCIAddress
        /// BAR index 0–5.
        public var bar: Int
        /// Size in bytes (a power of two).
        public var size: UInt64
        /// 1-based line number (0 when not from a file).
        public var line: Int
    }

    /// The entries in file order.
    public var entries: [Entry]
    /// The file's path (for messages).
    public var path: String

    /// Sizes by device and BAR index.
    public var sizes: [PCIAddress: [Int: UInt64]] {
        var out: [PCIAddress: [Int: UInt64]] = [:]
        for e in entries { out[e.address, default: [:]][e.bar] = e.size }
        return out
    }

    /// An empty table.
    public init() {
        entries = []
        path = ""
    }

    /// The sidecar path for a dump: `card.dump` → `card.bars`, `card.txt` → `card.txt.bars`.
    public static func sidecarPath(forDump path: String) -> String {
        path.hasSuffix(".dump") ? String(path.dropLast(5)) + ".bars" : path + ".bars"
    }

    /// Reads a sidecar file.
    public init(contentsOf path: String) throws {
        guard let f = fopen(path, "r") else {
            throw LibPCIError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n == 0 { break }
            text += chunk[0..<n]
        }
        try self.init(text: String(decoding: text, as: UTF8.self), path: path)
    }

    /// Parses sidecar text; `path` names it in messages.
    public init(text: String, path: String) throws {
        var entries: [Entry] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            func fail(_ m: String) -> LibPCIError { .malformed(path: path, line: n + 1, message: m) }
            guard fields.count == 3 else { throw fail("expected `<address> <BAR 0-5> <size>`, found \(fields.count) fields") }
            guard let address = PCIAddress(String(fields[0])) else { throw fail("'\(fields[0])' is not a PCI address (bb:dd.f or dddd:bb:dd.f)") }
            guard let bar = Int(fields[1]), (0...5).contains(bar) else { throw fail("BAR index '\(fields[1])' must be 0-5") }
            guard let size = Self.parseSize(String(fields[2])), size > 0, size & (size - 1) == 0 else {
                throw fail("size '\(fields[2])' must be a power of two: decimal, 0x hex, or with K/M/G/T")
            }
            if let first = entries.first(where: { $0.address == address && $0.bar == bar }) {
                throw fail("BAR \(bar) of \(address) is given twice (first at line \(first.line))")
            }
            entries.append(Entry(address: address, bar: bar, size: size, line: n + 1))
        }
        self.entries = entries
        self.path = path
    }

    /// Parses `512`, `0x200`, `4K`, `1M`, `2G`, `1T`.
    public static func parseSize(_ s: String) -> UInt64? {
        if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if let last = s.last, let unit = units[Character(last.uppercased())] {
            guard let v = UInt64(s.dropLast()) else { return nil }
            let (r, o) = v.multipliedReportingOverflow(by: unit)
            return o ? nil : r
        }
        return UInt64(s)
    }
}
