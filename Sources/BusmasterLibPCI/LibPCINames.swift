import Busmaster
import CLibPCI
import CPCIShim

/// Name lookups in pci.ids through libpci (one C wrapper per argument count, since Swift
/// cannot call the variadic `pci_lookup_name`). Callers hold ``libpciLock``.
enum LibPCINames {
    /// Lookup flags added to every query: names only from the pci.ids file (no udev hwdb,
    /// never DNS), NULL instead of a formatted number when unknown.
    static let baseFlags = Int32(bitPattern: PCI_LOOKUP_NO_HWDB.rawValue)

    static func flag(_ m: pci_lookup_mode) -> Int32 { Int32(bitPattern: m.rawValue) | baseFlags }

    /// Returns nil when unknown; throws when libpci reported an error (the access is then unusable).
    typealias Lookup = (UnsafeMutablePointer<CChar>, Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32

    static func lookup(_ a: UnsafeMutablePointer<pci_access>, _ call: Lookup) throws -> String? {
        var buf = [CChar](repeating: 0, count: 256)
        var out: UnsafePointer<CChar>?
        let rc = buf.withUnsafeMutableBufferPointer { call($0.baseAddress!, Int32($0.count), &out) }
        if rc != 0 { throw LibPCIError.libpci(String(cString: pcishim_last_error())) }
        return out.map { String(cString: $0) }
    }

    static func vendor(_ a: UnsafeMutablePointer<pci_access>, _ v: UInt16) throws -> String? {
        try lookup(a) { pcishim_lookup1(a, $0, $1, flag(PCI_LOOKUP_VENDOR), Int32(v), $2) }
    }

    static func device(_ a: UnsafeMutablePointer<pci_access>, _ v: UInt16, _ d: UInt16) throws -> String? {
        try lookup(a) { pcishim_lookup2(a, $0, $1, flag(PCI_LOOKUP_DEVICE), Int32(v), Int32(d), $2) }
    }

    /// The sub-class name for a 24-bit class code (libpci falls back to the base class).
    static func deviceClass(_ a: UnsafeMutablePointer<pci_access>, _ classCode: UInt32) throws -> String? {
        try lookup(a) { pcishim_lookup1(a, $0, $1, flag(PCI_LOOKUP_CLASS), Int32(classCode >> 8), $2) }
    }

    /// The programming-interface name for a 24-bit class code.
    static func progIF(_ a: UnsafeMutablePointer<pci_access>, _ classCode: UInt32) throws -> String? {
        try lookup(a) { pcishim_lookup2(a, $0, $1, flag(PCI_LOOKUP_PROGIF), Int32(classCode >> 8), Int32(classCode & 0xFF), $2) }
    }

    /// "Subsystem vendor name + subsystem device name", as lspci prints after "Subsystem:".
    static func subsystem(_ a: UnsafeMutablePointer<pci_access>, _ v: UInt16, _ d: UInt16, _ sv: UInt16, _ sd: UInt16) throws -> String? {
        if sv == 0xFFFF || (sv == 0 && sd == 0) { return nil }
        let vendorName = try lookup(a) {
            pcishim_lookup1(a, $0, $1, flag(PCI_LOOKUP_SUBSYSTEM) | flag(PCI_LOOKUP_VENDOR), Int32(sv), $2)
        }
        let deviceName = try lookup(a) {
            pcishim_lookup4(a, $0, $1, flag(PCI_LOOKUP_SUBSYSTEM) | flag(PCI_LOOKUP_DEVICE), Int32(v), Int32(d), Int32(sv), Int32(sd), $2)
        }
        let parts = [vendorName, deviceName].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    /// All names of a device.
    static func names(_ a: UnsafeMutablePointer<pci_access>, for info: PCIDeviceInfo) throws -> PCINames {
        PCINames(
            vendor: try vendor(a, info.vendorID), device: try device(a, info.vendorID, info.deviceID),
            deviceClass: try deviceClass(a, info.classCode),
            subsystem: try subsystem(a, info.vendorID, info.deviceID, info.subsystemVendorID, info.subsystemID))
    }
}
