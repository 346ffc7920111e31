/// Standard configuration-space register declarations (type 0 header).
public enum ConfigRegisters {
    /// Vendor ID.
    public static let vendorID = Register<UInt16>("VENDOR_ID", offset: 0x00, .readOnly)
    /// Device ID.
    public static let deviceID = Register<UInt16>("DEVICE_ID", offset: 0x02, .readOnly)
    /// Command register.
    public static let command = Register<UInt16>("COMMAND", offset: 0x04, .readWrite)
    /// Status register.
    public static let status = Register<UInt16>("STATUS", offset: 0x06, .readWrite1ToClear)
    /// Revision ID.
    public static let revision = Register<UInt8>("REVISION", offset: 0x08, .readOnly)
    /// Programming interface.
    public static let progIF = Register<UInt8>("PROG_IF", offset: 0x09, .readOnly)
    /// Sub class.
    public static let subClass = Register<UInt8>("SUBCLASS", offset: 0x0A, .readOnly)
    /// Base class.
    public static let baseClass = Register<UInt8>("CLASS", offset: 0x0B, .readOnly)
    /// Cache line size.
    public static let cacheLineSize = Register<UInt8>("CACHE_LINE", offset: 0x0C, .readWrite)
    /// Latency timer.
    public static let latencyTimer = Register<UInt8>("LATENCY", offset: 0x0D, .readWrite)
    /// Header type.
    public static let headerType = Register<UInt8>("HEADER_TYPE", offset: 0x0E, .readOnly)
    /// BAR 0 (the others follow every 4 bytes).
    public static let bar0 = Register<UInt32>("BAR0", offset: 0x10, .readWrite)
    /// Subsystem vendor ID.
    public static let subsystemVendorID = Register<UInt16>("SUBSYS_VENDOR", offset: 0x2C, .readOnly)
    /// Subsystem ID.
    public static let subsystemID = Register<UInt16>("SUBSYS_ID", offset: 0x2E, .readOnly)
    /// Expansion ROM base.
    public static let romBase = Register<UInt32>("ROM_BASE", offset: 0x30, .readWrite)
    /// Capabilities pointer.
    public static let capabilitiesPointer = Register<UInt8>("CAP_PTR", offset: 0x34, .readOnly)
    /// Interrupt line.
    public static let interruptLine = Register<UInt8>("INT_LINE", offset: 0x3C, .readWrite)
    /// Interrupt pin.
    public static let interruptPin = Register<UInt8>("INT_PIN", offset: 0x3D, .readOnly)

    /// Command: memory space decode.
    public static let commandMemory = BitField<UInt16>("MEM", shift: 1)
    /// Command: I/O space decode.
    public static let commandIO = BitField<UInt16>("IO", shift: 0)
    /// Command: bus master (needed for DMA).
    public static let commandBusMaster = BitField<UInt16>("BUS_MASTER", shift: 2)
    /// Command: INTx disable.
    public static let commandINTxDisable = BitField<UInt16>("INTX_DISABLE", shift: 10)
    /// Status: INTx asserted.
    public static let statusInterrupt = BitField<UInt16>("INTX_STATUS", shift: 3, .readOnly)
    /// Status: capability list present.
    public static let statusCapabilities = BitField<UInt16>("CAP_LIST", shift: 4, .readOnly)

    /// The standard header registers, for dumps.
    public static let header: [RegisterDescriptor] = [
        vendorID.descriptor, deviceID.descriptor, command.descriptor, status.descriptor, revision.descriptor,
        progIF.descriptor, subClass.descriptor, baseClass.descriptor, cacheLineSize.descriptor,
        latencyTimer.descriptor, headerType.descriptor,
    ] + (0..<6).map { bar0.advanced(by: 4 * $0, name: "BAR\($0)").descriptor } + [
        subsystemVendorID.descriptor, subsystemID.descriptor, romBase.descriptor, capabilitiesPointer.descriptor,
        interruptLine.descriptor, interruptPin.descriptor,
    ]
}

/// Typed access to a device's configuration space.
///
/// Offsets are validated: out-of-range or misaligned accesses throw a
/// ``BusmasterError`` naming what is allowed. Platform failures (e.g. EIO) throw too.
public struct ConfigSpace: Sendable {
    let backend: any PCIDeviceBackend

