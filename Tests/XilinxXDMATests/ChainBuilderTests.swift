import Busmaster
import Testing

@testable import XilinxXDMA

/// A ring over ordinary memory with a chosen bus address, for builder tests.
final class TestRing {
    let memory: UnsafeMutableRawPointer
    let ring: XDMADescriptorRing

    init(capacity: Int, busAddress: UInt64 = 0x1_0000_0000) {
        memory = .allocate(byteCount: capacity * 32, alignment: 4096)
        memory.initializeMemory(as: UInt8.self, repeating: 0xCC, count: capacity * 32)
        ring = XDMADescriptorRing(base: memory, busAddress: busAddress, capacity: capacity)
    }

    deinit { memory.deallocate() }

    func descriptor(_ slot: Int) -> XDMADescriptor { ring.descriptor(at: slot) }

    /// Walks the chain the way the engine fetches it (§3.2): first block = 1 + start
    /// adjacency at the first address; then the last fetched descriptor's Nxt_adr/Nxt_adj.
    /// Returns the fetched bus addresses in order and checks each block on the way.
    func walk(_ chain: XDMAChain, limit: Int = 1 << 22) -> [UInt64] {
        var out: [UInt64] = []
        var address = chain.firstBusAddress
        var extra = chain.startAdjacency
        while out.count < limit {
            let blockStart = address
            let blockEnd = address + UInt64((extra + 1) * 32)
            if extra > 63 { Issue.record("a block holds at most 64 descriptors (got \(extra + 1))"); break }
            if blockStart / 4096 != (blockEnd - 1) / 4096 {
                Issue.record("block at \(hex(blockStart)) with \(extra) extra crosses a 4 KiB boundary")
            }
            var last: XDMADescriptor?
            for k in 0...extra {
                let a = blockStart + UInt64(k * 32)
                guard a >= ring.busAddress, a < ring.busAddress + UInt64(ring.capacity * 32) else {
                    Issue.record("fetch at \(hex(a)) outside the ring")
                    return out
                }
                let d = descriptor(Int((a - ring.busAddress) / 32))
                if !d.hasValidMagic { Issue.record("descriptor at \(hex(a)) lacks the magic") }
                if k < extra && d.flags.contains(.stop) { Issue.record("Stop inside a block at \(hex(a))") }
                out.append(a)
                last = d
            }
            guard let l = last, !l.flags.contains(.stop) else { break }
            address = l.next
            extra = l.nextAdjacent
        }
        return out
    }
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

@Suite struct AdjacencyTests {
    @Test func formulaMatchesTheSheet() {
        // extra(B, n) = min(n - 1, 63 - ((B >> 5) & 63)).
        #expect(XDMAAdjacency.extra(address: 0x1000, contiguous: 1) == 0)
        #expect(XDMAAdjacency.extra(address: 0x1000, contiguous: 100) == 63)
        #expect(XDMAAdjacency.extra(address: 0x1000, contiguous: 10) == 9)
        #expect(XDMAAdjacency.extra(address: 0x1FE0, contiguous: 100) == 0)
        #expect(XDMAAdjacency.extra(address: 0x17E0, contiguous: 100) == 0, "the 2 KiB line is never crossed")
        #expect(XDMAAdjacency.extra(address: 0x1020, contiguous: 100) == 62)
        #expect(XDMAAdjacency.extra(address: 0x1800, contiguous: 64) == 63)
    }

    @Test func blocksNeverCrossFourKiBForAnyAlignment() {
        for slot in 0..<256 {
            let b = UInt64(0x7_0000_0000 + slot * 32)
            for n in [1, 2, 31, 63, 64, 65, 200] {
                let e = XDMAAdjacency.extra(address: b, contiguous: n)
                #expect(e >= 0 && e <= min(n - 1, 63))
                let end = b + UInt64((e + 1) * 32) - 1
                #expect(b / 4096 == end / 4096)
                #expect(b / 2048 == end / 2048)
            }
        }
    }

