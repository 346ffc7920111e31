/// The platform side of an open device. Each platform (Linux VFIO, Linux sysfs/UIO,
/// simulation, trace replay) implements it; drivers use ``PCIDevice`` and never see it.
public protocol PCIDeviceBackend: AnyObject, Sendable {
    /// Identity and resources.
    var info: PCIDeviceInfo { get }
    /// A short name of the platform path, e.g. "vfio", "sysfs+uio", "simulation", "replay".
    var platformName: String { get }
    /// Readable config-space size.
    var configSize: Int { get }
    /// Reads config space (offset checked by the caller).
    func readConfig(offset: Int, width: AccessWidth) throws -> UInt64
    /// Writes config space (offset checked by the caller).
    func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws
    /// Maps BAR `index`.
    func mapBAR(_ index: Int) throws -> MMIORegion
    /// Allocates and maps DMA memory.
    func allocateDMA(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping
    /// Maps (locks) caller memory for DMA.
    func mapDMA(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping
    /// Unmaps a mapping (and frees its memory when the platform allocated it).
    func releaseDMA(_ mapping: DMAMapping)
    /// A sync point on a mapping (cache maintenance; traces record or replay data here).
    func syncDMA(_ mapping: DMAMapping, at point: DMASyncPoint, range: Range<Int>)
    /// Vectors available per interrupt kind (absent or 0 = unavailable).
    func interruptVectorCounts() -> [InterruptKind: Int]
    /// Enables `vectors` interrupts of `kind`, returning one source per vector.
    func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource]
    /// Disables whatever interrupts are enabled.
    func disableInterrupts()
    /// Unmasks INTx after the driver acknowledged the cause.
    func unmaskINTx() throws
    /// Resets the function, if the platform can.
    func reset() throws
    /// Releases every platform resource. Idempotent.
    func close()
    /// Called by drivers that wait without touching registers (e.g. spinning on a DMA
    /// writeback in host memory). Real platforms do nothing; a deterministic simulation
    /// advances its clock so the device can make progress. Wrappers must forward it (there is
    /// deliberately no default, so a wrapper cannot silently stall a stepped simulation).
    func idle()
}

/// An open PCI function: config space, BARs, DMA memory and interrupts, independent of
/// whether it is a real device (VFIO, sysfs/UIO), a simulated one, or a trace replay.
///
/// Close order on ``close()`` (or deinit): interrupts off, then the platform unmaps and
/// releases the device.
public final class PCIDevice: @unchecked Sendable {
    /// The platform implementation.
    public let backend: any PCIDeviceBackend
    /// Typed config-space access.
    public let config: ConfigSpace
    private let lock = Lock()
    private var regions: [Int: MMIORegion] = [:]
    private var activeInterrupts: Interrupts?
    private var closed = false

    /// Wraps an open backend.
    public init(backend: any PCIDeviceBackend) {
        self.backend = backend
        self.config = ConfigSpace(backend: backend)
    }

    deinit { close() }

    /// Identity and resources.
    public var info: PCIDeviceInfo { backend.info }
    /// Where the device sits.
    public var address: PCIAddress { backend.info.address }
    /// Which platform path serves the device.
    public var platformName: String { backend.platformName }

    /// The mapped region of BAR `index` (mapped on first use).
    public func bar(_ index: Int) throws -> MMIORegion {
        try lock.withLock {
            if let r = regions[index] { return r }
            guard (0...5).contains(index), let b = info.bar(index), b.kind == .memory || b.size > 0 else {
                throw BusmasterError.barNotPresent(index: index, available: info.bars.map(\.index))
            }
            let r = try backend.mapBAR(index)
            regions[index] = r
            return r
        }
    }

    /// Turns on memory decoding and (by default) bus mastering, which DMA needs.
    public func enable(memory: Bool = true, busMaster: Bool = true) throws {
        var cmd = try config.read(ConfigRegisters.command)
        if memory { cmd |= ConfigRegisters.commandMemory.mask }
        if busMaster { cmd |= ConfigRegisters.commandBusMaster.mask }
        try config.write(ConfigRegisters.command, cmd)
    }

