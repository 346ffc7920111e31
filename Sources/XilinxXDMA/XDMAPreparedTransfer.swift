import Busmaster
import CBusmasterSupport

/// A memory-mapped transfer validated and turned into a descriptor chain once, to be run many
/// times — the "persistent descriptors, pre-mapped buffers" pattern the chip sheet recommends
/// for throughput and latency.
///
/// Each ``XDMAEngine/run(_:)`` is the §5.3 start (4–5 posted register writes) and, in poll
/// mode, a spin on the writeback word: no validation, no allocation, no lock and no clock read
/// unless the wait gets long (then the normal timeout, status check and recovery apply).
///
/// ```swift
/// let t = try h2c.prepareWrite(buffer, to: 0x1000)
/// for _ in 0..<1_000_000 { try h2c.run(t) }
/// ```
public final class XDMAPreparedTransfer: @unchecked Sendable {
    /// The engine it was prepared for.
    public unowned let engine: XDMAEngine
    /// Bytes each run moves.
    public let byteCount: Int
    /// Descriptors in the chain.
    public let descriptorCount: Int
    // The run path reads only these flat fields (no struct copies, no reference counting).
    let engineIdentity: ObjectIdentifier
    let isHostToCard: Bool
    let firstBusAddress: UInt64
    let startAdjacency: UInt32
    let expectedCount: UInt32
    let control: UInt32
    let buffer: DMABuffer
    let range: Range<Int>
    let descriptors: DMABuffer
    let descriptorBytes: Range<Int>
    // For the slow path (long waits, failures, recovery).
    let request: XDMAValidatedRequest
    let chain: XDMAChain

    init(engine: XDMAEngine, request: XDMAValidatedRequest, chain: XDMAChain, descriptors: DMABuffer, control: UInt32) {
        self.engine = engine
        self.engineIdentity = ObjectIdentifier(engine)
        self.request = request
        self.chain = chain
        self.descriptors = descriptors
        self.control = control
        self.byteCount = request.range.count
        self.descriptorCount = chain.descriptorCount
        self.isHostToCard = request.kind.direction == .h2c
        self.firstBusAddress = chain.firstBusAddress
        self.startAdjacency = XDMARegisters.SGDMA.adjacentCount.encode(UInt32(chain.startAdjacency))
        self.expectedCount = UInt32(chain.descriptorCount) & XDMAPollWriteback.completedCount.maxValue
        self.buffer = request.buffer
        self.range = request.range
        self.descriptorBytes = 0..<chain.descriptorCount * XDMADescriptor.size
    }

    deinit { descriptors.free() }
}

extension XDMAEngine {
    /// Prepares a host-to-card copy of `range` of `buffer` to `cardAddress` (memory-mapped
    /// H2C), for repeated runs in poll mode. Validates everything up front.
    public func prepareWrite(_ buffer: DMABuffer, range: Range<Int>? = nil, to cardAddress: UInt64) throws(XDMAError) -> XDMAPreparedTransfer {
        try prepare(.h2cMemoryMapped, buffer, range, cardAddress)
    }

    /// Prepares a card-to-host copy from `cardAddress` into `range` of `buffer` (memory-mapped
    /// C2H), for repeated runs in poll mode.
    public func prepareRead(into buffer: DMABuffer, range: Range<Int>? = nil, from cardAddress: UInt64) throws(XDMAError) -> XDMAPreparedTransfer {
        try prepare(.c2hMemoryMapped, buffer, range, cardAddress)
    }

