import Busmaster

/// A simulated board: devices are behavioural models, host memory sits behind a simulated
/// IOMMU, interrupts arrive on real eventfds, and device engines run on a device thread
/// (or deterministically, in ``SimulationMode/stepped``).
///
/// ```swift
/// let board = SimulatedPlatform()
/// let address = board.plug(EduModel())
/// let device = try board.open(address)
/// ```
public final class SimulatedPlatform: PCIPlatform, @unchecked Sendable {
    /// "simulation".
    public let name = "simulation"
    /// How devices run relative to the driver.
    public let mode: SimulationMode
    /// When true (the default), scatter/gather buffers (non-contiguous constraints) are
    /// mapped one page per bus segment in reverse order, so drivers see real S/G lists.
    public let fragmentsScatterGather: Bool
    let scheduler: SimulationScheduler
    private let iommu = SimulatedIOMMU()
    private var slots: [SimulatedSlot] = []
    private var nextBarAddress: UInt64 = 0xFE00_0000
    private var nextHighBarAddress: UInt64 = 0x38_0000_0000
    var faultsUnlocked = SimulationFaults()
    private var faultLog: [(PCIAddress, DMAFault)] = []
    private var lintLog: [(PCIAddress, String)] = []

    /// Creates an empty board.
    public init(mode: SimulationMode = .threaded, fragmentsScatterGather: Bool = true) {
        self.mode = mode
        self.fragmentsScatterGather = fragmentsScatterGather
        self.scheduler = SimulationScheduler(mode: mode)
    }

    deinit { scheduler.stop() }

    /// Plugs `model` in at `address` (default: the next free slot on bus 0 from device 1).
    @discardableResult
    public func plug(_ model: any DeviceModel, at address: PCIAddress? = nil) -> PCIAddress {
        scheduler.lock.withLock {
            let a = address ?? PCIAddress(bus: 0, device: UInt8(slots.count + 1), function: 0)
            precondition(!slots.contains { $0.address == a }, "slot \(a) is already occupied")
            var bars: [Int: UInt64] = [:]
            for b in model.configuration.bars {
                let size = UInt64(b.size)
                if b.is64Bit && b.isPrefetchable {
                    nextHighBarAddress = (nextHighBarAddress + size - 1) / size * size
                    bars[b.index] = nextHighBarAddress
                    nextHighBarAddress += size
                } else {
                    nextBarAddress = (nextBarAddress + size - 1) / size * size
                    bars[b.index] = nextBarAddress
                    nextBarAddress += size
                }
            }
            let slot = SimulatedSlot(address: a, model: model, scheduler: scheduler, iommu: iommu, barAddresses: bars, platform: self)
            // Leave COMMAND as PC firmware (SeaBIOS on QEMU) does after enumeration: I/O and
            // memory decoding plus SERR# on (0x0103, seen on the real-kernel test); bus
            // mastering stays off until a driver asks for it.
            _ = slot.config.write(0x04, .word, 0x0103)
            slots.append(slot)
            slots.sort { $0.address < $1.address }
            model.attach(slot.context)
            return a
        }
    }

    public func devices() throws -> [PCIDeviceInfo] {
        scheduler.lock.withLock { slots.map(\.info) }
    }

    /// Opens the device at `address`. Like VFIO, memory decoding is enabled on open;
    /// bus mastering is left to the driver. A device can be open only once at a time.
    public func open(_ address: PCIAddress) throws -> PCIDevice {
        let slot: SimulatedSlot = try scheduler.lock.withLock {
            guard let s = slots.first(where: { $0.address == address }) else {
                throw BusmasterError.noSuchDevice("\(address) on the simulated board (devices: \(slots.map(\.address.description).joined(separator: ", ")))")
            }
            guard !s.isOpen else { throw BusmasterError.platform("simulated device \(address) is already open") }
            s.isOpen = true
            _ = s.config.write(0x04, .word, UInt64(s.config.command | 0x2))
            return s
        }
        return PCIDevice(backend: SimulatedDeviceBackend(slot: slot, platform: self))
    }

    // MARK: Fault injection and observation

    /// Platform-level faults currently injected.
    public var faults: SimulationFaults {
        get { scheduler.lock.withLock { faultsUnlocked } }
        set { scheduler.lock.withLock { faultsUnlocked = newValue } }
    }

    /// DMA requests the IOMMU or bus refused so far, with the device that made them.
    public var dmaFaults: [DMAFault] { scheduler.lock.withLock { faultLog.map(\.1) } }

    /// Driver misbehaviour reported by models ("lints").
    public var lints: [String] { scheduler.lock.withLock { lintLog.map { "\($0.0): \($0.1)" } } }

    func recordFault(_ f: DMAFault, device: PCIAddress) { faultLog.append((device, f)) }
    func recordLint(_ m: String, device: PCIAddress) { lintLog.append((device, m)) }
    func consumeDroppedInterrupt() -> Bool {
        if faultsUnlocked.interruptsToDrop > 0 {
            faultsUnlocked.interruptsToDrop -= 1
            return true
        }
        return false
    }

    // MARK: Stepping

    /// Stepped mode: advances simulated time by `duration`, running what falls due.
    public func advance(by duration: Duration) {
        scheduler.lock.withLock { scheduler.advance(by: duration.nanoseconds) }
    }

    /// Stepped mode: runs scheduled work until none is left (or `limit` events ran).
    /// Returns the number of events run.
    @discardableResult
    public func runUntilIdle(limit: Int = 1_000_000) -> Int {
        scheduler.lock.withLock {
            var n = 0
            while n < limit, scheduler.runNext() { n += 1 }
            return n
        }
    }

    /// Whether device work is still scheduled.
    public var hasPendingWork: Bool { scheduler.lock.withLock { scheduler.hasPendingEvents } }

    /// Runs `body` with the simulation lock held, so a test can inspect or poke a model
    /// consistently while device work is paused.
    public func withModelsPaused<T>(_ body: () throws -> T) rethrows -> T {
        try scheduler.lock.withLock(body)
    }
}
