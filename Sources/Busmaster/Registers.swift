/// How software may access a register or field, as chip datasheets state it.
public enum RegisterAccess: String, Sendable, Codable, CaseIterable {
    /// Read-only.
    case readOnly = "RO"
    /// Read/write.
    case readWrite = "RW"
    /// Write-only; reads return nothing meaningful.
    case writeOnly = "WO"
    /// Writing 1s clears those bits; writing 0s has no effect.
    case write1ToClear = "W1C"
    /// Readable, and writing 1s clears those bits.
    case readWrite1ToClear = "RW1C"
    /// Writing 1s sets those bits; writing 0s has no effect.
    case write1ToSet = "W1S"
    /// Reading returns the value and then clears it.
    case readToClear = "RC"

    /// Whether a read has no side effect (safe to show in a register dump).
    public var isSafeToRead: Bool { self != .readToClear && self != .writeOnly }
    /// Whether software may write the register.
    public var isWritable: Bool { self != .readOnly && self != .readToClear }
}

/// A register declaration: name, offset in its region, width (by `Value`) and access kind.
///
/// Drivers and models declare their registers once, e.g.
/// `static let status = Register<UInt32>("STATUS", offset: 0x20, .readWrite)`,
/// and program with names: `bar.write(Regs.status, 0x80)`.
public struct Register<Value: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable, Hashable {
    /// Datasheet name.
    public let name: String
    /// Byte offset in the region.
    public let offset: Int
    /// Access kind.
    public let access: RegisterAccess
    /// One-line description for register tables.
    public let summary: String

    /// Declares a register.
    public init(_ name: String, offset: Int, _ access: RegisterAccess, _ summary: String = "") {
        self.name = name
        self.offset = offset
        self.access = access
        self.summary = summary
    }

    /// Width of the register.
    public var width: AccessWidth { AccessWidth(rawValue: MemoryLayout<Value>.size)! }

    /// The same register `bytes` further on (for per-channel or per-entry copies).
    public func advanced(by bytes: Int, name: String? = nil) -> Register {
        Register(name ?? self.name, offset: offset + bytes, access, summary)
    }

    /// A table row for diagnostics.
    public var descriptor: RegisterDescriptor {
        RegisterDescriptor(name: name, offset: offset, width: width, access: access, summary: summary)
    }
}

/// A bit field within a register of type `Value`.
public struct BitField<Value: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable, Hashable {
    /// Datasheet name.
    public let name: String
    /// Lowest bit.
    public let shift: Int
    /// Number of bits.
    public let width: Int
    /// Access kind of the field.
    public let access: RegisterAccess

    /// Declares a field of `width` bits starting at bit `shift`.
    public init(_ name: String, shift: Int, width: Int = 1, _ access: RegisterAccess = .readWrite) {
        precondition(shift >= 0 && width > 0 && shift + width <= Value.bitWidth, "field does not fit its register")
        self.name = name
        self.shift = shift
        self.width = width
        self.access = access
    }

    /// Declares a field covering bits `bits` (inclusive range, low...high).
    public init(_ name: String, bits: ClosedRange<Int>, _ access: RegisterAccess = .readWrite) {
        self.init(name, shift: bits.lowerBound, width: bits.count, access)
    }

    /// The field's bits in place.
    @inlinable public var mask: Value {
        width == Value.bitWidth ? ~0 : ((Value(1) << Value(width)) - 1) << Value(shift)
    }

    /// The maximum value the field can hold.
    @inlinable public var maxValue: Value { mask >> Value(shift) }

    /// Extracts the field from a register value.
    @inlinable public func extract(from registerValue: Value) -> Value {
        (registerValue & mask) >> Value(shift)
    }

    /// Whether a one-bit field is set in `registerValue`.
    @inlinable public func isSet(in registerValue: Value) -> Bool { registerValue & mask != 0 }

    /// The field value `fieldValue` shifted into place; traps if it does not fit.
    @inlinable public func encode(_ fieldValue: Value) -> Value {
        precondition(fieldValue <= maxValue, "value \(fieldValue) does not fit field \(name) (\(width) bits)")
        return fieldValue << Value(shift)
    }

    /// `registerValue` with this field replaced by `fieldValue`.
    @inlinable public func insert(_ fieldValue: Value, into registerValue: Value) -> Value {
        (registerValue & ~mask) | encode(fieldValue)
    }
}

/// A register described for tables and diagnostics (name, offset, width, access).
public struct RegisterDescriptor: Sendable, Hashable, Codable {
    /// Datasheet name.
    public var name: String
    /// Byte offset.
    public var offset: Int
    /// Access width.
    public var width: AccessWidth
    /// Access kind.
    public var access: RegisterAccess
    /// One-line description.
    public var summary: String

    /// Creates a descriptor.
    public init(name: String, offset: Int, width: AccessWidth, access: RegisterAccess, summary: String = "") {
        self.name = name
        self.offset = offset
        self.width = width
        self.access = access
        self.summary = summary
    }
}

extension MMIORegion {
    /// Reads a declared register.
    @inlinable public func read<V>(_ register: Register<V>) -> V {
        switch MemoryLayout<V>.size {
        case 1: return V(truncatingIfNeeded: read8(at: register.offset))
        case 2: return V(truncatingIfNeeded: read16(at: register.offset))
        case 4: return V(truncatingIfNeeded: read32(at: register.offset))
        default: return V(truncatingIfNeeded: read64(at: register.offset))
        }
    }

    /// Writes a declared register.
    @inlinable public func write<V>(_ register: Register<V>, _ value: V) {
        switch MemoryLayout<V>.size {
        case 1: write8(UInt8(truncatingIfNeeded: value), at: register.offset)
        case 2: write16(UInt16(truncatingIfNeeded: value), at: register.offset)
        case 4: write32(UInt32(truncatingIfNeeded: value), at: register.offset)
        default: write64(UInt64(truncatingIfNeeded: value), at: register.offset)
        }
    }

    /// Reads a declared register and extracts one field.
    @inlinable public func read<V>(_ field: BitField<V>, of register: Register<V>) -> V {
        field.extract(from: read(register))
    }
}
