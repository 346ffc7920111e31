import Busmaster
import CBusmasterSupport
import Synchronization

/// Counters of one engine since the device was opened.
public struct XDMAEngineStatistics: Sendable, Hashable {
    /// Transfers that completed.
    public var transfers: UInt64
    /// Bytes those transfers moved.
    public var bytes: UInt64
    /// Transfers that failed (hardware error, timeout, cancel).
    public var failures: UInt64
    /// Chains completed although their interrupt or writeback never arrived (found by a status check).
    public var missedCompletionSignals: UInt64
}

/// One XDMA DMA engine (a direction and channel): scatter/gather transfers with descriptor
/// chains built straight into its own DMA memory, completion by poll-mode writeback or by
/// interrupt, and deterministic recovery after errors and timeouts.
///
/// An engine runs one transfer at a time; concurrent callers queue (up to their timeout).
/// Different engines are independent and may be used from different threads at once.
/// Requests are validated before anything is programmed; see ``XDMAError``.
///
/// ```swift
/// let h2c = try device.engine(.h2c, channel: 0)
/// try h2c.write(buffer, to: 0x1000)            // blocking
/// try await h2c.write(buffer, to: 0x1000)      // async, off the cooperative pool
/// ```
public final class XDMAEngine: @unchecked Sendable {
    /// What probing found (kind, version, alignments, interrupt index).
    public let info: XDMAEngineInfo
    /// The engine's registers, placed at its blocks.
    public let registers: XDMAEngineRegisters
    let state: XDMADeviceState
    let bar: MMIORegion
    let descriptorMemory: DMABuffer
    let statusMemory: DMABuffer
    /// The descriptor ring in DMA memory.
    public let ring: XDMADescriptorRing
    let builder: XDMAChainBuilder
    let writeback: UnsafeMutableRawPointer
    let writebackBus: UInt64
    let results: UnsafeMutableRawPointer
    let resultsBus: UInt64
    let commonBit: UInt32
    let interruptBit: UInt32
    let latchEnables: UInt32

    private let ownership = ConditionLock()
    /// Set while a transfer owns the engine (compare-and-swap, no lock on the fast path).
    private let busy = Atomic<Bool>(false)
    /// Threads waiting in ``acquire(timeout:)``.
    private let waiters = Atomic<Int>(0)
    /// Mirrors `deadReason != nil` for lock-free checks on the hot path.
    let deadFlag = Atomic<Bool>(false)
    /// Set when the engine must be re-armed before its next chain.
    let rearmFlag = Atomic<Bool>(false)
    /// The PCI device, for allocating prepared transfers' descriptor memory.
    let pci: PCIDevice
    private let settings = Lock()
    private var timeoutValue: Duration
    private var completionValue: XDMACompletionMode
    var armedMode: XDMACompletionMode?
    private var deadReason: String?
    private var quarantine: [DMABuffer] = []
    var runLeftSet = false
    let transfersDone = Atomic<UInt64>(0)
    let bytesDone = Atomic<UInt64>(0)
    let failuresSeen = Atomic<UInt64>(0)
    let missedSignals = Atomic<UInt64>(0)
    let workerLock = Lock()
    var workerStorage: XDMAWorker?

