import Busmaster

/// Flag bits of a descriptor's control word (bits 7:0).
public struct XDMADescriptorFlags: OptionSet, Sendable, Hashable, Codable {
    /// The raw flag bits.
    public let rawValue: UInt32
    /// Creates flags from their raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Fetch nothing after this descriptor (only the last of an adjacent block may carry it).
    public static let stop = XDMADescriptorFlags(rawValue: 1 << 0)
    /// Latch descriptor_completed and trigger the poll-mode writeback when this descriptor finishes.
    public static let completed = XDMADescriptorFlags(rawValue: 1 << 1)
    /// H2C stream: tlast on the final beat of this descriptor's data (end of packet).
    public static let endOfPacket = XDMADescriptorFlags(rawValue: 1 << 4)
}

/// One 32-byte XDMA scatter/gather descriptor (little-endian, 32-byte aligned in bus memory).
///
/// | Byte | Content |
/// |---|---|
/// | 00 | control: magic 0xAD4B (31:16), next-adjacent count (13:8), flags (7:0) |
/// | 04 | length in bytes (27:0) |
/// | 08 / 0C | source address lo / hi |
/// | 10 / 14 | destination address lo / hi |
/// | 18 / 1C | next descriptor bus address lo / hi |
public struct XDMADescriptor: Sendable, Hashable, CustomStringConvertible {
    /// Descriptor size in bytes.
    public static let size = 32
    /// Required alignment of a descriptor's bus address.
    public static let alignment = 32
    /// The magic in control bits 31:16.
    public static let magic: UInt32 = 0xAD4B
    /// The largest length the 28-bit field holds.
    public static let maxLength = 0x0FFF_FFFF
    /// The largest number of extra adjacent descriptors (6-bit field).
    public static let maxAdjacent = 63
    /// Descriptors per 4 KiB page; an adjacent block never crosses such a page.
    public static let perPage = 4096 / size

    /// Control word fields.
    public enum Fields {
        /// Magic, 0xAD4B.
        public static let magic = BitField<UInt32>("MAGIC", bits: 16...31)
        /// Extra descriptors that sit contiguously at the next address (0–63).
        public static let nextAdjacent = BitField<UInt32>("NXT_ADJ", bits: 8...13)
        /// Flag bits (Stop, Completed, EOP).
        public static let flags = BitField<UInt32>("FLAGS", bits: 0...7)
        /// Length field of the second word (bits 31:28 must be 0).
        public static let length = BitField<UInt32>("LENGTH", bits: 0...27)
    }

    /// Byte offsets of the fields within a descriptor.
    public enum Offsets {
        /// Control word.
        public static let control = 0x00
        /// Length.
        public static let length = 0x04
        /// Source address (64-bit, lo then hi).
        public static let source = 0x08
        /// Destination address (64-bit).
        public static let destination = 0x10
        /// Next descriptor address (64-bit).
        public static let next = 0x18
    }

    /// The control word (magic, adjacency, flags).
    public var control: UInt32
    /// Length in bytes.
    public var length: UInt32
    /// Source bus/card address.
    public var source: UInt64
    /// Destination bus/card address.
    public var destination: UInt64
    /// Bus address of the next descriptor (0 for none).
    public var next: UInt64

    /// Creates a descriptor with the magic filled in.
    public init(flags: XDMADescriptorFlags = [], nextAdjacent: Int = 0, length: Int, source: UInt64, destination: UInt64, next: UInt64) {
        precondition(length >= 0 && length <= Self.maxLength, "descriptor length \(length) does not fit 28 bits")
        precondition(nextAdjacent >= 0 && nextAdjacent <= Self.maxAdjacent, "adjacent count \(nextAdjacent) outside 0...63")
        self.control = Self.controlWord(flags: flags, nextAdjacent: nextAdjacent)
        self.length = UInt32(length)
        self.source = source
        self.destination = destination
        self.next = next
    }

