import Busmaster

/// Registers of the PCI Express, MSI and MSI-X capabilities that `info` decodes, relative to
/// each capability's offset in config space (PCIe Base Specification, chapter 7).
enum PCIeCapabilityRegisters {
    /// PCI Express capability.
    enum Express {
        /// Device Capabilities.
        static let deviceCapabilities = Register<UInt32>("DEVCAP", offset: 0x04, .readOnly, "max payload supported 2:0")
        /// Device Control.
        static let deviceControl = Register<UInt16>("DEVCTL", offset: 0x08, .readWrite, "MPS 7:5, MRRS 14:12")
        /// Link Capabilities.
        static let linkCapabilities = Register<UInt32>("LNKCAP", offset: 0x0C, .readOnly, "max speed 3:0, max width 9:4")
        /// Link Status.
        static let linkStatus = Register<UInt16>("LNKSTA", offset: 0x12, .readOnly, "current speed 3:0, negotiated width 9:4")

        /// Max payload size supported (128 << code).
        static let maxPayloadSupported = BitField<UInt32>("MPS_SUPPORTED", bits: 0...2, .readOnly)
        /// Max payload size in effect (128 << code).
        static let maxPayload = BitField<UInt16>("MPS", bits: 5...7)
        /// Max read request size (128 << code).
        static let maxReadRequest = BitField<UInt16>("MRRS", bits: 12...14)
        /// Maximum link speed (1 = 2.5 GT/s … 5 = 32 GT/s).
        static let maxLinkSpeed = BitField<UInt32>("MAX_SPEED", bits: 0...3, .readOnly)
        /// Maximum link width (lanes).
        static let maxLinkWidth = BitField<UInt32>("MAX_WIDTH", bits: 4...9, .readOnly)
        /// Current link speed.
        static let linkSpeed = BitField<UInt16>("SPEED", bits: 0...3, .readOnly)
        /// Negotiated link width (lanes).
        static let linkWidth = BitField<UInt16>("WIDTH", bits: 4...9, .readOnly)
    }

    /// MSI capability.
    enum MSI {
        /// Message Control.
        static let messageControl = Register<UInt16>("MSI_CTRL", offset: 0x02, .readWrite, "enable 0, MMC 3:1, MME 6:4, 64-bit 7")
        /// MSI enable.
        static let enable = BitField<UInt16>("ENABLE", shift: 0)
        /// Vectors requestable: 1 << code.
        static let multipleMessageCapable = BitField<UInt16>("MMC", bits: 1...3, .readOnly)
        /// Vectors enabled: 1 << code.
        static let multipleMessageEnable = BitField<UInt16>("MME", bits: 4...6)
        /// 64-bit message address.
        static let address64 = BitField<UInt16>("64BIT", shift: 7, .readOnly)
    }

    /// MSI-X capability.
    enum MSIX {
        /// Message Control.
        static let messageControl = Register<UInt16>("MSIX_CTRL", offset: 0x02, .readWrite, "table size 10:0, mask 14, enable 15")
        /// Table size minus one.
        static let tableSize = BitField<UInt16>("TABLE_SIZE", bits: 0...10, .readOnly)
        /// Function mask.
        static let functionMask = BitField<UInt16>("MASK", shift: 14)
        /// MSI-X enable.
        static let enable = BitField<UInt16>("ENABLE", shift: 15)
    }

    /// Reads `register` of the capability at `base`.
    static func read<V>(_ config: ConfigSpace, _ register: Register<V>, at base: Int) throws -> V {
        V(truncatingIfNeeded: try config.read(register.width, at: base + register.offset))
    }

    /// `Gen3 (8 GT/s)` for a link speed code.
    static func speedName(_ code: Int) -> String {
        switch code {
        case 1: "Gen1 (2.5 GT/s)"
        case 2: "Gen2 (5 GT/s)"
        case 3: "Gen3 (8 GT/s)"
        case 4: "Gen4 (16 GT/s)"
        case 5: "Gen5 (32 GT/s)"
        case 6: "Gen6 (64 GT/s)"
        default: "unknown speed code \(code)"
        }
    }
}
