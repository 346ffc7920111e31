/// Per-transfer limits a DMA engine places on the memory it is given.
public struct DMATransferLimits: Sendable, Hashable {
    /// Maximum bytes one hardware transfer (one chain or one block command) may move.
    public var maxTransferSize: Int
    /// Maximum bytes one element (descriptor) may cover.
    public var maxElementSize: Int
    /// Maximum elements (descriptors) per transfer.
    public var maxElements: Int
    /// Required alignment of every element's bus address (1 = none).
    public var alignment: Int
    /// Elements must not cross a multiple of this many bytes (e.g. 4 GiB for 32-bit
    /// address counters); nil for no boundary.
    public var boundary: UInt64?

    /// Creates limits.
    public init(maxTransferSize: Int = .max, maxElementSize: Int = .max, maxElements: Int = .max, alignment: Int = 1, boundary: UInt64? = nil) {
        self.maxTransferSize = maxTransferSize
        self.maxElementSize = maxElementSize
        self.maxElements = maxElements
        self.alignment = alignment
        self.boundary = boundary
    }
}

/// One element of a hardware transfer: a bus-contiguous run the engine can take in one descriptor.
public struct DMAElement: Sendable, Hashable {
    /// Bus address.
    public var busAddress: UInt64
    /// Length in bytes.
    public var length: Int
    /// Offset in the buffer.
    public var bufferOffset: Int
}

/// One hardware transfer planned by a ``DMATransaction``.
public struct DMATransfer: Sendable, Hashable {
    /// 0-based index of the transfer within its transaction.
    public var index: Int
    /// Offset in the buffer where this transfer starts.
    public var bufferOffset: Int
    /// Bytes this transfer moves.
    public var length: Int
    /// Elements in order.
    public var elements: [DMAElement]
}

/// The result of completing one transfer.
public enum DMATransactionState: Sendable, Equatable {
    /// More transfers remain: program ``DMATransaction/nextTransfer()`` next.
    case more
    /// Every byte has been transferred.
    case finished
}

/// Splits a region of a DMA buffer into hardware transfers that respect an engine's limits,
/// and tracks progress — the user-space counterpart of WinDriver's DMA transaction API.
///
/// ```swift
/// var t = try DMATransaction(buffer: buf, limits: engine.limits)
/// while let transfer = t.nextTransfer() {
///     try program(transfer); try waitDone()
///     if try t.complete(transfer) == .finished { break }
/// }
/// ```
public struct DMATransaction: Sendable {
    /// The buffer being transferred.
    public let buffer: DMABuffer
    /// The byte range of the buffer the transaction covers.
    public let range: Range<Int>
    /// Limits used for splitting.
    public let limits: DMATransferLimits
    /// Bytes confirmed by ``complete(_:bytes:)``.
    public private(set) var bytesTransferred = 0
    /// Number of transfers completed.
    public private(set) var transfersCompleted = 0
    private var outstanding: DMATransfer?

    /// Creates a transaction over `range` (default: the whole buffer), checking the
    /// alignment rule up front.
    public init(buffer: DMABuffer, range: Range<Int>? = nil, limits: DMATransferLimits) throws {
        let r = range ?? 0..<buffer.count
        guard r.lowerBound >= 0, r.upperBound <= buffer.count else {
            throw BusmasterError.invalidArgument(
                "transaction range \(r) is outside the \(buffer.count)-byte DMA buffer (allowed 0..<\(buffer.count))")
        }
        guard !r.isEmpty else { throw BusmasterError.invalidArgument("a DMA transaction needs at least one byte") }
        guard limits.maxTransferSize > 0, limits.maxElementSize > 0, limits.maxElements > 0, limits.alignment > 0,
            limits.alignment & (limits.alignment - 1) == 0
        else { throw BusmasterError.invalidArgument("DMA limits must be positive and the alignment a power of two") }
        if limits.alignment > 1 {
            for s in buffer.segments(in: r) where s.busAddress % UInt64(limits.alignment) != 0 {
                throw BusmasterError.invalidArgument(
                    "DMA segment at bus 0x\(String(s.busAddress, radix: 16)) (buffer offset \(s.bufferOffset)) is not "
                        + "aligned to \(limits.alignment) bytes as the engine requires")
            }
        }
        self.buffer = buffer
        self.range = r
        self.limits = limits
    }

    /// Whether every byte has been transferred.
    public var isComplete: Bool { bytesTransferred == range.count }
    /// Bytes not yet transferred.
    public var bytesRemaining: Int { range.count - bytesTransferred }

    /// Plans the next transfer starting after the bytes already done; nil when complete.
    /// Calling it again before ``complete(_:bytes:)`` returns the same transfer.
    public mutating func nextTransfer() -> DMATransfer? {
        if let o = outstanding { return o }
        if isComplete { return nil }
        let start = range.lowerBound + bytesTransferred
        var elements: [DMAElement] = []
        var total = 0
        let budget = min(limits.maxTransferSize, bytesRemaining)
        outer: for seg in buffer.segments(in: start..<range.upperBound) {
            var bus = seg.busAddress
            var off = seg.bufferOffset
            var left = seg.length
            while left > 0 {
                if elements.count == limits.maxElements || total == budget { break outer }
                var n = min(left, limits.maxElementSize, budget - total)
                if let b = limits.boundary {
                    let toBoundary = b - (bus % b)
                    if UInt64(n) > toBoundary { n = Int(toBoundary) }
                }
                // Keep later elements aligned: cut an element short only at an aligned point.
                if n < left && limits.alignment > 1 {
                    let aligned = n & ~(limits.alignment - 1)
                    if aligned > 0 { n = aligned }
                }
                elements.append(DMAElement(busAddress: bus, length: n, bufferOffset: off))
                total += n
                bus += UInt64(n)
                off += n
                left -= n
            }
        }
        let t = DMATransfer(index: transfersCompleted, bufferOffset: start, length: total, elements: elements)
        outstanding = t
        return t
    }

    /// Records that `transfer` finished, having moved `bytes` (default: all of it).
    /// Throws if `transfer` is not the outstanding one or `bytes` exceeds it.
    public mutating func complete(_ transfer: DMATransfer, bytes: Int? = nil) throws -> DMATransactionState {
        guard let o = outstanding, o == transfer else {
            throw BusmasterError.invalidArgument("completed transfer \(transfer.index) is not the outstanding one")
        }
        let n = bytes ?? transfer.length
        guard n >= 0, n <= transfer.length else {
            throw BusmasterError.invalidArgument("transfer \(transfer.index) reported \(n) bytes, more than its \(transfer.length)")
        }
        outstanding = nil
        bytesTransferred += n
        transfersCompleted += 1
        return isComplete ? .finished : .more
    }
}
