import Busmaster
import BusmasterSimulation
import XilinxXDMA
import XilinxXDMAModel

/// A simulated XDMA board opened with the driver, for the XDMA rows.
struct XDMABoard {
    let platform: SimulatedPlatform
    let model: XDMAModel
    let pci: PCIDevice
    let xdma: XDMADevice

    init(mode: SimulationMode = .threaded, cardMemory: Int = 128 << 20, descriptorsPerEngine: Int = 4096,
         completion: XDMACompletionMode = .poll, interrupts: [InterruptKind] = [], fragmentsScatterGather: Bool = true,
         wrap: ((PCIDevice) throws -> PCIDevice)? = nil) throws {
        var settings = XDMAModelConfiguration()
        settings.cardMemorySize = cardMemory
        platform = SimulatedPlatform(mode: mode, fragmentsScatterGather: fragmentsScatterGather)
        model = try XDMAModel(settings)
        var device = try platform.open(platform.plug(model))
        if let wrap { device = try wrap(device) }
        pci = device
        xdma = try XDMADevice.open(
            device,
            options: XDMAOptions(cardMemorySize: UInt64(cardMemory), interrupts: interrupts, completion: completion,
                                 descriptorsPerEngine: descriptorsPerEngine))
    }

    func close() {
        xdma.close()
        pci.close()
    }
}
