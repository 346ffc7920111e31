import Busmaster
import BusmasterLinux

/// The Linux host enumerated through libpci (with pci.ids names), opened like
/// ``LinuxPlatform`` (VFIO, or sysfs + UIO). Links libpci (GPL); static executables use
/// ``LinuxPlatform`` instead.
public final class LibPCIPlatform: PCIPlatform {
    public var name: String { "linux" }
    /// The roots used.
    public let paths: LinuxPaths
    /// The pci.ids file.
    public let idsFile: String?
    private let opener: LinuxPlatform

    /// Creates the platform (`idsFile` nil = ``PCINameDatabase/defaultIDsFile``).
    public init(paths: LinuxPaths = .system, idsFile: String? = nil, allowUnboundSysfs: Bool = false) {
        self.paths = paths
        self.idsFile = idsFile ?? PCINameDatabase.defaultIDsFile
        opener = LinuxPlatform(paths: paths, allowUnboundSysfs: allowUnboundSysfs)
    }

    public func devices() throws -> [PCIDeviceInfo] {
        let source: LibPCISession.Source = paths == .system ? .system : .sysfs(path: paths.sysfs + "/bus/pci")
        let session = try LibPCISession(source: source, idsFile: idsFile)
        defer { session.close() }
        return try session.devices()
    }

    public func open(_ address: PCIAddress) throws -> PCIDevice { try opener.open(address) }
}