    @Test func chainBlocksWalkEveryDescriptorInOrder() throws {
        let r = TestRing(capacity: 1000)
        let segments = (0..<700).map { DMASegment(busAddress: 0x2_0000_0000 + UInt64($0) * 0x10000, length: 4096, bufferOffset: $0 * 4096) }
        let chain = try XDMAChainBuilder(ring: r.ring).buildSingleChain(segments: segments, kind: .h2cMemoryMapped, cardAddress: 0)
        #expect(chain.descriptorCount == 700)
        #expect(chain.startAdjacency == 63)
        let fetched = r.walk(chain)
        #expect(fetched == (0..<700).map { r.ring.busAddress(ofSlot: $0) })
    }

    @Test func ringWrapBreaksTheAdjacentRun() throws {
        // Start near the end of a 256-slot ring: the chain wraps to slot 0, and no block may
        // run past the ring's end even where the bus address continues.
        let r = TestRing(capacity: 256, busAddress: 0x40_0000)
        let segments = (0..<40).map { DMASegment(busAddress: 0x9000_0000 + UInt64($0) * 4096, length: 4096, bufferOffset: $0 * 4096) }
        let chain = try XDMAChainBuilder(ring: r.ring).buildSingleChain(segments: segments, kind: .h2cStream, startSlot: 240)
        #expect(chain.firstSlot == 240 && chain.descriptorCount == 40)
        #expect(chain.startAdjacency == 15, "only 16 descriptors remain before the wrap")
        let last = r.descriptor(255)
        #expect(last.next == r.ring.busAddress(ofSlot: 0))
        #expect(last.nextAdjacent == 23, "24 descriptors follow from slot 0")
        let fetched = r.walk(chain)
        #expect(fetched == ((240..<256).map { r.ring.busAddress(ofSlot: $0) } + (0..<24).map { r.ring.busAddress(ofSlot: $0) }))
    }

    @Test func unalignedRingStillKeepsBlocksInsideLines() throws {
        // A ring that starts 32 bytes before a 2 KiB line.
        let r = TestRing(capacity: 300, busAddress: 0x80_07E0)
        let segments = [DMASegment(busAddress: 0x1000, length: 300 * 64, bufferOffset: 0)]
        var b = XDMAChainBuilder(ring: r.ring)
        b.maxDescriptorLength = 64
        let chain = try b.buildSingleChain(segments: segments, kind: .c2hMemoryMapped, cardAddress: 0)
        #expect(chain.startAdjacency == 0)
        #expect(r.walk(chain).count == 300)
    }
}

@Suite struct ChainBuilderTests {
    @Test func memoryMappedH2CFieldsAndFlags() throws {
        let r = TestRing(capacity: 16)
        let segments = [
            DMASegment(busAddress: 0x10_0000_0100, length: 0xF00, bufferOffset: 0),
            DMASegment(busAddress: 0x20_0000_0000, length: 0x1000, bufferOffset: 0xF00),
            DMASegment(busAddress: 0x30_0000_0000, length: 0x10, bufferOffset: 0x1F00),
        ]
        let chain = try XDMAChainBuilder(ring: r.ring).buildSingleChain(segments: segments, kind: .h2cMemoryMapped, cardAddress: 0x8000)
        #expect(chain.descriptorCount == 3 && chain.byteCount == 0x1F10)
        let d = (0..<3).map(r.descriptor)
        #expect(d.map(\.source) == [0x10_0000_0100, 0x20_0000_0000, 0x30_0000_0000])
        #expect(d.map(\.destination) == [0x8000, 0x8F00, 0x9F00], "the card address advances per chunk")
        #expect(d.map(\.length) == [0xF00, 0x1000, 0x10])
        #expect(d[0].flags == [] && d[1].flags == [])
        #expect(d[2].flags == [.stop, .completed], "Stop|Completed on the last, no EOP for MM")
        #expect(d[0].next == r.ring.busAddress(ofSlot: 1) && d[1].next == r.ring.busAddress(ofSlot: 2) && d[2].next == 0)
        #expect(d[0].nextAdjacent == 1 && d[1].nextAdjacent == 0 && d[2].nextAdjacent == 0)
        #expect(chain.startAdjacency == 2)
    }