    init(info: XDMAEngineInfo, state: XDMADeviceState, pci: PCIDevice) throws(XDMAError) {
        let options = state.options
        self.info = info
        self.state = state
        self.pci = pci
        self.bar = state.bar
        self.registers = XDMAEngineRegisters(info.id.direction, channel: info.id.channel)
        let cap = options.descriptorsPerEngine
        let isC2HStream = info.id.direction == .c2h && info.kind == .stream
        let constraints = DMAConstraints(addressBits: options.hostAddressBits, alignment: 4096, contiguous: true)
        do {
            descriptorMemory = try pci.allocateDMABuffer(size: cap * XDMADescriptor.size, direction: .toDevice, constraints: constraints)
            statusMemory = try pci.allocateDMABuffer(
                size: XDMAPollWriteback.slotSize + (isC2HStream ? cap * XDMAStreamResult.slotSize : 0), direction: .fromDevice,
                constraints: constraints)
        } catch {
            throw .invalidRequest("could not allocate descriptor memory for \(info.id): \(error)")
        }
        ring = try XDMADescriptorRing(buffer: descriptorMemory)
        builder = XDMAChainBuilder(ring: ring, maxDescriptorLength: options.maxDescriptorLength)
        writeback = statusMemory.bytes.baseAddress!
        writebackBus = statusMemory.busAddress()
        results = writeback + XDMAPollWriteback.slotSize
        resultsBus = writebackBus + UInt64(XDMAPollWriteback.slotSize)
        commonBit = XDMARegisters.SGDMACommon.channelBit(info.id.direction, channel: info.id.channel)
        interruptBit = UInt32(1) << UInt32(info.interruptIndex)
        latchEnables = XDMARegisters.latchEnables(info.id.direction)
        timeoutValue = options.timeout
        completionValue = options.completion
        statusMemory.bytes.initializeMemory(as: UInt8.self, repeating: 0)
    }

    // MARK: Identity and settings

    /// Direction and channel.
    public var id: XDMAEngineID { info.id }
    /// Host-to-card or card-to-host.
    public var direction: XDMADirection { info.id.direction }
    /// Memory-mapped or stream.
    public var kind: XDMAEngineKind { info.kind }
    /// Descriptor slots; a transfer needing more runs as several chains.
    public var descriptorCapacity: Int { ring.capacity }

    /// How long one chain may take before it is stopped and the transfer fails (values ≤ 0
    /// are ignored).
    public var timeout: Duration {
        get { settings.withLock { timeoutValue } }
        set { settings.withLock { timeoutValue = newValue > .zero ? newValue : timeoutValue } }
    }

    /// How this engine detects completion by default.
    public var completionMode: XDMACompletionMode { settings.withLock { completionValue } }

    /// Chooses how this engine detects completion. `.interrupt` needs the device's interrupts
    /// enabled (``XDMADevice/enableInterrupts(preferring:)``).
    public func setCompletionMode(_ mode: XDMACompletionMode) throws(XDMAError) {
        if mode == .interrupt && state.router == nil {
            throw .interrupts("enable interrupts on the device before choosing interrupt completion for \(id)")
        }
        settings.withLock { completionValue = mode }
    }

    /// Why the engine is unusable, if it is.
    public var deathReason: String? { settings.withLock { deadReason } }
    /// Whether the engine was declared dead (never went idle after a stop).
    public var isDead: Bool { deadFlag.load(ordering: .acquiring) }

    /// Counters since open.
    public var statistics: XDMAEngineStatistics {
        XDMAEngineStatistics(
            transfers: transfersDone.load(ordering: .relaxed), bytes: bytesDone.load(ordering: .relaxed),
            failures: failuresSeen.load(ordering: .relaxed), missedCompletionSignals: missedSignals.load(ordering: .relaxed))
    }

    /// Limits for splitting work with the core's ``DMATransaction``: one transaction transfer
    /// maps to at most one chain.
    public var transferLimits: DMATransferLimits {
        DMATransferLimits(
            maxTransferSize: builder.maxDescriptorLength * ring.capacity, maxElementSize: builder.maxDescriptorLength,
            maxElements: ring.capacity, alignment: 1)
    }

    /// Reads the Status register without clearing it (for diagnostics).
    public func readStatus() -> XDMAEngineStatus { XDMAEngineStatus(raw: bar.read(registers.status), direction: direction) }

    /// Reads the completed-descriptor count of the current or last chain.
    public func readCompletedDescriptorCount() -> Int { Int(bar.read(registers.completedDescriptorCount)) }

    /// The engine's hardware performance counters.
    public var performance: XDMAPerformanceCounters { XDMAPerformanceCounters(engine: id, bar: bar, registers: registers) }

    // MARK: Public transfers (blocking)

