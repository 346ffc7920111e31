import Synchronization

/// A ``PCIDeviceBackend`` that plays the device of a recorded trace: the driver must make
/// the recorded accesses, and gets the recorded read values, interrupts and DMA data.
///
/// - DMA buffers get real, page-aligned host memory and fake bus addresses (or the recorded
///   ones, when the trace has `bus=`), so symbolic values (`lo:buf1+0x40`) resolve to this
///   run's own buffers.
/// - `DMA-SYNC device` compares the CRC of what the driver put in the buffer; `DMA-SYNC cpu`
///   fills the recorded `DATA` into the buffer.
/// - Interrupt waits return the recorded counts; `IRQ-TIMEOUT` makes a wait return 0 (the
///   core then throws its timeout).
/// - Poll loops may differ in their repeat counts (see ``ReplayMatcher``).
///
/// The first mismatch is kept as ``divergence``. From then on reads return all-ones (so the
/// driver sees "device lost" quickly instead of hanging), writes are ignored, and every
/// call that can throw throws the divergence. Call ``finish()`` after the driver is done
/// (device closed, buffers freed) to throw the divergence, or report events never replayed.
///
/// Replay assumes the driver's accesses come in one order (one thread at a time, or a
/// deterministic hand-off), as they did when recorded. Waits on a background thread
/// (``Interrupts/events(vector:)`` polls every 50 ms) interleave with other accesses by
/// timing, so sessions using them record fine but do not replay line for line.
public final class TraceReplayBackend: PCIDeviceBackend, @unchecked Sendable {
    /// The trace being replayed.
    public let trace: Trace
    /// The device as the trace describes it (BARs without bus addresses).
    public let info: PCIDeviceInfo
    /// "replay".
    public var platformName: String { "replay" }
    /// The recorded config-space size (`cfg=`, 256 when absent).
    public var configSize: Int { trace.device.configSize }

    private let lock = Lock()
    private var matcher: ReplayMatcher
    private let lines: [Int]
    private var report: ReplayDivergence?
    private var closed = false
    private var addresses = BusAddressMap()
    private var busAllocator = ReplayBusAllocator()
    /// Replay-allocated memory by buffer id (locked caller memory is not owned).
    private var ownedMemory: [Int: UnsafeMutableRawBufferPointer] = [:]
    private let vectorCounts: [InterruptKind: Int]

    /// Replays `trace`.
    public init(trace: Trace) {
        self.trace = trace
        self.info = trace.device.deviceInfo
        self.matcher = ReplayMatcher(events: trace.events)
        self.lines = trace.eventLineNumbers()
        var counts: [InterruptKind: Int] = [:]
        for case .irqEnable(let kind, let vectors) in trace.events { counts[kind] = max(counts[kind] ?? 0, vectors) }
        self.vectorCounts = counts
    }

    /// Loads and replays the trace file at `path`.
    public convenience init(path: String) throws {
        self.init(trace: try Trace.load(path: path))
    }

    deinit {
        for (_, m) in ownedMemory { ReplayMemory.free(m) }
    }

    // MARK: Outcome

    /// The first divergence, if the driver has left the trace.
    public var divergence: BusmasterError? { lock.withLock { report?.error } }

    /// The first divergence with its parts (line, expected and actual access, context).
    public var divergenceReport: ReplayDivergence? { lock.withLock { report } }

    /// Throws the first divergence, or a divergence saying where the driver stopped when
    /// trace events remain that it never made. Call after the driver finished.
    public func finish() throws {
        try lock.withLock {
            if let report { throw report.error }
            if let (i, n) = matcher.remaining() {
                let text = TraceFormat.line(of: trace.events[i])
                throw BusmasterError.replayDivergence(
                    "\(trace.fileName):\(lines[i]): driver stopped at line \(lines[i]) (`\(text)`), \(n) event\(n == 1 ? "" : "s") not replayed")
            }
        }
    }

    /// Line of the next event to replay (nil at the end of the trace).
    public var nextLine: Int? {
        lock.withLock { matcher.remaining().map { lines[$0.index] } }
    }

