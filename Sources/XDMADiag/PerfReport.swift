import Foundation

/// One size of a sweep.
struct PerfPoint: Codable {
    /// Bytes per transfer.
    var size: Int
    /// Timed transfers per direction.
    var iterations: Int
    /// Host-to-card timing.
    var h2c: DirectionStatistics?
    /// Card-to-host timing.
    var c2h: DirectionStatistics?
}

/// A whole sweep.
struct PerfReport: Codable {
    /// PCI address.
    var device: String
    /// Engine channel.
    var channel: Int
    /// `MM` or `ST`.
    var interface: String
    /// How completion was detected.
    var completion: String
    /// Card address (memory-mapped).
    var cardAddress: UInt64?
    /// Results by size.
    var points: [PerfPoint]

    /// The table heading.
    static let header = "\(Format.column("size", 10))  \(Format.column("iterations", 10))  \(Format.column("H2C MB/s", 12))  \(Format.column("C2H MB/s", 12))"

    /// One table row.
    static func row(_ p: PerfPoint) -> String {
        func rate(_ s: DirectionStatistics?) -> String { s.map { String(format: "%.2f", $0.megabytesPerSecond) } ?? "-" }
        return "\(Format.column(Format.size(p.size), 10))  \(Format.column(String(p.iterations), 10))  "
            + "\(Format.column(rate(p.h2c), 12))  \(Format.column(rate(p.c2h), 12))"
    }

    /// The title line.
    var title: String {
        "throughput of channel \(channel) (\(interface), \(completion)) on \(device)"
            + (cardAddress.map { " at card address 0x\(String($0, radix: 16))" } ?? "") + "; MB/s = bytes*1000/ns"
    }
}
