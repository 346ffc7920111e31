/// One base address register as the device decodes it.
public struct BARInfo: Sendable, Hashable, Codable {
    /// Whether the BAR decodes memory or I/O space.
    public enum Kind: String, Sendable, Codable { case memory, io }

    /// BAR index 0...5 (a 64-bit BAR occupies its index and the next).
    public var index: Int
    /// Bus address the BAR is assigned to (flag bits removed).
    public var address: UInt64
    /// Size in bytes (0 when unknown, e.g. from a config-space dump without sizes).
    public var size: UInt64
    /// Memory or I/O.
    public var kind: Kind
    /// A 64-bit memory BAR.
    public var is64Bit: Bool
    /// A prefetchable memory BAR.
    public var isPrefetchable: Bool

    /// Creates a BAR description.
    public init(index: Int, address: UInt64, size: UInt64, kind: Kind = .memory, is64Bit: Bool = false, isPrefetchable: Bool = false) {
        self.index = index
        self.address = address
        self.size = size
        self.kind = kind
        self.is64Bit = is64Bit
        self.isPrefetchable = isPrefetchable
    }

    /// A short lspci-like description, e.g. `Memory at fea00000 (32-bit, non-prefetchable) [size=1M]`.
    public var summary: String {
        let sizeText = size == 0 ? "" : " [size=\(formatSize(size))]"
        switch kind {
        case .io:
            return "I/O ports at \(String(address, radix: 16))\(sizeText)"
        case .memory:
            return "Memory at \(String(address, radix: 16)) (\(is64Bit ? "64" : "32")-bit, "
                + "\(isPrefetchable ? "prefetchable" : "non-prefetchable"))\(sizeText)"
        }
    }
}