    @Test func c2hMemoryMappedSwapsSourceAndDestination() throws {
        let r = TestRing(capacity: 4)
        let chain = try XDMAChainBuilder(ring: r.ring).buildSingleChain(
            segments: [DMASegment(busAddress: 0x5000, length: 100, bufferOffset: 0)], kind: .c2hMemoryMapped, cardAddress: 0xABC)
        #expect(chain.descriptorCount == 1)
        #expect(r.descriptor(0).source == 0xABC && r.descriptor(0).destination == 0x5000)
    }

    @Test func lengthsSplitAtThe28BitLimitKeepingPageAlignment() throws {
        // 1 GiB + 5 bytes contiguous: chunks of 0x0FFFF000, the rest in the last.
        let r = TestRing(capacity: 16)
        let total = (1 << 30) + 5
        let chain = try XDMAChainBuilder(ring: r.ring).buildSingleChain(
            segments: [DMASegment(busAddress: 0x1_0000_0000, length: total, bufferOffset: 0)], kind: .h2cMemoryMapped,
            cardAddress: 0x4000_0000)
        let lengths = (0..<chain.descriptorCount).map { Int(r.descriptor($0).length) }
        #expect(lengths.dropLast().allSatisfy { $0 == 0x0FFF_F000 })
        #expect(lengths.reduce(0, +) == total)
        #expect(lengths.allSatisfy { $0 <= XDMADescriptor.maxLength })
        #expect(chain.descriptorCount == 5)
        for i in 0..<chain.descriptorCount {
            let d = r.descriptor(i)
            #expect(d.source == 0x1_0000_0000 + UInt64(i * 0x0FFF_F000))
            #expect(d.destination == 0x4000_0000 + UInt64(i * 0x0FFF_F000))
            #expect(d.source % 4096 == 0)
        }
        // The absolute 28-bit maximum also works as a limit.
        var b = XDMAChainBuilder(ring: r.ring)
        b.maxDescriptorLength = XDMADescriptor.maxLength
        let c2 = try b.buildSingleChain(segments: [DMASegment(busAddress: 0, length: 0x1000_0000, bufferOffset: 0)], kind: .h2cStream)
        #expect(c2.descriptorCount == 2)
        #expect(r.descriptor(0).length == 0x0FFF_FFFF && r.descriptor(1).length == 1)
    }

    @Test func nonIncrementingModeKeepsTheCardAddress() throws {
        let r = TestRing(capacity: 8)
        let segs = (0..<3).map { DMASegment(busAddress: 0x9000 + UInt64($0) * 0x2000, length: 4096, bufferOffset: $0 * 4096) }
        let chain = try XDMAChainBuilder(ring: r.ring).buildSingleChain(segments: segs, kind: .h2cMemoryMapped, cardAddress: 0x40, nonIncrementing: true)
        #expect((0..<chain.descriptorCount).allSatisfy { r.descriptor($0).destination == 0x40 })
    }

