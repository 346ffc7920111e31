import Busmaster
import CBusmasterSupport
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// What the type1 IOMMU of a container reports.
public struct VFIOIOMMUInfo: Sendable, Hashable {
    /// Bitmap of supported IOMMU page sizes (lowest set bit = smallest page).
    public var pageSizes: UInt64
    /// Usable IOVA ranges (inclusive ends), excluding reserved windows such as the MSI range.
    public var iovaRanges: [ClosedRange<UInt64>]
    /// DMA mappings still available in this container, when reported.
    public var dmaMappingsAvailable: UInt32?

    /// Creates an info record.
    public init(pageSizes: UInt64, iovaRanges: [ClosedRange<UInt64>], dmaMappingsAvailable: UInt32? = nil) {
        self.pageSizes = pageSizes
        self.iovaRanges = iovaRanges
        self.dmaMappingsAvailable = dmaMappingsAvailable
    }

    /// The smallest IOMMU page (at least 4 KiB).
    public var minimumPageSize: UInt64 {
        pageSizes == 0 ? 4096 : max(UInt64(1) << UInt64(pageSizes.trailingZeroBitCount), 4096)
    }
}

/// A VFIO container (`/dev/vfio/vfio`): one IOMMU address space that groups attach to.
/// DMA mappings are made here.
public final class VFIOContainer: @unchecked Sendable {
    /// The container file descriptor.
    public let fd: FileDescriptor
    /// The IOMMU model selected by ``setIOMMU()`` (type1v2 or type1), nil before.
    public private(set) var iommuModel: UInt?
    private let path: String
    private var closed = false

    /// Opens the container and checks the API version.
    public init(paths: LinuxPaths = .system) throws {
        path = paths.vfioContainer
        guard SysFile.exists(path) else {
            throw BusmasterError.platform(VFIODiagnostics.noVFIOModule(path: path))
        }
        do {
            fd = try SysFile.open(path, .readWrite)
        } catch {
            if let e = errnoOf(error), e == EACCES || e == EPERM {
                throw BusmasterError.platform(VFIODiagnostics.permissionDenied(path: path))
            }
            throw error
        }
        let version: Int32
        do {
            version = try VFIOCall.none(fd.rawValue, VFIOIoctl.getAPIVersion, "VFIO_GET_API_VERSION", "on \(path)")
        } catch {
            close()
            throw BusmasterError.platform("\(path) is not a VFIO container device (\(error))")
        }
        guard version == VFIOConstant.apiVersion else {
            close()
            throw BusmasterError.platform("VFIO API version \(version) is not supported (expected \(VFIOConstant.apiVersion))")
        }
    }

    deinit { close() }

    /// Closes the container (after every group left it). Idempotent.
    public func close() {
        if closed { return }
        closed = true
        try? fd.close()
    }

    /// Whether the kernel supports `extension` (an IOMMU model or feature number).
    public func checkExtension(_ ext: UInt) -> Bool {
        (try? VFIOCall.value(fd.rawValue, VFIOIoctl.checkExtension, ext, "VFIO_CHECK_EXTENSION", "")) ?? 0 > 0
    }

    /// Selects the IOMMU model (type1v2, else type1). Call after a group was attached.
    public func setIOMMU() throws {
        let model: UInt
        if checkExtension(VFIOConstant.type1v2IOMMU) {
            model = VFIOConstant.type1v2IOMMU
        } else if checkExtension(VFIOConstant.type1IOMMU) {
            model = VFIOConstant.type1IOMMU
        } else {
            throw BusmasterError.platform(
                "the VFIO container offers no type1 IOMMU: load the IOMMU backend with `modprobe vfio_iommu_type1` "
                    + "(it is not pulled in by vfio-pci)")
        }
        do {
            try VFIOCall.value(fd.rawValue, VFIOIoctl.setIOMMU, model, "VFIO_SET_IOMMU", "type \(model)")
        } catch {
            if errnoOf(error) == EPERM {
                throw BusmasterError.platform(
                    "VFIO_SET_IOMMU was refused (EPERM): the IOMMU has no interrupt remapping. Enable interrupt remapping "
                        + "(intremap=on, x2APIC) or, on a trusted machine only, load vfio_iommu_type1 with allow_unsafe_interrupts=1")
            }
            throw error
        }
        iommuModel = model
    }

