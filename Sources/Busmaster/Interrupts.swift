import Synchronization

/// How a device signals the host.
public enum InterruptKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// MSI-X: one message per vector, each with its own table entry.
    case msix
    /// MSI: one or more messages from one capability.
    case msi
    /// Legacy level-triggered INTx (shared, needs an acknowledge step before unmask).
    case intx
    /// No interrupts: the driver polls.
    case polling

    public var description: String {
        switch self {
        case .msix: "MSI-X"
        case .msi: "MSI"
        case .intx: "INTx"
        case .polling: "polling"
        }
    }
}

/// The platform side of one interrupt vector: something a driver thread can block on.
public protocol InterruptSource: AnyObject, Sendable {
    /// Waits up to `timeoutNanos` for the vector. Returns how many signals arrived since the
    /// last wait (0 on timeout); more than 1 means signals were coalesced (lost).
    /// Throws when the source is cancelled (interrupts disabled) or on a platform error.
    func wait(timeoutNanos: UInt64) throws -> UInt64
    /// Wakes any waiter with an error; later waits fail too.
    func cancel()
}

/// An interrupt the driver received.
public struct InterruptEvent: Sendable, Hashable {
    /// Vector index (0 for INTx).
    public var vector: Int
    /// Signals that arrived since the previous event on this vector (≥ 1); more than 1 means
    /// the platform coalesced interrupts that were not waited for in time.
    public var count: UInt64
}

/// A standard-library ``InterruptSource`` over an ``EventFD`` (VFIO, and the simulation).
public final class EventFDInterruptSource: InterruptSource {
    /// The eventfd the platform signals.
    public let eventFD: EventFD
    private let cancelFD: EventFD

    /// Creates a source with a new eventfd.
    public init() throws {
        eventFD = try EventFD()
        cancelFD = try EventFD()
    }

    public func wait(timeoutNanos: UInt64) throws -> UInt64 {
        try eventFD.wait(timeoutNanos: timeoutNanos, cancel: cancelFD)
    }

    public func cancel() { cancelFD.signal() }
}

/// Enabled interrupts of one device: blocking waits with timeouts, an async sequence of
/// events, and counters.
///
/// For INTx the platform masks the line when it fires; ``wait(vector:timeout:)`` runs the
/// driver's ``acknowledge`` step (which must clear the cause at the device) and only then
/// unmasks, so a level interrupt can never storm.
public final class Interrupts: @unchecked Sendable {
    /// The kind that was enabled.
    public let kind: InterruptKind
    /// Number of vectors (1 for INTx; 0 for polling).
    public let vectorCount: Int
    private let sources: [any InterruptSource]
    private let backend: any PCIDeviceBackend
    private let ackLock = Lock()
    private var ack: (@Sendable (Int) throws -> Void)?
    private let deliveredCount = Atomic<UInt64>(0)
    private let lostCount = Atomic<UInt64>(0)
    private let disabledFlag = Atomic<Bool>(false)

    init(kind: InterruptKind, sources: [any InterruptSource], backend: any PCIDeviceBackend) {
        self.kind = kind
        self.vectorCount = sources.count
        self.sources = sources
        self.backend = backend
    }

    deinit { disable() }

    /// The acknowledge step for INTx: called with the vector after the interrupt fired and
    /// before the line is unmasked. It must clear the interrupt cause at the device.
    /// Optional for MSI/MSI-X (called too, if set).
    public var acknowledge: (@Sendable (Int) throws -> Void)? {
        get { ackLock.withLock { ack } }
        set { ackLock.withLock { ack = newValue } }
    }

    /// Interrupts received (signals counted by the platform).
    public var delivered: UInt64 { deliveredCount.load(ordering: .relaxed) }
    /// Signals that were coalesced because nobody waited in time.
    public var lost: UInt64 { lostCount.load(ordering: .relaxed) }
    /// Whether ``disable()`` has run.
    public var isDisabled: Bool { disabledFlag.load(ordering: .relaxed) }

    /// Blocks until `vector` fires or `timeout` passes, then acknowledges (and for INTx
    /// unmasks). Throws ``BusmasterError/timeout(_:)`` on expiry.
    public func wait(vector: Int = 0, timeout: Duration) throws -> InterruptEvent {
        guard kind != .polling else {
            throw BusmasterError.interruptsUnavailable("interrupts are in polling mode; poll the device status instead")
        }
        guard vector >= 0 && vector < sources.count else {
            throw BusmasterError.invalidArgument("interrupt vector \(vector) does not exist (0..<\(sources.count) enabled)")
        }
        if isDisabled { throw BusmasterError.interruptsUnavailable("interrupts were disabled") }
        let n = try sources[vector].wait(timeoutNanos: timeout.nanoseconds)
        if n == 0 {
            throw BusmasterError.timeout("no \(kind) interrupt on vector \(vector) within \(timeout)")
        }
        deliveredCount.add(n, ordering: .relaxed)
        if n > 1 { lostCount.add(n - 1, ordering: .relaxed) }
        if let a = acknowledge { try a(vector) }
        if kind == .intx { try backend.unmaskINTx() }
        return InterruptEvent(vector: vector, count: n)
    }

    /// Like ``wait(vector:timeout:)`` but returns nil on timeout instead of throwing.
    public func poll(vector: Int = 0, timeout: Duration = .zero) throws -> InterruptEvent? {
        do { return try wait(vector: vector, timeout: timeout) } catch BusmasterError.timeout { return nil }
    }

    /// An async sequence of events on `vector`, served by a dedicated thread. The sequence
    /// ends when interrupts are disabled or the consumer stops iterating.
    public func events(vector: Int = 0) -> AsyncThrowingStream<InterruptEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<InterruptEvent, any Error>.makeStream()
        let stopBox = StopBox()
        continuation.onTermination = { _ in stopBox.stop() }
        let me = self
        startThread(name: "bm-irq-\(vector)") {
            while !stopBox.isStopped {
                do {
                    if let e = try me.poll(vector: vector, timeout: .milliseconds(50)) { continuation.yield(e) }
                } catch {
                    if me.isDisabled { continuation.finish() } else { continuation.finish(throwing: error) }
                    return
                }
            }
            continuation.finish()
        }
        return stream
    }

    /// Disables the device's interrupts and wakes every waiter with an error. Idempotent.
    public func disable() {
        if disabledFlag.exchange(true, ordering: .relaxed) { return }
        for s in sources { s.cancel() }
        backend.disableInterrupts()
    }
}

private final class StopBox: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    func stop() { flag.store(true, ordering: .relaxed) }
    var isStopped: Bool { flag.load(ordering: .relaxed) }
}
