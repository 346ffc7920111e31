/// Options of a trace recording.
public struct TraceRecordingOptions: Sendable, Hashable {
    /// CPU syncs of at most this many bytes carry their data (`DATA` lines) so replay can
    /// give the driver what the device wrote; longer ones record only the CRC.
    public var dataLimit: Int
    /// Whether `DMA-ALLOC`/`DMA-LOCK` lines keep the buffers' bus segments (`bus=…`).
    ///
    /// On by default. Replay then gives the buffers the recorded addresses, which makes it
    /// exact even where symbolic values cannot be: descriptors in DMA memory that hold bus
    /// addresses keep their CRC at `DMA-SYNC device`, and a register value that merely looks
    /// like a buffer address (a length of 0x1000 when a buffer sits at bus address 0x1000)
    /// resolves to the number the driver writes. ``TraceDiff`` ignores the field, so traces
    /// from different machines still compare.
    ///
    /// Turn it off for traces without machine addresses (the lines are then exactly
    /// `DMA-ALLOC buf1 0x1000 to-device contiguous`); replay then hands out fake addresses
    /// (from 0x1000_0000) and relies on the symbolic values alone.
    public var recordBusAddresses: Bool

    /// Creates options.
    public init(dataLimit: Int = 64 * 1024, recordBusAddresses: Bool = true) {
        self.dataLimit = dataLimit
        self.recordBusAddresses = recordBusAddresses
    }
}

/// A ``PCIDeviceBackend`` that forwards everything to another backend and records each
/// config access, BAR access, DMA allocation/lock/sync/free, interrupt enable/wait/unmask/
/// disable and reset as a trace (see ``TraceFormat``).
///
/// Recording is serialised by one lock held across the forwarded access, so the trace order
/// is the order the device saw. Interrupt waits are forwarded without the lock (they block)
/// and recorded when they return. Events after ``close()`` are forwarded but not recorded.
public final class TracingBackend: PCIDeviceBackend, @unchecked Sendable {
    /// The backend that does the real work.
    public let inner: any PCIDeviceBackend
    /// Where events go.
    public let writer: any TraceWriter
    /// Recording options.
    public let options: TraceRecordingOptions
    let lock = Lock()
    private var coalescer = RecordingCoalescer()
    private var closed = false

    /// Starts recording `inner` into `writer` (writes the header and device lines).
    public init(wrapping inner: any PCIDeviceBackend, writer: any TraceWriter, options: TraceRecordingOptions = .init()) {
        self.inner = inner
        self.writer = writer
        self.options = options
        writer.begin(TraceDevice(info: inner.info, configSize: inner.configSize))
    }

    /// The inner backend's device.
    public var info: PCIDeviceInfo { inner.info }
    /// The inner platform's name with `+trace`.
    public var platformName: String { inner.platformName + "+trace" }
    /// The inner backend's config-space size.
    public var configSize: Int { inner.configSize }

    // MARK: Recording

    /// Records a `MARK` line (control characters become spaces).
    public func mark(_ text: String) { record(.mark(TraceFormat.sanitized(text))) }

    /// Records a `#` comment line.
    public func comment(_ text: String) { record(.comment(TraceFormat.sanitized(text))) }

    /// Writes out held-back events (a folded read ends here) and flushes the writer.
    public func flush() throws {
        lock.withLock { if !closed { coalescer.flush(writer.append) } }
        try writer.flush()
    }

    /// The trace recorded so far, when the writer is a ``TraceMemoryWriter`` (nil otherwise).
    /// Includes held-back events without ending a folded read.
    public var recordedTrace: Trace? {
        lock.withLock {
            guard let memory = writer as? TraceMemoryWriter, var t = memory.trace else { return nil }
            if !closed { t.events += coalescer.held() }
            return t
        }
    }

    /// Records `event` (held back by the coalescer when it may fold or pair).
    func record(_ event: TraceEvent) {
        lock.withLock { recordLocked(event) }
    }

    func recordLocked(_ event: TraceEvent) {
        if closed { return }
        coalescer.add(event, emit: writer.append)
    }

    // MARK: Config space

    /// Forwards and records a `CR` line.
    public func readConfig(offset: Int, width: AccessWidth) throws -> UInt64 {
        try lock.withLock {
            let v = try inner.readConfig(offset: offset, width: width)
            recordLocked(.configRead(offset: offset, width: width, value: v & width.mask, count: 1))
            return v
        }
    }

    /// Forwards and records a `CW` line.
    public func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws {
        try lock.withLock {
            try inner.writeConfig(offset: offset, width: width, value: value)
            recordLocked(.configWrite(offset: offset, width: width, value: value & width.mask))
        }
    }

    // MARK: BARs

    /// Maps the inner BAR and returns a region that records every access (`R`/`W` lines).
    public func mapBAR(_ index: Int) throws -> MMIORegion {
        let region = try inner.mapBAR(index)
        return MMIORegion(bar: index, size: region.size, handler: RecordingMMIOHandler(inner: region, recorder: self))
    }

    // MARK: DMA

    /// Forwards and records `DMA-ALLOC` (with `bus=` when ``TraceRecordingOptions/recordBusAddresses``).
    public func allocateDMA(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        try lock.withLock {
            let m = try inner.allocateDMA(size: size, direction: direction, constraints: constraints)
            if m.bytes.count != size { recordLocked(.comment("buf\(m.id): platform gave 0x\(String(m.bytes.count, radix: 16)) bytes")) }
            addMappingLocked(
                m,
                .dmaAllocate(
                    buffer: m.id, size: size, direction: direction, contiguous: constraints.contiguous,
                    bus: options.recordBusAddresses ? m.segments : nil))
            return m
        }
    }

