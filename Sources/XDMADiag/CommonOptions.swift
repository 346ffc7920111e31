import ArgumentParser
import Busmaster
import DiagSupport
import XilinxXDMA

/// Where the device comes from and how the XDMA driver opens it; shared by every command.
struct ConnectionOptions: ParsableArguments {
    @OptionGroup var source: DeviceOptions

    @Option(
        name: [.customShort("d"), .customLong("device")],
        help: ArgumentHelp("Device address or selector (default: the only 10ee/1d0f device).", valueName: "device"))
    var device: String?

    @Flag(help: "Simulate a card with AXI4-Stream engines in loopback (H2C n -> C2H n) instead of memory-mapped ones.")
    var simulateStream = false

    @Option(help: ArgumentHelp(
        "Card memory behind the memory-mapped engines (K/M/G); transfers beyond it are refused. Simulation default 256M.",
        valueName: "size"))
    var cardMemory: String?

    @Option(help: "Completion: auto (MSI-X, MSI, INTx, else poll), poll, msix, msi or intx.")
    var completion: CompletionChoice = .auto

    @Option(help: ArgumentHelp("Per-transfer timeout (e.g. 10, 2.5s, 500ms).", valueName: "duration"))
    var timeout: String = "10s"

    func validate() throws {
        if source.dump != nil {
            throw ValidationError("--dump reads config space only, but xdma-diag needs the card's BARs; use the device itself, --simulate or --replay")
        }
        if simulateStream && source.replay != nil {
            throw ValidationError("--simulate-stream builds a simulated card; it cannot be combined with --replay")
        }
        _ = try DurationParser.parse(timeout)
        if let m = cardMemory {
            let v = try NumberParser.size(m, name: "--card-memory")
            guard v >= 4096 else { throw ValidationError("--card-memory must be at least 4K (got \(m))") }
            if isSimulated && v > SimulatedCard.maximumCardMemory {
                throw ValidationError("--card-memory for the simulated card must be at most \(Format.size(SimulatedCard.maximumCardMemory)) (got \(m))")
            }
        }
    }

    /// Whether the simulated card is used.
    var isSimulated: Bool { source.simulate || simulateStream }

    /// The parsed timeout.
    var timeoutDuration: Duration { (try? DurationParser.parse(timeout)) ?? .seconds(10) }

    /// The parsed card memory size, if given.
    var cardMemoryBytes: Int? { cardMemory.flatMap { try? NumberParser.size($0, name: "--card-memory") } }

    /// The device the user named: `--device` or a command's positional argument (not both, unless equal).
    func deviceSpec(positional: String?) throws -> String? {
        if let p = positional, let d = device, p != d {
            throw ValidationError("the device is named twice ('\(p)' and --device '\(d)'); give one")
        }
        return positional ?? device
    }
}

/// Output format and progress display.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Show progress on standard error even when it is not a terminal.")
    var progress = false
}
