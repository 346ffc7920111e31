import Busmaster

#if canImport(Glibc)
    import Glibc
#endif

/// Physically contiguous DMA memory from u-dma-buf devices (`/dev/udmabufN`, the
/// out-of-tree `u-dma-buf` module), carved into buffers. Used by the no-IOMMU path when
/// such devices exist; there is **no DMA isolation** on this path.
final class UDMABufPool: @unchecked Sendable {
    /// One u-dma-buf device, mapped whole.
    struct Region {
        var name: String
        var physical: UInt64
        var size: Int
        var base: UnsafeMutableRawPointer
        var allocator: IOVAAllocator
    }

    private let lock = Lock()
    private var regions: [Region]

    /// The u-dma-buf devices listed under `/sys/class/u-dma-buf` with their physical
    /// address and size, mapped; empty when there are none.
    init(paths: LinuxPaths) {
        var found: [Region] = []
        let classDir = paths.sysfs + "/class/u-dma-buf"
        for name in SysFile.list(classDir) ?? [] {
            let dir = classDir + "/" + name
            guard let phys = SysFile.readNumber(dir + "/phys_addr"), let size = SysFile.readNumber(dir + "/size"), size >= 4096,
                let fd = try? SysFile.open(paths.dev + "/" + name, .readWrite)
            else { continue }
            defer { try? fd.close() }
            guard let p = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd.rawValue, 0), p != MAP_FAILED else { continue }
            // Allocate in physical address space; page 0 is never handed out, which is fine here.
            let allocator = IOVAAllocator(ranges: [phys...(phys + size - 1)])
            found.append(Region(name: name, physical: phys, size: Int(size), base: p, allocator: allocator))
        }
        regions = found
    }

    deinit { for r in regions { munmap(r.base, r.size) } }

    /// Whether any u-dma-buf device is available.
    var isAvailable: Bool { lock.withLock { !regions.isEmpty } }

    /// A contiguous piece of `size` bytes (zeroed) meeting `constraints`: (CPU pointer, physical address), or nil when none fits.
    func allocate(size: Int, constraints: DMAConstraints) -> (UnsafeMutableRawPointer, UInt64)? {
        lock.withLock {
            for i in regions.indices {
                if let phys = try? regions[i].allocator.allocate(
                    size: UInt64(size), alignment: UInt64(constraints.alignment), limit: constraints.addressLimit)
                {
                    let p = regions[i].base + Int(phys - regions[i].physical)
                    memset(p, 0, size)
                    return (p, phys)
                }
            }
            return nil
        }
    }

    /// Returns a piece by its physical address.
    func release(physical: UInt64) {
        lock.withLock {
            for i in regions.indices where physical >= regions[i].physical && physical < regions[i].physical + UInt64(regions[i].size) {
                try? regions[i].allocator.release(physical)
            }
        }
    }
}
