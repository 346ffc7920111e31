import DiagSupport
import Foundation

/// What a `to-device`/`from-device` run did.
struct TransferReport: Codable {
    /// PCI address.
    var device: String
    /// `H2C0`, `C2H1`, …
    var engine: String
    /// `MM` or `ST`.
    var interface: String
    /// How completion was detected.
    var completion: String
    /// Card address (memory-mapped only).
    var cardAddress: UInt64?
    /// Bytes per transfer.
    var size: Int
    /// Transfers.
    var count: Int
    /// Host buffer page offset.
    var hostOffset: Int
    /// What was sent or expected.
    var data: String?
    /// Timing.
    var statistics: DirectionStatistics
    /// Whether the data was verified (nil: not checked).
    var verified: Bool?
    /// C2H stream: bytes each receive delivered.
    var bytesReceived: [Int]?
    /// C2H: the output file.
    var output: String?
    /// C2H: the first bytes of the last transfer (up to ``previewLength``).
    var firstBytes: [UInt8]?

    /// How many received bytes the report shows.
    static let previewLength = 64

    /// Text in the spirit of AMD's tools, ending with their `** Average BW = size, MB/s` line.
    var text: String {
        let toCard = engine.hasPrefix("H2C")
        var out = "\(engine) (\(interface), \(completion)): \(count) transfer(s) of \(size) bytes "
        let host = "host buffer offset \(hostOffset)"
        if let a = cardAddress {
            out += toCard ? "from \(host) to card address 0x\(String(a, radix: 16))\n" : "from card address 0x\(String(a, radix: 16)) to \(host)\n"
        } else {
            out += toCard ? "sent from \(host)\n" : "received into \(host)\n"
        }
        if let d = data { out += "  data: \(d)\n" }
        if let r = bytesReceived { out += "  bytes received per transfer: \(r.count <= 8 ? r.map(String.init).joined(separator: ", ") : "\(r.prefix(8).map(String.init).joined(separator: ", ")), …")\n" }
        out += "  \(statistics.bytes) bytes in \(Format.seconds(statistics.nanoseconds)) "
        out += "(average \(Format.seconds(UInt64(statistics.averageNanoseconds.rounded()))) per transfer): \(Format.rate(statistics.megabytesPerSecond))\n"
        if let b = firstBytes, !b.isEmpty {
            out += "  first \(b.count) bytes received:\n"
            out += HexDump.format(b).split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
        }
        if verified == true { out += toCard ? "  verify: OK, the data read back matches\n" : "  verify: OK, data matches\n" }
        if let o = output { out += toCard ? "  data read back written to \(o)\n" : "  data written to \(o)\n" }
        out += "** Average BW = \(size), \(String(format: "%f", statistics.megabytesPerSecond))"
        return out
    }
}
