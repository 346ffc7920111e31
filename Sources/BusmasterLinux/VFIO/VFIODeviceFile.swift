import Busmaster
import CBusmasterSupport
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// One region of a VFIO device (a BAR, the ROM, config space).
public struct VFIORegion: Sendable, Hashable {
    /// Region index (0–5 BARs, 6 ROM, 7 config, 8 VGA).
    public var index: UInt32
    /// READ/WRITE/MMAP/CAPS flags.
    public var flags: UInt32
    /// Size in bytes (0 = not implemented).
    public var size: UInt64
    /// Offset of the region within the device fd.
    public var offset: UInt64
    /// Areas that may be mmapped when the kernel restricts mmap (SPARSE_MMAP); nil = the whole region.
    public var sparseAreas: [VFIOSparseArea]?
    /// Whether the MSI-X table may be mmapped with the rest of the BAR.
    public var msixMappable: Bool

    /// Whether the region can be mmapped.
    public var isMappable: Bool { flags & VFIOConstant.regionFlagMMAP != 0 }
}

/// A part of a region that may be mmapped.
public struct VFIOSparseArea: Sendable, Hashable {
    /// Offset within the region.
    public var offset: UInt64
    /// Length.
    public var size: UInt64
}

/// One IRQ index of a VFIO device.
public struct VFIOIRQ: Sendable, Hashable {
    /// IRQ index (0 INTx, 1 MSI, 2 MSI-X, 3 ERR, 4 REQ).
    public var index: UInt32
    /// EVENTFD/MASKABLE/AUTOMASKED/NORESIZE flags.
    public var flags: UInt32
    /// Number of vectors.
    public var count: UInt32
}

/// An open VFIO device fd: info, regions, IRQ indexes, config space and reset.
public final class VFIODeviceFile: @unchecked Sendable {
    /// The device file descriptor.
    public let fd: FileDescriptor
    /// The device's address.
    public let address: PCIAddress
    /// Device flags (RESET, PCI).
    public let flags: UInt32
    /// Regions by index (absent indexes — EINVAL from the kernel — are left out).
    public let regions: [UInt32: VFIORegion]
    /// IRQ indexes by index (absent ones are left out).
    public let irqs: [UInt32: VFIOIRQ]
    private var closed = false

    /// Queries a device fd obtained from ``VFIOGroup/openDevice(_:)``; takes ownership of `fd`.
    public init(fd: FileDescriptor, address: PCIAddress) throws {
        self.fd = fd
        self.address = address
        var info = VFIODeviceInfo()
        do {
            _ = try withUnsafeMutableBytes(of: &info) {
                try VFIOCall.pointer(fd.rawValue, VFIOIoctl.deviceGetInfo, $0.baseAddress!, "VFIO_DEVICE_GET_INFO", "\(address)")
            }
        } catch {
            try? fd.close()
            throw error
        }
        flags = info.flags
        var regions: [UInt32: VFIORegion] = [:]
        for i in 0..<info.numRegions {
            if let r = Self.queryRegion(fd.rawValue, i) { regions[i] = r }
        }
        var irqs: [UInt32: VFIOIRQ] = [:]
        for i in 0..<info.numIRQs {
            var q = VFIOIRQInfo(index: i)
            let rc = withUnsafeMutableBytes(of: &q) { bm_ioctl_ptr(fd.rawValue, VFIOIoctl.deviceGetIRQInfo, $0.baseAddress!) }
            if rc == 0 { irqs[i] = VFIOIRQ(index: i, flags: q.flags, count: q.count) }  // EINVAL: index not offered (e.g. ERR without AER)
        }
        self.regions = regions
        self.irqs = irqs
    }

    deinit { close() }

    /// Closes the device fd (vfio-pci then disables and, where it can, resets the function). Idempotent.
    public func close() {
        if closed { return }
        closed = true
        try? fd.close()
    }

