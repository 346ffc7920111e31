import Busmaster
import CBusmasterSupport

#if canImport(Glibc)
    import Glibc
#endif

extension XDMAEngine {
    /// §5.6 / §5.7 steps 3–4: optionally halt descriptor fetching, clear Run (W1C, leaving the
    /// latch enables alone), wait for busy = 0 within ``XDMAOptions/stopTimeout``, read the
    /// clear-on-read status, and lift the halt. Returns false when the engine never went idle
    /// (the halt then stays on).
    func stop(halt: Bool) -> Bool {
        typealias C = XDMARegisters.SGDMACommon
        if halt { bar.write(C.descriptorHaltSet, commonBit) }
        bar.write(registers.controlClear, XDMARegisters.Control.run.mask)
        let deadline = Deadline(timeout: state.options.stopTimeout)
        var sleepNs: UInt64 = 1_000
        var idle = false
        while true {
            let status = bar.read(registers.status)
            if status == XDMARegisters.Identifier.deviceLostValue {
                _ = state.probeLost(registers.identifier)
                return false
            }
            if !XDMARegisters.Status.busy.isSet(in: status) {
                idle = true
                break
            }
            if deadline.hasExpired { break }
            var ts = timespec(tv_sec: 0, tv_nsec: Int(min(sleepNs, max(deadline.remainingNanos, 1))))
            nanosleep(&ts, nil)
            sleepNs = min(sleepNs * 2, 1_000_000)
        }
        guard idle else { return false }
        _ = bar.read(registers.statusReadClear)
        if halt { bar.write(C.descriptorHaltClear, commonBit) }
        return true
    }

    /// §5.7: after a failed wait, snapshot the engine, stop it, report partial progress and
    /// re-arm it (or declare it dead), and turn the failure into a typed error.
    func abort(
        _ failure: XDMAFailure, chain: XDMAChain, accumulated: UInt32, mode: XDMACompletionMode, control programmed: UInt32,
        request: XDMAValidatedRequest, started: UInt64, stream: inout XDMAStreamCollector?
    ) -> XDMAError {
        // 1. Device lost?
        if state.isLost || state.probeLost(registers.identifier) {
            runLeftSet = false
            return .deviceLost("while waiting for \(id) (after \(Duration.nanoseconds(Int64(clamping: monotonicNanos() - started))))")
        }
        // 2. Snapshot before touching anything.
        let control = bar.read(registers.control)
        let statusRaw = bar.read(registers.status) | (accumulated & XDMARegisters.Status.causes.mask)
        let completed = Int(bar.read(registers.completedDescriptorCount))
        let wb: UInt32? = mode == .poll ? UInt32(littleEndian: bm_load_acquire32(writeback)) : nil
        // 3–4. Halt, stop, wait for idle, clear status and halt.
        let idle = stop(halt: true)
        runLeftSet = false
        let elapsed = Duration.nanoseconds(Int64(clamping: monotonicNanos() - started))
        if state.isLost { return .deviceLost("\(id) went away while being stopped") }
        // 5. Partial progress.
        let done = min(completed, chain.descriptorCount)
        var bytes = chain.transferOffset + ring.totalLength(fromSlot: chain.firstSlot, count: done)
        if request.kind == .c2hStream, stream != nil {
            statusMemory.syncForCPU()
            _ = stream!.collect(
                ring: ring, results: results, chain: chain, bufferBase: request.range.lowerBound, count: done, requireAll: false)
            bytes = stream!.bytes
            stream!.finish()
        }
        if request.kind.direction == .c2h { request.buffer.syncForCPU(request.range) }
        let status = XDMAEngineStatus(raw: statusRaw, direction: direction)
        var diagnosis = diagnose(failure, status: status, completed: done, of: chain.descriptorCount, request: request, writeback: wb)
        // 6–7. Dead engine (keep buffers mapped) or re-arm.
        if idle {
            arm(mode)
        } else {
            diagnosis += "; the engine did not go idle within \(state.options.stopTimeout) after Run was cleared: it is marked dead "
                + "and its buffers stay mapped"
            markDead("it stayed busy after a stop (\(diagnosis))", keeping: request.buffer)
        }
        let report = XDMATransferReport(
            engine: id, status: status, control: control, completedDescriptors: done, chainDescriptors: chain.descriptorCount,
            bytesTransferred: bytes, bytesRequested: request.range.count, writeback: wb, elapsed: elapsed, engineRecovered: idle,
            diagnosis: diagnosis)
        if status.hasError || failure == .hardware { return .hardwareError(report) }
        switch failure {
        case .cancelled: return .cancelled(report)
        case .interruptsGone: return .cancelled(report)
        default: return .timeout(report)
        }
    }

    /// Explains a failure snapshot in one line (which side stalled, what broke).
    private func diagnose(
        _ failure: XDMAFailure, status: XDMAEngineStatus, completed: Int, of total: Int, request: XDMAValidatedRequest, writeback: UInt32?
    ) -> String {
        let progress = "after \(completed) of \(total) descriptors"
        if status.hasError {
            return "the engine stopped on an error \(progress): " + status.faults.map(\.description).joined(separator: "; ")
        }
        if failure == .hardware, let wb = writeback, XDMAPollWriteback(raw: wb).hasError {
            return "the poll writeback reported an error (0x\(hex32(wb))) \(progress), but Status shows no cause"
        }
        switch failure {
        case .cancelled: return "cancelled by the caller \(progress)"
        case .interruptsGone: return "interrupts were disabled while waiting, \(progress)"
        default: break
        }
        if status.busy {
            if request.kind == .c2hStream {
                return "the engine is still busy \(progress): the stream source did not deliver enough data (or packets) to fill the buffer"
            }
            if completed == 0 {
                return "the engine is stuck busy before completing any descriptor: the descriptor fetch (PCIe side) or the first "
                    + "card access (AXI side) stalled"
            }
            return "the engine stalled busy \(progress): the card side (AXI) stopped accepting or producing data"
        }
        if status.descriptorStopped {
            return "the chain finished, but its completion signal never arrived in time"
        }
        return "the engine went idle \(progress) without finishing the chain and without an error cause "
            + "(an error with its latch disabled, or Run was cleared by someone else)"
    }

    /// §5.1 step 3: an engine left running or busy by a previous owner goes through recovery
    /// (§5.7) before use. Returns a problem description when the engine would not stop.
    func recoverFromPreviousOwner() -> String? {
        let control = bar.read(registers.control)
        let status = bar.read(registers.status)
        let running = XDMARegisters.Control.run.isSet(in: control)
        let busy = XDMARegisters.Status.busy.isSet(in: status)
        if running || busy {
            if !stop(halt: true) {
                let why = "left \(busy ? "busy" : "running") by a previous owner (Control 0x\(hex32(control)), Status 0x\(hex32(status))) "
                    + "and it did not go idle within \(state.options.stopTimeout)"
                markDead(why, keeping: nil)
                return why
            }
        } else {
            _ = bar.read(registers.statusReadClear)
        }
        return nil
    }
}
