import Busmaster
import CBusmasterSupport
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A VFIO group (`/dev/vfio/<n>`): the unit of isolation. It must be viable (all members
/// bound to VFIO drivers or unbound) and attached to a container before its devices open.
public final class VFIOGroup: @unchecked Sendable {
    /// IOMMU group number.
    public let number: Int
    /// The group file descriptor.
    public let fd: FileDescriptor
    private var attached = false
    private var closed = false

    /// Opens `/dev/vfio/<number>`; `address` names the device in messages.
    public init(number: Int, for address: PCIAddress, paths: LinuxPaths = .system) throws {
        self.number = number
        let path = paths.vfioGroup(number)
        guard SysFile.exists(path) else {
            throw BusmasterError.platform(VFIODiagnostics.groupNodeMissing(path: path, group: number, address: address))
        }
        do {
            fd = try SysFile.open(path, .readWrite)
        } catch {
            switch errnoOf(error) {
            case EACCES, EPERM: throw BusmasterError.platform(VFIODiagnostics.permissionDenied(path: path))
            case EBUSY: throw BusmasterError.platform(VFIODiagnostics.groupBusy(path: path, group: number))
            default: throw error
            }
        }
    }

    deinit { close() }

    /// Detaches the group from its container and closes it (after its devices). Idempotent.
    public func close() {
        if closed { return }
        closed = true
        if attached { _ = bm_ioctl_none(fd.rawValue, VFIOIoctl.groupUnsetContainer) }
        try? fd.close()
    }

    /// Whether the group is viable and whether it is attached to a container.
    public func status() throws -> (viable: Bool, containerSet: Bool) {
        var st = VFIOGroupStatus()
        _ = try withUnsafeMutableBytes(of: &st) {
            try VFIOCall.pointer(fd.rawValue, VFIOIoctl.groupGetStatus, $0.baseAddress!, "VFIO_GROUP_GET_STATUS", "group \(number)")
        }
        return (st.flags & VFIOConstant.groupFlagViable != 0, st.flags & VFIOConstant.groupFlagContainerSet != 0)
    }

    /// Attaches the group to `container`.
    public func setContainer(_ container: VFIOContainer) throws {
        var cfd = container.fd.rawValue
        _ = try withUnsafeMutableBytes(of: &cfd) {
            try VFIOCall.pointer(fd.rawValue, VFIOIoctl.groupSetContainer, $0.baseAddress!, "VFIO_GROUP_SET_CONTAINER", "group \(number)")
        }
        attached = true
    }

    /// Opens the device `address` of this group.
    public func openDevice(_ address: PCIAddress) throws -> FileDescriptor {
        let name = address.description
        let rc = name.withCString { bm_ioctl_ptr(fd.rawValue, VFIOIoctl.groupGetDeviceFD, UnsafeMutableRawPointer(mutating: $0)) }
        if rc < 0 {
            throw BusmasterError.systemCall(
                "VFIO_GROUP_GET_DEVICE_FD", errno: errno,
                context: "for \(name) in group \(number)" + (errno == EBUSY ? " (the device is already open)" : ""))
        }
        return FileDescriptor(rawValue: rc)
    }
}
