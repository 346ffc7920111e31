import Busmaster
import CBusmasterSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Why a chain did not complete.
enum XDMAFailure: Sendable {
    /// The engine stopped on an error (status error bits, or the writeback's error bit).
    case hardware
    /// The timeout passed.
    case timeout
    /// The caller cancelled.
    case cancelled
    /// Interrupts went away while waiting (disabled, device closed).
    case interruptsGone
}

/// How a chain ended, when it did not fail.
enum XDMAChainEnd: Sendable {
    /// Every descriptor completed; `missed` when the completion signal never arrived.
    case completed(missed: Bool)
    /// A C2H stream receive reached a packet end and the engine was stopped there.
    case packetEnded(descriptorsUsed: Int)
}

/// How waiting for one chain ended.
enum XDMAWaitOutcome: Sendable {
    /// The chain finished; `missed` when its interrupt or writeback never arrived and a status
    /// check found it done.
    case completed(missed: Bool)
    /// A result writeback with EOP appeared before the chain's end (stop-at-packet-end receives).
    case packetEnded
    /// The chain did not finish; `accumulated` holds status causes already read (and cleared).
    case failed(XDMAFailure, accumulated: UInt32)
}

extension XDMAEngine {
    private typealias S = XDMARegisters.Status

    /// Classifies a Status value read while waiting: done, failed, or still going.
    private func judge(_ status: UInt32) -> XDMAWaitOutcome? {
        if status == XDMARegisters.Identifier.deviceLostValue { return .failed(.timeout, accumulated: 0) }
        if XDMAEngineStatus(raw: status, direction: direction).hasError { return .failed(.hardware, accumulated: status) }
        if S.descriptorStopped.isSet(in: status) && !S.busy.isSet(in: status) { return .completed(missed: true) }
        return nil
    }

    /// Poll-mode completion (§5.5): spin on the writeback word with acquire loads, no register
    /// reads, no locks held; yield and then sleep with back-off after a while. A status check
    /// runs only after ``XDMAOptions/statusCheckInterval`` and at the timeout.
    func waitForWriteback(expected: Int, timeoutNanos: UInt64, cancel: XDMACancellation?, watchPacketEnd: Int = 0) -> XDMAWaitOutcome {
        let options = state.options
        let expectedCount = expected & Int(XDMAPollWriteback.completedCount.maxValue)
        let started = monotonicNanos()
        let deadline = started &+ timeoutNanos
        let interval = options.statusCheckInterval?.nanoseconds
        var nextCheck = interval.map { started &+ $0 } ?? .max
        let spinLimit = options.pollSpinsBeforeYield
        let maxSleep = max(options.pollMaxSleep.nanoseconds, 1_000)
        var sleepNs: UInt64 = 1_000
        var spins = 0

        var scanned = 0
        @inline(__always) func look() -> XDMAWaitOutcome? {
            let word = bm_load_acquire32(writeback)
            if word == 0 { return nil }
            let wb = XDMAPollWriteback(raw: UInt32(littleEndian: word))
            if wb.hasError { return .failed(.hardware, accumulated: 0) }
            if wb.completed >= expectedCount { return .completed(missed: false) }
            if watchPacketEnd > 0 && wb.completed > scanned && scanForPacketEnd(&scanned, limit: min(wb.completed, watchPacketEnd)) {
                return .packetEnded
            }
            return nil
        }

        let platform = state.platform
        while true {
            if let done = look() { return done }
            // Waiting without register reads: a deterministic simulation advances here; real
            // hardware ignores it.
            platform.idle()
            spins &+= 1
            if spins < spinLimit && spins & 63 != 0 { continue }
            let now = monotonicNanos()
            if let c = cancel, c.isCancelled { return .failed(.cancelled, accumulated: 0) }
            if now >= deadline {
                if let done = look() { return done }
                // Read Status before declaring failure (#321): the writeback may have been lost.
                if let verdict = judge(bar.read(registers.status)) {
                    if case .completed = verdict, let done = look() { return done }
                    return verdict
                }
                return .failed(.timeout, accumulated: 0)
            }
            if now >= nextCheck, let i = interval {
                nextCheck = now &+ i
                if let verdict = judge(bar.read(registers.status)) {
                    if case .completed = verdict, let done = look() { return done }
                    return verdict
                }
            }
            if spins >= spinLimit {
                if spins < spinLimit &+ 64 {
                    sched_yield()
                } else {
                    var ts = timespec(tv_sec: 0, tv_nsec: Int(min(sleepNs, deadline &- now)))
                    nanosleep(&ts, nil)
                    sleepNs = min(sleepNs &* 2, maxSleep)
                }
            }
        }
    }

