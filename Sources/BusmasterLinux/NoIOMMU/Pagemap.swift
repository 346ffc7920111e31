import Busmaster
import SystemPackage

/// Virtual-to-physical translation through `/proc/self/pagemap` (no IOMMU: the device
/// uses physical addresses, which equal bus addresses on x86).
///
/// Each 8-byte entry (index = virtual page number) holds the page frame number in bits
/// 0–54 and "present" in bit 63. Without `CAP_SYS_ADMIN` the kernel reports frame 0.
public struct Pagemap: Sendable {
    /// Bits 0–54: page frame number.
    public static let pfnMask: UInt64 = (1 << 55) - 1
    /// Bit 63: the page is present in RAM.
    public static let presentBit: UInt64 = 1 << 63
    /// The translation granule of the file (the base page size).
    public static let basePageSize: UInt64 = 4096

    /// Path of the pagemap file.
    public let path: String

    /// Uses `<proc>/self/pagemap`.
    public init(paths: LinuxPaths = .system) { path = paths.proc + "/self/pagemap" }

    /// The physical address of the byte at `address` (which must be mapped and touched).
    public func physicalAddress(of address: UnsafeRawPointer) throws -> UInt64 {
        let v = UInt64(UInt(bitPattern: address))
        let fd = try SysFile.open(path, .readOnly)
        defer { try? fd.close() }
        var entry: UInt64 = 0
        let n: Int
        do {
            n = try withUnsafeMutableBytes(of: &entry) { try fd.read(fromAbsoluteOffset: Int64((v / Self.basePageSize) * 8), into: $0) }
        } catch let e as Errno {
            throw BusmasterError.systemCall("pread", errno: e.rawValue, context: "reading \(path)")
        }
        guard n == 8 else { throw BusmasterError.dmaUnavailable("short read from \(path)") }
        return try Self.decode(entry: entry, address: v)
    }

    /// Decodes one pagemap entry for the byte at virtual address `address`.
    public static func decode(entry: UInt64, address: UInt64) throws -> UInt64 {
        guard entry & presentBit != 0 else {
            throw BusmasterError.dmaUnavailable("page at 0x\(String(address, radix: 16)) is not present in RAM (touch and lock it first)")
        }
        let pfn = entry & pfnMask
        guard pfn != 0 else {
            throw BusmasterError.dmaUnavailable(
                "/proc/self/pagemap hides physical addresses from this process: physical DMA addresses without an IOMMU "
                    + "need CAP_SYS_ADMIN (run as root)")
        }
        return pfn * basePageSize + address % basePageSize
    }
}
