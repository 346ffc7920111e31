import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMAModel

@Suite("XDMA model: AXI-Stream engines")
struct StreamTests {
    /// Result slot `i` (§3.4) in `ring` at `base`: (status word, length).
    func result(_ b: Bench, _ ring: DMABuffer, _ base: Int, _ i: Int) -> (UInt32, UInt32) {
        (b.word32(ring, base + 32 * i), b.word32(ring, base + 32 * i + 4))
    }

    @Test("H2C-ST loops back to C2H-ST; result writebacks carry magic 0x52B4, EOP and length")
    func loopbackWithResults() throws {
        let b = try Bench(.streamLoopback(channels: 1))
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        let target = try b.buffer(4096, .fromDevice)
        b.fill(source, seed: 5)
        let r = ring.busAddress()
        let results = 1024
        // C2H: two 256-byte buffers, result slots 32 bytes apart.
        b.put(Desc(length: 256, source: ring.busAddress(at: results), destination: target.busAddress(), next: r + 544), in: ring, at: 512)
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: 256, source: ring.busAddress(at: results + 32), destination: target.busAddress(at: 256)), in: ring, at: 544)
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), r + 512, adjacent: 1)
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl)
        b.settle()
        // No stream data yet: the engine waits with busy = 1.
        #expect(b.read(Sheet.c2h(0) + Sheet.status) == 0x1)
        #expect(try b.model.state(of: .c2h(0)).phase == .waiting)

        // H2C: one 300-byte packet.
        b.put(Desc(flags: Sheet.stop | Sheet.completed | Sheet.eop, length: 300, source: source.busAddress(), destination: 0), in: ring, at: 0)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x6)
        #expect(b.read(Sheet.c2h(0) + Sheet.status) == 0x6)
        #expect(b.read(Sheet.c2h(0) + Sheet.completedCount) == 2)
        #expect(result(b, ring, results, 0) == (0x52B4_0000, 256))
        #expect(result(b, ring, results, 1) == (0x52B4_0001, 44))
        #expect(Array(target.bytes[0..<300]) == Array(source.bytes[0..<300]))
        #expect(b.model.statistics.resultWritebacks == 2)
    }

    @Test("Control bit 27 suppresses the C2H-ST result writeback")
    func resultWritebackDisabled() throws {
        let b = try Bench(.streamLoopback(channels: 1))
        let ring = try b.buffer(4096)
        let target = try b.buffer(4096, .fromDevice)
        try b.model.push(packet: [UInt8](repeating: 0xA5, count: 64), channel: 0)
        b.put(Desc(flags: Sheet.stop, length: 128, source: ring.busAddress(at: 1024), destination: target.busAddress()), in: ring, at: 0)
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), ring.busAddress())
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl | Sheet.streamWBDisable)
        b.settle()
        #expect(b.read(Sheet.c2h(0) + Sheet.completedCount) == 1)
        #expect(result(b, ring, 1024, 0) == (0, 0))
        #expect(Array(target.bytes[0..<64]) == [UInt8](repeating: 0xA5, count: 64))
        #expect(b.model.statistics.resultWritebacks == 0)
    }

    @Test("Pushed packets: tlast closes a buffer, a long packet continues in the next buffer")
    func pushedPackets() throws {
        let b = try Bench(.streamLoopback(channels: 1))
        let ring = try b.buffer(4096)
        let target = try b.buffer(4096, .fromDevice)
        let first = (0..<100).map { UInt8($0) }
        let second = (0..<200).map { UInt8(255 - $0 % 256) }
        try b.model.push(packet: first, channel: 0)
        try b.model.push(packet: second, channel: 0)
        #expect(try b.model.pendingSourceBytes(channel: 0) == 300)
        let r = ring.busAddress()
        for i in 0..<3 {
            b.put(Desc(flags: i == 2 ? Sheet.stop : 0, length: 128, source: ring.busAddress(at: 1024 + 32 * i),
                       destination: target.busAddress(at: 128 * i), next: r + UInt64(32 * (i + 1))), in: ring, at: 32 * i)
        }
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), r, adjacent: 2)
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl)
        b.settle()
        #expect(result(b, ring, 1024, 0) == (0x52B4_0001, 100))
        #expect(result(b, ring, 1024, 1) == (0x52B4_0000, 128))
        #expect(result(b, ring, 1024, 2) == (0x52B4_0001, 72))
        #expect(Array(target.bytes[0..<100]) == first)
        #expect(Array(target.bytes[128..<256]) + Array(target.bytes[256..<328]) == second)
        #expect(try b.model.pendingSourceBytes(channel: 0) == 0)
    }

    @Test("The write flush timeout (0x3060) closes a partly filled C2H-ST buffer without EOP")
    func flushTimeout() throws {
        let b = try Bench(.streamLoopback(channels: 1))
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        let target = try b.buffer(4096, .fromDevice)
        b.write(Sheet.config + 0x60, 4)  // 2^4 AXI clocks
        b.put(Desc(flags: Sheet.stop, length: 256, source: ring.busAddress(at: 1024), destination: target.busAddress()), in: ring, at: 512)
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), ring.busAddress(at: 512))
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl)
        // 100 bytes without EOP.
        b.put(Desc(flags: Sheet.stop, length: 100, source: source.busAddress(), destination: 0), in: ring, at: 0)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), ring.busAddress())
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(result(b, ring, 1024, 0) == (0x52B4_0000, 100))
        #expect(b.read(Sheet.c2h(0) + Sheet.status) == 0x2)
    }

    @Test("External source and sink: push feeds C2H, H2C packets collect in the sink queue")
    func sourceAndSink() throws {
        var c = XDMAModelConfiguration.streamLoopback(channels: 1)
        c.streamLoopback = false
        let b = try Bench(c)
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        b.fill(source, seed: 11)
        let r = ring.busAddress()
        // Packet 1 spans two descriptors (EOP on the second); packet 2 is one descriptor.
        b.put(Desc(length: 40, source: source.busAddress(), destination: 0, next: r + 32), in: ring, at: 0)
        b.put(Desc(flags: Sheet.eop, length: 24, source: source.busAddress(at: 40), destination: 0, next: r + 64), in: ring, at: 32)
        b.put(Desc(flags: Sheet.eop | Sheet.stop, length: 10, source: source.busAddress(at: 100), destination: 0), in: ring, at: 64)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r, adjacent: 2)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        let packets = try b.model.takeSinkPackets(channel: 0)
        #expect(packets == [Array(source.bytes[0..<64]), Array(source.bytes[100..<110])])
        #expect(try b.model.takeSinkPackets(channel: 0).isEmpty)
        // Nothing looped back.
        #expect(try b.model.pendingSourceBytes(channel: 0) == 0)
        #expect(throws: BusmasterError.self) { try b.model.push(packet: [], channel: 0) }
    }

    @Test("A full loopback FIFO back-pressures H2C until C2H drains it")
    func backPressure() throws {
        var c = XDMAModelConfiguration.streamLoopback(channels: 1)
        c.streamBufferLimit = 4096
        let b = try Bench(c)
        let ring = try b.buffer(4096)
        let source = try b.buffer(16384, .toDevice)
        let target = try b.buffer(16384, .fromDevice)
        b.fill(source, seed: 21)
        b.put(Desc(flags: Sheet.stop | Sheet.eop, length: 16384, source: source.busAddress(), destination: 0), in: ring, at: 0)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), ring.busAddress())
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x1)  // stuck on tready
        #expect(try b.model.pendingSourceBytes(channel: 0) == 4096)
        let r = ring.busAddress()
        for i in 0..<4 {
            b.put(Desc(flags: i == 3 ? Sheet.stop : 0, length: 4096, source: ring.busAddress(at: 2048 + 32 * i),
                       destination: target.busAddress(at: 4096 * i), next: r + 1024 + UInt64(32 * (i + 1))), in: ring, at: 1024 + 32 * i)
        }
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), r + 1024, adjacent: 3)
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x2)
        #expect(b.read(Sheet.c2h(0) + Sheet.completedCount) == 4)
        #expect(Array(target.bytes) == Array(source.bytes))
        #expect(result(b, ring, 2048, 3) == (0x52B4_0001, 4096))
    }

    @Test("Stream API refuses channels that are not stream engines")
    func streamAPIValidation() throws {
        let b = try Bench()
        #expect(throws: BusmasterError.self) { try b.model.push(packet: [1], channel: 0) }
        #expect(throws: BusmasterError.self) { try b.model.takeSinkPackets(channel: 0) }
        #expect(throws: BusmasterError.self) { try b.model.push(packet: [1], channel: 3) }
    }
}
