import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMAModel

@Suite("XDMA model: interrupts (§4.4)")
struct InterruptTests {
    /// Puts a one-descriptor Stop|Completed chain on H2C 0 or C2H 0 and starts it.
    func start(_ b: Bench, c2h: Bool = false, ring: DMABuffer, data: DMABuffer, control: UInt32? = nil) {
        let off = c2h ? 1024 : 0
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: 64, source: c2h ? 0 : data.busAddress(), destination: c2h ? data.busAddress() : 0),
              in: ring, at: off)
        b.setFirst(sgdma: c2h ? Sheet.c2hSGDMA(0) : Sheet.h2cSGDMA(0), ring.busAddress(at: off))
        b.write((c2h ? Sheet.c2h(0) : Sheet.h2c(0)) + Sheet.control, control ?? (c2h ? Sheet.c2hControl : Sheet.h2cControl))
    }

    @Test("MSI-X per engine vector field (0x20A0), request/pending views, cleared by reading 0x44")
    func msixPerVector() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let data = try b.buffer(4096)
        let irq = try b.device.enableInterrupts(preferring: [.msix], vectors: 8)
        #expect(irq.kind == .msix)
        b.write(Sheet.irq + 0xA0, 3 | 5 << 8)  // eng 0 (H2C0) → 3, eng 1 (C2H0) → 5
        b.write(Sheet.irq + 0x10, 0x3)
        b.write(Sheet.h2c(0) + Sheet.intMask, Sheet.h2cMask)
        b.write(Sheet.c2h(0) + Sheet.intMask, Sheet.c2hMask)
        start(b, ring: ring, data: data)
        let event = try irq.wait(vector: 3, timeout: .seconds(1))
        #expect(event.count == 1)
        #expect(try irq.poll(vector: 5) == nil)
        #expect(b.read(Sheet.irq + 0x44) == 0x1)
        #expect(b.read(Sheet.irq + 0x4C) == 0x1)
        #expect(b.read(Sheet.h2c(0) + Sheet.statusRC) == 0x6)
        #expect(b.read(Sheet.irq + 0x44) == 0x0)
        #expect(b.read(Sheet.irq + 0x4C) == 0x0)
        start(b, c2h: true, ring: ring, data: data)
        #expect(try irq.wait(vector: 5, timeout: .seconds(1)).vector == 5)
        #expect(try irq.poll(vector: 3) == nil)
        #expect(b.model.statistics.messagesPerVector == [3: 1, 5: 1])
        irq.disable()
    }

    @Test("Edge semantics: no new message until the cause is cleared; enabling with the source high fires at once")
    func edgeSemantics() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let data = try b.buffer(4096)
        let irq = try b.device.enableInterrupts(preferring: [.msix], vectors: 4)
        b.write(Sheet.h2c(0) + Sheet.intMask, 0x00FF_FE7E)  // including idle_stopped
        start(b, ring: ring, data: data)
        b.settle()
        // Channel enable still 0: pending shows the engine, no request, no message.
        #expect(b.read(Sheet.irq + 0x4C) == 0x1)
        #expect(b.read(Sheet.irq + 0x44) == 0x0)
        #expect(try irq.poll(vector: 0) == nil)
        // Enabling while the source is high fires straight away (vector field 0).
        b.write(Sheet.irq + 0x14, 0x1)
        #expect(try irq.poll(vector: 0) != nil)
        // Another cause latching while the source is still high gives no new edge.
        b.write(Sheet.h2c(0) + Sheet.controlW1C, Sheet.run)
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x46)
        #expect(try irq.poll(vector: 0) == nil)
        // Clear the cause; the next completion fires again.
        _ = b.read(Sheet.h2c(0) + Sheet.statusRC)
        b.write(Sheet.h2c(0) + Sheet.controlW1S, Sheet.run)
        #expect(try irq.poll(vector: 0) != nil)
        // Masking in 0x98 drops the source; unmasking with the cause still latched fires.
        b.write(Sheet.h2c(0) + Sheet.intMaskW1C, 0x00FF_FFFF)
        #expect(b.read(Sheet.irq + 0x4C) == 0x0)
        b.write(Sheet.h2c(0) + Sheet.intMaskW1S, 0x2)
        #expect(try irq.poll(vector: 0) != nil)
        irq.disable()
    }

    @Test("A lost interrupt: the next message is dropped, the cause stays visible")
    func lostInterrupt() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let data = try b.buffer(4096)
        let irq = try b.device.enableInterrupts(preferring: [.msix], vectors: 4)
        b.write(Sheet.irq + 0x10, 0x1)
        b.write(Sheet.h2c(0) + Sheet.intMask, Sheet.h2cMask)
        b.model.dropNextMessages(1)
        start(b, ring: ring, data: data)
        #expect(try irq.poll(vector: 0) == nil)
        #expect(b.read(Sheet.irq + 0x44) == 0x1)  // a driver timeout should read Status (#321)
        #expect(b.model.statistics.messagesDropped == 1)
        #expect(b.model.statistics.messagesSent == 0)
        irq.disable()
    }

    @Test("MSI: the message uses the vector field; 0x3014 shows MSI enabled")
    func msi() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let data = try b.buffer(4096)
        let irq = try b.device.enableInterrupts(preferring: [.msi], vectors: 4)
        #expect(irq.kind == .msi)
        #expect(b.read(Sheet.config + 0x14) == 0x1)
        b.write(Sheet.irq + 0xA0, 2)
        b.write(Sheet.irq + 0x10, 0x1)
        b.write(Sheet.h2c(0) + Sheet.intMask, Sheet.h2cMask)
        start(b, ring: ring, data: data)
        #expect(try irq.wait(vector: 2, timeout: .seconds(1)).vector == 2)
        irq.disable()
    }

    @Test("INTx: the level holds until the cause is cleared in the acknowledge step")
    func intx() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let data = try b.buffer(4096)
        let irq = try b.device.enableInterrupts(preferring: [.intx])
        #expect(irq.kind == .intx)
        let bar = b.bar
        irq.acknowledge = { _ in _ = bar.read32(at: Sheet.h2c(0) + Sheet.statusRC) }
        b.write(Sheet.irq + 0x10, 0x1)
        b.write(Sheet.h2c(0) + Sheet.intMask, Sheet.h2cMask)
        start(b, ring: ring, data: data)
        #expect(try irq.wait(vector: 0, timeout: .seconds(1)).count == 1)
        let configStatus = try b.device.config.read(ConfigRegisters.status)
        #expect(!ConfigRegisters.statusInterrupt.isSet(in: configStatus))
        #expect(b.model.statistics.intxAssertions == 1)
        #expect(try irq.poll(vector: 0) == nil)
        irq.disable()
    }

    @Test("User interrupts: vector fields 0x2080–0x208C, rising edge, clear through the user BAR")
    func userInterrupts() throws {
        let b = try Bench()
        let user = try b.device.bar(try #require(b.model.userBAR))
        let irq = try b.device.enableInterrupts(preferring: [.msix], vectors: 32)
        // User 2 → field 16 of 0x2080; user 5 → field 8 of 0x2084.
        b.write(Sheet.irq + 0x80, 18 << 16)
        b.write(Sheet.irq + 0x84, 21 << 8)
        b.write(Sheet.irq + 0x08, 0x0004)
        try b.model.raiseUserInterrupt(2)
        #expect(try irq.wait(vector: 18, timeout: .seconds(1)).vector == 18)
        #expect(b.read(Sheet.irq + 0x40) == 0x4)
        #expect(b.read(Sheet.irq + 0x48) == 0x4)
        // Still high: raising again is no edge.
        try b.model.raiseUserInterrupt(2)
        #expect(try irq.poll(vector: 18) == nil)
        // The host clears it through the design's register, then a new raise fires.
        user.write32(0x4, at: 0x44)
        #expect(b.read(Sheet.irq + 0x48) == 0)
        #expect(b.model.userInterruptLines == 0)
        try b.model.raiseUserInterrupt(2)
        #expect(try irq.poll(vector: 18) != nil)
        // A line raised while disabled fires when it is enabled; pending shows it meanwhile.
        try b.model.raiseUserInterrupt(5)
        #expect(b.read(Sheet.irq + 0x48) == 0x24)
        #expect(b.read(Sheet.irq + 0x40) == 0x4)
        #expect(try irq.poll(vector: 21) == nil)
        b.write(Sheet.irq + 0x08, 0x0020)
        #expect(try irq.poll(vector: 21) != nil)
        try b.model.lowerUserInterrupt(5)
        #expect(b.read(Sheet.irq + 0x48) == 0x4)
        // The user BAR's raise register drives the lines too.
        user.write32(0x4, at: 0x44)
        user.write32(0x20, at: 0x48)
        #expect(try irq.poll(vector: 21) != nil)
        #expect(throws: BusmasterError.self) { try b.model.raiseUserInterrupt(16) }
        irq.disable()
    }
}
