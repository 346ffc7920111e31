import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMAModel

/// Each injected fault ends in exactly the Status bits of the sheet's §4.7 catalogue.
@Suite("XDMA model: faults and the §4.7 error catalogue")
struct FaultTests {
    /// An address no mapping covers (the simulated IOMMU starts handing out at 1 MiB).
    static let unmapped: UInt64 = 0x8_0000

    /// Runs one Stop descriptor on H2C 0 (or C2H 0) with the recommended Control; returns Status.
    func runOne(_ b: Bench, c2h: Bool = false, _ d: Desc, control: UInt32? = nil, firstAt: UInt64? = nil) throws -> UInt32 {
        let ring = try b.buffer(4096)
        b.put(d, in: ring, at: 0)
        let base = c2h ? Sheet.c2h(0) : Sheet.h2c(0)
        b.setFirst(sgdma: c2h ? Sheet.c2hSGDMA(0) : Sheet.h2cSGDMA(0), firstAt ?? ring.busAddress())
        b.write(base + Sheet.control, control ?? (c2h ? Sheet.c2hControl : Sheet.h2cControl))
        b.settle()
        return b.read(base + Sheet.status)
    }

    @Test("Bad magic in the k-th fetched descriptor: magic_stopped (bit 4), the count stops before it")
    func badMagic() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        let r = ring.busAddress()
        for i in 0..<3 {
            b.put(Desc(flags: i == 2 ? Sheet.stop : 0, length: 64, source: source.busAddress(), destination: UInt64(64 * i),
                       next: r + UInt64(32 * (i + 1))), in: ring, at: 32 * i)
        }
        try b.model.injectBadMagic(.h2c(0), atFetch: 2)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x10)
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 1)
        #expect(try b.model.state(of: .h2c(0)).phase == .error)
        // The fault fires once: the next run goes through.
        b.write(Sheet.h2c(0) + Sheet.controlW1C, Sheet.run)
        b.write(Sheet.h2c(0) + Sheet.controlW1S, Sheet.run)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 3)
    }

    @Test("Descriptor fetch from an unmapped address: UR (bit 19) + magic_stopped, as [FS] saw (0x00080010)")
    func fetchUnmapped() throws {
        let b = try Bench()
        let status = try runOne(b, Desc(length: 64, source: 0, destination: 0), firstAt: Self.unmapped)
        #expect(status == 0x0008_0010)
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 0)
        #expect(b.platform.dmaFaults.count == 1)
        #expect(b.platform.dmaFaults.first?.isRead == true)

        var c = XDMAModelConfiguration()
        c.fetchErrorSetsMagicStopped = false
        let plain = try Bench(c)
        #expect(try runOne(plain, Desc(length: 64, source: 0, destination: 0), firstAt: Self.unmapped) == 0x0008_0000)
    }

    @Test("Injected descriptor-fetch completion errors: CA 20, parity 21, EP 22, unexpected 23", arguments: [
        (XDMAModelBusError.completerAbort, UInt32(0x0010_0010)), (.parity, 0x0020_0010), (.poisoned, 0x0040_0010),
        (.unexpectedCompletion, 0x0080_0010),
    ])
    func fetchInjected(error: XDMAModelBusError, expected: UInt32) throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        b.model.faults.hostReadErrors = [.init(range: ring.busAddress()..<ring.busAddress() + 4096, error: error, dataReads: false)]
        b.put(Desc(flags: Sheet.stop, length: 64, source: 0, destination: 0), in: ring, at: 0)
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), ring.busAddress())
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl)
        b.settle()
        #expect(b.read(Sheet.c2h(0) + Sheet.status) == expected)
    }

    @Test("H2C data read from an unmapped host address: UR (bit 9), or CA (bit 10) by knob")
    func dataReadUnmapped() throws {
        let b = try Bench()
        #expect(try runOne(b, Desc(flags: Sheet.stop, length: 64, source: Self.unmapped, destination: 0)) == 0x200)
        var c = XDMAModelConfiguration()
        c.unmappedDataReadError = .completerAbort
        let ca = try Bench(c)
        #expect(try runOne(ca, Desc(flags: Sheet.stop, length: 64, source: Self.unmapped, destination: 0)) == 0x400)
    }

    @Test("Injected H2C read completion errors: parity 11, EP 12, unexpected 13", arguments: [
        (XDMAModelBusError.parity, UInt32(0x800)), (.poisoned, 0x1000), (.unexpectedCompletion, 0x2000), (.completerAbort, 0x400),
    ])
    func dataReadInjected(error: XDMAModelBusError, expected: UInt32) throws {
        let b = try Bench()
        let source = try b.buffer(4096, .toDevice)
        b.model.faults.hostReadErrors = [.init(range: source.busAddress()..<source.busAddress() + 4096, error: error, descriptorReads: false)]
        #expect(try runOne(b, Desc(flags: Sheet.stop, length: 64, source: source.busAddress(), destination: 0)) == expected)
    }

    @Test("AXI write past card memory: DECERR (bit 14); injected SLVERR (bit 15)")
    func axiWriteErrors() throws {
        var c = XDMAModelConfiguration()
        c.cardMemorySize = 64 << 10
        let b = try Bench(c)
        let source = try b.buffer(4096, .toDevice)
        #expect(try runOne(b, Desc(flags: Sheet.stop, length: 256, source: source.busAddress(), destination: 0x1_0000 - 128)) == 0x4000)
        let s = try Bench(c)
        let src2 = try s.buffer(4096, .toDevice)
        s.model.faults.cardSlaveErrors = [.init(range: 0x800..<0x900, reads: false)]
        #expect(try runOne(s, Desc(flags: Sheet.stop, length: 256, source: src2.busAddress(), destination: 0x880)) == 0x8000)
    }

    @Test("AXI read past card memory on C2H: DECERR (bit 9); injected SLVERR (bit 10)")
    func axiReadErrors() throws {
        var c = XDMAModelConfiguration()
        c.cardMemorySize = 64 << 10
        let b = try Bench(c)
        let target = try b.buffer(4096, .fromDevice)
        #expect(try runOne(b, c2h: true, Desc(flags: Sheet.stop, length: 64, source: 0x1_0000, destination: target.busAddress())) == 0x200)
        let s = try Bench(c)
        let t2 = try s.buffer(4096, .fromDevice)
        s.model.faults.cardSlaveErrors = [.init(range: 0..<0x100, writes: false)]
        #expect(try runOne(s, c2h: true, Desc(flags: Sheet.stop, length: 64, source: 0x40, destination: t2.busAddress())) == 0x400)
    }

    @Test("Misaligned source / destination with address_alignment > 1: align_mismatch (bit 3)")
    func misalignment() throws {
        var c = XDMAModelConfiguration()
        c.alignments = 0x0040_4040  // 64-byte alignment and granularity
        let b = try Bench(c)
        #expect(b.read(Sheet.h2c(0) + Sheet.alignments) == 0x0040_4040)
        let source = try b.buffer(4096, .toDevice)
        #expect(try runOne(b, Desc(flags: Sheet.stop, length: 64, source: source.busAddress(at: 1), destination: 0x100)) == 0x8)
        let ok = try Bench(c)
        let s2 = try ok.buffer(4096, .toDevice)
        #expect(try runOne(ok, Desc(flags: Sheet.stop, length: 64, source: s2.busAddress(at: 3), destination: 0x103)) == 0x2)
    }

    @Test("Invalid length: C2H-ST not a multiple of 64 (bit 5); H2C-ST width rule only with its knob")
    func invalidLength() throws {
        let b = try Bench(.streamLoopback(channels: 1))
        let target = try b.buffer(4096, .fromDevice)
        let ring = try b.buffer(4096)
        #expect(try runOne(b, c2h: true, Desc(flags: Sheet.stop, length: 100, source: ring.busAddress(), destination: target.busAddress())) == 0x20)

        let lax = try Bench(.streamLoopback(channels: 1))
        let s1 = try lax.buffer(4096, .toDevice)
        #expect(try runOne(lax, Desc(flags: Sheet.stop | Sheet.eop, length: 33, source: s1.busAddress(), destination: 0)) == 0x2)
        var c = XDMAModelConfiguration.streamLoopback(channels: 1)
        c.h2cStreamRequiresWidthMultiple = true
        let strict = try Bench(c)
        let s2 = try strict.buffer(4096, .toDevice)
        #expect(try runOne(strict, Desc(flags: Sheet.stop | Sheet.eop, length: 33, source: s2.busAddress(), destination: 0)) == 0x20)
    }

    @Test("Stuck AXI side: busy stays 1 even after Run is cleared, until unstick")
    func stuckEngine() throws {
        let b = try Bench()
        let source = try b.buffer(4096, .toDevice)
        try b.model.stick(.h2c(0))
        #expect(try runOne(b, Desc(flags: Sheet.stop, length: 64, source: source.busAddress(), destination: 0)) == 0x1)
        b.write(Sheet.h2c(0) + Sheet.controlW1C, Sheet.run)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x1)  // the field symptom
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 0)
        #expect(try b.model.state(of: .h2c(0)).stuck)
        try b.model.unstick(.h2c(0))
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x40)
        // A timed stall releases by itself.
        try b.model.stick(.h2c(0), for: .milliseconds(1))
        b.write(Sheet.h2c(0) + Sheet.controlW1S, Sheet.run)
        b.platform.advance(by: .microseconds(500))
        #expect(b.read(Sheet.h2c(0) + Sheet.status) & 1 == 1)
        b.platform.advance(by: .milliseconds(1))
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x2)
    }

    @Test("C2H data write to an unmapped host address: IOMMU fault recorded, the engine carries on")
    func c2hWriteUnmapped() throws {
        let b = try Bench()
        #expect(try runOne(b, c2h: true, Desc(flags: Sheet.stop | Sheet.completed, length: 256, source: 0, destination: Self.unmapped)) == 0x6)
        #expect(b.read(Sheet.c2h(0) + Sheet.completedCount) == 1)
        #expect(b.platform.dmaFaults.contains { !$0.isRead && $0.address == Self.unmapped })
        #expect(b.model.statistics.hostWriteFaults == 1)
        #expect(!b.lints(containing: "refused").isEmpty)
    }

    @Test("Dropped host writes and dropped writebacks leave host memory untouched")
    func droppedWrites() throws {
        let b = try Bench()
        let target = try b.buffer(4096, .fromDevice)
        try b.model.writeCardMemory([UInt8](repeating: 0x77, count: 64), at: 0)
        b.model.faults.droppedHostWrites = [target.busAddress()..<target.busAddress() + 32]
        #expect(try runOne(b, c2h: true, Desc(flags: Sheet.stop, length: 64, source: 0, destination: target.busAddress())) == 0x2)
        #expect(Array(target.bytes[0..<64]) == [UInt8](repeating: 0, count: 64))
        #expect(b.platform.dmaFaults.isEmpty)
    }

    @Test("Error with its ie group off: policy hang (busy, frozen), stop, or ignore", arguments: XDMAModelConfiguration.ErrorPolicy.allCases)
    func disabledGroupPolicy(policy: XDMAModelConfiguration.ErrorPolicy) throws {
        var c = XDMAModelConfiguration()
        c.errorPolicyWhenDisabled = policy
        let b = try Bench(c)
        // Run + descriptor_stopped/completed latches only: no read-error group.
        let status = try runOne(b, Desc(flags: Sheet.stop | Sheet.completed, length: 64, source: Self.unmapped, destination: 0), control: 0x7)
        switch policy {
        case .hang:
            #expect(status == 0x1)
            #expect(try b.model.state(of: .h2c(0)).phase == .hung)
            b.write(Sheet.h2c(0) + Sheet.controlW1C, Sheet.run)
            #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x0)
        case .stop:
            #expect(status == 0x0)
            #expect(try b.model.state(of: .h2c(0)).phase == .error)
        case .ignore:
            #expect(status == 0x6)
            #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 1)
        }
        #expect(b.model.statistics.engineErrors == 1)
    }

    @Test("Flipped descriptor flags: clearing Stop on the only descriptor runs on into Nxt_adr 0 (fetch UR)")
    func flippedFlags() throws {
        let b = try Bench()
        let source = try b.buffer(4096, .toDevice)
        try b.model.injectCorruption(.flipFlags(0x1), .h2c(0))
        #expect(try runOne(b, Desc(flags: Sheet.stop | Sheet.completed, length: 64, source: source.busAddress(), destination: 0)) == 0x0008_0014)
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 1)
    }

    @Test("Dropped poll-mode writeback: the word stays stale while Status shows completion")
    func droppedPollWriteback() throws {
        let b = try Bench()
        let source = try b.buffer(4096, .toDevice)
        let wb = try b.buffer(4096)
        b.write(Sheet.h2c(0) + Sheet.pollWBLow, UInt32(truncatingIfNeeded: wb.busAddress()))
        b.write(Sheet.h2c(0) + Sheet.pollWBHigh, UInt32(truncatingIfNeeded: wb.busAddress() >> 32))
        b.model.faults.pollWritebacksToDrop = 1
        let status = try runOne(b, Desc(flags: Sheet.stop | Sheet.completed, length: 64, source: source.busAddress(), destination: 0),
                                control: Sheet.h2cControl | Sheet.pollModeWB)
        #expect(status == 0x6)
        #expect(b.word32(wb, 0) == 0)
        #expect(b.model.statistics.pollWritebacks == 0)
    }

    @Test("Read glitch: every other DMA BAR read returns 0xFFFFFFFF (#317)")
    func readGlitch() throws {
        let b = try Bench()
        b.model.faults.glitchEveryOtherRead = true
        let reads = (0..<4).map { _ in b.read(Sheet.h2c(0)) }
        #expect(reads == [0xFFFF_FFFF, 0x1FC0_0006, 0xFFFF_FFFF, 0x1FC0_0006])
        b.model.clearFaults()
        #expect(b.read(Sheet.h2c(0)) == 0x1FC0_0006)
    }

    @Test("An unknown engine is refused by the fault API")
    func faultAPIValidation() throws {
        let b = try Bench()
        #expect(throws: BusmasterError.self) { try b.model.stick(.c2h(3)) }
        #expect(throws: BusmasterError.self) { try b.model.injectBadMagic(.h2c(0), atFetch: 0) }
    }
}
