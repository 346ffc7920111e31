import Busmaster
import DiagSupport
import XilinxXDMA

/// The loopback test: data goes to the card and comes back, and is compared.
///
/// Memory-mapped engines: H2C writes the data to card memory at `cardAddress`, C2H reads it
/// back. Stream engines: C2H receives on a second thread while H2C sends, through the
/// design's stream loopback (H2C n → C2H n). Each direction is timed on its own.
struct LoopbackTest {
    /// Channel of both engines.
    var channel = 0
    /// Card address (memory-mapped).
    var cardAddress: UInt64 = 0
    /// Whether the user gave `--address`.
    var addressGiven = false
    /// Bytes per round trip.
    var size: Int
    /// Round trips.
    var count = 1
    /// The data.
    var pattern: DataPattern = .random(seed: 1)

    /// Runs the test; a mismatch throws ``XDMADiagError/verifyFailed(_:)``.
    func run(on c: XDMAConnection, progress: Progress) throws -> LoopbackReport {
        let h2c = try c.engine(.h2c, channel: channel)
        let c2h = try c.engine(.c2h, channel: channel)
        guard h2c.kind == c2h.kind else {
            throw XDMADiagError.invalidInput("H2C\(channel) is \(h2c.kind) but C2H\(channel) is \(c2h.kind); loopback needs two of a kind")
        }
        try TransferLimits.check(engine: h2c, address: cardAddress, size: size, cardMemory: c.cardMemory, addressGiven: addressGiven)
        try TransferLimits.check(engine: c2h, address: cardAddress, size: size, cardMemory: c.cardMemory, addressGiven: addressGiven)
        try pattern.check(size: size)

        let out = try c.allocate(size, .toDevice)
        defer { out.free() }
        let back = try c.allocate(size, .fromDevice)
        defer { back.free() }
        pattern.fill(out.bytes)
        let expected = UnsafeRawBufferPointer(out.bytes)
        let timeout = c.options.timeoutDuration
        let options = XDMATransferOptions(timeout: timeout)
        var up = DirectionStatistics()
        var down = DirectionStatistics()
        for i in 1...count {
            // The complement of the data, so a transfer that delivers nothing cannot pass.
            DataCompare.fillComplement(back.bytes, of: expected)
            switch h2c.kind {
            case .memoryMapped:
                let (_, tw) = try timed { try h2c.write(out, to: cardAddress, options: options) }
                up.add(bytes: size, nanoseconds: tw)
                let (_, tr) = try timed { try c2h.read(into: back, from: cardAddress, options: options) }
                down.add(bytes: size, nanoseconds: tr)
            case .stream:
                let receiver = BackgroundTask(name: "xdma-diag-c2h") { () throws -> (Int, UInt64) in
                    let (r, t) = try timed { try c2h.receive(into: back, options: options) }
                    return (r.bytesReceived, t)
                }
                let (_, tw) = try timed { try h2c.send(out, options: options) }
                up.add(bytes: size, nanoseconds: tw)
                let (n, tr) = try receiver.wait(timeout: timeout + .seconds(1), what: "the C2H\(channel) receive")
                down.add(bytes: n, nanoseconds: tr)
                guard n == size else {
                    throw XDMADiagError.verifyFailed(
                        VerifyMismatch(differingBytes: size - n, firstOffset: n, expected: expected[n], actual: back.bytes[n], iteration: i))
                }
            }
            if let m = DataCompare.compare(UnsafeRawBufferPointer(back.bytes), expected, iteration: i) { throw XDMADiagError.verifyFailed(m) }
            progress.step("loopback \(Format.size(size))", i, of: count)
        }
        progress.finish()
        return LoopbackReport(
            device: c.pci.address.description, engines: "\(h2c.id) -> \(c2h.id)", interface: h2c.kind.description,
            completion: c.completionDescription, cardAddress: h2c.kind == .memoryMapped ? cardAddress : nil, size: size, count: count,
            pattern: pattern.description, verified: true, h2c: up, c2h: down)
    }
}

/// What a loopback run did.
struct LoopbackReport: Codable {
    /// PCI address.
    var device: String
    /// `H2C0 -> C2H0`.
    var engines: String
    /// `MM` or `ST`.
    var interface: String
    /// How completion was detected.
    var completion: String
    /// Card address (memory-mapped).
    var cardAddress: UInt64?
    /// Bytes per round trip.
    var size: Int
    /// Round trips.
    var count: Int
    /// The data.
    var pattern: String
    /// Whether every round trip compared equal.
    var verified: Bool
    /// Host-to-card timing.
    var h2c: DirectionStatistics
    /// Card-to-host timing.
    var c2h: DirectionStatistics

    /// Human-readable summary.
    var text: String {
        var out = "loopback \(engines) (\(interface), \(completion))"
        if let a = cardAddress { out += " through card memory at 0x\(String(a, radix: 16))" } else { out += " through the stream loopback" }
        out += ": \(count) x \(Format.size(size)), pattern \(pattern)\n"
        out += "  H2C: \(h2c.bytes) bytes in \(Format.seconds(h2c.nanoseconds)): \(Format.rate(h2c.megabytesPerSecond))\n"
        out += "  C2H: \(c2h.bytes) bytes in \(Format.seconds(c2h.nanoseconds)): \(Format.rate(c2h.megabytesPerSecond))\n"
        out += "  data verified: \(count) of \(count) round trip(s) match"
        return out
    }
}
