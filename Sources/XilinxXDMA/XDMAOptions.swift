import Busmaster

/// How an engine learns that a chain finished.
public enum XDMACompletionMode: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Spin on the poll-mode writeback word in host memory (Control bit 26): no register reads.
    case poll
    /// Wait for the engine's interrupt (MSI-X vector, MSI or INTx) and read its status once.
    case interrupt

    /// A readable one-line summary.
    public var description: String { rawValue }
}

/// Settings for opening an XDMA device.
public struct XDMAOptions: Sendable, Hashable {
    /// The DMA BAR, if the caller knows it; nil searches by identifiers (64 KiB BARs first).
    public var dmaBAR: Int?
    /// Size of the card memory behind the memory-mapped engines; transfers beyond it are
    /// rejected before anything is programmed. nil: only the engines' address bits limit.
    public var cardMemorySize: UInt64?
    /// Interrupt kinds to try, in order; empty means poll-mode completion only.
    public var interrupts: [InterruptKind]
    /// Completion mode engines start with (`.interrupt` needs interrupts to be enabled).
    public var completion: XDMACompletionMode
    /// How long one chain may take before the engine is stopped and the transfer fails.
    public var timeout: Duration
    /// How long a stop may take for the engine to go idle before it is declared dead.
    public var stopTimeout: Duration
    /// While waiting, read the engine status once after this long without completion (and
    /// then at this interval) to catch a lost interrupt or writeback, or an error stop, early.
    /// nil: only at the timeout. Short transfers never reach it, so they do no register reads.
    public var statusCheckInterval: Duration?
    /// Descriptor slots per engine (one 32-byte slot each; a transfer needing more is run as
    /// several chains).
    public var descriptorsPerEngine: Int
    /// Largest length one descriptor carries (0x0FFFF000 keeps split points page-aligned).
    public var maxDescriptorLength: Int
    /// Poll mode: writeback loads before the waiter starts yielding the CPU.
    public var pollSpinsBeforeYield: Int
    /// Poll mode: longest sleep between writeback loads once spinning has given up.
    public var pollMaxSleep: Duration
    /// Number of user interrupt lines the design drives (1…16).
    public var userInterruptCount: Int
    /// Bus-address width of host DMA memory the engines can reach.
    public var hostAddressBits: Int

    /// Creates options; the defaults suit a standard IP with poll-mode completion.
    public init(
        dmaBAR: Int? = nil, cardMemorySize: UInt64? = nil, interrupts: [InterruptKind] = [],
        completion: XDMACompletionMode? = nil, timeout: Duration = .seconds(10), stopTimeout: Duration = .seconds(1),
        statusCheckInterval: Duration? = .milliseconds(250), descriptorsPerEngine: Int = 4096,
        maxDescriptorLength: Int = XDMAChainBuilder.defaultMaxDescriptorLength, pollSpinsBeforeYield: Int = 100_000,
        pollMaxSleep: Duration = .microseconds(200), userInterruptCount: Int = 16, hostAddressBits: Int = 64
    ) {
        self.dmaBAR = dmaBAR
        self.cardMemorySize = cardMemorySize
        self.interrupts = interrupts
        self.completion = completion ?? (interrupts.contains { $0 != .polling } ? .interrupt : .poll)
        self.timeout = timeout
        self.stopTimeout = stopTimeout
        self.statusCheckInterval = statusCheckInterval
        self.descriptorsPerEngine = descriptorsPerEngine
        self.maxDescriptorLength = maxDescriptorLength
        self.pollSpinsBeforeYield = pollSpinsBeforeYield
        self.pollMaxSleep = pollMaxSleep
        self.userInterruptCount = userInterruptCount
        self.hostAddressBits = hostAddressBits
    }

    /// Checks the values, naming what is allowed.
    func validate() throws(XDMAError) {
        if let b = dmaBAR, !(0...5).contains(b) { throw .invalidRequest("dmaBAR \(b) is not a BAR index (allowed 0...5)") }
        if let s = cardMemorySize, s == 0 { throw .invalidRequest("cardMemorySize must be > 0 bytes (or nil for no limit)") }
        guard timeout > .zero else { throw .invalidRequest("timeout must be > 0 (got \(timeout))") }
        guard stopTimeout > .zero else { throw .invalidRequest("stopTimeout must be > 0 (got \(stopTimeout))") }
        if let c = statusCheckInterval, c <= .zero { throw .invalidRequest("statusCheckInterval must be > 0 or nil") }
        guard (2...1_048_576).contains(descriptorsPerEngine) else {
            throw .invalidRequest("descriptorsPerEngine must be 2...1048576 (got \(descriptorsPerEngine))")
        }
        guard (64...XDMADescriptor.maxLength).contains(maxDescriptorLength) else {
            throw .invalidRequest("maxDescriptorLength must be 64...0x0FFFFFFF (got \(maxDescriptorLength))")
        }
        guard pollSpinsBeforeYield >= 0 else { throw .invalidRequest("pollSpinsBeforeYield must be ≥ 0") }
        guard (1...16).contains(userInterruptCount) else {
            throw .invalidRequest("userInterruptCount must be 1...16 (got \(userInterruptCount))")
        }
        guard (32...64).contains(hostAddressBits) else { throw .invalidRequest("hostAddressBits must be 32...64 (got \(hostAddressBits))") }
    }
}