    /// Copies `range` of `buffer` (default: all of it) to card memory at `cardAddress`
    /// (memory-mapped H2C engine). Blocks until done or failed.
    @discardableResult
    public func write(_ buffer: DMABuffer, range: Range<Int>? = nil, to cardAddress: UInt64, options: XDMATransferOptions = .init())
        throws(XDMAError) -> XDMATransferResult
    {
        try transfer(.h2cMemoryMapped, buffer, range, cardAddress, nil, options, nil).0
    }

    /// Copies card memory at `cardAddress` into `range` of `buffer` (memory-mapped C2H engine).
    @discardableResult
    public func read(into buffer: DMABuffer, range: Range<Int>? = nil, from cardAddress: UInt64, options: XDMATransferOptions = .init())
        throws(XDMAError) -> XDMATransferResult
    {
        try transfer(.c2hMemoryMapped, buffer, range, cardAddress, nil, options, nil).0
    }

    /// Sends `range` of `buffer` on an H2C stream engine. `packetLengths` splits it into
    /// packets (EOP on each packet's last descriptor); nil sends one packet.
    @discardableResult
    public func send(_ buffer: DMABuffer, range: Range<Int>? = nil, packetLengths: [Int]? = nil, options: XDMATransferOptions = .init())
        throws(XDMAError) -> XDMATransferResult
    {
        try transfer(.h2cStream, buffer, range, 0, packetLengths, options, nil).0
    }

    /// Receives into `range` of `buffer` on a C2H stream engine until every descriptor is
    /// filled or closed by a packet end. The length and every bus-contiguous piece must be
    /// multiples of 64 bytes. Packets are assembled from the result writebacks.
    public func receive(into buffer: DMABuffer, range: Range<Int>? = nil, options: XDMATransferOptions = .init())
        throws(XDMAError) -> XDMAStreamReceiveResult
    {
        let (result, stream) = try transfer(.c2hStream, buffer, range, 0, nil, options, nil)
        let s = stream ?? XDMAStreamCollector()
        return XDMAStreamReceiveResult(transfer: result, descriptors: s.descriptors, packets: s.packets)
    }

    // MARK: Transfer engine room

    func transfer(
        _ kind: XDMAChainKind, _ buffer: DMABuffer, _ range: Range<Int>?, _ cardAddress: UInt64, _ packetLengths: [Int]?,
        _ options: XDMATransferOptions, _ cancel: XDMACancellation?
    ) throws(XDMAError) -> (XDMATransferResult, XDMAStreamCollector?) {
        try state.check()
        if isDead { throw .engineDead(id, deathReason ?? "dead") }
        if let t = options.timeout, t <= .zero { throw .invalidRequest("timeout must be > 0 (got \(t))") }
        let request = try XDMATransferValidation.validate(
            engine: info, kind: kind, buffer: buffer, range: range, cardAddress: cardAddress,
            nonIncrementing: options.nonIncrementingCardAddress, packetLengths: packetLengths, cardMemorySize: state.options.cardMemorySize,
            datapathBytes: datapathBytes)
        if options.stopAtEndOfPacket && kind != .c2hStream {
            throw .invalidRequest("stopAtEndOfPacket applies to C2H stream receives only")
        }
        let (timeout, defaultMode) = settings.withLock { (timeoutValue, completionValue) }
        let chainTimeout = options.timeout ?? timeout
        let mode = options.completion ?? defaultMode
        if mode == .interrupt && state.router == nil {
            throw .interrupts("interrupt completion needs the device's interrupts enabled (or use poll mode)")
        }
        try acquire(timeout: chainTimeout)
        defer { release() }
        if isDead { throw .engineDead(id, deathReason ?? "dead") }
        try state.check()
        let rearm = rearmFlag.exchange(false, ordering: .acquiringAndReleasing)
        if rearm || armedMode != mode { arm(mode) }
        do throws(XDMAError) {
            let r = try run(request, mode: mode, timeout: chainTimeout, cancel: cancel, untilPacketEnd: options.stopAtEndOfPacket)
            transfersDone.add(1, ordering: .relaxed)
            bytesDone.add(UInt64(r.0.bytes), ordering: .relaxed)
            return r
        } catch {
            failuresSeen.add(1, ordering: .relaxed)
            throw error
        }
    }

