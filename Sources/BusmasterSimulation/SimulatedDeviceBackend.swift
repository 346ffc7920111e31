#if canImport(Glibc)
    import Glibc
#endif
import Busmaster
import CBusmasterSupport

/// Register accesses of one BAR of a simulated device, forwarded to its model.
final class SimulatedBARHandler: MMIOHandler, @unchecked Sendable {
    unowned let slot: SimulatedSlot
    let surpriseRemoved: () -> Bool

    init(slot: SimulatedSlot, surpriseRemoved: @escaping () -> Bool) {
        self.slot = slot
        self.surpriseRemoved = surpriseRemoved
    }

    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
        let s = slot.scheduler
        s.lock.lockSpinning()
        defer { s.lock.unlock() }
        s.tick()
        if surpriseRemoved() || !slot.config.memoryEnabled { return width.mask }
        return slot.model.read(bar: bar, offset: offset, width: width) & width.mask
    }

    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
        let s = slot.scheduler
        s.lock.lockSpinning()
        defer { s.lock.unlock() }
        s.tick()
        if surpriseRemoved() || !slot.config.memoryEnabled { return }
        slot.model.write(bar: bar, offset: offset, width: width, value: value & width.mask)
    }
}

/// The platform side of an open simulated device.
final class SimulatedDeviceBackend: PCIDeviceBackend, @unchecked Sendable {
    let slot: SimulatedSlot
    let platform: SimulatedPlatform
    private var nextMappingID = 1
    private var owned: [Int: (memory: UnsafeMutableRawPointer?, length: Int, iovas: [UInt64])] = [:]
    private var closed = false

    init(slot: SimulatedSlot, platform: SimulatedPlatform) {
        self.slot = slot
        self.platform = platform
    }

    private var lock: ConditionLock { slot.scheduler.lock }

    var info: PCIDeviceInfo { lock.withLock { slot.info } }
    var platformName: String { "simulation" }
    var configSize: Int { slot.config.bytes.count }

    func readConfig(offset: Int, width: AccessWidth) throws -> UInt64 {
        lock.withLock {
            if platform.faultsUnlocked.surpriseRemoval { return width.mask }
            return slot.config.read(offset, width)
        }
    }

    func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws {
        lock.withLock {
            if platform.faultsUnlocked.surpriseRemoval { return }
            if slot.config.write(offset, width, value) {
                slot.evaluateINTx()
                slot.model.configurationChanged()
            }
        }
    }

    func mapBAR(_ index: Int) throws -> MMIORegion {
        guard let b = slot.model.configuration.bars.first(where: { $0.index == index }) else {
            throw BusmasterError.barNotPresent(index: index, available: slot.model.configuration.bars.map(\.index))
        }
        let p = platform
        return MMIORegion(bar: index, size: b.size, handler: SimulatedBARHandler(slot: slot) { p.faultsUnlocked.surpriseRemoval })
    }

    // MARK: DMA

    func allocateDMA(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        let length = roundUp(size, SimulatedIOMMU.pageSize)
        guard let mem = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mem != bm_map_failed()
        else {
            throw BusmasterError.dmaUnavailable("could not allocate \(size) bytes of host memory (errno \(errno))")
        }
        do {
            let m = try map(host: mem, hostOffset: 0, count: size, pages: length / SimulatedIOMMU.pageSize,
                            direction: direction, constraints: constraints, callerMemory: false)
            lock.withLock { owned[m.id]?.memory = mem }
            return m
        } catch {
            munmap(mem, length)
            throw error
        }
    }

    func mapDMA(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        let base = UInt(bitPattern: memory.baseAddress!)
        let pageStart = base & ~UInt(SimulatedIOMMU.pageSize - 1)
        let inPage = Int(base - pageStart)
        let pages = roundUp(inPage + memory.count, SimulatedIOMMU.pageSize) / SimulatedIOMMU.pageSize
        return try map(host: UnsafeMutableRawPointer(bitPattern: pageStart)!, hostOffset: inPage, count: memory.count,
                       pages: pages, direction: direction, constraints: constraints, callerMemory: true)
    }

