import CBusmasterSupport

/// Width of one register access.
public enum AccessWidth: Int, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case byte = 1, word = 2, dword = 4, qword = 8

    /// Creates a width from a bit count (8, 16, 32, 64).
    public init?(bits: Int) {
        guard let w = AccessWidth(rawValue: bits / 8), bits % 8 == 0 else { return nil }
        self = w
    }

    /// Bytes per access.
    @inlinable public var bytes: Int { rawValue }
    /// Bits per access.
    @inlinable public var bits: Int { rawValue * 8 }
    /// All-ones value of this width.
    @inlinable public var mask: UInt64 { rawValue == 8 ? .max : (UInt64(1) << UInt64(rawValue * 8)) - 1 }
    public var description: String { "\(bits)-bit" }
}

/// How a block copy walks the register offset.
public enum BlockMode: String, Sendable, Codable {
    /// Offset advances by the access width after every access (memory-like).
    case increment
    /// Every access goes to the same offset (a FIFO or data port).
    case fifo
}

/// Receives register accesses of a region that is not plain mapped memory:
/// simulated devices, trace recorders and trace replays.
public protocol MMIOHandler: AnyObject, Sendable {
    /// Performs a read of `width` at `offset` (already bounds- and alignment-checked).
    func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64
    /// Performs a write of `width` at `offset` (already bounds- and alignment-checked).
    func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64)
}

/// A BAR (or other register window) of a device, accessed with volatile loads and stores.
///
/// A region is either a direct mapping of device memory (VFIO or sysfs mmap, or plain
/// memory in benchmarks), where every access is one volatile access of the given width,
/// or a region whose accesses go to an ``MMIOHandler`` (simulation, trace record/replay).
/// Driver code is the same for both.
///
/// Offsets are checked: an access that does not fit or is not aligned to its width is a
/// precondition failure (a programming error), never undefined behaviour. Tools that take
/// offsets from users call ``validate(offset:width:)`` first and report its error.
public struct MMIORegion: @unchecked Sendable {
    /// BAR index (0...5) this region maps.
    public let bar: Int
    /// Size in bytes.
    public let size: Int
    /// Base of a direct mapping, or nil when accesses go to ``handler``.
    public let base: UnsafeMutableRawPointer?
    // The handler sits behind one reference so the region is four machine words and travels
    // in registers: a larger struct is passed by address, and every volatile store could
    // then alias it, forcing a reload of `base` before each access.
    @usableFromInline let box: HandlerBox?

    /// Holds a region's handler (one word instead of an existential's two).
    @usableFromInline final class HandlerBox: @unchecked Sendable {
        @usableFromInline let handler: any MMIOHandler
        init(_ handler: any MMIOHandler) { self.handler = handler }
    }

    /// Receiver of accesses when there is no direct mapping.
    public var handler: (any MMIOHandler)? { box?.handler }

    /// A region over mapped device memory (volatile access).
    public init(bar: Int, mapping: UnsafeMutableRawPointer, size: Int) {
        self.bar = bar
        self.size = size
        self.base = mapping
        self.box = nil
    }

    /// A region whose accesses are performed by `handler`.
    public init(bar: Int, size: Int, handler: any MMIOHandler) {
        self.bar = bar
        self.size = size
        self.base = nil
        self.box = HandlerBox(handler)
    }

    /// Checks a user-supplied offset and width, throwing a message that says what is allowed.
    public func validate(offset: Int, width: AccessWidth) throws {
        guard offset >= 0, offset <= size - width.bytes else {
            throw BusmasterError.offsetOutOfRange(region: "BAR \(bar)", offset: offset, width: width.bytes, size: size)
        }
        guard offset % width.bytes == 0 else {
            throw BusmasterError.misaligned(region: "BAR \(bar)", offset: offset, width: width.bytes)
        }
    }

    @inlinable @inline(__always)
    func check(_ offset: Int, _ width: Int) {
        // Written as signed comparisons so the optimizer can prove them from a loop's own
        // bounds (a sweep `while off <= size - 4`) and drop the check entirely there.
        if _slowPath(offset < 0 || offset > size &- width || offset & (width &- 1) != 0) {
            outOfRange(offset, width)
        }
    }

    /// Handler path, kept out of line so the mapped fast path stays small where it is inlined.
    @usableFromInline @inline(never)
    func handlerRead(_ offset: Int, _ width: AccessWidth) -> UInt64 {
        box.unsafelyUnwrapped.handler.read(bar: bar, offset: offset, width: width)
    }

    /// Handler path for writes, out of line.
    @usableFromInline @inline(never)
    func handlerWrite(_ offset: Int, _ width: AccessWidth, _ value: UInt64) {
        box.unsafelyUnwrapped.handler.write(bar: bar, offset: offset, width: width, value: value)
    }

    @usableFromInline @inline(never)
    func outOfRange(_ offset: Int, _ width: Int) -> Never {
        preconditionFailure("MMIO access out of range or misaligned (BAR \(bar), offset \(offset), width \(width), size \(size))")
    }

