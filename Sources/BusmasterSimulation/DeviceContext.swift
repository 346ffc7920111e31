import Busmaster

/// What a model may do to the outside world: reach host memory by DMA (through the
/// simulated IOMMU), signal interrupts, and schedule its own work on the simulated clock.
///
/// Every method must be called from model code, which already runs with the platform lock held.
public final class DeviceContext: @unchecked Sendable {
    unowned let slot: SimulatedSlot

    init(slot: SimulatedSlot) { self.slot = slot }

    // MARK: Identity

    /// Where the model is plugged in (some chips report their own bus/device/function).
    public var address: PCIAddress { slot.address }

    // MARK: Time

    /// Simulated time since the platform started.
    public var now: Duration { .nanoseconds(Int64(clamping: slot.scheduler.now)) }

    /// Runs `work` after `delay` of simulated time (on the device thread, or when a stepped
    /// test advances the clock). Use `.zero` for "as soon as possible, not inline".
    @discardableResult
    public func schedule(after delay: Duration, _ work: @escaping () -> Void) -> ScheduledEvent {
        slot.scheduler.schedule(after: delay.nanoseconds, work)
    }

    /// Cancels scheduled work that has not run yet.
    public func cancel(_ event: ScheduledEvent) { slot.scheduler.cancel(event) }

    // MARK: DMA

    /// Whether the driver enabled bus mastering (COMMAND bit 2); DMA fails without it.
    public var busMasterEnabled: Bool { slot.config.busMaster }

    /// Reads host memory at bus address `address` into `buffer`.
    public func dmaRead(at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DMAFault) {
        try slot.dma(address, buffer.count, write: false) { host, n, done in
            (buffer.baseAddress! + done).copyMemory(from: host, byteCount: n)
        }
    }

    /// Writes `buffer` to host memory at bus address `address`.
    public func dmaWrite(at address: UInt64, from buffer: UnsafeRawBufferPointer) throws(DMAFault) {
        try slot.dma(address, buffer.count, write: true) { host, n, done in
            host.copyMemory(from: buffer.baseAddress! + done, byteCount: n)
        }
    }

    /// Reads a little-endian 32-bit word from host memory.
    public func dmaRead32(at address: UInt64) throws(DMAFault) -> UInt32 {
        var v: UInt32 = 0
        try withUnsafeMutableBytes(of: &v) { (b) throws(DMAFault) in try dmaRead(at: address, into: b) }
        return UInt32(littleEndian: v)
    }

    /// Writes a little-endian 32-bit word to host memory.
    public func dmaWrite32(_ value: UInt32, at address: UInt64) throws(DMAFault) {
        var v = value.littleEndian
        try withUnsafeBytes(of: &v) { (b) throws(DMAFault) in try dmaWrite(at: address, from: b) }
    }

    /// Writes a little-endian 64-bit word to host memory.
    public func dmaWrite64(_ value: UInt64, at address: UInt64) throws(DMAFault) {
        var v = value.littleEndian
        try withUnsafeBytes(of: &v) { (b) throws(DMAFault) in try dmaWrite(at: address, from: b) }
    }

    // MARK: Interrupts

    /// Whether the driver enabled MSI.
    public var msiEnabled: Bool { slot.config.msiEnabled }
    /// Whether the driver enabled MSI-X.
    public var msixEnabled: Bool { slot.config.msixEnabled }
    /// Vectors the driver enabled for the active message kind (MSI or MSI-X).
    public var enabledVectors: Int { slot.sources.count }

    /// Sends MSI message `vector`; false when MSI is off or the vector was not enabled
    /// (the message is lost, as on real hardware).
    @discardableResult
    public func signalMSI(vector: Int = 0) -> Bool {
        guard slot.config.msiEnabled, slot.activeKind == .msi else { return false }
        return slot.deliver(vector: vector)
    }

    /// Sends MSI-X vector `vector`; false when MSI-X is off or the vector not enabled.
    @discardableResult
    public func signalMSIX(vector: Int) -> Bool {
        guard slot.config.msixEnabled, slot.activeKind == .msix else { return false }
        return slot.deliver(vector: vector)
    }

    /// Sends `vector` by whichever message kind is enabled (MSI-X, then MSI); false if neither.
    @discardableResult
    public func signalMessage(vector: Int) -> Bool {
        if slot.config.msixEnabled { return signalMSIX(vector: vector) }
        if slot.config.msiEnabled { return signalMSI(vector: vector) }
        return false
    }

    /// Drives the INTx line level (level-triggered; the platform masks and signals the driver).
    public func setINTx(_ asserted: Bool) { slot.setINTx(asserted) }

    /// The current INTx level the model drives.
    public var intxAsserted: Bool { slot.intxLevel }

    // MARK: Outside access

    /// Runs `body` with the platform lock held, so that model APIs called from outside model
    /// code (tests and tools pushing stream data, injecting faults or reading counters) see
    /// and change model state consistently and may schedule work.
    ///
    /// Never call it from model code, nor inside ``SimulatedPlatform/withModelsPaused(_:)``:
    /// the lock is not recursive.
    public func withPlatformLock<T>(_ body: () throws -> T) rethrows -> T {
        try slot.scheduler.lock.withLock(body)
    }

    // MARK: Diagnostics

    /// Reports a driver misbehaviour the model noticed (a "lint"); collected by the platform
    /// for tests, never changes behaviour.
    public func lint(_ message: String) { slot.platform?.recordLint(message, device: slot.address) }
}