    private func run(
        _ request: XDMAValidatedRequest, mode: XDMACompletionMode, timeout: Duration, cancel: XDMACancellation?, untilPacketEnd: Bool
    ) throws(XDMAError) -> (XDMATransferResult, XDMAStreamCollector?) {
        let kind = request.kind
        if kind.direction == .h2c { request.buffer.syncForDevice(request.range) }
        var control = latchEnables
        if mode == .poll { control |= XDMARegisters.Control.pollModeWritebackEnable.mask }
        if request.nonIncrementing { control |= XDMARegisters.Control.nonIncrementingAddress.mask }
        var stream: XDMAStreamCollector? = kind == .c2hStream ? XDMAStreamCollector() : nil
        let started = monotonicNanos()
        var chains = 0
        var descriptors = 0
        var missed = 0
        let timeoutNanos = timeout.nanoseconds
        let segments = request.buffer.segments
        let outcome: Result<Void, XDMAError> = segments.withUnsafeBufferPointer { all in
            let segs = UnsafeBufferPointer(rebasing: all[request.firstSegment...])
            func go(_ ends: UnsafeBufferPointer<Int>?) -> Result<Void, XDMAError> {
                let source = XDMAChainSource(
                    segments: segs, skip: request.skip, length: request.range.count, kind: kind, cardAddress: request.cardAddress,
                    nonIncrementing: request.nonIncrementing, packetEnds: ends, resultSlots: resultsBus)
                var progress = XDMAChainProgress(start: source)
                var chainBuilder = builder
                chainBuilder.completedOnEveryDescriptor = untilPacketEnd
                while let chain = chainBuilder.build(source, progress: &progress, startSlot: 0, granularity: request.granularity) {
                    let end: XDMAChainEnd
                    do throws(XDMAError) {
                        end = try runChain(
                            chain, request: request, control: control, mode: mode, timeoutNanos: timeoutNanos, cancel: cancel,
                            started: started, watchPacketEnd: untilPacketEnd, stream: &stream)
                    } catch {
                        return .failure(error)
                    }
                    chains += 1
                    switch end {
                    case .completed(let m):
                        if m { missed += 1 }
                        descriptors += chain.descriptorCount
                    case .packetEnded(let used):
                        descriptors += used
                        return .success(())
                    }
                }
                return .success(())
            }
            if let e = request.packetEnds { return e.withUnsafeBufferPointer { go($0) } }
            return go(nil)
        }
        try outcome.get()
        if kind.direction == .c2h { request.buffer.syncForCPU(request.range) }
        let bytes = stream?.bytes ?? request.range.count
        stream?.finish()
        let result = XDMATransferResult(
            engine: id, bytes: bytes, descriptors: descriptors, chains: chains,
            elapsed: .nanoseconds(Int64(clamping: monotonicNanos() - started)), completion: mode, missedCompletionSignals: missed)
        return (result, stream)
    }

    /// Runs one chain (§5.3 start, §5.5 completion).
    private func runChain(
        _ chain: XDMAChain, request: XDMAValidatedRequest, control: UInt32, mode: XDMACompletionMode, timeoutNanos: UInt64,
        cancel: XDMACancellation?, started: UInt64, watchPacketEnd: Bool, stream: inout XDMAStreamCollector?
    ) throws(XDMAError) -> XDMAChainEnd {
        if let c = cancel, c.isCancelled {
            var report = notStartedReport("cancelled before the chain at transfer offset \(chain.transferOffset) started")
            report.bytesTransferred = stream?.bytes ?? chain.transferOffset
            report.bytesRequested = request.range.count
            report.chainDescriptors = chain.descriptorCount
            throw .cancelled(report)
        }
        let slotBytes = chain.descriptorCount * XDMADescriptor.size
        if request.kind == .c2hStream {
            results.initializeMemory(as: UInt8.self, repeating: 0, count: chain.descriptorCount * XDMAStreamResult.slotSize)
            statusMemory.syncForDevice(XDMAPollWriteback.slotSize..<(XDMAPollWriteback.slotSize + chain.descriptorCount * XDMAStreamResult.slotSize))
        }
        if mode == .poll { bm_store_release32(writeback, 0) }
        descriptorMemory.syncForDevice(0..<slotBytes)
        if mode == .interrupt { state.router?.prepare(engine: info.interruptIndex) }
        start(chain, control: control)
        return try awaitChain(
            chain, request: request, control: control, mode: mode, timeoutNanos: timeoutNanos, cancel: cancel, started: started,
            watchPacketEnd: watchPacketEnd, stream: &stream)
    }

