import Busmaster
import BusmasterSimulation
import XilinxXDMA

#if canImport(Glibc)
    import Glibc
#endif

/// Row 7: cost growth of chain building and of a whole transfer for 1 … 262 144 descriptors
/// (one per scattered 4 KiB page). Linear means the cost per descriptor stays flat.
enum GrowthBench {
    static func run(runs: Int) throws -> Row {
        let maxPages = 262_144
        let counts = stride(from: 0, through: 18, by: 2).map { 1 << $0 }
        var buildPerDesc: [Int: Double] = [:]
        let f = ChainBuildBench.Fixture(count: maxPages)
        for n in counts {
            let g = ChainBuildBench.Fixture(count: n)
            let reps = max(1, 65_536 / n)
            let s = Sample.of(runs, unit: "ns") { timeNanos { for _ in 0..<reps { blackHole(g.buildSwift()) } } / Double(reps) }
            buildPerDesc[n] = s.median / Double(n)
        }
        _ = f
        // Whole transfers through the driver (validate, build, start, complete) on the instant
        // probe device, whose own work is timed and taken out: the driver's growth alone.
        let probe = InstantXDMABackend()
        let pci = PCIDevice(backend: probe)
        let xdma = try XDMADevice.open(pci, options: XDMAOptions(cardMemorySize: UInt64(maxPages) * 4096, descriptorsPerEngine: maxPages))
        defer {
            xdma.close()
            pci.close()
        }
        let h2c = try xdma.engine(.h2c, channel: 0)
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: maxPages * 4096, alignment: 4096)
        defer { memory.deallocate() }
        let buffer = try pci.lockDMABuffer(memory, direction: .toDevice)
        defer { buffer.free() }
        let clockCost = Sample.of(runs, unit: "ns") { timeNanos { for _ in 0..<100_000 { blackHole(monotonicNanos()) } } / 100_000 }.median
        var transferPerDesc: [Int: Double] = [:]
        for n in counts {
            let reps = max(1, 65_536 / n)
            let s = try Sample.of(runs, unit: "ns") {
                probe.deviceNanos = 0
                probe.idleCalls = 0
                let t = try timeNanos { for _ in 0..<reps { _ = try h2c.write(buffer, range: 0..<(n * 4096), to: 0) } }
                return (t - Double(probe.deviceNanos) - clockCost * Double(probe.idleCalls)) / Double(reps)
            }
            transferPerDesc[n] = s.median / Double(n)
        }
        // For reference: the same transfers on the behavioural model, where moving the data
        // dominates (cache-resident up to a few MiB, DRAM speed beyond).
        var modelNotes: [String] = []
        do {
            let board = try XDMABoard(cardMemory: maxPages * 4096, descriptorsPerEngine: maxPages)
            defer { board.close() }
            let engine = try board.xdma.engine(.h2c, channel: 0)
            let m = UnsafeMutableRawBufferPointer.allocate(byteCount: maxPages * 4096, alignment: 4096)
            defer { m.deallocate() }
            memset(m.baseAddress!, 0x3C, m.count)
            let b = try board.pci.lockDMABuffer(m, direction: .toDevice)
            defer { b.free() }
            for n in [1, 64, 4096, 262_144] {
                let reps = max(1, 4096 / n)
                let s = try Sample.of(max(3, runs / 2), unit: "ns") {
                    try timeNanos { for _ in 0..<reps { _ = try engine.write(b, range: 0..<(n * 4096), to: 0) } } / Double(reps)
                }
                modelNotes.append(String(format: "model, %d pages: %.0f ns/page", n, s.median / Double(n)))
            }
        }
        var measurements: [String: Sample] = [:]
        for n in counts {
            let key = String(repeating: " ", count: 6 - String(n).count) + String(n)
            measurements["build \(key)"] = Sample(median: buildPerDesc[n]!, min: buildPerDesc[n]!, max: buildPerDesc[n]!, unit: "ns/descriptor")
            measurements["transfer \(key)"] = Sample(median: transferPerDesc[n]!, min: transferPerDesc[n]!, max: transferPerDesc[n]!, unit: "ns/descriptor (driver)")
        }
        // Flatness over the range where fixed costs no longer dominate (≥ 1024 descriptors).
        func spread(_ d: [Int: Double]) -> Double {
            let v = d.filter { $0.key >= 1024 }.map(\.value)
            return v.max()! / v.min()!
        }
        let b = spread(buildPerDesc)
        let t = spread(transferPerDesc)
        return Row(
            id: 7, what: "cost growth, chain build and transfer, 1 … 262 144 descriptors",
            measurements: measurements, ratio: max(b, t), ratioDefinition: "max/min cost per descriptor for n ≥ 1024",
            target: "linear (per-descriptor cost flat: spread ≤ 2×)", met: max(b, t) <= 2.0,
            notes: [String(format: "build spread %.2f×, transfer spread %.2f× (driver, device time excluded)", b, t)] + modelNotes)
    }
}
