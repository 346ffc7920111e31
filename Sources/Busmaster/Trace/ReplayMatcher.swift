/// Something a driver does to a replayed device, to be matched against the trace.
enum ReplayAccess: Sendable {
    case configRead(offset: Int, width: AccessWidth)
    case configWrite(offset: Int, width: AccessWidth, value: UInt64)
    case read(bar: Int, offset: Int, width: AccessWidth)
    case write(bar: Int, offset: Int, width: AccessWidth, value: UInt64)
    case dmaAllocate(size: Int, direction: DMADirection, contiguous: Bool)
    case dmaLock(size: Int, direction: DMADirection)
    case dmaSync(point: DMASyncPoint, buffer: Int, offset: Int, length: Int, crc: UInt32)
    case dmaFree(buffer: Int)
    case irqEnable(kind: InterruptKind, vectors: Int)
    case irqWait(vector: Int)
    case irqUnmask
    case irqDisable
    case reset

    /// The access written like a trace line, for divergence reports.
    func text(symbolize: (UInt64, AccessWidth) -> String?) -> String {
        switch self {
        case .configRead(let offset, let width): return "CR\(width.bits) \(TraceFormat.configOffset(offset)) (read)"
        case .configWrite(let offset, let width, let value):
            return TraceFormat.line(of: .configWrite(offset: offset, width: width, value: value))
        case .read(let bar, let offset, let width): return "R\(width.bits) bar\(bar) \(TraceFormat.barOffset(offset)) (read)"
        case .write(let bar, let offset, let width, let value):
            let base = TraceFormat.line(of: .write(bar: bar, offset: offset, width: width, value: .literal(value)))
            if let s = symbolize(value, width) { return base + " (= \(s) in this replay)" }
            return base
        case .dmaAllocate(let size, let direction, let contiguous):
            return "DMA-ALLOC 0x\(String(size, radix: 16)) \(direction.rawValue) \(contiguous ? "contiguous" : "sg")"
        case .dmaLock(let size, let direction): return "DMA-LOCK 0x\(String(size, radix: 16)) \(direction.rawValue)"
        case .dmaSync(let point, let buffer, let offset, let length, let crc):
            return TraceFormat.line(of: .dmaSync(point: point, buffer: buffer, offset: offset, length: length, crc: crc, data: nil))
        case .dmaFree(let buffer): return "DMA-FREE buf\(buffer)"
        case .irqEnable(let kind, let vectors): return "IRQ-ENABLE \(kind.rawValue) \(vectors)"
        case .irqWait(let vector): return "wait for an interrupt on v\(vector)"
        case .irqUnmask: return "IRQ-UNMASK"
        case .irqDisable: return "IRQ-DISABLE"
        case .reset: return "RESET"
        }
    }
}

/// Walks a trace as a driver's accesses come in.
///
/// Matching rules:
/// - Comments and marks are skipped.
/// - A read matches a recorded read of the same register and width; the recorded value is
///   served. A write matches a recorded write of the same register, width and value
///   (symbolic values resolved by the caller against the replay's own buffers).
/// - A *poll group* is a run of identical reads (repeat counts added up) or of timeouts on
///   one vector. The driver may poll fewer times than recorded: its next, different access
///   moves past the group. It may poll more often: then the line after the group is served
///   if it answers the access (usually the changed value, or the interrupt that finally
///   came); otherwise the group's value is served again. So poll loops that differ only in
///   their repeat counts match.
struct ReplayMatcher {
    enum Outcome {
        /// The access matched the event at this index.
        case matched(TraceEvent, index: Int)
        /// The access does not match the next expected event.
        case mismatch(expectedIndex: Int)
        /// The trace has no events left.
        case endOfTrace
    }

    let events: [TraceEvent]
    private(set) var index = 0
    private var served = 0
    private var groupEnd = 0
    private var groupTotal = 0

    init(events: [TraceEvent]) { self.events = events }

    private func nextDevice(from i: Int) -> Int? {
        var j = i
        while j < events.count {
            if events[j].isDeviceEvent { return j }
            j += 1
        }
        return nil
    }

    private static func isPollable(_ e: TraceEvent) -> Bool {
        switch e {
        case .read, .configRead, .irqTimeout: return true
        default: return false
        }
    }

    private mutating func enterGroup(at i: Int) {
        index = i
        served = 1
        groupTotal = events[i].repeatCount
        var j = i + 1
        groupEnd = j
        while let k = nextDevice(from: j), events[k].isSamePoll(as: events[i]) {
            groupTotal += events[k].repeatCount
            j = k + 1
            groupEnd = j
        }
    }

    /// Matches `access`; `accepts` says whether an event answers an access.
    mutating func match(_ access: ReplayAccess, accepts: (TraceEvent, ReplayAccess) -> Bool) -> Outcome {
        while true {
            if served > 0 {
                let e = events[index]
                if accepts(e, access) {
                    if served < groupTotal {
                        served += 1
                        return .matched(e, index: index)
                    }
                    if let j = nextDevice(from: groupEnd), accepts(events[j], access) {
                        return consume(at: j)
                    }
                    served += 1
                    return .matched(e, index: index)
                }
                // The driver polled fewer times than recorded: move past the group.
                index = groupEnd
                served = 0
                continue
            }
            guard let i = nextDevice(from: index) else {
                index = events.count
                return .endOfTrace
            }
            index = i
            guard accepts(events[i], access) else { return .mismatch(expectedIndex: i) }
            return consume(at: i)
        }
    }

    private mutating func consume(at i: Int) -> Outcome {
        if Self.isPollable(events[i]) {
            enterGroup(at: i)
        } else {
            index = i + 1
            served = 0
        }
        return .matched(events[i], index: i)
    }

    /// The index of the first event not yet replayed (past a poll group being served), and
    /// how many device events remain from there.
    func remaining() -> (index: Int, count: Int)? {
        let start = served > 0 ? groupEnd : index
        guard let first = nextDevice(from: start) else { return nil }
        let n = events[first...].reduce(0) { $0 + ($1.isDeviceEvent ? 1 : 0) }
        return (first, n)
    }
}
