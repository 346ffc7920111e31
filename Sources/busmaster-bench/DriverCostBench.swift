import Busmaster
import BusmasterSimulation
import XilinxXDMA

#if canImport(Glibc)
    import Glibc
#endif

/// Row 4: the driver's CPU cost per 4 KiB poll-mode transfer, with model time excluded, against
/// memcpy of 4 KiB. Runs stepped (single-threaded): the device only runs inside the driver's
/// register accesses and `idle()` calls, which the meter times and subtracts.
enum DriverCostBench {
    static func run(runs: Int) throws -> Row {
        var meter: ModelTimeMeter?
        let board = try XDMABoard(mode: .stepped, cardMemory: 1 << 20) { device in
            try device.rewrapped { inner in
                let m = ModelTimeMeter(inner)
                meter = m
                return m
            }
        }
        defer { board.close() }
        let m = meter!
        let h2c = try board.xdma.engine(.h2c, channel: 0)
        let buffer = try board.pci.allocateDMABuffer(size: 4096, direction: .toDevice)
        defer { buffer.free() }
        let transfers = 20_000
        for _ in 0..<1000 { _ = try h2c.write(buffer, to: 0) }  // warm up
        var accessesPerTransfer = 0.0
        let driver = try Sample.of(runs, unit: "ns/transfer") {
            m.modelNanos = 0
            m.registerAccesses = 0
            let total = try timeNanos { for _ in 0..<transfers { _ = try h2c.write(buffer, to: 0) } }
            accessesPerTransfer = Double(m.registerAccesses) / Double(transfers)
            return (total - Double(m.modelNanos)) / Double(transfers)
        }
        let src = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        let dst = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer {
            src.deallocate()
            dst.deallocate()
        }
        memset(src, 1, 4096)
        let copy = Sample.of(runs, unit: "ns/copy") {
            timeNanos { for _ in 0..<transfers { memcpy(dst, src, 4096); blackHole(dst) } } / Double(transfers)
        }
        let ratio = driver.median / copy.median
        return Row(
            id: 4, what: "driver CPU per 4 KiB transfer, poll mode, model time excluded",
            measurements: ["driver (excl. model)": driver, "memcpy 4 KiB": copy],
            ratio: ratio, ratioDefinition: "driver / memcpy", target: "≤ 1.0×", met: ratio <= 1.0,
            notes: [String(format: "%.1f register accesses per transfer (all writes in poll mode; timed as device time)", accessesPerTransfer)])
    }
}
