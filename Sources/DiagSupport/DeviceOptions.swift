import ArgumentParser
import Busmaster
import BusmasterLibPCI
import BusmasterSimulation

/// Options every diag tool shares: where the device comes from and whether to record.
public struct DeviceOptions: ParsableArguments {
    /// Use the built-in simulated board.
    @Flag(help: "Use the built-in simulated board instead of real hardware.")
    public var simulate = false

    /// Record a register trace.
    @Option(help: ArgumentHelp("Record a register trace of the session to this file.", valueName: "file"))
    public var trace: String?

    /// Replay a trace instead of using a device.
    @Option(help: ArgumentHelp("Run against a recorded trace instead of a device.", valueName: "file"))
    public var replay: String?

    /// Read devices from an `lspci -xxxx` dump instead of the live system (read-only).
    @Option(help: ArgumentHelp("Read devices from an 'lspci -xxxx' dump file (read-only; BAR sizes from FILE.bars).", valueName: "file"))
    public var dump: String?

    /// Creates default options.
    public init() {}

    public func validate() throws {
        if [simulate, replay != nil, dump != nil].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --simulate, --replay and --dump")
        }
        if trace != nil && replay != nil && trace == replay {
            throw ValidationError("--trace and --replay name the same file")
        }
    }
}

/// A diag tool's connection to one platform, with trace recording and replay handled.
public final class DiagSession {
    /// The platform devices come from.
    public let platform: any PCIPlatform
    private let options: DeviceOptions
    private var recorded: [PCIDevice] = []
    private let replayPlatform: ReplayPlatform?

    /// Builds the platform the options name: a replay, the simulated `board`, or the host.
    public init(options: DeviceOptions, board: () -> SimulatedPlatform) throws {
        self.options = options
        if let path = options.replay {
            let r = ReplayPlatform(trace: try Trace.load(path: path))
            replayPlatform = r
            platform = r
        } else if let path = options.dump {
            replayPlatform = nil
            platform = try PCIDumpPlatform(path: path)
        } else if options.simulate {
            replayPlatform = nil
            platform = board()
        } else {
            replayPlatform = nil
            platform = try HostPlatform.make()
        }
    }

    /// Finds the device `spec` names: a PCI address, an `lspci -s` slot selector or an
    /// `lspci -d` ID selector. With no spec, the platform must have exactly one device
    /// matching `defaultSelector` (or exactly one device at all).
    public func resolve(_ spec: String?, defaultSelector: DeviceSelector? = nil) throws -> PCIDeviceInfo {
        if let spec {
            if let a = PCIAddress(spec) {
                guard let info = try platform.devices().first(where: { $0.address == a }) else {
                    throw BusmasterError.noSuchDevice("\(a) on \(platform.name)")
                }
                return info
            }
            return try platform.device(matching: try DeviceSelector(parsing: spec))
        }
        if let s = defaultSelector { return try platform.device(matching: s) }
        let all = try platform.devices()
        guard all.count == 1 else {
            throw BusmasterError.invalidArgument(
                all.isEmpty ? "no devices on \(platform.name)"
                    : "name a device: \(all.count) found on \(platform.name) (\(all.map(\.address.shortDescription).joined(separator: ", ")))")
        }
        return all[0]
    }

    /// Opens the device `spec` names, recording it when `--trace` was given.
    public func open(_ spec: String?, defaultSelector: DeviceSelector? = nil) throws -> PCIDevice {
        let info = try resolve(spec, defaultSelector: defaultSelector)
        var device = try platform.open(info.address)
        HostPlatform.warnIfUnisolated(device)
        if let path = options.trace {
            let writer = try TraceFileWriter(path: path)
            device = try device.rewrapped { TracingBackend(wrapping: $0, writer: writer) }
            recorded.append(device)
        }
        return device
    }

    /// Closes recorded devices (completing their trace files) and, for a replay, checks the
    /// whole trace was replayed without divergence.
    public func finish() throws {
        for d in recorded {
            d.close()
            if let r = TraceRecorder.recorder(of: d) { try r.finish() }
        }
        recorded.removeAll()
        try replayPlatform?.finish()
    }
}
