import Busmaster
import Foundation

/// One measured quantity: the median of several runs with min and max.
struct Sample: Codable {
    var median: Double
    var min: Double
    var max: Double
    var unit: String

    /// Runs `body` `runs` times; `body` returns one measurement.
    static func of(_ runs: Int, unit: String, _ body: () throws -> Double) rethrows -> Sample {
        var v: [Double] = []
        for _ in 0..<runs { v.append(try body()) }
        v.sort()
        return Sample(median: v[v.count / 2], min: v.first!, max: v.last!, unit: unit)
    }

    var text: String { String(format: "%.3g %@ (%.3g–%.3g)", median, unit, min, max) }
}

/// One row of the report.
struct Row: Codable {
    var id: Int
    var what: String
    var measurements: [String: Sample]
    var ratio: Double?
    var ratioDefinition: String
    var target: String
    var met: Bool?
    var notes: [String]
}

/// Nanoseconds taken by `body`.
@inline(never)
func timeNanos(_ body: () throws -> Void) rethrows -> Double {
    let t0 = monotonicNanos()
    try body()
    return Double(monotonicNanos() - t0)
}

/// Thread CPU time in nanoseconds.
func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Keeps a value alive and opaque to the optimiser.
@inline(never)
func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }
