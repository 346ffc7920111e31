/// A PCIe completion error the model can inject on host reads (§4.7, §4.8.1).
public enum XDMAModelBusError: Int, Sendable, Hashable, CaseIterable {
    /// Unsupported Request: descriptor bit 19, H2C data bit 9.
    case unsupportedRequest = 0
    /// Completer Abort: descriptor bit 20, H2C data bit 10.
    case completerAbort = 1
    /// Parity error: descriptor bit 21, H2C data bit 11.
    case parity = 2
    /// Poisoned completion (EP): descriptor bit 22, H2C data bit 12.
    case poisoned = 3
    /// Unexpected completion: descriptor bit 23, H2C data bit 13.
    case unexpectedCompletion = 4

    /// Position within a 5-bit error group of Status.
    var groupBit: Int { rawValue }
}

/// Chip-level faults the model injects; set ``XDMAModel/faults`` (platform-level faults such
/// as surprise removal live in `SimulatedPlatform.faults`). Per-engine faults that count
/// fetches or hold an engine are methods on ``XDMAModel`` (``XDMAModel/injectBadMagic(_:atFetch:)``,
/// ``XDMAModel/stick(_:for:)``).
public struct XDMAModelFaults: Sendable, Hashable {
    /// Host reads (by the engines) of a bus-address range complete with an error.
    public struct HostReadError: Sendable, Hashable {
        /// Bus addresses affected.
        public var range: Range<UInt64>
        /// The error reported.
        public var error: XDMAModelBusError
        /// Affects descriptor fetches (Status 19–23).
        public var descriptorReads: Bool
        /// Affects H2C data reads (Status 9–13).
        public var dataReads: Bool

        /// Declares a read error on `range`.
        public init(range: Range<UInt64>, error: XDMAModelBusError, descriptorReads: Bool = true, dataReads: Bool = true) {
            self.range = range
            self.error = error
            self.descriptorReads = descriptorReads
            self.dataReads = dataReads
        }
    }

    /// AXI SLVERR for card-memory accesses in a range (§4.8.2).
    public struct CardSlaveError: Sendable, Hashable {
        /// Card (AXI) addresses affected.
        public var range: Range<UInt64>
        /// Affects H2C writes to card memory (Status 15).
        public var writes: Bool
        /// Affects C2H reads of card memory (Status 10).
        public var reads: Bool

        /// Declares SLVERR on `range`.
        public init(range: Range<UInt64>, writes: Bool = true, reads: Bool = true) {
            self.range = range
            self.writes = writes
            self.reads = reads
        }
    }

    /// Read-error injections on host bus ranges.
    public var hostReadErrors: [HostReadError] = []
    /// Host bus ranges whose device writes (data, poll WB, result slots) are silently dropped.
    public var droppedHostWrites: [Range<UInt64>] = []
    /// SLVERR injections on card address ranges.
    public var cardSlaveErrors: [CardSlaveError] = []
    /// Drop this many of the next MSI / MSI-X messages (a lost interrupt).
    public var messagesToDrop = 0
    /// Drop this many of the next poll-mode writeback words.
    public var pollWritebacksToDrop = 0
    /// Drop this many of the next C2H-stream result writebacks.
    public var resultWritebacksToDrop = 0
    /// Every other DMA BAR read returns 0xFFFFFFFF without side effects (the pre-2019.1 IP
    /// glitch, #317), to test drivers' device-lost detection.
    public var glitchEveryOtherRead = false

    /// No faults.
    public init() {}
}

/// A change the model makes to one fetched descriptor (§4.8.3).
public enum XDMAModelDescriptorCorruption: Sendable, Hashable {
    /// Replace the magic 0xAD4B with another value.
    case badMagic
    /// XOR the flag byte (bits 7:0: Stop, Completed, EOP …) with this mask.
    case flipFlags(UInt8)
}
