/// A platform with one device: the device of a trace, replayed (see ``TraceReplayBackend``).
public final class ReplayPlatform: PCIPlatform, @unchecked Sendable {
    /// The trace served.
    public let trace: Trace
    private let lock = Lock()
    private var opened: TraceReplayBackend?

    /// Serves `trace`.
    public init(trace: Trace) { self.trace = trace }

    /// Loads and serves the trace file at `path`.
    public convenience init(path: String) throws { self.init(trace: try Trace.load(path: path)) }

    /// "replay".
    public var name: String { "replay" }

    /// The trace's one device.
    public func devices() throws -> [PCIDeviceInfo] { [trace.device.deviceInfo] }

    /// Opens the trace's device (at the address it was recorded at); each open starts a new
    /// replay from the first line.
    public func open(_ address: PCIAddress) throws -> PCIDevice {
        guard address == trace.device.address else {
            throw BusmasterError.noSuchDevice("\(address) on replay of \(trace.fileName) (it holds \(trace.device.address))")
        }
        let backend = TraceReplayBackend(trace: trace)
        lock.withLock { opened = backend }
        return PCIDevice(backend: backend)
    }

    /// The replay started by the latest ``open(_:)``.
    public var replay: TraceReplayBackend? { lock.withLock { opened } }

    /// ``TraceReplayBackend/finish()`` of the latest replay; throws if the device was never opened.
    public func finish() throws {
        guard let r = replay else {
            throw BusmasterError.replayDivergence("\(trace.fileName): the replayed device was never opened")
        }
        try r.finish()
    }
}
