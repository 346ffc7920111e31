import Busmaster
import Testing

@testable import XilinxXDMA

/// Identifier registers of a made-up IP with channel gaps, for probing without a model.
final class FakeIdentifiers: MMIOHandler, @unchecked Sendable {
    var registers: [Int: UInt32] = [:]
    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 { UInt64(registers[offset] ?? 0) }
    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {}

    /// Declares an engine with matching channel and SGDMA identifiers.
    func engine(_ d: XDMADirection, _ ch: Int, stream: Bool = false, sgdmaChannel: Int? = nil, alignments: UInt32 = 0x0001_0140) {
        let s: UInt32 = stream ? 1 << 15 : 0
        registers[XDMARegisters.channelBlock(d, channel: ch)] = 0x1FC0_0006 | d.channelTarget << 16 | s | UInt32(ch) << 8
        registers[XDMARegisters.sgdmaBlock(d, channel: ch)] = 0x1FC0_0006 | d.sgdmaTarget << 16 | s | UInt32(sgdmaChannel ?? ch) << 8
        registers[XDMARegisters.channelBlock(d, channel: ch) + XDMARegisters.Channel.alignments.offset] = alignments
    }
}

@Suite struct ProbeUnitTests {
    @Test func probingSkipsGapsAndChecksTheSGDMAIdentifier() {
        let fake = FakeIdentifiers()
        fake.engine(.h2c, 0)
        fake.engine(.h2c, 2, alignments: 0)          // gap at H2C1; Alignments reads 0
        fake.engine(.h2c, 3, sgdmaChannel: 1)        // inconsistent SGDMA identifier
        fake.engine(.c2h, 1, stream: true)           // gap at C2H0
        let region = MMIORegion(bar: 0, size: 0x10000, handler: fake)
        var notes: [String] = []
        let infos = XDMADevice.probeEngines(region, notes: &notes)
        #expect(infos.map(\.id) == [XDMAEngineID(.h2c, 0), XDMAEngineID(.h2c, 2), XDMAEngineID(.c2h, 1)])
        #expect(infos.map(\.kind) == [.memoryMapped, .memoryMapped, .stream])
        #expect(infos[1].alignments == .fallback, "Alignments 0 → 1/1/64")
        #expect(infos.allSatisfy { $0.version == 6 && $0.ipRelease == "2017.1 or later" })
        // C2H interrupt bits sit directly above the highest H2C channel present.
        #expect(infos.map(\.interruptIndex) == [0, 2, 4])
        #expect(notes.contains { $0.contains("H2C3") && $0.contains("SGDMA") })
        #expect(notes.contains { $0.contains("H2C2") && $0.contains("Alignments reads 0") })
    }

    @Test func identifierMatchNeedsSubsystemAndTarget() {
        #expect(XDMABARLocator.isDMABAR(irqIdentifier: 0x1FC2_0006, configIdentifier: 0x1FC3_0006))
        #expect(!XDMABARLocator.isDMABAR(irqIdentifier: 0x1FC3_0006, configIdentifier: 0x1FC3_0006))
        #expect(!XDMABARLocator.isDMABAR(irqIdentifier: 0xFFFF_FFFF, configIdentifier: 0xFFFF_FFFF))
        #expect(!XDMABARLocator.isDMABAR(irqIdentifier: 0x1FD2_0006, configIdentifier: 0x1FC3_0006))
    }

    @Test func classificationIsByPositionAmongPresentBARs() {
        // 32-bit layouts.
        #expect(XDMABARLocator.classify(presentBARs: [0], dma: 0) == (nil, nil))
        #expect(XDMABARLocator.classify(presentBARs: [0, 1], dma: 0) == (nil, 1))
        #expect(XDMABARLocator.classify(presentBARs: [0, 1], dma: 1) == (0, nil))
        #expect(XDMABARLocator.classify(presentBARs: [0, 1, 2], dma: 1) == (0, 2))
        // 64-bit layouts (BARs 0 / 2 / 4).
        #expect(XDMABARLocator.classify(presentBARs: [0, 2, 4], dma: 2) == (0, 4))
        #expect(XDMABARLocator.classify(presentBARs: [2, 0], dma: 0) == (nil, 2))
    }

    @Test func sixtyFourKiBBARsAreProbedFirst() {
        let bars = [
            BARInfo(index: 0, address: 0, size: 1 << 20), BARInfo(index: 1, address: 0, size: 0x10000),
            BARInfo(index: 2, address: 0, size: 0x4000), BARInfo(index: 3, address: 0, size: 0x8000),
            BARInfo(index: 4, address: 0, size: 0x100, kind: .io),
        ]
        #expect(XDMABARLocator.candidates(bars) == [1, 0, 3], "64 KiB first; < 32 KiB and I/O BARs never")
    }
}
