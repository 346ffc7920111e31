import Busmaster
import BusmasterSimulation
import EduModel
import Testing

/// The README's "Using the core" example, line for line.
@Test func readmeCoreExampleRuns() throws {
    let board = SimulatedPlatform()
    let device = try board.open(board.plug(EduModel()))
    let bar0 = try device.bar(0)
    #expect(String(bar0.read32(at: 0x00), radix: 16) == "10000ed")
    try device.enable(memory: true, busMaster: true)

    let buffer = try device.allocateDMABuffer(size: 4096, direction: .toDevice, constraints: DMAConstraints(addressBits: 28))
    bar0.write64(buffer.busAddress(), at: 0x80)
    #expect(bar0.read64(at: 0x80) == buffer.busAddress())

    let irq = try device.enableInterrupts(preferring: [.msix, .msi, .intx])
    irq.acknowledge = { _ in bar0.write32(bar0.read32(at: 0x24), at: 0x64) }
    bar0.write32(0x1, at: 0x60)
    let event = try irq.wait(timeout: .seconds(1))
    #expect(irq.kind == .msi && event.vector == 0)
    #expect(bar0.read32(at: 0x24) == 0, "acknowledged")
    device.close()
}
