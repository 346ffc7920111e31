import Busmaster
import CBenchBaselines
import XilinxXDMA

#if canImport(Glibc)
    import Glibc
#endif

/// Rows 2 and 7 (build part): building the XDMA descriptor chain for scattered 4 KiB pages.
enum ChainBuildBench {
    /// Memory for `count` pages' worth of descriptors and the page list, reused across runs.
    final class Fixture {
        let count: Int
        let ring: UnsafeMutableRawPointer
        let ringC: UnsafeMutableRawPointer
        let ringBus: UInt64 = 0x2_0000_0000
        var segments: [DMASegment]
        var elements: [bench_sg_element]

        init(count: Int) {
            self.count = count
            ring = UnsafeMutableRawPointer.allocate(byteCount: count * 32, alignment: 4096)
            ringC = UnsafeMutableRawPointer.allocate(byteCount: count * 32, alignment: 4096)
            memset(ring, 0, count * 32)
            memset(ringC, 0, count * 32)
            // Pages scattered in bus space (every other page), as pinned user memory would be.
            segments = (0..<count).map { DMASegment(busAddress: 0x1_0000_0000 + UInt64($0) * 8192, length: 4096, bufferOffset: $0 * 4096) }
            elements = segments.map { bench_sg_element(bus: $0.busAddress, length: Int64($0.length), buffer_offset: Int64($0.bufferOffset)) }
        }

        deinit {
            ring.deallocate()
            ringC.deallocate()
        }

        /// Builds with the driver's chain builder; returns the descriptor count.
        @inline(never)
        func buildSwift() -> Int {
            let builder = XDMAChainBuilder(ring: XDMADescriptorRing(base: ring, busAddress: ringBus, capacity: count))
            return segments.withUnsafeBufferPointer { segs in
                let source = XDMAChainSource(segments: segs, length: count * 4096, kind: .h2cMemoryMapped, cardAddress: 0)
                var progress = XDMAChainProgress(start: source)
                return builder.build(source, progress: &progress)?.descriptorCount ?? 0
            }
        }

        @inline(never)
        func buildC() -> UInt32 {
            elements.withUnsafeBufferPointer { bench_c_xdma_chain(ringC, ringBus, $0.baseAddress, count, 0) }
        }

        /// Whether the two builders produced byte-identical descriptors.
        var identical: Bool { memcmp(ring, ringC, count * 32) == 0 }
    }

    static func run(runs: Int) -> Row {
        let f = Fixture(count: 262_144)
        let n = f.buildSwift()
        _ = f.buildC()
        let identical = f.identical
        let swift = Sample.of(runs, unit: "ms") { timeNanos { blackHole(f.buildSwift()) } / 1e6 }
        let c = Sample.of(runs, unit: "ms") { timeNanos { blackHole(f.buildC()) } / 1e6 }
        let set = Sample.of(runs, unit: "ms") { timeNanos { memset(f.ringC, 0x5A, f.count * 32) } / 1e6 }
        let ratio = swift.median / c.median
        return Row(
            id: 2, what: "XDMA descriptor chain for 1 GiB of 4 KiB pages (262 144 descriptors, 8 MiB)",
            measurements: ["Swift driver builder": swift, "same algorithm in C (same 24-byte segment input)": c, "memset of 8 MiB": set],
            ratio: ratio, ratioDefinition: "Swift / C", target: "≤ 1.25× C", met: ratio <= 1.25,
            notes: ["\(n) descriptors; output \(identical ? "byte-identical to" : "differs from") the C builder",
                    String(format: "Swift / memset = %.2f×", swift.median / set.median)])
    }
}