    /// Reads 8 bits at `offset`.
    @inlinable public func read8(at offset: Int) -> UInt8 {
        check(offset, 1)
        if let base { return bm_mmio_read8(base + offset) }
        return UInt8(truncatingIfNeeded: handlerRead(offset, .byte))
    }
    /// Reads 16 bits at `offset`.
    @inlinable public func read16(at offset: Int) -> UInt16 {
        check(offset, 2)
        if let base { return bm_mmio_read16(base + offset) }
        return UInt16(truncatingIfNeeded: handlerRead(offset, .word))
    }
    /// Reads 32 bits at `offset`.
    @inlinable public func read32(at offset: Int) -> UInt32 {
        check(offset, 4)
        if let base { return bm_mmio_read32(base + offset) }
        return UInt32(truncatingIfNeeded: handlerRead(offset, .dword))
    }
    /// Reads 64 bits at `offset` as one access.
    @inlinable public func read64(at offset: Int) -> UInt64 {
        check(offset, 8)
        if let base { return bm_mmio_read64(base + offset) }
        return handlerRead(offset, .qword)
    }
    /// Writes 8 bits at `offset`.
    @inlinable public func write8(_ value: UInt8, at offset: Int) {
        check(offset, 1)
        if let base { bm_mmio_write8(base + offset, value); return }
        handlerWrite(offset, .byte, UInt64(value))
    }
    /// Writes 16 bits at `offset`.
    @inlinable public func write16(_ value: UInt16, at offset: Int) {
        check(offset, 2)
        if let base { bm_mmio_write16(base + offset, value); return }
        handlerWrite(offset, .word, UInt64(value))
    }
    /// Writes 32 bits at `offset`.
    @inlinable public func write32(_ value: UInt32, at offset: Int) {
        check(offset, 4)
        if let base { bm_mmio_write32(base + offset, value); return }
        handlerWrite(offset, .dword, UInt64(value))
    }
    /// Writes 64 bits at `offset` as one access.
    @inlinable public func write64(_ value: UInt64, at offset: Int) {
        check(offset, 8)
        if let base { bm_mmio_write64(base + offset, value); return }
        handlerWrite(offset, .qword, UInt64(value))
    }

    /// Reads `width` at `offset`, zero-extended to 64 bits.
    @inlinable public func read(_ width: AccessWidth, at offset: Int) -> UInt64 {
        switch width {
        case .byte: return UInt64(read8(at: offset))
        case .word: return UInt64(read16(at: offset))
        case .dword: return UInt64(read32(at: offset))
        case .qword: return read64(at: offset)
        }
    }

    /// Writes the low `width` bits of `value` at `offset`.
    @inlinable public func write(_ width: AccessWidth, _ value: UInt64, at offset: Int) {
        switch width {
        case .byte: write8(UInt8(truncatingIfNeeded: value), at: offset)
        case .word: write16(UInt16(truncatingIfNeeded: value), at: offset)
        case .dword: write32(UInt32(truncatingIfNeeded: value), at: offset)
        case .qword: write64(value, at: offset)
        }
    }

    /// Copies `buffer.count` bytes from the device into `buffer`, one access of `width` at a
    /// time, starting at `offset`, in ``BlockMode/increment`` or ``BlockMode/fifo`` mode.
    /// `buffer.count` must be a multiple of `width`.
    public func read(
        into buffer: UnsafeMutableRawBufferPointer, at offset: Int, width: AccessWidth = .dword,
        mode: BlockMode = .increment
    ) {
        let w = width.bytes
        precondition(buffer.count % w == 0, "block length must be a multiple of the access width")
        if buffer.count == 0 { return }
        check(offset, w)
        if mode == .increment { check(offset + buffer.count - w, w) }
        var i = 0
        while i < buffer.count {
            let o = mode == .increment ? offset + i : offset
            let v = read(width, at: o)
            switch width {
            case .byte: buffer.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self)
            case .word: buffer.storeBytes(of: UInt16(truncatingIfNeeded: v), toByteOffset: i, as: UInt16.self)
            case .dword: buffer.storeBytes(of: UInt32(truncatingIfNeeded: v), toByteOffset: i, as: UInt32.self)
            case .qword: buffer.storeBytes(of: v, toByteOffset: i, as: UInt64.self)
            }
            i += w
        }
    }

    /// Copies `buffer` to the device, one access of `width` at a time, starting at `offset`.
    public func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int, width: AccessWidth = .dword,
        mode: BlockMode = .increment
    ) {
        let w = width.bytes
        precondition(buffer.count % w == 0, "block length must be a multiple of the access width")
        if buffer.count == 0 { return }
        check(offset, w)
        if mode == .increment { check(offset + buffer.count - w, w) }
        var i = 0
        while i < buffer.count {
            let o = mode == .increment ? offset + i : offset
            let v: UInt64
            switch width {
            case .byte: v = UInt64(buffer.loadUnaligned(fromByteOffset: i, as: UInt8.self))
            case .word: v = UInt64(buffer.loadUnaligned(fromByteOffset: i, as: UInt16.self))
            case .dword: v = UInt64(buffer.loadUnaligned(fromByteOffset: i, as: UInt32.self))
            case .qword: v = buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            }
            write(width, v, at: o)
            i += w
        }
    }
}

/// Memory ordering between DMA memory and register accesses.
public enum MemoryBarrier {
    /// Makes earlier stores to DMA memory (descriptors, data) visible before a later
    /// doorbell write.
    @inlinable public static func beforeDoorbell() { bm_fence_release() }
    /// Orders a completion read before later loads of DMA memory.
    @inlinable public static func afterCompletion() { bm_fence_acquire() }
    /// A full fence (needed before doorbells on write-combining mappings).
    @inlinable public static func full() { bm_fence_full() }
}