    @Test func h2cStreamPutsEOPAtEveryPacketEnd() throws {
        let r = TestRing(capacity: 16)
        let segs = [
            DMASegment(busAddress: 0xA000, length: 4096, bufferOffset: 0),
            DMASegment(busAddress: 0xC000, length: 4096, bufferOffset: 4096),
        ]
        // Packets of 100, 5000 (spans both segments) and 3092 bytes.
        let chain = try XDMAChainBuilder(ring: r.ring).buildSingleChain(segments: segs, kind: .h2cStream, packetLengths: [100, 5000, 3092])
        let d = (0..<chain.descriptorCount).map(r.descriptor)
        #expect(d.map(\.length) == [100, 3996, 1004, 3092])
        #expect(d.map { $0.flags.contains(.endOfPacket) } == [true, false, true, true])
        #expect(d.allSatisfy { $0.destination == 0 }, "H2C stream destination is written as 0")
        #expect(d.last!.flags == [.stop, .completed, .endOfPacket])
        // One packet: EOP only on the last descriptor.
        let one = try XDMAChainBuilder(ring: r.ring).buildSingleChain(segments: segs, kind: .h2cStream)
        #expect((0..<one.descriptorCount).map { r.descriptor($0).flags.contains(.endOfPacket) } == [false, true])
    }

    @Test func c2hStreamSourcesAreTheResultSlots() throws {
        let r = TestRing(capacity: 8, busAddress: 0x7000_0000)
        let segs = (0..<3).map { DMASegment(busAddress: 0x1_0000 * UInt64($0 + 1), length: 4096, bufferOffset: $0 * 4096) }
        let chain = try XDMAChainBuilder(ring: r.ring).buildSingleChain(segments: segs, kind: .c2hStream, resultSlots: 0x6000_0000)
        for i in 0..<chain.descriptorCount {
            let d = r.descriptor(i)
            #expect(d.source == 0x6000_0000 + UInt64(i * 32), "descriptor \(i) result slot")
            #expect(d.destination == segs[i].busAddress)
            #expect(!d.flags.contains(.endOfPacket))
        }
    }

    @Test func c2hStreamResultSlotsFollowTheRingAcrossAWrap() throws {
        let r = TestRing(capacity: 8, busAddress: 0x7000_0000)
        let segs = (0..<6).map { DMASegment(busAddress: 0x1_0000 * UInt64($0 + 1), length: 4096, bufferOffset: $0 * 4096) }
        let chain = try XDMAChainBuilder(ring: r.ring).buildSingleChain(segments: segs, kind: .c2hStream, resultSlots: 0x6000_0000, startSlot: 5)
        #expect(chain.descriptorCount == 6)
        for (i, slot) in [5, 6, 7, 0, 1, 2].enumerated() {
            #expect(r.descriptor(slot).source == 0x6000_0000 + UInt64(slot * 32), "result slot parallels descriptor slot \(slot)")
            #expect(r.descriptor(slot).destination == segs[i].busAddress)
        }
        #expect(r.descriptor(7).next == r.ring.busAddress(ofSlot: 0))
        #expect(r.walk(chain).count == 6)
    }

    @Test func c2hStreamChunksStayMultiplesOf64() throws {
        let r = TestRing(capacity: 8)
        var b = XDMAChainBuilder(ring: r.ring)
        b.maxDescriptorLength = 1000
        let chain = try b.buildSingleChain(segments: [DMASegment(busAddress: 0, length: 4096, bufferOffset: 0)], kind: .c2hStream)
        let lengths = (0..<chain.descriptorCount).map { Int(r.descriptor($0).length) }
        #expect(lengths.allSatisfy { $0 % 64 == 0 })
        #expect(lengths.reduce(0, +) == 4096)
    }

    @Test func transfersLargerThanTheRingRunAsSeveralChains() {
        let r = TestRing(capacity: 64)
        let segs = (0..<150).map { DMASegment(busAddress: UInt64($0) * 0x10000, length: 4096, bufferOffset: $0 * 4096) }
        var chains: [XDMAChain] = []
        segs.withUnsafeBufferPointer { p in
            let source = XDMAChainSource(segments: p, length: 150 * 4096 - 100, kind: .h2cMemoryMapped, cardAddress: 0x100)
            var progress = XDMAChainProgress(start: source)
            let builder = XDMAChainBuilder(ring: r.ring)
            while let c = builder.build(source, progress: &progress) {
                // Each chain must be complete on its own: Stop|Completed on its last descriptor.
                #expect(r.descriptor(c.descriptorCount - 1).flags == [.stop, .completed])
                #expect(r.descriptor(c.descriptorCount - 1).next == 0)
                if c.transferOffset > 0 {
                    #expect(r.descriptor(0).destination == 0x100 + UInt64(c.transferOffset))
                }
                chains.append(c)
            }
        }
        #expect(chains.map(\.descriptorCount) == [64, 64, 22])
        #expect(chains.map(\.transferOffset) == [0, 64 * 4096, 128 * 4096])
        #expect(chains.map(\.byteCount).reduce(0, +) == 150 * 4096 - 100)
    }