    /// Allocates DMA memory the device can reach.
    ///
    /// - Parameters:
    ///   - size: bytes (> 0).
    ///   - direction: which way the device may access it.
    ///   - constraints: address width, alignment and contiguity.
    public func allocateDMABuffer(size: Int, direction: DMADirection, constraints: DMAConstraints = .init()) throws -> DMABuffer {
        guard size > 0 else { throw BusmasterError.invalidArgument("DMA buffer size must be > 0 (got \(size))") }
        guard constraints.alignment > 0, constraints.alignment & (constraints.alignment - 1) == 0 else {
            throw BusmasterError.invalidArgument("DMA alignment must be a power of two (got \(constraints.alignment))")
        }
        guard (12...64).contains(constraints.addressBits) else {
            throw BusmasterError.invalidArgument("DMA address width must be 12...64 bits (got \(constraints.addressBits))")
        }
        let m = try backend.allocateDMA(size: size, direction: direction, constraints: constraints)
        return DMABuffer(mapping: m, backend: backend)
    }

    /// Locks caller memory for scatter/gather DMA; the buffer's segments list its bus pieces.
    /// The memory must stay valid until the returned buffer is freed.
    public func lockDMABuffer(_ memory: UnsafeMutableRawBufferPointer, direction: DMADirection, addressBits: Int = 64) throws -> DMABuffer {
        guard memory.count > 0, memory.baseAddress != nil else {
            throw BusmasterError.invalidArgument("cannot lock an empty buffer for DMA")
        }
        let m = try backend.mapDMA(
            memory: memory, direction: direction, constraints: DMAConstraints(addressBits: addressBits, alignment: 1, contiguous: false))
        return DMABuffer(mapping: m, backend: backend)
    }

    /// Interrupt vectors the device offers, per kind.
    public var availableInterrupts: [InterruptKind: Int] { backend.interruptVectorCounts() }

    /// Enables interrupts, trying `preferring` in order (default MSI-X, MSI, INTx) with up to
    /// `vectors` vectors; falls back to fewer vectors when a kind offers fewer. Check
    /// ``Interrupts/kind`` for what was enabled. `.polling` in the list always succeeds.
    public func enableInterrupts(preferring: [InterruptKind] = [.msix, .msi, .intx], vectors: Int = 1) throws -> Interrupts {
        guard vectors >= 1 else { throw BusmasterError.invalidArgument("need at least one interrupt vector") }
        try lock.withLock {
            if let a = activeInterrupts, !a.isDisabled {
                throw BusmasterError.interruptsUnavailable("interrupts are already enabled (\(a.kind)); disable them first")
            }
        }
        let counts = backend.interruptVectorCounts()
        var tried: [String] = []
        for kind in preferring {
            if kind == .polling {
                let irq = Interrupts(kind: .polling, sources: [], backend: backend)
                lock.withLock { activeInterrupts = irq }
                return irq
            }
            let available = counts[kind] ?? 0
            guard available > 0 else {
                tried.append("\(kind): not offered")
                continue
            }
            let n = kind == .intx ? 1 : min(vectors, available)
            do {
                let sources = try backend.enableInterrupts(kind, vectors: n)
                let irq = Interrupts(kind: kind, sources: sources, backend: backend)
                lock.withLock { activeInterrupts = irq }
                return irq
            } catch {
                tried.append("\(kind): \(error)")
            }
        }
        throw BusmasterError.interruptsUnavailable(
            "none of \(preferring.map(\.description).joined(separator: ", ")) could be enabled (\(tried.joined(separator: "; ")))")
    }

    /// Hands this device's backend to a wrapper (for example a trace recorder) and returns a
    /// device over the wrapper. This object becomes inert: closing or releasing it no longer
    /// touches the backend, which the returned device now owns. Call before using the device.
    public func rewrapped(_ wrap: (any PCIDeviceBackend) throws -> any PCIDeviceBackend) throws -> PCIDevice {
        let inner: any PCIDeviceBackend = try lock.withLock {
            guard !closed else { throw BusmasterError.unsupported("the device is closed") }
            guard activeInterrupts == nil, regions.isEmpty else {
                throw BusmasterError.unsupported("wrap a device before mapping BARs or enabling interrupts")
            }
            return backend
        }
        let outer = try wrap(inner)
        lock.withLock { closed = true }
        return PCIDevice(backend: outer)
    }

    /// Tells the platform the driver is waiting without register accesses (spinning on a
    /// writeback in DMA memory). Call it in such loops; it costs nothing on real hardware and
    /// lets a stepped simulation run the device.
    @inlinable public func idle() { backend.idle() }

    /// Resets the function (VFIO reset, or the platform's equivalent).
    public func reset() throws { try backend.reset() }

    /// Disables interrupts and releases the device. Idempotent.
    public func close() {
        let (wasOpen, irq): (Bool, Interrupts?) = lock.withLock {
            if closed { return (false, nil) }
            closed = true
            defer {
                activeInterrupts = nil
                regions = [:]
            }
            return (true, activeInterrupts)
        }
        guard wasOpen else { return }
        irq?.disable()
        backend.close()
    }
}
