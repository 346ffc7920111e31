import Busmaster
import BusmasterSimulation
import XilinxXDMA

#if canImport(Glibc)
    import Glibc
#endif

/// Row 3: simulated XDMA memory-mapped throughput H2C and C2H, 4 KiB … 64 MiB, against memcpy
/// of the same size in the same run.
enum ThroughputBench {
    static func run(runs: Int) throws -> Row {
        let board = try XDMABoard(cardMemory: 128 << 20)
        defer { board.close() }
        let h2c = try board.xdma.engine(.h2c, channel: 0)
        let c2h = try board.xdma.engine(.c2h, channel: 0)
        let maxSize = 64 << 20
        let buffer = try board.pci.allocateDMABuffer(size: maxSize, direction: .bidirectional)
        let other = UnsafeMutableRawPointer.allocate(byteCount: maxSize, alignment: 4096)
        defer {
            buffer.free()
            other.deallocate()
        }
        memset(buffer.bytes.baseAddress!, 0xA5, maxSize)
        memset(other, 0x5A, maxSize)
        var measurements: [String: Sample] = [:]
        var worst = Double.infinity
        var notes: [String] = []
        var size = 4096
        while size <= maxSize {
            let iterations = max(2, min(2000, (256 << 20) / size))
            let s = size
            let memcpySample = Sample.of(runs, unit: "MB/s") {
                let ns = timeNanos { for _ in 0..<iterations { memcpy(other, buffer.bytes.baseAddress!, s) } }
                return Double(s * iterations) * 1000 / ns
            }
            let h = try Sample.of(runs, unit: "MB/s") {
                let ns = try timeNanos { for _ in 0..<iterations { _ = try h2c.write(buffer, range: 0..<s, to: 0) } }
                return Double(s * iterations) * 1000 / ns
            }
            let c = try Sample.of(runs, unit: "MB/s") {
                let ns = try timeNanos { for _ in 0..<iterations { _ = try c2h.read(into: buffer, range: 0..<s, from: 0) } }
                return Double(s * iterations) * 1000 / ns
            }
            let label = formatSize(UInt64(size))
            measurements["\(pad(label)) H2C"] = h
            measurements["\(pad(label)) C2H"] = c
            measurements["\(pad(label)) memcpy"] = memcpySample
            let rh = h.median / memcpySample.median
            let rc = c.median / memcpySample.median
            notes.append(String(format: "%@: H2C %.2f×, C2H %.2f× memcpy", label, rh, rc))
            if size >= 1 << 20 { worst = min(worst, rh, rc) }
            size *= 2
        }
        return Row(
            id: 3, what: "simulated XDMA MM throughput (poll mode), 4 KiB … 64 MiB",
            measurements: measurements, ratio: worst, ratioDefinition: "worst of H2C/C2H ÷ memcpy at ≥ 1 MiB",
            target: "≥ 0.7× memcpy at ≥ 1 MiB", met: worst >= 0.7, notes: notes)
    }

    static func pad(_ s: String) -> String { String(repeating: " ", count: max(0, 4 - s.count)) + s }
}