    // MARK: Matching

    /// Matches `access` (lock held). Returns the answering event, nil when the replay has
    /// diverged (or is closed), recording the divergence on a mismatch.
    private func perform(_ access: ReplayAccess, note: String? = nil) -> TraceEvent? {
        if report != nil || closed { return nil }
        switch matcher.match(access, accepts: accepts) {
        case .matched(let e, _): return e
        case .mismatch(let i):
            var n = note
            if case .dmaSync(.forDevice, _, _, _, _, _) = trace.events[i], case .dmaSync(.forDevice, _, _, _, _) = access {
                n = n ?? "the data the driver gave the device differs from the recording"
            }
            if case .write(_, _, _, .busAddress(let b, let o, let part)) = trace.events[i] {
                if let v = TraceValue.busAddress(buffer: b, offset: o, part: part).resolve(addresses.address) {
                    n = n ?? "buf\(b)+0x\(String(o, radix: 16)) is 0x\(String(v, radix: 16)) in this replay"
                } else {
                    n = n ?? "buf\(b) is not a live buffer in this replay"
                }
            }
            diverge(at: i, access, note: n)
        case .endOfTrace:
            diverge(at: nil, access, note: note)
        }
        return nil
    }

    private func diverge(at index: Int?, _ access: ReplayAccess, note: String?) {
        let actual = access.text(symbolize: symbolize)
        var context: [String] = []
        let end = index ?? trace.events.count
        for j in max(0, end - 3)..<end { context.append("\(lines[j]): \(TraceFormat.line(of: trace.events[j]))") }
        let line: Int
        if let index {
            line = lines[index]
        } else if let last = trace.events.indices.last {
            line = lines[last] + TraceFormat.lineCount(of: trace.events[last])
        } else {
            line = 3 + trace.device.bars.count
        }
        report = ReplayDivergence(
            file: trace.fileName, line: line, expected: index.map { TraceFormat.line(of: trace.events[$0]) }, actual: actual, note: note,
            context: context)
    }

    private func symbolize(_ value: UInt64, _ width: AccessWidth) -> String? {
        guard width == .dword || width == .qword, let loc = addresses.locate(value) else { return nil }
        return (width == .dword ? "lo:" : "") + "buf\(loc.buffer)+0x\(String(loc.offset, radix: 16))"
    }

    private func accepts(_ e: TraceEvent, _ a: ReplayAccess) -> Bool {
        switch (e, a) {
        case (.configRead(let o1, let w1, _, _), .configRead(let o2, let w2)): return o1 == o2 && w1 == w2
        case (.configWrite(let o1, let w1, let v1), .configWrite(let o2, let w2, let v2)):
            return o1 == o2 && w1 == w2 && v1 == v2 & w2.mask
        case (.read(let b1, let o1, let w1, _, _), .read(let b2, let o2, let w2)): return b1 == b2 && o1 == o2 && w1 == w2
        case (.write(let b1, let o1, let w1, let v1), .write(let b2, let o2, let w2, let v2)):
            guard b1 == b2, o1 == o2, w1 == w2, let expected = v1.resolve(addresses.address) else { return false }
            return expected & w1.mask == v2 & w2.mask
        case (.dmaAllocate(_, let s1, let d1, let c1, _), .dmaAllocate(let s2, let d2, let c2)): return s1 == s2 && d1 == d2 && c1 == c2
        case (.dmaLock(_, let s1, let d1, _), .dmaLock(let s2, let d2)): return s1 == s2 && d1 == d2
        case (.dmaSync(let p1, let b1, let o1, let l1, let c1, _), .dmaSync(let p2, let b2, let o2, let l2, let c2)):
            return p1 == p2 && b1 == b2 && o1 == o2 && l1 == l2 && (p1 == .forCPU || c1 == c2)
        case (.dmaFree(let b1), .dmaFree(let b2)): return b1 == b2
        case (.irqEnable(let k1, let v1), .irqEnable(let k2, let v2)): return k1 == k2 && v1 == v2
        case (.irq(let v1, _), .irqWait(let v2)), (.irqTimeout(let v1), .irqWait(let v2)): return v1 == v2
        case (.irqUnmask, .irqUnmask), (.irqDisable, .irqDisable), (.reset, .reset): return true
        default: return false
        }
    }

