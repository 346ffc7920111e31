import Busmaster
import DiagSupport

/// Timing of the transfers of one direction, summed over iterations. Each transfer is timed
/// around the driver call with the monotonic clock (as AMD's tools time their read/write calls).
struct DirectionStatistics: Codable, Equatable {
    /// Transfers timed.
    var transfers = 0
    /// Bytes they moved.
    var bytes = 0
    /// Nanoseconds they took, summed.
    var nanoseconds: UInt64 = 0
    /// The fastest transfer.
    var minimumNanoseconds: UInt64 = 0
    /// The slowest transfer.
    var maximumNanoseconds: UInt64 = 0

    /// Adds one transfer.
    mutating func add(bytes n: Int, nanoseconds t: UInt64) {
        minimumNanoseconds = transfers == 0 ? t : min(minimumNanoseconds, t)
        maximumNanoseconds = max(maximumNanoseconds, t)
        transfers += 1
        bytes += n
        nanoseconds += t
    }

    /// bytes × 1000 / ns: MB/s (10^6 bytes per second), AMD's "BW".
    var megabytesPerSecond: Double { DiagSupport.megabytesPerSecond(bytes: bytes, nanoseconds: nanoseconds) }

    /// Average nanoseconds per transfer.
    var averageNanoseconds: Double { transfers == 0 ? 0 : Double(nanoseconds) / Double(transfers) }

    enum CodingKeys: String, CodingKey {
        case transfers, bytes, nanoseconds, minimumNanoseconds, maximumNanoseconds, megabytesPerSecond, averageNanoseconds
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        transfers = try c.decode(Int.self, forKey: .transfers)
        bytes = try c.decode(Int.self, forKey: .bytes)
        nanoseconds = try c.decode(UInt64.self, forKey: .nanoseconds)
        minimumNanoseconds = try c.decode(UInt64.self, forKey: .minimumNanoseconds)
        maximumNanoseconds = try c.decode(UInt64.self, forKey: .maximumNanoseconds)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(transfers, forKey: .transfers)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(nanoseconds, forKey: .nanoseconds)
        try c.encode(minimumNanoseconds, forKey: .minimumNanoseconds)
        try c.encode(maximumNanoseconds, forKey: .maximumNanoseconds)
        try c.encode((megabytesPerSecond * 100).rounded() / 100, forKey: .megabytesPerSecond)
        try c.encode(averageNanoseconds.rounded(), forKey: .averageNanoseconds)
    }
}

/// Times `body` with the monotonic clock; returns its result and the nanoseconds it took.
@inline(__always)
func timed<T>(_ body: () throws -> T) rethrows -> (T, UInt64) {
    let start = monotonicNanos()
    let r = try body()
    return (r, monotonicNanos() &- start)
}
