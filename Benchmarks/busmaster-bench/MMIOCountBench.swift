import Busmaster
import BusmasterSimulation
import XilinxXDMA

/// Row 6: register reads and writes per transfer by completion mode, counted from traces.
enum MMIOCountBench {
    static func run() throws -> Row {
        var notes: [String] = []
        var measurements: [String: Sample] = [:]
        var pollReads = Double.nan
        var msixReads = Double.nan
        for (name, completion, kinds) in [
            ("poll", XDMACompletionMode.poll, [InterruptKind]()), ("MSI-X", .interrupt, [.msix]), ("MSI", .interrupt, [.msi]),
            ("INTx", .interrupt, [.intx]),
        ] {
            var recorder: TracingBackend?
            let board = try XDMABoard(completion: completion, interrupts: kinds) { device in
                let (d, r) = try TraceRecorder.recordInMemory(device)
                recorder = r
                return d
            }
            let h2c = try board.xdma.engine(.h2c, channel: 0)
            let buffer = try board.pci.allocateDMABuffer(size: 64 << 10, direction: .toDevice)
            let transfers = 20
            _ = try h2c.write(buffer, to: 0)
            let before = count(recorder!.recordedTrace!)
            for _ in 0..<transfers { _ = try h2c.write(buffer, to: 0) }
            let after = count(recorder!.recordedTrace!)
            let reads = Double(after.reads - before.reads) / Double(transfers)
            let writes = Double(after.writes - before.writes) / Double(transfers)
            measurements["\(name) reads"] = Sample(median: reads, min: reads, max: reads, unit: "per transfer")
            measurements["\(name) writes"] = Sample(median: writes, min: writes, max: writes, unit: "per transfer")
            notes.append(String(format: "%@: %.1f reads, %.1f writes per transfer", name, reads, writes))
            if name == "poll" { pollReads = reads }
            if name == "MSI-X" { msixReads = reads }
            buffer.free()
            board.close()
        }
        return Row(
            id: 6, what: "MMIO accesses per transfer by completion mode (from recorded traces)",
            measurements: measurements, ratio: nil, ratioDefinition: "counts", target: "0 reads poll mode, ≤ 1 IRQ mode (MSI-X)",
            met: pollReads == 0 && msixReads <= 1, notes: notes + ["INTx and shared MSI need the 0x2044 request read as well, as the sheet says"])
    }

    static func count(_ t: Trace) -> (reads: Int, writes: Int) {
        var r = 0
        var w = 0
        for e in t.events {
            switch e {
            case .read: r += e.repeatCount
            case .write: w += 1
            default: break
            }
        }
        return (r, w)
    }
}
