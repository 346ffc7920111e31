/// One engine's performance monitor (§2.2 0xC0–0xD0, §4.6): a cycle counter that follows
/// simulated time × the AXI clock while counting, and a data-beat counter. Both are 42 bits
/// wide and saturate with a "maxed" flag (inf).
struct XDMAPerfCounters {
    typealias R = XDMAModelRegisters

    /// Control bits as last written (Auto, Run; Clear reads 0).
    var control: UInt32 = 0
    /// Counting has been frozen by a Stop descriptor in Auto mode.
    var frozen = false
    /// Nanoseconds of simulated time counted so far, not including the open interval.
    private var countedNanos: UInt64 = 0
    /// Start of the open counting interval.
    private var countingSince: UInt64?
    /// Valid data beats.
    private(set) var beats: UInt64 = 0

    static let counterMax: UInt64 = (1 << UInt64(R.PerfHigh.counterBits)) - 1

    var auto: Bool { R.PerfControl.auto.isSet(in: control) }
    var armed: Bool { R.PerfControl.run.isSet(in: control) }
    var isCounting: Bool { countingSince != nil }

    /// Starts or stops the open interval according to whether the engine counts now.
    mutating func update(engineRunning: Bool, now: UInt64) {
        let shouldCount = armed && engineRunning && !frozen
        if shouldCount, countingSince == nil {
            countingSince = now
        } else if !shouldCount, let since = countingSince {
            countedNanos &+= now &- since
            countingSince = nil
        }
    }

    /// Zeroes both counters (keeps counting if it was).
    mutating func clear(now: UInt64) {
        countedNanos = 0
        beats = 0
        if countingSince != nil { countingSince = now }
    }

    /// Adds the beats for `bytes` of valid data, if counting.
    mutating func addData(bytes: Int, datapathBytes: Int) {
        guard countingSince != nil, bytes > 0 else { return }
        beats &+= UInt64((bytes + datapathBytes - 1) / datapathBytes)
    }

    /// The cycle count: simulated time × clock, but never fewer cycles than the beats allow
    /// at `maxUtilisation` (so data / cycles stays below it even when simulated time stands still).
    func cycles(now: UInt64, clockHz: Double, maxUtilisation: Double) -> UInt64 {
        var ns = countedNanos
        if let since = countingSince { ns &+= now &- since }
        let fromTime = Double(ns) * clockHz / 1e9
        let fromBeats = (Double(beats) / maxUtilisation).rounded(.up)
        let c = max(fromTime, fromBeats)
        return c >= Double(Self.counterMax) ? Self.counterMax + 1 : UInt64(c)
    }

    /// Low / high register words of a counter value (saturating; bit 16 of high = maxed).
    static func words(_ value: UInt64) -> (low: UInt32, high: UInt32) {
        if value > counterMax {
            let high = R.PerfHigh.maxed.mask | R.PerfHigh.countHigh.mask
            return (UInt32.max, high)
        }
        return (UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32) & R.PerfHigh.countHigh.mask)
    }
}
