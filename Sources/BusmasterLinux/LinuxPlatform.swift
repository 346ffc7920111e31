import Busmaster

/// The Linux host as a ``PCIPlatform``: enumeration from sysfs, and devices opened through
/// VFIO (bound to vfio-pci) or sysfs + UIO (bound to uio_pci_generic, no DMA isolation).
///
/// This module does not link libpci, so programs built on it can be static executables.
/// `BusmasterLibPCI` adds pci.ids names.
public final class LinuxPlatform: PCIPlatform {
    /// Which kernel path serves a device.
    public enum Path: String, Sendable, CaseIterable {
        /// vfio-pci with an IOMMU: isolation, MSI/MSI-X/INTx, DMA at IOVAs.
        case vfio
        /// uio_pci_generic: sysfs BARs, INTx only, physical DMA addresses, no isolation.
        case sysfsUIO = "sysfs+uio"
        /// No driver bound: sysfs BARs and config only (no interrupts), no isolation.
        case sysfs
    }

    public var name: String { "linux" }
    /// The roots used (tests point them at fake trees).
    public let paths: LinuxPaths
    /// Whether a device bound to no driver may be opened through sysfs alone.
    public let allowUnboundSysfs: Bool

    /// Creates the platform.
    ///
    /// - Parameter allowUnboundSysfs: open devices bound to no driver through sysfs
    ///   `resourceN`/`config` (register access only; no interrupts, no isolation).
    public init(paths: LinuxPaths = .system, allowUnboundSysfs: Bool = false) {
        self.paths = paths
        self.allowUnboundSysfs = allowUnboundSysfs
    }

    public func devices() throws -> [PCIDeviceInfo] { try SysfsEnumerator(paths: paths).devices() }

    /// The path ``open(_:)`` would use for `address`, or an error naming the fix.
    public func path(for address: PCIAddress) throws -> Path {
        let info = try SysfsEnumerator(paths: paths).device(address)
        switch info.driver {
        case "vfio-pci": return .vfio
        case "uio_pci_generic": return .sysfsUIO
        case nil where allowUnboundSysfs: return .sysfs
        default:
            let fix =
                info.iommuGroup != nil
                ? "bind it: `pci-diag bind \(address) vfio-pci`"
                : "this machine has no IOMMU for it, so bind it to uio_pci_generic: `pci-diag bind \(address) uio_pci_generic` "
                    + "(NO DMA isolation; enable the IOMMU with intel_iommu=on / amd_iommu=on to use vfio-pci)"
            let now = info.driver.map { "is bound to \($0)" } ?? "is bound to no driver"
            throw BusmasterError.platform("\(address) \(now), not to vfio-pci or uio_pci_generic: \(fix)")
        }
    }

    public func open(_ address: PCIAddress) throws -> PCIDevice {
        switch try path(for: address) {
        case .vfio: return PCIDevice(backend: try VFIOBackend.open(address, paths: paths))
        case .sysfsUIO: return PCIDevice(backend: try SysfsBackend.open(address, paths: paths, requireUIO: true))
        case .sysfs: return PCIDevice(backend: try SysfsBackend.open(address, paths: paths, requireUIO: false))
        }
    }
}
