import Busmaster

#if canImport(Glibc)
    import Glibc
#endif

/// DMA memory without an IOMMU from hugetlb pages: each hugepage is physically contiguous
/// and never moves, and `/proc/self/pagemap` gives its physical address.
///
/// There is **no DMA isolation** on this path: the device can reach all of memory.
/// Hugepages must be reserved first (`echo 64 > /proc/sys/vm/nr_hugepages`).
struct HugepageMemory {
    /// Memory and its physical pieces.
    struct Allocation {
        var base: UnsafeMutableRawPointer
        var length: Int
        var segments: [DMASegment]
    }

    let paths: LinuxPaths

    /// The default hugepage size from `/proc/meminfo` (2 MiB when unknown).
    var hugepageSize: Int {
        let text = SysFile.readTextIfPresent(paths.proc + "/meminfo") ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("Hugepagesize:") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if f.count >= 2, let kb = Int(f[1]) { return kb * 1024 }
        }
        return 2 << 20
    }

    /// `HugePages_Free` from `/proc/meminfo`.
    var freeHugepages: Int? {
        let text = SysFile.readTextIfPresent(paths.proc + "/meminfo") ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("HugePages_Free:") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    /// Allocates, locks, zeroes and translates `size` bytes of hugepage memory.
    func allocate(size: Int, constraints: DMAConstraints) throws -> Allocation {
        let huge = hugepageSize
        let length = (size + huge - 1) / huge * huge
        guard constraints.alignment <= huge else {
            throw BusmasterError.dmaUnavailable(
                "alignment \(constraints.alignment) exceeds the hugepage size \(huge): without an IOMMU only hugepage alignment is available")
        }
        guard let mem = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0), mem != MAP_FAILED else {
            let e = errno
            throw BusmasterError.dmaUnavailable(
                "no hugepages for \(length) bytes of DMA memory (\(String(cString: strerror(e))); HugePages_Free = "
                    + "\(freeHugepages.map(String.init) ?? "unknown")). Reserve some: `echo 64 > /proc/sys/vm/nr_hugepages` "
                    + "(or use VFIO with an IOMMU, which needs no hugepages)")
        }
        if mlock(mem, length) != 0 {
            let e = errno
            munmap(mem, length)
            if e == ENOMEM || e == EPERM {
                throw BusmasterError.dmaUnavailable(MemlockLimit.current().pinFailureMessage(bytes: UInt64(length)))
            }
            throw BusmasterError.systemCall("mlock", errno: e, context: "locking \(length) bytes of hugepage memory")
        }
        memset(mem, 0, length)  // faults every page in before translating
        do {
            let pagemap = Pagemap(paths: paths)
            var segments: [DMASegment] = []
            var offset = 0
            while offset < size {
                let phys = try pagemap.physicalAddress(of: mem + offset)
                let piece = min(huge, size - offset)
                if let last = segments.last, last.busAddress + UInt64(last.length) == phys {
                    segments[segments.count - 1].length += piece
                } else {
                    segments.append(DMASegment(busAddress: phys, length: piece, bufferOffset: offset))
                }
                offset += huge
            }
            try check(segments, constraints: constraints, hugepage: huge)
            return Allocation(base: mem, length: length, segments: segments)
        } catch {
            munmap(mem, length)
            throw error
        }
    }

    private func check(_ segments: [DMASegment], constraints: DMAConstraints, hugepage: Int) throws {
        if constraints.contiguous && segments.count > 1 {
            throw BusmasterError.dmaUnavailable(
                "a physically contiguous buffer larger than one hugepage (\(hugepage) bytes) is not available without an IOMMU: "
                    + "the hugepages are not adjacent. Use a scatter/gather buffer (contiguous: false), smaller buffers, or VFIO")
        }
        for s in segments where s.busAddress + UInt64(s.length) - 1 > constraints.addressLimit {
            throw BusmasterError.dmaUnavailable(
                "hugepage memory at physical 0x\(String(s.busAddress, radix: 16)) is above the device's \(constraints.addressBits)-bit "
                    + "limit; without an IOMMU, 32-bit masters need memory below 4 GiB (u-dma-buf with dma_mask_bit=32, or VFIO)")
        }
    }
}
