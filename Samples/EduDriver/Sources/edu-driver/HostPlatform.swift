import Busmaster

/// The real machine: Linux VFIO or sysfs+UIO, depending on the driver the device is bound to.
enum HostPlatform {
    static func make() throws -> any PCIPlatform {
        throw BusmasterError.unsupported("the Linux platform is not wired yet")
    }
}