/// Per-transfer settings.
public struct XDMATransferOptions: Sendable, Hashable {
    /// Overrides the engine's timeout for each chain of this transfer.
    public var timeout: Duration?
    /// Overrides the engine's completion mode for this transfer.
    public var completion: XDMACompletionMode?
    /// Memory-mapped: keep the card address fixed (a FIFO-style port; Control bit 25). The
    /// card address must then be aligned to the datapath width and the length a multiple of
    /// the engine's length granularity.
    public var nonIncrementingCardAddress: Bool
    /// C2H stream: end the receive at the first packet end (EOP) instead of waiting for every
    /// descriptor to fill, like `dma_from_device -e`. Completed is then set on every descriptor
    /// so each one reports progress.
    public var stopAtEndOfPacket: Bool

    /// Creates transfer options.
    public init(
        timeout: Duration? = nil, completion: XDMACompletionMode? = nil, nonIncrementingCardAddress: Bool = false,
        stopAtEndOfPacket: Bool = false
    ) {
        self.timeout = timeout
        self.completion = completion
        self.nonIncrementingCardAddress = nonIncrementingCardAddress
        self.stopAtEndOfPacket = stopAtEndOfPacket
    }
}

/// What a finished transfer did.
public struct XDMATransferResult: Sendable, Hashable, CustomStringConvertible {
    /// The engine.
    public var engine: XDMAEngineID
    /// Bytes moved.
    public var bytes: Int
    /// Descriptors used.
    public var descriptors: Int
    /// Chains ("runs") the transfer needed.
    public var chains: Int
    /// Wall time from the first doorbell to the last completion.
    public var elapsed: Duration
    /// How completion was detected.
    public var completion: XDMACompletionMode
    /// Chains whose completion was found by a status check because the interrupt or the
    /// writeback never arrived.
    public var missedCompletionSignals: Int

    /// Creates a result.
    public init(engine: XDMAEngineID, bytes: Int, descriptors: Int, chains: Int, elapsed: Duration, completion: XDMACompletionMode,
                missedCompletionSignals: Int) {
        self.engine = engine
        self.bytes = bytes
        self.descriptors = descriptors
        self.chains = chains
        self.elapsed = elapsed
        self.completion = completion
        self.missedCompletionSignals = missedCompletionSignals
    }

    /// Throughput as AMD's tools print it: bytes × 1000 / ns, in MB/s (10^6 bytes).
    public var megabytesPerSecond: Double {
        let ns = elapsed.nanoseconds
        return ns == 0 ? 0 : Double(bytes) * 1000 / Double(ns)
    }

    /// A readable one-line summary.
    public var description: String {
        "\(engine): \(bytes) bytes in \(descriptors) descriptors / \(chains) chain(s), \(elapsed) (\(completion))"
    }
}

/// One C2H-stream descriptor's outcome, from its result writeback.
public struct XDMAStreamDescriptorResult: Sendable, Hashable {
    /// Offset of the descriptor's buffer piece within the DMA buffer.
    public var bufferOffset: Int
    /// Bytes the descriptor offered.
    public var capacity: Int
    /// Bytes the engine wrote into it.
    public var length: Int
    /// Whether a packet ended in it (tlast).
    public var endOfPacket: Bool
}

/// One received stream packet, assembled from descriptor results by EOP.
public struct XDMAStreamPacket: Sendable, Hashable {
    /// Buffer ranges holding the packet's bytes, in order (one range unless a descriptor was
    /// closed early without EOP, e.g. by the write-flush timeout).
    public var ranges: [Range<Int>]
    /// Whether the packet ended (EOP seen); false for a packet still open at the end of the buffer.
    public var complete: Bool

    /// Total bytes.
    public var length: Int { ranges.reduce(0) { $0 + $1.count } }
}

/// What a C2H stream receive produced.
public struct XDMAStreamReceiveResult: Sendable, Hashable {
    /// Transfer statistics (`bytes` = bytes received).
    public var transfer: XDMATransferResult
    /// Per-descriptor results in order.
    public var descriptors: [XDMAStreamDescriptorResult]
    /// Packets assembled by EOP.
    public var packets: [XDMAStreamPacket]

    /// Bytes received.
    public var bytesReceived: Int { transfer.bytes }
}
