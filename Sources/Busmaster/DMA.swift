#if canImport(Glibc)
    import Glibc
#endif

/// Which way data moves between host memory and the device.
public enum DMADirection: String, Sendable, Codable, CaseIterable {
    /// The device reads host memory (host → card, "H2C", WinDriver TO_DEVICE).
    case toDevice = "to-device"
    /// The device writes host memory (card → host, "C2H", WinDriver FROM_DEVICE).
    case fromDevice = "from-device"
    /// Both.
    case bidirectional

    /// Whether the device may read the memory.
    public var deviceReads: Bool { self != .fromDevice }
    /// Whether the device may write the memory.
    public var deviceWrites: Bool { self != .toDevice }
}

/// One bus-contiguous piece of a DMA buffer.
public struct DMASegment: Sendable, Hashable, Codable {
    /// Bus address (IOVA) the device uses.
    public var busAddress: UInt64
    /// Length in bytes.
    public var length: Int
    /// Offset of the segment's first byte within the buffer's CPU view.
    public var bufferOffset: Int

    /// Creates a segment.
    public init(busAddress: UInt64, length: Int, bufferOffset: Int) {
        self.busAddress = busAddress
        self.length = length
        self.bufferOffset = bufferOffset
    }
}

/// Requirements a device places on DMA memory.
public struct DMAConstraints: Sendable, Hashable {
    /// The device can only generate bus addresses below `2^addressBits` (32 for 32-bit masters).
    public var addressBits: Int
    /// Required alignment of the buffer's first bus address (a power of two).
    public var alignment: Int
    /// Whether the buffer must be one bus-contiguous segment.
    public var contiguous: Bool

    /// Creates constraints; the default is a 64-bit, page-aligned, contiguous buffer.
    public init(addressBits: Int = 64, alignment: Int = 4096, contiguous: Bool = true) {
        self.addressBits = addressBits
        self.alignment = alignment
        self.contiguous = contiguous
    }

    /// The highest bus address the device can reach.
    public var addressLimit: UInt64 { addressBits >= 64 ? .max : (UInt64(1) << UInt64(addressBits)) - 1 }
}

/// A platform's record of one DMA mapping: CPU view plus bus segments.
public struct DMAMapping: @unchecked Sendable {
    /// Per-device sequence number (1, 2, …) in allocation order; traces name buffers by it.
    public var id: Int
    /// CPU view of the memory.
    public var bytes: UnsafeMutableRawBufferPointer
    /// Bus segments in buffer order.
    public var segments: [DMASegment]
    /// Direction the mapping permits.
    public var direction: DMADirection
    /// Whether the memory belongs to the caller (locked S/G memory) rather than the platform.
    public var isCallerMemory: Bool

    /// Creates a mapping record.
    public init(id: Int, bytes: UnsafeMutableRawBufferPointer, segments: [DMASegment], direction: DMADirection, isCallerMemory: Bool) {
        self.id = id
        self.bytes = bytes
        self.segments = segments
        self.direction = direction
        self.isCallerMemory = isCallerMemory
    }
}

/// Which side is about to use a DMA buffer.
public enum DMASyncPoint: String, Sendable, Codable {
    /// The CPU has written the buffer and the device will read it next.
    case forDevice = "device"
    /// The device has written the buffer and the CPU will read it next.
    case forCPU = "cpu"
}

/// Memory a device can reach by DMA: a CPU view and the bus segments the device uses.
///
/// Program the device with bus addresses only (``busAddress(at:)``, ``segments``); touch
/// the data through ``bytes``. Call ``syncForDevice(_:)`` after filling a buffer the device
/// will read, and ``syncForCPU(_:)`` after the device has written it and before reading.
/// The mapping is released by ``free()`` or, as a safety net, when the buffer is deallocated.
public final class DMABuffer: @unchecked Sendable {
    /// Sequence number within its device (used by traces as `buf<id>`).
    public let id: Int
    /// CPU view.
    public let bytes: UnsafeMutableRawBufferPointer
    /// Bus segments in buffer order; one segment when contiguous.
    public let segments: [DMASegment]
    /// Direction the device may access the buffer.
    public let direction: DMADirection
    /// Whether the memory belongs to the caller (locked for scatter/gather).
    public let isCallerMemory: Bool
    private let backend: any PCIDeviceBackend
    private let mapping: DMAMapping
    private var released = false
    private let lock = Lock()

    init(mapping: DMAMapping, backend: any PCIDeviceBackend) {
        self.id = mapping.id
        self.bytes = mapping.bytes
        self.segments = mapping.segments
        self.direction = mapping.direction
        self.isCallerMemory = mapping.isCallerMemory
        self.backend = backend
        self.mapping = mapping
    }

    deinit { free() }

    /// Length in bytes.
    public var count: Int { bytes.count }
    /// Whether the buffer is one bus-contiguous segment.
    public var isContiguous: Bool { segments.count == 1 }
    /// Whether ``free()`` has been called.
    public var isFreed: Bool { lock.withLock { released } }

    /// The bus address of the byte at `offset` (0 ≤ offset < count).
    public func busAddress(at offset: Int = 0) -> UInt64 {
        precondition(offset >= 0 && offset < max(count, 1), "offset \(offset) outside DMA buffer of \(count) bytes")
        var lo = 0
        var hi = segments.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if segments[mid].bufferOffset <= offset { lo = mid } else { hi = mid - 1 }
        }
        let s = segments[lo]
        return s.busAddress + UInt64(offset - s.bufferOffset)
    }

    /// The bus segments covering `range` of the buffer, clipped to it.
    public func segments(in range: Range<Int>) -> [DMASegment] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range outside DMA buffer")
        var out: [DMASegment] = []
        for s in segments {
            let lo = max(s.bufferOffset, range.lowerBound)
            let hi = min(s.bufferOffset + s.length, range.upperBound)
            if lo < hi {
                out.append(DMASegment(busAddress: s.busAddress + UInt64(lo - s.bufferOffset), length: hi - lo, bufferOffset: lo))
            }
        }
        return out
    }

    /// Call after the CPU has written `range` and before the device reads it.
    public func syncForDevice(_ range: Range<Int>? = nil) {
        MemoryBarrier.beforeDoorbell()
        backend.syncDMA(mapping, at: .forDevice, range: range ?? 0..<count)
    }

    /// Call after the device has written `range` and before the CPU reads it.
    public func syncForCPU(_ range: Range<Int>? = nil) {
        backend.syncDMA(mapping, at: .forCPU, range: range ?? 0..<count)
        MemoryBarrier.afterCompletion()
    }

    /// Unmaps the buffer (and frees platform-allocated memory). Safe to call twice.
    public func free() {
        let doRelease: Bool = lock.withLock {
            if released { return false }
            released = true
            return true
        }
        if doRelease { backend.releaseDMA(mapping) }
    }
}
