import Busmaster
import Synchronization

/// State every engine of one device shares: the DMA BAR, the options, the device-lost and
/// closed flags, and the interrupt routing.
final class XDMADeviceState: @unchecked Sendable {
    let bar: MMIORegion
    let options: XDMAOptions
    /// Datapath width in bytes, read from the config block at open.
    var datapathBytes = 8
    private let lostFlag = Atomic<Bool>(false)
    /// User interrupt lines the driver has enabled (so shared-vector service skips 0x2040 when none are).
    let userLinesEnabled = Atomic<UInt32>(0)
    private let closedFlag = Atomic<Bool>(false)
    private let lock = Lock()
    private var lostReason = ""
    private var routerStorage: XDMAInterruptRouter?

    /// The platform, told when the driver waits without register accesses (poll mode).
    let platform: any PCIDeviceBackend

    init(bar: MMIORegion, options: XDMAOptions, platform: any PCIDeviceBackend) {
        self.bar = bar
        self.options = options
        self.platform = platform
    }

    /// Whether the device was found removed (all-ones reads).
    var isLost: Bool { lostFlag.load(ordering: .acquiring) }
    /// Whether the device was closed.
    var isClosed: Bool { closedFlag.load(ordering: .acquiring) }

    /// Records that the device reads all-ones; every later request fails fast.
    func markLost(_ why: String) {
        lock.withLock { if lostReason.isEmpty { lostReason = why } }
        lostFlag.store(true, ordering: .releasing)
    }

    /// Marks the device closed.
    func markClosed() { closedFlag.store(true, ordering: .releasing) }

    /// Throws when the device is closed or lost.
    func check() throws(XDMAError) {
        if isClosed { throw .closed }
        if isLost { throw .deviceLost(lock.withLock { lostReason }) }
    }

    /// The active interrupt routing, if interrupts are enabled.
    var router: XDMAInterruptRouter? {
        get { lock.withLock { routerStorage } }
        set { lock.withLock { routerStorage = newValue } }
    }

    /// Reads an identifier and reports whether the device is gone (and marks it lost).
    func probeLost(_ identifier: Register<UInt32>) -> Bool {
        if bar.read(identifier) == XDMARegisters.Identifier.deviceLostValue {
            markLost("\(identifier.name) at 0x\(String(identifier.offset, radix: 16)) reads 0xFFFFFFFF")
            return true
        }
        return false
    }
}

/// A flag a caller sets to abandon a transfer in progress (used by the async API when the
/// task is cancelled). The transfer stops its engine and fails with ``XDMAError/cancelled(_:)``.
public final class XDMACancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Creates an unset flag.
    public init() {}

    /// Requests cancellation.
    public func cancel() { flag.store(true, ordering: .releasing) }

    /// Whether cancellation was requested.
    public var isCancelled: Bool { flag.load(ordering: .acquiring) }
}
