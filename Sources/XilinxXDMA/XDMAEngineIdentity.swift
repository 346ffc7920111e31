import Busmaster

/// Which way an XDMA engine moves data.
public enum XDMADirection: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Host to card ("H2C"): the engine reads host memory.
    case h2c
    /// Card to host ("C2H"): the engine writes host memory.
    case c2h

    /// "H2C" or "C2H".
    public var description: String { self == .h2c ? "H2C" : "C2H" }

    /// The channel-block identifier target number.
    public var channelTarget: UInt32 { self == .h2c ? XDMARegisters.Target.h2cChannel : XDMARegisters.Target.c2hChannel }
    /// The SGDMA-block identifier target number.
    public var sgdmaTarget: UInt32 { self == .h2c ? XDMARegisters.Target.h2cSGDMA : XDMARegisters.Target.c2hSGDMA }
}

/// The card-side interface of an engine.
public enum XDMAEngineKind: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// AXI4 memory-mapped: transfers have a card address.
    case memoryMapped
    /// AXI4-Stream: transfers are packets without a card address.
    case stream

    /// "MM" or "ST".
    public var description: String { self == .memoryMapped ? "MM" : "ST" }
}

/// Names one engine: a direction and a channel 0…3.
public struct XDMAEngineID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// Direction.
    public var direction: XDMADirection
    /// Channel within the direction (0…3).
    public var channel: Int

    /// Creates an engine name.
    public init(_ direction: XDMADirection, _ channel: Int) {
        self.direction = direction
        self.channel = channel
    }

    /// `H2C0`, `C2H3`, …
    public var description: String { "\(direction)\(channel)" }

    /// Orders H2C before C2H, then by channel.
    public static func < (a: XDMAEngineID, b: XDMAEngineID) -> Bool {
        (a.direction == .h2c ? 0 : 1, a.channel) < (b.direction == .h2c ? 0 : 1, b.channel)
    }
}

/// The engine's Alignments register (0x4C), decoded.
public struct XDMAAlignments: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Source and destination must be congruent modulo this many bytes (1 = no rule).
    public var addressAlignment: Int
    /// Length granularity in bytes.
    public var lengthGranularity: Int
    /// Card (AXI) address bits.
    public var addressBits: Int
    /// The raw register value (0 when the engine did not report alignments).
    public var raw: UInt32

    /// The values the driver assumes when the register reads 0 (as libxdma does): 1/1/64.
    public static let fallback = XDMAAlignments(addressAlignment: 1, lengthGranularity: 1, addressBits: 64, raw: 0)

    /// Creates alignment values.
    public init(addressAlignment: Int, lengthGranularity: Int, addressBits: Int, raw: UInt32) {
        self.addressAlignment = addressAlignment
        self.lengthGranularity = lengthGranularity
        self.addressBits = addressBits
        self.raw = raw
    }

    /// Decodes the register; 0 (and zero fields) fall back to 1/1/64.
    public init(register value: UInt32) {
        if value == 0 {
            self = .fallback
            return
        }
        let a = Int(XDMARegisters.Alignments.addressAlignment.extract(from: value))
        let g = Int(XDMARegisters.Alignments.lengthGranularity.extract(from: value))
        let b = Int(XDMARegisters.Alignments.addressBits.extract(from: value))
        self.init(addressAlignment: max(a, 1), lengthGranularity: max(g, 1), addressBits: b == 0 ? 64 : min(b, 64), raw: value)
    }

    /// One past the highest card address the engine can generate (nil for 64 bits).
    public var cardAddressLimit: UInt64? { addressBits >= 64 ? nil : UInt64(1) << UInt64(addressBits) }

    /// A readable one-line summary.
    public var description: String {
        "address alignment \(addressAlignment) B, length granularity \(lengthGranularity) B, \(addressBits) address bits"
    }
}

/// What probing found about one engine.
public struct XDMAEngineInfo: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Direction and channel.
    public var id: XDMAEngineID
    /// Memory-mapped or stream.
    public var kind: XDMAEngineKind
    /// IP version field of the identifier (1 = 2015.3/4 … 6 = 2017.1 and later).
    public var version: Int
    /// The raw channel identifier.
    public var identifier: UInt32
    /// Alignment rules.
    public var alignments: XDMAAlignments
    /// Engine index in the IRQ block (H2C channels from bit 0, C2H packed directly above).
    public var interruptIndex: Int

    /// Creates engine information.
    public init(id: XDMAEngineID, kind: XDMAEngineKind, version: Int, identifier: UInt32, alignments: XDMAAlignments, interruptIndex: Int) {
        self.id = id
        self.kind = kind
        self.version = version
        self.identifier = identifier
        self.alignments = alignments
        self.interruptIndex = interruptIndex
    }

    /// The Vivado release the version field stands for.
    public var ipRelease: String {
        switch version {
        case 1: "2015.3/2015.4"
        case 2: "2016.1"
        case 3: "2016.2"
        case 4: "2016.3"
        case 5: "2016.4"
        case 6: "2017.1 or later"
        default: "unknown (\(version))"
        }
    }

    /// A readable one-line summary.
    public var description: String {
        "\(id) \(kind) v\(version) (id 0x\(hex32(identifier)); \(alignments))"
    }
}

/// Eight hex digits.
func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}

/// Hex with a 0x prefix.
func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16, uppercase: true) }
