import Busmaster
import CBenchBaselines
import CBusmasterSupport

/// Row 1: register read/write through the core API on a memory-backed region, against a raw
/// volatile pointer loop in Swift and the same loop in C.
enum RegisterAccessBench {
    static func run(runs: Int) -> Row {
        let words = 1024
        let rounds = 20_000
        let ops = Double(words * rounds * 2)
        let mem = UnsafeMutableRawPointer.allocate(byteCount: words * 4, alignment: 4096)
        defer { mem.deallocate() }
        let region = MMIORegion(bar: 0, mapping: mem, size: words * 4)

        let api = Sample.of(runs, unit: "ns/access") { timeNanos { blackHole(apiLoop(region, words, rounds)) } / ops }
        let raw = Sample.of(runs, unit: "ns/access") { timeNanos { blackHole(rawLoop(mem, words, rounds)) } / ops }
        let c = Sample.of(runs, unit: "ns/access") { timeNanos { blackHole(bench_c_mmio_rw(mem, words, rounds)) } / ops }
        let ratio = api.median / c.median
        return Row(
            id: 1, what: "register read/write through MMIORegion (memory-backed)",
            measurements: ["core API": api, "raw volatile pointer (Swift)": raw, "C loop": c],
            ratio: ratio, ratioDefinition: "core API / C loop", target: "≤ 1.10× C", met: ratio <= 1.10, notes: [])
    }

    /// A register sweep as a driver writes one: offsets walk the region by the access width.
    @inline(never)
    static func apiLoop(_ r: MMIORegion, _ words: Int, _ rounds: Int) -> UInt64 {
        var sum: UInt64 = 0
        let last = r.size &- 4
        for round in 0..<rounds {
            var off = 0
            var value = UInt32(truncatingIfNeeded: round)
            while off <= last {
                r.write32(value, at: off)
                sum &+= UInt64(r.read32(at: off))
                off &+= 4
                value &+= 1
            }
        }
        return sum
    }

    @inline(never)
    static func rawLoop(_ p: UnsafeMutableRawPointer, _ words: Int, _ rounds: Int) -> UInt64 {
        var sum: UInt64 = 0
        for round in 0..<rounds {
            for i in 0..<words {
                bm_mmio_write32(p + 4 * i, UInt32(truncatingIfNeeded: i &+ round))
                sum &+= UInt64(bm_mmio_read32(p + 4 * i))
            }
        }
        return sum
    }
}
