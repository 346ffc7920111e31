import Busmaster

/// Where the kernel's interfaces live. The defaults are the real ones; tests point them
/// into a temporary directory holding a fake tree.
public struct LinuxPaths: Sendable, Hashable {
    /// The sysfs mount (`/sys`).
    public var sysfs: String
    /// The device directory (`/dev`).
    public var dev: String
    /// The procfs mount (`/proc`).
    public var proc: String

    /// Creates a set of roots.
    public init(sysfs: String = "/sys", dev: String = "/dev", proc: String = "/proc") {
        self.sysfs = sysfs
        self.dev = dev
        self.proc = proc
    }

    /// The real system.
    public static let system = LinuxPaths()

    /// `/sys/bus/pci/devices`.
    public var pciDevices: String { sysfs + "/bus/pci/devices" }
    /// `/sys/bus/pci/drivers`.
    public var pciDrivers: String { sysfs + "/bus/pci/drivers" }
    /// `/sys/bus/pci/drivers_probe`.
    public var driversProbe: String { sysfs + "/bus/pci/drivers_probe" }
    /// `/sys/bus/pci/devices/<dddd:bb:dd.f>`.
    public func device(_ address: PCIAddress) -> String { pciDevices + "/" + address.description }
    /// `/sys/kernel/iommu_groups/<n>`.
    public func iommuGroup(_ group: Int) -> String { sysfs + "/kernel/iommu_groups/\(group)" }
    /// `/dev/vfio/vfio`, the VFIO container device.
    public var vfioContainer: String { dev + "/vfio/vfio" }
    /// `/dev/vfio/<n>`, a VFIO group device.
    public func vfioGroup(_ group: Int) -> String { dev + "/vfio/\(group)" }
}
