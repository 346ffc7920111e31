/// Counters of what the model did, for tests and diagnostic tools.
public struct XDMAModelStatistics: Sendable, Hashable {
    /// Descriptors read from host memory (including ones later dropped after a Stop).
    public var descriptorsFetched = 0
    /// Descriptors completed (counted towards 0x48).
    public var descriptorsCompleted = 0
    /// Bytes moved host → card (MM memory, stream sink or loopback).
    public var bytesHostToCard = 0
    /// Bytes moved card → host.
    public var bytesCardToHost = 0
    /// H2C stream packets thrown away by a discarding sink.
    public var sinkPacketsDiscarded = 0
    /// Poll-mode writeback words written.
    public var pollWritebacks = 0
    /// C2H-stream result writebacks written.
    public var resultWritebacks = 0
    /// MSI / MSI-X messages the platform accepted.
    public var messagesSent = 0
    /// Messages lost because the vector was not enabled (or no message kind was on).
    public var messagesLost = 0
    /// Messages dropped by fault injection.
    public var messagesDropped = 0
    /// Messages sent, per vector.
    public var messagesPerVector: [Int: Int] = [:]
    /// Times the INTx line went high.
    public var intxAssertions = 0
    /// Engine errors detected (enabled or not).
    public var engineErrors = 0
    /// Device writes to host memory that the IOMMU refused (the engine carried on).
    public var hostWriteFaults = 0
    /// Reads at user BAR 0x2000 / 0x3000 (a blind DMA-BAR probe touches these).
    public var userBARProbeReads = 0

    /// All zero.
    public init() {}
}

/// One entry of the model's event log.
public enum XDMAModelEvent: Sendable, Hashable {
    /// Run rose: the engine starts at `firstDescriptor` with `adjacent` extra descriptors.
    case runStarted(XDMAModelEngine, firstDescriptor: UInt64, adjacent: Int)
    /// A block of `count` descriptors was read at `address`.
    case descriptorsFetched(XDMAModelEngine, address: UInt64, count: Int)
    /// A descriptor finished; `length` is its length field (C2H-ST: bytes written).
    case descriptorCompleted(XDMAModelEngine, address: UInt64, length: Int)
    /// The poll-mode writeback word `value` was written at `address`.
    case pollWriteback(XDMAModelEngine, address: UInt64, value: UInt32)
    /// A C2H-stream result slot was written.
    case resultWriteback(XDMAModelEngine, address: UInt64, length: Int, endOfPacket: Bool)
    /// A Stop descriptor finished.
    case stopped(XDMAModelEngine)
    /// The engine went idle after Run was cleared.
    case idle(XDMAModelEngine)
    /// An error; `status` holds the error bits of §4.7, `latched` whether they were recorded.
    case error(XDMAModelEngine, status: UInt32, latched: Bool, cause: String)
    /// An MSI-X or MSI message for `vector`; `delivered` is false when it was lost or dropped.
    case message(vector: Int, delivered: Bool)
    /// The INTx line changed level.
    case intx(asserted: Bool)
    /// A user interrupt line changed level.
    case userLine(Int, high: Bool)
}

/// A bounded log that keeps the newest entries.
struct XDMAEventLog {
    private var entries: [XDMAModelEvent] = []
    private var start = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        entries.reserveCapacity(min(capacity, 1024))
    }

    mutating func append(_ e: XDMAModelEvent) {
        guard capacity > 0 else { return }
        if entries.count < capacity {
            entries.append(e)
        } else {
            entries[start] = e
            start = (start + 1) % capacity
        }
    }

    var all: [XDMAModelEvent] { Array(entries[start...] + entries[..<start]) }

    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        start = 0
    }
}
