/// VFIO ioctl request numbers (legacy container/group API, `<linux/vfio.h>`).
///
/// VFIO's requests are `_IO(VFIO_TYPE, VFIO_BASE + n)` with `VFIO_TYPE = ';'` (0x3B) and
/// `VFIO_BASE = 100`: no direction or size bits, so each number is `0x3B00 | (100 + n)`.
/// The `_IO` macros do not import into Swift; the test suite checks every value here
/// against a C program compiled with the system's `<linux/vfio.h>`.
public enum VFIOIoctl {
    /// `VFIO_TYPE`, the ioctl "magic" character ';'.
    public static let type: UInt = 0x3B
    /// `VFIO_BASE`, the first request number.
    public static let base: UInt = 100

    /// `_IO(VFIO_TYPE, VFIO_BASE + n)`.
    @inlinable public static func request(_ n: UInt) -> UInt { type << 8 | (base + n) }

    /// Container: returns `VFIO_API_VERSION` (0).
    public static let getAPIVersion = request(0)
    /// Container: whether an extension (IOMMU type, feature) is supported; argument by value.
    public static let checkExtension = request(1)
    /// Container: selects the IOMMU model; argument by value.
    public static let setIOMMU = request(2)
    /// Group: fills `vfio_group_status`.
    public static let groupGetStatus = request(3)
    /// Group: attaches the group to a container; argument is a pointer to the container fd.
    public static let groupSetContainer = request(4)
    /// Group: detaches the group from its container.
    public static let groupUnsetContainer = request(5)
    /// Group: returns a device fd for the device named by a C string (`dddd:bb:dd.f`).
    public static let groupGetDeviceFD = request(6)
    /// Device: fills `vfio_device_info`.
    public static let deviceGetInfo = request(7)
    /// Device: fills `vfio_region_info` for one region index.
    public static let deviceGetRegionInfo = request(8)
    /// Device: fills `vfio_irq_info` for one IRQ index.
    public static let deviceGetIRQInfo = request(9)
    /// Device: `vfio_irq_set` followed by its data (eventfds, bools).
    public static let deviceSetIRQs = request(10)
    /// Device: function reset (only when the device info has the RESET flag).
    public static let deviceReset = request(11)
    /// Container (type1): fills `vfio_iommu_type1_info` and its capability chain.
    public static let iommuGetInfo = request(12)
    /// Container (type1): maps user memory at an IOVA.
    public static let iommuMapDMA = request(13)
    /// Container (type1): unmaps a whole mapping; returns the unmapped size in the struct.
    public static let iommuUnmapDMA = request(14)
}

/// VFIO constants used by the backend (values from `<linux/vfio.h>`, checked by tests).
public enum VFIOConstant {
    /// The only API version the legacy interface reports.
    public static let apiVersion: Int32 = 0
    /// Extension / IOMMU model: type1.
    public static let type1IOMMU: UInt = 1
    /// Extension / IOMMU model: type1 version 2 (preferred).
    public static let type1v2IOMMU: UInt = 3
    /// Extension: DMA is cache-coherent through the IOMMU.
    public static let dmaCCIOMMU: UInt = 4
    /// Extension: no-IOMMU mode (not in Debian's stock kernels).
    public static let noIOMMU: UInt = 8
    /// Extension: `VFIO_DMA_UNMAP_FLAG_ALL` is supported.
    public static let unmapAll: UInt = 9

    /// Group status flag: every device of the group is bound to a VFIO driver or unbound.
    public static let groupFlagViable: UInt32 = 1 << 0
    /// Group status flag: the group is attached to a container.
    public static let groupFlagContainerSet: UInt32 = 1 << 1

    /// Device info flag: the device supports `VFIO_DEVICE_RESET`.
    public static let deviceFlagReset: UInt32 = 1 << 0
    /// Device info flag: a vfio-pci device.
    public static let deviceFlagPCI: UInt32 = 1 << 1