    /// Region info with its capabilities; nil when the kernel reports the index as absent.
    static func queryRegion(_ fd: Int32, _ index: UInt32) -> VFIORegion? {
        guard
            let raw = try? VFIOCall.infoWithCaps(
                fd, VFIOIoctl.deviceGetRegionInfo, VFIORegionInfo(index: index), "VFIO_DEVICE_GET_REGION_INFO", "region \(index)")
        else { return nil }
        let head = raw.withUnsafeBytes { $0.loadUnaligned(as: VFIORegionInfo.self) }
        var region = VFIORegion(index: index, flags: head.flags, size: head.size, offset: head.offset, sparseAreas: nil, msixMappable: false)
        if head.flags & VFIOConstant.regionFlagCaps != 0 && head.capOffset != 0 {
            VFIOCall.walkCaps(raw, from: Int(head.capOffset)) { cap, off in
                switch cap.id {
                case VFIOConstant.regionCapSparseMMAP where off + 16 <= raw.count:
                    let n = Int(raw.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: off + 8, as: UInt32.self) })
                    var areas: [VFIOSparseArea] = []
                    for i in 0..<n {
                        let e = off + 16 + 16 * i
                        guard e + 16 <= raw.count else { break }
                        let a = raw.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: e, as: VFIOSparseMMAPArea.self) }
                        if a.size > 0 { areas.append(VFIOSparseArea(offset: a.offset, size: a.size)) }
                    }
                    region.sparseAreas = areas
                case VFIOConstant.regionCapMSIXMappable:
                    region.msixMappable = true
                default: break
                }
            }
        }
        return region
    }

    /// Whether the device supports `VFIO_DEVICE_RESET`.
    public var canReset: Bool { flags & VFIOConstant.deviceFlagReset != 0 }

    /// Reads `width` bytes of region `index` at `offset` (little-endian, zero-extended).
    public func read(region index: UInt32, offset: Int, width: AccessWidth) throws -> UInt64 {
        guard let r = regions[index], r.flags & VFIOConstant.regionFlagRead != 0 else {
            throw BusmasterError.unsupported("region \(index) of \(address) is not readable")
        }
        var v: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &v) { pread(fd.rawValue, $0.baseAddress, width.bytes, off_t(r.offset) + off_t(offset)) }
        guard n == width.bytes else {
            throw BusmasterError.systemCall(
                "pread", errno: n < 0 ? errno : EIO,
                context: "reading \(width.bytes) bytes at 0x\(String(offset, radix: 16)) of region \(index) of \(address)"
                    + (index == VFIORegionIndex.config ? "" : " (is memory decoding enabled? EIO means COMMAND.MEM is off)"))
        }
        return v
    }

    /// Writes the low `width` bytes of `value` to region `index` at `offset`.
    public func write(region index: UInt32, offset: Int, width: AccessWidth, value: UInt64) throws {
        guard let r = regions[index], r.flags & VFIOConstant.regionFlagWrite != 0 else {
            throw BusmasterError.unsupported("region \(index) of \(address) is not writable")
        }
        var v = value
        let n = withUnsafeBytes(of: &v) { pwrite(fd.rawValue, $0.baseAddress, width.bytes, off_t(r.offset) + off_t(offset)) }
        guard n == width.bytes else {
            throw BusmasterError.systemCall(
                "pwrite", errno: n < 0 ? errno : EIO,
                context: "writing \(width.bytes) bytes at 0x\(String(offset, radix: 16)) of region \(index) of \(address)")
        }
    }

    /// Resets the function.
    public func reset() throws {
        guard canReset else {
            throw BusmasterError.unsupported("\(address) offers no function reset through VFIO (no FLR, PM or bus reset method)")
        }
        try VFIOCall.none(fd.rawValue, VFIOIoctl.deviceReset, "VFIO_DEVICE_RESET", "\(address)")
    }

    /// `VFIO_DEVICE_SET_IRQS` with `fds` as eventfd data (empty with DATA_NONE).
    public func setIRQs(index: UInt32, flags: UInt32, start: UInt32 = 0, count: UInt32, eventFDs fds: [Int32] = []) throws {
        let headerSize = MemoryLayout<VFIOIRQSetHeader>.size
        let total = headerSize + 4 * fds.count
        var buffer = [UInt8](repeating: 0, count: total)
        try buffer.withUnsafeMutableBytes { raw in
            raw.storeBytes(
                of: VFIOIRQSetHeader(argsz: UInt32(total), flags: flags, index: index, start: start, count: count), as: VFIOIRQSetHeader.self)
            for (i, f) in fds.enumerated() { raw.storeBytes(of: f, toByteOffset: headerSize + 4 * i, as: Int32.self) }
            try VFIOCall.pointer(
                fd.rawValue, VFIOIoctl.deviceSetIRQs, raw.baseAddress!, "VFIO_DEVICE_SET_IRQS",
                "index \(index), flags 0x\(String(flags, radix: 16)), count \(count) on \(address)")
        }
    }
}