    /// Waits for a started chain and handles how it ended (§5.5 completion, §5.6/§5.7 on failure).
    func awaitChain(
        _ chain: XDMAChain, request: XDMAValidatedRequest, control: UInt32, mode: XDMACompletionMode, timeoutNanos: UInt64,
        cancel: XDMACancellation?, started: UInt64, watchPacketEnd: Bool, stream: inout XDMAStreamCollector?
    ) throws(XDMAError) -> XDMAChainEnd {
        let watch = watchPacketEnd ? chain.descriptorCount : 0
        let outcome: XDMAWaitOutcome =
            mode == .poll
            ? waitForWriteback(expected: chain.descriptorCount, timeoutNanos: timeoutNanos, cancel: cancel, watchPacketEnd: watch)
            : waitForInterrupt(timeoutNanos: timeoutNanos, cancel: cancel, watchPacketEnd: watch)
        switch outcome {
        case .packetEnded:
            // §5.6: stop the engine; a buffer it was still waiting to fill is closed or dropped.
            let idle = stop(halt: true)
            runLeftSet = false
            statusMemory.syncForCPU()
            _ = stream!.collect(
                ring: ring, results: results, chain: chain, bufferBase: request.range.lowerBound, count: chain.descriptorCount,
                requireAll: false)
            if !idle {
                markDead("it stayed busy after being stopped at a packet end", keeping: request.buffer)
                var report = notStartedReport("the engine did not go idle after the receive was stopped at a packet end")
                report.bytesTransferred = stream!.bytes
                report.bytesRequested = request.range.count
                report.engineRecovered = false
                throw .timeout(report)
            }
            return .packetEnded(descriptorsUsed: stream!.descriptors.count)
        case .completed(let missed):
            // Leave the engine idle between chains (one posted write, no read).
            bar.write(registers.controlClear, XDMARegisters.Control.run.mask)
            runLeftSet = false
            if missed { missedSignals.add(1, ordering: .relaxed) }
            if request.kind == .c2hStream {
                statusMemory.syncForCPU()
                if let problem = stream!.collect(
                    ring: ring, results: results, chain: chain, bufferBase: request.range.lowerBound, count: chain.descriptorCount,
                    requireAll: true)
                {
                    let report = XDMATransferReport(
                        engine: id, status: XDMAEngineStatus(raw: 0, direction: direction), control: control,
                        completedDescriptors: chain.descriptorCount, chainDescriptors: chain.descriptorCount,
                        bytesTransferred: stream!.bytes, bytesRequested: request.range.count, writeback: nil,
                        elapsed: .nanoseconds(Int64(clamping: monotonicNanos() - started)), engineRecovered: true,
                        diagnosis: "the engine completed the chain but its result writebacks are inconsistent")
                    throw .streamWritebackInvalid(report, problem)
                }
            }
            return .completed(missed: missed)
        case .failed(let failure, let accumulated):
            throw abort(
                failure, chain: chain, accumulated: accumulated, mode: mode, control: control, request: request, started: started,
                stream: &stream)
        }
    }

    /// Datapath width in bytes (from the config block at open).
    var datapathBytes: Int { state.datapathBytes }