    /// Forwards and records `DMA-LOCK`.
    public func mapDMA(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        try lock.withLock {
            let m = try inner.mapDMA(memory: memory, direction: direction, constraints: constraints)
            addMappingLocked(
                m, .dmaLock(buffer: m.id, size: memory.count, direction: direction, bus: options.recordBusAddresses ? m.segments : nil))
            return m
        }
    }

    private func addMappingLocked(_ m: DMAMapping, _ event: TraceEvent) {
        recordLocked(event)
        if !closed { coalescer.addresses.add(buffer: m.id, segments: m.segments) }
    }

    /// Forwards and records `DMA-FREE`.
    public func releaseDMA(_ mapping: DMAMapping) {
        lock.withLock {
            inner.releaseDMA(mapping)
            recordLocked(.dmaFree(buffer: mapping.id))
            coalescer.addresses.remove(buffer: mapping.id)
        }
    }

    /// Forwards, then records `DMA-SYNC` with the CRC of the range (and `DATA` for CPU syncs
    /// within ``TraceRecordingOptions/dataLimit``).
    public func syncDMA(_ mapping: DMAMapping, at point: DMASyncPoint, range: Range<Int>) {
        lock.withLock {
            inner.syncDMA(mapping, at: point, range: range)
            let lo = max(0, min(range.lowerBound, mapping.bytes.count))
            let hi = max(lo, min(range.upperBound, mapping.bytes.count))
            let slice = UnsafeRawBufferPointer(rebasing: mapping.bytes[lo..<hi])
            let crc = CRC32.checksum(slice)
            let data: [UInt8]? = point == .forCPU && slice.count <= options.dataLimit && !slice.isEmpty ? Array(slice) : nil
            recordLocked(.dmaSync(point: point, buffer: mapping.id, offset: lo, length: hi - lo, crc: crc, data: data))
        }
    }

    // MARK: Interrupts

    /// The inner backend's vector counts (not recorded).
    public func interruptVectorCounts() -> [InterruptKind: Int] { inner.interruptVectorCounts() }

    /// Forwards and records `IRQ-ENABLE`; the returned sources record each wait (`IRQ`, `IRQ-TIMEOUT`).
    public func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] {
        try lock.withLock {
            let sources = try inner.enableInterrupts(kind, vectors: vectors)
            recordLocked(.irqEnable(kind: kind, vectors: sources.count))
            return sources.enumerated().map { RecordingInterruptSource(inner: $0.element, vector: $0.offset, recorder: self) }
        }
    }

    /// Forwards and records `IRQ-DISABLE`.
    public func disableInterrupts() {
        lock.withLock {
            inner.disableInterrupts()
            recordLocked(.irqDisable)
        }
    }

    /// Forwards and records `IRQ-UNMASK`.
    public func unmaskINTx() throws {
        try lock.withLock {
            try inner.unmaskINTx()
            recordLocked(.irqUnmask)
        }
    }

    /// Forwards to the inner backend (not recorded: it is not a device access).
    public func idle() { inner.idle() }

    // MARK: Reset and close

    /// Forwards and records `RESET`.
    public func reset() throws {
        try lock.withLock {
            try inner.reset()
            recordLocked(.reset)
        }
    }

    /// Closes the inner backend, writes out held-back events and closes the writer.
    /// Write errors are kept in ``writeError``; use ``finish()`` to get them thrown.
    public func close() {
        try? finish()
    }

    /// Like ``close()``, but throws the first error writing the trace. Idempotent.
    public func finish() throws {
        let first: Bool = lock.withLock {
            if closed { return false }
            coalescer.flush(writer.append)
            closed = true
            return true
        }
        if first { inner.close() }
        do { try writer.close() } catch let e as BusmasterError {
            lock.withLock { if storedError == nil { storedError = e } }
            throw e
        }
    }

    private var storedError: BusmasterError?
    /// The first error writing the trace, if any (set by ``close()``/``finish()``).
    public var writeError: BusmasterError? { lock.withLock { storedError } }
}

/// Records accesses to one BAR and forwards them to the inner region.
final class RecordingMMIOHandler: MMIOHandler {
    let inner: MMIORegion
    let recorder: TracingBackend

    init(inner: MMIORegion, recorder: TracingBackend) {
        self.inner = inner
        self.recorder = recorder
    }

    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
        recorder.lock.withLock {
            let v = inner.read(width, at: offset)
            recorder.recordLocked(.read(bar: bar, offset: offset, width: width, value: v, count: 1))
            return v
        }
    }

    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
        recorder.lock.withLock {
            inner.write(width, value, at: offset)
            recorder.recordLocked(.write(bar: bar, offset: offset, width: width, value: .literal(value & width.mask)))
        }
    }
}

/// Records the results of waits on one interrupt vector.
final class RecordingInterruptSource: InterruptSource {
    let inner: any InterruptSource
    let vector: Int
    let recorder: TracingBackend

    init(inner: any InterruptSource, vector: Int, recorder: TracingBackend) {
        self.inner = inner
        self.vector = vector
        self.recorder = recorder
    }

    func wait(timeoutNanos: UInt64) throws -> UInt64 {
        let n: UInt64
        do {
            n = try inner.wait(timeoutNanos: timeoutNanos)
        } catch {
            recorder.comment("interrupt wait on v\(vector) ended: \(error)")
            throw error
        }
        recorder.record(n == 0 ? .irqTimeout(vector: vector) : .irq(vector: vector, count: n))
        return n
    }

    func cancel() { inner.cancel() }
}
