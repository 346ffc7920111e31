import Foundation
import Busmaster
import DiagSupport
import XilinxXDMA

/// One `to-device` or `from-device` run: `count` transfers of `size` bytes between a host
/// buffer (at `hostOffset` in its first page) and the card (at `cardAddress` for
/// memory-mapped engines), timed like AMD's `dma_to_device`/`dma_from_device`.
struct TransferJob {
    /// H2C (to the card) or C2H (from the card).
    var direction: XDMADirection
    /// Engine channel 0–3.
    var channel = 0
    /// Card address (memory-mapped engines).
    var cardAddress: UInt64 = 0
    /// Whether the user gave `--address` (stream engines refuse it).
    var addressGiven = false
    /// Bytes per transfer.
    var size: Int
    /// Transfers.
    var count = 1
    /// Offset of the data in the host buffer's first page (0–4095).
    var hostOffset = 0
    /// H2C: what to send. C2H: what to expect with `verify`.
    var data: DataSource?
    /// C2H: compare every transfer with `data`. H2C: read the data back through the same
    /// channel's C2H engine afterwards and compare.
    var verify = false
    /// C2H stream: end each receive at the first end of packet (`dma_from_device -e`).
    var stopAtEndOfPacket = false
    /// C2H: file receiving the last transfer's data. H2C: file receiving the data read back
    /// through the same channel's C2H engine (a round trip file → card → file).
    var outputPath: String?

    /// Runs the job on `c`; throws before touching the device when the request is invalid.
    func run(on c: XDMAConnection, progress: Progress) throws -> TransferReport {
        let engine = try c.engine(direction, channel: channel)
        try TransferLimits.check(engine: engine, address: cardAddress, size: size, cardMemory: c.cardMemory, addressGiven: addressGiven)
        if stopAtEndOfPacket && !(engine.kind == .stream && direction == .c2h) {
            throw XDMADiagError.invalidInput("--eop applies to C2H stream engines only (\(engine.id) is \(engine.kind))")
        }
        var readBack: XDMAEngine? = nil
        if (verify || outputPath != nil) && direction == .h2c {
            guard engine.kind == .memoryMapped else {
                throw XDMADiagError.invalidInput(
                    "--verify/--output on \(engine.id) read the data back, which needs memory-mapped engines; use 'loopback' for streams")
            }
            readBack = try c.engine(.c2h, channel: channel)
            guard readBack?.kind == .memoryMapped else {
                throw XDMADiagError.invalidInput("--verify reads back through C2H\(channel), which is not memory-mapped")
            }
        }
        if verify && direction == .c2h && data == nil {
            throw XDMADiagError.invalidInput("--verify needs the expected data: --pattern or --expect FILE")
        }

        let buffer = try c.allocate(hostOffset + size, direction == .h2c ? .toDevice : .fromDevice)
        defer { buffer.free() }
        let view = UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[hostOffset..<(hostOffset + size)])
        let range = hostOffset..<(hostOffset + size)
        var expected: [UInt8] = []
        if direction == .h2c {
            data?.fill(view)
        } else if verify, let data {
            expected = data.bytes(size)
        }
        let options = XDMATransferOptions(timeout: c.options.timeoutDuration, stopAtEndOfPacket: stopAtEndOfPacket)
        var stats = DirectionStatistics()
        var received: [Int] = []
        var lastLength = size
        let label = "\(engine.id) \(Format.size(size))"
        for i in 1...count {
            if direction == .c2h && verify { poison(view, against: expected) }
            let (moved, ns) = try timed { () throws -> Int in
                switch (direction, engine.kind) {
                case (.h2c, .memoryMapped): return try engine.write(buffer, range: range, to: cardAddress, options: options).bytes
                case (.h2c, .stream): return try engine.send(buffer, range: range, options: options).bytes
                case (.c2h, .memoryMapped): return try engine.read(into: buffer, range: range, from: cardAddress, options: options).bytes
                case (.c2h, .stream): return try engine.receive(into: buffer, range: range, options: options).bytesReceived
                }
            }
            stats.add(bytes: moved, nanoseconds: ns)
            lastLength = moved
            if engine.kind == .stream && direction == .c2h { received.append(moved) }
            if direction == .c2h && verify {
                let got = UnsafeRawBufferPointer(rebasing: view[0..<moved])
                let mismatch = expected.withUnsafeBytes { DataCompare.compare(got, UnsafeRawBufferPointer(rebasing: $0[0..<moved]), iteration: i) }
                if let m = mismatch { throw XDMADiagError.verifyFailed(m) }
            }
            progress.step(label, i, of: count)
        }
        progress.finish()

        var verified: Bool? = verify ? true : nil
        if let readBack {
            let back = try c.allocate(size, .fromDevice)
            defer { back.free() }
            let sent = UnsafeRawBufferPointer(view)
            DataCompare.fillComplement(back.bytes, of: sent)
            try readBack.read(into: back, from: cardAddress, options: options)
            if let path = outputPath { try Files.write(UnsafeRawBufferPointer(back.bytes), to: path) }
            if verify {
                if let m = DataCompare.compare(UnsafeRawBufferPointer(back.bytes), sent, iteration: count) {
                    throw XDMADiagError.verifyFailed(m)
                }
                verified = true
            }
        } else if let path = outputPath {
            try Files.write(UnsafeRawBufferPointer(rebasing: view[0..<lastLength]), to: path)
        }
        let preview = direction == .c2h ? [UInt8](UnsafeRawBufferPointer(rebasing: view[0..<min(lastLength, TransferReport.previewLength)])) : nil
        return TransferReport(
            device: c.pci.address.description, engine: engine.id.description, interface: engine.kind.description,
            completion: c.completionDescription, cardAddress: engine.kind == .memoryMapped ? cardAddress : nil, size: size, count: count,
            hostOffset: hostOffset, data: data?.description, statistics: stats, verified: verified,
            bytesReceived: received.isEmpty ? nil : received, output: outputPath, firstBytes: preview)
    }

    /// Overwrites `target` with the complement of what is expected, so a transfer that
    /// writes nothing can never pass the comparison.
    private func poison(_ target: UnsafeMutableRawBufferPointer, against expected: [UInt8]) {
        guard !expected.isEmpty else {
            target.initializeMemory(as: UInt8.self, repeating: 0xA5)
            return
        }
        expected.withUnsafeBytes { DataCompare.fillComplement(target, of: UnsafeRawBufferPointer(rebasing: $0[0..<target.count])) }
    }
}
