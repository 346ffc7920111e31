import Busmaster

#if canImport(Glibc)
    import Glibc
#endif

/// Register access through `pread`/`pwrite` on a VFIO region, for BARs that cannot be
/// mmapped (I/O port BARs, regions without the MMAP flag). A failed access reads as
/// all-ones, like a master abort, and a failed write is dropped.
final class VFIORegionAccess: MMIOHandler, @unchecked Sendable {
    private let device: VFIODeviceFile
    private let index: UInt32

    init(device: VFIODeviceFile, index: UInt32) {
        self.device = device
        self.index = index
    }

    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
        (try? device.read(region: index, offset: offset, width: width)) ?? width.mask
    }

    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
        try? device.write(region: index, offset: offset, width: width, value: value)
    }
}

/// An mmapped BAR of a VFIO device.
struct VFIOBARMapping {
    let base: UnsafeMutableRawPointer
    let length: Int

    /// Maps `region`. When the kernel lists sparse mmap areas (the MSI-X table is not
    /// mappable on kernels before 4.16), the BAR's address range is reserved inaccessible
    /// and only the listed areas are mapped into it; the MSI-X table is programmed through
    /// `VFIO_DEVICE_SET_IRQS` only.
    static func map(_ region: VFIORegion, device: VFIODeviceFile) throws -> VFIOBARMapping {
        guard region.size <= UInt64(Int.max) else { throw BusmasterError.unsupported("BAR \(region.index) is too large to map") }
        let length = Int(region.size)
        let fd = device.fd.rawValue
        if let areas = region.sparseAreas, !region.msixMappable {
            guard let reserve = mmap(nil, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), reserve != MAP_FAILED else {
                throw BusmasterError.systemCall("mmap", errno: errno, context: "reserving \(length) bytes for BAR \(region.index)")
            }
            for a in areas where a.offset + a.size <= region.size {
                let p = mmap(
                    reserve + Int(a.offset), Int(a.size), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
                    off_t(region.offset + a.offset))
                if p == MAP_FAILED {
                    let e = errno
                    munmap(reserve, length)
                    throw BusmasterError.systemCall("mmap", errno: e, context: "mapping part 0x\(String(a.offset, radix: 16)) of BAR \(region.index)")
                }
            }
            return VFIOBARMapping(base: reserve, length: length)
        }
        guard let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off_t(region.offset)), p != MAP_FAILED else {
            throw BusmasterError.systemCall("mmap", errno: errno, context: "mapping BAR \(region.index) (\(length) bytes) of \(device.address)")
        }
        return VFIOBARMapping(base: p, length: length)
    }

    func unmap() { munmap(base, length) }
}
