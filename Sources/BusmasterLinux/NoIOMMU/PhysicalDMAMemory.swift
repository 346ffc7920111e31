import Busmaster

#if canImport(Glibc)
    import Glibc
#endif

/// DMA memory for the no-IOMMU (sysfs/UIO) path: u-dma-buf when present, otherwise
/// hugepages translated through pagemap. The device sees physical addresses and can
/// reach **all** of memory: there is no DMA isolation.
final class PhysicalDMAMemory: @unchecked Sendable {
    private enum Source {
        case udmabuf(physical: UInt64)
        case hugepages(base: UnsafeMutableRawPointer, length: Int)
    }

    private let lock = Lock()
    private let hugepages: HugepageMemory
    private let udmabuf: UDMABufPool
    private var records: [Int: Source] = [:]
    private var nextID = 1

    init(paths: LinuxPaths) {
        hugepages = HugepageMemory(paths: paths)
        udmabuf = UDMABufPool(paths: paths)
    }

    func allocate(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        if let (p, phys) = udmabuf.allocate(size: size, constraints: constraints) {
            return record(.udmabuf(physical: phys), bytes: UnsafeMutableRawBufferPointer(start: p, count: size),
                segments: [DMASegment(busAddress: phys, length: size, bufferOffset: 0)], direction: direction)
        }
        let a = try hugepages.allocate(size: size, constraints: constraints)
        return record(.hugepages(base: a.base, length: a.length), bytes: UnsafeMutableRawBufferPointer(start: a.base, count: size),
            segments: a.segments, direction: direction)
    }

    private func record(_ source: Source, bytes: UnsafeMutableRawBufferPointer, segments: [DMASegment], direction: DMADirection) -> DMAMapping {
        lock.withLock {
            let id = nextID
            nextID += 1
            records[id] = source
            return DMAMapping(id: id, bytes: bytes, segments: segments, direction: direction, isCallerMemory: false)
        }
    }

    func release(_ mapping: DMAMapping) {
        guard let source = lock.withLock({ records.removeValue(forKey: mapping.id) }) else { return }
        free(source)
    }

    func releaseAll() {
        let all = lock.withLock { () -> [Source] in
            defer { records = [:] }
            return Array(records.values)
        }
        all.forEach(free)
    }

    private func free(_ source: Source) {
        switch source {
        case .udmabuf(let phys): udmabuf.release(physical: phys)
        case .hugepages(let base, let length): munmap(base, length)
        }
    }
}
