import Busmaster

/// The messages of the VFIO path's setup failures. Each names the cause and the fix.
public enum VFIODiagnostics {
    /// `/dev/vfio/vfio` is missing.
    public static func noVFIOModule(path: String) -> String {
        "VFIO is not available: \(path) does not exist. Load the modules with `modprobe vfio-pci vfio_iommu_type1` "
            + "(the kernel needs CONFIG_VFIO and an IOMMU)"
    }

    /// A VFIO node cannot be opened for lack of permission.
    public static func permissionDenied(path: String) -> String {
        "permission denied opening \(path): run as root, or give your user the node "
            + "(`chown <user> \(path)`, or a udev rule such as SUBSYSTEM==\"vfio\", OWNER=\"<user>\") "
            + "and raise the locked-memory limit (`ulimit -l`) for DMA"
    }

    /// The device has no IOMMU group.
    public static func noIOMMUGroup(_ address: PCIAddress) -> String {
        "\(address) has no IOMMU group, so the IOMMU is off or absent and VFIO cannot be used. Enable VT-d / AMD-Vi "
            + "in the firmware and boot with `intel_iommu=on iommu=pt` (Intel) or `amd_iommu=on` (AMD). Without an IOMMU, "
            + "bind the device to uio_pci_generic (`pci-diag bind \(address) uio_pci_generic`): that path has NO DMA isolation, "
            + "the device can write anywhere in memory"
    }

    /// The device is bound to some other driver (or none).
    public static func notBoundToVFIO(_ address: PCIAddress, driver: String?) -> String {
        let now = driver.map { "is bound to \($0)" } ?? "is not bound to any driver"
        return "\(address) \(now), not to vfio-pci: bind it with `pci-diag bind \(address) vfio-pci` "
            + "(or: echo vfio-pci > /sys/bus/pci/devices/\(address)/driver_override; "
            + "echo \(address) > /sys/bus/pci/drivers_probe)"
    }

    /// `/dev/vfio/<n>` is missing although the device is bound.
    public static func groupNodeMissing(path: String, group: Int, address: PCIAddress) -> String {
        "\(path) does not exist although \(address) is in IOMMU group \(group): bind the device to vfio-pci "
            + "(`pci-diag bind \(address) vfio-pci`); without udev, mount devtmpfs on /dev so the node appears"
    }

    /// `/dev/vfio/<n>` is open elsewhere.
    public static func groupBusy(path: String, group: Int) -> String {
        "\(path) is busy: IOMMU group \(group) is already open (another process, or another device of the same group "
            + "in this process). Close the other user first"
    }

    /// The group has members bound to host drivers.
    public static func groupNotViable(group: Int, address: PCIAddress, members: [(PCIAddress, String?)]) -> String {
        let others = members.filter { $0.0 != address }
        let blocking = others.filter { m in !(m.1 == nil || m.1 == "vfio-pci" || m.1 == "pci-stub" || m.1 == "pcieport") }
        let list = (blocking.isEmpty ? others : blocking).map { "\($0.0) (driver \($0.1 ?? "none"))" }.joined(separator: ", ")
        let fix = blocking.map { "`pci-diag bind \($0.0) vfio-pci`" }.joined(separator: ", ")
        return "IOMMU group \(group) of \(address) is not viable: every device in the group must be bound to vfio-pci "
            + "(or pci-stub) or be unbound. Other members: \(list.isEmpty ? "none found in sysfs" : list)."
            + (fix.isEmpty ? "" : " Bind them too: \(fix)")
    }

    /// The members of an IOMMU group with their drivers, from sysfs.
    public static func groupMembers(_ group: Int, paths: LinuxPaths) -> [(PCIAddress, String?)] {
        let dir = paths.iommuGroup(group) + "/devices"
        return (SysFile.list(dir) ?? []).compactMap { name in
            guard let a = PCIAddress(name) else { return nil }
            return (a, SysFile.linkBasename(dir + "/" + name + "/driver"))
        }
    }
}
