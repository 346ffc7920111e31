import Busmaster

/// Hands out bus addresses (IOVAs) inside the ranges an IOMMU reports.
///
/// Policy (never `iova = vaddr`):
/// - only addresses inside the reported ranges, page-aligned, and never IOVA page 0;
/// - two pools: **A32** (below 4 GiB) for 32-bit masters and **A64** (4 GiB and up). A
///   request whose address limit reaches above 4 GiB is served from A64 first so that
///   A32 stays free for devices that need it, then from A32;
/// - each request honours an alignment and an address limit (a `dma_mask`);
/// - first fit at the lowest address within a pool; freed ranges are merged back.
public struct IOVAAllocator: Sendable {
    /// The lowest IOVA handed out (page 0 is never used).
    public let pageSize: UInt64
    /// Free ranges, sorted, non-overlapping, half-open `[lower, upper)`.
    public private(set) var free: [Range<UInt64>]
    /// Live allocations: start → length.
    public private(set) var allocated: [UInt64: UInt64] = [:]

    /// The boundary between the A32 and A64 pools.
    public static let fourGiB: UInt64 = 1 << 32

    /// Creates an allocator over `ranges` (inclusive ends, as VFIO reports them), using
    /// `pageSize` granularity (a power of two ≥ 4096).
    public init(ranges: [ClosedRange<UInt64>], pageSize: UInt64 = 4096) {
        precondition(pageSize >= 4096 && pageSize & (pageSize - 1) == 0, "IOVA page size must be a power of two ≥ 4096")
        self.pageSize = pageSize
        var spans: [Range<UInt64>] = []
        for r in ranges {
            let lo = Self.alignUp(max(r.lowerBound, pageSize), pageSize)
            // Exclusive end, rounded down to a page; the top of a 64-bit space loses its last page.
            let hiInclusive = r.upperBound
            let hi = hiInclusive == .max ? UInt64.max & ~(pageSize - 1) : (hiInclusive + 1) & ~(pageSize - 1)
            guard let lo, lo < hi else { continue }
            spans.append(lo..<hi)
        }
        self.free = Self.merge(spans)
    }

    /// Bytes still free below 4 GiB.
    public var freeBelow4GiB: UInt64 {
        free.reduce(0) { $0 + (min($1.upperBound, Self.fourGiB) > $1.lowerBound ? min($1.upperBound, Self.fourGiB) - $1.lowerBound : 0) }
    }

    /// Bytes still free at or above 4 GiB.
    public var freeAbove4GiB: UInt64 {
        free.reduce(0) { $0 + ($1.upperBound > max($1.lowerBound, Self.fourGiB) ? $1.upperBound - max($1.lowerBound, Self.fourGiB) : 0) }
    }

    /// Allocates `size` bytes (rounded up to pages) aligned to `alignment` (raised to a
    /// page), ending at or below `limit` (the highest usable address, e.g. `0xFFFF_FFFF`).
    /// Returns the first IOVA.
    public mutating func allocate(size: UInt64, alignment: UInt64 = 4096, limit: UInt64 = .max) throws -> UInt64 {
        guard size > 0 else { throw BusmasterError.invalidArgument("IOVA allocation size must be > 0") }
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw BusmasterError.invalidArgument("IOVA alignment must be a power of two (got \(alignment))")
        }
        guard let length = Self.alignUp(size, pageSize) else {
            throw BusmasterError.dmaUnavailable("an IOVA range of \(size) bytes is larger than any address space")
        }
        let align = max(alignment, pageSize)
        // Pools in preference order: A64 first when the device reaches above 4 GiB.
        let pools: [Range<UInt64>] =
            limit >= Self.fourGiB ? [Self.fourGiB..<UInt64.max, 0..<Self.fourGiB] : [0..<Self.fourGiB]
        for pool in pools {
            for (i, span) in free.enumerated() {
                let lower = max(span.lowerBound, pool.lowerBound)
                let upperExclusive = min(span.upperBound, pool.upperBound, limit == .max ? .max : limit + 1)
                guard let start = Self.alignUp(lower, align), start < upperExclusive,
                    upperExclusive - start >= length
                else { continue }
                carve(index: i, start: start, length: length)
                allocated[start] = length
                return start
            }
        }
        let where_ = limit < Self.fourGiB ? "below 0x\(String(limit &+ 1, radix: 16))" : "in the IOMMU's ranges"
        throw BusmasterError.dmaUnavailable(
            "no free IOVA range of \(length) bytes aligned to 0x\(String(align, radix: 16)) \(where_) "
                + "(free: \(freeBelow4GiB) bytes below 4 GiB, \(freeAbove4GiB) above)")
    }

    /// Returns an allocation made by ``allocate(size:alignment:limit:)``.
    public mutating func release(_ iova: UInt64) throws {
        guard let length = allocated.removeValue(forKey: iova) else {
            throw BusmasterError.invalidArgument("IOVA 0x\(String(iova, radix: 16)) is not an allocation of this allocator")
        }
        free = Self.merge(free + [iova..<(iova + length)])
    }

    private mutating func carve(index i: Int, start: UInt64, length: UInt64) {
        let span = free[i]
        var pieces: [Range<UInt64>] = []
        if span.lowerBound < start { pieces.append(span.lowerBound..<start) }
        if start + length < span.upperBound { pieces.append((start + length)..<span.upperBound) }
        free.replaceSubrange(i...i, with: pieces)
    }

    static func merge(_ spans: [Range<UInt64>]) -> [Range<UInt64>] {
        var out: [Range<UInt64>] = []
        for s in spans.sorted(by: { $0.lowerBound < $1.lowerBound }) where !s.isEmpty {
            if let last = out.last, s.lowerBound <= last.upperBound {
                out[out.count - 1] = last.lowerBound..<max(last.upperBound, s.upperBound)
            } else {
                out.append(s)
            }
        }
        return out
    }

    /// `v` rounded up to a multiple of `a` (a power of two), or nil on overflow.
    static func alignUp(_ v: UInt64, _ a: UInt64) -> UInt64? {
        let (sum, overflow) = v.addingReportingOverflow(a - 1)
        return overflow ? nil : sum & ~(a - 1)
    }
}