    /// Maps `pages` host pages; contiguous buffers get one IOVA range, scatter/gather ones
    /// (when the platform fragments) get one IOVA page per host page in reverse order, so
    /// drivers meet real multi-segment lists.
    private func map(host: UnsafeMutableRawPointer, hostOffset: Int, count: Int, pages: Int, direction: DMADirection,
                     constraints: DMAConstraints, callerMemory: Bool) throws -> DMAMapping {
        try lock.withLock {
            guard !closed else { throw BusmasterError.unsupported("the device is closed") }
            let ps = SimulatedIOMMU.pageSize
            let id = nextMappingID
            let fragment = !constraints.contiguous && platform.fragmentsScatterGather && pages > 1
            guard let iova = slot.iommu.allocateIOVA(size: pages * ps, alignment: constraints.alignment, limit: constraints.addressLimit) else {
                throw BusmasterError.dmaUnavailable(
                    "no free bus-address range of \(pages * ps) bytes below 2^\(constraints.addressBits) in the simulated IOMMU")
            }
            nextMappingID += 1
            var segments: [DMASegment] = []
            if fragment {
                for p in 0..<pages {
                    let bus = iova + UInt64((pages - 1 - p) * ps)
                    slot.iommu.map(iova: bus, length: ps, host: host + p * ps, direction: direction, id: id)
                    let lo = max(p * ps, hostOffset)
                    let hi = min((p + 1) * ps, hostOffset + count)
                    segments.append(DMASegment(busAddress: bus + UInt64(lo - p * ps), length: hi - lo, bufferOffset: lo - hostOffset))
                }
            } else {
                slot.iommu.map(iova: iova, length: pages * ps, host: host, direction: direction, id: id)
                segments = [DMASegment(busAddress: iova + UInt64(hostOffset), length: count, bufferOffset: 0)]
            }
            owned[id] = (nil, pages * ps, [iova])
            let bytes = UnsafeMutableRawBufferPointer(start: host + hostOffset, count: count)
            return DMAMapping(id: id, bytes: bytes, segments: segments, direction: direction, isCallerMemory: callerMemory)
        }
    }

    func releaseDMA(_ mapping: DMAMapping) {
        lock.withLock {
            slot.iommu.unmap(mappingID: mapping.id)
            if let o = owned.removeValue(forKey: mapping.id) {
                for i in o.iovas { slot.iommu.freeIOVA(i) }
                if let m = o.memory { munmap(m, o.length) }
            }
        }
    }

    func syncDMA(_ mapping: DMAMapping, at point: DMASyncPoint, range: Range<Int>) {}

    // MARK: Interrupts

    func interruptVectorCounts() -> [InterruptKind: Int] {
        let c = slot.model.configuration
        var r: [InterruptKind: Int] = [:]
        if let m = c.msix { r[.msix] = m.vectors }
        if let m = c.msi { r[.msi] = m.vectors }
        if c.interruptPin != 0 { r[.intx] = 1 }
        return r
    }

    func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] {
        let sources = try (0..<vectors).map { _ in try SimulatedInterruptSource(scheduler: slot.scheduler) }
        lock.withLock {
            disableLocked()
            slot.sources = sources
            slot.activeKind = kind
            switch kind {
            case .msi: slot.config.setMSI(enabled: true, vectors: vectors)
            case .msix: slot.config.setMSIX(enabled: true)
            case .intx:
                slot.intxMasked = false
                slot.evaluateINTx()
            case .polling: break
            }
            slot.model.configurationChanged()
        }
        return sources
    }

    private func disableLocked() {
        slot.config.setMSI(enabled: false, vectors: 1)
        slot.config.setMSIX(enabled: false)
        slot.sources = []
        slot.activeKind = nil
    }

    func disableInterrupts() {
        lock.withLock {
            disableLocked()
            slot.model.configurationChanged()
        }
    }

    func unmaskINTx() throws {
        lock.withLock {
            slot.intxMasked = false
            slot.evaluateINTx()
        }
    }

    func reset() throws {
        lock.withLock { slot.model.reset() }
    }

    /// Stepped mode: a driver spinning on host memory lets the next device event run.
    func idle() {
        guard slot.scheduler.isStepped else { return }
        lock.withLock { _ = slot.scheduler.runNext() }
    }

    func close() {
        let ids: [Int] = lock.withLock {
            if closed { return [] }
            closed = true
            disableLocked()
            slot.isOpen = false
            return Array(owned.keys)
        }
        // Mappings still referenced by DMABuffers are released by them; unmap the IOMMU
        // side now so the device cannot reach them after close.
        lock.withLock { for id in ids { slot.iommu.unmap(mappingID: id) } }
    }
}