    /// Looks at C2H result slots from `scanned` on (while written, below `limit`) for one
    /// that ended a packet (EOP).
    func scanForPacketEnd(_ scanned: inout Int, limit: Int) -> Bool {
        while scanned < limit {
            let p = results + scanned * XDMAStreamResult.slotSize
            let r = XDMAStreamResult(status: UInt32(littleEndian: bm_load_acquire32(p)), length: 0)
            guard r.isValid else { return false }
            scanned += 1
            if r.endOfPacket { return true }
        }
        return false
    }

    /// Interrupt completion (§5.5): wait for the engine's vector (or its mailbox on a shared
    /// vector); the status read that acknowledges it (0x44) also says done or failed.
    func waitForInterrupt(timeoutNanos: UInt64, cancel: XDMACancellation?, watchPacketEnd: Int = 0) -> XDMAWaitOutcome {
        guard let router = state.router else { return .failed(.interruptsGone, accumulated: 0) }
        let started = monotonicNanos()
        let deadline = started &+ timeoutNanos
        let interval = state.options.statusCheckInterval?.nanoseconds
        var nextCheck = interval.map { started &+ $0 } ?? .max
        let slice: UInt64 = 20_000_000  // how often cancellation is noticed
        var accumulated: UInt32 = 0
        let index = info.interruptIndex
        let causes = S.causes.mask
        var scanned = 0

        while true {
            let now = monotonicNanos()
            if now >= deadline {
                let status = bar.read(registers.status)
                if status == XDMARegisters.Identifier.deviceLostValue { return .failed(.timeout, accumulated: accumulated) }
                let combined = status | accumulated
                if let verdict = judge(combined) {
                    if case .failed(let f, _) = verdict { return .failed(f, accumulated: accumulated) }
                    _ = bar.read(registers.statusReadClear)
                    return verdict
                }
                return .failed(.timeout, accumulated: accumulated)
            }
            let wait = min(deadline &- now, slice, nextCheck > now ? nextCheck &- now : 0)
            let got: UInt32?
            do { got = try router.waitEngine(index, statusReadClear: registers.statusReadClear, timeoutNanos: max(wait, 1)) } catch {
                return .failed(.interruptsGone, accumulated: accumulated)
            }
            if let status = got {
                if status == XDMARegisters.Identifier.deviceLostValue { return .failed(.timeout, accumulated: accumulated) }
                accumulated |= status & causes
                if XDMAEngineStatus(raw: accumulated, direction: direction).hasError { return .failed(.hardware, accumulated: accumulated) }
                if S.descriptorStopped.isSet(in: accumulated) { return .completed(missed: false) }
                if watchPacketEnd > 0 && scanForPacketEnd(&scanned, limit: watchPacketEnd) { return .packetEnded }
            }
            if let c = cancel, c.isCancelled { return .failed(.cancelled, accumulated: accumulated) }
            let after = monotonicNanos()
            if after >= nextCheck, let i = interval {
                nextCheck = after &+ i
                let status = bar.read(registers.status)
                if status == XDMARegisters.Identifier.deviceLostValue { return .failed(.timeout, accumulated: accumulated) }
                if let verdict = judge(status | accumulated) {
                    if case .failed(let f, _) = verdict { return .failed(f, accumulated: accumulated) }
                    _ = bar.read(registers.statusReadClear)
                    return verdict
                }
            }
        }
    }
}
