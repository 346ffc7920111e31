import Busmaster
import Testing

@testable import XilinxXDMA

/// The 32-byte descriptor, the poll writeback word and the C2H result slot, byte by byte
/// against the tables of sheet §3.1, §3.3 and §3.4.
@Suite struct DescriptorLayoutTests {
    @Test func descriptorBytesMatchTheSheetTable() {
        let d = XDMADescriptor(
            flags: [.stop, .completed, .endOfPacket], nextAdjacent: 0x2A, length: 0x0ABC_DEF1,
            source: 0x1122_3344_5566_7788, destination: 0x99AA_BBCC_DDEE_FF00, next: 0x0000_0001_2345_6780)
        let b = d.bytes
        #expect(b.count == 32)
        // Byte 00: flags 7:0 = Stop|Completed|EOP = 0x13; 13:8 = Nxt_adj 0x2A; 31:16 = 0xAD4B.
        #expect(Array(b[0..<4]) == [0x13, 0x2A, 0x4B, 0xAD])
        // Byte 04: length, little-endian, 31:28 zero.
        #expect(Array(b[4..<8]) == [0xF1, 0xDE, 0xBC, 0x0A])
        // Bytes 08/0C: source lo/hi.
        #expect(Array(b[8..<16]) == [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        // Bytes 10/14: destination lo/hi.
        #expect(Array(b[16..<24]) == [0x00, 0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99])
        // Bytes 18/1C: next descriptor lo/hi.
        #expect(Array(b[24..<32]) == [0x80, 0x67, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00])
    }

    @Test func flagBitsArePerSheet() {
        #expect(XDMADescriptorFlags.stop.rawValue == 0x01)
        #expect(XDMADescriptorFlags.completed.rawValue == 0x02)
        #expect(XDMADescriptorFlags.endOfPacket.rawValue == 0x10)
        #expect(XDMADescriptor.controlWord(flags: [], nextAdjacent: 0) == 0xAD4B_0000)
        #expect(XDMADescriptor.controlWord(flags: [.stop, .completed], nextAdjacent: 63) == 0xAD4B_3F03)
    }

    @Test func descriptorRoundTripsThroughMemory() {
        let d = XDMADescriptor(flags: [.completed], nextAdjacent: 7, length: XDMADescriptor.maxLength, source: 42, destination: 4096, next: 0x20)
        var raw = [UInt8](repeating: 0xEE, count: 32)
        raw.withUnsafeMutableBytes { d.store(to: $0.baseAddress!) }
        let back = raw.withUnsafeBytes { XDMADescriptor(loadingFrom: $0.baseAddress!) }
        #expect(back == d)
        #expect(back.hasValidMagic)
        #expect(back.nextAdjacent == 7)
        #expect(back.flags == [.completed])
        #expect(back.length == 0x0FFF_FFFF)
    }

    @Test func pollWritebackWordDecodes() {
        let ok = XDMAPollWriteback(raw: 0x0000_0005)
        #expect(!ok.hasError && ok.completed == 5)
        let err = XDMAPollWriteback(raw: 0x8012_3456)
        #expect(err.hasError && err.completed == 0x12_3456)
        // Bits 30:24 are not part of the count.
        #expect(XDMAPollWriteback(raw: 0x7F00_0001).completed == 1)
    }

    @Test func streamResultSlotDecodes() {
        // The value seen in field logs: 0x52B40001, length 0x200.
        var raw: [UInt8] = [0x01, 0x00, 0xB4, 0x52, 0x00, 0x02, 0x00, 0x00]
        let r = raw.withUnsafeBytes { XDMAStreamResult(loadingFrom: $0.baseAddress!) }
        #expect(r.isValid && r.endOfPacket && r.length == 0x200)
        raw[3] = 0x53
        let bad = raw.withUnsafeBytes { XDMAStreamResult(loadingFrom: $0.baseAddress!) }
        #expect(!bad.isValid)
        #expect(!XDMAStreamResult(status: 0x52B4_0000, length: 64).endOfPacket)
    }
}

/// Register offsets and values of sheet §2 that the driver programs.
@Suite struct RegisterDeclarationTests {
    @Test func channelAndSGDMABlocksArePlacedByTheAddressFormula() {
        let h2c1 = XDMAEngineRegisters(.h2c, channel: 1)
        #expect(h2c1.identifier.offset == 0x0100)
        #expect(h2c1.control.offset == 0x0104)
        #expect(h2c1.controlClear.offset == 0x010C)
        #expect(h2c1.status.offset == 0x0140)
        #expect(h2c1.statusReadClear.offset == 0x0144)
        #expect(h2c1.completedDescriptorCount.offset == 0x0148)
        #expect(h2c1.alignments.offset == 0x014C)
        #expect(h2c1.pollWritebackLow.offset == 0x0188 && h2c1.pollWritebackHigh.offset == 0x018C)
        #expect(h2c1.interruptMask.offset == 0x0190)
        #expect(h2c1.performanceControl.offset == 0x01C0)
        #expect(h2c1.descriptorLow.offset == 0x4180 && h2c1.descriptorHigh.offset == 0x4184)
        #expect(h2c1.descriptorAdjacent.offset == 0x4188 && h2c1.descriptorCredits.offset == 0x418C)
        let c2h3 = XDMAEngineRegisters(.c2h, channel: 3)
        #expect(c2h3.control.offset == 0x1304)
        #expect(c2h3.descriptorLow.offset == 0x5380)
        // The mask W1C alias is 0x98, not [UP]'s 0x9C.
        #expect(XDMARegisters.Channel.interruptMaskClear.offset == 0x98)
    }

