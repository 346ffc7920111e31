#if canImport(Glibc)
    import Glibc
#endif
import Busmaster
import BusmasterSimulation

/// One H2C or C2H engine: its channel-block and SGDMA-block registers (§2.2, §2.5) and the
/// state of §4.1. The data path (fetch, transfer, completion) is in XDMAEngineDataPath.swift.
/// Everything runs with the platform lock held.
final class XDMAEngine {
    typealias R = XDMAModelRegisters

    /// A fetched descriptor (§3.1), decoded.
    struct Descriptor {
        var control: UInt32
        var length: Int
        var source: UInt64
        var destination: UInt64
        var next: UInt64
        /// Bus address it was fetched from.
        var address: UInt64
        var lastInBlock: Bool

        var stop: Bool { R.Descriptor.stop.isSet(in: control) }
        var completed: Bool { R.Descriptor.completed.isSet(in: control) }
        var endOfPacket: Bool { R.Descriptor.endOfPacket.isSet(in: control) }
        var nextAdjacent: Int { Int(R.Descriptor.nextAdjacent.extract(from: control)) }
    }

    enum Phase { case idle, running, stopped, error, draining }

    let id: XDMAModelEngine
    /// Engine index: H2C first, then C2H (bit position in the IRQ block).
    let index: Int
    let isStream: Bool
    unowned let model: XDMAModel

    // MARK: Registers

    var control: UInt32 = 0
    /// Latched Status bits 23:1 (bit 0 is computed).
    var status: UInt32 = 0
    var completedCount: UInt32 = 0
    var pollWritebackAddress: UInt64 = 0
    var interruptMask: UInt32 = 0
    var firstDescriptor: UInt64 = 0
    var firstAdjacent: UInt32 = 0
    var credits = 0
    var perf = XDMAPerfCounters()

    // MARK: Engine state

    var phase: Phase = .idle
    /// An error with its ie group off froze the engine (policy `hang`).
    var hung = false
    /// Waiting for credits, a halt to clear, stream data or stream space.
    var waiting = false
    /// The stuck-AXI fault holds the engine.
    var stuck = false
    var pending: ScheduledEvent?
    var stickRelease: ScheduledEvent?
    var flushEvent: ScheduledEvent?

    // Fetch state
    var fetchAddress: UInt64 = 0
    /// Descriptors of the current adjacent block not fetched yet.
    var fetchRemaining = 0
    /// Descriptors of the current block already fetched (0 at a block start).
    var blockFetched = 0
    /// A Stop descriptor was fetched: fetch nothing more.
    var chainEnded = false
    var queue: [Descriptor] = []
    var queueIndex = 0
    let fetchBuffer: UnsafeMutableRawPointer
    /// Descriptors fetched since the model was created (for the k-th-fetch faults).
    var fetchedTotal = 0
    var corruptions: [(fetch: Int, kind: XDMAModelDescriptorCorruption)] = []

    // Current descriptor
    var current: Descriptor?
    var currentDone = 0
    /// C2H-ST: the descriptor's buffer is closed (full, tlast or flush).
    var currentClosed = false
    var currentEndOfPacket = false

    init(id: XDMAModelEngine, index: Int, isStream: Bool, model: XDMAModel) {
        self.id = id
        self.index = index
        self.isStream = isStream
        self.model = model
        fetchBuffer = UnsafeMutableRawPointer.allocate(byteCount: R.Descriptor.size * R.Descriptor.maxBlock, alignment: 64)
        queue.reserveCapacity(R.Descriptor.maxBlock)
    }

    deinit { fetchBuffer.deallocate() }

    var isH2C: Bool { id.direction == .h2c }
    var run: Bool { R.Control.run.isSet(in: control) }
    var busy: Bool { phase == .running || phase == .draining }
    var errorMask: UInt32 { isH2C ? R.Status.h2cErrorMask : R.Status.c2hErrorMask }
    var now: UInt64 { model.context?.now.nanoseconds ?? 0 }

    var identifier: UInt32 {
        identifier(target: isH2C ? .h2cChannel : .c2hChannel)
    }

    func identifier(target: R.Target) -> UInt32 {
        R.idSubsystem.encode(R.subsystemValue) | R.idTarget.encode(UInt32(target.rawValue))
            | (isStream ? R.idStream.mask : 0) | R.idChannel.encode(UInt32(id.channel))
            | R.idVersion.encode(UInt32(model.settings.ipVersion))
    }

    /// State for tests and tools.
    var snapshot: XDMAModelEngineState {
        let p: XDMAModelEngineState.Phase
        switch phase {
        case .idle: p = .idle
        case .running: p = hung ? .hung : (waiting ? .waiting : .running)
        case .stopped: p = .stopped
        case .error: p = .error
        case .draining: p = .draining
        }
        return XDMAModelEngineState(phase: p, busy: busy, run: run, stuck: stuck, completedCount: completedCount,
                                    credits: credits, status: status)
    }

    // MARK: Reset

