import Busmaster
import BusmasterLibPCI
import BusmasterLinux

/// The real machine's platform for diag tools: libpci enumeration with pci.ids names;
/// devices open through VFIO (vfio-pci) or sysfs + UIO (uio_pci_generic).
public enum HostPlatform {
    /// Creates the Linux platform.
    public static func make() throws -> any PCIPlatform {
        LibPCIPlatform()
    }

    /// Prints the no-isolation warning when a device was opened on the sysfs/UIO path.
    public static func warnIfUnisolated(_ device: PCIDevice) {
        if device.platformName.hasPrefix("sysfs") { DiagOutput.warn(SysfsBackend.isolationWarning) }
    }
}
