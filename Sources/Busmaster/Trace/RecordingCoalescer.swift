/// Turns the raw accesses a recorder sees into trace events: folds consecutive identical
/// reads into one event with a repeat count, and writes DMA bus addresses symbolically.
///
/// Symbolic-value rule (deterministic; "inside" means inside a segment of a buffer that is
/// allocated or locked and not yet freed):
/// 1. A 64-bit write whose value is inside a buffer is written `bufN+0xOFF`.
/// 2. A 32-bit write whose value, taken as an address below 4 GiB, is inside a buffer is
///    written `lo:bufN+0xOFF`. If the very next event is a 32-bit write to offset+4 of the
///    same BAR whose value is that address's high half (0), it is written `hi:bufN+0xOFF`.
/// 3. A pair of 32-bit writes to offsets o and o+4 of the same BAR, one right after the
///    other in either order, whose values (low at o, high at o+4) form an address above
///    4 GiB inside a buffer are written `lo:bufN+0xOFF` and `hi:bufN+0xOFF`. To decide this
///    the first write of a possible pair is held back until the next event.
/// 4. Everything else is a literal. Config writes are always literal.
///
/// Replay resolves the names against its own buffers, so a driver programming its buffers'
/// addresses matches wherever those buffers end up on the bus.
struct RecordingCoalescer {
    /// The live buffers.
    var addresses = BusAddressMap()

    /// A 32-bit write held back because it may be one half of an address pair.
    private struct PendingWrite {
        var bar: Int
        var offset: Int
        var value: UInt64
        /// It may be the low half (the next write, to offset+4, would be the high half).
        var mayBeLow: Bool
        /// It may be the high half (the next write, to offset-4, would be the low half).
        var mayBeHigh: Bool
    }
    private struct LastLow {
        var bar: Int
        var offset: Int
        var address: UInt64
        var buffer: Int
        var bufferOffset: Int
    }

    private var pendingRead: TraceEvent?
    private var pendingWrite: PendingWrite?
    private var lastLow: LastLow?

    /// Adds one event; reads and writes must carry count 1 and literal values.
    mutating func add(_ event: TraceEvent, emit: (TraceEvent) -> Void) {
        switch event {
        case .read, .configRead:
            flushWrite(emit)
            lastLow = nil
            if let p = pendingRead, p.isSamePoll(as: event) {
                pendingRead = p.withRepeatCount(p.repeatCount + event.repeatCount)
            } else {
                if let p = pendingRead { emit(p) }
                pendingRead = event
            }
        case .write(let bar, let offset, let width, .literal(let value)):
            flushRead(emit)
            addWrite(bar: bar, offset: offset, width: width, value: value, emit)
        default:
            flush(emit)
            emit(event)
        }
    }

    /// Emits everything held back (a folded read, a possible half of an address pair).
    mutating func flush(_ emit: (TraceEvent) -> Void) {
        flushRead(emit)
        flushWrite(emit)
        lastLow = nil
    }

    /// What ``flush(_:)`` would emit, without changing state (for snapshots).
    func held() -> [TraceEvent] {
        var out: [TraceEvent] = []
        if let p = pendingRead { out.append(p) }
        if let w = pendingWrite { out.append(.write(bar: w.bar, offset: w.offset, width: .dword, value: .literal(w.value))) }
        return out
    }

    private mutating func flushRead(_ emit: (TraceEvent) -> Void) {
        if let p = pendingRead { emit(p) }
        pendingRead = nil
    }

    private mutating func flushWrite(_ emit: (TraceEvent) -> Void) {
        if let w = pendingWrite { emit(.write(bar: w.bar, offset: w.offset, width: .dword, value: .literal(w.value))) }
        pendingWrite = nil
    }

    private mutating func addWrite(bar: Int, offset: Int, width: AccessWidth, value: UInt64, _ emit: (TraceEvent) -> Void) {
        guard width == .dword else {
            flushWrite(emit)
            lastLow = nil
            var v = TraceValue.literal(value)
            if width == .qword, let loc = addresses.locate(value) { v = .busAddress(buffer: loc.buffer, offset: loc.offset, part: .full) }
            emit(.write(bar: bar, offset: offset, width: width, value: v))
            return
        }
        func sym(_ buffer: Int, _ off: Int, _ part: TraceValue.AddressPart) -> TraceValue {
            .busAddress(buffer: buffer, offset: off, part: part)
        }
        if let p = pendingWrite {
            pendingWrite = nil
            if p.bar == bar {
                if p.mayBeLow && offset == p.offset + 4, let loc = addresses.locate(value << 32 | p.value) {
                    emit(.write(bar: bar, offset: p.offset, width: .dword, value: sym(loc.buffer, loc.offset, .low)))
                    emit(.write(bar: bar, offset: offset, width: .dword, value: sym(loc.buffer, loc.offset, .high)))
                    lastLow = nil
                    return
                }
                if p.mayBeHigh && offset + 4 == p.offset, let loc = addresses.locate(p.value << 32 | value) {
                    emit(.write(bar: bar, offset: p.offset, width: .dword, value: sym(loc.buffer, loc.offset, .high)))
                    emit(.write(bar: bar, offset: offset, width: .dword, value: sym(loc.buffer, loc.offset, .low)))
                    lastLow = nil
                    return
                }
            }
            emit(.write(bar: p.bar, offset: p.offset, width: .dword, value: .literal(p.value)))
        }
        if let l = lastLow, l.bar == bar, offset == l.offset + 4, value == l.address >> 32 {
            emit(.write(bar: bar, offset: offset, width: .dword, value: sym(l.buffer, l.bufferOffset, .high)))
            lastLow = nil
            return
        }
        lastLow = nil
        if let loc = addresses.locate(value) {
            emit(.write(bar: bar, offset: offset, width: .dword, value: sym(loc.buffer, loc.offset, .low)))
            lastLow = LastLow(bar: bar, offset: offset, address: value, buffer: loc.buffer, bufferOffset: loc.offset)
            return
        }
        let mayBeLow = addresses.isLowHalfOfHighAddress(value)
        let mayBeHigh = offset >= 4 && addresses.isHighHalf(value)
        if mayBeLow || mayBeHigh {
            pendingWrite = PendingWrite(bar: bar, offset: offset, value: value, mayBeLow: mayBeLow, mayBeHigh: mayBeHigh)
            return
        }
        emit(.write(bar: bar, offset: offset, width: .dword, value: .literal(value)))
    }
}
