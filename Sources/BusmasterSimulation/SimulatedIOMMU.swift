#if canImport(Glibc)
    import Glibc
#endif
import Busmaster

/// The simulated IOMMU: bus addresses (IOVAs) → host memory, with per-mapping permissions.
/// A device can only reach what a driver mapped, in the mapped direction.
///
/// Not thread-safe by itself: the platform calls it with its lock held.
final class SimulatedIOMMU {
    struct Entry {
        var iova: UInt64
        var length: Int
        var host: UnsafeMutableRawPointer
        var deviceReads: Bool
        var deviceWrites: Bool
        var mappingID: Int
        var end: UInt64 { iova + UInt64(length) }
    }

    static let pageSize = 4096
    /// Entries sorted by IOVA, non-overlapping.
    private(set) var entries: [Entry] = []
    /// Ranges handed out (sorted), including unmapped gaps kept for fragmentation.
    private var allocated: [(start: UInt64, end: UInt64)] = []
    /// 32-bit pool starts above page 0 and a low "firmware" hole.
    let lowPool: Range<UInt64> = 0x0010_0000..<0x1_0000_0000
    /// 64-bit pool.
    let highPool: Range<UInt64> = 0x1_0000_0000..<0x8000_0000_0000

    /// Finds a free IOVA range of `size` aligned to `alignment` below `limit`.
    func allocateIOVA(size: Int, alignment: Int, limit: UInt64) -> UInt64? {
        let sz = UInt64(roundUp(size, Self.pageSize))
        let align = UInt64(max(alignment, Self.pageSize))
        var pools: [Range<UInt64>] = []
        // 64-bit capable devices get addresses above 4 GiB first, to expose truncation bugs.
        if limit > lowPool.upperBound { pools.append(highPool) }
        pools.append(lowPool)
        for pool in pools {
            let top = min(pool.upperBound, limit == .max ? .max : limit + 1)
            var candidate = alignUp(pool.lowerBound, align)
            for r in allocated where r.end > candidate && r.start < top {
                if r.start >= candidate + sz { break }
                candidate = alignUp(max(candidate, r.end), align)
            }
            if candidate + sz <= top {
                insertAllocated(candidate, candidate + sz)
                return candidate
            }
        }
        return nil
    }

    func freeIOVA(_ start: UInt64) {
        if let i = allocated.firstIndex(where: { $0.start == start }) { allocated.remove(at: i) }
    }

    private func insertAllocated(_ s: UInt64, _ e: UInt64) {
        let i = allocated.firstIndex { $0.start > s } ?? allocated.count
        allocated.insert((s, e), at: i)
    }

    func map(iova: UInt64, length: Int, host: UnsafeMutableRawPointer, direction: DMADirection, id: Int) {
        let e = Entry(iova: iova, length: length, host: host, deviceReads: direction.deviceReads,
                      deviceWrites: direction.deviceWrites, mappingID: id)
        let i = entries.firstIndex { $0.iova > iova } ?? entries.count
        entries.insert(e, at: i)
    }

    func unmap(mappingID: Int) {
        entries.removeAll { $0.mappingID == mappingID }
    }

    /// The entry containing `address`, by binary search.
    @inline(__always)
    func entry(containing address: UInt64) -> Int? {
        var lo = 0
        var hi = entries.count - 1
        while lo <= hi {
            let mid = (lo + hi) >> 1
            let e = entries[mid]
            if address < e.iova { hi = mid - 1 } else if address >= e.end { lo = mid + 1 } else { return mid }
        }
        return nil
    }

    /// Calls `body` with host pieces covering [address, address+length); throws on the first hole.
    @inline(__always)
    func withHostRanges(
        _ address: UInt64, _ length: Int, write: Bool, _ body: (UnsafeMutableRawPointer, Int, Int) -> Void
    ) throws(DMAFault) {
        var done = 0
        while done < length {
            let a = address &+ UInt64(done)
            guard let i = entry(containing: a) else {
                throw DMAFault(address: a, length: length, isRead: !write, reason: .unmapped)
            }
            let e = entries[i]
            guard write ? e.deviceWrites : e.deviceReads else {
                throw DMAFault(address: a, length: length, isRead: !write, reason: .permission)
            }
            let off = Int(a - e.iova)
            let n = min(length - done, e.length - off)
            body(e.host + off, n, done)
            done += n
        }
    }
}

@inline(__always) func roundUp(_ v: Int, _ a: Int) -> Int { (v + a - 1) / a * a }
@inline(__always) func alignUp(_ v: UInt64, _ a: UInt64) -> UInt64 { (v + a - 1) / a * a }