    init(backend: any PCIDeviceBackend) { self.backend = backend }

    /// Bytes of config space this process can read (64 for non-root sysfs, 256 or 4096).
    public var size: Int { backend.configSize }

    /// Checks an offset and width against the readable size and alignment.
    public func validate(offset: Int, width: AccessWidth) throws {
        guard offset >= 0, offset + width.bytes <= size else {
            throw BusmasterError.offsetOutOfRange(region: "config space", offset: offset, width: width.bytes, size: size)
        }
        guard offset % width.bytes == 0 else {
            throw BusmasterError.misaligned(region: "config space", offset: offset, width: width.bytes)
        }
    }

    /// Reads `width` at `offset`.
    public func read(_ width: AccessWidth, at offset: Int) throws -> UInt64 {
        try validate(offset: offset, width: width)
        if width == .qword {
            let lo = try backend.readConfig(offset: offset, width: .dword)
            let hi = try backend.readConfig(offset: offset + 4, width: .dword)
            return lo | hi << 32
        }
        return try backend.readConfig(offset: offset, width: width)
    }

    /// Writes the low `width` bits of `value` at `offset`.
    public func write(_ width: AccessWidth, _ value: UInt64, at offset: Int) throws {
        try validate(offset: offset, width: width)
        if width == .qword {
            try backend.writeConfig(offset: offset, width: .dword, value: value & 0xFFFF_FFFF)
            try backend.writeConfig(offset: offset + 4, width: .dword, value: value >> 32)
            return
        }
        try backend.writeConfig(offset: offset, width: width, value: value & width.mask)
    }

    /// Reads 8 bits.
    public func read8(at offset: Int) throws -> UInt8 { UInt8(try read(.byte, at: offset)) }
    /// Reads 16 bits.
    public func read16(at offset: Int) throws -> UInt16 { UInt16(try read(.word, at: offset)) }
    /// Reads 32 bits.
    public func read32(at offset: Int) throws -> UInt32 { UInt32(try read(.dword, at: offset)) }
    /// Writes 8 bits.
    public func write8(_ v: UInt8, at offset: Int) throws { try write(.byte, UInt64(v), at: offset) }
    /// Writes 16 bits.
    public func write16(_ v: UInt16, at offset: Int) throws { try write(.word, UInt64(v), at: offset) }
    /// Writes 32 bits.
    public func write32(_ v: UInt32, at offset: Int) throws { try write(.dword, UInt64(v), at: offset) }

    /// Reads a declared register.
    public func read<V>(_ r: Register<V>) throws -> V { V(truncatingIfNeeded: try read(r.width, at: r.offset)) }
    /// Writes a declared register.
    public func write<V>(_ r: Register<V>, _ v: V) throws { try write(r.width, UInt64(v), at: r.offset) }

    /// Reads `count` bytes starting at `offset` (dword accesses where aligned).
    public func readBytes(at offset: Int = 0, count: Int? = nil) throws -> [UInt8] {
        let n = count ?? (size - offset)
        guard offset >= 0, n >= 0, offset + n <= size else {
            throw BusmasterError.offsetOutOfRange(region: "config space", offset: offset, width: n, size: size)
        }
        var out: [UInt8] = []
        out.reserveCapacity(n)
        var o = offset
        while o < offset + n {
            if o % 4 == 0 && o + 4 <= offset + n {
                let v = try read32(at: o)
                out += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
                o += 4
            } else {
                out.append(try read8(at: o))
                o += 1
            }
        }
        return out
    }

    /// Walks the standard and extended capability lists (bounded, loop-safe).
    public func capabilities() throws -> [PCICapability] {
        try CapabilityWalker.walk(size) { off, width in
            off + width.bytes <= size ? try read(width, at: off) : width.mask
        }
    }

    /// The first capability with `id` (standard, or extended when `extended`).
    public func capability(_ id: UInt16, extended: Bool = false) throws -> PCICapability? {
        try capabilities().first { $0.id == id && $0.isExtended == extended }
    }
}
