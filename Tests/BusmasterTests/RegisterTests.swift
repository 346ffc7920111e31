import Busmaster
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Plain memory standing in for a mapped BAR.
final class MemoryBAR {
    let pointer: UnsafeMutableRawPointer
    let size: Int
    init(size: Int) {
        self.size = size
        pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    }
    deinit { pointer.deallocate() }
    var region: MMIORegion { MMIORegion(bar: 2, mapping: pointer, size: size) }
}

/// Records handler accesses.
final class RecordingHandler: MMIOHandler, @unchecked Sendable {
    var log: [(write: Bool, offset: Int, width: AccessWidth, value: UInt64)] = []
    var nextRead: UInt64 = 0
    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
        log.append((false, offset, width, nextRead))
        return nextRead
    }
    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) { log.append((true, offset, width, value)) }
}

@Suite struct MMIORegionTests {
    @Test func mappedAccessesAllWidthsLittleEndian() {
        let mem = MemoryBAR(size: 64)
        let r = mem.region
        r.write32(0x1122_3344, at: 0)
        #expect(r.read8(at: 0) == 0x44)
        #expect(r.read16(at: 2) == 0x1122)
        r.write64(0x0102_0304_0506_0708, at: 8)
        #expect(r.read32(at: 12) == 0x0102_0304)
        r.write(.word, 0xBEEF, at: 20)
        #expect(r.read(.word, at: 20) == 0xBEEF)
    }

    @Test func validateGivesAllowedRange() throws {
        let r = MemoryBAR(size: 0x100).region
        try r.validate(offset: 0xFC, width: .dword)
        do {
            try r.validate(offset: 0x100, width: .dword)
            Issue.record("expected out of range")
        } catch let e as BusmasterError {
            #expect(e == .offsetOutOfRange(region: "BAR 2", offset: 0x100, width: 4, size: 0x100))
            #expect(e.description.contains("allowed offsets 0x0...0xfc"))
        }
        #expect(throws: BusmasterError.misaligned(region: "BAR 2", offset: 2, width: 4)) {
            try r.validate(offset: 2, width: .dword)
        }
        #expect(throws: BusmasterError.self) { try r.validate(offset: -4, width: .dword) }
    }

    @Test func blockCopiesIncrementAndFIFO() {
        let h = RecordingHandler()
        let r = MMIORegion(bar: 0, size: 0x40, handler: h)
        let data: [UInt8] = [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]
        data.withUnsafeBytes { r.write(from: $0, at: 0x10, width: .dword, mode: .increment) }
        #expect(h.log.map(\.offset) == [0x10, 0x14, 0x18])
        #expect(h.log.map(\.value) == [1, 2, 3])
        h.log.removeAll()
        data.withUnsafeBytes { r.write(from: $0, at: 0x20, width: .dword, mode: .fifo) }
        #expect(h.log.map(\.offset) == [0x20, 0x20, 0x20])
        h.log.removeAll()
        h.nextRead = 0xAB
        var out = [UInt8](repeating: 0, count: 4)
        out.withUnsafeMutableBytes { r.read(into: $0, at: 0x3C, width: .byte, mode: .fifo) }
        #expect(out == [0xAB, 0xAB, 0xAB, 0xAB])
        #expect(h.log.allSatisfy { $0.offset == 0x3C && $0.width == .byte && !$0.write })
    }

    @Test func mappedBlockCopy() {
        let mem = MemoryBAR(size: 64)
        let r = mem.region
        let src: [UInt8] = Array(0..<16)
        src.withUnsafeBytes { r.write(from: $0, at: 16, width: .qword) }
        var dst = [UInt8](repeating: 0, count: 16)
        dst.withUnsafeMutableBytes { r.read(into: $0, at: 16, width: .word) }
        #expect(dst == src)
    }
}

@Suite struct RegisterDeclarationTests {
    static let control = Register<UInt32>("CONTROL", offset: 0x04, .readWrite, "engine control")
    static let run = BitField<UInt32>("RUN", shift: 0)
    static let errors = BitField<UInt32>("READ_ERR", bits: 9...13)

    @Test func fieldsExtractAndInsert() {
        #expect(Self.errors.mask == 0x3E00)
        #expect(Self.errors.maxValue == 0x1F)
        #expect(Self.errors.encode(0x1F) == 0x3E00)
        #expect(Self.errors.extract(from: 0x0000_2601) == 0x13)
        #expect(Self.errors.insert(0x1, into: 0xFFFF_FFFF) == 0xFFFF_C3FF)
        #expect(Self.run.isSet(in: 1) && !Self.run.isSet(in: 2))
    }

    @Test func registersReadAndWriteThroughRegions() {
        let mem = MemoryBAR(size: 16)
        let r = mem.region
        r.write(Self.control, Self.run.mask | Self.errors.encode(3))
        #expect(r.read32(at: 4) == 0x601)
        #expect(r.read(Self.errors, of: Self.control) == 3)
        let ch1 = Self.control.advanced(by: 0x100, name: "CONTROL1")
        #expect(ch1.offset == 0x104 && ch1.name == "CONTROL1" && ch1.width == .dword)
        #expect(Self.control.descriptor.access == .readWrite)
        #expect(RegisterAccess.readToClear.isSafeToRead == false)
        #expect(RegisterAccess.write1ToClear.isWritable)
    }
}
