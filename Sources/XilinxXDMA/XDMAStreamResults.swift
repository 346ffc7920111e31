import Busmaster

/// Collects C2H-stream result writebacks (§3.4) chain by chain: checks each slot's magic and
/// length and assembles packets by EOP.
struct XDMAStreamCollector: Sendable {
    /// Per-descriptor results so far.
    var descriptors: [XDMAStreamDescriptorResult] = []
    /// Completed packets so far.
    var packets: [XDMAStreamPacket] = []
    /// Bytes received so far.
    var bytes = 0
    private var open: [Range<Int>] = []

    /// Reads the results of the first `count` descriptors of `chain`. With `requireAll`, a
    /// missing magic or an impossible length is a problem (returned as text); otherwise
    /// collection stops quietly at the first unwritten slot.
    mutating func collect(
        ring: XDMADescriptorRing, results: UnsafeMutableRawPointer, chain: XDMAChain, bufferBase: Int, count: Int, requireAll: Bool
    ) -> String? {
        var offset = bufferBase + chain.transferOffset
        var missing: [Int] = []
        var slot = chain.firstSlot
        for i in 0..<count {
            let capacity = Int(ring.descriptor(at: slot).length)
            let r = XDMAStreamResult(loadingFrom: results + slot * XDMAStreamResult.slotSize)
            guard r.isValid else {
                if !requireAll { break }
                missing.append(i)
                offset += capacity
                slot = slot + 1 == ring.capacity ? 0 : slot + 1
                continue
            }
            let length = Int(r.length)
            if length > capacity {
                return "descriptor \(i) reports \(length) bytes written into a \(capacity)-byte buffer (result 0x\(hex32(r.status)))"
            }
            descriptors.append(XDMAStreamDescriptorResult(bufferOffset: offset, capacity: capacity, length: length, endOfPacket: r.endOfPacket))
            if length > 0 {
                if let last = open.last, last.upperBound == offset {
                    open[open.count - 1] = last.lowerBound..<(offset + length)
                } else {
                    open.append(offset..<(offset + length))
                }
            }
            bytes += length
            if r.endOfPacket {
                packets.append(XDMAStreamPacket(ranges: open, complete: true))
                open = []
            }
            offset += capacity
            slot = slot + 1 == ring.capacity ? 0 : slot + 1
        }
        if !missing.isEmpty {
            let list = missing.prefix(8).map(String.init).joined(separator: ", ")
            return "\(missing.count) of \(count) result writebacks lack the 0x52B4 magic (descriptors \(list)\(missing.count > 8 ? ", …" : ""))"
        }
        return nil
    }

    /// Closes a packet still open at the end (no EOP seen).
    mutating func finish() {
        if !open.isEmpty {
            packets.append(XDMAStreamPacket(ranges: open, complete: false))
            open = []
        }
    }
}
