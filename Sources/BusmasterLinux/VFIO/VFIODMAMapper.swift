import Busmaster
import CBusmasterSupport

#if canImport(Glibc)
    import Glibc
#endif

/// DMA memory of one VFIO container: allocates IOVAs with ``IOVAAllocator``, maps
/// anonymous memory or locked caller memory with `VFIO_IOMMU_MAP_DMA`, and unmaps on release.
final class VFIODMAMapper: @unchecked Sendable {
    private struct Record {
        var iova: UInt64
        var length: UInt64
        var pageStart: UnsafeMutableRawPointer
        var ownsMemory: Bool
    }

    private let container: VFIOContainer
    private let lock = Lock()
    private var allocator: IOVAAllocator
    private var records: [Int: Record] = [:]
    private var nextID = 1
    /// The IOMMU page size used for mappings.
    let pageSize: UInt64

    init(container: VFIOContainer, info: VFIOIOMMUInfo) {
        self.container = container
        pageSize = max(info.minimumPageSize, UInt64(sysconf(Int32(_SC_PAGESIZE))))
        allocator = IOVAAllocator(ranges: info.iovaRanges, pageSize: pageSize)
    }

    /// Anonymous memory, zeroed, mapped at a fresh IOVA (one bus-contiguous segment).
    func allocate(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        guard let length = IOVAAllocator.alignUp(UInt64(size), pageSize) else {
            throw BusmasterError.invalidArgument("DMA buffer size \(size) is too large")
        }
        guard let mem = mmap(nil, Int(length), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mem != MAP_FAILED else {
            throw BusmasterError.dmaUnavailable("mmap of \(length) bytes failed: \(String(cString: strerror(errno)))")
        }
        _ = madvise(mem, Int(length), MADV_DONTFORK)  // a fork must not copy-on-write pinned pages
        do {
            let iova = try map(mem, length: length, direction: direction, alignment: UInt64(constraints.alignment), limit: constraints.addressLimit)
            return lock.withLock {
                let id = nextID
                nextID += 1
                records[id] = Record(iova: iova, length: length, pageStart: mem, ownsMemory: true)
                return DMAMapping(
                    id: id, bytes: UnsafeMutableRawBufferPointer(start: mem, count: size),
                    segments: [DMASegment(busAddress: iova, length: size, bufferOffset: 0)], direction: direction,
                    isCallerMemory: false)
            }
        } catch {
            munmap(mem, Int(length))
            throw error
        }
    }

    /// Maps the pages under caller memory (pinning them) at a fresh IOVA.
    func lock(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        guard let base = memory.baseAddress, memory.count > 0 else {
            throw BusmasterError.invalidArgument("cannot lock an empty buffer for DMA")
        }
        let span = try DMAPageSpan(address: UInt64(UInt(bitPattern: base)), count: memory.count, pageSize: pageSize)
        let alignment = UInt64(max(constraints.alignment, 1))
        try span.checkAlignment(alignment, pageSize: pageSize)
        let pagePointer = UnsafeMutableRawPointer(bitPattern: UInt(span.pageStart))!
        let iova = try map(pagePointer, length: span.length, direction: direction, alignment: alignment, limit: constraints.addressLimit)
        return lock.withLock {
            let id = nextID
            nextID += 1
            records[id] = Record(iova: iova, length: span.length, pageStart: pagePointer, ownsMemory: false)
            return DMAMapping(
                id: id, bytes: memory, segments: [DMASegment(busAddress: iova + span.offset, length: memory.count, bufferOffset: 0)],
                direction: direction, isCallerMemory: true)
        }
    }

    /// Allocates an IOVA range whose every page lies at or below `limit` and maps `vaddr` there.
    private func map(
        _ vaddr: UnsafeMutableRawPointer, length: UInt64, direction: DMADirection, alignment: UInt64, limit: UInt64
    ) throws -> UInt64 {
        // Write-fault every page first. Pinning an untouched private page without write
        // permission (a to-device mapping) pins the kernel's shared zero page; the CPU's
        // later writes then go to a copy-on-write page the IOMMU never sees, and the device
        // reads zeros. Found by the QEMU/VFIO integration test.
        Self.faultInWritable(vaddr, length: length, pageSize: pageSize)
        let iova = try lock.withLock {
            try allocator.allocate(size: length, alignment: max(alignment, pageSize), limit: limit)
        }
        do {
            try container.mapDMA(vaddr: vaddr, iova: iova, size: length, deviceReads: direction.deviceReads, deviceWrites: direction.deviceWrites)
        } catch {
            lock.withLock { try? allocator.release(iova) }
            throw error
        }
        return iova
    }

    /// Touches every page of `[vaddr, vaddr+length)` with a volatile read and write-back of
    /// one byte, which breaks copy-on-write sharing without changing the contents.
    static func faultInWritable(_ vaddr: UnsafeMutableRawPointer, length: UInt64, pageSize: UInt64) {
        var offset: UInt64 = 0
        while offset < length {
            let p = vaddr + Int(offset)
            bm_mmio_write8(p, bm_mmio_read8(p))
            offset += pageSize
        }
    }

    /// Unmaps a mapping and frees its IOVA range (and its memory when allocated here).
    func release(_ mapping: DMAMapping) {
        guard let r = lock.withLock({ records.removeValue(forKey: mapping.id) }) else { return }
        _ = try? container.unmapDMA(iova: r.iova, size: r.length)
        lock.withLock { try? allocator.release(r.iova) }
        if r.ownsMemory { munmap(r.pageStart, Int(r.length)) }
    }

    /// Releases every mapping (device close).
    func releaseAll() {
        let all = lock.withLock { () -> [Record] in
            defer { records = [:] }
            return Array(records.values)
        }
        for r in all {
            _ = try? container.unmapDMA(iova: r.iova, size: r.length)
            lock.withLock { try? allocator.release(r.iova) }
            if r.ownsMemory { munmap(r.pageStart, Int(r.length)) }
        }
    }
}
