import Busmaster
import BusmasterSimulation
import EduModel
import XilinxXDMAModel

#if canImport(Glibc)
    import Glibc
#endif

/// The simulated board behind `--simulate`: an XDMA card at 00:01.0 and, like a real
/// machine's other devices, QEMU's edu at 00:02.0 (which is not an XDMA).
final class SimulatedCard {
    /// Card memory of the simulated card unless `--card-memory` says otherwise: room for 64 MiB
    /// transfers at several card offsets.
    static let defaultCardMemory = 256 << 20
    /// The most card memory the simulated card may be given.
    static let maximumCardMemory = 4 << 30
    /// Where the XDMA card sits.
    static let cardAddress = PCIAddress(bus: 0, device: 1, function: 0)
    /// Where the edu device sits.
    static let otherDeviceAddress = PCIAddress(bus: 0, device: 2, function: 0)

    /// The XDMA model (for raising user interrupts).
    let model: XDMAModel

    /// Builds the model: memory-mapped H2C/C2H channels 0–1, or stream channels 0–1 in loopback.
    init(stream: Bool, cardMemory: Int?) throws {
        var config = stream ? XDMAModelConfiguration.streamLoopback(channels: 2) : XDMAModelConfiguration()
        if !stream {
            config.h2cEngines = [.memoryMapped, .memoryMapped]
            config.c2hEngines = [.memoryMapped, .memoryMapped]
        }
        config.cardMemorySize = cardMemory ?? Self.defaultCardMemory
        model = try XDMAModel(config)
    }

    /// Card memory in bytes (what the driver is told).
    var cardMemorySize: Int { model.settings.cardMemorySize }

    /// A board with the card and the edu device, running on device threads.
    func makeBoard() -> SimulatedPlatform {
        let board = SimulatedPlatform(mode: .threaded)
        board.plug(model, at: Self.cardAddress)
        board.plug(EduModel(), at: Self.otherDeviceAddress)
        return board
    }

    /// Raises user interrupt line `line` after `delay`, from another thread, so a waiting
    /// command can be demonstrated. The model's public methods take the platform lock, so
    /// calling one from another thread is safe.
    func raiseUserInterrupt(_ line: Int, after delay: Duration) {
        let box = ModelBox(model)
        startThread(name: "xdma-diag-raise") {
            var ts = timespec(tv_sec: Int(delay.nanoseconds / 1_000_000_000), tv_nsec: Int(delay.nanoseconds % 1_000_000_000))
            nanosleep(&ts, nil)
            try? box.model.raiseUserInterrupt(line)
        }
    }

    /// Lowers user interrupt line `line` (the simulated user logic clears its source).
    func lowerUserInterrupt(_ line: Int) throws { try model.lowerUserInterrupt(line) }
}

/// Carries the model to another thread; its public methods lock the platform themselves.
private final class ModelBox: @unchecked Sendable {
    let model: XDMAModel
    init(_ model: XDMAModel) { self.model = model }
}