    @Test func skipAndLengthClipTheSegments() {
        let r = TestRing(capacity: 8)
        let segs = [DMASegment(busAddress: 0x1000, length: 4096, bufferOffset: 0), DMASegment(busAddress: 0x8000, length: 4096, bufferOffset: 4096)]
        segs.withUnsafeBufferPointer { p in
            let source = XDMAChainSource(segments: p, skip: 4000, length: 200, kind: .h2cMemoryMapped, cardAddress: 0)
            var progress = XDMAChainProgress(start: source)
            let c = XDMAChainBuilder(ring: r.ring).build(source, progress: &progress)
            #expect(c?.descriptorCount == 2)
            #expect(r.descriptor(0).source == 0x1000 + 4000 && r.descriptor(0).length == 96)
            #expect(r.descriptor(1).source == 0x8000 && r.descriptor(1).length == 104)
        }
    }

    @Test func ringTotalLengthSumsCompletedDescriptors() throws {
        let r = TestRing(capacity: 8)
        let segs = [100, 200, 300].enumerated().map { DMASegment(busAddress: UInt64($0.offset) << 20, length: $0.element, bufferOffset: 0) }
        _ = try XDMAChainBuilder(ring: r.ring).buildSingleChain(segments: segs, kind: .h2cMemoryMapped)
        #expect(r.ring.totalLength(fromSlot: 0, count: 0) == 0)
        #expect(r.ring.totalLength(fromSlot: 0, count: 2) == 300)
        #expect(r.ring.totalLength(fromSlot: 0, count: 3) == 600)
    }

