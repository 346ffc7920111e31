/// One entry of a device's standard or extended capability list.
public struct PCICapability: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Capability ID (8-bit for standard, 16-bit for extended).
    public var id: UInt16
    /// Offset of the capability header in config space.
    public var offset: Int
    /// Whether this is a PCIe extended capability (offset ≥ 0x100).
    public var isExtended: Bool
    /// Capability version (extended capabilities only).
    public var version: UInt8

    /// Creates a capability entry.
    public init(id: UInt16, offset: Int, isExtended: Bool, version: UInt8 = 0) {
        self.id = id
        self.offset = offset
        self.isExtended = isExtended
        self.version = version
    }

    /// Name of the capability, e.g. "MSI", "PCI Express", "Advanced Error Reporting".
    public var name: String {
        isExtended ? (Self.extendedNames[id] ?? "Extended capability") : (Self.standardNames[id] ?? "Capability")
    }

    public var description: String {
        "[\(hex(offset, isExtended ? 3 : 2))] \(name) (\(isExtended ? "ext " : "")id 0x\(hex(id, isExtended ? 4 : 2)))"
    }

    /// Well-known standard capability IDs.
    public static let powerManagement: UInt16 = 0x01
    /// MSI capability ID.
    public static let msi: UInt16 = 0x05
    /// Vendor-specific capability ID.
    public static let vendorSpecific: UInt16 = 0x09
    /// PCI Express capability ID.
    public static let pciExpress: UInt16 = 0x10
    /// MSI-X capability ID.
    public static let msix: UInt16 = 0x11

    static let standardNames: [UInt16: String] = [
        0x01: "Power Management", 0x02: "AGP", 0x03: "Vital Product Data", 0x04: "Slot Identification",
        0x05: "MSI", 0x06: "CompactPCI Hot Swap", 0x07: "PCI-X", 0x08: "HyperTransport",
        0x09: "Vendor Specific", 0x0A: "Debug port", 0x0B: "CompactPCI central resource control",
        0x0C: "PCI Hot-plug", 0x0D: "Bridge subsystem vendor/device ID", 0x0E: "AGP 8x", 0x0F: "Secure device",
        0x10: "PCI Express", 0x11: "MSI-X", 0x12: "SATA HBA", 0x13: "PCI Advanced Features",
        0x14: "Enhanced Allocation", 0x15: "Flattening Portal Bridge",
    ]
    static let extendedNames: [UInt16: String] = [
        0x01: "Advanced Error Reporting", 0x02: "Virtual Channel", 0x03: "Device Serial Number",
        0x04: "Power Budgeting", 0x05: "Root Complex Link Declaration", 0x06: "Root Complex Internal Link Control",
        0x07: "Root Complex Event Collector", 0x08: "Multi-Function VC Arbitration", 0x09: "Virtual Channel (MFVC)",
        0x0A: "Root Complex Register Block", 0x0B: "Vendor Specific Extended", 0x0D: "Access Control Services",
        0x0E: "Alternative Routing-ID Interpretation", 0x0F: "Address Translation Services",
        0x10: "Single Root I/O Virtualization", 0x11: "Multi-Root I/O Virtualization", 0x12: "Multicast",
        0x13: "Page Request", 0x15: "Resizable BAR", 0x16: "Dynamic Power Allocation", 0x17: "TPH Requester",
        0x18: "Latency Tolerance Reporting", 0x19: "Secondary PCI Express", 0x1B: "Process Address Space ID",
        0x1D: "Downstream Port Containment", 0x1E: "L1 PM Substates", 0x1F: "Precision Time Measurement",
        0x23: "Designated Vendor-Specific", 0x25: "Data Link Feature", 0x26: "Physical Layer 16.0 GT/s",
    ]
}

/// Walks standard and extended capability lists over any config-space reader.
///
/// The walk is bounded and loop-safe: a pointer outside the valid range, a pointer back
/// to an offset already visited, or more entries than can fit ends the walk.
public enum CapabilityWalker {
    /// Returns the standard capabilities (when the status register says there are any),
    /// then the extended ones (when `configSize` > 256).
    public static func walk(_ configSize: Int, read: (Int, AccessWidth) throws -> UInt64) rethrows -> [PCICapability] {
        var result: [PCICapability] = []
        guard configSize >= 64 else { return result }
        let status = try read(0x06, .word)
        if status != 0xFFFF && status & 0x10 != 0 {
            var ptr = Int(try read(0x34, .byte)) & 0xFC
            var seen = Set<Int>()
            while ptr >= 0x40 && ptr < min(configSize, 256) && seen.count < 48 && seen.insert(ptr).inserted {
                let header = try read(ptr, .word)
                let id = UInt16(header & 0xFF)
                if id == 0xFF { break }
                result.append(PCICapability(id: id, offset: ptr, isExtended: false))
                ptr = Int(header >> 8) & 0xFC
            }
        }
        if configSize > 256 {
            var ptr = 0x100
            var seen = Set<Int>()
            while ptr >= 0x100 && ptr + 4 <= configSize && seen.count < (configSize - 256) / 4 && seen.insert(ptr).inserted {
                let header = try read(ptr, .dword)
                if header == 0 || header == 0xFFFF_FFFF { break }
                let id = UInt16(header & 0xFFFF)
                if id != 0 {
                    result.append(PCICapability(id: id, offset: ptr, isExtended: true, version: UInt8((header >> 16) & 0xF)))
                }
                ptr = Int(header >> 20) & 0xFFC
            }
        }
        return result
    }
}
