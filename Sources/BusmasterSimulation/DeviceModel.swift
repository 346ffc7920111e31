import Busmaster

/// A behavioural model of a PCI device, written from its datasheet.
///
/// The simulated platform calls a model with its lock held: from the driver's thread for
/// register accesses, and from the device thread (or the stepping test) for scheduled work.
/// A model must never block; long operations are split into scheduled events. It reaches
/// host memory only through its ``DeviceContext`` (behind the simulated IOMMU) and signals
/// interrupts through it too.
public protocol DeviceModel: AnyObject {
    /// Identity, BARs and interrupt capabilities, from which the platform builds config space.
    var configuration: ModelConfiguration { get }
    /// Called once when the model is plugged into a platform.
    func attach(_ context: DeviceContext)
    /// A driver read of `width` at `offset` in BAR `bar` (offset checked against the BAR size).
    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64
    /// A driver write of `width` at `offset` in BAR `bar`.
    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64)
    /// A function-level reset: return every register to its reset value.
    func reset()
    /// Called after config space changed in a way the model may care about (command
    /// register, MSI/MSI-X enable).
    func configurationChanged()
}

extension DeviceModel {
    /// Default: nothing to do.
    public func configurationChanged() {}
}

/// One BAR a model implements.
public struct ModelBAR: Sendable, Hashable {
    /// BAR index 0...5.
    public var index: Int
    /// Size in bytes (a power of two ≥ 16 for memory).
    public var size: Int
    /// A 64-bit BAR (occupies `index` and `index + 1`).
    public var is64Bit: Bool
    /// Prefetchable.
    public var isPrefetchable: Bool

    /// Declares a memory BAR.
    public init(index: Int, size: Int, is64Bit: Bool = false, isPrefetchable: Bool = false) {
        precondition(size >= 16 && size & (size - 1) == 0, "BAR size must be a power of two ≥ 16")
        self.index = index
        self.size = size
        self.is64Bit = is64Bit
        self.isPrefetchable = isPrefetchable
    }
}

/// The MSI capability a model offers.
public struct ModelMSI: Sendable, Hashable {
    /// Vectors the device can request (1, 2, 4, … 32).
    public var vectors: Int
    /// 64-bit message address.
    public var is64Bit: Bool
    /// Per-vector masking.
    public var perVectorMasking: Bool

    /// Declares an MSI capability.
    public init(vectors: Int = 1, is64Bit: Bool = true, perVectorMasking: Bool = false) {
        self.vectors = vectors
        self.is64Bit = is64Bit
        self.perVectorMasking = perVectorMasking
    }
}

/// The MSI-X capability a model offers.
public struct ModelMSIX: Sendable, Hashable {
    /// Table size.
    public var vectors: Int
    /// BAR holding the table.
    public var tableBAR: Int
    /// Offset of the table in that BAR.
    public var tableOffset: Int
    /// BAR holding the pending-bit array.
    public var pbaBAR: Int
    /// Offset of the PBA.
    public var pbaOffset: Int

    /// Declares an MSI-X capability.
    public init(vectors: Int, tableBAR: Int, tableOffset: Int, pbaBAR: Int, pbaOffset: Int) {
        self.vectors = vectors
        self.tableBAR = tableBAR
        self.tableOffset = tableOffset
        self.pbaBAR = pbaBAR
        self.pbaOffset = pbaOffset
    }
}

/// The PCI Express capability a model offers (makes config space 4 KiB).
public struct ModelPCIe: Sendable, Hashable {
    /// Link generation (1 = 2.5 GT/s … 4 = 16 GT/s).
    public var linkSpeed: Int
    /// Link width in lanes.
    public var linkWidth: Int
    /// Max payload size supported, as the 3-bit code (0 = 128 B … 5 = 4096 B).
    public var maxPayloadCode: Int

    /// Declares a PCIe endpoint capability.
    public init(linkSpeed: Int = 3, linkWidth: Int = 8, maxPayloadCode: Int = 2) {
        self.linkSpeed = linkSpeed
        self.linkWidth = linkWidth
        self.maxPayloadCode = maxPayloadCode
    }
}

/// What the platform needs to present a model as a PCI function.
public struct ModelConfiguration: Sendable, Hashable {
    /// Vendor ID.
    public var vendorID: UInt16
    /// Device ID.
    public var deviceID: UInt16
    /// 24-bit class code.
    public var classCode: UInt32
    /// Revision ID.
    public var revision: UInt8
    /// Subsystem vendor ID.
    public var subsystemVendorID: UInt16
    /// Subsystem ID.
    public var subsystemID: UInt16
    /// Memory BARs.
    public var bars: [ModelBAR]
    /// Interrupt pin (0 none, 1 = INTA … 4 = INTD).
    public var interruptPin: UInt8
    /// MSI capability, if any.
    public var msi: ModelMSI?
    /// MSI-X capability, if any.
    public var msix: ModelMSIX?
    /// PCIe capability, if any.
    public var pcie: ModelPCIe?

    /// Creates a configuration.
    public init(
        vendorID: UInt16, deviceID: UInt16, classCode: UInt32, revision: UInt8 = 0,
        subsystemVendorID: UInt16 = 0, subsystemID: UInt16 = 0, bars: [ModelBAR], interruptPin: UInt8 = 1,
        msi: ModelMSI? = nil, msix: ModelMSIX? = nil, pcie: ModelPCIe? = nil
    ) {
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.classCode = classCode
        self.revision = revision
        self.subsystemVendorID = subsystemVendorID
        self.subsystemID = subsystemID
        self.bars = bars
        self.interruptPin = interruptPin
        self.msi = msi
        self.msix = msix
        self.pcie = pcie
    }
}
