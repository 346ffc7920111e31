import Busmaster
import BusmasterSimulation
import EduDriver
import EduModel
import Testing

/// The edu sample driver against the edu model on the simulated platform.
@Suite struct EduOnSimulationTests {
    func board(_ mode: SimulationMode = .stepped, dmaTime: Duration = .microseconds(50)) -> (SimulatedPlatform, PCIAddress) {
        let p = SimulatedPlatform(mode: mode)
        let a = p.plug(EduModel(dmaTime: dmaTime))
        return (p, a)
    }

    @Test(arguments: [[InterruptKind.msi], [.intx], [.polling]])
    func selfTestPassesStepped(_ kinds: [InterruptKind]) throws {
        let (p, a) = board()
        let device = try p.open(a)
        let checks = EduSelfTest.run(on: device, interrupts: kinds)
        #expect(checks.count == 6)
        for c in checks { #expect(c.passed, "\(c.name): \(c.detail)") }
        #expect(p.dmaFaults.isEmpty)
        #expect(p.lints.isEmpty)
    }

    @Test func selfTestPassesThreadedWithDeviceThread() throws {
        let (p, a) = board(.threaded, dmaTime: .milliseconds(2))
        let device = try p.open(a)
        let checks = EduSelfTest.run(on: device, interrupts: [.msi, .intx], timeout: .seconds(5))
        for c in checks { #expect(c.passed, "\(c.name): \(c.detail)") }
        #expect(checks.contains { $0.detail.contains("MSI delivered") })
    }

    @Test func listsTheSimulatedEduWithQEMUIdentity() throws {
        let (p, a) = board()
        let info = try #require(try p.devices().first)
        #expect(info.address == a)
        #expect(info.idString == "1234:11e8")
        #expect(info.classCode == 0x00FF00 && info.revision == 0x10)
        #expect(info.subsystemVendorID == 0x1AF4 && info.subsystemID == 0x1100)
        #expect(info.bars == [BARInfo(index: 0, address: 0xFE00_0000, size: 1 << 20)])
        #expect(info.capabilities == [PCICapability(id: 0x05, offset: 0x40, isExtended: false)])
        #expect(info.interruptPin == 1)
    }

    @Test func configSpaceBARSizingAndCommand() throws {
        let (p, a) = board()
        let d = try p.open(a)
        try d.config.write32(0xFFFF_FFFF, at: 0x10)
        #expect(try d.config.read32(at: 0x10) == 0xFFF0_0000, "1 MiB BAR sizes as ~(1M-1)")
        try d.config.write32(0xFE00_0000, at: 0x10)
        #expect(try d.config.read32(at: 0x10) == 0xFE00_0000)
        #expect(try d.config.read16(at: 0x04) & 0x2 == 0x2, "memory decoding on after open, as with VFIO")
        try d.enable()
        #expect(try d.config.read16(at: 0x04) & 0x6 == 0x6)
        #expect(throws: BusmasterError.self) { try d.config.read32(at: 0x100) }
        #expect(throws: BusmasterError.self) { try d.config.read32(at: 0x02) }
    }

    @Test func edusAccessSizeRules() throws {
        let (p, a) = board()
        let d = try p.open(a)
        let bar = try d.bar(0)
        #expect(bar.read32(at: 0) == 0x0100_00ED)
        #expect(bar.read16(at: 0) == 0xFFFF, "edu answers all-ones to 16-bit reads below 0x80")
        #expect(bar.read32(at: 0x10) == 0xFFFF_FFFF, "unlisted offsets read all-ones")
        bar.write64(0x1_2345_6000, at: 0x80)
        #expect(bar.read64(at: 0x80) == 0x1_2345_6000)
        bar.write32(0x5000, at: 0x80)
        #expect(bar.read64(at: 0x80) == 0x5000, "4-byte writes zero the upper half")
        #expect(throws: BusmasterError.self) { try d.bar(1) }
    }

    @Test func dmaToUnmappedMemoryIsAFaultNotACrash() throws {
        let (p, a) = board()
        let d = try p.open(a)
        let edu = try EduDevice(device: d)
        let bar = edu.registers
        // Program a RAM address nobody mapped.
        bar.write(EduRegisters.dmaSource, 0x0123_4000)
        bar.write(EduRegisters.dmaDestination, EduRegisters.deviceBufferAddress)
        bar.write(EduRegisters.dmaCount, 64)
        bar.write(EduRegisters.dmaCommand, EduRegisters.commandRun.mask)
        p.runUntilIdle()
        let fault = try #require(p.dmaFaults.first)
        #expect(fault.reason == .unmapped && fault.isRead && fault.address == 0x0123_4000)
        #expect("\(fault)".contains("no DMA mapping covers it"))
    }

    @Test func dmaInTheWrongDirectionIsRefused() throws {
        let (p, a) = board()
        let d = try p.open(a)
        let edu = try EduDevice(device: d)
        let buf = try d.allocateDMABuffer(size: 4096, direction: .toDevice, constraints: DMAConstraints(addressBits: 28))
        try edu.copyFromDevice(into: buf, count: 256)  // device writes a to-device buffer
        let fault = try #require(p.dmaFaults.first)
        #expect(fault.reason == .permission && !fault.isRead)
    }

    @Test func dmaWithoutBusMasterIsRefused() throws {
        let (p, a) = board()
        let d = try p.open(a)
        let edu = try EduDevice(device: d)
        try d.config.write16(0x0002, at: 0x04)  // bus master off again
        let buf = try d.allocateDMABuffer(size: 4096, direction: .bidirectional, constraints: DMAConstraints(addressBits: 28))
        try edu.copyToDevice(from: buf, count: 16)
        #expect(p.dmaFaults.first?.reason == .busMasterDisabled)
    }

    @Test func freedBuffersAreUnreachable() throws {
        let (p, a) = board()
        let d = try p.open(a)
        let edu = try EduDevice(device: d)
        let buf = try d.allocateDMABuffer(size: 4096, direction: .fromDevice, constraints: DMAConstraints(addressBits: 28))
        let bus = buf.busAddress()
        buf.free()
        edu.registers.write(EduRegisters.dmaSource, EduRegisters.deviceBufferAddress)
        edu.registers.write(EduRegisters.dmaDestination, bus)
        edu.registers.write(EduRegisters.dmaCount, 16)
        edu.registers.write(EduRegisters.dmaCommand, EduRegisters.commandRun.mask | EduRegisters.commandDeviceToRAM.mask)
        p.runUntilIdle()
        #expect(p.dmaFaults.first?.reason == .unmapped)
    }

    @Test func surpriseRemovalReadsAllOnes() throws {
        let (p, a) = board()
        let d = try p.open(a)
        p.faults.surpriseRemoval = true
        #expect(throws: BusmasterError.deviceLost("edu at \(a)")) { try EduDevice(device: d) }
        #expect(try d.config.read16(at: 0) == 0xFFFF)
    }

    @Test func droppedInterruptTimesOutInsteadOfHanging() throws {
        let (p, a) = board()
        let d = try p.open(a)
        let edu = try EduDevice(device: d)
        edu.timeout = .milliseconds(50)
        try edu.enableInterrupts(preferring: [.msi])
        p.faults.interruptsToDrop = 1
        #expect(throws: BusmasterError.self) { try edu.raiseAndWait(0x1) }
        // The next one arrives.
        edu.registers.write(EduRegisters.interruptAcknowledge, 0xFFFF_FFFF)
        #expect(try edu.raiseAndWait(0x2) == 0x2)
    }

    @Test func coalescedMessagesCountAsLost() throws {
        let (p, a) = board()
        let d = try p.open(a)
        let edu = try EduDevice(device: d)
        let irq = try edu.enableInterrupts(preferring: [.msi])
        for v: UInt32 in [1, 2, 4] { edu.registers.write(EduRegisters.interruptRaise, v) }
        let e = try irq.wait(timeout: .seconds(1))
        #expect(e.count == 3)
        #expect(irq.delivered == 3 && irq.lost == 2)
    }

    @Test func intxStaysMaskedUntilAcknowledged() throws {
        let (p, a) = board()
        let d = try p.open(a)
        let edu = try EduDevice(device: d)
        let irq = try d.enableInterrupts(preferring: [.intx])
        #expect(irq.kind == .intx)
        // No acknowledge step: the level stays high, so the unmask re-fires at once.
        edu.registers.write(EduRegisters.interruptRaise, 0x10)
        _ = try irq.wait(timeout: .seconds(1))
        #expect(try irq.poll(timeout: .zero) != nil, "unmask with the cause still set fires again")
        // With the acknowledge step before unmask, it does not.
        irq.acknowledge = { _ in edu.registers.write(EduRegisters.interruptAcknowledge, 0x10) }
        _ = try irq.wait(timeout: .seconds(1))
        #expect(try irq.poll(timeout: .zero) == nil)
        #expect(try d.config.read16(at: 0x06) & 0x8 == 0, "INTx status clear after the ack")
    }

    @Test func asyncEventsDeliverInterrupts() async throws {
        let (p, a) = board(.threaded)
        let d = try p.open(a)
        let edu = try EduDevice(device: d)
        let irq = try edu.enableInterrupts(preferring: [.msi])
        let regs = edu.registers
        irq.acknowledge = { _ in regs.write(EduRegisters.interruptAcknowledge, regs.read(EduRegisters.interruptStatus)) }
        var received = 0
        regs.write(EduRegisters.interruptRaise, 0x40)
        for try await e in irq.events() {
            #expect(e.vector == 0)
            received += 1
            if received == 2 { break }
            regs.write(EduRegisters.interruptRaise, 0x80)
        }
        #expect(received == 2)
        irq.disable()
        #expect(throws: BusmasterError.self) { try irq.wait(timeout: .milliseconds(10)) }
    }

    @Test func interruptsCannotBeEnabledTwice() throws {
        let (p, a) = board()
        let d = try p.open(a)
        _ = try d.enableInterrupts(preferring: [.msi])
        #expect(throws: BusmasterError.self) { try d.enableInterrupts(preferring: [.intx]) }
        #expect(throws: BusmasterError.self) { try d.enableInterrupts(preferring: [.msix]) }
    }

    @Test func deviceOpensOnlyOnce() throws {
        let (p, a) = board()
        let d = try p.open(a)
        #expect(throws: BusmasterError.self) { try p.open(a) }
        d.close()
        _ = try p.open(a)
        #expect(throws: BusmasterError.self) { try p.open(PCIAddress(bus: 9, device: 0, function: 0)) }
    }
}

/// What the real-kernel test taught the model and the driver.
@Suite struct EduRealDeviceQuirkTests {
    @Test func fullBufferTransferIsRefusedLikeQEMU72() throws {
        let p = SimulatedPlatform(mode: .stepped)
        let a = p.plug(EduModel(dmaTime: .microseconds(10)))
        let d = try p.open(a)
        let edu = try EduDevice(device: d)
        let buf = try d.allocateDMABuffer(size: 4096, direction: .toDevice, constraints: DMAConstraints(addressBits: 28))
        // The driver refuses what would abort QEMU 7.2 ...
        #expect(throws: EduError.dmaOutOfRange(offset: 0, count: 4096)) { try edu.copyToDevice(from: buf, count: 4096) }
        #expect(throws: EduError.dmaOutOfRange(offset: 4000, count: 96)) { try edu.copyToDevice(from: buf, deviceOffset: 4000, count: 96) }
        try edu.copyToDevice(from: buf, deviceOffset: 4000, count: 95)
        #expect(p.lints.isEmpty)
        // ... and the model refuses it when a driver programs it anyway.
        let r = edu.registers
        r.write(EduRegisters.dmaSource, buf.busAddress())
        r.write(EduRegisters.dmaDestination, EduRegisters.deviceBufferAddress)
        r.write(EduRegisters.dmaCount, 4096)
        r.write(EduRegisters.dmaCommand, EduRegisters.commandRun.mask)
        p.runUntilIdle()
        #expect(p.lints.count == 1)
        #expect(p.lints.first?.contains("QEMU 7.2") == true)
    }

    @Test func newerQEMUAcceptsTheFullBuffer() throws {
        let p = SimulatedPlatform(mode: .stepped)
        let model = EduModel(dmaTime: .microseconds(10), rejectsTransfersEndingAtBufferEnd: false)
        let d = try p.open(p.plug(model))
        let buf = try d.allocateDMABuffer(size: 4096, direction: .toDevice, constraints: DMAConstraints(addressBits: 28))
        for i in 0..<4096 { buf.bytes[i] = UInt8(i & 0xFF) }
        try d.enable()
        let r = try d.bar(0)
        r.write(EduRegisters.dmaSource, buf.busAddress())
        r.write(EduRegisters.dmaDestination, EduRegisters.deviceBufferAddress)
        r.write(EduRegisters.dmaCount, 4096)
        r.write(EduRegisters.dmaCommand, EduRegisters.commandRun.mask)
        p.runUntilIdle()
        #expect(p.lints.isEmpty)
        #expect(model.dmaBuffer[4095] == 0xFF)
    }
}