    @Test func ringTooSmallForASingleChainIsAnError() {
        let r = TestRing(capacity: 2)
        let segs = (0..<3).map { DMASegment(busAddress: UInt64($0) << 20, length: 64, bufferOffset: $0 * 64) }
        #expect(throws: XDMAError.self) { try XDMAChainBuilder(ring: r.ring).buildSingleChain(segments: segs, kind: .h2cMemoryMapped) }
    }
}

/// Random segment lists, ring sizes, start slots and chunk limits: every chain must walk
/// correctly (§3.2) and together the chains must describe exactly the requested bytes.
@Suite struct ChainBuilderPropertyTests {
    @Test(arguments: [XDMAChainKind.h2cMemoryMapped, .c2hMemoryMapped, .h2cStream, .c2hStream])
    func randomChainsDescribeExactlyTheRequestedBytes(_ kind: XDMAChainKind) {
        var rng = SplitMix64(seed: 0x5EED + UInt64(kind.hashValue & 0xFF))
        for round in 0..<60 {
            let cap = Int.random(in: 2...300, using: &rng)
            let ringBus = UInt64.random(in: 1...0xFFFF, using: &rng) * 32
            let r = TestRing(capacity: cap, busAddress: ringBus)
            let unit = kind == .c2hStream ? 64 : 1
            let segCount = Int.random(in: 1...120, using: &rng)
            var segs: [DMASegment] = []
            var offset = 0
            for j in 0..<segCount {
                let len = Int.random(in: 1...40, using: &rng) * unit * (Bool.random(using: &rng) ? 1 : 64)
                segs.append(DMASegment(busAddress: UInt64(j + 1) << 32 | UInt64.random(in: 0...0xFFFF, using: &rng) * 64, length: len, bufferOffset: offset))
                offset += len
            }
            let skip = kind == .c2hStream ? 0 : Int.random(in: 0..<segs[0].length, using: &rng)
            let total = kind == .c2hStream ? offset : Int.random(in: 1...(offset - skip), using: &rng)
            var builder = XDMAChainBuilder(ring: r.ring)
            builder.maxDescriptorLength = [64, 100, 4096, 0x0FFF_F000].randomElement(using: &rng)!
            var pieces: [(UInt64, Int)] = []
            var cardSeen: [UInt64] = []
            var startSlot = Int.random(in: 0..<cap, using: &rng)
            segs.withUnsafeBufferPointer { p in
                let source = XDMAChainSource(segments: p, skip: skip, length: total, kind: kind, cardAddress: 0x4000_0000, resultSlots: 0x9000_0000)
                var progress = XDMAChainProgress(start: source)
                var chains = 0
                while let chain = builder.build(source, progress: &progress, startSlot: startSlot) {
                    chains += 1
                    #expect(chain.descriptorCount <= cap)
                    let fetched = r.walk(chain)
                    #expect(fetched.count == chain.descriptorCount, "round \(round): walk covers the chain")
                    var bytes = 0
                    var bad = 0
                    let limit = builder.chunkLimit(for: kind)
                    for (n, address) in fetched.enumerated() {
                        let d = r.descriptor(Int((address - ringBus) / 32))
                        let last = n == fetched.count - 1
                        if d.flags.contains(.stop) != last || d.flags.contains(.completed) != last { bad += 1 }
                        if d.length == 0 || Int(d.length) > limit { bad += 1 }
                        switch kind {
                        case .h2cMemoryMapped: pieces.append((d.source, Int(d.length))); cardSeen.append(d.destination)
                        case .c2hMemoryMapped: pieces.append((d.destination, Int(d.length))); cardSeen.append(d.source)
                        case .h2cStream: pieces.append((d.source, Int(d.length))); if d.destination != 0 { bad += 1 }
                        case .c2hStream:
                            pieces.append((d.destination, Int(d.length)))
                            if d.source != 0x9000_0000 + (address - ringBus) || d.length % 64 != 0 { bad += 1 }
                        }
                        bytes += Int(d.length)
                    }
                    #expect(bad == 0, "round \(round): flags, lengths and addresses per descriptor")
                    #expect(bytes == chain.byteCount)
                    startSlot = Int.random(in: 0..<cap, using: &rng)
                }
                #expect(progress.isComplete(source))
                #expect(chains >= (pieces.count + cap - 1) / cap)
            }
            // The pieces, in order, cover exactly [skip, skip + total) of the segments' bytes.
            var expected: [(UInt64, Int)] = []
            var want = total
            var o = skip
            for s in segs where want > 0 {
                if o >= s.length { o -= s.length; continue }
                let n = min(s.length - o, want)
                expected.append((s.busAddress + UInt64(o), n))
                want -= n
                o = 0
            }
            // Segments never touch each other (distinct high address bits), so merging contiguous
            // pieces reconstructs the per-segment ranges.
            var flat: [(UInt64, Int)] = []
            for (a, n) in pieces {
                if let l = flat.last, l.0 + UInt64(l.1) == a { flat[flat.count - 1].1 += n } else { flat.append((a, n)) }
            }
            #expect(flat.map(\.0) == expected.map(\.0) && flat.map(\.1) == expected.map(\.1), "round \(round): bytes described exactly once, in order")
            if kind.engineKind == .memoryMapped {
                var card: UInt64 = 0x4000_0000
                var wrong = 0
                for (i, c) in cardSeen.enumerated() {
                    if c != card { wrong += 1 }
                    card += UInt64(pieces[i].1)
                }
                #expect(wrong == 0, "round \(round): the card address advances with the data")
            }
        }
    }
}
