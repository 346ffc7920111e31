/// The bus segments of the live DMA buffers of one device, for turning bus addresses into
/// `bufN+0xOFF` and back.
struct BusAddressMap: Sendable {
    private struct Interval {
        var start: UInt64
        var end: UInt64  // exclusive
        var buffer: Int
        var bufferOffset: Int
    }

    /// Intervals sorted by start (then buffer id), for binary search.
    private var intervals: [Interval] = []
    private var segmentsByBuffer: [Int: [DMASegment]] = [:]
    /// High 32-bit halves covered by segments above 4 GiB, with how many segments cover each.
    private var highHalves: [UInt64: Int] = [:]
    /// Segments of 4 GiB or more above 4 GiB: every low half occurs in them.
    private var hugeHighSegments = 0

    /// Whether no buffer is live.
    var isEmpty: Bool { segmentsByBuffer.isEmpty }

    /// Adds a live buffer.
    mutating func add(buffer: Int, segments: [DMASegment]) {
        remove(buffer: buffer)
        segmentsByBuffer[buffer] = segments
        for s in segments where s.length > 0 {
            let end = s.busAddress &+ UInt64(s.length)
            intervals.append(Interval(start: s.busAddress, end: end < s.busAddress ? .max : end, buffer: buffer, bufferOffset: s.bufferOffset))
            forEachHigh(s) { highHalves[$0, default: 0] += 1 }
            if s.length >= 1 << 32 && end > 1 << 32 { hugeHighSegments += 1 }
        }
        intervals.sort { ($0.start, $0.buffer) < ($1.start, $1.buffer) }
    }

    /// Removes a buffer (no effect when unknown).
    mutating func remove(buffer: Int) {
        guard let segments = segmentsByBuffer.removeValue(forKey: buffer) else { return }
        intervals.removeAll { $0.buffer == buffer }
        for s in segments where s.length > 0 {
            forEachHigh(s) { h in
                let n = (highHalves[h] ?? 1) - 1
                highHalves[h] = n > 0 ? n : nil
            }
            if s.length >= 1 << 32 && s.busAddress &+ UInt64(s.length) > 1 << 32 { hugeHighSegments -= 1 }
        }
    }

    private func forEachHigh(_ s: DMASegment, _ body: (UInt64) -> Void) {
        let first = s.busAddress >> 32
        let last = (s.busAddress &+ UInt64(s.length - 1)) >> 32
        guard last >= first else { return }
        // A segment shorter than 4 GiB spans at most two high halves; cap the walk for huge ones.
        var h = max(first, 1)
        while h <= last && h < max(first, 1) + 4 {
            body(h)
            h += 1
        }
    }

    /// The segments of a live buffer.
    func segments(of buffer: Int) -> [DMASegment]? { segmentsByBuffer[buffer] }

    /// The buffer and offset of bus address `a`, when it lies inside a live buffer (the
    /// lowest buffer id wins if buffers overlap).
    func locate(_ a: UInt64) -> (buffer: Int, offset: Int)? {
        var lo = 0
        var hi = intervals.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if intervals[mid].start <= a { lo = mid + 1 } else { hi = mid }
        }
        // Candidates are intervals starting at or below `a`; look back for one containing it.
        var best: (buffer: Int, offset: Int)?
        var i = lo - 1
        var looked = 0
        while i >= 0 && looked < 64 {
            let iv = intervals[i]
            if a < iv.end {
                let hit = (iv.buffer, iv.bufferOffset + Int(a - iv.start))
                if best == nil || hit.0 < best!.buffer { best = hit }
            }
            i -= 1
            looked += 1
        }
        return best
    }

    /// The bus address of byte `offset` of `buffer`, if the buffer is live and the offset inside.
    func address(buffer: Int, offset: Int) -> UInt64? {
        guard let segs = segmentsByBuffer[buffer] else { return nil }
        for s in segs where offset >= s.bufferOffset && offset < s.bufferOffset + s.length {
            return s.busAddress + UInt64(offset - s.bufferOffset)
        }
        return nil
    }

    /// Whether some address above 4 GiB inside a live buffer has `v` as its low 32 bits.
    func isLowHalfOfHighAddress(_ v: UInt64) -> Bool {
        guard v <= 0xFFFF_FFFF else { return false }
        if hugeHighSegments > 0 { return true }
        for h in highHalves.keys where locate(h << 32 | v) != nil { return true }
        return false
    }

    /// Whether `v` (non-zero) is the high 32 bits of some address inside a live buffer.
    func isHighHalf(_ v: UInt64) -> Bool { v != 0 && highHalves[v] != nil }
}