    private func prepare(_ kind: XDMAChainKind, _ buffer: DMABuffer, _ range: Range<Int>?, _ card: UInt64) throws(XDMAError) -> XDMAPreparedTransfer {
        try state.check()
        let request = try XDMATransferValidation.validate(
            engine: info, kind: kind, buffer: buffer, range: range, cardAddress: card, nonIncrementing: false, packetLengths: nil,
            cardMemorySize: state.options.cardMemorySize, datapathBytes: datapathBytes)
        // Enough slots for one descriptor per segment piece plus the length splits.
        let pieces = buffer.segments(in: request.range).count
        let capacity = pieces + request.range.count / max(1, state.options.maxDescriptorLength) + 2
        let memory: DMABuffer
        do {
            memory = try pci.allocateDMABuffer(
                size: capacity * XDMADescriptor.size, direction: .toDevice,
                constraints: DMAConstraints(addressBits: state.options.hostAddressBits, alignment: 4096, contiguous: true))
        } catch {
            throw .invalidRequest("could not allocate descriptor memory for a prepared transfer: \(error)")
        }
        let ownRing = try XDMADescriptorRing(buffer: memory)
        let chainBuilder = XDMAChainBuilder(ring: ownRing, maxDescriptorLength: state.options.maxDescriptorLength)
        let chain: XDMAChain? = request.buffer.segments.withUnsafeBufferPointer { all in
            let source = XDMAChainSource(
                segments: UnsafeBufferPointer(rebasing: all[request.firstSegment...]), skip: request.skip, length: request.range.count,
                kind: kind, cardAddress: request.cardAddress)
            var progress = XDMAChainProgress(start: source)
            let c = chainBuilder.build(source, progress: &progress, startSlot: 0, granularity: request.granularity)
            return progress.isComplete(source) ? c : nil
        }
        guard let chain else {
            memory.free()
            throw .invalidRequest("the transfer does not fit one descriptor chain of \(capacity) descriptors")
        }
        let control = latchEnables | XDMARegisters.Control.pollModeWritebackEnable.mask
        return XDMAPreparedTransfer(engine: self, request: request, chain: chain, descriptors: memory, control: control)
    }

    /// Runs a prepared transfer in poll mode; returns the bytes moved. Errors, timeouts and
    /// recovery behave exactly as for ``write(_:range:to:options:)``.
    @discardableResult
    public func run(_ transfer: XDMAPreparedTransfer) throws(XDMAError) -> Int {
        guard transfer.engineIdentity == ObjectIdentifier(self) else {
            throw .wrongEngine(id, "the transfer was prepared for \(transfer.engine.id)")
        }
        if state.isLost || state.isClosed { try state.check() }
        if isDead { throw .engineDead(id, deathReason ?? "dead") }
        if !tryAcquire() { try acquire(timeout: timeout) }
        defer { release() }
        if rearmFlag.exchange(false, ordering: .acquiringAndReleasing) || armedMode != .poll { arm(.poll) }
        if transfer.isHostToCard { transfer.buffer.syncForDevice(transfer.range) }
        bm_store_release32(writeback, 0)
        transfer.descriptors.syncForDevice(transfer.descriptorBytes)
        // §5.3 start: posted writes only.
        if runLeftSet { bar.write(registers.controlClear, XDMARegisters.Control.run.mask) }
        bar.write(registers.descriptorLow, UInt32(truncatingIfNeeded: transfer.firstBusAddress))
        bar.write(registers.descriptorHigh, UInt32(truncatingIfNeeded: transfer.firstBusAddress >> 32))
        bar.write(registers.descriptorAdjacent, transfer.startAdjacency)
        bar.write(registers.control, transfer.control | XDMARegisters.Control.run.mask)
        runLeftSet = true
        // Fast completion: a few looks at the writeback before anything that costs more.
        var done = false
        var spins = 0
        while spins < 64 {
            let word = UInt32(littleEndian: bm_load_acquire32(writeback))
            if word & XDMAPollWriteback.error.mask != 0 { break }
            if word & XDMAPollWriteback.completedCount.mask >= transfer.expectedCount {
                done = true
                break
            }
            state.platform.idle()
            spins &+= 1
        }
        if done {
            bar.write(registers.controlClear, XDMARegisters.Control.run.mask)
            runLeftSet = false
        } else {
            try finishSlowly(transfer)
        }
        if !transfer.isHostToCard { transfer.buffer.syncForCPU(transfer.range) }
        // Counters are only written by the engine's owner: plain loads and stores suffice.
        transfersDone.store(transfersDone.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        bytesDone.store(bytesDone.load(ordering: .relaxed) &+ UInt64(transfer.byteCount), ordering: .relaxed)
        return transfer.byteCount
    }

    /// The wait did not end within the first looks: the full wait with timeout, status
    /// checks and recovery of the one-shot path.
    @inline(never)
    private func finishSlowly(_ transfer: XDMAPreparedTransfer) throws(XDMAError) {
        var stream: XDMAStreamCollector? = nil
        do throws(XDMAError) {
            let end = try awaitChain(
                transfer.chain, request: transfer.request, control: transfer.control, mode: .poll, timeoutNanos: timeout.nanoseconds,
                cancel: nil, started: monotonicNanos(), watchPacketEnd: false, stream: &stream)
            if case .completed(true) = end { missedSignals.store(missedSignals.load(ordering: .relaxed) &+ 1, ordering: .relaxed) }
        } catch {
            failuresSeen.store(failuresSeen.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            throw error
        }
    }
}