    @Test func recommendedValuesMatchSheetReferenceTable() {
        // §2.8: Control (IRQ mode, with Run) H2C 0x00FFFE7F, C2H 0x00F83E7F.
        #expect(XDMARegisters.latchEnables(.h2c) | XDMARegisters.Control.run.mask == 0x00FF_FE7F)
        #expect(XDMARegisters.latchEnables(.c2h) | XDMARegisters.Control.run.mask == 0x00F8_3E7F)
        // 0x90 in IRQ mode: H2C 0x00FFFE3E, C2H 0x00F83E3E.
        #expect(XDMARegisters.interruptMaskForCompletion(.h2c) == 0x00FF_FE3E)
        #expect(XDMARegisters.interruptMaskForCompletion(.c2h) == 0x00F8_3E3E)
        // Full-group error masks.
        #expect(XDMARegisters.errorMask(.h2c) == 0x00FF_FE38)
        #expect(XDMARegisters.errorMask(.c2h) == 0x00F8_3E38)
        #expect(XDMARegisters.Control.pollModeWritebackEnable.mask == 0x0400_0000)
        // Perf control, PG names: Auto 0, Clear 1, Run 2 (start = 0x2 then 0x5).
        #expect(XDMARegisters.PerformanceControl.auto.mask == 1)
        #expect(XDMARegisters.PerformanceControl.clear.mask == 2)
        #expect(XDMARegisters.PerformanceControl.run.mask == 4)
    }

    @Test func irqVectorFieldsFollowThePacking() {
        typealias I = XDMARegisters.IRQ
        #expect(I.userVectorRegister(for: 0).offset == 0x2080)
        #expect(I.userVectorRegister(for: 5).offset == 0x2084)
        #expect(I.userVectorRegister(for: 15).offset == 0x208C)
        #expect(I.channelVectorRegister(for: 3).offset == 0x20A0)
        #expect(I.channelVectorRegister(for: 4).offset == 0x20A4)
        #expect(I.vectorField(for: 6).shift == 16 && I.vectorField(for: 6).width == 5)
        #expect(XDMARegisters.SGDMACommon.channelBit(.c2h, channel: 2) == 1 << 18)
        #expect(XDMARegisters.SGDMACommon.descriptorHaltSet.offset == 0x6014)
    }

    @Test func alignmentsDecodeWithFallback() {
        let typical = XDMAAlignments(register: 0x0001_0140)
        #expect(typical.addressAlignment == 1 && typical.lengthGranularity == 1 && typical.addressBits == 64)
        let zero = XDMAAlignments(register: 0)
        #expect(zero == .fallback)
        let strict = XDMAAlignments(register: 0x0040_0420)
        #expect(strict.addressAlignment == 64 && strict.lengthGranularity == 4 && strict.addressBits == 32)
        #expect(strict.cardAddressLimit == 1 << 32)
    }

    @Test func statusDecodesPerDirection() {
        // [FS]: 0x00080010 = descriptor-fetch UR + magic_stopped, busy 0.
        let fs = XDMAEngineStatus(raw: 0x0008_0010, direction: .h2c)
        #expect(fs.hasError && !fs.busy)
        #expect(fs.faults == [.badDescriptorMagic, .descriptorFetchError(.unsupportedRequest)])
        // Bit 9: H2C = PCIe UR on a host read; C2H = AXI DECERR on a card read.
        #expect(XDMAEngineStatus(raw: 1 << 9, direction: .h2c).faults == [.hostReadError(.unsupportedRequest)])
        #expect(XDMAEngineStatus(raw: 1 << 9, direction: .c2h).faults == [.cardReadError(.decodeError)])
        #expect(XDMAEngineStatus(raw: 1 << 10, direction: .c2h).faults == [.cardReadError(.slaveError)])
        // Bits 14/15: H2C AXI write errors.
        #expect(XDMAEngineStatus(raw: 1 << 15, direction: .h2c).faults == [.cardWriteError(.slaveError)])
        #expect(XDMAEngineStatus(raw: 1 << 14, direction: .c2h).faults == [.reservedBit(14)])
        // Stopped without error is not an error.
        let done = XDMAEngineStatus(raw: 0x6, direction: .c2h)
        #expect(!done.hasError && done.descriptorStopped && done.descriptorCompleted)
    }

    @Test func registerTableListsEveryBlockForDiagnostics() {
        let table = XDMARegisterTable.all()
        #expect(XDMARegisterTable.named("H2C0_CONTROL")?.offset == 0x0004)
        #expect(XDMARegisterTable.named("c2h2_status_rc")?.access == .readToClear)
        #expect(XDMARegisterTable.named("CHANNEL_INT_ENABLE_W1C")?.offset == 0x2018)
        #expect(XDMARegisterTable.named("DATAPATH_WIDTH")?.offset == 0x3018)
        #expect(XDMARegisterTable.named("C2H1_DESC_ADJACENT")?.offset == 0x5188)
        #expect(XDMARegisterTable.named("DESC_HALT_W1S")?.offset == 0x6014)
        #expect(table.allSatisfy { $0.width == .dword && $0.offset % 4 == 0 && $0.offset < 0x10000 })
        #expect(Set(table.map(\.offset)).count == table.count, "no two registers share an offset")
        #expect(table.map(\.offset) == table.map(\.offset).sorted())
    }
}