    /// Performs an access that can throw: the divergence is thrown.
    private func performThrowing(_ access: ReplayAccess) throws -> TraceEvent? {
        let e = perform(access)
        if let report { throw report.error }
        return e
    }

    // MARK: Config space

    /// Serves the recorded value of a `CR` line; throws the divergence on a mismatch.
    public func readConfig(offset: Int, width: AccessWidth) throws -> UInt64 {
        try lock.withLock {
            if closed { return width.mask }
            guard case .configRead(_, _, let v, _)? = try performThrowing(.configRead(offset: offset, width: width)) else { return width.mask }
            return v
        }
    }

    /// Matches a `CW` line; throws the divergence on a mismatch.
    public func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws {
        _ = try lock.withLock { try performThrowing(.configWrite(offset: offset, width: width, value: value)) }
    }

    // MARK: BARs

    /// A region whose accesses are matched against `R`/`W` lines (size from the `BAR` line, or
    /// covering every access of the trace when the size is unknown).
    public func mapBAR(_ index: Int) throws -> MMIORegion {
        guard let bar = trace.device.bar(index) else {
            throw BusmasterError.barNotPresent(index: index, available: trace.device.bars.map(\.index))
        }
        var size = Int(clamping: bar.size)
        if size == 0 {
            // Unknown size: cover every access the trace makes, rounded up to a power of two.
            var extent = 4096
            for case .read(index, let o, let w, _, _) in trace.events { extent = max(extent, o + w.bytes) }
            for case .write(index, let o, let w, _) in trace.events { extent = max(extent, o + w.bytes) }
            size = 1
            while size < extent { size <<= 1 }
        }
        return MMIORegion(bar: index, size: size, handler: ReplayMMIOHandler(self))
    }

    func replayRead(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
        lock.withLock {
            guard case .read(_, _, _, let v, _)? = perform(.read(bar: bar, offset: offset, width: width)) else { return width.mask }
            return v
        }
    }

    func replayWrite(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
        lock.withLock { _ = perform(.write(bar: bar, offset: offset, width: width, value: value)) }
    }

    // MARK: DMA

    /// Matches a `DMA-ALLOC` line and allocates page-aligned host memory with the recorded bus
    /// segments (`bus=`) or fake ones.
    public func allocateDMA(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        try lock.withLock {
            let access = ReplayAccess.dmaAllocate(size: size, direction: direction, contiguous: constraints.contiguous)
            guard case .dmaAllocate(let id, _, _, _, let bus)? = try performThrowing(access) else {
                throw BusmasterError.dmaUnavailable("the replayed device is closed")
            }
            let segments = try bus ?? busAllocator.allocate(size: size, constraints: constraints)
            let bytes = try ReplayMemory.allocate(size: size)
            ownedMemory[id] = bytes
            addresses.add(buffer: id, segments: segments)
            return DMAMapping(id: id, bytes: bytes, segments: segments, direction: direction, isCallerMemory: false)
        }
    }

    /// Matches a `DMA-LOCK` line; the caller memory gets the recorded or fake bus segments.
    public func mapDMA(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        try lock.withLock {
            guard case .dmaLock(let id, _, _, let bus)? = try performThrowing(.dmaLock(size: memory.count, direction: direction)) else {
                throw BusmasterError.dmaUnavailable("the replayed device is closed")
            }
            let segments = try bus ?? busAllocator.allocate(size: memory.count, constraints: constraints)
            addresses.add(buffer: id, segments: segments)
            return DMAMapping(id: id, bytes: memory, segments: segments, direction: direction, isCallerMemory: true)
        }
    }

