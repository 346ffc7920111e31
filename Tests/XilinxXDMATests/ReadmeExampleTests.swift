import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMA
import XilinxXDMAModel

/// The README's XDMA example, on the model instead of a real board (only the platform differs).
@Test func readmeExampleRuns() throws {
    var settings = XDMAModelConfiguration()
    settings.cardMemorySize = 128 << 20
    let board = SimulatedPlatform()
    let pci = try board.open(board.plug(try XDMAModel(settings)))
    let xdma = try XDMADevice.open(pci, options: XDMAOptions(cardMemorySize: 128 << 20))
    let h2c = try xdma.engine(.h2c, channel: 0)
    let c2h = try xdma.engine(.c2h, channel: 0)

    let buffer = try pci.allocateDMABuffer(size: 64 << 20, direction: .bidirectional)
    buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0xA5)
    let sent = try h2c.write(buffer, to: 0x0)
    buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0)
    let back = try c2h.read(into: buffer, from: 0x0)
    #expect(sent.bytes == 64 << 20 && back.bytes == 64 << 20)
    #expect(sent.megabytesPerSecond > 0 && back.megabytesPerSecond > 0)
    #expect(buffer.bytes.allSatisfy { $0 == 0xA5 })

    let prepared = try h2c.prepareWrite(buffer, range: 0..<4096, to: 0x1000)
    for _ in 0..<100 { try h2c.run(prepared) }
    #expect(h2c.statistics.transfers == 101)
    xdma.close()
    pci.close()
}
