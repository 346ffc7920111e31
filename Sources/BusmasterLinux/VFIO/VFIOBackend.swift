import Busmaster

/// A device driven through VFIO: BARs mmapped from the device fd, config space through
/// region 7, DMA through the container's IOMMU mappings, interrupts through eventfds.
///
/// Open it with ``open(_:paths:)`` (or through ``LinuxPlatform``). Requirements: an IOMMU,
/// the device bound to vfio-pci, the whole IOMMU group viable, access to `/dev/vfio/<n>`
/// and a locked-memory limit large enough for the DMA buffers. Each failure names its fix.
public final class VFIOBackend: PCIDeviceBackend, @unchecked Sendable {
    public let info: PCIDeviceInfo
    public var platformName: String { "vfio" }
    public let configSize: Int
    /// The container (IOMMU address space) of this device.
    public let container: VFIOContainer
    /// The device's group.
    public let group: VFIOGroup
    /// The device fd with its regions and IRQ indexes.
    public let device: VFIODeviceFile
    /// What the IOMMU reported.
    public let iommu: VFIOIOMMUInfo
    private let interrupts: VFIOInterrupts
    private let dma: VFIODMAMapper
    private let lock = Lock()
    private var bars: [Int: VFIOBARMapping] = [:]
    private var closed = false

    private init(info: PCIDeviceInfo, container: VFIOContainer, group: VFIOGroup, device: VFIODeviceFile, iommu: VFIOIOMMUInfo) {
        var info = info
        configSize = Int(device.regions[VFIORegionIndex.config]?.size ?? UInt64(max(info.configSize, 64)))
        info.configSize = configSize
        self.info = info
        self.container = container
        self.group = group
        self.device = device
        self.iommu = iommu
        interrupts = VFIOInterrupts(device: device)
        dma = VFIODMAMapper(container: container, info: iommu)
    }

    deinit { close() }

    /// Opens `address` through VFIO, checking each prerequisite in turn.
    public static func open(_ address: PCIAddress, paths: LinuxPaths = .system) throws -> VFIOBackend {
        let info = try SysfsEnumerator(paths: paths).device(address)
        guard let groupNumber = info.iommuGroup else {
            throw BusmasterError.platform(VFIODiagnostics.noIOMMUGroup(address))
        }
        guard SysFile.exists(paths.vfioContainer) else {
            throw BusmasterError.platform(VFIODiagnostics.noVFIOModule(path: paths.vfioContainer))
        }
        guard info.driver == "vfio-pci" else {
            throw BusmasterError.platform(VFIODiagnostics.notBoundToVFIO(address, driver: info.driver))
        }
        let container = try VFIOContainer(paths: paths)
        let group = try VFIOGroup(number: groupNumber, for: address, paths: paths)
        guard try group.status().viable else {
            throw BusmasterError.platform(
                VFIODiagnostics.groupNotViable(
                    group: groupNumber, address: address, members: VFIODiagnostics.groupMembers(groupNumber, paths: paths)))
        }
        try group.setContainer(container)
        try container.setIOMMU()
        let iommu = try container.iommuInfo()
        let device = try VFIODeviceFile(fd: try group.openDevice(address), address: address)
        return VFIOBackend(info: info, container: container, group: group, device: device, iommu: iommu)
    }

    public func readConfig(offset: Int, width: AccessWidth) throws -> UInt64 {
        try device.read(region: VFIORegionIndex.config, offset: offset, width: width)
    }

    public func writeConfig(offset: Int, width: AccessWidth, value: UInt64) throws {
        try device.write(region: VFIORegionIndex.config, offset: offset, width: width, value: value)
    }

    public func mapBAR(_ index: Int) throws -> MMIORegion {
        try lock.withLock {
            guard !closed else { throw BusmasterError.unsupported("\(info.address) is closed") }
            guard (0...5).contains(index), let region = device.regions[VFIORegionIndex.bar0 + UInt32(index)], region.size > 0 else {
                throw BusmasterError.barNotPresent(index: index, available: info.bars.map(\.index))
            }
            if let m = bars[index] { return MMIORegion(bar: index, mapping: m.base, size: m.length) }
            guard region.isMappable else {
                return MMIORegion(bar: index, size: Int(region.size), handler: VFIORegionAccess(device: device, index: region.index))
            }
            let m = try VFIOBARMapping.map(region, device: device)
            bars[index] = m
            return MMIORegion(bar: index, mapping: m.base, size: m.length)
        }
    }

    public func allocateDMA(size: Int, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        try dma.allocate(size: size, direction: direction, constraints: constraints)
    }

    public func mapDMA(memory: UnsafeMutableRawBufferPointer, direction: DMADirection, constraints: DMAConstraints) throws -> DMAMapping {
        try dma.lock(memory: memory, direction: direction, constraints: constraints)
    }

    public func releaseDMA(_ mapping: DMAMapping) { dma.release(mapping) }

    /// x86 DMA through the IOMMU is cache-coherent; the core's fences order the accesses.
    public func syncDMA(_ mapping: DMAMapping, at point: DMASyncPoint, range: Range<Int>) {}

    public func interruptVectorCounts() -> [InterruptKind: Int] { interrupts.vectorCounts() }

    public func enableInterrupts(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] {
        try interrupts.enable(kind, vectors: vectors)
    }

    public func disableInterrupts() { interrupts.disable() }

    public func unmaskINTx() throws { try interrupts.unmaskINTx() }

    public func reset() throws { try device.reset() }

    /// Whether the kernel asked for the device back (someone is unbinding it from
    /// vfio-pci and waits until this process closes it).
    public var releaseRequested: Bool { interrupts.releaseRequested }

    /// Real hardware runs by itself.
    public func idle() {}

    /// Teardown in the safe order: interrupts off, DMA unmapped, BARs unmapped, device,
    /// group, container closed.
    public func close() {
        let maps: [VFIOBARMapping]? = lock.withLock {
            if closed { return nil }
            closed = true
            defer { bars = [:] }
            return Array(bars.values)
        }
        guard let maps else { return }
        interrupts.shutdown()
        dma.releaseAll()
        for m in maps { m.unmap() }
        device.close()
        group.close()
        container.close()
    }
}
