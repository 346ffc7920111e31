import Busmaster
import BusmasterLinux

/// The real machine: Linux VFIO or sysfs+UIO, depending on the driver the device is bound to.
/// (No libpci here, so the guest binary can be linked statically.)
enum HostPlatform {
    static func make() throws -> any PCIPlatform { LinuxPlatform() }
}