    /// Region info flag: readable with pread.
    public static let regionFlagRead: UInt32 = 1 << 0
    /// Region info flag: writable with pwrite.
    public static let regionFlagWrite: UInt32 = 1 << 1
    /// Region info flag: may be mmapped.
    public static let regionFlagMMAP: UInt32 = 1 << 2
    /// Region info flag: a capability chain follows.
    public static let regionFlagCaps: UInt32 = 1 << 3
    /// Region capability: sparse mmap areas.
    public static let regionCapSparseMMAP: UInt16 = 1
    /// Region capability: region type/subtype.
    public static let regionCapType: UInt16 = 2
    /// Region capability: the MSI-X table may be mmapped with the rest of the BAR.
    public static let regionCapMSIXMappable: UInt16 = 3

    /// IRQ info flag: signalled through an eventfd.
    public static let irqInfoEventFD: UInt32 = 1 << 0
    /// IRQ info flag: maskable.
    public static let irqInfoMaskable: UInt32 = 1 << 1
    /// IRQ info flag: masked automatically when it fires (INTx); unmask after the ack.
    public static let irqInfoAutomasked: UInt32 = 1 << 2
    /// IRQ info flag: the vector count is fixed once enabled.
    public static let irqInfoNoResize: UInt32 = 1 << 3

    /// SET_IRQS data kind: no data.
    public static let irqSetDataNone: UInt32 = 1 << 0
    /// SET_IRQS data kind: one byte per vector.
    public static let irqSetDataBool: UInt32 = 1 << 1
    /// SET_IRQS data kind: one eventfd (Int32, -1 = none) per vector.
    public static let irqSetDataEventFD: UInt32 = 1 << 2
    /// SET_IRQS action: mask.
    public static let irqSetActionMask: UInt32 = 1 << 3
    /// SET_IRQS action: unmask.
    public static let irqSetActionUnmask: UInt32 = 1 << 4
    /// SET_IRQS action: trigger (attach eventfds; with count 0 and DATA_NONE: disable).
    public static let irqSetActionTrigger: UInt32 = 1 << 5

    /// IOMMU info flag: `iova_pgsizes` is valid.
    public static let iommuInfoPageSizes: UInt32 = 1 << 0
    /// IOMMU info flag: a capability chain follows.
    public static let iommuInfoCaps: UInt32 = 1 << 1
    /// IOMMU capability: usable IOVA ranges.
    public static let iommuCapIOVARange: UInt16 = 1
    /// IOMMU capability: number of DMA mappings still available.
    public static let iommuCapDMAAvail: UInt16 = 3

    /// MAP_DMA flag: the device may read the memory.
    public static let dmaMapFlagRead: UInt32 = 1 << 0
    /// MAP_DMA flag: the device may write the memory.
    public static let dmaMapFlagWrite: UInt32 = 1 << 1
    /// UNMAP_DMA flag: unmap everything (needs the UNMAP_ALL extension).
    public static let dmaUnmapFlagAll: UInt32 = 1 << 1
}

/// vfio-pci region indexes.
public enum VFIORegionIndex {
    /// BAR0; BAR n is `bar0 + n`.
    public static let bar0: UInt32 = 0
    /// Expansion ROM.
    public static let rom: UInt32 = 6
    /// Configuration space.
    public static let config: UInt32 = 7
    /// Legacy VGA ranges (EINVAL on non-VGA devices).
    public static let vga: UInt32 = 8
}

/// vfio-pci IRQ indexes.
public enum VFIOIRQIndex {
    /// Legacy INTx.
    public static let intx: UInt32 = 0
    /// MSI.
    public static let msi: UInt32 = 1
    /// MSI-X.
    public static let msix: UInt32 = 2
    /// AER error notification (EINVAL without AER).
    public static let err: UInt32 = 3
    /// Device release request (someone wants to unbind the device).
    public static let req: UInt32 = 4
}