    func reset() {
        cancelEvents()
        if let e = stickRelease { model.context?.cancel(e) }
        stickRelease = nil
        control = 0
        status = 0
        completedCount = 0
        pollWritebackAddress = 0
        interruptMask = 0
        firstDescriptor = 0
        firstAdjacent = 0
        credits = 0
        perf = XDMAPerfCounters()
        phase = .idle
        hung = false
        waiting = false
        stuck = false
        dropDescriptors()
    }

    func cancelEvents() {
        if let e = pending { model.context?.cancel(e) }
        if let e = flushEvent { model.context?.cancel(e) }
        pending = nil
        flushEvent = nil
    }

    func dropDescriptors() {
        queue.removeAll(keepingCapacity: true)
        queueIndex = 0
        current = nil
        currentDone = 0
        currentClosed = false
        currentEndOfPacket = false
        if let e = flushEvent { model.context?.cancel(e) }
        flushEvent = nil
    }

    // MARK: Channel block (§2.2)

    func readChannel(_ byte: Int) -> UInt32 {
        typealias C = R.Channel
        switch byte {
        case R.identifier.offset: return identifier
        case C.control.offset, C.controlW1S.offset, C.controlW1C.offset: return control
        case C.status.offset: return statusValue
        case C.statusRC.offset:
            let v = statusValue
            if status != 0 {
                status = 0
                model.updateInterrupts()
            }
            return v
        case C.completedCount.offset: return completedCount
        case C.alignments.offset: return model.settings.alignments
        case C.pollWritebackLow.offset: return UInt32(truncatingIfNeeded: pollWritebackAddress)
        case C.pollWritebackHigh.offset: return UInt32(truncatingIfNeeded: pollWritebackAddress >> 32)
        case C.interruptMask.offset, C.interruptMaskW1S.offset, C.interruptMaskW1C.offset: return interruptMask
        case C.perfControl.offset: return perf.control & (R.PerfControl.auto.mask | R.PerfControl.run.mask)
        case C.perfCyclesLow.offset: return XDMAPerfCounters.words(perfCycles).low
        case C.perfCyclesHigh.offset: return XDMAPerfCounters.words(perfCycles).high
        case C.perfDataLow.offset: return XDMAPerfCounters.words(perf.beats).low
        case C.perfDataHigh.offset: return XDMAPerfCounters.words(perf.beats).high
        case C.pendingLow.offset, C.pendingHigh.offset: return 0
        case C.upstreamWrongMaskW1C.offset:
            model.lint("read of \(id) channel +0x9C, which is reserved (the interrupt-mask W1C alias is +0x98; 0x9C is upstream Linux's mistake)")
            return 0
        default:
            model.lint("read of unmapped \(id) channel offset +0x\(hex(byte)) (reads 0)")
            return 0
        }
    }

    func writeChannel(_ byte: Int, _ v: UInt32) {
        typealias C = R.Channel
        switch byte {
        case C.control.offset:
            if v & R.Control.reservedMask != 0 {
                model.lint("\(id) Control write 0x\(hex(v)) sets reserved bits 0x\(hex(v & R.Control.reservedMask))")
            }
            setControl(v)
        case C.controlW1S.offset:
            if v & R.Control.reservedMask != 0 {
                model.lint("\(id) Control W1S write 0x\(hex(v)) sets reserved bits 0x\(hex(v & R.Control.reservedMask))")
            }
            setControl(control | v)
        case C.controlW1C.offset: setControl(control & ~v)
        case C.status.offset:
            let cleared = status & v & R.Status.latched.mask
            if cleared != 0 {
                status &= ~cleared
                model.updateInterrupts()
            }
        case C.statusRC.offset:
            model.lint("write 0x\(hex(v)) to \(id) Status +0x44 ignored: it is read-to-clear; write 1s to +0x40 to clear bits")
        case C.pollWritebackLow.offset: pollWritebackAddress = (pollWritebackAddress & ~0xFFFF_FFFF) | UInt64(v)
        case C.pollWritebackHigh.offset: pollWritebackAddress = (pollWritebackAddress & 0xFFFF_FFFF) | UInt64(v) << 32
        case C.interruptMask.offset: setMask(v)
        case C.interruptMaskW1S.offset: setMask(interruptMask | v)
        case C.interruptMaskW1C.offset: setMask(interruptMask & ~v)
        case C.upstreamWrongMaskW1C.offset:
            model.lint("write 0x\(hex(v)) to \(id) channel +0x9C ignored: reserved; the interrupt-mask W1C alias is +0x98 (upstream Linux uses 0x9C by mistake)")
        case C.perfControl.offset: writePerfControl(v)
        case R.identifier.offset, C.completedCount.offset, C.alignments.offset, C.perfCyclesLow.offset, C.perfCyclesHigh.offset,
            C.perfDataLow.offset, C.perfDataHigh.offset, C.pendingLow.offset, C.pendingHigh.offset:
            model.lint("write 0x\(hex(v)) to read-only \(id) channel register +0x\(hex(byte)) ignored")
        default:
            model.lint("write 0x\(hex(v)) to unmapped \(id) channel offset +0x\(hex(byte)) ignored")
        }
    }

    var statusValue: UInt32 { status | (busy ? R.Status.busy.mask : 0) }

