/// Swift mirrors of the VFIO ioctl argument structures (x86_64 / little-endian layout).
///
/// They are declared here rather than imported so that their layout is something the
/// test suite can check field by field against `offsetof`/`sizeof` from a C program
/// compiled with the system's `<linux/vfio.h>`. Every structure starts with `argsz`,
/// the size the caller provides; the kernel may raise it to ask for a larger buffer
/// (capability chains).

/// `struct vfio_group_status` (8 bytes).
public struct VFIOGroupStatus {
    /// Size of this structure.
    public var argsz: UInt32 = UInt32(MemoryLayout<VFIOGroupStatus>.size)
    /// ``VFIOConstant/groupFlagViable``, ``VFIOConstant/groupFlagContainerSet``.
    public var flags: UInt32 = 0
    /// An empty request.
    public init() {}
}

/// `struct vfio_device_info` (20 bytes).
public struct VFIODeviceInfo {
    /// Size of this structure.
    public var argsz: UInt32 = UInt32(MemoryLayout<VFIODeviceInfo>.size)
    /// ``VFIOConstant/deviceFlagReset``, ``VFIOConstant/deviceFlagPCI``, ...
    public var flags: UInt32 = 0
    /// Number of region indexes.
    public var numRegions: UInt32 = 0
    /// Number of IRQ indexes.
    public var numIRQs: UInt32 = 0
    /// Offset of the first capability (0 = none).
    public var capOffset: UInt32 = 0
    /// An empty request.
    public init() {}
}

/// `struct vfio_region_info` (32 bytes).
public struct VFIORegionInfo {
    /// Size of this structure (the kernel raises it when capabilities need more room).
    public var argsz: UInt32 = UInt32(MemoryLayout<VFIORegionInfo>.size)
    /// READ, WRITE, MMAP, CAPS flags.
    public var flags: UInt32 = 0
    /// Region index to query.
    public var index: UInt32 = 0
    /// Offset of the first capability from the start of the structure (0 = none).
    public var capOffset: UInt32 = 0
    /// Region size in bytes (0 = not implemented).
    public var size: UInt64 = 0
    /// Offset of the region within the device fd (for pread/pwrite/mmap).
    public var offset: UInt64 = 0
    /// A request for region `index`.
    public init(index: UInt32) { self.index = index }
}

/// `struct vfio_irq_info` (16 bytes).
public struct VFIOIRQInfo {
    /// Size of this structure.
    public var argsz: UInt32 = UInt32(MemoryLayout<VFIOIRQInfo>.size)
    /// EVENTFD, MASKABLE, AUTOMASKED, NORESIZE flags.
    public var flags: UInt32 = 0
    /// IRQ index to query.
    public var index: UInt32 = 0
    /// Number of vectors.
    public var count: UInt32 = 0
    /// A request for IRQ `index`.
    public init(index: UInt32) { self.index = index }
}

/// The fixed 20-byte head of `struct vfio_irq_set`; the data array follows it in the same buffer.
public struct VFIOIRQSetHeader {
    /// Size of header plus data.
    public var argsz: UInt32
    /// One DATA_* and one ACTION_* flag.
    public var flags: UInt32
    /// IRQ index.
    public var index: UInt32
    /// First vector.
    public var start: UInt32
    /// Number of vectors.
    public var count: UInt32
    /// Creates a header.
    public init(argsz: UInt32, flags: UInt32, index: UInt32, start: UInt32, count: UInt32) {
        self.argsz = argsz
        self.flags = flags
        self.index = index
        self.start = start
        self.count = count
    }
}

/// `struct vfio_iommu_type1_info` (24 bytes including the trailing padding the C compiler adds).
public struct VFIOIOMMUType1Info {
    /// Size of this structure (raised by the kernel when capabilities need more room).
    public var argsz: UInt32 = UInt32(MemoryLayout<VFIOIOMMUType1Info>.size)
    /// PGSIZES, CAPS flags.
    public var flags: UInt32 = 0
    /// Bitmap of supported IOMMU page sizes.
    public var iovaPageSizes: UInt64 = 0
    /// Offset of the first capability (0 = none).
    public var capOffset: UInt32 = 0
    /// Padding to the C size.
    public var reserved: UInt32 = 0
    /// An empty request.
    public init() {}
}

/// `struct vfio_iommu_type1_dma_map` (32 bytes).
public struct VFIODMAMap {
    /// Size of this structure.
    public var argsz: UInt32 = UInt32(MemoryLayout<VFIODMAMap>.size)
    /// ``VFIOConstant/dmaMapFlagRead`` (device reads) / ``VFIOConstant/dmaMapFlagWrite`` (device writes).
    public var flags: UInt32
    /// Process virtual address of the memory.
    public var vaddr: UInt64
    /// Bus address the device will use.
    public var iova: UInt64
    /// Length in bytes (a multiple of the IOMMU page size).
    public var size: UInt64
    /// A map request.
    public init(flags: UInt32, vaddr: UInt64, iova: UInt64, size: UInt64) {
        self.flags = flags
        self.vaddr = vaddr
        self.iova = iova
        self.size = size
    }
}

/// `struct vfio_iommu_type1_dma_unmap` (24 bytes).
public struct VFIODMAUnmap {
    /// Size of this structure.
    public var argsz: UInt32 = UInt32(MemoryLayout<VFIODMAUnmap>.size)
    /// ``VFIOConstant/dmaUnmapFlagAll`` or 0.
    public var flags: UInt32
    /// First IOVA of the mapping.
    public var iova: UInt64
    /// Length; on return, the number of bytes unmapped.
    public var size: UInt64
    /// An unmap request.
    public init(flags: UInt32 = 0, iova: UInt64, size: UInt64) {
        self.flags = flags
        self.iova = iova
        self.size = size
    }
}

/// `struct vfio_info_cap_header` (8 bytes): the head of every capability in a chain.
public struct VFIOInfoCapHeader {
    /// Capability ID.
    public var id: UInt16
    /// Capability version.
    public var version: UInt16
    /// Offset of the next capability from the start of the info structure (0 = last).
    public var next: UInt32
}

/// One entry of the IOVA_RANGE capability (`struct vfio_iova_range`, 16 bytes).
public struct VFIOIOVARange {
    /// First usable IOVA.
    public var start: UInt64
    /// Last usable IOVA (inclusive).
    public var end: UInt64
}

/// One entry of the SPARSE_MMAP capability (`struct vfio_region_sparse_mmap_area`, 16 bytes).
public struct VFIOSparseMMAPArea {
    /// Offset of the area within the region.
    public var offset: UInt64
    /// Length of the area.
    public var size: UInt64
}