/// Formats a byte count like lspci (`4K`, `1M`, `2G`) or in bytes when not a power-of-two multiple.
public func formatSize(_ bytes: UInt64) -> String {
    let units: [(UInt64, String)] = [(1 << 40, "T"), (1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")]
    for (u, s) in units where bytes >= u && bytes % u == 0 { return "\(bytes / u)\(s)" }
    return "\(bytes)"
}

/// Human-readable names from pci.ids, where available.
public struct PCINames: Sendable, Hashable, Codable {
    /// Vendor name.
    public var vendor: String?
    /// Device name.
    public var device: String?
    /// Class name (sub-class when known).
    public var deviceClass: String?
    /// Subsystem name.
    public var subsystem: String?

    /// Creates a name set.
    public init(vendor: String? = nil, device: String? = nil, deviceClass: String? = nil, subsystem: String? = nil) {
        self.vendor = vendor
        self.device = device
        self.deviceClass = deviceClass
        self.subsystem = subsystem
    }
}

/// Identity and resources of one PCI function.
public struct PCIDeviceInfo: Sendable, Hashable, Codable {
    /// Where the function sits.
    public var address: PCIAddress
    /// Vendor ID.
    public var vendorID: UInt16
    /// Device ID.
    public var deviceID: UInt16
    /// 24-bit class code: base class << 16 | sub class << 8 | programming interface.
    public var classCode: UInt32
    /// Revision ID.
    public var revision: UInt8
    /// Subsystem vendor ID (0xFFFF when unknown).
    public var subsystemVendorID: UInt16
    /// Subsystem ID (0xFFFF when unknown).
    public var subsystemID: UInt16
    /// Header type (low 7 bits; 0 = endpoint, 1 = bridge).
    public var headerType: UInt8
    /// Implemented BARs, in index order.
    public var bars: [BARInfo]
    /// Interrupt line (IRQ number), when the platform reports one.
    public var irq: Int?
    /// Interrupt pin: 0 none, 1...4 INTA...INTD.
    public var interruptPin: UInt8
    /// Capabilities in walk order.
    public var capabilities: [PCICapability]
    /// Names from pci.ids.
    public var names: PCINames?
    /// Kernel driver currently bound (Linux).
    public var driver: String?
    /// IOMMU group number (Linux).
    public var iommuGroup: Int?
    /// Size of readable config space (64, 256 or 4096).
    public var configSize: Int

    /// Creates a device description.
    public init(
        address: PCIAddress, vendorID: UInt16, deviceID: UInt16, classCode: UInt32, revision: UInt8 = 0,
        subsystemVendorID: UInt16 = 0xFFFF, subsystemID: UInt16 = 0xFFFF, headerType: UInt8 = 0,
        bars: [BARInfo] = [], irq: Int? = nil, interruptPin: UInt8 = 0, capabilities: [PCICapability] = [],
        names: PCINames? = nil, driver: String? = nil, iommuGroup: Int? = nil, configSize: Int = 256
    ) {
        self.address = address
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.classCode = classCode
        self.revision = revision
        self.subsystemVendorID = subsystemVendorID
        self.subsystemID = subsystemID
        self.headerType = headerType
        self.bars = bars
        self.irq = irq
        self.interruptPin = interruptPin
        self.capabilities = capabilities
        self.names = names
        self.driver = driver
        self.iommuGroup = iommuGroup
        self.configSize = configSize
    }

    /// `vvvv:dddd`.
    public var idString: String { hex(vendorID, 4) + ":" + hex(deviceID, 4) }

    /// The BAR with index `i`, if implemented.
    public func bar(_ i: Int) -> BARInfo? { bars.first { $0.index == i } }

    /// One lspci-like line: `00:01.0 Unclassified device [00ff]: Vendor Device [1234:11e8] (rev 10)`.
    public var summaryLine: String {
        let cls = names?.deviceClass ?? "Class"
        let who = [names?.vendor, names?.device].compactMap { $0 }.joined(separator: " ")
        let name = who.isEmpty ? "Device" : who
        return "\(address.shortDescription) \(cls) [\(hex(classCode >> 8, 4))]: \(name) [\(idString)]"
            + (revision != 0 ? " (rev \(hex(revision, 2)))" : "")
    }

    /// Decodes identity, BARs (addresses only; sizes unknown) and capabilities from raw
    /// config-space bytes, as read from a dump or a device.
    public static func decode(address: PCIAddress, config: [UInt8], barSizes: [Int: UInt64] = [:]) -> PCIDeviceInfo {
        func b(_ o: Int) -> UInt8 { o < config.count ? config[o] : 0xFF }
        func w(_ o: Int) -> UInt16 { UInt16(b(o)) | UInt16(b(o + 1)) << 8 }
        func d(_ o: Int) -> UInt32 { UInt32(w(o)) | UInt32(w(o + 2)) << 16 }
        let header = b(0x0E) & 0x7F
        var info = PCIDeviceInfo(
            address: address, vendorID: w(0), deviceID: w(2),
            classCode: UInt32(b(0x0B)) << 16 | UInt32(b(0x0A)) << 8 | UInt32(b(0x09)), revision: b(0x08),
            subsystemVendorID: header == 0 ? w(0x2C) : 0xFFFF, subsystemID: header == 0 ? w(0x2E) : 0xFFFF,
            headerType: header, irq: b(0x3C) == 0xFF ? nil : Int(b(0x3C)), interruptPin: b(0x3D),
            configSize: config.count)
        let barCount = header == 0 ? 6 : header == 1 ? 2 : 0
        var i = 0
        while i < barCount {
            let raw = d(0x10 + 4 * i)
            if raw & 1 == 1 {
                let addr = UInt64(raw & ~0x3)
                if addr != 0 || barSizes[i] != nil {
                    info.bars.append(BARInfo(index: i, address: addr, size: barSizes[i] ?? 0, kind: .io))
                }
                i += 1
            } else {
                let is64 = (raw >> 1) & 3 == 2
                var addr = UInt64(raw & ~0xF)
                if is64 && i + 1 < barCount { addr |= UInt64(d(0x10 + 4 * (i + 1))) << 32 }
                if addr != 0 || barSizes[i] != nil {
                    info.bars.append(
                        BARInfo(index: i, address: addr, size: barSizes[i] ?? 0, kind: .memory, is64Bit: is64,
                                isPrefetchable: raw & 8 != 0))
                }
                i += is64 ? 2 : 1
            }
        }
        info.capabilities = CapabilityWalker.walk(config.count) { off, width in
            switch width {
            case .byte: return UInt64(b(off))
            case .word: return UInt64(w(off))
            default: return UInt64(d(off))
            }
        }
        return info
    }
}
