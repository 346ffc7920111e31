import Busmaster

/// The real machine's platform for diag tools.
public enum HostPlatform {
    /// Creates the Linux platform.
    public static func make() throws -> any PCIPlatform {
        throw BusmasterError.unsupported("the Linux platform is not wired yet")
    }
}