    /// Reads a descriptor from memory (little-endian).
    public init(loadingFrom p: UnsafeRawPointer) {
        control = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: Offsets.control, as: UInt32.self))
        length = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: Offsets.length, as: UInt32.self))
        source = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: Offsets.source, as: UInt64.self))
        destination = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: Offsets.destination, as: UInt64.self))
        next = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: Offsets.next, as: UInt64.self))
    }

    /// The control word for `flags` and `nextAdjacent`, with the magic.
    @inlinable @inline(__always)
    public static func controlWord(flags: XDMADescriptorFlags, nextAdjacent: Int) -> UInt32 {
        magic << 16 | UInt32(truncatingIfNeeded: nextAdjacent) << 8 | flags.rawValue
    }

    /// Writes the descriptor to memory (little-endian, four 64-bit stores).
    @inlinable @inline(__always)
    public func store(to p: UnsafeMutableRawPointer) {
        Self.store(control: control, length: length, source: source, destination: destination, next: next, to: p)
    }

    /// Writes descriptor fields to memory without building a value (the chain builder's hot path).
    @inlinable @inline(__always)
    public static func store(control: UInt32, length: UInt32, source: UInt64, destination: UInt64, next: UInt64, to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: (UInt64(length) << 32 | UInt64(control)).littleEndian, toByteOffset: Offsets.control, as: UInt64.self)
        p.storeBytes(of: source.littleEndian, toByteOffset: Offsets.source, as: UInt64.self)
        p.storeBytes(of: destination.littleEndian, toByteOffset: Offsets.destination, as: UInt64.self)
        p.storeBytes(of: next.littleEndian, toByteOffset: Offsets.next, as: UInt64.self)
    }

    /// The flags in the control word.
    public var flags: XDMADescriptorFlags { XDMADescriptorFlags(rawValue: Fields.flags.extract(from: control)) }
    /// The next-adjacent count.
    public var nextAdjacent: Int { Int(Fields.nextAdjacent.extract(from: control)) }
    /// Whether the control word carries the magic.
    public var hasValidMagic: Bool { Fields.magic.extract(from: control) == Self.magic }

    /// The 32 bytes as they sit in memory.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.size)
        out.withUnsafeMutableBytes { store(to: $0.baseAddress!) }
        return out
    }

    /// A readable one-line summary.
    public var description: String {
        var f: [String] = []
        if flags.contains(.stop) { f.append("STOP") }
        if flags.contains(.completed) { f.append("COMPLETED") }
        if flags.contains(.endOfPacket) { f.append("EOP") }
        return "desc(ctl 0x\(hex32(control)) [\(f.joined(separator: "|"))] adj \(nextAdjacent) len \(length) "
            + "src \(hex(source)) dst \(hex(destination)) next \(hex(next)))"
    }
}

/// The 4-byte poll-mode writeback word (§3.3).
public struct XDMAPollWriteback: Sendable, Hashable {
    /// Bytes reserved for the writeback slot.
    public static let slotSize = 32
    /// Sts_err: OR of every error bit in Status.
    public static let error = BitField<UInt32>("STS_ERR", shift: 31)
    /// Low 24 bits of the completed-descriptor count.
    public static let completedCount = BitField<UInt32>("COMPL_COUNT", bits: 0...23)

    /// The raw word.
    public var raw: UInt32
    /// Creates from the raw word.
    public init(raw: UInt32) { self.raw = raw }
    /// Whether the engine reported an error.
    public var hasError: Bool { Self.error.isSet(in: raw) }
    /// Completed descriptors (low 24 bits).
    public var completed: Int { Int(Self.completedCount.extract(from: raw)) }
}

/// One C2H-stream result writeback slot (§3.4), written per descriptor.
public struct XDMAStreamResult: Sendable, Hashable, CustomStringConvertible {
    /// Bytes reserved per result slot.
    public static let slotSize = 32
    /// The magic in bits 31:16 of the first word.
    public static let magic: UInt32 = 0x52B4
    /// Magic field.
    public static let magicField = BitField<UInt32>("MAGIC", bits: 16...31)
    /// End of packet (tlast closed this descriptor).
    public static let endOfPacketField = BitField<UInt32>("EOP", shift: 0)

    /// First word: magic and EOP.
    public var status: UInt32
    /// Bytes written into the descriptor's buffer.
    public var length: UInt32

    /// Creates a result from its two words.
    public init(status: UInt32, length: UInt32) {
        self.status = status
        self.length = length
    }

    /// Reads a result slot from memory with acquire ordering on the status word.
    public init(loadingFrom p: UnsafeRawPointer) {
        status = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))
        length = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    }

    /// Whether the slot was written (magic 0x52B4 present).
    public var isValid: Bool { Self.magicField.extract(from: status) == Self.magic }
    /// Whether this descriptor ended a packet.
    public var endOfPacket: Bool { Self.endOfPacketField.isSet(in: status) }

    /// A readable one-line summary.
    public var description: String {
        "result(0x\(hex32(status))\(isValid ? "" : " NO-MAGIC")\(endOfPacket ? " EOP" : "") len \(length))"
    }
}