    /// Matches a `DMA-FREE` line and frees replay-allocated memory.
    public func releaseDMA(_ mapping: DMAMapping) {
        lock.withLock {
            _ = perform(.dmaFree(buffer: mapping.id))
            addresses.remove(buffer: mapping.id)
            if let m = ownedMemory.removeValue(forKey: mapping.id) { ReplayMemory.free(m) }
        }
    }

    /// Matches a `DMA-SYNC` line: for the device, the CRC of the buffer must match; for the CPU,
    /// the recorded `DATA` is copied into the buffer.
    public func syncDMA(_ mapping: DMAMapping, at point: DMASyncPoint, range: Range<Int>) {
        lock.withLock {
            let lo = max(0, min(range.lowerBound, mapping.bytes.count))
            let hi = max(lo, min(range.upperBound, mapping.bytes.count))
            let slice = UnsafeMutableRawBufferPointer(rebasing: mapping.bytes[lo..<hi])
            let crc = CRC32.checksum(UnsafeRawBufferPointer(slice))
            let access = ReplayAccess.dmaSync(point: point, buffer: mapping.id, offset: lo, length: hi - lo, crc: crc)
            guard case .dmaSync(.forCPU, _, _, _, _, let data?)? = perform(access) else { return }
            data.withUnsafeBytes { slice.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(slice.count))) }
        }
    }

    // MARK: Interrupts

    /// The most vectors each interrupt kind was enabled with in the trace, so the driver picks
    /// the kind it picked when recorded.
    public func interruptVectorCounts() -> [InterruptKind: Int] { vectorCounts }

    /// Matches an `IRQ-ENABLE` line; waits on the returned sources replay `IRQ`/`IRQ-TIMEOUT` lines.
    public func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] {
        try lock.withLock {
            guard try performThrowing(.irqEnable(kind: kind, vectors: vectors)) != nil else {
                throw BusmasterError.interruptsUnavailable("the replayed device is closed")
            }
            return (0..<vectors).map { ReplayInterruptSource(backend: self, vector: $0) }
        }
    }

    func replayWait(vector: Int) throws -> UInt64 {
        try lock.withLock {
            switch try performThrowing(.irqWait(vector: vector)) {
            case .irq(_, let count)?: return count
            case .irqTimeout?: return 0
            default: throw BusmasterError.interruptsUnavailable("the replayed device is closed")
            }
        }
    }

    /// Matches an `IRQ-DISABLE` line.
    public func disableInterrupts() { lock.withLock { _ = perform(.irqDisable) } }

    /// Matches an `IRQ-UNMASK` line.
    public func unmaskINTx() throws { _ = try lock.withLock { try performThrowing(.irqUnmask) } }

    // MARK: Reset and close

    /// Matches a `RESET` line.
    public func reset() throws { _ = try lock.withLock { try performThrowing(.reset) } }

    /// A replay has no device to advance.
    public func idle() {}

    /// Stops replaying: later accesses are ignored (as a recorder ignores them after close).
    /// Memory of buffers still allocated is released when the backend is deallocated.
    public func close() { lock.withLock { closed = true } }
}

/// Serves a replayed BAR's accesses from the trace.
final class ReplayMMIOHandler: MMIOHandler {
    let backend: TraceReplayBackend
    init(_ backend: TraceReplayBackend) { self.backend = backend }
    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 { backend.replayRead(bar: bar, offset: offset, width: width) }
    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
        backend.replayWrite(bar: bar, offset: offset, width: width, value: value)
    }
}

/// One replayed interrupt vector: waits return the recorded events without blocking.
final class ReplayInterruptSource: InterruptSource {
    let backend: TraceReplayBackend
    let vector: Int
    private let cancelled = Atomic<Bool>(false)

    init(backend: TraceReplayBackend, vector: Int) {
        self.backend = backend
        self.vector = vector
    }

    func wait(timeoutNanos: UInt64) throws -> UInt64 {
        if cancelled.load(ordering: .acquiring) {
            throw BusmasterError.interruptsUnavailable("the wait was cancelled because interrupts were disabled")
        }
        return try backend.replayWait(vector: vector)
    }

    func cancel() { cancelled.store(true, ordering: .releasing) }
}
