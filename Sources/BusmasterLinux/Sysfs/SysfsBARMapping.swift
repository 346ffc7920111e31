import Busmaster
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// BAR access through sysfs `resourceN` files (no IOMMU involved).
enum SysfsBARMapping {
    /// mmaps memory BAR `index` (uncached); the caller unmaps `length` bytes at the result.
    static func map(_ bar: BARInfo, device: PCIAddress, paths: LinuxPaths) throws -> (UnsafeMutableRawPointer, Int) {
        let path = paths.device(device) + "/resource\(bar.index)"
        let fd = try openResource(path, bar: bar.index, device: device, paths: paths)
        defer { try? fd.close() }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let length = (Int(bar.size) + page - 1) / page * page
        guard let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd.rawValue, 0), p != MAP_FAILED else {
            let e = errno
            throw BusmasterError.systemCall(
                "mmap", errno: e,
                context: "mapping \(path)" + (e == EINVAL || e == EPERM || e == EBUSY
                    ? " (a kernel driver may claim the BAR — CONFIG_IO_STRICT_DEVMEM — or lockdown forbids it: \(lockdownHint(paths)))" : ""))
        }
        return (p, length)
    }

    /// A handler for I/O-port BAR `index` (1/2/4-byte pread/pwrite on `resourceN`).
    static func ioHandler(_ bar: BARInfo, device: PCIAddress, paths: LinuxPaths) throws -> any MMIOHandler {
        let path = paths.device(device) + "/resource\(bar.index)"
        return SysfsIOPortAccess(fd: try openResource(path, bar: bar.index, device: device, paths: paths))
    }

    private static func openResource(_ path: String, bar: Int, device: PCIAddress, paths: LinuxPaths) throws -> FileDescriptor {
        guard SysFile.exists(path) else {
            throw BusmasterError.unsupported(
                "\(path) does not exist: this kernel exposes no sysfs BAR files for \(device) (use VFIO: `pci-diag bind \(device) vfio-pci`)")
        }
        do {
            return try FileDescriptor.open(FilePath(path), .readWrite, options: [FileDescriptor.OpenOptions(rawValue: O_SYNC), .closeOnExec])
        } catch let e as Errno {
            throw BusmasterError.systemCall(
                "open", errno: e.rawValue,
                context: "opening \(path)" + (e == .permissionDenied || e == .notPermitted ? " (needs root; \(lockdownHint(paths)))" : ""))
        }
    }

    /// A note on kernel lockdown, which forbids BAR mappings and config writes from user space.
    static func lockdownHint(_ paths: LinuxPaths) -> String {
        guard let mode = SysFile.readTextIfPresent(paths.sysfs + "/kernel/security/lockdown") else { return "no lockdown reported" }
        if mode.contains("[none]") { return "kernel lockdown is off" }
        return "kernel lockdown is active (\(mode)); Secure Boot locks user-space BAR access — use VFIO"
    }
}

/// Port I/O through a sysfs `resourceN` file of an I/O BAR.
final class SysfsIOPortAccess: MMIOHandler, @unchecked Sendable {
    private let fd: FileDescriptor

    init(fd: FileDescriptor) { self.fd = fd }
    deinit { try? fd.close() }

    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
        var v: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &v) { pread(fd.rawValue, $0.baseAddress, width.bytes, off_t(offset)) }
        return n == width.bytes ? v : width.mask
    }

    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
        var v = value
        _ = withUnsafeBytes(of: &v) { pwrite(fd.rawValue, $0.baseAddress, width.bytes, off_t(offset)) }
    }
}
