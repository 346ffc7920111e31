import ArgumentParser
import Busmaster
import BusmasterSimulation
import DiagSupport
import XilinxXDMA

/// An open XDMA card: the diag session (trace/replay), the PCI function and the driver.
/// ``close()`` shuts everything down in a fixed order, so recorded traces replay.
final class XDMAConnection {
    /// Vendors whose devices are taken for XDMA cards when no device is named (Xilinx, AWS).
    static let xdmaVendors: [UInt16] = [0x10EE, 0x1D0F]

    /// The diag session.
    let session: DiagSession
    /// The PCI function.
    let pci: PCIDevice
    /// The XDMA driver on it.
    let xdma: XDMADevice
    /// The simulated card, with `--simulate`.
    let simulated: SimulatedCard?
    /// What the command line asked for.
    let options: ConnectionOptions
    /// Card memory size the driver checks transfers against (nil: unknown).
    let cardMemory: UInt64?
    private var closed = false

    /// Opens the device the options name. Bad selections and non-XDMA devices fail before
    /// anything is written to the device.
    init(_ options: ConnectionOptions, positional: String? = nil) throws {
        self.options = options
        let spec = try options.deviceSpec(positional: positional)
        var source = options.source
        var card: SimulatedCard? = nil
        if options.isSimulated {
            source.simulate = true
            card = try SimulatedCard(stream: options.simulateStream, cardMemory: options.cardMemoryBytes)
        }
        simulated = card
        if options.completion == .poll && (source.trace != nil || source.replay != nil) {
            DiagOutput.warn(
                "warning: poll-mode completion watches a writeback word in host memory, which traces do not carry; "
                    + "a poll-mode session does not replay (use --completion auto or msix to record replayable traces)")
        }
        let session = try DiagSession(options: source, board: { card?.makeBoard() ?? SimulatedPlatform(mode: .threaded) })
        self.session = session
        let info = try Self.resolve(session, spec)
        let pci = try session.open(info.address.description)
        self.pci = pci
        cardMemory = card.map { UInt64($0.cardMemorySize) } ?? options.cardMemoryBytes.map(UInt64.init)
        do {
            // Identify first: only reads, so a device that is not an XDMA is left untouched.
            let layout = try Self.identify(pci)
            let xdmaOptions = XDMAOptions(
                dmaBAR: layout.dma, cardMemorySize: cardMemory, interrupts: options.completion.interruptKinds,
                timeout: options.timeoutDuration)
            let device = try XDMADevice.open(pci, options: xdmaOptions)
            if let required = options.completion.required, device.interruptKind != required {
                let notes = device.notes.isEmpty ? "" : " (\(device.notes.joined(separator: "; ")))"
                device.close()
                throw XDMADiagError.interruptKind(
                    "\(required) could not be enabled on \(info.address.shortDescription)\(notes); "
                        + "available: \(Self.available(pci)); use --completion auto or poll")
            }
            xdma = device
        } catch {
            pci.close()
            try? session.finish()
            throw error
        }
    }

    /// Locates the DMA BAR by its identifier registers. A device whose config space answers
    /// but whose BARs carry no XDMA identifiers (all-ones included) is reported as not an XDMA.
    static func identify(_ pci: PCIDevice) throws -> XDMABARLayout {
        do {
            return try XDMABARLocator.locate(pci)
        } catch {
            let what = "\(pci.address.shortDescription) [\(pci.info.idString)]"
            switch error {
            case .notXDMA(let m), .dmaBARNotFound(let m):
                if m.contains("cannot map") {
                    throw XDMADiagError.notXDMA("\(what) cannot be identified: its BARs cannot be mapped (\(m))")
                }
                throw XDMADiagError.notXDMA("\(what) is not an XDMA device: \(m)")
            case .deviceLost(let m):
                let vendor = try? pci.config.read(ConfigRegisters.vendorID)
                guard let vendor, vendor != 0xFFFF else { throw error }
                throw XDMADiagError.notXDMA("\(what) is not an XDMA device: \(m)")
            default:
                throw error
            }
        }
    }

    /// The device `spec` names, or the only XDMA-looking one.
    static func resolve(_ session: DiagSession, _ spec: String?) throws -> PCIDeviceInfo {
        if let spec { return try session.resolve(spec) }
        let all = try session.platform.devices()
        let candidates = all.filter { xdmaVendors.contains($0.vendorID) }
        switch candidates.count {
        case 1: return candidates[0]
        case 0:
            throw XDMADiagError.deviceSelection(
                "no XDMA-looking device (vendor 10ee or 1d0f) on \(session.platform.name)"
                    + (all.isEmpty ? "" : " (devices: \(all.map { "\($0.address.shortDescription) [\($0.idString)]" }.joined(separator: ", ")))")
                    + "; name one with --device")
        default:
            throw XDMADiagError.deviceSelection(
                "\(candidates.count) XDMA-looking devices on \(session.platform.name) "
                    + "(\(candidates.map { "\($0.address.shortDescription) [\($0.idString)]" }.joined(separator: ", "))); name one with --device")
        }
    }

    /// The interrupt kinds `pci` offers, with vector counts, for error messages.
    static func available(_ pci: PCIDevice) -> String {
        let counts = pci.availableInterrupts.filter { $0.key != .polling && $0.value > 0 }
        if counts.isEmpty { return "none" }
        return counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) (\($0.value) vector(s))" }.joined(separator: ", ")
    }

    /// The engine for `direction`/`channel`, with channel checked against 0…3 first.
    func engine(_ direction: XDMADirection, channel: Int) throws -> XDMAEngine {
        guard (0..<XDMARegisters.maxChannels).contains(channel) else {
            throw XDMADiagError.invalidInput("--channel must be 0-\(XDMARegisters.maxChannels - 1) (got \(channel))")
        }
        return try xdma.engine(direction, channel: channel)
    }

    /// How completion is detected now ("poll", or the interrupt kind).
    var completionDescription: String {
        if let k = xdma.interruptKind, k != .polling { return "\(k) interrupts" }
        return "poll-mode writeback"
    }

    /// Allocates a page-aligned, bus-contiguous DMA buffer.
    func allocate(_ size: Int, _ direction: DMADirection) throws -> DMABuffer {
        try pci.allocateDMABuffer(size: size, direction: direction, constraints: DMAConstraints(alignment: 4096, contiguous: true))
    }

    /// Closes the driver and the device and completes the session (trace file, replay check).
    func close() throws {
        guard !closed else { return }
        closed = true
        xdma.close()
        pci.close()
        try session.finish()
    }

    /// Runs `body` with the connection open and closes it afterwards, also when `body` throws.
    static func with<T>(_ options: ConnectionOptions, positional: String? = nil, _ body: (XDMAConnection) throws -> T) throws -> T {
        let c = try XDMAConnection(options, positional: positional)
        let result: T
        do { result = try body(c) } catch {
            do { try c.close() } catch let closing {
                // A replay that left the trace explains the failure better than its symptom
                // (a diverged replay answers all-ones, which the driver reports as device lost).
                if options.source.replay != nil { throw closing }
            }
            throw error
        }
        try c.close()
        return result
    }
}
