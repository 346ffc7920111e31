import Busmaster
import CLibPCI
import CPCIShim

#if canImport(Glibc)
    import Glibc
#endif

/// Vendor, device, class and subsystem names from pci.ids through libpci, for devices
/// found by any enumerator (e.g. `BusmasterLinux`'s native sysfs one).
public final class PCINameDatabase: @unchecked Sendable {
    /// The pci.ids file used (nil = libpci's compiled-in default).
    public let idsFile: String?
    private var handle: UnsafeMutablePointer<pci_access>?

    /// Well-known pci.ids locations, first existing one wins.
    public static let candidates = ["/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids"]

    /// The first existing pci.ids of ``candidates``, or nil (names then stay empty).
    public static var defaultIDsFile: String? { candidates.first { access($0, R_OK) == 0 } }

    /// Opens the database (`idsFile` nil = ``defaultIDsFile``).
    public init(idsFile: String? = nil) throws {
        self.idsFile = idsFile ?? Self.defaultIDsFile
        handle = try libpciLock.withLock {
            guard let a = Self.makeAccess(self.idsFile) else { throw LibPCIError.outOfMemory }
            return a
        }
    }

    deinit { libpciLock.withLock { if let a = handle { _ = pcishim_cleanup(a) } } }

    /// A fresh access for lookups only (no method initialised). Call with ``libpciLock`` held.
    private static func makeAccess(_ file: String?) -> UnsafeMutablePointer<pci_access>? {
        guard let a = pcishim_alloc() else { return nil }
        if let file { pcishim_set_id_file(a, file) }
        return a
    }

    /// Whether the database file exists and is readable.
    public var isAvailable: Bool { idsFile.map { access($0, R_OK) == 0 } ?? false }

    private func query<T>(_ body: (UnsafeMutablePointer<pci_access>) throws -> T?) -> T? {
        libpciLock.withLock {
            if handle == nil { handle = Self.makeAccess(idsFile) }
            guard let a = handle else { return nil }
            do {
                return try body(a)
            } catch {
                // A libpci error leaves the access unusable: drop it; the next query makes a new one.
                _ = pcishim_cleanup(a)
                handle = nil
                return nil
            }
        }
    }

    /// The vendor's name.
    public func vendorName(_ vendorID: UInt16) -> String? { query { try LibPCINames.vendor($0, vendorID) } }

    /// The device's name.
    public func deviceName(vendorID: UInt16, deviceID: UInt16) -> String? {
        query { try LibPCINames.device($0, vendorID, deviceID) }
    }

    /// The class name of a 24-bit class code (sub-class, else base class).
    public func className(_ classCode: UInt32) -> String? { query { try LibPCINames.deviceClass($0, classCode) } }

    /// The programming-interface name of a 24-bit class code.
    public func progIFName(_ classCode: UInt32) -> String? { query { try LibPCINames.progIF($0, classCode) } }

    /// All names of `info`.
    public func names(for info: PCIDeviceInfo) -> PCINames {
        query { try LibPCINames.names($0, for: info) } ?? PCINames()
    }

    /// `infos` with ``PCIDeviceInfo/names`` filled in.
    public func annotate(_ infos: [PCIDeviceInfo]) -> [PCIDeviceInfo] {
        infos.map { var i = $0; i.names = names(for: $0); return i }
    }
}