    /// The IOMMU's page sizes, usable IOVA ranges and mapping budget.
    public func iommuInfo() throws -> VFIOIOMMUInfo {
        let raw = try VFIOCall.infoWithCaps(
            fd.rawValue, VFIOIoctl.iommuGetInfo, VFIOIOMMUType1Info(), "VFIO_IOMMU_GET_INFO", "on the container")
        let head = raw.withUnsafeBytes { $0.loadUnaligned(as: VFIOIOMMUType1Info.self) }
        var ranges: [ClosedRange<UInt64>] = []
        var avail: UInt32?
        if head.flags & VFIOConstant.iommuInfoCaps != 0 && head.capOffset != 0 {
            VFIOCall.walkCaps(raw, from: Int(head.capOffset)) { cap, off in
                raw.withUnsafeBytes { b in
                    switch cap.id {
                    case VFIOConstant.iommuCapIOVARange where off + 16 <= raw.count:
                        let n = Int(b.loadUnaligned(fromByteOffset: off + 8, as: UInt32.self))
                        for i in 0..<n {
                            let e = off + 16 + i * MemoryLayout<VFIOIOVARange>.stride
                            guard e + 16 <= raw.count else { break }
                            let r = b.loadUnaligned(fromByteOffset: e, as: VFIOIOVARange.self)
                            if r.start <= r.end { ranges.append(r.start...r.end) }
                        }
                    case VFIOConstant.iommuCapDMAAvail where off + 12 <= raw.count:
                        avail = b.loadUnaligned(fromByteOffset: off + 8, as: UInt32.self)
                    default: break
                    }
                }
            }
        }
        if ranges.isEmpty {
            // Kernels before 5.4 do not report ranges: assume a 39-bit space (the smallest
            // common VT-d width), the allocator still skips page 0.
            ranges = [0...((UInt64(1) << 39) - 1)]
        }
        let pages = head.flags & VFIOConstant.iommuInfoPageSizes != 0 ? head.iovaPageSizes : 4096
        return VFIOIOMMUInfo(pageSizes: pages, iovaRanges: ranges, dmaMappingsAvailable: avail)
    }

    /// Maps `size` bytes at `vaddr` to `iova` with the device's access rights.
    public func mapDMA(vaddr: UnsafeMutableRawPointer, iova: UInt64, size: UInt64, deviceReads: Bool, deviceWrites: Bool) throws {
        var flags: UInt32 = 0
        if deviceReads { flags |= VFIOConstant.dmaMapFlagRead }
        if deviceWrites { flags |= VFIOConstant.dmaMapFlagWrite }
        var req = VFIODMAMap(flags: flags, vaddr: UInt64(UInt(bitPattern: vaddr)), iova: iova, size: size)
        let rc = withUnsafeMutableBytes(of: &req) { bm_ioctl_ptr(fd.rawValue, VFIOIoctl.iommuMapDMA, $0.baseAddress!) }
        if rc < 0 {
            let e = errno
            if e == ENOMEM {
                throw BusmasterError.dmaUnavailable(MemlockLimit.current().pinFailureMessage(bytes: size))
            }
            throw BusmasterError.systemCall(
                "VFIO_IOMMU_MAP_DMA", errno: e,
                context: "mapping \(size) bytes at IOVA 0x\(String(iova, radix: 16))"
                    + (e == EEXIST ? " (the IOVA range overlaps an existing mapping)" : "")
                    + (e == ENOSPC ? " (the container's mapping limit is reached; use fewer, larger buffers)" : ""))
        }
    }

    /// Unmaps the whole mapping at `iova`; returns the bytes the kernel unmapped.
    @discardableResult
    public func unmapDMA(iova: UInt64, size: UInt64) throws -> UInt64 {
        var req = VFIODMAUnmap(iova: iova, size: size)
        _ = try withUnsafeMutableBytes(of: &req) {
            try VFIOCall.pointer(fd.rawValue, VFIOIoctl.iommuUnmapDMA, $0.baseAddress!, "VFIO_IOMMU_UNMAP_DMA",
                "unmapping \(size) bytes at IOVA 0x\(String(iova, radix: 16))")
        }
        return req.size
    }
}
