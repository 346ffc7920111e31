import ArgumentParser
import Foundation
import Busmaster
import DiagSupport
import XilinxXDMA

/// Which directions a sweep measures.
enum PerfDirections: String, CaseIterable, Codable, ExpressibleByArgument {
    /// Host to card only.
    case h2c
    /// Card to host only.
    case c2h
    /// Both, one after the other (memory-mapped) or at the same time (stream loopback).
    case both
}

/// A throughput sweep over transfer sizes (4 KiB … 64 MiB doubling by default), each size
/// measured after untimed warm-up transfers.
///
/// Memory-mapped: H2C writes then C2H reads at `cardAddress`, each timed alone. Stream: each
/// iteration sends and receives through the loopback at once (both must be measured).
struct PerfSweep {
    /// Smallest transfer.
    var minimum = 4 << 10
    /// Largest transfer.
    var maximum = 64 << 20
    /// Timed transfers per size; nil chooses per size (see ``automaticIterations(for:)``).
    var iterations: Int?
    /// Engine channel.
    var channel = 0
    /// Card address (memory-mapped).
    var cardAddress: UInt64 = 0
    /// Whether the user gave `--address`.
    var addressGiven = false
    /// Directions to measure.
    var directions: PerfDirections = .both

    /// Bytes each size should move per direction when iterations are chosen automatically.
    static let automaticBytesPerSize = 256 << 20
    /// Bounds of the automatic iteration count.
    static let automaticIterationRange = 8...1024
    /// Untimed transfers before each size's timed ones (first-touch page faults, cold caches).
    static let warmUpTransfers = 2

    /// Iterations for `size` when not given: enough to move 256 MiB, at least 8, at most 1024.
    static func automaticIterations(for size: Int) -> Int {
        min(max(automaticBytesPerSize / size, automaticIterationRange.lowerBound), automaticIterationRange.upperBound)
    }

    /// The sizes: `minimum` doubling up to `maximum` (which is included even when not a doubling).
    var sizes: [Int] {
        var out: [Int] = []
        var s = minimum
        while s < maximum {
            out.append(s)
            s *= 2
        }
        out.append(maximum)
        return out
    }

    /// Runs the sweep; `row` is called after each size with the report so far (for printing as it goes).
    func run(on c: XDMAConnection, progress: Progress, row: (PerfPoint, PerfReport) -> Void = { _, _ in }) throws -> PerfReport {
        let h2c = try c.engine(.h2c, channel: channel)
        let c2h = try c.engine(.c2h, channel: channel)
        let kind = h2c.kind
        if kind == .stream {
            guard c2h.kind == .stream else { throw XDMADiagError.invalidInput("H2C\(channel) is a stream engine but C2H\(channel) is not") }
            guard directions == .both else {
                throw XDMADiagError.invalidInput("stream engines are measured through the loopback: --direction must be both")
            }
        }
        for engine in [h2c, c2h] where directions == .both || engine.direction.rawValue == directions.rawValue {
            try TransferLimits.check(engine: engine, address: cardAddress, size: maximum, cardMemory: c.cardMemory, addressGiven: addressGiven)
            try TransferLimits.check(engine: engine, address: cardAddress, size: minimum, cardMemory: c.cardMemory, addressGiven: addressGiven)
        }
        let out = try c.allocate(maximum, .toDevice)
        defer { out.free() }
        let back = try c.allocate(maximum, .fromDevice)
        defer { back.free() }
        DataPattern.random(seed: 1).fill(out.bytes)
        let timeout = c.options.timeoutDuration
        let options = XDMATransferOptions(timeout: timeout)
        let list = sizes
        var report = PerfReport(
            device: c.pci.address.description, channel: channel, interface: kind.description, completion: c.completionDescription,
            cardAddress: kind == .memoryMapped ? cardAddress : nil, points: [])
        for (index, size) in list.enumerated() {
            let n = iterations ?? Self.automaticIterations(for: size)
            let label = "perf \(index + 1)/\(list.count): \(Format.size(size))"
            var point = PerfPoint(size: size, iterations: n)
            switch kind {
            case .memoryMapped:
                if directions != .c2h {
                    point.h2c = try measure(n, label: "\(label) H2C", progress: progress) {
                        try h2c.write(out, range: 0..<size, to: cardAddress, options: options).bytes
                    }
                }
                if directions != .h2c {
                    point.c2h = try measure(n, label: "\(label) C2H", progress: progress) {
                        try c2h.read(into: back, range: 0..<size, from: cardAddress, options: options).bytes
                    }
                }
            case .stream:
                let receiver = BackgroundTask(name: "xdma-diag-perf-c2h") { () throws -> DirectionStatistics in
                    var s = DirectionStatistics()
                    for i in 0..<(n + Self.warmUpTransfers) {
                        let (r, t) = try timed { try c2h.receive(into: back, range: 0..<size, options: options) }
                        if i >= Self.warmUpTransfers { s.add(bytes: r.bytesReceived, nanoseconds: t) }
                    }
                    return s
                }
                point.h2c = try measure(n, label: "\(label) H2C+C2H", progress: progress) {
                    try h2c.send(out, range: 0..<size, options: options).bytes
                }
                point.c2h = try receiver.wait(timeout: timeout * (n + Self.warmUpTransfers) + .seconds(1), what: "the C2H\(channel) receives")
            }
            report.points.append(point)
            row(point, report)
        }
        progress.finish()
        return report
    }

    /// ``warmUpTransfers`` untimed calls, then `n` timed ones.
    private func measure(_ n: Int, label: String, progress: Progress, _ body: () throws -> Int) throws -> DirectionStatistics {
        for _ in 0..<Self.warmUpTransfers { _ = try body() }
        var s = DirectionStatistics()
        for i in 1...n {
            let (bytes, t) = try timed(body)
            s.add(bytes: bytes, nanoseconds: t)
            progress.step(label, i, of: n)
        }
        return s
    }
}
