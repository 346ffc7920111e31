#if canImport(Glibc)
    import Glibc
#endif
import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMAModel

@Suite("XDMA model: memory-mapped transfers and descriptor chains")
struct TransferTests {
    @Test("H2C then C2H round trip through card memory, with Status, count and RC semantics")
    func memoryMappedRoundTrip() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let source = try b.buffer(8192, .toDevice)
        let target = try b.buffer(8192, .fromDevice)
        b.fill(source, seed: 3)
        let r = ring.busAddress()
        b.put(Desc(length: 4096, source: source.busAddress(), destination: 0x1000, next: r + 32), in: ring, at: 0)
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: 4096, source: source.busAddress(at: 4096), destination: 0x2000), in: ring, at: 32)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r, adjacent: 1)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x6)  // stopped + completed, busy 0
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 2)
        #expect(try b.model.readCardMemory(at: 0x1000, count: 8192) == Array(source.bytes))

        // C2H: one descriptor reads it back.
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: 8192, source: 0x1000, destination: target.busAddress()), in: ring, at: 1024)
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), r + 1024)
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl)
        b.settle()
        #expect(b.read(Sheet.c2h(0) + Sheet.completedCount) == 1)
        #expect(Array(target.bytes) == Array(source.bytes))

        // 0x44 returns Status, then clears 23:1; 0x40 then reads 0.
        #expect(b.read(Sheet.c2h(0) + Sheet.statusRC) == 0x6)
        #expect(b.read(Sheet.c2h(0) + Sheet.status) == 0)
        // 0x40 is W1C.
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x6)
        b.write(Sheet.h2c(0) + Sheet.status, 0x2)
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x4)
        let s = b.model.statistics
        #expect(s.descriptorsCompleted == 3 && s.bytesHostToCard == 8192 && s.bytesCardToHost == 8192)
    }

    @Test("Run rising clears Status 23:1 and the completed count; Run falling sets idle_stopped")
    func runEdges() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: 64, source: source.busAddress(), destination: 0), in: ring, at: 0)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), ring.busAddress())
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 1)
        #expect(try b.model.state(of: .h2c(0)).phase == .stopped)
        // Stop (§5.6): W1C Run leaves the latch enables alone; idle_stopped latches (ie6 set).
        b.write(Sheet.h2c(0) + Sheet.controlW1C, Sheet.run)
        #expect(b.read(Sheet.h2c(0) + Sheet.control) == Sheet.h2cControl & ~Sheet.run)
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x46)
        #expect(try b.model.state(of: .h2c(0)).phase == .idle)
        // Run rising via W1S with the channel halted (0x6014): Status 23:1 and the count are
        // cleared and the engine waits busy without fetching.
        b.write(Sheet.common + 0x14, 0x1)
        b.write(Sheet.h2c(0) + Sheet.controlW1S, Sheet.run)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x1)
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 0)
        #expect(try b.model.state(of: .h2c(0)).phase == .waiting)
        // Clearing the halt (0x6018) lets it fetch and run the chain again.
        b.write(Sheet.common + 0x18, 0x1)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 1)
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x6)
    }

    @Test("Adjacent blocks: first block = 1 + 0x88, then the last fetched descriptor's Nxt_adr / Nxt_adj")
    func adjacencyAcrossBlocks() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        b.fill(source, seed: 9)
        let r = ring.busAddress()
        func slot(_ i: Int) -> UInt64 { r + UInt64(32 * i) }
        func desc(_ i: Int, flags: UInt32 = 0, next: UInt64 = 0, adj: UInt32 = 0) -> Desc {
            Desc(flags: flags, nextAdjacent: adj, length: 64, source: source.busAddress(at: 64 * i), destination: UInt64(0x10000 + 64 * i), next: next)
        }
        // Block A: slots 0, 1, 2 (0x88 = 2). Slot 2 points to block B at slot 5 with one extra.
        b.put(desc(0, next: slot(1)), in: ring, at: 0)
        b.put(desc(1, next: slot(2)), in: ring, at: 32)
        b.put(desc(2, next: slot(5), adj: 1), in: ring, at: 64)
        // Block B: slots 5, 6. Slot 6 points to block C: slot 3 alone.
        b.put(desc(5, next: slot(6)), in: ring, at: 160)
        b.put(desc(6, next: slot(3), adj: 0), in: ring, at: 192)
        // Block C: slot 3 with Stop. Slot 4 holds garbage that must never be fetched.
        b.put(desc(3, flags: Sheet.stop | Sheet.completed), in: ring, at: 96)
        b.put(Desc(length: 64, source: 0, destination: 0, magic: 0x1234_0000), in: ring, at: 128)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r, adjacent: 2)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x6)
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 6)
        let fetches = b.model.events.compactMap { e -> [UInt64]? in
            if case .descriptorsFetched(_, let a, let n) = e { return [a, UInt64(n)] }
            return nil
        }
        #expect(fetches == [[r, 3], [slot(5), 2], [slot(3), 1]])
        for i in [0, 1, 2, 3, 5, 6] {
            #expect(try b.model.readCardMemory(at: 0x10000 + 64 * i, count: 64) == Array(source.bytes[(64 * i)..<(64 * i + 64)]))
        }
        #expect(b.platform.lints.isEmpty)
    }

    @Test("Only a block's last descriptor's Nxt is consulted; a wrong in-block Nxt_adr is linted")
    func inBlockNextIgnored() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        let r = ring.busAddress()
        b.put(Desc(length: 32, source: source.busAddress(), destination: 0, next: 0xDEAD_0000), in: ring, at: 0)
        b.put(Desc(flags: Sheet.stop, length: 32, source: source.busAddress(), destination: 32), in: ring, at: 32)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r, adjacent: 1)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 2)
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x2)
        #expect(!b.lints(containing: "inside an adjacent block").isEmpty)
    }

    @Test("A block crossing a 4 KiB boundary is linted; behaviour is unchanged")
    func blockCrossing4KiB() throws {
        let b = try Bench()
        let ring = try b.buffer(8192)
        let source = try b.buffer(4096, .toDevice)
        let first = ring.busAddress(at: 4096 - 32)
        b.put(Desc(length: 128, source: source.busAddress(), destination: 0, next: first + 32), in: ring, at: 4096 - 32)
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: 128, source: source.busAddress(), destination: 128), in: ring, at: 4096)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), first, adjacent: 1)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(b.lints(containing: "crosses a 4 KiB boundary").count == 1)
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 2)
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x6)
    }

    @Test("A Stop that is not the last descriptor of its block is linted; the rest is dropped")
    func stopInsideBlock() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        let r = ring.busAddress()
        b.put(Desc(flags: Sheet.stop, length: 32, source: source.busAddress(), destination: 0, next: r + 32), in: ring, at: 0)
        b.put(Desc(flags: Sheet.stop, length: 32, source: source.busAddress(), destination: 32), in: ring, at: 32)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r, adjacent: 1)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 1)
        #expect(!b.lints(containing: "not the last of its adjacent block").isEmpty)
    }

    @Test("Poll-mode writeback: count on each Completed descriptor, bit 31 when an error stops the engine")
    func pollModeWriteback() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        let r = ring.busAddress()
        let wbOffset = 2048
        b.put(Desc(flags: Sheet.completed, length: 64, source: source.busAddress(), destination: 0, next: r + 32), in: ring, at: 0)
        b.put(Desc(length: 64, source: source.busAddress(), destination: 64, next: r + 64), in: ring, at: 32)
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: 64, source: source.busAddress(), destination: 128), in: ring, at: 64)
        b.write(Sheet.h2c(0) + Sheet.pollWBLow, UInt32(truncatingIfNeeded: ring.busAddress(at: wbOffset)))
        b.write(Sheet.h2c(0) + Sheet.pollWBHigh, UInt32(truncatingIfNeeded: ring.busAddress(at: wbOffset) >> 32))
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r, adjacent: 2)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl | Sheet.pollModeWB)
        b.settle()
        #expect(b.word32(ring, wbOffset) == 3)
        let writebacks = b.model.events.compactMap { e -> UInt32? in
            if case .pollWriteback(_, _, let v) = e { return v }
            return nil
        }
        #expect(writebacks == [1, 3])  // descriptor 2 has no Completed flag

        // Second chain: the second descriptor has a bad magic → WB word with Sts_err.
        b.write(Sheet.h2c(0) + Sheet.controlW1C, Sheet.run)
        b.put(Desc(flags: Sheet.completed, length: 64, source: source.busAddress(), destination: 64, next: r + 32), in: ring, at: 0)
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: 64, source: 0, destination: 0, magic: 0xBAD0_0000), in: ring, at: 32)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r, adjacent: 1)
        ring.bytes.storeBytes(of: 0, toByteOffset: wbOffset, as: UInt32.self)
        b.write(Sheet.h2c(0) + Sheet.controlW1S, Sheet.run)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x14)  // completed + magic_stopped
        #expect(b.word32(ring, wbOffset) == 0x8000_0001)
    }

    @Test("Strict poll-mode option: no writeback unless Control bit 2 is set too")
    func strictPollWriteback() throws {
        var c = XDMAModelConfiguration()
        c.pollWritebackRequiresCompletedEnable = true
        let b = try Bench(c)
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: 64, source: source.busAddress(), destination: 0), in: ring, at: 0)
        b.write(Sheet.h2c(0) + Sheet.pollWBLow, UInt32(truncatingIfNeeded: ring.busAddress(at: 2048)))
        b.write(Sheet.h2c(0) + Sheet.pollWBHigh, UInt32(truncatingIfNeeded: ring.busAddress(at: 2048) >> 32))
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), ring.busAddress())
        // libxdma's poll-mode Control: bit 26 without bit 2.
        b.write(Sheet.h2c(0) + Sheet.control, 0x04F8_3E19)
        b.settle()
        #expect(b.word32(ring, 2048) == 0)
        b.write(Sheet.h2c(0) + Sheet.controlW1C, Sheet.run)
        b.write(Sheet.h2c(0) + Sheet.control, 0x04F8_3E19 | Sheet.ieDescriptorCompleted)
        b.settle()
        #expect(b.word32(ring, 2048) == 1)
    }

    @Test("Run cleared mid-descriptor: draining keeps busy until the descriptor finishes, then idle_stopped")
    func draining() throws {
        var c = XDMAModelConfiguration()
        c.engineBytesPerSecond = 1e6  // 1 byte per µs of simulated time
        c.bytesPerEvent = 1024
        let b = try Bench(c)
        let ring = try b.buffer(4096)
        let source = try b.buffer(8192, .toDevice)
        let r = ring.busAddress()
        b.put(Desc(length: 4096, source: source.busAddress(), destination: 0, next: r + 32), in: ring, at: 0)
        b.put(Desc(flags: Sheet.stop, length: 4096, source: source.busAddress(at: 4096), destination: 4096), in: ring, at: 32)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r, adjacent: 1)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.platform.advance(by: .microseconds(1500))
        #expect(b.read(Sheet.h2c(0) + Sheet.status) & 1 == 1)
        b.write(Sheet.h2c(0) + Sheet.controlW1C, Sheet.run)
        #expect(b.read(Sheet.h2c(0) + Sheet.status) & 1 == 1)
        #expect(try b.model.state(of: .h2c(0)).phase == .draining)
        b.platform.advance(by: .milliseconds(10))
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x40)  // idle_stopped, busy 0
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 1)
    }

    @Test("Non-incrementing mode keeps the AXI address fixed (a FIFO-style card port)")
    func nonIncrementingMode() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        let target = try b.buffer(4096, .fromDevice)
        b.fill(source, seed: 1, count: 256)
        b.put(Desc(flags: Sheet.stop, length: 256, source: source.busAddress(), destination: 0x100), in: ring, at: 0)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), ring.busAddress())
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl | 1 << 25)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x2)
        // The last 32-byte beat is what stays at the fixed address; nothing was written past it.
        #expect(try b.model.readCardMemory(at: 0x100, count: 32) == Array(source.bytes[224..<256]))
        #expect(try b.model.readCardMemory(at: 0x120, count: 32) == [UInt8](repeating: 0, count: 32))
        // C2H non-incrementing: the same beat is read over and over.
        b.put(Desc(flags: Sheet.stop, length: 128, source: 0x100, destination: target.busAddress()), in: ring, at: 64)
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), ring.busAddress(at: 64))
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl | 1 << 25)
        b.settle()
        let beat = Array(source.bytes[224..<256])
        #expect(Array(target.bytes[0..<128]) == beat + beat + beat + beat)
    }

    @Test("The bypass BAR maps straight onto card memory")
    func bypassBAR() throws {
        let b = try Bench()
        let bypass = try b.device.bar(try #require(b.model.bypassBAR))
        bypass.write32(0xCAFE_F00D, at: 0x40)
        bypass.write8(0x5A, at: 0x44)
        #expect(try b.model.readCardMemory(at: 0x40, count: 5) == [0x0D, 0xF0, 0xFE, 0xCA, 0x5A])
        try b.model.writeCardMemory([1, 2, 3, 4, 5, 6, 7, 8], at: 0x100)
        #expect(bypass.read64(at: 0x100) == 0x0807_0605_0403_0201)
    }

    @Test("A larger transfer split into many events still lands intact (4 MiB over 16 descriptors)")
    func largeTransfer() throws {
        let b = try Bench()
        let size = 4 << 20
        let ring = try b.buffer(4096)
        let source = try b.buffer(size, .toDevice)
        let target = try b.buffer(size, .fromDevice)
        b.fill(source, seed: 77)
        let chunk = size / 16
        let r = ring.busAddress()
        for i in 0..<16 {
            let last = i == 15
            b.put(Desc(flags: last ? Sheet.stop | Sheet.completed : 0, length: UInt32(chunk), source: source.busAddress(at: i * chunk),
                       destination: UInt64(i * chunk), next: last ? 0 : r + UInt64(32 * (i + 1))), in: ring, at: 32 * i)
            b.put(Desc(flags: last ? Sheet.stop | Sheet.completed : 0, length: UInt32(chunk), source: UInt64(i * chunk),
                       destination: target.busAddress(at: i * chunk), next: last ? 0 : r + 2048 + UInt64(32 * (i + 1))), in: ring, at: 2048 + 32 * i)
        }
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r, adjacent: 15)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), r + 2048, adjacent: 15)
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl)
        b.settle()
        #expect(b.read(Sheet.c2h(0) + Sheet.completedCount) == 16)
        #expect(memcmp(source.bytes.baseAddress!, target.bytes.baseAddress!, size) == 0)
    }
}