    /// §5.3: first-descriptor address, start adjacency, Control with Run. Posted writes only.
    @inline(__always)
    func start(_ chain: XDMAChain, control: UInt32) {
        if runLeftSet { bar.write(registers.controlClear, XDMARegisters.Control.run.mask) }
        bar.write(registers.descriptorLow, UInt32(truncatingIfNeeded: chain.firstBusAddress))
        bar.write(registers.descriptorHigh, UInt32(truncatingIfNeeded: chain.firstBusAddress >> 32))
        bar.write(registers.descriptorAdjacent, XDMARegisters.SGDMA.adjacentCount.encode(UInt32(chain.startAdjacency)))
        bar.write(registers.control, control | XDMARegisters.Control.run.mask)
        runLeftSet = true
    }

    // MARK: Set-up

    /// Programs the writeback address, the interrupt mask and the IRQ-block enable for `mode`
    /// (§5.1 step 4, §5.7 step 7).
    func arm(_ mode: XDMACompletionMode) {
        bar.write(registers.pollWritebackLow, UInt32(truncatingIfNeeded: writebackBus))
        bar.write(registers.pollWritebackHigh, UInt32(truncatingIfNeeded: writebackBus >> 32))
        if mode == .interrupt && state.router != nil {
            bar.write(registers.interruptMask, XDMARegisters.interruptMaskForCompletion(direction))
            bar.write(XDMARegisters.IRQ.channelEnableSet, interruptBit)
        } else {
            bar.write(XDMARegisters.IRQ.channelEnableClear, interruptBit)
            bar.write(registers.interruptMask, 0)
        }
        armedMode = mode
    }

    /// Interrupts were enabled (`mode` is the completion the engine should now use) or
    /// disabled (nil: back to poll mode); re-arm before the next chain. No register access
    /// here, so it never blocks behind a running transfer.
    func interruptsChanged(mode: XDMACompletionMode?) {
        settings.withLock {
            completionValue = mode ?? .poll
        }
        rearmFlag.store(true, ordering: .releasing)
    }

    // MARK: Ownership

    func acquire(timeout: Duration) throws(XDMAError) {
        if tryAcquire() { return }
        let deadline = monotonicNanos() &+ timeout.nanoseconds
        waiters.add(1, ordering: .acquiringAndReleasing)
        defer { waiters.subtract(1, ordering: .acquiringAndReleasing) }
        ownership.lock()
        defer { ownership.unlock() }
        while !tryAcquire() {
            if monotonicNanos() >= deadline { throw .engineBusy(id, timeout) }
            ownership.wait(untilMonotonicNanos: min(deadline, monotonicNanos() &+ 10_000_000))
        }
    }

    @inline(__always)
    func tryAcquire() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    @inline(__always)
    func release() {
        busy.store(false, ordering: .releasing)
        if waiters.load(ordering: .acquiring) > 0 {
            ownership.withLock { ownership.broadcast() }
        }
    }

    /// Marks the engine dead and keeps `buffer` mapped so the device cannot scribble on reused memory.
    func markDead(_ why: String, keeping buffer: DMABuffer?) {
        settings.withLock {
            if deadReason == nil { deadReason = why }
            if let b = buffer { quarantine.append(b) }
        }
        deadFlag.store(true, ordering: .releasing)
    }

    /// Stops the engine when the device closes (§5.6) and releases its descriptor and status
    /// memory — unless it is dead or a transfer still owns it (then the memory stays mapped).
    func shutdown() {
        workerLock.withLock { workerStorage?.stop() }
        guard !isDead, !state.isLost, tryAcquire() else { return }
        defer { release() }
        bar.write(XDMARegisters.IRQ.channelEnableClear, interruptBit)
        bar.write(registers.interruptMask, 0)
        var idle = true
        if runLeftSet || XDMARegisters.Control.run.isSet(in: bar.read(registers.control)) { idle = stop(halt: false) }
        runLeftSet = false
        if idle {
            descriptorMemory.free()
            statusMemory.free()
        }
    }
}

extension XDMAEngine: CustomStringConvertible {
    /// `H2C0 MM v6 …`
    public var description: String { info.description }
}