    private func setMask(_ v: UInt32) {
        interruptMask = v
        model.updateInterrupts()
    }

    var perfCycles: UInt64 {
        perf.cycles(now: now, clockHz: model.settings.axiClockHz, maxUtilisation: model.settings.perfMaxUtilisation)
    }

    private func writePerfControl(_ v: UInt32) {
        if R.PerfControl.clear.isSet(in: v) { perf.clear(now: now) }
        perf.control = v & (R.PerfControl.auto.mask | R.PerfControl.run.mask)
        perf.update(engineRunning: run, now: now)
    }

    /// Any write to Control (RW, W1S or W1C alias): compare Run before and after (§4.2).
    func setControl(_ new: UInt32) {
        let wasRunning = run
        control = new & R.Control.writable.mask
        if !wasRunning && run {
            runRose()
        } else if wasRunning && !run {
            runFell()
        }
        perf.update(engineRunning: run, now: now)
    }

    // MARK: SGDMA block (§2.5)

    func readSGDMA(_ byte: Int) -> UInt32 {
        typealias S = R.SGDMA
        switch byte {
        case R.identifier.offset: return identifier(target: isH2C ? .h2cSGDMA : .c2hSGDMA)
        case S.firstDescriptorLow.offset: return UInt32(truncatingIfNeeded: firstDescriptor)
        case S.firstDescriptorHigh.offset: return UInt32(truncatingIfNeeded: firstDescriptor >> 32)
        case S.firstDescriptorAdjacent.offset: return firstAdjacent
        case S.credits.offset: return UInt32(credits)
        default:
            model.lint("read of unmapped \(id) SGDMA offset +0x\(hex(byte)) (reads 0)")
            return 0
        }
    }

    func writeSGDMA(_ byte: Int, _ v: UInt32) {
        typealias S = R.SGDMA
        switch byte {
        case S.firstDescriptorLow.offset: firstDescriptor = (firstDescriptor & ~0xFFFF_FFFF) | UInt64(v)
        case S.firstDescriptorHigh.offset: firstDescriptor = (firstDescriptor & 0xFFFF_FFFF) | UInt64(v) << 32
        case S.firstDescriptorAdjacent.offset:
            if v & ~S.adjacent.mask != 0 {
                model.lint("\(id) SGDMA +0x88 write 0x\(hex(v)): only bits 5:0 (0–63 extra descriptors) exist")
            }
            firstAdjacent = v & S.adjacent.mask
        case S.credits.offset:
            let add = Int(v & S.creditCount.mask)
            let maxCredits = Int(S.creditCount.maxValue)
            if credits + add > maxCredits {
                model.lint("\(id) descriptor credits saturate at \(maxCredits) (had \(credits), added \(add))")
            }
            credits = min(credits + add, maxCredits)
            if add > 0 { kick() }
        case R.identifier.offset:
            model.lint("write 0x\(hex(v)) to read-only \(id) SGDMA identifier ignored")
        default:
            model.lint("write 0x\(hex(v)) to unmapped \(id) SGDMA offset +0x\(hex(byte)) ignored")
        }
    }

    // MARK: Run edges (§4.2)

    private func runRose() {
        if phase == .draining {
            model.lint("\(id) Run set again while the engine was still draining (busy); the unfinished descriptor is abandoned")
        }
        cancelEvents()
        dropDescriptors()
        status = 0
        completedCount = 0
        fetchAddress = firstDescriptor
        fetchRemaining = 1 + Int(firstAdjacent)
        blockFetched = 0
        chainEnded = false
        hung = false
        waiting = false
        if perf.auto {
            perf.clear(now: now)
            perf.frozen = false
        }
        phase = .running
        model.record(.runStarted(id, firstDescriptor: firstDescriptor, adjacent: Int(firstAdjacent)))
        model.updateInterrupts()
        kick()
    }

    private func runFell() {
        credits = 0
        if hung {
            hung = false
            becomeIdle()
            return
        }
        switch phase {
        case .running:
            if stuck {
                phase = .draining  // the AXI side never lets go: busy stays 1 until unstuck
            } else if current != nil {
                if isStream && !isH2C && waiting {
                    // C2H-ST waiting for data: close a partly filled buffer, drop an empty one (inf).
                    if currentDone > 0 { currentClosed = true } else { dropDescriptors() }
                }
                if current == nil {
                    becomeIdle()
                } else {
                    phase = .draining
                    kick()
                }
            } else {
                becomeIdle()
            }
        case .stopped, .error, .idle:
            becomeIdle()
        case .draining:
            break
        }
    }

    /// Enters Idle; idle_stopped latches when its ie bit is set.
    func becomeIdle() {
        phase = .idle
        waiting = false
        dropDescriptors()
        if R.Control.ieIdleStopped.isSet(in: control) { status |= R.Status.idleStopped.mask }
        perf.update(engineRunning: run, now: now)
        model.record(.idle(id))
        model.updateInterrupts()
    }
}

@inline(__always) func hex<T: BinaryInteger>(_ v: T) -> String { String(v, radix: 16, uppercase: true) }
