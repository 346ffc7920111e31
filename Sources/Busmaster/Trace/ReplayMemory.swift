import CBusmasterSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Host memory for replayed DMA buffers: page-aligned, zeroed anonymous mappings.
enum ReplayMemory {
    static let pageSize = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)

    /// Maps `size` bytes (rounded up to whole pages); the buffer view is exactly `size` bytes.
    static func allocate(size: Int) throws -> UnsafeMutableRawBufferPointer {
        let length = roundUp(size, pageSize)
        let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != bm_map_failed() else {
            throw BusmasterError.dmaUnavailable("cannot map \(length) bytes of host memory for a replayed DMA buffer (errno \(errno))")
        }
        return UnsafeMutableRawBufferPointer(start: p, count: size)
    }

    /// Unmaps memory from ``allocate(size:)``.
    static func free(_ bytes: UnsafeMutableRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        munmap(base, roundUp(bytes.count, pageSize))
    }

    static func roundUp(_ n: Int, _ to: Int) -> Int { (n + to - 1) / to * to }
}

/// Hands out fake but stable bus addresses for replayed buffers: a bump allocator starting at
/// 256 MiB, page-aligned (or the requested alignment), with a guard page between buffers.
/// Addresses stay below 4 GiB while they fit, so high halves of addresses are 0, as on most
/// IOMMU address allocators.
struct ReplayBusAllocator {
    /// The first address handed out.
    static let base: UInt64 = 0x1000_0000
    private var next: UInt64 = base

    /// One segment of `size` bytes honouring `constraints`.
    mutating func allocate(size: Int, constraints: DMAConstraints) throws -> [DMASegment] {
        let align = UInt64(max(constraints.alignment, ReplayMemory.pageSize))
        let start = (next + align - 1) / align * align
        let length = UInt64(ReplayMemory.roundUp(size, ReplayMemory.pageSize))
        guard start <= constraints.addressLimit, length - 1 <= constraints.addressLimit - start else {
            throw BusmasterError.dmaUnavailable(
                "the replay ran out of bus addresses below 2^\(constraints.addressBits) for a \(size)-byte buffer")
        }
        next = start + length + UInt64(ReplayMemory.pageSize)
        return [DMASegment(busAddress: start, length: size, bufferOffset: 0)]
    }
}
